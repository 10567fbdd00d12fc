#include "charta/crdt/hlc.h"

#include <chrono>

namespace charta::crdt {

std::string toString(const Hlc& hlc) { return std::to_string(hlc.wallMs) + "." + std::to_string(hlc.logical); }

std::uint64_t SystemWallClock::nowMs() const {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
}

Hlc HybridClock::tick(std::uint64_t nowMs) {
  if (nowMs > m_last.wallMs) {
    m_last = Hlc{nowMs, 0};
  } else {
    ++m_last.logical;
  }
  return m_last;
}

bool HybridClock::withinDrift(const Hlc& stamp, std::uint64_t nowMs) const {
  return stamp.wallMs <= nowMs || stamp.wallMs - nowMs <= m_maxDriftMs;
}

Status HybridClock::receive(const Hlc& remote, std::uint64_t nowMs) {
  if (!withinDrift(remote, nowMs)) {
    return Status::clockSkew("remote clock " + toString(remote) + " is " + std::to_string(remote.wallMs - nowMs) +
                             " ms ahead of local time (bound " + std::to_string(m_maxDriftMs) + " ms)");
  }
  if (remote > m_last) m_last = remote;
  return Status::ok();
}

}  // namespace charta::crdt
