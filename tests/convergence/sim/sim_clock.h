// Simulated time: one true time for a history, and per-replica wall clocks
// that are wrong in the ways tablet clocks are wrong.
//
// SimTime is the simulation's true time in milliseconds; the history advances
// it. A SkewedClock reads it through a fixed offset (hours ahead or behind), a
// drift (parts per million of elapsed time) and occasional jumps (a clock
// corrected by the network, possibly backwards).
//
// Thread-safety: none. A SkewedClock must not outlive its SimTime.
#pragma once

#include <cstdint>

#include "charta/crdt/hlc.h"

namespace charta::convergence {

struct SimTime {
  // 2024-03-01T08:00:00Z: any fixed instant would do.
  static constexpr std::uint64_t kStartMs = 1709280000000ull;
  std::uint64_t nowMs = kStartMs;

  void advance(std::uint64_t ms) { nowMs += ms; }
  std::uint64_t elapsedMs() const { return nowMs - kStartMs; }
};

class SkewedClock final : public crdt::WallClock {
 public:
  SkewedClock(const SimTime& time, std::int64_t offsetMs, std::int64_t driftPpm)
      : m_time(time), m_offsetMs(offsetMs), m_driftPpm(driftPpm) {}

  std::uint64_t nowMs() const override;

  // The clock is set to a new offset (an NTP correction or a user fiddling).
  void jump(std::int64_t newOffsetMs) { m_offsetMs = newOffsetMs; }
  std::int64_t offsetMs() const { return m_offsetMs; }
  std::int64_t driftPpm() const { return m_driftPpm; }

 private:
  const SimTime& m_time;
  std::int64_t m_offsetMs;
  std::int64_t m_driftPpm;
};

}  // namespace charta::convergence
