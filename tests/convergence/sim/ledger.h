// Ledger: every op a history generated, with what the generator expected.
//
// The ledger is the ground truth the end-of-history checks use: which ops
// exist, which patient each belongs to, and which ones were made deliberately
// invalid (and so must be rejected by every replica, and no others).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "charta/crdt/op.h"

namespace charta::convergence {

struct LedgerEntry {
  crdt::Op op;
  std::size_t origin = 0;       // index of the replica that made it
  bool expectRejected = false;  // made deliberately invalid
  std::string action;           // what the generator did, for failure messages
};

class Ledger {
 public:
  std::size_t add(LedgerEntry entry) {
    m_index.emplace(entry.op.id, m_entries.size());
    m_entries.push_back(std::move(entry));
    return m_entries.size() - 1;
  }
  const std::vector<LedgerEntry>& entries() const { return m_entries; }
  const LedgerEntry& at(std::size_t i) const { return m_entries[i]; }
  std::size_t size() const { return m_entries.size(); }
  // REQUIRES: the op is in the ledger.
  std::size_t indexOf(const crdt::OpId& id) const { return m_index.at(id); }
  const LedgerEntry* find(const crdt::OpId& id) const {
    auto it = m_index.find(id);
    return it == m_index.end() ? nullptr : &m_entries[it->second];
  }

 private:
  std::vector<LedgerEntry> m_entries;
  std::unordered_map<crdt::OpId, std::size_t> m_index;
};

}  // namespace charta::convergence
