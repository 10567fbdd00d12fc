// Replays of a set of ops into a document, in chosen delivery orders.
//
// The orders exercise ChartDocument's causal delivery: the generation order
// (causal), the reverse (every op with a dependency is held until the very
// end), a uniformly random order (gaps everywhere), and a random causal order
// (a random linear extension of the dependency graph: no op is ever held).
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "rng.h"

namespace charta::convergence {

enum class ReplayOrder { kGeneration, kReverse, kRandom, kRandomCausal };

std::string_view orderName(ReplayOrder order);

// The ops in the given order. REQUIRES: ops are in generation order (every
// dependency of an op that is in the set comes before it).
std::vector<const crdt::Op*> ordered(const std::vector<const crdt::Op*>& ops, ReplayOrder order, Rng& rng);

struct ReplayStats {
  std::uint64_t applied = 0;
  std::uint64_t held = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  std::uint64_t errors = 0;  // outcomes other than the four above
};

// Applies each op once (with duplicateRate, a second time right after).
ReplayStats replay(crdt::ChartDocument& doc, const std::vector<const crdt::Op*>& ops, Rng& rng,
                   double duplicateRate = 0);

}  // namespace charta::convergence
