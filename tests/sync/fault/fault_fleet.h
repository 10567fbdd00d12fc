// Tablets for the fault suites: in-process replicas with their sync engines,
// enrolled directly with a test server and then syncing through a transport
// of the test's choice (usually the fault-injecting proxy), plus the counts
// the suites compare at the end.
#pragma once

#include <sqlite3.h>

#include <QtTest>
#include <cstdlib>
#include <memory>
#include <string>

#include "charta/sync/engine.h"
#include "random_edits.h"

namespace charta::test {

inline constexpr const char* kFleetPassphrase = "demo-nurse-pass";

inline int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

struct FleetDevice {
  std::string path;
  std::unique_ptr<sync::Transport> direct;  // for enrolment (never retried)
  std::unique_ptr<sync::Transport> synced;  // what the engine syncs through
  std::unique_ptr<sync::Replica> replica;
  std::unique_ptr<sync::SyncEngine> engine;
  std::unique_ptr<sync::RandomEditor> editor;
};

struct FleetDeviceSetup {
  std::string path;       // the replica file
  std::string serverUrl;  // enrolment, straight to the server
  std::string syncUrl;    // the engine's server (a proxy, or the server itself)
  std::string code;       // enrolment code
  std::uint64_t seed = 1;
  std::size_t pullPageOps = 25;
  int timeoutMs = 3000;
  const crdt::WallClock* clock = nullptr;  // nullptr: the system clock
};

// Enrols a device as "nurse" and wires an engine that retries little and
// backs off for milliseconds, so chaos runs stay short. nullptr and `error`
// when enrolment fails.
inline std::unique_ptr<FleetDevice> enrolFleetDevice(const FleetDeviceSetup& setup, sync::KeyVault& vault,
                                                     std::string* error) {
  auto d = std::make_unique<FleetDevice>();
  d->path = setup.path;
  d->direct = sync::makeHttpTransport(sync::HttpTransportOptions{setup.serverUrl, {}, 10000}, error);
  d->synced = sync::makeHttpTransport(sync::HttpTransportOptions{setup.syncUrl, {}, setup.timeoutMs}, error);
  if (!d->direct || !d->synced) return nullptr;
  sync::ReplicaOptions options;
  options.clock = setup.clock;
  auto r = sync::SyncEngine::enrol(*d->direct, d->path, setup.serverUrl, setup.code, "chaos", vault, "nurse",
                                   kFleetPassphrase, kFleetPassphrase, options);
  if (!r.isOk()) {
    *error = r.status().toString();
    return nullptr;
  }
  d->replica = std::move(r).value();
  sync::EngineOptions engine;
  engine.maxAttempts = 3;
  engine.pullPageOps = setup.pullPageOps;
  engine.pushBatchOps = 40;
  engine.backoffBaseMs = 1;
  engine.backoffMaxMs = 5;
  engine.jitterSeed = setup.seed;
  engine.passwordFor = [](const std::string&) { return std::optional<std::string>(kFleetPassphrase); };
  d->engine = std::make_unique<sync::SyncEngine>(*d->replica, *d->synced, engine);
  d->editor = std::make_unique<sync::RandomEditor>(*d->replica, setup.seed, 4);
  return d;
}

// Every op stored on a replica: the sum over its patients.
inline std::uint64_t opsOn(sync::Replica& r) {
  std::uint64_t n = 0;
  for (const auto& p : r.patients()) {
    auto s = r.summary(p);
    if (s.isOk()) n += s.value().opCount;
  }
  return n;
}

// The op rows of a SQLite server store; -2 when some op (replica and
// counter) is stored twice.
inline std::int64_t serverOpRows(const std::string& dataDir) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((dataDir + "/charta.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* st = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*), COUNT(DISTINCT replica || '.' || counter) FROM ops", -1, &st, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    n = sqlite3_column_int64(st, 0) == sqlite3_column_int64(st, 1) ? sqlite3_column_int64(st, 0) : -2;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

}  // namespace charta::test
