// The upgrade from the previous release: a server store and a tablet replica
// written by the release before attachments reached the tablet
// (tests/fixtures/previous_release, made by its make.sh with that release's
// charta-server and charta-sim), opened by the current programs. The current
// server starts on the old store; the current charta-sim opens the old
// replica with every chart as it was (the state hash the old program
// recorded), adds the tables it lacked, sends the edits left in its outbox
// exactly once, and goes on editing and syncing (an attachment too); a tablet
// enrolled now ends with the same charts.
//
// The replica keeps its server's address (http://127.0.0.1:PORT in its
// metadata, read from fixture.conf) and charta-sim has no way to point an
// enrolled replica elsewhere, so the server runs on that very port (below
// Linux's range of ports handed out to others, 32768 up). The fixture is
// copied to a temporary folder first; its own files are never written.
//
// CHARTA_SERVER_BIN, CHARTA_SIM_BIN: the current programs;
// CHARTA_UPGRADE_FIXTURE: the fixture folder.
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <map>

#include "sync/attachments/attachment_bytes.h"

namespace {

struct Run {
  int exitCode = -1;
  QString out;
  QString err;
};

QString env(const char* name) { return QString::fromUtf8(std::getenv(name) ? std::getenv(name) : ""); }

Run runProgram(const QString& program, const QStringList& args) {
  QProcess p;
  p.start(program, args);
  if (!p.waitForFinished(120000)) p.kill();
  p.waitForFinished(10000);
  Run r;
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  r.err = QString::fromUtf8(p.readAllStandardError()).trimmed();
  return r;
}

Run sim(const QStringList& args) { return runProgram(env("CHARTA_SIM_BIN"), args); }

// `key = value` lines.
std::map<std::string, std::string> readConf(const std::string& path) {
  std::map<std::string, std::string> conf;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find(" = ");
    if (eq != std::string::npos) conf[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return conf;
}

// The first column of the first row as text ("" when none), and the error.
std::string scalar(const std::string& path, const std::string& sql, std::string* error = nullptr) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    if (error) *error = "cannot open " + path;
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    if (error) *error = sqlite3_errmsg(db);
  } else if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::int64_t count(const std::string& path, const std::string& sql) {
  std::string error;
  const std::string v = scalar(path, sql, &error);
  if (!error.empty() || v.empty()) {
    qWarning("%s: %s", sql.c_str(), error.c_str());
    return -1;
  }
  return std::stoll(v);
}

std::vector<std::int64_t> column(const std::string& path, const std::string& sql) {
  std::vector<std::int64_t> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int64(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

bool hasTable(const std::string& path, const std::string& table) {
  return count(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'") == 1;
}

// A number in charta-sim's one-line JSON answers; -1 when absent.
std::int64_t jsonNumber(const QString& json, const QString& key) {
  const QString needle = "\"" + key + "\":";
  const qsizetype at = json.indexOf(needle);
  if (at < 0) return -1;
  qsizetype end = at + needle.size();
  while (end < json.size() && json[end].isDigit()) ++end;
  bool ok = false;
  const std::int64_t n = json.mid(at + needle.size(), end - at - needle.size()).toLongLong(&ok);
  return ok ? n : -1;
}

// Whether 127.0.0.1:port can be listened on now.
bool portFree(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 1) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

class UpgradeTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  std::map<std::string, std::string> m_fixture;  // fixture.conf
  std::string m_replicaDb, m_serverDb;
  QString m_device, m_serverData, m_passFile, m_url;
  std::uint16_t m_port = 0;
  std::int64_t m_synced = 0, m_unsynced = 0;
  std::vector<std::int64_t> m_outbox;  // seqs of the ops the old tablet never sent
  QProcess m_server;
  QElapsedTimer m_clock;

  QStringList withPass(QStringList args) const { return args << "--passphrase-file" << m_passFile; }
  Run deviceSim(const QString& command, const QStringList& more = {}) const {
    return sim(withPass(QStringList{command, "--data", m_device} + more));
  }
  qint64 lap() {
    const qint64 ms = m_clock.elapsed();
    m_clock.restart();
    return ms;
  }

 private slots:
  void initTestCase() {
    for (const char* v : {"CHARTA_SERVER_BIN", "CHARTA_SIM_BIN", "CHARTA_UPGRADE_FIXTURE"}) {
      QVERIFY2(!env(v).isEmpty(), (std::string(v) + " is not set").c_str());
    }
    QVERIFY(m_dir.isValid());
    namespace fs = std::filesystem;
    const fs::path fixture = env("CHARTA_UPGRADE_FIXTURE").toStdString();
    for (const char* f : {"fixture.conf", "passphrase", "server/charta.db", "device/replica.db", "device/sim.conf"}) {
      QVERIFY2(fs::exists(fixture / f), (fixture / f).string().c_str());
    }
    // Every page is in the main files: nothing of the old state hides in a
    // write-ahead log the fixture would lack.
    for (const char* f :
         {"server/charta.db-wal", "device/replica.db-wal", "server/charta.db-shm", "device/replica.db-shm"}) {
      QVERIFY2(!fs::exists(fixture / f), (fixture / f).string().c_str());
    }
    std::error_code ec;
    fs::copy(fixture, m_dir.path().toStdString(), fs::copy_options::recursive, ec);
    QVERIFY2(!ec, ec.message().c_str());
    const std::string root = m_dir.path().toStdString();
    m_fixture = readConf(root + "/fixture.conf");
    for (const char* k : {"server_url", "replica", "state_hash", "synced_ops", "unsynced_ops"}) {
      QVERIFY2(!m_fixture[k].empty(), (std::string("fixture.conf lacks ") + k).c_str());
    }
    m_synced = std::stoll(m_fixture["synced_ops"]);
    m_unsynced = std::stoll(m_fixture["unsynced_ops"]);
    m_replicaDb = root + "/device/replica.db";
    m_serverDb = root + "/server/charta.db";
    m_device = m_dir.path() + "/device";
    m_serverData = m_dir.path() + "/server";
    m_passFile = m_dir.path() + "/passphrase";
    m_url = QString::fromStdString(m_fixture["server_url"]);
    const QString prefix = "http://127.0.0.1:";
    QVERIFY2(m_url.startsWith(prefix), qPrintable(m_url));
    m_port = static_cast<std::uint16_t>(m_url.mid(prefix.size()).toUInt());
    QVERIFY(m_port > 0);
    m_clock.start();
  }

  // The files are what the previous release wrote: no attachments table on
  // the tablet (so this test fails if the fixture was made by the current
  // programs), the outbox not yet on the server.
  void theFixtureIsFromThePreviousRelease() {
    QVERIFY2(!hasTable(m_replicaDb, "attachments"), "the fixture replica already has an attachments table");
    QVERIFY(hasTable(m_replicaDb, "ops"));
    QCOMPARE(scalar(m_replicaDb, "SELECT value FROM meta WHERE key = 'format'"), std::string("1"));
    QCOMPARE(scalar(m_replicaDb, "SELECT value FROM meta WHERE key = 'server_url'"), m_fixture["server_url"]);
    QCOMPARE(scalar(m_replicaDb, "PRAGMA integrity_check"), std::string("ok"));
    QCOMPARE(scalar(m_serverDb, "PRAGMA integrity_check"), std::string("ok"));
    const std::string mine = " AND replica = " + m_fixture["replica"];
    QCOMPARE(count(m_replicaDb, "SELECT COUNT(*) FROM ops WHERE state = 1" + mine), m_synced);
    QCOMPARE(count(m_replicaDb, "SELECT COUNT(*) FROM ops WHERE state = 0" + mine), m_unsynced);
    QCOMPARE(count(m_replicaDb, "SELECT COUNT(*) FROM ops WHERE state NOT IN (0, 1)"), std::int64_t{0});
    m_outbox = column(m_replicaDb, "SELECT seq FROM ops WHERE state = 0" + mine + " ORDER BY seq");
    QCOMPARE(static_cast<std::int64_t>(m_outbox.size()), m_unsynced);
    QVERIFY(m_unsynced > 0);
    QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM ops"), m_synced);
    QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM ops WHERE replica = " + m_fixture["replica"] +
                                   " AND counter >= " + std::to_string(m_outbox.front())),
             std::int64_t{0});
    // A patient created after the last sync: its key has never left the tablet.
    QVERIFY(count(m_replicaDb, "SELECT COUNT(*) FROM patients") > count(m_serverDb, "SELECT COUNT(*) FROM patients"));
  }

  // The current server on the old store, on the port the replica knows.
  void theCurrentServerOpensTheOldStore() {
    QElapsedTimer waited;
    waited.start();
    while (!portFree(m_port) && waited.elapsed() < 30000) QThread::msleep(200);
    QVERIFY2(portFree(m_port), qPrintable(QString("port %1, the one the fixture's replica syncs with, is taken "
                                                  "(by another run of this test?)")
                                              .arg(m_port)));
    m_server.setProcessChannelMode(QProcess::MergedChannels);
    // Never outlives the test (a leftover would hold the port).
    m_server.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    m_server.start(env("CHARTA_SERVER_BIN"), {"serve", "--data", m_serverData, "--listen",
                                              QString("127.0.0.1:%1").arg(m_port), "--log-level", "warn"});
    QVERIFY(m_server.waitForStarted(30000));
    QByteArray out;
    QElapsedTimer t;
    t.start();
    while (!out.contains("charta-server: listening on") && t.elapsed() < 90000 &&
           m_server.state() == QProcess::Running) {
      m_server.waitForReadyRead(200);
      out += m_server.readAll();
    }
    QVERIFY2(out.contains("charta-server: listening on"), out.constData());
    qInfo("the current server started on the previous release's store in %lld ms", static_cast<long long>(lap()));
  }

  // Nothing lost in the replica's migration: the same charts, the same
  // outbox, and the tables the current release added.
  void theCurrentTabletOpensTheOldReplica() {
    Run hash = deviceSim("state-hash");
    QVERIFY2(hash.exitCode == 0, qPrintable(hash.err));
    QCOMPARE(hash.out.toStdString(), m_fixture["state_hash"]);
    Run status = deviceSim("status");
    QVERIFY2(status.exitCode == 0, qPrintable(status.err));
    QCOMPARE(jsonNumber(status.out, "pending_ops"), m_unsynced);
    QCOMPARE(jsonNumber(status.out, "attachments_to_upload"), std::int64_t{0});
    QVERIFY2(hasTable(m_replicaDb, "attachments"), "the current charta-sim did not add the attachments table");
    QCOMPARE(scalar(m_replicaDb, "PRAGMA integrity_check"), std::string("ok"));
    QCOMPARE(count(m_replicaDb, "SELECT COUNT(*) FROM ops WHERE state = 0"), m_unsynced);
    qInfo("the old replica opened, migrated and hashed in %lld ms", static_cast<long long>(lap()));
  }

  // The old outbox reaches the server once, and only once.
  void theOldOutboxSyncsOnce() {
    Run first = deviceSim("sync");
    QVERIFY2(first.exitCode == 0 && first.out.contains("\"ok\":true"), qPrintable(first.out + "\n" + first.err));
    QCOMPARE(jsonNumber(first.out, "pushed"), m_unsynced);
    QCOMPARE(jsonNumber(first.out, "pending_ops"), std::int64_t{0});
    Run again = deviceSim("sync");
    QVERIFY2(again.exitCode == 0 && again.out.contains("\"ok\":true"), qPrintable(again.out + "\n" + again.err));
    QCOMPARE(jsonNumber(again.out, "pushed"), std::int64_t{0});
    // The old tablet's audit events not yet sent went up with its ops.
    QVERIFY2(jsonNumber(first.out, "audit_sent") > 0, qPrintable(first.out));

    QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM ops"), m_synced + m_unsynced);
    QCOMPARE(count(m_serverDb, "SELECT COUNT(DISTINCT replica || '.' || counter) FROM ops"), m_synced + m_unsynced);
    QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM rejected_ops"), std::int64_t{0});
    for (const std::int64_t seq : m_outbox) {
      QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM ops WHERE replica = " + m_fixture["replica"] +
                                     " AND counter = " + std::to_string(seq)),
               std::int64_t{1});
    }
    QCOMPARE(count(m_replicaDb, "SELECT COUNT(*) FROM ops WHERE state = 1"), m_synced + m_unsynced);
    // Its first unlock by this build gave the replica its ledger (format 2),
    // and nothing was taken for tampering.
    QCOMPARE(scalar(m_replicaDb, "SELECT value FROM meta WHERE key = 'format'"), std::string("2"));
    QCOMPARE(count(m_replicaDb, "SELECT COUNT(*) FROM secrets WHERE name = 'ledger'"), std::int64_t{1});
    QVERIFY(count(m_serverDb, "SELECT COUNT(*) FROM audit WHERE action = 'tablet.replica.unlock'") > 0);
    QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM audit WHERE action = 'tablet.replica.tamper_detected'"),
             std::int64_t{0});
    QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM patients"), count(m_replicaDb, "SELECT COUNT(*) FROM patients"));
    // Only this tablet ever wrote: sending its outbox changed no chart.
    QCOMPARE(deviceSim("state-hash").out.toStdString(), m_fixture["state_hash"]);
    qInfo("%lld ops of the old outbox synced (server: %lld ops) in %lld ms", static_cast<long long>(m_unsynced),
          static_cast<long long>(m_synced + m_unsynced), static_cast<long long>(lap()));
  }

  // The upgraded tablet goes on: new edits and an attachment, synced.
  void newEditsAndAnAttachmentSync() {
    Run edit = deviceSim("edit", {"--random", "40", "--seed", "2028", "--patients", "5"});
    QVERIFY2(edit.exitCode == 0, qPrintable(edit.err));
    const std::int64_t pending = jsonNumber(deviceSim("status").out, "pending_ops");
    QVERIFY(pending >= 40);
    const std::string patient = scalar(m_replicaDb, "SELECT id FROM patients ORDER BY id LIMIT 1");
    QVERIFY(!patient.empty());
    const QString photo = m_dir.path() + "/heel.jpg";
    {
      std::ofstream f(photo.toStdString(), std::ios::binary);
      f << charta::test::jpeg(300000, 7);
    }
    Run attach = deviceSim("attach", {"--patient", QString::fromStdString(patient), "--file", photo, "--media-type",
                                      "image/jpeg", "--kind", "wound-photo", "--caption", "After the upgrade"});
    QVERIFY2(attach.exitCode == 0, qPrintable(attach.err));
    const std::int64_t withAttachment = jsonNumber(deviceSim("status").out, "pending_ops");
    QVERIFY(withAttachment > pending);
    Run synced = deviceSim("sync");
    QVERIFY2(synced.exitCode == 0 && synced.out.contains("\"ok\":true"), qPrintable(synced.out + "\n" + synced.err));
    QCOMPARE(jsonNumber(synced.out, "pushed"), withAttachment);
    QCOMPARE(jsonNumber(synced.out, "pending_ops"), std::int64_t{0});
    QCOMPARE(jsonNumber(synced.out, "attachments_uploaded"), std::int64_t{1});
    QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM ops"), m_synced + m_unsynced + withAttachment);
    QCOMPARE(count(m_serverDb, "SELECT COUNT(DISTINCT replica || '.' || counter) FROM ops"),
             m_synced + m_unsynced + withAttachment);
    QCOMPARE(count(m_replicaDb, "SELECT COUNT(*) FROM attachments"), std::int64_t{1});
    qInfo("%lld new ops (one an attachment) edited and synced in %lld ms", static_cast<long long>(withAttachment),
          static_cast<long long>(lap()));
  }

  // A tablet enrolled with the current release gets the same charts.
  void aFreshTabletConverges() {
    Run code = runProgram(env("CHARTA_SERVER_BIN"), {"admin", "issue-code", "demo", "--data", m_serverData});
    QVERIFY2(code.exitCode == 0 && !code.out.isEmpty(), qPrintable(code.err));
    const QString fresh = m_dir.path() + "/fresh";
    Run enrol = sim({"enroll", "--server", m_url, "--code", code.out, "--data", fresh, "--user", "nurse",
                     "--passphrase-file", m_passFile, "--kdf", "minimum", "--name", "upgrade-fresh"});
    QVERIFY2(enrol.exitCode == 0, qPrintable(enrol.err));
    Run synced = sim({"sync", "--data", fresh});
    QVERIFY2(synced.exitCode == 0 && synced.out.contains("\"ok\":true"), qPrintable(synced.out + "\n" + synced.err));
    const std::int64_t total = count(m_serverDb, "SELECT COUNT(*) FROM ops");
    QCOMPARE(jsonNumber(synced.out, "pulled"), total);
    Run old = deviceSim("sync");
    QVERIFY2(old.exitCode == 0 && old.out.contains("\"ok\":true"), qPrintable(old.out + "\n" + old.err));
    const Run upgradedHash = deviceSim("state-hash");
    const Run freshHash = sim({"state-hash", "--data", fresh});
    QCOMPARE(upgradedHash.exitCode, 0);
    QCOMPARE(freshHash.exitCode, 0);
    QCOMPARE(freshHash.out.size(), 64);
    QCOMPARE(freshHash.out, upgradedHash.out);
    QVERIFY(upgradedHash.out.toStdString() != m_fixture["state_hash"]);
    const Run listed = sim({"attachments", "--data", fresh});
    QVERIFY2(listed.exitCode == 0 && listed.out.contains("After the upgrade"), qPrintable(listed.out));
    QCOMPARE(count(m_serverDb, "SELECT COUNT(*) FROM ops"), total);
    qInfo("a fresh tablet pulled %lld ops and converged in %lld ms", static_cast<long long>(total),
          static_cast<long long>(lap()));
  }

  // The server stops cleanly; its store and audit chain are sound, and so is
  // the replica.
  void everythingIsSoundAfterwards() {
    QVERIFY(m_server.state() == QProcess::Running);
    m_server.terminate();
    QVERIFY(m_server.waitForFinished(60000));
    QCOMPARE(m_server.exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_server.exitCode(), 0);
    Run audit = runProgram(env("CHARTA_SERVER_BIN"), {"audit", "verify", "--data", m_serverData});
    QVERIFY2(audit.exitCode == 0, qPrintable(audit.out + "\n" + audit.err));
    QCOMPARE(scalar(m_serverDb, "PRAGMA integrity_check"), std::string("ok"));
    QCOMPARE(scalar(m_replicaDb, "PRAGMA integrity_check"), std::string("ok"));
  }

  void cleanupTestCase() {
    if (m_server.state() != QProcess::NotRunning) {
      m_server.kill();
      m_server.waitForFinished(30000);
    }
  }
};

QTEST_GUILESS_MAIN(UpgradeTest)
#include "upgrade_test.moc"
