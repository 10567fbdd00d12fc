#include "model_checks.h"

#include <algorithm>
#include <set>

#include "actions_internal.h"

namespace charta::convergence {

using crdt::Collection;
using crdt::FieldRef;
using crdt::OpId;

namespace {

std::vector<OpId> ids(const std::vector<const ModelWrite*>& ws) {
  std::vector<OpId> out;
  for (const auto* w : ws) out.push_back(w->id);
  return out;
}
std::vector<OpId> ids(const std::vector<crdt::RegisterWrite>& ws) {
  std::vector<OpId> out;
  for (const auto& w : ws) out.push_back(w.id);
  return out;
}
template <typename Map>
std::vector<OpId> keys(const Map& m) {
  std::vector<OpId> out;
  for (const auto& kv : m) out.push_back(kv.first);
  return out;
}

void checkRegister(const crdt::Register& r, const ModelRegister& m, const std::string& where, Failures& f) {
  const auto heads = m.heads();
  if (ids(r.heads()) != ids(heads)) {
    f.add(where + ": heads " + listIds(ids(r.heads())) + ", model " + listIds(ids(heads)));
    return;
  }
  for (std::size_t i = 0; i < heads.size(); ++i) {
    if (!crdt::sameValue(r.heads()[i].value, heads[i]->value) || r.heads()[i].hlc != heads[i]->hlc)
      f.add(where + ": head " + crdt::toString(heads[i]->id) + " holds " + crdt::toDisplayString(r.heads()[i].value) +
            ", written " + crdt::toDisplayString(heads[i]->value));
  }
  if (r.conflicted() != m.conflicted(heads))
    f.add(where + ": conflicted() is " + (r.conflicted() ? "true" : "false") + ", the model says otherwise");
  if (heads.empty()) return;
  const ModelWrite& shown = m.shown(heads);
  if (!crdt::sameValue(r.current().value, shown.value))
    f.add(where + ": shows " + crdt::toDisplayString(r.current().value) + ", model " +
          crdt::toDisplayString(shown.value) + " (" + crdt::toString(shown.id) + ")");
}

void checkRegisters(const crdt::ChartDocument& doc, const ReferenceModel& model, const std::string& label,
                    Failures& f) {
  for (const auto& [ref, m] : model.registers()) {
    const crdt::Register* r = doc.findRegister(ref);
    if (!r) {
      f.add(label + ": " + crdt::toPath(ref) + " missing");
      continue;
    }
    checkRegister(*r, m, label + ": " + crdt::toPath(ref), f);
  }
  // Nothing written that the model does not know.
  auto known = [&](const FieldRef& ref, const crdt::Register& r) {
    if (!r.empty() && !model.registers().contains(ref)) f.add(label + ": unexpected register " + crdt::toPath(ref));
  };
  for (const auto& [fid, r] : doc.demographics()) known({Collection::kDemographics, {}, fid}, r);
  for (Collection c : kEntryCollections) {
    for (const auto& [id, e] : doc.entries(c)) {
      known({c, id, crdt::kStatusField}, e.status);
      for (const auto& [fid, r] : e.fields) known({c, id, fid}, r);
    }
  }
}

void checkEntries(const crdt::ChartDocument& doc, const ReferenceModel& model, const std::string& label,
                  Failures& f) {
  for (Collection c : kEntryCollections) {
    std::vector<OpId> expected;
    for (const auto& [id, e] : model.entries())
      if (e.collection == c) expected.push_back(id);
    const auto& entries = doc.entries(c);
    if (keys(entries) != expected) {
      f.add(label + ": " + std::string(crdt::collectionName(c)) + " " + listIds(keys(entries)) + ", added " +
            listIds(expected));
      continue;
    }
    for (const auto& [id, e] : entries) {
      const ModelEntry& m = model.entries().at(id);
      if (e.id != id || e.collection != c || e.author != m.author || e.created != m.created || e.visit != m.visit)
        f.add(label + ": entry " + crdt::toString(id) + " differs from its AddEntry");
    }
  }
}

void checkObservations(const crdt::ChartDocument& doc, const ReferenceModel& model, const std::string& label,
                       Failures& f) {
  if (keys(doc.observations()) != keys(model.observations())) {
    f.add(label + ": observations " + listIds(keys(doc.observations())) + ", appended " +
          listIds(keys(model.observations())));
    return;
  }
  for (const auto& [id, o] : doc.observations()) {
    const ModelObservation& m = model.observations().at(id);
    if (!(o.data == m.data) || o.author != m.author || o.hlc != m.hlc)
      f.add(label + ": observation " + crdt::toString(id) + " differs from what was appended");
    if (o.errorMarks != m.marks)
      f.add(label + ": observation " + crdt::toString(id) + " error marks " + listIds(keys(o.errorMarks)) +
            ", marked by " + listIds(keys(m.marks)));
  }
}

void checkNotes(const crdt::ChartDocument& doc, const ReferenceModel& model, const std::string& label, Failures& f) {
  if (keys(doc.notes()) != keys(model.notes())) {
    f.add(label + ": notes " + listIds(keys(doc.notes())) + ", started " + listIds(keys(model.notes())));
    return;
  }
  for (const auto& [id, n] : doc.notes()) {
    const ModelNote& m = model.notes().at(id);
    const std::string where = label + ": note " + crdt::toString(id);
    if (n.author != m.author || n.created != m.created || n.visit != m.visit) f.add(where + ": differs from its start");
    const std::vector<OpId> sigs(m.signatures.begin(), m.signatures.end());
    if (keys(n.signatures) != sigs) f.add(where + ": signatures " + listIds(keys(n.signatures)) + ", signed " + listIds(sigs));
    if (keys(n.addenda) != keys(m.addenda)) {
      f.add(where + ": addenda " + listIds(keys(n.addenda)) + ", added " + listIds(keys(m.addenda)));
    } else {
      for (const auto& [aid, a] : n.addenda)
        if (!crdt::sameValue(crdt::Value{a.text}, m.addenda.at(aid).value) || a.author != m.addenda.at(aid).author)
          f.add(where + ": addendum " + crdt::toString(aid) + " text or author differs");
    }
    const auto heads = m.draftHeads();
    if (ids(n.draft.heads()) != ids(heads)) {
      f.add(where + ": draft heads " + listIds(ids(n.draft.heads())) + ", model " + listIds(ids(heads)));
      continue;
    }
    // The text shown: the latest signature, else the latest draft.
    const ModelWrite* expected = m.latestSignature();
    if (!expected && !heads.empty()) expected = heads.back();
    if (expected && !crdt::sameValue(crdt::Value{n.text()}, expected->value))
      f.add(where + ": text() is \"" + n.text() + "\", expected that of " + crdt::toString(expected->id));
  }
}

void checkConflicts(const crdt::ChartDocument& doc, const ReferenceModel& model, const std::string& label,
                    Failures& f, Counters& counters) {
  std::map<FieldRef, const crdt::Conflict*> fields;
  std::map<OpId, const crdt::Conflict*> notes;
  const std::vector<crdt::Conflict> listed = doc.conflicts();
  if (doc.conflictCount() != listed.size()) {
    f.add(label + ": conflictCount() is " + std::to_string(doc.conflictCount()) + " but " +
          std::to_string(listed.size()) + " conflicts are listed");
  }
  for (const auto& c : listed) {
    if (c.patient != doc.patientId()) f.add(label + ": conflict " + c.path + " names patient " + c.patient);
    if (c.isNote) notes[c.field.entry] = &c;
    else fields[c.field] = &c;
  }
  for (const auto& [ref, m] : model.registers()) {
    const auto heads = m.heads();
    const bool disagree = m.conflicted(heads);
    const bool clinical = crdt::isClinical(ref.collection, ref.field);
    auto it = fields.find(ref);
    if (disagree && clinical) {
      ++counters.conflictsSeen;
      if (it == fields.end()) {
        ++counters.silentOverwrites;
        f.add(label + ": silent overwrite: " + crdt::toPath(ref) + " holds concurrent values " + listIds(ids(heads)) +
              " but no conflict is listed");
        continue;
      }
    }
    if (it == fields.end()) continue;
    const crdt::Conflict& c = *it->second;
    fields.erase(it);
    if (!disagree) {
      f.add(label + ": phantom conflict " + c.path + " (model heads " + listIds(ids(heads)) + ")");
      continue;
    }
    std::vector<OpId> values;
    for (const auto& v : c.values) values.push_back(v.op);
    if (values != ids(heads)) f.add(label + ": conflict " + c.path + " lists " + listIds(values) + ", heads " + listIds(ids(heads)));
    if (c.clinical != clinical) f.add(label + ": conflict " + c.path + " has the wrong clinical flag");
    if (!crdt::sameValue(c.shown, m.shown(heads).value)) f.add(label + ": conflict " + c.path + " shows the wrong value");
  }
  for (const auto& [ref, c] : fields) f.add(label + ": conflict listed for an unknown register " + c->path);

  for (const auto& [id, m] : model.notes()) {
    const auto heads = m.draftHeads();
    const bool disagree = m.conflicted();
    auto it = notes.find(id);
    if (disagree) {
      ++counters.noteConflicts;
      if (it == notes.end()) {
        ++counters.silentOverwrites;
        f.add(label + ": silent overwrite: note " + crdt::toString(id) + " has open versions " +
              listIds(ids(m.openVersions())) + " (draft heads " + listIds(ids(heads)) +
              ") that disagree, but no conflict is listed");
        continue;
      }
    }
    if (it == notes.end()) continue;
    if (!disagree) {
      f.add(label + ": phantom note conflict " + it->second->path);
    } else {
      std::vector<OpId> values, open = ids(m.openVersions());
      for (const auto& v : it->second->values) values.push_back(v.op);
      std::sort(values.begin(), values.end());
      std::sort(open.begin(), open.end());
      if (values != open) f.add(label + ": note conflict " + it->second->path + " lists " + listIds(values) +
                                ", open versions " + listIds(open));
    }
    notes.erase(it);
  }
  for (const auto& [id, c] : notes) f.add(label + ": conflict listed for an unknown note " + c->path);
}

}  // namespace

std::string listIds(const std::vector<OpId>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + crdt::toString(v[i]);
  return out + "}";
}

void checkAgainstModel(const crdt::ChartDocument& doc, const ReferenceModel& model, const std::string& label,
                       Failures& failures, Counters& counters) {
  checkRegisters(doc, model, label, failures);
  checkEntries(doc, model, label, failures);
  checkObservations(doc, model, label, failures);
  checkNotes(doc, model, label, failures);
  checkConflicts(doc, model, label, failures, counters);
}

}  // namespace charta::convergence
