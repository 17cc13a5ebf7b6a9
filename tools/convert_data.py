#!/usr/bin/python3
"""Convert image data sets into the ffp8 data-file layout (docs/hdf5-layout.md, "Data file").

  convert_data.py fashion-mnist --split test --out fmnist-test.h5 [--limit N] [--dir DIR]
  convert_data.py folder DIR --out data.h5 [--size 224] [--resize 256] [--limit N] [--float]

Fashion-MNIST comes from Debian's dataset-fashion-mnist package (IDX files, gzip) and is written
as uint8 [N, 28, 28] with the training-set mean/std. An image folder (ImageFolder layout:
DIR/<class>/<image>) is resized (shorter side), center-cropped and written as uint8
[N, H, W, 3] with ImageNet mean/std, or float32 [N, 3, H, W] normalised with --float.
Both are streamed: at most one chunk of images is held in memory.
"""
import argparse
import contextlib
import gzip
import os
import struct
import sys

import numpy as np

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MEAN = (0.2860,)     # training-set statistics in the 0..1 scale
FASHION_STD = (0.3530,)
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
CHUNK = 1024
DATA_LAYOUT = 1


class DataError(Exception):
    """Bad input: the message is one sentence naming the file at fault."""


# ------------------------------------------------------------------------- IDX (MNIST) files
def _idx_open(path):
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file (is the dataset-fashion-mnist package installed?)")
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def idx_header(f, path):
    magic = f.read(4)
    if len(magic) != 4 or magic[0] != 0 or magic[1] != 0 or magic[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file")
    ndim = magic[3]
    return struct.unpack(">" + "I" * ndim, f.read(4 * ndim))


def iter_idx(path, limit=None, chunk=CHUNK):
    """Yields uint8 arrays of up to `chunk` items from an IDX file (gzip or plain)."""
    with _idx_open(path) as f:
        dims = idx_header(f, path)
        n = dims[0] if limit is None else min(limit, dims[0])
        item = int(np.prod(dims[1:], dtype=np.int64)) if len(dims) > 1 else 1
        done = 0
        while done < n:
            k = min(chunk, n - done)
            buf = f.read(k * item)
            if len(buf) != k * item:
                raise DataError(f"{path}: truncated IDX file")
            yield np.frombuffer(buf, np.uint8).reshape((k,) + tuple(dims[1:]))
            done += k


def idx_shape(path):
    with _idx_open(path) as f:
        return idx_header(f, path)


def read_idx(path, limit=None):
    """The whole IDX file (or its first `limit` items) as one uint8 array."""
    return np.concatenate(list(iter_idx(path, limit)), axis=0)


def fashion_paths(split, directory=FASHION_DIR):
    prefix = {"train": "train", "test": "t10k"}[split]
    return (os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"),
            os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"))


# ------------------------------------------------------------------------- writing
@contextlib.contextmanager
def _data_file(out, name, classes):
    """The data file being written: an HDF5 file at OUT.tmp with the layout attributes, renamed to
    OUT when the block ends, closed and removed when it raises (never a half-written OUT)."""
    import h5py
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)  # tools create their output folders
    tmp = out + ".tmp"
    f = h5py.File(tmp, "w")
    try:
        f.attrs["ffp8_data_layout"] = np.int64(DATA_LAYOUT)
        f.attrs["name"] = name
        if classes:
            f.attrs["classes"] = list(classes)
        yield f
    except BaseException:
        f.close()
        os.remove(tmp)
        raise
    f.close()
    os.replace(tmp, out)


def convert_fashion(out, split="test", limit=None, directory=FASHION_DIR):
    images_path, labels_path = fashion_paths(split, directory)
    dims = idx_shape(images_path)
    n = dims[0] if limit is None else min(limit, dims[0])
    if idx_shape(labels_path)[0] < n:
        raise DataError(f"{labels_path}: fewer labels than images")
    with _data_file(out, f"fashion-mnist-{split}", FASHION_CLASSES) as f:
        img = f.create_dataset("images", (n,) + tuple(dims[1:]), np.uint8,
                               chunks=(min(n, CHUNK),) + tuple(dims[1:]))
        img.attrs["role"] = "image"
        img.attrs["mean"] = np.array(FASHION_MEAN, np.float64)
        img.attrs["std"] = np.array(FASHION_STD, np.float64)
        lab = f.create_dataset("labels", (n,), np.int64, chunks=(min(n, CHUNK * 16),))
        lab.attrs["role"] = "label"
        pos = 0
        for block in iter_idx(images_path, n):
            img[pos:pos + len(block)] = block
            pos += len(block)
        pos = 0
        for block in iter_idx(labels_path, n):
            lab[pos:pos + len(block)] = block.astype(np.int64)
            pos += len(block)
    return n


def list_image_folder(root):
    if not os.path.isdir(root):
        raise DataError(f"{root}: not a directory")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not classes:
        raise DataError(f"{root}: no class sub-directories (expected DIR/<class>/<image>)")
    items = []
    for label, c in enumerate(classes):
        for dirpath, _, files in sorted(os.walk(os.path.join(root, c))):
            for name in sorted(files):
                if name.lower().endswith(IMAGE_EXTENSIONS):
                    items.append((os.path.join(dirpath, name), label))
    if not items:
        raise DataError(f"{root}: no image files found")
    return classes, items


def load_image(path, resize, size):
    """Shorter side to `resize` (bilinear), then a center `size` x `size` crop; uint8 HWC RGB."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            s = resize / min(w, h)
            nw, nh = max(size, round(w * s)), max(size, round(h * s))
            im = im.resize((nw, nh), Image.BILINEAR)
            left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
            im = im.crop((left, top, left + size, top + size))
            return np.asarray(im, np.uint8)
    except OSError as e:
        raise DataError(f"{path}: cannot read image ({e})") from None


def convert_folder(root, out, size=224, resize=256, limit=None, as_float=False):
    classes, items = list_image_folder(root)
    if limit is not None:
        items = items[:limit]
    n = len(items)
    with _data_file(out, os.path.basename(os.path.normpath(root)), classes) as f:
        mean = np.array(IMAGENET_MEAN, np.float64)
        std = np.array(IMAGENET_STD, np.float64)
        chunk = max(1, min(n, 64))
        if as_float:
            img = f.create_dataset("images", (n, 3, size, size), np.float32, chunks=(chunk, 3, size, size))
        else:
            img = f.create_dataset("images", (n, size, size, 3), np.uint8, chunks=(chunk, size, size, 3))
        img.attrs["role"] = "image"
        img.attrs["mean"] = mean
        img.attrs["std"] = std
        lab = f.create_dataset("labels", (n,), np.int64, chunks=(min(n, CHUNK * 16),))
        lab.attrs["role"] = "label"
        for i, (path, label) in enumerate(items):
            a = load_image(path, resize, size)
            if as_float:
                a = ((a.astype(np.float64) / 255.0 - mean) / std).transpose(2, 0, 1).astype(np.float32)
            img[i] = a
            lab[i] = label
    return n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="source", required=True)
    fm = sub.add_parser("fashion-mnist", help="Debian dataset-fashion-mnist IDX files")
    fm.add_argument("--split", choices=("train", "test"), default="test")
    fm.add_argument("--dir", default=FASHION_DIR, help="directory of the IDX .gz files")
    fo = sub.add_parser("folder", help="ImageFolder layout DIR/<class>/<image>")
    fo.add_argument("dir")
    fo.add_argument("--size", type=int, default=224, help="center-crop size (default 224)")
    fo.add_argument("--resize", type=int, default=256, help="shorter side before cropping (default 256)")
    fo.add_argument("--float", action="store_true", help="write normalised float32 NCHW instead of uint8")
    for s in (fm, fo):
        s.add_argument("--out", required=True)
        s.add_argument("--limit", type=int, default=None, help="convert only the first N images")
    a = p.parse_args(argv)
    try:
        if a.limit is not None and a.limit < 1:
            raise DataError(f"--limit must be at least 1, got {a.limit}")
        if a.source == "fashion-mnist":
            n = convert_fashion(a.out, a.split, a.limit, a.dir)
        else:
            if a.size < 1 or a.resize < a.size:
                raise DataError(f"--resize ({a.resize}) must be at least --size ({a.size}) and both positive")
            n = convert_folder(a.dir, a.out, a.size, a.resize, a.limit, a.float)
    except DataError as e:
        print(f"convert_data: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"convert_data: {e.filename or a.out}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(f"wrote {a.out}: {n} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
