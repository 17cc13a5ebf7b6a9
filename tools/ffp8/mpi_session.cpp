#include "tools/ffp8/mpi_session.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <mpi.h>

namespace ffp8::cli {

namespace {
bool started_by_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}
}  // namespace

MpiSession::MpiSession() {
  if (!started_by_launcher()) return;
  MPI_Init(nullptr, nullptr);
  active_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() {
  if (active_) MPI_Finalize();
}

void MpiSession::abort(std::string_view message, int code) const {
  fmt::print(stderr, "{}\n", message);
  std::fflush(stderr);
  if (active_ && size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void test_kill_hook(int rank, std::size_t finished) {
  const char* after = std::getenv("FFP8_TEST_KILL_AFTER");
  const char* who = std::getenv("FFP8_TEST_KILL_RANK");
  if (after && std::strtoull(after, nullptr, 10) == finished && (who ? std::atoi(who) : 0) == rank)
    std::raise(SIGKILL);
}

}  // namespace ffp8::cli
