#pragma once
// Exact decoding of codes and encoding of representable values (docs/formats.md "Values").
#include <cstdint>

#include "core/format/format.hpp"

namespace ffp8 {

/// What a code stands for.
enum class CodeKind : std::uint8_t { Finite, Nan, Inf, Unused };

/// The decoded meaning of one code; `value` is ±inf for Inf, NaN for Nan, 0 for Unused.
struct CodeValue {
  CodeKind kind = CodeKind::Finite;
  double value = 0.0;
};

/// Decodes `code` (must be < f.code_count()); exact in double for every valid format.
CodeValue decode(const Format& f, std::uint32_t code);

/// The special codes of a format (only meaningful when the format has them).
struct SpecialCodes {
  std::uint32_t max_code;  ///< code of max(V) (no sign bit)
  std::uint32_t inf_code;  ///< code of +Inf (ieee, or the -inf modifier)
  std::uint32_t nan_code;  ///< canonical NaN code (positive sign, except fnuz's 1000...0)
  std::uint32_t sign_bit;  ///< 1 << (width - 1) for signed float formats, else 0
};
/// The special codes of `f`.
SpecialCodes special_codes(const Format& f);

}  // namespace ffp8
