// The desktop key vault: wrap/unwrap round trips, the blob layout, wrong
// passphrase and other user refused as kRejected, every damaged byte refused
// (never ok), hostile Argon2id parameters refused before any work, newer
// formats reported as such, the passphrase minimum, and the MODERATE unlock
// time printed for information.
#include "charta/platform/passphrase_vault.h"

#include <QElapsedTimer>
#include <QtTest>
#include <cstdint>
#include <string>
#include <string_view>

#include "charta/sync/crypto.h"
#include "charta/sync/key_vault.h"

using charta::crdt::Result;
using charta::crdt::Status;
using charta::platform::PassphraseVault;
using charta::sync::KeyVault;
using charta::sync::SecretKey;
namespace csync = charta::sync;

namespace {

constexpr std::string_view kPassphrase = "correct horse battery staple";

std::string bytesOf(const SecretKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), SecretKey::kBytes);
}

template <typename T>
QString describe(const Result<T>& r) {
  return r.isOk() ? QStringLiteral("ok") : QString::fromStdString(r.status().toString());
}

template <typename T>
bool hasCode(const Result<T>& r, Status::Code code) {
  return !r.isOk() && r.status().code() == code;
}

std::uint64_t readU64(const std::string& blob, std::size_t offset) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(blob[offset + i])} << (8 * i);
  return v;
}

void writeU64(std::string& blob, std::size_t offset, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) blob[offset + i] = static_cast<char>(static_cast<unsigned char>(v >> (8 * i)));
}

std::string flipBit(std::string s, std::size_t bit) {
  s[bit / 8] = static_cast<char>(static_cast<unsigned char>(s[bit / 8]) ^ (1U << (bit % 8)));
  return s;
}

// Layout from passphrase_vault.h.
constexpr std::size_t kOpsOffset = 1;
constexpr std::size_t kMemOffset = 9;
constexpr std::size_t kSaltOffset = 17;
constexpr std::size_t kWrappedOffset = 33;

}  // namespace

class PassphraseVaultTest : public QObject {
  Q_OBJECT

 private:
  PassphraseVault m_vault{PassphraseVault::Strength::kMinimumForTests};

  std::string wrapOrFail(const SecretKey& key, std::string_view user = "alice",
                         std::string_view passphrase = kPassphrase) {
    const Result<std::string> blob = m_vault.wrap(user, passphrase, key);
    if (!blob.isOk()) qFatal("wrap failed: %s", blob.status().toString().c_str());
    return blob.value();
  }

 private slots:
  void initTestCase() { QVERIFY(csync::initCrypto().isOk()); }

  void nameAndDefaults() {
    const PassphraseVault vault;
    QVERIFY(vault.strength() == PassphraseVault::Strength::kModerate);
    QCOMPARE(QString::fromStdString(vault.name()), QStringLiteral("passphrase"));
    QCOMPARE(QString::fromStdString(m_vault.name()), QStringLiteral("passphrase"));
  }

  void wrapUnwrapRoundTrip() {
    KeyVault& vault = m_vault;  // used through the interface the replica sees
    const SecretKey dataKey = SecretKey::random();
    const Result<std::string> blob = vault.wrap("alice", kPassphrase, dataKey);
    QVERIFY2(blob.isOk(), qPrintable(describe(blob)));
    QCOMPARE(blob.value().size(), PassphraseVault::kBlobBytes);
    QCOMPARE(blob.value().size(), std::size_t{105});

    const Result<SecretKey> back = vault.unwrap("alice", kPassphrase, blob.value());
    QVERIFY2(back.isOk(), qPrintable(describe(back)));
    QVERIFY(bytesOf(back.value()) == bytesOf(dataKey));
    QVERIFY(back.value().data() != dataKey.data());
  }

  void blobLayout() {
    const SecretKey dataKey = SecretKey::random();
    const std::string blob = wrapOrFail(dataKey);
    const csync::PwhashParams minimum = csync::PwhashParams::minimumForTests();
    QCOMPARE(static_cast<int>(static_cast<unsigned char>(blob[0])), 1);
    QCOMPARE(readU64(blob, kOpsOffset), minimum.opsLimit);
    QCOMPARE(readU64(blob, kMemOffset), minimum.memLimitBytes);

    // The tail is wrapKey(Argon2id(passphrase, stored params), dataKey,
    // "charta.vault.v1\0" + user), exactly as documented.
    csync::PwhashParams params;
    params.opsLimit = readU64(blob, kOpsOffset);
    params.memLimitBytes = readU64(blob, kMemOffset);
    params.salt = blob.substr(kSaltOffset, 16);
    const Result<SecretKey> kek = csync::deriveKey(kPassphrase, params);
    QVERIFY(kek.isOk());
    const Result<SecretKey> key =
        csync::unwrapKey(kek.value(), blob.substr(kWrappedOffset), std::string("charta.vault.v1\0alice", 21));
    QVERIFY2(key.isOk(), qPrintable(describe(key)));
    QVERIFY(bytesOf(key.value()) == bytesOf(dataKey));
  }

  void eachWrapHasItsOwnSalt() {
    const SecretKey dataKey = SecretKey::random();
    const std::string a = wrapOrFail(dataKey);
    const std::string b = wrapOrFail(dataKey);
    QVERIFY(a.substr(kSaltOffset, 16) != b.substr(kSaltOffset, 16));
    QVERIFY(a.substr(kWrappedOffset) != b.substr(kWrappedOffset));
    QVERIFY(m_vault.unwrap("alice", kPassphrase, a).isOk());
    QVERIFY(m_vault.unwrap("alice", kPassphrase, b).isOk());
  }

  void blobDoesNotContainTheKeyOrThePassphrase() {
    const SecretKey dataKey = SecretKey::random();
    const std::string blob = wrapOrFail(dataKey);
    const std::string raw = bytesOf(dataKey);
    for (std::size_t i = 0; i + 8 <= raw.size(); ++i) {
      QVERIFY2(blob.find(raw.substr(i, 8)) == std::string::npos,
               qPrintable(QString("key bytes %1..%2").arg(i).arg(i + 8)));
    }
    QVERIFY(blob.find(std::string(kPassphrase).substr(0, 8)) == std::string::npos);
    QVERIFY(blob.find("alice") == std::string::npos);
  }

  void wrongPassphraseIsRejected() {
    const std::string blob = wrapOrFail(SecretKey::random());
    for (const std::string_view wrong :
         {"correct horse battery stapl", "correct horse battery staple ", "Correct horse battery staple", "", "x"}) {
      const Result<SecretKey> r = m_vault.unwrap("alice", wrong, blob);
      QVERIFY2(hasCode(r, Status::Code::kRejected), qPrintable(describe(r)));
      QCOMPARE(QString::fromStdString(r.status().message()), QStringLiteral("wrong passphrase"));
    }
  }

  void otherUserIsRejected() {
    const std::string blob = wrapOrFail(SecretKey::random(), "alice");
    for (const std::string_view other : {"bob", "alic", "alice ", "Alice"}) {
      const Result<SecretKey> r = m_vault.unwrap(other, kPassphrase, blob);
      QVERIFY2(hasCode(r, Status::Code::kRejected), qPrintable(describe(r)));
    }
    const Result<SecretKey> nul = m_vault.unwrap(std::string("alice\0", 6), kPassphrase, blob);
    QVERIFY2(hasCode(nul, Status::Code::kRejected), qPrintable(describe(nul)));
    QVERIFY(m_vault.unwrap("alice", kPassphrase, blob).isOk());  // the control
  }

  void emptyUserIsAnError() {
    const SecretKey dataKey = SecretKey::random();
    QVERIFY(hasCode(m_vault.wrap("", kPassphrase, dataKey), Status::Code::kInvalidArgument));
    const std::string blob = wrapOrFail(dataKey);
    QVERIFY(hasCode(m_vault.unwrap("", kPassphrase, blob), Status::Code::kInvalidArgument));
  }

  void emptyDataKeyIsAnError() {
    const SecretKey empty;
    QVERIFY(hasCode(m_vault.wrap("alice", kPassphrase, empty), Status::Code::kInvalidArgument));
  }

  void shortPassphraseIsRefused() {
    const SecretKey dataKey = SecretKey::random();
    for (const std::string_view shortOne : {"", "a", "1234567", "seven77"}) {
      const Result<std::string> r = m_vault.wrap("alice", shortOne, dataKey);
      QVERIFY2(hasCode(r, Status::Code::kInvalidArgument), qPrintable(describe(r)));
      QVERIFY2(r.status().message().find("at least 8 characters") != std::string::npos, qPrintable(describe(r)));
    }
    // Counted in characters, not bytes: 7 two-byte characters are too few.
    const std::string sevenAccents = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    QCOMPARE(sevenAccents.size(), std::size_t{14});
    QVERIFY(hasCode(m_vault.wrap("alice", sevenAccents, dataKey), Status::Code::kInvalidArgument));

    const Result<std::string> eight = m_vault.wrap("alice", "12345678", dataKey);
    QVERIFY2(eight.isOk(), qPrintable(describe(eight)));
    QVERIFY(m_vault.unwrap("alice", "12345678", eight.value()).isOk());

    const std::string eightAccents = sevenAccents + "\xc3\xa9";
    const Result<std::string> unicode = m_vault.wrap("alice", eightAccents, dataKey);
    QVERIFY2(unicode.isOk(), qPrintable(describe(unicode)));
    const Result<SecretKey> back = m_vault.unwrap("alice", eightAccents, unicode.value());
    QVERIFY2(back.isOk(), qPrintable(describe(back)));
    QVERIFY(bytesOf(back.value()) == bytesOf(dataKey));
  }

  void everyBitFlipIsRefused() {
    const std::string blob = wrapOrFail(SecretKey::random());
    QVERIFY(m_vault.unwrap("alice", kPassphrase, blob).isOk());  // the control
    for (std::size_t bit = 0; bit < blob.size() * 8; ++bit) {
      const std::string damaged = flipBit(blob, bit);
      const Result<SecretKey> r = m_vault.unwrap("alice", kPassphrase, damaged);
      const QString where = QString("bit %1 (byte %2): %3").arg(bit).arg(bit / 8).arg(describe(r));
      QVERIFY2(!r.isOk(), qPrintable(where));
      const Status::Code code = r.status().code();
      if (bit < 8) {
        // The version byte: 0 is no format at all, anything above 1 is newer.
        const Status::Code expected = damaged[0] == 0 ? Status::Code::kCorruption : Status::Code::kUnsupportedVersion;
        QVERIFY2(code == expected, qPrintable(where));
      } else if (bit < kSaltOffset * 8) {
        // The Argon2id parameters: out of bounds, or a different KEK.
        QVERIFY2(code == Status::Code::kCorruption || code == Status::Code::kRejected, qPrintable(where));
      } else {
        // Salt and wrapped key: indistinguishable from a wrong passphrase.
        QVERIFY2(code == Status::Code::kRejected, qPrintable(where));
      }
    }
  }

  void truncatedOrExtendedBlobIsCorruption() {
    const std::string blob = wrapOrFail(SecretKey::random());
    for (std::size_t n = 0; n < blob.size(); ++n) {
      const Result<SecretKey> r = m_vault.unwrap("alice", kPassphrase, blob.substr(0, n));
      QVERIFY2(hasCode(r, Status::Code::kCorruption), qPrintable(QString("%1 bytes: %2").arg(n).arg(describe(r))));
    }
    QVERIFY(hasCode(m_vault.unwrap("alice", kPassphrase, blob + 'x'), Status::Code::kCorruption));
  }

  void newerFormatIsUnsupported() {
    std::string blob = wrapOrFail(SecretKey::random());
    blob[0] = 2;
    const Result<SecretKey> r = m_vault.unwrap("alice", kPassphrase, blob);
    QVERIFY2(hasCode(r, Status::Code::kUnsupportedVersion), qPrintable(describe(r)));
    // A newer format may have another size: the version is read first.
    QVERIFY(hasCode(m_vault.unwrap("alice", kPassphrase, std::string(1, '\x02')), Status::Code::kUnsupportedVersion));
    QVERIFY(hasCode(m_vault.unwrap("alice", kPassphrase, std::string(300, '\xff')), Status::Code::kUnsupportedVersion));
    blob[0] = 0;
    QVERIFY(hasCode(m_vault.unwrap("alice", kPassphrase, blob), Status::Code::kCorruption));
  }

  void hostileParametersAreRefusedBeforeAnyWork() {
    const std::string blob = wrapOrFail(SecretKey::random());
    struct Case {
      const char* what;
      std::size_t offset;
      std::uint64_t value;
    };
    const Case cases[] = {
        {"opslimit 0", kOpsOffset, 0},
        {"opslimit above the ceiling", kOpsOffset, PassphraseVault::kMaxOpsLimit + 1},
        {"opslimit 2^32", kOpsOffset, std::uint64_t{1} << 32},
        {"opslimit max", kOpsOffset, UINT64_MAX},
        {"memlimit 0", kMemOffset, 0},
        {"memlimit below libsodium's minimum", kMemOffset, 8191},
        {"memlimit not whole KiB", kMemOffset, 8193},
        {"memlimit 64 MiB + 1", kMemOffset, (std::uint64_t{64} << 20) + 1},
        {"memlimit above the ceiling", kMemOffset, PassphraseVault::kMaxMemLimitBytes + 1},
        {"memlimit 1 TiB", kMemOffset, std::uint64_t{1} << 40},
        {"memlimit max", kMemOffset, UINT64_MAX},
    };
    for (const Case& c : cases) {
      std::string hostile = blob;
      writeU64(hostile, c.offset, c.value);
      const Result<SecretKey> r = m_vault.unwrap("alice", kPassphrase, hostile);
      QVERIFY2(hasCode(r, Status::Code::kCorruption), qPrintable(QString("%1: %2").arg(c.what).arg(describe(r))));
    }
  }

  void unwrapUsesTheParametersInTheBlob() {
    // A vault of another strength opens the blob: the KEK is derived with the
    // stored parameters (with its own, the KEK would differ and be rejected).
    const SecretKey dataKey = SecretKey::random();
    const std::string weak = wrapOrFail(dataKey);
    PassphraseVault moderate(PassphraseVault::Strength::kModerate);
    const Result<SecretKey> a = moderate.unwrap("alice", kPassphrase, weak);
    QVERIFY2(a.isOk(), qPrintable(describe(a)));
    QVERIFY(bytesOf(a.value()) == bytesOf(dataKey));

    PassphraseVault interactive(PassphraseVault::Strength::kInteractive);
    const Result<std::string> stronger = interactive.wrap("alice", kPassphrase, dataKey);
    QVERIFY2(stronger.isOk(), qPrintable(describe(stronger)));
    QCOMPARE(readU64(stronger.value(), kMemOffset), std::uint64_t{64} * 1024 * 1024);
    const Result<SecretKey> b = m_vault.unwrap("alice", kPassphrase, stronger.value());
    QVERIFY2(b.isOk(), qPrintable(describe(b)));
    QVERIFY(bytesOf(b.value()) == bytesOf(dataKey));
  }

  void moderateUnlockTime() {
    PassphraseVault vault;  // kModerate, as on a real desktop
    const SecretKey dataKey = SecretKey::random();
    const Result<std::string> blob = vault.wrap("alice", kPassphrase, dataKey);
    QVERIFY2(blob.isOk(), qPrintable(describe(blob)));
    QCOMPARE(readU64(blob.value(), kMemOffset), std::uint64_t{256} * 1024 * 1024);

    QElapsedTimer timer;
    timer.start();
    const Result<SecretKey> back = vault.unwrap("alice", kPassphrase, blob.value());
    const qint64 ms = timer.elapsed();
    QVERIFY2(back.isOk(), qPrintable(describe(back)));
    QVERIFY(bytesOf(back.value()) == bytesOf(dataKey));
    qInfo("unlock with MODERATE Argon2id parameters took %lld ms", static_cast<long long>(ms));
  }

  void tabletStrengthHalvesTheMemory() {
    PassphraseVault vault(PassphraseVault::Strength::kTablet);
    const SecretKey dataKey = SecretKey::random();
    const Result<std::string> blob = vault.wrap("alice", kPassphrase, dataKey);
    QVERIFY2(blob.isOk(), qPrintable(describe(blob)));
    QCOMPARE(readU64(blob.value(), kMemOffset), std::uint64_t{128} * 1024 * 1024);
    QCOMPARE(readU64(blob.value(), 1), std::uint64_t{6});
    // Any vault opens it (the parameters travel in the blob).
    QElapsedTimer timer;
    timer.start();
    const Result<SecretKey> back = m_vault.unwrap("alice", kPassphrase, blob.value());
    const qint64 ms = timer.elapsed();
    QVERIFY2(back.isOk(), qPrintable(describe(back)));
    QVERIFY(bytesOf(back.value()) == bytesOf(dataKey));
    QVERIFY(!m_vault.unwrap("alice", "another passphrase", blob.value()).isOk());
    qInfo("unlock with the tablet's Argon2id parameters took %lld ms", static_cast<long long>(ms));
  }
};

QTEST_APPLESS_MAIN(PassphraseVaultTest)
#include "passphrase_vault_test.moc"
