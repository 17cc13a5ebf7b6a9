#pragma once
// The CLI's progress bar: one line on stderr with the share done, the count, a rate and an
// estimate of the time left, redrawn at most ~10 times a second. Off (draws nothing) when stderr
// is not a terminal or the user asked for --quiet.
#include <chrono>
#include <string>
#include <string_view>

namespace ffp8::cli {

class ProgressBar {
 public:
  /// `on`: draw at all; `unit`: what is counted ("images", "units"), shown with its rate.
  ProgressBar(bool on, std::string unit);
  /// Redraws for `done` of `total` in `stage`; a new stage starts its own clock; the last call of
  /// a stage (done >= total) ends the line.
  void operator()(std::string_view stage, double done, double total);

 private:
  bool on_;
  std::string unit_, stage_;
  std::chrono::steady_clock::time_point stage_start_, drawn_;
  bool finished_ = false;  // the stage's final line is drawn once
};

/// True when progress should be drawn: stderr is a terminal and `quiet` is false.
bool show_progress(bool quiet);

}  // namespace ffp8::cli
