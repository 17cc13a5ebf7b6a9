// Config loading: the minimal config (docs/sweep.md), errors naming the JSON path, overrides,
// input resolution errors and the config hash.
#include <fstream>
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "explore/config/config.hpp"
#include "explore/sweep/source.hpp"
#include "tests/explore/test_util.hpp"

using namespace ffp8;
using namespace ffp8::explore;
using nlohmann::json;

namespace {

json minimal() {
  return json::parse(R"({
    "inputs": [
      {"file": "w.h5", "tensors": ["/weights/*"], "role": "weight"},
      {"file": "a.h5", "tensors": ["/activations/*"], "role": "activation"}
    ],
    "space": {"width": 8, "sign": [0, 1], "exp": [2, 3, 4, 5], "bias": {"min": -8, "max": 24},
              "specials": ["none"], "subnormals": [true], "rounding": ["rne"]},
    "granularity": "tensor",
    "metrics": ["mse", "sqnr_db"],
    "objectives": [{"column": "mse", "goal": "min"}, {"column": "exp", "goal": "min"}],
    "out": "results/example"
  })");
}

/// The message of the ConfigError parsing `j` throws ("" if none).
std::string error_of(const json& j) {
  try {
    parse_config(j, ".");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

json with(json j, const std::string& assignment) {
  apply_override(j, assignment);
  return j;
}

}  // namespace

TEST(Config, MinimalConfigParses) {
  const SweepConfig c = parse_config(minimal(), "/data");
  ASSERT_EQ(c.inputs.size(), 2u);
  EXPECT_EQ(c.inputs[0].file, std::filesystem::path("/data/w.h5"));
  EXPECT_EQ(c.inputs[1].role, "activation");
  EXPECT_EQ(c.space.bias.kind, BiasSpec::Kind::Range);
  EXPECT_EQ(c.space.bias.min, -8);
  EXPECT_EQ(c.space.bias.max, 24);
  EXPECT_EQ(c.objectives.size(), 2u);
  EXPECT_EQ(c.out, "/data/results/example");  // relative to the config's folder
  EXPECT_TRUE(c.out_given);
  json no_out = minimal();
  no_out.erase("out");
  EXPECT_EQ(parse_config(no_out, "/data", "/data/cfg.json").out, "/data/cfg");  // beside the config
  EXPECT_FALSE(parse_config(no_out, "/data", "/data/cfg.json").out_given);
  // The pinned columns are always computed.
  for (Metric m : {Metric::Mse, Metric::SqnrDb, Metric::MaxAbsErr, Metric::OverflowFrac, Metric::UnderflowFrac})
    EXPECT_NE(std::find(c.metrics.begin(), c.metrics.end(), m), c.metrics.end()) << info(m).name;
}

TEST(Config, BiasForms) {
  EXPECT_EQ(parse_config(with(minimal(), "space.bias=fit"), ".").space.bias.kind, BiasSpec::Kind::Fit);
  const auto p = parse_config(with(minimal(), R"(space.bias={"percentile": 99.9})"), ".").space.bias;
  EXPECT_EQ(p.kind, BiasSpec::Kind::Percentile);
  EXPECT_DOUBLE_EQ(p.percentile, 99.9);
  const auto a = parse_config(with(minimal(), R"(space.bias={"argmin": "max_abs_err", "min": 0, "max": 9})"), ".").space.bias;
  EXPECT_EQ(a.kind, BiasSpec::Kind::Argmin);
  EXPECT_EQ(a.argmin, Metric::MaxAbsErr);
  EXPECT_EQ(parse_config(with(minimal(), "space.bias=[1,5,7]"), ".").space.bias.list, (std::vector<int>{1, 5, 7}));
}

TEST(Config, ErrorsNameTheJsonPath) {
  EXPECT_EQ(error_of(with(minimal(), "space.bias.min=x")), "/space/bias/min: expected an integer, got \"x\"");
  EXPECT_NE(error_of(with(minimal(), "colour=1")).find("/colour: unknown key \"colour\""), std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "space.exponent=3")).find("/space/exponent: unknown key"), std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "inputs.1.rol=x")).find("/inputs/1/rol: unknown key"), std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "space.rounding=[\"rne\",\"up\"]")).find("/space/rounding/1: rounding 'up'"),
            std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "space.constraints.exclude=[\"s1e4m3b7\",\"s9e4\"]"))
                .find("/space/constraints/exclude/1: format name 's9e4'"),
            std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "metrics=[\"mse\",\"psnr\"]")).find("/metrics/1: unknown metric \"psnr\""),
            std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "objectives.0.column=colour")).find("/objectives/0/column"), std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "objectives.1.goal=up")).find("/objectives/1/goal: \"up\" is not one of min, max"),
            std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "space.exp=[2,9]")).find("/space/exp/1: 9 is out of range [1, 8]"),
            std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "space.bias.max=-9")).find("/space/bias/max: max -9 is below min -8"),
            std::string::npos);
  EXPECT_NE(error_of(with(minimal(), "granularity=layer")).find("/granularity: \"layer\" is not one of"),
            std::string::npos);
  json no_inputs = minimal();
  no_inputs.erase("inputs");
  EXPECT_EQ(error_of(no_inputs), "/: missing key \"inputs\"");
}

TEST(Config, OverridesParseJsonElseString) {
  json j = minimal();
  apply_override(j, "space.bias.min=3");
  apply_override(j, "out=results/other");
  apply_override(j, "space.rounding=[\"rna\", \"rtz\"]");
  apply_override(j, "inputs.0.file=x.h5");
  EXPECT_EQ(j["space"]["bias"]["min"], 3);
  EXPECT_EQ(j["out"], "results/other");
  EXPECT_EQ(j["space"]["rounding"].size(), 2u);
  EXPECT_EQ(j["inputs"][0]["file"], "x.h5");
  EXPECT_THROW(apply_override(j, "inputs.7.file=x"), ConfigError);
  EXPECT_THROW(apply_override(j, "novalue"), ConfigError);
  const SweepConfig c = parse_config(j, ".");
  EXPECT_EQ(c.effective["space"]["bias"]["min"], 3);  // the config as run is the overridden one
}

TEST(Config, HashIsCanonical) {
  const json a = json::parse(R"({"b": 1, "a": [1, 2]})");
  const json b = json::parse(R"({"a": [1, 2], "b": 1})");
  EXPECT_EQ(config_hash(a), config_hash(b));
  EXPECT_NE(config_hash(a), config_hash(with(a, "b=2")));
  EXPECT_EQ(config_hash(a).size(), 16u);
}

TEST(Config, LoadNamesTheFile) {
  const auto dir = test::scratch("config_load");
  std::ofstream(dir / "bad.json") << "{\"inputs\": [}";
  try {
    load_config(dir / "bad.json");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json: not valid JSON"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "typo.json") << minimal().dump();
  try {
    load_config(dir / "typo.json", {"space.bias.mn=1"});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("typo.json: /space/bias/mn: unknown key"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_config(dir / "missing.json"), IoError);
}

TEST(Config, InputErrorsNameTheJsonPath) {
  const auto dir = test::scratch("config_inputs");
  test::write_h5(dir / "w.h5", {{"/weights/a", {4}, {1, 2, 3, 4}}, {"/weights/b", {2, 2}, {1, -2, 3, 4}}});
  json j = minimal();
  j["inputs"] = json::parse(R"([{"file": "w.h5", "tensors": ["/weights/*"], "role": "weight"}])");
  EXPECT_EQ(open_inputs(parse_config(j, dir)).size(), 2u);
  auto message = [&](const json& k) {
    try {
      open_inputs(parse_config(k, dir));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message(with(j, "inputs.0.file=nope.h5")).find("/inputs/0/file: file"), std::string::npos);
  EXPECT_NE(message(with(j, "inputs.0.tensors=[\"/weights/*\", \"/weights/c\"]")).find("/inputs/0/tensors/1: no dataset"),
            std::string::npos);
  EXPECT_NE(message(with(j, "inputs.0.tensors=[\"/act/*\"]")).find("/inputs/0/tensors/0: no dataset in"),
            std::string::npos);
}
