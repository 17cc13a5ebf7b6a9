#pragma once
// The sweep cut into units of work, so that a driver can run them anywhere (threads, MPI ranks,
// job-array shards) and in any order while the outputs stay those of one run_sweep:
//  - a tensor unit reads one tensor once (its statistics and, when asked, per-channel
//    statistics), scores every format on its channel groups and on the tensor group;
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
  enum class Kind : std::uint8_t { Tensor, Role };
  Kind kind = Kind::Tensor;
  std::size_t source = 0;  ///< Tensor: index into the sources
  std::string role;        ///< Role: the role's name
  std::string name;        ///< for messages: the tensor name or "role weight"
  double cost = 0;         ///< estimated cost (elements read), for scheduling only
};

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
/// appearance (only when the granularity lists "role").
class SweepPlan {
 public:
  SweepPlan(const SweepConfig& config, const std::vector<std::unique_ptr<TensorSource>>& sources);
  const std::vector<WorkUnit>& units() const { return units_; }
  /// Units [0, tensor_units()) are tensor units; the rest are role units.
  std::size_t tensor_units() const { return tensor_units_; }
  const std::vector<FormatTemplate>& templates() const { return templates_; }
  /// Templates the space skipped (counted once per run).
  const SkipCounts& template_skips() const { return template_skips_; }

 private:
  std::vector<WorkUnit> units_;
  std::size_t tensor_units_ = 0;
  std::vector<FormatTemplate> templates_;
  SkipCounts template_skips_;
};

/// Runs tensor unit `unit` (its statistics pass and scoring). Throws DataError for NaN inputs.
UnitResult run_tensor_unit(const SweepConfig& config, const SweepPlan& plan,
                           const std::vector<std::unique_ptr<TensorSource>>& sources, std::size_t unit,
                           const ProgressFn& progress = {});

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
