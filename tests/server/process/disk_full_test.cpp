// A full disk under a stream of pushes: charta-server runs as a child process
// and four tablets push batches of 50 ops. Once they are enrolled the store's
// disk fills up:
//  - on SQLite, the server's file-size limit (RLIMIT_FSIZE, per file) is
//    lowered to a little above the largest file it has written, so the
//    store's WAL soon cannot grow: writes fail with EFBIG as on a full
//    filesystem (the server ignores SIGXFSZ, which would kill it);
//  - on PostgreSQL (built with CHARTA_PROCESS_TEST_POSTGRES), the store's
//    database lives in a tablespace on a small tmpfs of its own, and a
//    ballast file takes all of that filesystem's room but a little: the
//    cluster's own writes then fail with ENOSPC, a real full disk (its WAL
//    stays on the big disk, as a careful deployment keeps it). Mounting needs
//    root; elsewhere the suite skips and says why.
// While full, pushes must be refused with 507 insufficient_storage (nothing
// acknowledged that was not stored), the server must stay up and say so in
// its log, its metrics and /healthz, and it must also go on when its own log
// file cannot grow any more. Then space returns on the running system (the
// limit is lifted, the ballast deleted) and the tablets' retries must go
// through. At the end every acknowledged op is in the store exactly once, the
// store passes its integrity check (SQLite's integrity_check, PostgreSQL's
// amcheck on every B-tree index with its table) and the audit chain verifies.

#include <sys/resource.h>

#include <QtTest>
#include <cstring>
#include <filesystem>

#include "db.h"
#include "process/process_harness.h"
#include "support/postgres.h"
#include "support/small_filesystem.h"

using namespace charta;
using namespace charta::test;
using namespace charta::test::process;

namespace {

#ifdef CHARTA_PROCESS_TEST_POSTGRES
constexpr bool kPostgres = true;
#else
constexpr bool kPostgres = false;
#endif

constexpr int kTablets = 4;
// The PostgreSQL store's filesystem: room for a copy of template1 (about
// 8 MB), the schema and what the tablets push before it is filled.
constexpr std::int64_t kFilesystemBytes = 48 * 1024 * 1024;
// Room left above the largest file when the limit goes on.
constexpr std::int64_t kHeadroomBytes = 768 * 1024;

bool setFileSizeLimit(pid_t pid, rlim_t soft, std::string* error) {
  struct rlimit old {};
  if (::prlimit(pid, RLIMIT_FSIZE, nullptr, &old) != 0) {
    *error = std::string("prlimit (read): ") + std::strerror(errno);
    return false;
  }
  struct rlimit next {
    soft, old.rlim_max
  };
  if (::prlimit(pid, RLIMIT_FSIZE, &next, nullptr) != 0) {
    *error = std::string("prlimit (set): ") + std::strerror(errno);
    return false;
  }
  return true;
}

// Runs its action when it goes out of scope: space returns on a failed check
// before the tablets are joined, the database is dropped before its
// filesystem is unmounted.
class AtScopeEnd {
 public:
  explicit AtScopeEnd(std::function<void()> action) : m_action(std::move(action)) {}
  AtScopeEnd(const AtScopeEnd&) = delete;
  AtScopeEnd& operator=(const AtScopeEnd&) = delete;
  ~AtScopeEnd() {
    if (m_action) m_action();
  }

 private:
  std::function<void()> m_action;
};

std::int64_t fileSize(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

// The regular files under `dir` and their sizes.
std::map<std::string, std::int64_t> filesUnder(const std::string& dir) {
  std::map<std::string, std::int64_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) out[e.path().filename().string()] = fileSize(e.path().string());
  }
  return out;
}

// A sample of /metrics (0 when absent, -1 when /metrics does not answer).
std::int64_t metric(const std::string& url, const std::string& sample) {
  HttpResult r = HttpClient(url).get("/metrics");
  if (r.status != 200) return -1;
  const std::string key = "\n" + sample + " ";
  const std::size_t at = r.body.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoll(r.body.c_str() + at + key.size(), nullptr, 10);
}

std::int64_t storageFullErrors(const std::string& url) {
  return metric(url, "charta_errors_total{kind=\"storage_full\"}");
}

}  // namespace

class DiskFullTest : public QObject {
  Q_OBJECT

 private slots:
  void fullStoreRefusesCleanlyAndRecovers() {
    const std::string bin = serverBinary();
    QVERIFY2(!bin.empty(), "CHARTA_SERVER_BIN is not set");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string root = dir.path().toStdString();
    std::vector<std::string> store = {"--data", root + "/data"};
    std::string error;
    SmallFilesystem disk;  // PostgreSQL's
    std::string conninfo;
    std::string tablespace;
    if (kPostgres) {
      if (!disk.mount(kFilesystemBytes, &error)) {
        QSKIP(("no small filesystem for the store: " + error + " (mounting a tmpfs needs root)").c_str());
      }
      QVERIFY2(disk.makeTablespaceFolder(&tablespace, &error), error.c_str());
      conninfo = newPostgresDatabaseIn(tablespace, &error);
      QVERIFY2(!conninfo.empty(), error.c_str());
      store.push_back("--postgres");
      store.push_back(conninfo);
    }
    // After the server stops and before the filesystem goes.
    const AtScopeEnd dropDatabase([&] {
      std::string ignored;
      if (!conninfo.empty()) (void)dropPostgresDatabase(conninfo, tablespace, &ignored);
    });
    std::vector<std::string> args = {"serve", "--demo", "--log-level", "warn"};
    args.insert(args.end(), store.begin(), store.end());
    ServerUnderTest server(bin, root, "server", args);
    QVERIFY2(server.launch(&error), error.c_str());
    const std::string url = server.url();
    const std::string log = root + "/server-launch-" + std::to_string(server.launches()) + ".log";

    std::vector<Credentials> creds(kTablets);
    for (int i = 0; i < kTablets; ++i) {
      QVERIFY2(enrolTablet(url, "full-tablet-" + std::to_string(i), &creds[static_cast<std::size_t>(i)], &error),
               error.c_str());
    }
    Credentials probe;
    QVERIFY2(enrolTablet(url, "full-probe", &probe, &error), error.c_str());

    // The disk fills up but a little room: on SQLite, above the largest file
    // the server has; on PostgreSQL, on the tablespace's filesystem.
    std::int64_t limit = 0;
    if (kPostgres) {
      QVERIFY2(disk.fillLeaving(kHeadroomBytes, &error), error.c_str());
    } else {
      std::int64_t largest = fileSize(log);
      for (const auto& [name, size] : filesUnder(root + "/data")) largest = std::max(largest, size);
      limit = largest + kHeadroomBytes;
      QVERIFY2(setFileSizeLimit(server.proc().pid(), static_cast<rlim_t>(limit), &error), error.c_str());
    }
    const auto giveSpaceBack = [&](std::string* why) {
      if (kPostgres && !disk.removeBallast(why)) return false;
      return !server.proc().running() || setFileSizeLimit(server.proc().pid(), RLIM_INFINITY, why);
    };
    const std::string diskText = kPostgres ? "a tablespace on a tmpfs of " + std::to_string(kFilesystemBytes >> 20) +
                                                 " MiB with " + std::to_string(disk.freeBytes() / 1024) + " KiB left"
                                           : "file limit " + std::to_string(limit) + " bytes";

    Fleet fleet({url});
    for (int i = 0; i < kTablets; ++i) {
      fleet.add(
          std::make_unique<StreamTablet>(i, creds[static_cast<std::size_t>(i)], "full-patient-" + std::to_string(i)));
    }
    // On a failed check, space returns before the tablets are joined.
    const AtScopeEnd spaceReturns([&] {
      std::string ignored;
      (void)giveSpaceBack(&ignored);
    });
    const auto started = Clock::now();
    fleet.start();

    // The store fills up: pushes are refused, counted in the metrics.
    int status = 0;
    const bool filled = waitUntil(
        [&] { return fleet.anyFailed() || server.proc().waitExit(0, &status) || storageFullErrors(url) >= 20; }, 40000);
    if (!filled || fleet.anyFailed() || !server.proc().running()) {
      const std::string died = server.proc().running() ? "" : "; the server died: " + describeWaitStatus(status);
      (void)giveSpaceBack(&error);
      if (!server.proc().running() && server.launch(&error)) {  // so that the tablets can finish
        fleet.setUrl(0, server.url());
      }
      fleet.stopAndJoin();
      QFAIL(("the store never reported itself full (" + diskText + ")" + died + "\n" + joined(fleetProblems(fleet)) +
             server.proc().output().substr(0, 4000))
                .c_str());
    }
    const std::int64_t fullAfterMs = msSince(started);
    const std::int64_t ackedAtFull = fleet.ackedTotal();
    std::string atLimit;  // the files that ran into the limit, or what was left
    if (kPostgres) {
      atLimit = std::to_string(disk.freeBytes() / 1024) + " KiB left on the tmpfs";
    } else {
      for (const auto& [name, size] : filesUnder(root + "/data")) {
        if (size > limit - 64 * 1024) atLimit += (atLimit.empty() ? "" : ", ") + name;
      }
    }

    // A push of our own while full, larger than the refused tablet batches: a
    // clear answer, nothing stored.
    testing::FakeWallClock clock;
    clock.set(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    crdt::OpFactory factory(crdt::ReplicaId{std::stoull(probe.replica)}, clock, 1);
    factory.setUser("nurse");
    crdt::ChartDocument doc("full-probe-patient");
    std::vector<crdt::Op> probeOps;
    for (int i = 0; i < 200; ++i) {  // more than any tablet batch that was refused
      crdt::Op op = factory.writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                                       crdt::Value("555-full-" + std::to_string(i)));
      (void)doc.apply(op);
      probeOps.push_back(std::move(op));
    }
    HttpResult refused = clientFor(url, probe)->push(probeOps);
    QVERIFY2(refused.status == 507, (std::to_string(refused.status) + " " + refused.body + refused.error).c_str());
    const json::Value refusedBody = parseJson(refused.body);
    const json::Value* err = refusedBody.find("error");
    QVERIFY2(err && str(*err, "code") == "insufficient_storage", refused.body.c_str());
    QVERIFY2(str(*err, "message").find("storage is full") != std::string::npos, refused.body.c_str());
    QVERIFY(refused.header("retry-after") != nullptr);

    // The sysadmin sees it: /healthz, the log; and the server is still up.
    HttpResult health = HttpClient(url).get("/healthz");
    QVERIFY2(health.status == 200, (std::to_string(health.status) + " " + health.body).c_str());
    QVERIFY2(num(parseJson(health.body), "storage_full_since") > 0, health.body.c_str());
    QCOMPARE(metric(url, "charta_storage_full"), std::int64_t{1});
    sleepMs(1500);
    QVERIFY2(!server.proc().waitExit(0, &status), ("the server died: " + describeWaitStatus(status)).c_str());
    const std::string output = server.proc().output();
    const std::size_t logged = output.find("\"storage.full\"");
    QVERIFY2(logged != std::string::npos, output.substr(0, 4000).c_str());
    const std::size_t lineStart = output.rfind('\n', logged) + 1;  // npos + 1 == 0
    qInfo().noquote() << "server log:"
                      << QString::fromStdString(output.substr(lineStart, output.find('\n', logged) - lineStart));

    // The log cannot grow either now: the limit drops to its size. Log lines
    // are lost; the server must keep answering all the same.
    const std::int64_t logSize = fileSize(log);
    QVERIFY2(setFileSizeLimit(server.proc().pid(), static_cast<rlim_t>(logSize), &error), error.c_str());
    sleepMs(1000);
    refused = clientFor(url, probe)->push(probeOps);
    QVERIFY2(refused.status == 507, (std::to_string(refused.status) + " " + refused.body + refused.error).c_str());
    QVERIFY2(HttpClient(url).get("/healthz").status == 200, "/healthz does not answer with the log full");
    QVERIFY2(!server.proc().waitExit(0, &status), ("the server died: " + describeWaitStatus(status)).c_str());
    QCOMPARE(fileSize(log), logSize);
    const std::int64_t refusedWhileFull = storageFullErrors(url);

    // Space returns on the running system: the limit is lifted (the log's too),
    // the ballast deleted.
    QVERIFY2(giveSpaceBack(&error), error.c_str());
    const auto freed = Clock::now();
    fleet.nextGeneration();  // each tablet first re-checks its last acknowledged batch
    if (!fleet.waitForProgress(60000)) {
      fleet.stopAndJoin();
      QFAIL(("the tablets made no progress once space returned\n" + joined(fleetProblems(fleet)) +
             server.proc().output().substr(0, 4000))
                .c_str());
    }
    const std::int64_t recoveredMs = msSince(freed);
    sleepMs(500);
    fleet.stopAndJoin();
    const std::vector<std::string> problems = fleetProblems(fleet);
    QVERIFY2(problems.empty(), joined(problems).c_str());
    health = HttpClient(url).get("/healthz");
    QVERIFY2(health.status == 200 && !parseJson(health.body).find("storage_full_since"), health.body.c_str());
    QCOMPARE(metric(url, "charta_storage_full"), std::int64_t{0});

    std::map<int, int> answers;
    int retried = 0;
    std::int64_t retriedStored = 0;  // ops of refused batches that a retry found stored
    for (const auto& t : fleet.tablets()) {
      retried += t->retriedBatches();
      retriedStored += t->retriedAlreadyStored();
      for (const auto& [code, n] : t->httpFailures()) answers[code] += n;
    }
    for (const auto& [code, n] : answers) qInfo().noquote() << QStringLiteral("tablet answers %1: %2").arg(code).arg(n);
    QVERIFY2(answers.count(507) == 1, "no tablet push was refused with 507");
    QCOMPARE(static_cast<int>(answers.size()), 1);  // nothing else went wrong
    QCOMPARE(retriedStored, std::int64_t{0});       // a 507 stored nothing

    Audit audit = auditStore(url, probe, fleet.tablets(), [&](int) { return url; });
    QVERIFY2(audit.clean(), audit.summary().c_str());
    QVERIFY(audit.acknowledged > ackedAtFull);
    QCOMPARE(audit.pulled, audit.acknowledged);  // the refused probe push is not there either

    QVERIFY(server.proc().signal(SIGTERM));
    QVERIFY2(server.proc().waitExit(60000, &status), "the server did not stop within 60 s of SIGTERM");
    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, describeWaitStatus(status).c_str());
    std::string integrity;
    if (kPostgres) {
      // amcheck: every B-tree index is well formed and holds every row of its
      // table (it raises an error otherwise).
      auto db = charta::server::Database::openPostgres(conninfo, 1);
      QVERIFY2(db.isOk(), db.status().toString().c_str());
      auto lease = db.value()->acquire();
      QVERIFY2(lease.isOk(), lease.status().toString().c_str());
      const crdt::Status made = lease.value()->exec("CREATE EXTENSION IF NOT EXISTS amcheck");
      QVERIFY2(made.isOk(), made.toString().c_str());
      auto rows = lease.value()->query(
          "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
          "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
          "WHERE a.amname = 'btree' AND n.nspname = 'public'");
      QVERIFY2(rows.isOk(), rows.status().toString().c_str());
      QCOMPARE(rows.value().size(), std::size_t{1});
      const std::int64_t checked = charta::server::dbInt(rows.value()[0].at(0));
      QVERIFY2(checked >= 5, std::to_string(checked).c_str());  // the ops, devices, audit... indexes
      integrity = "amcheck of " + std::to_string(checked) + " indexes ok";
    } else {
      auto db = charta::server::Database::openSqlite(root + "/data/charta.db", 1);
      QVERIFY2(db.isOk(), db.status().toString().c_str());
      auto lease = db.value()->acquire();
      QVERIFY2(lease.isOk(), lease.status().toString().c_str());
      auto rows = lease.value()->query("PRAGMA integrity_check");
      QVERIFY2(rows.isOk(), rows.status().toString().c_str());
      std::string result;
      for (const charta::server::DbRow& r : rows.value()) result += charta::server::dbText(r.at(0)) + "\n";
      QVERIFY2(result == "ok\n", result.c_str());
      integrity = "integrity_check ok";
    }
    std::vector<std::string> verifyArgs = {"audit", "verify"};
    verifyArgs.insert(verifyArgs.end(), store.begin(), store.end());
    ServerProcess verify;
    QVERIFY2(verify.spawn(bin, verifyArgs, root + "/audit-verify.log", &error), error.c_str());
    QVERIFY2(verify.waitExit(120000, &status), "audit verify did not finish within 120 s");
    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             (describeWaitStatus(status) + ": " + verify.output()).c_str());
    QVERIFY2(verify.output().find("audit chain intact") != std::string::npos, verify.output().c_str());
    if (kPostgres) {
      QVERIFY2(dropPostgresDatabase(conninfo, tablespace, &error), error.c_str());
      conninfo.clear();
      QVERIFY2(disk.unmount(&error), error.c_str());
    }

    qInfo().noquote() << QStringLiteral(
                             "disk full (%1; full: %11): full after %2 ms; "
                             "ops acknowledged %3 (%4 before full), refused pushes while full %5, "
                             "batches retried %6 (ops found already stored %12), back in %7 ms after space "
                             "returned; lost %8, duplicated %9, unknown %10; %13, audit chain intact")
                             .arg(QString::fromStdString((kPostgres ? "postgres, " : "sqlite, ") + diskText))
                             .arg(fullAfterMs)
                             .arg(audit.acknowledged)
                             .arg(ackedAtFull)
                             .arg(refusedWhileFull)
                             .arg(retried)
                             .arg(recoveredMs)
                             .arg(audit.lost)
                             .arg(audit.duplicated)
                             .arg(audit.unknown)
                             .arg(QString::fromStdString(atLimit))
                             .arg(retriedStored)
                             .arg(QString::fromStdString(integrity));
  }
};

QTEST_GUILESS_MAIN(DiskFullTest)
#include "disk_full_test.moc"
