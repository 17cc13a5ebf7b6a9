#pragma once
// The sweep cut into units of work, so that a driver can run them anywhere (threads, MPI ranks,
// job-array shards) and in any order while the outputs stay those of one run_sweep:
//  - a tensor unit reads one tensor once (its statistics and, when asked, per-channel
//    statistics), scores every format on its channel groups and on the tensor group;
//  - a pass unit runs a TapPass (a model input's float32 network) once over a range of images and
//    collects the statistics of every tensor it records; a tensor of a pass is not read by its
//    tensor unit, which is given the exact merge of the pass units' statistics instead (so the
//    network runs once over the calibration images, not once per tensor, and ranks split images);
//  - a direct unit (one per TapPass, run only when needed) runs the pass once over all its images
//    to score, by the direct path, the points its tensors' units could not score from statistics;
//  - a role unit scores every format on one role's merged statistics (only when "role" is in
//    the granularity); it needs every tensor unit of the run first.
// assemble() orders everything by unit, so the result never depends on who ran what.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "explore/sweep/sweep.hpp"

namespace ffp8::explore {

/// One piece of work of a sweep.
struct WorkUnit {
  enum class Kind : std::uint8_t { Tensor, Role, Pass, Direct };
  Kind kind = Kind::Tensor;
  std::size_t source = 0;  ///< Tensor: index into the sources
  std::string role;        ///< Role: the role's name
  std::string name;        ///< for messages: the tensor name or "role weight"
  double cost = 0;         ///< estimated cost (elements read), for scheduling only
  bool from_pass = false;  ///< Tensor: its statistics come from pass units (given as its input)
  std::vector<std::size_t> members;  ///< Pass, Direct: the sources it records, by slot
  std::uint64_t first = 0, last = 0; ///< Pass, Direct: images [first, last)
};

/// At most this many pass units per TapPass (each holds statistics of every tensor of the pass).
inline constexpr std::uint64_t kMaxPassUnits = 16;

/// A (template, bias) pair the space could not turn into a format, counted once per run.
struct SkipKey {
  std::string key;
  std::uint64_t invalid = 0, excluded = 0;
};

/// What one unit produced: its groups (pieces point into the caller's sources) and their points
/// (Point::group indexes `groups`), argmin sets already reduced to their best point.
struct UnitResult {
  std::vector<Group> groups;
  std::vector<Point> points;
  std::vector<SkipKey> skipped;
};

/// The units of a sweep: tensor units in source order, then role units in order of first
/// appearance (only when the granularity lists "role"), then pass units (per TapPass in order of
/// first appearance, image ranges in order, then its direct unit).
class SweepPlan {
 public:
  /// `passes` false: every tensor is read by its own unit (a pass's tensors too, running its
  /// network once per tensor; the reference the pass units are checked against).
  SweepPlan(const SweepConfig& config, const std::vector<std::unique_ptr<TensorSource>>& sources, bool passes = true);
  const std::vector<WorkUnit>& units() const { return units_; }
  /// Units [0, tensor_units()) are tensor units, [tensor_units(), pass_begin()) role units, the
  /// rest pass and direct units.
  std::size_t tensor_units() const { return tensor_units_; }
  std::size_t pass_begin() const { return pass_begin_; }
  const std::vector<FormatTemplate>& templates() const { return templates_; }
  /// Templates the space skipped (counted once per run).
  const SkipCounts& template_skips() const { return template_skips_; }

 private:
  std::vector<WorkUnit> units_;
  std::size_t tensor_units_ = 0, pass_begin_ = 0;
  std::vector<FormatTemplate> templates_;
  SkipCounts template_skips_;
};

/// Runs tensor unit `unit` (its statistics pass and scoring). A unit `from_pass` is given its
/// tensor's statistics (`given`, the merge of its pass units') instead of reading the tensor.
/// Throws DataError for NaN inputs.
UnitResult run_tensor_unit(const SweepConfig& config, const SweepPlan& plan,
                           const std::vector<std::unique_ptr<TensorSource>>& sources, std::size_t unit,
                           const ProgressFn& progress = {}, const BucketStats* given = nullptr);

/// Runs pass unit `unit`: one run of its TapPass over its images; the result's groups are its
/// members' statistics over those images (slot order, pieces the members' element ranges), no points.
UnitResult run_pass_unit(const SweepConfig& config, const SweepPlan& plan,
                         const std::vector<std::unique_ptr<TensorSource>>& sources, std::size_t unit);

/// The input of direct unit `unit`: its members' tensor groups (facts, no statistics; group k
/// is slot k) and their pending points (Point::group = slot), from the tensor units' results
/// (indexed by unit). No points: the unit need not run.
UnitResult direct_input(const SweepPlan& plan, std::size_t unit, const std::vector<const UnitResult*>& results);

/// Runs direct unit `unit` on its input: one run of the pass over all its images, each pending
/// point scored by the direct path on its tensor's values in element order (as a read of that
/// tensor alone would give them). Returns the input with the points' sums filled.
UnitResult run_direct_unit(const SweepConfig& config, const SweepPlan& plan,
                           const std::vector<std::unique_ptr<TensorSource>>& sources, std::size_t unit,
                           const UnitResult& input);

/// Puts a direct unit's scored points into its members' tensor results (in order), then keeps
/// the best point of each argmin set there (which waited for these sums).
void apply_direct(const SweepConfig& config, const SweepPlan& plan, std::size_t unit, const UnitResult& scored,
                  std::vector<UnitResult*>& results);

/// Folds pass unit `unit`'s result into `merged` (indexed by source, null entries created):
/// statistics are exact sums, so neither the order nor the image ranges change the merge.
void merge_pass_result(const SweepPlan& plan, std::size_t unit, const UnitResult& result,
                       std::vector<std::shared_ptr<BucketStats>>& merged);

/// The role groups of a run, built from every tensor unit's result (in unit order), in plan
/// order of roles; their statistics are the exact merge of the role's tensor statistics.
std::vector<Group> role_groups(const SweepConfig& config, const SweepPlan& plan,
                               const std::vector<const UnitResult*>& tensor_results);

/// Runs a role unit on its group (one of role_groups()).
UnitResult run_role_unit(const SweepConfig& config, const SweepPlan& plan, const Group& role_group);

/// The whole result from every unit's result (`results[i]` is unit i's) and the run's role groups
/// (role_groups() of the tensor results, as the role units got them): groups and points in unit
/// order, then hardware columns, Pareto per group and selection (which may read sources).
SweepResult assemble(const SweepConfig& config, const SweepPlan& plan,
                     const std::vector<std::unique_ptr<TensorSource>>& sources,
                     const std::vector<const UnitResult*>& results, const std::vector<Group>& roles);

}  // namespace ffp8::explore
