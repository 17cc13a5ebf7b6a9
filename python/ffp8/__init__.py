"""ffp8: exact quantization to flexible 8-bit floating-point formats (FFP8, OCP FP8 and relatives).

The codec is the C++ library's, so every result equals the `ffp8` command line's bit for bit:

>>> import numpy as np, ffp8
>>> f = ffp8.Format("e4m3fn")
>>> f
Format('s1e4m3b7-fn')
>>> ffp8.quantize(np.array([0.3, 500.0, -1e-4], dtype=np.float32), f)
array([ 3.125e-01,  4.480e+02, -0.000e+00], dtype=float32)

Main entry points:

- Format(name): a parsed format (every name the CLI accepts) with its range and code table.
- quantize(x, fmt): numpy in, numpy out (float32 or float64, same shape).
- encode(x, fmt) / decode(codes, fmt): values to codes (uint8 / uint16) and back.
- fit(template, x): the format of a template with the "all you can fit" bias for data x.
- sweep(config), eval(config): the design-space sweep and the model evaluation as library calls,
  returning pandas DataFrames and the summary dicts the CLI writes.
- ffp8.torch (import it explicitly): fake_quant and quantize_model for PyTorch.

Errors are the library's, with its one-sentence messages: a bad format name, config or input is a
ValueError (FormatError, ConfigError, DataError, ModelError), an unreadable file an OSError
(FileNotFoundError when it does not exist: FileMissingError, or MissingFileError for a file a
config names, which is also a ConfigError). Input arrays must be float32 or float64: integer (and
float16 or bool) arrays are refused with a TypeError rather than converted silently.
"""
from . import _ffp8
from ._ffp8 import ConfigError, DataError, FileMissingError, FormatError, IoError, ModelError
from .format import Format, fit, presets
from .codec import decode, encode, quantize, ROUNDINGS
from .jobs import EvalResult, MissingFileError, SweepResult, eval, sweep

__all__ = [
    "Format", "quantize", "encode", "decode", "fit", "presets", "ROUNDINGS", "sweep", "eval",
    "SweepResult", "EvalResult", "FormatError", "ConfigError", "DataError", "ModelError", "IoError",
    "FileMissingError", "MissingFileError",
]
