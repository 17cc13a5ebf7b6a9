#include "core/tensors/inspect.hpp"

#include <cmath>

#include "core/errors.hpp"

namespace ffp8 {

namespace {

// The `role` attribute when it is a string, else a guess from the path (docs/hdf5-layout.md).
std::string role_of(const h5::File& f, const std::string& path) {
  try {
    if (auto r = f.get_string_attr(path, "role")) return *r;
  } catch (const IoError&) {
    // A non-string `role` is someone else's attribute: fall back to the path.
  }
  if (path.rfind("/params/", 0) == 0) {
    const auto leaf = path.substr(path.rfind('/') + 1);
    return leaf == "bias" ? "bias" : "weight";
  }
  if (path.rfind("/activations/", 0) == 0) return "activation";
  return "-";
}

// TensorStats says "no value" with NaN (e.g. the minimum of an empty tensor): null in JSON.
nlohmann::json value(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

nlohmann::json stats_json(const TensorStats& s) {
  return {{"count", s.count},      {"min", value(s.min())},         {"max", value(s.max())},
          {"max_abs", value(s.max_abs())}, {"mean", value(s.mean())}, {"std", value(s.std())},
          {"zero_frac", value(s.zero_frac())}, {"neg_frac", value(s.neg_frac())}, {"nan", s.nan},
          {"inf", s.pos_inf + s.neg_inf}};
}

}  // namespace

Inspection inspect_file(const std::string& path) {
  const h5::File f = h5::File::open(path);
  Inspection out;
  out.file = path;
  out.layout = h5::detect_layout(f);
  for (auto& d : f.list("/")) {
    const bool is_float = d.dtype == h5::DType::Float16 || d.dtype == h5::DType::Float32 || d.dtype == h5::DType::Float64;
    const bool is_int = d.dtype == h5::DType::Int || d.dtype == h5::DType::UInt;
    if (!is_float && !is_int) {
      out.skipped.push_back(d.path);
      continue;
    }
    InspectedTensor t{d, role_of(f, d.path), std::nullopt};
    if (is_float) {
      TensorStats s;
      h5::for_each_chunk_f64(f, d.path, 0, [&](std::span<const double> v, std::uint64_t) { s.add(v); });
      t.stats = s;
    }
    out.tensors.push_back(std::move(t));
  }
  return out;
}

nlohmann::json to_json(const Inspection& in) {
  nlohmann::json j;
  j["file"] = in.file;
  if (in.layout) {
    j["layout"] = {{"attribute", h5::version_attribute(in.layout->layout)}, {"version", in.layout->version},
                   {"kind", h5::to_string(in.layout->layout)}, {"name", in.layout->name}};
  } else {
    j["layout"] = nullptr;
  }
  j["tensors"] = nlohmann::json::array();
  for (const auto& t : in.tensors) {
    j["tensors"].push_back({{"path", t.info.path},
                            {"shape", t.info.shape},
                            {"dtype", h5::dtype_name(t.info.dtype, t.info.elem_bytes)},
                            {"role", t.role},
                            {"stats", t.stats ? stats_json(*t.stats) : nlohmann::json(nullptr)}});
  }
  j["skipped"] = in.skipped;
  return j;
}

}  // namespace ffp8
