"""ffp8.quantize / encode / decode: bit for bit against the brute-force oracle (oracle.py) and the
CLI (`ffp8 quantize`) for every rounding and saturation over a sample of formats, float32 and
float64, any memory layout; and the errors of bad input.

Run by CTest (tests/python/CMakeLists.txt) with /usr/bin/python3, PYTHONPATH at the build's
python/ folder and FFP8_BIN set.
"""
import os
import subprocess
import sys
import unittest

import h5py
import numpy as np

import ffp8
from oracle import Oracle, test_points

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from ffp8_test_util import TempDirCase  # noqa: E402

FFP8 = os.environ.get("FFP8_BIN", "ffp8")
ROUNDINGS = ("rne", "rna", "rtz", "stochastic")
# Presets and FFP8 shapes: signed and unsigned, each specials kind, no subnormals, one-bit and
# eight-bit exponents, no mantissa, and two formats wider than 8 bits (float16, bfloat16).
FORMATS = ["e4m3fn", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m4", "s0e4m4b10", "s1e2m5b1-nosub",
           "s0e5m3b20-nosub", "s1e1m6b0", "s0e7m1b60", "s0e6m2b40-nosub", "s1e7m0b60-ieee", "s1e5m10b15-ieee",
           "s1e8m7b127-ieee"]


def same_bits(a, b):
    """True when a and b are equal element for element, NaNs anywhere alike, zeros by sign."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    na, nb = np.isnan(a), np.isnan(b)
    if not np.array_equal(na, nb):
        return False
    ia = a.view(np.uint32 if a.dtype == np.float32 else np.uint64)
    ib = b.view(np.uint32 if b.dtype == np.float32 else np.uint64)
    return bool(np.array_equal(ia[~na], ib[~nb]))


def inputs(f, dtype=np.float32):
    x = test_points(f)
    if f.has_nan:
        x = np.concatenate([x, np.array([np.nan], np.float32)])
    return x.astype(dtype)


class Oracles(unittest.TestCase):
    def test_quantize_and_encode_equal_the_oracle(self):
        for name in FORMATS:
            f = ffp8.Format(name)
            o = Oracle(f)
            x = inputs(f)
            for rounding in ROUNDINGS:
                for sat in (True, False):
                    with self.subTest(format=name, rounding=rounding, saturate=sat):
                        q32 = ffp8.quantize(x, f, rounding, sat, seed=7)
                        q64 = ffp8.quantize(x.astype(np.float64), f, rounding, sat, seed=7)
                        codes = ffp8.encode(x, f, rounding, sat, seed=7)
                        codes64 = ffp8.encode(x.astype(np.float64), f, rounding, sat, seed=7)
                        self.assertEqual(q32.dtype, np.float32)
                        self.assertEqual(q64.dtype, np.float64)
                        self.assertEqual(codes.dtype, np.uint8 if f.width <= 8 else np.uint16)
                        # float64 input takes the exact double path: the same values.
                        self.assertTrue(same_bits(q64.astype(np.float32), q32))
                        self.assertTrue(np.array_equal(codes, codes64))
                        self.assertTrue(same_bits(ffp8.decode(codes, f).astype(np.float32), q32))
                        want = [o(float(v), rounding, sat) for v in x]
                        for i, (v, c, hi) in enumerate(want):
                            got = float(q32[i])
                            if rounding == "stochastic":
                                ok = (np.isnan(v) and np.isnan(got)) or got == v or got == hi
                                if got == 0:
                                    ok = ok and np.signbit(got) == np.signbit(v if got == v else hi)
                            elif np.isnan(v):
                                ok = np.isnan(got)
                            else:
                                ok = got == v and np.signbit(got) == np.signbit(v) and int(codes[i]) == c
                            if not ok:
                                self.fail(f"{name} {rounding} saturate={sat}: x={float(x[i])!r} gave {got!r} "
                                          f"(code {int(codes[i])}), oracle {v!r} (code {c}, other {hi!r})")

    def test_values_table_matches_the_codec(self):
        f = ffp8.Format("e5m2")
        v = f.values()
        self.assertEqual(v.shape, (256,))
        self.assertEqual(v[0x7B], 57344.0)
        self.assertEqual(v[0x7C], np.inf)
        self.assertEqual(v[0xFC], -np.inf)
        self.assertTrue(np.isnan(v[0x7F]))
        self.assertEqual(v[1], 2.0**-16)
        self.assertTrue(same_bits(ffp8.decode(np.arange(256, dtype=np.uint8), f), v))


class Cli(TempDirCase):
    """ffp8.quantize equals `ffp8 quantize` on the same data (its output is float32)."""

    def cli(self, x, name, rounding, sat, seed):
        src, dst = os.path.join(self.tmp.name, "in.h5"), os.path.join(self.tmp.name, "out.h5")
        with h5py.File(src, "w") as h:
            h.create_dataset("x", data=x)
        if os.path.exists(dst):
            os.remove(dst)
        cmd = [FFP8, "quantize", "--format", name, "--rounding", rounding, "--seed", str(seed), f"{src}:/x", f"{dst}:/y"]
        if not sat:
            cmd.append("--no-saturate")
        p = subprocess.run(cmd, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with h5py.File(dst, "r") as h:
            return h["y"][()]

    def test_equal_to_the_cli(self):
        rng = np.random.default_rng(3)
        for name in FORMATS[::2] + ["s1e4m3b7"]:
            f = ffp8.Format(name)
            # Values across the format's range (and beyond), a 2-D shape, plus the oracle's points.
            wide = (rng.standard_normal(3000) * np.exp2(rng.integers(-f.bias - f.man - 2, 3, 3000)) * f.max / 2)
            x = np.concatenate([inputs(f).astype(np.float64), wide])[: 4000]
            x = np.pad(x, (0, 4000 - x.size)).reshape(40, 100)
            for rounding in ROUNDINGS:
                for sat in (True, False):
                    for dtype in (np.float32, np.float64):
                        with self.subTest(format=name, rounding=rounding, saturate=sat, dtype=dtype.__name__):
                            xd = x.astype(dtype)
                            want = self.cli(xd, name, rounding, sat, 11)
                            got = ffp8.quantize(xd, name, rounding=rounding, saturate=sat, seed=11)
                            self.assertEqual(got.shape, want.shape)
                            self.assertTrue(same_bits(got.astype(np.float32), want))


class Layouts(unittest.TestCase):
    """Any memory layout gives the results of the contiguous copy (C-order element index)."""

    def test_strided_transposed_and_negative_strides(self):
        rng = np.random.default_rng(5)
        base = (rng.standard_normal((64, 96)) * 40).astype(np.float32)
        views = {"step": base[::3, 1::2], "transposed": base.T, "reversed": base[::-1, ::-1],
                 "fortran": np.asfortranarray(base), "column": base[:, 5], "scalar": base[3, 4]}
        for dtype in (np.float32, np.float64):
            for label, v in views.items():
                v = np.asarray(v).astype(dtype, copy=False) if dtype == np.float32 else np.asarray(v, dtype=dtype)
                for rounding in ROUNDINGS:
                    with self.subTest(view=label, dtype=dtype.__name__, rounding=rounding):
                        got = ffp8.quantize(v, "s0e4m4b10" if rounding == "rtz" else "e4m3fn", rounding, seed=3)
                        want = ffp8.quantize(v.copy(order="C"), "s0e4m4b10" if rounding == "rtz" else "e4m3fn",
                                             rounding, seed=3)
                        self.assertEqual(got.shape, np.shape(v))
                        self.assertTrue(same_bits(got, want))
                        codes = ffp8.encode(v, "e4m3fn", rounding, seed=3)
                        self.assertTrue(np.array_equal(codes, ffp8.encode(v.copy(order="C"), "e4m3fn",
                                                                          rounding, seed=3)))

    def test_contiguous_input_is_not_copied_and_out_may_alias(self):
        x = np.linspace(-500, 500, 1001, dtype=np.float32)
        want = ffp8.quantize(x, "e4m3fn")
        y = x.copy()
        r = ffp8.quantize(y, "e4m3fn", out=y)
        self.assertIs(r, y)
        self.assertTrue(same_bits(y, want))
        self.assertFalse(np.shares_memory(ffp8.quantize(x, "e4m3fn"), x))

    def test_threads_do_not_change_results(self):
        rng = np.random.default_rng(9)
        x = (rng.standard_normal(300_000) * 10).astype(np.float32)
        for dtype in (np.float32, np.float64):
            for rounding in ("rne", "stochastic"):
                xs = x.astype(dtype)
                one = ffp8.quantize(xs, "s1e3m4b5", rounding, seed=4, threads=1)
                two = ffp8.quantize(xs, "s1e3m4b5", rounding, seed=4, threads=2)
                self.assertTrue(same_bits(one, two))
                self.assertTrue(np.array_equal(ffp8.encode(xs, "s1e3m4b5", rounding, seed=4, threads=1),
                                               ffp8.encode(xs, "s1e3m4b5", rounding, seed=4, threads=2)))

    def test_counts(self):
        q, c = ffp8.quantize(np.array([1.0, 1e6, -2.0, 1e-9, 0.0], np.float32), "s0e4m4b10", counts=True)
        self.assertEqual(c, {"count": 5, "nan_inputs": 0, "overflow": 1, "underflow": 1, "neg_clipped": 1})
        self.assertTrue(same_bits(q, np.array([1.0, 62.0, 0.0, 0.0, 0.0], np.float32)))


class BadInput(unittest.TestCase):
    def test_bad_format_name_is_a_value_error_with_the_library_message(self):
        with self.assertRaises(ValueError) as e:
            ffp8.Format("s1e4m3")
        self.assertIsInstance(e.exception, ffp8.FormatError)
        self.assertIn("s1e4m3", str(e.exception))
        with self.assertRaises(ValueError):
            ffp8.quantize(np.zeros(3, np.float32), "e9m9")
        with self.assertRaises(TypeError):
            ffp8.Format(3)

    def test_same_message_as_the_cli(self):
        p = subprocess.run([FFP8, "format", "s1e4m3b7-xx"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        with self.assertRaises(ValueError) as e:
            ffp8.Format("s1e4m3b7-xx")
        self.assertIn(str(e.exception), p.stderr)

    def test_nan_into_a_nanless_format_names_it(self):
        x = np.array([1.0, np.nan], np.float32)
        for dtype in (np.float32, np.float64):
            with self.assertRaises(ValueError) as e:
                ffp8.quantize(x.astype(dtype), "s1e4m3b7")
            self.assertIn("s1e4m3b7", str(e.exception))
            self.assertIn("NaN", str(e.exception))
            with self.assertRaises(ffp8.DataError):
                ffp8.encode(x.astype(dtype), "s0e4m4b10")
        self.assertTrue(np.isnan(ffp8.quantize(x, "e4m3fn")[1]))

    def test_integer_and_other_dtypes_are_refused(self):
        for a in (np.arange(4), np.arange(4, dtype=np.uint8), np.zeros(3, np.float16), np.ones(2, bool),
                  np.zeros(2, np.complex64)):
            with self.subTest(dtype=a.dtype):
                with self.assertRaises(TypeError) as e:
                    ffp8.quantize(a, "e4m3fn")
                self.assertIn(str(a.dtype), str(e.exception))
        # Python numbers and lists are taken as float64.
        self.assertEqual(ffp8.quantize([1, 3, 1000], "e4m3fn").tolist(), [1.0, 3.0, 448.0])
        self.assertEqual(float(ffp8.quantize(0.3, "e4m3fn")), 0.3125)

    def test_bad_options(self):
        x = np.zeros(3, np.float32)
        with self.assertRaises(ValueError) as e:
            ffp8.quantize(x, "e4m3fn", rounding="nearest")
        self.assertIn("nearest", str(e.exception))
        with self.assertRaises(ValueError):
            ffp8.quantize(x, "e4m3fn", threads=-1)
        with self.assertRaises(ValueError):
            ffp8.quantize(x, "e4m3fn", out=np.zeros(4, np.float32))
        with self.assertRaises(ValueError):
            ffp8.quantize(x, "e4m3fn", out=np.zeros(3, np.float64))
        with self.assertRaises(ValueError):
            ffp8.quantize(x, "e4m3fn", axis=0)

    def test_float32_into_a_format_beyond_float32_is_refused_float64_works(self):
        f = ffp8.Format("s1e4m3b-200")
        self.assertFalse(f.fits_float32)
        with self.assertRaises(ValueError) as e:
            ffp8.quantize(np.ones(2, np.float32), f)
        self.assertIn(f.name, str(e.exception))
        # Subnormal spacing 2^198, max 1.875 * 2^215.
        x = np.array([2.0**200 * 1.3, -2.0**215, 2.0**180, 2.0**230], np.float64)
        self.assertEqual(ffp8.quantize(x, f).tolist(), [2.0**200 * 1.25, -(2.0**215), 0.0, 1.875 * 2.0**215])
        with self.assertRaises(ValueError):
            ffp8.decode(np.zeros(2, np.uint8), f, dtype=np.float32)

    def test_bad_codes(self):
        with self.assertRaises(ValueError) as e:
            ffp8.decode(np.array([1, 300], np.uint16), "e4m3fn")
        self.assertIn("300", str(e.exception))
        with self.assertRaises(ValueError):
            ffp8.decode(np.array([-1]), "e4m3fn")
        with self.assertRaises(TypeError):
            ffp8.decode(np.array([1.0]), "e4m3fn")


class Formats(unittest.TestCase):
    def test_properties_and_printing(self):
        f = ffp8.Format("e4m3fn")
        self.assertEqual((f.name, f.sign, f.exp, f.man, f.bias, f.specials, f.subnormals),
                         ("s1e4m3b7-fn", 1, 4, 3, 7, "fn", True))
        self.assertEqual((f.max, f.min_normal, f.min_subnormal, f.width, f.effective_bits, f.code_count),
                         (448.0, 2.0**-6, 2.0**-9, 8, 8, 256))
        self.assertEqual(str(f), "s1e4m3b7-fn")
        self.assertEqual(repr(f), "Format('s1e4m3b7-fn')")
        self.assertEqual(f, ffp8.Format("s1e4m3b7-fn"))
        self.assertEqual(len({f, ffp8.Format("s1e4m3b7-fn"), ffp8.Format("e5m2")}), 2)
        self.assertIsNone(ffp8.Format("s1e4m3b7-nosub").min_subnormal)
        self.assertEqual(ffp8.Format.from_fields(0, 4, 4, 10), ffp8.Format("s0e4m4b10"))
        import pickle
        self.assertEqual(pickle.loads(pickle.dumps(f)), f)

    def test_presets_are_the_libraries(self):
        p = ffp8.presets()
        self.assertEqual(p["e4m3fn"], "s1e4m3b7-fn")
        for alias, canonical in p.items():
            self.assertEqual(ffp8.Format(alias).name, canonical)
            p2 = subprocess.run([FFP8, "format", alias, "--json"], capture_output=True, text=True)
            self.assertEqual(p2.returncode, 0)
            self.assertIn(canonical, p2.stdout)

    def test_fit(self):
        x = np.array([0.5, -3.0, 2.0])
        f = ffp8.fit("s1e4m3", x)
        # The largest bias whose max covers 3.0: max(V) >= 3 > max(V with bias + 1).
        self.assertGreaterEqual(f.max, 3.0)
        self.assertLess(ffp8.Format.from_fields(1, 4, 3, f.bias + 1).max, 3.0)
        self.assertEqual(ffp8.fit("s1e4m3", max_abs=3.0), f)
        self.assertEqual(ffp8.fit(ffp8.Format("s1e4m3b0"), x), f)
        # auto: unsigned for data without negatives.
        self.assertEqual(ffp8.fit("auto:e4", np.abs(x)).sign, 0)
        self.assertEqual(ffp8.fit("auto:e4", x).sign, 1)
        # An unsigned template ignores negatives (max positive 2.0 counts).
        u = ffp8.fit("s0e4m4", x)
        self.assertGreaterEqual(u.max, 2.0)
        self.assertLess(ffp8.Format.from_fields(0, 4, 4, u.bias + 1).max, 2.0)
        with self.assertRaises(ValueError):
            ffp8.fit("s1e4", x)

    def test_help_reads(self):
        for obj in (ffp8, ffp8.Format, ffp8.quantize, ffp8.encode, ffp8.decode, ffp8.fit, ffp8.sweep, ffp8.eval):
            self.assertGreater(len(obj.__doc__ or ""), 80, obj)


if __name__ == "__main__":
    unittest.main()
