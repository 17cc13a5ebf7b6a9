"""quantize / encode / decode on numpy arrays, with the C++ kernels underneath.

A C-contiguous input is handed to C++ as it is (no copy); any other layout (slices, transposes,
negative strides) is copied to a contiguous array first, so results are always those of the
contiguous copy, element index i being the C-order position (this keys stochastic rounding).
The GIL is released while the kernels run; threads=N uses N OpenMP threads (0: OpenMP's default,
i.e. OMP_NUM_THREADS or the number of CPUs).
"""
import numpy as np

from . import _ffp8
from .format import Format, as_format

ROUNDINGS = tuple(_ffp8.rounding_names())  # ('rne', 'rna', 'rtz', 'stochastic')


def _float_input(x, what="x"):
    """x as a float32 or float64 ndarray (a view when it already is one); TypeError otherwise."""
    a = np.asarray(x)
    if a.dtype == np.float32 or a.dtype == np.float64:
        return a
    if isinstance(x, (int, float, list, tuple)) and a.dtype.kind in "iu":
        return a.astype(np.float64)  # Python numbers and lists: exact as float64
    raise TypeError(f"{what} must be a float32 or float64 array, not {a.dtype}: convert it first "
                    f"(e.g. {what}.astype(np.float32)); integer arrays are not converted silently")


def _output(a, out, dtype, what="out"):
    if out is None:
        return np.empty(a.shape, dtype=dtype)
    if not isinstance(out, np.ndarray) or out.shape != a.shape or out.dtype != dtype:
        raise ValueError(f"{what} must be a {np.dtype(dtype).name} array of shape {a.shape}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"{what} must be a writable C-contiguous array")
    return out


def _check_options(rounding, threads):
    if not isinstance(rounding, str):
        raise TypeError(f"rounding must be one of {', '.join(ROUNDINGS)}, not {rounding!r}")
    if int(threads) < 0:
        raise ValueError(f"threads must be 0 (OpenMP's default) or more, not {threads}")


def quantize(x, fmt, rounding="rne", saturate=True, seed=0, threads=0, *, out=None, counts=False, axis=None):
    """Rounds every element of `x` to the nearest value of format `fmt`; same shape and dtype.

    x: float32 or float64 array (or anything np.asarray makes one of). float32 runs the
      vectorized kernel (the format's values must all be float32 numbers, else FormatError);
      float64 runs the exact double path (any format).
    fmt: a Format or a format name ("e4m3fn", "s0e4m4b10", ...).
    rounding: "rne" (nearest, ties to even), "rna" (ties away), "rtz" (toward zero) or
      "stochastic" (keyed by `seed` and the element's C-order index: reproducible).
    saturate: True clamps out-of-range values to ±max(V); False sends them to Inf/NaN when the
      format has those codes.
    threads: OpenMP threads (0: OpenMP's default).
    out: optional C-contiguous array of x's shape and dtype to write into (may be x itself).
    counts: also return the outcome counts (count, nan_inputs, overflow, underflow, neg_clipped).
    axis: reserved for scaled formats; must be None.

    A NaN into a format without NaN code raises DataError (a ValueError) naming the format.
    The results equal `ffp8 quantize`'s bit for bit.
    """
    if axis is not None:
        raise ValueError("axis applies to scaled formats only")
    f = as_format(fmt)
    _check_options(rounding, threads)
    a = np.require(_float_input(x), requirements="C")
    o = _output(a, out, a.dtype)
    c = _ffp8.quantize(a, o, f._f, rounding, bool(saturate), int(seed), int(threads))
    return (o, c) if counts else o


def encode(x, fmt, rounding="rne", saturate=True, seed=0, threads=0, *, counts=False):
    """Codes of `x` in format `fmt`: uint8 for formats up to 8 bits wide, else uint16; same shape.

    Same arguments as quantize(). A NaN into a format with a NaN code gets the canonical NaN code;
    into a format without one it raises DataError. decode(encode(x, f), f) equals quantize(x, f)
    (in float64).
    """
    f = as_format(fmt)
    _check_options(rounding, threads)
    a = np.require(_float_input(x), requirements="C")
    codes = np.empty(a.shape, dtype=np.uint8 if f.width <= 8 else np.uint16)
    c = _ffp8.encode(a, codes, f._f, rounding, bool(saturate), int(seed), int(threads))
    return (codes, c) if counts else codes


def decode(codes, fmt, dtype=np.float64):
    """Values of `codes` (an integer array) in format `fmt`, as float64 (or float32 when the
    format's values are float32 numbers); same shape. NaN codes decode to NaN, Inf codes to ±inf;
    a code beyond the format's code count raises DataError."""
    f = as_format(fmt)
    c = np.asarray(codes)
    if c.dtype.kind == "i":
        if c.size and c.min() < 0:
            raise ValueError("codes must not be negative")
        c = c.astype(np.dtype(f"u{c.dtype.itemsize}"))
    elif c.dtype.kind != "u":
        raise TypeError(f"codes must be an integer array, not {c.dtype}")
    c = np.require(c, requirements="C")
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, not {dt}")
    out = np.empty(c.shape, dtype=dt)
    _ffp8.decode(c, out, f._f)
    return out


__all__ = ["quantize", "encode", "decode", "ROUNDINGS", "Format"]
