#include "reference_model.h"

#include <algorithm>

namespace charta::convergence {

using crdt::OpId;

namespace {
bool writeLess(const ModelWrite* a, const ModelWrite* b) { return a->hlc != b->hlc ? a->hlc < b->hlc : a->id < b->id; }
}  // namespace

std::vector<const ModelWrite*> ModelRegister::heads(const std::set<OpId>& settled) const {
  std::vector<const ModelWrite*> out;
  std::set<OpId> superseded = settled;
  for (const auto& w : m_writes) superseded.insert(w.preds.begin(), w.preds.end());
  for (const auto& w : m_writes)
    if (!superseded.contains(w.id)) out.push_back(&w);
  std::sort(out.begin(), out.end(), writeLess);
  return out;
}

bool ModelRegister::disagree(const std::vector<const ModelWrite*>& heads) {
  for (const ModelWrite* h : heads)
    if (!crdt::sameValue(h->value, heads.front()->value)) return true;
  return false;
}

const ModelWrite& ModelRegister::shown(const std::vector<const ModelWrite*>& heads) const {
  if (m_kind != crdt::RegisterKind::kForwardStatus) return *heads.back();
  const ModelWrite* best = heads.front();
  auto rank = [](const ModelWrite* w) {
    const auto* s = std::get_if<std::int64_t>(&w->value);
    return s ? crdt::medicationStatusRank(*s) : -1;
  };
  for (const ModelWrite* h : heads)
    if (rank(h) > rank(best)) best = h;
  return *best;
}

std::vector<const ModelWrite*> ModelNote::draftHeads() const {
  std::set<OpId> settledDrafts;
  for (const OpId& named : namedByAddenda)
    if (!signatures.contains(named)) settledDrafts.insert(named);
  return draft.heads(settledDrafts);
}

std::vector<const ModelWrite*> ModelNote::openVersions() const {
  const ModelWrite* shown = latestSignature();
  std::vector<const ModelWrite*> open;
  for (const ModelWrite* h : draftHeads()) {
    if (!signatures.contains(h->id) || h == shown || !namedByAddenda.contains(h->id)) open.push_back(h);
  }
  if (shown && std::find(open.begin(), open.end(), shown) == open.end()) open.push_back(shown);
  return open;
}

const ModelWrite* ModelNote::latestSignature() const {
  const ModelWrite* latest = nullptr;
  for (const auto& w : draft.writes())
    if (signatures.contains(w.id) && (latest == nullptr || writeLess(latest, &w))) latest = &w;
  return latest;
}

bool ModelNote::conflicted() const { return ModelRegister::disagree(openVersions()); }

ModelRegister& ReferenceModel::reg(const crdt::FieldRef& ref) {
  auto it = m_registers.find(ref);
  if (it == m_registers.end())
    it = m_registers.emplace(ref, ModelRegister(crdt::registerKindOf(ref.collection, ref.field))).first;
  return it->second;
}

ReferenceModel::ReferenceModel(const std::vector<const crdt::Op*>& ops) {
  for (const crdt::Op* op : ops) {
    std::visit(
        crdt::Overloaded{
            [&](const crdt::AddEntry& b) {
              m_entries[op->id] = ModelEntry{op->id, b.collection, op->author, op->hlc, b.visit};
              bool statusGiven = false;
              for (const auto& fv : b.fields) {
                statusGiven |= fv.field == crdt::kStatusField;
                reg({b.collection, op->id, fv.field}).add({op->id, op->hlc, op->author, fv.value, {}, {}});
              }
              if (!statusGiven) {
                const auto initial = static_cast<std::int64_t>(crdt::initialStatus(b.collection));
                reg({b.collection, op->id, crdt::kStatusField})
                    .add({op->id, op->hlc, op->author, crdt::Value{initial}, {}, {}});
              }
            },
            [&](const crdt::WriteField& b) {
              reg(b.target).add({op->id, op->hlc, op->author, b.value, b.preds, b.reason});
            },
            [&](const crdt::AppendObservation& b) {
              m_observations[op->id] = ModelObservation{op->id, op->author, op->hlc, b, {}};
            },
            [&](const crdt::MarkObservationError&) {},
            [&](const crdt::StartNote& b) {
              ModelNote& n = m_notes[op->id];
              n.id = op->id;
              n.author = op->author;
              n.created = op->hlc;
              n.visit = b.visit;
              n.draft.add({op->id, op->hlc, op->author, crdt::Value{b.text}, {}, {}});
            },
            [&](const crdt::EditNote&) {}, [&](const crdt::SignNote&) {}, [&](const crdt::AddAddendum&) {},
            [&](const crdt::UnknownOp&) {}},
        op->body);
  }
  // Second pass: ops that name a note or an observation (present when the set
  // is closed; a missing one is skipped, and the comparison reports it).
  for (const crdt::Op* op : ops) {
    std::visit(crdt::Overloaded{
                   [&](const crdt::MarkObservationError& b) {
                     if (auto it = m_observations.find(b.target); it != m_observations.end())
                       it->second.marks[op->id] = b.reason;
                   },
                   [&](const crdt::EditNote& b) {
                     if (auto it = m_notes.find(b.note); it != m_notes.end())
                       it->second.draft.add({op->id, op->hlc, op->author, crdt::Value{b.text}, b.preds, {}});
                   },
                   [&](const crdt::SignNote& b) {
                     auto it = m_notes.find(b.note);
                     if (it == m_notes.end()) return;
                     it->second.draft.add({op->id, op->hlc, op->author, crdt::Value{b.text}, b.preds, {}});
                     it->second.signatures.insert(op->id);
                   },
                   [&](const crdt::AddAddendum& b) {
                     auto it = m_notes.find(b.note);
                     if (it == m_notes.end()) return;
                     it->second.addenda[op->id] = ModelWrite{op->id, op->hlc, op->author, crdt::Value{b.text}, b.preds, {}};
                     it->second.namedByAddenda.insert(b.preds.begin(), b.preds.end());
                   },
                   [](const auto&) {}},
               op->body);
  }
}

std::vector<crdt::FieldRef> ReferenceModel::conflictedFields(bool clinicalOnly) const {
  std::vector<crdt::FieldRef> out;
  for (const auto& [ref, r] : m_registers) {
    if (clinicalOnly && !crdt::isClinical(ref.collection, ref.field)) continue;
    if (r.conflicted(r.heads())) out.push_back(ref);
  }
  return out;
}

std::vector<OpId> ReferenceModel::conflictedNotes() const {
  std::vector<OpId> out;
  for (const auto& [id, n] : m_notes)
    if (n.conflicted()) out.push_back(id);
  return out;
}

}  // namespace charta::convergence
