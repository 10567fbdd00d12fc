// A WallClock for tests: time stands still until a test moves it.
#pragma once

#include <cstdint>

#include "charta/crdt/hlc.h"

namespace charta::testing {

class FakeWallClock final : public crdt::WallClock {
 public:
  explicit FakeWallClock(std::uint64_t nowMs = 1'700'000'000'000ull) : m_nowMs(nowMs) {}
  std::uint64_t nowMs() const override { return m_nowMs; }
  void set(std::uint64_t nowMs) { m_nowMs = nowMs; }
  void advance(std::uint64_t ms) { m_nowMs += ms; }

 private:
  std::uint64_t m_nowMs;
};

}  // namespace charta::testing
