#include "hwcost/tech.hpp"

#include <fmt/format.h>
#include <limits>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "core/io/json_file.hpp"
#include "core/io/json_reader.hpp"

namespace ffp8::hwcost {

const std::array<std::string_view, kCoefCount>& coefficient_names() {
  static const std::array<std::string_view, kCoefCount> names{
      "intercept", "decoder_bit", "flex_decoder", "mult_cell",
      "adder_bit", "kulisch_bit", "shift_cell", "frame_bit", "register_bit"};
  return names;
}

namespace {

/// The technology file's positive numbers: key and member (read and written under the same key).
constexpr std::array<std::pair<std::string_view, double Tech::*>, 5> kNumbers{{
    {"ge_um2", &Tech::ge_um2},
    {"gate_delay_ns", &Tech::gate_delay_ns},
    {"energy_fj_per_ge", &Tech::energy_fj_per_ge},
    {"activity", &Tech::activity},
    {"register_activity", &Tech::register_activity},
}};

}  // namespace

Tech tech_from_json(const nlohmann::json& j, std::string_view src) {
  // A typo must not silently fall back to a default: unknown keys are errors.
  const JsonNode root(j, "", std::string(src));
  std::vector<std::string_view> keys{"name", "description", "liberty"};
  for (const auto& [key, member] : kNumbers) keys.push_back(key);
  keys.insert(keys.end(), {"coefficients_ge", "calibration"});
  root.expect_object(keys);
  const double inf = std::numeric_limits<double>::infinity();
  const auto positive = [&](std::string_view key) {
    const double x = root.at(key).as_double(0, inf);
    if (x == 0) root.at(key).fail("expected a positive number, got 0");
    return x;
  };
  Tech t;
  t.source = std::string(src);
  t.name = root.at("name").as_string();
  if (root.has("description")) t.description = root.at("description").as_string();
  if (root.has("liberty")) t.liberty = root.at("liberty").as_string();
  for (const auto& [key, member] : kNumbers) t.*member = positive(key);
  const JsonNode c = root.at("coefficients_ge");
  const auto& names = coefficient_names();
  c.expect_object(std::vector<std::string_view>(names.begin(), names.end()));
  for (int i = 0; i < kCoefCount; ++i) t.coef[i] = c.at(names[i]).as_double(0, inf);
  if (root.has("calibration")) t.calibration = j.at("calibration");
  return t;
}

nlohmann::json to_json(const Tech& t) {
  nlohmann::json j;
  j["name"] = t.name;
  j["description"] = t.description;
  j["liberty"] = t.liberty;
  for (const auto& [key, member] : kNumbers) j[std::string(key)] = t.*member;
  nlohmann::json c = nlohmann::json::object();
  for (int i = 0; i < kCoefCount; ++i) c[std::string(coefficient_names()[i])] = t.coef[i];
  j["coefficients_ge"] = c;
  j["calibration"] = t.calibration;
  return j;
}

Tech load_tech(const std::filesystem::path& file) {
  return tech_from_json(read_json_file(file, "technology file"), file.string());
}

std::filesystem::path tech_dir() { return FFP8_HWCOST_TECH_DIR; }

Tech find_tech(std::string_view name_or_path) {
  const std::filesystem::path p(name_or_path);
  if (name_or_path.find('/') == std::string_view::npos && p.extension() != ".json")
    return load_tech(tech_dir() / (std::string(name_or_path) + ".json"));
  return load_tech(p);
}

}  // namespace ffp8::hwcost
