#include "tools/ffp8/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>

namespace ffp8::cli {

ProgressBar::ProgressBar(bool on, std::string unit) : on_(on), unit_(std::move(unit)) {}

void ProgressBar::operator()(std::string_view stage, double done, double total) {
  if (!on_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last = done >= total;
  if (stage == stage_ && (finished_ || (!last && now - drawn_ < std::chrono::milliseconds(100)))) return;
  if (stage != stage_) {
    stage_ = std::string(stage);
    stage_start_ = now;
    finished_ = false;
  }
  finished_ = last;
  drawn_ = now;
  const double f = total > 0 ? std::min(1.0, done / total) : 1.0;
  const double spent = std::chrono::duration<double>(now - stage_start_).count();
  const double eta = f > 0 ? spent * (1 - f) / f : 0;
  constexpr int kWidth = 30;
  const int fill = static_cast<int>(f * kWidth);
  fmt::print(stderr, "\r{:<12} [{}{}] {:5.1f}%  {:.0f}/{:.0f} {}, {:.1f} {}/s, ETA {:.0f}s ", stage_,
             std::string(static_cast<std::size_t>(fill), '#'), std::string(static_cast<std::size_t>(kWidth - fill), ' '),
             100 * f, done, total, unit_, spent > 0 ? done / spent : 0.0, unit_, eta);
  if (last) fmt::print(stderr, "\n");
  std::fflush(stderr);
}

bool show_progress(bool quiet) { return !quiet && isatty(STDERR_FILENO); }

}  // namespace ffp8::cli
