#!/usr/bin/env python3
"""Writes conformance.csv: quantization vectors whose expected results are facts published by the
standards and peer libraries (named per row), not values computed by ffp8. Run from this folder:
    python3 make_conformance.py > conformance.csv
Each row: the ffp8 format, the float32 input (bits and value), rounding, saturation, the expected
output code, where the fact comes from, and, where a peer disagrees with ffp8's rule, the peer's
answer and why ffp8's rule stands. The codes are found by decoding the format in this script (an
encoder independent of core/format); NaN rows accept any NaN code of the format.
"""
import math
import struct
import sys

# Sources (versions read: ml_dtypes 0.6.0 at commit b793a6e, gfloat 0.5.2 at commit b142762).
OFP8 = "OCP OFP8 v1.0 (E4M3/E5M2 encodings, max, min subnormal, rne, saturating/non-saturating conversion)"
MX = "OCP MX v1.0 (E2M1/E2M3/E3M2 element and E8M0 scale encodings)"
MLD = "ml_dtypes 0.6.0 (float8.h conversion; float8_test.cc NumericLimits)"
GF = "gfloat 0.5.2 (round.py; test/test_round.py test_round_p3109/test_round_p3109b)"
P3109 = "IEEE P3109 interim report encodings (NaN 0x80, +-Inf 0x7F/0xFF; unsigned NaN 0xFF, +Inf 0xFE) with gfloat 0.5.2 format_info_p3109 biases"


def f32(x):
    """The float32 nearest x, as (bits, value)."""
    b = struct.unpack("<I", struct.pack("<f", x))[0]
    return b, struct.unpack("<f", struct.pack("<I", b))[0]


def next_up(x):
    b, _ = f32(x)
    b = b + 1 if x >= 0 else b - 1
    return struct.unpack("<f", struct.pack("<I", b))[0]


class Fmt:
    """Decodes the codes of a float member (sign, exp, man, bias, specials, inf, nz)."""

    def __init__(self, name, sign, e, m, b, specials="none", inf=False, nz=False):
        self.name, self.sign, self.e, self.m, self.b = name, sign, e, m, b
        self.specials, self.inf, self.nz = specials, inf, nz
        self.width = sign + e + m
        self.table = {}
        for c in range(1 << self.width):
            self.table[c] = self.decode(c)

    def decode(self, c):
        e_all, m_all = (1 << self.e) - 1, (1 << self.m) - 1
        s = (c >> (self.e + self.m)) & 1 if self.sign else 0
        mag = c & ((1 << (self.e + self.m)) - 1)
        E, M = mag >> self.m, mag & m_all
        sg = -1.0 if s else 1.0
        if self.specials == "ieee" and E == e_all:
            return sg * math.inf if M == 0 else math.nan
        if self.specials == "fn" and E == e_all and M == m_all:
            return math.nan
        if self.specials == "fnuz" and s == 1 and mag == 0:
            return math.nan
        if self.inf:
            top = (1 << (self.e + self.m)) - 1 - (1 if self.specials == "fn" else 0)
            if mag == top:
                return sg * math.inf
        if E == 0 and not self.nz:
            return sg * M * 2.0 ** (1 - self.b - self.m)
        return sg * (1 + M / 2 ** self.m) * 2.0 ** (E - self.b)

    def code(self, v, neg_nan=False):
        """The code of value v ('nan': a NaN code, with the sign when the format has signed NaNs)."""
        if isinstance(v, float) and math.isnan(v):
            cands = [c for c, x in self.table.items() if math.isnan(x)]
            if neg_nan and self.specials != "fnuz" and self.sign:
                cands = [c for c in cands if c >> (self.width - 1)] or cands
            elif self.sign:
                cands = [c for c in cands if not c >> (self.width - 1)] or cands
            return max(cands) if self.specials != "fnuz" else cands[0]
        for c, x in self.table.items():
            if x == v and math.copysign(1, x) == math.copysign(1, v):
                return c
        raise ValueError(f"{v} is not a value of {self.name}")

    def max(self):
        return max(x for x in self.table.values() if math.isfinite(x))

    def min_pos(self):
        return min(x for x in self.table.values() if math.isfinite(x) and x > 0)


E4M3 = Fmt("s1e4m3b7-fn", 1, 4, 3, 7, "fn")
E5M2 = Fmt("s1e5m2b15-ieee", 1, 5, 2, 15, "ieee")
E2M1 = Fmt("s1e2m1b1", 1, 2, 1, 1)
E2M3 = Fmt("s1e2m3b1", 1, 2, 3, 1)
E3M2 = Fmt("s1e3m2b3", 1, 3, 2, 3)
E8M0 = Fmt("s0e8m0b127-fn-nz", 0, 8, 0, 127, "fn", nz=True)
E4M3FNUZ = Fmt("s1e4m3b8-fnuz", 1, 4, 3, 8, "fnuz")
E5M2FNUZ = Fmt("s1e5m2b16-fnuz", 1, 5, 2, 16, "fnuz")
ML_E4M3 = Fmt("s1e4m3b7-ieee", 1, 4, 3, 7, "ieee")
ML_E3M4 = Fmt("s1e3m4b3-ieee", 1, 3, 4, 3, "ieee")
E4M3B11 = Fmt("s1e4m3b11-fnuz", 1, 4, 3, 11, "fnuz")

rows = []
NAN, INF = math.nan, math.inf


def row(fmt, x, rnd, sat, want, source, peer="", peer_want=None, note=""):
    bits, xv = f32(x)
    if isinstance(want, str):  # "error": a NaN input into a format without NaN
        want_code = want
    else:
        want_code = f"0x{fmt.code(want, neg_nan=math.copysign(1, x) < 0):02x}"
    peer_code = ""
    if peer_want is not None:
        peer_code = peer_want if isinstance(peer_want, str) else f"0x{fmt.code(peer_want):02x}"
    rows.append([fmt.name, f"0x{bits:08x}", repr(xv), rnd, "1" if sat else "0", want_code, source, peer, peer_code, note])


KEEP_INF = ("ml_dtypes converts +-Inf to the target's Inf (or NaN) even when saturating; ffp8 saturates every "
            "beyond-range input, Inf included, so a saturating quantizer never produces a special value")
RTZ_OVF = ("ml_dtypes' truncating conversion overflows to Inf/NaN; ffp8 follows IEEE 754 (and gfloat): "
           "toward-zero rounding of a finite value beyond max gives max")

# OCP E4M3 (e4m3fn)
for fmt, src in ((E4M3, OFP8),):
    row(fmt, 448.0, "rne", True, 448.0, src + "; " + MLD + " max 448")
    row(fmt, -448.0, "rne", True, -448.0, src)
    row(fmt, 2.0 ** -9, "rne", True, 2.0 ** -9, src + " min subnormal")
    row(fmt, 7 * 2.0 ** -9, "rne", True, 7 * 2.0 ** -9, src + " max subnormal")
    row(fmt, 2.0 ** -6, "rne", True, 2.0 ** -6, src + " min normal")
    row(fmt, 1.0, "rne", True, 1.0, src)
    row(fmt, -0.0, "rne", True, -0.0, src + " (-0 is S.0000.000)")
    row(fmt, 1.0625, "rne", True, 1.0, src + " ties to even")
    row(fmt, 1.0625, "rna", True, 1.125, "ties away from zero (gfloat 0.5.2 TiesToAway)")
    row(fmt, 1.0625, "rtz", True, 1.0, "toward zero (gfloat 0.5.2, ml_dtypes kTruncate)")
    row(fmt, 2.0 ** -10, "rne", True, 0.0, src + " half the min subnormal ties to 0")
    row(fmt, 2.0 ** -10, "rna", True, 2.0 ** -9, "ties away (gfloat 0.5.2)")
    row(fmt, 3 * 2.0 ** -10, "rne", True, 2 * 2.0 ** -9, src + " ties to even among subnormals")
    row(fmt, struct.unpack("<f", struct.pack("<I", 0x3FFFFFFF))[0], "rne", False, 2.0,
        MLD + " ConvertFromWithTruncation: just below 2 rounds to 2")
    row(fmt, struct.unpack("<f", struct.pack("<I", 0x3FFFFFFF))[0], "rtz", False, 1.875,
        MLD + " ConvertFromWithTruncation: truncates below 2")
    row(fmt, 464.0, "rne", False, 448.0, src + "; " + MLD + "; " + GF +
        ": max + ulp/2 ties to max, whose code 0x7E is even")
    row(fmt, 464.0, "rne", True, 448.0, src)
    row(fmt, next_up(464.0), "rne", False, NAN, src + " non-saturating overflow: NaN (no Inf)")
    row(fmt, next_up(464.0), "rne", True, 448.0, src + " saturating overflow: max")
    row(fmt, 464.0, "rna", False, NAN, "ties away at max + ulp/2 overflow (gfloat 0.5.2 TiesToAway)")
    row(fmt, 1e9, "rtz", False, 448.0, "IEEE 754 toward-zero overflow gives max; " + GF, "ml_dtypes 0.6.0", NAN, RTZ_OVF)
    row(fmt, INF, "rne", False, NAN, src + " Inf into a format without Inf: NaN")
    row(fmt, INF, "rtz", False, NAN, GF + " Inf stays Inf (NaN here) when not saturating")
    row(fmt, INF, "rne", True, 448.0, GF + " saturating Inf gives max", "ml_dtypes 0.6.0", NAN, KEEP_INF)
    row(fmt, -INF, "rne", True, -448.0, GF, "ml_dtypes 0.6.0", NAN, KEEP_INF)
    row(fmt, NAN, "rne", True, NAN, src)
    row(fmt, -NAN, "rne", True, NAN, src + " (S.1111.111 keeps the sign)")

# OCP E5M2
src = OFP8
row(E5M2, 57344.0, "rne", True, 57344.0, src + "; " + MLD + " max 57344")
row(E5M2, 2.0 ** -16, "rne", True, 2.0 ** -16, src + " min subnormal")
row(E5M2, 2.0 ** -14, "rne", True, 2.0 ** -14, src + " min normal")
row(E5M2, 61440.0, "rne", False, INF, src + "; " + MLD + ": max + ulp/2 overflows, max's code 0x7B is odd")
row(E5M2, 61440.0, "rne", True, 57344.0, src + " saturating")
row(E5M2, 61439.0, "rne", False, 57344.0, src + " below max + ulp/2 rounds to max")
row(E5M2, 1e9, "rtz", False, 57344.0, "IEEE 754 toward-zero overflow gives max; " + GF, "ml_dtypes 0.6.0", INF, RTZ_OVF)
row(E5M2, INF, "rne", False, INF, src)
row(E5M2, -INF, "rtz", False, -INF, GF + " and IEEE 754: Inf is exact in every mode")
row(E5M2, INF, "rne", True, 57344.0, GF + " saturating Inf gives max", "ml_dtypes 0.6.0", INF, KEEP_INF)
row(E5M2, NAN, "rne", True, NAN, src)
row(E5M2, 3.0 * 2.0 ** -17, "rne", True, 2 * 2.0 ** -16, src + " ties to even among subnormals")

# ml_dtypes float8_e4m3 (IEEE-style), float8_e3m4, float8_e4m3b11fnuz, and the fnuz types
row(ML_E4M3, 240.0, "rne", True, 240.0, MLD + " float8_e4m3 max 240")
row(ML_E4M3, 2.0 ** -9, "rne", True, 2.0 ** -9, MLD + " float8_e4m3 denorm_min")
row(ML_E4M3, 248.0, "rne", False, INF, MLD + " float8_e4m3: max + ulp/2 overflows (max's code 0x77 is odd)")
row(ML_E4M3, 247.0, "rne", False, 240.0, MLD)
row(ML_E4M3, INF, "rne", True, 240.0, GF + " saturating Inf gives max", "ml_dtypes 0.6.0", INF, KEEP_INF)
row(ML_E3M4, 15.5, "rne", True, 15.5, MLD + " float8_e3m4 max 15.5")
row(ML_E3M4, 0.25, "rne", True, 0.25, MLD + " float8_e3m4 min normal 0.25")
row(ML_E3M4, 2.0 ** -6, "rne", True, 2.0 ** -6, MLD + " float8_e3m4 denorm_min")
row(ML_E3M4, INF, "rne", False, INF, MLD + " Half_To_Float8E3m4: +Inf is 0x70")
row(ML_E3M4, -INF, "rne", False, -INF, MLD + " Half_To_Float8E3m4: -Inf is 0xF0")
row(ML_E3M4, 15.75, "rne", False, INF, MLD + " float8_e3m4: max + ulp/2 overflows (max's code 0x6F is odd)")
row(E4M3B11, 30.0, "rne", True, 30.0, MLD + " float8_e4m3b11fnuz max 30")
row(E4M3B11, 2.0 ** -10, "rne", True, 2.0 ** -10, MLD + " float8_e4m3b11fnuz min normal")
row(E4M3B11, 2.0 ** -13, "rne", True, 2.0 ** -13, MLD + " float8_e4m3b11fnuz denorm_min")
row(E4M3B11, -0.0, "rne", True, 0.0, MLD + " fnuz has no -0 (0x80 is NaN)")
row(E4M3B11, 31.0, "rne", False, NAN, MLD + ": max + ulp/2 overflows to NaN (max's code 0x7F is odd)")
row(E4M3B11, INF, "rne", True, 30.0, GF + " saturating Inf gives max", "ml_dtypes 0.6.0", NAN, KEEP_INF)
row(E4M3B11, NAN, "rne", True, NAN, MLD + " NaN is 0x80")
row(E4M3FNUZ, 240.0, "rne", True, 240.0, MLD + " float8_e4m3fnuz max 240")
row(E4M3FNUZ, 2.0 ** -10, "rne", True, 2.0 ** -10, MLD + " float8_e4m3fnuz denorm_min")
row(E4M3FNUZ, 248.0, "rne", False, NAN, MLD + ": max + ulp/2 overflows to NaN (max's code 0x7F is odd)")
row(E4M3FNUZ, -INF, "rne", False, NAN, MLD + " Inf into fnuz: NaN (0x80)")
row(E4M3FNUZ, -0.0, "rne", True, 0.0, MLD + " fnuz has no -0")
row(E5M2FNUZ, 57344.0, "rne", True, 57344.0, MLD + " float8_e5m2fnuz max 57344")
row(E5M2FNUZ, 2.0 ** -17, "rne", True, 2.0 ** -17, MLD + " float8_e5m2fnuz denorm_min")
row(E5M2FNUZ, 61440.0, "rne", False, NAN, MLD + ": max + ulp/2 overflows to NaN")
row(E5M2FNUZ, NAN, "rne", True, NAN, MLD + " NaN is 0x80")

# OCP MX elements
for v in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0):
    row(E2M1, v, "rne", True, v, MX + " E2M1 values")
    row(E2M1, -v, "rne", True, -v, MX + " E2M1 values")
row(E2M1, 5.0, "rne", True, 4.0, MX + " rne tie to even (4 is 0x6)")
row(E2M1, 5.0, "rna", True, 6.0, "ties away (gfloat 0.5.2 ocp_e2m1)")
row(E2M1, 0.25, "rne", True, 0.0, "rne tie to even code 0 (gfloat 0.5.2 ocp_e2m1)")
row(E2M1, 0.25, "rna", True, 0.5, "ties away (gfloat 0.5.2 ocp_e2m1)")
row(E2M1, 2.5, "rne", True, 2.0, "rne tie to even (gfloat 0.5.2 ocp_e2m1)")
row(E2M1, 100.0, "rne", False, 6.0, MX + " no Inf/NaN: overflow saturates",
    "gfloat 0.5.2", "error", "gfloat raises ValueError without Inf/NaN when sat=False; ffp8 saturates (it has no other value to give)")
row(E2M1, INF, "rne", False, 6.0, MX + " no Inf/NaN: saturates", "gfloat 0.5.2", "error",
    "gfloat raises ValueError; ffp8 saturates")
row(E2M1, NAN, "rne", True, "error", GF + " raises for NaN into a format without NaN; ffp8 counts it as an error")
row(E2M3, 7.5, "rne", True, 7.5, MX + " E2M3 max 7.5")
row(E2M3, 0.125, "rne", True, 0.125, MX + " E2M3 min subnormal 0.125")
row(E2M3, 7.75, "rne", False, 7.5, MX + " no Inf/NaN: saturates")
row(E2M3, 1.0625, "rne", True, 1.0, "rne tie to even (gfloat 0.5.2 ocp_e2m3)")
row(E3M2, 28.0, "rne", True, 28.0, MX + " E3M2 max 28")
row(E3M2, 0.0625, "rne", True, 0.0625, MX + " E3M2 min subnormal 0.0625")
row(E3M2, 0.25, "rne", True, 0.25, MX + " E3M2 min normal 0.25")
row(E3M2, 30.0, "rne", False, 28.0, MX + " no Inf/NaN: saturates")

# OCP E8M0 scale
E8 = MX + " E8M0: 0x00..0xFE are 2^-127..2^127, 0xFF NaN, no zero"
row(E8M0, 1.0, "rne", True, 1.0, E8 + "; " + MLD)
row(E8M0, 2.0 ** 127, "rne", True, 2.0 ** 127, E8 + "; " + MLD + " max 2^127")
row(E8M0, 2.0 ** -127, "rne", True, 2.0 ** -127, E8 + "; " + MLD + " min 2^-127")
row(E8M0, 0.0, "rne", True, 2.0 ** -127, MLD + " zero saturates to the smallest value")
row(E8M0, 0.0, "rne", False, 2.0 ** -127, "ffp8: -nz formats give the smallest value for 0 (counted as underflow)",
    "ml_dtypes 0.6.0", NAN, "ml_dtypes gives NaN for 0 when not saturating; ffp8 keeps NaN for NaN inputs and gives the smallest value, counted as underflow")
row(E8M0, -1.0, "rne", True, 2.0 ** -127, MLD + " NegativeInput: saturating negative gives lowest (2^-127)")
row(E8M0, -1.0, "rne", False, 2.0 ** -127, "ffp8: negatives into an unsigned format clip to 0, here the smallest value",
    "ml_dtypes 0.6.0", NAN, "ml_dtypes gives NaN for negatives when not saturating; ffp8 clips (and counts) negatives for every unsigned format")
row(E8M0, 1.5, "rne", True, 2.0, "rne tie between 2^0 (0x7F) and 2^1 (0x80): the even code 0x80")
row(E8M0, 3.0, "rne", True, 2.0, "rne tie between 2^1 (0x80) and 2^2 (0x81): the even code 0x80",
    "ml_dtypes 0.6.0", 4.0, "ml_dtypes' nearest-even takes the implicit bit as the last kept bit for E8M0, so every tie rounds up; ffp8 ties to the even code (even exponent), FORMAT's rule for m = 0")
row(E8M0, 0.75, "rne", True, 0.5, "rne tie between 2^-1 (0x7E) and 2^0 (0x7F): the even code 0x7E",
    "ml_dtypes 0.6.0", 1.0, "as above: ml_dtypes rounds every E8M0 tie up")
row(E8M0, 6.0, "rne", True, 8.0, "rne tie between 2^2 (0x81) and 2^3 (0x82): the even code 0x82; ml_dtypes agrees (it rounds up)")
row(E8M0, 3.0, "rna", True, 4.0, "ties away from zero")
row(E8M0, 3.0, "rtz", True, 2.0, "toward zero (ml_dtypes kTruncate)")
row(E8M0, struct.unpack("<f", struct.pack("<I", 0x7F7FFFFF))[0], "rne", False, NAN,
    MLD + " beyond 2^127 * 1.5 overflows to NaN (0xFF)")
row(E8M0, struct.unpack("<f", struct.pack("<I", 0x7F7FFFFF))[0], "rne", True, 2.0 ** 127, MLD + " saturating")
row(E8M0, INF, "rne", True, 2.0 ** 127, GF + " saturating Inf gives max", "ml_dtypes 0.6.0", NAN, KEEP_INF)
row(E8M0, NAN, "rne", True, NAN, E8)

# P3109 8-bit: gfloat's test vectors for binary8p4 (signed extended), then every preset's ends.
K8P4 = Fmt("s1e4m3b8-fnuz-inf", 1, 4, 3, 8, "fnuz", inf=True)
row(K8P4, 224.0, "rne", False, 224.0, GF + " fi.max == 224")
row(K8P4, 240.0, "rne", False, INF, GF)
row(K8P4, 232.0, "rne", False, 224.0, GF + " max + ulp/2 ties to max (code 0x7E even)")
row(K8P4, 232.0, "rna", False, INF, GF)
row(K8P4, 232.0, "rtz", False, 224.0, GF)
row(K8P4, -232.0, "rne", False, -224.0, GF)
row(K8P4, -232.0, "rna", False, -INF, GF)
row(K8P4, -232.0, "rtz", False, -224.0, GF)
row(K8P4, next_up(232.0), "rne", False, INF, GF + " (232.1)")
p4min = 2.0 ** -10
for sat in (True, False):
    for rnd, vals in (
        ("rtz", ((p4min, p4min), (p4min / 4, 0.0), (p4min / 2, 0.0), (-p4min / 2, 0.0), (63.0, 60.0), (-63.0, -60.0))),
        ("rne", ((p4min / 2, 0.0), (-p4min / 4, 0.0), (63.0, 64.0), (62.0, 64.0), (61.0, 60.0), (-62.0, -64.0),
                 (-61.0, -60.0), (-58.0, -56.0))),
        ("rna", ((p4min / 4, 0.0), (p4min / 2, p4min), (-p4min / 2, -p4min), (62.0, 64.0), (-58.0, -60.0))),
    ):
        for x, want in vals:
            row(K8P4, x, rnd, sat, want, GF + " test_round_p3109b")
row(K8P4, INF, "rne", True, 224.0, GF + " saturating Inf gives max")
row(K8P4, -INF, "rtz", False, -INF, GF + " Inf stays Inf")
row(K8P4, NAN, "rne", True, NAN, P3109)

for sign in (1, 0):
    for p in range(1, 8 + (1 - sign)):
        e = 8 - sign - (p - 1)
        bias = 1 << (e - 1)
        for ext in (True, False):
            name = f"s{sign}e{e}m{p - 1}b{bias}-{'fnuz' if sign else 'fn'}{'-inf' if ext else ''}"
            f = Fmt(name, sign, e, p - 1, bias, "fnuz" if sign else "fn", inf=ext)
            alias = f"p3109_k8p{p}{'s' if sign else 'u'}{'e' if ext else 'f'}"
            mx, mn = f.max(), f.min_pos()
            if not f32(mx)[1] == mx or not f32(mn)[1] == mn:
                continue  # beyond float32 (p = 1: 2^-63 .. 2^63 fits; all do)
            src = P3109 + f" ({alias})"
            row(f, mx, "rne", True, mx, src + " max")
            row(f, mn, "rne", True, mn, src + " min subnormal")
            row(f, mx * 2, "rne", True, mx, src + " saturating")
            row(f, INF, "rne", False, INF if ext else NAN, src + (" Inf" if ext else " finite: Inf input is NaN"))
            row(f, NAN, "rne", True, NAN, src + " NaN")
            if sign == 0:
                row(f, -1.0, "rne", True, 0.0, "ffp8: negatives into an unsigned format clip to 0", "gfloat 0.5.2",
                    "-1.0", "gfloat keeps the input's sign for unsigned formats and returns -1.0, which is not a value "
                    "of the format; ffp8 clips to 0 and counts it")

w = sys.stdout
w.write("format,input_bits,input,rounding,saturate,expected_code,source,peer,peer_result,why_ours\n")
for r in rows:
    w.write(",".join('"' + c.replace('"', "'") + '"' if ("," in c or ";" in c) else c for c in r) + "\n")
