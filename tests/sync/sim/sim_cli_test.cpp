// charta-sim as a person or a script uses it: every subcommand's --help,
// usage errors (exit 2), failures on stderr (exit 1), two headless tablets
// converging through a real server, their conflicts, attachments attached on
// one and fetched on the other, and a remote wipe (exit 3, replica gone).
#include <QCryptographicHash>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "server/api/api_harness.h"
#include "sync/replica/raw_sqlite.h"

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
  p.start(QString::fromUtf8(std::getenv("CHARTA_SIM_BIN")), args);
  p.waitForFinished(120000);
  Run r;
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  r.err = QString::fromUtf8(p.readAllStandardError()).trimmed();
  return r;
}

}  // namespace

class SimCliTest : public QObject {
  Q_OBJECT

  TestServer m_server;
  QTemporaryDir m_dir;
  std::unique_ptr<AdminClient> m_admin;
  QString m_passFile;

  QString newCode() {
    return QString::fromStdString(
        str(parseJson(m_admin->post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}}).body), "code"));
  }
  QString dir(const char* name) const { return m_dir.path() + "/" + name; }

  Run enrol(const char* name) {
    return sim({"enroll", "--server", QString::fromStdString(m_server.url()), "--code", newCode(), "--data", dir(name),
                "--user", "nurse", "--passphrase-file", m_passFile, "--kdf", "minimum", "--name", name});
  }

 private slots:
  void initTestCase() {
    QVERIFY2(std::getenv("CHARTA_SIM_BIN"), "CHARTA_SIM_BIN is not set");
    QVERIFY2(m_server.start(false), m_server.error.c_str());
    m_admin = std::make_unique<AdminClient>(m_server.url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
    m_passFile = m_dir.path() + "/pass";
    std::ofstream(m_passFile.toStdString()) << "demo-nurse-pass\n";
  }

  void helpAndUsageErrors() {
    Run top = sim({"--help"});
    QCOMPARE(top.exitCode, 0);
    for (const char* cmd :
         {"enroll", "edit", "sync", "state-hash", "conflicts", "status", "attach", "attachments", "fetch-attachment"}) {
      QVERIFY(top.out.contains(cmd));
      Run help = sim({cmd, "--help"});
      QCOMPARE(help.exitCode, 0);
      QVERIFY2(help.out.startsWith(QString("charta-sim ") + cmd), qPrintable(help.out));
    }
    Run none = sim({});
    QCOMPARE(none.exitCode, 2);
    QVERIFY(none.err.contains("subcommand"));
    Run unknown = sim({"fly"});
    QCOMPARE(unknown.exitCode, 2);
    QVERIFY(unknown.err.contains("unknown subcommand 'fly'"));
    Run noData = sim({"sync"});
    QCOMPARE(noData.exitCode, 2);
    QVERIFY(noData.err.contains("--data"));
    Run badOption = sim({"sync", "--data", dir("x"), "--colour", "red"});
    QCOMPARE(badOption.exitCode, 2);
    QVERIFY(badOption.err.contains("--colour"));
    Run badNumber = sim({"edit", "--data", dir("x"), "--random", "many"});
    QCOMPARE(badNumber.exitCode, 2);
    Run noReplica = sim({"status", "--data", dir("nothing-here"), "--passphrase-file", m_passFile});
    QCOMPARE(noReplica.exitCode, 1);
    QVERIFY2(noReplica.err.contains("enrol this device first"), qPrintable(noReplica.err));
    Run badCode = sim({"enroll", "--server", QString::fromStdString(m_server.url()), "--code", "AAAA-BBBB-CCCC-DDDD",
                       "--data", dir("bad"), "--user", "nurse", "--passphrase-file", m_passFile, "--kdf", "minimum"});
    QCOMPARE(badCode.exitCode, 1);
    QVERIFY2(badCode.err.contains("enrolment failed"), qPrintable(badCode.err));
    QVERIFY(!QFile::exists(dir("bad") + "/replica.db"));
  }

  void twoHeadlessTabletsConverge() {
    QCOMPARE(enrol("a").exitCode, 0);
    QCOMPARE(enrol("b").exitCode, 0);
    // The same data folder cannot be enrolled twice.
    Run twice = enrol("a");
    QCOMPARE(twice.exitCode, 1);
    QVERIFY(twice.err.contains("already exists"));
    QCOMPARE(sim({"edit", "--data", dir("a"), "--random", "40", "--seed", "1", "--patients", "3"}).exitCode, 0);
    QCOMPARE(sim({"sync", "--data", dir("a")}).exitCode, 0);
    QCOMPARE(sim({"sync", "--data", dir("b")}).exitCode, 0);
    QCOMPARE(sim({"edit", "--data", dir("a"), "--random", "150", "--seed", "2", "--patients", "3"}).exitCode, 0);
    QCOMPARE(sim({"edit", "--data", dir("b"), "--random", "150", "--seed", "3", "--patients", "3"}).exitCode, 0);
    Run wrongPass = sim({"state-hash", "--data", dir("a"), "--passphrase-file", m_dir.path() + "/missing"});
    QCOMPARE(wrongPass.exitCode, 1);
    Run before = sim({"state-hash", "--data", dir("a")});
    QCOMPARE(before.exitCode, 0);
    QVERIFY(before.out != sim({"state-hash", "--data", dir("b")}).out);
    for (const char* d : {"a", "b", "a", "b"}) {
      Run s = sim({"sync", "--data", dir(d)});
      QCOMPARE(s.exitCode, 0);
      QVERIFY2(s.out.contains("\"ok\":true"), qPrintable(s.out));
    }
    Run ha = sim({"state-hash", "--data", dir("a")});
    Run hb = sim({"state-hash", "--data", dir("b")});
    QCOMPARE(ha.exitCode, 0);
    QCOMPARE(ha.out.size(), 64);
    QCOMPARE(ha.out, hb.out);
    Run ca = sim({"conflicts", "--data", dir("a")});
    Run cb = sim({"conflicts", "--data", dir("b")});
    QCOMPARE(ca.exitCode, 0);
    QVERIFY2(ca.out.contains("\"path\":"), "concurrent edits of the same fields make conflicts");
    QCOMPARE(ca.out, cb.out);
    Run status = sim({"status", "--data", dir("a")});
    QVERIFY2(status.out.contains("\"pending_ops\":0") && status.out.contains("\"last_error\":\"\""),
             qPrintable(status.out));
  }

  void attachmentsThroughTheCli() {
    QCOMPARE(enrol("e").exitCode, 0);
    QCOMPARE(enrol("f").exitCode, 0);
    QCOMPARE(sim({"edit", "--data", dir("e"), "--random", "3", "--patients", "1"}).exitCode, 0);
    const QString patient = QString::fromStdString(
        charta::testing::rawScalar((dir("e") + "/replica.db").toStdString(), "SELECT id FROM patients LIMIT 1"));
    QVERIFY(!patient.isEmpty());
    QCOMPARE(sim({"sync", "--data", dir("e")}).exitCode, 0);
    // A 2.5 MiB "JPEG" (three chunks).
    QByteArray photo("\xFF\xD8\xFF\xE0", 4);
    while (photo.size() < 2 * 1048576 + 524288) photo += "wound photo bytes ";
    photo.truncate(2 * 1048576 + 524288);
    const QString file = m_dir.path() + "/heel.jpg";
    {
      QFile f(file);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(photo);
    }
    const QString hash = QString::fromLatin1(QCryptographicHash::hash(photo, QCryptographicHash::Sha256).toHex());

    Run noFile = sim({"attach", "--data", dir("e"), "--patient", patient, "--media-type", "image/jpeg"});
    QCOMPARE(noFile.exitCode, 2);
    QVERIFY(noFile.err.contains("--file"));
    Run badType =
        sim({"attach", "--data", dir("e"), "--patient", patient, "--file", file, "--media-type", "image/gif"});
    QCOMPARE(badType.exitCode, 2);
    Run badKind = sim({"attach", "--data", dir("e"), "--patient", patient, "--file", file, "--media-type", "image/jpeg",
                       "--kind", "selfie"});
    QCOMPARE(badKind.exitCode, 2);
    Run notPdf =
        sim({"attach", "--data", dir("e"), "--patient", patient, "--file", file, "--media-type", "application/pdf"});
    QCOMPARE(notPdf.exitCode, 1);
    QVERIFY2(notPdf.err.contains("not application/pdf"), qPrintable(notPdf.err));
    Run missing = sim(
        {"attach", "--data", dir("e"), "--patient", patient, "--file", file + ".nope", "--media-type", "image/jpeg"});
    QCOMPARE(missing.exitCode, 1);
    Run unknownPatient =
        sim({"attach", "--data", dir("e"), "--patient", "p-nobody", "--file", file, "--media-type", "image/jpeg"});
    QCOMPARE(unknownPatient.exitCode, 1);

    Run attached = sim({"attach", "--data", dir("e"), "--patient", patient, "--file", file, "--media-type",
                        "image/jpeg", "--kind", "wound-photo", "--caption", "Left heel"});
    QCOMPARE(attached.exitCode, 0);
    QVERIFY2(attached.out.contains("\"hash\":\"" + hash + "\""), qPrintable(attached.out));
    Run listed = sim({"attachments", "--data", dir("e"), "--patient", patient});
    QCOMPARE(listed.exitCode, 0);
    QVERIFY2(listed.out.contains(hash) && listed.out.contains("\"downloaded\":true") &&
                 listed.out.contains("\"to_upload\":true") && listed.out.contains("\"caption\":\"Left heel\""),
             qPrintable(listed.out));
    Run synced = sim({"sync", "--data", dir("e")});
    QCOMPARE(synced.exitCode, 0);
    QVERIFY2(synced.out.contains("\"attachments_uploaded\":1"), qPrintable(synced.out));
    QVERIFY(sim({"attachments", "--data", dir("e")}).out.contains("\"to_upload\":false"));

    // The other tablet, with no room for originals: the entry arrives, the
    // file does not until it is fetched.
    QCOMPARE(sim({"sync", "--data", dir("f"), "--attachment-budget", "nope"}).exitCode, 2);
    Run syncF = sim({"sync", "--data", dir("f"), "--attachment-budget", "100000"});
    QCOMPARE(syncF.exitCode, 0);
    QVERIFY2(syncF.out.contains("\"attachments_not_downloaded\":1"), qPrintable(syncF.out));
    Run onF = sim({"attachments", "--data", dir("f")});
    QCOMPARE(onF.exitCode, 0);
    QVERIFY2(onF.out.contains(hash) && onF.out.contains("\"downloaded\":false"), qPrintable(onF.out));
    const QString out = m_dir.path() + "/fetched.jpg";
    Run badHash = sim({"fetch-attachment", "--data", dir("f"), "--patient", patient, "--hash", "abc", "--out", out});
    QCOMPARE(badHash.exitCode, 2);
    Run unknown = sim({"fetch-attachment", "--data", dir("f"), "--patient", patient, "--hash", QString(64, QChar('0')),
                       "--out", out});
    QCOMPARE(unknown.exitCode, 1);
    Run fetched = sim({"fetch-attachment", "--data", dir("f"), "--patient", patient, "--hash", hash, "--out", out});
    QCOMPARE(fetched.exitCode, 0);
    QFile result(out);
    QVERIFY(result.open(QIODevice::ReadOnly));
    QVERIFY(result.readAll() == photo);
    QVERIFY(sim({"attachments", "--data", dir("f"), "--patient", patient}).out.contains("\"downloaded\":true"));
  }

  void aRevokedTabletIsWiped() {
    QCOMPARE(enrol("c").exitCode, 0);
    QCOMPARE(sim({"edit", "--data", dir("c"), "--random", "5"}).exitCode, 0);
    QCOMPARE(sim({"sync", "--data", dir("c")}).exitCode, 0);
    const std::string conf = [&] {
      std::ifstream in((dir("c") + "/replica.db").toStdString());
      return std::string(in ? "ok" : "");
    }();
    QCOMPARE(conf, std::string("ok"));
    HttpResult devices = m_admin->get("/v1/admin/devices");
    json::Value list = parseJson(devices.body);
    std::string id;
    for (const json::Value& d : *list.find("devices")->asArray()) {
      if (str(d, "name") == "c") id = str(d, "id");
    }
    QVERIFY(!id.empty());
    QCOMPARE(m_admin->post("/v1/admin/devices/" + id + "/revoke", json::Object{}).status, 200);
    Run wiped = sim({"sync", "--data", dir("c")});
    QCOMPARE(wiped.exitCode, 3);
    QVERIFY(wiped.err.contains("revoked"));
    QVERIFY(!QFile::exists(dir("c") + "/replica.db"));
    QVERIFY(!QFile::exists(dir("c") + "/replica.db-wal"));
    QVERIFY(!QFile::exists(dir("c") + "/replica.db-attachments"));
  }
};

QTEST_GUILESS_MAIN(SimCliTest)
#include "sim_cli_test.moc"
