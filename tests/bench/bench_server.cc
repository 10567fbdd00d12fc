#include "bench_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_http.h"
#include "bench_json.h"
#include "bench_process.h"
#include "bench_server_process.h"
#include "charta/crdt/op_codec.h"
#include "charta/crdt/op_factory.h"
#include "charta/crdt/schema.h"
#include "json.h"
#include "support/http_client.h"
#include "support/postgres.h"

namespace charta::bench {
namespace {

namespace sjson = server::json;
using crdt::Status;
using test::HeaderList;
using test::HttpClient;
using test::HttpResult;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kSecondsEnv = "CHARTA_SERVER_BENCH_SECONDS";
constexpr double kDefaultSeconds = 20;
constexpr double kQuickSeconds = 5;
// Failed requests (no answer, or not 200) after which a configuration stops
// early: its checks fail anyway.
constexpr std::int64_t kMaxFailures = 50;

// The goals reported (never enforced).
constexpr double kIngestGoal = 20000;   // ops/s
constexpr double kP99GoalMs = 200;      // push and pull
constexpr double kScalingGoal = 1.5;    // two processes against one, on PostgreSQL

#ifdef CHARTA_BENCH_SERVER_BIN
constexpr const char* kDefaultServerBin = CHARTA_BENCH_SERVER_BIN;
#else
constexpr const char* kDefaultServerBin = "";
#endif
#ifdef CHARTA_BENCH_PG_CLUSTER
constexpr const char* kDefaultPgCluster = CHARTA_BENCH_PG_CLUSTER;
#else
constexpr const char* kDefaultPgCluster = "";
#endif

struct ConfigSpec {
  const char* name;
  const char* description;
  bool postgres;
  std::size_t processes;
};

constexpr ConfigSpec kConfigs[] = {
    {"sqlite", "one charta-server process on SQLite", false, 1},
    {"postgres", "one charta-server process on PostgreSQL", true, 1},
    {"postgres_x2", "two charta-server processes on one PostgreSQL database, the devices split between them", true,
     2},
};

struct Options {
  bool json = false;
  bool quick = false;
  double seconds = kDefaultSeconds;
  std::size_t devices = 200;
  std::size_t clients = 24;
  std::size_t batch = 100;
  std::size_t patientsPerDevice = 4;
  std::vector<std::string> configs;
  std::string serverBin = kDefaultServerBin;
  std::string pgCluster = kDefaultPgCluster;
  std::string workDir;
};

int usage() {
  std::fprintf(stderr,
               "usage: charta-bench server [--json] [--quick] [--seconds S] [--devices N] [--clients N]\n"
               "                           [--batch N] [--configs LIST] [--server-bin PATH] [--pg-cluster PATH]\n"
               "                           [--work-dir DIR]\n"
               "  --json             print the report as one JSON object on stdout\n"
               "  --quick            %g s per configuration instead of %g (smoke test)\n"
               "  --seconds S        timed seconds per configuration (default %g, or $%s)\n"
               "  --devices N        simulated devices (default 200)\n"
               "  --clients N        client threads the devices share (default 24)\n"
               "  --batch N          ops per push (default 100)\n"
               "  --configs LIST     comma-separated subset of sqlite,postgres,postgres_x2 (default all)\n"
               "  --server-bin PATH  the charta-server executable (default: the one built with the bench)\n"
               "  --pg-cluster PATH  scripts/pg-cluster (default: the one in the source tree)\n"
               "  --work-dir DIR     server data and logs (default: server-bench/ next to the executable)\n",
               kQuickSeconds, kDefaultSeconds, kDefaultSeconds, kSecondsEnv);
  return 2;
}

int fail(const Status& s, const std::string& what) {
  std::fprintf(stderr, "charta-bench: error: %s: %s\n", what.c_str(), s.toString().c_str());
  return 2;
}

std::atomic<bool> g_interrupted{false};

void onSignal(int) { g_interrupted.store(true); }

void installSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

double secondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

double msBetween(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Nearest-rank percentile of unsorted samples; 0 when there are none.
double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1];
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<std::int64_t> intMember(const sjson::Value& v, std::string_view key) {
  const sjson::Value* m = v.find(key);
  return m != nullptr ? m->asInt() : std::nullopt;
}

std::optional<std::string> base64Decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    int v = 0;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xffu));
    }
  }
  return out;
}

// --- /proc readings ---------------------------------------------------------

// The parent's pid; -1 when unreadable.
long procParentPid(pid_t pid) {
  const auto text = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return -1;
  const std::size_t close = text->rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text->substr(close + 2));
  std::string state;
  long ppid = -1;
  fields >> state >> ppid;
  return ppid;
}

double selfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// Busy and total CPU seconds of the whole machine since boot (all cores).
struct MachineCpu {
  double busy = 0;
  double total = 0;
};

MachineCpu machineCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  std::vector<double> v;
  double x = 0;
  while (v.size() < 8 && in >> x) v.push_back(x);
  if (cpu != "cpu" || v.size() < 8) return {};
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  // user nice system idle iowait irq softirq steal
  const double busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return {busy / tick, (busy + v[3] + v[4]) / tick};
}

// --- processes --------------------------------------------------------------


// The throwaway PostgreSQL cluster of scripts/pg-cluster; stopped (and its
// data removed) by stop() or the destructor.
class PgCluster {
 public:
  PgCluster() = default;
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;
  ~PgCluster() { stop(); }

  Status start(const std::string& script, const std::string& stateDir) {
    if (!fileExists(script)) return Status::notFound("no pg-cluster script at " + script + " (--pg-cluster)");
    m_script = script;
    m_state = stateDir;
    m_started = true;  // stop() cleans up a half-made cluster as well
    auto r = runProcess({script, "start", stateDir}, "", true);
    if (!r.isOk()) return r.status();
    if (r.value().exitCode != 0) {
      return Status::ioError("pg-cluster start exited with " + std::to_string(r.value().exitCode));
    }
    const std::string out = trimmed(r.value().output);
    progress(out);
    const std::size_t at = out.find("PostgreSQL ");
    if (at != std::string::npos) {
      std::istringstream words(out.substr(at + 11));
      words >> m_version;
    }
    return Status::ok();
  }

  void stop() {
    if (!m_started) return;
    m_started = false;
    auto r = runProcess({m_script, "stop", m_state}, "", false);
    if (!r.isOk() || r.value().exitCode != 0) progress("warning: pg-cluster stop failed");
  }

  const std::string& version() const { return m_version; }

  // User + system CPU seconds of the cluster's postmaster and its children
  // (the backends serving the servers' pooled connections); -1 when unknown.
  double cpuSeconds() const {
    if (!m_started) return -1;
    const auto dir = readFile(m_state + "/cluster-dir");
    const auto pidFile = dir ? readFile(trimmed(*dir) + "/data/postmaster.pid") : std::nullopt;
    if (!pidFile) return -1;
    const long postmaster = std::atol(pidFile->c_str());
    if (postmaster <= 0) return -1;
    double total = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      const long pid = std::atol(name.c_str());
      if (pid != postmaster && procParentPid(static_cast<pid_t>(pid)) != postmaster) continue;
      const double cpu = procCpuSeconds(static_cast<pid_t>(pid));
      if (cpu > 0) total += cpu;
    }
    return total;
  }

 private:
  std::string m_script;
  std::string m_state;
  std::string m_version;
  bool m_started = false;
};

// --- devices and their ops ----------------------------------------------------

const crdt::WallClock& wallClock() {
  static const crdt::SystemWallClock clock;
  return clock;
}

struct Device {
  std::size_t index = 0;
  std::size_t server = 0;  // which server process it talks to
  std::string id;
  std::string secret;
  std::uint64_t replica = 0;
  HeaderList auth;  // device credential and session
  std::unique_ptr<crdt::OpFactory> factory;
  std::vector<std::unique_ptr<crdt::ChartDocument>> charts;  // its own patients
  std::int64_t cursor = 0;
  std::vector<crdt::Op> pending;  // the batch to push (kept for a retry when a push fails)
  std::string pendingBody;
  std::uint64_t written = 0;
};

struct Vital {
  std::string_view code;
  const char* unit;
  double low;
  double span;
};

constexpr Vital kVitals[] = {
    {crdt::loinc::kHeartRate, "/min", 55, 60},     {crdt::loinc::kRespiratoryRate, "/min", 10, 14},
    {crdt::loinc::kBodyTemperature, "Cel", 35.5, 4}, {crdt::loinc::kSpO2, "%", 88, 12},
    {crdt::loinc::kSystolicBp, "mm[Hg]", 95, 70},  {crdt::loinc::kDiastolicBp, "mm[Hg]", 55, 45},
};

constexpr crdt::FieldId kDemographicFields[] = {crdt::field::kFamilyName, crdt::field::kGivenNames,
                                                crdt::field::kAddress, crdt::field::kPhone,
                                                crdt::field::kLanguage};

// The device's next batch: one op in five a demographics write, the rest
// vital-sign observations, round robin over its patients. Each op is applied
// to the device's own copy of the chart, as a tablet does, so its preds are right.
Status makeBatch(Device& d, std::size_t size) {
  d.pending.clear();
  d.pending.reserve(size);
  const auto now = static_cast<std::int64_t>(wallClock().nowMs());
  for (std::size_t i = 0; i < size; ++i) {
    const std::uint64_t n = d.written++;
    crdt::ChartDocument& doc = *d.charts[n % d.charts.size()];
    crdt::Op op;
    if (n % 5 == 4) {
      const crdt::FieldId f = kDemographicFields[(n / 5) % std::size(kDemographicFields)];
      op = d.factory->writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, f},
                                 crdt::Value(std::string("value ") + std::to_string(n)));
    } else {
      const Vital& v = kVitals[n % std::size(kVitals)];
      crdt::AppendObservation obs;
      obs.category = crdt::ObservationCategory::kVitalSign;
      obs.code = std::string(v.code);
      obs.value = v.low + v.span * static_cast<double>(n % 101) / 100.0;
      obs.unit = v.unit;
      obs.effectiveMs = now;
      op = d.factory->appendObservation(doc, std::move(obs));
    }
    auto applied = doc.apply(op);
    if (!applied.isOk()) return applied.status();
    d.pending.push_back(std::move(op));
  }
  d.pendingBody = crdt::encodeBatch(d.pending);
  return Status::ok();
}

// What one client thread saw.
struct Stats {
  std::vector<double> pushMs;
  std::vector<double> pullMs;
  std::int64_t pushes = 0;
  std::int64_t pulls = 0;
  std::int64_t opsStored = 0;      // newly stored, as the server said
  std::int64_t opsDuplicate = 0;   // already stored (a retried batch)
  std::int64_t opsRejected = 0;
  std::int64_t opsPulled = 0;
  std::int64_t failedRequests = 0;
  std::int64_t badAnswers = 0;     // 200 but not the expected shape or counts
  std::int64_t pullGaps = 0;       // a pull whose op count did not match its cursor step
  std::vector<std::pair<std::int64_t, crdt::OpId>> acked;  // (server seq, op id)
  std::vector<std::string> problems;  // the first few, for stderr

  void problem(std::string text) {
    if (problems.size() < 5) problems.push_back(std::move(text));
  }
  void merge(Stats&& o) {
    pushMs.insert(pushMs.end(), o.pushMs.begin(), o.pushMs.end());
    pullMs.insert(pullMs.end(), o.pullMs.begin(), o.pullMs.end());
    pushes += o.pushes;
    pulls += o.pulls;
    opsStored += o.opsStored;
    opsDuplicate += o.opsDuplicate;
    opsRejected += o.opsRejected;
    opsPulled += o.opsPulled;
    failedRequests += o.failedRequests;
    badAnswers += o.badAnswers;
    pullGaps += o.pullGaps;
    acked.insert(acked.end(), o.acked.begin(), o.acked.end());
    for (std::string& p : o.problems) problem(std::move(p));
  }
};

// Reads a push answer: every op of the batch must come back stored (or as a
// duplicate of a stored op) with its sequence.
void readPush(const std::string& body, const Device& d, Stats& st) {
  const auto v = parseObject(body);
  const sjson::Value* seqs = v ? v->find("seqs") : nullptr;
  const sjson::Value* rejected = v ? v->find("rejected") : nullptr;
  const auto stored = v ? intMember(*v, "stored") : std::nullopt;
  const auto dups = v ? intMember(*v, "duplicates") : std::nullopt;
  if (!seqs || !seqs->asArray() || seqs->asArray()->size() != d.pending.size() || !stored || !dups ||
      !rejected || !rejected->asArray()) {
    ++st.badAnswers;
    st.problem("push answer of unexpected shape: " + body.substr(0, 300));
    return;
  }
  st.opsStored += *stored;
  st.opsDuplicate += *dups;
  if (!rejected->asArray()->empty()) {
    st.opsRejected += static_cast<std::int64_t>(rejected->asArray()->size());
    st.problem("ops rejected: " + sjson::serialize(*rejected).substr(0, 300));
  }
  const sjson::Array& list = *seqs->asArray();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto seq = list[i].asInt();
    if (seq && *seq > 0) st.acked.emplace_back(*seq, d.pending[i].id);
  }
}

struct PullPage {
  std::size_t count = 0;
  std::int64_t next = 0;
  bool more = false;
  const sjson::Array* ops = nullptr;
};

std::optional<PullPage> readPull(const sjson::Value& v) {
  const sjson::Value* ops = v.find("ops");
  const sjson::Value* more = v.find("more");
  const auto next = intMember(v, "next");
  if (!ops || !ops->asArray() || !more || !more->asBool() || !next) return std::nullopt;
  return PullPage{ops->asArray()->size(), *next, *more->asBool(), ops->asArray()};
}

// One device's turn: push its batch, then pull since its cursor (one page).
void cycle(Device& d, HttpClient& http, Stats& st, std::size_t batch) {
  if (d.pending.empty()) {
    if (Status s = makeBatch(d, batch); !s.isOk()) {
      ++st.badAnswers;
      st.problem("the device's own chart refused its op: " + s.toString());
      return;
    }
  }
  auto t0 = SteadyClock::now();
  HttpResult r = http.post("/v1/sync/push", d.pendingBody, d.auth, "application/x-charta-ops");
  auto t1 = SteadyClock::now();
  if (r.status == 200) {
    st.pushMs.push_back(msBetween(t0, t1));
    ++st.pushes;
    readPush(r.body, d, st);
    d.pending.clear();
  } else {
    ++st.failedRequests;  // the batch is pushed again on the device's next turn
    st.problem("push: " + describe(r));
  }

  const std::int64_t since = d.cursor;
  t0 = SteadyClock::now();
  r = http.get("/v1/sync/pull?since=" + std::to_string(since), d.auth);
  t1 = SteadyClock::now();
  if (r.status != 200) {
    ++st.failedRequests;
    st.problem("pull: " + describe(r));
    return;
  }
  st.pullMs.push_back(msBetween(t0, t1));
  ++st.pulls;
  const auto v = parseObject(r.body);
  const auto page = v ? readPull(*v) : std::nullopt;
  if (!page) {
    ++st.badAnswers;
    st.problem("pull answer of unexpected shape: " + r.body.substr(0, 300));
    return;
  }
  // One clinic, no moves: every sequence up to the head is one of its ops,
  // so a page holds exactly next - since of them.
  if (page->next - since != static_cast<std::int64_t>(page->count)) {
    ++st.pullGaps;
    st.problem("pull since " + std::to_string(since) + " returned " + std::to_string(page->count) +
               " ops but next " + std::to_string(page->next));
  }
  st.opsPulled += static_cast<std::int64_t>(page->count);
  d.cursor = std::max(d.cursor, page->next);
}

// Runs fn(i, clients) for i in [0, n) on `threads` threads; clients holds one
// HttpClient per server URL, owned by the calling thread.
template <typename Fn>
void parallelFor(std::size_t n, std::size_t threads, const std::vector<std::string>& urls, Fn fn) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < std::max<std::size_t>(1, threads); ++t) {
    pool.emplace_back([&] {
      std::vector<std::unique_ptr<HttpClient>> clients;
      for (const std::string& u : urls) clients.push_back(std::make_unique<HttpClient>(u));
      for (std::size_t i = next++; i < n && !g_interrupted; i = next++) fn(i, clients);
    });
  }
  for (std::thread& t : pool) t.join();
}

// Enrols every device (one enrolment code each, issued by the demo sysadmin)
// on its server and signs the demo nurse in on it.
Status setUpDevices(const Options& opt, const std::vector<std::string>& urls, std::vector<Device>& devices) {
  HttpClient adminHttp(urls[0]);
  const HttpResult login = adminHttp.post(
      "/v1/login", sjson::serialize(sjson::Object{{"username", "admin"}, {"password", "demo-admin-pass"}}));
  const auto loginBody = parseObject(login.body);
  if (login.status != 200 || !loginBody) return Status::ioError("sysadmin sign-in: " + describe(login));
  const HeaderList adminAuth = {{"Authorization", "Bearer " + stringMember(*loginBody, "token")}};

  devices.clear();
  devices.resize(opt.devices);
  std::mutex mu;
  std::string firstError;
  const auto failed = [&](const std::string& what) {
    std::lock_guard lock(mu);
    if (firstError.empty()) firstError = what;
  };
  // Two at a time: a sign-in hashes a password (Argon2id, 64 MiB), and the
  // machine has few cores.
  parallelFor(devices.size(), 2, urls, [&](std::size_t i, std::vector<std::unique_ptr<HttpClient>>& clients) {
    Device& d = devices[i];
    d.index = i;
    d.server = i % urls.size();
    HttpClient& http = *clients[d.server];
    const HttpResult code = clients[0]->post("/v1/admin/enrolment-codes",
                                             sjson::serialize(sjson::Object{{"clinic", "demo"}}), adminAuth);
    const auto codeBody = parseObject(code.body);
    if (code.status != 201 || !codeBody) return failed("enrolment code: " + describe(code));
    const HttpResult enrol = http.post(
        "/v1/enrol", sjson::serialize(sjson::Object{{"code", stringMember(*codeBody, "code")},
                                                    {"name", "bench tablet " + std::to_string(i)}}));
    const auto enrolBody = parseObject(enrol.body);
    if (enrol.status != 200 || !enrolBody) return failed("enrolment: " + describe(enrol));
    d.id = stringMember(*enrolBody, "device_id");
    d.secret = stringMember(*enrolBody, "device_secret");
    d.replica = std::strtoull(stringMember(*enrolBody, "replica_id").c_str(), nullptr, 10);
    if (d.id.empty() || d.secret.empty() || d.replica == 0) return failed("enrolment answer: " + enrol.body);
    const HeaderList device = {{"X-Charta-Device", d.id + ":" + d.secret}};
    const HttpResult nurse = http.post(
        "/v1/login", sjson::serialize(sjson::Object{{"username", "nurse"}, {"password", "demo-nurse-pass"}}),
        device);
    const auto nurseBody = parseObject(nurse.body);
    if (nurse.status != 200 || !nurseBody) return failed("nurse sign-in: " + describe(nurse));
    d.auth = device;
    d.auth.emplace_back("Authorization", "Bearer " + stringMember(*nurseBody, "token"));
    d.factory = std::make_unique<crdt::OpFactory>(crdt::ReplicaId{d.replica}, wallClock(), 1);
    d.factory->setUser("nurse");
    for (std::size_t k = 0; k < opt.patientsPerDevice; ++k) {
      d.charts.push_back(
          std::make_unique<crdt::ChartDocument>("bench-" + std::to_string(i) + "-" + std::to_string(k)));
    }
  });
  if (g_interrupted) return Status::ioError("interrupted");
  if (!firstError.empty()) return Status::ioError(firstError);
  return Status::ok();
}

struct TimedRun {
  Stats stats;
  double wallS = 0;
};

// Every client thread takes its share of the devices round robin until the
// time is up; the run ends when the last thread's last cycle does.
TimedRun runTimed(const Options& opt, const std::vector<std::string>& urls, std::vector<Device>& devices,
                  const std::function<void()>& atStart) {
  const std::size_t workers = std::max<std::size_t>(1, std::min(opt.clients, devices.size()));
  std::vector<Stats> stats(workers);
  std::vector<SteadyClock::time_point> ends(workers);
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> go{false};
  std::atomic<std::int64_t> failures{0};
  SteadyClock::time_point start;
  SteadyClock::time_point deadline;
  std::vector<std::thread> pool;
  for (std::size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      std::vector<std::unique_ptr<HttpClient>> clients;
      for (const std::string& u : urls) clients.push_back(std::make_unique<HttpClient>(u));
      std::vector<Device*> mine;
      for (std::size_t i = w; i < devices.size(); i += workers) mine.push_back(&devices[i]);
      Stats& st = stats[w];
      st.pushMs.reserve(4096);
      st.pullMs.reserve(4096);
      ++ready;
      while (!go.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(200));
      for (std::size_t k = 0; SteadyClock::now() < deadline && !g_interrupted && failures.load() < kMaxFailures;
           k = (k + 1) % mine.size()) {
        const std::int64_t before = st.failedRequests + st.badAnswers;
        cycle(*mine[k], *clients[mine[k]->server], st, opt.batch);
        failures += st.failedRequests + st.badAnswers - before;
      }
      ends[w] = SteadyClock::now();
    });
  }
  while (ready.load() < workers) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  atStart();
  start = SteadyClock::now();
  deadline = start + std::chrono::microseconds(static_cast<std::int64_t>(opt.seconds * 1e6));
  go.store(true, std::memory_order_release);
  for (std::thread& t : pool) t.join();
  TimedRun out;
  out.wallS = std::chrono::duration<double>(*std::max_element(ends.begin(), ends.end()) - start).count();
  for (Stats& s : stats) out.stats.merge(std::move(s));
  return out;
}

// Server-side handling time of pushes and pulls from /metrics (sum and count
// of charta_sync_latency_seconds), added over the processes.
struct ServerLatency {
  double pushSum = 0;
  double pushCount = 0;
  double pullSum = 0;
  double pullCount = 0;
};

void addServerLatency(const std::string& url, ServerLatency& out) {
  HttpClient http(url);
  const HttpResult r = http.get("/metrics");
  if (r.status != 200) return;
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    const auto value = [&] { return std::atof(line.c_str() + line.rfind(' ') + 1); };
    if (line.rfind("charta_sync_latency_seconds_sum{kind=\"push\"}", 0) == 0) out.pushSum += value();
    if (line.rfind("charta_sync_latency_seconds_count{kind=\"push\"}", 0) == 0) out.pushCount += value();
    if (line.rfind("charta_sync_latency_seconds_sum{kind=\"pull\"}", 0) == 0) out.pullSum += value();
    if (line.rfind("charta_sync_latency_seconds_count{kind=\"pull\"}", 0) == 0) out.pullCount += value();
  }
}

// Pulls everything from sequence 0 through one server, as `d`, and checks that
// the op at each acknowledged sequence is the op that was acknowledged there,
// and that nothing else is stored.
struct Verification {
  bool ok = false;
  std::int64_t pulled = 0;
  std::string problem;
};

Verification verifyPullBack(const std::string& url, const Device& d,
                            const std::vector<std::pair<std::int64_t, crdt::OpId>>& acked) {
  Verification out;
  HttpClient http(url);
  std::vector<crdt::OpId> bySeq;  // bySeq[s - 1]: the op stored at sequence s
  std::int64_t cursor = 0;
  for (;;) {
    if (g_interrupted) {
      out.problem = "interrupted";
      return out;
    }
    const HttpResult r = http.get("/v1/sync/pull?since=" + std::to_string(cursor), d.auth);
    const auto v = r.status == 200 ? parseObject(r.body) : std::nullopt;
    const auto page = v ? readPull(*v) : std::nullopt;
    if (!page) {
      out.problem = "pull since " + std::to_string(cursor) + ": " + describe(r);
      return out;
    }
    if (page->next - cursor != static_cast<std::int64_t>(page->count)) {
      out.problem = "pull since " + std::to_string(cursor) + " returned " + std::to_string(page->count) +
                    " ops but next " + std::to_string(page->next);
      return out;
    }
    for (const sjson::Value& item : *page->ops) {
      const std::string* text = item.asString();
      const auto bytes = text ? base64Decode(*text) : std::nullopt;
      auto op = bytes ? crdt::decodeOp(*bytes) : crdt::Result<crdt::Op>(Status::corruption("not base64"));
      if (!op.isOk()) {
        out.problem = "pulled op " + std::to_string(bySeq.size() + 1) + " does not decode: " + op.status().toString();
        return out;
      }
      bySeq.push_back(op.value().id);
    }
    cursor = page->next;
    if (!page->more) break;
  }
  out.pulled = static_cast<std::int64_t>(bySeq.size());
  std::int64_t missing = 0;
  for (const auto& [seq, id] : acked) {
    if (seq < 1 || seq > out.pulled || bySeq[static_cast<std::size_t>(seq - 1)] != id) ++missing;
  }
  if (missing > 0) {
    out.problem = std::to_string(missing) + " of " + std::to_string(acked.size()) +
                  " acknowledged ops are not where the server said it stored them";
  } else if (out.pulled != static_cast<std::int64_t>(acked.size())) {
    out.problem = "pulled " + std::to_string(out.pulled) + " ops, but " + std::to_string(acked.size()) +
                  " were acknowledged";
  }
  out.ok = out.problem.empty();
  return out;
}

// --- one configuration --------------------------------------------------------

struct ConfigResult {
  const ConfigSpec* spec = nullptr;
  double setupS = 0;
  double wallS = 0;
  double verifyS = 0;
  Stats stats;
  std::int64_t distinctAcked = 0;
  bool ackedConsistent = true;  // no sequence acknowledged for two different ops
  double ingest = 0;
  double pulledPerS = 0;
  double pushP50 = 0, pushP99 = 0, pullP50 = 0, pullP99 = 0;
  std::vector<double> peakRssMiB;
  bool rssReset = true;
  double benchCpuS = 0;
  double postgresCpuS = 0;
  std::vector<double> serverCpuS;
  double machineBusyS = 0;
  double machineCapacityS = 0;
  ServerLatency serverLatency;
  std::vector<Verification> verified;  // one per server process
  std::vector<int> exitCodes;
};

crdt::Result<ConfigResult> runConfiguration(const Options& opt, const ConfigSpec& spec, const PgCluster& pg) {
  ConfigResult out;
  out.spec = &spec;
  const std::string dir = opt.workDir + "/" + spec.name;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (Status s = makeDirectories(dir); !s.isOk()) return s;

  const auto setupStart = SteadyClock::now();
  std::string conninfo;
  if (spec.postgres) {
    std::string error;
    conninfo = test::newPostgresDatabase(&error);
    if (conninfo.empty()) return Status::ioError("cannot create a PostgreSQL database: " + error);
  }
  std::vector<std::unique_ptr<ServerProcess>> servers;
  std::vector<std::string> urls;
  for (std::size_t p = 0; p < spec.processes; ++p) {
    // One at a time: the first creates the demo clinic in the empty store.
    servers.push_back(std::make_unique<ServerProcess>());
    Status s = servers.back()->start(opt.serverBin, dir + "/server-" + std::to_string(p), conninfo, p == 0,
                                     &g_interrupted);
    if (!s.isOk()) return s;
    urls.push_back(servers.back()->url());
    progress(std::string(spec.name) + ": charta-server " + std::to_string(p + 1) + " listening at " + urls.back() +
             " (pid " + std::to_string(servers.back()->pid()) + ")");
  }
  std::vector<Device> devices;
  progress(std::string(spec.name) + ": enrolling and signing in " + std::to_string(opt.devices) + " devices");
  if (Status s = setUpDevices(opt, urls, devices); !s.isOk()) return s;
  out.setupS = secondsSince(setupStart);

  for (const auto& srv : servers) out.rssReset = srv->resetPeakRss() && out.rssReset;
  progress(std::string(spec.name) + ": " + std::to_string(opt.devices) + " devices on " +
           std::to_string(std::min(opt.clients, opt.devices)) + " client threads, " +
           JsonWriter::number(opt.seconds) + " s");
  MachineCpu cpu0;
  double self0 = 0;
  double pg0 = 0;
  std::vector<double> server0;
  TimedRun run = runTimed(opt, urls, devices, [&] {
    cpu0 = machineCpu();
    self0 = selfCpuSeconds();
    pg0 = spec.postgres ? pg.cpuSeconds() : 0;
    for (const auto& srv : servers) server0.push_back(srv->cpuSeconds());
  });
  const MachineCpu cpu1 = machineCpu();
  out.benchCpuS = selfCpuSeconds() - self0;
  out.postgresCpuS = spec.postgres ? pg.cpuSeconds() - pg0 : 0;
  for (std::size_t p = 0; p < servers.size(); ++p) {
    out.serverCpuS.push_back(servers[p]->cpuSeconds() - server0[p]);
    out.peakRssMiB.push_back(static_cast<double>(servers[p]->peakRssKiB()) / 1024.0);
  }
  out.machineBusyS = cpu1.busy - cpu0.busy;
  out.machineCapacityS = cpu1.total - cpu0.total;
  for (const std::string& u : urls) addServerLatency(u, out.serverLatency);
  if (g_interrupted) return Status::ioError("interrupted");

  out.wallS = run.wallS;
  out.stats = std::move(run.stats);
  Stats& st = out.stats;
  out.ingest = static_cast<double>(st.opsStored) / out.wallS;
  out.pulledPerS = static_cast<double>(st.opsPulled) / out.wallS;
  out.pushP50 = percentile(st.pushMs, 0.50);
  out.pushP99 = percentile(st.pushMs, 0.99);
  out.pullP50 = percentile(st.pullMs, 0.50);
  out.pullP99 = percentile(st.pullMs, 0.99);
  for (const std::string& p : st.problems) progress(std::string(spec.name) + ": problem: " + p);

  std::sort(st.acked.begin(), st.acked.end());
  st.acked.erase(std::unique(st.acked.begin(), st.acked.end()), st.acked.end());
  for (std::size_t i = 1; i < st.acked.size(); ++i) {
    if (st.acked[i].first == st.acked[i - 1].first) out.ackedConsistent = false;
  }
  out.distinctAcked = static_cast<std::int64_t>(st.acked.size());

  progress(std::string(spec.name) + ": " + JsonWriter::number(out.ingest) + " ops/s ingested; checking that all " +
           std::to_string(out.distinctAcked) + " acknowledged ops pull back");
  const auto verifyStart = SteadyClock::now();
  for (std::size_t p = 0; p < servers.size(); ++p) {
    out.verified.push_back(verifyPullBack(urls[p], devices[p], st.acked));
    if (!out.verified.back().ok) {
      progress(std::string(spec.name) + ": server " + std::to_string(p + 1) + ": " + out.verified.back().problem);
    }
  }
  out.verifyS = secondsSince(verifyStart);
  for (const auto& srv : servers) out.exitCodes.push_back(srv->stop());
  return out;
}

// --- the report -----------------------------------------------------------------

struct Row {
  std::string name;
  std::string unit;
  bool higherIsBetter = false;
  std::string description;
  std::vector<double> values;  // one per configuration run
};

struct Goal {
  std::string text;
  double target;
  double actual;
  bool higherIsBetter;
  bool met() const { return higherIsBetter ? actual >= target : actual < target; }
};

struct Checks {
  std::vector<std::pair<std::string, bool>> list;
  void add(std::string name, bool ok) { list.emplace_back(std::move(name), ok); }
  bool allOk() const {
    return std::all_of(list.begin(), list.end(), [](const auto& c) { return c.second; });
  }
};

double maxOf(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
double sumOf(const std::vector<double>& v) {
  double s = 0;
  for (const double x : v) s += x;
  return s;
}

std::string report(const Options& opt, const std::vector<ConfigResult>& results, const std::vector<Row>& rows,
                   const std::vector<Goal>& goals, const Checks& checks, const std::string& pgVersion) {
  JsonWriter j;
  j.beginObject().field("suite", "server").field("quick", opt.quick);
  j.field("statistic",
          "one timed run of " + JsonWriter::number(opt.seconds) +
              " s per configuration; latencies are client-side round trips (request sent to answer read) of "
              "every push and pull answered in that time, percentiles by nearest rank; ingest is the ops the "
              "servers acknowledged as newly stored divided by the wall time of the run");
  j.key("workload").beginObject();
  j.field("devices", opt.devices).field("client_threads", std::min(opt.clients, opt.devices));
  j.field("ops_per_push", opt.batch).field("patients_per_device", opt.patientsPerDevice);
  j.field("seconds_per_configuration", opt.seconds);
  j.field("description",
          "every device is enrolled and signed in before the clock starts; then each client thread takes its "
          "devices round robin, and each device's turn is one push of a new batch (one op in five a "
          "demographics write, the rest vital-sign observations, over the device's own patients, made with the "
          "device's OpFactory against its own copy of each chart) followed by one pull since its cursor (one "
          "page, the server's default size); all devices are in one clinic, so every pull returns other devices' "
          "ops too. Afterwards every acknowledged op must pull back from sequence 0 through every server process");
  j.endObject();
  j.key("environment").beginObject();
  j.field("cpus", static_cast<long>(std::thread::hardware_concurrency()));
  j.field("postgres", pgVersion.empty() ? std::string("not used") : pgVersion);
  j.field("peak_rss_reset_after_setup",
          std::all_of(results.begin(), results.end(), [](const ConfigResult& r) { return r.rssReset; }));
  j.endObject();

  j.key("configurations").beginArray();
  for (const ConfigResult& r : results) {
    const Stats& st = r.stats;
    j.beginObject().field("name", r.spec->name).field("description", r.spec->description);
    j.field("store", r.spec->postgres ? "postgres" : "sqlite").field("server_processes", r.spec->processes);
    j.field("setup_s", r.setupS).field("run_s", r.wallS).field("verify_s", r.verifyS);
    j.field("pushes", st.pushes).field("pulls", st.pulls);
    j.field("ops_acknowledged", st.opsStored).field("ops_duplicate", st.opsDuplicate);
    j.field("ops_rejected", st.opsRejected).field("ops_pulled", st.opsPulled);
    j.field("failed_requests", st.failedRequests).field("unexpected_answers", st.badAnswers);
    j.field("pull_gaps", st.pullGaps);
    j.numbers("server_peak_rss_mib", r.peakRssMiB);
    j.key("cpu_s").beginObject();
    j.field("bench_client", r.benchCpuS).numbers("servers", r.serverCpuS).field("postgres", r.postgresCpuS);
    j.field("rest_of_machine", r.machineBusyS - r.benchCpuS - sumOf(r.serverCpuS) - r.postgresCpuS);
    j.field("machine_busy", r.machineBusyS).field("machine_capacity", r.machineCapacityS);
    j.endObject();
    j.key("server_mean_ms").beginObject();
    const ServerLatency& sl = r.serverLatency;
    j.field("push", sl.pushCount > 0 ? sl.pushSum / sl.pushCount * 1000 : 0.0);
    j.field("pull", sl.pullCount > 0 ? sl.pullSum / sl.pullCount * 1000 : 0.0);
    j.endObject();
    j.key("pulled_back").beginArray();
    for (const Verification& v : r.verified) j.value(static_cast<double>(v.pulled));
    j.endArray();
    j.endObject();
  }
  j.endArray();

  j.key("results").beginArray();
  for (const Row& row : rows) {
    j.beginObject().field("name", row.name).field("unit", row.unit);
    j.key("values").beginObject();
    for (std::size_t i = 0; i < results.size(); ++i) j.field(results[i].spec->name, row.values[i]);
    j.endObject();
    j.field("better", row.higherIsBetter ? "higher" : "lower");
    j.field("description", row.description).endObject();
  }
  j.endArray();

  j.key("goals").beginArray();
  for (const Goal& g : goals) {
    j.beginObject().field("goal", g.text).field("target", g.target).field("actual", g.actual);
    j.field("better", g.higherIsBetter ? "higher" : "lower").field("met", g.met()).endObject();
  }
  j.endArray();
  j.key("checks").beginObject();
  for (const auto& [name, ok] : checks.list) j.field(name, ok);
  j.endObject();
  j.field("ok", checks.allOk()).endObject();
  return j.str();
}

void printTable(const std::vector<ConfigResult>& results, const std::vector<Row>& rows,
                const std::vector<Goal>& goals, const Checks& checks) {
  std::printf("%-22s %-6s", "figure", "unit");
  for (const ConfigResult& r : results) std::printf(" %14s", r.spec->name);
  std::printf("\n");
  for (const Row& row : rows) {
    std::printf("%-22s %-6s", row.name.c_str(), row.unit.c_str());
    for (const double v : row.values) std::printf(" %14s", JsonWriter::number(v).c_str());
    std::printf("\n");
  }
  for (const Goal& g : goals) {
    std::printf("goal %-48s %s (%s)\n", g.text.c_str(), g.met() ? "met" : "NOT met",
                JsonWriter::number(g.actual).c_str());
  }
  for (const auto& [name, ok] : checks.list) std::printf("check %-47s %s\n", name.c_str(), ok ? "ok" : "FAILED");
}

int run(Options opt) {
  const std::string exeDir = executableDir();
  if (opt.workDir.empty()) opt.workDir = exeDir + "/server-bench";
  if (opt.serverBin.empty() || access(opt.serverBin.c_str(), X_OK) != 0) {
    return fail(Status::notFound("no charta-server executable at '" + opt.serverBin + "'"), "--server-bin");
  }
  std::vector<const ConfigSpec*> specs;
  for (const ConfigSpec& c : kConfigs) {
    if (opt.configs.empty() || std::find(opt.configs.begin(), opt.configs.end(), c.name) != opt.configs.end()) {
      specs.push_back(&c);
    }
  }
  if (Status s = makeDirectories(opt.workDir); !s.isOk()) return fail(s, "work folder");
  installSignalHandlers();

  PgCluster pg;
  if (std::any_of(specs.begin(), specs.end(), [](const ConfigSpec* c) { return c->postgres; })) {
    progress("starting a throwaway PostgreSQL cluster");
    const std::string state = opt.workDir + "/pg-cluster";
    if (Status s = pg.start(opt.pgCluster, state); !s.isOk()) return fail(s, "PostgreSQL");
    // newPostgresDatabase() finds the cluster through this variable. Set
    // before any thread of this process exists.
    ::setenv("CHARTA_TEST_PG_STATE", state.c_str(), 1);
  }

  std::vector<ConfigResult> results;
  for (const ConfigSpec* spec : specs) {
    auto r = runConfiguration(opt, *spec, pg);
    if (!r.isOk()) return fail(r.status(), std::string("configuration ") + spec->name);
    results.push_back(std::move(r).value());
  }
  pg.stop();

  const auto column = [&](auto get) {
    std::vector<double> v;
    for (const ConfigResult& r : results) v.push_back(get(r));
    return v;
  };
  std::vector<Row> rows = {
      {"ingest", "ops/s", true, "ops acknowledged as newly stored per second of the run, all devices together",
       column([](const ConfigResult& r) { return r.ingest; })},
      {"push_latency_p50", "ms", false, "median round trip of a push of one batch",
       column([](const ConfigResult& r) { return r.pushP50; })},
      {"push_latency_p99", "ms", false, "99th percentile round trip of a push of one batch",
       column([](const ConfigResult& r) { return r.pushP99; })},
      {"pull_latency_p50", "ms", false, "median round trip of a pull of one page since the device's cursor",
       column([](const ConfigResult& r) { return r.pullP50; })},
      {"pull_latency_p99", "ms", false, "99th percentile round trip of a pull of one page",
       column([](const ConfigResult& r) { return r.pullP99; })},
      {"pulled", "ops/s", true, "ops delivered to devices by pulls per second of the run",
       column([](const ConfigResult& r) { return r.pulledPerS; })},
      {"server_peak_rss", "MiB", false,
       "peak resident memory (VmHWM) of a server process during the run (the larger one of two); reset after "
       "set-up, so the password hashing of the sign-ins is not counted",
       column([](const ConfigResult& r) { return maxOf(r.peakRssMiB); })},
  };

  std::vector<Goal> goals;
  Checks checks;
  const ConfigResult* pgOne = nullptr;
  const ConfigResult* pgTwo = nullptr;
  for (const ConfigResult& r : results) {
    const std::string n = r.spec->name;
    goals.push_back({n + ": ingest at least 20000 ops/s", kIngestGoal, r.ingest, true});
    goals.push_back({n + ": push p99 under 200 ms", kP99GoalMs, r.pushP99, false});
    goals.push_back({n + ": pull p99 under 200 ms", kP99GoalMs, r.pullP99, false});
    const Stats& st = r.stats;
    checks.add(n + "_pushes_and_pulls_answered", st.pushes > 0 && st.pulls > 0 && st.failedRequests == 0);
    checks.add(n + "_answers_as_expected", st.badAnswers == 0 && r.ackedConsistent);
    checks.add(n + "_no_op_rejected", st.opsRejected == 0);
    checks.add(n + "_pulls_without_gaps", st.pullGaps == 0);
    checks.add(n + "_all_acknowledged_ops_pulled_back",
               !r.verified.empty() && std::all_of(r.verified.begin(), r.verified.end(),
                                                  [](const Verification& v) { return v.ok; }));
    checks.add(n + "_servers_stopped_cleanly",
               std::all_of(r.exitCodes.begin(), r.exitCodes.end(), [](int c) { return c == 0; }));
    if (n == "postgres") pgOne = &r;
    if (n == "postgres_x2") pgTwo = &r;
  }
  if (pgOne != nullptr && pgTwo != nullptr) {
    goals.push_back({"postgres_x2: at least 1.5x the ingest of postgres", kScalingGoal,
                     pgOne->ingest > 0 ? pgTwo->ingest / pgOne->ingest : 0.0, true});
  }

  const std::string json = report(opt, results, rows, goals, checks, pg.version());
  const std::string lastRun = exeDir + (opt.quick ? "/server-bench-last-quick.json" : "/server-bench-last.json");
  if (Status s = writeFile(lastRun, json + "\n"); !s.isOk()) progress("warning: " + s.toString());
  if (opt.json) {
    std::printf("%s\n", json.c_str());
  } else {
    printTable(results, rows, goals, checks);
  }
  if (!checks.allOk()) {
    progress("error: a check failed (see \"checks\" in the report)");
    return 1;
  }
  return 0;
}

bool parseCount(const char* text, std::size_t& out) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > 100000) return false;
  out = static_cast<std::size_t>(v);
  return true;
}

bool parseSeconds(const char* text, double& out) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v > 0) || v > 86400) return false;
  out = v;
  return true;
}

}  // namespace

int serverBenchMain(int argc, char** argv) {
  Options opt;
  bool secondsGiven = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool hasValue = i + 1 < argc;
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--seconds" && hasValue) {
      if (!parseSeconds(argv[++i], opt.seconds)) return usage();
      secondsGiven = true;
    } else if (a == "--devices" && hasValue) {
      if (!parseCount(argv[++i], opt.devices)) return usage();
    } else if (a == "--clients" && hasValue) {
      if (!parseCount(argv[++i], opt.clients)) return usage();
    } else if (a == "--batch" && hasValue) {
      if (!parseCount(argv[++i], opt.batch)) return usage();
    } else if (a == "--configs" && hasValue) {
      std::stringstream list(argv[++i]);
      std::string name;
      while (std::getline(list, name, ',')) {
        const bool known = std::any_of(std::begin(kConfigs), std::end(kConfigs),
                                       [&](const ConfigSpec& c) { return name == c.name; });
        if (!known) return usage();
        opt.configs.push_back(name);
      }
      if (opt.configs.empty()) return usage();
    } else if (a == "--server-bin" && hasValue) {
      opt.serverBin = argv[++i];
    } else if (a == "--pg-cluster" && hasValue) {
      opt.pgCluster = argv[++i];
    } else if (a == "--work-dir" && hasValue) {
      opt.workDir = argv[++i];
    } else {
      return usage();
    }
  }
  if (!secondsGiven) {
    const char* env = std::getenv(kSecondsEnv);
    if (env != nullptr && *env != '\0') {
      if (!parseSeconds(env, opt.seconds)) {
        std::fprintf(stderr, "charta-bench: error: %s must be a number of seconds\n", kSecondsEnv);
        return 2;
      }
    } else if (opt.quick) {
      opt.seconds = kQuickSeconds;
    }
  }
  return run(std::move(opt));
}

}  // namespace charta::bench
