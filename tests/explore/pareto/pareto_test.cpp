// Pareto frontiers against brute force on random points (with ties), and the knee.
#include <gtest/gtest.h>
#include <random>

#include "explore/pareto/pareto.hpp"

using namespace ffp8::explore;

TEST(Pareto, MatchesBruteForce) {
  std::mt19937 gen(9);
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const std::size_t k = 1 + trial % 4;  // 1..4 objectives
    const std::size_t n = 1 + static_cast<std::size_t>(gen() % 150);
    std::vector<Goal> goals;
    for (std::size_t j = 0; j < k; ++j) goals.push_back(gen() % 2 ? Goal::Min : Goal::Max);
    std::vector<std::vector<double>> pts(n, std::vector<double>(k));
    // Small integer ranges make ties and duplicates common.
    for (auto& p : pts)
      for (auto& v : p) v = trial % 3 == 0 ? std::uniform_real_distribution<double>(0, 1)(gen) : double(gen() % 6);
    std::vector<std::size_t> brute;
    for (std::size_t i = 0; i < n; ++i) {
      bool dominated = false;
      for (std::size_t j = 0; j < n && !dominated; ++j) {
        bool all = true, some = false;
        for (std::size_t d = 0; d < k; ++d) {
          const double a = goals[d] == Goal::Min ? pts[j][d] : -pts[j][d];
          const double b = goals[d] == Goal::Min ? pts[i][d] : -pts[i][d];
          all = all && a <= b;
          some = some || a < b;
        }
        dominated = all && some;
      }
      if (!dominated) brute.push_back(i);
    }
    const auto front = pareto_front(pts, goals);
    EXPECT_EQ(front, brute) << "trial " << trial;
    ASSERT_FALSE(front.empty());
    const std::size_t knee = knee_point(pts, front, goals);
    EXPECT_NE(std::find(front.begin(), front.end(), knee), front.end());
    ++checked;
  }
  EXPECT_EQ(checked, 60);
}

TEST(Pareto, KneeOfAConvexFront) {
  // (0,10) (1,3) (2,2) (10,0): scaled to [0,1], (1,3) and (2,2) are nearest the ideal point.
  const std::vector<std::vector<double>> pts = {{0, 10}, {1, 3}, {2, 2}, {10, 0}, {5, 5}};
  const std::vector<Goal> goals = {Goal::Min, Goal::Min};
  const auto front = pareto_front(pts, goals);
  EXPECT_EQ(front, (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_EQ(knee_point(pts, front, goals), 2u);
}
