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
#include "charta/crdt/schema.h"
#include "charta/crdt/value.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/attachments.h"
#include "charta/sync/crypto.h"
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
  charta-sim sync --data DIR [--times N] [--attachment-budget BYTES]
  charta-sim state-hash --data DIR
  charta-sim conflicts --data DIR
  charta-sim status --data DIR
  charta-sim attach --data DIR --patient ID --file F --media-type T [--kind K] [--caption C]
  charta-sim attachments --data DIR [--patient ID]
  charta-sim fetch-attachment --data DIR --patient ID --hash H --out F

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
    {"sync",
     "charta-sim sync --data DIR [--times N] [--attachment-budget BYTES]\n"
     "Syncs with the server (N times, default 1) and prints a JSON report. Attachments move\n"
     "too: thumbnails always, originals newest first while they fit this tablet's budget\n"
     "for attachment files, which --attachment-budget sets (and keeps; default 1 GiB).\n"},
    {"state-hash",
     "charta-sim state-hash --data DIR\nPrints a hash of every chart on this tablet: equal on two devices exactly\n"
     "when their charts are equal.\n"},
    {"conflicts", "charta-sim conflicts --data DIR\nPrints the open conflicts, one JSON object per line.\n"},
    {"status", "charta-sim status --data DIR\nPrints the sync status as JSON.\n"},
    {"attach",
     "charta-sim attach --data DIR --patient ID --file F --media-type T [--kind K] [--caption C]\n"
     "Attaches the file F (image/jpeg, image/png or application/pdf) to the chart of patient\n"
     "ID, offline: stores it encrypted on this tablet and adds its chart entry. K is one of\n"
     "wound-photo, consent, referral, outside-result, photo, document (default: photo for\n"
     "images, document for a PDF). The next sync uploads it. Prints its hash as JSON.\n"},
    {"attachments",
     "charta-sim attachments --data DIR [--patient ID]\n"
     "Lists the attachment entries of the charts on this tablet (or of patient ID), one JSON\n"
     "object per line: hash, size, media type, kind, caption, and whether the file is on this\n"
     "tablet (downloaded) and still waits for upload.\n"},
    {"fetch-attachment",
     "charta-sim fetch-attachment --data DIR --patient ID --hash H --out F\n"
     "Writes attachment H of patient ID to the file F, downloading it from the server first\n"
     "when it is not on this tablet.\n"},
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
  std::uint64_t budget = 0;
  const bool setBudget = args.options.count("attachment-budget") > 0;
  if (setBudget && !parseCount(args, "attachment-budget", 0, budget)) {
    return usageError("--attachment-budget takes a number of bytes");
  }
  Device device;
  if (int rc = openDevice(args, device, true); rc != 0) return rc;
  if (setBudget) {
    if (Status st = device.replica->setAttachmentBudget(budget); !st.isOk()) return failure(st.message());
  }
  int rc = 0;
  for (std::uint64_t i = 0; i < times; ++i) {
    SyncReport r = device.engine->syncOnce();
    std::cout << "{\"ok\":" << (r.ok ? "true" : "false") << ",\"pushed\":" << r.pushed << ",\"refused\":" << r.refused
              << ",\"pulled\":" << r.pulled << ",\"pages\":" << r.pages << ",\"requests\":" << r.requests
              << ",\"retries\":" << r.retries << ",\"audit_sent\":" << r.auditSent
              << ",\"future_clock\":" << r.futureClock << ",\"new_epoch\":" << (r.newEpoch ? "true" : "false")
              << ",\"pending_ops\":" << device.engine->status().pendingOps
              << ",\"attachments_uploaded\":" << r.attachmentsUploaded
              << ",\"attachments_downloaded\":" << r.attachmentsDownloaded
              << ",\"attachments_to_upload\":" << device.engine->status().attachmentsToUpload
              << ",\"attachments_not_downloaded\":" << device.engine->status().attachmentsNotDownloaded
              << ",\"attachment_error\":" << jsonQuote(r.attachmentError)
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
            << ",\"pending_audit\":" << device.replica->pendingAuditCount()
            << ",\"attachments_to_upload\":" << device.replica->attachmentCounts().toUpload
            << ",\"cursor\":" << device.replica->cursor() << ",\"last_success_ms\":" << record.lastSuccessMs
            << ",\"last_error\":" << jsonQuote(record.lastError) << "}\n";
  return 0;
}

std::string jsonBool(bool b) { return b ? "true" : "false"; }

std::string textField(const charta::crdt::Entry& e, charta::crdt::FieldId f) {
  const charta::crdt::Value v = e.fieldValue(f);
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string();
}

std::int64_t intField(const charta::crdt::Entry& e, charta::crdt::FieldId f) {
  const charta::crdt::Value v = e.fieldValue(f);
  const auto* n = std::get_if<std::int64_t>(&v);
  return n ? *n : 0;
}

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool onTablet(Replica& replica, const std::string& patient) {
  const std::vector<std::string> patients = replica.patients();
  return std::find(patients.begin(), patients.end(), patient) != patients.end();
}

int cmdAttach(const Args& args) {
  for (const char* required : {"patient", "file", "media-type"}) {
    if (!args.options.count(required) || args.options.at(required).empty()) {
      return usageError(std::string("--") + required + " is required");
    }
  }
  const std::string patient = args.options.at("patient");
  const std::string file = args.options.at("file");
  const std::string mediaType = args.options.at("media-type");
  if (!isAttachmentMediaType(mediaType)) {
    return usageError("--media-type takes image/jpeg, image/png or application/pdf");
  }
  std::string kind = mediaType == "application/pdf" ? "document" : "photo";
  if (auto it = args.options.find("kind"); it != args.options.end()) kind = it->second;
  const auto kinds = charta::crdt::attachmentKinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    return usageError("--kind takes wound-photo, consent, referral, outside-result, photo or document");
  }
  std::string bytes;
  if (!readFile(file, bytes)) return failure("cannot read " + file + ": " + std::strerror(errno));
  Device device;
  if (int rc = openDevice(args, device, false); rc != 0) return rc;
  if (!onTablet(*device.replica, patient)) return failure("patient " + patient + " is not on this tablet (sync first)");
  const std::int64_t takenAt = nowMs();
  auto stored = device.replica->storeAttachment(patient, bytes, AttachmentMeta{mediaType, takenAt, false});
  wipeString(bytes);
  if (!stored.isOk()) return failure("cannot store " + file + ": " + stored.status().message());
  const AttachmentInfo& info = stored.value();
  namespace field = charta::crdt::field;
  using charta::crdt::FieldValue;
  using charta::crdt::Value;
  const std::string fileName =
      file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
  std::vector<FieldValue> fields{
      {field::kAttachmentKind, Value{kind}}, {field::kContentHash, Value{info.hash}},
      {field::kMediaType, Value{mediaType}}, {field::kContentSize, Value{static_cast<std::int64_t>(info.size)}},
      {field::kTakenAt, Value{takenAt}},     {field::kSubject, Value{std::string()}},
      {field::kFileName, Value{fileName}}};
  if (auto it = args.options.find("caption"); it != args.options.end()) {
    fields.push_back({field::kDisplay, Value{it->second}});
  }
  auto op = device.replica->edit(patient, [&](charta::crdt::OpFactory& fac, const charta::crdt::ChartDocument& doc) {
    return fac.addEntry(doc, charta::crdt::Collection::kAttachments, fields);
  });
  if (!op.isOk()) return failure("cannot add the attachment to the chart: " + op.status().message());
  std::cout << "{\"hash\":" << jsonQuote(info.hash) << ",\"size\":" << info.size
            << ",\"entry\":" << jsonQuote(charta::crdt::toString(op.value().id))
            << ",\"pending_ops\":" << device.replica->pendingOpCount()
            << ",\"attachments_to_upload\":" << device.replica->attachmentCounts().toUpload << "}\n";
  return 0;
}

int cmdAttachments(const Args& args) {
  Device device;
  if (int rc = openDevice(args, device, false); rc != 0) return rc;
  std::vector<std::string> patients = device.replica->patients();
  if (auto it = args.options.find("patient"); it != args.options.end()) {
    if (!onTablet(*device.replica, it->second)) return failure("patient " + it->second + " is not on this tablet");
    patients = {it->second};
  }
  for (const std::string& patient : patients) {
    auto doc = device.replica->chart(patient, "attachment list");
    if (!doc.isOk()) return failure(doc.status().message());
    for (const auto& [id, e] : doc.value()->entries(charta::crdt::Collection::kAttachments)) {
      namespace field = charta::crdt::field;
      const std::string hash = textField(e, field::kContentHash);
      const std::string thumbnail = textField(e, field::kThumbnailHash);
      auto held = [&](const std::string& h, bool& toUpload) {
        toUpload = false;
        if (h.empty()) return false;
        auto state = device.replica->attachmentState(patient, h);
        if (!state.isOk() || !state.value()) return false;
        toUpload = state.value()->upload == AttachmentInfo::Upload::kPending;
        return state.value()->complete;
      };
      bool toUpload = false, thumbUpload = false;
      const bool downloaded = held(hash, toUpload);
      const bool thumbDownloaded = held(thumbnail, thumbUpload);
      const bool active = e.currentStatus() == static_cast<std::int64_t>(charta::crdt::EntryStatus::kActive);
      std::cout << "{\"patient\":" << jsonQuote(patient) << ",\"entry\":" << jsonQuote(charta::crdt::toString(id))
                << ",\"hash\":" << jsonQuote(hash) << ",\"size\":" << intField(e, field::kContentSize)
                << ",\"media_type\":" << jsonQuote(textField(e, field::kMediaType))
                << ",\"kind\":" << jsonQuote(textField(e, field::kAttachmentKind))
                << ",\"caption\":" << jsonQuote(textField(e, field::kDisplay))
                << ",\"file_name\":" << jsonQuote(textField(e, field::kFileName))
                << ",\"taken_at\":" << intField(e, field::kTakenAt) << ",\"active\":" << jsonBool(active)
                << ",\"downloaded\":" << jsonBool(downloaded) << ",\"to_upload\":" << jsonBool(toUpload)
                << ",\"thumbnail_hash\":" << jsonQuote(thumbnail)
                << ",\"thumbnail_downloaded\":" << jsonBool(thumbDownloaded) << "}\n";
    }
  }
  return 0;
}

int cmdFetchAttachment(const Args& args) {
  for (const char* required : {"patient", "hash", "out"}) {
    if (!args.options.count(required) || args.options.at(required).empty()) {
      return usageError(std::string("--") + required + " is required");
    }
  }
  const std::string patient = args.options.at("patient");
  const std::string hash = args.options.at("hash");
  const std::string out = args.options.at("out");
  if (!isContentHash(hash)) return usageError("--hash takes the 64 lower-case hex digits of a SHA-256");
  Device device;
  if (int rc = openDevice(args, device, true); rc != 0) return rc;
  if (!onTablet(*device.replica, patient)) return failure("patient " + patient + " is not on this tablet");
  auto state = device.replica->attachmentState(patient, hash);
  if (!state.isOk()) return failure(state.status().message());
  if (!state.value() || !state.value()->complete) {
    AttachmentWant want;
    want.patient = patient;
    want.hash = hash;
    auto doc = device.replica->document(patient);
    if (doc.isOk()) {
      for (const auto& [id, e] : doc.value()->entries(charta::crdt::Collection::kAttachments)) {
        namespace field = charta::crdt::field;
        if (textField(e, field::kContentHash) == hash) {
          want.size = static_cast<std::uint64_t>(std::max<std::int64_t>(0, intField(e, field::kContentSize)));
          want.mediaType = textField(e, field::kMediaType);
          want.takenAtMs = intField(e, field::kTakenAt);
        } else if (textField(e, field::kThumbnailHash) == hash) {
          want.thumbnail = true;
          want.takenAtMs = intField(e, field::kTakenAt);
        }
      }
    }
    if (Status st = device.engine->fetchAttachment(want); !st.isOk()) {
      return failure("cannot fetch attachment " + hash + ": " + st.message());
    }
  }
  auto bytes = device.replica->readAttachment(patient, hash, "export");
  if (!bytes.isOk()) return failure("cannot read attachment " + hash + ": " + bytes.status().message());
  const std::size_t size = bytes.value().size();
  {
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file << bytes.value();
    if (!file.good()) return failure("cannot write " + out);
  }
  wipeString(bytes.value());
  std::cout << "{\"hash\":" << jsonQuote(hash) << ",\"size\":" << size << ",\"out\":" << jsonQuote(out) << "}\n";
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
      {"sync", {"data", "times", "attachment-budget", "passphrase-file"}},
      {"state-hash", {"data", "passphrase-file"}},
      {"conflicts", {"data", "passphrase-file"}},
      {"status", {"data", "passphrase-file"}},
      {"attach", {"data", "patient", "file", "media-type", "kind", "caption", "passphrase-file"}},
      {"attachments", {"data", "patient", "passphrase-file"}},
      {"fetch-attachment", {"data", "patient", "hash", "out", "passphrase-file"}},
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
  if (args.command == "attach") return cmdAttach(args);
  if (args.command == "attachments") return cmdAttachments(args);
  if (args.command == "fetch-attachment") return cmdFetchAttachment(args);
  return cmdStatus(args);
}
