"""ffp8.Format and the fit rule: thin wrappers of the C++ Format (parsing, validation and every
derived fact come from the library, so the package accepts exactly the names the CLI accepts)."""
import re

import numpy as np

from . import _ffp8


class Format:
    """An ffp8 number format, parsed by the C++ library.

    Format(name) takes a canonical name ``s{0|1}e{E}m{M}b{B}`` with optional ``-ieee``, ``-fn``,
    ``-fnuz`` and ``-nosub`` suffixes (``s1e4m3b7-fn`` is OCP E4M3), a preset alias (``e4m3fn``,
    ``e5m2``, ...; see presets()), or another Format. A bad name raises FormatError (a
    ValueError) with the library's message.

    >>> f = Format("s0e4m4b10")
    >>> f.max, f.min_positive, f.width
    (62.0, 0.0001220703125, 8)
    """

    __slots__ = ("_f",)

    def __init__(self, name):
        if isinstance(name, Format):
            self._f = name._f
        elif isinstance(name, _ffp8.Format):
            self._f = name
        elif isinstance(name, str):
            self._f = _ffp8.Format(name)
        else:
            raise TypeError(f"a format is a name (str) or a Format, not {type(name).__name__}")

    @classmethod
    def from_fields(cls, sign, exp, man, bias, specials="none", subnormals=True):
        """The format with these fields (specials "none", "ieee", "fn" or "fnuz"); validated."""
        return cls(_ffp8.Format.make(int(sign), int(exp), int(man), int(bias),
                                     _ffp8.parse_specials(specials), bool(subnormals)))

    @property
    def min_subnormal(self):
        """Smallest positive subnormal value, or None for a format without subnormals."""
        return self._f.min_positive if self._f.subnormals else None

    def values(self):
        """Value of every code as a float64 array indexed by code: NaN for NaN codes (and the
        codes a -nosub format leaves unused), ±inf for Inf codes."""
        return self._f.values()

    def __eq__(self, other):
        if isinstance(other, Format):
            return self._f == other._f
        return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"Format('{self.name}')"

    def __reduce__(self):
        return (Format, (self.name,))




# The library's fields and derived facts, read through to the C++ object (the binding holds their docs).
for _attr in ("name", "sign", "exp", "man", "bias", "specials", "subnormals", "width", "code_count", "has_nan",
              "has_inf", "max", "min_normal", "min_positive", "fits_float32"):
    setattr(Format, _attr, property(lambda self, _a=_attr: getattr(self._f, _a), doc=getattr(_ffp8.Format, _attr).__doc__))
del _attr
Format.effective_bits = property(lambda self: self._f.width,
                                 doc="storage bits per element (the code width for an unscaled format)")

def as_format(fmt):
    """Format of a name or Format (the argument check every function shares)."""
    return fmt if isinstance(fmt, Format) else Format(fmt)


def presets():
    """Preset aliases and the canonical names they stand for, e.g. {'e4m3fn': 's1e4m3b7-fn', ...}."""
    return dict(_ffp8.presets())


def _finite_range(x):
    """(max |x|, max positive x, has negative) over the finite values of x."""
    a = np.asarray(x, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return 0.0, 0.0, False
    return float(np.abs(a).max()), float(max(a.max(), 0.0)), bool(a.min() < 0)


def fit(template, x=None, *, max_abs=None, max_positive=None):
    """The format of `template` with the "all you can fit" bias: the largest bias whose max(V)
    still covers the data's largest magnitude (the rule `fit:` uses in eval configs and sweeps).

    template: a format (its bias is replaced) or a template name as eval configs write it after
    ``fit:``: ``"s1e4m3"``, ``"s0e4m4-fn"``, or ``"auto:e4"`` (8 bits with 4 exponent bits,
    unsigned when the data has no negative value, else signed). The data is an array `x` (its
    finite values count), or its range given as max_abs (and max_positive for unsigned formats).

    >>> fit("s1e4m3", np.array([0.5, -3.0]))
    Format('s1e4m3b14')
    """
    if isinstance(template, Format):
        choice = _ffp8.FormatChoice("fit:" + re.sub(r"b-?[0-9]+", "", template.name, count=1))
    elif isinstance(template, str):
        choice = _ffp8.FormatChoice(template if template.startswith("fit:") else "fit:" + template)
    else:
        raise TypeError(f"a template is a name (str) or a Format, not {type(template).__name__}")
    if x is not None:
        if max_abs is not None or max_positive is not None:
            raise ValueError("fit takes the data x or its range (max_abs, max_positive), not both")
        a_abs, a_pos, negative = _finite_range(x)
    elif max_abs is not None:
        a_abs = float(max_abs)
        a_pos = float(max_abs if max_positive is None else max_positive)
        negative = max_positive is not None and a_pos < a_abs
    else:
        raise ValueError("fit needs the data x or its largest magnitude max_abs")
    t = choice.template_for(negative)
    bias = _ffp8.fit_bias(t, _ffp8.fit_input(t.sign, a_abs, a_pos))
    return Format(_ffp8.Format.make(t.sign, t.exp, t.man, bias, _ffp8.parse_specials(t.specials), t.subnormals))
