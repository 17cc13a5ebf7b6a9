#pragma once
// Bytes of a unit's result: what an MPI rank sends to the root and what the journal stores, so a
// result read back from either is bit-for-bit the one computed (doubles travel as their bits).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "explore/sweep/units.hpp"

namespace ffp8::explore {

/// Encodes a unit result; pieces are stored as indices into `sources`.
std::string encode_result(const UnitResult& result, const std::vector<std::unique_ptr<TensorSource>>& sources);
/// Decodes encode_result's bytes; pieces point into `sources`. Throws DataError on malformed bytes.
UnitResult decode_result(std::string_view bytes, const std::vector<std::unique_ptr<TensorSource>>& sources);

/// Encodes one group with its statistics (a role unit's input).
std::string encode_group(const Group& group, const std::vector<std::unique_ptr<TensorSource>>& sources);
/// Decodes encode_group's bytes. Throws DataError on malformed bytes.
Group decode_group(std::string_view bytes, const std::vector<std::unique_ptr<TensorSource>>& sources);

}  // namespace ffp8::explore
