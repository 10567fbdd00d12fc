// The SQL adapter (server/src/db.h), one body for both backends: built once
// against SQLite (server_db_sqlite_test) and once, with
// CHARTA_DB_TEST_POSTGRES=1, against a fresh database in the PostgreSQL test
// cluster (server_db_postgres_test). Each test gets its own empty database.
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "db.h"

#if CHARTA_DB_TEST_POSTGRES
#include "support/postgres.h"
#endif

using namespace charta::server;
using Code = charta::crdt::Status::Code;
using Params = std::vector<DbValue>;

namespace {

#if CHARTA_DB_TEST_POSTGRES
constexpr bool kPostgres = true;
#else
constexpr bool kPostgres = false;
#endif

#define CHECK_OK(expr)                                        \
  do {                                                        \
    const Status status_ = (expr);                            \
    QVERIFY2(status_.isOk(), status_.toString().c_str());     \
  } while (false)

const char* blobType() { return kPostgres ? "BYTEA" : "BLOB"; }

std::int64_t i64(std::int64_t v) { return v; }

std::string allBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

using Clock = std::chrono::steady_clock;

long long msSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// A Database that hands out scripted connections, for withTransaction.
struct FakeLog {
  int begins = 0;
  int commits = 0;
  int rollbacks = 0;
  Status commitStatus;  // what commit() returns
};

class FakeConnection final : public Connection {
 public:
  explicit FakeConnection(FakeLog* log) : m_log(log) {}
  Dialect dialect() const override { return Dialect::kSqlite; }
  Status exec(std::string_view, std::span<const DbValue>) override { return Status::ok(); }
  Result<std::vector<DbRow>> query(std::string_view, std::span<const DbValue>) override {
    return std::vector<DbRow>();
  }
  Result<std::vector<std::vector<DbRow>>> queryMany(std::string_view,
                                                    std::span<const std::vector<DbValue>>) override {
    return std::vector<std::vector<DbRow>>();
  }
  Status execScript(std::string_view) override { return Status::ok(); }
  Status begin(bool) override {
    ++m_log->begins;
    m_open = true;
    return Status::ok();
  }
  Status commit() override {
    ++m_log->commits;
    m_open = false;
    return m_log->commitStatus;
  }
  Status rollback() override {
    ++m_log->rollbacks;
    m_open = false;
    return Status::ok();
  }
  bool inTransaction() const override { return m_open; }

 private:
  FakeLog* m_log;
  bool m_open = false;
};

class FakeDatabase final : public Database {
 public:
  explicit FakeDatabase(FakeLog* log) : m_log(log) {}
  Dialect dialect() const override { return Dialect::kSqlite; }
  Result<Lease> acquire() override { return Lease(this, std::make_unique<FakeConnection>(m_log)); }
  Status backupSqliteTo(const std::string&) override { return Status::invalidArgument("fake"); }

 protected:
  void release(std::unique_ptr<Connection>) override {}

 private:
  FakeLog* m_log;
};

}  // namespace

class DbTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  int m_serial = 0;
  std::string m_target;  // the SQLite file or the PostgreSQL conninfo of this test
  std::unique_ptr<Database> m_db;

  Result<std::unique_ptr<Database>> openTarget(int poolSize) {
    return kPostgres ? Database::openPostgres(m_target, poolSize)
                     : Database::openSqlite(m_target, poolSize);
  }

  std::string tempPath(const std::string& name) const {
    return m_dir.filePath(QString::fromStdString(name)).toStdString();
  }

  // The single integer a query returns (or `fallback` and a failed check).
  std::int64_t scalar(Connection& c, std::string_view sql, const Params& params = {}) {
    Result<std::vector<DbRow>> rows = c.query(sql, params);
    if (!rows.isOk() || rows.value().size() != 1 || rows.value()[0].size() != 1) {
      qWarning("scalar query failed: %s", rows.status().toString().c_str());
      return INT64_MIN;
    }
    return dbInt(rows.value()[0][0], INT64_MIN);
  }

  std::int64_t count(const std::string& table) {
    Result<Database::Lease> lease = m_db->acquire();
    if (!lease.isOk()) return INT64_MIN;
    return scalar(*lease.value(), "SELECT COUNT(*) FROM " + table);
  }

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    qInfo("backend: %s", kPostgres ? "PostgreSQL" : "SQLite");
  }

  void init() {
    ++m_serial;
    if (kPostgres) {
#if CHARTA_DB_TEST_POSTGRES
      std::string error;
      m_target = charta::test::newPostgresDatabase(&error);
      QVERIFY2(!m_target.empty(), error.c_str());
#endif
    } else {
      m_target = tempPath("test-" + std::to_string(m_serial) + ".db");
    }
    Result<std::unique_ptr<Database>> db = openTarget(kPostgres ? 8 : 4);
    QVERIFY2(db.isOk(), db.status().toString().c_str());
    m_db = std::move(db).value();
    QVERIFY(m_db->dialect() == (kPostgres ? Dialect::kPostgres : Dialect::kSqlite));
  }

  void cleanup() { m_db.reset(); }

  void everyTypeRoundTrips() {
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    Connection& c = *lease.value();
    CHECK_OK(c.exec(std::string("CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, "
                                "r DOUBLE PRECISION, s TEXT, b ") +
                    blobType() + ")"));
    const std::vector<DbRow> rows = {
        {i64(1), i64(INT64_MIN), 0.1, std::string(), Blob{}},
        {i64(2), i64(INT64_MAX), -1e300, std::string("h\xc3\xa9llo \xe2\x9c\x93 'q' \"d\" \\ $1"),
         Blob{std::string("\0a\0\xff\0", 5)}},
        {i64(3), i64(0), 2.2250738585072014e-308, std::string("x"), Blob{allBytes()}},
        {i64(4), DbValue(), DbValue(), DbValue(), DbValue()},
        {i64(5), i64(-1), 1.7976931348623157e308, std::string(1000, 'z'), Blob{std::string(1, '\0')}},
    };
    for (const DbRow& row : rows) {
      CHECK_OK(c.exec("INSERT INTO vals (id, i, r, s, b) VALUES ($1, $2, $3, $4, $5)", row));
    }
    Result<std::vector<DbRow>> got = c.query("SELECT id, i, r, s, b FROM vals ORDER BY id");
    CHECK_OK(got.status());
    QCOMPARE(got.value().size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      QVERIFY2(got.value()[i] == rows[i], qPrintable(QString("row %1 differs").arg(i)));
    }
    const Blob& empty = std::get<Blob>(got.value()[0][4]);
    QVERIFY(empty.bytes.empty());  // an empty blob, not NULL
    QVERIFY(dbIsNull(got.value()[3][4]));
    QCOMPARE(dbBytes(got.value()[1][4]).size(), std::size_t{5});

    // Parameters select by value, including blobs with NUL bytes.
    Result<std::vector<DbRow>> byBlob =
        c.query("SELECT id FROM vals WHERE b = $1", Params{Blob{std::string("\0a\0\xff\0", 5)}});
    CHECK_OK(byBlob.status());
    QVERIFY(byBlob.value() == std::vector<DbRow>{{i64(2)}});

    // Result types of expressions: counts, booleans, numerics, small ints.
    Result<std::vector<DbRow>> exprs =
        c.query("SELECT COUNT(*), 1 = 1, 1 = 2, CAST(2.5 AS NUMERIC), CAST(7 AS SMALLINT), "
                "CAST(8 AS INTEGER), CAST(NULL AS TEXT) FROM vals");
    CHECK_OK(exprs.status());
    QVERIFY(exprs.value() ==
            (std::vector<DbRow>{{i64(5), i64(1), i64(0), 2.5, i64(7), i64(8), DbValue()}}));

    // Typed reads and their fallbacks.
    QCOMPARE(dbInt(got.value()[1][1]), INT64_MAX);
    QCOMPARE(dbInt(got.value()[1][3], 42), std::int64_t{42});
    QCOMPARE(dbReal(got.value()[0][2]), 0.1);
    QCOMPARE(dbText(got.value()[0][4]), std::string());
    QCOMPARE(dbBytes(got.value()[2][3]), std::string("x"));
  }

  void placeholdersBindByNumberNotPosition() {
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    Connection& c = *lease.value();
    CHECK_OK(c.exec("CREATE TABLE pairs (a TEXT, b BIGINT)"));
    CHECK_OK(c.exec("INSERT INTO pairs (a, b) VALUES ($2, $1)", Params{i64(1), std::string("one")}));
    Result<std::vector<DbRow>> rows =
        c.query("SELECT a, b FROM pairs WHERE b = $2 AND a = $1", Params{std::string("one"), i64(1)});
    CHECK_OK(rows.status());
    QVERIFY(rows.value() == (std::vector<DbRow>{{std::string("one"), i64(1)}}));
    // One placeholder used twice.
    rows = c.query("SELECT b FROM pairs WHERE a = $1 OR b = $2 OR a = $1",
                   Params{std::string("one"), i64(99)});
    CHECK_OK(rows.status());
    QVERIFY(rows.value() == std::vector<DbRow>{{i64(1)}});
    // The wrong number of parameters is a bug in the caller.
    const Status tooFew = c.exec("INSERT INTO pairs (a, b) VALUES ($1, $2)", Params{std::string("x")});
    QCOMPARE(tooFew.code(), Code::kInvalidArgument);
    QVERIFY(!tooFew.message().empty());
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM pairs"), std::int64_t{1});
  }

  void uniqueViolationIsAlreadyExistsAndTheConnectionGoesOn() {
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    Connection& c = *lease.value();
    CHECK_OK(c.exec("CREATE TABLE people (id BIGINT PRIMARY KEY, email TEXT UNIQUE)"));
    const std::string insert = "INSERT INTO people (id, email) VALUES ($1, $2)";
    CHECK_OK(c.exec(insert, Params{i64(1), std::string("a@x")}));
    const Status pk = c.exec(insert, Params{i64(1), std::string("b@x")});
    QCOMPARE(pk.code(), Code::kAlreadyExists);
    QVERIFY(!pk.message().empty());
    const Status unique = c.exec(insert, Params{i64(2), std::string("a@x")});
    QCOMPARE(unique.code(), Code::kAlreadyExists);
    CHECK_OK(c.exec(insert, Params{i64(2), std::string("b@x")}));
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM people"), std::int64_t{2});

    // ON CONFLICT is the way to expect a conflict.
    CHECK_OK(c.exec(insert + " ON CONFLICT (id) DO NOTHING", Params{i64(1), std::string("c@x")}));

    // Inside a transaction a failed statement aborts it, on both backends.
    CHECK_OK(c.begin(true));
    CHECK_OK(c.exec(insert, Params{i64(3), std::string("c@x")}));
    QCOMPARE(c.exec(insert, Params{i64(1), std::string("d@x")}).code(), Code::kAlreadyExists);
    QVERIFY(c.inTransaction());
    const Status after = c.exec(insert, Params{i64(4), std::string("d@x")});
    QCOMPARE(after.code(), Code::kInvalidArgument);
    QVERIFY(after.message().find("aborted") != std::string::npos);
    QCOMPARE(c.commit().code(), Code::kAlreadyExists);
    QVERIFY(!c.inTransaction());
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM people"), std::int64_t{2});
  }

  void rollbackDiscardsAndCommitKeeps() {
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    Connection& c = *lease.value();
    CHECK_OK(c.exec("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT)"));
    QCOMPARE(c.begin(true).isOk(), true);
    QVERIFY(c.inTransaction());
    QCOMPARE(c.begin(true).code(), Code::kInvalidArgument);  // no nesting
    CHECK_OK(c.exec("INSERT INTO notes (id, body) VALUES ($1, $2)", Params{i64(1), std::string("x")}));
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM notes"), std::int64_t{1});
    CHECK_OK(c.rollback());
    QVERIFY(!c.inTransaction());
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM notes"), std::int64_t{0});
    QCOMPARE(c.commit().code(), Code::kInvalidArgument);  // nothing to commit

    CHECK_OK(c.begin(true));
    CHECK_OK(c.exec("INSERT INTO notes (id, body) VALUES ($1, $2)", Params{i64(2), std::string("y")}));
    CHECK_OK(c.commit());
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM notes"), std::int64_t{1});

    // withTransaction rolls back when the body fails, and says why.
    const Status s = withTransaction(*m_db, true, [](Connection& conn) {
      const Status inserted =
          conn.exec("INSERT INTO notes (id, body) VALUES ($1, $2)", Params{i64(3), std::string("z")});
      if (!inserted.isOk()) return inserted;
      return Status::rejected("changed my mind");
    });
    QCOMPARE(s.code(), Code::kRejected);
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM notes"), std::int64_t{1});
    CHECK_OK(withTransaction(*m_db, false, [](Connection& conn) {
      return conn.query("SELECT body FROM notes").status();
    }));
  }

  void aDroppedLeaseRollsBack() {
    {
      Result<Database::Lease> lease = m_db->acquire();
      QVERIFY(lease.isOk());
      CHECK_OK(lease.value()->exec("CREATE TABLE drafts (id BIGINT PRIMARY KEY)"));
    }
    for (int round = 0; round < 3; ++round) {
      Result<Database::Lease> lease = m_db->acquire();
      QVERIFY(lease.isOk());
      CHECK_OK(lease.value()->begin(true));
      CHECK_OK(lease.value()->exec("INSERT INTO drafts (id) VALUES ($1)", Params{i64(round)}));
      QVERIFY(lease.value()->inTransaction());
    }  // dropped inside the transaction
    QCOMPARE(count("drafts"), std::int64_t{0});
    // Nothing is left holding a lock: every pooled connection can write now.
    std::vector<Database::Lease> leases;
    for (int i = 0; i < (kPostgres ? 8 : 4); ++i) {
      Result<Database::Lease> lease = m_db->acquire();
      QVERIFY(lease.isOk());
      QVERIFY(!lease.value()->inTransaction());
      leases.push_back(std::move(lease).value());
    }
    for (std::size_t i = 0; i < leases.size(); ++i) {
      CHECK_OK(leases[i]->begin(true));
      CHECK_OK(leases[i]->exec("INSERT INTO drafts (id) VALUES ($1)", Params{i64(100 + static_cast<std::int64_t>(i))}));
      CHECK_OK(leases[i]->commit());
    }
    leases.clear();
    QCOMPARE(count("drafts"), std::int64_t{kPostgres ? 8 : 4});
  }

  void aFullPoolMakesTheNextAcquireWait() {
    Result<std::unique_ptr<Database>> opened = openTarget(2);
    QVERIFY(opened.isOk());
    Database& db = *opened.value();
    std::optional<Database::Lease> a(db.acquire().value());
    std::optional<Database::Lease> b(db.acquire().value());
    std::atomic<bool> got{false};
    std::thread waiter([&] {
      Result<Database::Lease> c = db.acquire();
      got = c.isOk();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    QVERIFY(!got.load());
    a.reset();
    waiter.join();
    QVERIFY(got.load());
  }

  void queryManyRunsOneStatementPerRow() {
    {
      Result<Database::Lease> lease = m_db->acquire();
      QVERIFY(lease.isOk());
      CHECK_OK(lease.value()->exec("CREATE TABLE items (id BIGINT PRIMARY KEY, label TEXT NOT NULL)"));
    }
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    Connection& c = *lease.value();
    std::vector<Params> rows;
    for (std::int64_t i = 1; i <= 1000; ++i) rows.push_back({i, "item " + std::to_string(i)});
    const auto start = Clock::now();
    Result<std::vector<std::vector<DbRow>>> results =
        c.queryMany("INSERT INTO items (id, label) VALUES ($1, $2) RETURNING id, label", rows);
    qInfo("queryMany: 1,000 inserts with RETURNING in %lld ms", msSince(start));
    CHECK_OK(results.status());
    QCOMPARE(results.value().size(), std::size_t{1000});
    for (std::size_t i = 0; i < rows.size(); ++i) {
      QVERIFY(results.value()[i] == std::vector<DbRow>{rows[i]});
    }
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM items"), std::int64_t{1000});

    // Reads; a run without rows gives an empty list.
    Result<std::vector<std::vector<DbRow>>> reads = c.queryMany(
        "SELECT label FROM items WHERE id = $1", std::vector<Params>{{i64(7)}, {i64(5000)}, {i64(1000)}});
    CHECK_OK(reads.status());
    QVERIFY(reads.value() == (std::vector<std::vector<DbRow>>{
                                 {{std::string("item 7")}}, {}, {{std::string("item 1000")}}}));
    Result<std::vector<std::vector<DbRow>>> none = c.queryMany("SELECT 1", std::vector<Params>{});
    CHECK_OK(none.status());
    QVERIFY(none.value().empty());

    // A failing run stops the batch; outside a transaction nothing of it stays.
    std::vector<Params> clash;
    for (std::int64_t i = 2001; i <= 2100; ++i) clash.push_back({i, std::string("new")});
    clash[50] = {i64(1), std::string("duplicate")};
    Result<std::vector<std::vector<DbRow>>> failed =
        c.queryMany("INSERT INTO items (id, label) VALUES ($1, $2)", clash);
    QCOMPARE(failed.status().code(), Code::kAlreadyExists);
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM items"), std::int64_t{1000});
    QVERIFY(!c.inTransaction());

    // Inside a transaction the runs belong to it.
    CHECK_OK(c.begin(true));
    clash[50] = {i64(2051), std::string("new")};
    CHECK_OK(c.queryMany("INSERT INTO items (id, label) VALUES ($1, $2)", clash).status());
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM items"), std::int64_t{1100});
    CHECK_OK(c.rollback());
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM items"), std::int64_t{1000});
  }

  void queryManyCarriesLargePayloadsBothWays() {
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    Connection& c = *lease.value();
    CHECK_OK(c.exec(std::string("CREATE TABLE big (id BIGINT PRIMARY KEY, data ") + blobType() + ")"));
    std::vector<Params> rows;
    for (std::int64_t i = 0; i < 300; ++i) {
      rows.push_back({i, Blob{std::string(64 * 1024, static_cast<char>('a' + i % 26))}});
    }
    const auto start = Clock::now();
    Result<std::vector<std::vector<DbRow>>> results =
        c.queryMany("INSERT INTO big (id, data) VALUES ($1, $2) RETURNING id, data", rows);
    qInfo("queryMany: 300 x 64 KiB each way in %lld ms", msSince(start));
    CHECK_OK(results.status());
    QCOMPARE(results.value().size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      QVERIFY(results.value()[i] == std::vector<DbRow>{rows[i]});
    }
  }

  void concurrentWritersNeverLoseAnUpdate() {
    {
      Result<Database::Lease> lease = m_db->acquire();
      QVERIFY(lease.isOk());
      CHECK_OK(lease.value()->execScript(
          "CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
          "INSERT INTO counter (id, n) VALUES (1, 0);"));
    }
    const std::string select = "SELECT n FROM counter WHERE id = 1" + std::string(dbForUpdate(m_db->dialect()));
    constexpr int kThreads = 8;
    constexpr int kIncrements = 200;
    std::atomic<int> failures{0};
    std::mutex firstFailureMutex;
    std::string firstFailure;
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kIncrements; ++i) {
          const Status s = withTransaction(*m_db, true, [&](Connection& c) {
            Result<std::vector<DbRow>> rows = c.query(select);
            if (!rows.isOk()) return rows.status();
            const std::int64_t n = dbInt(rows.value().at(0).at(0));
            return c.exec("UPDATE counter SET n = $1 WHERE id = 1", Params{n + 1});
          });
          if (!s.isOk()) {
            ++failures;
            std::lock_guard<std::mutex> guard(firstFailureMutex);
            if (firstFailure.empty()) firstFailure = s.toString();
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    qInfo("%d x %d counter transactions in %lld ms", kThreads, kIncrements, msSince(start));
    QVERIFY2(failures.load() == 0, firstFailure.c_str());
    QCOMPARE(count("counter"), std::int64_t{1});
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    QCOMPARE(scalar(*lease.value(), "SELECT n FROM counter WHERE id = 1"),
             std::int64_t{kThreads * kIncrements});
  }

  void deadlockedTransactionsAreRetried() {
    {
      Result<Database::Lease> lease = m_db->acquire();
      QVERIFY(lease.isOk());
      CHECK_OK(lease.value()->execScript(
          "CREATE TABLE pair (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
          "INSERT INTO pair (id, n) VALUES (1, 0);"
          "INSERT INTO pair (id, n) VALUES (2, 0);"));
    }
    // Each locks one row, waits for the other to lock the other row, then
    // wants it: PostgreSQL aborts one with deadlock_detected (40P01) and
    // withTransaction runs it again. SQLite's write lock serialises them.
    std::atomic<int> attempts{0};
    std::atomic<int> arrived{0};
    auto worker = [&](std::int64_t first, std::int64_t second, Status* out) {
      *out = withTransaction(*m_db, true, [&](Connection& c) {
        ++attempts;
        const std::string update = "UPDATE pair SET n = n + 1 WHERE id = $1";
        Status s = c.exec(update, Params{first});
        if (!s.isOk()) return s;
        if (kPostgres) {
          ++arrived;
          const auto deadline = Clock::now() + std::chrono::seconds(5);
          while (arrived.load() < 2 && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }
        return c.exec(update, Params{second});
      });
    };
    Status a;
    Status b;
    std::thread ta(worker, 1, 2, &a);
    std::thread tb(worker, 2, 1, &b);
    ta.join();
    tb.join();
    CHECK_OK(a);
    CHECK_OK(b);
    QCOMPARE(attempts.load(), kPostgres ? 3 : 2);
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    // SUM(BIGINT) is NUMERIC on PostgreSQL, which reads as a double.
    QCOMPARE(scalar(*lease.value(), "SELECT CAST(SUM(n) AS BIGINT) FROM pair"), std::int64_t{4});
    QCOMPARE(scalar(*lease.value(), "SELECT MIN(n) FROM pair"), std::int64_t{2});
  }

  void withTransactionRetriesOnlyRetryableFailures() {
    FakeLog log;
    FakeDatabase fake(&log);
    int calls = 0;
    CHECK_OK(withTransaction(fake, true, [&](Connection&) {
      return ++calls < 3 ? Status::ioError("retryable: deadlock") : Status::ok();
    }));
    QCOMPARE(calls, 3);
    QCOMPARE(log.commits, 1);
    QCOMPARE(log.rollbacks, 2);

    calls = 0;
    const Status always = withTransaction(fake, true, [&](Connection&) {
      ++calls;
      return Status::ioError("retryable: again");
    });
    QVERIFY(dbIsRetryable(always));
    QCOMPARE(calls, 5);

    calls = 0;
    const Status plain = withTransaction(fake, true, [&](Connection&) {
      ++calls;
      return Status::ioError("disk on fire");
    });
    QCOMPARE(plain.code(), Code::kIoError);
    QVERIFY(!dbIsRetryable(plain));
    QCOMPARE(calls, 1);

    calls = 0;
    log = FakeLog{};
    log.commitStatus = Status::ioError("retryable: serialization failure");
    const Status commitFails = withTransaction(fake, true, [&](Connection&) {
      ++calls;
      return Status::ok();
    });
    QVERIFY(dbIsRetryable(commitFails));
    QCOMPARE(calls, 5);
    QCOMPARE(log.commits, 5);
  }

  void badSqlIsInvalidArgumentWithTheDatabasesMessage() {
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    Connection& c = *lease.value();
    const Status syntax = c.exec("SELEC 1");
    QCOMPARE(syntax.code(), Code::kInvalidArgument);
    QVERIFY2(syntax.message().find("syntax") != std::string::npos, syntax.message().c_str());
    const Result<std::vector<DbRow>> missing = c.query("SELECT nope FROM no_such_table");
    QCOMPARE(missing.status().code(), Code::kInvalidArgument);
    QVERIFY2(missing.status().message().find("no_such_table") != std::string::npos,
             missing.status().message().c_str());
    const Status two = c.exec("SELECT 1; SELECT 2");
    QCOMPARE(two.code(), Code::kInvalidArgument);
    const Status script = c.execScript("CREATE TABLE s (x BIGINT); INSERT INTO nowhere VALUES (1);");
    QCOMPARE(script.code(), Code::kInvalidArgument);
    QCOMPARE(scalar(c, "SELECT 40 + 2"), std::int64_t{42});  // still usable
    CHECK_OK(c.execScript("CREATE TABLE t1 (x BIGINT); CREATE TABLE t2 (y TEXT); INSERT INTO t1 VALUES (1);"));
    QCOMPARE(scalar(c, "SELECT COUNT(*) FROM t1"), std::int64_t{1});
  }

  void sqliteBackupIsAConsistentCopyWhileWriting() {
    const std::string copy = tempPath("backup-" + std::to_string(m_serial) + ".db");
    if (kPostgres) {
      QCOMPARE(m_db->backupSqliteTo(copy).code(), Code::kInvalidArgument);
      return;
    }
    {
      Result<Database::Lease> lease = m_db->acquire();
      QVERIFY(lease.isOk());
      CHECK_OK(lease.value()->exec("CREATE TABLE log (id BIGINT PRIMARY KEY, body TEXT, data BLOB)"));
      std::vector<Params> rows;
      for (std::int64_t i = 1; i <= 3000; ++i) {
        rows.push_back({i, std::string(200, static_cast<char>('a' + i % 26)), Blob{std::to_string(i)}});
      }
      CHECK_OK(lease.value()->queryMany("INSERT INTO log (id, body, data) VALUES ($1, $2, $3)", rows).status());
    }
    // A writer appends ten rows per transaction until told to stop.
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> written{3000};
    std::atomic<int> writerFailures{0};
    std::thread writer([&] {
      while (!stop.load()) {
        const std::int64_t base = written.load();
        const Status s = withTransaction(*m_db, true, [&](Connection& c) {
          for (std::int64_t i = base + 1; i <= base + 10; ++i) {
            Status inserted = c.exec("INSERT INTO log (id, body, data) VALUES ($1, $2, $3)",
                                     Params{i, std::string(200, 'w'), Blob{std::to_string(i)}});
            if (!inserted.isOk()) return inserted;
          }
          return Status::ok();
        });
        if (!s.isOk()) {
          ++writerFailures;
          return;
        }
        written = base + 10;
      }
    });
    while (written.load() < 3100) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::int64_t before = written.load();
    const Status backedUp = m_db->backupSqliteTo(copy);
    const std::int64_t after = written.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop = true;
    writer.join();
    CHECK_OK(backedUp);
    QCOMPARE(writerFailures.load(), 0);
    qInfo("backup taken while the writer went from %lld to %lld rows", static_cast<long long>(before),
          static_cast<long long>(after));

    Result<std::unique_ptr<Database>> opened = Database::openSqlite(copy, 1);
    QVERIFY2(opened.isOk(), opened.status().toString().c_str());
    Result<Database::Lease> copyLease = opened.value()->acquire();
    QVERIFY(copyLease.isOk());
    Result<std::vector<DbRow>> check = copyLease.value()->query("PRAGMA integrity_check");
    CHECK_OK(check.status());
    QVERIFY(check.value() == std::vector<DbRow>{{std::string("ok")}});
    Result<std::vector<DbRow>> copied = copyLease.value()->query("SELECT id, body, data FROM log ORDER BY id");
    CHECK_OK(copied.status());
    const auto n = static_cast<std::int64_t>(copied.value().size());
    QVERIFY(n >= before && n <= after + 10);
    QCOMPARE(n % 10, std::int64_t{0});  // whole transactions only
    QCOMPARE(dbInt(copied.value().back()[0]), n);
    Result<Database::Lease> lease = m_db->acquire();
    QVERIFY(lease.isOk());
    Result<std::vector<DbRow>> original =
        lease.value()->query("SELECT id, body, data FROM log WHERE id <= $1 ORDER BY id", Params{n});
    CHECK_OK(original.status());
    QVERIFY(original.value() == copied.value());

    // The target must be new; its folder must exist.
    QCOMPARE(m_db->backupSqliteTo(copy).code(), Code::kAlreadyExists);
    QCOMPARE(m_db->backupSqliteTo(tempPath("no-such-dir/x.db")).code(), Code::kIoError);
  }

  void aKilledPostgresConnectionIsReplaced() {
    if (!kPostgres) QSKIP("PostgreSQL only: SQLite has no connection to lose");
    Result<std::unique_ptr<Database>> opened = openTarget(1);
    QVERIFY(opened.isOk());
    Database& db = *opened.value();
    Result<std::unique_ptr<Database>> killerDb = openTarget(1);
    QVERIFY(killerDb.isOk());
    Result<Database::Lease> killerLease = killerDb.value()->acquire();
    QVERIFY(killerLease.isOk());
    Connection& killer = *killerLease.value();
    auto kill = [&](std::int64_t pid) -> bool {
      if (scalar(killer, "SELECT pg_terminate_backend($1)", Params{pid}) != 1) return false;
      const auto deadline = Clock::now() + std::chrono::seconds(10);
      while (Clock::now() < deadline) {
        if (scalar(killer, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1", Params{pid}) == 0) {
          return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return false;
    };
    const auto start = Clock::now();

    // Killed while idle in the pool: the next lease notices and reconnects.
    std::int64_t pid = 0;
    {
      Result<Database::Lease> lease = db.acquire();
      QVERIFY(lease.isOk());
      pid = scalar(*lease.value(), "SELECT pg_backend_pid()");
      QVERIFY(pid > 0);
    }
    QVERIFY(kill(pid));
    {
      Result<Database::Lease> lease = db.acquire();
      QVERIFY2(lease.isOk(), lease.status().toString().c_str());
      const std::int64_t next = scalar(*lease.value(), "SELECT pg_backend_pid()");
      QVERIFY(next > 0 && next != pid);
      pid = next;
    }

    // Killed while leased: the statement fails with kIoError, the lease
    // after it works.
    {
      Result<Database::Lease> lease = db.acquire();
      QVERIFY(lease.isOk());
      QVERIFY(kill(pid));
      const Status lost = lease.value()->exec("SELECT 1");
      QCOMPARE(lost.code(), Code::kIoError);
      QVERIFY(!dbIsRetryable(lost));
    }
    {
      Result<Database::Lease> lease = db.acquire();
      QVERIFY(lease.isOk());
      pid = scalar(*lease.value(), "SELECT pg_backend_pid()");
      QVERIFY(pid > 0);
    }

    // Killed inside a transaction: the dropped lease cannot roll back, and
    // withTransaction on the next lease still works.
    {
      Result<Database::Lease> lease = db.acquire();
      QVERIFY(lease.isOk());
      CHECK_OK(lease.value()->exec("CREATE TABLE k (id BIGINT PRIMARY KEY)"));
      CHECK_OK(lease.value()->begin(true));
      CHECK_OK(lease.value()->exec("INSERT INTO k (id) VALUES (1)"));
      QVERIFY(kill(pid));
      QCOMPARE(lease.value()->exec("INSERT INTO k (id) VALUES (2)").code(), Code::kIoError);
      QCOMPARE(lease.value()->commit().code(), Code::kIoError);
    }
    CHECK_OK(withTransaction(db, true, [](Connection& c) { return c.exec("INSERT INTO k (id) VALUES (3)"); }));
    Result<Database::Lease> lease = db.acquire();
    QVERIFY(lease.isOk());
    QCOMPARE(scalar(*lease.value(), "SELECT COUNT(*) FROM k"), std::int64_t{1});
    qInfo("three killed connections recovered in %lld ms", msSince(start));
  }

  void openingWhatCannotBeOpenedIsAnIoError() {
    if (kPostgres) {
      const Result<std::unique_ptr<Database>> db =
          Database::openPostgres("host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=5");
      QCOMPARE(db.status().code(), Code::kIoError);
    } else {
      const Result<std::unique_ptr<Database>> db = Database::openSqlite(tempPath("missing/dir/x.db"));
      QCOMPARE(db.status().code(), Code::kIoError);
    }
  }
};

QTEST_APPLESS_MAIN(DbTest)
#include "db_test.moc"
