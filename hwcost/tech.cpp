#include "hwcost/tech.hpp"

#include <fmt/format.h>
#include <limits>

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

Tech tech_from_json(const nlohmann::json& j, std::string_view src) {
  // A typo must not silently fall back to a default: unknown keys are errors.
  const JsonNode root(j, "", std::string(src));
  root.expect_object({"name", "description", "liberty", "ge_um2", "gate_delay_ns", "energy_fj_per_ge", "activity",
                      "register_activity", "coefficients_ge", "calibration"});
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
  t.ge_um2 = positive("ge_um2");
  t.gate_delay_ns = positive("gate_delay_ns");
  t.energy_fj_per_ge = positive("energy_fj_per_ge");
  t.activity = positive("activity");
  t.register_activity = positive("register_activity");
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
  j["ge_um2"] = t.ge_um2;
  j["gate_delay_ns"] = t.gate_delay_ns;
  j["energy_fj_per_ge"] = t.energy_fj_per_ge;
  j["activity"] = t.activity;
  j["register_activity"] = t.register_activity;
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
