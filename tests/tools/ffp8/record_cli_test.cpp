// `ffp8 record` end to end: the recorded values are exactly what the engine's tap delivers and
// what a sweep's model input reads (explore/sweep/model_source) at the same batch; the layout's
// attributes; --tensors; bad input is one sentence, exit 1, and writes nothing.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "core/infer/data.hpp"
#include "core/infer/engine.hpp"
#include "core/infer/model.hpp"
#include "core/io/h5.hpp"
#include "explore/config/config.hpp"
#include "explore/sweep/model_source.hpp"
#include "tests/tools/ffp8/cli_run.hpp"

using ffp8::test::CliTest;
using ffp8::test::expect_error;
namespace h5 = ffp8::h5;
namespace infer = ffp8::infer;

namespace {

const std::string kModel = std::string(FFP8_SOURCE_DIR) + "/experiments/models/resnet_small.h5";
constexpr std::int64_t kImages = 10;

std::vector<float> read_all(const h5::File& f, const std::string& ds) {
  std::vector<float> v(static_cast<std::size_t>(f.info(ds).size()));
  f.read(ds, 0, std::span<float>(v));
  return v;
}

class CliRecord : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    model_ = std::make_shared<const infer::Model>(infer::read_model(kModel));
    data_ = path("data.h5");
    // Seeded float32 images of the model's input shape (normalised model inputs as they are).
    const std::int64_t per = infer::numel(model_->input_shape);
    std::vector<float> img(static_cast<std::size_t>(kImages * per));
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto& x : img) x = nd(rng);
    std::vector<std::int64_t> labels(kImages, 3);
    auto f = h5::File::create(data_);
    f.set_attr("/", "ffp8_data_layout", 1);
    std::vector<std::uint64_t> shape{static_cast<std::uint64_t>(kImages)};
    for (auto d : model_->input_shape) shape.push_back(static_cast<std::uint64_t>(d));
    f.create_dataset("/images", shape, h5::DType::Float32);
    f.write("/images", 0, std::span<const float>(img));
    f.create_dataset("/labels", {static_cast<std::uint64_t>(kImages)}, h5::DType::Int);
    f.write("/labels", 0, std::span<const std::int64_t>(labels));
  }

  // Every conv2d/linear/matmul input as the engine's tap delivers it, batch by batch.
  std::map<std::string, std::vector<float>> tapped(std::int64_t count, std::int64_t batch) const {
    std::map<std::string, std::vector<float>> got;
    infer::Engine engine(model_);
    engine.add_tap([&](const infer::TapEvent& ev) {
      auto& v = got[ev.key()];
      v.insert(v.end(), ev.values.begin(), ev.values.end());
    });
    const auto data = infer::DataFile::open(data_);
    const std::int64_t per = infer::numel(model_->input_shape);
    std::vector<float> in(static_cast<std::size_t>(batch * per));
    for (std::int64_t b = 0; b < count; b += batch) {
      const std::int64_t n = std::min(batch, count - b);
      data.read(b, n, std::span<float>(in.data(), static_cast<std::size_t>(n * per)));
      engine.run(std::span<const float>(in.data(), static_cast<std::size_t>(n * per)), n, static_cast<std::uint64_t>(b));
    }
    return got;
  }

  std::shared_ptr<const infer::Model> model_;
  std::string data_;
};

}  // namespace

TEST_F(CliRecord, RecordsWhatTheEngineTapDelivers) {
  const auto r = run({"record", kModel, data_, "--count", "9", "--batch", "4", "--out", path("acts.h5"), "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["count"], 9);
  const auto want = tapped(9, 4);
  ASSERT_FALSE(want.empty());
  ASSERT_EQ(j["tensors"].size(), want.size());
  const auto f = h5::File::open(path("acts.h5"));
  EXPECT_EQ(f.get_int_attr("/activations", "count"), 9);
  EXPECT_EQ(f.get_string_attr("/activations", "source"), data_);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < model_->nodes.size(); ++i) {
    const infer::Node& n = model_->nodes[i];
    if (!infer::is_quantizable(n.op)) continue;
    const std::string ds = "/activations/" + n.name;
    ASSERT_TRUE(f.exists(ds)) << ds;
    const auto info = f.info(ds);
    EXPECT_EQ(info.dtype, h5::DType::Float32);
    ASSERT_EQ(info.shape.size(), model_->tensor_shape(n.inputs[0]).size() + 1);
    EXPECT_EQ(info.shape[0], 9u);
    EXPECT_EQ(f.get_string_attr(ds, "role"), "activation");
    EXPECT_EQ(f.get_string_attr(ds, "node"), n.name);
    EXPECT_EQ(f.get_string_attr(ds, "tensor"), n.inputs[0] == 0 ? model_->input_name : model_->nodes[n.inputs[0] - 1].name);
    EXPECT_EQ(f.get_int_attr(ds, "operand"), 0);
    const auto got = read_all(f, ds);
    ASSERT_EQ(got.size(), want.at(n.name).size()) << ds;
    EXPECT_EQ(got, want.at(n.name)) << ds;  // bit for bit
    ++checked;
  }
  EXPECT_EQ(checked, want.size());
  // The first conv reads the images themselves: a check against the data file, not the engine.
  const auto images = read_all(h5::File::open(data_), "/images");
  const auto first = read_all(f, "/activations/" + model_->nodes[0].name);
  ASSERT_EQ(model_->nodes[0].inputs[0], 0);
  EXPECT_EQ(first, std::vector<float>(images.begin(), images.begin() + static_cast<std::ptrdiff_t>(first.size())));
}

TEST_F(CliRecord, EqualsTheSweepModelInput) {
  // The same batch as the sweep's: bit for bit. Other batches: the engine's float32 GEMMs may
  // block differently, so a layer output can move by an ulp (seen: fc's input, 1-2 ulp).
  for (const char* b : {"4", "3", "10"})
    ASSERT_EQ(run({"record", kModel, data_, "--count", "10", "--batch", b, "--out", path(std::string("b") + b + ".h5"),
                   "-q"}).rc, 0);
  ffp8::explore::SweepConfig cfg;
  ffp8::explore::InputConfig in;
  in.model = kModel;
  in.data = data_;
  in.calib = 10;
  in.batch = 4;
  in.weights = false;
  cfg.inputs = {in};
  const auto sources = ffp8::explore::open_model_input(cfg, 0);
  ASSERT_FALSE(sources.empty());
  const auto f4 = h5::File::open(path("b4.h5")), f3 = h5::File::open(path("b3.h5")), f10 = h5::File::open(path("b10.h5"));
  for (const auto& s : sources) {
    ASSERT_EQ(s->role(), "activation");
    std::vector<float> sweep(static_cast<std::size_t>(s->size()));
    s->read(0, s->size(), 1000, [&](std::span<const float> v, std::uint64_t at) {
      std::copy(v.begin(), v.end(), sweep.begin() + static_cast<std::ptrdiff_t>(at));
    });
    const std::string ds = "/activations/" + s->name().substr(0, s->name().rfind('.'));  // "<node>.input"
    EXPECT_EQ(read_all(f4, ds), sweep) << s->name();
    for (const h5::File* f : {&f3, &f10}) {
      const auto other = read_all(*f, ds);
      ASSERT_EQ(other.size(), sweep.size());
      for (std::size_t i = 0; i < sweep.size(); ++i)
        ASSERT_NEAR(other[i], sweep[i], 1e-6 * std::max(1.0f, std::abs(sweep[i]))) << s->name() << " at " << i;
    }
  }
}

TEST_F(CliRecord, TensorsSelectsByPattern) {
  std::vector<std::string> convs;
  for (const auto& n : model_->nodes)
    if (infer::is_quantizable(n.op) && n.name.rfind("layer1", 0) == 0) convs.push_back(n.name);
  ASSERT_FALSE(convs.empty());
  const std::string first = model_->nodes[0].name;
  const auto r = run({"record", kModel, data_, "--count", "2", "--out", path("a.h5"), "--tensors", first + ",layer1*",
                      "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto f = h5::File::open(path("a.h5"));
  std::vector<std::string> got, want{"/activations/" + first};
  for (const auto& t : f.list("/activations")) got.push_back(t.path);
  for (const auto& c : convs) want.push_back("/activations/" + c);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST_F(CliRecord, BadInputIsOneSentenceAndWritesNothing) {
  const std::string out = path("acts.h5");
  expect_error(run({"record", kModel, data_, "--count", "11", "--out", out}), "record",
               {"11 images asked", "holds 10", data_});
  expect_error(run({"record", path("none.h5"), data_, "--count", "1", "--out", out}), "record", {"none.h5"});
  expect_error(run({"record", kModel, data_, "--count", "1", "--out", out, "--tensors", "nosuch*"}), "record",
               {"nosuch*", "matches"});
  const std::string before = ffp8::test::slurp(data_);
  expect_error(run({"record", kModel, data_, "--count", "1", "--out", data_}), "record", {"is the input file"});
  EXPECT_EQ(ffp8::test::slurp(data_), before);
  // Images of another shape than the model's input.
  {
    auto f = h5::File::create(path("small.h5"));
    f.create_dataset("/images", {2, 1, 4, 4}, h5::DType::Float32);
    f.create_dataset("/labels", {2}, h5::DType::Int);
  }
  expect_error(run({"record", kModel, path("small.h5"), "--count", "1", "--out", out}), "record",
               {"small.h5", "[1, 4, 4]"});
  EXPECT_EQ(run({"record", kModel, data_, "--out", out}).rc, 2);          // no --count
  EXPECT_EQ(run({"record", kModel, data_, "--count", "0", "--out", out}).rc, 2);
  EXPECT_EQ(files(), (std::vector<std::string>{"data.h5", "small.h5"}));
}

TEST_F(CliRecord, CreatesTheOutputFolder) {
  const auto r = run({"record", kModel, data_, "--count", "1", "--out", path("new/sub/acts.h5")});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(path("new/sub/acts.h5")));
  EXPECT_NE(r.out.find("recorded"), std::string::npos);
}
