#include "bench_app.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_json.h"
#include "bench_process.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/replica.h"
#include "demo_charts.h"
#include "json.h"

namespace charta::bench {
namespace {

namespace sjson = server::json;
using crdt::Status;
using platform::PassphraseVault;
using SteadyClock = std::chrono::steady_clock;

// The goals of the issue (reported, never enforced).
constexpr double kColdStartGoalMs = 1500;
constexpr double kChartGoalMs = 200;
constexpr double kPeakRssGoalMiB = 250;

constexpr const char* kNurse = "nurse";
constexpr const char* kPassphrase = "bench tablet passphrase";
// A closed port on loopback: the sync unlock starts fails at once.
constexpr const char* kNoServer = "http://127.0.0.1:9";
constexpr int kProbeTimeoutSeconds = 90;  // the probe gives up after 60 s itself
constexpr int kInProcessRuns = 3;

#ifdef CHARTA_BENCH_APP_PROBE
constexpr const char* kDefaultProbe = CHARTA_BENCH_APP_PROBE;
#else
constexpr const char* kDefaultProbe = "";
#endif

struct Options {
  bool json = false;
  std::size_t patients = 2000;
  int years = 5;
  int runs = 5;
  std::string probeBin = kDefaultProbe;
  std::string workDir;
};

int usage() {
  std::fprintf(stderr,
               "usage: charta-bench app [--json] [--patients N] [--years Y] [--runs R] [--probe-bin PATH]\n"
               "                        [--work-dir DIR]\n"
               "  --json            print the report as one JSON object on stdout\n"
               "  --patients N      demo patients on the tablet (default 2000)\n"
               "  --years Y         years of history per patient (default 5)\n"
               "  --runs R          cold starts of the app, each a new process (default 5)\n"
               "  --probe-bin PATH  charta_app_probe (default: the one built with the bench)\n"
               "  --work-dir DIR    where the replica is made and kept (default: a temporary folder, removed)\n");
  return 2;
}

int fail(const Status& s, const std::string& what) {
  std::fprintf(stderr, "charta-bench: error: %s: %s\n", what.c_str(), s.toString().c_str());
  return 2;
}

double loadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  in >> one;
  return one;
}

// --- the replica ------------------------------------------------------------

struct Clinic {
  std::string dir;
  std::string chartPatient;  // the patient with the most ops
  std::uint64_t chartOps = 0;
  std::uint64_t totalOps = 0;
  std::size_t patients = 0;
  double seedMs = 0;
  double replicaMiB = 0;
};

crdt::Result<Clinic> makeClinic(const Options& opt, const std::string& dir) {
  Clinic c;
  c.dir = dir;
  const std::string path = dir + "/replica.db";
  PassphraseVault vault(PassphraseVault::Strength::kTablet);
  const sync::DeviceIdentity identity{kNoServer, "bench-tablet", crdt::ReplicaId{0xBE4C4}, "demo", ""};
  const sync::UserInfo nurse{kNurse, "Bench nurse", "", 0};
  auto created =
      sync::Replica::create(path, identity, "bench-device-secret-0123456789abcdef", vault, nurse, kPassphrase);
  if (!created.isOk()) return created.status();
  std::unique_ptr<sync::Replica> replica = std::move(created).value();
  sync::DemoOptions demo;
  demo.patients = opt.patients;
  demo.years = opt.years;
  const auto t0 = SteadyClock::now();
  auto ids = sync::DemoCharts::create(*replica, demo);
  if (!ids.isOk()) return ids.status();
  c.seedMs = msSince(t0);
  for (const std::string& p : replica->patients()) {
    auto s = replica->summary(p);
    if (!s.isOk()) return s.status();
    ++c.patients;
    c.totalOps += s.value().opCount;
    if (s.value().opCount > c.chartOps) {
      c.chartOps = s.value().opCount;
      c.chartPatient = p;
    }
  }
  replica.reset();
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const auto size = std::filesystem::file_size(path + suffix, ec);
    if (!ec) c.replicaMiB += static_cast<double>(size) / (1024.0 * 1024.0);
  }
  return c;
}

// In this process, for the breakdown: Replica::open + unlock (Argon2id at
// the strength in the blob), then every summary read and opened.
struct InProcess {
  std::vector<double> unlockMs;
  std::vector<double> summariesMs;
};

crdt::Result<InProcess> measureInProcess(const Clinic& c) {
  InProcess r;
  PassphraseVault vault(PassphraseVault::Strength::kTablet);
  for (int i = 0; i < kInProcessRuns; ++i) {
    const auto t0 = SteadyClock::now();
    auto opened = sync::Replica::open(c.dir + "/replica.db");
    if (!opened.isOk()) return opened.status();
    if (Status s = opened.value()->unlock(vault, kNurse, kPassphrase); !s.isOk()) return s;
    r.unlockMs.push_back(msSince(t0));
    const auto t1 = SteadyClock::now();
    std::size_t n = 0;
    for (const std::string& p : opened.value()->patients()) {
      auto s = opened.value()->summary(p);
      if (!s.isOk()) return s.status();
      ++n;
    }
    r.summariesMs.push_back(msSince(t1));
    if (n != c.patients) return Status::invalidArgument("the replica lists a different number of patients");
  }
  return r;
}

// --- the probe ----------------------------------------------------------------

struct ProbeRun {
  bool ok = false;
  std::string error;
  double spawnToMainMs = 0;  // fork to the probe's main (same CLOCK_MONOTONIC)
  double beforeMainMs = 0;   // the probe's own /proc view (clock tick resolution)
  double lockScreenMs = 0;   // from spawn
  double unlockMs = 0;
  double unlockToListMs = 0;
  double listMs = 0;  // from spawn
  double chartOpenMs = 0;
  double chartCallMs = 0;  // showScreen's own call (synchronous part)
  double peakRssMiB = 0;   // wait4
  double rssListMiB = 0;
  double rssChartMiB = 0;
  int listed = -1;
  int viewCount = -1;
  bool chartLoaded = false;
};

double numberMember(const sjson::Value& v, std::string_view key, double fallback = -1) {
  const sjson::Value* m = v.find(key);
  if (m == nullptr) return fallback;
  if (auto d = m->asDouble()) return *d;
  if (auto i = m->asInt()) return static_cast<double>(*i);
  return fallback;
}

// Runs the probe once; a failed run is returned with ok false and the reason.
ProbeRun runProbe(const Options& opt, const Clinic& c) {
  ProbeRun run;
  const std::vector<std::string> argv = {opt.probeBin,
                                         "--data",
                                         c.dir,
                                         "--user",
                                         kNurse,
                                         "--passphrase",
                                         kPassphrase,
                                         "--patient",
                                         c.chartPatient,
                                         "--patients",
                                         std::to_string(c.patients)};
  int fds[2] = {-1, -1};
  if (pipe(fds) != 0) {
    run.error = "pipe failed";
    return run;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const auto spawned = SteadyClock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    run.error = "fork failed";
    close(fds[0]);
    close(fds[1]);
    return run;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "charta-bench: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  std::string output;
  const auto deadline = spawned + std::chrono::seconds(kProbeTimeoutSeconds);
  bool timedOut = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) {
      timedOut = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      run.error = "wait4 failed";
      return run;
    }
  }
  run.peakRssMiB = static_cast<double>(ru.ru_maxrss) / 1024.0;
  if (timedOut) {
    run.error = "the probe did not finish in " + std::to_string(kProbeTimeoutSeconds) + " s";
    return run;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    run.error = "the probe failed (status " + std::to_string(status) + "; its reason is on stderr above)";
    return run;
  }
  auto parsed = sjson::parse(output);
  if (!parsed.isOk() || !parsed.value().isObject()) {
    run.error = "the probe's output is not one JSON object: " + output.substr(0, 300);
    return run;
  }
  const sjson::Value& v = parsed.value();
  const sjson::Value* loaded = v.find("chart_loaded");
  run.chartLoaded = loaded != nullptr && loaded->asBool().value_or(false);
  run.listed = static_cast<int>(numberMember(v, "patients_listed"));
  run.viewCount = static_cast<int>(numberMember(v, "list_view_count"));
  const double mainNs = numberMember(v, "main_steady_ns");
  const double spawnNs =
      static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(spawned.time_since_epoch()).count());
  run.spawnToMainMs = (mainNs - spawnNs) / 1e6;
  run.beforeMainMs = numberMember(v, "before_main_ms");
  const double lock = numberMember(v, "lock_screen_ms");
  const double unlocked = numberMember(v, "unlock_ms");
  const double list = numberMember(v, "list_ms");
  const double call = numberMember(v, "chart_call_ms");
  const double callReturn = numberMember(v, "chart_return_ms");
  const double chart = numberMember(v, "chart_ms");
  run.lockScreenMs = run.spawnToMainMs + lock;
  run.unlockMs = unlocked - lock;
  run.unlockToListMs = list - unlocked;
  run.listMs = run.spawnToMainMs + list;
  run.chartOpenMs = chart - call;
  run.chartCallMs = callReturn - call;
  run.rssListMiB = numberMember(v, "rss_list_kib") / 1024.0;
  run.rssChartMiB = numberMember(v, "rss_chart_kib") / 1024.0;
  run.ok = mainNs > 0 && lock > 0 && unlocked > lock && list > unlocked && chart > call;
  if (!run.ok) run.error = "the probe's times are not in order: " + output.substr(0, 300);
  return run;
}

// --- the report ---------------------------------------------------------------

struct Figure {
  std::string name;
  std::string unit;
  std::string description;
  std::vector<double> runs;
};

struct Goal {
  std::string text;
  double target;
  double actual;
  bool met() const { return actual > 0 && actual < target; }  // 0: not measured
};

struct Checks {
  std::vector<std::pair<std::string, bool>> list;
  void add(std::string name, bool ok) { list.emplace_back(std::move(name), ok); }
  bool allOk() const {
    return std::all_of(list.begin(), list.end(), [](const auto& c) { return c.second; });
  }
};

double minOf(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
double maxOf(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

std::string report(const Options& opt, const Clinic& c, const InProcess& in, const std::vector<ProbeRun>& runs,
                   const std::vector<Figure>& figures, const std::vector<Goal>& goals, const Checks& checks) {
  JsonWriter j;
  j.beginObject().field("suite", "app");
  j.field("statistic", "median, minimum and maximum over " + std::to_string(opt.runs) +
                           " cold starts, each a new charta_app_probe process (QT_QPA_PLATFORM=offscreen)");
  j.key("workload").beginObject();
  j.field("patients", c.patients).field("years", opt.years).field("runs", opt.runs);
  j.field("seed_ms", c.seedMs).field("total_ops", static_cast<double>(c.totalOps));
  j.field("ops_per_patient", c.patients > 0 ? static_cast<double>(c.totalOps) / static_cast<double>(c.patients) : 0);
  j.field("chart_patient_ops", static_cast<double>(c.chartOps)).field("replica_mib", c.replicaMiB);
  j.field("description",
          "a replica as enrolment makes it (PassphraseVault kTablet as the app enrols, server URL a closed loopback port), filled "
          "with DemoCharts; the chart opened is the patient with the most ops. Each run starts the app as "
          "charta-tablet does, waits for the lock screen's first frame, unlocks, waits until the patient list holds "
          "every patient and the next frame is swapped, then calls showScreen(\"chart\", patient) and waits until "
          "the ChartController is loaded and the next frame is swapped. The OS file cache is warm (the replica was "
          "just written)");
  j.endObject();
  j.key("environment").beginObject();
  j.field("cpus", static_cast<double>(std::thread::hardware_concurrency())).field("load_average_1m", loadAverage());
  j.field("qpa", "offscreen").endObject();
  j.key("in_process").beginObject();
  j.numbers("open_and_unlock_ms", in.unlockMs).numbers("read_all_summaries_ms", in.summariesMs);
  j.field("description",
          "measured in charta-bench, not in the app: Replica::open + unlock (Argon2id kTablet: 128 MiB, 6 passes), then every "
          "patient's summary read and opened, as ChartStore::summaries() does");
  j.endObject();

  j.key("runs").beginArray();
  for (const ProbeRun& r : runs) {
    j.beginObject().field("ok", r.ok);
    if (!r.ok) j.field("error", r.error);
    j.field("patients_listed", r.listed).field("list_view_count", r.viewCount).field("chart_loaded", r.chartLoaded);
    j.field("spawn_to_main_ms", r.spawnToMainMs).field("before_main_proc_ms", r.beforeMainMs);
    j.field("lock_screen_ms", r.lockScreenMs).field("unlock_ms", r.unlockMs);
    j.field("unlock_to_list_ms", r.unlockToListMs).field("cold_start_to_list_ms", r.listMs);
    j.field("chart_open_ms", r.chartOpenMs).field("show_screen_call_ms", r.chartCallMs);
    j.field("peak_rss_mib", r.peakRssMiB).field("rss_at_list_mib", r.rssListMiB);
    j.field("rss_at_chart_mib", r.rssChartMiB).endObject();
  }
  j.endArray();

  j.key("results").beginArray();
  for (const Figure& f : figures) {
    j.beginObject().field("name", f.name).field("unit", f.unit);
    j.field("median", median(f.runs)).field("min", minOf(f.runs)).field("max", maxOf(f.runs));
    j.numbers("runs", f.runs).field("description", f.description).endObject();
  }
  j.endArray();

  j.key("goals").beginArray();
  for (const Goal& g : goals) {
    j.beginObject().field("goal", g.text).field("target", g.target).field("actual", g.actual);
    j.field("met", g.met()).endObject();
  }
  j.endArray();
  j.key("checks").beginObject();
  for (const auto& [name, ok] : checks.list) j.field(name, ok);
  j.endObject();
  j.field("ok", checks.allOk()).endObject();
  return j.str();
}

void printTable(const Clinic& c, const InProcess& in, const std::vector<Figure>& figures,
                const std::vector<Goal>& goals, const Checks& checks) {
  std::printf("%zu patients, %.0f ops per patient on average, chart opened: %.0f ops; seeded in %.0f ms\n", c.patients,
              c.patients > 0 ? static_cast<double>(c.totalOps) / static_cast<double>(c.patients) : 0.0,
              static_cast<double>(c.chartOps), c.seedMs);
  std::printf("%-26s %-5s %10s %10s %10s\n", "figure", "unit", "median", "min", "max");
  for (const Figure& f : figures) {
    std::printf("%-26s %-5s %10s %10s %10s\n", f.name.c_str(), f.unit.c_str(),
                JsonWriter::number(median(f.runs)).c_str(), JsonWriter::number(minOf(f.runs)).c_str(),
                JsonWriter::number(maxOf(f.runs)).c_str());
  }
  std::printf("in this process: open + unlock %s ms, reading every summary %s ms (medians)\n",
              JsonWriter::number(median(in.unlockMs)).c_str(), JsonWriter::number(median(in.summariesMs)).c_str());
  for (const Goal& g : goals) {
    std::printf("goal %-40s %s (%s)\n", g.text.c_str(), g.met() ? "met" : "NOT met",
                JsonWriter::number(g.actual).c_str());
  }
  for (const auto& [name, ok] : checks.list) std::printf("check %-36s %s\n", name.c_str(), ok ? "ok" : "FAILED");
}

// Removes the temporary folder on every path out.
class TempDir {
 public:
  explicit TempDir(std::string path, bool remove) : m_path(std::move(path)), m_remove(remove) {}
  ~TempDir() {
    if (!m_remove || m_path.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
  bool m_remove;
};

int run(const Options& opt) {
  if (opt.probeBin.empty() || access(opt.probeBin.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "charta-bench: error: no charta_app_probe at '%s' (use --probe-bin)\n", opt.probeBin.c_str());
    return 2;
  }
  std::string dir = opt.workDir;
  if (dir.empty()) {
    std::error_code ec;
    std::string pattern = (std::filesystem::temp_directory_path(ec) / "charta-app-bench-XXXXXX").string();
    if (ec || mkdtemp(pattern.data()) == nullptr) return fail(Status::invalidArgument("mkdtemp failed"), "work dir");
    dir = pattern;
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (Status s = makeDirectories(dir); !s.isOk()) return fail(s, "work dir");
  }
  TempDir temp(dir, opt.workDir.empty());

  progress("making a replica with " + std::to_string(opt.patients) + " demo patients, " + std::to_string(opt.years) +
           " years each, in " + dir);
  auto clinic = makeClinic(opt, dir);
  if (!clinic.isOk()) return fail(clinic.status(), "the demo replica");
  const Clinic& c = clinic.value();
  progress("seeded in " + JsonWriter::number(c.seedMs) + " ms; chart patient " + c.chartPatient + " has " +
           std::to_string(c.chartOps) + " ops");

  progress("in this process: open + unlock and every summary, " + std::to_string(kInProcessRuns) + " times");
  auto in = measureInProcess(c);
  if (!in.isOk()) return fail(in.status(), "in-process unlock");

  std::vector<ProbeRun> runs;
  for (int i = 0; i < opt.runs; ++i) {
    ProbeRun r = runProbe(opt, c);
    if (r.ok) {
      progress("run " + std::to_string(i + 1) + ": list " + JsonWriter::number(r.listMs) + " ms (unlock " +
               JsonWriter::number(r.unlockMs) + "), chart " + JsonWriter::number(r.chartOpenMs) + " ms, peak " +
               JsonWriter::number(r.peakRssMiB) + " MiB");
    } else {
      progress("run " + std::to_string(i + 1) + " failed: " + r.error);
    }
    runs.push_back(std::move(r));
  }

  const auto column = [&](double ProbeRun::*field) {
    std::vector<double> v;
    for (const ProbeRun& r : runs) {
      if (r.ok) v.push_back(r.*field);
    }
    return v;
  };
  const std::vector<Figure> figures = {
      {"spawn_to_main", "ms", "fork of the probe to its main's first line (exec, dynamic loading, static init)",
       column(&ProbeRun::spawnToMainMs)},
      {"lock_screen", "ms", "spawn to the lock screen's first frame swapped (Qt, QML engine, Main.qml)",
       column(&ProbeRun::lockScreenMs)},
      {"unlock", "ms", "ChartStore::unlock to unlockFinished: Argon2id (kTablet), the keys, the failed sign-in",
       column(&ProbeRun::unlockMs)},
      {"unlock_to_list", "ms",
       "unlockFinished to the frame after the patient list holds every patient (summaries, sort, delegates)",
       column(&ProbeRun::unlockToListMs)},
      {"cold_start_to_list", "ms", "spawn to the rendered patient list with every patient (the cold start goal)",
       column(&ProbeRun::listMs)},
      {"chart_open", "ms", "showScreen(\"chart\", patient) called to the frame after the ChartController is loaded",
       column(&ProbeRun::chartOpenMs)},
      {"show_screen_call", "ms", "the synchronous part of chart_open: showScreen's own call",
       column(&ProbeRun::chartCallMs)},
      {"peak_rss", "MiB", "the probe's peak resident memory (wait4 ru_maxrss)", column(&ProbeRun::peakRssMiB)},
      {"rss_at_list", "MiB", "the probe's resident memory when the list was shown", column(&ProbeRun::rssListMiB)},
      {"rss_at_chart", "MiB", "the probe's resident memory when the chart was shown", column(&ProbeRun::rssChartMiB)},
  };

  Checks checks;
  const auto everyRun = [&](auto pred) { return !runs.empty() && std::all_of(runs.begin(), runs.end(), pred); };
  const int n = static_cast<int>(c.patients);
  checks.add("replica_holds_every_patient", c.patients == opt.patients && c.chartOps > 0);
  checks.add("every_run_succeeded", everyRun([](const ProbeRun& r) { return r.ok; }));
  checks.add("list_showed_every_patient",
             everyRun([n](const ProbeRun& r) { return r.listed == n && r.viewCount == n; }));
  checks.add("chart_loaded", everyRun([](const ProbeRun& r) { return r.chartLoaded; }));

  const std::vector<Goal> goals = {
      {"cold start to the patient list under 1.5 s", kColdStartGoalMs, median(figures[4].runs)},
      {"chart with " + std::to_string(opt.years) + " years of history under 200 ms", kChartGoalMs,
       median(figures[5].runs)},
      {"peak memory under 250 MiB", kPeakRssGoalMiB, maxOf(figures[7].runs)},
  };

  const std::string json = report(opt, c, in.value(), runs, figures, goals, checks);
  const std::string lastRun = executableDir() + "/app-bench-last.json";
  if (auto s = writeFile(lastRun, json + "\n"); !s.isOk()) progress("warning: " + s.toString());
  if (opt.json) {
    std::printf("%s\n", json.c_str());
  } else {
    printTable(c, in.value(), figures, goals, checks);
  }
  if (!checks.allOk()) {
    progress("error: a check failed (see \"checks\")");
    return 1;
  }
  return 0;
}

}  // namespace

int appBenchMain(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool hasValue = i + 1 < argc;
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--patients" && hasValue) {
      const long v = std::atol(argv[++i]);
      if (v < 1) return usage();
      opt.patients = static_cast<std::size_t>(v);
    } else if (a == "--years" && hasValue) {
      opt.years = std::atoi(argv[++i]);
      if (opt.years < 1 || opt.years > 50) return usage();
    } else if (a == "--runs" && hasValue) {
      opt.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--probe-bin" && hasValue) {
      opt.probeBin = argv[++i];
    } else if (a == "--work-dir" && hasValue) {
      opt.workDir = argv[++i];
    } else {
      return usage();
    }
  }
  return run(opt);
}

}  // namespace charta::bench
