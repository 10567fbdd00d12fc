// charta-server as a child process, and tablets that stream pushes at it from
// their own threads: the shared rig of the process-level fault suites (kill -9
// during pushes, SIGTERM during pushes, two servers on one PostgreSQL).
//
// The server binary comes from CHARTA_SERVER_BIN (set by CMake). Each launch
// writes its stdout and stderr to its own log file; a launch counts as started
// when the "listening" line shows up there, never after a fixed sleep.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QtTest>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/api_harness.h"
#include "charta/crdt/op_codec.h"
#include "charta/crdt/op_factory.h"
#include "charta/crdt/schema.h"
#include "support/fake_clock.h"
#include "support/http_client.h"

namespace charta::test::process {

using Clock = std::chrono::steady_clock;

inline std::string serverBinary() {
  const char* b = std::getenv("CHARTA_SERVER_BIN");
  return b ? std::string(b) : std::string();
}

inline int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || n <= 0 || n > 1000000) return fallback;
  return static_cast<int>(n);
}

inline std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

inline std::int64_t msSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Polls `done` every 20 ms until it holds or timeoutMs pass.
inline bool waitUntil(const std::function<bool()>& done, int timeoutMs) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  for (;;) {
    if (done()) return true;
    if (Clock::now() > deadline) return false;
    sleepMs(20);
  }
}

inline std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// One run of `charta-server ARGS...` (fork and exec). The child is killed if
// the test process dies first, and by the destructor if still running.
class ServerProcess {
 public:
  static constexpr const char* kListening = "charta-server: listening on";

  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (running()) {
      signal(SIGKILL);
      int status = 0;
      (void)waitExit(30000, &status);
    }
  }

  // Starts the binary with `args` (argv[1..]), stdout and stderr into logPath.
  bool spawn(const std::string& binary, const std::vector<std::string>& args, const std::string& logPath,
             std::string* error) {
    m_logPath = logPath;
    std::vector<std::string> storage;
    storage.push_back(binary);
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      *error = "fork failed";
      return false;
    }
    if (pid == 0) {
      // Only async-signal-safe calls until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      int out = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int in = ::open("/dev/null", O_RDONLY);
      if (out < 0 || in < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::close_range(3, ~0U, 0);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    m_pid = pid;
    return true;
  }

  // Waits for the "listening" line. False (with the output in *error) when
  // the process exits first or timeoutMs pass.
  bool waitListening(int timeoutMs, std::string* error) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
      if (output().find(kListening) != std::string::npos) return true;
      if (!running()) {
        *error = "charta-server exited before listening: " + describeWaitStatus(m_status) + "\n" + output();
        return false;
      }
      int status = 0;
      pid_t r = ::waitpid(m_pid, &status, WNOHANG);
      if (r == m_pid) {
        m_pid = -1;
        m_status = status;
        continue;
      }
      if (Clock::now() > deadline) {
        *error = "charta-server printed no \"listening\" line within " + std::to_string(timeoutMs) + " ms\n" +
                 output();
        return false;
      }
      sleepMs(20);
    }
  }

  bool start(const std::string& binary, const std::vector<std::string>& args, const std::string& logPath,
             std::string* error, int timeoutMs = 90000) {
    if (!spawn(binary, args, logPath, error)) return false;
    if (waitListening(timeoutMs, error)) return true;
    if (running()) {
      signal(SIGKILL);
      int status = 0;
      (void)waitExit(30000, &status);
    }
    return false;
  }

  bool running() const { return m_pid > 0; }
  pid_t pid() const { return m_pid; }
  bool signal(int sig) { return running() && ::kill(m_pid, sig) == 0; }

  // Waits for the process to end; false when it is still running after
  // timeoutMs. *status: the waitpid status.
  bool waitExit(int timeoutMs, int* status) {
    if (!running()) {
      *status = m_status;
      return true;
    }
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
      int st = 0;
      pid_t r = ::waitpid(m_pid, &st, WNOHANG);
      if (r == m_pid || (r < 0 && errno == ECHILD)) {
        m_pid = -1;
        m_status = st;
        *status = st;
        return true;
      }
      if (Clock::now() > deadline) return false;
      sleepMs(5);
    }
  }

  // SIGKILL and reap.
  bool killHard(std::string* error) {
    if (!signal(SIGKILL)) {
      *error = "the server was not running when it was to be killed";
      return false;
    }
    int status = 0;
    if (!waitExit(30000, &status)) {
      *error = "the server did not die within 30 s of SIGKILL";
      return false;
    }
    return true;
  }

  std::string output() const { return m_logPath.empty() ? std::string() : readWholeFile(m_logPath); }
  int exitStatus() const { return m_status; }

 private:
  pid_t m_pid = -1;
  int m_status = 0;
  std::string m_logPath;
};

// A server launched from a fixed argument list with a --listen port that may
// change when the port turned out to be taken; each launch gets its own log.
class ServerUnderTest {
 public:
  ServerUnderTest(std::string binary, std::string dir, std::string name, std::vector<std::string> args)
      : m_binary(std::move(binary)), m_dir(std::move(dir)), m_name(std::move(name)), m_args(std::move(args)) {}

  // Launches again on the same port when possible (tablets keep their
  // address), else on another free one.
  bool launch(std::string* error, int timeoutMs = 90000) {
    std::string errors;
    for (int attempt = 0; attempt < 4; ++attempt) {
      if (m_port == 0 || attempt > 0) m_port = freePort();
      if (m_port == 0) {
        errors += "no free port\n";
        continue;
      }
      m_proc = std::make_unique<ServerProcess>();
      std::vector<std::string> args = m_args;
      args.push_back("--listen");
      args.push_back("127.0.0.1:" + std::to_string(m_port));
      std::string log = m_dir + "/" + m_name + "-launch-" + std::to_string(++m_launches) + ".log";
      std::string e;
      if (m_proc->start(m_binary, args, log, &e, timeoutMs)) return true;
      errors += "launch " + std::to_string(m_launches) + " on port " + std::to_string(m_port) + ": " + e + "\n";
    }
    *error = errors;
    return false;
  }

  ServerProcess& proc() { return *m_proc; }
  std::uint16_t port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  int launches() const { return m_launches; }

 private:
  std::string m_binary, m_dir, m_name;
  std::vector<std::string> m_args;
  std::unique_ptr<ServerProcess> m_proc;
  std::uint16_t m_port = 0;
  int m_launches = 0;
};

// What a tablet keeps after enrolment and sign-in.
struct Credentials {
  std::string deviceId, secret, replica, token;
};

inline std::unique_ptr<TabletClient> clientFor(const std::string& url, const Credentials& c) {
  auto t = std::make_unique<TabletClient>(url);
  t->deviceId = c.deviceId;
  t->secret = c.secret;
  t->replica = c.replica;
  t->token = c.token;
  return t;
}

// Signs the demo sysadmin in on `url`, issues a code there, enrols a device
// with it on `enrolUrl` (default: the same server) and signs the demo nurse in.
inline bool enrolTablet(const std::string& url, const std::string& name, Credentials* out, std::string* error,
                        const std::string& enrolUrl = {}) {
  AdminClient admin(url);
  HttpResult l = admin.login("admin", "demo-admin-pass");
  if (l.status != 200) {
    *error = "admin login: " + std::to_string(l.status) + " " + l.body + l.error;
    return false;
  }
  HttpResult c = admin.post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}});
  json::Value cv = parseJson(c.body);
  std::string code = str(cv, "code");
  if (c.status != 201 || code.empty()) {
    *error = "issue code: " + std::to_string(c.status) + " " + c.body + c.error;
    return false;
  }
  TabletClient t(enrolUrl.empty() ? url : enrolUrl);
  HttpResult e = t.enrol(code, name);
  if (e.status != 200) {
    *error = "enrol: " + std::to_string(e.status) + " " + e.body + e.error;
    return false;
  }
  HttpResult li = t.login("nurse", "demo-nurse-pass");
  if (li.status != 200) {
    *error = "nurse login: " + std::to_string(li.status) + " " + li.body + li.error;
    return false;
  }
  *out = Credentials{t.deviceId, t.secret, t.replica, t.token};
  return true;
}

inline std::string opKey(const crdt::Op& op) { return crdt::toString(op.id); }

// Every op of the clinic from seq 0, as op keys in the server's order.
inline bool pullKeys(const std::string& url, const Credentials& c, std::vector<std::string>* keys,
                     std::string* error) {
  auto t = clientFor(url, c);
  std::int64_t cursor = 0;
  for (int page = 0; page < 1000000; ++page) {
    HttpResult r;
    for (int attempt = 0; attempt < 5; ++attempt) {
      r = t->pullRaw(cursor, "&limit=1000");
      if (r.status == 200) break;
      sleepMs(200);
    }
    if (r.status != 200) {
      *error = "pull since " + std::to_string(cursor) + ": " + std::to_string(r.status) + " " + r.body + r.error;
      return false;
    }
    json::Value v = parseJson(r.body);
    const json::Value* ops = v.find("ops");
    const json::Value* more = v.find("more");
    if (!ops || !ops->asArray() || !more) {
      *error = "pull: unexpected body " + r.body.substr(0, 300);
      return false;
    }
    for (const json::Value& op : *ops->asArray()) {
      auto decoded = crdt::decodeOp(TabletClient::server_base64(op.asString() ? *op.asString() : std::string()));
      if (!decoded.isOk()) {
        *error = "pull: an op does not decode: " + decoded.status().toString();
        return false;
      }
      keys->push_back(opKey(decoded.value()));
    }
    std::int64_t next = num(v, "next");
    if (next < cursor) {
      *error = "pull: the cursor went back from " + std::to_string(cursor) + " to " + std::to_string(next);
      return false;
    }
    cursor = next;
    if (!more->asBool().value_or(false)) return true;
  }
  *error = "pull: too many pages";
  return false;
}

class Fleet;

// A tablet that writes batches of ops (spread over a few patients of its own)
// and pushes them one batch at a time, as a tablet's outbox does: a batch is
// retried, unchanged, until a push of it is answered 200, and only then is the
// next one written. After each server restart it first pushes its last
// acknowledged batch again, which must come back as duplicates with the same
// seqs. Runs on its own thread (run()); the figures are read after join.
class StreamTablet {
 public:
  StreamTablet(int index, Credentials c, std::string patientPrefix, int patients = 4, int batchSize = 50)
      : m_index(index),
        m_cred(std::move(c)),
        m_factory(crdt::ReplicaId{std::stoull(m_cred.replica)}, m_clock, 1),
        m_batchSize(batchSize) {
    m_factory.setUser("nurse");
    for (int p = 0; p < patients; ++p) {
      m_docs.push_back(std::make_unique<crdt::ChartDocument>(patientPrefix + "-" + std::to_string(p)));
    }
  }

  void run(Fleet& fleet);

  const Credentials& credentials() const { return m_cred; }

  // Live figures (any thread).
  std::int64_t ackedCount() const { return m_ackedCount.load(); }
  int lastAckGeneration() const { return m_lastAckGeneration.load(); }
  bool failed() const { return m_failed.load(); }

  // After join.
  const std::vector<crdt::Op>& ackedOps() const { return m_acked; }
  const std::vector<std::int64_t>& ackedSeqs() const { return m_ackedSeqs; }
  const std::vector<std::string>& problems() const { return m_problems; }
  int retriedBatches() const { return m_retriedBatches; }
  std::int64_t retriedAlreadyStored() const { return m_retriedAlreadyStored; }
  int recheckedBatches() const { return m_rechecked; }
  int transportFailures() const { return m_transportFailures; }
  const std::map<int, int>& httpFailures() const { return m_httpFailures; }

 private:
  void makeBatch() {
    m_clock.set(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    m_pending.clear();
    for (int i = 0; i < m_batchSize; ++i) {
      crdt::ChartDocument& doc = *m_docs[static_cast<std::size_t>(m_batchNo + i) % m_docs.size()];
      crdt::Op op = m_factory.writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                                         crdt::Value(std::string("555-") + std::to_string(m_batchNo) + "-" +
                                                     std::to_string(i)));
      (void)doc.apply(op);
      m_pending.push_back(std::move(op));
    }
    ++m_batchNo;
    m_attempts = 0;
  }

  TabletClient& client(const std::string& url) {
    auto it = m_clients.find(url);
    if (it == m_clients.end()) it = m_clients.emplace(url, clientFor(url, m_cred)).first;
    return *it->second;
  }

  void problem(std::string what) {
    m_problems.push_back("tablet " + std::to_string(m_index) + ": " + std::move(what));
    m_failed.store(true);
  }

  // A push that got no 200: drop the connection and try again later. A 4xx
  // from the API is a bug (sessions and devices live in the store) and ends
  // the stream. A 404 without a body is not the API's answer (that always has
  // a JSON error body): the HTTP library sends it for a request that reaches
  // a stopping server after its listener closed. It is counted, and retried
  // like a lost connection.
  bool onFailure(const HttpResult& r, const std::string& url) {
    if (r.status == 0 || (r.status == 404 && r.body.empty())) {
      if (r.status == 0) {
        ++m_transportFailures;
      } else {
        ++m_httpFailures[r.status];
      }
      m_clients.erase(url);
      sleepMs(25);
      return true;
    }
    ++m_httpFailures[r.status];
    if (r.status >= 400 && r.status < 500 && r.status != 429) {
      problem("push answered " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
      return false;
    }
    sleepMs(100);
    return true;
  }

  // Parses a 200 push answer for `ops`: one seq > 0 per op.
  bool seqsOf(const HttpResult& r, std::size_t n, std::vector<std::int64_t>* seqs, json::Value* parsed) {
    *parsed = parseJson(r.body);
    const json::Value* s = parsed->find("seqs");
    if (!s || !s->asArray() || s->asArray()->size() != n) {
      problem("push answer without one seq per op: " + r.body.substr(0, 300));
      return false;
    }
    for (const json::Value& x : *s->asArray()) {
      std::int64_t seq = x.asInt().value_or(0);
      if (seq <= 0) {
        problem("an op was not stored (seq 0): " + r.body.substr(0, 300));
        return false;
      }
      seqs->push_back(seq);
    }
    return true;
  }

  int m_index;
  Credentials m_cred;
  testing::FakeWallClock m_clock;
  crdt::OpFactory m_factory;
  std::vector<std::unique_ptr<crdt::ChartDocument>> m_docs;
  int m_batchSize;
  int m_batchNo = 0;
  int m_attempts = 0;
  std::vector<crdt::Op> m_pending;
  std::vector<crdt::Op> m_lastAcked;
  std::vector<std::int64_t> m_lastAckedSeqs;
  std::map<std::string, std::unique_ptr<TabletClient>> m_clients;

  std::atomic<std::int64_t> m_ackedCount{0};
  std::atomic<int> m_lastAckGeneration{-1};
  std::atomic<bool> m_failed{false};
  std::vector<crdt::Op> m_acked;
  std::vector<std::int64_t> m_ackedSeqs;
  std::map<std::string, std::int64_t> m_seqOf;
  std::vector<std::string> m_problems;
  int m_retriedBatches = 0;
  std::int64_t m_retriedAlreadyStored = 0;
  int m_rechecked = 0;
  int m_transportFailures = 0;
  std::map<int, int> m_httpFailures;
};

// The tablets, their threads, the servers' addresses and the generation
// counter (bumped by the test after each server restart).
class Fleet {
 public:
  // route(tablet, batch): which server (index into urls) a push goes to.
  using Route = std::function<std::size_t(int tablet, int batch)>;

  explicit Fleet(std::vector<std::string> urls, Route route = {}) : m_urls(std::move(urls)), m_route(std::move(route)) {}
  ~Fleet() { stopAndJoin(); }

  void add(std::unique_ptr<StreamTablet> t) { m_tablets.push_back(std::move(t)); }
  void start() {
    for (auto& t : m_tablets) {
      StreamTablet* p = t.get();
      m_threads.emplace_back([this, p] { p->run(*this); });
    }
  }
  // Tells the tablets to stop once their current batch is acknowledged.
  void stopAndJoin() {
    m_stop.store(true);
    for (std::thread& th : m_threads) th.join();
    m_threads.clear();
  }

  std::string url(std::size_t i) {
    std::lock_guard lock(m_mu);
    return m_urls.at(i);
  }
  void setUrl(std::size_t i, std::string u) {
    std::lock_guard lock(m_mu);
    m_urls.at(i) = std::move(u);
  }
  std::size_t route(int tablet, int batch) const { return m_route ? m_route(tablet, batch) : 0; }
  int generation() const { return m_generation.load(); }
  void nextGeneration() { m_generation.fetch_add(1); }
  bool stopping() const { return m_stop.load(); }

  std::vector<std::unique_ptr<StreamTablet>>& tablets() { return m_tablets; }
  std::int64_t ackedTotal() const {
    std::int64_t n = 0;
    for (const auto& t : m_tablets) n += t->ackedCount();
    return n;
  }
  bool anyFailed() const {
    for (const auto& t : m_tablets) {
      if (t->failed()) return true;
    }
    return false;
  }
  // Every tablet has had a batch acknowledged since the current generation began.
  bool allAckedInCurrentGeneration() const {
    for (const auto& t : m_tablets) {
      if (t->lastAckGeneration() < m_generation.load()) return false;
    }
    return true;
  }
  // Waits until every tablet has had a batch acknowledged in the current
  // generation; false on timeout or when a tablet failed.
  bool waitForProgress(int timeoutMs) {
    return waitUntil([&] { return anyFailed() || allAckedInCurrentGeneration(); }, timeoutMs) && !anyFailed();
  }

 private:
  std::mutex m_mu;
  std::vector<std::string> m_urls;
  Route m_route;
  std::atomic<int> m_generation{0};
  std::atomic<bool> m_stop{false};
  std::vector<std::unique_ptr<StreamTablet>> m_tablets;
  std::vector<std::thread> m_threads;
};

inline void StreamTablet::run(Fleet& fleet) {
  int seenGeneration = fleet.generation();
  bool recheck = false;
  Clock::time_point giveUpAt = Clock::time_point::max();
  for (;;) {
    if (m_pending.empty()) {
      if (fleet.stopping()) return;
      makeBatch();
    }
    const int generation = fleet.generation();
    if (generation != seenGeneration) {
      seenGeneration = generation;
      recheck = !m_lastAcked.empty();
    }
    if (fleet.stopping() && giveUpAt == Clock::time_point::max()) giveUpAt = Clock::now() + std::chrono::seconds(120);
    if (Clock::now() > giveUpAt) {
      problem("a batch was still not acknowledged 120 s after the stream was told to stop");
      return;
    }
    const std::string url = fleet.url(fleet.route(m_index, m_batchNo));
    if (recheck) {
      // The batch acknowledged last, before the restart: the same seqs again.
      HttpResult r = client(url).push(m_lastAcked);
      if (r.status != 200) {
        if (!onFailure(r, url)) return;
        continue;
      }
      std::vector<std::int64_t> seqs;
      json::Value v;
      if (!seqsOf(r, m_lastAcked.size(), &seqs, &v)) return;
      if (seqs != m_lastAckedSeqs || num(v, "duplicates") != static_cast<std::int64_t>(m_lastAcked.size()) ||
          num(v, "stored") != 0) {
        problem("an acknowledged batch pushed again after a restart did not come back as duplicates with the "
                "same seqs: " + r.body.substr(0, 400));
        return;
      }
      ++m_rechecked;
      recheck = false;
    }
    ++m_attempts;
    HttpResult r = client(url).push(m_pending);
    if (r.status != 200) {
      if (!onFailure(r, url)) return;
      continue;
    }
    std::vector<std::int64_t> seqs;
    json::Value v;
    if (!seqsOf(r, m_pending.size(), &seqs, &v)) return;
    if (m_attempts > 1) {
      ++m_retriedBatches;
      m_retriedAlreadyStored += std::max<std::int64_t>(0, num(v, "duplicates"));
    }
    for (std::size_t i = 0; i < m_pending.size(); ++i) {
      auto [it, fresh] = m_seqOf.emplace(opKey(m_pending[i]), seqs[i]);
      if (!fresh && it->second != seqs[i]) {
        problem("op " + it->first + " acknowledged twice with different seqs");
        return;
      }
      m_acked.push_back(m_pending[i]);
      m_ackedSeqs.push_back(seqs[i]);
    }
    m_lastAcked = std::move(m_pending);
    m_lastAckedSeqs = std::move(seqs);
    m_pending.clear();
    m_ackedCount.fetch_add(static_cast<std::int64_t>(m_lastAcked.size()));
    m_lastAckGeneration.store(seenGeneration);
  }
}

// What the store holds against what the tablets were told.
struct Audit {
  std::int64_t acknowledged = 0;  // ops acknowledged to the tablets
  std::int64_t pulled = 0;        // ops a pull from seq 0 returned
  std::int64_t lost = 0;          // acknowledged, not pulled
  std::int64_t duplicated = 0;    // pulled more than once
  std::int64_t unknown = 0;       // pulled, never written by a tablet
  std::int64_t seqMismatch = 0;   // pushed again: not a duplicate with the acknowledged seq
  std::vector<std::string> keys;  // pulled, in order
  std::vector<std::string> errors;

  bool clean() const { return errors.empty() && lost == 0 && duplicated == 0 && unknown == 0 && seqMismatch == 0; }
  std::string summary() const {
    std::string s = "acknowledged " + std::to_string(acknowledged) + ", pulled " + std::to_string(pulled) +
                    ", lost " + std::to_string(lost) + ", duplicated " + std::to_string(duplicated) +
                    ", unknown " + std::to_string(unknown) + ", seq mismatches " + std::to_string(seqMismatch);
    for (const std::string& e : errors) s += "\n  " + e;
    return s;
  }
};

// Pulls everything from `pullUrl` as `reader` and pushes every acknowledged
// op again to `pushUrl(tablet)`: each must be a duplicate with its seq.
// `others`: ops written outside the fleet that the pull may also return.
inline Audit auditStore(const std::string& pullUrl, const Credentials& reader,
                        std::vector<std::unique_ptr<StreamTablet>>& tablets,
                        const std::function<std::string(int tablet)>& pushUrl,
                        const std::set<std::string>& others = {}) {
  Audit a;
  std::string error;
  if (!pullKeys(pullUrl, reader, &a.keys, &error)) {
    a.errors.push_back(error);
    return a;
  }
  a.pulled = static_cast<std::int64_t>(a.keys.size());
  std::map<std::string, int> seen;
  for (const std::string& k : a.keys) ++seen[k];
  for (const auto& [k, n] : seen) {
    if (n > 1) a.duplicated += n - 1;
  }
  std::map<std::string, bool> written;
  for (std::size_t ti = 0; ti < tablets.size(); ++ti) {
    StreamTablet& t = *tablets[ti];
    const auto& ops = t.ackedOps();
    const auto& seqs = t.ackedSeqs();
    a.acknowledged += static_cast<std::int64_t>(ops.size());
    for (const crdt::Op& op : ops) {
      std::string k = opKey(op);
      written[k] = true;
      if (seen.find(k) == seen.end()) {
        ++a.lost;
        if (a.errors.size() < 10) a.errors.push_back("acknowledged op " + k + " is not in the store");
      }
    }
    auto client = clientFor(pushUrl(static_cast<int>(ti)), t.credentials());
    const std::size_t kChunk = 500;
    for (std::size_t from = 0; from < ops.size(); from += kChunk) {
      const std::size_t to = std::min(ops.size(), from + kChunk);
      std::vector<crdt::Op> chunk(ops.begin() + static_cast<std::ptrdiff_t>(from),
                                  ops.begin() + static_cast<std::ptrdiff_t>(to));
      HttpResult r;
      for (int attempt = 0; attempt < 5; ++attempt) {
        r = client->push(chunk);
        if (r.status == 200) break;
        sleepMs(200);
      }
      if (r.status != 200) {
        a.errors.push_back("re-push: " + std::to_string(r.status) + " " + r.body.substr(0, 300) + r.error);
        break;
      }
      json::Value v = parseJson(r.body);
      const json::Value* s = v.find("seqs");
      if (!s || !s->asArray() || s->asArray()->size() != chunk.size()) {
        a.errors.push_back("re-push: unexpected answer " + r.body.substr(0, 300));
        break;
      }
      const json::Array& got = *s->asArray();
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        if (got[i].asInt().value_or(0) != seqs[from + i]) ++a.seqMismatch;
      }
      std::int64_t dups = num(v, "duplicates");
      if (dups != static_cast<std::int64_t>(chunk.size())) {
        a.errors.push_back("re-push of " + std::to_string(chunk.size()) + " acknowledged ops: " +
                           std::to_string(dups) + " duplicates");
      }
    }
  }
  for (const auto& [k, n] : seen) {
    (void)n;
    if (written.find(k) == written.end() && others.count(k) == 0) ++a.unknown;
  }
  return a;
}

inline std::vector<std::string> fleetProblems(Fleet& fleet) {
  std::vector<std::string> out;
  for (const auto& t : fleet.tablets()) out.insert(out.end(), t->problems().begin(), t->problems().end());
  return out;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

}  // namespace charta::test::process
