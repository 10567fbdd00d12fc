// Replica: one simulated device (a tablet or the clinic's desktop).
//
// It owns a skewed wall clock, an OpFactory with its own ReplicaId, the users
// who work on it, one ChartDocument per patient, and the log of every op it has
// seen (its own and received ones, including held and rejected ops) that it
// forwards in anti-entropy exchanges.
//
// Thread-safety: none. Not copyable (the factory refers to the clock).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "charta/crdt/op_factory.h"
#include "sim_clock.h"

namespace charta::convergence {

class Replica {
 public:
  Replica(crdt::ReplicaId id, const SimTime& time, std::int64_t clockOffsetMs, std::int64_t driftPpm,
          std::vector<std::string> users, const std::vector<std::string>& patients);
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  crdt::ReplicaId id() const { return m_factory.replica(); }
  crdt::OpFactory& factory() { return m_factory; }
  SkewedClock& clock() { return m_clock; }
  const std::vector<std::string>& users() const { return m_users; }

  // REQUIRES: patient is one of the history's patients.
  crdt::ChartDocument& doc(const std::string& patient);
  const crdt::ChartDocument& doc(const std::string& patient) const;
  const std::map<std::string, crdt::ChartDocument>& docs() const { return m_docs; }

  // Applies an op this replica just made; it joins the log.
  crdt::Result<crdt::ApplyOutcome> commitLocal(const crdt::Op& op);
  // Applies an op that arrived from elsewhere (maybe again): the clock sees its
  // stamp (skewClamped counts stamps refused as too far ahead).
  crdt::Result<crdt::ApplyOutcome> receive(const crdt::Op& op);

  bool has(const crdt::OpId& id) const { return m_have.contains(id); }
  const std::vector<crdt::Op>& log() const { return m_log; }
  std::uint64_t skewClamped() const { return m_skewClamped; }

 private:
  void remember(const crdt::Op& op);

  SkewedClock m_clock;
  crdt::OpFactory m_factory;
  std::vector<std::string> m_users;
  std::map<std::string, crdt::ChartDocument> m_docs;
  std::vector<crdt::Op> m_log;
  std::unordered_set<crdt::OpId> m_have;
  std::uint64_t m_skewClamped = 0;
};

}  // namespace charta::convergence
