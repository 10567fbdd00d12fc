#include "register_history.h"

#include <algorithm>
#include <set>

namespace charta::convergence {

namespace {

constexpr std::int64_t kMedicationStatuses[] = {1, 4, 5, 6, 8};  // active .. entered-in-error

struct Writer {
  crdt::ReplicaId id;
  std::uint64_t seq = 0;
  std::uint64_t wallMs = 0;
  std::set<std::size_t> known;  // indices into valid
};

int rankOf(const crdt::Value& v) {
  const auto* s = std::get_if<std::int64_t>(&v);
  return s ? crdt::medicationStatusRank(*s) : -1;
}

crdt::Value randomValue(crdt::RegisterKind kind, int floor, bool goBack, Rng& rng) {
  if (kind != crdt::RegisterKind::kForwardStatus) {
    static const char* kPool[] = {"a", "b", "c"};
    if (rng.chance(0.05)) return crdt::Value{};
    return crdt::Value{std::string(kPool[rng.index(3)])};
  }
  std::vector<std::int64_t> choices;
  for (std::int64_t s : kMedicationStatuses)
    if (goBack ? crdt::medicationStatusRank(s) < floor : crdt::medicationStatusRank(s) >= floor) choices.push_back(s);
  return crdt::Value{rng.pick(choices)};
}

}  // namespace

RegisterHistory randomRegisterHistory(crdt::RegisterKind kind, Rng& rng) {
  RegisterHistory h;
  h.kind = kind;
  std::vector<Writer> writers(2 + rng.index(4));
  for (std::size_t i = 0; i < writers.size(); ++i) {
    writers[i].id = crdt::ReplicaId{1 + i * 3 + rng.below(3)};
    // Clocks hours apart: some writers' stamps are far ahead of others'.
    writers[i].wallMs = 1000000 + rng.below(4) * 3600000;
  }
  const std::size_t steps = 2 + rng.index(40);
  for (std::size_t step = 0; step < steps; ++step) {
    Writer& w = writers[rng.index(writers.size())];
    w.wallMs += rng.below(3) * 1000;  // sometimes no time passes: stamps tie on wall time
    if (rng.chance(0.25)) {  // sync: learn what another writer knows
      const Writer& other = writers[rng.index(writers.size())];
      w.known.insert(other.known.begin(), other.known.end());
      continue;
    }
    // Heads of what w knows.
    std::set<crdt::OpId> superseded;
    for (std::size_t i : w.known) superseded.insert(h.valid[i].preds.begin(), h.valid[i].preds.end());
    std::vector<std::size_t> heads;
    for (std::size_t i : w.known)
      if (!superseded.contains(h.valid[i].id)) heads.push_back(i);
    if (rng.chance(0.1) && heads.size() > 1) heads.resize(1 + rng.index(heads.size() - 1));  // a partial view

    ModelWrite write;
    write.id = crdt::OpId{w.id, ++w.seq};
    write.author = "user-" + std::to_string(w.id.value);
    crdt::Hlc maxPred;
    int floor = 0;
    for (std::size_t i : heads) {
      write.preds.push_back(h.valid[i].id);
      maxPred = std::max(maxPred, h.valid[i].hlc);
      floor = std::max(floor, rankOf(h.valid[i].value));
    }
    // A hybrid clock: ahead of the preds, unless the clock refused them.
    const bool clamped = rng.chance(0.15) && maxPred.wallMs > w.wallMs;
    write.hlc = crdt::Hlc{w.wallMs, 0};
    if (!clamped && maxPred >= write.hlc) write.hlc = crdt::Hlc{maxPred.wallMs, maxPred.logical + 1};
    w.wallMs = std::max(w.wallMs, write.hlc.wallMs);
    if (write.hlc < maxPred) ++h.skewedStamps;

    const bool goBack = kind == crdt::RegisterKind::kForwardStatus && floor > 0 && rng.chance(0.15);
    write.value = randomValue(kind, floor, goBack, rng);
    if (goBack) {
      h.invalid.push_back(std::move(write));
      continue;
    }
    w.known.insert(h.valid.size());
    h.valid.push_back(std::move(write));
  }
  return h;
}

ModelRegister modelOf(const RegisterHistory& h) {
  ModelRegister m(h.kind);
  for (const auto& w : h.valid) m.add(w);
  return m;
}

}  // namespace charta::convergence
