// `ffp8 inspect` end to end: statistics against a direct computation, roles, integer datasets,
// the model-file layout header and its version check, and errors.
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/io/h5.hpp"
#include "tests/tools/ffp8/cli_run.hpp"

using ffp8::test::CliTest;
using ffp8::test::expect_error;
namespace h5 = ffp8::h5;

namespace {

class CliInspect : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    file_ = path("m.h5");
    auto f = h5::File::create(file_);
    const float inf = std::numeric_limits<float>::infinity();
    vals_ = {0.0f, -1.5f, 2.0f, 0.0f, 4.0f, NAN, -inf, 3.5f};
    f.create_dataset("/params/fc/weight", {2, 4}, h5::DType::Float32);
    f.write("/params/fc/weight", 0, std::span<const float>(vals_));
    f.create_dataset("/params/fc/bias", {2}, h5::DType::Float64);
    f.create_dataset("/params/bn/mean", {2}, h5::DType::Float32);
    f.set_attr("/params/bn/mean", "role", "bn_mean");
    f.create_dataset("/activations/fc", {3, 4}, h5::DType::Float16);
    f.create_dataset("/other", {1}, h5::DType::Float32);
    f.create_dataset("/labels", {3}, h5::DType::Int);
    f.create_dataset("/empty", {0}, h5::DType::Float32);
    // A chunked tensor bigger than one streaming chunk.
    big_.resize(1100000);
    for (std::size_t i = 0; i < big_.size(); ++i) big_[i] = float(i % 1000) - 250.0f;
    f.create_dataset("/big", {1100, 1000}, h5::DType::Float32);
    f.write("/big", 0, std::span<const float>(big_));
  }
  nlohmann::json tensor(const nlohmann::json& j, const std::string& p) {
    for (const auto& t : j["tensors"])
      if (t["path"] == p) return t;
    ADD_FAILURE() << p << " not listed";
    return {};
  }
  std::string file_;
  std::vector<float> vals_, big_;
};

}  // namespace

TEST_F(CliInspect, JsonListsEveryTensorWithRoleAndStatistics) {
  const auto r = run({"inspect", file_, "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["layout"].is_null());
  std::vector<std::string> paths;
  for (const auto& t : j["tensors"]) paths.push_back(t["path"]);
  EXPECT_EQ(paths, (std::vector<std::string>{"/activations/fc", "/big", "/empty", "/labels", "/other",
                                             "/params/bn/mean", "/params/fc/bias", "/params/fc/weight"}));
  const auto w = tensor(j, "/params/fc/weight");
  EXPECT_EQ(w["shape"], (std::vector<int>{2, 4}));
  EXPECT_EQ(w["dtype"], "float32");
  EXPECT_EQ(w["role"], "weight");
  const auto& s = w["stats"];
  // Finite values: 0, -1.5, 2, 0, 4, 3.5.
  EXPECT_EQ(s["count"], 8);
  EXPECT_EQ(s["min"], -1.5);
  EXPECT_EQ(s["max"], 4.0);
  EXPECT_EQ(s["max_abs"], 4.0);
  EXPECT_DOUBLE_EQ(s["mean"].get<double>(), 8.0 / 6.0);
  double m2 = 0;
  for (double x : {0.0, -1.5, 2.0, 0.0, 4.0, 3.5}) m2 += (x - 8.0 / 6.0) * (x - 8.0 / 6.0);
  EXPECT_DOUBLE_EQ(s["std"].get<double>(), std::sqrt(m2 / 6.0));
  EXPECT_DOUBLE_EQ(s["zero_frac"].get<double>(), 2.0 / 8.0);
  EXPECT_DOUBLE_EQ(s["neg_frac"].get<double>(), 2.0 / 8.0);  // -1.5 and -inf
  EXPECT_EQ(s["nan"], 1);
  EXPECT_EQ(s["inf"], 1);
  EXPECT_EQ(tensor(j, "/params/fc/bias")["role"], "bias");
  EXPECT_EQ(tensor(j, "/params/fc/bias")["dtype"], "float64");
  EXPECT_EQ(tensor(j, "/params/bn/mean")["role"], "bn_mean");  // attribute wins over the path
  EXPECT_EQ(tensor(j, "/activations/fc")["role"], "activation");
  EXPECT_EQ(tensor(j, "/activations/fc")["dtype"], "float16");
  EXPECT_EQ(tensor(j, "/other")["role"], "-");
  const auto labels = tensor(j, "/labels");
  EXPECT_EQ(labels["dtype"], "int64");
  EXPECT_EQ(labels["shape"], std::vector<int>{3});
  EXPECT_TRUE(labels["stats"].is_null());
  EXPECT_EQ(tensor(j, "/empty")["stats"]["count"], 0);
  EXPECT_TRUE(tensor(j, "/empty")["stats"]["min"].is_null());
  // Streamed over two chunks: the statistics of the whole.
  const auto b = tensor(j, "/big")["stats"];
  double mean = 0;
  for (float x : big_) mean += x;
  mean /= double(big_.size());
  double var = 0;
  for (float x : big_) var += (x - mean) * (x - mean);
  EXPECT_EQ(b["min"], -250.0);
  EXPECT_EQ(b["max"], 749.0);
  EXPECT_NEAR(b["mean"].get<double>(), mean, 1e-9 * std::abs(mean));  // summation order differs
  EXPECT_NEAR(b["std"].get<double>(), std::sqrt(var / double(big_.size())), 1e-9 * 288.7);
  EXPECT_DOUBLE_EQ(b["zero_frac"].get<double>(), 0.001);
}

TEST_F(CliInspect, TextListsTensorsOnePerLine) {
  const auto r = run({"inspect", file_});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("tensors  8"), std::string::npos) << r.out;
  for (const char* p : {"/params/fc/weight", "/labels", "/big", "[1100, 1000]", "int64", "bn_mean", "max|x|"})
    EXPECT_NE(r.out.find(p), std::string::npos) << p << " in\n" << r.out;
}

TEST_F(CliInspect, ModelFileShowsItsLayoutFirst) {
  {
    auto f = h5::File::open_rw(file_);
    f.set_attr("/", "ffp8_layout", 1);
    f.set_attr("/", "model_name", "resnet_small");
  }
  const auto r = run({"inspect", file_});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto layout_line = r.out.find("layout   ffp8_layout 1 (model file), model_name 'resnet_small'");
  EXPECT_NE(layout_line, std::string::npos) << r.out;
  EXPECT_LT(layout_line, r.out.find("/params/fc/weight"));
  const auto j = nlohmann::json::parse(run({"inspect", file_, "--json"}).out);
  EXPECT_EQ(j["layout"]["version"], 1);
  EXPECT_EQ(j["layout"]["name"], "resnet_small");
}

TEST_F(CliInspect, UnknownLayoutVersionIsRefused) {
  {
    auto f = h5::File::open_rw(file_);
    f.set_attr("/", "ffp8_layout", 3);
  }
  expect_error(run({"inspect", file_}), "inspect", {"'" + file_ + "'", "ffp8_layout = 3", "layouts 1 to 2"});
  {
    auto f = h5::File::open_rw(file_);
    f.set_attr("/", "ffp8_layout", "1");
  }
  expect_error(run({"inspect", file_}), "inspect", {"ffp8_layout", file_, "expected an integer"});
  {
    auto f = h5::File::create(file_);
    f.set_attr("/", "ffp8_data_layout", 7);
  }
  expect_error(run({"inspect", file_}), "inspect", {"ffp8_data_layout = 7"});
}

TEST_F(CliInspect, Errors) {
  expect_error(run({"inspect", path("missing.h5")}), "inspect", {"cannot open '" + path("missing.h5") + "': no such file"});
  std::ofstream(path("text.h5")) << "hello\n";
  expect_error(run({"inspect", path("text.h5")}), "inspect", {"not an HDF5 file"});
  EXPECT_EQ(run({"inspect"}).rc, 2);
  EXPECT_EQ(run({"inspect", file_, "--bogus"}).rc, 2);
  EXPECT_EQ(run({"inspect", "--help"}).rc, 0);
}
