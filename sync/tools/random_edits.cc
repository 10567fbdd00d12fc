#include "random_edits.h"

#include <cstdio>
#include <vector>

namespace charta::sync {

using crdt::ChartDocument;
using crdt::Collection;
using crdt::FieldRef;
using crdt::FieldValue;
using crdt::Op;
using crdt::OpFactory;
using crdt::Value;
namespace field = crdt::field;

RandomEditor::RandomEditor(Replica& replica, std::uint64_t seed, std::size_t minPatients)
    : m_replica(replica), m_state(0), m_minPatients(minPatients) {
  // Seeds 1, 2, 3... must give unrelated streams: a splitmix state that is a
  // small multiple of its increment is the same stream shifted by a step.
  m_state = seed ^ 0x5DEECE66DA3B1C27ull;
  m_state = next() ^ (seed * 0xD1B54A32D192ED03ull);
}

std::uint64_t RandomEditor::next() {
  std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

const char* RandomEditor::pick(std::initializer_list<const char*> options) {
  return options.begin()[below(options.size())];
}

Result<std::string> RandomEditor::createPatient(const std::string& familyName) {
  const std::string patient = Replica::newPatientId();
  const std::string family =
      familyName.empty() ? pick({"Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Silva"}) : familyName;
  const std::string given = pick({"Amara", "Jonas", "Lea", "Ken", "Yara", "Piotr", "Ines"});
  char birth[16];
  std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", 1940 + static_cast<int>(below(80)),
                1 + static_cast<int>(below(12)), 1 + static_cast<int>(below(28)));
  const std::string sex = pick({"female", "male", "other", "unknown"});
  const std::pair<crdt::FieldId, std::string> fields[] = {
      {field::kFamilyName, family}, {field::kGivenNames, given}, {field::kBirthDate, birth}, {field::kSex, sex}};
  for (const auto& [f, text] : fields) {
    auto op = m_replica.edit(patient, [&](OpFactory& fac, const ChartDocument& doc) {
      return fac.writeField(doc, FieldRef{Collection::kDemographics, {}, f}, Value{text});
    });
    if (!op.isOk()) return op.status();
  }
  const std::string mrn = "MRN-" + std::to_string(100000 + below(900000));
  auto op = m_replica.edit(patient, [&](OpFactory& fac, const ChartDocument& doc) {
    return fac.addEntry(doc, Collection::kIdentifiers,
                        {FieldValue{field::kIdentifierSystem, Value{std::string("urn:charta:mrn")}},
                         FieldValue{field::kIdentifierValue, Value{mrn}}});
  });
  if (!op.isOk()) return op.status();
  return patient;
}

Result<Op> RandomEditor::editOnce() {
  std::vector<std::string> patients = m_replica.patients();
  if (patients.size() < m_minPatients) {
    auto created = createPatient();
    if (!created.isOk()) return created.status();
    patients = m_replica.patients();
  }
  const std::string patient = patients[below(patients.size())];
  auto docResult = m_replica.document(patient);
  if (!docResult.isOk()) return docResult.status();
  const ChartDocument& snapshot = *docResult.value();
  const std::string me = m_replica.currentUser();

  // Choose what to do from what the chart holds.
  std::vector<crdt::OpId> allergies, medications, ownDrafts, signedNotes;
  for (const auto& [id, e] : snapshot.entries(Collection::kAllergies)) {
    if (e.currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kActive)) allergies.push_back(id);
  }
  for (const auto& [id, e] : snapshot.entries(Collection::kMedications)) {
    if (e.currentStatus() != static_cast<std::int64_t>(crdt::EntryStatus::kStopped) &&
        e.currentStatus() != static_cast<std::int64_t>(crdt::EntryStatus::kEnteredInError)) {
      medications.push_back(id);
    }
  }
  for (const auto& [id, n] : snapshot.notes()) {
    if (n.isSigned()) {
      signedNotes.push_back(id);
    } else if (n.author == me) {
      ownDrafts.push_back(id);
    }
  }

  const std::uint64_t roll = below(100);
  crdt::Op op;
  auto make = [&](const Replica::MakeOp& fn) { return m_replica.edit(patient, fn); };
  if (roll < 15) {  // conflict-prone: every device writes the phone and address
    const bool phone = below(2) == 0;
    const std::string value = phone ? "+41 79 " + std::to_string(1000000 + below(8999999))
                                    : std::to_string(1 + below(200)) + " " + pick({"Rue Haute", "Main St", "Birkenweg"});
    return make([&](OpFactory& f, const ChartDocument& doc) {
      return f.writeField(doc, FieldRef{Collection::kDemographics, {}, phone ? field::kPhone : field::kAddress},
                          Value{value});
    });
  }
  if (roll < 27 || (roll < 35 && allergies.empty())) {
    const char* allergen = pick({"Penicillin", "Peanut", "Latex", "Sulfonamide", "Bee venom"});
    return make([&](OpFactory& f, const ChartDocument& doc) {
      return f.addEntry(doc, Collection::kAllergies,
                        {FieldValue{field::kDisplay, Value{std::string(allergen)}},
                         FieldValue{field::kSeverity, Value{std::string(pick({"mild", "moderate", "severe"}))}}});
    });
  }
  if (roll < 35) {  // conflict-prone: severity of an allergy
    const crdt::OpId entry = allergies[below(allergies.size())];
    const std::string severity = pick({"mild", "moderate", "severe"});
    return make([&](OpFactory& f, const ChartDocument& doc) {
      return f.writeField(doc, FieldRef{Collection::kAllergies, entry, field::kSeverity}, Value{severity});
    });
  }
  if (roll < 45 || (roll < 52 && medications.empty())) {
    const char* drug = pick({"Metformin 500 mg", "Amoxicillin 250 mg", "Lisinopril 10 mg", "Salbutamol inhaler"});
    return make([&](OpFactory& f, const ChartDocument& doc) {
      return f.addEntry(doc, Collection::kMedications,
                        {FieldValue{field::kDisplay, Value{std::string(drug)}},
                         FieldValue{field::kDose, Value{std::string(pick({"1 tablet", "2 tablets", "2 puffs"}))}}});
    });
  }
  if (roll < 52) {  // forward-only status: active -> on hold -> stopped
    const crdt::OpId entry = medications[below(medications.size())];
    const auto current = snapshot.findEntry(entry)->currentStatus();
    const crdt::EntryStatus next = current == static_cast<std::int64_t>(crdt::EntryStatus::kActive)
                                       ? crdt::EntryStatus::kOnHold
                                       : crdt::EntryStatus::kStopped;
    return make([&](OpFactory& f, const ChartDocument& doc) {
      return f.setStatus(doc, entry, next, next == crdt::EntryStatus::kStopped ? "course completed" : "nausea");
    });
  }
  if (roll < 75) {
    const bool pulse = below(2) == 0;
    crdt::AppendObservation obs;
    obs.category = crdt::ObservationCategory::kVitalSign;
    obs.code = std::string(pulse ? crdt::loinc::kHeartRate : crdt::loinc::kBodyTemperature);
    obs.value = Value{pulse ? 55.0 + static_cast<double>(below(60)) : 36.0 + static_cast<double>(below(30)) / 10.0};
    obs.unit = pulse ? "/min" : "Cel";
    obs.effectiveMs = 1'700'000'000'000 + static_cast<std::int64_t>(below(100'000'000));
    return make([&](OpFactory& f, const ChartDocument& doc) { return f.appendObservation(doc, obs); });
  }
  if (roll < 85 || (ownDrafts.empty() && signedNotes.empty())) {
    const std::string text = std::string("Visit: ") + pick({"wound dressed", "BP checked", "reviewed medication"});
    return make([&](OpFactory& f, const ChartDocument& doc) { return f.startNote(doc, text); });
  }
  if (!ownDrafts.empty() && (signedNotes.empty() || below(3) != 0)) {
    const crdt::OpId note = ownDrafts[below(ownDrafts.size())];
    const bool sign = below(2) == 0;
    const std::string text = std::string("Visit note, ") + (sign ? "final" : "draft ") + std::to_string(below(1000));
    return make([&](OpFactory& f, const ChartDocument& doc) {
      return sign ? f.signNote(doc, note, text) : f.editNote(doc, note, text);
    });
  }
  const crdt::OpId note = signedNotes[below(signedNotes.size())];
  return make([&](OpFactory& f, const ChartDocument& doc) {
    return f.addAddendum(doc, note, "Addendum: " + std::string(pick({"called GP", "family informed"})));
  });
}

}  // namespace charta::sync
