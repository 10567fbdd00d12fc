// charta-server's command line: serve, admin actions, audit verify.

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "accounts.h"
#include "backup.h"
#include "charta/server/server.h"
#include "crypto.h"
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
      auto r = listConflicts(c, clinicOpt.value_or(""), patientOpt.value_or(""), 1000, 0);
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
  return fail(cli, "unknown command \"" + cmd + "\"; see charta-server --help");
}

}  // namespace charta::server
