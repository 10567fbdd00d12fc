// runHistory: simulate, settle and check the history of one seed.
#pragma once

#include <cstdint>
#include <string>

#include "report.h"

namespace charta::convergence {

struct HistoryOutcome {
  bool ok = true;
  std::string report;  // failures, with the seed and how to replay it
};

// The flavour comes from the seed (flavours.h). Counters are added to total.
// With dumpOps the report also lists every op of the history (for replays).
HistoryOutcome runHistory(std::uint64_t seed, Counters& total, bool dumpOps = false);

}  // namespace charta::convergence
