#include "flavours.h"

namespace charta::convergence {

namespace {
enum class Flavour { kMixed, kNotes, kStatuses, kStorm };

Flavour flavourOf(std::uint64_t seed) {
  const std::uint64_t f = seed % 20;
  if (f < 11) return Flavour::kMixed;
  if (f < 14) return Flavour::kNotes;
  if (f < 17) return Flavour::kStatuses;
  return Flavour::kStorm;
}
}  // namespace

std::string_view flavourName(std::uint64_t seed) {
  switch (flavourOf(seed)) {
    case Flavour::kMixed: return "mixed";
    case Flavour::kNotes: return "notes";
    case Flavour::kStatuses: return "statuses";
    case Flavour::kStorm: return "storm";
  }
  return "?";
}

HistoryConfig configForSeed(std::uint64_t seed) {
  HistoryConfig cfg;
  switch (flavourOf(seed)) {
    case Flavour::kMixed: break;
    case Flavour::kNotes:
      cfg.actions = ActionWeights{1, 0.5, 1, 0.5, 0.5, 0.5, 1, 0.2, 4, 6, 3, 2};
      cfg.invalidRate = 0.06;
      break;
    case Flavour::kStatuses:
      cfg.actions = ActionWeights{1, 0.5, 6, 2, 10, 4, 0.5, 0.2, 0.3, 0.3, 0.2, 0.1};
      cfg.invalidRate = 0.06;
      break;
    case Flavour::kStorm:
      cfg.dropRate = 0.3;
      cfg.duplicateRate = 0.3;
      cfg.maxDelaySteps = 40;
      cfg.minSteps = 120;
      cfg.maxSteps = 300;
      break;
  }
  return cfg;
}

}  // namespace charta::convergence
