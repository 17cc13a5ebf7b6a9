#pragma once
// Typed reading of a JSON config with the JSON path of every value: each error names it
// ("/space/bias/min: expected an integer, got \"x\""), and unknown keys are rejected.
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ffp8::explore {

/// A JSON value and its path (RFC 6901 pointer) in the document.
class JsonNode {
 public:
  JsonNode(const nlohmann::json& j, std::string path) : j_(&j), path_(std::move(path)) {}

  const nlohmann::json& json() const { return *j_; }
  const std::string& path() const { return path_; }
  /// Throws ConfigError "<path>: <message>".
  [[noreturn]] void fail(std::string_view message) const;

  bool is_object() const { return j_->is_object(); }
  bool is_array() const { return j_->is_array(); }
  bool is_string() const { return j_->is_string(); }
  /// Checks this is an object whose keys are all in `allowed`; throws naming the first other.
  void expect_object(std::initializer_list<std::string_view> allowed) const;
  /// Checks this is an object holding `key` (ConfigError "/path: missing key \"key\"" if not).
  void require(std::string_view key) const;
  bool has(std::string_view key) const { return j_->is_object() && j_->contains(std::string(key)); }
  /// The member `key` (must exist).
  JsonNode at(std::string_view key) const;
  /// Element i of an array.
  JsonNode at(std::size_t i) const;
  std::size_t size() const { return j_->size(); }

  std::int64_t as_int(std::int64_t lo = INT64_MIN, std::int64_t hi = INT64_MAX) const;
  double as_double() const;
  bool as_bool() const;
  std::string as_string() const;
  /// A string that must be one of `allowed`.
  std::string as_choice(std::initializer_list<std::string_view> allowed) const;
  /// A scalar or a list of scalars ("lists mean sweep over each"): the list, never empty.
  std::vector<std::int64_t> as_int_list(std::int64_t lo = INT64_MIN, std::int64_t hi = INT64_MAX) const;
  std::vector<std::string> as_string_list() const;
  std::vector<bool> as_bool_list() const;

 private:
  const nlohmann::json* j_;
  std::string path_;
};

/// Short rendering of a JSON value for messages (strings quoted, long values cut).
std::string describe(const nlohmann::json& j);

}  // namespace ffp8::explore
