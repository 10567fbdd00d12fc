// Rng: the one source of randomness of a simulated history.
//
// A thin wrapper over std::mt19937_64 with the few draws the simulator needs.
// Every draw goes through it, so one seed replays a whole history exactly
// (std::uniform_*_distribution is not portable across standard libraries, so
// the draws are computed here by hand).
//
// Thread-safety: a value type; one owner at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace charta::convergence {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_engine(seed) {}

  std::uint64_t next() { return m_engine(); }

  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint64_t below(std::uint64_t n) {
    // Rejection sampling: no modulo bias, same result on every platform.
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
    std::uint64_t x = m_engine();
    while (x >= limit) x = m_engine();
    return x % n;
  }
  std::size_t index(std::size_t n) { return static_cast<std::size_t>(below(static_cast<std::uint64_t>(n))); }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(span == 0 ? next() : below(span));
  }

  // Uniform in [0, 1).
  double unit() { return static_cast<double>(m_engine() >> 11) * 0x1.0p-53; }
  double real(double lo, double hi) { return lo + (hi - lo) * unit(); }

  // True with probability p.
  bool chance(double p) { return unit() < p; }

  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[index(v.size())];
  }

  // Fisher-Yates.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[index(i)]);
  }

  // Index drawn with the given non-negative weights. REQUIRES: a positive sum.
  std::size_t weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = unit() * total;
    std::size_t last = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (weights[i] <= 0) continue;
      if (x < weights[i]) return i;
      x -= weights[i];
      last = i;
    }
    return last;  // rounding left x just above the sum
  }

 private:
  std::mt19937_64 m_engine;
};

}  // namespace charta::convergence
