// FHIR R4 export: every sample patient imported and exported again, each
// Bundle valid against HL7's R4 schema (the server's validator and
// python3-jsonschema), compared field by field with the Bundle it came from;
// statuses and open conflicts exported honestly; GET
// /fhir/Patient/{id}/$everything scoped and audited; and a tablet
// (charta-sim) that records an allergy offline on an imported patient, whose
// next export shows it.

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "accounts.h"
#include "api/api_harness.h"
#include "charta/crdt/op_factory.h"
#include "charta/crdt/schema.h"
#include "crypto.h"
#include "fhir/fhir_test_support.h"
#include "fhir_export.h"
#include "fhir_import.h"
#include "fhir_schema.h"
#include "json.h"
#include "store.h"
#include "support/fake_clock.h"
#include "sync.h"

using namespace charta;
using namespace charta::server;
using charta::test::AdminClient;
using charta::test::HttpResult;
using charta::test::TestServer;
namespace fs = std::filesystem;

namespace {

using namespace charta::test::fhir;
const json::Value* firstCoding(const json::Value* cc) {
  if (!cc) return nullptr;
  const json::Array& c = arr(*cc, "coding");
  return c.empty() ? nullptr : &c.front();
}
std::string codeOf(const json::Value* cc) {
  const json::Value* c = firstCoding(cc);
  return c ? str(*c, "system") + "|" + str(*c, "code") : std::string();
}
std::string displayOf(const json::Value* cc) {
  if (!cc) return {};
  if (std::string t = str(*cc, "text"); !t.empty()) return t;
  const json::Value* c = firstCoding(cc);
  return c ? str(*c, "display") : std::string();
}

std::vector<const json::Value*> resources(const json::Value& bundle, std::string_view type) {
  std::vector<const json::Value*> out;
  for (const json::Value& e : arr(bundle, "entry")) {
    const json::Value* r = e.find("resource");
    if (r && str(*r, "resourceType") == type) out.push_back(r);
  }
  return out;
}

// What the round trip must keep, read the same way from the source Bundle
// and from the exported one.
using Vital = std::tuple<std::string, long long, std::string, std::int64_t>;
struct Summary {
  std::string family, given, birthDate, gender;
  std::multiset<std::pair<std::string, std::string>> allergies;      // substance, criticality
  std::multiset<std::string> activeProblems;                         // system|code
  std::multiset<std::pair<std::string, std::string>> medications;    // system|code, status (Charta's words)
  std::multiset<std::pair<std::string, std::string>> immunisations;  // system|code, date
  std::multiset<Vital> vitals;                                       // LOINC, value x 1000, UCUM, ms

  bool operator==(const Summary&) const = default;
};

Summary summarise(const json::Value& bundle) {
  Summary s;
  for (const json::Value* p : resources(bundle, "Patient")) {
    const json::Array& names = arr(*p, "name");
    const json::Value* name = names.empty() ? nullptr : &names.front();
    for (const json::Value& n : names) {
      if (str(n, "use") == "official") name = &n;
    }
    if (name) {
      s.family = str(*name, "family");
      for (const json::Value& g : arr(*name, "given")) s.given += (s.given.empty() ? "" : " ") + str(&g);
    }
    s.birthDate = str(*p, "birthDate");
    s.gender = str(*p, "gender");
  }
  for (const json::Value* a : resources(bundle, "AllergyIntolerance")) {
    s.allergies.insert({displayOf(a->find("code")), str(*a, "criticality")});
  }
  for (const json::Value* c : resources(bundle, "Condition")) {
    const json::Value* status = firstCoding(c->find("clinicalStatus"));
    if (status && str(*status, "code") == "active") s.activeProblems.insert(codeOf(c->find("code")));
  }
  for (std::string_view type : {"MedicationRequest", "MedicationStatement"}) {
    for (const json::Value* m : resources(bundle, type)) {
      std::string status = str(*m, "status");
      if (status == "cancelled" || status == "not-taken") status = "stopped";
      if (status == "draft" || status == "unknown" || status == "intended") status = "active";
      const json::Value* medication = m->find("medicationCodeableConcept");
      if (const json::Value* ref = m->find("medicationReference")) {
        // A Medication of the Bundle, named by its fullUrl.
        for (const json::Value& e : arr(bundle, "entry")) {
          if (str(e, "fullUrl") == str(*ref, "reference")) medication = e.find("resource")->find("code");
        }
      }
      s.medications.insert({codeOf(medication), status});
    }
  }
  for (const json::Value* i : resources(bundle, "Immunization")) {
    s.immunisations.insert({codeOf(i->find("vaccineCode")), str(*i, "occurrenceDateTime").substr(0, 10)});
  }
  for (const json::Value* o : resources(bundle, "Observation")) {
    bool vital = false;
    for (const json::Value& c : arr(*o, "category")) vital = vital || codeOf(&c).ends_with("|vital-signs");
    if (!vital || str(*o, "status") == "entered-in-error") continue;
    const std::int64_t ms = fhirInstantMs(str(*o, "effectiveDateTime")).value_or(-1);
    auto add = [&](const json::Value& holder) {
      const json::Value* q = holder.find("valueQuantity");
      if (!q) return;
      const json::Value* c = firstCoding(holder.find("code"));
      s.vitals.insert({c ? str(*c, "code") : "", std::llround(q->find("value")->asDouble().value_or(0) * 1000),
                       str(*q, "code"), ms});
    };
    add(*o);
    for (const json::Value& c : arr(*o, "component")) add(c);
  }
  return s;
}

QString describe(const Summary& a, const Summary& b) {
  QStringList diff;
  if (a.family != b.family || a.given != b.given) diff << QStringLiteral("names");
  if (a.birthDate != b.birthDate) diff << QStringLiteral("birth date");
  if (a.gender != b.gender) diff << QStringLiteral("gender");
  if (a.allergies != b.allergies) diff << QStringLiteral("allergies");
  if (a.activeProblems != b.activeProblems) diff << QStringLiteral("active problems");
  if (a.medications != b.medications) diff << QStringLiteral("medications");
  if (a.immunisations != b.immunisations) diff << QStringLiteral("immunisations");
  if (a.vitals != b.vitals) {
    diff << QStringLiteral("vitals (%1 vs %2)").arg(a.vitals.size()).arg(b.vitals.size());
  }
  return diff.join(QStringLiteral(", "));
}

// Every Bundle valid for python3-jsonschema too (tests/server/fhir/validate_bundles.py).
QString pythonValidate(const QStringList& files) {
  const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
  if (python.isEmpty()) return QStringLiteral("python3 not found (scripts/install-deps installs python3-jsonschema)");
  QProcess p;
  p.start(python, QStringList{QStringLiteral(CHARTA_FHIR_VALIDATOR), QStringLiteral(CHARTA_FHIR_SCHEMA)} + files);
  p.waitForFinished(600000);
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    return QString::fromUtf8(p.readAllStandardOutput()).left(3000) + QString::fromUtf8(p.readAllStandardError());
  }
  return {};
}

QString schemaErrors(const json::Value& bundle) {
  QStringList out;
  for (const auto& e : validateFhirBundle(bundle, 10)) out << QString::fromStdString(e.path + ": " + e.message);
  return out.join(QStringLiteral("; "));
}

struct Harness {
  QTemporaryDir dir;
  Config config;
  std::unique_ptr<Store> store;
  ChartCache cache;
  bool open() {
    config.data = dir.path().toStdString() + "/store";
    auto s = Store::open(config);
    if (!s.isOk()) return false;
    store = std::move(s.value());
    return store->write([](WriteTx& tx) { return createClinic(tx, {"north", "North clinic", 0}); }).isOk();
  }
};

}  // namespace

class FhirExportTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QVERIFY(initCrypto().isOk()); }

  void instants() {
    QCOMPARE(fhirInstant(0), std::string("1970-01-01T00:00:00.000Z"));
    QCOMPARE(fhirInstant(-500), std::string("1969-12-31T23:59:59.500Z"));
    QCOMPARE(fhirInstant(951782400123), std::string("2000-02-29T00:00:00.123Z"));
    for (std::int64_t ms : {std::int64_t{0}, std::int64_t{1549422778000}, std::int64_t{-2208988800000}}) {
      QCOMPARE(fhirInstantMs(fhirInstant(ms)).value_or(-1), ms);
    }
  }

  // Import every sample patient, export it, validate, compare.
  void roundTrip() {
    Harness h;
    QVERIFY(h.open());
    std::vector<fs::path> files = bundlesIn(kData / "synthea-r4");
    for (const fs::path& f : bundlesIn(kData / "synthea-r4-modern")) files.push_back(f);
    std::stable_partition(files.begin(), files.end(), isDirectoryBundle);
    std::map<std::string, std::int64_t> in, out;
    QStringList written;
    QTemporaryDir exported;
    int patients = 0;
    for (const fs::path& file : files) {
      const std::string text = readFile(file);
      auto report = importFhirBundle(*h.store, h.cache, text, "north", "test");
      QVERIFY(report.isOk());
      QVERIFY2(report.value().applied, file.c_str());
      if (isDirectoryBundle(file)) continue;
      const json::Value source = parseBundle(text);
      for (const json::Value& e : arr(source, "entry")) ++in[str(*e.find("resource"), "resourceType")];
      QCOMPARE(report.value().patients.size(), std::size_t{1});
      auto bundles =
          exportPatients(*h.store, h.cache, report.value().patients, "north", FhirBundleType::kCollection, "test", "");
      QVERIFY(bundles.isOk());
      const json::Value& bundle = bundles.value().front();
      for (const json::Value& e : arr(bundle, "entry")) ++out[str(*e.find("resource"), "resourceType")];
      QVERIFY2(schemaErrors(bundle).isEmpty(), qPrintable(schemaErrors(bundle)));
      const Summary want = summarise(source), got = summarise(bundle);
      QVERIFY2(!want.vitals.empty() && !want.immunisations.empty(), file.c_str());
      QVERIFY2(got == want, qPrintable(QString::fromStdString(file.filename().string()) + QStringLiteral(": ") +
                                       describe(got, want)));
      // Notes come back as DocumentReferences with their text.
      const auto notes = resources(bundle, "DocumentReference");
      if (!resources(source, "DocumentReference").empty()) QVERIFY(!notes.empty());
      const QString path = exported.filePath(QStringLiteral("p%1.json").arg(++patients));
      std::ofstream(path.toStdString()) << json::serialize(bundle);
      written << path;
    }
    QCOMPARE(patients, 22);
    QString problem = pythonValidate(written);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    QString table = QStringLiteral("\n  %1 %2 %3")
                        .arg(QStringLiteral("resource type"), -28)
                        .arg(QStringLiteral("in"), 7)
                        .arg(QStringLiteral("out"), 7);
    std::set<std::string> types;
    for (const auto& [t, n] : in) types.insert(t);
    for (const auto& [t, n] : out) types.insert(t);
    for (const std::string& t : types) {
      table += QStringLiteral("\n  %1 %2 %3").arg(QString::fromStdString(t), -28).arg(in[t], 7).arg(out[t], 7);
    }
    qInfo().noquote() << "22 patients (synthea-r4 and synthea-r4-modern), resources per type:" << table;
    QCOMPARE(out["Patient"], std::int64_t{22});
    QCOMPARE(out["AllergyIntolerance"], in["AllergyIntolerance"]);
    QCOMPARE(out["Immunization"], in["Immunization"]);
    QCOMPARE(out["Encounter"], in["Encounter"]);
    QCOMPARE(out["MedicationStatement"], in["MedicationRequest"] + in["MedicationStatement"]);
  }

  // Statuses map one to one; open conflicts are exported with every value.
  void statusesAndConflictsHonestly() {
    using namespace charta::crdt;
    testing::FakeWallClock clock(1'760'000'000'000ull);
    OpFactory a(ReplicaId{11}, clock), b(ReplicaId{12}, clock), a2(ReplicaId{13}, clock);
    a.setUser("nurse-a");
    b.setUser("nurse-b");
    a2.setUser("nurse-a");
    ChartDocument doc("p-conflicts");
    auto apply = [&](const Op& op) { QVERIFY(doc.apply(op).isOk()); };
    auto dem = [](FieldId f) { return FieldRef{Collection::kDemographics, {}, f}; };
    apply(a.writeField(doc, dem(field::kFamilyName), Value{std::string("Okafor")}));
    apply(a.writeField(doc, dem(field::kSex), Value{std::string("female")}));
    // Two devices record different birth dates without seeing each other.
    Op birthA = a.writeField(doc, dem(field::kBirthDate), Value{std::string("1950-03-01")});
    Op birthB = b.writeField(doc, dem(field::kBirthDate), Value{std::string("1950-01-03")});
    apply(birthA);
    apply(birthB);
    Op penicillin = a.addEntry(
        doc, Collection::kAllergies,
        {{field::kDisplay, Value{std::string("Penicillin")}}, {field::kCriticality, Value{std::string("low")}}});
    apply(penicillin);
    clock.advance(1000);
    Op critA =
        a.writeField(doc, {Collection::kAllergies, penicillin.id, field::kCriticality}, Value{std::string("high")});
    Op critB = b.writeField(doc, {Collection::kAllergies, penicillin.id, field::kCriticality},
                            Value{std::string("unable-to-assess")});
    apply(critA);
    apply(critB);
    Op peanut = a.addEntry(doc, Collection::kAllergies, {{field::kDisplay, Value{std::string("Peanut")}}});
    apply(peanut);
    apply(a.setStatus(doc, peanut.id, EntryStatus::kEnteredInError, "wrong patient"));
    Op metformin =
        a.addEntry(doc, Collection::kMedications,
                   {{field::kDisplay, Value{std::string("Metformin")}}, {field::kDose, Value{std::string("500 mg")}}});
    apply(metformin);
    apply(a.setStatus(doc, metformin.id, EntryStatus::kStopped, "stomach upset"));
    AppendObservation sys{ObservationCategory::kVitalSign,
                          std::string(loinc::kSystolicBp),
                          Value{128.0},
                          "mm[Hg]",
                          1'759'990'000'000,
                          {},
                          {},
                          {}};
    AppendObservation dia = sys;
    dia.code = std::string(loinc::kDiastolicBp);
    dia.value = Value{82.0};
    apply(a.appendObservation(doc, sys));
    apply(a.appendObservation(doc, dia));
    AppendObservation hb{
        ObservationCategory::kLaboratory, "718-7", Value{13.1}, "g/dL", 1'759'990'000'000, 12.0, 15.5, {}};
    apply(a.appendObservation(doc, hb));
    AppendObservation typo = sys;
    typo.code = std::string(loinc::kHeartRate);
    typo.unit = "/min";
    typo.value = Value{720.0};
    Op typoOp = a.appendObservation(doc, typo);
    apply(typoOp);
    apply(a.markObservationError(doc, typoOp.id, "typed 720 for 72"));
    Op note = a.startNote(doc, "Seen at home.");
    apply(note);
    apply(a.signNote(doc, note.id, "Seen at home. Wound healing."));
    apply(b.addAddendum(doc, note.id, "Dressing changed next day."));
    // A late edit from the author's other tablet races the signature.
    Op raced = a.startNote(doc, "Draft");
    apply(raced);
    Op sign = a.signNote(doc, raced.id, "Signed text");
    Op late = a2.editNote(doc, raced.id, "Late edit");
    apply(sign);
    apply(late);
    QCOMPARE(doc.rejected().size(), std::size_t{0});
    QVERIFY(doc.conflictCount() >= 3);

    const json::Value bundle = chartToFhirBundle(doc, FhirBundleType::kCollection, 1'760'000'100'000);
    QVERIFY2(schemaErrors(bundle).isEmpty(), qPrintable(schemaErrors(bundle)));
    QTemporaryDir tmp;
    const QString file = tmp.filePath(QStringLiteral("conflicts.json"));
    std::ofstream(file.toStdString()) << json::serialize(bundle);
    QString problem = pythonValidate({file});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    const json::Value& patient = *resources(bundle, "Patient").front();
    bool birthConflict = false;
    for (const json::Value& x : arr(patient, "extension")) {
      const std::string v = str(x, "valueString");
      birthConflict =
          birthConflict || (str(x, "url") == kOpenConflictExtension && v.find("birthDate") != std::string::npos &&
                            v.find("1950-03-01") != std::string::npos && v.find("1950-01-03") != std::string::npos);
    }
    QVERIFY(birthConflict);
    QVERIFY(!str(patient, "birthDate").empty());  // the shown value, never silently the only one
    bool critConflict = false, eie = false;
    for (const json::Value* al : resources(bundle, "AllergyIntolerance")) {
      if (displayOf(al->find("code")) == "Penicillin") {
        for (const json::Value& n : arr(*al, "note")) {
          const std::string t = str(n, "text");
          critConflict =
              critConflict || (t.find("criticality") != std::string::npos && t.find("high") != std::string::npos &&
                               t.find("unable-to-assess") != std::string::npos);
        }
      } else {
        eie = str(*firstCoding(al->find("verificationStatus")), "code") == "entered-in-error" &&
              al->find("clinicalStatus") == nullptr;
      }
    }
    QVERIFY(critConflict);
    QVERIFY(eie);
    QCOMPARE(str(*resources(bundle, "MedicationStatement").front(), "status"), std::string("stopped"));
    bool panel = false, lab = false, error = false;
    for (const json::Value* o : resources(bundle, "Observation")) {
      const std::string code = str(*firstCoding(o->find("code")), "code");
      if (code == loinc::kBpPanel) panel = arr(*o, "component").size() == 2;
      if (code == "718-7") lab = o->find("referenceRange") != nullptr;
      if (code == loinc::kHeartRate) error = str(*o, "status") == "entered-in-error";
    }
    QVERIFY(panel);
    QVERIFY(lab);
    QVERIFY(error);
    const auto docs = resources(bundle, "DocumentReference");
    QCOMPARE(docs.size(), std::size_t{3});  // two signed notes and one addendum
    int amended = 0, appends = 0, twoVersions = 0;
    for (const json::Value* d : docs) {
      amended += str(*d, "docStatus") == "amended";
      appends += !arr(*d, "relatesTo").empty() && str(arr(*d, "relatesTo").front(), "code") == "appends";
      twoVersions += arr(*d, "content").size() == 2;
    }
    QCOMPARE(amended, 1);
    QCOMPARE(appends, 1);
    QCOMPARE(twoVersions, 1);
  }

  // Photos as Media, documents as DocumentReference, with their bytes when
  // the server holds them; entered-in-error keeps the entry but not the bytes.
  void attachmentsAsMediaAndDocumentReference() {
    using namespace charta::crdt;
    testing::FakeWallClock clock(1'760'000'000'000ull);
    OpFactory a(ReplicaId{21}, clock);
    a.setUser("nurse-a");
    ChartDocument doc("p-attachments");
    auto apply = [&](const Op& op) { QVERIFY2(doc.apply(op).isOk(), crdt::toString(op.id).c_str()); };
    auto txt = [](const char* s) { return Value{std::string(s)}; };
    apply(a.writeField(doc, {Collection::kDemographics, {}, field::kFamilyName}, txt("Okafor")));
    Op visit = a.addEntry(doc, Collection::kVisits, {{field::kSetting, txt("home")}});
    apply(visit);
    Op ulcer = a.addEntry(doc, Collection::kProblems, {{field::kDisplay, txt("Pressure ulcer, left heel")}});
    apply(ulcer);
    const std::string jpeg = std::string("\xFF\xD8\xFF\xE0", 4) + "wound photo bytes";
    const std::string pdf = "%PDF-1.7 consent form";
    const std::string photoHash = toHex(sha256(jpeg)), pdfHash = toHex(sha256(pdf));
    Op photo = a.addEntry(doc, Collection::kAttachments,
                          {{field::kContentHash, Value{photoHash}},
                           {field::kMediaType, txt("image/jpeg")},
                           {field::kContentSize, Value{static_cast<std::int64_t>(jpeg.size())}},
                           {field::kAttachmentKind, txt("wound-photo")},
                           {field::kDisplay, txt("Heel, day 3")},
                           {field::kSeries, txt("left heel")},
                           {field::kTakenAt, Value{std::int64_t{1'760'000'000'000}}},
                           {field::kSubject, Value{"problems/" + crdt::toString(ulcer.id)}}},
                          visit.id);
    apply(photo);
    Op consent = a.addEntry(doc, Collection::kAttachments,
                            {{field::kContentHash, Value{pdfHash}},
                             {field::kMediaType, txt("application/pdf")},
                             {field::kContentSize, Value{static_cast<std::int64_t>(pdf.size())}},
                             {field::kAttachmentKind, txt("consent")},
                             {field::kFileName, txt("consent.pdf")},
                             {field::kSubject, Value{"visits/" + crdt::toString(visit.id)}}});
    apply(consent);
    Op wrong = a.addEntry(doc, Collection::kAttachments,
                          {{field::kContentHash, Value{photoHash}},
                           {field::kMediaType, txt("image/jpeg")},
                           {field::kAttachmentKind, txt("photo")}});
    apply(wrong);
    apply(a.setStatus(doc, wrong.id, EntryStatus::kEnteredInError, "another patient's photo"));
    // Not uploaded yet: exported without bytes.
    Op pending = a.addEntry(doc, Collection::kAttachments,
                            {{field::kContentHash, Value{std::string(64, 'e')}},
                             {field::kMediaType, txt("application/pdf")},
                             {field::kAttachmentKind, txt("referral")}});
    apply(pending);

    int asked = 0;
    const AttachmentContent content = [&](const std::string& patient,
                                          const std::string& hash) -> std::optional<std::string> {
      if (patient != "p-attachments") return std::nullopt;
      ++asked;
      if (hash == photoHash) return jpeg;
      if (hash == pdfHash) return pdf;
      return std::nullopt;
    };
    const json::Value bundle = chartToFhirBundle(doc, FhirBundleType::kCollection, 1'760'000'100'000, {}, content);
    QVERIFY2(schemaErrors(bundle).isEmpty(), qPrintable(schemaErrors(bundle)));
    QTemporaryDir tmp;
    const QString file = tmp.filePath(QStringLiteral("attachments.json"));
    std::ofstream(file.toStdString()) << json::serialize(bundle);
    QString problem = pythonValidate({file});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(asked, 3);  // never for the entered-in-error photo

    auto identifierOf = [](const json::Value& r) { return str(arr(r, "identifier").front(), "value"); };
    const auto media = resources(bundle, "Media");
    QCOMPARE(media.size(), std::size_t{2});
    const json::Value* wound = nullptr;
    const json::Value* withdrawn = nullptr;
    for (const json::Value* m : media) (str(*m, "status") == "completed" ? wound : withdrawn) = m;
    QVERIFY(wound && withdrawn);
    QCOMPARE(identifierOf(*wound), photoHash);
    const json::Value* woundContent = wound->find("content");
    QCOMPARE(str(*woundContent, "contentType"), std::string("image/jpeg"));
    QCOMPARE(base64Decode(str(*woundContent, "data")).value_or(""), jpeg);
    QCOMPARE(str(*woundContent, "title"), std::string("Heel, day 3"));
    QCOMPARE(str(*wound->find("bodySite"), "text"), std::string("left heel"));
    QCOMPARE(str(*wound->find("encounter"), "reference").substr(0, 9), std::string("urn:uuid:"));
    QCOMPARE(str(*wound, "createdDateTime"), fhirInstant(1'760'000'000'000));
    QCOMPARE(str(*withdrawn, "status"), std::string("entered-in-error"));
    QVERIFY(withdrawn->find("content")->find("data") == nullptr);

    std::vector<const json::Value*> documents;
    for (const json::Value* d : resources(bundle, "DocumentReference")) {
      if (!arr(*d, "identifier").empty()) documents.push_back(d);
    }
    QCOMPARE(documents.size(), std::size_t{2});
    for (const json::Value* d : documents) {
      const json::Value& attachment = *arr(*d, "content").front().find("attachment");
      if (identifierOf(*d) == pdfHash) {
        QCOMPARE(codeOf(d->find("type")), std::string("http://loinc.org|59284-0"));
        QCOMPARE(base64Decode(str(attachment, "data")).value_or(""), pdf);
        QCOMPARE(str(attachment, "title"), std::string("consent.pdf"));
        QCOMPARE(str(arr(*d->find("context"), "related").front(), "reference").substr(0, 9), std::string("urn:uuid:"));
      } else {
        QCOMPARE(codeOf(d->find("type")), std::string("http://loinc.org|57133-1"));
        QVERIFY(attachment.find("data") == nullptr);
        QCOMPARE(str(*d, "status"), std::string("current"));
      }
    }
  }

  // GET /fhir/Patient/{id}/$everything, and a tablet's offline edit in the next export.
  void everythingOverHttpWithATabletEdit() {
    TestServer server;
    QVERIFY2(server.start(false), server.error.c_str());
    AdminClient admin(server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    const fs::path smallest = smallestIn(kData / "synthea-r4");
    HttpResult imported = admin.http.post("/v1/admin/fhir/import?clinic=demo", readFile(smallest), admin.auth());
    QCOMPARE(imported.status, 200);
    const std::string patient = str(&arr(charta::test::parseJson(imported.body), "patients").front());
    QVERIFY(!patient.empty());

    HttpResult before = admin.get("/fhir/Patient/" + patient + "/$everything");
    QVERIFY2(before.status == 200, before.body.substr(0, 300).c_str());
    json::Value bundle = parseBundle(before.body);
    QCOMPARE(str(bundle, "type"), std::string("searchset"));
    QVERIFY2(schemaErrors(bundle).isEmpty(), qPrintable(schemaErrors(bundle)));
    QCOMPARE(admin.get("/fhir/Patient/p-nobody/$everything").status, 404);

    // A clinic admin of another clinic does not see the patient.
    QCOMPARE(admin.post("/v1/admin/clinics", json::Object{{"id", "south"}, {"name", "South"}}).status, 201);
    QCOMPARE(admin
                 .post("/v1/admin/users", json::Object{{"id", "south-admin"},
                                                       {"role", "clinic_admin"},
                                                       {"clinic", "south"},
                                                       {"password", "south-admin-pass"}})
                 .status,
             201);
    AdminClient southAdmin(server.url());
    QCOMPARE(southAdmin.login("south-admin", "south-admin-pass").status, 200);
    QCOMPARE(southAdmin.get("/fhir/Patient/" + patient + "/$everything").status, 404);

    // A nurse's tablet syncs the imported chart, records an allergy offline, syncs.
    const QString sim = qEnvironmentVariable("CHARTA_SIM_BIN");
    QVERIFY(!sim.isEmpty());
    QTemporaryDir tablet;
    const QString pass = tablet.filePath(QStringLiteral("pass"));
    std::ofstream(pass.toStdString()) << "demo-nurse-pass\n";
    const QString data = tablet.filePath(QStringLiteral("replica"));
    auto run = [&](const QStringList& args) {
      QProcess p;
      p.start(sim, args);
      p.waitForFinished(120000);
      return std::make_pair(p.exitCode(), QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError()));
    };
    auto [e1, o1] = run({QStringLiteral("enroll"), QStringLiteral("--server"), QString::fromStdString(server.url()),
                         QStringLiteral("--code"), QString::fromStdString(server.demoCode()), QStringLiteral("--data"),
                         data, QStringLiteral("--user"), QStringLiteral("nurse"), QStringLiteral("--passphrase-file"),
                         pass, QStringLiteral("--kdf"), QStringLiteral("minimum")});
    QVERIFY2(e1 == 0, qPrintable(o1));
    auto [s1, so1] = run({QStringLiteral("sync"), QStringLiteral("--data"), data});
    QVERIFY2(s1 == 0, qPrintable(so1));
    auto [a1, ao1] = run({QStringLiteral("add-allergy"), QStringLiteral("--data"), data, QStringLiteral("--patient"),
                          QString::fromStdString(patient), QStringLiteral("--substance"), QStringLiteral("Latex"),
                          QStringLiteral("--criticality"), QStringLiteral("high")});
    QVERIFY2(a1 == 0, qPrintable(ao1));
    auto [bad, badOut] =
        run({QStringLiteral("add-allergy"), QStringLiteral("--data"), data, QStringLiteral("--patient"),
             QStringLiteral("p-not-here"), QStringLiteral("--substance"), QStringLiteral("Latex")});
    QCOMPARE(bad, 1);
    QVERIFY2(badOut.contains(QStringLiteral("not on this tablet")), qPrintable(badOut));
    auto [s2, so2] = run({QStringLiteral("sync"), QStringLiteral("--data"), data});
    QVERIFY2(s2 == 0, qPrintable(so2));

    HttpResult after = admin.get("/fhir/Patient/" + patient + "/$everything");
    QCOMPARE(after.status, 200);
    json::Value edited = parseBundle(after.body);
    QVERIFY2(schemaErrors(edited).isEmpty(), qPrintable(schemaErrors(edited)));
    bool latex = false;
    for (const json::Value* a : resources(edited, "AllergyIntolerance")) {
      latex = latex || (displayOf(a->find("code")) == "Latex" && str(*a, "criticality") == "high");
    }
    QVERIFY(latex);
    QCOMPARE(resources(edited, "AllergyIntolerance").size(), resources(bundle, "AllergyIntolerance").size() + 1);

    HttpResult audit = admin.get("/v1/admin/audit?action=chart.export&patient=" + patient + "&limit=10");
    QCOMPARE(audit.status, 200);
    QCOMPARE(charta::test::parseJson(audit.body).find("events")->asArray()->size(), std::size_t{2});
  }

  // charta-server export-fhir writes one valid file per patient.
  void commandLine() {
    QTemporaryDir tmp;
    const QString data = tmp.filePath(QStringLiteral("data")), out = tmp.filePath(QStringLiteral("out"));
    const QString bin = qEnvironmentVariable("CHARTA_SERVER_BIN");
    auto run = [&](const QStringList& args) {
      QProcess p;
      p.start(bin, args);
      p.waitForFinished(300000);
      return std::make_pair(p.exitCode(), QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError()));
    };
    QCOMPARE(run({QStringLiteral("admin"), QStringLiteral("create-clinic"), QStringLiteral("north"),
                  QStringLiteral("N"), QStringLiteral("--data"), data})
                 .first,
             0);
    auto [i, io] =
        run({QStringLiteral("import-fhir"), QStringLiteral("--clinic"), QStringLiteral("north"),
             QStringLiteral("--data"), data, QString::fromStdString((kData / "synthea-r4-modern").string())});
    QVERIFY2(i == 0, qPrintable(io));
    auto [e, eo] = run({QStringLiteral("export-fhir"), QStringLiteral("--clinic"), QStringLiteral("north"),
                        QStringLiteral("--out"), out, QStringLiteral("--data"), data});
    QVERIFY2(e == 0, qPrintable(eo));
    QVERIFY2(eo.contains(QStringLiteral("exported 2 patients")), qPrintable(eo));
    const QStringList files = QDir(out).entryList({QStringLiteral("*.json")}, QDir::Files);
    QCOMPARE(files.size(), 2);
    QStringList paths;
    for (const QString& f : files) paths << QDir(out).filePath(f);
    QString problem = pythonValidate(paths);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    auto [n, no] = run({QStringLiteral("export-fhir"), QStringLiteral("--patient"), QStringLiteral("p-nobody"),
                        QStringLiteral("--out"), out, QStringLiteral("--data"), data});
    QCOMPARE(n, 1);
    QVERIFY2(no.contains(QStringLiteral("no patient p-nobody")), qPrintable(no));
    auto [u, uo] = run({QStringLiteral("export-fhir"), QStringLiteral("--out"), out, QStringLiteral("--data"), data});
    QCOMPARE(u, 1);
    QVERIFY2(uo.contains(QStringLiteral("usage")), qPrintable(uo));
  }
};

QTEST_GUILESS_MAIN(FhirExportTest)
#include "export_test.moc"
