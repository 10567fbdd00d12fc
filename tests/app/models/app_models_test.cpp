// The app's C++ models and controllers over a real encrypted replica (no
// server): every list model under QAbstractItemModelTester; search; the
// clinical checks the chart page relies on (implausible vitals, the
// medication allergy alert, reasons for removals, signed notes read-only);
// visits; conflicts and their resolution; duplicates on patient creation;
// locking empties every model.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "app/app_fixture.h"
#include "chart_controller.h"
#include "conflict_list_model.h"
#include "kiosk.h"
#include "new_patient_controller.h"
#include "patient_list_model.h"
#include "text_format.h"

using namespace charta;
using namespace charta::app;
using namespace charta::test;

class AppModelsTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  std::unique_ptr<ChartStore> m_store;
  QString m_ada, m_bjorn, m_child;

  QString create(const QString& family, const QString& given, const QString& birth, const QString& sex,
                 const QString& mrn) {
    NewPatientController c(m_store.get(), nullptr);
    const QVariantMap r = c.create(family, given, birth, sex, mrn);
    if (r.contains(QStringLiteral("error"))) qWarning() << r.value(QStringLiteral("error"));
    return r.value(QStringLiteral("patientId")).toString();
  }

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY(makeOfflineReplica(m_dir.path()));
    m_store = std::make_unique<ChartStore>(offlineStoreOptions(m_dir.path()));
    QVERIFY(m_store->enrolled());
    QVERIFY(!m_store->unlocked());
    QVERIFY(unlockStore(*m_store));
    m_ada = create("Lindqvist", "Ada", "1950-03-14", "female", "MRN-100001");
    m_bjorn = create("Müller", "Björn", "1988-11-02", "male", "MRN-100002");
    m_child = create("Okafor", "Amara", "2019-06-01", "female", "MRN-100003");
    QVERIFY(!m_ada.isEmpty() && !m_bjorn.isEmpty() && !m_child.isEmpty());
  }

  // Sent to the background with no server to reach: the flush fails, the
  // tablet locks anyway, and the edit waits in the outbox. Losing the focus
  // (inactive) changes nothing; coming back does not unlock.
  void backgroundLocksEvenWhenTheFlushFails() {
    QTemporaryDir dir;
    QVERIFY(makeOfflineReplica(dir.path()));
    ChartStore store(offlineStoreOptions(dir.path()));
    QVERIFY(unlockStore(store));
    store.waitIdle();
    QCoreApplication::processEvents();
    NewPatientController creator(&store, nullptr);
    QVERIFY(!creator.create("Quist", "Ivo", "1970-01-02", "male", "MRN-100900").value("patientId").toString().isEmpty());
    const int pending = store.pendingEdits();
    QVERIFY(pending > 0 || store.replica()->pendingOpCount() > 0);
    store.applicationStateChanged(Qt::ApplicationInactive);
    QVERIFY(store.unlocked());
    QSignalSpy synced(&store, &ChartStore::syncFinished);
    QSignalSpy locked(&store, &ChartStore::locked);
    store.applicationStateChanged(Qt::ApplicationSuspended);
    QVERIFY(locked.wait(60000));
    QVERIFY(!store.unlocked());
    QCOMPARE(synced.count(), 1);  // the flush ran before the lock
    QCOMPARE(synced.first().at(0).toBool(), false);
    QVERIFY(store.replica()->pendingOpCount() > 0);  // kept for the next sync
    store.applicationStateChanged(Qt::ApplicationActive);
    QVERIFY(!store.unlocked());
    store.waitIdle();
    QCOMPARE(synced.count(), 1);  // locked: nothing to sync with
  }

  void wrongPassphraseIsRefusedInPlainWords() {
    QTemporaryDir dir;
    QVERIFY(makeOfflineReplica(dir.path()));
    ChartStore store(offlineStoreOptions(dir.path()));
    QSignalSpy done(&store, &ChartStore::unlockFinished);
    store.unlock("nurse", "not-the-passphrase");
    QVERIFY(done.wait(30000));
    QCOMPARE(done.first().at(0).toBool(), false);
    QCOMPARE(done.first().at(1).toString(), QStringLiteral("Wrong user or passphrase."));
    QVERIFY(!store.unlocked());
  }

  void patientListSearchesAsYouType() {
    PatientListModel model(m_store.get(), nullptr);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.total(), 3);
    QCOMPARE(model.count(), 3);
    // Sorted by family name.
    QCOMPARE(model.data(model.index(0), PatientListModel::kDisplayNameRole).toString(), QStringLiteral("LINDQVIST, Ada"));
    model.setQuery("lind");
    QCOMPARE(model.count(), 1);
    QCOMPARE(model.patientIdAt(0), m_ada);
    model.setQuery("muller");  // accents folded
    QCOMPARE(model.count(), 1);
    QCOMPARE(model.patientIdAt(0), m_bjorn);
    model.setQuery("1988-11");
    QCOMPARE(model.count(), 1);
    model.setQuery("100003");  // part of an identifier
    QCOMPARE(model.count(), 1);
    QCOMPARE(model.patientIdAt(0), m_child);
    model.setQuery("ada lind");  // every word must match
    QCOMPARE(model.count(), 1);
    model.setQuery("nda");  // not the start of a word
    QCOMPARE(model.count(), 0);
    model.setQuery("");
    QCOMPARE(model.count(), 3);
    const QModelIndex child = model.index(2);
    QCOMPARE(model.data(child, PatientListModel::kAllergyStateRole).toString(), QStringLiteral("unknown"));
    QCOMPARE(model.data(child, PatientListModel::kAllergyBadgeRole).toString(), QStringLiteral("Allergies not recorded"));
    QVERIFY(model.data(child, PatientListModel::kUnsyncedRole).toBool());
    QVERIFY(!model.data(child, PatientListModel::kAgeRole).toString().isEmpty());
    model.setFilter("attention");  // every chart here has unsynced edits
    QCOMPARE(model.count(), 3);
  }

  void allergiesNoKnownAndNotRecordedDiffer() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_ada);
    QVERIFY(chart.loaded());
    QCOMPARE(chart.allergyState(), QStringLiteral("unknown"));
    QCOMPARE(chart.allergySummary(), QStringLiteral("Allergies not recorded"));
    QCOMPARE(chart.setNoKnownAllergies(true), QString());
    QCOMPARE(chart.allergyState(), QStringLiteral("none"));
    QCOMPARE(chart.allergySummary(), QStringLiteral("No known allergies"));
    QCOMPARE(chart.addAllergy("", "high", "", ""), QStringLiteral("Enter what the patient is allergic to."));
    QCOMPARE(chart.addAllergy("Penicillin", "high", "severe", "Hives"), QString());
    QCOMPARE(chart.allergyState(), QStringLiteral("allergies"));
    QVERIFY2(chart.allergySummary().contains("Penicillin (high risk)"), qPrintable(chart.allergySummary()));
    QAbstractItemModelTester tester(chart.allergies(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(chart.allergies()->count(), 1);
    // "No known allergies" cannot be recorded over an active allergy.
    QVERIFY(!chart.setNoKnownAllergies(true).isEmpty());
  }

  void implausibleVitalIsCaughtAndNothingIsSaved() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_ada);
    const std::uint64_t pendingBefore = m_store->replica()->pendingOpCount();
    const QString temperature = QString::fromStdString(std::string(crdt::loinc::kBodyTemperature));
    const QString problem = chart.addVital(temperature, "370");
    QVERIFY2(problem.contains("plausible"), qPrintable(problem));
    QCOMPARE(chart.vitals()->count(), 0);
    QCOMPARE(m_store->replica()->pendingOpCount(), pendingBefore);
    QVERIFY(!chart.addVital(temperature, "warm").isEmpty());
    QCOMPARE(chart.checkVital(temperature, "37.2"), QString());
    QCOMPARE(chart.addVital(temperature, "37.2"), QString());
    QCOMPARE(chart.addVital(QString::fromStdString(std::string(crdt::loinc::kHeartRate)), "72"), QString());
    QCOMPARE(chart.vitals()->count(), 2);
    QCOMPARE(m_store->replica()->pendingOpCount(), pendingBefore + 2);
    const QVariantList series = chart.vitalSeries(temperature);
    QCOMPARE(series.size(), 1);
    QCOMPARE(series.first().toMap().value("v").toDouble(), 37.2);
    // Entered in error: needs a reason, stays in the list, leaves the plot.
    const QString id = chart.vitals()->get(1).value("observationId").toString();
    QVERIFY(!chart.markObservationError(id, "").isEmpty());
    const int row = chart.vitals()->get(0).value("observationId").toString() == id ? 0 : 1;
    QCOMPARE(chart.markObservationError(chart.vitals()->get(row).value("observationId").toString(), "Wrong patient"),
             QString());
    QCOMPARE(chart.vitals()->count(), 2);
    int inError = 0;
    for (int i = 0; i < 2; ++i) inError += chart.vitals()->get(i).value("enteredInError").toBool() ? 1 : 0;
    QCOMPARE(inError, 1);
  }

  void medicationAllergyAlertNeedsAReasonAndIsAudited() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_ada);  // allergic to penicillin (above)
    QAbstractItemModelTester tester(chart.medications(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QStringList alerts = chart.medicationAlerts("Amoxicillin 500 mg");
    QCOMPARE(alerts.size(), 1);
    QVERIFY2(alerts.first().contains("HIGH RISK"), qPrintable(alerts.first()));
    const QString refused = chart.addMedication("Amoxicillin 500 mg", "1 capsule", "oral", "3 times a day", "");
    QVERIFY2(refused.startsWith("Allergy alert"), qPrintable(refused));
    QCOMPARE(chart.medications()->count(), 0);
    const std::uint64_t auditBefore = m_store->replica()->pendingAuditCount();
    QCOMPARE(chart.addMedication("Amoxicillin 500 mg", "1 capsule", "oral", "3 times a day", "Tolerated in 2020"),
             QString());
    QCOMPARE(chart.medications()->count(), 1);
    QVERIFY(m_store->replica()->pendingAuditCount() > auditBefore);
    auto audit = m_store->replica()->pendingAudit(1000);
    QVERIFY(audit.isOk());
    bool found = false;
    for (const auto& e : audit.value()) {
      found = found || (e.action == "medication.allergy_override" && e.detail.find("Tolerated in 2020") != std::string::npos);
    }
    QVERIFY(found);
    // No alert for a drug unrelated to the allergy.
    QVERIFY(chart.medicationAlerts("Metformin 500 mg").isEmpty());
    QCOMPARE(chart.addMedication("Metformin 500 mg", "1 tablet", "oral", "twice daily", ""), QString());
    QCOMPARE(chart.medications()->count(), 2);
  }

  void medicationStatusMovesForwardWithReasons() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_ada);
    QString metformin;
    for (const QVariantMap& row : chart.medications()->rows()) {
      if (row.value("display").toString().startsWith("Metformin")) metformin = row.value("entryId").toString();
    }
    QVERIFY(!metformin.isEmpty());
    QCOMPARE(chart.changeDose(metformin, "2 tablets"), QString());
    QVariantList choices = chart.statusChoices(metformin);
    QStringList names;
    for (const QVariant& c : choices) names << c.toMap().value("name").toString();
    QCOMPARE(names, (QStringList{"on hold", "completed", "stopped", "entered in error"}));
    constexpr int kOnHold = 4, kActive = 1, kStopped = 6;
    QCOMPARE(chart.setStatus(metformin, kOnHold, ""),
             QStringLiteral("Say why (for example: entered in error, resolved, refuted)."));
    QCOMPARE(chart.setStatus(metformin, kOnHold, "Creatinine raised"), QString());
    // Never back to active from on hold.
    QVERIFY(!chart.setStatus(metformin, kActive, "").isEmpty());
    QCOMPARE(chart.setStatus(metformin, kStopped, "Prescriber's decision"), QString());
    for (const QVariantMap& row : chart.medications()->rows()) {
      if (row.value("entryId").toString() != metformin) continue;
      QCOMPARE(row.value("status").toString(), QStringLiteral("stopped"));
      QCOMPARE(row.value("statusReason").toString(), QStringLiteral("Prescriber's decision"));
      QVERIFY(row.value("detail").toString().contains("2 tablets"));
    }
  }

  void signedNoteIsReadOnlyAndTakesAddenda() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_bjorn);
    QAbstractItemModelTester tester(chart.notes(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(!chart.startNote("  ").isEmpty());
    QCOMPARE(chart.startNote("Home visit: wound clean"), QString());
    QCOMPARE(chart.notes()->count(), 1);
    const QString note = chart.notes()->get(0).value("noteId").toString();
    QVERIFY(chart.notes()->get(0).value("editable").toBool());
    QCOMPARE(chart.editNote(note, "Home visit: wound clean, dressing changed"), QString());
    QVERIFY(!chart.addAddendum(note, "too early").isEmpty());
    QCOMPARE(chart.signNote(note, "Home visit: wound clean, dressing changed"), QString());
    QVERIFY(chart.notes()->get(0).value("signed").toBool());
    QVERIFY(!chart.notes()->get(0).value("editable").toBool());
    QCOMPARE(chart.editNote(note, "changed afterwards"), QStringLiteral("This note is signed: add an addendum instead."));
    QCOMPARE(chart.notes()->get(0).value("text").toString(), QStringLiteral("Home visit: wound clean, dressing changed"));
    QCOMPARE(chart.addAddendum(note, "Swab result negative"), QString());
    QCOMPARE(chart.notes()->get(0).value("addenda").toStringList().size(), 1);
  }

  void visitsLinkWhatIsChartedDuringThem() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_child);
    QAbstractItemModelTester tester(chart.visits(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(!chart.startVisit("moon", "", "").isEmpty());
    QCOMPARE(chart.startVisit("school", "Vaccination day", "Grove school"), QString());
    QVERIFY(!chart.activeVisitId().isEmpty());
    QVERIFY(chart.activeVisitText().startsWith("school visit since"));
    QVERIFY(!chart.startVisit("school", "", "").isEmpty());  // one at a time
    QCOMPARE(chart.addVital(QString::fromStdString(std::string(crdt::loinc::kBodyWeight)), "19.5"), QString());
    QCOMPARE(chart.addImmunisation("03", "MMR", "", "LOT-7"), QString());
    QCOMPARE(chart.endVisit(), QString());
    QVERIFY(chart.activeVisitId().isEmpty());
    QCOMPARE(chart.visits()->count(), 1);
    const QVariantMap visit = chart.visits()->get(0);
    QCOMPARE(visit.value("itemCount").toInt(), 2);
    QCOMPARE(visit.value("open").toBool(), false);
    QCOMPARE(visit.value("status").toString(), QStringLiteral("finished"));
    QVERIFY(!chart.addImmunisation("03", "MMR", "2999-01-01", "").isEmpty());  // not in the future
    // The schedule: a child born 2019 has items due or done.
    QVERIFY(chart.dueItems()->count() > 0);
    bool mmrDone = false;
    for (const QVariantMap& row : chart.dueItems()->rows()) {
      mmrDone = mmrDone || (row.value("name").toString().contains("MMR") && row.value("state") == "done");
    }
    QVERIFY(mmrDone);
  }

  void screeningsCountInTheSchedule() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_child);  // born 2019-06-01: vision screenings due from 4 and 6 years
    auto visionDone = [&] {
      int done = 0;
      for (const QVariantMap& row : chart.dueItems()->rows()) {
        if (row.value("name").toString() == "Vision screening" && row.value("state") == "done") ++done;
      }
      return done;
    };
    const int before = visionDone();
    QVERIFY(!chart.recordScreening("smell", "pass", "").isEmpty());
    QVERIFY(!chart.recordScreening("vision", "maybe", "").isEmpty());
    QVERIFY(!chart.recordScreening("vision", "pass", "2999-01-01").isEmpty());
    QCOMPARE(chart.recordScreening("vision", "pass", "2023-07-01"), QString());
    QCOMPARE(visionDone(), before + 1);
    bool listed = false;
    for (const QVariantMap& row : chart.results()->rows()) {
      listed = listed || (row.value("name") == "Vision screening" && row.value("value") == "pass");
    }
    QVERIFY(listed);
  }

  void myCaseloadHoldsTheChartsIChartedIn() {
    PatientListModel list(m_store.get(), nullptr);
    list.setFilter("caseload");
    QCOMPARE(list.count(), 3);  // nurse made all three
  }

  void removingAnEntryNeedsAReasonAndKeepsHistory() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_bjorn);
    QCOMPARE(chart.addProblem("Asthma", "2001-05-01"), QString());
    QVERIFY(!chart.addProblem("Eczema", "May 2001").isEmpty());
    const QString asthma = chart.problems()->get(0).value("entryId").toString();
    constexpr int kEnteredInError = 8;
    QVERIFY(!chart.setStatus(asthma, kEnteredInError, " ").isEmpty());
    QCOMPARE(chart.setStatus(asthma, kEnteredInError, "Wrong patient"), QString());
    QCOMPARE(chart.problems()->count(), 1);  // kept, marked
    QCOMPARE(chart.problems()->get(0).value("status").toString(), QStringLiteral("entered in error"));
    QCOMPARE(chart.problems()->get(0).value("active").toBool(), false);
    QVERIFY(chart.statusChoices(asthma).isEmpty());  // nothing after entered in error
  }

  void changesOfANewerReleaseAreSaidNotShown() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_bjorn);
    QCOMPARE(chart.newerChangesText(), QString());
    const QString phone = chart.phone();
    auto seen = m_store->replica()->chartCopy(m_bjorn.toStdString(), "");
    QVERIFY(seen.isOk());
    // A tablet of a newer release charted with an op kind this one cannot read.
    QVERIFY(applyRemote(*m_store, 0xC0DE, seen.value(), [](crdt::OpFactory& f, const crdt::ChartDocument& doc) {
      crdt::Op op = f.writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                                 crdt::Value{std::string("not this")});
      op.body = crdt::UnknownOp{10, "a newer body"};
      return op;
    }));
    chart.reload();
    QVERIFY2(chart.newerChangesText().startsWith(QStringLiteral("1 change")), qPrintable(chart.newerChangesText()));
    QCOMPARE(chart.phone(), phone);  // nothing it would do is shown
    QCOMPARE(chart.conflictCount(), 0);
  }

  void conflictsAreShownSideBySideAndResolved() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_bjorn);
    QAbstractItemModelTester tester(chart.conflicts(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    auto seen = m_store->replica()->chartCopy(m_bjorn.toStdString(), "");
    QVERIFY(seen.isOk());
    QCOMPARE(chart.setDemographic("phone", "+41 79 111 11 11"), QString());
    QVERIFY(applyRemote(*m_store, 0xB0B, seen.value(), [](crdt::OpFactory& f, const crdt::ChartDocument& doc) {
      return f.writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                          crdt::Value{std::string("+41 79 222 22 22")});
    }));
    chart.reload();
    QCOMPARE(chart.conflictCount(), 1);
    const QVariantMap row = chart.conflicts()->get(0);
    QCOMPARE(row.value("path").toString(), QStringLiteral("demographics.phone"));
    const QVariantList values = row.value("values").toList();
    QCOMPARE(values.size(), 2);
    QStringList authors;
    for (const QVariant& v : values) authors << v.toMap().value("author").toString();
    authors.sort();
    QCOMPARE(authors, (QStringList{"nurse", "nurse2"}));
    ConflictListModel inbox(m_store.get(), nullptr);
    QAbstractItemModelTester inboxTester(&inbox, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(inbox.count(), 1);
    QCOMPARE(inbox.get(0).value("patientId").toString(), m_bjorn);
    int keep = -1;
    for (int i = 0; i < values.size(); ++i) {
      if (values[i].toMap().value("value") == "+41 79 222 22 22") keep = i;
    }
    QVERIFY(keep >= 0);
    QVERIFY(!chart.resolveConflict(0, 9).isEmpty());
    QCOMPARE(chart.resolveConflict(0, keep), QString());
    QCOMPARE(chart.conflictCount(), 0);
    QCOMPARE(chart.phone(), QStringLiteral("+41 79 222 22 22"));
    inbox.refresh();
    QCOMPARE(inbox.count(), 0);
  }

  void newPatientWarnsAboutLikelyDuplicates() {
    NewPatientController c(m_store.get(), nullptr);
    QCOMPARE(c.validate("", "Ada", "1950-03-14", "female"), QStringLiteral("Enter the family name."));
    QCOMPARE(c.validate("Lindqvist", "Ada", "1950-02-30", "female"), QStringLiteral("Enter the birth date as YYYY-MM-DD."));
    QCOMPARE(c.validate("Lindqvist", "Ada", "2999-01-01", "female"), QStringLiteral("The birth date cannot be in the future."));
    const QVariantList dups = c.duplicatesOf("Lindquist", "Ada", "1950-03-14");
    QCOMPARE(dups.size(), 1);
    QCOMPARE(dups.first().toMap().value("patientId").toString(), m_ada);
    QVERIFY(c.duplicatesOf("Lindqvist", "Ada", "1951-03-14").isEmpty());
    QVERIFY(c.create("Lindqvist", "Ada", "1950-02-30", "female", "").contains("error"));
    PatientListModel list(m_store.get(), nullptr);
    QCOMPARE(list.total(), 3);
  }

  void lockingEmptiesEveryModel() {
    PatientListModel list(m_store.get(), nullptr);
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_ada);
    QVERIFY(list.count() > 0);
    QVERIFY(chart.loaded());
    m_store->lock();
    QCOMPARE(list.count(), 0);
    QVERIFY(!chart.loaded());
    QCOMPARE(chart.displayName(), QString());
    QCOMPARE(chart.allergies()->count(), 0);
    QVERIFY(!chart.addVital(QString::fromStdString(std::string(crdt::loinc::kHeartRate)), "70").isEmpty());
    QVERIFY(unlockStore(*m_store));
    QCOMPARE(list.count(), 3);
  }

  void aSecondNurseJoinsTheSharedTablet() {
    QVERIFY(!m_store->addUser("nurse3", "Third nurse", "short").isEmpty());  // passphrase too short
    QCOMPARE(m_store->addUser("nurse3", "Third nurse", "third-nurse-pass"), QString());
    QCOMPARE(m_store->addUser("nurse3", "Third nurse", "third-nurse-pass"),
             QStringLiteral("nurse3 is already a user of this tablet."));
    bool listed = false;
    for (const QVariant& u : m_store->users()) listed = listed || u.toMap().value("id") == "nurse3";
    QVERIFY(listed);
    m_store->lock();
    QVERIFY(!unlockStore(*m_store, "nurse3", "wrong-passphrase"));
    QVERIFY(unlockStore(*m_store, "nurse3", "third-nurse-pass"));
    QCOMPARE(m_store->currentUser(), QStringLiteral("nurse3"));
    QCOMPARE(m_store->currentUserName(), QStringLiteral("Third nurse"));
    PatientListModel list(m_store.get(), nullptr);
    QCOMPARE(list.total(), 3);  // the same charts, opened with the same data key
    list.setFilter("caseload");  // nurse3 has charted nothing yet
    QCOMPARE(list.count(), 0);
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_bjorn);
    QCOMPARE(chart.addVital(QString::fromStdString(std::string(crdt::loinc::kHeartRate)), "66"), QString());
    QCOMPARE(list.count(), 1);
    QCOMPARE(list.patientIdAt(0), m_bjorn);
    m_store->lock();
    QVERIFY(unlockStore(*m_store));
  }

  void textFormats() {
    const std::int64_t now = 1'700'000'000'000;
    QCOMPARE(relativeTime(now, now - 10'000), QStringLiteral("just now"));
    QCOMPARE(relativeTime(now, now - 5 * 60'000), QStringLiteral("5 min ago"));
    QCOMPARE(relativeTime(now, now - 2 * 3'600'000), QStringLiteral("2 h ago"));
    QVERIFY(relativeTime(now, now - 3 * 86'400'000LL).startsWith(QStringLiteral("3 day")));
    const auto id = parseOpIdText("r42.7");
    QVERIFY(id.has_value());
    QCOMPARE(id->replica.value, 42u);
    QCOMPARE(id->seq, 7u);
    QCOMPARE(opIdText(*id), QStringLiteral("r42.7"));
    QVERIFY(!parseOpIdText("42.7"));
    QVERIFY(!parseOpIdText("r42.0"));
    QVERIFY(!parseOpIdText("rx.1"));
  }

  // Kiosk mode's passphrase: kept as a vault blob (never the passphrase),
  // readable by its owner only; a wrong or damaged one does not release.
  void kioskReleasesOnlyWithItsPassphrase() {
    QTemporaryDir dir;
    const QString d = dir.path();
    using Strength = app::Kiosk::Strength;
    QVERIFY(!app::Kiosk::configured(d));
    app::Kiosk kiosk(nullptr);
    QVERIFY(kiosk.release(QStringLiteral("anything")));  // inactive: nothing to release
    QCOMPARE(kiosk.start(d, Strength::kMinimumForTests).code(), crdt::Status::Code::kNotFound);
    QVERIFY(!kiosk.active());
    QCOMPARE(app::Kiosk::setPassphrase(d, "short", Strength::kMinimumForTests).code(),
             crdt::Status::Code::kInvalidArgument);
    QVERIFY(!app::Kiosk::configured(d));
    QVERIFY(app::Kiosk::setPassphrase(d, "clinic admin only", Strength::kMinimumForTests).isOk());
    QFile lock(app::Kiosk::lockFile(d));
    QCOMPARE(lock.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther), QFileDevice::Permissions{});
    QVERIFY(lock.open(QIODevice::ReadOnly));
    QVERIFY(!lock.readAll().contains("clinic admin only"));
    lock.close();
    QSignalSpy active(&kiosk, &app::Kiosk::activeChanged);
    QVERIFY(kiosk.start(d, Strength::kMinimumForTests).isOk());
    QVERIFY(kiosk.active());
    QCOMPARE(active.count(), 1);
    QVERIFY(!kiosk.release(QStringLiteral("clinic admin")));
    QVERIFY(kiosk.error().contains(QStringLiteral("not the kiosk passphrase")));
    QVERIFY(!kiosk.released());
    // A damaged lock: refused with its own message, never released.
    QVERIFY(lock.open(QIODevice::ReadWrite));
    QByteArray bytes = lock.readAll();
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
    lock.seek(0);
    lock.write(bytes);
    lock.close();
    QVERIFY(!kiosk.release(QStringLiteral("clinic admin only")));
    QVERIFY(!kiosk.released());
    QVERIFY(app::Kiosk::setPassphrase(d, "clinic admin only", Strength::kMinimumForTests).isOk());
    QSignalSpy released(&kiosk, &app::Kiosk::releasedChanged);
    QVERIFY(kiosk.release(QStringLiteral("clinic admin only")));
    QVERIFY(kiosk.released());
    QVERIFY(kiosk.error().isEmpty());
    QCOMPARE(released.count(), 1);
  }
};

QTEST_MAIN(AppModelsTest)
#include "app_models_test.moc"
