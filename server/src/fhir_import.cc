#include "fhir_import.h"

#include <algorithm>
#include <limits>
#include <set>
#include <unordered_map>

#include "charta/crdt/op_factory.h"
#include "crypto.h"
#include "fhir_schema.h"

namespace charta::server {
namespace {

using crdt::Collection;
using crdt::EntryStatus;
using crdt::FieldValue;
using crdt::Op;
using crdt::OpId;
using crdt::Value;
namespace field = crdt::field;
using P = std::vector<DbValue>;

constexpr std::string_view kLoinc = "http://loinc.org";

// ---- reading FHIR JSON --------------------------------------------------

std::string text(const json::Value* v) {
  const std::string* s = v ? v->asString() : nullptr;
  return s ? *s : std::string();
}
std::string text(const json::Value& obj, std::string_view key) { return text(obj.find(key)); }

const json::Array& items(const json::Value* v) {
  static const json::Array kEmpty;
  const json::Array* a = v ? v->asArray() : nullptr;
  return a ? *a : kEmpty;
}
const json::Array& items(const json::Value& obj, std::string_view key) { return items(obj.find(key)); }

const json::Value* first(const json::Value& obj, std::string_view key) {
  const json::Array& a = items(obj, key);
  return a.empty() ? nullptr : &a.front();
}

struct Coding {
  std::string system, code, display;
};

// The first coding of a CodeableConcept (the one Synthea and most senders put first).
Coding codingOf(const json::Value* cc) {
  if (!cc) return {};
  const json::Value* c = first(*cc, "coding");
  if (!c) return {};
  return {text(*c, "system"), text(*c, "code"), text(*c, "display")};
}

// "system|code", or the bare code without a system.
std::string codeOf(const json::Value* cc) {
  Coding c = codingOf(cc);
  if (c.code.empty()) return {};
  return c.system.empty() ? c.code : c.system + "|" + c.code;
}

// What a person reads: the cc's text, else its first coding's display.
std::string displayOf(const json::Value* cc) {
  if (!cc) return {};
  std::string t = text(*cc, "text");
  if (!t.empty()) return t;
  for (const json::Value& c : items(*cc, "coding")) {
    std::string d = text(c, "display");
    if (!d.empty()) return d;
  }
  return {};
}

bool hasCode(const json::Value* cc, std::string_view code) {
  if (!cc) return false;
  for (const json::Value& c : items(*cc, "coding")) {
    if (text(c, "code") == code) return true;
  }
  return false;
}

std::string dateOnly(const std::string& dateTime) {
  return dateTime.substr(0, std::min<std::size_t>(10, dateTime.size()));
}

std::string joinNonEmpty(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// A HumanName as "Given Names" and "Family"; prefers the official name.
const json::Value* preferredName(const json::Value& resource) {
  const json::Array& names = items(resource, "name");
  for (const json::Value& n : names) {
    if (text(n, "use") == "official") return &n;
  }
  return names.empty() ? nullptr : &names.front();
}

std::string givenOf(const json::Value& name) {
  std::vector<std::string> given;
  for (const json::Value& g : items(name, "given")) given.push_back(text(&g));
  return joinNonEmpty(given, " ");
}

std::string personDisplay(const json::Value& resource) {
  const json::Value* n = preferredName(resource);
  if (!n) return {};
  std::string t = text(*n, "text");
  if (!t.empty()) return t;
  std::vector<std::string> prefix;
  for (const json::Value& p : items(*n, "prefix")) prefix.push_back(text(&p));
  return joinNonEmpty({joinNonEmpty(prefix, " "), givenOf(*n), text(*n, "family")}, " ");
}

std::string numberText(double v) {
  std::string s = json::serialize(json::Value(v));
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

// ---- dates ------------------------------------------------------------------

std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::optional<std::int64_t> fhirInstantMs(std::string_view s) {
  auto y = digits(s, 0, 4);
  if (!y) return std::nullopt;
  int month = 1, day = 1;
  std::size_t pos = 4;
  if (pos < s.size()) {
    if (s[pos] != '-') return std::nullopt;
    auto m = digits(s, pos + 1, 2);
    if (!m || *m < 1 || *m > 12) return std::nullopt;
    month = *m;
    pos += 3;
  }
  if (pos < s.size()) {
    if (s[pos] != '-') return std::nullopt;
    auto d = digits(s, pos + 1, 2);
    if (!d || *d < 1 || *d > 31) return std::nullopt;
    day = *d;
    pos += 3;
  }
  std::int64_t ms = daysFromCivil(*y, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400000;
  if (pos == s.size()) return ms;
  if (s[pos] != 'T') return std::nullopt;
  auto hh = digits(s, pos + 1, 2);
  auto mi = digits(s, pos + 4, 2);
  auto ss = digits(s, pos + 7, 2);
  if (!hh || !mi || !ss || s[pos + 3] != ':' || s[pos + 6] != ':' || *hh > 23 || *mi > 59 || *ss > 60) {
    return std::nullopt;
  }
  ms += ((*hh * 60LL + *mi) * 60 + *ss) * 1000;
  pos += 9;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    std::int64_t frac = 0, scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    ms += frac;
  }
  if (pos == s.size()) return std::nullopt;  // a time needs a zone
  if (s[pos] == 'Z') return pos + 1 == s.size() ? std::optional<std::int64_t>(ms) : std::nullopt;
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  auto zh = digits(s, pos + 1, 2);
  auto zm = digits(s, pos + 4, 2);
  if (!zh || !zm || s[pos + 3] != ':' || pos + 6 != s.size()) return std::nullopt;
  const std::int64_t offset = (*zh * 60LL + *zm) * 60000;
  return s[pos] == '+' ? ms - offset : ms + offset;
}

namespace {

// ---- the Bundle as an index ------------------------------------------------

struct BundleEntry {
  std::size_t index = 0;  // in Bundle.entry
  std::string fullUrl;
  const json::Value* resource = nullptr;
  std::string type;
  std::string source;  // "Type/id": what fhir_sources remembers
};

std::string sourceKeyOf(const json::Value& resource, const std::string& type, const std::string& fullUrl) {
  std::string id = text(resource, "id");
  if (id.empty() && fullUrl.rfind("urn:uuid:", 0) == 0) id = fullUrl.substr(9);
  if (id.empty() && !fullUrl.empty()) {
    std::size_t slash = fullUrl.rfind('/');
    id = slash == std::string::npos ? fullUrl : fullUrl.substr(slash + 1);
  }
  // Without any id, the content itself: the same resource imported twice is found again.
  if (id.empty()) id = "sha-" + toHex(digest(json::serialize(resource))).substr(0, 32);
  return type + "/" + id;
}

// The directory keys a Practitioner, Organization or Location is found by.
std::vector<std::string> directoryKeysOf(const BundleEntry& e) {
  std::vector<std::string> keys{e.source};
  if (!e.fullUrl.empty() && e.fullUrl != e.source) keys.push_back(e.fullUrl);
  for (const json::Value& id : items(*e.resource, "identifier")) {
    std::string system = text(id, "system"), value = text(id, "value");
    if (value.empty()) continue;
    keys.push_back(e.type + "?identifier=" + (system.empty() ? value : system + "|" + value));
  }
  return keys;
}

std::string directoryDisplayOf(const BundleEntry& e) {
  const json::Value& r = *e.resource;
  if (e.type == "Practitioner") return personDisplay(r);
  if (e.type == "PractitionerRole") {
    const json::Value* p = r.find("practitioner");
    return p ? text(*p, "display") : std::string();
  }
  std::string name = text(r, "name");                                       // Organization, Location
  if (name.empty() && e.type == "Location") name = text(r, "description");  // "Patient's Home"
  return name;
}

bool isDirectoryType(std::string_view t) {
  return t == "Practitioner" || t == "PractitionerRole" || t == "Organization" || t == "Location";
}

// Why a resource type is not charted, or "" when it is.
std::string notChartedReason(std::string_view t) {
  static const std::set<std::string_view> kCharted{
      "Patient",      "AllergyIntolerance", "Condition",   "MedicationRequest", "MedicationStatement",
      "Immunization", "Encounter",          "Observation", "DiagnosticReport",  "DocumentReference"};
  if (kCharted.count(t)) return {};
  if (t == "Claim" || t == "ExplanationOfBenefit" || t == "Coverage" || t == "Account" || t == "Invoice") {
    return "billing, not charted";
  }
  if (t == "Medication") return "read through the medication entries that name it";
  if (t == "Provenance") return "the import records its own provenance (author fhir-import, audit trail)";
  return "Charta does not chart " + std::string(t) + " resources";
}

// The patient a clinical resource belongs to: its reference.
const json::Value* patientRef(const BundleEntry& e) {
  const json::Value& r = *e.resource;
  if (const json::Value* p = r.find("patient")) return p;
  return r.find("subject");
}

// ---- the import itself ---------------------------------------------------

// A source imported before: its patient, first op and the patient's clinic.
constexpr std::string_view kKnownSourceSql =
    "SELECT s.patient_id, s.op_replica, s.op_counter, p.clinic_id FROM fhir_sources s "
    "JOIN patients p ON p.id = s.patient_id WHERE s.source = $1";

struct KnownSource {
  std::string patient;
  OpId op;
};

class Importer {
 public:
  Importer(WriteTx& tx, ChartCache& cache, std::uint64_t serverReplica, const std::string& clinic,
           FhirImportReport& report)
      : m_tx(tx),
        m_cache(cache),
        m_factory(crdt::ReplicaId{serverReplica}, m_clock, static_cast<std::uint64_t>(tx.head().serverCounter) + 1),
        m_clinic(clinic),
        m_report(report) {
    m_factory.setUser(std::string(kFhirImportUser));
  }

  // Returns kInvalidArgument (with report.errors filled) when the Bundle
  // cannot be imported: the caller rolls the transaction back.
  Status run(const json::Value& bundle);

 private:
  void error(const BundleEntry& e, std::string_view member, std::string message) {
    std::string path = "entry[" + std::to_string(e.index) + "].resource";
    if (!member.empty()) path += "." + std::string(member);
    m_report.errors.push_back({std::move(path), std::move(message)});
  }
  void skip(const std::string& type, const std::string& reason) { ++m_report.skipped[type][reason]; }

  const BundleEntry* local(const std::string& ref) const {
    auto it = m_byRef.find(ref);
    return it == m_byRef.end() ? nullptr : &m_entries[it->second];
  }
  // A name for a Practitioner / Organization / Location reference: in the
  // Bundle, else in the directory of earlier imports, else reported.
  Result<std::string> resolveName(const json::Value* reference);
  std::optional<std::string> patientOf(const BundleEntry& e);
  OpId visitOf(const crdt::ChartDocument& doc, const json::Value* encounterRef) const;

  Status emit(crdt::ChartDocument& doc, Op op);
  Status chartPatient(const BundleEntry& e, crdt::ChartDocument& doc);
  Status chartEntry(const BundleEntry& e, crdt::ChartDocument& doc);
  Status chartObservation(const BundleEntry& e, crdt::ChartDocument& doc);
  Status chartNote(const BundleEntry& e, crdt::ChartDocument& doc, const std::string& text, const std::string& title,
                   const json::Value* encounterRef, bool final);
  Status chartVisit(const BundleEntry& e, crdt::ChartDocument& doc);

  WriteTx& m_tx;
  ChartCache& m_cache;
  crdt::SystemWallClock m_clock;
  crdt::OpFactory m_factory;
  std::string m_clinic;
  FhirImportReport& m_report;

  std::vector<BundleEntry> m_entries;
  std::unordered_map<std::string, std::size_t> m_byRef;  // fullUrl and Type/id -> m_entries index
  std::map<std::string, KnownSource> m_known;            // sources imported before
  std::map<std::string, std::string> m_patientIds;       // Patient source -> Charta patient id
  std::map<std::string, crdt::ChartDocument*> m_docs;    // Charta patient id -> chart
  std::map<std::string, OpId> m_visits;                  // Encounter source -> visit entry
  std::set<std::string> m_noteTexts;                     // note texts charted from this Bundle
  std::set<std::string> m_documentTexts;                 // texts the Bundle's DocumentReferences carry
  std::set<std::string> m_unresolved;
  std::vector<Op> m_ops;
  struct NewSource {
    std::string source, patient;
    OpId op;  // the first op the resource made
  };
  std::vector<NewSource> m_newSources;
  std::map<std::string, std::int64_t> m_opsPerPatient;
};

Result<std::string> Importer::resolveName(const json::Value* reference) {
  if (!reference) return std::string();
  const std::string ref = text(*reference, "reference");
  const std::string display = text(*reference, "display");
  if (ref.empty()) return display;
  if (const BundleEntry* e = local(ref)) {
    std::string name = directoryDisplayOf(*e);
    return name.empty() ? display : name;
  }
  auto rows = m_tx.conn().query("SELECT display FROM fhir_directory WHERE ref = $1", P{ref});
  if (!rows.isOk()) return rows.status();
  if (!rows.value().empty()) return dbText(rows.value()[0][0]);
  m_unresolved.insert(ref);
  return display;  // what the sender wrote beside the reference, never a guess
}

std::optional<std::string> Importer::patientOf(const BundleEntry& e) {
  const json::Value* ref = patientRef(e);
  std::string r = ref ? text(*ref, "reference") : std::string();
  std::string source;
  if (const BundleEntry* p = local(r); p && p->type == "Patient") {
    source = p->source;
  } else if (r.rfind("Patient/", 0) == 0) {
    source = r;
  }
  auto it = m_patientIds.find(source);
  if (it != m_patientIds.end()) return it->second;
  auto known = m_known.find(source);
  if (!source.empty() && known == m_known.end()) {
    auto rows = m_tx.conn().query(kKnownSourceSql, P{source});
    if (rows.isOk() && !rows.value().empty() && dbText(rows.value()[0][3]) == m_clinic) {
      known = m_known.emplace(source, KnownSource{dbText(rows.value()[0][0]), {}}).first;
    }
  }
  if (known != m_known.end()) {
    m_patientIds[source] = known->second.patient;
    return known->second.patient;
  }
  if (!r.empty()) m_unresolved.insert(r);
  return std::nullopt;
}

OpId Importer::visitOf(const crdt::ChartDocument& doc, const json::Value* encounterRef) const {
  if (!encounterRef) return {};
  const std::string ref = text(*encounterRef, "reference");
  std::string source = ref;
  if (const BundleEntry* e = local(ref)) source = e->source;
  auto it = m_visits.find(source);
  if (it == m_visits.end()) return {};
  // Only a visit of this patient's chart: an encounter of another patient is not linked.
  const crdt::Entry* visit = doc.findEntry(it->second);
  return visit && visit->collection == Collection::kVisits ? it->second : OpId{};
}

Status Importer::emit(crdt::ChartDocument& doc, Op op) {
  auto applied = doc.apply(op);
  if (!applied.isOk()) {
    return Status::corruption("an imported op was refused by the chart: " + applied.status().message());
  }
  ++m_opsPerPatient[doc.patientId()];
  m_ops.push_back(std::move(op));
  return Status::ok();
}

Status Importer::chartPatient(const BundleEntry& e, crdt::ChartDocument& doc) {
  const json::Value& r = *e.resource;
  std::vector<std::pair<crdt::FieldId, std::string>> demo;
  if (const json::Value* n = preferredName(r)) {
    demo.emplace_back(field::kFamilyName, text(*n, "family"));
    demo.emplace_back(field::kGivenNames, givenOf(*n));
  }
  demo.emplace_back(field::kBirthDate, text(r, "birthDate"));
  demo.emplace_back(field::kSex, text(r, "gender"));
  if (const json::Value* a = first(r, "address")) {
    std::vector<std::string> lines;
    for (const json::Value& l : items(*a, "line")) lines.push_back(text(&l));
    demo.emplace_back(field::kAddress, joinNonEmpty({joinNonEmpty(lines, ", "), text(*a, "city"),
                                                     joinNonEmpty({text(*a, "state"), text(*a, "postalCode")}, " "),
                                                     text(*a, "country")},
                                                    ", "));
  }
  for (const json::Value& t : items(r, "telecom")) {
    if (text(t, "system") == "phone") {
      demo.emplace_back(field::kPhone, text(t, "value"));
      break;
    }
  }
  demo.emplace_back(field::kDeceasedDate, dateOnly(text(r, "deceasedDateTime")));
  if (const json::Value* c = first(r, "communication")) {
    Coding lang = codingOf(c->find("language"));
    demo.emplace_back(field::kLanguage, lang.code.empty() ? displayOf(c->find("language")) : lang.code);
  }
  const std::size_t before = m_ops.size();
  for (const auto& [f, v] : demo) {
    if (v.empty()) continue;
    Status s = emit(doc, m_factory.writeField(doc, crdt::FieldRef{Collection::kDemographics, {}, f}, Value{v}));
    if (!s.isOk()) return s;
  }
  for (const json::Value& id : items(r, "identifier")) {
    std::string value = text(id, "value");
    if (value.empty()) continue;
    std::vector<FieldValue> fields{{field::kIdentifierValue, Value{value}}};
    std::string system = text(id, "system");
    if (!system.empty()) fields.push_back({field::kIdentifierSystem, Value{system}});
    Status s = emit(doc, m_factory.addEntry(doc, Collection::kIdentifiers, std::move(fields)));
    if (!s.isOk()) return s;
  }
  if (m_ops.size() == before) {
    // A Patient with nothing Charta charts still becomes a chart: its sex as unknown.
    Status s = emit(doc, m_factory.writeField(doc, crdt::FieldRef{Collection::kDemographics, {}, field::kSex},
                                              Value{std::string("unknown")}));
    if (!s.isOk()) return s;
  }
  m_newSources.push_back({e.source, doc.patientId(), m_ops[before].id});
  return Status::ok();
}

Status Importer::chartVisit(const BundleEntry& e, crdt::ChartDocument& doc) {
  const json::Value& r = *e.resource;
  std::vector<FieldValue> fields;
  const json::Value* type = first(r, "type");
  if (std::string c = codeOf(type); !c.empty()) fields.push_back({field::kCode, Value{c}});
  if (std::string d = displayOf(type); !d.empty()) fields.push_back({field::kDisplay, Value{d}});
  // Encounter.class (v3 ActCode) to the setting a nurse picks; others keep their name.
  static const std::map<std::string, std::string> kSettings{
      {"HH", "home"},         {"AMB", "clinic"},      {"EMER", "emergency"},     {"IMP", "inpatient"},
      {"ACUTE", "inpatient"}, {"NONAC", "inpatient"}, {"OBSENC", "observation"}, {"PRENC", "pre-admission"},
      {"SS", "short stay"},   {"VR", "virtual"},      {"FLD", "field"}};
  if (const json::Value* cls = r.find("class")) {
    auto it = kSettings.find(text(*cls, "code"));
    fields.push_back({field::kSetting, Value{it != kSettings.end() ? it->second : text(*cls, "code")}});
  }
  const json::Value* period = r.find("period");
  // Plain values, not optionals: GCC 12 cannot see through them here (maybe-uninitialized).
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
  const std::int64_t start = period ? fhirInstantMs(text(*period, "start")).value_or(kNone) : kNone;
  const std::int64_t end = period ? fhirInstantMs(text(*period, "end")).value_or(kNone) : kNone;
  const std::string status = text(r, "status");
  if (start != kNone) fields.push_back({field::kStart, Value{start}});
  if (end != kNone) {
    fields.push_back({field::kEnd, Value{end}});
  } else if (start != kNone && status == "finished") {
    fields.push_back({field::kEnd, Value{start}});
  }
  std::vector<std::string> who;
  for (const json::Value& p : items(r, "participant")) {
    auto name = resolveName(p.find("individual"));
    if (!name.isOk()) return name.status();
    who.push_back(name.value());
  }
  if (std::string w = joinNonEmpty(who, "; "); !w.empty()) fields.push_back({field::kPractitioner, Value{w}});
  std::vector<std::string> reasons;
  for (const json::Value& rc : items(r, "reasonCode")) reasons.push_back(displayOf(&rc));
  for (const json::Value& rr : items(r, "reasonReference")) {
    const BundleEntry* c = local(text(rr, "reference"));
    reasons.push_back(c ? displayOf(c->resource->find("code")) : text(rr, "display"));
  }
  if (std::string why = joinNonEmpty(reasons, "; "); !why.empty()) fields.push_back({field::kReason, Value{why}});
  std::string where;
  if (const json::Value* l = first(r, "location")) {
    auto name = resolveName(l->find("location"));
    if (!name.isOk()) return name.status();
    where = name.value();
  }
  if (where.empty()) {
    auto name = resolveName(r.find("serviceProvider"));
    if (!name.isOk()) return name.status();
    where = name.value();
  }
  if (!where.empty()) fields.push_back({field::kLocation, Value{where}});
  EntryStatus st = EntryStatus::kFinished;
  if (status == "planned" || status == "arrived" || status == "triaged") st = EntryStatus::kPlanned;
  if (status == "in-progress" || status == "onleave") st = EntryStatus::kInProgress;
  if (status == "cancelled") st = EntryStatus::kCancelled;
  if (status == "entered-in-error") st = EntryStatus::kEnteredInError;
  fields.push_back({crdt::kStatusField, Value{static_cast<std::int64_t>(st)}});
  Op op = m_factory.addEntry(doc, Collection::kVisits, std::move(fields));
  m_visits[e.source] = op.id;
  m_newSources.push_back({e.source, doc.patientId(), op.id});
  return emit(doc, std::move(op));
}

Status Importer::chartEntry(const BundleEntry& e, crdt::ChartDocument& doc) {
  const json::Value& r = *e.resource;
  const std::string& t = e.type;
  std::vector<FieldValue> fields;
  auto put = [&](crdt::FieldId f, const std::string& v) {
    if (!v.empty()) fields.push_back({f, Value{v}});
  };
  Collection coll = Collection::kAllergies;
  EntryStatus status = EntryStatus::kActive;
  std::string lossy;  // a source status Charta has no exact word for, kept in the note
  const std::string clinical = codingOf(r.find("clinicalStatus")).code;
  const bool enteredInError = codingOf(r.find("verificationStatus")).code == "entered-in-error";
  std::vector<std::string> notes;
  for (const json::Value& n : items(r, "note")) notes.push_back(text(n, "text"));
  const json::Value* encounter = r.find("encounter");

  if (t == "AllergyIntolerance") {
    coll = Collection::kAllergies;
    put(field::kCode, codeOf(r.find("code")));
    put(field::kDisplay, displayOf(r.find("code")));
    put(field::kCriticality, text(r, "criticality"));
    if (const json::Value* c = first(r, "category")) put(field::kAllergyCategory, text(c));
    if (const json::Value* reaction = first(r, "reaction")) {
      std::vector<std::string> manifest;
      for (const json::Value& m : items(*reaction, "manifestation")) manifest.push_back(displayOf(&m));
      put(field::kReaction, joinNonEmpty(manifest, ", "));
      put(field::kSeverity, text(*reaction, "severity"));
    }
    if (clinical == "inactive") status = EntryStatus::kInactive;
    if (clinical == "resolved") status = EntryStatus::kResolved;
    if (codingOf(r.find("verificationStatus")).code == "refuted") {
      status = EntryStatus::kInactive;
      lossy = "verification status refuted";
    }
  } else if (t == "Condition") {
    coll = Collection::kProblems;
    put(field::kCode, codeOf(r.find("code")));
    put(field::kDisplay, displayOf(r.find("code")));
    std::string onset = text(r, "onsetDateTime");
    if (onset.empty()) {
      if (const json::Value* p = r.find("onsetPeriod")) onset = text(*p, "start");
    }
    put(field::kOnsetDate, dateOnly(onset));
    std::string abatement = text(r, "abatementDateTime");
    if (abatement.empty()) {
      if (const json::Value* p = r.find("abatementPeriod")) abatement = text(*p, "end");
    }
    put(field::kAbatementDate, dateOnly(abatement));
    if (clinical == "inactive" || clinical == "remission") status = EntryStatus::kInactive;
    if (clinical == "resolved" || (clinical.empty() && !abatement.empty())) status = EntryStatus::kResolved;
    if (clinical == "remission" || clinical == "recurrence" || clinical == "relapse") {
      lossy = "clinical status " + clinical;
    }
  } else if (t == "MedicationRequest" || t == "MedicationStatement") {
    coll = Collection::kMedications;
    const json::Value* cc = r.find("medicationCodeableConcept");
    if (!cc) {
      if (const json::Value* ref = r.find("medicationReference")) {
        if (const BundleEntry* m = local(text(*ref, "reference")); m && m->type == "Medication") {
          cc = m->resource->find("code");
        } else if (!text(*ref, "display").empty()) {
          put(field::kDisplay, text(*ref, "display"));
        }
      }
    }
    put(field::kCode, codeOf(cc));
    if (fields.empty() || fields.back().field != field::kDisplay) put(field::kDisplay, displayOf(cc));
    const json::Value* dosage = first(r, t == "MedicationRequest" ? "dosageInstruction" : "dosage");
    if (dosage) {
      std::string dose;
      if (const json::Value* dr = first(*dosage, "doseAndRate")) {
        if (const json::Value* q = dr->find("doseQuantity")) {
          auto v = q->find("value") ? q->find("value")->asDouble() : std::nullopt;
          if (v) dose = joinNonEmpty({numberText(*v), text(*q, "unit")}, " ");
        }
      }
      if (dose.empty()) dose = text(*dosage, "text");
      put(field::kDose, dose);
      put(field::kRoute, displayOf(dosage->find("route")));
      std::string frequency;
      if (const json::Value* timing = dosage->find("timing")) {
        if (const json::Value* rep = timing->find("repeat")) {
          const std::int64_t f = rep->find("frequency") ? rep->find("frequency")->asInt().value_or(0) : 0;
          auto p = rep->find("period") ? rep->find("period")->asDouble() : std::nullopt;
          if (f > 0 && p) {
            frequency = std::to_string(f) + (f == 1 ? " time every " : " times every ") + numberText(*p) + " " +
                        text(*rep, "periodUnit");
          }
        }
        if (frequency.empty()) frequency = displayOf(timing->find("code"));
      }
      if (auto asNeeded = dosage->find("asNeededBoolean") ? dosage->find("asNeededBoolean")->asBool() : std::nullopt;
          asNeeded && *asNeeded) {
        frequency = joinNonEmpty({frequency, "as needed"}, ", ");
      }
      put(field::kFrequency, frequency);
    }
    std::string startDate = text(r, "authoredOn");
    std::string endDate;
    if (const json::Value* p = r.find("effectivePeriod")) {
      startDate = text(*p, "start");
      endDate = text(*p, "end");
    }
    if (startDate.empty()) startDate = text(r, "effectiveDateTime");
    put(field::kStartDate, dateOnly(startDate));
    put(field::kEndDate, dateOnly(endDate));
    const std::string s = text(r, "status");
    if (s == "on-hold") status = EntryStatus::kOnHold;
    if (s == "completed") status = EntryStatus::kCompleted;
    if (s == "stopped" || s == "cancelled" || s == "not-taken") status = EntryStatus::kStopped;
    if (s == "entered-in-error") status = EntryStatus::kEnteredInError;
    if (s == "cancelled" || s == "not-taken" || s == "draft" || s == "unknown" || s == "intended") {
      lossy = "status " + s;
    }
  } else if (t == "Immunization") {
    coll = Collection::kImmunisations;
    status = EntryStatus::kCompleted;
    put(field::kCode, codeOf(r.find("vaccineCode")));
    put(field::kDisplay, displayOf(r.find("vaccineCode")));
    put(field::kOccurrenceDate, dateOnly(text(r, "occurrenceDateTime")));
    put(field::kLotNumber, text(r, "lotNumber"));
    put(field::kSite, displayOf(r.find("site")));
    if (const json::Value* pa = first(r, "protocolApplied")) {
      auto n = pa->find("doseNumberPositiveInt") ? pa->find("doseNumberPositiveInt")->asInt() : std::nullopt;
      if (n) fields.push_back({field::kDoseNumber, Value{*n}});
    }
    const std::string s = text(r, "status");
    if (s == "not-done") status = EntryStatus::kNotDone;
    if (s == "entered-in-error") status = EntryStatus::kEnteredInError;
  }
  if (enteredInError) status = EntryStatus::kEnteredInError;
  if (!lossy.empty()) notes.push_back("Imported with FHIR " + lossy + ".");
  put(field::kNote, joinNonEmpty(notes, "\n"));
  fields.push_back({crdt::kStatusField, Value{static_cast<std::int64_t>(status)}});
  Op op = m_factory.addEntry(doc, coll, std::move(fields), visitOf(doc, encounter));
  m_newSources.push_back({e.source, doc.patientId(), op.id});
  return emit(doc, std::move(op));
}

Status Importer::chartObservation(const BundleEntry& e, crdt::ChartDocument& doc) {
  const json::Value& r = *e.resource;
  crdt::ObservationCategory category{};
  bool charted = false;
  std::string categoryName;
  for (const json::Value& c : items(r, "category")) {
    if (hasCode(&c, "vital-signs")) {
      category = crdt::ObservationCategory::kVitalSign;
      charted = true;
    } else if (hasCode(&c, "laboratory")) {
      category = crdt::ObservationCategory::kLaboratory;
      charted = true;
    } else if (categoryName.empty()) {
      categoryName = codingOf(&c).code;
    }
  }
  if (!charted) {
    skip(e.type, "category " + (categoryName.empty() ? std::string("none") : "'" + categoryName + "'") +
                     " is not charted (vital signs and laboratory results are)");
    return Status::ok();
  }
  const std::string status = text(r, "status");
  if (status == "cancelled") {
    skip(e.type, "status cancelled: nothing was measured");
    return Status::ok();
  }
  std::string effective = text(r, "effectiveDateTime");
  if (effective.empty()) {
    if (const json::Value* p = r.find("effectivePeriod")) effective = text(*p, "start");
  }
  if (effective.empty()) effective = text(r, "effectiveInstant");
  if (effective.empty()) effective = text(r, "issued");
  auto when = fhirInstantMs(effective);
  if (!when) {
    skip(e.type, "no effective time");
    return Status::ok();
  }
  const OpId visit = visitOf(doc, r.find("encounter"));

  // One result: code, value (value[x] of the resource or of a component).
  struct Result1 {
    std::string code;
    Value value;
    std::string unit;
  };
  auto codeText = [](const json::Value* cc) {
    if (!cc) return std::string();
    for (const json::Value& c : items(*cc, "coding")) {
      if (text(c, "system") == kLoinc && !text(c, "code").empty()) return text(c, "code");
    }
    return codeOf(cc);
  };
  auto valueOf = [](const json::Value& holder, Result1& out) {
    if (const json::Value* q = holder.find("valueQuantity")) {
      auto v = q->find("value") ? q->find("value")->asDouble() : std::nullopt;
      if (!v) return false;
      out.value = Value{*v};
      out.unit = text(*q, "code").empty() ? text(*q, "unit") : text(*q, "code");
      return true;
    }
    if (const json::Value* c = holder.find("valueCodeableConcept")) {
      std::string d = displayOf(c);
      if (d.empty()) d = codeOf(c);
      if (d.empty()) return false;
      out.value = Value{d};
      return true;
    }
    if (const json::Value* s = holder.find("valueString"); s && s->asString()) {
      out.value = Value{*s->asString()};
      return true;
    }
    if (const json::Value* i = holder.find("valueInteger"); i && i->asInt()) {
      out.value = Value{*i->asInt()};
      return true;
    }
    if (const json::Value* b = holder.find("valueBoolean"); b && b->asBool()) {
      out.value = Value{std::string(*b->asBool() ? "true" : "false")};
      return true;
    }
    return false;
  };
  std::vector<Result1> results;
  Result1 whole{codeText(r.find("code")), {}, {}};
  if (valueOf(r, whole)) {
    results.push_back(std::move(whole));
  } else {
    // Panels (blood pressure 85354-9 or 55284-4, ...): each component is a result.
    for (const json::Value& c : items(r, "component")) {
      Result1 part{codeText(c.find("code")), {}, {}};
      if (!part.code.empty() && valueOf(c, part)) results.push_back(std::move(part));
    }
  }
  if (results.empty() || results.front().code.empty()) {
    skip(e.type, "no value Charta can chart");
    return Status::ok();
  }
  std::optional<double> low, high;
  if (const json::Value* range = first(r, "referenceRange")) {
    if (const json::Value* l = range->find("low"); l && l->find("value")) low = l->find("value")->asDouble();
    if (const json::Value* h = range->find("high"); h && h->find("value")) high = h->find("value")->asDouble();
  }
  bool firstOp = true;
  for (Result1& res : results) {
    crdt::AppendObservation obs;
    obs.category = category;
    obs.code = res.code;
    obs.value = std::move(res.value);
    obs.unit = res.unit;
    obs.effectiveMs = *when;
    if (results.size() == 1) {
      obs.referenceLow = low;
      obs.referenceHigh = high;
    }
    obs.visit = visit;
    Op op = m_factory.appendObservation(doc, std::move(obs));
    const OpId id = op.id;
    if (firstOp) m_newSources.push_back({e.source, doc.patientId(), id});
    firstOp = false;
    if (Status s = emit(doc, std::move(op)); !s.isOk()) return s;
    if (status == "entered-in-error") {
      Status s = emit(doc, m_factory.markObservationError(doc, id, "entered-in-error in the imported record"));
      if (!s.isOk()) return s;
    }
  }
  ++m_report.imported[e.type];
  return Status::ok();
}

Status Importer::chartNote(const BundleEntry& e, crdt::ChartDocument& doc, const std::string& body,
                           const std::string& title, const json::Value* encounterRef, bool final) {
  if (!m_noteTexts.insert(body).second) {
    skip(e.type, "the same note text was already charted from this Bundle");
    return Status::ok();
  }
  const std::string note = title.empty() ? body : title + "\n\n" + body;
  Op start = m_factory.startNote(doc, note, visitOf(doc, encounterRef));
  const OpId id = start.id;
  m_newSources.push_back({e.source, doc.patientId(), id});
  if (Status s = emit(doc, std::move(start)); !s.isOk()) return s;
  if (final) {
    if (Status s = emit(doc, m_factory.signNote(doc, id, note)); !s.isOk()) return s;
  }
  ++m_report.imported[e.type];
  return Status::ok();
}

// The plain text of the first text/* attachment (base64 data), or nullopt.
std::optional<std::string> attachmentText(const json::Value* attachment) {
  if (!attachment) return std::nullopt;
  const std::string type = text(*attachment, "contentType");
  if (!type.empty() && type.rfind("text/", 0) != 0) return std::nullopt;
  const std::string data = text(*attachment, "data");
  if (data.empty()) return std::nullopt;
  return base64Decode(data);
}

Status Importer::run(const json::Value& bundle) {
  m_report.bundleType = text(bundle, "type");
  static const std::set<std::string> kTypes{
      "transaction", "batch", "collection", "searchset", "document", "transaction-response", "batch-response"};
  if (!kTypes.count(m_report.bundleType)) {
    m_report.errors.push_back(
        {"type", "a Bundle of type '" + m_report.bundleType + "' holds no patient records to import"});
    return Status::invalidArgument("bundle refused");
  }
  const json::Array& entries = items(bundle, "entry");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const json::Value* res = entries[i].find("resource");
    if (!res) continue;
    BundleEntry e{i, text(entries[i], "fullUrl"), res, text(*res, "resourceType"), {}};
    e.source = sourceKeyOf(*res, e.type, e.fullUrl);
    if (auto [it, added] = m_byRef.emplace(e.source, m_entries.size()); !added) {
      error(e, "id",
            e.source + " is in this Bundle twice (also entry[" + std::to_string(m_entries[it->second].index) + "])");
    }
    if (!e.fullUrl.empty()) m_byRef.emplace(e.fullUrl, m_entries.size());
    m_entries.push_back(std::move(e));
  }
  m_report.resources = static_cast<std::int64_t>(m_entries.size());
  if (!m_report.errors.empty()) return Status::invalidArgument("bundle refused");

  // Sources imported before (and the patient each belongs to).
  std::vector<std::vector<DbValue>> keys;
  for (const BundleEntry& e : m_entries) keys.push_back({e.source});
  auto known = m_tx.conn().queryMany(kKnownSourceSql, keys);
  if (!known.isOk()) return known.status();
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    if (known.value()[i].empty()) continue;
    const DbRow& row = known.value()[i][0];
    const BundleEntry& e = m_entries[i];
    if (dbText(row[3]) != m_clinic) {
      error(e, "",
            e.source + " was imported into clinic " + dbText(row[3]) + " before (patient " + dbText(row[0]) +
                "); move the patient or import it there");
      continue;
    }
    m_known[e.source] = {dbText(row[0]), OpId{crdt::ReplicaId{static_cast<std::uint64_t>(dbInt(row[1]))},
                                              static_cast<std::uint64_t>(dbInt(row[2]))}};
    if (e.type == "Patient") m_patientIds[e.source] = dbText(row[0]);
    if (e.type == "Encounter") m_visits[e.source] = m_known[e.source].op;
  }
  if (!m_report.errors.empty()) return Status::invalidArgument("bundle refused");

  // Directory resources first: the clinical ones name them.
  std::vector<std::vector<DbValue>> dirRows;
  for (const BundleEntry& e : m_entries) {
    if (!isDirectoryType(e.type)) continue;
    const std::string display = directoryDisplayOf(e);
    if (display.empty()) {
      skip(e.type, "no name to show");
      continue;
    }
    for (const std::string& k : directoryKeysOf(e)) dirRows.push_back({k, e.type, display, m_tx.now()});
    ++m_report.directory[e.type];
  }
  if (!dirRows.empty()) {
    auto r = m_tx.conn().queryMany(
        "INSERT INTO fhir_directory (ref, kind, display, updated_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (ref) DO UPDATE SET kind = excluded.kind, display = excluded.display, "
        "updated_at = excluded.updated_at",
        dirRows);
    if (!r.isOk()) return r.status();
  }

  auto chartOf = [&](const std::string& patient) -> Result<crdt::ChartDocument*> {
    auto it = m_docs.find(patient);
    if (it != m_docs.end()) return it->second;
    m_tx.touch(patient);
    auto doc = m_cache.load(m_tx.conn(), patient);
    if (!doc.isOk()) return doc.status();
    (void)m_factory.observe(doc.value()->latestHlc());
    m_docs[patient] = doc.value();
    return doc.value();
  };

  // Patients, then visits (everything else links to them), then the rest in Bundle order.
  for (const BundleEntry& e : m_entries) {
    if (e.type != "Patient") continue;
    if (m_known.count(e.source)) {
      ++m_report.unchanged[e.type];
      continue;
    }
    const std::string id = "p-" + toHex(digest(randomToken(32))).substr(0, 32);
    m_patientIds[e.source] = id;
    auto doc = chartOf(id);
    if (!doc.isOk()) return doc.status();
    if (Status s = chartPatient(e, *doc.value()); !s.isOk()) return s;
    ++m_report.imported[e.type];
  }
  std::vector<const BundleEntry*> order;
  for (const BundleEntry& e : m_entries) {
    if (e.type == "Encounter") order.push_back(&e);
  }
  for (const BundleEntry& e : m_entries) {
    if (e.type != "Encounter" && e.type != "Patient" && !isDirectoryType(e.type)) order.push_back(&e);
  }
  // Note texts of DocumentReferences: a DiagnosticReport presenting the same text is not charted twice.
  for (const BundleEntry& e : m_entries) {
    if (e.type != "DocumentReference") continue;
    for (const json::Value& c : items(*e.resource, "content")) {
      if (auto body = attachmentText(c.find("attachment"))) m_documentTexts.insert(std::move(*body));
    }
  }
  for (const BundleEntry* e : order) {
    const std::string& t = e->type;
    if (std::string why = notChartedReason(t); !why.empty()) {
      skip(t, why);
      continue;
    }
    if (m_known.count(e->source)) {
      ++m_report.unchanged[t];
      continue;
    }
    auto patient = patientOf(*e);
    if (!patient) {
      const json::Value* ref = patientRef(*e);
      error(*e, e->resource->find("patient") ? "patient" : "subject",
            "its patient (" + (ref ? text(*ref, "reference") : std::string("none")) +
                ") is neither in this Bundle nor imported into clinic " + m_clinic + " before");
      continue;
    }
    auto doc = chartOf(*patient);
    if (!doc.isOk()) return doc.status();
    crdt::ChartDocument& chart = *doc.value();
    Status s;
    if (t == "Encounter") {
      s = chartVisit(*e, chart);
      if (s.isOk()) ++m_report.imported[t];
    } else if (t == "Observation") {
      s = chartObservation(*e, chart);
    } else if (t == "DocumentReference") {
      std::optional<std::string> body;
      for (const json::Value& c : items(*e->resource, "content")) {
        body = attachmentText(c.find("attachment"));
        if (body) break;
      }
      if (!body) {
        skip(t, "no plain-text content");
        continue;
      }
      std::string author;
      if (const json::Value* a = first(*e->resource, "author")) {
        auto name = resolveName(a);
        if (!name.isOk()) return name.status();
        author = name.value();
      }
      const json::Value* context = e->resource->find("context");
      const json::Value* encounter = context ? first(*context, "encounter") : nullptr;
      const std::string title =
          joinNonEmpty({displayOf(e->resource->find("type")), dateOnly(text(*e->resource, "date")), author}, ", ");
      const std::string docStatus = text(*e->resource, "docStatus");
      s = chartNote(*e, chart, *body, title.empty() ? title : "Imported: " + title, encounter,
                    docStatus != "preliminary");
    } else if (t == "DiagnosticReport") {
      std::optional<std::string> body;
      for (const json::Value& f : items(*e->resource, "presentedForm")) {
        body = attachmentText(&f);
        if (body) break;
      }
      if (!body) {
        skip(t, "a group of results: its Observations are charted as laboratory results");
        continue;
      }
      // Charted once: a DocumentReference of the same Bundle may carry the same text.
      if (m_documentTexts.count(*body)) {
        skip(t, "its text is charted from the DocumentReference that carries it too");
        continue;
      }
      const std::string title =
          joinNonEmpty({displayOf(e->resource->find("code")), dateOnly(text(*e->resource, "effectiveDateTime"))}, ", ");
      s = chartNote(*e, chart, *body, "Imported: " + title, e->resource->find("encounter"),
                    text(*e->resource, "status") != "preliminary");
    } else {
      s = chartEntry(*e, chart);
      if (s.isOk()) ++m_report.imported[t];
    }
    if (!s.isOk()) return s;
  }
  m_report.unresolved.assign(m_unresolved.begin(), m_unresolved.end());
  if (!m_report.errors.empty()) return Status::invalidArgument("bundle refused");

  // Store: ops, sources, one audit event per patient charted.
  std::vector<const Op*> ptrs;
  for (const Op& op : m_ops) ptrs.push_back(&op);
  std::vector<std::int64_t> seqs;
  if (Status s = storeServerOps(m_tx, m_cache, m_docs, ptrs, m_clinic, seqs); !s.isOk()) return s;
  if (!m_ops.empty()) m_tx.head().serverCounter = static_cast<std::int64_t>(m_factory.nextSeq() - 1);
  std::vector<std::vector<DbValue>> sourceRows;
  for (const NewSource& n : m_newSources) {
    sourceRows.push_back({n.source, n.patient, static_cast<std::int64_t>(n.op.replica.value),
                          static_cast<std::int64_t>(n.op.seq), m_tx.now()});
  }
  if (!sourceRows.empty()) {
    auto r = m_tx.conn().queryMany(
        "INSERT INTO fhir_sources (source, patient_id, op_replica, op_counter, imported_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        sourceRows);
    if (!r.isOk()) return r.status();
  }
  for (const auto& [patient, n] : m_opsPerPatient) {
    m_report.patients.push_back(patient);
    m_tx.audit({"", "", "", "fhir.import", m_clinic, patient,
                json::serialize(json::Object{{"ops", n}, {"bundle_type", m_report.bundleType}})});
  }
  m_report.ops = static_cast<std::int64_t>(m_ops.size());
  return Status::ok();
}

}  // namespace

namespace {

// Who tried to import what, when a Bundle is refused (nothing else is stored).
Status auditRefusal(Store& store, const std::string& clinic, const std::string& actor, const std::string& address,
                    const FhirImportReport& report) {
  return store.write([&](WriteTx& tx) {
    tx.setActor(actor, "", address);
    json::Object detail{{"errors", static_cast<std::int64_t>(report.errors.size())}};
    if (!report.errors.empty()) {
      detail.emplace_back("first_error", report.errors.front().path + ": " + report.errors.front().message);
    }
    tx.audit({"", "", "", "fhir.import_refused", clinic, "", json::serialize(json::Value(std::move(detail)))});
    return Status::ok();
  });
}

Result<FhirImportReport> importChecked(Store& store, ChartCache& cache, std::string_view input,
                                       const std::string& clinic, const std::string& actor,
                                       const std::string& address) {
  FhirImportReport report;
  auto parsed = json::parse(input, fhirParseLimits());
  if (!parsed.isOk()) {
    report.errors.push_back({"", "not JSON: " + parsed.status().message()});
    return report;
  }
  const json::Value& bundle = parsed.value();
  if (!bundle.isObject() || text(bundle, "resourceType") != "Bundle") {
    report.errors.push_back({"resourceType", "not a FHIR Bundle"});
    return report;
  }
  for (const auto& e : validateFhirBundle(bundle, kMaxFhirErrors)) report.errors.push_back({e.path, e.message});
  if (!report.errors.empty()) return report;

  bool refused = false;
  Status s = store.write([&](WriteTx& tx) -> Status {
    tx.setActor(actor, "", address);
    auto rows = tx.conn().query("SELECT id FROM clinics WHERE id = $1", P{clinic});
    if (!rows.isOk()) return rows.status();
    if (rows.value().empty()) return Status::notFound("no clinic " + clinic);
    FhirImportReport attempt;
    Importer importer(tx, cache, store.serverReplica(), clinic, attempt);
    Status st = importer.run(bundle);
    if (!st.isOk() && !attempt.errors.empty()) refused = true;
    report = std::move(attempt);
    return st;
  });
  if (refused) {
    report.applied = false;
    report.ops = 0;
    report.patients.clear();
    return report;
  }
  if (!s.isOk()) return s;
  report.applied = true;
  return report;
}

}  // namespace

Result<FhirImportReport> importFhirBundle(Store& store, ChartCache& cache, std::string_view input,
                                          const std::string& clinic, const std::string& actor,
                                          const std::string& address) {
  auto report = importChecked(store, cache, input, clinic, actor, address);
  if (report.isOk() && !report.value().applied) {
    Status s = auditRefusal(store, clinic, actor, address, report.value());
    if (!s.isOk()) return s;
  }
  return report;
}

json::ParseLimits fhirParseLimits() {
  json::ParseLimits limits;
  limits.maxBytes = 256u << 20;
  limits.maxDepth = 128;
  limits.maxStringBytes = 64u << 20;
  return limits;
}

json::Value fhirReportToJson(const FhirImportReport& r) {
  auto counts = [](const std::map<std::string, std::int64_t>& m) {
    json::Object o;
    for (const auto& [k, v] : m) o.emplace_back(k, v);
    return json::Value(std::move(o));
  };
  json::Array errors;
  for (const FhirError& e : r.errors) errors.push_back(json::Object{{"path", e.path}, {"message", e.message}});
  json::Array skipped;
  for (const auto& [type, reasons] : r.skipped) {
    for (const auto& [reason, n] : reasons) {
      skipped.push_back(json::Object{{"resource_type", type}, {"reason", reason}, {"count", n}});
    }
  }
  json::Array unresolved, patients;
  for (const std::string& u : r.unresolved) unresolved.push_back(u);
  for (const std::string& p : r.patients) patients.push_back(p);
  return json::Object{{"applied", r.applied},
                      {"bundle_type", r.bundleType},
                      {"resources", r.resources},
                      {"ops", r.ops},
                      {"imported", counts(r.imported)},
                      {"unchanged", counts(r.unchanged)},
                      {"directory", counts(r.directory)},
                      {"skipped", std::move(skipped)},
                      {"unresolved", std::move(unresolved)},
                      {"patients", std::move(patients)},
                      {"errors", std::move(errors)}};
}

}  // namespace charta::server
