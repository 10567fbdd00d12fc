// The app and a headless tablet against a real charta-server on 127.0.0.1:
// the app enrols through its store, creates a patient offline and syncs; a
// charta-sim device pulls it; both edit it offline; after syncing, the app
// shows the conflicts side by side, the nurse resolves them on the app, and
// the headless tablet pulls the resolution: no conflict left and equal
// state hashes on both. Then a tablet of another clinic opens a demo patient
// by break-glass: read-only, marked, audited on the server. Last, photos and
// documents travel both ways: a wound photo attached on the app reaches the
// headless tablet identical; both then attach offline (another photo, a PDF)
// and both end with all three; the app, with a tiny storage budget, keeps
// originals off the tablet until the nurse downloads them.
#include <QImage>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "app/app_fixture.h"
#include "attachment_images.h"
#include "attachments_controller.h"
#include "chart_controller.h"
#include "chart_store.h"
#include "new_patient_controller.h"
#include "patient_list_model.h"
#include "server/api/api_harness.h"

using namespace charta;
using namespace charta::test;

namespace {

struct Run {
  int exitCode = -1;
  QString out;
  QString err;
};

Run sim(const QStringList& args) {
  QProcess p;
  p.start(QString::fromUtf8(qgetenv("CHARTA_SIM_BIN")), args);
  p.waitForFinished(120000);
  Run r;
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  r.err = QString::fromUtf8(p.readAllStandardError()).trimmed();
  return r;
}

bool syncApp(app::ChartStore& store) {
  QSignalSpy done(&store, &app::ChartStore::syncFinished);
  store.syncNow();
  if (!done.wait(60000)) return false;
  const bool ok = done.takeFirst().at(0).toBool();
  if (!ok) qWarning() << "app sync failed:" << store.lastError();
  return ok;
}

}  // namespace

class AppE2eTest : public QObject {
  Q_OBJECT

  TestServer m_server;
  QTemporaryDir m_dir;
  std::unique_ptr<AdminClient> m_admin;

  QString newCode() {
    return QString::fromStdString(
        str(parseJson(m_admin->post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}}).body), "code"));
  }

 private slots:
  void initTestCase() {
    QVERIFY2(!qgetenv("CHARTA_SIM_BIN").isEmpty(), "CHARTA_SIM_BIN is not set");
    QVERIFY2(m_server.start(false), m_server.error.c_str());
    m_admin = std::make_unique<AdminClient>(m_server.url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
  }

  void appAndHeadlessTabletResolveAConflict() {
    app::StoreOptions options = offlineStoreOptions(m_dir.path() + "/app");
    options.maxSyncAttempts = 3;
    app::ChartStore store(options);
    QVERIFY(!store.enrolled());
    // A wrong code is refused in plain words and leaves nothing behind.
    QSignalSpy enrolled(&store, &app::ChartStore::enrolFinished);
    store.enrol(QString::fromStdString(m_server.url()), "AAAA-BBBB-CCCC-DDDD", "nurse", kNursePass);
    QVERIFY(enrolled.wait(30000));
    QCOMPARE(enrolled.takeFirst().at(0).toBool(), false);
    QVERIFY(!store.enrolled());
    QSignalSpy firstSync(&store, &app::ChartStore::syncFinished);
    store.enrol(QString::fromStdString(m_server.url()), newCode(), "nurse", kNursePass);
    QVERIFY(enrolled.wait(30000));
    const QList<QVariant> result = enrolled.takeFirst();
    QVERIFY2(result.at(0).toBool(), qPrintable(result.at(1).toString()));
    QVERIFY(store.enrolled() && store.unlocked());
    QCOMPARE(store.clinic(), QStringLiteral("demo"));
    QVERIFY(firstSync.count() > 0 || firstSync.wait(60000));  // the first sync, which enrolment starts
    QVERIFY(firstSync.first().at(0).toBool());

    app::NewPatientController creator(&store, nullptr);
    const QString patient = creator.create("Haddad", "Yara", "1961-07-30", "female", "MRN-55501")
                                .value("patientId").toString();
    QVERIFY(!patient.isEmpty());
    QVERIFY(store.pendingEdits() > 0);
    QVERIFY(syncApp(store));
    QCOMPARE(store.pendingEdits(), 0);
    QCOMPARE(store.connectivity(), QStringLiteral("online"));
    QVERIFY(store.lastSyncText() == QStringLiteral("just now"));

    // A headless tablet of the same clinic gets the patient.
    const QString passFile = m_dir.path() + "/pass";
    std::ofstream(passFile.toStdString()) << kNursePass << "\n";
    const QString simDir = m_dir.path() + "/sim";
    Run e = sim({"enroll", "--server", QString::fromStdString(m_server.url()), "--code", newCode(), "--data", simDir,
                 "--user", "nurse", "--passphrase-file", passFile, "--kdf", "minimum", "--name", "sim"});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    QCOMPARE(sim({"sync", "--data", simDir}).exitCode, 0);

    // Both edit offline: the headless tablet writes phone and address among
    // its random edits (one patient only), the app writes both too.
    Run edits = sim({"edit", "--data", simDir, "--random", "60", "--seed", "7", "--patients", "1"});
    QVERIFY2(edits.exitCode == 0, qPrintable(edits.err));
    app::ChartController chart(&store, nullptr);
    chart.setPatientId(patient);
    QVERIFY(chart.loaded());
    QCOMPARE(chart.setDemographic("phone", "+41 79 000 00 01"), QString());
    QCOMPARE(chart.setDemographic("address", "1 Tablet Street"), QString());
    QCOMPARE(chart.addVital("8867-4", "64"), QString());

    QCOMPARE(sim({"sync", "--data", simDir}).exitCode, 0);
    QVERIFY(syncApp(store));
    QVERIFY2(chart.conflictCount() > 0, "concurrent edits of phone and address make conflicts");
    QVERIFY(store.openConflicts() > 0);
    const QVariantMap first = chart.conflicts()->get(0);
    QCOMPARE(first.value("values").toList().size(), 2);
    QSet<QString> devices;
    for (const QVariant& v : first.value("values").toList()) devices.insert(v.toMap().value("device").toString());
    QCOMPARE(devices.size(), 2);  // one value from each device

    // The nurse keeps the other device's value for each conflict.
    int guard = 0;
    while (chart.conflictCount() > 0 && guard++ < 20) QCOMPARE(chart.resolveConflict(0, 0), QString());
    QCOMPARE(chart.conflictCount(), 0);
    QVERIFY(syncApp(store));
    QCOMPARE(sim({"sync", "--data", simDir}).exitCode, 0);
    Run conflicts = sim({"conflicts", "--data", simDir});
    QCOMPARE(conflicts.exitCode, 0);
    QVERIFY2(!conflicts.out.contains("\"path\":"), qPrintable(conflicts.out));
    QVERIFY(syncApp(store));
    auto hash = store.replica()->stateHash();
    QVERIFY(hash.isOk());
    Run simHash = sim({"state-hash", "--data", simDir});
    QCOMPARE(simHash.exitCode, 0);
    QCOMPARE(simHash.out, QString::fromStdString(hash.value()));
    QCOMPARE(store.pendingEdits(), 0);

    // The app goes to the background right after an edit: the edit is pushed
    // before the tablet locks, and the headless tablet gets it.
    QCOMPARE(chart.setDemographic("phone", "+41 79 000 00 09"), QString());
    QVERIFY(store.replica()->pendingOpCount() > 0);
    QSignalSpy flushed(&store, &app::ChartStore::syncFinished);
    QSignalSpy locked(&store, &app::ChartStore::locked);
    store.applicationStateChanged(Qt::ApplicationSuspended);
    QVERIFY(locked.wait(60000));
    QVERIFY(!store.unlocked());
    QVERIFY(flushed.count() >= 1);
    QVERIFY(flushed.last().at(0).toBool());
    QCOMPARE(store.replica()->pendingOpCount(), std::uint64_t{0});
    QCOMPARE(sim({"sync", "--data", simDir}).exitCode, 0);
    // Back in the foreground: unlocking syncs, and so does becoming active.
    QSignalSpy unlocked(&store, &app::ChartStore::unlockFinished);
    store.unlock("nurse", kNursePass);
    QVERIFY(unlocked.wait(30000));
    store.waitIdle();
    QCoreApplication::processEvents();
    QSignalSpy again(&store, &app::ChartStore::syncFinished);
    store.applicationStateChanged(Qt::ApplicationActive);
    QVERIFY(again.count() > 0 || again.wait(60000));
    QVERIFY(again.last().at(0).toBool());
    auto after = store.replica()->stateHash();
    QVERIFY(after.isOk());
    Run simAfter = sim({"state-hash", "--data", simDir});
    QCOMPARE(simAfter.out, QString::fromStdString(after.value()));
    store.waitIdle();
  }

  // A nurse of clinic east opens, by identifier and birth date, the chart of
  // a demo patient her tablet has never held: a read-only copy marked as
  // break-glass, with her reason in the server's audit trail.
  void photosAndDocumentsTravelBothWays() {
    app::StoreOptions options = offlineStoreOptions(m_dir.path() + "/att-app");
    options.maxSyncAttempts = 3;
    app::ChartStore store(options);
    app::ChartStore::setInstance(&store);  // the image provider's store
    QSignalSpy enrolled(&store, &app::ChartStore::enrolFinished);
    QSignalSpy firstSync(&store, &app::ChartStore::syncFinished);
    store.enrol(QString::fromStdString(m_server.url()), newCode(), "nurse", kNursePass);
    QVERIFY(enrolled.wait(30000));
    QVERIFY(enrolled.first().at(0).toBool());
    QVERIFY(firstSync.count() > 0 || firstSync.wait(60000));
    app::NewPatientController creator(&store, nullptr);
    const QString patient =
        creator.create("Moreau", "Lea", "1948-09-02", "female", "ATT-8001").value("patientId").toString();
    QVERIFY(!patient.isEmpty());
    QVERIFY(syncApp(store));

    // The app: a wound photo (1200 x 600 PNG), attached offline, then synced.
    QImage photo(1200, 600, QImage::Format_RGB32);
    for (int y = 0; y < photo.height(); ++y) {
      for (int x = 0; x < photo.width(); ++x) photo.setPixel(x, y, qRgb((x * 7) % 256, (y * 3) % 256, 90));
    }
    const QString photoFile = m_dir.path() + "/heel.png";
    QVERIFY(photo.save(photoFile, "PNG"));
    app::ChartController chart(&store, nullptr);
    chart.setPatientId(patient);
    app::ChartAttachments attachments;
    attachments.setChart(&chart);
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(photoFile), "wound-photo", "Heel, day 1", "left heel"),
             QString());
    QVERIFY(syncApp(store));
    QVERIFY(store.replica()->attachmentCounts().toUpload == 0);

    // The headless tablet pulls the entry and the bytes: identical.
    const QString passFile = m_dir.path() + "/att-pass";
    std::ofstream(passFile.toStdString()) << kNursePass << "\n";
    const QString simDir = m_dir.path() + "/att-sim";
    Run e = sim({"enroll", "--server", QString::fromStdString(m_server.url()), "--code", newCode(), "--data", simDir,
                 "--user", "nurse", "--passphrase-file", passFile, "--kdf", "minimum", "--name", "att-sim"});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    QCOMPARE(sim({"sync", "--data", simDir}).exitCode, 0);
    const QString photoHash = attachments.rows()->get(0).value("hash").toString();
    const QString copy = m_dir.path() + "/heel-copy.png";
    Run fetched = sim({"fetch-attachment", "--data", simDir, "--patient", patient, "--hash", photoHash, "--out", copy});
    QVERIFY2(fetched.exitCode == 0, qPrintable(fetched.err));
    QFile original(photoFile), arrived(copy);
    QVERIFY(original.open(QIODevice::ReadOnly) && arrived.open(QIODevice::ReadOnly));
    QVERIFY(original.readAll() == arrived.readAll());

    // Both attach offline: the app a second photo, the headless tablet a
    // consent form. After both sync, both have all three. The app, with a
    // budget too small for originals, lists them as not on the tablet, then
    // downloads one on demand.
    QImage day2 = photo.mirrored(true, false);
    QCOMPARE(attachments.attachImage(day2, "wound-photo", "Heel, day 2", "left heel"), QString());
    const QString pdf = m_dir.path() + "/consent.pdf";
    std::ofstream(pdf.toStdString(), std::ios::binary) << "%PDF-1.4\n" << std::string(300000, 'c') << "\n%%EOF\n";
    Run attached = sim({"attach", "--data", simDir, "--patient", patient, "--file", pdf, "--media-type",
                        "application/pdf", "--kind", "consent", "--caption", "Signed consent"});
    QVERIFY2(attached.exitCode == 0, qPrintable(attached.err));
    QCOMPARE(sim({"sync", "--data", simDir}).exitCode, 0);
    QVERIFY(store.replica()->setAttachmentBudget(1).isOk());
    QVERIFY(syncApp(store));
    QTRY_COMPARE(attachments.rows()->count(), 3);
    QCOMPARE(sim({"sync", "--data", simDir}).exitCode, 0);
    Run listed = sim({"attachments", "--data", simDir, "--patient", patient});
    QVERIFY2(listed.exitCode == 0, qPrintable(listed.err));
    QCOMPARE(listed.out.split('\n', Qt::SkipEmptyParts).size(), 3);
    QCOMPARE(attachments.seriesRows("left heel").size(), 2);
    QVariantMap consent;
    for (const QVariantMap& row : attachments.rows()->rows()) {
      if (row.value("kind").toString() == "consent") consent = row;
    }
    QCOMPARE(consent.value("caption").toString(), QString("Signed consent"));
    QVERIFY(!consent.value("available").toBool());
    QVERIFY(!attachments.notOnTablet().isEmpty());
    QSignalSpy got(&store, &app::ChartStore::attachmentFetched);
    store.fetchAttachment(patient, consent.value("hash").toString(), consent.value("size").toLongLong(),
                          "application/pdf");
    QVERIFY(got.wait(60000));
    QVERIFY2(got.first().at(1).toBool(), qPrintable(got.first().at(2).toString()));
    QTRY_VERIFY(attachments.rowFor(consent.value("entryId").toString()).value("available").toBool());
    auto bytes = store.replica()->readAttachment(patient.toStdString(), consent.value("hash").toString().toStdString());
    QVERIFY(bytes.isOk());
    QCOMPARE(bytes.value().size(), std::size_t{9 + 300000 + 7});
    // The tiny budget evicted the app's own photo too (the server holds it):
    // the chart says so, and the nurse downloads it again to look at it.
    QVariantMap heel;
    for (const QVariantMap& row : attachments.rows()->rows()) {
      if (row.value("hash").toString() == photoHash) heel = row;
    }
    QVERIFY(!heel.value("available").toBool());
    QVERIFY(!heel.value("thumbSource").toString().isEmpty());  // thumbnails stay
    QVERIFY(attachments.notOnTablet().startsWith("2 original"));
    store.fetchAttachment(patient, photoHash, heel.value("size").toLongLong(), "image/png");
    QVERIFY(got.wait(60000));
    QVERIFY2(got.last().at(1).toBool(), qPrintable(got.last().at(2).toString()));
    QTRY_VERIFY(attachments.notOnTablet().startsWith("1 original"));  // day 2 is still off the tablet

    // The photo, shown on the app through the image provider.
    app::AttachmentImageProvider provider;
    QSize size;
    QCOMPARE(provider.requestImage("view/" + patient + "/" + photoHash, &size, QSize()).size(), QSize(1200, 600));
    app::ChartStore::setInstance(nullptr);
  }

  void appOpensAnotherClinicsChartByBreakGlass() {
    // A demo tablet charts the patient and syncs it to the server.
    app::StoreOptions demoOptions = offlineStoreOptions(m_dir.path() + "/bg-demo");
    demoOptions.maxSyncAttempts = 3;
    app::ChartStore demo(demoOptions);
    QSignalSpy demoEnrolled(&demo, &app::ChartStore::enrolFinished);
    QSignalSpy demoFirstSync(&demo, &app::ChartStore::syncFinished);
    demo.enrol(QString::fromStdString(m_server.url()), newCode(), "nurse", kNursePass);
    QVERIFY(demoEnrolled.wait(30000));
    QVERIFY(demoEnrolled.first().at(0).toBool());
    QVERIFY(demoFirstSync.count() > 0 || demoFirstSync.wait(60000));
    app::NewPatientController creator(&demo, nullptr);
    const QString patient =
        creator.create("Okafor", "Chidi", "1955-03-14", "male", "BG-7001").value("patientId").toString();
    QVERIFY(!patient.isEmpty());
    QVERIFY(syncApp(demo));
    QCOMPARE(demo.pendingEdits(), 0);

    // Clinic east, a nurse of it, and her tablet.
    QCOMPARE(m_admin->post("/v1/admin/clinics", json::Object{{"id", "east"}, {"name", "East clinic"}}).status, 201);
    QCOMPARE(m_admin
                 ->post("/v1/admin/users", json::Object{{"id", "east-nurse"},
                                                        {"display_name", "East nurse"},
                                                        {"role", "nurse"},
                                                        {"clinic", "east"},
                                                        {"password", kNursePass}})
                 .status,
             201);
    const QString eastCode = QString::fromStdString(
        str(parseJson(m_admin->post("/v1/admin/enrolment-codes", json::Object{{"clinic", "east"}}).body), "code"));
    app::StoreOptions eastOptions = offlineStoreOptions(m_dir.path() + "/bg-east");
    eastOptions.maxSyncAttempts = 3;
    app::ChartStore east(eastOptions);
    QSignalSpy eastEnrolled(&east, &app::ChartStore::enrolFinished);
    QSignalSpy eastFirstSync(&east, &app::ChartStore::syncFinished);
    east.enrol(QString::fromStdString(m_server.url()), eastCode, "east-nurse", kNursePass);
    QVERIFY(eastEnrolled.wait(30000));
    QVERIFY2(eastEnrolled.first().at(0).toBool(), qPrintable(eastEnrolled.first().at(1).toString()));
    QCOMPARE(east.clinic(), QStringLiteral("east"));
    QVERIFY(eastFirstSync.count() > 0 || eastFirstSync.wait(60000));
    QVERIFY(eastFirstSync.first().at(0).toBool());
    auto before = east.replica()->stateHash();
    QVERIFY(before.isOk());

    QSignalSpy finished(&east, &app::ChartStore::breakGlassFinished);
    // What was typed wrongly is refused at once, without asking the server.
    east.breakGlass("BG-7001", "1955-03-14", "hm");
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QVERIFY(finished.takeFirst().at(2).toString().contains("at least 5"));
    east.breakGlass("BG-7001", "14/03/1955", "unconscious on arrival");
    QCOMPARE(finished.count(), 1);
    QVERIFY(finished.takeFirst().at(2).toString().contains("YYYY-MM-DD"));
    // Nobody has this identifier: a plain answer, no chart.
    east.breakGlass("BG-9999", "1955-03-14", "unconscious on arrival");
    QVERIFY(finished.wait(30000));
    QList<QVariant> outcome = finished.takeFirst();
    QCOMPARE(outcome.at(0).toBool(), false);
    QVERIFY2(outcome.at(2).toString().contains("No patient"), qPrintable(outcome.at(2).toString()));

    // Typed as it is read off a wristband: another case, a space for the
    // dash; asked while a sync runs, it waits for the sync to end.
    QSignalSpy synced(&east, &app::ChartStore::syncFinished);
    east.syncNow();
    QVERIFY(east.busy());
    east.breakGlass("bg 7001", "1955-03-14", "unconscious on arrival, no carer");
    QCOMPARE(finished.count(), 0);
    QVERIFY(finished.wait(30000));
    outcome = finished.takeFirst();
    QVERIFY2(outcome.at(0).toBool(), qPrintable(outcome.at(2).toString()));
    QCOMPARE(outcome.at(1).toString(), patient);
    QCOMPARE(synced.count(), 1);

    app::ChartController chart(&east, nullptr);
    chart.setPatientId(patient);
    QVERIFY(chart.loaded());
    QVERIFY(chart.displayName().contains("OKAFOR"));
    QVERIFY(chart.readOnly());
    QVERIFY(chart.breakGlassText().contains("unconscious on arrival, no carer"));
    QVERIFY(chart.breakGlassText().contains("demo"));
    // Read-only here: an edit is refused in words and nothing is queued.
    const QString refused = chart.setDemographic("phone", "+41 79 000 00 09");
    QVERIFY2(!refused.isEmpty(), "an edit of a break-glass copy was accepted");
    QCOMPARE(east.pendingEdits(), 0);
    // The copy is not part of the clinic's charts: syncing changes nothing.
    QVERIFY(syncApp(east));
    auto after = east.replica()->stateHash();
    QVERIFY(after.isOk());
    QCOMPARE(after.value(), before.value());
    QVERIFY(east.breakGlassInfo(patient).value("active").toBool());
    // The patient list marks the copy.
    app::PatientListModel list(&east, nullptr);
    list.setQuery("Okafor");
    QCOMPARE(list.count(), 1);
    QCOMPARE(list.data(list.index(0), app::PatientListModel::kBreakGlassRole).toBool(), true);

    // The server's audit trail names the nurse, the patient and the reason.
    HttpResult audit = m_admin->get("/v1/admin/audit?limit=100&action=chart.break_glass");
    QCOMPARE(audit.status, 200);
    QVERIFY2(audit.body.find(patient.toStdString()) != std::string::npos, audit.body.c_str());
    QVERIFY2(audit.body.find("unconscious on arrival, no carer") != std::string::npos, audit.body.c_str());
    QVERIFY2(audit.body.find("east-nurse") != std::string::npos, audit.body.c_str());
    east.waitIdle();
    demo.waitIdle();
  }
};

QTEST_MAIN(AppE2eTest)
#include "app_e2e_test.moc"
