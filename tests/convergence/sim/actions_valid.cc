// The valid actions of ActionGenerator: what careful users do.
#include <algorithm>

#include "action_generator.h"
#include "actions_internal.h"
#include "value_pools.h"

namespace charta::convergence {

using crdt::Collection;
using crdt::FieldRef;
using crdt::OpId;

namespace {

GeneratedAction made(crdt::Op op, std::string action) { return GeneratedAction{std::move(op), false, std::move(action)}; }

}  // namespace

int maxHeadRank(const crdt::Register& status) {
  int rank = 0;
  for (const auto& h : status.heads())
    if (const auto* s = std::get_if<std::int64_t>(&h.value)) rank = std::max(rank, crdt::medicationStatusRank(*s));
  return rank;
}

std::optional<GeneratedAction> ActionGenerator::next(const ActionContext& ctx) {
  ctx.replica.factory().setUser(ctx.user);
  if (m_rng.chance(m_cfg.invalidRate)) {
    if (auto a = invalid(ctx)) return a;
  }
  const ActionWeights& w = m_cfg.actions;
  const std::vector<double> weights{w.writeDemographic,  w.writeDisplayPreference, w.addEntry,
                                    w.writeEntryField,   w.setStatus,              w.resolveConflict,
                                    w.appendObservation, w.markObservationError,   w.startNote,
                                    w.editNote,          w.signNote,               w.addAddendum};
  switch (m_rng.weighted(weights)) {
    case 0: return writeDemographic(ctx);
    case 1: return writeDisplayPreference(ctx);
    case 2: return addEntry(ctx);
    case 3: return writeEntryField(ctx);
    case 4: return setStatus(ctx);
    case 5: return resolveConflict(ctx);
    case 6: return appendObservation(ctx);
    case 7: return markObservationError(ctx);
    case 8: return startNote(ctx);
    case 9: return editNote(ctx);
    case 10: return signNote(ctx);
    default: return addAddendum(ctx);
  }
}

const crdt::Entry* ActionGenerator::randomEntry(const crdt::ChartDocument& doc, Collection c) {
  const auto& entries = doc.entries(c);
  if (entries.empty()) return nullptr;
  auto it = entries.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(m_rng.index(entries.size())));
  return &it->second;
}

const crdt::Entry* ActionGenerator::randomEntry(const crdt::ChartDocument& doc) {
  std::size_t total = 0;
  for (Collection c : kEntryCollections) total += doc.entries(c).size();
  if (total == 0) return nullptr;
  std::size_t i = m_rng.index(total);
  for (Collection c : kEntryCollections) {
    const auto& entries = doc.entries(c);
    if (i < entries.size()) {
      auto it = entries.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(i));
      return &it->second;
    }
    i -= entries.size();
  }
  return nullptr;
}

OpId ActionGenerator::maybeVisit(const crdt::ChartDocument& doc) {
  if (m_rng.chance(0.5)) return {};
  const crdt::Entry* v = randomEntry(doc, Collection::kVisits);
  return v ? v->id : OpId{};
}

std::optional<GeneratedAction> ActionGenerator::writeDemographic(const ActionContext& ctx) {
  std::vector<crdt::FieldId> clinical;
  for (crdt::FieldId f : writableFields(Collection::kDemographics))
    if (crdt::isClinical(Collection::kDemographics, f)) clinical.push_back(f);
  if (m_rng.chance(0.03)) clinical = {kUnknownFieldId};
  const crdt::FieldId f = m_rng.pick(clinical);
  const FieldRef ref{Collection::kDemographics, {}, f};
  auto op = ctx.replica.factory().writeField(ctx.doc, ref, plausibleValue(Collection::kDemographics, f, m_rng));
  return made(std::move(op), "writeField " + crdt::toPath(ref));
}

std::optional<GeneratedAction> ActionGenerator::writeDisplayPreference(const ActionContext& ctx) {
  const FieldRef ref{Collection::kDemographics, {}, crdt::field::kDisplayPreference};
  auto v = plausibleValue(Collection::kDemographics, ref.field, m_rng);
  return made(ctx.replica.factory().writeField(ctx.doc, ref, std::move(v)), "writeField " + crdt::toPath(ref));
}

std::optional<GeneratedAction> ActionGenerator::addEntry(const ActionContext& ctx) {
  static const std::vector<double> kWeights{1, 3, 2, 3, 2, 2};  // by kEntryCollections
  const Collection c = kEntryCollections[m_rng.weighted(kWeights)];
  const OpId visit = c == Collection::kVisits ? OpId{} : maybeVisit(ctx.doc);
  auto op = ctx.replica.factory().addEntry(ctx.doc, c, initialFields(c, m_rng), visit);
  return made(std::move(op), "addEntry " + std::string(crdt::collectionName(c)));
}

std::optional<GeneratedAction> ActionGenerator::writeEntryField(const ActionContext& ctx) {
  const crdt::Entry* e = randomEntry(ctx.doc);
  if (!e) return std::nullopt;
  const auto fields = writableFields(e->collection);
  const crdt::FieldId f = m_rng.chance(0.03) || fields.empty() ? kUnknownFieldId : m_rng.pick(fields);
  const FieldRef ref{e->collection, e->id, f};
  auto op = ctx.replica.factory().writeField(ctx.doc, ref, plausibleValue(e->collection, f, m_rng));
  return made(std::move(op), "writeField " + crdt::toPath(ref));
}

std::optional<GeneratedAction> ActionGenerator::setStatus(const ActionContext& ctx) {
  const crdt::Entry* e = randomEntry(ctx.doc);
  if (!e) return std::nullopt;
  std::vector<std::int64_t> choices = allowedStatuses(e->collection);
  if (isForwardStatus(e->collection)) {
    // Forward only: never behind the most advanced status the user sees.
    const int floor = maxHeadRank(e->status);
    std::erase_if(choices, [&](std::int64_t s) { return crdt::medicationStatusRank(s) < floor; });
  }
  if (choices.empty()) return std::nullopt;
  const std::int64_t s = m_rng.pick(choices);
  const auto status = static_cast<crdt::EntryStatus>(s);
  std::string reason = crdt::statusNeedsReason(status) || m_rng.chance(0.3) ? reasonText(m_rng) : std::string();
  auto op = ctx.replica.factory().setStatus(ctx.doc, e->id, status, std::move(reason));
  return made(std::move(op), "setStatus " + crdt::toPath(FieldRef{e->collection, e->id, crdt::kStatusField}) + " " +
                                 std::string(crdt::statusName(status)));
}

std::optional<GeneratedAction> ActionGenerator::resolveConflict(const ActionContext& ctx) {
  std::vector<crdt::Conflict> open = ctx.doc.conflicts();
  std::erase_if(open, [](const crdt::Conflict& c) { return c.isNote; });
  if (open.empty()) return std::nullopt;
  const crdt::Conflict& c = open[m_rng.index(open.size())];
  const FieldRef ref = c.field;
  crdt::Value value;
  std::string reason;
  if (ref.collection != Collection::kDemographics && ref.field == crdt::kStatusField) {
    // A status conflict is settled on the status shown (the most advanced for
    // medications, so the resolution never goes back).
    const crdt::Register* reg = ctx.doc.findRegister(ref);
    value = reg->current().value;
    const auto* s = std::get_if<std::int64_t>(&value);
    if (s && crdt::statusNeedsReason(static_cast<crdt::EntryStatus>(*s))) reason = reasonText(m_rng);
  } else if (m_rng.chance(0.8)) {
    value = c.values[m_rng.index(c.values.size())].value;  // one of the competing values
  } else {
    value = plausibleValue(ref.collection, ref.field, m_rng);  // a fresh, checked value
  }
  auto op = ctx.replica.factory().writeField(ctx.doc, ref, std::move(value), std::move(reason));
  return made(std::move(op), "resolve " + c.path);
}

std::optional<GeneratedAction> ActionGenerator::appendObservation(const ActionContext& ctx) {
  auto obs = m_rng.chance(0.7) ? vitalSign(m_rng, ctx.nowMs) : labResult(m_rng, ctx.nowMs);
  obs.visit = maybeVisit(ctx.doc);
  std::string action = "appendObservation " + obs.code;
  return made(ctx.replica.factory().appendObservation(ctx.doc, std::move(obs)), std::move(action));
}

std::optional<GeneratedAction> ActionGenerator::markObservationError(const ActionContext& ctx) {
  const auto& log = ctx.doc.observations();
  if (log.empty()) return std::nullopt;
  auto it = log.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(m_rng.index(log.size())));
  auto op = ctx.replica.factory().markObservationError(ctx.doc, it->first, reasonText(m_rng));
  return made(std::move(op), "markObservationError " + crdt::toString(it->first));
}

std::optional<GeneratedAction> ActionGenerator::startNote(const ActionContext& ctx) {
  auto op = ctx.replica.factory().startNote(ctx.doc, noteText(m_rng), maybeVisit(ctx.doc));
  return made(std::move(op), "startNote");
}

std::optional<GeneratedAction> ActionGenerator::editNote(const ActionContext& ctx) {
  auto mine = notesWhere(ctx.doc, [&](const crdt::Note& n) { return n.author == ctx.user && !n.isSigned(); });
  if (mine.empty()) return std::nullopt;
  const crdt::Note* n = m_rng.pick(mine);
  auto op = ctx.replica.factory().editNote(ctx.doc, n->id, noteText(m_rng));
  return made(std::move(op), "editNote " + crdt::toString(n->id));
}

std::optional<GeneratedAction> ActionGenerator::signNote(const ActionContext& ctx) {
  auto mine = notesWhere(ctx.doc, [&](const crdt::Note& n) { return n.author == ctx.user && !n.isSigned(); });
  if (mine.empty()) return std::nullopt;
  const crdt::Note* n = m_rng.pick(mine);
  std::string text = m_rng.chance(0.7) ? n->text() : noteText(m_rng);
  auto op = ctx.replica.factory().signNote(ctx.doc, n->id, std::move(text));
  return made(std::move(op), "signNote " + crdt::toString(n->id));
}

std::optional<GeneratedAction> ActionGenerator::addAddendum(const ActionContext& ctx) {
  auto done = notesWhere(ctx.doc, [](const crdt::Note& n) { return n.isSigned(); });
  if (done.empty()) return std::nullopt;
  const crdt::Note* n = m_rng.pick(done);
  auto op = ctx.replica.factory().addAddendum(ctx.doc, n->id, "Addendum: " + noteText(m_rng));
  return made(std::move(op), "addAddendum " + crdt::toString(n->id));
}

}  // namespace charta::convergence
