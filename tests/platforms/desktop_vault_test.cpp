// DesktopVault: the desktop key vault chosen at run time. Without a session
// bus it is the passphrase alone; with a keyring it wraps in two layers. The
// layer logic is tested over an in-memory keyring; run under with_keyring.sh
// (CHARTA_EXPECT_KEYRING=1) the same suite also runs against a real GNOME
// Keyring over D-Bus, and a replica is created and unlocked through it.
#include <QTemporaryDir>
#include <QtTest>

#include <map>

#include "charta/platform/desktop_vault.h"
#include "charta/sync/replica.h"
#include "secret_service.h"

using namespace charta;
using platform::DesktopVault;
using platform::PassphraseVault;
using Code = crdt::Status::Code;

namespace {

constexpr auto kWeak = PassphraseVault::Strength::kMinimumForTests;

// A keyring in memory (one class's unit test; the real one is below).
class MemoryKeyring final : public platform::SecretService {
 public:
  explicit MemoryKeyring(std::map<std::string, std::string>& items, bool refuse = false)
      : m_items(items), m_refuse(refuse) {}
  crdt::Status store(const std::string& keyId, const std::string&, const std::string& secret) override {
    if (m_refuse) return crdt::Status::ioError("locked");
    m_items[keyId] = secret;
    return crdt::Status::ok();
  }
  crdt::Result<std::optional<std::string>> lookup(const std::string& keyId) override {
    auto it = m_items.find(keyId);
    if (it == m_items.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  crdt::Status remove(const std::string& keyId) override {
    m_items.erase(keyId);
    return crdt::Status::ok();
  }

 private:
  std::map<std::string, std::string>& m_items;
  bool m_refuse;
};

std::string keyBytes(const sync::SecretKey& k) {
  return std::string(reinterpret_cast<const char*>(k.data()), sync::SecretKey::kBytes);
}

bool expectKeyring() { return qgetenv("CHARTA_EXPECT_KEYRING") == "1"; }

}  // namespace

class DesktopVaultTest : public QObject {
  Q_OBJECT

  // The two-layer round trip and its refusals, over any keyring.
  static void checkTwoLayers(DesktopVault& vault) {
    QVERIFY(vault.hasKeyring());
    QCOMPARE(vault.name(), std::string("secret-service"));
    const sync::SecretKey key = sync::SecretKey::random();
    auto blob = vault.wrap("nurse", "correct horse battery", key);
    QVERIFY2(blob.isOk(), blob.status().toString().c_str());
    QCOMPARE(static_cast<std::uint8_t>(blob.value()[0]), DesktopVault::kKeyringMagic);
    auto back = vault.unwrap("nurse", "correct horse battery", blob.value());
    QVERIFY2(back.isOk(), back.status().toString().c_str());
    QCOMPARE(keyBytes(back.value()), keyBytes(key));
    QCOMPARE(vault.unwrap("nurse", "wrong horse battery", blob.value()).status().code(), Code::kRejected);
    QCOMPARE(vault.unwrap("nurse2", "correct horse battery", blob.value()).status().code(), Code::kRejected);
    std::string flipped = blob.value();
    flipped[flipped.size() - 3] = static_cast<char>(flipped[flipped.size() - 3] ^ 1);
    QVERIFY(!vault.unwrap("nurse", "correct horse battery", flipped).isOk());
    QCOMPARE(vault.unwrap("nurse", "correct horse battery", blob.value().substr(0, 10)).status().code(),
             Code::kCorruption);
    // A user wrapped with the passphrase alone (before the keyring was there)
    // still unlocks.
    PassphraseVault plain(kWeak);
    auto old = plain.wrap("nurse", "correct horse battery", key);
    QVERIFY(old.isOk());
    auto oldBack = vault.unwrap("nurse", "correct horse battery", old.value());
    QVERIFY(oldBack.isOk());
    QCOMPARE(keyBytes(oldBack.value()), keyBytes(key));
    // Without the keyring's item, the blob does not open, in plain words.
    QVERIFY(vault.forget(blob.value()).isOk());
    auto gone = vault.unwrap("nurse", "correct horse battery", blob.value());
    QCOMPARE(gone.status().code(), Code::kRejected);
    QVERIFY(QString::fromStdString(gone.status().message()).contains("keyring no longer holds"));
  }

 private slots:
  void passphraseOnlyWithoutASessionBus() {
    if (expectKeyring()) QSKIP("this run has a keyring (the test without one runs in its own suite)");
    QVERIFY(qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"));
    auto vault = DesktopVault::forThisSession(kWeak);
    QVERIFY(!vault->hasKeyring());
    QCOMPARE(vault->name(), std::string("passphrase"));
    const sync::SecretKey key = sync::SecretKey::random();
    auto blob = vault->wrap("nurse", "correct horse battery", key);
    QVERIFY(blob.isOk());
    QCOMPARE(static_cast<std::uint8_t>(blob.value()[0]), PassphraseVault::kFormatVersion);
    auto back = vault->unwrap("nurse", "correct horse battery", blob.value());
    QVERIFY(back.isOk());
    QCOMPARE(keyBytes(back.value()), keyBytes(key));
  }

  void twoLayersOverAKeyring() {
    std::map<std::string, std::string> items;
    DesktopVault vault(kWeak, std::make_unique<MemoryKeyring>(items));
    checkTwoLayers(vault);
  }

  void aKeyringBlobWithoutTheKeyringIsRefusedInPlainWords() {
    std::map<std::string, std::string> items;
    DesktopVault withKeyring(kWeak, std::make_unique<MemoryKeyring>(items));
    const sync::SecretKey key = sync::SecretKey::random();
    auto blob = withKeyring.wrap("nurse", "correct horse battery", key);
    QVERIFY(blob.isOk());
    QCOMPARE(items.size(), std::size_t{1});
    for (const auto& [id, secret] : items) QVERIFY(blob.value().find(secret) == std::string::npos);
    DesktopVault without(kWeak, nullptr);
    auto refused = without.unwrap("nurse", "correct horse battery", blob.value());
    QCOMPARE(refused.status().code(), Code::kRejected);
    QVERIFY(QString::fromStdString(refused.status().message()).contains("desktop keyring"));
  }

  void aKeyringThatRefusesLeavesThePassphraseLayer() {
    std::map<std::string, std::string> items;
    DesktopVault vault(kWeak, std::make_unique<MemoryKeyring>(items, true));
    const sync::SecretKey key = sync::SecretKey::random();
    auto blob = vault.wrap("nurse", "correct horse battery", key);
    QVERIFY(blob.isOk());
    QCOMPARE(static_cast<std::uint8_t>(blob.value()[0]), PassphraseVault::kFormatVersion);
    QVERIFY(vault.unwrap("nurse", "correct horse battery", blob.value()).isOk());
  }

  // Against the session's real Secret Service (GNOME Keyring over D-Bus).
  void realKeyringOfTheSession() {
    if (!expectKeyring()) QSKIP("no keyring in this run (see the suite run under with_keyring.sh)");
    auto vault = DesktopVault::forThisSession(kWeak);
    QVERIFY2(vault->hasKeyring(), "the session's Secret Service did not answer");
    checkTwoLayers(*vault);
  }

  void replicaUnlocksThroughTheSessionKeyring() {
    if (!expectKeyring()) QSKIP("no keyring in this run (see the suite run under with_keyring.sh)");
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString() + "/replica.db";
    auto vault = DesktopVault::forThisSession(kWeak);
    QVERIFY(vault->hasKeyring());
    sync::DeviceIdentity id{"http://127.0.0.1:1", "dev-keyring", crdt::ReplicaId{77}, "demo", "e"};
    sync::ReplicaOptions options;
    options.autoLockMs = 0;
    {
      auto r = sync::Replica::create(path, id, "device-secret", *vault, {"nurse", "Nurse", {}, 0},
                                     "correct horse battery", options);
      QVERIFY2(r.isOk(), r.status().toString().c_str());
      QCOMPARE(r.value()->users().front().vault, std::string("secret-service"));
    }
    auto r = sync::Replica::open(path, options);
    QVERIFY(r.isOk());
    QCOMPARE(r.value()->unlock(*vault, "nurse", "wrong horse battery").code(), Code::kRejected);
    QVERIFY(r.value()->unlock(*vault, "nurse", "correct horse battery").isOk());
    QVERIFY(r.value()->deviceSecret().isOk());
  }
};

QTEST_GUILESS_MAIN(DesktopVaultTest)
#include "desktop_vault_test.moc"
