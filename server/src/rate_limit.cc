#include "rate_limit.h"

#include <algorithm>

namespace charta::server {

std::int64_t LoginThrottle::delayFor(std::uint64_t failures) const {
  if (failures < m_free) return 0;
  std::uint64_t steps = std::min<std::uint64_t>(failures - m_free, 20);
  return std::min<std::int64_t>(std::int64_t{1000} << steps, 15 * 60 * 1000);
}

std::int64_t LoginThrottle::waitMs(const std::string& key, std::int64_t nowMs) {
  std::lock_guard lock(m_mu);
  auto it = m_keys.find(key);
  if (it == m_keys.end()) return 0;
  std::int64_t until = it->second.lastFailureMs + delayFor(it->second.failures);
  return std::max<std::int64_t>(0, until - nowMs);
}

void LoginThrottle::failure(const std::string& key, std::int64_t nowMs) {
  std::lock_guard lock(m_mu);
  if (m_keys.size() > 100000) {
    // Bound memory under a spray of addresses: forget keys idle for an hour.
    for (auto it = m_keys.begin(); it != m_keys.end();) {
      it = nowMs - it->second.lastFailureMs > 3600 * 1000 ? m_keys.erase(it) : std::next(it);
    }
  }
  State& s = m_keys[key];
  ++s.failures;
  s.lastFailureMs = nowMs;
}

void LoginThrottle::success(const std::string& key) {
  std::lock_guard lock(m_mu);
  m_keys.erase(key);
}

}  // namespace charta::server
