#include "bench_attachments.h"

#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_http.h"
#include "bench_json.h"
#include "bench_process.h"
#include "bench_server_process.h"
#include "charta/crdt/schema.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/attachments.h"
#include "charta/sync/crypto.h"
#include "charta/sync/engine.h"
#include "charta/sync/replica.h"
#include "charta/sync/transport.h"
#include "random_edits.h"

namespace charta::bench {
namespace {

using crdt::Status;
using platform::PassphraseVault;
using SteadyClock = std::chrono::steady_clock;
namespace field = crdt::field;

constexpr const char* kNurse = "nurse";
constexpr const char* kNursePassword = "demo-nurse-pass";
constexpr const char* kPassphrase = "bench tablet passphrase";
constexpr std::size_t kChunk = sync::kAttachmentChunkBytes;
constexpr double kGoalShare = 0.5;

struct Options {
  bool json = false;
  bool quick = false;
  std::size_t sizeMiB = 50;
  int runs = 3;
  std::string serverBin = CHARTA_BENCH_SERVER_BIN;
  std::string workDir;
};

int usage() {
  std::fprintf(stderr,
               "usage: charta-bench attachments [--json] [--quick] [--size-mb N] [--runs N] [--server-bin PATH] "
               "[--work-dir DIR]\n"
               "  Upload and download of an attachment over loopback (real charta-server, real replica and\n"
               "  sync engine) as shares of the raw loopback copy rate and of libsodium's secretstream rate.\n"
               "  --size-mb N  the attachment's size (default 50; --quick: 8)\n"
               "  --runs N     transfers of each kind (default 3; --quick: 2)\n");
  return 2;
}

int fail(const Status& s, const std::string& what) {
  std::fprintf(stderr, "charta-bench attachments: %s: %s\n", what.c_str(), s.toString().c_str());
  return 2;
}

// MiB per second for bytes moved in ms.
double mibPerS(std::size_t bytes, double ms) {
  return ms > 0 ? static_cast<double>(bytes) / (1024.0 * 1024.0) / (ms / 1000.0) : 0;
}

std::string randomBytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), out.size());
  // A JPEG's signature, so the server takes it as the photo it says it is.
  out[0] = static_cast<char>(0xFF);
  out[1] = static_cast<char>(0xD8);
  out[2] = static_cast<char>(0xFF);
  return out;
}

// --- the raw rates ----------------------------------------------------------------

// Writes `bytes` through a TCP connection on 127.0.0.1 in 1 MiB writes while
// another thread reads them; the time from the first write to the last byte read.
crdt::Result<double> loopbackCopyMs(std::size_t bytes) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) return Status::ioError("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listener);
    return Status::ioError("listen on 127.0.0.1: " + std::string(std::strerror(errno)));
  }
  const int writer = ::socket(AF_INET, SOCK_STREAM, 0);
  if (writer < 0 || ::connect(writer, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(listener);
    if (writer >= 0) ::close(writer);
    return Status::ioError("connect to 127.0.0.1: " + std::string(std::strerror(errno)));
  }
  const int reader = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  if (reader < 0) {
    ::close(writer);
    return Status::ioError("accept: " + std::string(std::strerror(errno)));
  }
  std::size_t received = 0;
  std::thread drain([&] {
    std::vector<char> buf(kChunk);
    for (;;) {
      const ssize_t n = ::read(reader, buf.data(), buf.size());
      if (n <= 0) break;
      received += static_cast<std::size_t>(n);
    }
  });
  const std::string chunk(kChunk, 'x');
  const auto t0 = SteadyClock::now();
  std::size_t sent = 0;
  while (sent < bytes) {
    const std::size_t want = std::min(kChunk, bytes - sent);
    std::size_t off = 0;
    while (off < want) {
      const ssize_t n = ::write(writer, chunk.data() + off, want - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    if (off < want) break;
    sent += want;
  }
  ::shutdown(writer, SHUT_WR);
  drain.join();
  const double ms = msSince(t0);
  ::close(writer);
  ::close(reader);
  if (received != bytes) return Status::ioError("loopback copy moved " + std::to_string(received) + " bytes");
  return ms;
}

struct StreamTimes {
  double pushMs = 0;
  double pullMs = 0;
  bool ok = false;
};

// Seals `bytes` as 1 MiB secretstream messages, then opens them again.
StreamTimes secretstreamMs(std::size_t bytes) {
  StreamTimes t;
  unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  const std::string plain = randomBytes(kChunk);
  const std::size_t messages = (bytes + kChunk - 1) / kChunk;
  std::vector<std::string> sealed(messages, std::string(kChunk + crypto_secretstream_xchacha20poly1305_ABYTES, '\0'));
  crypto_secretstream_xchacha20poly1305_state push;
  auto t0 = SteadyClock::now();
  crypto_secretstream_xchacha20poly1305_init_push(&push, header, key);
  for (std::size_t i = 0; i < messages; ++i) {
    const unsigned char tag = i + 1 == messages ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
    crypto_secretstream_xchacha20poly1305_push(&push, reinterpret_cast<unsigned char*>(sealed[i].data()), nullptr,
                                               reinterpret_cast<const unsigned char*>(plain.data()), kChunk, nullptr, 0,
                                               tag);
  }
  t.pushMs = msSince(t0);
  crypto_secretstream_xchacha20poly1305_state pull;
  std::string opened(kChunk, '\0');
  bool ok = true;
  t0 = SteadyClock::now();
  ok = crypto_secretstream_xchacha20poly1305_init_pull(&pull, header, key) == 0;
  for (std::size_t i = 0; ok && i < messages; ++i) {
    unsigned char tag = 0;
    ok = crypto_secretstream_xchacha20poly1305_pull(&pull, reinterpret_cast<unsigned char*>(opened.data()), nullptr,
                                                    &tag, reinterpret_cast<const unsigned char*>(sealed[i].data()),
                                                    sealed[i].size(), nullptr, 0) == 0;
  }
  t.pullMs = msSince(t0);
  t.ok = ok && opened == plain;
  sodium_memzero(key, sizeof key);
  return t;
}

// --- tablets ---------------------------------------------------------------------

struct Tablet {
  std::string path;
  std::unique_ptr<sync::Transport> transport;
  std::unique_ptr<sync::Replica> replica;
  std::unique_ptr<sync::SyncEngine> engine;
};

crdt::Result<Tablet> enrolTablet(DemoAdmin& admin, const std::string& url, const std::string& path,
                                 const std::string& name) {
  Tablet t;
  auto code = admin.issueCode();
  if (!code.isOk()) return code.status();
  sync::HttpTransportOptions options;
  options.baseUrl = url;
  std::string error;
  t.transport = sync::makeHttpTransport(options, &error);
  if (!t.transport) return Status::invalidArgument("cannot make the HTTP transport: " + error);
  t.path = path;
  (void)sync::Replica::destroy(path);
  PassphraseVault vault(PassphraseVault::Strength::kMinimumForTests);
  sync::ReplicaOptions ro;
  ro.autoLockMs = 0;
  auto replica = sync::SyncEngine::enrol(*t.transport, path, url, code.value(), name, vault, kNurse, kPassphrase,
                                         kNursePassword, ro);
  if (!replica.isOk()) return replica.status();
  t.replica = std::move(replica).value();
  sync::EngineOptions eo;
  eo.passwordFor = [](const std::string&) { return std::optional<std::string>(kNursePassword); };
  eo.attachments = false;  // syncOnce() moves ops only: each transfer is timed on its own
  t.engine = std::make_unique<sync::SyncEngine>(*t.replica, *t.transport, eo);
  return t;
}

struct Transfer {
  double storeMs = 0;     // Replica::storeAttachment on the first tablet (encrypt + write)
  double uploadMs = 0;    // SyncEngine::syncAttachments until the server holds it complete
  double downloadMs = 0;  // on the second tablet, until its replica holds it whole
  double readMs = 0;      // Replica::readAttachment of the download (decrypt + verify)
  std::size_t chunksSent = 0;
  std::size_t chunksReceived = 0;
  bool uploaded = false;
  bool identical = false;
  std::string problem;
};

crdt::Result<Transfer> transfer(Tablet& a, Tablet& b, const std::string& patient, std::size_t bytes) {
  Transfer x;
  const std::string content = randomBytes(bytes);
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto t0 = SteadyClock::now();
  auto stored = a.replica->storeAttachment(patient, content, sync::AttachmentMeta{"image/jpeg", now, false});
  x.storeMs = msSince(t0);
  if (!stored.isOk()) return stored.status();
  const std::string hash = stored.value().hash;
  auto entry = a.replica->edit(patient, [&](crdt::OpFactory& fac, const crdt::ChartDocument& doc) {
    return fac.addEntry(doc, crdt::Collection::kAttachments,
                        {{field::kContentHash, crdt::Value{hash}},
                         {field::kMediaType, crdt::Value{std::string("image/jpeg")}},
                         {field::kContentSize, crdt::Value{static_cast<std::int64_t>(bytes)}},
                         {field::kAttachmentKind, crdt::Value{std::string("wound-photo")}},
                         {field::kTakenAt, crdt::Value{static_cast<std::int64_t>(now)}}});
  });
  if (!entry.isOk()) return entry.status();
  if (const sync::SyncReport r = a.engine->syncOnce(); !r.ok) return Status::ioError("ops sync: " + r.message);

  t0 = SteadyClock::now();
  const sync::SyncReport up = a.engine->syncAttachments({});
  x.uploadMs = msSince(t0);
  x.chunksSent = up.attachmentChunksSent;
  x.uploaded = up.attachmentsUploaded == 1 && up.attachmentError.empty();
  if (!x.uploaded) x.problem = "upload: " + (up.attachmentError.empty() ? "not completed" : up.attachmentError);

  if (const sync::SyncReport r = b.engine->syncOnce(); !r.ok) return Status::ioError("ops sync: " + r.message);
  sync::AttachmentWant want;
  want.patient = patient;
  want.hash = hash;
  want.size = bytes;
  want.mediaType = "image/jpeg";
  want.takenAtMs = now;
  t0 = SteadyClock::now();
  const sync::SyncReport down = b.engine->syncAttachments({want});
  x.downloadMs = msSince(t0);
  x.chunksReceived = down.attachmentChunksReceived;
  if (down.attachmentsDownloaded != 1 && x.problem.empty()) {
    x.problem = "download: " + (down.attachmentError.empty() ? "not completed" : down.attachmentError);
  }
  t0 = SteadyClock::now();
  auto back = b.replica->readAttachment(patient, hash, "");
  x.readMs = msSince(t0);
  x.identical = back.isOk() && back.value() == content;
  if (!x.identical && x.problem.empty()) {
    x.problem = "read back: " + (back.isOk() ? std::string("different bytes") : back.status().toString());
  }
  return x;
}

struct Results {
  std::size_t bytes = 0;
  std::vector<double> loopbackMs, pushMs, pullMs;
  bool streamOk = true;
  std::vector<Transfer> transfers;
  double setupMs = 0;
  double loadStart = 0, loadEnd = 0;
};

double loadAverage() {
  double l = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = 0;
    std::fclose(f);
  }
  return l;
}

template <typename F>
std::vector<double> column(const std::vector<Transfer>& v, F get) {
  std::vector<double> out;
  for (const Transfer& t : v) out.push_back(get(t));
  return out;
}

std::string report(const Options& opt, const Results& res) {
  const std::size_t n = res.bytes;
  const double loopback = mibPerS(n, median(res.loopbackMs));
  const double push = mibPerS(n, median(res.pushMs)), pull = mibPerS(n, median(res.pullMs));
  const double reference = std::min(loopback, push);
  const double upload = mibPerS(n, median(column(res.transfers, [](const Transfer& t) { return t.uploadMs; })));
  const double download = mibPerS(n, median(column(res.transfers, [](const Transfer& t) { return t.downloadMs; })));
  bool uploaded = !res.transfers.empty(), identical = !res.transfers.empty();
  for (const Transfer& t : res.transfers) {
    uploaded = uploaded && t.uploaded;
    identical = identical && t.identical;
  }
  JsonWriter j;
  j.beginObject().field("suite", "attachments").field("quick", opt.quick);
  j.field("attachment_bytes", n).field("chunk_bytes", kChunk).field("runs", res.transfers.size());
  j.field("load_average_start", res.loadStart).field("load_average_end", res.loadEnd);
  j.field("setup_ms", res.setupMs);
  j.key("raw").beginObject();
  j.field("loopback_mib_s", loopback).numbers("loopback_ms", res.loopbackMs);
  j.field("secretstream_push_mib_s", push).numbers("secretstream_push_ms", res.pushMs);
  j.field("secretstream_pull_mib_s", pull).numbers("secretstream_pull_ms", res.pullMs);
  j.endObject();
  auto transferFigures = [&](const char* name, auto get) {
    const std::vector<double> ms = column(res.transfers, get);
    const double rate = mibPerS(n, median(ms));
    j.key(name).beginObject().field("median_ms", median(ms)).field("mib_s", rate).numbers("ms", ms);
    j.field("share_of_loopback", loopback > 0 ? rate / loopback : 0);
    j.field("share_of_secretstream", push > 0 ? rate / push : 0);
    j.endObject();
  };
  transferFigures("store", [](const Transfer& t) { return t.storeMs; });
  transferFigures("upload", [](const Transfer& t) { return t.uploadMs; });
  transferFigures("download", [](const Transfer& t) { return t.downloadMs; });
  transferFigures("read", [](const Transfer& t) { return t.readMs; });
  j.key("goal").beginObject();
  j.field("share", kGoalShare).field("reference_mib_s", reference);
  j.field("reference", loopback <= push ? "loopback" : "secretstream");
  j.field("upload_share", reference > 0 ? upload / reference : 0);
  j.field("download_share", reference > 0 ? download / reference : 0);
  j.field("met", reference > 0 && upload / reference >= kGoalShare && download / reference >= kGoalShare);
  j.endObject();
  std::string problems;
  for (const Transfer& t : res.transfers) {
    if (!t.problem.empty()) problems += (problems.empty() ? "" : "; ") + t.problem;
  }
  j.key("checks").beginObject();
  j.field("secretstream_round_trip", res.streamOk);
  j.field("every_upload_complete_on_server", uploaded);
  j.field("every_download_identical", identical);
  j.endObject();
  if (!problems.empty()) j.field("problems", problems);
  j.endObject();
  return j.str();
}

void printTable(const Options& opt, const Results& res) {
  const std::size_t n = res.bytes;
  const double loopback = mibPerS(n, median(res.loopbackMs)), push = mibPerS(n, median(res.pushMs));
  const double reference = std::min(loopback, push);
  std::printf("charta-bench attachments: %zu MiB, %zu transfers each way%s\n", n >> 20, res.transfers.size(),
              opt.quick ? " (quick)" : "");
  std::printf("  raw loopback copy      %8.1f MiB/s\n", loopback);
  std::printf("  raw secretstream push  %8.1f MiB/s   pull %8.1f MiB/s\n", push, mibPerS(n, median(res.pullMs)));
  auto line = [&](const char* name, auto get) {
    const double rate = mibPerS(n, median(column(res.transfers, get)));
    std::printf("  %-22s %8.1f MiB/s   %5.1f %% of the slower raw rate\n", name, rate,
                reference > 0 ? 100 * rate / reference : 0);
  };
  line("store (tablet)", [](const Transfer& t) { return t.storeMs; });
  line("upload", [](const Transfer& t) { return t.uploadMs; });
  line("download", [](const Transfer& t) { return t.downloadMs; });
  line("read back (tablet)", [](const Transfer& t) { return t.readMs; });
}

int run(Options opt) {
  if (opt.serverBin.empty() || access(opt.serverBin.c_str(), X_OK) != 0) {
    return fail(Status::notFound("no charta-server executable at '" + opt.serverBin + "'"), "--server-bin");
  }
  if (opt.workDir.empty()) opt.workDir = executableDir() + "/attachments-bench";
  if (Status s = sync::initCrypto(); !s.isOk()) return fail(s, "libsodium");
  Results res;
  res.bytes = opt.sizeMiB << 20;
  res.loadStart = loadAverage();

  // The raw rates, over the same bytes.
  for (int i = 0; i < std::max(3, opt.runs); ++i) {
    auto ms = loopbackCopyMs(res.bytes);
    if (!ms.isOk()) return fail(ms.status(), "loopback copy");
    res.loopbackMs.push_back(ms.value());
    const StreamTimes st = secretstreamMs(res.bytes);
    res.pushMs.push_back(st.pushMs);
    res.pullMs.push_back(st.pullMs);
    res.streamOk = res.streamOk && st.ok;
  }

  for (const std::string& d : {opt.workDir + "/server", opt.workDir + "/devices"}) {
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
    if (Status s = makeDirectories(d); !s.isOk()) return fail(s, "work folder");
  }
  {
    ServerProcess server;
    const auto s0 = SteadyClock::now();
    if (Status s = server.start(opt.serverBin, opt.workDir + "/server"); !s.isOk()) return fail(s, "charta-server");
    DemoAdmin admin(server.url());
    if (Status s = admin.signIn(); !s.isOk()) return fail(s, "set-up");
    auto a = enrolTablet(admin, server.url(), opt.workDir + "/devices/a.db", "bench tablet a");
    if (!a.isOk()) return fail(a.status(), "the first tablet");
    auto b = enrolTablet(admin, server.url(), opt.workDir + "/devices/b.db", "bench tablet b");
    if (!b.isOk()) return fail(b.status(), "the second tablet");
    sync::RandomEditor editor(*a.value().replica, 7, 1);
    auto patient = editor.createPatient("Attachment");
    if (!patient.isOk()) return fail(patient.status(), "a patient");
    res.setupMs = msSince(s0);
    progress("charta-server at " + server.url() + ", two tablets enrolled, patient " + patient.value());
    for (int i = 0; i < opt.runs; ++i) {
      auto x = transfer(a.value(), b.value(), patient.value(), res.bytes);
      if (!x.isOk()) return fail(x.status(), "transfer " + std::to_string(i + 1));
      const Transfer& t = x.value();
      progress("transfer " + std::to_string(i + 1) + ": store " + JsonWriter::number(t.storeMs) + " ms, upload " +
               JsonWriter::number(t.uploadMs) + " ms (" + std::to_string(t.chunksSent) + " chunks), download " +
               JsonWriter::number(t.downloadMs) + " ms (" + std::to_string(t.chunksReceived) + " chunks), read " +
               JsonWriter::number(t.readMs) + " ms" + (t.problem.empty() ? "" : "; problem: " + t.problem));
      res.transfers.push_back(t);
    }
    a.value().engine.reset();
    b.value().engine.reset();
    if (const int code = server.stop(); code != 0) progress("charta-server exited with " + std::to_string(code));
  }
  res.loadEnd = loadAverage();

  const std::string text = report(opt, res);
  if (opt.json) {
    std::printf("%s\n", text.c_str());
  } else {
    printTable(opt, res);
  }
  const bool ok = res.streamOk && std::all_of(res.transfers.begin(), res.transfers.end(),
                                              [](const Transfer& t) { return t.uploaded && t.identical; });
  return ok ? 0 : 1;
}

}  // namespace

int attachmentsBenchMain(int argc, char** argv) {
  Options opt;
  bool sizeGiven = false, runsGiven = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    auto positive = [&](std::size_t& out, std::size_t max) {
      const auto v = value();
      if (!v) return false;
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v->c_str(), &end, 10);
      if (end == v->c_str() || *end != '\0' || n == 0 || n > max) return false;
      out = static_cast<std::size_t>(n);
      return true;
    };
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--size-mb") {
      if (!positive(opt.sizeMiB, sync::kMaxAttachmentBytes >> 20)) return usage();
      sizeGiven = true;
    } else if (a == "--runs") {
      std::size_t runs = 0;
      if (!positive(runs, 100)) return usage();
      opt.runs = static_cast<int>(runs);
      runsGiven = true;
    } else if (a == "--server-bin") {
      const auto v = value();
      if (!v) return usage();
      opt.serverBin = *v;
    } else if (a == "--work-dir") {
      const auto v = value();
      if (!v) return usage();
      opt.workDir = *v;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "charta-bench attachments: unknown option '%s'\n", a.c_str());
      return usage();
    }
  }
  if (opt.quick && !sizeGiven) opt.sizeMiB = 8;
  if (opt.quick && !runsGiven) opt.runs = 2;
  return run(opt);
}

}  // namespace charta::bench
