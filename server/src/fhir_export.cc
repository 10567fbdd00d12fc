#include "fhir_export.h"

#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <variant>

#include "charta/crdt/schema.h"
#include "crypto.h"

namespace charta::server {
namespace {

using crdt::Collection;
using crdt::EntryStatus;
using crdt::OpId;
namespace field = crdt::field;
using P = std::vector<DbValue>;

constexpr std::string_view kLoinc = "http://loinc.org";
constexpr std::string_view kUcum = "http://unitsofmeasure.org";
constexpr std::string_view kObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
constexpr std::string_view kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

// civil_from_days (H. Hinnant): days since 1970-01-01 -> year, month, day.
void civilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::string valueText(const crdt::Value& v) {
  return std::visit(crdt::Overloaded{
                        [](std::monostate) { return std::string("(empty)"); },
                        [](const std::string& s) { return s; },
                        [](std::int64_t i) { return std::to_string(i); },
                        [](double x) {
                          std::string s = json::serialize(json::Value(x));
                          if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
                          return s;
                        },
                        [](bool b) { return std::string(b ? "true" : "false"); },
                    },
                    v);
}

std::string textOf(const crdt::Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string();
}

// A FHIR id ([A-Za-z0-9-.]{1,64}) for a Charta id.
std::string fhirId(std::string_view id) {
  std::string out;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    out += ok ? c : '-';
  }
  if (out.size() > 64) out = out.substr(0, 16) + "-" + toHex(digest(id)).substr(0, 40);
  return out.empty() ? std::string("x") : out;
}

// A CodeableConcept from a stored "system|code" and a display.
json::Value codeable(const std::string& code, const std::string& display, std::string_view bareSystem = {}) {
  json::Object cc;
  if (!code.empty()) {
    const std::size_t bar = code.find('|');
    json::Object coding;
    if (bar != std::string::npos) {
      coding.emplace_back("system", code.substr(0, bar));
      coding.emplace_back("code", code.substr(bar + 1));
    } else {
      if (!bareSystem.empty()) coding.emplace_back("system", std::string(bareSystem));
      coding.emplace_back("code", code);
    }
    if (!display.empty()) coding.emplace_back("display", display);
    cc.emplace_back("coding", json::Array{json::Value(std::move(coding))});
  }
  if (!display.empty()) cc.emplace_back("text", display);
  if (cc.empty()) cc.emplace_back("text", "(not recorded)");
  return cc;
}

json::Value coded(std::string_view system, std::string_view code) {
  return json::Object{
      {"coding", json::Array{json::Object{{"system", std::string(system)}, {"code", std::string(code)}}}}};
}

class Exporter {
 public:
  Exporter(const crdt::ChartDocument& doc, const std::set<std::string>& withheldNotes, const AttachmentContent& content)
      : m_doc(doc), m_withheld(withheldNotes), m_content(content) {
    for (crdt::Conflict& c : doc.conflicts()) {
      if (c.isNote) {
        m_noteConflicts[c.field.entry] = std::move(c);
      } else {
        m_conflicts[c.field.entry].push_back(std::move(c));
      }
    }
  }

  json::Value bundle(FhirBundleType type, std::int64_t nowMs);

 private:
  // urn:uuid: of a resource, stable for the chart and the key.
  std::string urn(std::string_view key) const {
    std::string h = toHex(digest(m_doc.patientId() + "|" + std::string(key))).substr(0, 32);
    return "urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20, 12);
  }
  json::Value patientRef() const { return json::Object{{"reference", urn("Patient")}}; }
  json::Value visitRef(const OpId& visit) const {
    return json::Object{{"reference", urn("Encounter/" + crdt::toString(visit))}};
  }
  void add(const std::string& key, json::Value resource) {
    m_entries.push_back(json::Object{{"fullUrl", urn(key)}, {"resource", std::move(resource)}});
  }

  // "Open conflict in severity: mild (nurse-a, 2026-11-20) | severe (nurse-b, 2026-11-21)".
  static std::string conflictText(const crdt::Conflict& c, std::string_view name) {
    std::string out = "Open conflict in " + std::string(name) + ", not resolved in Charta: ";
    for (std::size_t i = 0; i < c.values.size(); ++i) {
      if (i) out += " | ";
      out += valueText(c.values[i].value) + " (" + c.values[i].author + ", " +
             fhirInstant(static_cast<std::int64_t>(c.values[i].hlc.wallMs)).substr(0, 10) + ")";
    }
    return out;
  }
  // One line per open conflict of an entry's fields (the null id: demographics).
  std::vector<std::string> conflictLines(const OpId& entry) const {
    std::vector<std::string> lines;
    auto it = m_conflicts.find(entry);
    if (it == m_conflicts.end()) return lines;
    for (const crdt::Conflict& c : it->second) {
      auto spec = crdt::findField(c.field.collection, c.field.field);
      lines.push_back(conflictText(c, spec ? spec->name : "a field"));
    }
    return lines;
  }
  // The entry's note, then one line per open conflict of its fields.
  json::Array notesOf(const crdt::Entry& e) const {
    json::Array notes;
    if (std::string n = textOf(e.fieldValue(field::kNote)); !n.empty()) notes.push_back(json::Object{{"text", n}});
    for (std::string& line : conflictLines(e.id)) notes.push_back(json::Object{{"text", std::move(line)}});
    return notes;
  }
  // Resources without a note (Patient, Encounter) carry open conflicts as extensions.
  json::Array conflictExtensions(const OpId& entry) const {
    json::Array extensions;
    for (std::string& line : conflictLines(entry)) {
      extensions.push_back(
          json::Object{{"url", std::string(kOpenConflictExtension)}, {"valueString", std::move(line)}});
    }
    return extensions;
  }
  std::string text(const crdt::Entry& e, crdt::FieldId f) const { return textOf(e.fieldValue(f)); }
  static EntryStatus status(const crdt::Entry& e) { return static_cast<EntryStatus>(e.currentStatus()); }
  static std::string statusText(const crdt::Entry& e) { return std::string(crdt::statusName(status(e))); }

  void patient();
  void allergy(const crdt::Entry& e);
  void problem(const crdt::Entry& e);
  void medication(const crdt::Entry& e);
  void immunisation(const crdt::Entry& e);
  void visit(const crdt::Entry& e);
  void observations();
  void notes();
  void attachment(const crdt::Entry& e);
  // The bundle key of the resource an attachment's subject ("visits/r1.4")
  // names, or "" when it names nothing exported.
  std::string subjectKey(const std::string& subject) const;

  const crdt::ChartDocument& m_doc;
  const std::set<std::string>& m_withheld;                  // note ids (op ids as text) left out
  const AttachmentContent& m_content;
  std::map<OpId, std::vector<crdt::Conflict>> m_conflicts;  // by entry (null: demographics)
  std::map<OpId, crdt::Conflict> m_noteConflicts;
  json::Array m_entries;
};

void Exporter::patient() {
  json::Object p{{"resourceType", "Patient"}, {"id", fhirId(m_doc.patientId())}};
  auto demo = [&](crdt::FieldId f) {
    const crdt::Register& r = m_doc.demographic(f);
    return r.empty() ? std::string() : textOf(r.current().value);
  };
  json::Array extensions = conflictExtensions(OpId{});
  if (!extensions.empty()) p.emplace_back("extension", std::move(extensions));
  json::Array identifiers;
  for (const auto& [id, e] : m_doc.entries(Collection::kIdentifiers)) {
    if (status(e) == EntryStatus::kEnteredInError || text(e, field::kIdentifierValue).empty()) continue;
    json::Object ident;
    if (status(e) == EntryStatus::kInactive) ident.emplace_back("use", "old");
    if (std::string s = text(e, field::kIdentifierSystem); !s.empty()) ident.emplace_back("system", s);
    ident.emplace_back("value", text(e, field::kIdentifierValue));
    identifiers.push_back(std::move(ident));
  }
  if (!identifiers.empty()) p.emplace_back("identifier", std::move(identifiers));
  const std::string family = demo(field::kFamilyName), given = demo(field::kGivenNames);
  if (!family.empty() || !given.empty()) {
    json::Object name{{"use", "official"}};
    if (!family.empty()) name.emplace_back("family", family);
    json::Array givens;
    std::size_t start = 0;
    while (start < given.size()) {
      std::size_t space = given.find(' ', start);
      if (space == std::string::npos) space = given.size();
      if (space > start) givens.push_back(given.substr(start, space - start));
      start = space + 1;
    }
    if (!givens.empty()) name.emplace_back("given", std::move(givens));
    p.emplace_back("name", json::Array{json::Value(std::move(name))});
  }
  if (std::string phone = demo(field::kPhone); !phone.empty()) {
    p.emplace_back("telecom", json::Array{json::Object{{"system", "phone"}, {"value", phone}}});
  }
  const std::string sex = demo(field::kSex);
  if (sex == "female" || sex == "male" || sex == "other" || sex == "unknown") p.emplace_back("gender", sex);
  if (std::string birth = demo(field::kBirthDate); validDate(birth)) p.emplace_back("birthDate", birth);
  if (std::string deceased = demo(field::kDeceasedDate); validDate(deceased)) {
    p.emplace_back("deceasedDateTime", deceased);
  }
  if (std::string address = demo(field::kAddress); !address.empty()) {
    p.emplace_back("address", json::Array{json::Object{{"text", address}}});
  }
  if (std::string lang = demo(field::kLanguage); !lang.empty()) {
    p.emplace_back("communication", json::Array{json::Object{{"language", codeable("urn:ietf:bcp:47|" + lang, {})}}});
  }
  add("Patient", std::move(p));
}

void Exporter::allergy(const crdt::Entry& e) {
  json::Object a{{"resourceType", "AllergyIntolerance"}, {"id", fhirId(crdt::toString(e.id))}};
  const EntryStatus s = status(e);
  if (s == EntryStatus::kEnteredInError) {
    a.emplace_back("verificationStatus",
                   coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "entered-in-error"));
  } else {
    a.emplace_back("clinicalStatus",
                   coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", statusText(e)));
    a.emplace_back("verificationStatus",
                   coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed"));
  }
  const std::string category = text(e, field::kAllergyCategory);
  if (category == "food" || category == "medication" || category == "environment" || category == "biologic") {
    a.emplace_back("category", json::Array{category});
  }
  const std::string criticality = text(e, field::kCriticality);
  if (criticality == "low" || criticality == "high" || criticality == "unable-to-assess") {
    a.emplace_back("criticality", criticality);
  }
  a.emplace_back("code", codeable(text(e, field::kCode), text(e, field::kDisplay)));
  a.emplace_back("patient", patientRef());
  if (!e.visit.isNull()) a.emplace_back("encounter", visitRef(e.visit));
  a.emplace_back("recordedDate", fhirInstant(static_cast<std::int64_t>(e.created.wallMs)));
  json::Array notes = notesOf(e);
  if (!notes.empty()) a.emplace_back("note", std::move(notes));
  const std::string reaction = text(e, field::kReaction), severity = text(e, field::kSeverity);
  if (!reaction.empty()) {
    json::Object r{{"manifestation", json::Array{json::Object{{"text", reaction}}}}};
    if (severity == "mild" || severity == "moderate" || severity == "severe") r.emplace_back("severity", severity);
    a.emplace_back("reaction", json::Array{json::Value(std::move(r))});
  }
  add("AllergyIntolerance/" + crdt::toString(e.id), std::move(a));
}

void Exporter::problem(const crdt::Entry& e) {
  json::Object c{{"resourceType", "Condition"}, {"id", fhirId(crdt::toString(e.id))}};
  const EntryStatus s = status(e);
  if (s == EntryStatus::kEnteredInError) {
    c.emplace_back("verificationStatus",
                   coded("http://terminology.hl7.org/CodeSystem/condition-ver-status", "entered-in-error"));
  } else {
    c.emplace_back("clinicalStatus", coded("http://terminology.hl7.org/CodeSystem/condition-clinical", statusText(e)));
    c.emplace_back("verificationStatus",
                   coded("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"));
  }
  c.emplace_back("category",
                 json::Array{coded("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")});
  c.emplace_back("code", codeable(text(e, field::kCode), text(e, field::kDisplay)));
  c.emplace_back("subject", patientRef());
  if (!e.visit.isNull()) c.emplace_back("encounter", visitRef(e.visit));
  if (std::string onset = text(e, field::kOnsetDate); validDate(onset)) c.emplace_back("onsetDateTime", onset);
  if (std::string end = text(e, field::kAbatementDate); validDate(end)) c.emplace_back("abatementDateTime", end);
  c.emplace_back("recordedDate", fhirInstant(static_cast<std::int64_t>(e.created.wallMs)));
  json::Array notes = notesOf(e);
  if (!notes.empty()) c.emplace_back("note", std::move(notes));
  add("Condition/" + crdt::toString(e.id), std::move(c));
}

void Exporter::medication(const crdt::Entry& e) {
  json::Object m{{"resourceType", "MedicationStatement"}, {"id", fhirId(crdt::toString(e.id))}};
  m.emplace_back("status", statusText(e));  // active, on-hold, completed, stopped, entered-in-error
  m.emplace_back("medicationCodeableConcept", codeable(text(e, field::kCode), text(e, field::kDisplay)));
  m.emplace_back("subject", patientRef());
  if (!e.visit.isNull()) m.emplace_back("context", visitRef(e.visit));
  const std::string start = text(e, field::kStartDate), end = text(e, field::kEndDate);
  if (validDate(start) || validDate(end)) {
    json::Object period;
    if (validDate(start)) period.emplace_back("start", start);
    if (validDate(end)) period.emplace_back("end", end);
    m.emplace_back("effectivePeriod", std::move(period));
  }
  m.emplace_back("dateAsserted", fhirInstant(static_cast<std::int64_t>(e.created.wallMs)));
  json::Array notes = notesOf(e);
  if (!notes.empty()) m.emplace_back("note", std::move(notes));
  const std::string dose = text(e, field::kDose), frequency = text(e, field::kFrequency),
                    route = text(e, field::kRoute);
  if (!dose.empty() || !frequency.empty() || !route.empty()) {
    json::Object dosage;
    std::string words = dose;
    if (!frequency.empty()) words += (words.empty() ? "" : ", ") + frequency;
    if (!words.empty()) dosage.emplace_back("text", words);
    if (!route.empty()) dosage.emplace_back("route", json::Object{{"text", route}});
    m.emplace_back("dosage", json::Array{json::Value(std::move(dosage))});
  }
  add("MedicationStatement/" + crdt::toString(e.id), std::move(m));
}

void Exporter::immunisation(const crdt::Entry& e) {
  json::Object i{{"resourceType", "Immunization"}, {"id", fhirId(crdt::toString(e.id))}};
  i.emplace_back("status", statusText(e));  // completed, not-done, entered-in-error
  i.emplace_back("vaccineCode", codeable(text(e, field::kCode), text(e, field::kDisplay)));
  i.emplace_back("patient", patientRef());
  if (!e.visit.isNull()) i.emplace_back("encounter", visitRef(e.visit));
  if (std::string when = text(e, field::kOccurrenceDate); validDate(when)) {
    i.emplace_back("occurrenceDateTime", when);
  } else {
    i.emplace_back("occurrenceString", "date not recorded");
  }
  i.emplace_back("recorded", fhirInstant(static_cast<std::int64_t>(e.created.wallMs)));
  if (std::string lot = text(e, field::kLotNumber); !lot.empty()) i.emplace_back("lotNumber", lot);
  if (std::string site = text(e, field::kSite); !site.empty()) i.emplace_back("site", json::Object{{"text", site}});
  json::Array notes = notesOf(e);
  if (!notes.empty()) i.emplace_back("note", std::move(notes));
  const crdt::Value doseNumber = e.fieldValue(field::kDoseNumber);
  if (const auto* dose = std::get_if<std::int64_t>(&doseNumber); dose && *dose > 0) {
    i.emplace_back("protocolApplied", json::Array{json::Object{{"doseNumberPositiveInt", *dose}}});
  }
  add("Immunization/" + crdt::toString(e.id), std::move(i));
}

void Exporter::visit(const crdt::Entry& e) {
  json::Object v{{"resourceType", "Encounter"}, {"id", fhirId(crdt::toString(e.id))}};
  v.emplace_back("status", statusText(e));  // planned, in-progress, finished, cancelled, entered-in-error
  static const std::map<std::string, std::pair<std::string, std::string>> kClasses{
      {"home", {"HH", "home health"}},
      {"clinic", {"AMB", "ambulatory"}},
      {"school", {"FLD", "field"}},
      {"workplace", {"FLD", "field"}},
      {"field", {"FLD", "field"}},
      {"emergency", {"EMER", "emergency"}},
      {"inpatient", {"IMP", "inpatient encounter"}},
      {"virtual", {"VR", "virtual"}},
      {"observation", {"OBSENC", "observation encounter"}},
      {"pre-admission", {"PRENC", "pre-admission"}},
      {"short stay", {"SS", "short stay"}}};
  const std::string setting = text(e, field::kSetting);
  auto cls = kClasses.find(setting);
  json::Object klass{{"system", std::string(kActCode)}};
  if (cls != kClasses.end()) {
    klass.emplace_back("code", cls->second.first);
    klass.emplace_back("display", cls->second.second);
  } else {
    klass.emplace_back("display", setting.empty() ? std::string("not recorded") : setting);
  }
  v.emplace_back("class", std::move(klass));
  if (std::string code = text(e, field::kCode), title = text(e, field::kDisplay); !code.empty() || !title.empty()) {
    v.emplace_back("type", json::Array{codeable(code, title)});
  }
  v.emplace_back("subject", patientRef());
  if (std::string who = text(e, field::kPractitioner); !who.empty()) {
    v.emplace_back("participant", json::Array{json::Object{{"individual", json::Object{{"display", who}}}}});
  }
  const crdt::Value startValue = e.fieldValue(field::kStart), endValue = e.fieldValue(field::kEnd);
  const auto* start = std::get_if<std::int64_t>(&startValue);
  const auto* end = std::get_if<std::int64_t>(&endValue);
  if (start || end) {
    json::Object period;
    if (start) period.emplace_back("start", fhirInstant(*start));
    if (end) period.emplace_back("end", fhirInstant(*end));
    v.emplace_back("period", std::move(period));
  }
  if (std::string why = text(e, field::kReason); !why.empty()) {
    v.emplace_back("reasonCode", json::Array{json::Object{{"text", why}}});
  }
  if (std::string where = text(e, field::kLocation); !where.empty()) {
    v.emplace_back("location", json::Array{json::Object{{"location", json::Object{{"display", where}}}}});
  }
  // Encounter has no note: open conflicts go in an extension.
  json::Array conflicts = conflictExtensions(e.id);
  if (!conflicts.empty()) v.emplace_back("extension", std::move(conflicts));
  add("Encounter/" + crdt::toString(e.id), std::move(v));
}

void Exporter::observations() {
  auto base = [&](const crdt::Observation& o, const std::string& idText) {
    json::Object r{{"resourceType", "Observation"}, {"id", fhirId(idText)}};
    if (o.enteredInError()) {
      r.emplace_back("status", "entered-in-error");
    } else {
      r.emplace_back("status", "final");
    }
    const bool vital = o.data.category == crdt::ObservationCategory::kVitalSign;
    json::Value coding = json::Object{{"system", std::string(kObservationCategory)},
                                      {"code", vital ? "vital-signs" : "laboratory"},
                                      {"display", vital ? "Vital Signs" : "Laboratory"}};
    r.emplace_back("category", json::Array{json::Object{{"coding", json::Array{std::move(coding)}}}});
    return r;
  };
  auto quantity = [](const crdt::Observation& o) -> std::optional<json::Value> {
    json::Object q;
    if (const double* d = std::get_if<double>(&o.data.value)) {
      q.emplace_back("value", *d);
    } else if (const auto* i = std::get_if<std::int64_t>(&o.data.value)) {
      q.emplace_back("value", *i);
    } else {
      return std::nullopt;
    }
    if (!o.data.unit.empty()) {
      q.emplace_back("unit", o.data.unit);
      q.emplace_back("system", std::string(kUcum));
      q.emplace_back("code", o.data.unit);
    }
    return json::Value(std::move(q));
  };
  auto codeOf = [](const std::string& code) {
    auto spec = crdt::findVitalSign(code);
    return codeable(code, spec ? std::string(spec->name) : std::string(), kLoinc);
  };
  auto setValue = [&](json::Object& r, const crdt::Observation& o) {
    if (auto q = quantity(o)) {
      r.emplace_back("valueQuantity", std::move(*q));
    } else {
      r.emplace_back("valueString", valueText(o.data.value));
    }
  };
  auto finish = [&](json::Object& r, const crdt::Observation& o) {
    r.emplace_back("subject", patientRef());
    if (!o.data.visit.isNull()) r.emplace_back("encounter", visitRef(o.data.visit));
    r.emplace_back("effectiveDateTime", fhirInstant(o.data.effectiveMs));
    r.emplace_back("issued", fhirInstant(static_cast<std::int64_t>(o.hlc.wallMs)));
  };
  // Blood pressure: a systolic and a diastolic taken at one time in one visit
  // are one 85354-9 panel with two components (the vital-signs profile).
  std::map<std::tuple<std::int64_t, OpId>, const crdt::Observation*> diastolic;
  for (const auto& [id, o] : m_doc.observations()) {
    if (o.data.code == crdt::loinc::kDiastolicBp && !o.enteredInError()) {
      diastolic.emplace(std::make_tuple(o.data.effectiveMs, o.data.visit), &o);
    }
  }
  std::set<OpId> paired;
  for (const auto& [id, o] : m_doc.observations()) {
    if (o.data.code != crdt::loinc::kSystolicBp || o.enteredInError()) continue;
    auto d = diastolic.find(std::make_tuple(o.data.effectiveMs, o.data.visit));
    if (d == diastolic.end() || paired.count(d->second->id)) continue;
    paired.insert(id);
    paired.insert(d->second->id);
    json::Object r = base(o, crdt::toString(id));
    r.emplace_back("code", codeable(std::string(crdt::loinc::kBpPanel),
                                    "Blood pressure panel with all children optional", kLoinc));
    finish(r, o);
    json::Array components;
    for (const crdt::Observation* part : {&o, d->second}) {
      json::Object c{{"code", codeOf(part->data.code)}};
      setValue(c, *part);
      components.push_back(std::move(c));
    }
    r.emplace_back("component", std::move(components));
    add("Observation/" + crdt::toString(id), std::move(r));
  }
  for (const auto& [id, o] : m_doc.observations()) {
    if (paired.count(id)) continue;
    json::Object r = base(o, crdt::toString(id));
    r.emplace_back("code", codeOf(o.data.code));
    finish(r, o);
    setValue(r, o);
    if (o.enteredInError()) {
      std::string why;
      for (const auto& [mark, reason] : o.errorMarks) why += (why.empty() ? "" : "; ") + reason;
      r.emplace_back("note", json::Array{json::Object{{"text", "Entered in error: " + why}}});
    }
    if (o.data.referenceLow || o.data.referenceHigh) {
      json::Object range;
      auto bound = [&](double v) {
        json::Object q{{"value", v}};
        if (!o.data.unit.empty()) {
          q.emplace_back("unit", o.data.unit);
          q.emplace_back("system", std::string(kUcum));
          q.emplace_back("code", o.data.unit);
        }
        return json::Value(std::move(q));
      };
      if (o.data.referenceLow) range.emplace_back("low", bound(*o.data.referenceLow));
      if (o.data.referenceHigh) range.emplace_back("high", bound(*o.data.referenceHigh));
      r.emplace_back("referenceRange", json::Array{json::Value(std::move(range))});
    }
    add("Observation/" + crdt::toString(id), std::move(r));
  }
}

void Exporter::notes() {
  auto attachment = [](const std::string& body, const std::string& title) {
    json::Object a{{"contentType", "text/plain; charset=utf-8"}, {"data", base64Encode(body)}};
    if (!title.empty()) a.emplace_back("title", title);
    return json::Object{{"attachment", json::Value(std::move(a))}};
  };
  for (const auto& [id, n] : m_doc.notes()) {
    if (!n.isSigned()) continue;  // drafts are not part of the record yet
    if (m_withheld.count(crdt::toString(id))) continue;  // not shared (the patient portal), addenda too
    const crdt::RegisterWrite& signature = n.shownSignature();
    const std::string key = "DocumentReference/" + crdt::toString(id);
    json::Object d{{"resourceType", "DocumentReference"}, {"id", fhirId(crdt::toString(id))}};
    d.emplace_back("status", "current");
    d.emplace_back("docStatus", n.addenda.empty() ? "final" : "amended");
    d.emplace_back("type", codeable("34109-9", "Note", kLoinc));
    d.emplace_back("subject", patientRef());
    d.emplace_back("date", fhirInstant(static_cast<std::int64_t>(signature.hlc.wallMs)));
    d.emplace_back("author", json::Array{json::Object{{"display", signature.author}}});
    json::Array content;
    auto conflict = m_noteConflicts.find(id);
    if (conflict != m_noteConflicts.end()) {
      d.emplace_back("description",
                     "Open conflict, not resolved in Charta: " + std::to_string(conflict->second.values.size()) +
                         " versions of this note, one attachment each");
      for (const crdt::ConflictValue& v : conflict->second.values) {
        content.push_back(attachment(valueText(v.value), "version by " + v.author + ", " +
                                                             fhirInstant(static_cast<std::int64_t>(v.hlc.wallMs))));
      }
    } else {
      content.push_back(attachment(n.text(), {}));
    }
    d.emplace_back("content", std::move(content));
    if (!n.visit.isNull()) {
      d.emplace_back("context", json::Object{{"encounter", json::Array{visitRef(n.visit)}}});
    }
    add(key, std::move(d));
    for (const auto& [aid, addendum] : n.addenda) {
      json::Object a{{"resourceType", "DocumentReference"}, {"id", fhirId(crdt::toString(aid))}};
      a.emplace_back("status", "current");
      a.emplace_back("docStatus", "final");
      a.emplace_back("type", codeable("34109-9", "Note", kLoinc));
      a.emplace_back("subject", patientRef());
      a.emplace_back("date", fhirInstant(static_cast<std::int64_t>(addendum.hlc.wallMs)));
      a.emplace_back("author", json::Array{json::Object{{"display", addendum.author}}});
      a.emplace_back("relatesTo",
                     json::Array{json::Object{{"code", "appends"}, {"target", json::Object{{"reference", urn(key)}}}}});
      a.emplace_back("description", "Addendum");
      a.emplace_back("content", json::Array{attachment(addendum.text, {})});
      if (!n.visit.isNull()) {
        a.emplace_back("context", json::Object{{"encounter", json::Array{visitRef(n.visit)}}});
      }
      add("DocumentReference/" + crdt::toString(aid), std::move(a));
    }
  }
}

std::string Exporter::subjectKey(const std::string& subject) const {
  static const std::pair<Collection, std::string_view> kResources[] = {
      {Collection::kAllergies, "AllergyIntolerance/"},
      {Collection::kProblems, "Condition/"},
      {Collection::kMedications, "MedicationStatement/"},
      {Collection::kImmunisations, "Immunization/"},
      {Collection::kVisits, "Encounter/"}};
  const auto slash = subject.find('/');
  if (slash == std::string::npos) return {};
  const std::string name = subject.substr(0, slash), id = subject.substr(slash + 1);
  for (const auto& [collection, resource] : kResources) {
    if (crdt::collectionName(collection) != name) continue;
    for (const auto& [entryId, e] : m_doc.entries(collection)) {
      if (crdt::toString(entryId) == id) return std::string(resource) + id;
    }
  }
  return {};
}

// Photos are Media (R4's resource for images taken of the patient); scanned
// and outside documents are DocumentReference. Either carries the bytes as
// base64 when the server holds them, and the content hash as an identifier.
void Exporter::attachment(const crdt::Entry& e) {
  const std::string hash = text(e, field::kContentHash);
  const std::string kind = text(e, field::kAttachmentKind);
  const std::string caption = text(e, field::kDisplay);
  const bool photo = kind == "wound-photo" || kind == "photo";
  const bool withdrawn = status(e) == EntryStatus::kEnteredInError;
  const crdt::Value takenAt = e.fieldValue(field::kTakenAt);
  const auto* taken = std::get_if<std::int64_t>(&takenAt);

  json::Object content;
  if (std::string type = text(e, field::kMediaType); !type.empty()) content.emplace_back("contentType", type);
  if (m_content && crdt::isContentHash(hash) && !withdrawn) {
    if (std::optional<std::string> bytes = m_content(m_doc.patientId(), hash))
      content.emplace_back("data", base64Encode(*bytes));
  }
  const crdt::Value size = e.fieldValue(field::kContentSize);
  if (const auto* n = std::get_if<std::int64_t>(&size); n && *n > 0) content.emplace_back("size", *n);
  if (std::string title = caption.empty() ? text(e, field::kFileName) : caption; !title.empty()) {
    content.emplace_back("title", title);
  }
  if (taken) content.emplace_back("creation", fhirInstant(*taken));

  const std::string type = photo ? "Media" : "DocumentReference";
  json::Object r{{"resourceType", type}, {"id", fhirId(crdt::toString(e.id))}};
  if (crdt::isContentHash(hash)) {
    r.emplace_back("identifier",
                   json::Array{json::Object{{"system", "urn:charta:attachment-sha256"}, {"value", hash}}});
  }
  const std::string related = subjectKey(text(e, field::kSubject));
  if (photo) {
    r.emplace_back("status", withdrawn ? "entered-in-error" : "completed");
    r.emplace_back("type", codeable("http://terminology.hl7.org/CodeSystem/media-type|image",
                                    kind == "wound-photo" ? "Wound photo" : "Photo"));
    r.emplace_back("subject", patientRef());
    if (!e.visit.isNull()) r.emplace_back("encounter", visitRef(e.visit));
    if (taken) r.emplace_back("createdDateTime", fhirInstant(*taken));
    if (std::string series = text(e, field::kSeries); !series.empty()) {
      r.emplace_back("bodySite", json::Object{{"text", series}});
    }
    r.emplace_back("content", std::move(content));
    json::Array notes = notesOf(e);
    if (!related.empty()) notes.push_back(json::Object{{"text", "Attached to " + related}});
    if (!notes.empty()) r.emplace_back("note", std::move(notes));
  } else {
    static const std::map<std::string, std::pair<std::string, std::string>> kTypes = {
        {"consent", {"59284-0", "Consent Document"}},
        {"referral", {"57133-1", "Referral note"}},
        {"outside-result", {"11502-2", "Laboratory report"}}};
    r.emplace_back("status", withdrawn ? "entered-in-error" : "current");
    if (auto t = kTypes.find(kind); t != kTypes.end()) {
      r.emplace_back("type", codeable(t->second.first, t->second.second, kLoinc));
    } else {
      r.emplace_back("type", json::Object{{"text", "Document"}});
    }
    r.emplace_back("subject", patientRef());
    if (taken) r.emplace_back("date", fhirInstant(*taken));
    std::string description = caption;
    for (const std::string& line : conflictLines(e.id)) description += (description.empty() ? "" : "\n") + line;
    if (!description.empty()) r.emplace_back("description", description);
    r.emplace_back("content", json::Array{json::Object{{"attachment", json::Value(std::move(content))}}});
    json::Object context;
    if (!e.visit.isNull()) context.emplace_back("encounter", json::Array{visitRef(e.visit)});
    if (!related.empty()) context.emplace_back("related", json::Array{json::Object{{"reference", urn(related)}}});
    if (!context.empty()) r.emplace_back("context", std::move(context));
  }
  add(type + "/" + crdt::toString(e.id), std::move(r));
}

json::Value Exporter::bundle(FhirBundleType type, std::int64_t nowMs) {
  patient();
  for (const auto& [id, e] : m_doc.entries(Collection::kVisits)) visit(e);
  for (const auto& [id, e] : m_doc.entries(Collection::kAllergies)) allergy(e);
  for (const auto& [id, e] : m_doc.entries(Collection::kProblems)) problem(e);
  for (const auto& [id, e] : m_doc.entries(Collection::kMedications)) medication(e);
  for (const auto& [id, e] : m_doc.entries(Collection::kImmunisations)) immunisation(e);
  observations();
  notes();
  for (const auto& [id, e] : m_doc.entries(Collection::kAttachments)) attachment(e);
  json::Object b{{"resourceType", "Bundle"},
                 {"id", fhirId("everything-" + m_doc.patientId())},
                 {"type", type == FhirBundleType::kSearchset ? "searchset" : "collection"},
                 {"timestamp", fhirInstant(nowMs)}};
  if (type == FhirBundleType::kSearchset) b.emplace_back("total", static_cast<std::int64_t>(m_entries.size()));
  b.emplace_back("entry", std::move(m_entries));
  return b;
}

}  // namespace

std::string fhirInstant(std::int64_t ms) {
  std::int64_t days = ms / 86400000, rem = ms % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civilFromDays(days, y, m, d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600000), static_cast<long long>(rem / 60000 % 60),
                static_cast<long long>(rem / 1000 % 60), static_cast<long long>(rem % 1000));
  return buf;
}

json::Value chartToFhirBundle(const crdt::ChartDocument& doc, FhirBundleType type, std::int64_t nowMs,
                              const std::set<std::string>& withheldNotes, const AttachmentContent& content) {
  return Exporter(doc, withheldNotes, content).bundle(type, nowMs);
}

Result<std::vector<json::Value>> exportPatients(Store& store, ChartCache& cache,
                                                const std::vector<std::string>& patients, const std::string& clinic,
                                                FhirBundleType type, const std::string& actor,
                                                const std::string& address, const AttachmentContent& content) {
  std::vector<json::Value> out;
  for (const std::string& patient : patients) {
    std::optional<crdt::ChartDocument> chart;
    Status s = store.write([&](WriteTx& tx) -> Status {
      tx.setActor(actor, "", address);
      auto rows = tx.conn().query("SELECT clinic_id FROM patients WHERE id = $1", P{patient});
      if (!rows.isOk()) return rows.status();
      if (rows.value().empty() || (!clinic.empty() && dbText(rows.value()[0][0]) != clinic)) {
        return Status::notFound("no patient " + patient + (clinic.empty() ? "" : " in clinic " + clinic));
      }
      tx.touch(patient);
      auto doc = cache.load(tx.conn(), patient);
      if (!doc.isOk()) return doc.status();
      chart.emplace(*doc.value());
      tx.audit({"", "", "", "chart.export", dbText(rows.value()[0][0]), patient,
                json::serialize(json::Object{{"format", "fhir-r4"}})});
      return Status::ok();
    });
    if (!s.isOk()) return s;
    out.push_back(chartToFhirBundle(*chart, type, nowMs(), {}, content));
  }
  return out;
}

Result<std::vector<std::string>> patientsOfClinic(Store& store, const std::string& clinic) {
  std::vector<std::string> out;
  Status s = store.read([&](Connection& c) -> Status {
    auto found = c.query("SELECT id FROM clinics WHERE id = $1", P{clinic});
    if (!found.isOk()) return found.status();
    if (found.value().empty()) return Status::notFound("no clinic " + clinic);
    auto rows = c.query("SELECT id FROM patients WHERE clinic_id = $1 ORDER BY id", P{clinic});
    if (!rows.isOk()) return rows.status();
    for (const DbRow& r : rows.value()) out.push_back(dbText(r[0]));
    return Status::ok();
  });
  if (!s.isOk()) return s;
  return out;
}

}  // namespace charta::server
