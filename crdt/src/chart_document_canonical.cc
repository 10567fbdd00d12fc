// ChartDocument::canonicalState(): the whole materialised state as
// deterministic bytes, so replicas can be compared by value or by hash.
#include <algorithm>

#include "charta/crdt/chart_document.h"
#include "coding.h"

namespace charta::crdt {
namespace {

using coding::putBytes;
using coding::putVarint;

void putId(std::string& out, const OpId& id) {
  putVarint(out, id.replica.value);
  putVarint(out, id.seq);
}

void putHlc(std::string& out, const Hlc& hlc) {
  putVarint(out, hlc.wallMs);
  putVarint(out, hlc.logical);
}

void putValue(std::string& out, const Value& v) {
  out.push_back(static_cast<char>(v.index()));
  std::visit(Overloaded{
                 [](std::monostate) {},
                 [&](const std::string& s) { putBytes(out, s); },
                 [&](std::int64_t i) { coding::putZigzag(out, i); },
                 [&](double d) { coding::putDouble(out, d); },
                 [&](bool b) { out.push_back(b ? 1 : 0); },
             },
             v);
}

void putOptionalReal(std::string& out, const std::optional<double>& v) {
  out.push_back(v ? 1 : 0);
  if (v) coding::putDouble(out, *v);
}

void putRegister(std::string& out, const Register& reg) {
  putVarint(out, reg.heads().size());
  for (const RegisterWrite& w : reg.heads()) {
    putId(out, w.id);
    putHlc(out, w.hlc);
    putBytes(out, w.author);
    putValue(out, w.value);
    putBytes(out, w.reason);
  }
}

}  // namespace

std::string ChartDocument::canonicalState() const {
  std::string out;
  putBytes(out, m_patientId);

  std::vector<OpId> applied;
  applied.reserve(m_applied.size());
  m_applied.forEach([&applied](const OpId& id) { applied.push_back(id); });
  std::sort(applied.begin(), applied.end());
  putVarint(out, applied.size());
  for (const OpId& id : applied) putId(out, id);
  putVarint(out, m_rejected.size());
  for (const auto& [id, reason] : m_rejected) {
    putId(out, id);
    putBytes(out, reason);
  }

  putVarint(out, m_demographics.size());
  for (const auto& [field, reg] : m_demographics) {
    putVarint(out, field);
    putRegister(out, reg);
  }
  for (const auto& entries : m_entries) {
    putVarint(out, entries.size());
    for (const auto& [id, entry] : entries) {
      putId(out, id);
      out.push_back(static_cast<char>(entry.collection));
      putBytes(out, entry.author);
      putHlc(out, entry.created);
      putId(out, entry.visit);
      putRegister(out, entry.status);
      putVarint(out, entry.fields.size());
      for (const auto& [field, reg] : entry.fields) {
        putVarint(out, field);
        putRegister(out, reg);
      }
    }
  }
  putVarint(out, m_observations.size());
  for (const auto& [id, obs] : m_observations) {
    putId(out, id);
    putBytes(out, obs.author);
    putHlc(out, obs.hlc);
    const AppendObservation& d = obs.data;
    out.push_back(static_cast<char>(d.category));
    putBytes(out, d.code);
    putValue(out, d.value);
    putBytes(out, d.unit);
    coding::putZigzag(out, d.effectiveMs);
    putOptionalReal(out, d.referenceLow);
    putOptionalReal(out, d.referenceHigh);
    putId(out, d.visit);
    putVarint(out, obs.errorMarks.size());
    for (const auto& [markId, reason] : obs.errorMarks) {
      putId(out, markId);
      putBytes(out, reason);
    }
  }
  putVarint(out, m_notes.size());
  for (const auto& [id, note] : m_notes) {
    putId(out, id);
    putBytes(out, note.author);
    putHlc(out, note.created);
    putId(out, note.visit);
    putRegister(out, note.draft);
    putVarint(out, note.signatures.size());
    for (const auto& [sigId, sig] : note.signatures) {
      putId(out, sigId);
      putValue(out, sig.value);
    }
    putVarint(out, note.acknowledged.size());
    for (const OpId& ack : note.acknowledged) putId(out, ack);
    putVarint(out, note.addenda.size());
    for (const auto& [addId, add] : note.addenda) {
      putId(out, addId);
      putBytes(out, add.author);
      putHlc(out, add.hlc);
      putBytes(out, add.text);
    }
  }
  return out;
}

std::uint64_t ChartDocument::stateHash() const { return coding::hash64(canonicalState()); }

}  // namespace charta::crdt
