#include "core/io/json_reader.hpp"

#include <cmath>
#include <fmt/format.h>

#include "core/errors.hpp"

namespace ffp8 {

namespace {
std::string escape_key(std::string_view k) {
  // RFC 6901: '~' -> "~0", '/' -> "~1".
  std::string out;
  for (char c : k) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}
const char* type_word(const nlohmann::json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "a list";
  return "an object";
}
std::string joined(const auto& names) {
  std::string list;
  for (std::string_view a : names) list += (list.empty() ? "" : ", ") + std::string(a);
  return list;
}
}  // namespace

std::string describe(const nlohmann::json& j) {
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

void JsonNode::fail(std::string_view message) const {
  throw ConfigError(fmt::format("{}{}: {}", source_.empty() ? "" : source_ + ": ", path_.empty() ? "/" : path_, message));
}

void JsonNode::expect_any_object() const {
  if (!j_->is_object()) fail(fmt::format("expected an object, got {}", describe(*j_)));
}

void JsonNode::expect_object(const std::vector<std::string_view>& allowed) const {
  expect_any_object();
  for (const auto& [k, v] : j_->items()) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || a == k;
    if (!ok) {
      const JsonNode bad(v, path_ + "/" + escape_key(k), source_);
      bad.fail(allowed.empty() ? fmt::format("unknown key \"{}\" (no keys are allowed here)", k)
                               : fmt::format("unknown key \"{}\" (allowed here: {})", k, joined(allowed)));
    }
  }
}

void JsonNode::expect_object(std::initializer_list<std::string_view> allowed) const {
  expect_object(std::vector<std::string_view>(allowed));
}

void JsonNode::require(std::string_view key) const {
  expect_any_object();
  if (!has(key)) fail(fmt::format("missing key \"{}\"", key));
}

JsonNode JsonNode::at(std::string_view key) const {
  require(key);
  return JsonNode(j_->at(std::string(key)), path_ + "/" + escape_key(key), source_);
}

JsonNode JsonNode::at(std::size_t i) const { return JsonNode(j_->at(i), fmt::format("{}/{}", path_, i), source_); }

std::int64_t JsonNode::as_int(std::int64_t lo, std::int64_t hi) const {
  std::int64_t v = 0;
  if (j_->is_number_unsigned() && j_->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    fail(fmt::format("{} is out of range [{}, {}]", j_->get<std::uint64_t>(), lo, hi));
  } else if (j_->is_number_integer()) {
    v = j_->get<std::int64_t>();
  } else if (j_->is_number_float() && std::floor(j_->get<double>()) == j_->get<double>() &&
             std::fabs(j_->get<double>()) < 9e15) {
    v = static_cast<std::int64_t>(j_->get<double>());
  } else {
    fail(fmt::format("expected an integer, got {}", describe(*j_)));
  }
  if (v < lo || v > hi) fail(fmt::format("{} is out of range [{}, {}]", v, lo, hi));
  return v;
}

double JsonNode::as_double(double lo, double hi) const {
  if (!j_->is_number()) fail(fmt::format("expected a number, got {}", describe(*j_)));
  const double v = j_->get<double>();
  if (!(v >= lo && v <= hi)) fail(fmt::format("{} is out of range [{}, {}]", v, lo, hi));
  return v;
}

bool JsonNode::as_bool() const {
  if (!j_->is_boolean()) fail(fmt::format("expected true or false, got {}", describe(*j_)));
  return j_->get<bool>();
}

std::string JsonNode::as_string() const {
  if (!j_->is_string()) fail(fmt::format("expected a string, got {} ({})", describe(*j_), type_word(*j_)));
  return j_->get<std::string>();
}

std::string JsonNode::as_choice(std::initializer_list<std::string_view> allowed) const {
  const std::string s = as_string();
  for (std::string_view a : allowed)
    if (a == s) return s;
  fail(fmt::format("\"{}\" is not one of {}", s, joined(allowed)));
}

std::vector<std::int64_t> JsonNode::as_int_list(std::int64_t lo, std::int64_t hi) const {
  std::vector<std::int64_t> out;
  if (!j_->is_array()) return {as_int(lo, hi)};
  if (j_->empty()) fail("expected a non-empty list");
  for (std::size_t i = 0; i < j_->size(); ++i) out.push_back(at(i).as_int(lo, hi));
  return out;
}

std::vector<std::string> JsonNode::as_string_list() const {
  if (!j_->is_array()) return {as_string()};
  if (j_->empty()) fail("expected a non-empty list");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j_->size(); ++i) out.push_back(at(i).as_string());
  return out;
}

std::vector<bool> JsonNode::as_bool_list() const {
  if (!j_->is_array()) return {as_bool()};
  if (j_->empty()) fail("expected a non-empty list");
  std::vector<bool> out;
  for (std::size_t i = 0; i < j_->size(); ++i) out.push_back(at(i).as_bool());
  return out;
}

std::vector<std::int64_t> JsonNode::as_int_array(std::size_t n, std::int64_t lo, std::int64_t hi) const {
  if (!j_->is_array() || j_->size() != n)
    fail(fmt::format("expected a list of {} integers, got {}", n, describe(*j_)));
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(at(i).as_int(lo, hi));
  return out;
}

}  // namespace ffp8
