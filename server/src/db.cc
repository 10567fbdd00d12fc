// The backend-independent half of the SQL adapter: typed reads of values,
// leases, the shared connection pool and withTransaction.
#include "db.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include "db_pool_internal.h"

namespace charta::server {

namespace {

const std::string& emptyString() {
  static const std::string kEmpty;
  return kEmpty;
}

constexpr int kMaxTransactionAttempts = 5;
constexpr std::string_view kRetryablePrefix = "retryable:";
constexpr std::string_view kStorageFullPrefix = "storage full:";

}  // namespace

std::int64_t dbInt(const DbValue& v, std::int64_t fallback) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return fallback;
}

double dbReal(const DbValue& v, double fallback) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return fallback;
}

const std::string& dbText(const DbValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return emptyString();
}

const std::string& dbBytes(const DbValue& v) {
  if (const auto* b = std::get_if<Blob>(&v)) return b->bytes;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return emptyString();
}

bool dbIsNull(const DbValue& v) { return std::holds_alternative<std::monostate>(v); }

bool dbIsRetryable(const Status& s) {
  return s.code() == Status::Code::kIoError &&
         std::string_view(s.message()).substr(0, kRetryablePrefix.size()) == kRetryablePrefix;
}

Status dbStorageFull(std::string_view detail) {
  return Status::ioError(std::string(kStorageFullPrefix) + " " + std::string(detail));
}

Status dbOsWriteError(std::string_view detail, int sysErrno) {
  std::string message = std::string(detail) + ": " + std::strerror(sysErrno);
  if (sysErrno == ENOSPC || sysErrno == EDQUOT || sysErrno == EFBIG) return dbStorageFull(message);
  return Status::ioError(std::move(message));
}

bool dbIsStorageFull(const Status& s) {
  return s.code() == Status::Code::kIoError &&
         std::string_view(s.message()).substr(0, kStorageFullPrefix.size()) == kStorageFullPrefix;
}

std::string_view dbForUpdate(Dialect d) { return d == Dialect::kPostgres ? " FOR UPDATE" : ""; }

// --- Lease ---

Database::Lease::Lease(Database* db, std::unique_ptr<Connection> conn)
    : m_db(db), m_conn(std::move(conn)) {}

Database::Lease::Lease(Lease&& other) noexcept
    : m_db(other.m_db), m_conn(std::move(other.m_conn)) {}

Database::Lease::~Lease() {
  if (!m_conn) return;
  if (m_conn->inTransaction()) (void)m_conn->rollback();
  m_db->release(std::move(m_conn));
}

// --- withTransaction ---

Status withTransaction(Database& db, bool write, const std::function<Status(Connection&)>& body) {
  Status last;
  for (int attempt = 1; attempt <= kMaxTransactionAttempts; ++attempt) {
    Status s;
    {
      Result<Database::Lease> lease = db.acquire();
      if (!lease.isOk()) return lease.status();
      Connection& conn = *lease.value();
      s = conn.begin(write);
      if (s.isOk()) {
        s = body(conn);
        if (s.isOk()) {
          if (conn.inTransaction()) s = conn.commit();
        } else if (conn.inTransaction()) {
          (void)conn.rollback();  // the body's failure is the one to report
        }
      }
    }  // the lease goes back before the pause
    if (s.isOk() || !dbIsRetryable(s)) return s;
    last = std::move(s);
    if (attempt < kMaxTransactionAttempts) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2 << attempt));
    }
  }
  return last;
}

// --- ConnectionPool ---

namespace detail {

ConnectionPool::ConnectionPool(int size, Opener open, Check alive, Check reusable)
    : m_size(size < 1 ? 1 : size),
      m_open(std::move(open)),
      m_alive(std::move(alive)),
      m_reusable(std::move(reusable)) {}

ConnectionPool::~ConnectionPool() = default;

void ConnectionPool::seed(std::unique_ptr<Connection> conn) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_idle.push_back(std::move(conn));
  ++m_count;
}

Result<std::unique_ptr<Connection>> ConnectionPool::take() {
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_freed.wait(lock, [this] { return !m_idle.empty() || m_count < m_size; });
    if (!m_idle.empty()) {
      conn = std::move(m_idle.back());
      m_idle.pop_back();
    } else {
      ++m_count;  // this slot is ours; it is opened below, outside the lock
    }
  }
  if (conn && !m_alive(*conn)) conn.reset();  // keeps the slot, reopens it
  if (!conn) {
    Result<std::unique_ptr<Connection>> opened = m_open();
    if (!opened.isOk()) {
      std::lock_guard<std::mutex> lock(m_mutex);
      --m_count;
      m_freed.notify_one();
      return opened.status();
    }
    conn = std::move(opened).value();
  }
  return conn;
}

void ConnectionPool::put(std::unique_ptr<Connection> conn) {
  if (!conn) return;
  if (!m_reusable(*conn)) conn.reset();  // closed outside the lock
  std::lock_guard<std::mutex> lock(m_mutex);
  if (conn) {
    m_idle.push_back(std::move(conn));
  } else {
    --m_count;
  }
  m_freed.notify_one();
}

}  // namespace detail

}  // namespace charta::server
