// ChartDocument <-> ChartSnapshot: the state as plain data for checkpoints.
#include <algorithm>
#include <unordered_set>

#include "charta/crdt/chart_document.h"

namespace charta::crdt {

ChartSnapshot ChartDocument::snapshot() const {
  ChartSnapshot s;
  s.patientId = m_patientId;
  s.demographics = m_demographics;
  for (const auto& collection : m_entries) {
    for (const auto& [id, entry] : collection) s.entries.push_back(entry);
  }
  s.observations.reserve(m_observations.size());
  for (const auto& [id, o] : m_observations) s.observations.push_back(o);
  s.notes.reserve(m_notes.size());
  for (const auto& [id, n] : m_notes) s.notes.push_back(n);
  s.applied.reserve(m_applied.size());
  m_applied.forEach([&](const OpId& id) { s.applied.push_back(id); });
  std::sort(s.applied.begin(), s.applied.end());
  s.rejected = m_rejected;
  s.held.reserve(m_held.size());
  for (const auto& [id, op] : m_held) s.held.push_back(op);
  std::sort(s.held.begin(), s.held.end(), [](const Op& a, const Op& b) { return a.id < b.id; });
  s.newer.reserve(m_newer.size());
  for (const auto& [id, op] : m_newer) s.newer.push_back(op);
  s.latestHlc = m_latestHlc;
  return s;
}

Result<ChartDocument> ChartDocument::fromSnapshot(ChartSnapshot s) {
  auto bad = [](const std::string& what) { return Status::corruption("chart checkpoint: " + what); };
  ChartDocument doc(std::move(s.patientId));
  if (doc.m_patientId.empty()) return bad("no patient id");
  doc.m_demographics = std::move(s.demographics);
  if (doc.m_demographics.contains(kStatusField)) return bad("demographics have no status field");
  for (Entry& entry : s.entries) {
    if (entry.id.isNull() || !isValidCollection(static_cast<std::uint8_t>(entry.collection)) ||
        !isEntryCollection(entry.collection)) {
      return bad("entry " + toString(entry.id) + " is not an entry of a chart collection");
    }
    if (!doc.m_entryIndex.emplace(entry.id, entry.collection).second) {
      return bad("entry " + toString(entry.id) + " appears twice");
    }
    const OpId id = entry.id;
    doc.m_entries[static_cast<std::size_t>(entry.collection)].emplace(id, std::move(entry));
  }
  for (Observation& o : s.observations) {
    const OpId id = o.id;
    if (id.isNull() || !doc.m_observations.emplace(id, std::move(o)).second) {
      return bad("observation " + toString(id) + " is null or appears twice");
    }
  }
  for (Note& n : s.notes) {
    const OpId id = n.id;
    if (id.isNull() || !doc.m_notes.emplace(id, std::move(n)).second) {
      return bad("note " + toString(id) + " is null or appears twice");
    }
  }
  for (const OpId& id : s.applied) {
    if (id.isNull() || !doc.m_applied.insert(id)) return bad("applied op " + toString(id) + " is null or repeated");
    doc.m_seen.advance(id);
  }
  for (const auto& [id, reason] : s.rejected) {
    if (id.isNull() || doc.m_applied.contains(id)) return bad("op " + toString(id) + " is both applied and rejected");
  }
  doc.m_rejected = std::move(s.rejected);
  for (Op& op : s.newer) {
    if (op.patient != doc.m_patientId || !std::holds_alternative<UnknownOp>(op.body) ||
        !doc.m_applied.contains(op.id) || doc.m_newer.contains(op.id)) {
      return bad("op " + toString(op.id) + " of a newer kind is not an applied op of this chart, or repeated");
    }
    const OpId id = op.id;
    doc.m_newer.emplace(id, std::move(op));
  }
  for (Op& op : s.held) {
    if (op.patient != doc.m_patientId) return bad("held op " + toString(op.id) + " belongs to another patient");
    if (op.id.isNull() || doc.isSettled(op.id) || doc.m_held.contains(op.id)) {
      return bad("held op " + toString(op.id) + " is null, settled or repeated");
    }
    if (doc.dependenciesSettled(op)) return bad("held op " + toString(op.id) + " has all its dependencies");
    const OpId id = op.id;
    doc.m_held.emplace(id, std::move(op));
  }
  // Rebuild who waits for what, in id order.
  std::vector<OpId> heldIds;
  heldIds.reserve(doc.m_held.size());
  for (const auto& [id, op] : doc.m_held) heldIds.push_back(id);
  std::sort(heldIds.begin(), heldIds.end());
  for (const OpId& id : heldIds) {
    const Op& op = doc.m_held.at(id);
    std::unordered_set<OpId> registered;
    for (const OpId& dep : dependenciesOf(op)) {
      if (!dep.isNull() && !doc.isSettled(dep) && registered.insert(dep).second) doc.m_waiters[dep].push_back(id);
    }
  }
  doc.m_latestHlc = s.latestHlc;
  return doc;
}

}  // namespace charta::crdt
