// charta-server's command line: serve, admin actions, audit verify.

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "accounts.h"
#include "backup.h"
#include "blob_store.h"
#include "charta/server/server.h"
#include "crypto.h"
#include "fhir_export.h"
#include "fhir_import.h"
#include "json.h"
#include "store.h"
#include "sync.h"

namespace charta::server {
namespace {

constexpr const char* kUsage = R"(charta-server: the Charta sync server

usage: charta-server COMMAND [OPTIONS]

commands:
  serve                         answer the HTTP API until SIGTERM or SIGINT
  admin list-clinics            clinics, as JSON
  admin create-clinic ID NAME
  admin list-users [--clinic C]
  admin create-user ID --role nurse|clinic_admin|sysadmin [--clinic C]
                       [--display-name NAME] (--password-file FILE | --password-stdin)
  admin revoke-user ID          the user's sessions end at once
  admin issue-code CLINIC       a one-time device enrolment code
  admin list-devices [--clinic C]
  admin revoke-device ID        the device is told to wipe itself at its next call
  admin list-conflicts [--clinic C] [--patient P]
  admin move-patient PATIENT CLINIC
  audit verify                  check the audit hash chain; exit 1 at the first broken link
  export-fhir (--patient ID | --clinic C) --out DIR
                                one FHIR R4 Bundle per patient, DIR/<patient>.json (audited)
  import-fhir --clinic C [--json] FILE_OR_DIR...
                                import FHIR R4 patient Bundles (a folder: its *.json files,
                                directory-only Bundles such as practitioners first); a Bundle that
                                is not valid R4 is refused whole, with the path of each error
  backup --out FILE             a consistent snapshot of the store (while serving), as one SQLite file
  restore FILE --yes            replace the store with a backup (stop the server first); starts a
                                new epoch, so tablets push again what the backup lacks
  help                          this text

Every command that touches storage takes the same --data DIR (SQLite) or
--postgres CONNINFO options. Settings (a --config FILE of `key = value` lines,
each also an option that overrides the file):
)";

struct Cli {
  Config config;
  std::vector<std::string> args;  // after the options the config took
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
};

int fail(Cli& cli, const std::string& message) {
  cli.err << "charta-server: " << message << "\n";
  return 1;
}

int failStatus(Cli& cli, const Status& s) { return fail(cli, s.toString()); }

std::string shellActor() {
  if (const passwd* pw = ::getpwuid(::geteuid())) return std::string("shell:") + pw->pw_name;
  return "shell";
}

// Takes "--name value" out of args; nullopt when absent.
std::optional<std::string> takeOption(std::vector<std::string>& args, const std::string& name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) {
      std::string v = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      return v;
    }
    if (args[i].rfind(name + "=", 0) == 0) {
      std::string v = args[i].substr(name.size() + 1);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
      return v;
    }
  }
  return std::nullopt;
}

bool takeFlag(std::vector<std::string>& args, const std::string& name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name) {
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
  }
  return false;
}

int serve(Cli& cli) {
  if (cli.args.size() != 1) return fail(cli, "serve takes no operands: " + cli.args[1]);
  // Block the signals before any thread starts, so only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // A write past a file-size limit (RLIMIT_FSIZE) then fails with EFBIG, which
  // the store answers as a full storage (507), instead of killing the server.
  ::signal(SIGXFSZ, SIG_IGN);
  auto server = Server::start(cli.config);
  if (!server.isOk()) return failStatus(cli, server.status());
  cli.out << "charta-server: listening on " << cli.config.host() << ":" << server.value()->port()
          << (cli.config.tlsCert.empty() ? " (http)" : " (https)") << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server.value()->stop();
  cli.out << "charta-server: stopped (" << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ")" << std::endl;
  return 0;
}

Result<std::unique_ptr<Store>> openStore(Cli& cli) {
  Status s = validateConfig(cli.config);
  if (!s.isOk()) return s;
  s = initCrypto();
  if (!s.isOk()) return s;
  return Store::open(cli.config);
}

int printJson(Cli& cli, const json::Value& v) {
  cli.out << json::serialize(v) << "\n";
  return 0;
}

int admin(Cli& cli) {
  std::vector<std::string> a(cli.args.begin() + 1, cli.args.end());
  if (a.empty()) return fail(cli, "admin needs an action; see charta-server help");
  std::string action = a[0];
  a.erase(a.begin());
  std::optional<std::string> clinicOpt = takeOption(a, "--clinic");
  std::optional<std::string> patientOpt = takeOption(a, "--patient");
  std::optional<std::string> role = takeOption(a, "--role");
  std::optional<std::string> displayName = takeOption(a, "--display-name");
  std::optional<std::string> passwordFile = takeOption(a, "--password-file");
  bool passwordStdin = takeFlag(a, "--password-stdin");
  for (const std::string& x : a) {
    if (x.rfind("--", 0) == 0) return fail(cli, "unknown option " + x);
  }
  auto expect = [&](std::size_t n) { return a.size() == n; };

  auto store = openStore(cli);
  if (!store.isOk()) return failStatus(cli, store.status());
  Store& st = *store.value();
  std::string actor = shellActor();
  auto write = [&](const std::function<Status(WriteTx&)>& body) {
    return st.write([&](WriteTx& tx) {
      tx.setActor(actor, "", "local");
      return body(tx);
    });
  };

  if (action == "list-clinics" && expect(0)) {
    json::Array out;
    Status s = st.read([&](Connection& c) -> Status {
      auto r = listClinics(c);
      if (!r.isOk()) return r.status();
      for (const Clinic& k : r.value()) out.push_back(json::Object{{"id", k.id}, {"name", k.name}});
      return Status::ok();
    });
    if (!s.isOk()) return failStatus(cli, s);
    return printJson(cli, json::Object{{"clinics", std::move(out)}});
  }
  if (action == "create-clinic" && expect(2)) {
    Status s = write([&](WriteTx& tx) { return createClinic(tx, {a[0], a[1], 0}); });
    if (!s.isOk()) return failStatus(cli, s);
    cli.out << "clinic " << a[0] << " created\n";
    return 0;
  }
  if (action == "list-users" && expect(0)) {
    json::Array out;
    Status s = st.read([&](Connection& c) -> Status {
      auto r = listUsers(c, clinicOpt.value_or(""));
      if (!r.isOk()) return r.status();
      for (const User& u : r.value()) {
        out.push_back(json::Object{{"id", u.id},
                                   {"role", std::string(roleName(u.role))},
                                   {"clinic", u.clinic},
                                   {"revoked", u.revokedAt.has_value()}});
      }
      return Status::ok();
    });
    if (!s.isOk()) return failStatus(cli, s);
    return printJson(cli, json::Object{{"users", std::move(out)}});
  }
  if (action == "create-user" && expect(1)) {
    if (!role || !parseRole(*role)) return fail(cli, "create-user needs --role nurse, clinic_admin or sysadmin");
    std::string password;
    if (passwordFile) {
      std::ifstream in(*passwordFile);
      if (!in || !std::getline(in, password)) return fail(cli, "cannot read a password from " + *passwordFile);
    } else if (passwordStdin) {
      if (!std::getline(std::cin, password)) return fail(cli, "no password on standard input");
    } else {
      return fail(cli, "create-user needs --password-file FILE or --password-stdin");
    }
    Status s = write([&](WriteTx& tx) {
      return createUser(tx, a[0], displayName.value_or(""), *parseRole(*role), clinicOpt.value_or(""), password);
    });
    if (!s.isOk()) return failStatus(cli, s);
    cli.out << "user " << a[0] << " created\n";
    return 0;
  }
  if (action == "revoke-user" && expect(1)) {
    Status s = write([&](WriteTx& tx) { return revokeUser(tx, a[0]); });
    if (!s.isOk()) return failStatus(cli, s);
    cli.out << "user " << a[0] << " revoked\n";
    return 0;
  }
  if (action == "issue-code" && expect(1)) {
    std::string code;
    Status s = write([&](WriteTx& tx) -> Status {
      auto c = issueEnrolmentCode(tx, a[0], actor, static_cast<std::int64_t>(cli.config.enrolmentCodeTtlSeconds) * 1000);
      if (!c.isOk()) return c.status();
      code = c.value();
      return Status::ok();
    });
    if (!s.isOk()) return failStatus(cli, s);
    cli.out << code << "\n";
    return 0;
  }
  if (action == "list-devices" && expect(0)) {
    json::Array out;
    Status s = st.read([&](Connection& c) -> Status {
      auto r = listDevices(c, clinicOpt.value_or(""));
      if (!r.isOk()) return r.status();
      for (const Device& d : r.value()) {
        out.push_back(json::Object{{"id", d.id},
                                   {"name", d.name},
                                   {"clinic", d.clinic},
                                   {"revoked", d.revokedAt.has_value()},
                                   {"last_seen_at", d.lastSeenAt ? json::Value(*d.lastSeenAt) : json::Value()},
                                   {"pending_ops", d.pendingOps},
                                   {"last_error", d.lastError}});
      }
      return Status::ok();
    });
    if (!s.isOk()) return failStatus(cli, s);
    return printJson(cli, json::Object{{"devices", std::move(out)}});
  }
  if (action == "revoke-device" && expect(1)) {
    Status s = write([&](WriteTx& tx) { return revokeDevice(tx, a[0]); });
    if (!s.isOk()) return failStatus(cli, s);
    cli.out << "device " << a[0] << " revoked: it will be told to wipe itself at its next call\n";
    return 0;
  }
  if (action == "list-conflicts" && expect(0)) {
    json::Array out;
    Status s = st.read([&](Connection& c) -> Status {
      ConflictFilter filter;
      filter.clinic = clinicOpt.value_or("");
      filter.patient = patientOpt.value_or("");
      auto r = listConflicts(c, filter, 1000, 0);
      if (!r.isOk()) return r.status();
      for (const ConflictRow& k : r.value()) {
        auto detail = json::parse(k.detail);
        out.push_back(json::Object{{"id", k.id},
                                   {"patient", k.patient},
                                   {"clinic", k.clinic},
                                   {"path", k.path},
                                   {"detail", detail.isOk() ? detail.value() : json::Value()}});
      }
      return Status::ok();
    });
    if (!s.isOk()) return failStatus(cli, s);
    return printJson(cli, json::Object{{"conflicts", std::move(out)}});
  }
  if (action == "move-patient" && expect(2)) {
    Status s = write([&](WriteTx& tx) { return movePatient(tx, a[0], a[1]); });
    if (!s.isOk()) return failStatus(cli, s);
    cli.out << "patient " << a[0] << " moved to " << a[1] << "\n";
    return 0;
  }
  return fail(cli, "unknown admin action or wrong operands: " + action + "; see charta-server help");
}

int audit(Cli& cli) {
  if (cli.args.size() != 2 || cli.args[1] != "verify") return fail(cli, "usage: charta-server audit verify");
  auto store = openStore(cli);
  if (!store.isOk()) return failStatus(cli, store.status());
  auto v = verifyAudit(*store.value());
  if (!v.isOk()) return failStatus(cli, v.status());
  if (!v.value().ok) {
    cli.out << "audit chain BROKEN at row " << v.value().firstBroken << ": " << v.value().problem << " ("
            << v.value().checked << " rows verified before it)\n";
    return 1;
  }
  cli.out << "audit chain intact: " << v.value().checked << " rows verified\n";
  return 0;
}

int backup(Cli& cli) {
  std::vector<std::string> a(cli.args.begin() + 1, cli.args.end());
  std::optional<std::string> out = takeOption(a, "--out");
  if (!out || !a.empty()) return fail(cli, "usage: charta-server backup --out FILE");
  auto store = openStore(cli);
  if (!store.isOk()) return failStatus(cli, store.status());
  auto info = backupStore(*store.value(), *out, shellActor());
  if (!info.isOk()) return failStatus(cli, info.status());
  cli.out << "backup written to " << *out << ": " << info.value().ops << " ops, " << info.value().auditRows
          << " audit rows, " << info.value().bytes << " bytes\n";
  return 0;
}

int restore(Cli& cli) {
  std::vector<std::string> a(cli.args.begin() + 1, cli.args.end());
  bool yes = takeFlag(a, "--yes");
  if (a.size() != 1) return fail(cli, "usage: charta-server restore FILE --yes");
  if (!yes) {
    return fail(cli, "restore replaces the store's contents with " + a[0] +
                         "; stop the server, then run again with --yes");
  }
  auto store = openStore(cli);
  if (!store.isOk()) return failStatus(cli, store.status());
  auto info = restoreStore(*store.value(), a[0], shellActor());
  if (!info.isOk()) return failStatus(cli, info.status());
  cli.out << "restored " << info.value().ops << " ops from " << a[0] << "; new epoch " << info.value().epoch
          << (info.value().keptAudit ? " (the audit trail since the backup is kept)" : "") << "\n"
          << "tablets will push again whatever the backup lacks when they next sync\n";
  return 0;
}

// ---- import-fhir ----------------------------------------------------------

struct FhirFile {
  std::string path;
  std::string text;
  bool directoryOnly = false;  // only practitioners, organisations, locations: imported first
};

// Reads the files and folders named (a folder: its *.json files, sorted).
Result<std::vector<FhirFile>> readFhirFiles(const std::vector<std::string>& operands) {
  std::vector<FhirFile> files;
  for (const std::string& operand : operands) {
    std::error_code ec;
    std::vector<std::string> paths;
    if (std::filesystem::is_directory(operand, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(operand, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json") paths.push_back(entry.path().string());
      }
      if (ec) return Status::ioError("cannot list " + operand + ": " + ec.message());
      std::sort(paths.begin(), paths.end());
      if (paths.empty()) return Status::invalidArgument(operand + " holds no .json files");
    } else {
      paths.push_back(operand);
    }
    for (const std::string& path : paths) {
      std::ifstream in(path, std::ios::binary);
      if (!in) return Status::ioError("cannot read " + path);
      std::ostringstream body;
      body << in.rdbuf();
      FhirFile f{path, body.str(), false};
      // A cheap look at the resource types: a Bundle of only directory
      // resources goes first, so the patients' conditional references resolve.
      if (auto parsed = json::parse(f.text, fhirParseLimits()); parsed.isOk()) {
        const json::Value* entries = parsed.value().find("entry");
        bool onlyDirectory = entries && entries->asArray() && !entries->asArray()->empty();
        if (onlyDirectory) {
          for (const json::Value& e : *entries->asArray()) {
            const json::Value* r = e.find("resource");
            const json::Value* t = r ? r->find("resourceType") : nullptr;
            const std::string type = t && t->asString() ? *t->asString() : "";
            onlyDirectory = onlyDirectory && (type == "Practitioner" || type == "PractitionerRole" ||
                                              type == "Organization" || type == "Location");
          }
        }
        f.directoryOnly = onlyDirectory;
      }
      files.push_back(std::move(f));
    }
  }
  std::stable_partition(files.begin(), files.end(), [](const FhirFile& f) { return f.directoryOnly; });
  return files;
}

int exportFhir(Cli& cli) {
  std::vector<std::string> a(cli.args.begin() + 1, cli.args.end());
  std::optional<std::string> patient = takeOption(a, "--patient");
  std::optional<std::string> clinic = takeOption(a, "--clinic");
  std::optional<std::string> out = takeOption(a, "--out");
  if (!out || patient.has_value() == clinic.has_value() || !a.empty()) {
    return fail(cli, "usage: charta-server export-fhir (--patient ID | --clinic C) --out DIR");
  }
  auto store = openStore(cli);
  if (!store.isOk()) return failStatus(cli, store.status());
  std::vector<std::string> patients;
  if (patient) {
    patients.push_back(*patient);
  } else {
    auto list = patientsOfClinic(*store.value(), *clinic);
    if (!list.isOk()) return failStatus(cli, list.status());
    patients = list.value();
  }
  std::error_code ec;
  std::filesystem::create_directories(*out, ec);
  if (ec) return fail(cli, "cannot create " + *out + ": " + ec.message());
  ChartCache cache;
  // Attachments go with their bytes when the server holds them whole and intact.
  std::unique_ptr<BlobStore> blobs = makeBlobStore(cli.config, store.value()->dialect());
  const AttachmentContent content = [&](const std::string& patientId,
                                        const std::string& hash) -> std::optional<std::string> {
    auto bytes = readAttachmentContent(*store.value(), *blobs, patientId, hash);
    return bytes.isOk() ? bytes.value() : std::nullopt;
  };
  std::size_t written = 0, resources = 0;
  for (const std::string& p : patients) {
    auto bundles = exportPatients(*store.value(), cache, {p}, clinic.value_or(""), FhirBundleType::kCollection,
                                  shellActor(), "", content);
    if (!bundles.isOk()) return failStatus(cli, bundles.status());
    const json::Value& bundle = bundles.value().front();
    resources += bundle.find("entry")->asArray()->size();
    const std::string id = *bundle.find("entry")->asArray()->front().find("resource")->find("id")->asString();
    const std::string path = (std::filesystem::path(*out) / (id + ".json")).string();
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << json::serialize(bundle) << "\n";
    file.close();
    if (!file) return fail(cli, "cannot write " + path);
    ++written;
  }
  cli.out << "exported " << written << " patient" << (written == 1 ? "" : "s") << " (" << resources
          << " resources) to " << *out << "\n";
  return 0;
}

int importFhir(Cli& cli) {
  std::vector<std::string> a(cli.args.begin() + 1, cli.args.end());
  std::optional<std::string> clinic = takeOption(a, "--clinic");
  const bool asJson = takeFlag(a, "--json");
  if (!clinic || a.empty()) return fail(cli, "usage: charta-server import-fhir --clinic C [--json] FILE_OR_DIR...");
  for (const std::string& operand : a) {
    if (operand.rfind("--", 0) == 0) return fail(cli, "unknown option " + operand);
  }
  auto files = readFhirFiles(a);
  if (!files.isOk()) return failStatus(cli, files.status());
  auto store = openStore(cli);
  if (!store.isOk()) return failStatus(cli, store.status());
  ChartCache cache;
  const bool bar = !asJson && ::isatty(STDERR_FILENO) == 1;
  const auto started = std::chrono::steady_clock::now();
  std::int64_t resources = 0, ops = 0, refusedFiles = 0;
  std::map<std::string, std::array<std::int64_t, 3>> perType;  // imported, unchanged, directory
  std::map<std::pair<std::string, std::string>, std::int64_t> skipped;
  std::set<std::string> unresolved, patients;
  json::Array reports;
  const std::size_t total = files.value().size();
  for (std::size_t i = 0; i < total; ++i) {
    const FhirFile& f = files.value()[i];
    auto report = importFhirBundle(*store.value(), cache, f.text, *clinic, shellActor());
    if (!report.isOk()) {
      if (bar) cli.err << "\n";
      return failStatus(cli, report.status());
    }
    const FhirImportReport& r = report.value();
    resources += r.resources;
    if (asJson) {
      json::Value v = fhirReportToJson(r);
      v.set("file", f.path);
      reports.push_back(std::move(v));
    }
    if (!r.applied) {
      ++refusedFiles;
      if (!asJson) {
        if (bar) cli.err << "\r\033[K";
        cli.err << f.path << ": refused, nothing imported ("
                << (r.errors.size() >= kMaxFhirErrors ? "at least " : "") << r.errors.size() << " error"
                << (r.errors.size() == 1 ? "" : "s") << ")\n";
        for (std::size_t k = 0; k < r.errors.size() && k < 20; ++k) {
          cli.err << "  " << (r.errors[k].path.empty() ? "(bundle)" : r.errors[k].path) << ": " << r.errors[k].message
                  << "\n";
        }
        if (r.errors.size() > 20) cli.err << "  ... and " << r.errors.size() - 20 << " more\n";
      }
    } else {
      ops += r.ops;
      for (const auto& [t, n] : r.imported) perType[t][0] += n;
      for (const auto& [t, n] : r.unchanged) perType[t][1] += n;
      for (const auto& [t, n] : r.directory) perType[t][2] += n;
      for (const auto& [t, reasons] : r.skipped) {
        for (const auto& [why, n] : reasons) skipped[{t, why}] += n;
      }
      unresolved.insert(r.unresolved.begin(), r.unresolved.end());
      patients.insert(r.patients.begin(), r.patients.end());
    }
    if (bar) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const std::size_t width = 30, done = (i + 1) * width / total;
      cli.err << "\r\033[K[" << std::string(done, '#') << std::string(width - done, '-') << "] " << i + 1 << "/"
              << total << " files, " << resources << " resources, "
              << static_cast<std::int64_t>(secs > 0 ? static_cast<double>(resources) / secs : 0.0) << " resources/s"
              << std::flush;
    }
  }
  if (bar) cli.err << "\n";
  if (asJson) {
    printJson(cli, json::Object{{"files", std::move(reports)}});
    return refusedFiles == 0 ? 0 : 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  cli.out << "imported " << total - static_cast<std::size_t>(refusedFiles) << " of " << total << " files into clinic "
          << *clinic << " in " << static_cast<std::int64_t>(secs * 1000) << " ms: " << patients.size()
          << " patients charted, " << ops << " ops, " << resources << " resources read\n";
  if (!perType.empty()) {
    cli.out << "\n  resource type                    imported  already imported  directory\n";
    for (const auto& [t, c] : perType) {
      char line[160];
      std::snprintf(line, sizeof line, "  %-32s %8lld  %16lld  %9lld\n", t.c_str(), static_cast<long long>(c[0]),
                    static_cast<long long>(c[1]), static_cast<long long>(c[2]));
      cli.out << line;
    }
  }
  if (!skipped.empty()) {
    cli.out << "\nskipped (not charted):\n";
    for (const auto& [k, n] : skipped) cli.out << "  " << n << " " << k.first << ": " << k.second << "\n";
  }
  if (!unresolved.empty()) {
    cli.out << "\n" << unresolved.size() << " reference" << (unresolved.size() == 1 ? "" : "s")
            << " resolved nowhere (import the Bundles that define them first; the names the records gave are kept):\n";
    std::size_t shown = 0;
    for (const std::string& u : unresolved) {
      if (++shown > 10) {
        cli.out << "  ... and " << unresolved.size() - 10 << " more\n";
        break;
      }
      cli.out << "  " << u << "\n";
    }
  }
  if (refusedFiles) cli.out << "\n" << refusedFiles << " file" << (refusedFiles == 1 ? "" : "s") << " refused\n";
  return refusedFiles == 0 ? 0 : 1;
}

}  // namespace

int runCommandLine(int argc, char** argv) {
  Cli cli;
  std::vector<std::string> raw(argv + 1, argv + argc);
  for (const std::string& a : raw) {
    if (a == "--help" || a == "-h") {
      cli.out << kUsage << configHelp();
      return 0;
    }
  }
  auto rest = loadConfig(cli.config, raw);
  if (!rest.isOk()) return failStatus(cli, rest.status());
  cli.args = rest.value();
  if (cli.args.empty() || cli.args[0] == "help") {
    cli.out << kUsage << configHelp();
    return cli.args.empty() ? 2 : 0;
  }
  const std::string& cmd = cli.args[0];
  if (cmd == "serve") return serve(cli);
  if (cmd == "admin") return admin(cli);
  if (cmd == "audit") return audit(cli);
  if (cmd == "backup") return backup(cli);
  if (cmd == "restore") return restore(cli);
  if (cmd == "import-fhir") return importFhir(cli);
  if (cmd == "export-fhir") return exportFhir(cli);
  return fail(cli, "unknown command \"" + cmd + "\"; see charta-server --help");
}

}  // namespace charta::server
