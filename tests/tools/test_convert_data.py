"""tools/convert_data.py: Fashion-MNIST and image-folder conversion into the data-file layout."""
import gzip
import os
import tempfile
import unittest

import h5py
import numpy as np

from ffp8_test_util import run_cli
import convert_data
import ffp8_h5

FASHION = convert_data.FASHION_DIR


def raw_idx(path, header, count, item):
    """Independent reader: skip the IDX header, read `count` items of `item` bytes."""
    with gzip.open(path, "rb") as f:
        f.read(header)
        return np.frombuffer(f.read(count * item), np.uint8)


class FashionMnist(unittest.TestCase):
    def test_test_split_subset_matches_source(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "fm.h5")
            rc, stdout, err = run_cli(convert_data.main, ["fashion-mnist", "--split", "test", "--limit", "300",
                                                          "--out", out])
            self.assertEqual(rc, 0, err)
            self.assertFalse(os.path.exists(out + ".tmp"))
            want_img = raw_idx(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz"), 16, 300, 784).reshape(300, 28, 28)
            want_lab = raw_idx(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz"), 8, 300, 1)
            with h5py.File(out, "r") as f:
                self.assertEqual(int(f.attrs["ffp8_data_layout"]), 1)
                img, lab = f["images"], f["labels"]
                self.assertEqual(img.dtype, np.uint8)
                self.assertEqual(img.shape, (300, 28, 28))
                self.assertIsNotNone(img.chunks)
                self.assertEqual(lab.dtype, np.int64)
                np.testing.assert_array_equal(img[()], want_img)
                np.testing.assert_array_equal(lab[()], want_lab)
                self.assertEqual(img.attrs["role"], "image")
                self.assertEqual(lab.attrs["role"], "label")
                np.testing.assert_allclose(img.attrs["mean"], [0.2860])
                np.testing.assert_allclose(img.attrs["std"], [0.3530])
                self.assertEqual(len(f.attrs["classes"]), 10)
            self.assertEqual(ffp8_h5.open_data(out), (300, [1, 28, 28], True))
            # Model inputs: (u/255 - mean)/std, NCHW, streamed in batches.
            xs, ys = zip(*ffp8_h5.iter_data(out, count=130, batch=64))
            self.assertEqual([len(x) for x in xs], [64, 64, 2])
            x = np.concatenate(xs)
            self.assertEqual(x.dtype, np.float32)
            np.testing.assert_allclose(x[:, 0], (want_img[:130] / 255.0 - 0.2860) / 0.3530, atol=1e-5)
            np.testing.assert_array_equal(np.concatenate(ys), want_lab[:130])

    def test_creates_its_output_folder(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "new", "deeper", "fm.h5")
            rc, _, err = run_cli(convert_data.main, ["fashion-mnist", "--split", "test", "--limit", "10", "--out", out])
            self.assertEqual(rc, 0, err)
            with h5py.File(out, "r") as f:
                self.assertEqual(f["images"].shape, (10, 28, 28))

    def test_train_split_size(self):
        self.assertEqual(tuple(convert_data.idx_shape(convert_data.fashion_paths("train")[0])), (60000, 28, 28))
        self.assertEqual(tuple(convert_data.idx_shape(convert_data.fashion_paths("test")[0])), (10000, 28, 28))

    def test_labels_are_balanced_over_the_test_set(self):
        labels = convert_data.read_idx(convert_data.fashion_paths("test")[1])
        np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)

    def test_missing_source(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "x.h5")
            rc, _, err = run_cli(convert_data.main, ["fashion-mnist", "--dir", tmp, "--out", out])
            self.assertEqual(rc, 1)
            self.assertIn("no such file", err)
            self.assertFalse(os.path.exists(out) or os.path.exists(out + ".tmp"))

    def test_truncated_source(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
                with gzip.open(os.path.join(FASHION, name), "rb") as src, \
                        gzip.open(os.path.join(tmp, name), "wb") as dst:
                    dst.write(src.read(16 + 784 * 10 if "images" in name else 8 + 10000))
            out = os.path.join(tmp, "x.h5")
            rc, _, err = run_cli(convert_data.main, ["fashion-mnist", "--dir", tmp, "--out", out])
            self.assertEqual(rc, 1)
            self.assertIn("truncated", err)
            self.assertFalse(os.path.exists(out) or os.path.exists(out + ".tmp"))


class ImageFolder(unittest.TestCase):
    def make_folder(self, root):
        from PIL import Image
        rng = np.random.default_rng(0)
        images = {}
        for cls, sizes in (("cat", [(20, 16), (12, 12)]), ("dog", [(16, 30)])):
            os.makedirs(os.path.join(root, cls))
            for i, (w, h) in enumerate(sizes):
                a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                p = os.path.join(root, cls, f"{i}.png")
                Image.fromarray(a).save(p)
                images[p] = a
        with open(os.path.join(root, "cat", "notes.txt"), "w") as f:
            f.write("not an image")
        return images

    def test_folder_uint8_and_float(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(tmp, "imgs")
            self.make_folder(root)
            out = os.path.join(tmp, "d.h5")
            rc, _, err = run_cli(convert_data.main, ["folder", root, "--size", "8", "--resize", "10", "--out", out])
            self.assertEqual(rc, 0, err)
            with h5py.File(out, "r") as f:
                img, lab = f["images"][()], f["labels"][()]
                self.assertEqual(img.shape, (3, 8, 8, 3))
                self.assertEqual(img.dtype, np.uint8)
                np.testing.assert_array_equal(lab, [0, 0, 1])
                self.assertEqual(list(f.attrs["classes"]), ["cat", "dog"])
                np.testing.assert_allclose(f["images"].attrs["mean"], convert_data.IMAGENET_MEAN)
            # Sorted order: cat/0.png, cat/1.png, dog/0.png; content = resize then center crop.
            np.testing.assert_array_equal(img[2], convert_data.load_image(os.path.join(root, "dog", "0.png"), 10, 8))
            # A 12x12 image resized to 10x10 and center-cropped to 8x8.
            from PIL import Image
            with Image.open(os.path.join(root, "cat", "1.png")) as im:
                ref = np.asarray(im.convert("RGB").resize((10, 10), Image.BILINEAR))[1:9, 1:9]
            np.testing.assert_array_equal(img[1], ref)
            # --float writes the normalised NCHW tensor that iter_data makes from the uint8 file.
            outf = os.path.join(tmp, "f.h5")
            rc, _, err = run_cli(convert_data.main, ["folder", root, "--size", "8", "--resize", "10", "--float",
                                                     "--out", outf])
            self.assertEqual(rc, 0, err)
            xf = np.concatenate([x for x, _ in ffp8_h5.iter_data(outf)])
            xu = np.concatenate([x for x, _ in ffp8_h5.iter_data(out)])
            self.assertEqual(xf.shape, (3, 3, 8, 8))
            np.testing.assert_allclose(xf, xu, atol=1e-5)

    def test_bad_folders(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "d.h5")
            rc, _, err = run_cli(convert_data.main, ["folder", os.path.join(tmp, "nope"), "--out", out])
            self.assertEqual(rc, 1)
            self.assertIn("not a directory", err)
            os.makedirs(os.path.join(tmp, "empty", "a"))
            rc, _, err = run_cli(convert_data.main, ["folder", os.path.join(tmp, "empty"), "--out", out])
            self.assertEqual(rc, 1)
            self.assertIn("no image files", err)
            os.makedirs(os.path.join(tmp, "bad", "a"))
            with open(os.path.join(tmp, "bad", "a", "x.png"), "wb") as f:
                f.write(b"not a png")
            rc, _, err = run_cli(convert_data.main, ["folder", os.path.join(tmp, "bad"), "--size", "4",
                                                     "--resize", "4", "--out", out])
            self.assertEqual(rc, 1)
            self.assertIn("x.png", err)
            self.assertFalse(os.path.exists(out) or os.path.exists(out + ".tmp"))


class DataFileErrors(unittest.TestCase):
    def write(self, tmp, fn):
        path = os.path.join(tmp, "d.h5")
        with h5py.File(path, "w") as f:
            fn(f)
        return path

    def refuses(self, path, needle):
        with self.assertRaises(ffp8_h5.LayoutError) as cm:
            ffp8_h5.open_data(path)
        self.assertIn(needle, str(cm.exception))
        self.assertIn(path, str(cm.exception))

    def test_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            def no_images(f):
                f["labels"] = np.zeros(3, np.int64)
            self.refuses(self.write(tmp, no_images), "/images is missing")

            def no_mean(f):
                f["images"] = np.zeros((3, 4, 4), np.uint8)
                f["labels"] = np.zeros(3, np.int64)
            self.refuses(self.write(tmp, no_mean), "'mean'")

            def wrong_dtype(f):
                f["images"] = np.zeros((3, 1, 4, 4), np.float64)
                f["labels"] = np.zeros(3, np.int64)
            self.refuses(self.write(tmp, wrong_dtype), "float64")

            def label_count(f):
                f["images"] = np.zeros((3, 1, 4, 4), np.float32)
                f["labels"] = np.zeros(2, np.int64)
            self.refuses(self.write(tmp, label_count), "/labels")

            def version(f):
                f.attrs["ffp8_data_layout"] = np.int64(7)
                f["images"] = np.zeros((3, 1, 4, 4), np.float32)
                f["labels"] = np.zeros(3, np.int64)
            self.refuses(self.write(tmp, version), "ffp8_data_layout = 7")

            def plain(f):   # only the required /images and /labels: accepted
                f["images"] = np.zeros((3, 4, 4, 3), np.uint8)
                f["images"].attrs["mean"] = [0.5, 0.5, 0.5]
                f["images"].attrs["std"] = [0.25]
                f["labels"] = np.zeros(3, np.int32)
            self.assertEqual(ffp8_h5.open_data(self.write(tmp, plain)), (3, [3, 4, 4], True))


if __name__ == "__main__":
    unittest.main()
