#pragma once
// Pareto frontiers over any number of objectives, each minimized or maximized, and a knee.
#include <cstddef>
#include <vector>

#include "explore/metrics/metrics.hpp"

namespace ffp8::explore {

/// True when `a` dominates `b`: no worse in every objective and better in at least one.
/// NaN counts as the worst value.
bool dominates(const std::vector<double>& a, const std::vector<double>& b, const std::vector<Goal>& goals);

/// Indices of the non-dominated rows of `points` (each row one value per objective), ascending.
/// Equal rows are all kept. O(n * front) after a sort on the first objective.
std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& points, const std::vector<Goal>& goals);

/// The knee of a front: the member nearest the ideal point after scaling every objective to
/// [0, 1] over the front (0 = best). Returns an index into `points`; `front` must be non-empty.
std::size_t knee_point(const std::vector<std::vector<double>>& points, const std::vector<std::size_t>& front,
                       const std::vector<Goal>& goals);

}  // namespace ffp8::explore
