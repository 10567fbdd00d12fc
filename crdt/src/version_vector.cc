#include "charta/crdt/version_vector.h"

#include <algorithm>

namespace charta::crdt {

std::uint64_t VersionVector::get(ReplicaId replica) const {
  auto it = m_entries.find(replica);
  return it == m_entries.end() ? 0 : it->second;
}

bool VersionVector::covers(const VersionVector& other) const {
  return std::all_of(other.m_entries.begin(), other.m_entries.end(),
                     [this](const auto& e) { return get(e.first) >= e.second; });
}

void VersionVector::advance(const OpId& id) {
  if (id.isNull() || id.seq == 0) return;
  auto& seq = m_entries[id.replica];
  seq = std::max(seq, id.seq);
}

void VersionVector::merge(const VersionVector& other) {
  for (const auto& [replica, seq] : other.m_entries) advance(OpId{replica, seq});
}

std::string VersionVector::toString() const {
  std::string out = "{";
  for (const auto& [replica, seq] : m_entries) {
    if (out.size() > 1) out += ", ";
    out += "r" + std::to_string(replica.value) + ":" + std::to_string(seq);
  }
  return out + "}";
}

}  // namespace charta::crdt
