// Bad input: unknown technology file, malformed or mistyped tables, a format the element
// cannot hold, an unparsable synthesis report. Each is a typed error naming what is at fault.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/errors.hpp"
#include "hwcost/model.hpp"
#include "hwcost/rtl/verilog.hpp"
#include "hwcost/synth/yosys.hpp"
#include "hwcost/tech.hpp"

namespace ffp8::hwcost {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tpl = (std::filesystem::temp_directory_path() / "ffp8-hwerr-XXXXXX").string();
    if (::mkdtemp(tpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = tpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

TEST(BadInput, UnknownTechnologyFile) {
  const std::string m = message_of<IoError>([] { find_tech("/nonexistent/dir/tsmc7.json"); });
  EXPECT_NE(m.find("/nonexistent/dir/tsmc7.json"), std::string::npos) << m;
  EXPECT_THROW(find_tech("no_such_library"), IoError);
}

TEST(BadInput, MalformedJson) {
  TempDir d;
  const auto p = d.write("broken.json", "{\"name\": \"x\", \"ge_um2\": ");
  const std::string m = message_of<ConfigError>([&] { load_tech(p); });
  EXPECT_NE(m.find("broken.json"), std::string::npos) << m;
  EXPECT_NE(m.find("not valid JSON"), std::string::npos) << m;
}

TEST(BadInput, UnknownMissingAndMistypedKeys) {
  nlohmann::json good = to_json(find_tech("osu018"));
  auto typo = good;
  typo["ge_um"] = 1.0;
  EXPECT_NE(message_of<ConfigError>([&] { tech_from_json(typo, "t.json"); }).find("/ge_um"), std::string::npos);
  auto coef = good;
  coef["coefficients_ge"]["mult_cel"] = 1.0;
  EXPECT_NE(message_of<ConfigError>([&] { tech_from_json(coef, "t.json"); }).find("mult_cel"), std::string::npos);
  auto missing = good;
  missing.erase("gate_delay_ns");
  EXPECT_NE(message_of<ConfigError>([&] { tech_from_json(missing, "t.json"); }).find("gate_delay_ns"),
            std::string::npos);
  auto text = good;
  text["ge_um2"] = "24";
  EXPECT_THROW(tech_from_json(text, "t.json"), ConfigError);
  auto negative = good;
  negative["coefficients_ge"]["adder_bit"] = -1.0;
  EXPECT_THROW(tech_from_json(negative, "t.json"), ConfigError);
  EXPECT_THROW(tech_from_json(nlohmann::json::array(), "t.json"), ConfigError);
}

TEST(BadInput, FormatTheFlexibleElementCannotHold) {
  PeSpec s;
  s.flexible = true;
  s.weight = Format::parse("s1e6m1b31");  // exponent wider than the element's 2..5
  s.accumulator = Accumulator::Kulisch;
  const Cost c = evaluate(s, find_tech("osu018"));
  EXPECT_FALSE(c.feasible);
  EXPECT_NE(c.reason.find("weight format s1e6m1b31"), std::string::npos) << c.reason;
  EXPECT_THROW(generate_verilog(s), ConfigError);
}

TEST(BadInput, MembersThePeCannotBuildAreRefused) {
  for (const auto& [spec, why] : std::vector<std::pair<std::string, std::string>>{
           {"i8b6-sym", "integer element"}, {"e8m0", "no zero"}, {"p3109_k8p3se", "-inf"}, {"s1e0m7b0", "exp 0"}}) {
    const PeSpec s = PeSpec::fixed(spec, "e4m3fn", Accumulator::Fp32);
    const Cost c = evaluate(s, find_tech("osu018"));
    EXPECT_FALSE(c.feasible) << spec;
    EXPECT_NE(c.reason.find("weight format " + Format::parse(spec).name()), std::string::npos) << c.reason;
    EXPECT_NE(c.reason.find(why), std::string::npos) << c.reason;
    const std::string msg = message_of<ConfigError>([&] { generate_verilog(s); });
    EXPECT_NE(msg.find("cannot generate RTL"), std::string::npos) << msg;
  }
  EXPECT_TRUE(evaluate(PeSpec::int8(), find_tech("osu018")).feasible);  // integers: the INT8 reference PE
}

TEST(BadInput, SynthesisReportWithoutArea) {
  EXPECT_THROW(parse_stat("=== pe ===\n   Number of cells: 12\n", "pe"), DataError);
  EXPECT_THROW(parse_stat("nothing here", "pe"), DataError);
  const SynthResult r = parse_stat(
      "=== pe ===\n\n   Number of wires: 3\n   Number of cells:                  3\n     NAND2X1   2\n"
      "     DFFPOSX1   1\n\n   Chip area for module '\\pe': 144.000000\n",
      "pe");
  EXPECT_EQ(r.cell_count, 3);
  EXPECT_EQ(r.cells.at("NAND2X1"), 2);
  EXPECT_EQ(r.cells.at("DFFPOSX1"), 1);
  EXPECT_DOUBLE_EQ(r.area_um2, 144.0);
}

TEST(BadInput, MissingLibertyFile) {
  SynthOptions o;
  o.liberty = "/nonexistent/cells.lib";
  PeSpec s;
  EXPECT_THROW(synthesize(generate_verilog(s), o), IoError);
}

}  // namespace
}  // namespace ffp8::hwcost
