#pragma once
// MPI for the CLI (the libraries never link MPI): initialised only when the process was started
// by a launcher (mpirun, srun), so a plain `ffp8 ...` stays a single process without MPI start-up.
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

}  // namespace ffp8::cli
