// Tests of core/io/h5: round trips of every float type and rank, range reads at awkward offsets,
// streaming, glob, attributes, atomic outputs, and the exact text of every error.
#include "core/io/h5.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <vector>

#include "core/errors.hpp"

namespace fs = std::filesystem;
using ffp8::IoError;
using namespace ffp8::h5;

namespace {

// A fresh folder per test, removed afterwards.
class H5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("ffp8_h5_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// Runs `fn`, expects IoError, returns its message.
template <class Fn>
std::string io_error(Fn&& fn) {
  try {
    fn();
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IoError thrown";
  return {};
}

std::vector<float> ramp(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i) * 0.25f - 3.0f;
  return v;
}

const std::vector<std::vector<std::uint64_t>> kShapes = {{}, {7}, {3, 5}, {2, 3, 4}, {2, 3, 2, 5}};

}  // namespace

TEST_F(H5Test, RoundTripFloat32AndFloat64EveryRank) {
  for (DType type : {DType::Float32, DType::Float64}) {
    const std::string p = path(std::string(to_string(type)) + ".h5");
    {
      File f = File::create(p);
      for (std::size_t r = 0; r < kShapes.size(); ++r) {
        const std::string name = "/g/rank" + std::to_string(r);
        f.create_dataset(name, kShapes[r], type);
        std::uint64_t n = 1;
        for (auto d : kShapes[r]) n *= d;
        const auto v = ramp(n);
        if (type == DType::Float64) {
          std::vector<double> d(v.begin(), v.end());
          for (auto& x : d) x += 1e-12;  // not representable in float32: checks no float detour
          f.write(name, 0, std::span<const double>(d));
        } else {
          f.write(name, 0, std::span<const float>(v));
        }
      }
    }
    File f = File::open(p);
    for (std::size_t r = 0; r < kShapes.size(); ++r) {
      const std::string name = "/g/rank" + std::to_string(r);
      const DatasetInfo info = f.info(name);
      EXPECT_EQ(info.path, name);
      EXPECT_EQ(info.shape, kShapes[r]);
      EXPECT_EQ(info.dtype, type);
      const auto expect = ramp(info.size());
      std::vector<double> d(info.size());
      f.read(name, 0, std::span<double>(d));
      std::vector<float> s(info.size());
      f.read(name, 0, std::span<float>(s));
      for (std::size_t i = 0; i < expect.size(); ++i) {
        const double want = type == DType::Float64 ? double(expect[i]) + 1e-12 : double(expect[i]);
        EXPECT_EQ(d[i], want) << name << "[" << i << "]";
        EXPECT_EQ(s[i], static_cast<float>(want)) << name << "[" << i << "]";
      }
    }
  }
}

TEST_F(H5Test, RoundTripFloat16EveryRankIncludingSpecials) {
  const std::string p = path("half.h5");
  // Exactly representable in binary16: normal, subnormal, max, signed zero, infinities.
  const std::vector<float> special = {1.0f, -2.5f, 0x1p-24f, 0x1p-14f, 65504.0f, -0.0f,
                                      std::numeric_limits<float>::infinity(), -65504.0f};
  {
    File f = File::create(p);
    for (std::size_t r = 0; r < kShapes.size(); ++r) {
      const std::string name = "/rank" + std::to_string(r);
      f.create_dataset(name, kShapes[r], DType::Float16);
      std::uint64_t n = 1;
      for (auto d : kShapes[r]) n *= d;
      f.write(name, 0, std::span<const float>(ramp(n)));
    }
    f.create_dataset("/special", {special.size()}, DType::Float16);
    f.write("/special", 0, std::span<const float>(special));
  }
  File f = File::open(p);
  for (std::size_t r = 0; r < kShapes.size(); ++r) {
    const std::string name = "/rank" + std::to_string(r);
    const DatasetInfo info = f.info(name);
    EXPECT_EQ(info.dtype, DType::Float16);
    EXPECT_EQ(info.shape, kShapes[r]);
    std::vector<float> got(info.size());
    f.read(name, 0, std::span<float>(got));
    EXPECT_EQ(got, ramp(info.size()));
  }
  std::vector<double> got(special.size());
  f.read("/special", 0, std::span<double>(got));
  for (std::size_t i = 0; i < special.size(); ++i) {
    EXPECT_EQ(got[i], double(special[i])) << i;
    EXPECT_EQ(std::signbit(got[i]), std::signbit(special[i])) << i;
  }
}

// Files written by h5py hold float16 as a 16-bit IEEE float type; write raw bit patterns with
// exactly that type and check HDF5 converts them (subnormals, Inf, NaN) as IEEE says.
TEST_F(H5Test, ReadsH5pyStyleHalfBitPatterns) {
  const std::string p = path("bits.h5");
  const std::vector<std::uint16_t> bits = {0x3C00, 0x0001, 0x03FF, 0x7BFF, 0xFC00, 0x7E00, 0x8000, 0xC000};
  {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    ASSERT_GE(H5Tset_fields(t, 15, 10, 5, 0, 10), 0);
    ASSERT_GE(H5Tset_size(t, 2), 0);
    ASSERT_GE(H5Tset_ebias(t, 15), 0);
    hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t n = bits.size();
    hid_t s = H5Screate_simple(1, &n, nullptr);
    hid_t d = H5Dcreate2(f, "h", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits.data()), 0);
    H5Dclose(d), H5Sclose(s), H5Fclose(f), H5Tclose(t);
  }
  File f = File::open(p);
  EXPECT_EQ(f.info("/h").dtype, DType::Float16);
  std::vector<float> v(bits.size());
  f.read("/h", 0, std::span<float>(v));
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], 0x1p-24f);
  EXPECT_EQ(v[2], 1023 * 0x1p-24f);
  EXPECT_EQ(v[3], 65504.0f);
  EXPECT_EQ(v[4], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(v[5]));
  EXPECT_TRUE(v[6] == 0.0f && std::signbit(v[6]));
  EXPECT_EQ(v[7], -2.0f);
}

TEST_F(H5Test, EveryRangeOfSmallShapesEqualsTheWholeRead) {
  const std::string p = path("ranges.h5");
  const std::vector<std::vector<std::uint64_t>> shapes = {{11}, {3, 4}, {2, 3, 4}, {2, 3, 2, 3}, {1, 5, 1, 3}};
  File f = File::create(p);
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    const std::string name = "/d" + std::to_string(k);
    f.create_dataset(name, shapes[k], DType::Float32);
    std::uint64_t n = 1;
    for (auto d : shapes[k]) n *= d;
    const auto whole = ramp(n);
    f.write(name, 0, std::span<const float>(whole));
    int reads = 0;
    for (std::uint64_t off = 0; off <= n; ++off) {
      for (std::uint64_t len = 0; off + len <= n; ++len) {
        std::vector<float> part(len, -99.0f);
        f.read(name, off, std::span<float>(part));
        ASSERT_TRUE(std::equal(part.begin(), part.end(), whole.begin() + off)) << name << " [" << off << ", +" << len << ")";
        ++reads;
      }
    }
    EXPECT_EQ(reads, int((n + 1) * (n + 2) / 2));
  }
}

TEST_F(H5Test, PiecewiseWritesAtAwkwardOffsetsEqualOneWrite) {
  File f = File::create(path("w.h5"));
  const std::vector<std::uint64_t> shape = {5, 7, 3};
  const auto whole = ramp(105);
  f.create_dataset("/d", shape, DType::Float32);
  for (std::size_t off = 0; off < whole.size(); off += 8) {
    const std::size_t len = std::min<std::size_t>(8, whole.size() - off);
    f.write("/d", off, std::span<const float>(whole.data() + off, len));
  }
  std::vector<float> got(whole.size());
  f.read("/d", 0, std::span<float>(got));
  EXPECT_EQ(got, whole);
}

TEST_F(H5Test, ChunkedCompressedLargeDatasetStreamsInAnyChunkSize) {
  const std::string p = path("large.h5");
  const std::vector<std::uint64_t> shape = {3, 301, 127};  // > 64 Ki elements: chunked, deflated
  const std::size_t n = 3 * 301 * 127;
  std::vector<float> whole(n);
  for (std::size_t i = 0; i < n; ++i) whole[i] = std::sin(float(i)) * float(i % 97);
  {
    File f = File::create(p);
    f.create_dataset("/big", shape, DType::Float32);
    f.write("/big", 0, std::span<const float>(whole));
  }
  File f = File::open(p);
  for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{1000}, std::size_t{127},
                            std::size_t{0}}) {
    std::vector<float> got;
    std::uint64_t expect_off = 0;
    std::size_t max_len = 0;
    for_each_chunk(f, "/big", chunk, [&](std::span<const float> v, std::uint64_t off) {
      EXPECT_EQ(off, expect_off);
      expect_off += v.size();
      max_len = std::max(max_len, v.size());
      got.insert(got.end(), v.begin(), v.end());
    });
    EXPECT_EQ(got, whole) << "chunk " << chunk;
    if (chunk != 0) {
      EXPECT_LE(max_len, chunk);
    }
  }
  std::vector<double> got;
  for_each_chunk_f64(f, "/big", 5000, [&](std::span<const double> v, std::uint64_t) { got.insert(got.end(), v.begin(), v.end()); });
  ASSERT_EQ(got.size(), n);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], double(whole[i]));
}

TEST_F(H5Test, EmptyDatasetStreamsNothingButIsRejectedAsInput) {
  File f = File::create(path("e.h5"));
  f.create_dataset("/w", {0, 4}, DType::Float32);
  int calls = 0;
  for_each_chunk(f, "/w", 10, [&](std::span<const float>, std::uint64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(io_error([&] { f.float_dataset("/w"); }), "dataset '/w' in '" + path("e.h5") + "' is empty");
}

TEST_F(H5Test, ListIsRecursiveAndSorted) {
  File f = File::create(path("l.h5"));
  for (const char* n : {"/weights/b", "/weights/a", "/weights/sub/c", "/act/x", "/top"})
    f.create_dataset(n, {2}, DType::Float32);
  f.create_dataset("/labels", {3}, DType::Int);
  std::vector<std::string> names;
  for (const auto& d : f.list()) names.push_back(d.path);
  EXPECT_EQ(names, (std::vector<std::string>{"/act/x", "/labels", "/top", "/weights/a", "/weights/b", "/weights/sub/c"}));
  names.clear();
  for (const auto& d : f.list("/weights/")) names.push_back(d.path);
  EXPECT_EQ(names, (std::vector<std::string>{"/weights/a", "/weights/b", "/weights/sub/c"}));
  EXPECT_EQ(f.list("/top").size(), 1u);
  EXPECT_NE(io_error([&] { f.list("/nope"); }).find("'/nope' not found"), std::string::npos);
}

TEST_F(H5Test, GlobMatchesOneLevelOrManyLevels) {
  File f = File::create(path("g.h5"));
  for (const char* n : {"/weights/b", "/weights/a", "/weights/sub/c", "/act/x", "/weights/ab"})
    f.create_dataset(n, {2}, DType::Float32);
  using V = std::vector<std::string>;
  EXPECT_EQ(glob(f, "/weights/*"), (V{"/weights/a", "/weights/ab", "/weights/b"}));
  EXPECT_EQ(glob(f, "/weights/?"), (V{"/weights/a", "/weights/b"}));
  EXPECT_EQ(glob(f, "/weights/**"), (V{"/weights/a", "/weights/ab", "/weights/b", "/weights/sub/c"}));
  EXPECT_EQ(glob(f, "/**/c"), (V{"/weights/sub/c"}));
  EXPECT_EQ(glob(f, "/*/x"), (V{"/act/x"}));
  EXPECT_EQ(glob(f, "weights/a"), (V{"/weights/a"}));
  EXPECT_EQ(glob(f, "/none/*"), V{});
  EXPECT_EQ(io_error([&] { glob(f, "/weights/zz"); }), "dataset '/weights/zz' not found in '" + path("g.h5") + "'");
  EXPECT_EQ(io_error([&] { glob(f, "/weights"); }), "'/weights' in '" + path("g.h5") + "' is a group, not a dataset");
}

TEST_F(H5Test, ExistsChecksEveryLevel) {
  File f = File::create(path("x.h5"));
  f.create_dataset("/a/b", {1}, DType::Float32);
  EXPECT_TRUE(f.exists("/"));
  EXPECT_TRUE(f.exists("/a"));
  EXPECT_TRUE(f.exists("/a/b"));
  EXPECT_TRUE(f.exists("a/b/"));
  EXPECT_FALSE(f.exists("/a/c"));
  EXPECT_FALSE(f.exists("/z/b"));
  EXPECT_FALSE(f.exists("/a/b/c"));  // below a dataset
}

TEST_F(H5Test, AttributesRoundTripAndReportTheirType) {
  const std::string p = path("a.h5");
  {
    File f = File::create(p);
    f.create_dataset("/w", {2}, DType::Float32);
    f.set_attr("/", "ffp8_layout", 1);
    f.set_attr("/", "model_name", "resnet_small");
    f.set_attr("/w", "role", std::string("weight"));
    f.set_attr("/w", "scale", 0.5);
    f.set_attr("/w", "role", std::string("bias"));  // replaces
  }
  File f = File::open(p);
  EXPECT_EQ(f.get_int_attr("/", "ffp8_layout"), 1);
  EXPECT_EQ(f.get_double_attr("/", "ffp8_layout"), 1.0);  // integers read as numbers too
  EXPECT_EQ(f.get_string_attr("/", "model_name"), "resnet_small");
  EXPECT_EQ(f.get_string_attr("/w", "role"), "bias");
  EXPECT_EQ(f.get_double_attr("/w", "scale"), 0.5);
  EXPECT_EQ(f.get_string_attr("/w", "nope"), std::nullopt);
  EXPECT_EQ(f.get_int_attr("/", "nope"), std::nullopt);
  EXPECT_EQ(io_error([&] { f.get_int_attr("/w", "role"); }),
            "attribute 'role' of '/w' in '" + p + "' has string type; expected an integer");
  EXPECT_EQ(io_error([&] { f.get_string_attr("/", "ffp8_layout"); }),
            "attribute 'ffp8_layout' of '/' in '" + p + "' has integer type; expected a string");
  EXPECT_EQ(io_error([&] { f.get_int_attr("/w", "scale"); }),
            "attribute 'scale' of '/w' in '" + p + "' has float64 type; expected an integer");
  EXPECT_EQ(io_error([&] { f.get_string_attr("/q", "role"); }), "object '/q' not found in '" + p + "'");
}

TEST_F(H5Test, ArrayAttributesAndStringDatasets) {
  const std::string p = path("arr.h5");
  {
    File f = File::create(p);
    f.set_attr("/", "input_shape", std::vector<std::int64_t>{3, 32, 32});
    f.set_attr("/", "mean", std::vector<double>{0.485, 0.456});
    f.set_attr("/", "one", 5);
    f.write_string("/graph", "{\"nodes\": []} \u00e9");
    EXPECT_THROW(f.write_string("/graph", "x"), IoError);
  }
  File f = File::open(p);
  EXPECT_EQ(f.get_int_array_attr("/", "input_shape"), (std::vector<std::int64_t>{3, 32, 32}));
  EXPECT_EQ(f.get_double_array_attr("/", "mean"), (std::vector<double>{0.485, 0.456}));
  EXPECT_EQ(f.get_double_array_attr("/", "input_shape"), (std::vector<double>{3, 32, 32}));
  EXPECT_EQ(f.get_int_array_attr("/", "one"), std::vector<std::int64_t>{5});
  EXPECT_EQ(f.get_int_array_attr("/", "none"), std::nullopt);
  EXPECT_EQ(io_error([&] { f.get_int_array_attr("/", "mean"); }),
            "attribute 'mean' of '/' in '" + p + "' has float64 type; expected integers");
  EXPECT_EQ(io_error([&] { f.get_int_attr("/", "input_shape"); }),
            "attribute 'input_shape' of '/' in '" + p + "' has 3 values; expected one");
  EXPECT_EQ(f.read_string("/graph"), "{\"nodes\": []} \u00e9");
  EXPECT_EQ(io_error([&] { f.info("/graph").size(); f.read("/graph", 0, std::span<float>()); }),
            "dataset '/graph' in '" + p + "' has string type; expected float16, float32 or float64");
  EXPECT_EQ(f.info("/graph").dtype, DType::Other);
}

TEST_F(H5Test, IntegerRangeReads) {
  File f = File::create(path("u8.h5"));
  f.create_dataset("/img", {3, 2, 2}, DType::UInt, 1);
  std::vector<std::uint8_t> img(12);
  std::iota(img.begin(), img.end(), std::uint8_t{200});
  f.write("/img", 0, std::span<const std::uint8_t>(img));
  std::vector<std::uint8_t> part(5);
  f.read("/img", 3, std::span<std::uint8_t>(part));
  EXPECT_EQ(part, (std::vector<std::uint8_t>{203, 204, 205, 206, 207}));
  std::vector<std::int64_t> wide(2);
  f.read("/img", 10, std::span<std::int64_t>(wide));
  EXPECT_EQ(wide, (std::vector<std::int64_t>{210, 211}));
  f.create_dataset("/w", {2}, DType::Float32);
  EXPECT_THROW(f.read("/w", 0, std::span<std::uint8_t>(part).first(1)), IoError);
}

TEST_F(H5Test, ReadsFixedLengthStringAttributes) {
  const std::string p = path("fixed.h5");
  {
    hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 8);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "role", t, s, H5P_DEFAULT, H5P_DEFAULT);
    const char text[8] = {'w', 'e', 'i', 'g', 'h', 't', 0, 0};
    ASSERT_GE(H5Awrite(a, t, text), 0);
    H5Aclose(a), H5Sclose(s), H5Tclose(t), H5Fclose(f);
  }
  EXPECT_EQ(File::open(p).get_string_attr("/", "role"), "weight");
}

TEST_F(H5Test, IntegerDatasets) {
  File f = File::create(path("i.h5"));
  f.create_dataset("/labels", {4}, DType::Int);
  const std::vector<std::int64_t> labels = {3, -1, 7, 1LL << 40};
  f.write("/labels", 0, std::span<const std::int64_t>(labels));
  f.create_dataset("/img", {2, 2}, DType::UInt, 1);
  const std::vector<std::uint8_t> img = {0, 255, 7, 9};
  f.write("/img", 0, std::span<const std::uint8_t>(img));
  f.create_dataset("/u16", {2}, DType::UInt, 2);
  const std::vector<std::uint16_t> u16 = {65535, 1};
  f.write("/u16", 0, std::span<const std::uint16_t>(u16));
  EXPECT_EQ(f.read_ints("/labels"), labels);
  EXPECT_EQ(f.read_ints("/img"), (std::vector<std::int64_t>{0, 255, 7, 9}));
  EXPECT_EQ(f.read_ints("/u16"), (std::vector<std::int64_t>{65535, 1}));
  EXPECT_EQ(f.info("/labels").dtype, DType::Int);
  EXPECT_EQ(f.info("/img").dtype, DType::UInt);
  EXPECT_EQ(f.info("/labels").elem_bytes, 8u);
  EXPECT_EQ(dtype_name(DType::Int, f.info("/labels").elem_bytes), "int64");
  EXPECT_EQ(dtype_name(DType::UInt, f.info("/u16").elem_bytes), "uint16");
  EXPECT_EQ(dtype_name(DType::Float16, 2), "float16");
  f.create_dataset("/w", {1}, DType::Float32);
  EXPECT_EQ(io_error([&] { f.read_ints("/w"); }),
            "dataset '/w' in '" + path("i.h5") + "' has float32 type; expected an integer type");
}

TEST_F(H5Test, ErrorsNameTheFileAndObject) {
  const std::string p = path("e.h5");
  const std::string missing = path("missing.h5");
  EXPECT_EQ(io_error([&] { File::open(missing); }), "cannot open '" + missing + "': no such file");
  EXPECT_EQ(io_error([&] { File::open(dir_.string()); }), "cannot open '" + dir_.string() + "': it is a folder");
  const std::string text = path("text.h5");
  std::ofstream(text) << "not hdf5 at all\n";
  EXPECT_EQ(io_error([&] { File::open(text); }), "cannot open '" + text + "': not an HDF5 file");
  const std::string nodir = path("nodir/out.h5");
  EXPECT_EQ(io_error([&] { File::create(nodir); }),
            "cannot create '" + nodir + "': folder '" + path("nodir") + "' does not exist");
  {
    File f = File::create(p);
    f.create_dataset("/labels", {3}, DType::Int);
    f.create_dataset("/g/w", {4}, DType::Float32);
    f.create_dataset("/s", {}, DType::Float32);
    EXPECT_EQ(io_error([&] { f.create_dataset("/g/w", {4}, DType::Float32); }),
              "cannot create dataset '/g/w' in '" + p + "': it already exists");
  }
  File f = File::open(p);
  std::vector<float> buf(4);
  EXPECT_EQ(io_error([&] { f.read("/w", 0, std::span<float>(buf)); }), "dataset '/w' not found in '" + p + "'");
  EXPECT_EQ(io_error([&] { f.info("/g"); }), "'/g' in '" + p + "' is a group, not a dataset");
  EXPECT_EQ(io_error([&] { f.read("/labels", 0, std::span<float>(buf).first(1)); }),
            "dataset '/labels' in '" + p + "' has integer type; expected float16, float32 or float64");
  EXPECT_EQ(io_error([&] { for_each_chunk(f, "/labels", 8, [](std::span<const float>, std::uint64_t) {}); }),
            "dataset '/labels' in '" + p + "' has integer type; expected float16, float32 or float64");
  EXPECT_EQ(io_error([&] { f.read("/g/w", 2, std::span<float>(buf).first(3)); }),
            "cannot read elements [2, 5) of dataset '/g/w' in '" + p + "': it has 4 elements");
  EXPECT_EQ(io_error([&] { f.read("/s", 1, std::span<float>(buf).first(1)); }),
            "cannot read elements [1, 2) of dataset '/s' in '" + p + "': it has 1 elements");
  EXPECT_EQ(io_error([&] { f.write("/g/w", 0, std::span<const float>(buf)); }),
            "cannot write dataset '/g/w': '" + p + "' is open read-only");
  EXPECT_EQ(io_error([&] { f.float_dataset("/labels"); }),
            "dataset '/labels' in '" + p + "' has integer type; expected float16, float32 or float64");
  f.close();
  EXPECT_EQ(io_error([&] { f.info("/g/w"); }), "file '" + p + "' is already closed");
}

TEST_F(H5Test, HdfLibraryFailuresCarryTheErrorStack) {
  const std::string p = path("trunc.h5");
  {
    File f = File::create(p);
    f.create_dataset("/w", {1000}, DType::Float32);
    f.write("/w", 0, std::span<const float>(ramp(1000)));
  }
  fs::resize_file(p, 600);  // signature intact, superblock points past the end
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  std::string msg;
  try {
    File f = File::open(p);
    std::vector<float> v(1000);
    f.read("/w", 0, std::span<float>(v));
  } catch (const IoError& e) {
    msg = e.what();
  }
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "HDF5 must not print";
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("(HDF5: "), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
}

TEST_F(H5Test, NothingIsPrintedOnErrors) {
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  File f = File::create(path("q.h5"));
  f.create_dataset("/a", {1}, DType::Float32);
  EXPECT_FALSE(f.exists("/a/b/c"));
  EXPECT_EQ(io_error([&] { f.create_dataset("/a/b", {1}, DType::Float32); }),
            "cannot create dataset '/a/b' in '" + path("q.h5") + "': '/a' is a dataset, not a group");
  EXPECT_THROW(f.set_attr("/nope", "x", 1.0), IoError);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(H5Test, RemoveUnlinksADataset) {
  File f = File::create(path("r.h5"));
  f.create_dataset("/a/b", {1}, DType::Float32);
  f.remove("/a/b");
  EXPECT_FALSE(f.exists("/a/b"));
  EXPECT_TRUE(f.exists("/a"));
  EXPECT_THROW(f.remove("/a/b"), IoError);
}

TEST_F(H5Test, FileIsMovable) {
  File a = File::create(path("m.h5"));
  a.create_dataset("/x", {1}, DType::Float64);
  File b = std::move(a);
  EXPECT_TRUE(b.exists("/x"));
  EXPECT_EQ(b.path(), path("m.h5"));
}

TEST_F(H5Test, AtomicFileAppearsOnlyOnCommit) {
  const std::string p = path("out.h5");
  std::string tmp;
  {
    AtomicFile out(p);
    tmp = out.temp_path();
    EXPECT_TRUE(fs::exists(tmp));
    out.file().create_dataset("/q", {3}, DType::Float32);
    EXPECT_FALSE(fs::exists(p));
    out.commit();
  }
  EXPECT_TRUE(fs::exists(p));
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_TRUE(File::open(p).exists("/q"));
}

TEST_F(H5Test, AtomicFileWithoutCommitLeavesTheOldFileAndNoTemp) {
  const std::string p = path("out.h5");
  { File::create(p).create_dataset("/old", {1}, DType::Float32); }
  const auto before = fs::file_size(p);
  std::string tmp;
  try {
    AtomicFile out(p);
    tmp = out.temp_path();
    out.file().create_dataset("/new", {100}, DType::Float32);
    throw std::runtime_error("failure half-way");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(tmp.empty());
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_EQ(fs::file_size(p), before);
  File f = File::open(p);
  EXPECT_TRUE(f.exists("/old"));
  EXPECT_FALSE(f.exists("/new"));
}

TEST_F(H5Test, AtomicFileCopyExistingKeepsOtherDatasets) {
  const std::string p = path("out.h5");
  {
    File f = File::create(p);
    f.create_dataset("/keep", {2}, DType::Float32);
    const std::vector<float> v = {1, 2};
    f.write("/keep", 0, std::span<const float>(v));
  }
  {
    AtomicFile out(p, AtomicFile::Start::CopyExisting);
    out.file().create_dataset("/added", {1}, DType::Float32);
    out.commit();
  }
  File f = File::open(p);
  std::vector<float> v(2);
  f.read("/keep", 0, std::span<float>(v));
  EXPECT_EQ(v, (std::vector<float>{1, 2}));
  EXPECT_TRUE(f.exists("/added"));
  // CopyExisting without an existing file starts empty.
  AtomicFile fresh(path("fresh.h5"), AtomicFile::Start::CopyExisting);
  EXPECT_TRUE(fresh.file().list().empty());
}

TEST_F(H5Test, AtomicFileInMissingFolderThrows) {
  const std::string p = path("no/out.h5");
  EXPECT_EQ(io_error([&] { AtomicFile out(p); }), "cannot write '" + p + "': folder '" + path("no") + "' does not exist");
}

TEST_F(H5Test, WriteTextAtomic) {
  const std::string p = path("t.txt");
  write_text_atomic(p, "one\n");
  write_text_atomic(p, "two\n");
  std::ifstream in(p);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(s, "two\n");
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"t.txt"});
  EXPECT_THROW(write_text_atomic(path("no/t.txt"), "x"), IoError);
}

TEST(H5Names, DTypeNames) {
  EXPECT_STREQ(to_string(DType::Float16), "float16");
  EXPECT_STREQ(to_string(DType::Float32), "float32");
  EXPECT_STREQ(to_string(DType::Float64), "float64");
  EXPECT_STREQ(to_string(DType::Int), "int");
  EXPECT_STREQ(to_string(DType::UInt), "uint");
  EXPECT_STREQ(to_string(DType::Other), "other");
  EXPECT_EQ((DatasetInfo{"/s", {}, DType::Float32}).size(), 1u);
  EXPECT_EQ((DatasetInfo{"/e", {3, 0}, DType::Float32}).size(), 0u);
}
