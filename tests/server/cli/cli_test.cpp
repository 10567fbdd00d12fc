// The charta-server command line, run as the built binary (CHARTA_SERVER_BIN):
// help, refusals of unknown commands, options and config lines, the admin
// actions against a --data folder, audit verification (intact, then broken
// by a changed row), and `serve` from a config file until SIGTERM.

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <signal.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "db.h"
#include "json.h"
#include "support/http_client.h"

using namespace charta;
using namespace charta::test;
namespace json = charta::server::json;

namespace {

struct Run {
  int exitCode = -1;
  bool crashed = false;
  QString out, err;
};

bool writeFile(const QString& path, const std::string& text) {
  std::ofstream f(path.toStdString(), std::ios::binary | std::ios::trunc);
  f << text;
  return static_cast<bool>(f);
}

QString readFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll());
}

json::Value parseJson(const QString& text) {
  auto v = json::parse(text.trimmed().toStdString());
  return v.isOk() ? v.value() : json::Value();
}

// The ids in a JSON array member of `v` (e.g. "users"), with one more field each.
std::map<std::string, std::string> idsOf(const json::Value& v, const char* list, const char* field) {
  std::map<std::string, std::string> out;
  const json::Value* items = v.find(list);
  if (!items || !items->asArray()) return out;
  for (const json::Value& item : *items->asArray()) {
    const json::Value* id = item.find("id");
    const json::Value* f = item.find(field);
    std::string value;
    if (f && f->asString()) value = *f->asString();
    if (f && f->asBool()) value = *f->asBool() ? "true" : "false";
    if (id && id->asString()) out[*id->asString()] = value;
  }
  return out;
}

}  // namespace

class CliTest : public QObject {
  Q_OBJECT

 private:
  QString m_bin;
  QTemporaryDir m_dir;

  Run run(const QStringList& args, const QByteArray& input = {}) {
    QProcess p;
    p.start(m_bin, args);
    Run r;
    if (!p.waitForStarted(30000)) {
      r.err = QStringLiteral("cannot start ") + m_bin;
      return r;
    }
    if (!input.isEmpty()) p.write(input);
    p.closeWriteChannel();
    if (!p.waitForFinished(120000)) {
      p.kill();
      p.waitForFinished(5000);
      r.err = QStringLiteral("timed out");
      return r;
    }
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.exitCode = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
  }

  static std::string describe(const Run& r) {
    return "exit " + std::to_string(r.exitCode) + "\nstdout: " + r.out.toStdString() + "\nstderr: " +
           r.err.toStdString();
  }

  // Starts `serve`, waits for its "listening on" line; nullptr on failure.
  std::unique_ptr<QProcess> serve(const QStringList& args, QString* firstLine) {
    auto p = std::make_unique<QProcess>();
    p->start(m_bin, QStringList{QStringLiteral("serve")} + args);
    if (!p->waitForStarted(30000)) return nullptr;
    QString out;
    QElapsedTimer t;
    t.start();
    while (!out.contains(QLatin1Char('\n')) && t.elapsed() < 60000 && p->state() == QProcess::Running) {
      p->waitForReadyRead(500);
      out += QString::fromUtf8(p->readAllStandardOutput());
    }
    *firstLine = out.trimmed();
    if (!out.contains(QStringLiteral("listening on"))) {
      qWarning("serve did not start: %s %s", qPrintable(out), p->readAllStandardError().constData());
      p->kill();
      p->waitForFinished(5000);
      return nullptr;
    }
    return p;
  }

  // Sends `sig` and waits for the exit; the remaining standard output.
  static QString stop(QProcess& p, int sig, int* exitCode, bool* normal) {
    ::kill(static_cast<pid_t>(p.processId()), sig);
    bool finished = p.waitForFinished(30000);
    if (!finished) {
      p.kill();
      p.waitForFinished(5000);
    }
    *normal = finished && p.exitStatus() == QProcess::NormalExit;
    *exitCode = p.exitCode();
    return QString::fromUtf8(p.readAllStandardOutput());
  }

  QString dataDir(const QString& name) { return m_dir.path() + QLatin1Char('/') + name; }

 private slots:
  void initTestCase() {
    m_bin = qEnvironmentVariable("CHARTA_SERVER_BIN");
    QVERIFY2(!m_bin.isEmpty(), "CHARTA_SERVER_BIN names the charta-server binary");
    QVERIFY2(QFileInfo(m_bin).isExecutable(), qPrintable(m_bin));
    QVERIFY(m_dir.isValid());
  }

  void helpListsCommandsAndSettings() {
    Run r = run({QStringLiteral("--help")});
    QVERIFY2(r.exitCode == 0 && !r.crashed, describe(r).c_str());
    for (const char* want : {"serve", "admin create-clinic", "admin create-user", "admin list-users", "admin issue-code",
                             "admin list-devices", "admin revoke-device", "audit verify", "--password-file", "--config",
                             "--listen", "--data", "--postgres", "--tls-cert", "--tls-key", "--log-level",
                             "--session-ttl-seconds", "--max-body-bytes", "--demo"}) {
      QVERIFY2(r.out.contains(QString::fromUtf8(want)), want);
    }
    Run help = run({QStringLiteral("help")});
    QCOMPARE(help.exitCode, 0);
    QCOMPARE(help.out, r.out);
    // No command at all: the usage, but not success.
    Run none = run({});
    QVERIFY(none.exitCode != 0);
    QVERIFY(none.out.contains(QStringLiteral("usage:")));
  }

  void unknownCommandIsRefused() {
    Run r = run({QStringLiteral("frobnicate")});
    QVERIFY2(r.exitCode != 0 && !r.crashed, describe(r).c_str());
    QVERIFY2(r.err.contains(QStringLiteral("unknown command \"frobnicate\"")), qPrintable(r.err));
    QVERIFY(r.err.contains(QStringLiteral("--help")));
    Run action = run({QStringLiteral("admin"), QStringLiteral("frobnicate"), QStringLiteral("--data"), dataDir("x")});
    QVERIFY(action.exitCode != 0);
    QVERIFY2(action.err.contains(QStringLiteral("unknown admin action")), qPrintable(action.err));
    Run audit = run({QStringLiteral("audit"), QStringLiteral("frobnicate")});
    QVERIFY(audit.exitCode != 0);
    QVERIFY2(audit.err.contains(QStringLiteral("usage: charta-server audit verify")), qPrintable(audit.err));
  }

  void unknownOptionIsRefused() {
    QString data = dataDir("unknown-option");
    Run r = run({QStringLiteral("admin"), QStringLiteral("list-users"), QStringLiteral("--data"), data,
                 QStringLiteral("--no-such-option"), QStringLiteral("1")});
    QVERIFY2(r.exitCode != 0 && !r.crashed, describe(r).c_str());
    QVERIFY2(r.err.contains(QStringLiteral("unknown option --no-such-option")), qPrintable(r.err));
    // serve has no options of its own: an unknown one is refused before listening.
    Run s = run({QStringLiteral("serve"), QStringLiteral("--data"), data, QStringLiteral("--no-such-option")});
    QVERIFY2(s.exitCode != 0 && !s.crashed, describe(s).c_str());
    QVERIFY2(s.err.contains(QStringLiteral("--no-such-option")), qPrintable(s.err));
    QVERIFY(!s.out.contains(QStringLiteral("listening")));
    // A setting without its value, and a bad value.
    Run noValue = run({QStringLiteral("serve"), QStringLiteral("--listen")});
    QVERIFY(noValue.exitCode != 0);
    QVERIFY2(noValue.err.contains(QStringLiteral("--listen needs a value")), qPrintable(noValue.err));
    Run badValue = run({QStringLiteral("admin"), QStringLiteral("list-users"), QStringLiteral("--data"), data,
                        QStringLiteral("--session-ttl-seconds=soon")});
    QVERIFY(badValue.exitCode != 0);
    QVERIFY2(badValue.err.contains(QStringLiteral("session_ttl_seconds")), qPrintable(badValue.err));
  }

  void badConfigLineNamesFileAndLine() {
    QString data = dataDir("bad-config");
    struct Case {
      std::string text;
      QString where;  // ":LINE:"
      QString what;
    };
    for (const Case& c : std::vector<Case>{
             {"# settings\nlisten = 127.0.0.1:9\nno_such_key = 1\n", QStringLiteral(":3:"),
              QStringLiteral("unknown setting \"no_such_key\"")},
             {"log_level = warn\n\nsession_ttl_seconds = soon\n", QStringLiteral(":3:"),
              QStringLiteral("session_ttl_seconds")},
             {"listen = 127.0.0.1:9\nthis line has no equals sign\n", QStringLiteral(":2:"),
              QStringLiteral("expected '='")},
             {"demo = maybe\n", QStringLiteral(":1:"), QStringLiteral("demo")}}) {
      QString file = m_dir.path() + QStringLiteral("/bad.conf");
      QVERIFY(writeFile(file, c.text));
      for (const QStringList& args :
           {QStringList{QStringLiteral("serve"), QStringLiteral("--config"), file},
            QStringList{QStringLiteral("admin"), QStringLiteral("list-clinics"), QStringLiteral("--data"), data,
                        QStringLiteral("--config=") + file}}) {
        Run r = run(args);
        QVERIFY2(r.exitCode != 0 && !r.crashed, describe(r).c_str());
        QVERIFY2(r.err.contains(file + c.where), qPrintable(r.err));
        if (!c.what.isEmpty()) QVERIFY2(r.err.contains(c.what), qPrintable(r.err));
        QVERIFY(!r.out.contains(QStringLiteral("listening")));
      }
    }
    Run missing = run({QStringLiteral("serve"), QStringLiteral("--config"), m_dir.path() + "/no-such.conf"});
    QVERIFY(missing.exitCode != 0);
    QVERIFY2(missing.err.contains(QStringLiteral("no-such.conf")), qPrintable(missing.err));
  }

  void adminActionsOnADataFolder() {
    const QString data = dataDir("admin");
    const QStringList d{QStringLiteral("--data"), data};
    Run clinic = run(QStringList{"admin", "create-clinic", "north", "North clinic"} + d);
    QVERIFY2(clinic.exitCode == 0, describe(clinic).c_str());
    QVERIFY(clinic.out.contains(QStringLiteral("clinic north created")));
    QVERIFY(run(QStringList{"admin", "create-clinic", "south", "South clinic"} + d).exitCode == 0);
    Run again = run(QStringList{"admin", "create-clinic", "north", "Again"} + d);
    QVERIFY2(again.exitCode != 0 && again.err.contains(QStringLiteral("north")), describe(again).c_str());
    Run clinics = run(QStringList{"admin", "list-clinics"} + d);
    QCOMPARE(clinics.exitCode, 0);
    auto clinicIds = idsOf(parseJson(clinics.out), "clinics", "name");
    QCOMPARE(clinicIds.size(), std::size_t{2});
    QCOMPARE(QString::fromStdString(clinicIds["north"]), QStringLiteral("North clinic"));

    const QString pw = m_dir.path() + QStringLiteral("/password");
    QVERIFY(writeFile(pw, "cli-password-1\n"));
    Run ca = run(QStringList{"admin", "create-user", "north-admin", "--role", "clinic_admin", "--clinic", "north",
                             "--password-file", pw} +
                 d);
    QVERIFY2(ca.exitCode == 0, describe(ca).c_str());
    QVERIFY(ca.out.contains(QStringLiteral("user north-admin created")));
    Run nurse = run(QStringList{"admin", "create-user", "north-nurse", "--role", "nurse", "--clinic", "north",
                                "--display-name", "North Nurse", "--password-file", pw} +
                    d);
    QVERIFY2(nurse.exitCode == 0, describe(nurse).c_str());
    Run stdinUser = run(QStringList{"admin", "create-user", "south-nurse", "--role", "nurse", "--clinic", "south",
                                    "--password-stdin"} +
                            d,
                        "another-password-2\n");
    QVERIFY2(stdinUser.exitCode == 0, describe(stdinUser).c_str());
    // Refusals: no password source, unreadable file, bad role, short password, unknown clinic.
    Run noPassword = run(QStringList{"admin", "create-user", "x1", "--role", "nurse", "--clinic", "north"} + d);
    QVERIFY(noPassword.exitCode != 0 && noPassword.err.contains(QStringLiteral("--password-file")));
    Run noFile = run(QStringList{"admin", "create-user", "x2", "--role", "nurse", "--clinic", "north",
                                 "--password-file", m_dir.path() + "/none"} +
                     d);
    QVERIFY(noFile.exitCode != 0 && noFile.err.contains(QStringLiteral("cannot read a password")));
    Run badRole = run(QStringList{"admin", "create-user", "x3", "--role", "doctor", "--password-file", pw} + d);
    QVERIFY(badRole.exitCode != 0 && badRole.err.contains(QStringLiteral("--role")));
    const QString shortPw = m_dir.path() + QStringLiteral("/short");
    QVERIFY(writeFile(shortPw, "short\n"));
    Run tooShort = run(QStringList{"admin", "create-user", "x4", "--role", "nurse", "--clinic", "north",
                                   "--password-file", shortPw} +
                       d);
    QVERIFY2(tooShort.exitCode != 0 && tooShort.err.contains(QStringLiteral("password")), describe(tooShort).c_str());
    Run noClinic = run(QStringList{"admin", "create-user", "x5", "--role", "nurse", "--clinic", "west",
                                   "--password-file", pw} +
                       d);
    QVERIFY2(noClinic.exitCode != 0 && noClinic.err.contains(QStringLiteral("west")), describe(noClinic).c_str());

    Run users = run(QStringList{"admin", "list-users"} + d);
    QCOMPARE(users.exitCode, 0);
    auto roles = idsOf(parseJson(users.out), "users", "role");
    QCOMPARE(roles.size(), std::size_t{3});
    QCOMPARE(QString::fromStdString(roles["north-admin"]), QStringLiteral("clinic_admin"));
    QCOMPARE(QString::fromStdString(roles["north-nurse"]), QStringLiteral("nurse"));
    QCOMPARE(QString::fromStdString(roles["south-nurse"]), QStringLiteral("nurse"));
    Run northUsers = run(QStringList{"admin", "list-users", "--clinic", "north"} + d);
    QCOMPARE(northUsers.exitCode, 0);
    QCOMPARE(idsOf(parseJson(northUsers.out), "users", "role").size(), std::size_t{2});

    Run code = run(QStringList{"admin", "issue-code", "north"} + d);
    QVERIFY2(code.exitCode == 0, describe(code).c_str());
    const std::string enrolmentCode = code.out.trimmed().toStdString();
    QVERIFY(enrolmentCode.size() >= 8);
    Run noSuchClinic = run(QStringList{"admin", "issue-code", "west"} + d);
    QVERIFY(noSuchClinic.exitCode != 0 && noSuchClinic.err.contains(QStringLiteral("west")));
    Run noDevices = run(QStringList{"admin", "list-devices"} + d);
    QCOMPARE(noDevices.exitCode, 0);
    QCOMPARE(idsOf(parseJson(noDevices.out), "devices", "clinic").size(), std::size_t{0});

    // A tablet enrols with the code against the served folder; the command line
    // sees it, revokes it, and the running server tells the tablet to wipe.
    const std::string port = std::to_string(freePort());
    QString line;
    std::unique_ptr<QProcess> server =
        serve(QStringList{"--data", data, "--listen", QString::fromStdString("127.0.0.1:" + port),
                          "--log-file", m_dir.path() + "/admin-serve.log"},
              &line);
    QVERIFY(server);
    HttpClient http("http://127.0.0.1:" + port);
    HttpResult enrolled = http.post(
        "/v1/enrol", json::serialize(json::Object{{"code", enrolmentCode}, {"name", "north-tablet"}}));
    QVERIFY2(enrolled.status == 200, enrolled.body.c_str());
    json::Value ev = json::parse(enrolled.body).value();
    const std::string deviceId = *ev.find("device_id")->asString();
    const std::string secret = *ev.find("device_secret")->asString();
    HeaderList device{{"X-Charta-Device", deviceId + ":" + secret}};
    HttpResult signedIn = http.post(
        "/v1/login", json::serialize(json::Object{{"username", "north-nurse"}, {"password", "cli-password-1"}}), device);
    QVERIFY2(signedIn.status == 200, signedIn.body.c_str());

    Run devices = run(QStringList{"admin", "list-devices", "--clinic", "north"} + d);
    QCOMPARE(devices.exitCode, 0);
    auto revoked = idsOf(parseJson(devices.out), "devices", "revoked");
    QCOMPARE(revoked.size(), std::size_t{1});
    QCOMPARE(QString::fromStdString(revoked[deviceId]), QStringLiteral("false"));
    QCOMPARE(idsOf(parseJson(run(QStringList{"admin", "list-devices", "--clinic", "south"} + d).out), "devices", "id")
                 .size(),
             std::size_t{0});

    Run revoke = run(QStringList{"admin", "revoke-device", QString::fromStdString(deviceId)} + d);
    QVERIFY2(revoke.exitCode == 0, describe(revoke).c_str());
    QVERIFY(revoke.out.contains(QStringLiteral("revoked")));
    Run revokeUnknown = run(QStringList{"admin", "revoke-device", "dev-unknown"} + d);
    QVERIFY(revokeUnknown.exitCode != 0 && revokeUnknown.err.contains(QStringLiteral("dev-unknown")));
    auto after = idsOf(parseJson(run(QStringList{"admin", "list-devices"} + d).out), "devices", "revoked");
    QCOMPARE(QString::fromStdString(after[deviceId]), QStringLiteral("true"));
    HttpResult wiped = http.get("/v1/sync/pull?since=0", device);
    QCOMPARE(wiped.status, 410);

    int exitCode = -1;
    bool normal = false;
    (void)stop(*server, SIGTERM, &exitCode, &normal);
    QVERIFY(normal);
    QCOMPARE(exitCode, 0);
  }

  void auditVerifyFindsAChangedRow() {
    const QString data = dataDir("audit");
    const QStringList d{QStringLiteral("--data"), data};
    QCOMPARE(run(QStringList{"admin", "create-clinic", "east", "East clinic"} + d).exitCode, 0);
    for (int i = 0; i < 3; ++i) QCOMPARE(run(QStringList{"admin", "issue-code", "east"} + d).exitCode, 0);
    Run intact = run(QStringList{"audit", "verify"} + d);
    QVERIFY2(intact.exitCode == 0, describe(intact).c_str());
    QVERIFY2(intact.out.contains(QStringLiteral("audit chain intact: 4 rows verified")), qPrintable(intact.out));

    {
      auto db = server::Database::openSqlite((data + "/charta.db").toStdString(), 1);
      QVERIFY2(db.isOk(), db.status().toString().c_str());
      auto lease = db.value()->acquire();
      QVERIFY(lease.isOk());
      std::vector<server::DbValue> params{std::string("{\"clinic\":\"west\"}"), std::int64_t{3}};
      QVERIFY(lease.value()->exec("UPDATE audit SET detail = $1 WHERE seq = $2", params).isOk());
    }
    Run broken = run(QStringList{"audit", "verify"} + d);
    QVERIFY2(broken.exitCode == 1 && !broken.crashed, describe(broken).c_str());
    QVERIFY2(broken.out.contains(QStringLiteral("audit chain BROKEN at row 3")), qPrintable(broken.out));
    QVERIFY2(broken.out.contains(QStringLiteral("2 rows verified before it")), qPrintable(broken.out));
  }

  void serveFromAConfigFileUntilSigterm() {
    const QString data = dataDir("serve");
    const QString log = m_dir.path() + QStringLiteral("/serve.log");
    const std::uint16_t port = freePort();
    const QString conf = m_dir.path() + QStringLiteral("/serve.conf");
    QVERIFY(writeFile(conf, "# charta-server settings\n"
                            "listen = 127.0.0.1:" + std::to_string(port) + "\n"
                            "data = " + data.toStdString() + "\n"
                            "log_file = " + log.toStdString() + "\n"
                            "log_level = info\n"
                            "demo = true\n"));
    QString line;
    std::unique_ptr<QProcess> server = serve({QStringLiteral("--config"), conf}, &line);
    QVERIFY(server);
    QVERIFY2(line.contains(QStringLiteral("listening on 127.0.0.1:%1 (http)").arg(port)), qPrintable(line));
    HttpClient http("http://127.0.0.1:" + std::to_string(port));
    HttpResult health = http.get("/healthz");
    QCOMPARE(health.status, 200);
    QVERIFY(health.body.find("\"sqlite\"") != std::string::npos);
    // demo = true from the file: the demo clinic was made in the data folder.
    QVERIFY(QFileInfo::exists(data + "/demo-enrolment-code"));

    int exitCode = -1;
    bool normal = false;
    QString rest = stop(*server, SIGTERM, &exitCode, &normal);
    QVERIFY2(normal, qPrintable(rest));
    QCOMPARE(exitCode, 0);
    QVERIFY2(rest.contains(QStringLiteral("stopped (SIGTERM)")), qPrintable(rest));
    QVERIFY(readFile(log).contains(QStringLiteral("server.stopped")));
    QCOMPARE(http.get("/healthz").status, 0);  // nothing listens any more
  }

  void commandLineWinsOverTheConfigFile() {
    const QString data = dataDir("override");
    const std::uint16_t filePort = freePort();
    const QString conf = m_dir.path() + QStringLiteral("/override.conf");
    QVERIFY(writeFile(conf, "listen = 127.0.0.1:" + std::to_string(filePort) + "\n"
                            "data = " + data.toStdString() + "\n"
                            "log_level = error\n"
                            "log_file = " + (m_dir.path() + "/file.log").toStdString() + "\n"));
    std::uint16_t cliPort = freePort();
    for (int i = 0; i < 20 && cliPort == filePort; ++i) cliPort = freePort();
    QVERIFY(cliPort != filePort);
    const QString cliLog = m_dir.path() + QStringLiteral("/cli.log");
    QString line;
    // The options come before and after --config: the file is read first either way.
    std::unique_ptr<QProcess> server =
        serve({QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(cliPort), QStringLiteral("--config"),
               conf, QStringLiteral("--log-file=") + cliLog, QStringLiteral("--log-level"), QStringLiteral("info")},
              &line);
    QVERIFY(server);
    QVERIFY2(line.contains(QStringLiteral("listening on 127.0.0.1:%1").arg(cliPort)), qPrintable(line));
    QCOMPARE(HttpClient("http://127.0.0.1:" + std::to_string(cliPort)).get("/healthz").status, 200);
    QCOMPARE(HttpClient("http://127.0.0.1:" + std::to_string(filePort)).get("/healthz").status, 0);
    // Logged at info (the command line), into the command line's file.
    QTRY_VERIFY_WITH_TIMEOUT(readFile(cliLog).contains(QStringLiteral("server.listening")), 10000);
    QVERIFY(!QFileInfo::exists(m_dir.path() + "/file.log"));

    int exitCode = -1;
    bool normal = false;
    QString rest = stop(*server, SIGTERM, &exitCode, &normal);
    QVERIFY(normal);
    QCOMPARE(exitCode, 0);
    QVERIFY2(rest.contains(QStringLiteral("stopped")), qPrintable(rest));
  }
};

QTEST_GUILESS_MAIN(CliTest)
#include "cli_test.moc"
