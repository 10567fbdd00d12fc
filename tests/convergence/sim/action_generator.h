// ActionGenerator: what the users of a simulated replica do to a chart.
//
// next() draws one action (by ActionWeights), looks at the replica's document
// as the user sees it now, and builds the op with the replica's OpFactory: the
// op is returned, not applied. At the configured rate the action is instead a
// deliberately invalid one (a status going backwards, an edit of a note seen as
// signed, a value of the wrong kind, a non-author editing a note, a retraction
// without a reason, an addendum to an unsigned note, a status the collection
// does not allow, an op depending on a rejected op, an entered-in-error mark
// without a reason or on something that is not an observation); such ops are flagged so
// the checks can require that every replica rejects exactly them.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "charta/crdt/op.h"
#include "history_config.h"
#include "replica.h"
#include "rng.h"

namespace charta::convergence {

struct GeneratedAction {
  crdt::Op op;
  bool expectRejected = false;
  std::string action;  // "writeField demographics.sex", "invalid:status-backwards", ...
};

// What the generator looks at: one replica, one patient, one user.
struct ActionContext {
  Replica& replica;
  crdt::ChartDocument& doc;
  const std::string& user;
  std::int64_t nowMs;  // true time, for effective times of observations
};

class ActionGenerator {
 public:
  ActionGenerator(const HistoryConfig& cfg, Rng& rng) : m_cfg(cfg), m_rng(rng) {}

  // One op, or nullopt when the drawn action had nothing to act on (no entry
  // yet, no note of this user, ...).
  std::optional<GeneratedAction> next(const ActionContext& ctx);

  // Valid actions (actions_valid.cc).
  std::optional<GeneratedAction> writeDemographic(const ActionContext& ctx);
  std::optional<GeneratedAction> writeDisplayPreference(const ActionContext& ctx);
  std::optional<GeneratedAction> addEntry(const ActionContext& ctx);
  std::optional<GeneratedAction> writeEntryField(const ActionContext& ctx);
  std::optional<GeneratedAction> setStatus(const ActionContext& ctx);
  std::optional<GeneratedAction> resolveConflict(const ActionContext& ctx);
  std::optional<GeneratedAction> appendObservation(const ActionContext& ctx);
  std::optional<GeneratedAction> markObservationError(const ActionContext& ctx);
  std::optional<GeneratedAction> startNote(const ActionContext& ctx);
  std::optional<GeneratedAction> editNote(const ActionContext& ctx);
  std::optional<GeneratedAction> signNote(const ActionContext& ctx);
  std::optional<GeneratedAction> addAddendum(const ActionContext& ctx);

  // Deliberately invalid actions (actions_invalid.cc); one drawn at random
  // among those that have something to act on.
  std::optional<GeneratedAction> invalid(const ActionContext& ctx);

 private:
  std::optional<GeneratedAction> statusBackwards(const ActionContext& ctx);
  std::optional<GeneratedAction> editSignedNote(const ActionContext& ctx);
  std::optional<GeneratedAction> wrongKind(const ActionContext& ctx);
  std::optional<GeneratedAction> nonAuthorNoteChange(const ActionContext& ctx);
  std::optional<GeneratedAction> missingReason(const ActionContext& ctx);
  std::optional<GeneratedAction> addendumUnsigned(const ActionContext& ctx);
  std::optional<GeneratedAction> statusNotAllowed(const ActionContext& ctx);
  std::optional<GeneratedAction> dependsOnRejected(const ActionContext& ctx);
  std::optional<GeneratedAction> badObservationMark(const ActionContext& ctx);

  // A random entry of the document (of one collection, or of any), or null.
  const crdt::Entry* randomEntry(const crdt::ChartDocument& doc);
  const crdt::Entry* randomEntry(const crdt::ChartDocument& doc, crdt::Collection c);
  // A random visit to link to, or the null id (often).
  crdt::OpId maybeVisit(const crdt::ChartDocument& doc);

  const HistoryConfig& m_cfg;
  Rng& m_rng;
};

// The highest medication rank among a status register's heads (0 when empty).
int maxHeadRank(const crdt::Register& status);

}  // namespace charta::convergence
