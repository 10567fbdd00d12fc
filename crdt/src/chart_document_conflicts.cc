// ChartDocument::conflicts(): every register whose heads disagree, and every
// note whose open draft versions disagree.
#include <algorithm>

#include "charta/crdt/chart_document.h"

namespace charta::crdt {
namespace {

Conflict makeConflict(const std::string& patient, const FieldRef& ref, std::string path, bool clinical, Value shown,
                      std::span<const RegisterWrite> competing) {
  Conflict c;
  c.patient = patient;
  c.field = ref;
  c.path = std::move(path);
  c.clinical = clinical;
  c.shown = std::move(shown);
  c.values.reserve(competing.size());
  for (const RegisterWrite& w : competing) {
    c.values.push_back(ConflictValue{w.value, w.id, w.author, w.id.replica, w.hlc, w.reason});
  }
  return c;
}

}  // namespace

std::vector<Conflict> ChartDocument::conflicts() const {
  std::vector<Conflict> out;
  auto consider = [&](const FieldRef& ref, const Register& reg) {
    if (!reg.conflicted()) return;
    out.push_back(makeConflict(m_patientId, ref, toPath(ref), isClinical(ref.collection, ref.field),
                               reg.current().value, reg.heads()));
  };
  for (const auto& [field, reg] : m_demographics) consider(FieldRef{Collection::kDemographics, {}, field}, reg);
  for (const auto& entries : m_entries) {
    for (const auto& [id, entry] : entries) {
      consider(FieldRef{entry.collection, id, kStatusField}, entry.status);
      for (const auto& [field, reg] : entry.fields) consider(FieldRef{entry.collection, id, field}, reg);
    }
  }
  for (const auto& [id, note] : m_notes) {
    const std::vector<RegisterWrite> open = note.openVersions();
    const bool disagree = std::any_of(open.begin(), open.end(),
                                      [&](const RegisterWrite& w) { return !sameValue(w.value, open.front().value); });
    if (!disagree) continue;
    Conflict c = makeConflict(m_patientId, FieldRef{Collection::kDemographics, id, 0},
                              "notes[" + toString(id) + "].text", true, Value{note.text()}, open);
    c.isNote = true;
    out.push_back(std::move(c));
  }
  return out;
}

std::size_t ChartDocument::conflictCount() const {
  std::size_t n = 0;
  for (const auto& [field, reg] : m_demographics) n += reg.conflicted();
  for (const auto& entries : m_entries) {
    for (const auto& [id, entry] : entries) {
      n += entry.status.conflicted();
      for (const auto& [field, reg] : entry.fields) n += reg.conflicted();
    }
  }
  for (const auto& [id, note] : m_notes) {
    const std::vector<RegisterWrite> open = note.openVersions();
    n += std::any_of(open.begin(), open.end(),
                     [&](const RegisterWrite& w) { return !sameValue(w.value, open.front().value); });
  }
  return n;
}

}  // namespace charta::crdt
