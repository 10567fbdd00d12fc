#include "history_checks.h"

#include <algorithm>
#include <map>

#include "model_checks.h"
#include "reference_model.h"

namespace charta::convergence {

namespace {

// The first byte where two canonical states differ, for the failure message.
std::size_t firstDifference(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

std::string replicaName(const Replica& r) { return "r" + std::to_string(r.id().value); }

}  // namespace

void checkConverged(const std::vector<const crdt::ChartDocument*>& docs, const std::string& label,
                    Failures& failures) {
  if (docs.empty()) return;
  const crdt::ChartDocument& first = *docs.front();
  const std::string reference = first.canonicalState();
  for (std::size_t i = 1; i < docs.size(); ++i) {
    const crdt::ChartDocument& d = *docs[i];
    const std::string state = d.canonicalState();
    if (state != reference)
      failures.add(label + ": divergence between document 0 and " + std::to_string(i) + ": canonical states of " +
                   std::to_string(reference.size()) + " and " + std::to_string(state.size()) +
                   " bytes differ from byte " + std::to_string(firstDifference(reference, state)) + " (applied " +
                   std::to_string(first.appliedCount()) + " vs " + std::to_string(d.appliedCount()) + ")");
    if (d.stateHash() != first.stateHash() && state == reference)
      failures.add(label + ": equal canonical states with different stateHash()");
    if (d.rejected() != first.rejected())
      failures.add(label + ": rejected sets differ between document 0 and " + std::to_string(i));
    if (!(d.seen() == first.seen()) || d.latestHlc() != first.latestHlc())
      failures.add(label + ": seen() or latestHlc() differ between document 0 and " + std::to_string(i) + ": " +
                   first.seen().toString() + " " + crdt::toString(first.latestHlc()) + " vs " + d.seen().toString() +
                   " " + crdt::toString(d.latestHlc()));
  }
}

void checkNothingLost(const crdt::ChartDocument& doc, const std::vector<const crdt::Op*>& ops,
                      const std::string& label, Failures& failures) {
  if (doc.heldCount() != 0)
    failures.add(label + ": " + std::to_string(doc.heldCount()) + " ops still held, missing " +
                 listIds(doc.missingDependencies()));
  for (const crdt::Op* op : ops) {
    if (!doc.hasApplied(op->id) && !doc.rejected().contains(op->id))
      failures.add(label + ": lost op " + crdt::toString(op->id) + " (" +
                   std::string(crdt::opKindName(crdt::kindOf(op->body))) + ")");
  }
  if (doc.appliedCount() + doc.rejected().size() != ops.size())
    failures.add(label + ": applied " + std::to_string(doc.appliedCount()) + " + rejected " +
                 std::to_string(doc.rejected().size()) + " != " + std::to_string(ops.size()) + " ops generated");
}

void checkOpIdentities(const Ledger& ledger, const std::string& label, Failures& failures) {
  std::map<std::uint64_t, const crdt::Op*> last;  // replica -> its latest op so far
  for (const LedgerEntry& e : ledger.entries()) {
    const crdt::Op& op = e.op;
    auto it = last.find(op.id.replica.value);
    const std::uint64_t expectedSeq = it == last.end() ? 1 : it->second->id.seq + 1;
    if (op.id.seq != expectedSeq)
      failures.add(label + ": " + crdt::toString(op.id) + " numbered out of sequence (expected seq " +
                   std::to_string(expectedSeq) + ")");
    if (it != last.end() && !(it->second->hlc < op.hlc))
      failures.add(label + ": " + crdt::toString(op.id) + " stamped " + crdt::toString(op.hlc) + ", not after " +
                   crdt::toString(it->second->id) + " stamped " + crdt::toString(it->second->hlc));
    last[op.id.replica.value] = &op;
  }
}

void checkHistory(Simulation& sim) {
  Counters& counters = sim.counters();
  Failures& failures = sim.failures();
  const std::string seed = "seed " + std::to_string(sim.seed());
  checkOpIdentities(sim.ledger(), seed, failures);
  for (const std::string& patient : sim.patients()) {
    const std::string label = seed + " " + patient;
    const std::vector<const crdt::Op*> ops = sim.opsOf(patient);

    std::vector<const crdt::ChartDocument*> docs;
    for (const auto& r : sim.replicas()) {
      docs.push_back(&r->doc(patient));
      checkNothingLost(r->doc(patient), ops, label + " " + replicaName(*r), failures);
    }
    checkConverged(docs, label, failures);

    // Rejected: exactly the deliberately invalid ops.
    const crdt::ChartDocument& doc = *docs.front();
    std::vector<const crdt::Op*> valid;
    for (const crdt::Op* op : ops) {
      const LedgerEntry& e = *sim.ledger().find(op->id);
      const auto rejected = doc.rejected().find(op->id);
      if (e.expectRejected && rejected == doc.rejected().end())
        failures.add(label + ": accepted invalid op " + crdt::toString(op->id) + " (" + e.action + ")");
      if (!e.expectRejected && rejected != doc.rejected().end())
        failures.add(label + ": rejected valid op " + crdt::toString(op->id) + " (" + e.action + " by " + op->author +
                     "): " + rejected->second);
      if (!e.expectRejected) valid.push_back(op);
    }
    counters.rejections += doc.rejected().size();

    // The summaries: highest applied sequence per replica, latest stamp.
    crdt::VersionVector seen;
    crdt::Hlc latest;
    for (const crdt::Op* op : valid) {
      seen.advance(op->id);
      latest = std::max(latest, op->hlc);
    }
    if (!(doc.seen() == seen) || doc.latestHlc() != latest)
      failures.add(label + ": seen() " + doc.seen().toString() + " latestHlc() " + crdt::toString(doc.latestHlc()) +
                   ", applied ops give " + seen.toString() + " " + crdt::toString(latest));

    const ReferenceModel model(valid);
    checkAgainstModel(doc, model, label + " " + replicaName(*sim.replicas().front()), failures, counters);
    if (sim.config().modelOnEveryReplica) {
      Counters ignored;
      for (std::size_t i = 1; i < sim.replicas().size(); ++i)
        checkAgainstModel(*docs[i], model, label + " " + replicaName(*sim.replicas()[i]), failures, ignored);
    }
    counters.entries += model.entries().size();
    counters.observations += model.observations().size();
    counters.notes += model.notes().size();
    for (const auto& [id, n] : model.notes()) {
      counters.signatures += n.signatures.size();
      counters.addenda += n.addenda.size();
    }
  }
  ++counters.histories;
}

std::string failureReport(Simulation& sim) {
  if (sim.failures().empty()) return {};
  return "history seed " + std::to_string(sim.seed()) + " failed (replay: CHARTA_CONVERGENCE_SEED=" +
         std::to_string(sim.seed()) + "):\n" + sim.failures().joined();
}

}  // namespace charta::convergence
