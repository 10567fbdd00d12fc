// Regression seeds: every history seed that ever failed, kept forever.
//
// When a seed fails (in CI or in a long campaign), add it here with one line
// saying what it found; the suite replays every listed seed on each run, with
// the flavour its seed selects (see flavours.h).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace charta::convergence {

struct RegressionSeed {
  std::uint64_t seed;
  std::string_view found;  // what it caught, and when
};

std::span<const RegressionSeed> regressionSeeds();

}  // namespace charta::convergence
