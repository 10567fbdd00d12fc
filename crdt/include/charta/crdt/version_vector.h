// VersionVector: for each replica, the highest op sequence known to be covered.
//
// covers(id) is true when id.seq <= entry(id.replica). A vector is only exact
// for a stream that receives each replica's ops without gaps (a sync cursor, a
// server's log per device); ChartDocument keeps exact sets and offers a vector
// as a summary.
//
// Thread-safety: a value type; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "charta/crdt/op_id.h"

namespace charta::crdt {

class VersionVector {
 public:
  // Highest covered sequence of a replica (0 when none).
  std::uint64_t get(ReplicaId replica) const;

  bool covers(const OpId& id) const { return !id.isNull() && id.seq <= get(id.replica); }
  // True when every entry of other is covered by this vector.
  bool covers(const VersionVector& other) const;

  // Raises the entry of id.replica to at least id.seq.
  void advance(const OpId& id);
  // Pointwise maximum.
  void merge(const VersionVector& other);

  const std::map<ReplicaId, std::uint64_t>& entries() const { return m_entries; }
  bool empty() const { return m_entries.empty(); }
  friend bool operator==(const VersionVector&, const VersionVector&) = default;

  // "{r1:4, r7:12}"
  std::string toString() const;

 private:
  std::map<ReplicaId, std::uint64_t> m_entries;  // no zero entries
};

}  // namespace charta::crdt
