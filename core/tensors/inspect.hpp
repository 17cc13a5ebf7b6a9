#pragma once
// `ffp8 inspect` as a library call: the tensors of an HDF5 file (every float dataset,
// recursively) with shape, dtype, role and streamed statistics (memory independent of the tensor
// sizes), and the file layout it declares (docs/hdf5-layout.md), version checked.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/h5.hpp"
#include "core/io/layout.hpp"
#include "core/tensors/tensor_stats.hpp"

namespace ffp8 {

/// One numeric dataset of a file.
struct InspectedTensor {
  h5::DatasetInfo info;
  std::string role;                  ///< the `role` attribute, else a guess from the path, else "-"
  std::optional<TensorStats> stats;  ///< float datasets only (integers: shape and dtype only)
};

/// What a file holds.
struct Inspection {
  std::string file;
  std::optional<h5::LayoutTag> layout;  ///< the declared model or data layout
  std::vector<InspectedTensor> tensors;
  std::vector<std::string> skipped;     ///< datasets that are not numeric (strings, compounds, ...)
};

/// Inspects `file`. Throws IoError (unreadable), ModelError/DataError (a layout version this
/// build does not read).
Inspection inspect_file(const std::string& file);

/// As `ffp8 inspect --json` prints it: statistics that do not exist (e.g. the minimum of an empty
/// tensor) are null.
nlohmann::json to_json(const Inspection& inspection);

}  // namespace ffp8
