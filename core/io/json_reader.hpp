#pragma once
// Typed reading of a JSON document with the JSON path of every value, the one reader of every
// JSON input the project takes (sweep and eval configs, technology files, model graphs): each
// error is a ConfigError worded one way per kind and naming the document and the path
// ("cfg.json: /space/bias/min: expected an integer, got \"x\""), and unknown keys are rejected
// where a schema is closed.
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ffp8 {

/// A JSON value, its path (RFC 6901 pointer) in the document and the document's name.
class JsonNode {
 public:
  /// The root of a document (`source`: its name in messages, e.g. the file; may be empty), or
  /// a value at `path` of it.
  explicit JsonNode(const nlohmann::json& j, std::string path = "", std::string source = "")
      : j_(&j), path_(std::move(path)), source_(std::move(source)) {}

  const nlohmann::json& json() const { return *j_; }
  const std::string& path() const { return path_; }
  const std::string& source() const { return source_; }
  /// Throws ConfigError "<source>: <path>: <message>".
  [[noreturn]] void fail(std::string_view message) const;

  bool is_object() const { return j_->is_object(); }
  bool is_array() const { return j_->is_array(); }
  bool is_string() const { return j_->is_string(); }
  bool is_null() const { return j_->is_null(); }
  /// Checks this is an object whose keys are all in `allowed`; throws naming the first other.
  void expect_object(std::initializer_list<std::string_view> allowed) const;
  void expect_object(const std::vector<std::string_view>& allowed) const;
  /// Checks this is an object (any keys).
  void expect_any_object() const;
  /// Checks this is an object holding `key` ("/path: missing key \"key\"" if not).
  void require(std::string_view key) const;
  bool has(std::string_view key) const { return j_->is_object() && j_->contains(std::string(key)); }
  /// The member `key` (must exist).
  JsonNode at(std::string_view key) const;
  /// Element i of an array.
  JsonNode at(std::size_t i) const;
  std::size_t size() const { return j_->size(); }

  /// An integer in [lo, hi] (a float with an integral value counts; out-of-range values, also
  /// those beyond 64 bits, are errors, never wrapped).
  std::int64_t as_int(std::int64_t lo = INT64_MIN, std::int64_t hi = INT64_MAX) const;
  /// A number in [lo, hi].
  double as_double(double lo = -std::numeric_limits<double>::infinity(),
                   double hi = std::numeric_limits<double>::infinity()) const;
  bool as_bool() const;
  std::string as_string() const;
  /// A string that must be one of `allowed`.
  std::string as_choice(std::initializer_list<std::string_view> allowed) const;
  /// A scalar or a list of scalars ("lists mean sweep over each"): the list, never empty.
  std::vector<std::int64_t> as_int_list(std::int64_t lo = INT64_MIN, std::int64_t hi = INT64_MAX) const;
  std::vector<std::string> as_string_list() const;
  std::vector<bool> as_bool_list() const;
  /// A list of exactly `n` integers, each in [lo, hi].
  std::vector<std::int64_t> as_int_array(std::size_t n, std::int64_t lo = INT64_MIN, std::int64_t hi = INT64_MAX) const;

 private:
  const nlohmann::json* j_;
  std::string path_, source_;
};

/// Short rendering of a JSON value for messages (strings quoted, long values cut).
std::string describe(const nlohmann::json& j);

}  // namespace ffp8
