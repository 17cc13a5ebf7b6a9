// The committed conformance table (conformance.csv, written by make_conformance.py): quantization
// vectors whose expected codes are facts from the OCP OFP8/MX specifications, IEEE P3109, ml_dtypes
// and gfloat, each row naming its source. Rows where a peer disagrees carry the peer's answer and
// why ffp8's rule stands; the expected code is always ffp8's rule.
#include <bit>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/format/codec.hpp"
#include "core/quant/quantize.hpp"

namespace ffp8 {
namespace {

/// Splits one CSV line (fields may be double-quoted, without embedded quotes).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else cur += c;
  }
  out.push_back(cur);
  return out;
}

TEST(Conformance, EveryVectorOfThePeersTable) {
  std::ifstream in(std::string(FFP8_SOURCE_DIR) + "/tests/core/format/conformance.csv");
  ASSERT_TRUE(in) << "conformance.csv is missing";
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line, "format,input_bits,input,rounding,saturate,expected_code,source,peer,peer_result,why_ours");
  std::size_t rows = 0, disagreements = 0;
  std::set<std::string> formats;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto f = split_csv(line);
    ASSERT_EQ(f.size(), 10u) << line;
    ++rows;
    const Format fmt = Format::parse(f[0]);
    formats.insert(fmt.name());
    QuantOptions o;
    o.rounding = parse_rounding(f[3]);
    o.saturate = f[4] == "1";
    const Quantizer q(fmt, o);
    const auto x = std::bit_cast<float>(static_cast<std::uint32_t>(std::stoul(f[1], nullptr, 16)));
    const Rounded r = q.round(x);
    std::uint16_t batch = 0;
    q.encode(std::span<const float>(&x, 1), std::span<std::uint16_t>(&batch, 1));
    const std::string ctx = fmt::format("{} x={} {} sat={} ({})", f[0], f[2], f[3], f[4], f[6]);
    if (!f[7].empty()) {
      ++disagreements;
      EXPECT_FALSE(f[9].empty()) << "a disagreement without the reason: " << ctx;
    }
    if (f[5] == "error") {  // a NaN input into a format without NaN: reported, never a number
      EXPECT_FALSE(fmt.has_nan()) << ctx;
      EXPECT_EQ(r.outcome, Outcome::NanInput) << ctx;
      continue;
    }
    const auto want = static_cast<std::uint32_t>(std::stoul(f[5], nullptr, 16));
    if (decode(fmt, want).kind == CodeKind::Nan) {
      EXPECT_EQ(decode(fmt, r.code).kind, CodeKind::Nan) << ctx << fmt::format(": got {:#04x}", r.code);
      EXPECT_EQ(decode(fmt, batch).kind, CodeKind::Nan) << ctx;
    } else {
      EXPECT_EQ(r.code, want) << ctx;
      EXPECT_EQ(batch, want) << ctx << " (batch encode)";
    }
  }
  EXPECT_GT(rows, 300u);
  EXPECT_GE(disagreements, 10u);
  // The table covers the formats it is meant to.
  for (const char* name : {"e4m3fn", "e5m2", "e2m1", "e2m3", "e3m2", "e8m0", "e4m3fnuz", "e5m2fnuz", "s1e4m3b7-ieee",
                           "s1e3m4b3-ieee", "s1e4m3b11-fnuz", "p3109_k8p3se", "p3109_k8p4sf", "p3109_k8p8uf"})
    EXPECT_TRUE(formats.count(Format::parse(name).name())) << name;
}

}  // namespace
}  // namespace ffp8
