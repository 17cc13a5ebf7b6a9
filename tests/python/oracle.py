"""A brute-force quantization oracle in numpy, independent of the kernels: every finite value of
the format from its decode table (ffp8.Format.values(), itself checked against the C++ codec's
oracle by the C++ tests), sorted, and a neighbour picked by the rounding rule. A port of the C++
tests' oracle (tests/core/quant/oracle.hpp)."""
import math

import numpy as np


class Oracle:
    def __init__(self, fmt):
        self.f = fmt
        vals = fmt.values()
        codes = np.arange(vals.size, dtype=np.int64)
        finite = np.isfinite(vals)
        neg_zero = finite & (vals == 0) & (codes != 0)
        self.neg_zero_code = int(codes[neg_zero][0]) if neg_zero.any() else None
        keep = finite & ~neg_zero
        order = np.argsort(vals[keep], kind="stable")
        self.values, self.codes = vals[keep][order], codes[keep][order]
        self.zero = int(np.searchsorted(self.values, 0.0))
        assert self.values[self.zero] == 0.0
        self.max = float(self.values[-1])
        self.code_of = {float(v): int(c) for v, c in zip(self.values, self.codes)}

    def _mirror(self, v, neg):
        """(value, code) of -v for a negative input (v >= 0)."""
        if not neg:
            return v, self.code_of[v]
        if v == 0.0:
            if self.f.sign == 1 and self.neg_zero_code is not None:
                return -0.0, self.neg_zero_code
            return 0.0, 0
        return -v, self.code_of[-v]

    def __call__(self, x, rounding, saturate):
        """(value, code, hi_value): the result of quantizing the real x (NaN value and code None
        for a NaN result); hi_value is stochastic rounding's other candidate."""
        f = self.f
        if math.isnan(x):
            return math.nan, None, math.nan
        if f.sign == 0 and x < 0:
            x = 0.0
        neg = math.copysign(1.0, x) < 0
        a = abs(x)
        if a > self.max:
            top = math.frexp(self.max)[1] - 1 if self.max >= f.min_normal else 1 - f.bias
            ulp = math.ldexp(1.0, top - f.man)
            # Not saturating: the format continues past max with max's ulp, the next value having the
            # next code; rne ties at max + ulp/2 go to max when its code is even (OCP E4M3: 464 ->
            # 448); rtz and stochastic saturate finite values; +-Inf overflows in every mode.
            thr = self.max + ulp / 2
            max_odd = self.code_of[self.max] % 2 == 1
            overflows = not saturate and (math.isinf(a) or (rounding == "rne" and (a > thr or (a == thr and max_odd)))
                                          or (rounding == "rna" and a >= thr))
            if overflows and f.has_inf:
                inf_code = ((1 << f.exp) - 1) << f.man
                sb = (1 << (f.exp + f.man)) if neg else 0
                return (-math.inf if neg else math.inf), inf_code | sb, None
            if overflows and f.has_nan:
                return math.nan, None, math.nan
            v, c = self._mirror(self.max, neg)
            return v, c, v
        hi_i = int(np.searchsorted(self.values[self.zero:], a, side="left")) + self.zero
        hi = float(self.values[hi_i])
        if hi == a:
            v, c = self._mirror(hi, neg)
            return v, c, v
        lo = float(self.values[hi_i - 1])
        dlo, dhi = a - lo, hi - a
        if rounding in ("rtz", "stochastic"):
            pick = lo
        elif rounding == "rna":
            pick = hi if dhi <= dlo else lo
        elif dlo < dhi:
            pick = lo
        elif dhi < dlo:
            pick = hi
        else:
            lo_even = self.code_of[lo] % 2 == 0
            hi_even = self.code_of[hi] % 2 == 0
            pick = lo if lo_even else (hi if hi_even else lo)
        v, c = self._mirror(pick, neg)
        return v, c, self._mirror(hi, neg)[0]


def test_points(fmt, random=2000, seed=1):
    """float32 test inputs for a format: its values, midpoints, float32 neighbours of both, zero,
    beyond max, ±Inf, float32 extremes and random bit patterns (no NaN: callers add it)."""
    o = Oracle(fmt)
    v = o.values[o.zero:]
    if v.size > 2048:  # wide formats: every stride-th value (and its neighbours) plus the top
        v = np.concatenate([v[:-2:v.size // 1024], v[-2:]])
    base = list(v) + list((v[:-1] + v[1:]) / 2)
    top_ulp = o.max - float(v[-2]) if v.size > 1 else o.max
    base += [o.max * 1.5, o.max * 4, o.max + 0.25 * top_ulp, o.max + 0.5 * top_ulp, o.max + 0.75 * top_ulp]
    with np.errstate(over="ignore"):
        f = np.array(base, dtype=np.float64).astype(np.float32)
    f = f[np.isfinite(f)]
    pts = np.concatenate([f, np.nextafter(f, np.float32(0)), np.nextafter(f, np.float32(np.inf))])
    pts = np.concatenate([pts, np.array([np.inf, np.finfo(np.float32).max, np.finfo(np.float32).tiny,
                                         np.float32(1e-45), 0.0], dtype=np.float32)])
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, size=random, dtype=np.uint64).astype(np.uint32)
    r = bits.view(np.float32)
    pts = np.concatenate([pts, r[np.isfinite(r)]])
    return np.concatenate([pts, -pts]).astype(np.float32)
