#pragma once
// A seeded random-mutation driver for the parsers users feed text to: each input is a seed
// (a valid text) with one to four mutations (bit flips, byte edits, inserted tokens of the
// input's grammar, deleted or repeated spans, splices with another seed, numbers swapped for
// edge values). Deterministic for a seed, so a failure is reproduced by its iteration number.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ffp8::fuzz {

class Mutator {
 public:
  Mutator(std::vector<std::string> seeds, std::vector<std::string> tokens, std::uint64_t seed)
      : seeds_(std::move(seeds)), tokens_(std::move(tokens)), rng_(seed) {
    static const char* edge[] = {"-1", "0", "-0", "1", "2", "255", "256", "65536", "2147483647", "2147483648",
                                 "4294967296", "4294967298", "-2147483649", "9223372036854775807",
                                 "9223372036854775808", "18446744073709551616", "99999999999999999999999", "1e309",
                                 "-1e309", "1e-400", "0.5", "1.0", "3.0000000001", "1e3", "NaN", "Infinity", "nan",
                                 "inf", "\"\"", "null", "true", "[]", "{}", "[[]]", "\"x\"", "-", "+", "e", "."};
    for (const char* e : edge) tokens_.emplace_back(e);
  }

  /// The next input.
  std::string next() {
    std::string s = pick(seeds_);
    const int n = 1 + static_cast<int>(below(4));
    for (int i = 0; i < n; ++i) mutate(s);
    if (s.size() > 4096) s.resize(4096);
    return s;
  }

 private:
  std::uint64_t below(std::uint64_t n) { return n ? rng_() % n : 0; }
  const std::string& pick(const std::vector<std::string>& v) { return v[below(v.size())]; }

  void mutate(std::string& s) {
    const std::size_t at = below(s.size() + 1);
    switch (below(8)) {
      case 0:  // bit flip
        if (!s.empty()) s[at % s.size()] = static_cast<char>(s[at % s.size()] ^ (1 << below(8)));
        break;
      case 1:  // random byte
        if (!s.empty()) s[at % s.size()] = static_cast<char>(below(256));
        break;
      case 2:  // insert a token
      case 3: s.insert(at, pick(tokens_)); break;
      case 4: {  // delete a span
        const std::size_t len = 1 + below(8);
        if (at < s.size()) s.erase(at, len);
        break;
      }
      case 5: {  // repeat a span
        if (s.empty()) break;
        const std::size_t from = below(s.size()), len = 1 + below(std::min<std::size_t>(16, s.size() - from));
        s.insert(at, s.substr(from, len));
        break;
      }
      case 6: {  // splice with another seed
        const std::string& o = pick(seeds_);
        const std::size_t cut = below(o.size() + 1);
        s = s.substr(0, at) + o.substr(cut);
        break;
      }
      default: {  // a number replaced by a token
        const std::size_t d = s.find_first_of("0123456789", at);
        if (d == std::string::npos) break;
        std::size_t e = d;
        while (e < s.size() && (std::isdigit(static_cast<unsigned char>(s[e])) || s[e] == '.')) ++e;
        s.replace(d, e - d, pick(tokens_));
        break;
      }
    }
  }

  std::vector<std::string> seeds_, tokens_;
  std::mt19937_64 rng_;
};

}  // namespace ffp8::fuzz
