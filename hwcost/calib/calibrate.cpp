#include "hwcost/calib/calibrate.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fmt/format.h>
#include <future>
#include <mutex>
#include <numeric>

#include "core/eigen.hpp"
#include "core/errors.hpp"

namespace ffp8::hwcost {

namespace {


double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<std::size_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](auto i, auto j) { return x[i] < x[j]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j + 1 < idx.size() && x[idx[j + 1]] == x[idx[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) r[idx[k]] = 0.5 * static_cast<double>(i + j) + 1.0;
    i = j + 1;
  }
  return r;
}

FitQuality quality(const std::vector<const CalPoint*>& pts) {
  FitQuality q;
  q.points = static_cast<int>(pts.size());
  std::vector<double> err, m, s;
  for (const CalPoint* p : pts) {
    err.push_back(std::abs(p->model_um2 - p->synth_um2) / p->synth_um2);
    m.push_back(p->model_um2);
    s.push_back(p->synth_um2);
  }
  q.median_abs_rel_err = median(err);
  q.max_abs_rel_err = err.empty() ? 0 : *std::max_element(err.begin(), err.end());
  q.spearman = spearman(m, s);
  return q;
}

}  // namespace

std::vector<CalPoint> calibration_grid() {
  std::vector<PeSpec> specs;
  // (weight, activation) pairs: the four signed 8-bit splits, signed weights with unsigned
  // activations, a mixed pair, and narrower/wider codes so widths are not all 8.
  const std::vector<std::pair<const char*, const char*>> pairs{
      {"s1e2m5b1", "s1e2m5b1"},     {"s1e3m4b3", "s1e3m4b3"},   {"e4m3fn", "e4m3fn"},
      {"s1e5m2b15", "s1e5m2b15"},   {"s1e2m5b1", "s0e2m6b1"},   {"s1e3m4b3", "s0e3m5b3"},
      {"e4m3fn", "s0e4m4b10"},      {"s1e5m2b15", "s0e5m3b15"}, {"e4m3fn", "e5m2"},
      {"s1e3m2b3", "s1e3m2b3"},     {"s1e4m4b7", "s1e4m4b7"},   {"s1e3m3b3", "s0e4m3b7"},
      {"s1e3m4b3", "e4m3fn"},       {"s0e3m5b3", "s0e3m5b3"}};
  for (auto acc : {Accumulator::Fp16, Accumulator::Fp32, Accumulator::Kulisch})
    for (const auto& [w, a] : pairs) specs.push_back(PeSpec::fixed(w, a, acc));
  // Flexible PEs: the hardware depends only on the supported range, not the running format.
  const std::vector<std::pair<int, int>> ranges{{2, 5}, {3, 4}, {2, 4}, {3, 5}};
  for (auto acc : {Accumulator::Fp16, Accumulator::Fp32, Accumulator::Kulisch})
    for (const auto& [lo, hi] : ranges) {
      PeSpec s;
      s.flexible = true;
      s.flex.exp_min = lo;
      s.flex.exp_max = hi;
      s.weight = Format::make(1, hi, 7 - hi, (1 << (hi - 1)) - 1);
      s.activation = s.weight;
      s.accumulator = acc;
      specs.push_back(s);
    }
  specs.push_back(PeSpec::int8());
  std::vector<CalPoint> pts;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    CalPoint p;
    p.spec = specs[i];
    p.label = specs[i].kind == PeKind::Int8 || !specs[i].flexible
                  ? specs[i].label()
                  : fmt::format("flexible e{}..{} {}", specs[i].flex.exp_min, specs[i].flex.exp_max,
                                to_string(specs[i].accumulator));
    p.held_out = i % 4 == 3;
    p.features = features(specs[i]);
    p.variants.push_back(specs[i]);
    if (specs[i].kind == PeKind::Float && !specs[i].flexible)
      for (int d : {-1, 1}) {
        PeSpec v = specs[i];
        v.weight.bias += d;
        v.activation.bias += d;
        p.variants.push_back(v);
      }
    pts.push_back(std::move(p));
  }
  return pts;
}

std::array<double, kCoefCount> fit_coefficients(const std::vector<std::array<double, kCoefCount>>& a,
                                                const std::vector<double>& b, const std::vector<double>& w,
                                                const std::array<bool, kCoefCount>& fixed,
                                                const std::array<double, kCoefCount>& x0) {
  // Free columns only; fixed ones move to the right-hand side.
  std::vector<int> free;
  for (int j = 0; j < kCoefCount; ++j)
    if (!fixed[j]) free.push_back(j);
  const int m = static_cast<int>(a.size()), n = static_cast<int>(free.size());
  if (m == 0) throw DataError("no calibration points to fit");
  Eigen::MatrixXd A(m, n);
  Eigen::VectorXd y(m);
  for (int i = 0; i < m; ++i) {
    double rhs = b[i];
    for (int j = 0; j < kCoefCount; ++j)
      if (fixed[j]) rhs -= a[i][j] * x0[j];
    for (int k = 0; k < n; ++k) A(i, k) = w[i] * a[i][free[k]];
    y(i) = w[i] * rhs;
  }
  // Lawson-Hanson active set.
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(n, false);
  for (int iter = 0; iter < 10 * n + 10; ++iter) {
    const Eigen::VectorXd grad = A.transpose() * (y - A * x);
    int best = -1;
    double gmax = 1e-10 * (1 + grad.cwiseAbs().maxCoeff());
    for (int k = 0; k < n; ++k)
      if (!passive[k] && grad(k) > gmax) { gmax = grad(k); best = k; }
    if (best < 0) break;
    passive[best] = true;
    while (true) {
      std::vector<int> p;
      for (int k = 0; k < n; ++k)
        if (passive[k]) p.push_back(k);
      Eigen::MatrixXd Ap(m, static_cast<int>(p.size()));
      for (std::size_t k = 0; k < p.size(); ++k) Ap.col(static_cast<int>(k)) = A.col(p[k]);
      const Eigen::VectorXd z = Ap.colPivHouseholderQr().solve(y);
      bool ok = true;
      for (Eigen::Index k = 0; k < z.size(); ++k) ok = ok && z(k) > 0;
      if (ok) {
        x.setZero();
        for (std::size_t k = 0; k < p.size(); ++k) x(p[k]) = z(static_cast<int>(k));
        break;
      }
      // Step back toward the feasible region and drop the coefficients that hit zero.
      double alpha = 1.0;
      for (std::size_t k = 0; k < p.size(); ++k)
        if (z(static_cast<int>(k)) <= 0) alpha = std::min(alpha, x(p[k]) / (x(p[k]) - z(static_cast<int>(k))));
      for (std::size_t k = 0; k < p.size(); ++k) x(p[k]) += alpha * (z(static_cast<int>(k)) - x(p[k]));
      for (std::size_t k = 0; k < p.size(); ++k)
        if (x(p[k]) <= 1e-12) { passive[p[k]] = false; x(p[k]) = 0; }
    }
  }
  std::array<double, kCoefCount> out = x0;
  for (int k = 0; k < n; ++k) out[free[k]] = x(k);
  return out;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() < 2 || x.size() != y.size()) return 0;
  const auto rx = ranks(x), ry = ranks(y);
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n, my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0;
}

Calibration fit(const Tech& prior, std::vector<CalPoint> points) {
  std::vector<std::array<double, kCoefCount>> a;
  std::vector<double> b, w;
  for (const CalPoint& p : points) {
    if (p.held_out) continue;
    a.push_back(p.features);
    b.push_back(p.synth_um2 / prior.ge_um2);
    w.push_back(1.0 / b.back());  // relative error: big designs must not dominate the fit
  }
  std::array<bool, kCoefCount> fixed{};
  fixed[static_cast<int>(Coef::RegisterBit)] = true;
  Calibration c;
  c.fitted = prior;
  c.fitted.coef = fit_coefficients(a, b, w, fixed, prior.coef);
  std::vector<const CalPoint*> train, held;
  for (CalPoint& p : points) {
    p.model_um2 = evaluate(p.spec, c.fitted).area_um2;
  }
  c.points = std::move(points);
  for (const CalPoint& p : c.points) (p.held_out ? held : train).push_back(&p);
  c.train = quality(train);
  c.held_out = quality(held);
  for (auto acc : {Accumulator::Fp16, Accumulator::Fp32, Accumulator::Kulisch}) {
    std::vector<double> m, s;
    for (const CalPoint& p : c.points)
      if (p.spec.kind == PeKind::Float && !p.spec.flexible && p.spec.accumulator == acc) {
        m.push_back(p.model_um2);
        s.push_back(p.synth_um2);
      }
    c.spearman_by_accumulator.emplace_back(std::string(to_string(acc)), spearman(m, s));
  }
  return c;
}

Calibration calibrate(const Tech& prior, const SynthOptions& synth, int jobs,
                      const std::function<void(const CalPoint&, int, int)>& progress) {
  std::vector<CalPoint> pts = calibration_grid();
  // One job per synthesized variant; results land in their point's slot.
  std::vector<std::pair<std::size_t, std::size_t>> jobs_list;
  for (std::size_t i = 0; i < pts.size(); ++i)
    for (std::size_t v = 0; v < pts[i].variants.size(); ++v) jobs_list.emplace_back(i, v);
  std::vector<std::vector<double>> areas(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) areas[i].assign(pts[i].variants.size(), 0.0);
  std::atomic<std::size_t> next{0};
  std::atomic<int> done{0};
  std::mutex mu;
  const auto worker = [&] {
    for (std::size_t k = next++; k < jobs_list.size(); k = next++) {
      const auto [i, v] = jobs_list[k];
      SynthOptions o = synth;
      o.work_dir.clear();  // each run in its own temporary directory
      const SynthResult r = synthesize(generate_verilog(pts[i].variants[v], "pe"), o);
      std::lock_guard<std::mutex> lock(mu);
      areas[i][v] = r.area_um2;
      if (v == 0) pts[i].synth_cells = r.cell_count;
      bool complete = true;
      for (double a : areas[i]) complete = complete && a > 0;
      if (complete) {
        const auto [lo, hi] = std::minmax_element(areas[i].begin(), areas[i].end());
        double sum = 0;
        for (double a : areas[i]) sum += a;
        pts[i].synth_um2 = sum / static_cast<double>(areas[i].size());
        pts[i].synth_spread = (*hi - *lo) / pts[i].synth_um2;
        const int d = ++done;
        if (progress) progress(pts[i], d, static_cast<int>(pts.size()));
      }
    }
  };
  std::vector<std::future<void>> fs;
  for (int j = 0; j < std::max(1, jobs); ++j) fs.push_back(std::async(std::launch::async, worker));
  for (auto& f : fs) f.get();  // rethrows a worker's error
  return fit(prior, std::move(pts));
}

}  // namespace ffp8::hwcost
