#pragma once
// MPI for the CLI (the libraries never link MPI): initialised only when the process was started
// by a launcher (mpirun, srun), so a plain `ffp8 ...` stays a single process without MPI start-up.
#include <cstddef>
#include <string>
#include <string_view>

namespace ffp8::cli {

/// This process's place in the MPI job (rank 0 of 1 when not started by a launcher).
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool active() const { return active_; }
  /// Prints `message` (one line, naming this rank) and ends every rank of the job with `code`.
  [[noreturn]] void abort(std::string_view message, int code) const;

 private:
  bool active_ = false;
  int rank_ = 0, size_ = 1;
};

/// Test hook (tests/explore/dist/dist_test.cpp, tests/explore/eval): FFP8_TEST_KILL_AFTER=K
/// [FFP8_TEST_KILL_RANK=R, default 0] makes rank R SIGKILL itself once it has finished K units
/// (rank 0: journaled them; a single eval: K batches; quantize: K chunks written), so tests interrupt a run at a chosen point instead of racing a timer.
void test_kill_hook(int rank, std::size_t finished);

}  // namespace ffp8::cli
