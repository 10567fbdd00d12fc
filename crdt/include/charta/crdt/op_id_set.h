// OpIdSet: a set of OpIds in one flat open-addressing table.
//
// ChartDocument asks "was this op applied?" for every op and every dependency;
// a node-based std::unordered_set costs an allocation and a cache miss per op.
// This table stores ids inline (linear probing, load factor at most 1/2) and
// never removes. The null id marks an empty slot, so it cannot be inserted.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "charta/crdt/op_id.h"

namespace charta::crdt {

class OpIdSet {
 public:
  bool contains(const OpId& id) const {
    if (m_slots.empty() || id.isNull()) return false;
    for (std::size_t i = slotOf(id);; i = (i + 1) & m_mask) {
      const OpId& slot = m_slots[i];
      if (slot == id) return true;
      if (slot.isNull()) return false;
    }
  }

  // Inserts a non-null id; returns false when it was already present.
  bool insert(const OpId& id) {
    if ((m_size + 1) * 2 > m_slots.size()) grow();
    for (std::size_t i = slotOf(id);; i = (i + 1) & m_mask) {
      OpId& slot = m_slots[i];
      if (slot == id) return false;
      if (slot.isNull()) {
        slot = id;
        ++m_size;
        return true;
      }
    }
  }

  std::size_t size() const { return m_size; }

  // Every id, in no particular order.
  template <typename F>
  void forEach(F&& f) const {
    for (const OpId& slot : m_slots) {
      if (!slot.isNull()) f(slot);
    }
  }

 private:
  std::size_t slotOf(const OpId& id) const { return std::hash<OpId>{}(id) & m_mask; }

  void grow() {
    std::vector<OpId> old = std::move(m_slots);
    m_slots.assign(old.empty() ? 64 : old.size() * 2, OpId{});
    m_mask = m_slots.size() - 1;
    m_size = 0;
    for (const OpId& id : old) {
      if (!id.isNull()) insert(id);
    }
  }

  std::vector<OpId> m_slots;  // size is a power of two (or zero)
  std::size_t m_mask = 0;
  std::size_t m_size = 0;
};

}  // namespace charta::crdt
