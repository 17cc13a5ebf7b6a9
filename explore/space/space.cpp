#include "explore/space/space.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/format/fit.hpp"

namespace ffp8::explore {

std::string FormatTemplate::name() const {
  if (kind == Kind::Int) return fmt::format("{}{}{}", sign ? 'i' : 'u', sign + man, sym ? "-sym" : "");
  std::string s = fmt::format("s{}e{}m{}", sign, exp, man);
  if (specials != Specials::None) s += fmt::format("-{}", to_string(specials));
  if (!subnormals) s += "-nosub";
  return s;
}

std::vector<FormatTemplate> expand_templates(const SpaceConfig& space, SkipCounts& skipped) {
  std::vector<FormatTemplate> out;
  // Either man = width - sign - exp for each width, or man swept directly.
  const bool by_man = !space.man.empty();
  const std::vector<int>& outer = by_man ? space.man : space.width;
  if (space.family_int && !by_man) {
    // Integer members of each width: two's complement (plain and -sym) for sign 1, unsigned for sign 0.
    for (int w : space.width)
      for (int s : space.sign)
        for (bool sym : s == 1 ? std::vector<bool>{false, true} : std::vector<bool>{false}) {
          FormatTemplate t;
          t.kind = Kind::Int;
          t.sign = s;
          t.exp = 0;
          t.man = w - s;
          t.specials = Specials::None;
          t.subnormals = true;
          t.sym = sym;
          try {
            t.with_bias(0).validate();
          } catch (const FormatError&) {
            ++skipped.invalid;
            continue;
          }
          out.push_back(t);
        }
  }
  if (!space.family_float) return out;
  for (int w : outer)
    for (int s : space.sign)
      for (int e : space.exp)
        for (Specials sp : space.specials)
          for (bool sub : space.subnormals) {
            const int m = by_man ? w : w - s - e;
            if (m < 0) {
              ++skipped.man_negative;
              continue;
            }
            if (m < space.man_min || m > space.man_max) {
              ++skipped.constraint;
              continue;
            }
            const FormatTemplate l{s, e, m, sp, sub};
            try {
              l.with_bias((1 << (e - 1)) - 1).validate();
            } catch (const FormatError&) {
              ++skipped.invalid;
              continue;
            }
            if (std::find_if(out.begin(), out.end(), [&](const FormatTemplate& o) { return o.name() == l.name(); }) == out.end())
              out.push_back(l);
          }
  return out;
}

int fit_bias(const FormatTemplate& t, double a) {
  // One definition of the rule for the whole project (core/format/fit.hpp).
  return ffp8::fit_bias(t.with_bias(0), a);
}

std::vector<BiasChoice> biases_for(const FormatTemplate& t, const BiasSpec& spec, const BucketStats& stats,
                                   const Extent& extent) {
  std::vector<BiasChoice> out;
  switch (spec.kind) {
    case BiasSpec::Kind::Range:
      for (int b = spec.min; b <= spec.max; ++b) out.push_back({b, "range", false});
      break;
    case BiasSpec::Kind::List:
      for (int b : spec.list) out.push_back({b, "list", false});
      break;
    case BiasSpec::Kind::Fit:
      out.push_back({fit_bias(t, fit_input(t.sign, extent.max_abs, extent.max_positive)), "fit", false});
      break;
    case BiasSpec::Kind::Percentile:
      out.push_back({fit_bias(t, stats.abs_percentile(spec.percentile, t.sign == 0)),
                     fmt::format("percentile:{}", spec.percentile), false});
      break;
    case BiasSpec::Kind::Argmin:
      for (int b = spec.min; b <= spec.max; ++b)
        out.push_back({b, fmt::format("argmin:{}", info(spec.argmin).name), true});
      break;
  }
  return out;
}

std::optional<Format> make_format(const FormatTemplate& t, int b, const SpaceConfig& space, SkipCounts& skipped) {
  const Format f = t.with_bias(b);
  try {
    f.validate();
  } catch (const FormatError&) {
    ++skipped.invalid;
    return std::nullopt;
  }
  if (!space.exclude.empty() && std::find(space.exclude.begin(), space.exclude.end(), f.name()) != space.exclude.end()) {
    ++skipped.excluded;
    return std::nullopt;
  }
  return f;
}

}  // namespace ffp8::explore
