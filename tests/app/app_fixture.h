// A tablet for the app suites: a real encrypted replica in a temporary
// folder (Argon2id at its test minimum), a ChartStore over it, unlocked.
// No server: the replica's server is a closed loopback port, so any sync
// fails at once (and says so); e2e suites enrol against a real server instead.
#pragma once

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

#include "chart_store.h"
#include "charta/crdt/op_codec.h"
#include "charta/platform/passphrase_vault.h"

namespace charta::test {

inline constexpr const char* kNursePass = "demo-nurse-pass";

inline app::StoreOptions offlineStoreOptions(const QString& dir) {
  app::StoreOptions o;
  o.dataDir = dir;
  o.kdf = app::StoreOptions::Kdf::kMinimumForTests;
  o.autoLockMs = 0;
  o.syncIntervalMs = 0;
  o.syncAfterEditMs = -1;
  o.maxSyncAttempts = 1;
  return o;
}

// Creates DIR/replica.db for a tablet of the demo clinic with users nurse
// (and nurse2), locked afterwards. Returns false with a warning on failure.
inline bool makeOfflineReplica(const QString& dir, std::uint64_t replicaId = 0xA11) {
  platform::PassphraseVault vault(platform::PassphraseVault::Strength::kMinimumForTests);
  sync::DeviceIdentity identity{"http://127.0.0.1:9", "test-tablet", crdt::ReplicaId{replicaId}, "demo", ""};
  auto replica = sync::Replica::create((dir + "/replica.db").toStdString(), identity,
                                       "test-device-secret-0123456789abcdef", vault, {"nurse", "Test nurse", "", 0},
                                       kNursePass);
  if (!replica.isOk()) {
    qWarning() << replica.status().message().c_str();
    return false;
  }
  if (!replica.value()->addUser(vault, {"nurse2", "Second nurse", "", 0}, "second-nurse-pass").isOk()) return false;
  replica.value()->lock();
  return true;
}

inline bool unlockStore(app::ChartStore& store, const QString& user = "nurse", const QString& pass = kNursePass) {
  QSignalSpy done(&store, &app::ChartStore::unlockFinished);
  store.unlock(user, pass);
  if (!done.wait(30000)) return false;
  const bool ok = done.takeFirst().at(0).toBool();
  // unlock() starts a sync (it fails at once: no server); let it finish.
  QSignalSpy synced(&store, &app::ChartStore::syncFinished);
  if (store.busy()) synced.wait(30000);
  return ok && store.unlocked();
}

// Applies a concurrent op from "another device" to the store's replica, as
// a pull would: make(factory, chart as the other device saw it).
inline bool applyRemote(app::ChartStore& store, std::uint64_t remoteReplica, const crdt::ChartDocument& seen,
                        const std::function<crdt::Op(crdt::OpFactory&, const crdt::ChartDocument&)>& make) {
  static crdt::SystemWallClock clock;
  crdt::OpFactory other(crdt::ReplicaId{remoteReplica}, clock, 1);
  other.setUser("nurse2");
  sync::PullPage page;
  page.ops.push_back(crdt::encodeOp(make(other, seen)));
  page.next = store.replica()->cursor();
  auto applied = store.replica()->applyPulled(page);
  if (!applied.isOk()) qWarning() << applied.status().message().c_str();
  store.reloadCharts();
  return applied.isOk() && applied.value().stored == 1;
}

}  // namespace charta::test
