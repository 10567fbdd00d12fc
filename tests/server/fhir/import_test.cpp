// FHIR R4 import into a real SQLite store: every sample Bundle charted and
// compared field by field with what the Bundle says (names, birth dates,
// allergies with criticality, active problems, medications, immunisations
// with dates, vital signs with values and units); importing twice changes
// nothing; invalid Bundles are refused whole with their error paths;
// conditional references resolve only against directory Bundles imported
// before; and the charta-server command line with its summary. On SQLite, or
// on PostgreSQL when built with CHARTA_FHIR_TEST_POSTGRES.

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "accounts.h"
#include "api/api_harness.h"
#include "charta/crdt/schema.h"
#include "crypto.h"
#include "fhir/fhir_test_support.h"
#include "fhir_import.h"
#include "json.h"
#include "store.h"
#include "support/postgres.h"
#include "sync.h"

using namespace charta;
using namespace charta::server;
using charta::test::AdminClient;
using charta::test::HttpResult;
using charta::test::TabletClient;
using charta::test::TestServer;
namespace fs = std::filesystem;

namespace {

using namespace charta::test::fhir;

#ifdef CHARTA_FHIR_TEST_POSTGRES
constexpr bool kPostgres = true;
#else
constexpr bool kPostgres = false;
#endif
std::string firstCode(const json::Value* cc) {
  if (!cc) return {};
  const json::Array& codings = arr(*cc, "coding");
  if (codings.empty()) return {};
  return str(codings[0], "system") + "|" + str(codings[0], "code");
}
std::string textOf(const crdt::Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string();
}
std::string fieldText(const crdt::Entry& e, crdt::FieldId f) { return textOf(e.fieldValue(f)); }
std::string demographic(const crdt::ChartDocument& doc, crdt::FieldId f) {
  const crdt::Register& r = doc.demographic(f);
  return r.empty() ? std::string() : textOf(r.current().value);
}

struct Harness {
  QTemporaryDir dir;
  Config config;
  std::unique_ptr<Store> store;
  ChartCache cache;

  bool open(const std::string& sub = "store") {
    config.data = (fs::path(dir.path().toStdString()) / sub).string();
    if (kPostgres) {
      std::string error;
      config.postgres = charta::test::newPostgresDatabase(&error);
      if (config.postgres.empty()) return false;
    }
    auto s = Store::open(config);
    if (!s.isOk()) return false;
    store = std::move(s.value());
    return store->write([](WriteTx& tx) { return createClinic(tx, {"north", "North clinic", 0}); }).isOk();
  }
  FhirImportReport import(const fs::path& file) {
    auto r = importFhirBundle(*store, cache, readFile(file), "north", "test");
    if (!r.isOk()) {
      FhirImportReport failed;
      failed.errors.push_back({"", r.status().toString()});
      return failed;
    }
    return r.value();
  }
  std::int64_t count(const std::string& table) {
    std::int64_t n = -1;
    (void)store->read([&](Connection& c) -> Status {
      auto rows = c.query("SELECT COUNT(*) FROM " + table);
      if (!rows.isOk()) return rows.status();
      n = dbInt(rows.value()[0][0]);
      return Status::ok();
    });
    return n;
  }
  // The chart as a fresh reader sees it (replayed from the stored ops).
  std::unique_ptr<crdt::ChartDocument> chart(const std::string& patient) {
    ChartCache fresh;
    crdt::ChartDocument* doc = nullptr;
    Status s = store->read([&](Connection& c) -> Status {
      auto d = fresh.load(c, patient);
      if (!d.isOk()) return d.status();
      doc = d.value();
      return Status::ok();
    });
    if (!s.isOk() || !doc) return nullptr;
    return std::make_unique<crdt::ChartDocument>(*doc);
  }
};

std::string errorsText(const FhirImportReport& r) {
  std::string out;
  for (std::size_t i = 0; i < r.errors.size() && i < 5; ++i)
    out += r.errors[i].path + ": " + r.errors[i].message + "; ";
  return out;
}

// Vital signs as the Bundle has them: (LOINC, value rounded to 0.001, unit, ms).
using Vital = std::tuple<std::string, long long, std::string, std::int64_t>;
Vital vital(const std::string& code, double v, const std::string& unit, std::int64_t ms) {
  return {code, std::llround(v * 1000), unit, ms};
}

}  // namespace

class FhirImportTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QVERIFY(initCrypto().isOk()); }

  void instants() {
    QCOMPARE(fhirInstantMs("1970-01-01").value_or(-1), std::int64_t{0});
    QCOMPARE(fhirInstantMs("1970-01-02T00:00:00Z").value_or(-1), std::int64_t{86400000});
    QCOMPARE(fhirInstantMs("2019-02-05T22:12:58-05:00").value_or(-1),
             fhirInstantMs("2019-02-06T03:12:58Z").value_or(-2));
    QCOMPARE(fhirInstantMs("2000-03").value_or(-1), fhirInstantMs("2000-03-01").value_or(-2));
    QCOMPARE(fhirInstantMs("1969-12-31T23:59:59.5Z").value_or(-1), std::int64_t{-500});
    QVERIFY(!fhirInstantMs("2019-02-05T22:12:58"));  // a time without a zone
    QVERIFY(!fhirInstantMs("2019-13-01"));
    QVERIFY(!fhirInstantMs("yesterday"));
    QVERIFY(!fhirInstantMs("2019-02-05T22:12:58+05"));
  }

  // Every sample patient, charted and compared with its Bundle.
  void syntheaPatientsFieldByField() {
    Harness h;
    QVERIFY(h.open());
    std::map<std::string, std::int64_t> in, imported, skipped, directory;
    for (const fs::path& file : bundlesIn(kData / "synthea-r4")) {
      const std::string text = readFile(file);
      json::Value bundle = parseBundle(text);
      QVERIFY2(bundle.isObject(), file.c_str());
      FhirImportReport r = h.import(file);
      QVERIFY2(r.applied, (file.string() + ": " + errorsText(r)).c_str());
      QCOMPARE(r.patients.size(), std::size_t{1});
      QVERIFY2(r.unresolved.empty(), (r.unresolved.empty() ? std::string() : r.unresolved.front()).c_str());
      QVERIFY(r.ops > 0);
      std::int64_t accounted = 0;
      for (const auto& [t, n] : r.imported) {
        imported[t] += n;
        accounted += n;
      }
      for (const auto& [t, reasons] : r.skipped) {
        for (const auto& [why, n] : reasons) {
          QVERIFY2(!why.empty(), t.c_str());
          skipped[t] += n;
          accounted += n;
        }
      }
      for (const auto& [t, n] : r.directory) {
        directory[t] += n;
        accounted += n;
      }
      QCOMPARE(accounted, r.resources);  // every resource charted, remembered or skipped with a reason

      auto doc = h.chart(r.patients.front());
      QVERIFY(doc);
      QCOMPARE(doc->rejected().size(), std::size_t{0});
      QCOMPARE(doc->heldCount(), std::size_t{0});

      std::multiset<std::pair<std::string, std::string>> allergies, wantAllergies;
      std::multiset<std::string> activeProblems, wantActiveProblems;
      std::multiset<std::pair<std::string, std::string>> meds, wantMeds;
      std::multiset<std::pair<std::string, std::string>> immunisations, wantImmunisations;
      std::multiset<Vital> vitals, wantVitals;
      std::int64_t visits = 0;
      for (const json::Value& entry : arr(bundle, "entry")) {
        const json::Value& res = *entry.find("resource");
        const std::string type = str(res, "resourceType");
        ++in[type];
        if (type == "Patient") {
          const json::Value& name = arr(res, "name").front();
          std::string given;
          for (const json::Value& g : arr(name, "given")) given += (given.empty() ? "" : " ") + str(&g);
          QCOMPARE(demographic(*doc, crdt::field::kFamilyName), str(name, "family"));
          QCOMPARE(demographic(*doc, crdt::field::kGivenNames), given);
          QCOMPARE(demographic(*doc, crdt::field::kBirthDate), str(res, "birthDate"));
          QCOMPARE(demographic(*doc, crdt::field::kSex), str(res, "gender"));
          QCOMPARE(demographic(*doc, crdt::field::kDeceasedDate), str(res, "deceasedDateTime").substr(0, 10));
          QCOMPARE(doc->entries(crdt::Collection::kIdentifiers).size(), arr(res, "identifier").size());
        } else if (type == "AllergyIntolerance") {
          const json::Value* code = res.find("code");
          wantAllergies.insert({str(arr(*code, "coding").front(), "display"), str(res, "criticality")});
        } else if (type == "Condition") {
          if (firstCode(res.find("clinicalStatus")).ends_with("|active"))
            wantActiveProblems.insert(firstCode(res.find("code")));
        } else if (type == "MedicationRequest") {
          wantMeds.insert({firstCode(res.find("medicationCodeableConcept")), str(res, "status")});
        } else if (type == "Immunization") {
          wantImmunisations.insert({firstCode(res.find("vaccineCode")), str(res, "occurrenceDateTime").substr(0, 10)});
        } else if (type == "Encounter") {
          ++visits;
        } else if (type == "Observation") {
          bool isVital = false;
          for (const json::Value& c : arr(res, "category"))
            isVital = isVital || firstCode(&c).ends_with("|vital-signs");
          if (!isVital) continue;
          const std::int64_t ms = fhirInstantMs(str(res, "effectiveDateTime")).value();
          auto add = [&](const json::Value& holder) {
            const json::Value* q = holder.find("valueQuantity");
            if (!q) return;
            const std::string loinc = str(arr(*holder.find("code"), "coding").front(), "code");
            wantVitals.insert(vital(loinc, q->find("value")->asDouble().value(), str(*q, "code"), ms));
          };
          add(res);
          for (const json::Value& c : arr(res, "component")) add(c);
        }
      }
      for (const auto& [id, e] : doc->entries(crdt::Collection::kAllergies)) {
        allergies.insert({fieldText(e, crdt::field::kDisplay), fieldText(e, crdt::field::kCriticality)});
      }
      for (const auto& [id, e] : doc->entries(crdt::Collection::kProblems)) {
        if (e.currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kActive)) {
          activeProblems.insert(fieldText(e, crdt::field::kCode));
        }
      }
      for (const auto& [id, e] : doc->entries(crdt::Collection::kMedications)) {
        meds.insert({fieldText(e, crdt::field::kCode),
                     std::string(crdt::statusName(static_cast<crdt::EntryStatus>(e.currentStatus())))});
      }
      for (const auto& [id, e] : doc->entries(crdt::Collection::kImmunisations)) {
        immunisations.insert({fieldText(e, crdt::field::kCode), fieldText(e, crdt::field::kOccurrenceDate)});
      }
      for (const auto& [id, o] : doc->observations()) {
        if (o.data.category != crdt::ObservationCategory::kVitalSign) continue;
        const double* v = std::get_if<double>(&o.data.value);
        QVERIFY(v);
        vitals.insert(vital(o.data.code, *v, o.data.unit, o.data.effectiveMs));
      }
      QVERIFY2(allergies == wantAllergies, file.c_str());
      QVERIFY2(activeProblems == wantActiveProblems, file.c_str());
      QVERIFY2(meds == wantMeds, file.c_str());
      QVERIFY2(immunisations == wantImmunisations, file.c_str());
      QVERIFY2(!wantVitals.empty(), file.c_str());
      QVERIFY2(vitals == wantVitals, file.c_str());
      QCOMPARE(static_cast<std::int64_t>(doc->entries(crdt::Collection::kVisits).size()), visits);
    }
    QString table = QStringLiteral("\n  %1 %2 %3 %4 %5")
                        .arg(QStringLiteral("resource type"), -28)
                        .arg(QStringLiteral("in"), 7)
                        .arg(QStringLiteral("charted"), 8)
                        .arg(QStringLiteral("directory"), 10)
                        .arg(QStringLiteral("skipped"), 8);
    for (const auto& [t, n] : in) {
      table += QStringLiteral("\n  %1 %2 %3 %4 %5")
                   .arg(QString::fromStdString(t), -28)
                   .arg(n, 7)
                   .arg(imported[t], 8)
                   .arg(directory[t], 10)
                   .arg(skipped[t], 8);
    }
    qInfo().noquote() << "synthea-r4, 20 Bundles:" << table;
    QCOMPARE(imported["Patient"], std::int64_t{20});
    QCOMPARE(imported["Encounter"], in["Encounter"]);
    QCOMPARE(imported["AllergyIntolerance"], in["AllergyIntolerance"]);
    QCOMPARE(imported["Immunization"], in["Immunization"]);
    QCOMPARE(skipped["Claim"], in["Claim"]);
  }

  void importingTwiceChangesNothing() {
    Harness h;
    QVERIFY(h.open());
    const fs::path file = bundlesIn(kData / "synthea-r4").front();
    FhirImportReport first = h.import(file);
    QVERIFY2(first.applied, errorsText(first).c_str());
    const std::int64_t ops = h.count("ops"), sources = h.count("fhir_sources");
    auto before = h.chart(first.patients.front());
    QVERIFY(before);
    FhirImportReport again = h.import(file);
    QVERIFY2(again.applied, errorsText(again).c_str());
    QCOMPARE(again.ops, std::int64_t{0});
    QVERIFY(again.imported.empty());
    QVERIFY(again.patients.empty());
    for (const auto& [t, n] : first.imported) QCOMPARE(again.unchanged[t], n);
    QCOMPARE(h.count("ops"), ops);
    QCOMPARE(h.count("fhir_sources"), sources);
    QCOMPARE(h.count("patients"), std::int64_t{1});
    auto after = h.chart(first.patients.front());
    QCOMPARE(after->stateHash(), before->stateHash());
  }

  // The other clinic's copy is refused: a patient lives in one clinic.
  void anotherClinicIsRefused() {
    Harness h;
    QVERIFY(h.open());
    QVERIFY(h.store->write([](WriteTx& tx) { return createClinic(tx, {"south", "South clinic", 0}); }).isOk());
    const fs::path file = bundlesIn(kData / "synthea-r4").front();
    QVERIFY(h.import(file).applied);
    const std::int64_t ops = h.count("ops");
    auto r = importFhirBundle(*h.store, h.cache, readFile(file), "south", "test");
    QVERIFY(r.isOk());
    QVERIFY(!r.value().applied);
    QVERIFY(!r.value().errors.empty());
    QVERIFY2(r.value().errors.front().message.find("clinic north") != std::string::npos,
             r.value().errors.front().message.c_str());
    QCOMPARE(h.count("ops"), ops);
    auto missing = importFhirBundle(*h.store, h.cache, readFile(file), "nowhere", "test");
    QCOMPARE(missing.status().code(), crdt::Status::Code::kNotFound);
  }

  void invalidBundlesAreRefusedWhole() {
    Harness h;
    QVERIFY(h.open());
    for (const fs::path& file : bundlesIn(kData / "invalid")) {
      FhirImportReport r = h.import(file);
      QVERIFY2(!r.applied, file.c_str());
      QVERIFY2(!r.errors.empty(), file.c_str());
      bool pathed = false;
      for (const FhirError& e : r.errors) pathed = pathed || e.path.rfind("entry[", 0) == 0;
      QVERIFY2(pathed, errorsText(r).c_str());
      QCOMPARE(r.ops, std::int64_t{0});
    }
    QCOMPARE(h.count("ops"), std::int64_t{0});
    QCOMPARE(h.count("patients"), std::int64_t{0});
    QCOMPARE(h.count("fhir_sources"), std::int64_t{0});
    QCOMPARE(h.count("fhir_directory"), std::int64_t{0});
  }

  // A valid Bundle with one bad resource deep inside: the exact path, and nothing applied.
  void oneBadResourceRefusesTheBundle() {
    Harness h;
    QVERIFY(h.open());
    json::Value bundle = parseBundle(readFile(bundlesIn(kData / "synthea-r4").front()));
    json::Array* list = nullptr;
    for (auto& [k, v] : *bundle.asObject()) {
      if (k == "entry") list = v.asArray();
    }
    QVERIFY(list && list->size() > 10);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < list->size() && bad == 0; ++i) {
      for (auto& [k, res] : *(*list)[i].asObject()) {
        if (k == "resource" && str(res, "resourceType") == "Observation") {
          res.set("context", json::Object{{"reference", "urn:uuid:x"}});
          bad = i;
        }
      }
    }
    auto r = importFhirBundle(*h.store, h.cache, json::serialize(bundle), "north", "test");
    QVERIFY(r.isOk());
    QVERIFY(!r.value().applied);
    bool found = false;
    for (const FhirError& e : r.value().errors) {
      found = found || (e.path == "entry[" + std::to_string(bad) + "].resource.context");
    }
    QVERIFY2(found, errorsText(r.value()).c_str());
    QCOMPARE(h.count("ops"), std::int64_t{0});

    // The same resource twice in one Bundle.
    json::Value twice = parseBundle(readFile(bundlesIn(kData / "synthea-r4").front()));
    for (auto& [k, v] : *twice.asObject()) {
      if (k != "entry") continue;
      json::Value last = v.asArray()->back();
      v.asArray()->push_back(std::move(last));
    }
    auto dup = importFhirBundle(*h.store, h.cache, json::serialize(twice), "north", "test");
    QVERIFY(dup.isOk() && !dup.value().applied);
    QVERIFY2(dup.value().errors.front().message.find("in this Bundle twice") != std::string::npos,
             errorsText(dup.value()).c_str());
    QCOMPARE(h.count("ops"), std::int64_t{0});

    auto notJson = importFhirBundle(*h.store, h.cache, "{\"resourceType\": \"Bundle\",", "north", "test");
    QVERIFY(notJson.isOk() && !notJson.value().applied && !notJson.value().errors.empty());
    auto notBundle = importFhirBundle(*h.store, h.cache, R"({"resourceType":"Patient","id":"x"})", "north", "test");
    QVERIFY(notBundle.isOk() && !notBundle.value().applied);
    QCOMPARE(notBundle.value().errors.front().message, std::string("not a FHIR Bundle"));
  }

  // Conditional references: unresolved (and reported) before the directory
  // Bundles are imported, resolved after.
  void conditionalReferences() {
    const fs::path dir = kData / "synthea-r4-modern";
    std::vector<fs::path> patients, directory;
    for (const fs::path& f : bundlesIn(dir)) (isDirectoryBundle(f) ? directory : patients).push_back(f);
    QCOMPARE(directory.size(), std::size_t{2});
    QCOMPARE(patients.size(), std::size_t{2});
    {
      Harness h;
      QVERIFY(h.open());
      FhirImportReport r = h.import(patients.front());
      QVERIFY2(r.applied, errorsText(r).c_str());
      QVERIFY(!r.unresolved.empty());
      bool conditional = false;
      for (const std::string& u : r.unresolved)
        conditional = conditional || u.find("?identifier=") != std::string::npos;
      QVERIFY(conditional);
    }
    Harness h;
    QVERIFY(h.open());
    for (const fs::path& f : directory) {
      FhirImportReport r = h.import(f);
      QVERIFY2(r.applied, errorsText(r).c_str());
      QVERIFY(!r.directory.empty());
      QCOMPARE(r.ops, std::int64_t{0});
    }
    QVERIFY(h.count("fhir_directory") > 0);
    for (const fs::path& f : patients) {
      FhirImportReport r = h.import(f);
      QVERIFY2(r.applied, errorsText(r).c_str());
      QVERIFY2(r.unresolved.empty(), (r.unresolved.empty() ? std::string() : r.unresolved.front()).c_str());
      auto doc = h.chart(r.patients.front());
      QVERIFY(doc);
      QCOMPARE(doc->rejected().size(), std::size_t{0});
      // Every visit names its practitioner and place, as the directory has them.
      std::size_t named = 0;
      for (const auto& [id, e] : doc->entries(crdt::Collection::kVisits)) {
        if (!fieldText(e, crdt::field::kPractitioner).empty() && !fieldText(e, crdt::field::kLocation).empty()) ++named;
      }
      QCOMPARE(named, doc->entries(crdt::Collection::kVisits).size());
      QVERIFY(!doc->notes().empty());  // the clinical notes present
      for (const auto& [id, n] : doc->notes()) QVERIFY(n.isSigned());
      bool bp = false;
      for (const auto& [id, o] : doc->observations()) bp = bp || o.data.code == crdt::loinc::kSystolicBp;
      QVERIFY(bp);  // from the 85354-9 panel
    }
  }

  // The admin API: an admin imports, a tablet of the clinic pulls the chart
  // like any edit; a refused Bundle answers 422 with the paths.
  void httpImportReachesTablets() {
    TestServer server;
    QVERIFY2(server.start(kPostgres), server.error.c_str());
    AdminClient admin(server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    const fs::path smallest = smallestIn(kData / "synthea-r4");
    HttpResult ok = admin.http.post("/v1/admin/fhir/import?clinic=demo", readFile(smallest), admin.auth());
    QVERIFY2(ok.status == 200, ok.body.substr(0, 500).c_str());
    json::Value report = charta::test::parseJson(ok.body);
    QCOMPARE(report.find("applied")->asBool().value_or(false), true);
    const std::string patient = *(*report.find("patients")->asArray())[0].asString();
    const std::int64_t ops = report.find("ops")->asInt().value_or(0);
    QVERIFY(ops > 0);

    const fs::path invalid = smallestIn(kData / "invalid");
    HttpResult bad = admin.http.post("/v1/admin/fhir/import?clinic=demo", readFile(invalid), admin.auth());
    QCOMPARE(bad.status, 422);
    json::Value refused = charta::test::parseJson(bad.body);
    const json::Array& errors = *refused.find("errors")->asArray();
    QVERIFY(!errors.empty());
    QVERIFY(str(errors.front(), "path").rfind("entry[", 0) == 0);
    HttpResult nowhere = admin.http.post("/v1/admin/fhir/import?clinic=nowhere", readFile(smallest), admin.auth());
    QCOMPARE(nowhere.status, 404);

    TabletClient tablet(server.url());
    HttpResult code = admin.post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}});
    QCOMPARE(code.status, 201);
    QCOMPARE(tablet.enrol(str(charta::test::parseJson(code.body), "code")).status, 200);
    QCOMPARE(tablet.login("nurse", "demo-nurse-pass").status, 200);
    std::int64_t cursor = 0;
    std::vector<crdt::Op> pulled = tablet.pullAll(cursor);
    crdt::ChartDocument doc(patient);
    std::int64_t mine = 0;
    for (const crdt::Op& op : pulled) {
      if (op.patient != patient) continue;
      ++mine;
      QCOMPARE(op.author, std::string(kFhirImportUser));
      QVERIFY(doc.apply(op).isOk());
    }
    QCOMPARE(mine, ops);
    QCOMPARE(doc.rejected().size(), std::size_t{0});
    QVERIFY(!doc.demographic(crdt::field::kBirthDate).empty());

    HttpResult audit = admin.get("/v1/admin/audit?action=fhir.import_refused&limit=5");
    QCOMPARE(audit.status, 200);
    QCOMPARE(charta::test::parseJson(audit.body).find("events")->asArray()->size(), std::size_t{1});
  }

  // The command line: a folder (directory Bundles first), the summary, and a refusal.
  void commandLine() {
    QTemporaryDir tmp;
    const QString data = tmp.path() + QStringLiteral("/data");
    const QString bin = qEnvironmentVariable("CHARTA_SERVER_BIN");
    QVERIFY(!bin.isEmpty());
    QString conninfo;
    if (kPostgres) {
      std::string error;
      conninfo = QString::fromStdString(charta::test::newPostgresDatabase(&error));
      QVERIFY2(!conninfo.isEmpty(), error.c_str());
    }
    auto run = [&](QStringList args) {
      // The same commands against PostgreSQL: --postgres CONNINFO for --data DIR.
      if (const qsizetype i = args.indexOf(QStringLiteral("--data")); kPostgres && i >= 0) {
        args[i] = QStringLiteral("--postgres");
        args[i + 1] = conninfo;
      }
      QProcess p;
      p.start(bin, args);
      p.closeWriteChannel();
      p.waitForFinished(300000);
      return std::make_tuple(p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
                             QString::fromUtf8(p.readAllStandardError()));
    };
    auto [c0, o0, e0] = run({QStringLiteral("admin"), QStringLiteral("create-clinic"), QStringLiteral("north"),
                             QStringLiteral("North"), QStringLiteral("--data"), data});
    QVERIFY2(c0 == 0, qPrintable(e0));
    auto [c1, o1, e1] =
        run({QStringLiteral("import-fhir"), QStringLiteral("--clinic"), QStringLiteral("north"),
             QStringLiteral("--data"), data, QString::fromStdString((kData / "synthea-r4-modern").string())});
    QVERIFY2(c1 == 0, qPrintable(o1 + e1));
    QVERIFY2(o1.contains(QStringLiteral("imported 4 of 4 files")), qPrintable(o1));
    QVERIFY2(o1.contains(QStringLiteral("2 patients charted")), qPrintable(o1));
    QVERIFY2(!o1.contains(QStringLiteral("resolved nowhere")), qPrintable(o1));
    QVERIFY2(o1.contains(QStringLiteral("Claim: billing, not charted")), qPrintable(o1));
    auto [c2, o2, e2] =
        run({QStringLiteral("import-fhir"), QStringLiteral("--clinic"), QStringLiteral("north"),
             QStringLiteral("--data"), data, QString::fromStdString((kData / "synthea-r4-modern").string())});
    QVERIFY2(c2 == 0, qPrintable(e2));
    QVERIFY2(o2.contains(QStringLiteral("0 patients charted, 0 ops")), qPrintable(o2));
    auto [c3, o3, e3] = run({QStringLiteral("import-fhir"), QStringLiteral("--clinic"), QStringLiteral("north"),
                             QStringLiteral("--data"), data, QString::fromStdString((kData / "invalid").string())});
    QCOMPARE(c3, 1);
    QVERIFY2(e3.contains(QStringLiteral("refused, nothing imported")), qPrintable(e3));
    QVERIFY2(e3.contains(QStringLiteral(".resource.context: ")), qPrintable(e3));
    QVERIFY2(o3.contains(QStringLiteral("5 files refused")), qPrintable(o3));
    auto [c4, o4, e4] = run({QStringLiteral("import-fhir"), QStringLiteral("--data"), data, QStringLiteral("x.json")});
    QCOMPARE(c4, 1);
    QVERIFY2(e4.contains(QStringLiteral("usage")), qPrintable(e4));
    auto [c5, o5, e5] = run({QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--data"), data});
    QVERIFY2(c5 == 0, qPrintable(o5 + e5));
  }
};

QTEST_GUILESS_MAIN(FhirImportTest)
#include "import_test.moc"
