// Register: one field of a chart, as a multi-value or forward-only register.
//
// Multi-value: every write that no later write has superseded is a "head";
// concurrent writes leave several heads, a conflict when their values differ.
// A write supersedes the writes listed in its preds (what its author saw).
//
// Forward-only status (medications): heads as above, but the shown value is
// the most advanced head (active < on-hold < completed < stopped <
// entered-in-error), and a write that saw a status may not go back from it.
//
// Last writer wins (non-clinical fields only): heads as above (a write that a
// later one superseded must stay superseded whatever the clocks say), the
// latest head by (hlc, op id) is shown, never a conflict.
//
// Heads are kept sorted by (hlc, op id) so state is identical whatever order
// the writes arrived in. REQUIRES (for apply): all preds were applied before
// (ChartDocument guarantees causal delivery).
//
// Thread-safety: none; owned by one ChartDocument.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "charta/crdt/hlc.h"
#include "charta/crdt/op_id.h"
#include "charta/crdt/schema.h"
#include "charta/crdt/status.h"
#include "charta/crdt/value.h"

namespace charta::crdt {

struct RegisterWrite {
  OpId id;
  Hlc hlc;
  std::string author;
  Value value;
  std::string reason;
};

class Register {
 public:
  explicit Register(RegisterKind kind = RegisterKind::kMultiValue) : m_kind(kind) {}

  // Checks a write against the register's rules without changing anything:
  // forward-only registers reject a status lower than one the write saw.
  Status check(const Value& value, std::span<const OpId> preds) const;
  // Applies a write. REQUIRES: check() returned ok.
  void apply(RegisterWrite write, std::span<const OpId> preds);
  // Removes the heads listed in ids without writing (an addendum settling
  // draft versions that raced a signature).
  void retire(std::span<const OpId> ids);

  // Writes not superseded, sorted by (hlc, id). Empty when never written.
  const std::vector<RegisterWrite>& heads() const { return m_heads; }
  bool empty() const { return m_heads.empty(); }
  // True when heads hold at least two different values.
  bool conflicted() const;
  // The value to show: forward-only, the most advanced status; multi-value,
  // the latest head by (hlc, id). A clinical view must also show conflicts.
  // REQUIRES: !empty()
  const RegisterWrite& current() const;
  RegisterKind kind() const { return m_kind; }

  // Every status a forward-only register was written with, by op id (empty
  // for other kinds): what check() compares against.
  const std::unordered_map<OpId, std::int64_t>& statusHistory() const { return m_history; }
  // A register as statusHistory() and heads() described it (a checkpoint
  // being loaded). kCorruption when the heads are not sorted by (hlc, id) or
  // repeat an id, or a register that is not forward-only has a history.
  static Result<Register> restore(RegisterKind kind, std::vector<RegisterWrite> heads,
                                  std::unordered_map<OpId, std::int64_t> history);

 private:
  RegisterKind m_kind;
  std::vector<RegisterWrite> m_heads;
  // Forward-only registers remember every status written (by op id) to check
  // that a write does not go back from what it saw.
  std::unordered_map<OpId, std::int64_t> m_history;
};

}  // namespace charta::crdt
