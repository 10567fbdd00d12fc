#include "bench_sync.h"

#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench_http.h"
#include "bench_json.h"
#include "bench_peers.h"
#include "bench_process.h"
#include "bench_server_process.h"
#include "charta/crdt/chart_document.h"
#include "charta/crdt/op_codec.h"
#include "charta/crdt/op_factory.h"
#include "charta/crdt/schema.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/crypto.h"
#include "charta/sync/engine.h"
#include "charta/sync/replica.h"
#include "charta/sync/transport.h"
#include "json.h"
#include "random_edits.h"
#include "support/http_client.h"

namespace charta::bench {
namespace {

namespace sjson = server::json;
using crdt::ChartDocument;
using crdt::Collection;
using crdt::FieldRef;
using crdt::FieldValue;
using crdt::Op;
using crdt::OpFactory;
using crdt::Status;
using crdt::Value;
using platform::PassphraseVault;
using test::HeaderList;
using test::HttpClient;
using test::HttpResult;
using SteadyClock = std::chrono::steady_clock;
namespace field = crdt::field;

// The goals of the issue (reported, never enforced).
constexpr double kColdGoalMs = 5000;
constexpr double kColdRatioGoal = 10;
constexpr double kIncrementalGoalMs = 10;
constexpr double kIncrementalRatioGoal = 3;
constexpr double kIncrementalRequestsGoal = 2;  // one push, one pull
constexpr double kOverheadGoalPct = 15;

// The server takes up to 10,000 ops per push (push_max_ops).
constexpr std::size_t kSeedBatchOps = 10000;
constexpr const char* kNurse = "nurse";
constexpr const char* kNursePassword = "demo-nurse-pass";
constexpr const char* kPassphrase = "bench tablet passphrase";
// The replica id of the (c) stores, which never talk to a server: any id
// that no pulled op carries.
constexpr std::uint64_t kStoreReplica = 990001;
constexpr int kArgonRuns = 3;

#ifdef CHARTA_BENCH_SERVER_BIN
constexpr const char* kDefaultServerBin = CHARTA_BENCH_SERVER_BIN;
#else
constexpr const char* kDefaultServerBin = "";
#endif

struct Sizes {
  std::size_t patients;
  std::size_t opsPerPatient;
  std::size_t edits;          // (b) local edits per round
  std::size_t otherOps;       // (b) ops another device pushes per round
  int coldRuns;               // (a) fresh devices
  int incrementalRounds;      // (b)
  std::size_t storePatients;  // (c) patients whose ops are written and read
  std::size_t storePageOps;   // (c) ops per pulled page
  int storeRounds;            // (c) per variant
  int unlockRuns;             // (d)
};

constexpr Sizes kFullSizes{2000, 100, 100, 100, 3, 5, 200, 2000, 11, 5};
constexpr Sizes kQuickSizes{50, 20, 20, 20, 3, 3, 50, 200, 3, 3};

struct Options {
  bool json = false;
  bool quick = false;
  bool skipPeer = false;
  std::string serverBin = kDefaultServerBin;
  std::string workDir;
  std::string peersDir;
};

int usage() {
  std::fprintf(stderr,
               "usage: charta-bench sync [--json] [--quick] [--skip-peer] [--server-bin PATH] [--work-dir DIR]\n"
               "                         [--peers-dir DIR]\n"
               "  --json             print the report as one JSON object on stdout\n"
               "  --quick            50 patients x 20 ops instead of 2,000 x 100 (smoke test)\n"
               "  --skip-peer        do not run PouchDB (no ratios)\n"
               "  --server-bin PATH  the charta-server executable (default: the one built with the bench)\n"
               "  --work-dir DIR     server data, replicas and logs (default: sync-bench/ next to the executable)\n"
               "  --peers-dir DIR    where PouchDB is installed (default: peers-pouch/ next to the executable)\n");
  return 2;
}

int fail(const Status& s, const std::string& what) {
  std::fprintf(stderr, "charta-bench: error: %s: %s\n", what.c_str(), s.toString().c_str());
  return 2;
}

double toDouble(std::uint64_t v) { return static_cast<double>(v); }

// Wall time and the calling thread's CPU time since construction.
class Stopwatch {
 public:
  Stopwatch() : m_wall(SteadyClock::now()), m_cpu(threadCpuMs()) {}
  double ms() const { return msSince(m_wall); }
  double cpuMs() const { return threadCpuMs() - m_cpu; }

 private:
  static double threadCpuMs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1000 + static_cast<double>(ts.tv_nsec) / 1e6;
  }

  SteadyClock::time_point m_wall;
  double m_cpu;
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// --- /proc and sockets ---------------------------------------------------------


double selfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double loadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  in >> one;
  return one;
}

// TCP payload bytes (HTTP headers and bodies, as the peer counts them on its
// server's sockets) of this process's connections to one port, per socket,
// from the kernel's TCP_INFO: no proxy in the path, so the timing is not
// disturbed. Keyed by the socket's inode.
struct SocketBytes {
  std::uint64_t sent = 0;  // acknowledged by the server
  std::uint64_t received = 0;
};
using SocketTable = std::map<std::string, SocketBytes>;

SocketTable socketsTo(std::uint16_t port) {
  SocketTable out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code lec;
    const std::string link = std::filesystem::read_symlink(entry.path(), lec).string();
    if (lec || link.rfind("socket:", 0) != 0) continue;
    const int fd = std::atoi(name.c_str());
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0 || peer.ss_family != AF_INET) continue;
    if (ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port) != port) continue;
    tcp_info info{};
    socklen_t infoLen = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &infoLen) != 0) continue;
    out[link] = SocketBytes{info.tcpi_bytes_acked, info.tcpi_bytes_received};
  }
  return out;
}

struct WireBytes {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::size_t socketsClosed = 0;  // connections gone between the readings: their last bytes are not counted
};

WireBytes wireDelta(const SocketTable& before, const SocketTable& after) {
  WireBytes d;
  for (const auto& [key, now] : after) {
    const auto it = before.find(key);
    const SocketBytes then = it != before.end() ? it->second : SocketBytes{};
    d.sent += now.sent - std::min(now.sent, then.sent);
    d.received += now.received - std::min(now.received, then.received);
  }
  for (const auto& [key, then] : before) {
    if (after.count(key) == 0) ++d.socketsClosed;
  }
  return d;
}

// --- processes --------------------------------------------------------------

// Runs argv (argv[0] a full path) and captures its stdout (stderr is
// inherited). The child is told to end when the bench does, however the
// bench ends.
crdt::Result<ProcessResult> runChild(const std::vector<std::string>& argv) {
  int fds[2] = {-1, -1};
  if (pipe(fds) != 0) return Status::ioError("pipe failed");
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Status::ioError("fork failed");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(125);
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  ProcessResult result;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::ioError("waitpid failed");
  }
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}


// The server's own time answering pushes and pulls (/metrics: sum and count
// of charta_sync_latency_seconds).
struct ServerTimes {
  double pushS = 0;
  double pullS = 0;
};

ServerTimes serverTimes(HttpClient& http) {
  ServerTimes t;
  const HttpResult r = http.get("/metrics");
  if (r.status != 200) return t;
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    const auto value = [&] { return std::atof(line.c_str() + line.rfind(' ') + 1); };
    if (line.rfind("charta_sync_latency_seconds_sum{kind=\"push\"}", 0) == 0) t.pushS = value();
    if (line.rfind("charta_sync_latency_seconds_sum{kind=\"pull\"}", 0) == 0) t.pullS = value();
  }
  return t;
}

// --- a transport that times its calls ---------------------------------------------

// Forwards to the HTTP transport and records when each call began and
// ended: the time between calls is the tablet's own work (reading the outbox,
// recording acknowledgements, applying pages, the replica's transactions).
class TimedTransport final : public sync::Transport {
 public:
  struct Call {
    const char* name;
    SteadyClock::time_point start;
    SteadyClock::time_point end;
  };

  explicit TimedTransport(std::unique_ptr<sync::Transport> inner) : m_inner(std::move(inner)) {}

  const std::vector<Call>& calls() const { return m_calls; }
  void clearCalls() { m_calls.clear(); }

  sync::Reply<sync::Health> health() override { return m_inner->health(); }
  sync::Reply<sync::Enrolment> enrol(std::string_view code, std::string_view deviceName) override {
    return m_inner->enrol(code, deviceName);
  }
  sync::Reply<sync::Session> login(const sync::DeviceCredential& device, std::string_view username,
                                   std::string_view password) override {
    return timed("login", [&] { return m_inner->login(device, username, password); });
  }
  sync::Reply<sync::Empty> logout(const sync::DeviceCredential& device, std::string_view token) override {
    return m_inner->logout(device, token);
  }
  sync::Reply<std::int64_t> refresh(const sync::DeviceCredential& device, std::string_view token) override {
    return timed("refresh", [&] { return m_inner->refresh(device, token); });
  }
  sync::Reply<sync::PushReply> push(const sync::DeviceCredential& device, std::string_view token,
                                    std::string_view batch, std::uint64_t pendingAfter) override {
    return timed("push", [&] { return m_inner->push(device, token, batch, pendingAfter); });
  }
  sync::Reply<sync::PullPage> pull(const sync::DeviceCredential& device, std::string_view token,
                                   const sync::PullRequest& request) override {
    return timed("pull", [&] { return m_inner->pull(device, token, request); });
  }
  sync::Reply<sync::AuditReply> sendAudit(const sync::DeviceCredential& device, std::string_view token,
                                          const std::vector<sync::DeviceAuditEvent>& events) override {
    return timed("audit", [&] { return m_inner->sendAudit(device, token, events); });
  }
  sync::Reply<sync::Empty> report(const sync::DeviceCredential& device, std::string_view token,
                                  const sync::DeviceReport& report) override {
    return timed("report", [&] { return m_inner->report(device, token, report); });
  }
  sync::Reply<sync::BreakGlassReply> breakGlass(const sync::DeviceCredential& device, std::string_view token,
                                                const sync::BreakGlassRequest& request) override {
    return m_inner->breakGlass(device, token, request);
  }
  sync::TransportStats stats() const override { return m_inner->stats(); }

 private:
  template <typename F>
  auto timed(const char* name, F&& fn) -> decltype(fn()) {
    const auto start = SteadyClock::now();
    auto reply = fn();
    m_calls.push_back({name, start, SteadyClock::now()});
    return reply;
  }

  std::unique_ptr<sync::Transport> m_inner;
  std::vector<Call> m_calls;
};

crdt::Result<std::unique_ptr<TimedTransport>> makeTransport(const std::string& url) {
  sync::HttpTransportOptions options;
  options.baseUrl = url;
  std::string error;
  auto inner = sync::makeHttpTransport(options, &error);
  if (!inner) return Status::invalidArgument("cannot make the HTTP transport: " + error);
  return std::make_unique<TimedTransport>(std::move(inner));
}

// --- the clinic's data ---------------------------------------------------------

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A patient id of the form Replica::newPatientId() makes, fixed per index.
std::string patientId(std::size_t index) {
  std::uint64_t state = 0xC4A27A0000000000ull + index;
  char buf[40];
  std::snprintf(buf, sizeof buf, "p-%016llx%016llx", static_cast<unsigned long long>(splitmix(state)),
                static_cast<unsigned long long>(splitmix(state)));
  return buf;
}

// Valid clinical edits on a chart held in memory, in the mix RandomEditor
// makes on a replica (sync/tools/random_edits.cc): a chart opens with name,
// birth date, sex and an identifier; then demographics that every device
// writes (phone, address), allergies and their severity, medications moving
// forward through their statuses, vital signs, and notes drafted, edited,
// signed and given addenda. Each op is made from the chart as it stands and
// applied to it before the next, so its preds are what a tablet would send.
class ChartEditor {
 public:
  explicit ChartEditor(std::uint64_t seed) : m_state(seed ^ 0x5DEECE66DA3B1C27ull) {}

  // Makes `count` ops on the chart (opening it first when it is empty),
  // applies each, and appends them to out.
  Status makeOps(OpFactory& f, ChartDocument& doc, std::size_t count, std::vector<Op>& out) {
    for (std::size_t i = 0; i < count; ++i) {
      Op op = doc.appliedCount() < kOpeningOps ? opening(f, doc) : edit(f, doc);
      auto applied = doc.apply(op);
      if (!applied.isOk()) return applied.status();
      if (applied.value() != crdt::ApplyOutcome::kApplied) {
        return Status::corruption("the generating chart did not apply its own op " + crdt::toString(op.id));
      }
      out.push_back(std::move(op));
    }
    return Status::ok();
  }

 private:
  static constexpr std::size_t kOpeningOps = 5;

  std::uint64_t below(std::uint64_t n) { return splitmix(m_state) % n; }
  const char* pick(std::initializer_list<const char*> options) { return options.begin()[below(options.size())]; }

  Op opening(OpFactory& f, const ChartDocument& doc) {
    const auto demographic = [&](crdt::FieldId id, std::string text) {
      return f.writeField(doc, FieldRef{Collection::kDemographics, {}, id}, Value{std::move(text)});
    };
    switch (doc.appliedCount()) {
      case 0:
        return demographic(field::kFamilyName,
                           pick({"Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Silva"}));
      case 1: return demographic(field::kGivenNames, pick({"Amara", "Jonas", "Lea", "Ken", "Yara", "Piotr", "Ines"}));
      case 2: {
        char birth[16];
        std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", 1940 + static_cast<int>(below(80)),
                      1 + static_cast<int>(below(12)), 1 + static_cast<int>(below(28)));
        return demographic(field::kBirthDate, birth);
      }
      case 3: return demographic(field::kSex, pick({"female", "male", "other", "unknown"}));
      default:
        return f.addEntry(
            doc, Collection::kIdentifiers,
            {FieldValue{field::kIdentifierSystem, Value{std::string("urn:charta:mrn")}},
             FieldValue{field::kIdentifierValue, Value{"MRN-" + std::to_string(100000 + below(900000))}}});
    }
  }

  Op edit(OpFactory& f, const ChartDocument& doc) {
    std::vector<crdt::OpId> allergies, medications, ownDrafts, signedNotes;
    for (const auto& [id, e] : doc.entries(Collection::kAllergies)) {
      if (e.currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kActive)) allergies.push_back(id);
    }
    for (const auto& [id, e] : doc.entries(Collection::kMedications)) {
      if (e.currentStatus() != static_cast<std::int64_t>(crdt::EntryStatus::kStopped) &&
          e.currentStatus() != static_cast<std::int64_t>(crdt::EntryStatus::kEnteredInError)) {
        medications.push_back(id);
      }
    }
    for (const auto& [id, n] : doc.notes()) {
      if (n.isSigned()) {
        signedNotes.push_back(id);
      } else if (n.author == f.user()) {
        ownDrafts.push_back(id);
      }
    }
    const std::uint64_t roll = below(100);
    if (roll < 15) {
      const bool phone = below(2) == 0;
      const std::string value =
          phone ? "+41 79 " + std::to_string(1000000 + below(8999999))
                : std::to_string(1 + below(200)) + " " + pick({"Rue Haute", "Main St", "Birkenweg"});
      return f.writeField(doc, FieldRef{Collection::kDemographics, {}, phone ? field::kPhone : field::kAddress},
                          Value{value});
    }
    if (roll < 27 || (roll < 35 && allergies.empty())) {
      return f.addEntry(
          doc, Collection::kAllergies,
          {FieldValue{field::kDisplay,
                      Value{std::string(pick({"Penicillin", "Peanut", "Latex", "Sulfonamide", "Bee venom"}))}},
           FieldValue{field::kSeverity, Value{std::string(pick({"mild", "moderate", "severe"}))}}});
    }
    if (roll < 35) {
      const crdt::OpId entry = allergies[below(allergies.size())];
      return f.writeField(doc, FieldRef{Collection::kAllergies, entry, field::kSeverity},
                          Value{std::string(pick({"mild", "moderate", "severe"}))});
    }
    if (roll < 45 || (roll < 52 && medications.empty())) {
      return f.addEntry(
          doc, Collection::kMedications,
          {FieldValue{field::kDisplay, Value{std::string(pick({"Metformin 500 mg", "Amoxicillin 250 mg",
                                                               "Lisinopril 10 mg", "Salbutamol inhaler"}))}},
           FieldValue{field::kDose, Value{std::string(pick({"1 tablet", "2 tablets", "2 puffs"}))}}});
    }
    if (roll < 52) {
      const crdt::OpId entry = medications[below(medications.size())];
      const bool active =
          doc.findEntry(entry)->currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kActive);
      const crdt::EntryStatus next = active ? crdt::EntryStatus::kOnHold : crdt::EntryStatus::kStopped;
      return f.setStatus(doc, entry, next, next == crdt::EntryStatus::kStopped ? "course completed" : "nausea");
    }
    if (roll < 75) {
      const bool pulse = below(2) == 0;
      crdt::AppendObservation obs;
      obs.category = crdt::ObservationCategory::kVitalSign;
      obs.code = std::string(pulse ? crdt::loinc::kHeartRate : crdt::loinc::kBodyTemperature);
      obs.value = Value{pulse ? 55.0 + static_cast<double>(below(60)) : 36.0 + static_cast<double>(below(30)) / 10.0};
      obs.unit = pulse ? "/min" : "Cel";
      obs.effectiveMs = 1'700'000'000'000 + static_cast<std::int64_t>(below(100'000'000));
      return f.appendObservation(doc, std::move(obs));
    }
    if (roll < 85 || (ownDrafts.empty() && signedNotes.empty())) {
      return f.startNote(doc, std::string("Visit: ") + pick({"wound dressed", "BP checked", "reviewed medication"}));
    }
    if (!ownDrafts.empty() && (signedNotes.empty() || below(3) != 0)) {
      const crdt::OpId note = ownDrafts[below(ownDrafts.size())];
      const bool sign = below(2) == 0;
      const std::string text = std::string("Visit note, ") + (sign ? "final" : "draft ") + std::to_string(below(1000));
      return sign ? f.signNote(doc, note, text) : f.editNote(doc, note, text);
    }
    const crdt::OpId note = signedNotes[below(signedNotes.size())];
    return f.addAddendum(doc, note, "Addendum: " + std::string(pick({"called GP", "family informed"})));
  }

  std::uint64_t m_state;
};

const crdt::WallClock& wallClock() {
  static const crdt::SystemWallClock clock;
  return clock;
}

// A device driven through the transport alone (no replica): the one that
// brings the clinic's data and writes while the measured device is offline.
struct Writer {
  std::unique_ptr<TimedTransport> transport;
  sync::DeviceCredential device;
  std::string token;
  std::unique_ptr<OpFactory> factory;
  ChartEditor editor{7};
  std::uint64_t rng = 11;
};

struct Clinic {
  std::vector<std::string> ids;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::unique_ptr<ChartDocument>> charts;  // the writer's copy of each chart
  std::vector<std::uint64_t> seededHash;               // stateHash of each chart as seeded
  std::vector<std::string> storeOps;                   // (c): single-op encodings of the first patients' ops
  std::size_t totalOps = 0;
};

// Sends ops as one push; every op must come back with a sequence.
Status pushAll(Writer& w, const std::vector<Op>& ops, std::uint64_t pendingAfter) {
  const std::string body = crdt::encodeBatch(ops);
  auto reply = w.transport->push(w.device, w.token, body, pendingAfter);
  if (!reply.isOk()) return Status::ioError("push: " + reply.error().toString());
  const sync::PushReply& p = reply.value();
  if (!p.rejected.empty()) {
    return Status::rejected(std::to_string(p.rejected.size()) +
                            " ops refused, the first: " + p.rejected.front().reason);
  }
  if (p.seqs.size() != ops.size() ||
      std::any_of(p.seqs.begin(), p.seqs.end(), [](std::uint64_t s) { return s == 0; })) {
    return Status::corruption("the server did not give every op a sequence (" + std::to_string(p.seqs.size()) +
                              " for " + std::to_string(ops.size()) + " ops)");
  }
  return Status::ok();
}

struct SeedResult {
  double generateMs = 0;
  double pushMs = 0;
  std::size_t pushes = 0;
};

// Makes the clinic's charts in memory and pushes them in batches of
// kSeedBatchOps. Generation and pushes alternate so that only one batch of
// ops is held at a time.
crdt::Result<SeedResult> seedClinic(Writer& w, const Sizes& sz, Clinic& clinic) {
  SeedResult out;
  const std::size_t perBatch = std::max<std::size_t>(1, kSeedBatchOps / sz.opsPerPatient);
  std::vector<Op> batch;
  for (std::size_t first = 0; first < sz.patients; first += perBatch) {
    const auto g0 = SteadyClock::now();
    batch.clear();
    for (std::size_t p = first; p < std::min(sz.patients, first + perBatch); ++p) {
      clinic.ids.push_back(patientId(p));
      clinic.index.emplace(clinic.ids.back(), p);
      clinic.charts.push_back(std::make_unique<ChartDocument>(clinic.ids.back()));
      const std::size_t start = batch.size();
      if (Status s = w.editor.makeOps(*w.factory, *clinic.charts.back(), sz.opsPerPatient, batch); !s.isOk()) {
        return s;
      }
      clinic.seededHash.push_back(clinic.charts.back()->stateHash());
      if (p < sz.storePatients) {
        for (std::size_t i = start; i < batch.size(); ++i) clinic.storeOps.push_back(crdt::encodeOp(batch[i]));
      }
    }
    out.generateMs += msSince(g0);
    const auto p0 = SteadyClock::now();
    clinic.totalOps += batch.size();
    const std::uint64_t after = sz.patients * sz.opsPerPatient - clinic.totalOps;
    if (Status s = pushAll(w, batch, after); !s.isOk()) return s;
    out.pushMs += msSince(p0);
    ++out.pushes;
  }
  return out;
}

// The writer's ops while the measured device is offline: edits on random
// patients, made against its own copy of each chart (it has not seen the
// measured device's edits, so some are concurrent with them).
Status writeElsewhere(Writer& w, Clinic& clinic, std::size_t count) {
  std::vector<Op> ops;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t p = static_cast<std::size_t>(splitmix(w.rng) % clinic.charts.size());
    if (Status s = w.editor.makeOps(*w.factory, *clinic.charts[p], 1, ops); !s.isOk()) return s;
  }
  return pushAll(w, ops, 0);
}

// --- the server side: admin and enrolment -------------------------------------------

Status setUpWriter(DemoAdmin& admin, const std::string& url, Writer& w) {
  auto code = admin.issueCode();
  if (!code.isOk()) return code.status();
  auto transport = makeTransport(url);
  if (!transport.isOk()) return transport.status();
  w.transport = std::move(transport).value();
  auto enrolment = w.transport->enrol(code.value(), "bench clinic writer");
  if (!enrolment.isOk()) return Status::ioError("writer enrolment: " + enrolment.error().toString());
  w.device = sync::DeviceCredential{enrolment.value().deviceId, enrolment.value().deviceSecret};
  auto session = w.transport->login(w.device, kNurse, kNursePassword);
  if (!session.isOk()) return Status::ioError("writer sign-in: " + session.error().toString());
  w.token = session.value().token;
  w.factory = std::make_unique<OpFactory>(enrolment.value().replica, wallClock(), 1);
  w.factory->setUser(kNurse);
  return Status::ok();
}

// --- (a) cold sync ------------------------------------------------------------------

// A tablet: its replica, transport and engine.
struct Tablet {
  std::string path;
  std::unique_ptr<TimedTransport> transport;
  std::unique_ptr<sync::Replica> replica;
  std::unique_ptr<sync::SyncEngine> engine;
};

sync::ReplicaOptions replicaOptions(bool unencrypted = false) {
  sync::ReplicaOptions o;
  o.autoLockMs = 0;  // the bench has no idle nurse
  o.unencryptedForBenchmark = unencrypted;
  return o;
}

sync::EngineOptions engineOptions() {
  sync::EngineOptions o;
  o.passwordFor = [](const std::string&) { return std::optional<std::string>(kNursePassword); };
  return o;
}

// One measured sync: what it cost on the wire, in requests and where the
// time went.
struct SyncMeasure {
  double ms = 0;
  sync::SyncReport report;
  std::uint64_t requests = 0;  // counted by the transport
  std::uint64_t bodySent = 0;
  std::uint64_t bodyReceived = 0;
  WireBytes wire;
  // The sync as a timeline: the tablet's own work ("tablet") and each HTTP
  // call as the tablet waited for it, in order.
  std::vector<std::pair<std::string, double>> steps;
  double callMs = 0;        // the HTTP calls together
  double serverPushMs = 0;  // the server's own time answering pushes
  double serverPullMs = 0;  // and pulls
  double serverCpuMs = 0;
  double clientCpuMs = 0;  // this process, every thread
};

SyncMeasure measureSync(Tablet& t, const ServerProcess& server, HttpClient& metrics) {
  SyncMeasure m;
  const ServerTimes s0 = serverTimes(metrics);
  const sync::TransportStats st0 = t.transport->stats();
  t.transport->clearCalls();
  const SocketTable w0 = socketsTo(server.port());
  const double serverCpu0 = server.cpuSeconds();
  const double selfCpu0 = selfCpuSeconds();
  const auto t0 = SteadyClock::now();
  m.report = t.engine->syncOnce();
  const auto t1 = SteadyClock::now();
  m.ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  m.clientCpuMs = (selfCpuSeconds() - selfCpu0) * 1000;
  m.serverCpuMs = (server.cpuSeconds() - serverCpu0) * 1000;
  m.wire = wireDelta(w0, socketsTo(server.port()));
  const auto ms = [](SteadyClock::time_point a, SteadyClock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  auto at = t0;
  for (const TimedTransport::Call& c : t.transport->calls()) {
    m.steps.emplace_back("tablet", ms(at, c.start));
    m.steps.emplace_back(c.name, ms(c.start, c.end));
    m.callMs += ms(c.start, c.end);
    at = c.end;
  }
  m.steps.emplace_back("tablet", ms(at, t1));
  const sync::TransportStats st1 = t.transport->stats();
  m.requests = st1.requests - st0.requests;
  m.bodySent = st1.bytesSent - st0.bytesSent;
  m.bodyReceived = st1.bytesReceived - st0.bytesReceived;
  const ServerTimes s1 = serverTimes(metrics);
  m.serverPushMs = (s1.pushS - s0.pushS) * 1000;
  m.serverPullMs = (s1.pullS - s0.pullS) * 1000;
  return m;
}

struct ColdRun {
  double enrolMs = 0;
  SyncMeasure sync;
  std::size_t patients = 0;
  std::uint64_t ops = 0;
  double chartsFromDiskMs = 0;  // every chart opened (decrypted, replayed) after the replica was reopened
  bool complete = false;        // every patient, every op
  bool chartsMatch = false;     // every chart opens and equals the chart as made
  std::string problem;
};

// After the sync, as after a restart of the app: the replica is closed,
// opened and unlocked again; every patient must be listed, each summary must
// count its ops, and each chart must open from the sealed rows on disk
// (decrypted and replayed) to the very state it was made in.
Status verifyReplica(Tablet& t, const Clinic& clinic, ColdRun& run) {
  t.engine.reset();
  t.replica.reset();
  auto opened = sync::Replica::open(t.path, replicaOptions());
  if (!opened.isOk()) return opened.status();
  t.replica = std::move(opened).value();
  PassphraseVault vault(PassphraseVault::Strength::kModerate);
  if (Status s = t.replica->unlock(vault, kNurse, kPassphrase); !s.isOk()) return s;
  t.engine = std::make_unique<sync::SyncEngine>(*t.replica, *t.transport, engineOptions());

  const std::vector<std::string> patients = t.replica->patients();
  run.patients = patients.size();
  run.ops = 0;
  std::size_t unreadable = 0;
  const Stopwatch charts;
  for (const std::string& p : patients) {
    if (!t.replica->document(p).isOk()) ++unreadable;
  }
  run.chartsFromDiskMs = charts.ms();
  std::size_t mismatched = 0;
  for (const std::string& p : patients) {
    auto summary = t.replica->summary(p);
    if (!summary.isOk()) {
      run.problem = "summary of " + p + ": " + summary.status().toString();
      return Status::ok();
    }
    run.ops += summary.value().opCount;
    auto doc = t.replica->document(p);
    const auto it = clinic.index.find(p);
    if (!doc.isOk() || it == clinic.index.end() || doc.value()->stateHash() != clinic.seededHash[it->second]) {
      ++mismatched;
    }
  }
  run.complete = run.patients == clinic.ids.size() && run.ops == clinic.totalOps;
  run.chartsMatch = run.complete && mismatched == 0 && unreadable == 0;
  if (!run.complete) {
    run.problem = std::to_string(run.patients) + " patients and " + std::to_string(run.ops) + " ops on the replica";
  } else if (mismatched > 0) {
    run.problem = std::to_string(mismatched) + " charts differ from the charts as made";
  }
  return Status::ok();
}

crdt::Result<ColdRun> coldSync(int n, DemoAdmin& admin, const ServerProcess& server, const std::string& dir,
                               const Clinic& clinic, Tablet& t) {
  ColdRun run;
  auto code = admin.issueCode();
  if (!code.isOk()) return code.status();
  auto transport = makeTransport(server.url());
  if (!transport.isOk()) return transport.status();
  t.transport = std::move(transport).value();
  t.path = dir + "/cold-" + std::to_string(n) + ".db";
  (void)sync::Replica::destroy(t.path);
  PassphraseVault vault(PassphraseVault::Strength::kModerate);
  // Enrolment: the code, the nurse's sign-in on the server, and the replica
  // made and unlocked for her (two Argon2id derivations: the passphrase is
  // checked before the code is spent, then the data key is wrapped).
  const auto e0 = SteadyClock::now();
  auto replica =
      sync::SyncEngine::enrol(*t.transport, t.path, server.url(), code.value(), "bench tablet " + std::to_string(n),
                              vault, kNurse, kPassphrase, kNursePassword, replicaOptions());
  run.enrolMs = msSince(e0);
  if (!replica.isOk()) return replica.status();
  t.replica = std::move(replica).value();
  t.engine = std::make_unique<sync::SyncEngine>(*t.replica, *t.transport, engineOptions());
  run.sync = measureSync(t, server, admin.http());
  if (!run.sync.report.ok) {
    run.problem = "sync failed: " + run.sync.report.message;
    return run;
  }
  if (Status s = verifyReplica(t, clinic, run); !s.isOk()) return s;
  return run;
}

// --- (b) incremental sync -------------------------------------------------------------

struct IncrementalRound {
  SyncMeasure sync;
  bool ok = false;  // one push of every edit, the other device's ops pulled, nothing left
  std::string problem;
};

crdt::Result<IncrementalRound> incrementalRound(Tablet& t, sync::RandomEditor& editor, Writer& w, Clinic& clinic,
                                                const Sizes& sz, const ServerProcess& server, HttpClient& metrics) {
  for (std::size_t i = 0; i < sz.edits; ++i) {
    auto op = editor.editOnce();
    if (!op.isOk()) return op.status();
  }
  if (Status s = writeElsewhere(w, clinic, sz.otherOps); !s.isOk()) return s;
  IncrementalRound r;
  r.sync = measureSync(t, server, metrics);
  const sync::SyncReport& rep = r.sync.report;
  const std::uint64_t pending = t.replica->pendingOpCount();
  r.ok = rep.ok && rep.pushed == sz.edits && rep.refused == 0 && rep.pulled == sz.otherOps && pending == 0;
  if (!r.ok) {
    r.problem = "ok " + std::string(rep.ok ? "true" : "false") + ", pushed " + std::to_string(rep.pushed) +
                ", refused " + std::to_string(rep.refused) + ", pulled " + std::to_string(rep.pulled) +
                ", still pending " + std::to_string(pending) + (rep.message.empty() ? "" : ": " + rep.message);
  }
  return r;
}

// --- (c) the store with and without encryption ----------------------------------------

struct StoreRun {
  double writeMs = 0;
  double chartsMs = 0;
  double summariesMs = 0;
  double writeCpuMs = 0;  // this thread's CPU time (the replica works on the calling thread)
  double readCpuMs = 0;   // charts and summaries
  std::uint64_t ops = 0;
  std::uint64_t stateHash = 0;  // of every chart, combined
  bool ok = false;
  std::string problem;
};

std::vector<sync::PullPage> storePages(const Clinic& clinic, std::size_t pageOps) {
  std::vector<sync::PullPage> pages;
  for (std::size_t i = 0; i < clinic.storeOps.size(); i += pageOps) {
    sync::PullPage page;
    const std::size_t end = std::min(clinic.storeOps.size(), i + pageOps);
    page.ops.assign(clinic.storeOps.begin() + static_cast<std::ptrdiff_t>(i),
                    clinic.storeOps.begin() + static_cast<std::ptrdiff_t>(end));
    page.next = end;
    page.more = end < clinic.storeOps.size();
    page.head = clinic.storeOps.size();
    pages.push_back(std::move(page));
  }
  return pages;
}

// One round of (c): an encrypted and an unencrypted replica, side by side,
// the work interleaved finely (page by page, chart by chart, in alternating
// order) so that a burst of other work on a shared machine falls on both:
//   write: the pages applied to each new replica (timed);
//   read:  both closed, opened and unlocked again (not timed), then every
//          chart opened (decrypted and replayed) and every summary read
//          (timed).
struct StoreRound {
  StoreRun encrypted;
  StoreRun plain;
};

crdt::Result<StoreRound> storeRound(const std::string& dir, int round, const std::vector<sync::PullPage>& pages,
                                    const Clinic& clinic, std::size_t expectedPatients) {
  StoreRound out;
  StoreRun* runs[2] = {&out.encrypted, &out.plain};
  const std::string paths[2] = {dir + "/encrypted.db", dir + "/unencrypted.db"};
  // The cheapest Argon2id: unlocking is (d), not (c).
  PassphraseVault vault(PassphraseVault::Strength::kMinimumForTests);
  const sync::DeviceIdentity identity{"https://charta.invalid", "bench-store", crdt::ReplicaId{kStoreReplica}, "demo",
                                      "bench"};
  // Which store goes first at step i.
  const auto first = [&](std::size_t i) { return (i + static_cast<std::size_t>(round)) % 2; };

  std::unique_ptr<sync::Replica> stores[2];
  for (std::size_t k = 0; k < 2; ++k) {
    (void)sync::Replica::destroy(paths[k]);
    auto created = sync::Replica::create(paths[k], identity, "bench device secret", vault,
                                         sync::UserInfo{kNurse, "Nurse", {}, 0}, kPassphrase, replicaOptions(k == 1));
    if (!created.isOk()) return created.status();
    stores[k] = std::move(created).value();
  }
  for (std::size_t i = 0; i < pages.size(); ++i) {
    for (const std::size_t k : {first(i), 1 - first(i)}) {
      const Stopwatch watch;
      auto applied = stores[k]->applyPulled(pages[i]);
      runs[k]->writeMs += watch.ms();
      runs[k]->writeCpuMs += watch.cpuMs();
      if (!applied.isOk()) return applied.status();
      if (applied.value().stored != pages[i].ops.size()) {
        runs[k]->problem = "a page stored " + std::to_string(applied.value().stored) + " of " +
                           std::to_string(pages[i].ops.size()) + " ops";
      }
    }
  }
  for (std::size_t k = 0; k < 2; ++k) {
    stores[k].reset();
    auto opened = sync::Replica::open(paths[k], replicaOptions(k == 1));
    if (!opened.isOk()) return opened.status();
    stores[k] = std::move(opened).value();
    if (Status s = stores[k]->unlock(vault, kNurse, kPassphrase); !s.isOk()) return s;
  }
  const std::vector<std::string> patients = stores[0]->patients();
  if (stores[1]->patients() != patients) return Status::corruption("the two stores list different patients");
  for (std::size_t i = 0; i < patients.size(); ++i) {
    for (const std::size_t k : {first(i), 1 - first(i)}) {
      const Stopwatch watch;
      auto doc = stores[k]->document(patients[i]);
      runs[k]->chartsMs += watch.ms();
      runs[k]->readCpuMs += watch.cpuMs();
      if (!doc.isOk()) return doc.status();
    }
  }
  for (std::size_t i = 0; i < patients.size(); ++i) {
    for (const std::size_t k : {first(i), 1 - first(i)}) {
      const Stopwatch watch;
      auto summary = stores[k]->summary(patients[i]);
      runs[k]->summariesMs += watch.ms();
      runs[k]->readCpuMs += watch.cpuMs();
      if (!summary.isOk()) return summary.status();
      runs[k]->ops += summary.value().opCount;
    }
  }
  // Checked after the clocks stopped: the charts are cached by now.
  for (std::size_t k = 0; k < 2; ++k) {
    StoreRun& r = *runs[k];
    std::size_t mismatched = 0;
    for (const std::string& p : patients) {
      auto doc = stores[k]->document(p);
      if (!doc.isOk()) return doc.status();
      const std::uint64_t h = doc.value()->stateHash();
      r.stateHash = r.stateHash * 1099511628211ull + h;
      const auto it = clinic.index.find(p);
      if (it == clinic.index.end() || clinic.seededHash[it->second] != h) ++mismatched;
    }
    if (mismatched > 0) r.problem = std::to_string(mismatched) + " charts differ from the charts as made";
    if (r.ops != clinic.storeOps.size()) {
      r.problem = std::to_string(r.ops) + " ops counted, " + std::to_string(clinic.storeOps.size()) + " written";
    }
    r.ok = r.problem.empty() && patients.size() == expectedPatients;
    stores[k].reset();
    (void)sync::Replica::destroy(paths[k]);
  }
  return out;
}

// --- the PouchDB peer ---------------------------------------------------------------

constexpr int kMinNodeMajor = 18;
constexpr const char* kPouchStamp = "node_modules/.charta-bench-installed.json";

Status copyIfChanged(const std::string& from, const std::string& to) {
  const auto source = readFile(from);
  if (!source) return Status::notFound("missing " + from);
  if (readFile(to) == source) return Status::ok();
  return writeFile(to, *source);
}

// node and npm on PATH, package.json and pouch_peer.mjs copied into peersDir,
// and the pinned packages installed there (once per package.json, remembered
// by a stamp), as bench_peers.cc does for the CRDT peers.
crdt::Result<PeerEnv> preparePouch(const std::string& sourceDir, const std::string& peersDir) {
  PeerEnv env;
  env.peersDir = peersDir;
  const auto node = findInPath("node");
  if (!node) {
    return Status::notFound("node is not on PATH: the benchmark runs PouchDB under Node.js " +
                            std::to_string(kMinNodeMajor) + " or newer (install nodejs and npm), or use --skip-peer");
  }
  env.node = *node;
  auto version = runChild({env.node, "--version"});
  if (!version.isOk() || version.value().exitCode != 0) return Status::notFound("node --version failed");
  env.nodeVersion = trimmed(version.value().output);
  const int major = env.nodeVersion.size() > 1 ? std::atoi(env.nodeVersion.c_str() + 1) : 0;
  if (env.nodeVersion.empty() || env.nodeVersion[0] != 'v' || major < kMinNodeMajor) {
    return Status::notFound("node " + env.nodeVersion + " is too old: Node.js " + std::to_string(kMinNodeMajor) +
                            " or newer is needed");
  }
  if (Status s = makeDirectories(peersDir); !s.isOk()) return s;
  if (Status s = copyIfChanged(sourceDir + "/package.json", peersDir + "/package.json"); !s.isOk()) return s;
  if (Status s = copyIfChanged(sourceDir + "/pouch_peer.mjs", peersDir + "/pouch_peer.mjs"); !s.isOk()) return s;
  const std::string stamp = peersDir + "/" + kPouchStamp;
  bool installed = readFile(stamp) == readFile(peersDir + "/package.json");
  for (const char* pkg : {"pouchdb", "pouchdb-adapter-memory", "express-pouchdb", "express"}) {
    installed = installed && fileExists(peersDir + "/node_modules/" + pkg + "/package.json");
  }
  if (installed) return env;
  if (!findInPath("npm")) {
    return Status::notFound("npm is not on PATH: it is needed once to install PouchDB into " + peersDir);
  }
  progress("installing PouchDB and express-pouchdb into " + peersDir);
  auto npm = runProcess({"npm", "install", "--no-audit", "--no-fund", "--omit=dev"}, peersDir, false);
  if (!npm.isOk()) return npm.status();
  if (npm.value().exitCode != 0) {
    return Status::notFound("npm install failed in " + peersDir + " (exit " + std::to_string(npm.value().exitCode) +
                            "); see the npm output above");
  }
  if (Status s = writeFile(stamp, *readFile(peersDir + "/package.json")); !s.isOk()) return s;
  return env;
}

struct PouchResult {
  std::string version;
  std::string expressPouchVersion;
  std::string adapter;
  bool gzip = false;
  bool keepAlive = false;
  double docs = 0;
  double docBytesAvg = 0;
  double seedMs = 0;
  double coldMs = 0;
  double coldRequests = 0;
  double coldBytes = 0;
  double coldBytesSent = 0;
  double coldBatchSize = 0;
  double coldTunedMs = 0;
  double coldTunedRequests = 0;
  double coldTunedBytes = 0;
  double changed = 0;
  std::vector<double> incrementalMs;
  double incrementalMedianMs = 0;
  double incrementalRequests = 0;
  double incrementalBytes = 0;
  double incrementalBytesSent = 0;
  double wallS = 0;
  bool ok = false;

  std::string key() const { return "pouchdb-" + version; }
};

crdt::Result<PouchResult> runPouch(const PeerEnv& env, const Sizes& sz, const std::string& dir) {
  const std::vector<std::string> argv = {
      env.node,    env.peersDir + "/pouch_peer.mjs",     "--patients", std::to_string(sz.patients),
      "--entries", std::to_string(sz.opsPerPatient),     "--changed",  std::to_string(sz.edits),
      "--rounds",  std::to_string(sz.incrementalRounds), "--dir",      dir};
  const auto t0 = SteadyClock::now();
  auto run = runChild(argv);
  if (!run.isOk()) return run.status();
  PouchResult r;
  r.wallS = msSince(t0) / 1000;
  std::string line;
  std::istringstream lines(run.value().output);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty() && l[0] == '{') line = l;
  }
  const auto v = parseObject(line);
  if (run.value().exitCode != 0 || !v) {
    return Status::invalidArgument("the PouchDB peer failed (exit " + std::to_string(run.value().exitCode) +
                                   "): " + (v ? stringMember(*v, "error") : std::string("no report")));
  }
  bool complete = true;
  const auto number = [&](const char* key, double& out) {
    const sjson::Value* m = v->find(key);
    const auto d = m != nullptr ? m->asDouble() : std::nullopt;
    if (d) {
      out = *d;
    } else {
      complete = false;
    }
  };
  const auto flag = [&](const char* key) {
    const sjson::Value* m = v->find(key);
    const auto b = m != nullptr ? m->asBool() : std::nullopt;
    return b && *b;
  };
  r.version = stringMember(*v, "pouchdb_version");
  r.expressPouchVersion = stringMember(*v, "express_pouchdb_version");
  r.adapter = stringMember(*v, "server_adapter");
  r.gzip = flag("gzip");
  r.keepAlive = flag("keep_alive");
  r.ok = flag("ok");
  number("docs", r.docs);
  number("doc_bytes_avg", r.docBytesAvg);
  number("seed_ms", r.seedMs);
  number("cold_ms", r.coldMs);
  number("cold_requests", r.coldRequests);
  number("cold_bytes", r.coldBytes);
  number("cold_bytes_sent", r.coldBytesSent);
  number("cold_batch_size", r.coldBatchSize);
  number("cold_tuned_ms", r.coldTunedMs);
  number("cold_tuned_requests", r.coldTunedRequests);
  number("cold_tuned_bytes", r.coldTunedBytes);
  number("changed", r.changed);
  number("incremental_median_ms", r.incrementalMedianMs);
  number("incremental_requests", r.incrementalRequests);
  number("incremental_bytes", r.incrementalBytes);
  number("incremental_bytes_sent", r.incrementalBytesSent);
  const sjson::Value* rounds = v->find("incremental_ms");
  if (rounds != nullptr && rounds->asArray() != nullptr) {
    for (const sjson::Value& x : *rounds->asArray()) {
      if (const auto d = x.asDouble()) r.incrementalMs.push_back(*d);
    }
  }
  if (!complete || r.version.empty() || r.incrementalMs.empty()) {
    return Status::corruption("the PouchDB peer's report is incomplete: " + line.substr(0, 300));
  }
  return r;
}

// --- the report ---------------------------------------------------------------

struct Row {
  std::string name;
  std::string unit;
  bool higherIsBetter = false;
  std::string description;
  double charta = 0;
  std::optional<double> pouch;
  std::vector<double> chartaRuns;  // when timed
  std::vector<double> pouchRuns;
};

struct Goal {
  enum class Cmp : std::uint8_t { kAtLeast, kAtMost, kBelow };
  std::string text;
  double target;
  double actual;
  Cmp cmp;
  bool met() const {
    switch (cmp) {
      case Cmp::kAtLeast: return actual >= target;
      case Cmp::kAtMost: return actual <= target;
      case Cmp::kBelow: return actual < target;
    }
    return false;
  }
};

struct Checks {
  std::vector<std::pair<std::string, bool>> list;
  void add(std::string name, bool ok) { list.emplace_back(std::move(name), ok); }
  bool allOk() const {
    return std::all_of(list.begin(), list.end(), [](const auto& c) { return c.second; });
  }
};

template <typename T, typename F>
std::vector<double> column(const std::vector<T>& runs, F get) {
  std::vector<double> v;
  v.reserve(runs.size());
  for (const T& r : runs) v.push_back(get(r));
  return v;
}

double overheadPct(double encrypted, double plain) { return plain > 0 ? (encrypted / plain - 1) * 100 : 0; }

// Per round, encrypted against unencrypted (their work was interleaved, so
// they met the same load on the machine).
std::vector<double> roundOverheads(const std::vector<StoreRun>& encrypted, const std::vector<StoreRun>& plain,
                                   double (*get)(const StoreRun&)) {
  std::vector<double> out;
  for (std::size_t i = 0; i < std::min(encrypted.size(), plain.size()); ++i) {
    out.push_back(overheadPct(get(encrypted[i]), get(plain[i])));
  }
  return out;
}

// withSteps: the whole timeline (for syncs of a few calls).
void writeSync(JsonWriter& j, const SyncMeasure& m, std::uint64_t ops, bool withSteps) {
  j.field("ms", m.ms).field("requests", toDouble(m.requests)).field("engine_requests", m.report.requests);
  j.field("pages", m.report.pages).field("pushed", m.report.pushed).field("pulled", m.report.pulled);
  j.field("wire_bytes_sent", toDouble(m.wire.sent)).field("wire_bytes_received", toDouble(m.wire.received));
  j.field("wire_bytes_per_op", ops > 0 ? toDouble(m.wire.sent + m.wire.received) / toDouble(ops) : 0.0);
  j.field("body_bytes_sent", toDouble(m.bodySent)).field("body_bytes_received", toDouble(m.bodyReceived));
  j.field("sockets_closed", m.wire.socketsClosed);
  j.key("time_ms").beginObject();
  j.field("http_calls", m.callMs).field("tablet_outside_calls", m.ms - m.callMs);
  j.field("server_handling_push", m.serverPushMs).field("server_handling_pull", m.serverPullMs);
  j.field("server_cpu", m.serverCpuMs).field("tablet_process_cpu", m.clientCpuMs).endObject();
  if (withSteps) {
    j.key("steps_ms").beginArray();
    for (const auto& [name, ms] : m.steps) j.beginObject().field(name, ms).endObject();
    j.endArray();
  }
}

struct Results {
  Sizes sizes{};
  SeedResult seed;
  double serverStartMs = 0;
  std::vector<ColdRun> cold;
  std::vector<IncrementalRound> incremental;
  std::vector<StoreRun> storeEncrypted;
  std::vector<StoreRun> storePlain;
  std::vector<double> writeOverheads;  // per round, %
  std::vector<double> readOverheads;
  std::vector<double> writeCpuOverheads;
  std::vector<double> readCpuOverheads;
  std::vector<double> unlockMs;
  std::vector<double> argonMs;
  bool unlockOk = true;
  int serverExit = -1;
  double loadStart = -1;
  double loadEnd = -1;
  std::optional<PouchResult> pouch;
  std::string nodeVersion;
};

std::string report(const Options& opt, const Results& res, const std::vector<Row>& rows, const std::vector<Goal>& goals,
                   const Checks& checks) {
  const Sizes& sz = res.sizes;
  JsonWriter j;
  j.beginObject().field("suite", "sync").field("quick", opt.quick);
  j.field("statistic",
          "median of " + std::to_string(sz.coldRuns) + " fresh devices for (a), of " +
              std::to_string(sz.incrementalRounds) + " rounds for (b) and of " + std::to_string(sz.unlockRuns) +
              " runs for (d); (c): the median over " + std::to_string(sz.storeRounds) +
              " rounds of each round's encrypted / unencrypted ratio, the two stores' work interleaved page "
              "by page and chart by chart; PouchDB: its one cold pull and the median of its incremental "
              "rounds");
  j.key("workload").beginObject();
  j.field("patients", sz.patients).field("ops_per_patient", sz.opsPerPatient);
  j.field("ops", sz.patients * sz.opsPerPatient).field("edits_per_round", sz.edits);
  j.field("other_device_ops_per_round", sz.otherOps).field("store_patients", sz.storePatients);
  j.field("store_ops", sz.storePatients * sz.opsPerPatient).field("store_page_ops", sz.storePageOps);
  j.field("description",
          "one charta-server (SQLite, demo clinic) on loopback; the clinic's charts made in memory with "
          "OpFactory in RandomEditor's mix (demographics, allergies, medications and status changes, vital "
          "signs, notes) by one enrolled device as the nurse, and pushed in batches of 10,000. (a) a fresh device "
          "enrols and signs in (enrol_ms), then its first syncOnce() is timed; afterwards the replica is closed, "
          "opened and unlocked again, every patient must be listed, the summaries must count every op and every "
          "chart must open from disk to the state it was made in (charts_from_disk_ms). (b) "
          "the device of the last (a) run makes edits_per_round edits through RandomEditor offline, another "
          "device pushes other_device_ops_per_round ops, then one syncOnce() is timed. (c) the first "
          "store_patients patients' ops as pulled pages applied to a new replica, then, on a fresh open and "
          "unlock, every chart opened and every summary read, an encrypted and an unencrypted store side by side, "
          "interleaved page by page and chart by chart. (d) "
          "Replica::open + unlock with PassphraseVault kModerate. PouchDB runs after Charta, with charta-server "
          "stopped: the same number of patients x entries as documents, --changed edits_per_round");
  j.endObject();

  j.key("environment").beginObject();
  j.field("cpus", static_cast<long>(std::thread::hardware_concurrency()));
  j.field("load_average_start", res.loadStart).field("load_average_end", res.loadEnd);
  j.field("node", res.nodeVersion.empty() ? std::string("not used") : res.nodeVersion);
  j.field("peer_order", opt.skipPeer ? "skipped" : "after Charta, with charta-server stopped");
  j.endObject();

  j.key("setup").beginObject();
  j.field("server_start_ms", res.serverStartMs).field("generate_ms", res.seed.generateMs);
  j.field("push_ms", res.seed.pushMs).field("pushes", res.seed.pushes);
  j.endObject();

  j.key("cold_sync").beginArray();
  for (const ColdRun& r : res.cold) {
    j.beginObject().field("enrol_ms", r.enrolMs);
    writeSync(j, r.sync, r.ops, false);
    j.field("patients", r.patients).field("ops", toDouble(r.ops)).field("charts_from_disk_ms", r.chartsFromDiskMs);
    j.field("complete", r.complete).field("charts_match", r.chartsMatch).endObject();
  }
  j.endArray();
  j.key("incremental_sync").beginArray();
  for (const IncrementalRound& r : res.incremental) {
    j.beginObject();
    writeSync(j, r.sync, r.sync.report.pushed + r.sync.report.pulled, true);
    j.field("ok", r.ok).endObject();
  }
  j.endArray();
  j.key("store").beginObject();
  for (const auto& [name, runs] :
       {std::pair{"encrypted", &res.storeEncrypted}, std::pair{"unencrypted", &res.storePlain}}) {
    j.key(name).beginObject();
    j.numbers("write_ms", column(*runs, [](const StoreRun& r) { return r.writeMs; }));
    j.numbers("charts_ms", column(*runs, [](const StoreRun& r) { return r.chartsMs; }));
    j.numbers("summaries_ms", column(*runs, [](const StoreRun& r) { return r.summariesMs; }));
    j.numbers("write_cpu_ms", column(*runs, [](const StoreRun& r) { return r.writeCpuMs; }));
    j.numbers("read_cpu_ms", column(*runs, [](const StoreRun& r) { return r.readCpuMs; }));
    j.endObject();
  }
  j.numbers("write_overhead_pct", res.writeOverheads).numbers("read_overhead_pct", res.readOverheads);
  j.numbers("write_cpu_overhead_pct", res.writeCpuOverheads).numbers("read_cpu_overhead_pct", res.readCpuOverheads);
  j.field("write_cpu_overhead_median_pct", median(res.writeCpuOverheads));
  j.field("read_cpu_overhead_median_pct", median(res.readCpuOverheads));
  j.endObject();
  j.key("unlock").beginObject().numbers("open_and_unlock_ms", res.unlockMs).numbers("argon2id_ms", res.argonMs);
  j.endObject();

  if (res.pouch) {
    const PouchResult& p = *res.pouch;
    j.key("peer").beginObject().field("system", p.key()).field("express_pouchdb", p.expressPouchVersion);
    j.field("adapter", p.adapter).field("gzip", p.gzip).field("keep_alive", p.keepAlive);
    j.field("docs", p.docs).field("doc_bytes_avg", p.docBytesAvg).field("seed_ms", p.seedMs);
    j.field("cold_ms", p.coldMs).field("cold_requests", p.coldRequests).field("cold_bytes", p.coldBytes);
    j.field("cold_bytes_sent", p.coldBytesSent).field("cold_batch_size", p.coldBatchSize);
    j.field("cold_tuned_ms", p.coldTunedMs).field("cold_tuned_requests", p.coldTunedRequests);
    j.field("cold_tuned_bytes", p.coldTunedBytes).field("changed", p.changed);
    j.numbers("incremental_ms", p.incrementalMs).field("incremental_median_ms", p.incrementalMedianMs);
    j.field("incremental_requests", p.incrementalRequests).field("incremental_bytes", p.incrementalBytes);
    j.field("incremental_bytes_sent", p.incrementalBytesSent).field("wall_s", p.wallS).endObject();
  }

  j.key("results").beginArray();
  for (const Row& row : rows) {
    j.beginObject().field("name", row.name).field("unit", row.unit).field("charta", row.charta);
    j.key("peers").beginObject();
    if (row.pouch && res.pouch) j.field(res.pouch->key(), *row.pouch);
    j.endObject();
    j.field("better", row.higherIsBetter ? "higher" : "lower");
    if (row.pouch && res.pouch) {
      const double adv = row.higherIsBetter ? row.charta / *row.pouch : *row.pouch / row.charta;
      j.key("charta_advantage").beginObject().field(res.pouch->key(), adv).endObject();
    }
    if (!row.chartaRuns.empty()) {
      j.key("runs").beginObject().numbers("charta", row.chartaRuns);
      if (!row.pouchRuns.empty() && res.pouch) j.numbers(res.pouch->key(), row.pouchRuns);
      j.endObject();
    }
    j.field("description", row.description).endObject();
  }
  j.endArray();

  j.key("goals").beginArray();
  for (const Goal& g : goals) {
    j.beginObject().field("goal", g.text).field("target", g.target).field("actual", g.actual);
    j.field("better", g.cmp == Goal::Cmp::kAtLeast ? "higher" : "lower").field("met", g.met()).endObject();
  }
  j.endArray();
  j.key("checks").beginObject();
  for (const auto& [name, ok] : checks.list) j.field(name, ok);
  j.endObject();
  j.field("ok", checks.allOk()).endObject();
  return j.str();
}

void printTable(const Results& res, const std::vector<Row>& rows, const std::vector<Goal>& goals,
                const Checks& checks) {
  std::printf("%-28s %-8s %12s %22s\n", "figure", "unit", "charta", res.pouch ? res.pouch->key().c_str() : "");
  for (const Row& row : rows) {
    std::string peer;
    if (row.pouch && res.pouch) {
      const double adv = row.higherIsBetter ? row.charta / *row.pouch : *row.pouch / row.charta;
      peer = JsonWriter::number(*row.pouch) + " (" + JsonWriter::number(adv) + "x)";
    }
    std::printf("%-28s %-8s %12s %22s\n", row.name.c_str(), row.unit.c_str(), JsonWriter::number(row.charta).c_str(),
                peer.c_str());
  }
  for (const Goal& g : goals) {
    std::printf("goal %-40s %s (%s)\n", g.text.c_str(), g.met() ? "met" : "NOT met",
                JsonWriter::number(g.actual).c_str());
  }
  for (const auto& [name, ok] : checks.list) std::printf("check %-39s %s\n", name.c_str(), ok ? "ok" : "FAILED");
}

// --- the run ------------------------------------------------------------------

int run(Options opt) {
  const std::string exeDir = executableDir();
  if (opt.workDir.empty()) opt.workDir = exeDir + "/sync-bench";
  if (opt.peersDir.empty()) opt.peersDir = exeDir + "/peers-pouch";
  if (opt.serverBin.empty() || access(opt.serverBin.c_str(), X_OK) != 0) {
    return fail(Status::notFound("no charta-server executable at '" + opt.serverBin + "'"), "--server-bin");
  }
  if (Status s = sync::initCrypto(); !s.isOk()) return fail(s, "libsodium");
  Results res;
  res.sizes = opt.quick ? kQuickSizes : kFullSizes;
  const Sizes& sz = res.sizes;
  res.loadStart = loadAverage();

  // The peer's setup first: a missing Node.js is a setup error, found before
  // minutes of measuring.
  PeerEnv env;
  if (!opt.skipPeer) {
    auto prepared = preparePouch(exeDir + "/node-pouch", opt.peersDir);
    if (!prepared.isOk()) return fail(prepared.status(), "cannot run the PouchDB peer");
    env = prepared.value();
    res.nodeVersion = env.nodeVersion;
  }

  // Only the folders this bench makes are emptied: --work-dir may name a
  // folder that holds other things too.
  const std::string devicesDir = opt.workDir + "/devices";
  for (const std::string& d : {opt.workDir + "/server", devicesDir, opt.workDir + "/store", opt.workDir + "/pouch"}) {
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
    if (Status s = makeDirectories(d); !s.isOk()) return fail(s, "work folder");
  }

  Checks checks;
  {
    ServerProcess server;
    const auto s0 = SteadyClock::now();
    if (Status s = server.start(opt.serverBin, opt.workDir + "/server"); !s.isOk()) return fail(s, "charta-server");
    res.serverStartMs = msSince(s0);
    progress("charta-server listening at " + server.url() + " (pid " + std::to_string(server.pid()) + ")");
    DemoAdmin admin(server.url());
    if (Status s = admin.signIn(); !s.isOk()) return fail(s, "set-up");

    Writer writer;
    if (Status s = setUpWriter(admin, server.url(), writer); !s.isOk()) return fail(s, "the clinic's writing device");
    Clinic clinic;
    progress("making and pushing the clinic's charts: " + std::to_string(sz.patients) + " patients x " +
             std::to_string(sz.opsPerPatient) + " ops");
    auto seeded = seedClinic(writer, sz, clinic);
    checks.add("seed_every_op_stored", seeded.isOk());
    if (!seeded.isOk()) return fail(seeded.status(), "seeding the clinic");
    res.seed = seeded.value();
    progress("seeded " + std::to_string(clinic.totalOps) + " ops in " + std::to_string(res.seed.pushes) + " pushes (" +
             JsonWriter::number(res.seed.pushMs) + " ms pushing)");

    // (a)
    Tablet synced;  // the last cold device goes on to (b) and (d)
    for (int n = 1; n <= sz.coldRuns; ++n) {
      Tablet t;
      auto r = coldSync(n, admin, server, devicesDir, clinic, t);
      if (!r.isOk()) return fail(r.status(), "cold sync " + std::to_string(n));
      const ColdRun& c = r.value();
      progress("(a) cold sync " + std::to_string(n) + ": " + JsonWriter::number(c.sync.ms) + " ms, " +
               std::to_string(c.sync.requests) + " requests, " + std::to_string(c.patients) + " patients, " +
               std::to_string(c.ops) + " ops (enrolment " + JsonWriter::number(c.enrolMs) +
               " ms; every chart from disk " + JsonWriter::number(c.chartsFromDiskMs) + " ms)" +
               (c.problem.empty() ? "" : "; problem: " + c.problem));
      res.cold.push_back(c);
      if (n == sz.coldRuns) {
        synced = std::move(t);
      } else {
        t.engine.reset();
        t.replica.reset();
        (void)sync::Replica::destroy(t.path);
      }
    }

    // (b)
    if (synced.replica) {
      // Reopening the replica recorded an unlock in its audit trail: send it
      // now (not timed), so that each round starts from a synced device.
      const sync::SyncReport settle = synced.engine->syncOnce();
      if (!settle.ok) return fail(Status::ioError(settle.message), "sync before (b)");
      sync::RandomEditor editor(*synced.replica, 2024, 4);
      for (int round = 1; round <= sz.incrementalRounds; ++round) {
        auto r = incrementalRound(synced, editor, writer, clinic, sz, server, admin.http());
        if (!r.isOk()) return fail(r.status(), "incremental round " + std::to_string(round));
        const IncrementalRound& i = r.value();
        progress("(b) incremental " + std::to_string(round) + ": " + JsonWriter::number(i.sync.ms) + " ms, " +
                 std::to_string(i.sync.requests) + " requests, pushed " + std::to_string(i.sync.report.pushed) +
                 ", pulled " + std::to_string(i.sync.report.pulled) + ", " +
                 std::to_string(i.sync.wire.sent + i.sync.wire.received) + " bytes on the wire" +
                 (i.problem.empty() ? "" : "; problem: " + i.problem));
        res.incremental.push_back(r.value());
      }
    }

    // (d), on the synced device's replica: closed, then opened and unlocked.
    if (synced.replica) {
      synced.engine.reset();
      synced.replica.reset();
      PassphraseVault vault(PassphraseVault::Strength::kModerate);
      for (int i = 0; i < sz.unlockRuns; ++i) {
        const auto t0 = SteadyClock::now();
        auto opened = sync::Replica::open(synced.path, replicaOptions());
        const Status s = opened.isOk() ? opened.value()->unlock(vault, kNurse, kPassphrase) : opened.status();
        res.unlockMs.push_back(msSince(t0));
        if (!s.isOk()) {
          res.unlockOk = false;
          progress("(d) unlock failed: " + s.toString());
        }
      }
      for (int i = 0; i < kArgonRuns; ++i) {
        const auto t0 = SteadyClock::now();
        auto key = sync::deriveKey(kPassphrase, sync::PwhashParams::moderate());
        res.argonMs.push_back(msSince(t0));
        if (!key.isOk()) res.unlockOk = false;
      }
      progress("(d) open + unlock: " + JsonWriter::number(median(res.unlockMs)) + " ms (Argon2id alone " +
               JsonWriter::number(median(res.argonMs)) + " ms)");
    }
    res.serverExit = server.stop();

    // (c) needs no server.
    const std::vector<sync::PullPage> pages = storePages(clinic, sz.storePageOps);
    for (int round = 0; round < sz.storeRounds; ++round) {
      auto r = storeRound(opt.workDir + "/store", round, pages, clinic, std::min(sz.storePatients, sz.patients));
      if (!r.isOk()) return fail(r.status(), "(c) store round " + std::to_string(round + 1));
      for (const StoreRun* run : {&r.value().encrypted, &r.value().plain}) {
        if (!run->problem.empty()) progress("(c) problem: " + run->problem);
      }
      res.storeEncrypted.push_back(r.value().encrypted);
      res.storePlain.push_back(r.value().plain);
      progress("(c) round " + std::to_string(round + 1) + ": write " +
               JsonWriter::number(res.storeEncrypted.back().writeMs) + " ms encrypted, " +
               JsonWriter::number(res.storePlain.back().writeMs) + " ms not; charts " +
               JsonWriter::number(res.storeEncrypted.back().chartsMs) + " / " +
               JsonWriter::number(res.storePlain.back().chartsMs) + " ms");
    }
  }

  res.writeOverheads = roundOverheads(res.storeEncrypted, res.storePlain, [](const StoreRun& r) { return r.writeMs; });
  res.readOverheads =
      roundOverheads(res.storeEncrypted, res.storePlain, [](const StoreRun& r) { return r.chartsMs + r.summariesMs; });
  res.writeCpuOverheads =
      roundOverheads(res.storeEncrypted, res.storePlain, [](const StoreRun& r) { return r.writeCpuMs; });
  res.readCpuOverheads =
      roundOverheads(res.storeEncrypted, res.storePlain, [](const StoreRun& r) { return r.readCpuMs; });

  if (!opt.skipPeer) {
    progress("running the PouchDB peer: " + std::to_string(sz.patients) + " patients x " +
             std::to_string(sz.opsPerPatient) + " entries (this takes a while at full size)");
    auto pouch = runPouch(env, sz, opt.workDir + "/pouch");
    if (!pouch.isOk()) return fail(pouch.status(), "PouchDB peer");
    res.pouch = pouch.value();
    progress("PouchDB: cold " + JsonWriter::number(res.pouch->coldMs) + " ms, incremental " +
             JsonWriter::number(res.pouch->incrementalMedianMs) + " ms");
  }
  res.loadEnd = loadAverage();

  // --- figures, goals, checks ---
  const std::uint64_t totalOps = sz.patients * sz.opsPerPatient;
  const auto coldMs = column(res.cold, [](const ColdRun& r) { return r.sync.ms; });
  const auto coldReq = column(res.cold, [](const ColdRun& r) { return toDouble(r.sync.requests); });
  const auto coldBytes = column(res.cold, [&](const ColdRun& r) {
    return toDouble(r.sync.wire.sent + r.sync.wire.received) / toDouble(totalOps);
  });
  const auto incMs = column(res.incremental, [](const IncrementalRound& r) { return r.sync.ms; });
  const auto incReq = column(res.incremental, [](const IncrementalRound& r) { return toDouble(r.sync.requests); });
  const auto incBytes = column(res.incremental, [](const IncrementalRound& r) {
    const double ops = toDouble(r.sync.report.pushed + r.sync.report.pulled);
    return ops > 0 ? toDouble(r.sync.wire.sent + r.sync.wire.received) / ops : 0.0;
  });
  const auto enrolMs = column(res.cold, [](const ColdRun& r) { return r.enrolMs; });
  const double writeOverhead = median(res.writeOverheads);
  const double readOverhead = median(res.readOverheads);

  const PouchResult* p = res.pouch ? &*res.pouch : nullptr;
  const auto peer = [&](double v) { return p ? std::optional<double>(v) : std::nullopt; };
  const double pouchIncBytesPerOp =
      p && p->changed > 0 ? (p->incrementalBytes + p->incrementalBytesSent) / p->changed : 0;
  std::vector<Row> rows;
  rows.push_back({"cold_sync", "ms", false,
                  "(a) first syncOnce() of a freshly enrolled device until every patient is on it; PouchDB: a "
                  "fresh client database replicating from the server with its default options",
                  median(coldMs), peer(p ? p->coldMs : 0), coldMs,
                  p ? std::vector<double>{p->coldMs} : std::vector<double>{}});
  rows.push_back({"cold_sync_requests",
                  "requests",
                  false,
                  "(a) HTTP requests of the cold sync",
                  median(coldReq),
                  peer(p ? p->coldRequests : 0),
                  {},
                  {}});
  rows.push_back({"cold_sync_bytes_per_op",
                  "bytes/op",
                  false,
                  "(a) TCP payload both ways (HTTP headers and bodies) per op; PouchDB: per document, gzip on",
                  median(coldBytes),
                  peer(p && p->docs > 0 ? (p->coldBytes + p->coldBytesSent) / p->docs : 0),
                  {},
                  {}});
  rows.push_back({"incremental_sync", "ms", false,
                  "(b) one syncOnce() after offline edits: Charta pushes its edits and pulls the other device's "
                  "ops; PouchDB pulls the changed documents",
                  median(incMs), peer(p ? p->incrementalMedianMs : 0), incMs,
                  p ? p->incrementalMs : std::vector<double>{}});
  rows.push_back({"incremental_sync_requests",
                  "requests",
                  false,
                  "(b) HTTP requests of one incremental sync",
                  median(incReq),
                  peer(p ? p->incrementalRequests : 0),
                  {},
                  {}});
  rows.push_back({"incremental_bytes_per_op",
                  "bytes/op",
                  false,
                  "(b) TCP payload both ways per op moved (Charta: pushed + newly pulled; PouchDB: changed "
                  "documents)",
                  median(incBytes),
                  peer(pouchIncBytesPerOp),
                  {},
                  {}});
  rows.push_back({"enrolment",
                  "ms",
                  false,
                  "enrolment with a code, the nurse's sign-in and the encrypted replica made and unlocked for her "
                  "(two Argon2id derivations on the tablet, one on the server), before (a)",
                  median(enrolMs),
                  std::nullopt,
                  enrolMs,
                  {}});
  rows.push_back({"store_write_overhead",
                  "%",
                  false,
                  "(c) encrypted / unencrypted - 1 of applying the same pulled pages to a new replica, median over "
                  "rounds of the two stores side by side",
                  writeOverhead,
                  std::nullopt,
                  {},
                  {}});
  rows.push_back({"store_read_overhead",
                  "%",
                  false,
                  "(c) encrypted / unencrypted - 1 of opening every chart (decrypt and replay) and reading every "
                  "summary on a freshly opened replica, median over rounds of the two stores side by side",
                  readOverhead,
                  std::nullopt,
                  {},
                  {}});
  rows.push_back({"unlock",
                  "ms",
                  false,
                  "(d) Replica::open + unlock, PassphraseVault kModerate (Argon2id)",
                  median(res.unlockMs),
                  std::nullopt,
                  res.unlockMs,
                  {}});

  std::vector<Goal> goals = {
      {"(a) cold sync under 5000 ms", kColdGoalMs, median(coldMs), Goal::Cmp::kBelow},
      {"(b) incremental sync under 10 ms", kIncrementalGoalMs, median(incMs), Goal::Cmp::kBelow},
      {"(b) incremental sync in 2 requests (one push, one pull)", kIncrementalRequestsGoal, median(incReq),
       Goal::Cmp::kAtMost},
      {"(c) store write overhead at most 15%", kOverheadGoalPct, writeOverhead, Goal::Cmp::kAtMost},
      {"(c) store read overhead at most 15%", kOverheadGoalPct, readOverhead, Goal::Cmp::kAtMost},
  };
  if (p) {
    goals.push_back(
        {"(a) cold sync at least 10x PouchDB", kColdRatioGoal, p->coldMs / median(coldMs), Goal::Cmp::kAtLeast});
    goals.push_back({"(b) incremental sync at least 3x PouchDB", kIncrementalRatioGoal,
                     p->incrementalMedianMs / median(incMs), Goal::Cmp::kAtLeast});
  }

  const auto allOf = [](const auto& runs, auto pred) {
    return !runs.empty() && std::all_of(runs.begin(), runs.end(), pred);
  };
  checks.add("cold_sync_ok", allOf(res.cold, [](const ColdRun& r) { return r.sync.report.ok; }));
  checks.add("cold_sync_every_patient_and_op",
             allOf(res.cold, [&](const ColdRun& r) { return r.complete && r.sync.report.pulled == totalOps; }));
  checks.add("cold_sync_charts_match", allOf(res.cold, [](const ColdRun& r) { return r.chartsMatch; }));
  checks.add("incremental_pushed_and_pulled_everything",
             allOf(res.incremental, [](const IncrementalRound& r) { return r.ok; }));
  checks.add("store_same_charts_encrypted_and_not",
             allOf(res.storeEncrypted, [](const StoreRun& r) { return r.ok; }) &&
                 allOf(res.storePlain, [](const StoreRun& r) { return r.ok; }) &&
                 res.storeEncrypted.front().stateHash == res.storePlain.front().stateHash);
  checks.add("unlock_ok", res.unlockOk && !res.unlockMs.empty());
  checks.add("server_stopped_cleanly", res.serverExit == 0);
  if (p) checks.add("peer_pulled_every_document", p->ok && p->docs == toDouble(totalOps));

  const std::string json = report(opt, res, rows, goals, checks);
  const std::string lastRun = exeDir + (opt.quick ? "/sync-bench-last-quick.json" : "/sync-bench-last.json");
  if (Status s = writeFile(lastRun, json + "\n"); !s.isOk()) progress("warning: " + s.toString());
  if (opt.json) {
    std::printf("%s\n", json.c_str());
  } else {
    printTable(res, rows, goals, checks);
  }
  if (!checks.allOk()) {
    progress("error: a check failed (see \"checks\" in the report)");
    return 1;
  }
  return 0;
}

}  // namespace

int syncBenchMain(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool hasValue = i + 1 < argc;
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--skip-peer") {
      opt.skipPeer = true;
    } else if (a == "--server-bin" && hasValue) {
      opt.serverBin = argv[++i];
    } else if (a == "--work-dir" && hasValue) {
      opt.workDir = argv[++i];
    } else if (a == "--peers-dir" && hasValue) {
      opt.peersDir = argv[++i];
    } else {
      return usage();
    }
  }
  return run(std::move(opt));
}

}  // namespace charta::bench
