#include "tools/ffp8/mpi_executor.hpp"

#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <mpi.h>
#include <string>

#include "core/errors.hpp"

namespace ffp8::cli {

namespace {

enum Tag : int { kTask = 1, kStop = 2, kResult = 3, kError = 4 };

void send(int to, int tag, const std::string& bytes) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw DataError(fmt::format("a unit's message of {} bytes exceeds MPI's 2 GiB count limit", bytes.size()));
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, tag, MPI_COMM_WORLD);
}

/// Receives the next message from `from` (MPI_ANY_SOURCE allowed); its bytes, tag and sender.
std::string receive(int from, int& tag, int& source) {
  MPI_Status st;
  MPI_Probe(from, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  std::string bytes(static_cast<std::size_t>(n), '\0');
  MPI_Recv(bytes.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  tag = st.MPI_TAG;
  source = st.MPI_SOURCE;
  return bytes;
}

/// A message that starts with a unit index.
std::string with_unit(std::uint64_t unit, const std::string& body) {
  std::string out(sizeof unit, '\0');
  std::memcpy(out.data(), &unit, sizeof unit);
  return out + body;
}

std::uint64_t unit_of(const std::string& bytes) {
  std::uint64_t unit = 0;
  if (bytes.size() < sizeof unit) throw DataError("short MPI message (no unit index)");
  std::memcpy(&unit, bytes.data(), sizeof unit);
  return unit;
}

}  // namespace

void MpiExecutor::run(const std::vector<explore::dist::Task>& tasks, const explore::dist::DoneFn& done) {
  std::size_t next = 0, busy = 0;
  std::vector<std::uint64_t> running(static_cast<std::size_t>(mpi_.size()), 0);
  auto hand_out = [&](int rank) {
    const auto& t = tasks[next++];
    running[static_cast<std::size_t>(rank)] = t.unit;
    send(rank, kTask, with_unit(t.unit, t.input));
    ++busy;
  };
  for (int r = 1; r < mpi_.size() && next < tasks.size(); ++r) hand_out(r);
  while (busy > 0) {
    int tag = 0, from = 0;
    std::string bytes = receive(MPI_ANY_SOURCE, tag, from);
    --busy;
    const std::uint64_t unit = unit_of(bytes);
    if (tag == kError)
      throw DataError(fmt::format("rank {} failed on unit {} ({}): {}", from, unit, unit_name_(unit),
                                  bytes.substr(sizeof unit)));
    if (tag != kResult || unit != running[static_cast<std::size_t>(from)])
      throw DataError(fmt::format("rank {} sent an unexpected message (tag {}, unit {})", from, tag, unit));
    done(unit, bytes.substr(sizeof unit));
    if (next < tasks.size()) hand_out(from);
  }
}

void MpiExecutor::stop_workers() const {
  for (int r = 1; r < mpi_.size(); ++r) send(r, kStop, {});
}

void serve_units(const std::function<std::string(const explore::dist::Task&)>& run_task,
                 const std::function<void(std::size_t finished)>& after_unit) {
  for (std::size_t finished = 0;;) {
    int tag = 0, from = 0;
    std::string bytes = receive(0, tag, from);
    if (tag == kStop) return;
    explore::dist::Task task;
    task.unit = unit_of(bytes);
    task.input = bytes.substr(sizeof(std::uint64_t));
    std::string result;
    try {
      result = run_task(task);
    } catch (const std::exception& e) {
      send(0, kError, with_unit(task.unit, e.what()));
      continue;  // rank 0 aborts the job; until then, serve what comes
    }
    send(0, kResult, with_unit(task.unit, result));
    if (after_unit) after_unit(++finished);
  }
}

}  // namespace ffp8::cli
