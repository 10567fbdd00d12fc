// Replica::editBatch (several ops of one patient in one transaction, all or
// nothing) and the demo clinic's hand-made charts (DemoCharts): accepted by
// the chart, deterministic for a seed, with the parts the demo needs.
#include "demo_charts.h"

#include <QTemporaryDir>
#include <QtTest>
#include <set>

#include "charta/platform/passphrase_vault.h"
#include "charta/sync/replica.h"

using namespace charta;
using namespace charta::sync;
using crdt::Collection;
using crdt::FieldRef;
using crdt::Value;

namespace {

class ManualClock final : public crdt::WallClock {
 public:
  std::uint64_t nowMs() const override { return now; }
  std::uint64_t now = 1'790'000'000'000;
};

Replica::MakeOp writeDemographic(crdt::FieldId f, std::string text) {
  return [f, text](crdt::OpFactory& fac, const crdt::ChartDocument& doc) {
    return fac.writeField(doc, FieldRef{Collection::kDemographics, {}, f}, Value{text});
  };
}

// An op every chart rejects (not held: it names nothing unknown): a birth
// date that is a number.
Replica::MakeOp badKind() {
  return [](crdt::OpFactory& fac, const crdt::ChartDocument& doc) {
    return fac.writeField(doc, FieldRef{Collection::kDemographics, {}, crdt::field::kBirthDate},
                          Value{std::int64_t{19840312}});
  };
}

std::string text(const crdt::Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string();
}

// What a seed decides, without the ids a replica decides.
struct Shape {
  std::string name;
  std::string birthDate;
  std::vector<std::string> allergies;
  std::uint64_t ops = 0;
  std::size_t entries[crdt::kCollectionCount] = {};
  std::size_t observations = 0;
  std::size_t notes = 0;
  friend bool operator==(const Shape& a, const Shape& b) {
    return a.name == b.name && a.birthDate == b.birthDate && a.allergies == b.allergies && a.ops == b.ops &&
           std::equal(std::begin(a.entries), std::end(a.entries), std::begin(b.entries)) &&
           a.observations == b.observations && a.notes == b.notes;
  }
};

}  // namespace

class DemoChartsTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  ManualClock m_clock;
  int m_counter = 0;

  std::unique_ptr<Replica> make(std::uint64_t replicaId = 2001) {
    const std::string path = m_dir.path().toStdString() + "/replica-" + std::to_string(++m_counter) + ".db";
    DeviceIdentity id{"http://127.0.0.1:1", "dev-" + std::to_string(replicaId), crdt::ReplicaId{replicaId}, "demo",
                      "epoch-1"};
    ReplicaOptions options;
    options.clock = &m_clock;
    auto r = Replica::create(path, id, "device-secret-XYZ", m_vault, UserInfo{"nurse", "Nurse N.", {}, 0},
                             "correct horse battery", options);
    if (!r.isOk()) qWarning() << r.status().toString().c_str();
    return r.isOk() ? std::move(r).value() : nullptr;
  }

  std::vector<Shape> shapes(Replica& r, const std::vector<std::string>& ids) {
    std::vector<Shape> out;
    for (const std::string& id : ids) {
      auto summary = r.summary(id);
      auto doc = r.document(id);
      if (!summary.isOk() || !doc.isOk()) return {};
      Shape s;
      s.name = summary.value().familyName + ", " + summary.value().givenNames;
      s.birthDate = summary.value().birthDate;
      s.allergies = summary.value().allergies;
      s.ops = summary.value().opCount;
      for (std::uint8_t c = 1; c < crdt::kCollectionCount; ++c) {
        s.entries[c] = doc.value()->entries(static_cast<Collection>(c)).size();
      }
      s.observations = doc.value()->observations().size();
      s.notes = doc.value()->notes().size();
      out.push_back(std::move(s));
    }
    return out;
  }

 private slots:
  void editBatchStoresEverythingInOneGo() {
    auto r = make();
    QVERIFY(r);
    const std::string patient = Replica::newPatientId();
    auto medication = std::make_shared<crdt::OpId>();
    std::vector<Replica::MakeOp> makes = {
        writeDemographic(crdt::field::kFamilyName, "Okafor"),
        writeDemographic(crdt::field::kGivenNames, "Chidi"),
        [medication](crdt::OpFactory& f, const crdt::ChartDocument& doc) {
          crdt::Op op = f.addEntry(doc, Collection::kMedications,
                                   {crdt::FieldValue{crdt::field::kDisplay, Value{std::string("Metformin 500 mg")}}});
          *medication = op.id;
          return op;
        },
        // Made from the chart as it stands after the previous op: the entry exists.
        [medication](crdt::OpFactory& f, const crdt::ChartDocument& doc) {
          return f.setStatus(doc, *medication, crdt::EntryStatus::kOnHold, "nausea");
        },
    };
    auto ops = r->editBatch(patient, makes);
    QVERIFY2(ops.isOk(), ops.status().toString().c_str());
    QCOMPARE(ops.value().size(), std::size_t{4});
    for (std::size_t i = 1; i < ops.value().size(); ++i) QVERIFY(ops.value()[i - 1].id < ops.value()[i].id);
    QCOMPARE(r->pendingOpCount(), std::uint64_t{4});
    auto outbox = r->outbox(10);
    QVERIFY(outbox.isOk());
    QCOMPARE(outbox.value().size(), std::size_t{4});
    QVERIFY(outbox.value() == ops.value());
    auto summary = r->summary(patient);
    QVERIFY(summary.isOk());
    QCOMPARE(summary.value().familyName, std::string("Okafor"));
    QCOMPARE(summary.value().givenNames, std::string("Chidi"));
    QCOMPARE(summary.value().opCount, std::uint64_t{4});
    QCOMPARE(summary.value().pendingOps, std::uint64_t{4});
    auto doc = r->document(patient);
    QVERIFY(doc.isOk());
    const crdt::Entry* entry = doc.value()->findEntry(*medication);
    QVERIFY(entry);
    QCOMPARE(entry->currentStatus(), static_cast<std::int64_t>(crdt::EntryStatus::kOnHold));
    // An empty batch stores nothing.
    auto none = r->editBatch(patient, {});
    QVERIFY(none.isOk());
    QVERIFY(none.value().empty());
    QCOMPARE(r->pendingOpCount(), std::uint64_t{4});
    // The batch survives a reopen (it was committed).
    const std::string path = r->path();
    r.reset();
    auto reopened = Replica::open(path);
    QVERIFY(reopened.isOk());
    QVERIFY(reopened.value()->unlock(m_vault, "nurse", "correct horse battery").isOk());
    QCOMPARE(reopened.value()->pendingOpCount(), std::uint64_t{4});
    auto after = reopened.value()->document(patient);
    QVERIFY(after.isOk());
    QCOMPARE(after.value()->appliedCount(), std::size_t{4});
  }

  void editBatchIsAllOrNothing() {
    auto r = make();
    QVERIFY(r);
    const std::string patient = Replica::newPatientId();
    auto medication = std::make_shared<crdt::OpId>();
    auto first = r->editBatch(patient, {writeDemographic(crdt::field::kFamilyName, "Lindqvist"),
                                        [medication](crdt::OpFactory& f, const crdt::ChartDocument& doc) {
                                          crdt::Op op = f.addEntry(
                                              doc, Collection::kMedications,
                                              {crdt::FieldValue{crdt::field::kDisplay, Value{std::string("Aspirin")}}});
                                          *medication = op.id;
                                          return op;
                                        }});
    QVERIFY2(first.isOk(), first.status().toString().c_str());
    auto docBefore = r->document(patient);
    QVERIFY(docBefore.isOk());
    const std::string stateBefore = docBefore.value()->canonicalState();
    auto summaryBefore = r->summary(patient);
    QVERIFY(summaryBefore.isOk());
    const std::uint64_t pendingBefore = r->pendingOpCount();

    // The third op is rejected by the chart: nothing of the batch stays.
    auto refused = r->editBatch(patient, {writeDemographic(crdt::field::kFamilyName, "Lindqvist-Berg"),
                                          writeDemographic(crdt::field::kPhone, "+41 79 000 00 00"), badKind(),
                                          writeDemographic(crdt::field::kGivenNames, "Never")});
    QVERIFY(!refused.isOk());
    QVERIFY(refused.status().code() == crdt::Status::Code::kRejected);
    QVERIFY2(refused.status().message().find("op 3") != std::string::npos, refused.status().message().c_str());
    QCOMPARE(r->pendingOpCount(), pendingBefore);
    auto docAfter = r->document(patient);
    QVERIFY(docAfter.isOk());
    QCOMPARE(docAfter.value()->canonicalState(), stateBefore);
    QVERIFY(docAfter.value()->rejected().empty());
    auto summaryAfter = r->summary(patient);
    QVERIFY(summaryAfter.isOk());
    QCOMPARE(summaryAfter.value().familyName, std::string("Lindqvist"));
    QCOMPARE(summaryAfter.value().opCount, summaryBefore.value().opCount);
    auto outbox = r->outbox(10);
    QVERIFY(outbox.isOk());
    QCOMPARE(outbox.value().size(), std::size_t{2});

    // A new patient whose batch is refused is not created at all.
    const std::string newcomer = Replica::newPatientId();
    auto refusedNew = r->editBatch(newcomer, {writeDemographic(crdt::field::kFamilyName, "Ghost"),
                                              writeDemographic(crdt::field::kGivenNames, "Casper"), badKind()});
    QVERIFY(!refusedNew.isOk());
    QVERIFY(!r->summary(newcomer).isOk());
    const auto patients = r->patients();
    QVERIFY(std::find(patients.begin(), patients.end(), newcomer) == patients.end());
    // The replica goes on working: a later edit of both patients is stored.
    QVERIFY(r->editBatch(patient, {writeDemographic(crdt::field::kGivenNames, "Eva")}).isOk());
    QVERIFY(r->edit(newcomer, writeDemographic(crdt::field::kFamilyName, "Real")).isOk());
    QCOMPARE(r->pendingOpCount(), pendingBefore + 2);
  }

  void demoChartsAreAcceptedAndComplete() {
    auto r = make();
    QVERIFY(r);
    DemoOptions options;
    options.patients = 40;
    options.years = 5;
    options.seed = 7;
    options.today = "2025-06-15";
    auto ids = DemoCharts::create(*r, options);
    QVERIFY2(ids.isOk(), ids.status().toString().c_str());
    QCOMPARE(ids.value().size(), std::size_t{40});
    QCOMPARE(std::set<std::string>(ids.value().begin(), ids.value().end()).size(), std::size_t{40});

    std::size_t children = 0, childrenMissingDoses = 0, elders = 0, withHighAllergy = 0, nka = 0, unrecorded = 0;
    std::size_t signedNotes = 0, addenda = 0, drafts = 0, labs = 0, abnormalLabs = 0, heldMeds = 0, stoppedMeds = 0;
    std::uint64_t pending = 0;
    for (const std::string& id : ids.value()) {
      auto summary = r->summary(id);
      QVERIFY(summary.isOk());
      const PatientSummary& s = summary.value();
      pending += s.opCount;
      QVERIFY(!s.familyName.empty());
      QVERIFY(!s.givenNames.empty());
      QCOMPARE(s.birthDate.size(), std::size_t{10});
      QVERIFY(s.birthDate < options.today);
      QCOMPARE(s.identifiers.size(), std::size_t{1});
      QVERIFY(s.identifiers[0].rfind("urn:charta:mrn|MRN-", 0) == 0);
      QCOMPARE(s.heldOps, std::uint64_t{0});
      QCOMPARE(s.openConflicts, std::uint64_t{0});
      if (!s.noKnownAllergies.has_value() && s.allergies.empty()) ++unrecorded;
      if (s.noKnownAllergies == true) {
        ++nka;
        QVERIFY(s.allergies.empty());
      }

      auto docResult = r->document(id);
      QVERIFY(docResult.isOk());
      const crdt::ChartDocument& doc = *docResult.value();
      QVERIFY(doc.rejected().empty());
      QCOMPARE(doc.heldCount(), std::size_t{0});
      QCOMPARE(static_cast<std::uint64_t>(doc.appliedCount()), s.opCount);

      const auto& visits = doc.entries(Collection::kVisits);
      QVERIFY(!visits.empty());
      for (const auto& [vid, v] : visits) {
        QCOMPARE(v.currentStatus(), static_cast<std::int64_t>(crdt::EntryStatus::kFinished));
        const std::string setting = text(v.fieldValue(crdt::field::kSetting));
        QVERIFY2(setting == "home" || setting == "school" || setting == "workplace" || setting == "clinic",
                 setting.c_str());
        QVERIFY(std::holds_alternative<std::int64_t>(v.fieldValue(crdt::field::kStart)));
        QVERIFY(std::holds_alternative<std::int64_t>(v.fieldValue(crdt::field::kEnd)));
      }
      for (const auto& [oid, o] : doc.observations()) {
        QVERIFY(!o.data.visit.isNull());
        QVERIFY(visits.contains(o.data.visit));
        QVERIFY(std::holds_alternative<double>(o.data.value));
        const double value = std::get<double>(o.data.value);
        if (o.data.category == crdt::ObservationCategory::kVitalSign) {
          const auto spec = crdt::findVitalSign(o.data.code);
          QVERIFY2(spec.has_value(), o.data.code.c_str());
          QCOMPARE(o.data.unit, std::string(spec->ucumUnit));
          QVERIFY(value >= spec->plausibleLow && value <= spec->plausibleHigh);
        } else {
          ++labs;
          QVERIFY(o.data.referenceLow && o.data.referenceHigh);
          if (value < *o.data.referenceLow || value > *o.data.referenceHigh) ++abnormalLabs;
        }
      }
      for (const auto& [aid, a] : doc.entries(Collection::kAllergies)) {
        if (text(a.fieldValue(crdt::field::kCriticality)) == "high") {
          ++withHighAllergy;
          break;
        }
      }
      for (const auto& [mid, m] : doc.entries(Collection::kMedications)) {
        QVERIFY(!text(m.fieldValue(crdt::field::kDisplay)).empty());
        if (m.currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kOnHold)) ++heldMeds;
        if (m.currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kStopped)) ++stoppedMeds;
      }
      for (const auto& [pid, p] : doc.entries(Collection::kProblems)) {
        QVERIFY(text(p.fieldValue(crdt::field::kCode)).rfind("http://snomed.info/sct|", 0) == 0);
        QCOMPARE(text(p.fieldValue(crdt::field::kOnsetDate)).size(), std::size_t{10});
      }
      for (const auto& [nid, n] : doc.notes()) {
        if (n.isSigned())
          ++signedNotes;
        else
          ++drafts;
        addenda += n.addenda.size();
        QVERIFY(n.visit.isNull() || visits.contains(n.visit));
      }
      const auto& immunisations = doc.entries(Collection::kImmunisations);
      const bool child = s.birthDate > "2007-06-15";
      if (child) {
        ++children;
        QVERIFY(immunisations.size() >= 20);
        std::map<std::string, int> perCode;
        for (const auto& [iid, imm] : immunisations) {
          const std::string code = text(imm.fieldValue(crdt::field::kCode));
          QVERIFY2(code.rfind("http://hl7.org/fhir/sid/cvx|", 0) == 0, code.c_str());
          QVERIFY(!text(imm.fieldValue(crdt::field::kDisplay)).empty());
          QCOMPARE(text(imm.fieldValue(crdt::field::kOccurrenceDate)).size(), std::size_t{10});
          ++perCode[code];
        }
        QCOMPARE(perCode["http://hl7.org/fhir/sid/cvx|20"] + perCode["http://hl7.org/fhir/sid/cvx|10"] >= 7, true);
        // A complete history of a child of 4 or more has 5 DTaP doses.
        if (perCode["http://hl7.org/fhir/sid/cvx|20"] < 5 || perCode["http://hl7.org/fhir/sid/cvx|03"] < 2 ||
            perCode["http://hl7.org/fhir/sid/cvx|10"] < 4 || perCode["http://hl7.org/fhir/sid/cvx|21"] < 2 ||
            (s.birthDate < "2013-12-01" && perCode["http://hl7.org/fhir/sid/cvx|115"] < 1)) {
          ++childrenMissingDoses;
        }
      } else {
        QVERIFY(immunisations.empty());
      }
      if (s.birthDate < "1956-01-01") {
        ++elders;
        QVERIFY(doc.entries(Collection::kProblems).size() >= 1 || doc.entries(Collection::kMedications).empty());
      }
    }
    QCOMPARE(r->pendingOpCount(), pending);
    QCOMPARE(children, std::size_t{15});  // 8 in every 20, but the second patient is the adult Anna Lena Müller
    QVERIFY(childrenMissingDoses >= 1);
    QVERIFY(childrenMissingDoses < children);
    QVERIFY(elders >= 8);
    QVERIFY(withHighAllergy >= 1);
    QVERIFY(nka >= 1);
    QVERIFY(unrecorded >= 1);
    QVERIFY(signedNotes >= 10);
    QVERIFY(addenda >= 1);
    QVERIFY(drafts >= 1);
    QVERIFY(labs >= 20);
    QVERIFY(abnormalLabs >= 1);
    QVERIFY(stoppedMeds >= 1);
    QVERIFY(heldMeds + stoppedMeds >= 2);

    // The likely-duplicate demonstration patient.
    auto second = r->summary(ids.value()[1]);
    QVERIFY(second.isOk());
    QCOMPARE(second.value().familyName, std::string("Müller"));
    QCOMPARE(second.value().givenNames, std::string("Anna Lena"));
    QCOMPARE(second.value().birthDate, std::string("1984-03-12"));
  }

  void demoChartsAreDeterministic() {
    DemoOptions options;
    options.patients = 12;
    options.years = 3;
    options.seed = 42;
    options.today = "2024-02-29";
    auto a = make(3001);
    auto b = make(3002);
    QVERIFY(a && b);
    auto idsA = DemoCharts::create(*a, options);
    auto idsB = DemoCharts::create(*b, options);
    QVERIFY(idsA.isOk() && idsB.isOk());
    QVERIFY(idsA.value() != idsB.value());  // patient ids are random
    const auto shapeA = shapes(*a, idsA.value());
    QCOMPARE(shapeA.size(), std::size_t{12});
    QVERIFY(shapeA == shapes(*b, idsB.value()));
    // Another seed gives other charts.
    options.seed = 43;
    auto c = make(3003);
    QVERIFY(c);
    auto idsC = DemoCharts::create(*c, options);
    QVERIFY(idsC.isOk());
    QVERIFY(!(shapeA == shapes(*c, idsC.value())));
  }

  void demoOptionsAreChecked() {
    auto r = make();
    QVERIFY(r);
    DemoOptions options;
    options.patients = 1;
    options.today = "2023-02-30";
    auto bad = DemoCharts::create(*r, options);
    QVERIFY(!bad.isOk());
    QVERIFY(bad.status().code() == crdt::Status::Code::kInvalidArgument);
    options.today = "2024-01-01";
    options.years = 0;
    QVERIFY(!DemoCharts::create(*r, options).isOk());
    QVERIFY(r->patients().empty());
    // The system date works too.
    options.today.clear();
    options.years = 1;
    auto ok = DemoCharts::create(*r, options);
    QVERIFY2(ok.isOk(), ok.status().toString().c_str());
    QCOMPARE(r->patients().size(), std::size_t{1});
  }
};

QTEST_GUILESS_MAIN(DemoChartsTest)
#include "demo_charts_test.moc"
