// Cluster sweeps end to end with the real binary: mpirun with 1, 2 and 3 ranks gives identical
// outputs; a run SIGKILLed after k journaled units (test hook FFP8_TEST_KILL_AFTER) and started
// again equals an uninterrupted one, also with a torn last journal line; a killed worker rank
// stops the job naming the rank and keeps the journal; shards merged equal the whole. Plus the
// journal and the result serialisation on their own.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>

#include "core/errors.hpp"
#include "explore/dist/journal.hpp"
#include "explore/dist/key.hpp"
#include "explore/dist/shard.hpp"
#include "explore/sweep/job.hpp"
#include "explore/sweep/serial.hpp"
#include "explore/report/report.hpp"
#include "explore/sweep/units.hpp"
#include "tests/explore/test_util.hpp"

using namespace ffp8;
using namespace ffp8::explore;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// Eight small tensors of two roles (8 tensor units + 2 role units), channels, a stochastic
/// rounding and 12-bit formats (so direct-path points with seeded stochastic samples are in).
fs::path make_case(const std::string& name) {
  const fs::path dir = test::scratch(name);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<test::Tensor> w, a;
  for (int t = 0; t < 6; ++t) {
    std::vector<float> v(static_cast<std::size_t>(200 + 150 * t));
    for (float& x : v) x = normal(rng) * static_cast<float>(t + 1);
    w.push_back({"/weights/w" + std::to_string(t), {10, v.size() / 10}, v});
  }
  for (int t = 0; t < 2; ++t) {
    std::vector<float> v(3000);
    for (float& x : v) x = std::max(0.0f, 20 * normal(rng));
    a.push_back({"/activations/a" + std::to_string(t), {v.size()}, v});
  }
  test::write_h5(dir / "w.h5", w);
  test::write_h5(dir / "a.h5", a);
  std::ofstream(dir / "cfg.json") << R"({
    "inputs": [{"file": "w.h5", "tensors": ["/weights/*"], "role": "weight"},
               {"file": "a.h5", "tensors": ["/activations/*"], "role": "activation"}],
    "space": {"width": [8, 12], "sign": [0, 1], "exp": [3, 4], "bias": "fit",
              "rounding": ["rne", "stochastic"], "seed": 3},
    "granularity": ["channel", "tensor", "role"],
    "metrics": ["mse", "sqnr_db", "max_abs_err"],
    "objectives": [{"column": "mse"}, {"column": "width"}],
    "selection": {"strategy": "ffp8_paper", "metric": "mse"}
  })";
  return dir;
}

/// A model input (the bundled resnet_small over 10 pseudo-random images in batches of 2: 5 pass
/// units) with 12-bit formats, so activations take the direct path too.
fs::path make_model_case(const std::string& name) {
  const fs::path dir = test::scratch(name);
  const std::uint64_t n = 10;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-0.81f, 2.02f);
  std::vector<float> img(n * 28 * 28);
  for (auto& v : img) v = u(rng);
  std::vector<std::int64_t> labels(n, 3);
  h5::File f = h5::File::create((dir / "data.h5").string());
  f.create_dataset("/images", {n, 1, 28, 28}, h5::DType::Float32);
  f.write("/images", 0, std::span<const float>(img));
  f.create_dataset("/labels", {n}, h5::DType::Int);
  f.write("/labels", 0, std::span<const std::int64_t>(labels));
  f.close();
  const json cfg = {
      {"inputs", {{{"model", (fs::path(FFP8_SOURCE_DIR) / "experiments/models/resnet_small.h5").string()},
                   {"data", "data.h5"}, {"calib", n}, {"batch", 2}}}},
      {"space", {{"width", {8, 12}}, {"exp", {3, 4}}, {"bias", "fit"}}},
      {"granularity", {"tensor", "role"}},
      {"metrics", {"mse", "mean_rel_err", "kl_div"}},
      {"selection", {{"strategy", "ffp8_paper"}, {"metric", "mse"}}}};
  std::ofstream(dir / "cfg.json") << cfg.dump(2);
  return dir;
}

struct CliRun {
  int code = -1;    ///< exit code, or 128 + signal
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::stringstream ss;
  ss << std::ifstream(p, std::ios::binary).rdbuf();
  return ss.str();
}

/// Runs a shell command line with stdout and stderr captured.
CliRun shell(const std::string& cmd, const fs::path& dir) {
  const fs::path o = dir / "stdout.txt", e = dir / "stderr.txt";
  const int status = std::system((cmd + " >" + o.string() + " 2>" + e.string()).c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(o);
  r.err = slurp(e);
  return r;
}

std::string sweep(const fs::path& dir, const std::string& out, const std::string& extra = "") {
  // A fixed thread count keeps the runs comparable in cost (results do not depend on it).
  return std::string(FFP8_CLI) + " sweep " + (dir / "cfg.json").string() + " --out " + (dir / out).string() +
         " --threads 2 " + extra;
}

/// mpirun with N ranks (oversubscribed: the test machine may have fewer cores; allowed as root).
std::string mpirun(int ranks, const std::string& cmd) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);  // containers often forbid CMA
  // In the sanitizer pass, ranks record whole allocation stacks: OpenMPI unloads the plugins
  // whose allocations it never frees, and only a full stack reaches a library that
  // tests/sanitizers/lsan.supp suppresses (too slow for every test: only under mpirun).
  std::string env;
  if (const char* asan = std::getenv("ASAN_OPTIONS"); asan && *asan)
    env = "ASAN_OPTIONS='" + std::string(asan) + ":fast_unwind_on_malloc=0' ";
  return env + std::string(FFP8_MPIEXEC) + " --oversubscribe --bind-to none -np " + std::to_string(ranks) + " " + cmd;
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

/// The reference: one plain process, no MPI, into dir/ref; its points.csv.
std::string reference_points(const fs::path& dir) {
  const CliRun r = shell(sweep(dir, "ref"), dir);
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string ref = slurp(dir / "ref" / "points.csv");
  EXPECT_GT(lines(ref), 500u);
  EXPECT_NE(ref.find(",direct,"), std::string::npos);
  return ref;
}

}  // namespace

TEST(Dist, OneTwoAndThreeRanksGiveIdenticalOutputs) {
  const fs::path dir = make_case("dist_ranks");
  const std::string ref = reference_points(dir);
  const std::string ref_front = slurp(dir / "ref" / "pareto.csv");
  for (int n : {1, 2, 3}) {
    const std::string out = "np" + std::to_string(n);
    const CliRun r = shell(mpirun(n, sweep(dir, out, "-q")), dir);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(slurp(dir / out / "points.csv"), ref) << n << " ranks";
    EXPECT_EQ(slurp(dir / out / "pareto.csv"), ref_front) << n << " ranks";
    const json s = json::parse(std::ifstream(dir / out / "summary.json"));
    EXPECT_EQ(s["provenance"]["ranks"], n);
    EXPECT_FALSE(fs::exists(dir / out / "sweep.journal"));  // removed once the outputs are whole
  }
}

TEST(Dist, KilledRunResumesToTheSameOutputs) {
  const fs::path dir = make_case("dist_resume");
  const std::string ref = reference_points(dir);
  for (int k : {1, 4, 9}) {
    const std::string out = "k" + std::to_string(k);
    const CliRun killed = shell("FFP8_TEST_KILL_AFTER=" + std::to_string(k) + " " + sweep(dir, out), dir);
    EXPECT_EQ(killed.code, 128 + SIGKILL) << killed.err;
    EXPECT_FALSE(fs::exists(dir / out / "points.csv"));  // never a partial output
    const std::string journal = slurp(dir / out / "sweep.journal");
    EXPECT_EQ(lines(journal), 1u + static_cast<std::size_t>(k));  // header + k records
    if (k == 4) {
      // A torn last record (as a kill in the middle of a write leaves) is detected and dropped.
      std::ofstream(dir / out / "sweep.journal", std::ios::app) << "5 0123abcd 4655";
    }
    const CliRun resumed = shell(sweep(dir, out), dir);
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find(std::to_string(k) + " taken from journals"), std::string::npos) << resumed.out;
    EXPECT_EQ(k == 4, resumed.out.find("torn last record") != std::string::npos) << resumed.out;
    EXPECT_EQ(slurp(dir / out / "points.csv"), ref) << "killed after " << k;
  }
  // A damaged record before the last line is an error naming the journal and line, not skipped.
  const CliRun killed = shell("FFP8_TEST_KILL_AFTER=3 " + sweep(dir, "bad"), dir);
  EXPECT_EQ(killed.code, 128 + SIGKILL);
  std::string j = slurp(dir / "bad" / "sweep.journal");
  j[j.find('\n') + 20] ^= 1;
  std::ofstream(dir / "bad" / "sweep.journal", std::ios::binary | std::ios::trunc) << j;
  const CliRun bad = shell(sweep(dir, "bad"), dir);
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("sweep.journal\" line 2 is damaged"), std::string::npos) << bad.err;
  // A journal of another config is refused.
  shell("FFP8_TEST_KILL_AFTER=2 " + sweep(dir, "other"), dir);
  const CliRun other = shell(sweep(dir, "other", "--set space.seed=4"), dir);
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.err.find("belongs to another sweep"), std::string::npos) << other.err;
}

TEST(Dist, KilledRanksStopTheJobAndResume) {
  const fs::path dir = make_case("dist_rank_dies");
  const std::string ref = reference_points(dir);
  // Worker rank 2 dies after its first unit: the launcher names it; finished units stay journaled.
  CliRun r = shell("FFP8_TEST_KILL_RANK=2 FFP8_TEST_KILL_AFTER=1 " + mpirun(3, sweep(dir, "w", "-q")), dir);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("rank 2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "w" / "points.csv"));
  ASSERT_TRUE(fs::exists(dir / "w" / "sweep.journal"));
  r = shell(mpirun(2, sweep(dir, "w", "-q")), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir / "w" / "points.csv"), ref);
  // Rank 0 (the writer) dies after journaling 5 units; 3 ranks resume what is left.
  r = shell("FFP8_TEST_KILL_AFTER=5 " + mpirun(3, sweep(dir, "root", "-q")), dir);
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(lines(slurp(dir / "root" / "sweep.journal")), 6u);
  r = shell(mpirun(3, sweep(dir, "root", "-q")), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("5 taken from journals"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(dir / "root" / "points.csv"), ref);
}

TEST(Dist, AWorkersErrorStopsTheJobNamingRankAndUnit) {
  const fs::path dir = make_case("dist_worker_error");
  test::write_h5(dir / "a.h5", {{"/activations/a0", {3}, {NAN, INFINITY, NAN}}});  // no finite value: a DataError
  const CliRun r = shell(mpirun(3, sweep(dir, "e", "-q")), dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ffp8 sweep: error: rank "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("failed on unit 6 (/activations/a0): tensor"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(stopping all 3 ranks)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "e" / "points.csv"));
}

TEST(Dist, ShardsMergedEqualTheWhole) {
  const fs::path dir = make_case("dist_shards");
  const std::string ref = reference_points(dir);
  const std::string merge = std::string(FFP8_CLI) + " merge " + (dir / "cfg.json").string() + " --out " + (dir / "s").string();
  for (int i : {0, 2}) ASSERT_EQ(shell(sweep(dir, "s", "--shard " + std::to_string(i) + "/3"), dir).code, 0);
  CliRun r = shell(merge, dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("shard 1/3 is missing"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "s" / "points.csv"));
  ASSERT_EQ(shell(sweep(dir, "s", "--shard 1/3"), dir).code, 0);
  r = shell(merge, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir / "s" / "points.csv"), ref);
  EXPECT_EQ(slurp(dir / "s" / "pareto.csv"), slurp(dir / "ref" / "pareto.csv"));
  EXPECT_EQ(json::parse(std::ifstream(dir / "s" / "summary.json"))["provenance"]["shards"], 3);
  EXPECT_EQ(shell(sweep(dir, "s", "--shard 3/3"), dir).code, 1);  // i must be below N
}

TEST(Dist, ShardsSplitEveryTensorUnitOnceAndBalance) {
  const fs::path dir = make_case("dist_plan");
  const SweepConfig c = load_config(dir / "cfg.json");
  const auto sources = open_inputs(c);
  const SweepPlan plan(c, sources);
  ASSERT_EQ(plan.tensor_units(), 8u);
  ASSERT_EQ(plan.units().size(), 10u);
  const auto shard = assign_shards(plan, 3);
  std::vector<double> load(3, 0.0);
  for (std::size_t u = 0; u < shard.size(); ++u)
    if (shard[u] != kNoShard) load[shard[u]] += plan.units()[u].cost;
  // Greedy largest-first: no shard exceeds the lightest by more than the largest unit.
  EXPECT_LE(*std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end()), 3000.0);
  EXPECT_THROW(dist::parse_shard("2/2"), ConfigError);
  EXPECT_THROW(dist::parse_shard("a/2"), ConfigError);
  EXPECT_EQ(dist::parse_shard("1/2").index, 1u);
}

TEST(Dist, SerialRoundTripsAUnitBitForBit) {
  const fs::path dir = make_case("dist_serial");
  const SweepConfig c = load_config(dir / "cfg.json");
  const auto sources = open_inputs(c);
  const SweepPlan plan(c, sources);
  const UnitResult u = run_tensor_unit(c, plan, sources, 3);
  const std::string bytes = encode_result(u, sources);
  const UnitResult back = decode_result(bytes, sources);
  EXPECT_EQ(encode_result(back, sources), bytes);
  ASSERT_EQ(back.points.size(), u.points.size());
  EXPECT_EQ(back.groups.back().stats->count(), u.groups.back().stats->count());
  EXPECT_EQ(back.groups.back().pieces.front().source, sources[3].get());
  EXPECT_THROW(decode_result(bytes.substr(0, bytes.size() - 1), sources), DataError);
  EXPECT_EQ(dist::from_hex(dist::to_hex(bytes)), bytes);
}

TEST(Dist, JournalKeepsWholeRecordsAndCutsATornTail) {
  const fs::path dir = test::scratch("dist_journal");
  const dist::JournalHeader h{"abc", 4, 0, 1};
  {
    dist::Journal j(dir / "j", h, sweep_journal_owner());
    j.append(2, "two");
    j.append(0, std::string("\0zero\n", 6));
  }
  std::ofstream(dir / "j", std::ios::app) << "1 00000000 6f";  // torn: no newline
  {
    dist::Journal j(dir / "j", h, sweep_journal_owner());
    EXPECT_TRUE(j.dropped_torn_tail());
    ASSERT_EQ(j.records().size(), 2u);
    EXPECT_EQ(j.records().at(0), std::string("\0zero\n", 6));
    j.append(1, "one");
  }
  const auto c = dist::read_journal(dir / "j");
  EXPECT_FALSE(c.torn_tail);
  EXPECT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records.at(1), "one");
  EXPECT_THROW(dist::Journal(dir / "j", dist::JournalHeader{"abd", 4, 0, 1}, sweep_journal_owner()), DataError);
  EXPECT_THROW(dist::Journal(dir / "j", dist::JournalHeader{"abc", 4, 1, 2}, sweep_journal_owner()), DataError);
}

TEST(Dist, AnUnreadableJournalRecordNamesTheJournalAndUnit) {
  // A record of an older ffp8 (another record tag) passes its checksum but cannot be decoded.
  const fs::path dir = make_case("dist_foreign_record");
  const CliRun killed = shell("FFP8_TEST_KILL_AFTER=2 " + sweep(dir, "o"), dir);
  ASSERT_EQ(killed.code, 128 + SIGKILL) << killed.err;
  const fs::path path = dir / "o" / "sweep.journal";
  const dist::JournalContents old = dist::read_journal(path);
  ASSERT_EQ(old.records.size(), 2u);
  fs::remove(path);
  {
    dist::Journal j(path, old.header, sweep_journal_owner());
    for (auto [u, bytes] : old.records) {
      if (u == old.records.begin()->first) bytes[3] = '1';  // "FUR4" -> "FUR1"
      j.append(u, bytes);
    }
  }
  const std::size_t u = old.records.begin()->first;
  const SweepConfig c = load_config(dir / "cfg.json");
  const auto sources = open_inputs(c);
  const SweepPlan plan(c, sources);
  const CliRun r = shell(sweep(dir, "o"), dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path.string() + "\" unit " + std::to_string(u) + " (" + plan.units()[u].name + "): "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("delete the journal"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o" / "points.csv"));
}

TEST(Dist, ARegeneratedInputFileIsNotResumedFrom) {
  // Same tensors, shapes and config, new values: the journaled results are stale.
  const fs::path dir = make_case("dist_regenerated");
  const CliRun killed = shell("FFP8_TEST_KILL_AFTER=2 " + sweep(dir, "o"), dir);
  ASSERT_EQ(killed.code, 128 + SIGKILL) << killed.err;
  const auto mtime = fs::last_write_time(dir / "a.h5");
  std::vector<test::Tensor> a;
  for (int t = 0; t < 2; ++t) a.push_back({"/activations/a" + std::to_string(t), {3000}, std::vector<float>(3000, 0.5f)});
  test::write_h5(dir / "a.h5", a);
  fs::last_write_time(dir / "a.h5", mtime + std::chrono::seconds(2));  // even on a coarse-clock file system
  const CliRun r = shell(sweep(dir, "o"), dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("sweep.journal\" belongs to another sweep"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("size and modification time"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o" / "points.csv"));
}

TEST(Dist, AShardsProgressCountsOnlyItsOwnUnits) {
  const fs::path dir = make_case("dist_shard_progress");
  SweepJob job(load_config(dir / "cfg.json"));
  const SweepPlan& plan = job.plan();
  const auto shard_of = assign_shards(plan, 3);
  const auto mine = static_cast<std::size_t>(std::count(shard_of.begin(), shard_of.end(), 1u));
  ASSERT_LT(mine, plan.tensor_units());
  dist::LocalExecutor e(job);
  DriveOptions o;
  o.journal = dir / "shard.journal";
  o.shard = dist::Shard{1, 3};
  std::vector<std::pair<std::size_t, std::size_t>> seen;
  o.on_record = [&](std::size_t recorded, std::size_t total) { seen.emplace_back(recorded, total); };
  const DriveOutcome out = drive(job, e, o);
  EXPECT_EQ(out.computed, mine);
  ASSERT_EQ(seen.size(), mine);
  EXPECT_EQ(seen.back(), std::make_pair(mine, mine));  // the bar ends at 100%
}

TEST(Dist, TheLibraryEntryPointGivesWhatTheCliWrites) {
  // run_sweep_job without a journal (as the Python module calls it) renders the same points and
  // Pareto front the CLI writes; summary.json differs only in provenance.
  const fs::path dir = make_case("dist_library");
  ASSERT_EQ(shell(sweep(dir, "cli"), dir).code, 0);
  const SweepOutputs lib = run_sweep_job(load_config(dir / "cfg.json"));
  EXPECT_TRUE(lib.journal.empty());
  ASSERT_TRUE(lib.result.has_value());
  EXPECT_FALSE(lib.result->points.empty());
  EXPECT_EQ(lib.points_csv, slurp(dir / "cli" / "points.csv"));
  EXPECT_EQ(lib.pareto_csv, slurp(dir / "cli" / "pareto.csv"));
  json cli = json::parse(std::ifstream(dir / "cli" / "summary.json")), mine = lib.summary;
  for (json* j : {&cli, &mine}) {
    j->erase("provenance");
    j->erase("context");
    (*j)["config"].erase("out");
    (*j)["config"].erase("threads");
  }
  EXPECT_EQ(mine.dump(), cli.dump());
}

TEST(Dist, TheConfigKeyIgnoresOnlyOutAndThreads) {
  const json base = {{"model", "m.h5"}, {"batch", 64}};
  json run = base;
  run["out"] = "elsewhere";
  run["threads"] = 7;
  EXPECT_EQ(dist::work_key(run), dist::work_key(base));
  json other = base;
  other["batch"] = 32;
  EXPECT_NE(dist::work_key(other), dist::work_key(base));
}

TEST(Dist, AJournalThatFailsToOpenLeaksNoFileDescriptor) {
  const fs::path dir = test::scratch("dist_journal_fd");
  const auto open_fds = [] {
    return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{});
  };
  // A file size limit below the header's length makes the header write fail after the open.
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
  rlimit small = old;
  small.rlim_cur = 8;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const auto before = open_fds();
  EXPECT_THROW(dist::Journal(dir / "j", dist::JournalHeader{"abc", 4, 0, 1}, sweep_journal_owner()), IoError);
  const auto after = open_fds();
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(after, before);
}

// A model input's network runs once over the calibration images, cut into pass units of image
// ranges: the outputs equal those of reading each activation tensor by itself (one network run
// per tensor), and stay the same after a kill, over 1 or 2 ranks and over shards.
TEST(Dist, ModelPassUnitsResumeSplitOverRanksAndShards) {
  const fs::path dir = make_model_case("dist_model");
  const CliRun plain = shell(sweep(dir, "ref"), dir);
  ASSERT_EQ(plain.code, 0) << plain.err;
  const std::string ref = slurp(dir / "ref" / "points.csv");
  EXPECT_NE(ref.find(".input,activation,tensor,-1,s1e3m8"), std::string::npos);  // a 12-bit activation point
  EXPECT_NE(ref.find(",direct,"), std::string::npos);
  {
    const SweepConfig c = load_config(dir / "cfg.json");
    const auto sources = open_inputs(c);
    const SweepPlan plan(c, sources);
    EXPECT_EQ(plan.units().size() - plan.pass_begin(), 6u);  // 5 pass units, the direct unit
    EXPECT_EQ(points_csv(c, run_sweep(c, sources, {}, false), false), ref);  // per-tensor reads
    EXPECT_EQ(points_csv(c, run_sweep(c, sources), false), ref);
  }
  for (int k : {3, 7}) {  // inside the pass units; among the tensor units
    const std::string out = "k" + std::to_string(k);
    const CliRun killed = shell("FFP8_TEST_KILL_AFTER=" + std::to_string(k) + " " + sweep(dir, out), dir);
    EXPECT_EQ(killed.code, 128 + SIGKILL) << killed.err;
    const CliRun resumed = shell(sweep(dir, out), dir);
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find(std::to_string(k) + " taken from journals"), std::string::npos) << resumed.out;
    EXPECT_EQ(slurp(dir / out / "points.csv"), ref) << "killed after " << k;
  }
  for (int n : {1, 2}) {
    const std::string out = "np" + std::to_string(n);
    const CliRun r = shell(mpirun(n, sweep(dir, out, "-q")), dir);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(slurp(dir / out / "points.csv"), ref) << n << " ranks";
  }
  for (int i : {0, 1}) ASSERT_EQ(shell(sweep(dir, "s", "--shard " + std::to_string(i) + "/2"), dir).code, 0);
  const CliRun r = shell(std::string(FFP8_CLI) + " merge " + (dir / "cfg.json").string() + " --out " + (dir / "s").string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir / "s" / "points.csv"), ref);
}
