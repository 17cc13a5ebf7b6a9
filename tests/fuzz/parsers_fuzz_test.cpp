// Fuzzing of every parser users feed text to: format names, format choices (fit:/int8/scaled),
// JSON sweep and eval configs (through the JSON reader they share), the model graph reader
// (graph JSON and shape inference), --set overrides and shard specs. Each gets FFP8_FUZZ_N
// mutated inputs (default 10^5) from the seeded driver in mutator.hpp; every input must parse
// or be rejected with a typed error (ffp8::Error) whose message is one non-empty line. Any other
// exception fails the test with the input; a crash or sanitizer report fails the run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.hpp"
#include "core/format/format.hpp"
#include "core/infer/assignment.hpp"
#include "core/infer/model.hpp"
#include "core/io/json_file.hpp"
#include "explore/config/config.hpp"
#include "explore/dist/shard.hpp"
#include "explore/eval/config.hpp"
#include "tests/fuzz/mutator.hpp"

namespace ffp8::fuzz {
namespace {

std::uint64_t iterations() {
  const char* n = std::getenv("FFP8_FUZZ_N");
  return n ? std::strtoull(n, nullptr, 10) : 100000;
}

/// Runs `parse` on `iterations()` mutated inputs; reports counts, fails on untyped or
/// multi-line rejections.
void fuzz(const char* name, std::vector<std::string> seeds, std::vector<std::string> tokens,
          const std::function<void(const std::string&)>& parse) {
  Mutator m(seeds, std::move(tokens), 0x5eed0000u + std::hash<std::string>{}(name));
  std::uint64_t accepted = 0, rejected = 0, bad = 0;
  const std::uint64_t n = iterations();
  for (const std::string& s : seeds) ASSERT_NO_THROW(parse(s)) << name << " seed: " << s;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::string in = m.next();
    try {
      parse(in);
      ++accepted;
    } catch (const Error& e) {
      ++rejected;
      const std::string msg = e.what();
      if (msg.empty() || msg.find('\n') != std::string::npos) {
        if (++bad <= 5) ADD_FAILURE() << name << " #" << i << ": rejection is not one line: '" << msg << "' for: " << in;
      }
    } catch (const std::exception& e) {
      if (++bad <= 5) ADD_FAILURE() << name << " #" << i << ": untyped " << typeid(e).name() << ": " << e.what() << " for: " << in;
    }
  }
  std::printf("fuzz %-14s N=%llu accepted=%llu rejected=%llu untyped_or_bad=%llu crashes=0\n", name,
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(accepted),
              static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(bad));
  EXPECT_EQ(bad, 0u);
}

/// The JSON text as the config loaders read it (read_json_file's parser).
nlohmann::json parse_json(const std::string& text) { return parse_json_text(text, "config file c.json"); }

const std::vector<std::string> kFormatTokens = {"s",  "e",  "m",   "b",    "-fn", "-fnuz", "-ieee", "-nosub", "fit:",
                                                "auto:", "int8", "float32", "e4m3fn", "e5m2", "fp8_143", "s1e4m3", "b-",
                                                "mx", "x", ":", "-"};

TEST(Fuzz, FormatNames) {
  fuzz("format", {"s1e4m3b7", "e4m3fn", "s0e3m4b2", "s1e4m3b7-fn", "s1e5m2b15-ieee", "s1e4m3b8-fnuz", "e5m2", "fp8_152",
                  "s1e2m1b1", "s0e4m4b-3"},
       kFormatTokens, [](const std::string& s) { (void)Format::parse(s); });
}

TEST(Fuzz, FormatChoices) {
  fuzz("format_choice", {"float32", "int8", "fit:s1e4m3", "fit:auto:e4", "fit:e4m3fn", "s1e4m3b10", "fit:s1e4m3-fn"},
       kFormatTokens, [](const std::string& s) { (void)infer::FormatChoice::parse(s); });
}

TEST(Fuzz, ShardSpecs) {
  fuzz("shard", {"0/4", "3/4", "0/1", "999999998/999999999"}, {"/", "-", "0", "9", " ", "+"},
       [](const std::string& s) { (void)explore::dist::parse_shard(s); });
}

const std::vector<std::string> kJsonTokens = {"{", "}", "[", "]", ",", ":", "\"", "\"inputs\"", "\"space\"",
                                              "\"bias\"", "\"fit\"", "\"width\"", "\"exp\"", "\"min\"", "\"max\"",
                                              "\"argmin\"", "\"percentile\"", "\"formats\"", "\"candidates\"",
                                              "\"overrides\"", "\"nodes\"", "\"attrs\"", "\"shape\"", "\"op\""};

const char* kSweepSeed = R"({"inputs": [{"file": "w.h5", "tensors": ["/weights/*"], "role": "weight"},
  {"file": "a.h5", "tensors": ["/activations/*"], "role": "activation"}],
  "space": {"width": [8, 12], "sign": [0, 1], "exp": [3, 4], "bias": "fit", "rounding": ["rne", "stochastic"], "seed": 3},
  "granularity": ["channel", "tensor", "role"], "metrics": ["mse", "sqnr_db", "max_abs_err"],
  "objectives": [{"column": "mse"}, {"column": "width"}], "selection": {"strategy": "ffp8_paper", "metric": "mse"}})";
const char* kSweepSeed2 = R"({"inputs": [{"file": "data/w.h5", "tensors": ["/weights/conv*"], "role": "weight"}],
  "space": {"width": 8, "sign": 1, "exp": [3, 4, 5], "bias": {"argmin": "mse", "min": -4, "max": 20},
  "rounding": ["rne", "rtz", "stochastic"], "seed": 1}, "granularity": ["channel", "tensor"],
  "metrics": ["mse", "max_abs_err"], "objectives": [{"column": "mse"}, {"column": "max_abs_err"}],
  "selection": {"strategy": "best_by_metric", "metric": "mse"}, "out": "o"})";

TEST(Fuzz, SweepConfigs) {
  fuzz("sweep_config", {kSweepSeed, kSweepSeed2}, kJsonTokens,
       [](const std::string& s) { (void)explore::parse_config(parse_json(s), "/base", "c.json"); });
}

TEST(Fuzz, SetOverrides) {
  const nlohmann::json base = nlohmann::json::parse(kSweepSeed);
  fuzz("set_override", {"space.width=8", "inputs.0.file=x.h5", "space.bias={\"min\": -2, \"max\": 3}", "threads=2",
                        "objectives.1.column=width", "space.exp=[3,4]", "a.b.c=\"s\""},
       {".", "=", "0", "1", "-1", "99999999999999999999", "inputs", "space", "[", "]", "{"},
       [&](const std::string& s) {
         nlohmann::json j = base;
         explore::apply_override(j, s);
       });
}

TEST(Fuzz, EvalConfigs) {
  fuzz("eval_config",
       {R"({"model": "m.h5", "data": "d.h5", "formats": {"weight": "fit:s1e4m3", "activation": "float32"}, "limit": 10,
            "batch": 4, "calib": 8, "rounding": "rne", "saturate": true, "seed": 1, "fold_bn": false})",
        R"({"model": "m.h5", "data": "d.h5", "candidates": [{"name": "a", "formats": {"weight": "int8", "activation":
            "int8"}}, {"name": "b", "formats": {"weight": "e4m3fn", "activation": "fit:auto:e4",
            "overrides": {"fc": {"weight": "float32"}}}}], "per_channel": true, "threads": 2, "out": "o"})"},
       kJsonTokens, [](const std::string& s) { (void)explore::parse_eval_config(parse_json(s), "/base", "c.json"); });
}

TEST(Fuzz, ModelGraphs) {
  using nlohmann::json;
  const json flat = {{"name", "flat"}, {"op", "flatten"}, {"inputs", {"x"}}, {"outputs", {"flat"}}, {"shape", {12}},
                     {"module", "flat"}, {"params", json::object()}, {"attrs", {{"start_dim", 1}, {"end_dim", -1}}}};
  const json fc = {{"name", "fc"}, {"op", "linear"}, {"inputs", {"flat"}}, {"outputs", {"fc"}}, {"shape", {3}},
                   {"module", "fc"}, {"params", {{"weight", "/params/fc/weight"}}}, {"attrs", json::object()}};
  const json conv = {{"name", "c1"}, {"op", "conv2d"}, {"inputs", {"x"}}, {"outputs", {"c1"}}, {"shape", {2, 2, 2}},
                     {"module", "c1"}, {"params", {{"weight", "/params/c1/weight"}}},
                     {"attrs", {{"stride", {1, 1}}, {"padding", {0, 0}}, {"dilation", {1, 1}}, {"groups", 1}}}};
  const json relu = {{"name", "r"}, {"op", "relu"}, {"inputs", {"c1"}}, {"outputs", {"r"}}, {"shape", {2, 2, 2}},
                     {"module", "r"}, {"params", json::object()}, {"attrs", json::object()}};
  const std::vector<std::string> seeds = {
      json{{"inputs", {"x"}}, {"outputs", {"fc"}}, {"nodes", {flat, fc}}}.dump(),
      json{{"inputs", {"x"}}, {"outputs", {"r"}}, {"nodes", {conv, relu}}}.dump()};
  std::vector<std::string> tokens = kJsonTokens;
  for (const char* t : {"\"conv2d\"", "\"linear\"", "\"flatten\"", "\"cat\"", "\"add\"", "\"stride\"", "\"groups\"",
                        "\"padding\"", "\"dim\"", "\"dims\"", "\"x\"", "\"c1\"", "\"fc\""})
    tokens.emplace_back(t);
  // A seed may fail shape inference only if the graph's shapes are wrong; here they are right.
  fuzz("model_graph", seeds, tokens, [](const std::string& s) {
    infer::Model m;
    m.layout = 2;
    m.input_shape = {3, 2, 2};
    infer::parse_graph(s, m, "m.h5");
    // Parameter shapes as read_model loads them (here: those of the seeds' parameters).
    for (infer::Node& n : m.nodes) {
      if (n.weight.path == "/params/fc/weight") n.weight.shape = {3, 12};
      if (n.weight.path == "/params/c1/weight") n.weight.shape = {2, 3, 1, 1};
    }
    std::vector<infer::Shape> shapes{m.input_shape};
    for (const infer::Node& n : m.nodes) {
      std::vector<infer::Shape> in;
      for (int id : n.inputs) in.push_back(shapes.at(static_cast<std::size_t>(id)));
      shapes.push_back(infer::infer_shape(n, in, "m.h5"));
    }
  });
}

}  // namespace
}  // namespace ffp8::fuzz
