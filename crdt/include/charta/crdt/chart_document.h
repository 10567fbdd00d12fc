// ChartDocument: one patient's chart as a CRDT.
//
// apply() is deterministic, commutative for concurrent ops and idempotent:
// replicas that applied the same set of ops, in any order and with any
// duplicates, hold identical state (canonicalState() bytes are equal).
//
// Causal gaps: an op whose dependencies (dependenciesOf) have not all arrived
// is held, not lost, and applied as soon as they are. An op that breaks a
// clinical rule (editing a signed note, a status going backwards, a field of
// the wrong type, ...) is rejected with a clear message; it is remembered as
// rejected so that a duplicate stays a no-op and ops that depend on it are
// rejected too. Every rule depends only on the op and the ops it names, so
// every replica rejects the same ops.
//
// Thread-safety: none; one owner at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "charta/crdt/chart_state.h"
#include "charta/crdt/conflict.h"
#include "charta/crdt/op.h"
#include "charta/crdt/op_id_set.h"
#include "charta/crdt/status.h"
#include "charta/crdt/version_vector.h"

namespace charta::crdt {

enum class ApplyOutcome : std::uint8_t {
  kApplied,    // applied now (and possibly released held ops)
  kDuplicate,  // already applied, rejected or held: nothing changed
  kHeld,       // waiting for dependencies
};

// Everything a ChartDocument holds, as plain data: what a checkpoint stores
// so that opening a chart does not replay its whole history. Derived indexes
// (entry collections, the ops each held op waits for, the version vector)
// are rebuilt by ChartDocument::fromSnapshot.
struct ChartSnapshot {
  std::string patientId;
  std::map<FieldId, Register> demographics;
  std::vector<Entry> entries;              // of every collection
  std::vector<Observation> observations;
  std::vector<Note> notes;
  std::vector<OpId> applied;               // sorted
  std::map<OpId, std::string> rejected;    // with the reason
  std::vector<Op> held;                    // waiting for dependencies, sorted by id
  std::vector<Op> newer;                   // applied ops of a newer release's kinds, sorted by id
  Hlc latestHlc;
};

class ChartDocument {
 public:
  explicit ChartDocument(std::string patientId);

  const std::string& patientId() const { return m_patientId; }

  // Applies (or holds) one op. Returns kRejected when the op breaks a rule
  // (the op is then remembered as rejected), kInvalidArgument when it belongs
  // to another patient (nothing remembered).
  Result<ApplyOutcome> apply(const Op& op);

  // True when the op was applied (not held, not rejected).
  bool hasApplied(const OpId& id) const { return m_applied.contains(id); }
  // True when the op was applied, rejected or is held.
  bool knows(const OpId& id) const;
  std::size_t appliedCount() const { return m_applied.size(); }
  std::size_t heldCount() const { return m_held.size(); }
  // Ops rejected so far, with the reason.
  const std::map<OpId, std::string>& rejected() const { return m_rejected; }
  // Applied ops of kinds a newer release added (UnknownOp): kept, counted in
  // the state, shown by nothing. A chart that holds any is incomplete on this
  // release; the app says so.
  const std::map<OpId, Op>& newerOps() const { return m_newer; }
  // Ops that held ops wait for and that this document has never seen (the
  // ones to fetch), sorted.
  std::vector<OpId> missingDependencies() const;
  // Highest applied sequence per replica (a summary; see version_vector.h).
  const VersionVector& seen() const { return m_seen; }
  // The latest HLC of any applied op (for a replica's clock after a merge).
  const Hlc& latestHlc() const { return m_latestHlc; }

  // Demographics: the register of a field (an empty one when never written).
  const Register& demographic(FieldId field) const;
  const std::map<FieldId, Register>& demographics() const { return m_demographics; }
  // Entries of a collection, by id. REQUIRES: isEntryCollection(c).
  const std::map<OpId, Entry>& entries(Collection c) const;
  const Entry* findEntry(const OpId& id) const;
  const std::map<OpId, Observation>& observations() const { return m_observations; }
  const std::map<OpId, Note>& notes() const { return m_notes; }
  // The register a FieldRef names, or nullptr when its entry does not exist.
  const Register* findRegister(const FieldRef& ref) const;

  // Open conflicts, in path order: every field whose heads disagree, and every
  // note whose draft has competing versions.
  std::vector<Conflict> conflicts() const;
  // conflicts().size(), without building the list (for counters and badges).
  std::size_t conflictCount() const;

  // The whole state as plain data (a checkpoint), and back. fromSnapshot
  // returns kCorruption when the snapshot contradicts itself (an entry of a
  // non-entry collection, an id twice, a held op of another patient, ...).
  // ChartDocument::fromSnapshot(d.snapshot()) equals d: same canonicalState,
  // same outcome for every further op.
  ChartSnapshot snapshot() const;
  static Result<ChartDocument> fromSnapshot(ChartSnapshot snapshot);
  // Ops known to this document: applied, rejected or held.
  std::size_t knownCount() const { return m_applied.size() + m_rejected.size() + m_held.size(); }

  // Deterministic bytes of the whole state (applied and rejected op ids,
  // every register head, entry, observation, note; held ops excluded).
  std::string canonicalState() const;
  // A 64-bit hash of canonicalState().
  std::uint64_t stateHash() const;

 private:
  // Apply or reject an op whose dependencies are all applied or rejected,
  // then settle the held ops that were waiting for it.
  Status settle(const Op& op);
  Status settleOne(const Op& op);
  // Settles the held ops that were waiting for `settled` (now applied or
  // rejected), and those waiting for them in turn.
  void releaseWaiters(const OpId& settled);
  bool isSettled(const OpId& id) const { return m_applied.contains(id) || m_rejected.contains(id); }
  bool dependenciesSettled(const Op& op) const;
  // Remembers the op as rejected for this reason and returns kRejected.
  Status reject(const OpId& id, std::string reason);
  Status validate(const Op& op) const;
  void applyValid(const Op& op);
  Register& registerFor(const FieldRef& ref);

  std::string m_patientId;
  std::map<FieldId, Register> m_demographics;
  std::map<OpId, Entry> m_entries[kCollectionCount];
  std::unordered_map<OpId, Collection> m_entryIndex;
  std::map<OpId, Observation> m_observations;
  std::map<OpId, Note> m_notes;
  OpIdSet m_applied;
  std::map<OpId, std::string> m_rejected;
  std::unordered_map<OpId, Op> m_held;
  std::map<OpId, Op> m_newer;
  std::unordered_map<OpId, std::vector<OpId>> m_waiters;  // missing dep -> held ops
  VersionVector m_seen;
  Hlc m_latestHlc;
};

}  // namespace charta::crdt
