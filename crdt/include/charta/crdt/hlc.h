// Hybrid logical clock (HLC).
//
// An Hlc stamp is (wall milliseconds since the Unix epoch, logical counter).
// Stamps order lexicographically. A HybridClock issues stamps that are strictly
// increasing on one replica and never behind any stamp it has received, while
// staying close to the physical clock.
//
// Tablet clocks are not trusted: receive() refuses to move the local clock to a
// remote stamp more than maxDriftMs ahead of the local wall clock and reports
// kClockSkew instead (the caller flags the op; it is never dropped).
//
// Thread-safety: a HybridClock is not synchronised; one owner at a time.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "charta/crdt/status.h"

namespace charta::crdt {

struct Hlc {
  std::uint64_t wallMs = 0;
  std::uint32_t logical = 0;

  friend auto operator<=>(const Hlc&, const Hlc&) = default;
};

// "<wallMs>.<logical>"
std::string toString(const Hlc& hlc);

// The seam for physical time, so tests can run with skewed or frozen clocks.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual std::uint64_t nowMs() const = 0;
};

// The real clock (std::chrono::system_clock).
class SystemWallClock final : public WallClock {
 public:
  std::uint64_t nowMs() const override;
};

class HybridClock {
 public:
  // One hour: a default bound for clocks of devices that sync at least daily.
  static constexpr std::uint64_t kDefaultMaxDriftMs = 60ull * 60 * 1000;

  explicit HybridClock(std::uint64_t maxDriftMs = kDefaultMaxDriftMs) : m_maxDriftMs(maxDriftMs) {}

  // A new stamp for a local event, greater than every stamp issued or received.
  Hlc tick(std::uint64_t nowMs);

  // Merges a stamp seen on a remote op. Returns kClockSkew (and leaves the
  // clock untouched) when remote.wallMs > nowMs + maxDriftMs.
  Status receive(const Hlc& remote, std::uint64_t nowMs);

  // True when a stamp is not further ahead of nowMs than the drift bound.
  bool withinDrift(const Hlc& stamp, std::uint64_t nowMs) const;

  const Hlc& last() const { return m_last; }
  std::uint64_t maxDriftMs() const { return m_maxDriftMs; }

 private:
  std::uint64_t m_maxDriftMs;
  Hlc m_last;
};

}  // namespace charta::crdt
