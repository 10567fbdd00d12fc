#include "replica.h"

#include <utility>

namespace charta::convergence {

Replica::Replica(crdt::ReplicaId id, const SimTime& time, std::int64_t clockOffsetMs, std::int64_t driftPpm,
                 std::vector<std::string> users, const std::vector<std::string>& patients)
    : m_clock(time, clockOffsetMs, driftPpm), m_factory(id, m_clock), m_users(std::move(users)) {
  for (const auto& p : patients) m_docs.emplace(p, crdt::ChartDocument(p));
  m_factory.setUser(m_users.front());
}

crdt::ChartDocument& Replica::doc(const std::string& patient) { return m_docs.at(patient); }
const crdt::ChartDocument& Replica::doc(const std::string& patient) const { return m_docs.at(patient); }

void Replica::remember(const crdt::Op& op) {
  if (m_have.insert(op.id).second) m_log.push_back(op);
}

crdt::Result<crdt::ApplyOutcome> Replica::commitLocal(const crdt::Op& op) {
  remember(op);
  return doc(op.patient).apply(op);
}

crdt::Result<crdt::ApplyOutcome> Replica::receive(const crdt::Op& op) {
  remember(op);
  if (!m_factory.observe(op.hlc).isOk()) ++m_skewClamped;
  return doc(op.patient).apply(op);
}

}  // namespace charta::convergence
