#include "replay.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace charta::convergence {

std::string_view orderName(ReplayOrder order) {
  switch (order) {
    case ReplayOrder::kGeneration: return "generation";
    case ReplayOrder::kReverse: return "reverse";
    case ReplayOrder::kRandom: return "random";
    case ReplayOrder::kRandomCausal: return "random causal";
  }
  return "?";
}

namespace {

std::vector<const crdt::Op*> randomCausal(const std::vector<const crdt::Op*>& ops, Rng& rng) {
  std::unordered_set<crdt::OpId> present;
  for (const crdt::Op* op : ops) present.insert(op->id);
  // Kahn's algorithm, picking uniformly among the ready ops.
  std::unordered_map<crdt::OpId, std::size_t> waiting;            // op -> unmet deps
  std::unordered_map<crdt::OpId, std::vector<const crdt::Op*>> dependents;
  std::vector<const crdt::Op*> ready;
  for (const crdt::Op* op : ops) {
    std::size_t unmet = 0;
    for (const crdt::OpId& dep : crdt::dependenciesOf(*op)) {
      if (!present.contains(dep)) continue;  // outside the set: it stays a gap
      ++unmet;
      dependents[dep].push_back(op);
    }
    waiting[op->id] = unmet;
    if (unmet == 0) ready.push_back(op);
  }
  std::vector<const crdt::Op*> out;
  while (!ready.empty()) {
    const std::size_t i = rng.index(ready.size());
    const crdt::Op* op = ready[i];
    ready[i] = ready.back();
    ready.pop_back();
    out.push_back(op);
    for (const crdt::Op* d : dependents[op->id])
      if (--waiting[d->id] == 0) ready.push_back(d);
  }
  return out;
}

}  // namespace

std::vector<const crdt::Op*> ordered(const std::vector<const crdt::Op*>& ops, ReplayOrder order, Rng& rng) {
  std::vector<const crdt::Op*> out = ops;
  switch (order) {
    case ReplayOrder::kGeneration: break;
    case ReplayOrder::kReverse: std::reverse(out.begin(), out.end()); break;
    case ReplayOrder::kRandom: rng.shuffle(out); break;
    case ReplayOrder::kRandomCausal: out = randomCausal(ops, rng); break;
  }
  return out;
}

ReplayStats replay(crdt::ChartDocument& doc, const std::vector<const crdt::Op*>& ops, Rng& rng,
                   double duplicateRate) {
  ReplayStats stats;
  auto one = [&](const crdt::Op& op) {
    const auto r = doc.apply(op);
    if (!r.isOk()) {
      if (r.status().code() == crdt::Status::Code::kRejected) ++stats.rejected;
      else ++stats.errors;
      return;
    }
    switch (r.value()) {
      case crdt::ApplyOutcome::kApplied: ++stats.applied; break;
      case crdt::ApplyOutcome::kHeld: ++stats.held; break;
      case crdt::ApplyOutcome::kDuplicate: ++stats.duplicates; break;
    }
  };
  for (const crdt::Op* op : ops) {
    one(*op);
    if (duplicateRate > 0 && rng.chance(duplicateRate)) one(*op);
  }
  return stats;
}

}  // namespace charta::convergence
