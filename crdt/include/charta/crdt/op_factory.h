// OpFactory: makes a replica's ops with the right ids, clock and causal context.
//
// One factory per device replica (and user session): it numbers ops 1, 2, 3...
// across all patients, stamps them with its hybrid clock and fills each op's
// preds from the document as the author sees it now. The op is returned, not
// applied: the caller applies it to its document and stores it (the tablet does
// both in one transaction).
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "charta/crdt/hlc.h"
#include "charta/crdt/op.h"

namespace charta::crdt {

class OpFactory {
 public:
  // REQUIRES: !replica.isNull(); clock outlives the factory.
  // nextSeq is where numbering resumes (1 for a new replica).
  OpFactory(ReplicaId replica, const WallClock& clock, std::uint64_t nextSeq = 1,
            std::uint64_t maxDriftMs = HybridClock::kDefaultMaxDriftMs);

  ReplicaId replica() const { return m_replica; }
  std::uint64_t nextSeq() const { return m_nextSeq; }
  void setUser(std::string user) { m_user = std::move(user); }
  const std::string& user() const { return m_user; }

  // Lets the clock see a remote op (keeps local stamps ahead of it). Returns
  // kClockSkew for a stamp beyond the drift bound (the op itself is still fine
  // to apply; the caller flags it).
  Status observe(const Hlc& remote);

  Op addEntry(const ChartDocument& doc, Collection c, std::vector<FieldValue> fields, OpId visit = {});
  // Writes a field, superseding every value currently shown in it. Used both
  // for ordinary edits and to resolve a conflict (it saw every competing value).
  Op writeField(const ChartDocument& doc, FieldRef target, Value value, std::string reason = {});
  Op setStatus(const ChartDocument& doc, OpId entry, EntryStatus status, std::string reason);
  Op appendObservation(const ChartDocument& doc, AppendObservation obs);
  Op markObservationError(const ChartDocument& doc, OpId observation, std::string reason);
  Op startNote(const ChartDocument& doc, std::string text, OpId visit = {});
  Op editNote(const ChartDocument& doc, OpId note, std::string text);
  Op signNote(const ChartDocument& doc, OpId note, std::string text);
  Op addAddendum(const ChartDocument& doc, OpId note, std::string text);

 private:
  Op make(const ChartDocument& doc, OpBody body);

  ReplicaId m_replica;
  const WallClock& m_clock;
  HybridClock m_hlc;
  std::uint64_t m_nextSeq;
  std::string m_user;
};

}  // namespace charta::crdt
