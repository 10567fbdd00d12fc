#include "charta/crdt/op_factory.h"

#include <algorithm>

namespace charta::crdt {
namespace {

std::vector<OpId> headIds(const Register* reg) {
  std::vector<OpId> ids;
  if (reg == nullptr) return ids;
  ids.reserve(reg->heads().size());
  for (const RegisterWrite& w : reg->heads()) ids.push_back(w.id);
  return ids;
}

const Note* findNote(const ChartDocument& doc, const OpId& id) {
  auto it = doc.notes().find(id);
  return it == doc.notes().end() ? nullptr : &it->second;
}

}  // namespace

OpFactory::OpFactory(ReplicaId replica, const WallClock& clock, std::uint64_t nextSeq, std::uint64_t maxDriftMs)
    : m_replica(replica), m_clock(clock), m_hlc(maxDriftMs), m_nextSeq(nextSeq == 0 ? 1 : nextSeq) {}

Status OpFactory::observe(const Hlc& remote) { return m_hlc.receive(remote, m_clock.nowMs()); }

Op OpFactory::make(const ChartDocument& doc, OpBody body) {
  const std::uint64_t now = m_clock.nowMs();
  // Stay ahead of what the document has seen, unless it is beyond the drift
  // bound (a skewed device must not drag this clock into the future).
  (void)m_hlc.receive(doc.latestHlc(), now);
  Op op;
  op.id = OpId{m_replica, m_nextSeq++};
  op.hlc = m_hlc.tick(now);
  op.author = m_user;
  op.patient = doc.patientId();
  op.body = std::move(body);
  return op;
}

Op OpFactory::addEntry(const ChartDocument& doc, Collection c, std::vector<FieldValue> fields, OpId visit) {
  return make(doc, AddEntry{c, std::move(fields), visit});
}

Op OpFactory::writeField(const ChartDocument& doc, FieldRef target, Value value, std::string reason) {
  std::vector<OpId> preds = headIds(doc.findRegister(target));
  return make(doc, WriteField{target, std::move(value), std::move(preds), std::move(reason)});
}

Op OpFactory::setStatus(const ChartDocument& doc, OpId entry, EntryStatus status, std::string reason) {
  const Entry* e = doc.findEntry(entry);
  // An entry this replica has not seen cannot be addressed by collection; the
  // op names the demographics and the document rejects it with a clear error.
  const Collection c = e != nullptr ? e->collection : Collection::kDemographics;
  return writeField(doc, FieldRef{c, entry, kStatusField}, static_cast<std::int64_t>(status), std::move(reason));
}

Op OpFactory::appendObservation(const ChartDocument& doc, AppendObservation obs) { return make(doc, std::move(obs)); }

Op OpFactory::markObservationError(const ChartDocument& doc, OpId observation, std::string reason) {
  return make(doc, MarkObservationError{observation, std::move(reason)});
}

Op OpFactory::startNote(const ChartDocument& doc, std::string text, OpId visit) {
  return make(doc, StartNote{std::move(text), visit});
}

Op OpFactory::editNote(const ChartDocument& doc, OpId note, std::string text) {
  const Note* n = findNote(doc, note);
  return make(doc, EditNote{note, std::move(text), headIds(n ? &n->draft : nullptr)});
}

Op OpFactory::signNote(const ChartDocument& doc, OpId note, std::string text) {
  const Note* n = findNote(doc, note);
  return make(doc, SignNote{note, std::move(text), headIds(n ? &n->draft : nullptr)});
}

Op OpFactory::addAddendum(const ChartDocument& doc, OpId note, std::string text) {
  const Note* n = findNote(doc, note);
  std::vector<OpId> preds = headIds(n ? &n->draft : nullptr);
  if (n != nullptr) {
    // Name every signature, so the addendum is valid even after an earlier
    // addendum settled the draft versions.
    for (const auto& [id, sig] : n->signatures) {
      if (std::find(preds.begin(), preds.end(), id) == preds.end()) preds.push_back(id);
    }
  }
  return make(doc, AddAddendum{note, std::move(text), std::move(preds)});
}

}  // namespace charta::crdt
