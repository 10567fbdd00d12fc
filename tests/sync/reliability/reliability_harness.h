// What the reliability suites share: an in-process charta-server, tablets
// enrolled against it whose replica files live in a folder the FaultVfs
// watches, the ops a tablet reported as saved, and checks of what the server
// and the replica file hold.
#pragma once

#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "charta/crdt/op_codec.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/engine.h"
#include "random_edits.h"
#include "server/api/api_harness.h"
#include "support/fault_vfs.h"

namespace charta::test {

inline constexpr const char* kNursePassphrase = "demo-nurse-pass";  // also the demo nurse's server password

struct Tablet {
  std::string path;
  std::unique_ptr<sync::Transport> transport;
  std::unique_ptr<sync::Replica> replica;
  std::unique_ptr<sync::SyncEngine> engine;

  // Closes the replica (its SQLite connection) as a power cut or an app
  // restart would.
  void close() {
    engine.reset();
    replica.reset();
  }
};

// An op the library reported as saved: its id and its encoding.
struct SavedOp {
  crdt::OpId id;
  std::string patient;
  std::string encoded;
};

inline SavedOp savedOp(const crdt::Op& op) { return SavedOp{op.id, op.patient, crdt::encodeOp(op)}; }

// The ops the server holds of one replica: counter -> body.
inline std::map<std::uint64_t, std::string> serverOpsOf(const std::string& dataDir, crdt::ReplicaId replica) {
  std::map<std::uint64_t, std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((dataDir + "/charta.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT counter, body FROM ops WHERE replica = ?1", -1, &st, nullptr) == SQLITE_OK) {
      sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(replica.value));
      while (sqlite3_step(st) == SQLITE_ROW) {
        const auto* body = static_cast<const char*>(sqlite3_column_blob(st, 1));
        const std::string bytes(body ? body : "", static_cast<std::size_t>(sqlite3_column_bytes(st, 1)));
        out[static_cast<std::uint64_t>(sqlite3_column_int64(st, 0))] = bytes;
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

// PRAGMA integrity_check of a database file: "ok" or what is wrong.
inline std::string integrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(st, 0);
      result = text ? reinterpret_cast<const char*>(text) : "";
    } else {
      result = sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return result;
}

// The server, its admin and the tablets' vault.
class ReliabilityBench {
 public:
  TestServer server;
  std::unique_ptr<AdminClient> admin;
  platform::PassphraseVault vault{platform::PassphraseVault::Strength::kMinimumForTests};

  bool start() {
    if (!server.start(false)) return false;
    admin = std::make_unique<AdminClient>(server.url());
    return admin->login("admin", "demo-admin-pass").status == 200;
  }

  static sync::EngineOptions engineOptions() {
    sync::EngineOptions options;
    options.maxAttempts = 2;
    options.sleep = [](std::int64_t) {};
    options.passwordFor = [](const std::string&) { return std::optional<std::string>(kNursePassphrase); };
    return options;
  }

  // A tablet enrolled with a fresh code; its replica at path.
  std::unique_ptr<Tablet> enrol(const std::string& path) {
    auto t = std::make_unique<Tablet>();
    t->path = path;
    std::string error;
    t->transport = sync::makeHttpTransport(sync::HttpTransportOptions{server.url(), {}, 10000}, &error);
    if (!t->transport) {
      qWarning() << error.c_str();
      return nullptr;
    }
    const std::string code =
        str(parseJson(admin->post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}}).body), "code");
    auto r = sync::SyncEngine::enrol(*t->transport, path, server.url(), code, "tablet", vault, "nurse",
                                     kNursePassphrase, kNursePassphrase);
    if (!r.isOk()) {
      qWarning() << r.status().toString().c_str();
      return nullptr;
    }
    t->replica = std::move(r).value();
    t->engine = std::make_unique<sync::SyncEngine>(*t->replica, *t->transport, engineOptions());
    return t;
  }

  // Opens a closed tablet's replica again, as the app does after a restart,
  // and unlocks it for the nurse.
  crdt::Status reopen(Tablet& t) {
    auto r = sync::Replica::open(t.path);
    if (!r.isOk()) return r.status();
    t.replica = std::move(r).value();
    if (crdt::Status s = t.replica->unlock(vault, "nurse", kNursePassphrase); !s.isOk()) return s;
    t.engine = std::make_unique<sync::SyncEngine>(*t.replica, *t.transport, engineOptions());
    return crdt::Status::ok();
  }

  // Every saved op is on the server exactly as the tablet made it; the
  // server holds the tablet's ops 1..n without a gap, and the replica holds
  // each of them. Empty when so, else the first problem.
  std::string checkServer(Tablet& t, const std::vector<SavedOp>& saved, bool allowGaps = false) {
    const crdt::ReplicaId replica = t.replica->identity().replica;
    const auto onServer = serverOpsOf(server.config.data, replica);
    for (const SavedOp& op : saved) {
      auto it = onServer.find(op.id.seq);
      if (it == onServer.end()) return "op " + std::to_string(op.id.seq) + " is not on the server";
      if (it->second != op.encoded) return "the server holds another op " + std::to_string(op.id.seq);
    }
    std::uint64_t expected = 1;
    for (const auto& [counter, body] : onServer) {
      if (!allowGaps && counter != expected) return "the server lacks op " + std::to_string(expected);
      expected = counter + 1;
      auto op = crdt::decodeOp(body);
      if (!op.isOk()) return "the server's op " + std::to_string(counter) + " does not decode";
      auto doc = t.replica->document(op.value().patient);
      if (!doc.isOk() || !doc.value()->hasApplied(op.value().id)) {
        return "the replica lacks op " + std::to_string(counter);
      }
    }
    return {};
  }
};

}  // namespace charta::test
