#include "charta/crdt/register.h"

#include <algorithm>

namespace charta::crdt {
namespace {

bool writeLess(const RegisterWrite& a, const RegisterWrite& b) {
  if (a.hlc != b.hlc) return a.hlc < b.hlc;
  return a.id < b.id;
}

std::int64_t statusOf(const Value& v) {
  const auto* s = std::get_if<std::int64_t>(&v);
  return s ? *s : -1;
}

}  // namespace

Status Register::check(const Value& value, std::span<const OpId> preds) const {
  if (m_kind != RegisterKind::kForwardStatus) return Status::ok();
  const int rank = medicationStatusRank(statusOf(value));
  if (rank < 0) return Status::rejected("not a status of a forward-only register");
  for (const OpId& pred : preds) {
    auto it = m_history.find(pred);
    if (it == m_history.end()) continue;  // not a write of this register
    const int seenRank = medicationStatusRank(it->second);
    if (rank < seenRank) {
      return Status::rejected(std::string("status may only move forward: cannot go from ") +
                              std::string(statusName(static_cast<EntryStatus>(it->second))) + " back to " +
                              std::string(statusName(static_cast<EntryStatus>(statusOf(value)))));
    }
  }
  return Status::ok();
}

void Register::retire(std::span<const OpId> ids) {
  if (ids.empty()) return;
  std::erase_if(m_heads,
                [&](const RegisterWrite& h) { return std::find(ids.begin(), ids.end(), h.id) != ids.end(); });
}

void Register::apply(RegisterWrite write, std::span<const OpId> preds) {
  retire(preds);
  if (m_kind == RegisterKind::kForwardStatus) m_history.emplace(write.id, statusOf(write.value));
  auto pos = std::upper_bound(m_heads.begin(), m_heads.end(), write, writeLess);
  m_heads.insert(pos, std::move(write));
}

Result<Register> Register::restore(RegisterKind kind, std::vector<RegisterWrite> heads,
                                   std::unordered_map<OpId, std::int64_t> history) {
  if (kind != RegisterKind::kMultiValue && kind != RegisterKind::kForwardStatus &&
      kind != RegisterKind::kLastWriterWins) {
    return Status::corruption("unknown register kind");
  }
  for (std::size_t i = 1; i < heads.size(); ++i) {
    if (!writeLess(heads[i - 1], heads[i])) return Status::corruption("register heads out of order");
  }
  if (kind != RegisterKind::kForwardStatus && !history.empty()) {
    return Status::corruption("only a forward-only register has a status history");
  }
  Register r(kind);
  r.m_heads = std::move(heads);
  r.m_history = std::move(history);
  return r;
}

bool Register::conflicted() const {
  if (m_kind == RegisterKind::kLastWriterWins) return false;
  for (std::size_t i = 1; i < m_heads.size(); ++i) {
    if (!sameValue(m_heads[i].value, m_heads[0].value)) return true;
  }
  return false;
}

const RegisterWrite& Register::current() const {
  if (m_kind == RegisterKind::kForwardStatus) {
    // Most advanced status; among equals the latest by (hlc, id).
    const RegisterWrite* best = &m_heads.front();
    for (const RegisterWrite& h : m_heads) {
      if (medicationStatusRank(statusOf(h.value)) >= medicationStatusRank(statusOf(best->value))) best = &h;
    }
    return *best;
  }
  return m_heads.back();
}

}  // namespace charta::crdt
