#include "sim_clock.h"

namespace charta::convergence {

std::uint64_t SkewedClock::nowMs() const {
  const auto elapsed = static_cast<std::int64_t>(m_time.elapsedMs());
  const std::int64_t drift = elapsed / 1000 * m_driftPpm / 1000;  // ppm of elapsed time
  const std::int64_t now = static_cast<std::int64_t>(m_time.nowMs) + m_offsetMs + drift;
  return now < 0 ? 0 : static_cast<std::uint64_t>(now);
}

}  // namespace charta::convergence
