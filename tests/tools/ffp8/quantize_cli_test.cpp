// `ffp8 quantize` end to end: output equals Quantizer on the same data, streaming over several
// chunks, thread-independent stochastic rounding, existing outputs kept, and every error.
#include <cmath>
#include <filesystem>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/format/format.hpp"
#include "core/io/h5.hpp"
#include "core/quant/quantize.hpp"
#include "core/scheme/scheme_quantizer.hpp"
#include "tests/tools/ffp8/cli_run.hpp"

using ffp8::test::CliTest;
using ffp8::test::expect_error;
using ffp8::test::slurp;
namespace h5 = ffp8::h5;

namespace {

// Values spread over many binades, both signs, some exact zeros and values past e4m3's max.
std::vector<float> data(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float s = std::sin(float(i) * 0.37f);
    v[i] = (i % 101 == 0) ? 0.0f : s * std::ldexp(1.0f, int(i % 23) - 12);
  }
  return v;
}

std::vector<float> read_all(const std::string& file, const std::string& ds) {
  const auto f = h5::File::open(file);
  std::vector<float> v(f.info(ds).size());
  f.read(ds, 0, std::span<float>(v));
  return v;
}

// "underflow    12": a line of the text summary, without the percentage.
std::string fmt_count(const std::string& key, std::uint64_t v) {
  return key + std::string(13 - key.size(), ' ') + std::to_string(v);
}

// Bitwise equality, NaN included.
::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes " << a.size() << " vs " << b.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
  }
  return ::testing::AssertionSuccess();
}

class CliQuantize : public CliTest {
 protected:
  // A file with float16/32/64 tensors (the float32 one spans two streaming chunks) and bad inputs.
  void SetUp() override {
    CliTest::SetUp();
    in_ = path("in.h5");
    auto f = h5::File::create(in_);
    big_ = data(3 * 700 * 600);
    f.create_dataset("/params/conv1/weight", {3, 700, 600}, h5::DType::Float32);
    f.write("/params/conv1/weight", 0, std::span<const float>(big_));
    f.set_attr("/params/conv1/weight", "role", "weight");
    small_ = data(2 * 3 * 5 * 7);
    f.create_dataset("/f64", {2, 3, 5, 7}, h5::DType::Float64);
    std::vector<double> d(small_.begin(), small_.end());
    for (auto& x : d) x *= 1.0 + 0x1p-40;  // not float32 values: the exact double path matters
    small64_ = d;
    f.write("/f64", 0, std::span<const double>(d));
    f.create_dataset("/f16", {210}, h5::DType::Float16);
    half_.assign(210, 0.0f);
    for (std::size_t i = 0; i < half_.size(); ++i) half_[i] = float(int(i) - 105) * 0.125f;  // exact in binary16
    f.write("/f16", 0, std::span<const float>(half_));
    f.create_dataset("/scalar", {}, h5::DType::Float32);
    const float one = 1.3f;
    f.write("/scalar", 0, std::span<const float>(&one, 1));
    f.create_dataset("/labels", {4}, h5::DType::Int);
    f.create_dataset("/empty", {0, 3}, h5::DType::Float32);
    f.create_dataset("/nan", {5}, h5::DType::Float32);
    const std::vector<float> nan = {1.0f, NAN, 2.0f, NAN, NAN};
    f.write("/nan", 0, std::span<const float>(nan));
  }
  std::string in_;
  std::vector<float> big_, small_, half_;
  std::vector<double> small64_;
};

}  // namespace

TEST_F(CliQuantize, OutputEqualsQuantizerOnTheSameData) {
  for (const std::string rounding : {"rne", "rna", "rtz", "stochastic"}) {
    for (const std::string spec : {"e4m3fn", "s0e4m4b10", "s1e3m4b-2-nosub"}) {
      const std::string out = path("out.h5");
      const auto r = run({"quantize", "--format", spec, "--rounding", rounding, "--seed", "42",
                          in_ + ":/params/conv1/weight", out + ":/q"});
      ASSERT_EQ(r.rc, 0) << r.err;
      EXPECT_EQ(r.err, "");
      ffp8::QuantOptions o;
      o.rounding = ffp8::parse_rounding(rounding);
      o.seed = 42;
      const ffp8::Quantizer q(ffp8::Format::parse(spec), o);
      std::vector<float> expect(big_.size());
      const auto counts = q.quantize(std::span<const float>(big_), std::span<float>(expect));
      EXPECT_TRUE(same_bits(read_all(out, "/q"), expect)) << spec << " " << rounding;
      EXPECT_EQ(h5::File::open(out).info("/q").shape, (std::vector<std::uint64_t>{3, 700, 600}));
      EXPECT_NE(r.out.find("count        1260000"), std::string::npos) << r.out;
      EXPECT_NE(r.out.find(fmt_count("underflow", counts.underflow)), std::string::npos) << r.out;
    }
  }
}

TEST_F(CliQuantize, Float64UsesTheExactPathAndFloat16IsRead) {
  const std::string out = path("o.h5");
  ASSERT_EQ(run({"quantize", "--format", "e4m3fn", in_ + ":/f64", out + ":/q64"}).rc, 0);
  const ffp8::Quantizer q(ffp8::Format::parse("e4m3fn"));
  std::vector<double> expect(small64_.size());
  q.quantize(std::span<const double>(small64_), std::span<double>(expect));
  const auto got = read_all(out, "/q64");
  ASSERT_EQ(got.size(), expect.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(double(got[i]), expect[i]) << i;

  ASSERT_EQ(run({"quantize", "--format", "s1e2m1b1", in_ + ":/f16", out + ":/q16"}).rc, 0);
  const ffp8::Quantizer q2(ffp8::Format::parse("s1e2m1b1"));
  std::vector<float> e16(half_.size());
  q2.quantize(std::span<const float>(half_), std::span<float>(e16));
  EXPECT_TRUE(same_bits(read_all(out, "/q16"), e16));

  ASSERT_EQ(run({"quantize", "--format", "e4m3fn", in_ + ":/scalar", out + ":/s"}).rc, 0);
  EXPECT_TRUE(h5::File::open(out).info("/s").shape.empty());
  EXPECT_EQ(read_all(out, "/s"), std::vector<float>{1.25f});
}

TEST_F(CliQuantize, EveryFloat32FormatIsAcceptedAndFloat64HoldsTheRest) {
  // Values in float32's subnormal range are float32 numbers; integers and -nz formats take the
  // exact path. All equal the scalar quantizer bit for bit.
  for (const std::string spec : {"s1e4m3b128", "s0e8m0b128-fn-nz", "e8m0", "i8b6-sym", "u4b2", "p3109_k8p3se"}) {
    const std::string out = path("o.h5");
    const auto r = run({"quantize", "--format", spec, in_ + ":/f16", out + ":/q"});
    ASSERT_EQ(r.rc, 0) << spec << ": " << r.err;
    const ffp8::Quantizer q(ffp8::Format::parse(spec));
    std::vector<float> expect(half_.size());
    for (std::size_t i = 0; i < half_.size(); ++i) expect[i] = static_cast<float>(q.round(half_[i]).value);
    EXPECT_TRUE(same_bits(read_all(out, "/q"), expect)) << spec;
  }
  // Beyond float32: --out-dtype float64 writes the exact double values.
  const std::string out = path("o64.h5");
  const auto r = run({"quantize", "--format", "s1e8m7b127", "--out-dtype", "float64", "--json", in_ + ":/f64", out + ":/q"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["output_dtype"], "float64");
  const auto f = h5::File::open(out);
  EXPECT_EQ(f.info("/q").dtype, h5::DType::Float64);
  std::vector<double> got(f.info("/q").size());
  f.read("/q", 0, std::span<double>(got));
  const ffp8::Quantizer q(ffp8::Format::parse("s1e8m7b127"));
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], q.round(small64_[i]).value) << i;
  EXPECT_EQ(run({"quantize", "--format", "e4m3fn", "--out-dtype", "float16", in_ + ":/f16", out + ":/q"}).rc, 2);
}

TEST_F(CliQuantize, NoSaturateOverflowsLikeTheQuantizer) {
  for (const std::string spec : {"s1e2m1b1-ieee", "s1e2m1b1-fn", "s1e2m1b1"}) {
    const std::string out = path("o.h5");
    const auto r = run({"quantize", "--format", spec, "--no-saturate", in_ + ":/f16", out + ":/q"});
    ASSERT_EQ(r.rc, 0) << r.err;
    ffp8::QuantOptions o;
    o.saturate = false;
    const ffp8::Quantizer q(ffp8::Format::parse(spec), o);
    std::vector<float> e(half_.size());
    const auto c = q.quantize(std::span<const float>(half_), std::span<float>(e));
    EXPECT_GT(c.overflow, 0u);
    EXPECT_TRUE(same_bits(read_all(out, "/q"), e)) << spec;
    EXPECT_EQ(h5::File::open(out).get_int_attr("/q", "ffp8_saturate"), 0);
  }
}

TEST_F(CliQuantize, StochasticRoundingIsTheSameForAnyThreadCount) {
  std::vector<float> first;
  for (const std::string threads : {"1", "2", "3"}) {
    const std::string out = path("t" + threads + ".h5");
    const auto r = run({"quantize", "--format", "s1e4m3b7", "--rounding", "stochastic", "--seed", "7", "--threads",
                        threads, in_ + ":/params/conv1/weight", out + ":/q"});
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto got = read_all(out, "/q");
    if (first.empty()) {
      first = got;
    } else {
      EXPECT_TRUE(same_bits(got, first)) << "threads " << threads;
    }
  }
  // A different seed gives a different stream (the test would pass vacuously otherwise).
  ASSERT_EQ(run({"quantize", "--format", "s1e4m3b7", "--rounding", "stochastic", "--seed", "8",
                 in_ + ":/params/conv1/weight", path("s8.h5") + ":/q"}).rc, 0);
  EXPECT_FALSE(same_bits(read_all(path("s8.h5"), "/q"), first));
}

TEST_F(CliQuantize, JsonSummaryCountsMatchTheQuantizer) {
  const auto r = run({"quantize", "--format", "s0e3m4b2", "--json", in_ + ":/params/conv1/weight", path("o.h5") + ":/q"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const ffp8::Quantizer q(ffp8::Format::parse("s0e3m4b2"));
  std::vector<float> qv(big_.size());
  const auto c = q.quantize(std::span<const float>(big_), std::span<float>(qv));
  EXPECT_EQ(j["count"], big_.size());
  EXPECT_EQ(j["nan"], 0);
  EXPECT_EQ(j["overflow"], c.overflow);
  EXPECT_EQ(j["underflow"], c.underflow);
  EXPECT_EQ(j["neg_clipped"], c.neg_clipped);
  EXPECT_GT(c.overflow, 0u);
  EXPECT_GT(c.neg_clipped, 0u);
  double se = 0, sx = 0;
  for (std::size_t i = 0; i < big_.size(); ++i) {
    const double e = double(qv[i]) - double(big_[i]);
    se += e * e;
    sx += double(big_[i]) * double(big_[i]);
  }
  EXPECT_NEAR(j["mse"].get<double>(), se / double(big_.size()), 1e-12 * se / double(big_.size()) + 1e-300);
  EXPECT_NEAR(j["sqnr_db"].get<double>(), 10 * std::log10(sx / se), 1e-9);
  EXPECT_EQ(j["format"], "s0e3m4b2");
}

// Uncompressed by default (the file holds every float32 of the output); --compress deflates the
// same values; --json tells which and splits the time into read, quantize and write.
TEST_F(CliQuantize, OutputIsUncompressedUnlessAskedAndJsonSplitsTheTime) {
  const std::string plain = path("plain.h5"), packed = path("packed.h5");
  const auto a = run({"quantize", "--format", "e4m3fn", "--json", in_ + ":/params/conv1/weight", plain + ":/q"});
  ASSERT_EQ(a.rc, 0) << a.err;
  const auto b = run({"quantize", "--format", "e4m3fn", "--json", "--compress", in_ + ":/params/conv1/weight", packed + ":/q"});
  ASSERT_EQ(b.rc, 0) << b.err;
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(ja["compressed"], false);
  EXPECT_EQ(jb["compressed"], true);
  for (const char* k : {"read", "quantize", "write"}) {
    EXPECT_GE(ja["seconds"][k].get<double>(), 0.0) << k;
    EXPECT_GE(jb["seconds"][k].get<double>(), 0.0) << k;
  }
  EXPECT_NEAR(ja["seconds"]["total"].get<double>(),
              ja["seconds"]["read"].get<double>() + ja["seconds"]["quantize"].get<double>() + ja["seconds"]["write"].get<double>(),
              1e-9);
  EXPECT_GE(std::filesystem::file_size(plain), 4 * big_.size());
  EXPECT_LT(std::filesystem::file_size(packed), std::filesystem::file_size(plain) / 2);
  EXPECT_TRUE(same_bits(read_all(plain, "/q"), read_all(packed, "/q")));
  const auto t = run({"quantize", "--format", "e4m3fn", in_ + ":/params/conv1/weight", path("t.h5") + ":/q"});
  ASSERT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.out.find("seconds      read "), std::string::npos) << t.out;
}

TEST_F(CliQuantize, ExistingOutputKeepsItsOtherDatasets) {
  const std::string out = path("out.h5");
  {
    auto f = h5::File::create(out);
    f.create_dataset("/keep/me", {2}, h5::DType::Float32);
    const std::vector<float> v = {5, 6};
    f.write("/keep/me", 0, std::span<const float>(v));
    f.set_attr("/", "note", "kept");
  }
  ASSERT_EQ(run({"quantize", "--format", "e4m3fn", in_ + ":/f16", out + ":/q"}).rc, 0);
  // Quantizing again into the same path replaces that dataset only.
  ASSERT_EQ(run({"quantize", "--format", "s1e2m1b1", in_ + ":/f16", out + ":/q"}).rc, 0);
  const auto f = h5::File::open(out);
  EXPECT_EQ(read_all(out, "/keep/me"), (std::vector<float>{5, 6}));
  EXPECT_EQ(f.get_string_attr("/", "note"), "kept");
  EXPECT_EQ(f.get_string_attr("/q", "ffp8_format"), "s1e2m1b1");
  const ffp8::Quantizer q(ffp8::Format::parse("s1e2m1b1"));
  std::vector<float> e(half_.size());
  q.quantize(std::span<const float>(half_), std::span<float>(e));
  EXPECT_TRUE(same_bits(read_all(out, "/q"), e));
  EXPECT_EQ(files(), (std::vector<std::string>{"in.h5", "out.h5"}));  // no temp files left
}

TEST_F(CliQuantize, InputFileCanAlsoBeTheOutput) {
  ASSERT_EQ(run({"quantize", "--format", "e4m3fn", in_ + ":/f16", in_ + ":/f16q"}).rc, 0);
  EXPECT_EQ(read_all(in_, "/f16"), half_);
  EXPECT_EQ(h5::File::open(in_).get_string_attr("/f16q", "ffp8_source"), in_ + ":/f16");
  // In place is refused: the input dataset would be destroyed.
  expect_error(run({"quantize", "--format", "s1e2m1b1", in_ + ":/f16", in_ + ":/f16"}), "quantize",
               {"is the input dataset", "refusing"});
  EXPECT_EQ(h5::File::open(in_).info("/f16").dtype, h5::DType::Float16);
}

TEST_F(CliQuantize, BadInputIsAOneLineErrorAndWritesNothing) {
  const std::string out = path("out.h5");
  const std::string ds = out + ":/q";
  expect_error(run({"quantize", "--format", "e4m3fm", in_ + ":/f16", ds}), "quantize", {"'e4m3fm'"});
  expect_error(run({"quantize", "--format", "s0e4m3b7-fnuz", in_ + ":/f16", ds}), "quantize", {"s0e4m3b7-fnuz"});
  expect_error(run({"quantize", "--format", "s1e4m12b7", in_ + ":/f16", ds}), "quantize", {"s1e4m12b7"});
  expect_error(run({"quantize", "--format", "e4m3fn", path("missing.h5") + ":/w", ds}), "quantize",
               {"cannot open '" + path("missing.h5") + "': no such file"});
  expect_error(run({"quantize", "--format", "e4m3fn", in_ + ":/nope", ds}), "quantize",
               {"dataset '/nope' not found in '" + in_ + "'"});
  expect_error(run({"quantize", "--format", "e4m3fn", in_ + ":/labels", ds}), "quantize",
               {"dataset '/labels' in '" + in_ + "' has integer type; expected float16, float32 or float64"});
  expect_error(run({"quantize", "--format", "e4m3fn", in_ + ":/empty", ds}), "quantize",
               {"dataset '/empty' in '" + in_ + "' is empty"});
  expect_error(run({"quantize", "--format", "e4m3fn", in_ + ":/params", ds}), "quantize", {"'/params'", "group"});
  expect_error(run({"quantize", "--format", "s1e4m3b7", in_ + ":/nan", ds}), "quantize",
               {"dataset '/nan' in '" + in_ + "' has 3 NaN values", "'s1e4m3b7'", "no NaN"});
  expect_error(run({"quantize", "--format", "s1e8m7b127", in_ + ":/f16", ds}), "quantize",
               {"'s1e8m7b127'", "float32"});
  expect_error(run({"quantize", "--format", "e4m3fn", in_ + ":/f16", path("nodir/o.h5") + ":/q"}), "quantize",
               {"folder '" + path("nodir") + "' does not exist"});
  EXPECT_EQ(files(), std::vector<std::string>{"in.h5"});
}

TEST_F(CliQuantize, FailureLeavesAnExistingOutputUntouched) {
  const std::string out = path("out.h5");
  ASSERT_EQ(run({"quantize", "--format", "e4m3fn", in_ + ":/f16", out + ":/q"}).rc, 0);
  const std::string before = slurp(out);
  expect_error(run({"quantize", "--format", "s1e4m3b7", in_ + ":/nan", out + ":/q"}), "quantize", {"NaN"});
  expect_error(run({"quantize", "--format", "s1e4m3b7", in_ + ":/nan", out + ":/other"}), "quantize", {"NaN"});
  EXPECT_EQ(slurp(out), before);
  EXPECT_EQ(files(), (std::vector<std::string>{"in.h5", "out.h5"}));
  // A NaN-capable format takes NaN through.
  ASSERT_EQ(run({"quantize", "--format", "e4m3fn", in_ + ":/nan", out + ":/n"}).rc, 0);
  const auto n = read_all(out, "/n");
  EXPECT_EQ(n[0], 1.0f);
  EXPECT_TRUE(std::isnan(n[1]));
}

TEST_F(CliQuantize, UsageErrorsExitTwo) {
  const std::string ds = path("o.h5") + ":/q";
  const std::vector<std::vector<std::string>> bad = {
      {"quantize"},
      {"quantize", in_ + ":/f16", ds},                                     // no --format
      {"quantize", "--format", "e4m3fn", in_ + ":/f16"},                   // no output
      {"quantize", "--format", "e4m3fn", in_, ds},                         // no :/dataset
      {"quantize", "--format", "e4m3fn", "--rounding", "up", in_ + ":/f16", ds},
      {"quantize", "--format", "e4m3fn", "--seed", "x1", in_ + ":/f16", ds},
      {"quantize", "--format", "e4m3fn", "--threads", "-1", in_ + ":/f16", ds},
      {"quantize", "--format", "e4m3fn", "--bogus", in_ + ":/f16", ds},
      {"quantize", "--format", "e4m3fn", in_ + ":/f16", ds, "extra"},
  };
  for (const auto& args : bad) {
    const auto r = run(args);
    EXPECT_EQ(r.rc, 2) << args.size() << ": " << r.err;
    EXPECT_EQ(r.err.rfind("ffp8 quantize: ", 0), 0u) << r.err;
  }
  EXPECT_EQ(files(), std::vector<std::string>{"in.h5"});
  const auto h = run({"quantize", "--help"});
  EXPECT_EQ(h.rc, 0);
  EXPECT_NE(h.out.find("--rounding"), std::string::npos);
}

TEST_F(CliQuantize, ScaledFormatsEqualTheSchemeQuantizerAcrossChunks) {
  // [3, 700, 600]: whole outer indices per streamed chunk (two chunks), blocks along axis 1
  // (strided) or 2 (--axis), stochastic rounding keyed by the global index.
  const std::vector<std::int64_t> shape = {3, 700, 600};
  for (const std::string spec : {"mxfp8_e4m3", "mxfp4", "nvfp4", "e4m3fn/block32:e8m0:fit", "i8-sym/channel:f32:amax"})
    for (const std::string axis : {"", "2"})
      for (const std::string rounding : {"rne", "stochastic"}) {
        const ffp8::Scheme s = ffp8::Scheme::parse(spec);
        if (!axis.empty() && s.grouping != ffp8::Grouping::Block) continue;
        const std::string out = path("out.h5");
        std::vector<std::string> args = {"quantize", "--format", spec, "--rounding", rounding, "--seed", "5", "--json",
                                         in_ + ":/params/conv1/weight", out + ":/q"};
        if (!axis.empty()) args.insert(args.begin() + 1, {"--axis", axis});
        const auto r = run(args);
        ASSERT_EQ(r.rc, 0) << r.err;
        ffp8::QuantOptions o;
        o.rounding = ffp8::parse_rounding(rounding);
        o.seed = 5;
        const ffp8::SchemeQuantizer q(s, o);
        const auto layout = ffp8::GroupLayout::for_shape(
            shape, axis.empty() ? std::optional<int>() : std::optional<int>(std::stoi(axis)));
        std::vector<float> expect(big_.size());
        const auto counts = q.quantize(std::span<const float>(big_), std::span<float>(expect), layout);
        EXPECT_TRUE(same_bits(read_all(out, "/q"), expect)) << spec << " axis " << axis << " " << rounding;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j["format"], s.name());
        EXPECT_EQ(j["overflow"], counts.overflow) << spec;
        EXPECT_EQ(j["underflow"], counts.underflow) << spec;
        EXPECT_EQ(j["effective_bits"], ffp8::effective_bits(s, layout)) << spec;
        if (s.grouping == ffp8::Grouping::Block) {
          EXPECT_EQ(j["axis"], axis.empty() ? 1 : 2);
        }
        const auto f = h5::File::open(out);
        EXPECT_EQ(f.get_string_attr("/q", "ffp8_format"), s.name());
      }
}

TEST_F(CliQuantize, BadScaledInputIsAOneLineErrorAndWritesNothing) {
  const std::string ds = path("out.h5") + ":/q";
  // [2, 3, 5, 7]: axis 1 holds 3 values, axis 3 holds 7.
  expect_error(run({"quantize", "--format", "mxfp8_e4m3", in_ + ":/f64", ds}), "quantize",
               {"dataset '/f64'", "block size 32 of s1e4m3b7-fn/block32:e8m0:floor is beyond the axis: axis 1 of "
                                  "shape [2, 3, 5, 7] has 3 values"});
  expect_error(run({"quantize", "--format", "e4m3fn/block8:e8m0:fit", "--axis", "3", in_ + ":/f64", ds}), "quantize",
               {"block size 8", "axis 3 of shape [2, 3, 5, 7] has 7 values"});
  expect_error(run({"quantize", "--format", "e4m3fn/block2:e8m0:fit", "--axis", "4", in_ + ":/f64", ds}), "quantize",
               {"axis 4 is out of range for a tensor of rank 4"});
  expect_error(run({"quantize", "--format", "e4m3fn/block0:e8m0:fit", in_ + ":/f64", ds}), "quantize",
               {"'e4m3fn/block0:e8m0:fit'", "block size 0"});
  expect_error(run({"quantize", "--format", "e4m3fn/block32:f32:floor", in_ + ":/f64", ds}), "quantize",
               {"'e4m3fn/block32:f32:floor'", "does not apply to the scale format f32"});
  expect_error(run({"quantize", "--format", "e4m3fn/blk32:e8m0:floor", in_ + ":/f64", ds}), "quantize",
               {"'e4m3fn/blk32:e8m0:floor'", "malformed"});
  expect_error(run({"quantize", "--format", "s1e4m3b7/block2:e8m0:fit", in_ + ":/nan", ds}), "quantize",
               {"NaN"});
  EXPECT_EQ(files(), std::vector<std::string>{"in.h5"});
  const auto r = run({"quantize", "--format", "e4m3fn", "--axis", "1", in_ + ":/f64", ds});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--axis applies to block-scaled formats"), std::string::npos) << r.err;
}
