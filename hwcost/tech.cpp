#include "core/io/json_file.hpp"
#include "hwcost/tech.hpp"

#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "core/errors.hpp"

namespace ffp8::hwcost {

const std::array<std::string_view, kCoefCount>& coefficient_names() {
  static const std::array<std::string_view, kCoefCount> names{
      "intercept", "decoder_bit", "flex_decoder", "mult_cell",
      "adder_bit", "kulisch_bit", "shift_cell", "frame_bit", "register_bit"};
  return names;
}

namespace {

double number(const nlohmann::json& j, std::string_view key, std::string_view src, bool positive) {
  const std::string k(key);
  if (!j.contains(k)) throw ConfigError(fmt::format("{}: missing key '{}'", src, key));
  const auto& v = j.at(k);
  if (!v.is_number()) throw ConfigError(fmt::format("{}: key '{}' must be a number", src, key));
  const double x = v.get<double>();
  if (x < 0 || (positive && x == 0))
    throw ConfigError(fmt::format("{}: key '{}' must be {} (got {})", src, key,
                                  positive ? "positive" : "non-negative", x));
  return x;
}

std::string text(const nlohmann::json& j, std::string_view key, std::string_view src, bool required) {
  const std::string k(key);
  if (!j.contains(k)) {
    if (required) throw ConfigError(fmt::format("{}: missing key '{}'", src, key));
    return {};
  }
  if (!j.at(k).is_string()) throw ConfigError(fmt::format("{}: key '{}' must be a string", src, key));
  return j.at(k).get<std::string>();
}

}  // namespace

Tech tech_from_json(const nlohmann::json& j, std::string_view src) {
  if (!j.is_object()) throw ConfigError(fmt::format("{}: a technology table must be a JSON object", src));
  static const std::set<std::string> known{"name", "description", "liberty", "ge_um2", "gate_delay_ns",
                                           "energy_fj_per_ge", "activity", "register_activity",
                                           "coefficients_ge", "calibration"};
  // A typo must not silently fall back to a default.
  for (const auto& [k, v] : j.items())
    if (!known.contains(k)) throw ConfigError(fmt::format("{}: unknown key '/{}'", src, k));
  Tech t;
  t.source = std::string(src);
  t.name = text(j, "name", src, true);
  t.description = text(j, "description", src, false);
  t.liberty = text(j, "liberty", src, false);
  t.ge_um2 = number(j, "ge_um2", src, true);
  t.gate_delay_ns = number(j, "gate_delay_ns", src, true);
  t.energy_fj_per_ge = number(j, "energy_fj_per_ge", src, true);
  t.activity = number(j, "activity", src, true);
  t.register_activity = number(j, "register_activity", src, true);
  if (!j.contains("coefficients_ge") || !j.at("coefficients_ge").is_object())
    throw ConfigError(fmt::format("{}: missing object '/coefficients_ge'", src));
  const auto& c = j.at("coefficients_ge");
  const auto& names = coefficient_names();
  for (const auto& [k, v] : c.items()) {
    bool found = false;
    for (auto n : names) found = found || n == k;
    if (!found) throw ConfigError(fmt::format("{}: unknown key '/coefficients_ge/{}'", src, k));
  }
  for (int i = 0; i < kCoefCount; ++i)
    t.coef[i] = number(c, names[i], fmt::format("{} /coefficients_ge", src), false);
  if (j.contains("calibration")) t.calibration = j.at("calibration");
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
