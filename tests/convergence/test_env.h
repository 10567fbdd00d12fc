// Environment knobs shared by the convergence suites.
//
//   CHARTA_CONVERGENCE_HISTORIES=N  run N histories (cases) instead of the default
//   CHARTA_CONVERGENCE_FIRST_SEED=F first seed of the run (default 0), so that
//                                    several machines can share a campaign
//   CHARTA_CONVERGENCE_SEED=S       replay the single seed S, verbosely
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

namespace charta::convergence {

inline std::optional<std::uint64_t> envNumber(const char* name) {
  const char* raw = std::getenv(name);
  if (raw == nullptr || *raw == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(raw, &end, 10);
  if (end == raw || *end != '\0') return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

// The seeds a suite runs: [first, first + count), or the one replayed seed.
struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  bool replay = false;
};

inline SeedRange seedRange(std::uint64_t defaultCount) {
  if (auto s = envNumber("CHARTA_CONVERGENCE_SEED")) return SeedRange{*s, 1, true};
  return SeedRange{envNumber("CHARTA_CONVERGENCE_FIRST_SEED").value_or(0),
                   envNumber("CHARTA_CONVERGENCE_HISTORIES").value_or(defaultCount), false};
}

}  // namespace charta::convergence
