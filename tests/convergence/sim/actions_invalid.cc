// The deliberately invalid actions of ActionGenerator: ops every replica must
// reject, and reject alike. Each is built the way a buggy or stale client
// would build it, mostly through the OpFactory itself.
#include <algorithm>

#include "action_generator.h"
#include "actions_internal.h"
#include "value_pools.h"

namespace charta::convergence {

using crdt::Collection;
using crdt::FieldRef;

namespace {

GeneratedAction bad(crdt::Op op, std::string kind) {
  return GeneratedAction{std::move(op), true, "invalid:" + std::move(kind)};
}

}  // namespace

std::optional<GeneratedAction> ActionGenerator::invalid(const ActionContext& ctx) {
  using Maker = std::optional<GeneratedAction> (ActionGenerator::*)(const ActionContext&);
  std::vector<Maker> makers{&ActionGenerator::statusBackwards, &ActionGenerator::editSignedNote,
                            &ActionGenerator::wrongKind,       &ActionGenerator::nonAuthorNoteChange,
                            &ActionGenerator::missingReason,   &ActionGenerator::addendumUnsigned,
                            &ActionGenerator::statusNotAllowed, &ActionGenerator::dependsOnRejected,
                            &ActionGenerator::badObservationMark};
  m_rng.shuffle(makers);
  for (Maker m : makers)
    if (auto a = (this->*m)(ctx)) return a;
  return std::nullopt;
}

// A medication status lower than the most advanced one the user sees.
std::optional<GeneratedAction> ActionGenerator::statusBackwards(const ActionContext& ctx) {
  std::vector<std::pair<const crdt::Entry*, std::int64_t>> options;
  for (const auto& [id, e] : ctx.doc.entries(Collection::kMedications)) {
    const int floor = maxHeadRank(e.status);
    for (std::int64_t s : allowedStatuses(Collection::kMedications))
      if (crdt::medicationStatusRank(s) < floor) options.emplace_back(&e, s);
  }
  if (options.empty()) return std::nullopt;
  const auto& [e, s] = options[m_rng.index(options.size())];
  auto op = ctx.replica.factory().setStatus(ctx.doc, e->id, static_cast<crdt::EntryStatus>(s), reasonText(m_rng));
  return bad(std::move(op), "status-backwards");
}

// The author edits (or signs again) a note that the document shows as signed.
std::optional<GeneratedAction> ActionGenerator::editSignedNote(const ActionContext& ctx) {
  auto notes = notesWhere(ctx.doc, [&](const crdt::Note& n) { return n.author == ctx.user && n.isSigned(); });
  if (notes.empty()) return std::nullopt;
  const crdt::Note* n = m_rng.pick(notes);
  if (m_rng.chance(0.5)) return bad(ctx.replica.factory().editNote(ctx.doc, n->id, noteText(m_rng)), "edit-signed-note");
  return bad(ctx.replica.factory().signNote(ctx.doc, n->id, noteText(m_rng)), "sign-signed-note");
}

// A value of a kind the field does not take (demographics or an entry field).
std::optional<GeneratedAction> ActionGenerator::wrongKind(const ActionContext& ctx) {
  FieldRef ref{Collection::kDemographics, {}, crdt::field::kBirthDate};
  if (const crdt::Entry* e = randomEntry(ctx.doc); e && m_rng.chance(0.7)) {
    std::vector<crdt::FieldId> fields = writableFields(e->collection);
    fields.push_back(crdt::kStatusField);
    ref = FieldRef{e->collection, e->id, m_rng.pick(fields)};
  } else {
    ref.field = m_rng.pick(writableFields(Collection::kDemographics));
  }
  const auto spec = crdt::findField(ref.collection, ref.field);
  if (!spec || spec->kind == crdt::ValueKind::kNull) return std::nullopt;  // anything goes there
  auto op = ctx.replica.factory().writeField(ctx.doc, ref, wrongKindValue(ref.collection, ref.field, m_rng),
                                            reasonText(m_rng));
  return bad(std::move(op), "wrong-kind " + crdt::toPath(ref));
}

// Someone other than the author edits or signs an unsigned note.
std::optional<GeneratedAction> ActionGenerator::nonAuthorNoteChange(const ActionContext& ctx) {
  auto notes = notesWhere(ctx.doc, [&](const crdt::Note& n) { return n.author != ctx.user && !n.isSigned(); });
  if (notes.empty()) return std::nullopt;
  const crdt::Note* n = m_rng.pick(notes);
  if (m_rng.chance(0.7)) return bad(ctx.replica.factory().editNote(ctx.doc, n->id, noteText(m_rng)), "non-author-edit");
  return bad(ctx.replica.factory().signNote(ctx.doc, n->id, n->text()), "non-author-sign");
}

// A status that ends or retracts an entry, without a reason.
std::optional<GeneratedAction> ActionGenerator::missingReason(const ActionContext& ctx) {
  const crdt::Entry* e = randomEntry(ctx.doc);
  if (!e) return std::nullopt;
  std::vector<std::int64_t> choices = allowedStatuses(e->collection);
  const int floor = isForwardStatus(e->collection) ? maxHeadRank(e->status) : 0;
  std::erase_if(choices, [&](std::int64_t s) {
    return !crdt::statusNeedsReason(static_cast<crdt::EntryStatus>(s)) || crdt::medicationStatusRank(s) < floor;
  });
  if (choices.empty()) return std::nullopt;
  const auto s = static_cast<crdt::EntryStatus>(m_rng.pick(choices));
  return bad(ctx.replica.factory().setStatus(ctx.doc, e->id, s, std::string()), "missing-reason");
}

// An addendum to a note that is not signed (as the user sees it).
std::optional<GeneratedAction> ActionGenerator::addendumUnsigned(const ActionContext& ctx) {
  auto notes = notesWhere(ctx.doc, [](const crdt::Note& n) { return !n.isSigned(); });
  if (notes.empty()) return std::nullopt;
  const crdt::Note* n = m_rng.pick(notes);
  return bad(ctx.replica.factory().addAddendum(ctx.doc, n->id, "Addendum: " + noteText(m_rng)), "addendum-unsigned");
}

// A status value the entry's collection does not have.
std::optional<GeneratedAction> ActionGenerator::statusNotAllowed(const ActionContext& ctx) {
  const crdt::Entry* e = randomEntry(ctx.doc);
  if (!e) return std::nullopt;
  const auto choices = disallowedStatuses(e->collection);
  if (choices.empty()) return std::nullopt;
  const FieldRef ref{e->collection, e->id, crdt::kStatusField};
  auto op = ctx.replica.factory().writeField(ctx.doc, ref, crdt::Value{m_rng.pick(choices)}, reasonText(m_rng));
  return bad(std::move(op), "status-not-allowed");
}

// A valid-looking op whose causal context names an op that was rejected.
std::optional<GeneratedAction> ActionGenerator::dependsOnRejected(const ActionContext& ctx) {
  const auto& rejected = ctx.doc.rejected();
  if (rejected.empty()) return std::nullopt;
  auto it = rejected.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(m_rng.index(rejected.size())));
  auto a = m_rng.chance(0.5) ? appendObservation(ctx) : writeDemographic(ctx);
  if (!a) return std::nullopt;
  a->op.context.push_back(it->first);
  return bad(std::move(a->op), "depends-on-rejected");
}

// An entered-in-error mark without a reason, or on an entry or a note.
std::optional<GeneratedAction> ActionGenerator::badObservationMark(const ActionContext& ctx) {
  const auto& log = ctx.doc.observations();
  if (!log.empty() && m_rng.chance(0.5)) {
    auto it = log.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(m_rng.index(log.size())));
    return bad(ctx.replica.factory().markObservationError(ctx.doc, it->first, std::string()), "mark-without-reason");
  }
  crdt::OpId target;
  if (const crdt::Entry* e = randomEntry(ctx.doc)) target = e->id;
  if (!ctx.doc.notes().empty() && (target.isNull() || m_rng.chance(0.5))) target = ctx.doc.notes().begin()->first;
  if (target.isNull()) return std::nullopt;
  return bad(ctx.replica.factory().markObservationError(ctx.doc, target, reasonText(m_rng)), "mark-not-an-observation");
}

}  // namespace charta::convergence
