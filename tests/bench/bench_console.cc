#include "bench_console.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench_http.h"
#include "bench_json.h"
#include "bench_process.h"
#include "bench_server_process.h"
#include "charta/crdt/chart_document.h"
#include "charta/crdt/hlc.h"
#include "charta/crdt/op_codec.h"
#include "charta/crdt/op_factory.h"
#include "charta/crdt/schema.h"
#include "json.h"
#include "support/http_client.h"

namespace charta::bench {
namespace {

namespace sjson = server::json;
namespace field = crdt::field;
using crdt::ChartDocument;
using crdt::Collection;
using crdt::FieldRef;
using crdt::FieldValue;
using crdt::Op;
using crdt::OpFactory;
using crdt::Status;
using test::HeaderList;
using test::HttpClient;
using test::HttpResult;
using SteadyClock = std::chrono::steady_clock;

constexpr double kPageGoalMs = 300;        // the goal, with 10,000 open conflicts
constexpr std::size_t kPushBatch = 10000;  // push_max_ops
constexpr const char* kSysadmin = "admin";
constexpr const char* kSysadminPassword = "demo-admin-pass";

struct Options {
  bool json = false;
  bool quick = false;
  bool skipBrowser = false;
  std::size_t conflicts = 0;  // 0: the default of the size
  int runs = 20;
  std::string serverBin;
  std::string workDir;
  std::string nodeDir;
  std::string pageScript;
};

int usage() {
  std::fprintf(stderr,
               "usage: charta-bench console [--json] [--quick] [--conflicts N] [--runs N] [--server-bin PATH]\n"
               "                            [--work-dir DIR] [--node-dir DIR] [--page-script FILE] [--skip-browser]\n"
               "  --json           print the report as one JSON object on stdout\n"
               "  --quick          1,000 conflicts instead of 10,000\n"
               "  --conflicts N    this many open conflicts\n"
               "  --runs N         timed repetitions of each call and page (default 20)\n"
               "  --server-bin     the charta-server to start\n"
               "  --work-dir DIR   the server's folder (default: console-bench/ next to the executable)\n"
               "  --node-dir DIR   where playwright-core is (or gets) installed (the browser tests' node/)\n"
               "  --page-script F  console_load.mjs (default: next to the executable)\n"
               "  --skip-browser   time the API calls only\n");
  return 2;
}

int fail(const Status& s, const std::string& what) {
  std::fprintf(stderr, "charta-bench console: %s: %s\n", what.c_str(), s.toString().c_str());
  return 2;
}

std::int64_t intMember(const sjson::Value& v, std::string_view key) {
  const sjson::Value* m = v.find(key);
  return m != nullptr && m->asInt() ? *m->asInt() : -1;
}

const crdt::WallClock& wallClock() {
  static const crdt::SystemWallClock clock;
  return clock;
}

struct Stats {
  double median = 0, p95 = 0, max = 0;
};

Stats statsOf(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.median = v[v.size() / 2];
  s.p95 = v[std::min(v.size() - 1, static_cast<std::size_t>(static_cast<double>(v.size()) * 0.95))];
  s.max = v.back();
  return s;
}

// One enrolled device of the demo clinic, signed in as the demo nurse.
struct Device {
  std::string id, secret, token;
  std::uint64_t replica = 0;
  std::unique_ptr<OpFactory> factory;
  HeaderList auth() const { return {{"X-Charta-Device", id + ":" + secret}, {"Authorization", "Bearer " + token}}; }
};

Status enrol(HttpClient& http, const HeaderList& admin, const std::string& name, Device& d) {
  const HttpResult code =
      http.post("/v1/admin/enrolment-codes", sjson::serialize(sjson::Object{{"clinic", "demo"}}), admin);
  const auto c = parseObject(code.body);
  if (code.status != 201 || !c) return Status::ioError("enrolment code: " + describe(code));
  const HttpResult e =
      http.post("/v1/enrol", sjson::serialize(sjson::Object{{"code", stringMember(*c, "code")}, {"name", name}}));
  const auto ev = parseObject(e.body);
  if (e.status != 200 || !ev) return Status::ioError("enrolment: " + describe(e));
  d.id = stringMember(*ev, "device_id");
  d.secret = stringMember(*ev, "device_secret");
  d.replica = std::stoull(stringMember(*ev, "replica_id"));
  const HttpResult l =
      http.post("/v1/login", sjson::serialize(sjson::Object{{"username", "nurse"}, {"password", "demo-nurse-pass"}}),
                {{"X-Charta-Device", d.id + ":" + d.secret}});
  const auto lv = parseObject(l.body);
  if (l.status != 200 || !lv) return Status::ioError("nurse sign-in: " + describe(l));
  d.token = stringMember(*lv, "token");
  d.factory = std::make_unique<OpFactory>(crdt::ReplicaId{d.replica}, wallClock(), 1);
  d.factory->setUser("nurse");
  return Status::ok();
}

Status push(HttpClient& http, const Device& d, std::vector<Op>& ops) {
  for (std::size_t at = 0; at < ops.size(); at += kPushBatch) {
    const std::vector<Op> batch(ops.begin() + static_cast<std::ptrdiff_t>(at),
                                ops.begin() + static_cast<std::ptrdiff_t>(std::min(ops.size(), at + kPushBatch)));
    const HttpResult r = http.post("/v1/sync/push", crdt::encodeBatch(batch), d.auth(), "application/x-charta-ops");
    if (r.status != 200) return Status::ioError("push: " + describe(r));
  }
  ops.clear();
  return Status::ok();
}

// Patient i: device A charts it; then, both offline, A and B write one field
// differently. One patient in four gets an allergy whose criticality both
// change (clinically significant); the others a birth date.
Status makeConflicts(HttpClient& http, Device& a, Device& b, std::size_t n) {
  std::vector<Op> opsA, opsB;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string patient = "bench-pt-" + std::to_string(i);
    ChartDocument docA(patient), docB(patient);
    auto keep = [](ChartDocument& doc, std::vector<Op>& out, Op op) {
      (void)doc.apply(op);
      out.push_back(std::move(op));
    };
    keep(docA, opsA,
         a.factory->writeField(docA, FieldRef{Collection::kDemographics, {}, field::kFamilyName},
                               std::string("Patient ") + std::to_string(i)));
    (void)docB.apply(opsA.back());
    if (i % 4 == 0) {
      keep(docA, opsA,
           a.factory->addEntry(docA, Collection::kAllergies,
                               {FieldValue{field::kDisplay, std::string("Penicillin")},
                                FieldValue{field::kCriticality, std::string("low")}}));
      const crdt::OpId entry = opsA.back().id;
      (void)docB.apply(opsA.back());
      const FieldRef criticality{Collection::kAllergies, entry, field::kCriticality};
      keep(docA, opsA, a.factory->writeField(docA, criticality, std::string("high")));
      keep(docB, opsB, b.factory->writeField(docB, criticality, std::string("unable-to-assess")));
    } else {
      const FieldRef birth{Collection::kDemographics, {}, field::kBirthDate};
      keep(docA, opsA, a.factory->writeField(docA, birth, std::string("1960-03-01")));
      keep(docB, opsB, b.factory->writeField(docB, birth, std::string("1960-01-03")));
    }
    if (opsA.size() >= kPushBatch) {
      if (Status s = push(http, a, opsA); !s.isOk()) return s;
    }
    if (opsB.size() >= kPushBatch) {
      if (Status s = push(http, b, opsB); !s.isOk()) return s;
    }
  }
  if (Status s = push(http, a, opsA); !s.isOk()) return s;
  return push(http, b, opsB);
}

struct ApiCall {
  std::string name, path;
  Stats ms;
  std::size_t bytes = 0;
  bool ok = true;
};

struct PageLoad {
  std::string name;
  Stats ms;        // a full load (reload) until the data shows
  Stats switchMs;  // a switch from another page of the console
  std::size_t runs = 0;
};

std::vector<double> numbersOf(const sjson::Value* list) {
  std::vector<double> out;
  if (list && list->asArray()) {
    for (const sjson::Value& t : *list->asArray()) out.push_back(t.asDouble().value_or(-1));
  }
  return out;
}

}  // namespace

int consoleBenchMain(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool hasValue = i + 1 < argc;
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--skip-browser") {
      opt.skipBrowser = true;
    } else if (a == "--conflicts" && hasValue) {
      opt.conflicts = static_cast<std::size_t>(std::strtoull(argv[++i], nullptr, 10));
      if (opt.conflicts == 0) return usage();
    } else if (a == "--runs" && hasValue) {
      opt.runs = std::atoi(argv[++i]);
      if (opt.runs < 1) return usage();
    } else if (a == "--server-bin" && hasValue) {
      opt.serverBin = argv[++i];
    } else if (a == "--work-dir" && hasValue) {
      opt.workDir = argv[++i];
    } else if (a == "--node-dir" && hasValue) {
      opt.nodeDir = argv[++i];
    } else if (a == "--page-script" && hasValue) {
      opt.pageScript = argv[++i];
    } else {
      return usage();
    }
  }
  const std::string exeDir = executableDir();
  if (opt.workDir.empty()) opt.workDir = exeDir + "/console-bench";
  if (opt.pageScript.empty()) opt.pageScript = exeDir + "/console_load.mjs";
  if (opt.conflicts == 0) opt.conflicts = opt.quick ? 1000 : 10000;
  if (opt.serverBin.empty() || access(opt.serverBin.c_str(), X_OK) != 0) {
    return fail(Status::notFound("no charta-server executable at '" + opt.serverBin + "'"), "--server-bin");
  }
  if (!opt.skipBrowser) {
    if (opt.nodeDir.empty()) return fail(Status::invalidArgument("--node-dir is required"), "the browser");
    if (!findInPath("node")) return fail(Status::notFound("node is not on PATH"), "the browser");
    if (!fileExists("/usr/bin/chromium") && !std::getenv("CHARTA_CHROMIUM")) {
      return fail(Status::notFound("/usr/bin/chromium is not installed (Debian package chromium)"), "the browser");
    }
  }
  {
    std::error_code ec;
    std::filesystem::remove_all(opt.workDir + "/server", ec);
  }

  std::map<std::string, bool> checks;
  std::vector<ApiCall> calls;
  std::vector<PageLoad> pages;
  std::vector<std::string> consoleErrors;
  double setupMs = 0;
  std::int64_t total = -1;
  {
    ServerProcess server;
    if (Status s = server.start(opt.serverBin, opt.workDir + "/server"); !s.isOk()) return fail(s, "charta-server");
    HttpClient http(server.url());
    const HttpResult login = http.post(
        "/v1/login", sjson::serialize(sjson::Object{{"username", kSysadmin}, {"password", kSysadminPassword}}));
    const auto lv = parseObject(login.body);
    if (login.status != 200 || !lv) return fail(Status::ioError(describe(login)), "sysadmin sign-in");
    const HeaderList admin{{"Authorization", "Bearer " + stringMember(*lv, "token")}};

    progress("making " + std::to_string(opt.conflicts) + " open conflicts with two devices");
    const auto t0 = SteadyClock::now();
    Device a, b;
    if (Status s = enrol(http, admin, "Bench tablet A", a); !s.isOk()) return fail(s, "device A");
    if (Status s = enrol(http, admin, "Bench tablet B", b); !s.isOk()) return fail(s, "device B");
    if (Status s = makeConflicts(http, a, b, opt.conflicts); !s.isOk()) return fail(s, "making conflicts");
    setupMs = msSince(t0);
    const HttpResult count = http.get("/v1/admin/conflicts?limit=1", admin);
    if (const auto cv = parseObject(count.body); count.status == 200 && cv) total = intMember(*cv, "total");
    checks["every_conflict_open"] = total == static_cast<std::int64_t>(opt.conflicts);

    // What the console's pages ask for.
    const std::size_t n = opt.conflicts;
    const std::vector<std::pair<std::string, std::string>> paths = {
        {"inbox_first_page", "/v1/admin/conflicts?limit=100"},
        {"inbox_middle_page", "/v1/admin/conflicts?limit=100&offset=" + std::to_string(n / 2 / 100 * 100)},
        {"inbox_last_page", "/v1/admin/conflicts?limit=100&offset=" + std::to_string(n > 100 ? n - 100 : 0)},
        {"inbox_filtered", "/v1/admin/conflicts?limit=100&clinic=demo&field=demographics&opened_before=" +
                               std::to_string(static_cast<std::int64_t>(wallClock().nowMs()) + 1000)},
        {"overview_count", "/v1/admin/conflicts?limit=1"},
        {"devices", "/v1/admin/devices"},
        {"activity", "/v1/admin/activity"},
        {"clinics", "/v1/admin/clinics"},
        {"audit_page", "/v1/admin/audit?limit=100"},
    };
    for (const auto& [name, path] : paths) {
      ApiCall call{name, path, {}, 0, true};
      std::vector<double> ms;
      for (int r = 0; r < opt.runs; ++r) {
        const auto t = SteadyClock::now();
        const HttpResult res = http.get(path, admin);
        ms.push_back(msSince(t));
        call.bytes = res.body.size();
        call.ok = call.ok && res.status == 200;
      }
      call.ms = statsOf(ms);
      calls.push_back(call);
    }
    bool allOk = true;
    for (const ApiCall& c : calls) allOk = allOk && c.ok;
    checks["every_call_answered"] = allOk;
    const HttpResult first = http.get("/v1/admin/conflicts?limit=100", admin);
    const auto fv = parseObject(first.body);
    const sjson::Value* list = fv ? fv->find("conflicts") : nullptr;
    const std::size_t shown = list && list->asArray() ? list->asArray()->size() : 0;
    checks["inbox_first_page_full"] = shown == std::min<std::size_t>(100, opt.conflicts);
    // Clinically significant first: the allergies (one patient in four, the
    // oldest of them made first) fill the first page.
    bool allergiesFirst = shown > 0;
    for (std::size_t i = 0; allergiesFirst && i < shown && i < (opt.conflicts + 3) / 4; ++i) {
      const sjson::Value& c = (*list->asArray())[i];
      const sjson::Value* significant = c.find("significant");
      allergiesFirst =
          significant && significant->asBool().value_or(false) && stringMember(c, "path").rfind("allergies[", 0) == 0;
    }
    checks["clinical_conflicts_first"] = allergiesFirst;

    if (!opt.skipBrowser) {
      progress("loading the console's pages in headless Chromium, " + std::to_string(opt.runs) + " times each");
      auto node = runProcess({"node", opt.pageScript, "--url", server.url(), "--node-dir", opt.nodeDir, "--runs",
                              std::to_string(opt.runs), "--user", kSysadmin, "--password", kSysadminPassword},
                             "", true);
      if (!node.isOk()) return fail(node.status(), "console_load.mjs");
      if (node.value().exitCode != 0) {
        return fail(Status::ioError("exit status " + std::to_string(node.value().exitCode)), "console_load.mjs");
      }
      const auto report = parseObject(node.value().output);
      const sjson::Value* pageTimes = report ? report->find("pages") : nullptr;
      if (!pageTimes || !pageTimes->asObject()) {
        return fail(Status::corruption("not a page report: " + node.value().output.substr(0, 300)), "console_load.mjs");
      }
      const sjson::Value* switchTimes = report->find("switches");
      for (const auto& [name, times] : *pageTimes->asObject()) {
        const std::vector<double> ms = numbersOf(&times);
        const std::vector<double> sw = numbersOf(switchTimes ? switchTimes->find(name) : nullptr);
        pages.push_back({name, statsOf(ms), statsOf(sw), std::min(ms.size(), sw.size())});
      }
      if (const sjson::Value* errors = report->find("console_errors"); errors && errors->asArray()) {
        for (const sjson::Value& e : *errors->asArray()) {
          if (e.asString()) consoleErrors.push_back(*e.asString());
        }
      }
      bool everyPage = pages.size() == 4;
      for (const PageLoad& p : pages) everyPage = everyPage && p.runs == static_cast<std::size_t>(opt.runs);
      checks["every_page_loaded"] = everyPage;
      checks["no_console_errors"] = consoleErrors.empty();
    }
  }

  double slowestPage = 0;
  for (const PageLoad& p : pages) slowestPage = std::max(slowestPage, p.ms.median);
  bool passed = true;
  for (const auto& [name, ok] : checks) passed = passed && ok;

  if (opt.json) {
    JsonWriter j;
    j.beginObject().field("suite", "console").field("conflicts", opt.conflicts).field("runs", opt.runs);
    j.field("setup_ms", setupMs);
    j.key("api").beginArray();
    for (const ApiCall& c : calls) {
      j.beginObject().field("name", c.name).field("path", c.path).field("median_ms", c.ms.median);
      j.field("p95_ms", c.ms.p95).field("max_ms", c.ms.max).field("bytes", c.bytes).endObject();
    }
    j.endArray();
    j.key("pages").beginArray();
    for (const PageLoad& p : pages) {
      j.beginObject().field("name", p.name).field("median_ms", p.ms.median).field("p95_ms", p.ms.p95);
      j.field("max_ms", p.ms.max).field("switch_median_ms", p.switchMs.median).field("switch_p95_ms", p.switchMs.p95);
      j.field("runs", p.runs).endObject();
    }
    j.endArray();
    j.key("goal").beginObject().field("page_ms", kPageGoalMs).field("slowest_page_median_ms", slowestPage);
    j.field("met", !pages.empty() && slowestPage < kPageGoalMs).endObject();
    j.key("console_errors").beginArray();
    for (const std::string& e : consoleErrors) j.value(e);
    j.endArray();
    j.key("checks").beginObject();
    for (const auto& [name, ok] : checks) j.field(name, ok);
    j.endObject().endObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("console with %zu open conflicts (made in %.0f ms), %d runs each\n", opt.conflicts, setupMs, opt.runs);
    for (const ApiCall& c : calls) {
      std::printf("  GET %-60s median %7.1f ms  p95 %7.1f ms  %8zu bytes\n", c.path.c_str(), c.ms.median, c.ms.p95,
                  c.bytes);
    }
    for (const PageLoad& p : pages) {
      std::printf(
          "  page %-10s load median %7.1f ms  p95 %7.1f ms; switch median %7.1f ms  p95 %7.1f ms (goal %.0f ms)\n",
          p.name.c_str(), p.ms.median, p.ms.p95, p.switchMs.median, p.switchMs.p95, kPageGoalMs);
    }
    for (const auto& [name, ok] : checks) std::printf("  check %s: %s\n", name.c_str(), ok ? "ok" : "FAILED");
  }
  return passed ? 0 : 1;
}

}  // namespace charta::bench
