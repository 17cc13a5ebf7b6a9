#include "explore/pareto/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ffp8::explore {

namespace {
/// Oriented value: smaller is better, NaN worst.
double cost(double v, Goal g) {
  if (std::isnan(v)) return std::numeric_limits<double>::infinity();
  return g == Goal::Min ? v : -v;
}
}  // namespace

bool dominates(const std::vector<double>& a, const std::vector<double>& b, const std::vector<Goal>& goals) {
  bool better = false;
  for (std::size_t k = 0; k < goals.size(); ++k) {
    const double x = cost(a[k], goals[k]), y = cost(b[k], goals[k]);
    if (x > y) return false;
    better = better || x < y;
  }
  return better;
}

std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& points, const std::vector<Goal>& goals) {
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  if (goals.empty()) return order;
  // Lexicographic order on oriented costs: a point can only be dominated by one before it.
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    for (std::size_t k = 0; k < goals.size(); ++k) {
      const double x = cost(points[i][k], goals[k]), y = cost(points[j][k], goals[k]);
      if (x != y) return x < y;
    }
    return i < j;
  });
  std::vector<std::size_t> front;
  for (std::size_t i : order) {
    bool dominated = false;
    for (std::size_t f : front)
      if (dominates(points[f], points[i], goals)) {
        dominated = true;
        break;
      }
    if (!dominated) front.push_back(i);
  }
  std::sort(front.begin(), front.end());
  return front;
}

std::size_t knee_point(const std::vector<std::vector<double>>& points, const std::vector<std::size_t>& front,
                       const std::vector<Goal>& goals) {
  std::vector<double> lo(goals.size(), std::numeric_limits<double>::infinity());
  std::vector<double> hi(goals.size(), -std::numeric_limits<double>::infinity());
  for (std::size_t i : front)
    for (std::size_t k = 0; k < goals.size(); ++k) {
      const double c = cost(points[i][k], goals[k]);
      if (std::isfinite(c)) {
        lo[k] = std::min(lo[k], c);
        hi[k] = std::max(hi[k], c);
      }
    }
  std::size_t best = front.front();
  double best_d = std::numeric_limits<double>::infinity();
  for (std::size_t i : front) {
    double d = 0;
    for (std::size_t k = 0; k < goals.size(); ++k) {
      const double c = cost(points[i][k], goals[k]);
      const double span = hi[k] - lo[k];
      const double t = !std::isfinite(c) ? 1.0 : span > 0 ? (c - lo[k]) / span : 0.0;
      d += t * t;
    }
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return best;
}

}  // namespace ffp8::explore
