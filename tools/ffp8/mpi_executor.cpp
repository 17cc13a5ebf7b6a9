#include "tools/ffp8/mpi_executor.hpp"

#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <mpi.h>
#include <string>

#include "core/errors.hpp"
#include "tools/ffp8/mpi_session.hpp"

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
  used_ = true;
  // Workers take tasks from the front (most expensive first), rank 0 from the back: [next, back)
  // is what nobody has started.
  std::size_t next = 0, back = tasks.size(), busy = 0;
  std::vector<std::size_t> running(static_cast<std::size_t>(mpi_.size()), 0);  // index into tasks
  auto hand_out = [&](int rank) {
    const auto& t = tasks[next];
    running[static_cast<std::size_t>(rank)] = next++;
    send(rank, kTask, with_unit(t.unit, t.input));
    ++busy;
  };
  auto collect = [&](int tag, int from, const std::string& bytes) {
    --busy;
    const std::uint64_t unit = unit_of(bytes);
    const explore::dist::Task& t = tasks[running[static_cast<std::size_t>(from)]];
    if (tag == kError)
      throw DataError(fmt::format("rank {} failed on unit {} ({}): {}", from, unit, t.name, bytes.substr(sizeof unit)));
    if (tag != kResult || unit != t.unit)
      throw DataError(fmt::format("rank {} sent an unexpected message (tag {}, unit {})", from, tag, unit));
    done(unit, bytes.substr(sizeof unit));
    if (next < back) hand_out(from);
  };
  for (int r = 1; r < mpi_.size() && next < back; ++r) hand_out(r);
  while (busy > 0 || (local_ && next < back)) {
    // Answer every worker that is done, then work on a unit of rank 0's own.
    for (int flag = 1; busy > 0 && flag;) {
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
      if (!flag) break;
      int tag = 0, from = 0;
      const std::string bytes = receive(st.MPI_SOURCE, tag, from);
      collect(tag, from, bytes);
    }
    if (local_ && next < back) {
      const explore::dist::Task& t = tasks[--back];
      std::string result;
      try {
        result = local_(t);
      } catch (const std::exception& e) {
        throw DataError(fmt::format("rank 0 failed on unit {} ({}): {}", t.unit, t.name, e.what()));
      }
      done(t.unit, std::move(result));
      continue;
    }
    if (busy > 0) {
      int tag = 0, from = 0;
      const std::string bytes = receive(MPI_ANY_SOURCE, tag, from);
      collect(tag, from, bytes);
    }
  }
}

void MpiExecutor::stop_workers() const {
  if (!used_) return;  // the workers found nothing to serve and returned on their own
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

int run_on_ranks(const MpiSession& mpi, const std::string& command,
                 const std::function<std::unique_ptr<explore::dist::Job>()>& make_job,
                 const std::function<int(explore::dist::Executor*)>& root) {
  if (mpi.rank() != 0) {
    // A worker: set up like rank 0; a set-up failure is reported for each unit it is sent.
    std::unique_ptr<explore::dist::Job> job;
    std::string failed;
    try {
      job = make_job();
      if (!job) return 0;
    } catch (const std::exception& e) {
      failed = e.what();
    }
    serve_units(
        [&](const explore::dist::Task& t) {
          if (!job) throw DataError(failed);
          return job->run(t);
        },
        [&](std::size_t finished) { test_kill_hook(mpi.rank(), finished); });
    return 0;
  }
  try {
    if (mpi.size() <= 1) return root(nullptr);
    MpiExecutor executor(mpi);
    const int code = root(&executor);
    executor.stop_workers();
    return code;
  } catch (const std::exception& e) {
    if (mpi.size() <= 1) throw;
    mpi.abort(fmt::format("ffp8 {}: error: {} (stopping all {} ranks)", command, e.what(), mpi.size()), 1);
  }
}

}  // namespace ffp8::cli
