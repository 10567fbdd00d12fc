// Flavours: the history configs of the convergence suite, chosen by seed.
//
// A seed alone replays a history, so the flavour is a function of the seed
// (seed % 20): mostly the mixed workload, some note-heavy histories (a roaming
// nurse's notes racing their own signatures), some status-heavy ones
// (medications moved forward concurrently), and some over a stormy network
// (many losses, duplicates and long delays).
#pragma once

#include <cstdint>
#include <string_view>

#include "history_config.h"

namespace charta::convergence {

std::string_view flavourName(std::uint64_t seed);
HistoryConfig configForSeed(std::uint64_t seed);

}  // namespace charta::convergence
