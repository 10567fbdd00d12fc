// charta-sim: a headless tablet over the sync library, for demos, load and
// fault tests. Each subcommand opens the device's replica in --data, does
// one thing and exits; `charta-sim --help` lists them.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "charta/crdt/op_factory.h"
#include "charta/crdt/value.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/engine.h"
#include "charta/sync/replica.h"
#include "charta/sync/transport.h"
#include "demo_charts.h"
#include "random_edits.h"

namespace {

using charta::crdt::Status;
using namespace charta::sync;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitWiped = 3;

const char* kUsage = R"(charta-sim: a headless Charta tablet

Usage:
  charta-sim enroll --server URL --code CODE --data DIR --user U --passphrase-file F
                    [--name NAME] [--ca-cert PEM] [--kdf moderate|tablet|interactive|minimum]
  charta-sim edit --data DIR --random N [--seed S] [--patients K]
  charta-sim add-allergy --data DIR --patient P --substance S [--criticality low|high|unable-to-assess]
  charta-sim seed-demo --data DIR [--patients N] [--years Y] [--seed S] [--today YYYY-MM-DD]
  charta-sim sync --data DIR [--times N]
  charta-sim state-hash --data DIR
  charta-sim conflicts --data DIR
  charta-sim status --data DIR

Every subcommand takes --passphrase-file F (default: the file given at
enrolment) and --help. The passphrase in the file unlocks the replica and is
the user's password on the server. Errors go to stderr; the exit status is 0
on success, 1 on failure, 2 for a usage error, 3 when the server revoked this
device (its replica was erased).
)";

const std::map<std::string, std::string> kHelp = {
    {"enroll",
     "charta-sim enroll --server URL --code CODE --data DIR --user U --passphrase-file F\n"
     "                  [--name NAME] [--ca-cert PEM] [--kdf moderate|tablet|interactive|minimum]\n"
     "Enrols this headless tablet with a one-time code, signs U in and creates the\n"
     "encrypted replica in DIR. --kdf sets the Argon2id cost of the passphrase\n"
     "(moderate, the default, takes about 0.5 s to unlock; tablet, as the tablet app,\n"
     "about as long with half the memory; the others are for tests).\n"},
    {"edit",
     "charta-sim edit --data DIR --random N [--seed S] [--patients K]\n"
     "Makes N random but valid clinical edits offline (K patients at least, default 4),\n"
     "including fields that every device edits, so concurrent edits conflict.\n"},
    {"add-allergy",
     "charta-sim add-allergy --data DIR --patient P --substance S [--criticality low|high|unable-to-assess]\n"
     "Records an allergy to S in the chart of patient P (already on this tablet), offline.\n"},
    {"seed-demo",
     "charta-sim seed-demo --data DIR [--patients N] [--years Y] [--seed S] [--today YYYY-MM-DD]\n"
     "Writes N hand-made demo patients (default 24) for a demo clinic, offline: school\n"
     "children with immunisation histories, working adults and elderly home-visit\n"
     "patients with chronic problems, medications, visits, vital signs and results\n"
     "over the last Y years (default 5). The same seed (default 1) and today (default:\n"
     "the system date) give the same charts. They sync like any edit.\n"},
    {"sync", "charta-sim sync --data DIR [--times N]\nSyncs with the server (N times, default 1) and prints a JSON report.\n"},
    {"state-hash",
     "charta-sim state-hash --data DIR\nPrints a hash of every chart on this tablet: equal on two devices exactly\n"
     "when their charts are equal.\n"},
    {"conflicts", "charta-sim conflicts --data DIR\nPrints the open conflicts, one JSON object per line.\n"},
    {"status", "charta-sim status --data DIR\nPrints the sync status as JSON.\n"},
};

struct Args {
  std::string command;
  std::map<std::string, std::string> options;
  bool help = false;
};

int usageError(const std::string& message) {
  std::cerr << "charta-sim: " << message << "\n(see charta-sim --help)\n";
  return kExitUsage;
}

int failure(const std::string& message) {
  std::cerr << "charta-sim: " << message << "\n";
  return kExitFailure;
}

std::string jsonQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// The first line of a passphrase file, without its line ending.
bool readPassphrase(const std::string& path, std::string& out, std::string& error) {
  std::string text;
  if (!readFile(path, text)) {
    error = "cannot read the passphrase file " + path + ": " + std::strerror(errno);
    return false;
  }
  out = text.substr(0, text.find('\n'));
  if (!out.empty() && out.back() == '\r') out.pop_back();
  if (out.empty()) {
    error = "the passphrase file " + path + " is empty";
    return false;
  }
  return true;
}

// DIR/sim.conf: what enrolment recorded (server, user, passphrase file, CA).
std::map<std::string, std::string> readConf(const std::string& dir) {
  std::map<std::string, std::string> conf;
  std::ifstream in(dir + "/sim.conf");
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find(" = ");
    if (eq != std::string::npos) conf[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return conf;
}

std::string absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char buf[4096];
  if (!::getcwd(buf, sizeof buf)) return path;
  return std::string(buf) + "/" + path;
}

charta::platform::PassphraseVault::Strength strengthOf(const std::string& name, bool& ok) {
  ok = true;
  if (name.empty() || name == "moderate") return charta::platform::PassphraseVault::Strength::kModerate;
  if (name == "tablet") return charta::platform::PassphraseVault::Strength::kTablet;
  if (name == "interactive") return charta::platform::PassphraseVault::Strength::kInteractive;
  if (name == "minimum") return charta::platform::PassphraseVault::Strength::kMinimumForTests;
  ok = false;
  return charta::platform::PassphraseVault::Strength::kModerate;
}

// An opened, unlocked device: replica, vault, transport, engine.
struct Device {
  std::string dir;
  std::map<std::string, std::string> conf;
  std::string passphrase;
  std::unique_ptr<charta::platform::PassphraseVault> vault;
  std::unique_ptr<Replica> replica;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<SyncEngine> engine;
};

int openDevice(const Args& args, Device& device, bool needTransport) {
  auto it = args.options.find("data");
  if (it == args.options.end() || it->second.empty()) return usageError("--data DIR is required");
  device.dir = it->second;
  device.conf = readConf(device.dir);
  std::string passFile = args.options.count("passphrase-file") ? args.options.at("passphrase-file")
                                                               : device.conf["passphrase_file"];
  if (passFile.empty()) return usageError("--passphrase-file F is required (none was recorded at enrolment)");
  std::string error;
  if (!readPassphrase(passFile, device.passphrase, error)) return failure(error);
  bool ok = false;
  device.vault = std::make_unique<charta::platform::PassphraseVault>(strengthOf(device.conf["kdf"], ok));
  auto replica = Replica::open(device.dir + "/replica.db");
  if (!replica.isOk()) return failure(replica.status().message());
  device.replica = std::move(replica).value();
  const std::string user = device.conf["user"];
  if (Status st = device.replica->unlock(*device.vault, user, device.passphrase); !st.isOk()) {
    return failure("cannot unlock the replica for " + user + ": " + st.message());
  }
  if (needTransport) {
    HttpTransportOptions options;
    options.baseUrl = device.replica->identity().serverUrl;
    options.caCertFile = device.conf["ca_cert"];
    device.transport = makeHttpTransport(options, &error);
    if (!device.transport) return failure(error);
    EngineOptions engineOptions;
    const std::string password = device.passphrase;
    engineOptions.passwordFor = [password](const std::string&) { return std::optional<std::string>(password); };
    device.engine = std::make_unique<SyncEngine>(*device.replica, *device.transport, engineOptions);
  }
  return 0;
}

int cmdEnroll(const Args& args) {
  for (const char* required : {"server", "code", "data", "user", "passphrase-file"}) {
    if (!args.options.count(required) || args.options.at(required).empty()) {
      return usageError(std::string("--") + required + " is required");
    }
  }
  const std::string dir = args.options.at("data");
  bool kdfOk = false;
  const std::string kdf = args.options.count("kdf") ? args.options.at("kdf") : "moderate";
  const auto strength = strengthOf(kdf, kdfOk);
  if (!kdfOk) return usageError("--kdf must be moderate, tablet, interactive or minimum");
  std::string passphrase, error;
  const std::string passFile = absolute(args.options.at("passphrase-file"));
  if (!readPassphrase(passFile, passphrase, error)) return failure(error);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return failure("cannot create " + dir + ": " + std::strerror(errno));
  }
  HttpTransportOptions options;
  options.baseUrl = args.options.at("server");
  options.caCertFile = args.options.count("ca-cert") ? absolute(args.options.at("ca-cert")) : std::string();
  auto transport = makeHttpTransport(options, &error);
  if (!transport) return failure(error);
  charta::platform::PassphraseVault vault(strength);
  const std::string name = args.options.count("name") ? args.options.at("name") : "charta-sim";
  auto replica = SyncEngine::enrol(*transport, dir + "/replica.db", options.baseUrl, args.options.at("code"), name,
                                   vault, args.options.at("user"), passphrase, passphrase);
  if (!replica.isOk()) return failure(replica.status().message());
  std::ofstream conf(dir + "/sim.conf", std::ios::trunc);
  conf << "user = " << args.options.at("user") << "\npassphrase_file = " << passFile << "\nkdf = " << kdf
       << "\nca_cert = " << options.caCertFile << "\n";
  if (!conf.good()) return failure("cannot write " + dir + "/sim.conf");
  const DeviceIdentity id = replica.value()->identity();
  std::cout << "{\"device_id\":" << jsonQuote(id.deviceId) << ",\"replica_id\":\"" << id.replica.value
            << "\",\"clinic\":" << jsonQuote(id.clinic) << "}\n";
  return 0;
}

bool parseCount(const Args& args, const char* name, std::uint64_t fallback, std::uint64_t& out) {
  auto it = args.options.find(name);
  if (it == args.options.end()) {
    out = fallback;
    return true;
  }
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(it->second.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0' && !it->second.empty() && it->second[0] != '-';
}

int cmdEdit(const Args& args) {
  std::uint64_t count = 0, seed = 0, patients = 0;
  if (!args.options.count("random")) return usageError("--random N is required");
  if (!parseCount(args, "random", 0, count)) return usageError("--random takes a number");
  if (!parseCount(args, "seed", 1, seed)) return usageError("--seed takes a number");
  if (!parseCount(args, "patients", 4, patients)) return usageError("--patients takes a number");
  Device device;
  if (int rc = openDevice(args, device, false); rc != 0) return rc;
  RandomEditor editor(*device.replica, seed, patients);
  for (std::uint64_t i = 0; i < count; ++i) {
    auto op = editor.editOnce();
    if (!op.isOk()) return failure("edit " + std::to_string(i + 1) + " failed: " + op.status().message());
  }
  std::cout << "{\"edits\":" << count << ",\"pending_ops\":" << device.replica->pendingOpCount() << "}\n";
  return 0;
}

int cmdAddAllergy(const Args& args) {
  auto patient = args.options.find("patient");
  auto substance = args.options.find("substance");
  if (patient == args.options.end() || substance == args.options.end() || substance->second.empty()) {
    return usageError("--patient P and --substance S are required");
  }
  std::string criticality;
  if (auto it = args.options.find("criticality"); it != args.options.end()) {
    criticality = it->second;
    if (criticality != "low" && criticality != "high" && criticality != "unable-to-assess") {
      return usageError("--criticality takes low, high or unable-to-assess");
    }
  }
  Device device;
  if (int rc = openDevice(args, device, false); rc != 0) return rc;
  const std::vector<std::string> onTablet = device.replica->patients();
  if (std::find(onTablet.begin(), onTablet.end(), patient->second) == onTablet.end()) {
    return failure("patient " + patient->second + " is not on this tablet (sync first)");
  }
  std::vector<charta::crdt::FieldValue> fields{{charta::crdt::field::kDisplay, charta::crdt::Value{substance->second}}};
  if (!criticality.empty()) fields.push_back({charta::crdt::field::kCriticality, charta::crdt::Value{criticality}});
  auto op = device.replica->edit(patient->second,
                                 [&](charta::crdt::OpFactory& fac, const charta::crdt::ChartDocument& doc) {
                                   return fac.addEntry(doc, charta::crdt::Collection::kAllergies, fields);
                                 });
  if (!op.isOk()) return failure("cannot record the allergy: " + op.status().message());
  std::cout << "{\"op\":" << jsonQuote(charta::crdt::toString(op.value().id))
            << ",\"pending_ops\":" << device.replica->pendingOpCount() << "}\n";
  return 0;
}

int cmdSeedDemo(const Args& args) {
  std::uint64_t patients = 0, years = 0, seed = 0;
  if (!parseCount(args, "patients", 24, patients)) return usageError("--patients takes a number");
  if (!parseCount(args, "years", 5, years) || years == 0 || years > 50) {
    return usageError("--years takes a number from 1 to 50");
  }
  if (!parseCount(args, "seed", 1, seed)) return usageError("--seed takes a number");
  DemoOptions options;
  options.patients = static_cast<std::size_t>(patients);
  options.years = static_cast<int>(years);
  options.seed = seed;
  if (auto it = args.options.find("today"); it != args.options.end()) {
    if (it->second.size() != 10) return usageError("--today takes a date YYYY-MM-DD");
    options.today = it->second;
  }
  Device device;
  if (int rc = openDevice(args, device, false); rc != 0) return rc;
  const auto started = std::chrono::steady_clock::now();
  auto ids = DemoCharts::create(*device.replica, options);
  if (!ids.isOk()) {
    if (ids.status().code() == Status::Code::kInvalidArgument) return usageError(ids.status().message());
    return failure("seeding the demo charts failed: " + ids.status().message());
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  std::cout << "{\"patients\":" << ids.value().size() << ",\"pending_ops\":" << device.replica->pendingOpCount()
            << ",\"elapsed_ms\":" << ms << "}\n";
  return 0;
}

int cmdSync(const Args& args) {
  std::uint64_t times = 1;
  if (!parseCount(args, "times", 1, times) || times == 0) return usageError("--times takes a positive number");
  Device device;
  if (int rc = openDevice(args, device, true); rc != 0) return rc;
  int rc = 0;
  for (std::uint64_t i = 0; i < times; ++i) {
    SyncReport r = device.engine->syncOnce();
    std::cout << "{\"ok\":" << (r.ok ? "true" : "false") << ",\"pushed\":" << r.pushed << ",\"refused\":" << r.refused
              << ",\"pulled\":" << r.pulled << ",\"pages\":" << r.pages << ",\"requests\":" << r.requests
              << ",\"retries\":" << r.retries << ",\"audit_sent\":" << r.auditSent
              << ",\"future_clock\":" << r.futureClock << ",\"new_epoch\":" << (r.newEpoch ? "true" : "false")
              << ",\"pending_ops\":" << device.engine->status().pendingOps
              << ",\"error\":" << jsonQuote(r.ok ? std::string() : r.message) << "}\n";
    if (r.wiped) {
      const std::string path = device.replica->path();
      device.engine.reset();
      device.replica.reset();
      (void)Replica::destroy(path);
      std::cerr << "charta-sim: the server revoked this device; its replica was erased\n";
      return kExitWiped;
    }
    if (!r.ok) rc = kExitFailure;
  }
  if (rc != 0) std::cerr << "charta-sim: sync failed: " << device.engine->status().lastError << "\n";
  return rc;
}

int cmdStateHash(const Args& args) {
  Device device;
  if (int rc = openDevice(args, device, false); rc != 0) return rc;
  auto hash = device.replica->stateHash();
  if (!hash.isOk()) return failure(hash.status().message());
  std::cout << hash.value() << "\n";
  return 0;
}

int cmdConflicts(const Args& args) {
  Device device;
  if (int rc = openDevice(args, device, false); rc != 0) return rc;
  for (const std::string& patient : device.replica->patients()) {
    auto doc = device.replica->chart(patient, "conflict review");
    if (!doc.isOk()) return failure(doc.status().message());
    for (const charta::crdt::Conflict& c : doc.value()->conflicts()) {
      std::cout << "{\"patient\":" << jsonQuote(patient) << ",\"path\":" << jsonQuote(c.path)
                << ",\"clinical\":" << (c.clinical ? "true" : "false") << ",\"values\":[";
      for (std::size_t i = 0; i < c.values.size(); ++i) {
        const auto& v = c.values[i];
        std::cout << (i ? "," : "") << "{\"value\":" << jsonQuote(charta::crdt::toDisplayString(v.value))
                  << ",\"op\":" << jsonQuote(charta::crdt::toString(v.op)) << ",\"author\":" << jsonQuote(v.author)
                  << "}";
      }
      std::cout << "]}\n";
    }
  }
  return 0;
}

int cmdStatus(const Args& args) {
  Device device;
  if (int rc = openDevice(args, device, false); rc != 0) return rc;
  const Replica::SyncRecord record = device.replica->syncRecord();
  const DeviceIdentity id = device.replica->identity();
  std::cout << "{\"device_id\":" << jsonQuote(id.deviceId) << ",\"clinic\":" << jsonQuote(id.clinic)
            << ",\"patients\":" << device.replica->patients().size()
            << ",\"pending_ops\":" << device.replica->pendingOpCount()
            << ",\"pending_audit\":" << device.replica->pendingAuditCount() << ",\"cursor\":" << device.replica->cursor()
            << ",\"last_success_ms\":" << record.lastSuccessMs << ",\"last_error\":" << jsonQuote(record.lastError)
            << "}\n";
  return 0;
}

int parseArgs(int argc, char** argv, Args& args) {
  if (argc < 2) return usageError("a subcommand is required");
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      args.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0 || a.size() < 3) return usageError("unexpected argument '" + a + "'");
    std::string key = a.substr(2), value;
    if (const auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else {
      if (i + 1 >= argc) return usageError("--" + key + " needs a value");
      value = argv[++i];
    }
    args.options[key] = value;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
                    std::string(argv[1]) == "help")) {
    std::cout << kUsage;
    return 0;
  }
  Args args;
  if (int rc = parseArgs(argc, argv, args); rc != 0) return rc;
  auto help = kHelp.find(args.command);
  if (help == kHelp.end()) return usageError("unknown subcommand '" + args.command + "'");
  if (args.help) {
    std::cout << help->second;
    return 0;
  }
  static const std::map<std::string, std::vector<std::string>> kAllowed = {
      {"enroll", {"server", "code", "data", "user", "passphrase-file", "name", "ca-cert", "kdf"}},
      {"edit", {"data", "random", "seed", "patients", "passphrase-file"}},
      {"add-allergy", {"data", "patient", "substance", "criticality", "passphrase-file"}},
      {"seed-demo", {"data", "patients", "years", "seed", "today", "passphrase-file"}},
      {"sync", {"data", "times", "passphrase-file"}},
      {"state-hash", {"data", "passphrase-file"}},
      {"conflicts", {"data", "passphrase-file"}},
      {"status", {"data", "passphrase-file"}},
  };
  for (const auto& [key, value] : args.options) {
    const auto& allowed = kAllowed.at(args.command);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return usageError("unknown option --" + key + " for " + args.command);
    }
  }
  if (args.command == "enroll") return cmdEnroll(args);
  if (args.command == "edit") return cmdEdit(args);
  if (args.command == "add-allergy") return cmdAddAllergy(args);
  if (args.command == "seed-demo") return cmdSeedDemo(args);
  if (args.command == "sync") return cmdSync(args);
  if (args.command == "state-hash") return cmdStateHash(args);
  if (args.command == "conflicts") return cmdConflicts(args);
  return cmdStatus(args);
}
