// The tablet's crypto adapter: seal/open (XChaCha20-Poly1305) with published
// known answers, tamper and mis-binding refusal bit by bit, key wrapping,
// SecretKey ownership, Argon2id derivation and its parameter checks, random
// numbers (range and bias), BLAKE2b known answers and the small helpers.
#include "charta/sync/crypto.h"

#include <QtTest>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using charta::crdt::Result;
using charta::crdt::Status;
using charta::sync::PwhashParams;
using charta::sync::SecretKey;
namespace csync = charta::sync;

namespace {

std::string bytesOf(const SecretKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), SecretKey::kBytes);
}

std::string fromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) qFatal("bad hex in a test vector");
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

SecretKey keyFromHex(std::string_view hex) {
  Result<SecretKey> key = SecretKey::fromBytes(fromHex(hex));
  if (!key.isOk()) qFatal("bad key in a test vector");
  return std::move(key).value();
}

template <typename T>
bool hasCode(const Result<T>& r, Status::Code code) {
  return !r.isOk() && r.status().code() == code;
}

template <typename T>
QString describe(const Result<T>& r) {
  return r.isOk() ? QStringLiteral("ok") : QString::fromStdString(r.status().toString());
}

std::string flipBit(std::string s, std::size_t bit) {
  s[bit / 8] = static_cast<char>(static_cast<unsigned char>(s[bit / 8]) ^ (1U << (bit % 8)));
  return s;
}

// draft-irtf-cfrg-xchacha-03, appendix A.3.1 (AEAD_XCHACHA20_POLY1305).
constexpr std::string_view kXKey = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
constexpr std::string_view kXNonce = "404142434445464748494a4b4c4d4e4f5051525354555657";
constexpr std::string_view kXAad = "50515253c0c1c2c3c4c5c6c7";
constexpr std::string_view kXPlaintext =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be "
    "it.";
constexpr std::string_view kXCiphertext =
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216"
    "cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13"
    "b52e";
constexpr std::string_view kXTag = "c0875924c1c7987947deafd8780acf49";

}  // namespace

class CryptoTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(csync::initCrypto().isOk());
    QVERIFY(csync::initCrypto().isOk());  // idempotent
  }

  // --- seal / open -----------------------------------------------------------

  void sealOpenRoundTrip_data() {
    QTest::addColumn<QByteArray>("plaintext");
    QTest::addColumn<QByteArray>("associatedData");
    QTest::newRow("empty") << QByteArray() << QByteArray("patients/42");
    QTest::newRow("empty, no associated data") << QByteArray() << QByteArray();
    QTest::newRow("short") << QByteArray("BP 120/80") << QByteArray("notes/7");
    QTest::newRow("embedded zeros") << QByteArray("a\0b\0c", 5) << QByteArray("x\0y", 3);
    QTest::newRow("1 MiB") << QByteArray::fromStdString(csync::randomBytes(1024 * 1024)) << QByteArray("blobs/1");
  }

  void sealOpenRoundTrip() {
    QFETCH(QByteArray, plaintext);
    QFETCH(QByteArray, associatedData);
    const std::string pt = plaintext.toStdString();
    const std::string ad = associatedData.toStdString();
    const SecretKey key = SecretKey::random();
    const std::string sealed = csync::seal(key, pt, ad);
    QCOMPARE(sealed.size(), pt.size() + csync::kSealOverheadBytes);
    if (pt.size() >= 16) QVERIFY(sealed.find(pt.substr(0, 16)) == std::string::npos);
    const Result<std::string> opened = csync::open(key, sealed, ad);
    QVERIFY2(opened.isOk(), qPrintable(describe(opened)));
    QVERIFY(opened.value() == pt);
  }

  void openKnownAnswer() {
    // The layout nonce || ciphertext || tag, decrypted with the published key
    // and associated data.
    const SecretKey key = keyFromHex(kXKey);
    const std::string sealed = fromHex(kXNonce) + fromHex(kXCiphertext) + fromHex(kXTag);
    QCOMPARE(sealed.size(), kXPlaintext.size() + csync::kSealOverheadBytes);
    const Result<std::string> opened = csync::open(key, sealed, fromHex(kXAad));
    QVERIFY2(opened.isOk(), qPrintable(describe(opened)));
    QVERIFY(opened.value() == kXPlaintext);
    QVERIFY(hasCode(csync::open(key, sealed, fromHex(kXAad).substr(1)), Status::Code::kCorruption));
  }

  void noncesDifferPerSeal() {
    const SecretKey key = SecretKey::random();
    std::set<std::string> nonces;
    std::set<std::string> blobs;
    constexpr int kSeals = 2000;
    for (int i = 0; i < kSeals; ++i) {
      const std::string sealed = csync::seal(key, "same plaintext", "same row");
      nonces.insert(sealed.substr(0, 24));
      blobs.insert(sealed);
    }
    QCOMPARE(nonces.size(), std::size_t{kSeals});
    QCOMPARE(blobs.size(), std::size_t{kSeals});
  }

  // A child of fork() starts with a copy of the parent's nonce buffer: it
  // must not hand out the nonces the parent hands out next.
  void forkedChildNoncesDifferFromTheParents() {
    const SecretKey key = SecretKey::random();
    (void)csync::seal(key, "fill the buffer", "row");
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    const pid_t child = ::fork();
    QVERIFY(child >= 0);
    if (child == 0) {
      const std::string sealed = csync::seal(key, "in the child", "row");
      const ssize_t written = ::write(fds[1], sealed.data(), 24);
      ::_exit(written == 24 ? 0 : 1);
    }
    ::close(fds[1]);
    const std::string mine = csync::seal(key, "in the parent", "row").substr(0, 24);
    char theirs[24];
    ssize_t got = 0;
    while (got < 24) {
      const ssize_t n = ::read(fds[0], theirs + got, static_cast<std::size_t>(24 - got));
      if (n <= 0) break;
      got += n;
    }
    ::close(fds[0]);
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    QCOMPARE(got, ssize_t{24});
    QVERIFY(mine != std::string(theirs, 24));
  }

  void everyBitFlipIsRejected() {
    const SecretKey key = SecretKey::random();
    const std::string ad = "patients/42/notes/7";
    const std::string sealed = csync::seal(key, "K+ 4.1", ad);
    QVERIFY(csync::open(key, sealed, ad).isOk());  // the control: untouched bytes open
    for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {
      const Result<std::string> r = csync::open(key, flipBit(sealed, bit), ad);
      QVERIFY2(hasCode(r, Status::Code::kCorruption), qPrintable(QString("bit %1: %2").arg(bit).arg(describe(r))));
    }
    for (std::size_t bit = 0; bit < ad.size() * 8; ++bit) {
      const Result<std::string> r = csync::open(key, sealed, flipBit(ad, bit));
      QVERIFY2(hasCode(r, Status::Code::kCorruption),
               qPrintable(QString("associated data bit %1: %2").arg(bit).arg(describe(r))));
    }
  }

  void wrongKeyIsRejected() {
    const SecretKey key = SecretKey::random();
    const SecretKey other = SecretKey::random();
    const std::string sealed = csync::seal(key, "allergy: penicillin", "patients/1");
    const Result<std::string> r = csync::open(other, sealed, "patients/1");
    QVERIFY2(hasCode(r, Status::Code::kCorruption), qPrintable(describe(r)));
    QVERIFY(r.status().message().find("authentication failed") != std::string::npos);
  }

  void wrongAssociatedDataIsRejected() {
    const SecretKey key = SecretKey::random();
    const std::string sealed = csync::seal(key, "allergy: penicillin", "patients/1");
    for (const std::string_view ad : {"patients/2", "patients/1 ", "patients/", "", "notes/1"}) {
      const Result<std::string> r = csync::open(key, sealed, ad);
      QVERIFY2(hasCode(r, Status::Code::kCorruption), qPrintable(describe(r)));
    }
    const std::string unbound = csync::seal(key, "x", "");
    QVERIFY(csync::open(key, unbound, "").isOk());
    QVERIFY(hasCode(csync::open(key, unbound, std::string(1, '\0')), Status::Code::kCorruption));
  }

  void truncatedOrExtendedInputIsRejected() {
    const SecretKey key = SecretKey::random();
    const std::string sealed = csync::seal(key, "temperature 38.2", "vitals/3");
    for (std::size_t n = 0; n < sealed.size(); ++n) {
      const Result<std::string> r = csync::open(key, sealed.substr(0, n), "vitals/3");
      QVERIFY2(hasCode(r, Status::Code::kCorruption), qPrintable(QString("%1 bytes: %2").arg(n).arg(describe(r))));
      QVERIFY(r.status().message().find("authentication failed") != std::string::npos);
    }
    QVERIFY(hasCode(csync::open(key, sealed + '\0', "vitals/3"), Status::Code::kCorruption));
    QVERIFY(hasCode(csync::open(key, sealed.substr(1), "vitals/3"), Status::Code::kCorruption));
  }

  void openWithEmptyKeyIsAnError() {
    const SecretKey key = SecretKey::random();
    const std::string sealed = csync::seal(key, "x", "y");
    const SecretKey empty;
    QVERIFY(hasCode(csync::open(empty, sealed, "y"), Status::Code::kInvalidArgument));
    QVERIFY(hasCode(csync::unwrapKey(empty, sealed, "y"), Status::Code::kInvalidArgument));
  }

  // --- wrapKey / unwrapKey ---------------------------------------------------

  void wrapUnwrapKey() {
    const SecretKey kek = SecretKey::random();
    const SecretKey dataKey = SecretKey::random();
    const std::string wrapped = csync::wrapKey(kek, dataKey, "device 9");
    QCOMPARE(wrapped.size(), SecretKey::kBytes + csync::kSealOverheadBytes);
    QVERIFY(wrapped.find(bytesOf(dataKey)) == std::string::npos);

    const Result<SecretKey> back = csync::unwrapKey(kek, wrapped, "device 9");
    QVERIFY2(back.isOk(), qPrintable(describe(back)));
    QVERIFY(bytesOf(back.value()) == bytesOf(dataKey));
    QVERIFY(back.value().data() != dataKey.data());

    QVERIFY(hasCode(csync::unwrapKey(SecretKey::random(), wrapped, "device 9"), Status::Code::kCorruption));
    QVERIFY(hasCode(csync::unwrapKey(kek, wrapped, "device 8"), Status::Code::kCorruption));
    QVERIFY(
        hasCode(csync::unwrapKey(kek, wrapped.substr(0, wrapped.size() - 1), "device 9"), Status::Code::kCorruption));
    QVERIFY(hasCode(csync::unwrapKey(kek, flipBit(wrapped, 200), "device 9"), Status::Code::kCorruption));
    // Authentic bytes of the wrong length are not a key.
    QVERIFY(hasCode(csync::unwrapKey(kek, csync::seal(kek, std::string(16, 'k'), "device 9"), "device 9"),
                    Status::Code::kCorruption));
    QVERIFY(hasCode(csync::unwrapKey(kek, csync::seal(kek, std::string(33, 'k'), "device 9"), "device 9"),
                    Status::Code::kCorruption));
    // A wrapped key is a sealed blob: open() sees the raw key bytes.
    const Result<std::string> raw = csync::open(kek, wrapped, "device 9");
    QVERIFY(raw.isOk());
    QVERIFY(raw.value() == bytesOf(dataKey));
  }

  // --- SecretKey -------------------------------------------------------------

  void secretKeyBasics() {
    const SecretKey empty;
    QVERIFY(empty.empty());
    QVERIFY(empty.clone().empty());

    const SecretKey a = SecretKey::random();
    const SecretKey b = SecretKey::random();
    QVERIFY(!a.empty());
    QVERIFY(!b.empty());
    QVERIFY(bytesOf(a) != bytesOf(b));
    QVERIFY(bytesOf(a) != std::string(SecretKey::kBytes, '\0'));
  }

  void secretKeyClone() {
    const SecretKey original = SecretKey::random();
    const std::string bytes = bytesOf(original);
    SecretKey copy = original.clone();
    QVERIFY(!copy.empty());
    QVERIFY(copy.data() != original.data());
    QVERIFY(bytesOf(copy) == bytes);
    copy.wipe();
    QVERIFY(copy.empty());
    QVERIFY(!original.empty());
    QVERIFY(bytesOf(original) == bytes);
  }

  void secretKeyWipe() {
    SecretKey key = SecretKey::random();
    key.wipe();
    QVERIFY(key.empty());
    key.wipe();  // a second wipe is harmless
    QVERIFY(key.empty());
  }

  void secretKeyMove() {
    SecretKey source = SecretKey::random();
    const std::string bytes = bytesOf(source);
    const unsigned char* memory = source.data();

    SecretKey moved(std::move(source));
    QVERIFY(source.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    QVERIFY(moved.data() == memory);
    QVERIFY(bytesOf(moved) == bytes);

    SecretKey target = SecretKey::random();
    QVERIFY(bytesOf(target) != bytes);
    target = std::move(moved);
    QVERIFY(moved.empty());  // NOLINT(bugprone-use-after-move)
    QVERIFY(bytesOf(target) == bytes);

    SecretKey nothing;
    target = std::move(nothing);
    QVERIFY(target.empty());

    // A key sealed with before the moves still opens with the moved key.
    SecretKey k1 = SecretKey::random();
    const std::string sealed = csync::seal(k1, "p", "a");
    SecretKey k2 = std::move(k1);
    QVERIFY(csync::open(k2, sealed, "a").isOk());
  }

  void fromBytesChecksSize() {
    for (const std::size_t n :
         {std::size_t{0}, std::size_t{1}, std::size_t{16}, std::size_t{31}, std::size_t{33}, std::size_t{64}}) {
      const Result<SecretKey> r = SecretKey::fromBytes(std::string(n, 'k'));
      QVERIFY2(hasCode(r, Status::Code::kInvalidArgument), qPrintable(QString("%1 bytes").arg(n)));
    }
    const std::string raw = csync::randomBytes(SecretKey::kBytes);
    const Result<SecretKey> r = SecretKey::fromBytes(raw);
    QVERIFY2(r.isOk(), qPrintable(describe(r)));
    QVERIFY(bytesOf(r.value()) == raw);
  }

  // --- deriveKey (Argon2id) --------------------------------------------------

  void deriveKeyKnownAnswer() {
    // Argon2id v1.3, t = 5, m = 1024 KiB, p = 1, 32-byte output, as the
    // reference argon2 command-line tool computes it.
    PwhashParams params;
    params.opsLimit = 5;
    params.memLimitBytes = 1024 * 1024;
    params.salt = "ABCDEFGHIJKLMNOP";
    const Result<SecretKey> key = csync::deriveKey("123", params);
    QVERIFY2(key.isOk(), qPrintable(describe(key)));
    QCOMPARE(QByteArray::fromStdString(csync::toHex(bytesOf(key.value()))),
             QByteArray("3c5d010180ba0cf5b6b858cba23b318e42d33088983c404598599c3b029ecac6"));
  }

  void deriveKeyIsDeterministic() {
    const PwhashParams params = PwhashParams::minimumForTests();
    const Result<SecretKey> a = csync::deriveKey("correct horse battery", params);
    const Result<SecretKey> b = csync::deriveKey("correct horse battery", params);
    QVERIFY(a.isOk());
    QVERIFY(b.isOk());
    QVERIFY(bytesOf(a.value()) == bytesOf(b.value()));
    QVERIFY(a.value().data() != b.value().data());

    PwhashParams otherSalt = params;
    otherSalt.salt = csync::randomBytes(16);
    QVERIFY(otherSalt.salt != params.salt);
    const Result<SecretKey> c = csync::deriveKey("correct horse battery", otherSalt);
    QVERIFY(c.isOk());
    QVERIFY(bytesOf(c.value()) != bytesOf(a.value()));

    const Result<SecretKey> d = csync::deriveKey("correct horse batterY", params);
    QVERIFY(d.isOk());
    QVERIFY(bytesOf(d.value()) != bytesOf(a.value()));

    PwhashParams moreOps = params;
    moreOps.opsLimit += 1;
    const Result<SecretKey> e = csync::deriveKey("correct horse battery", moreOps);
    QVERIFY(e.isOk());
    QVERIFY(bytesOf(e.value()) != bytesOf(a.value()));

    PwhashParams moreMemory = params;
    moreMemory.memLimitBytes *= 2;
    const Result<SecretKey> f = csync::deriveKey("correct horse battery", moreMemory);
    QVERIFY(f.isOk());
    QVERIFY(bytesOf(f.value()) != bytesOf(a.value()));
  }

  void deriveKeyValidatesParameters() {
    const PwhashParams good = PwhashParams::minimumForTests();
    QVERIFY(csync::deriveKey("passphrase", good).isOk());

    struct Case {
      const char* what;
      std::string passphrase;
      PwhashParams params;
    };
    std::vector<Case> cases;
    cases.push_back({"empty passphrase", "", good});
    PwhashParams p = good;
    p.salt = std::string(15, 's');
    cases.push_back({"15-byte salt", "passphrase", p});
    p.salt = std::string(17, 's');
    cases.push_back({"17-byte salt", "passphrase", p});
    p.salt.clear();
    cases.push_back({"no salt", "passphrase", p});
    p = good;
    p.opsLimit = 0;
    cases.push_back({"opslimit 0", "passphrase", p});
    p.opsLimit = std::uint64_t{1} << 32;
    cases.push_back({"opslimit 2^32", "passphrase", p});
    p.opsLimit = UINT64_MAX;
    cases.push_back({"opslimit max", "passphrase", p});
    p = good;
    p.memLimitBytes = 0;
    cases.push_back({"memlimit 0", "passphrase", p});
    p.memLimitBytes = good.memLimitBytes - 1;
    cases.push_back({"memlimit below minimum", "passphrase", p});
    p.memLimitBytes = UINT64_MAX;
    cases.push_back({"memlimit max", "passphrase", p});
    p.memLimitBytes = std::uint64_t{1} << 62;
    cases.push_back({"memlimit 2^62", "passphrase", p});
    p.memLimitBytes = good.memLimitBytes + 1;
    cases.push_back({"memlimit not whole KiB", "passphrase", p});
    p.memLimitBytes = good.memLimitBytes + 1023;
    cases.push_back({"memlimit 1023 bytes over", "passphrase", p});

    for (const Case& c : cases) {
      const Result<SecretKey> r = csync::deriveKey(c.passphrase, c.params);
      QVERIFY2(hasCode(r, Status::Code::kInvalidArgument), qPrintable(QString("%1: %2").arg(c.what).arg(describe(r))));
    }
  }

  void pwhashPresets() {
    const PwhashParams moderate = PwhashParams::moderate();
    const PwhashParams interactive = PwhashParams::interactive();
    const PwhashParams minimum = PwhashParams::minimumForTests();
    QCOMPARE(moderate.memLimitBytes, std::uint64_t{256} * 1024 * 1024);
    QCOMPARE(interactive.memLimitBytes, std::uint64_t{64} * 1024 * 1024);
    QVERIFY(minimum.memLimitBytes < interactive.memLimitBytes);
    QVERIFY(minimum.opsLimit >= 1);
    QVERIFY(minimum.opsLimit <= interactive.opsLimit);
    QVERIFY(interactive.opsLimit <= moderate.opsLimit);
    for (const PwhashParams* p : {&moderate, &interactive, &minimum}) QCOMPARE(p->salt.size(), std::size_t{16});
    QVERIFY(moderate.salt != interactive.salt);
    QVERIFY(interactive.salt != minimum.salt);
    QVERIFY(PwhashParams::minimumForTests().salt != minimum.salt);
  }

  // --- random ----------------------------------------------------------------

  void randomBytesSizes() {
    QVERIFY(csync::randomBytes(0).empty());
    QCOMPARE(csync::randomBytes(1).size(), std::size_t{1});
    QCOMPARE(csync::randomBytes(1000).size(), std::size_t{1000});
    QVERIFY(csync::randomBytes(32) != csync::randomBytes(32));
  }

  void randomBelowSmallBounds() {
    for (int i = 0; i < 100; ++i) QCOMPARE(csync::randomBelow(1), std::uint64_t{0});
    std::vector<int> seen(7, 0);
    for (int i = 0; i < 2000; ++i) {
      const std::uint64_t v = csync::randomBelow(7);
      QVERIFY(v < 7);
      ++seen[v];
    }
    for (int count : seen) QVERIFY(count > 0);
    for (int i = 0; i < 1000; ++i) QVERIFY(csync::randomBelow(UINT32_MAX) < UINT32_MAX);
  }

  void randomBelowLargeBounds() {
    // Above 2^32 every bit of the result must be reachable.
    const std::uint64_t twoTo33 = std::uint64_t{1} << 33;
    bool above32 = false;
    for (int i = 0; i < 200; ++i) {
      const std::uint64_t v = csync::randomBelow(twoTo33);
      QVERIFY(v < twoTo33);
      above32 = above32 || v >= (std::uint64_t{1} << 32);
    }
    QVERIFY(above32);

    bool topBit = false;
    for (int i = 0; i < 200; ++i) topBit = topBit || csync::randomBelow(UINT64_MAX) >= (std::uint64_t{1} << 63);
    QVERIFY(topBit);

    const std::uint64_t justAbove = (std::uint64_t{1} << 63) + 1;
    for (int i = 0; i < 1000; ++i) QVERIFY(csync::randomBelow(justAbove) < justAbove);
    for (int i = 0; i < 1000; ++i) QVERIFY(csync::randomBelow(std::uint64_t{1} << 32) < (std::uint64_t{1} << 32));
  }

  void randomBelowHasNoModuloBias() {
    // bound = 3 * 2^62: uniform draws land in [2^63, bound) a third of the
    // time; a plain `r % bound` would land there a quarter of the time.
    const std::uint64_t bound = std::uint64_t{3} << 62;
    constexpr int kDraws = 6000;
    int high = 0;
    for (int i = 0; i < kDraws; ++i) {
      const std::uint64_t v = csync::randomBelow(bound);
      QVERIFY(v < bound);
      if (v >= (std::uint64_t{1} << 63)) ++high;
    }
    // Expected 2000 (sd about 37) with rejection sampling, 1500 with bias.
    QVERIFY2(high > 1800 && high < 2200, qPrintable(QString("%1 of %2 in the top third").arg(high).arg(kDraws)));
  }

  // --- hashing and helpers ---------------------------------------------------

  void genericHashKnownAnswers() {
    // RFC 7693 appendix A: BLAKE2b-512("abc").
    QCOMPARE(QByteArray::fromStdString(csync::toHex(csync::genericHash("abc", 64))),
             QByteArray("ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                        "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"));
    // BLAKE2b-256 of the empty string.
    QCOMPARE(QByteArray::fromStdString(csync::toHex(csync::genericHash(""))),
             QByteArray("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"));
    QCOMPARE(csync::genericHash("x", 16).size(), std::size_t{16});
    QVERIFY(csync::genericHash("x", 16) != csync::genericHash("x", 32).substr(0, 16));
  }

  void keyedHash() {
    const SecretKey key = SecretKey::random();
    const std::string h = csync::keyedHash(key, "replica label");
    QCOMPARE(h.size(), std::size_t{32});
    QVERIFY(h == csync::keyedHash(key, "replica label"));
    QVERIFY(h == csync::keyedHash(key.clone(), "replica label"));
    QVERIFY(h != csync::keyedHash(key, "replica labeL"));
    QVERIFY(h != csync::keyedHash(SecretKey::random(), "replica label"));
    QVERIFY(h != csync::genericHash("replica label"));
  }

  void toHex() {
    QCOMPARE(QByteArray::fromStdString(csync::toHex("")), QByteArray(""));
    QCOMPARE(QByteArray::fromStdString(csync::toHex(std::string("\x00\x01\xab\xff\x7f", 5))), QByteArray("0001abff7f"));
  }

  void wipeString() {
    std::string shortSecret = "pin 1234";
    csync::wipeString(shortSecret);
    QVERIFY(shortSecret == std::string(8, '\0'));

    std::string longSecret(1000, 'p');
    csync::wipeString(longSecret);
    QCOMPARE(longSecret.size(), std::size_t{1000});
    QVERIFY(longSecret == std::string(1000, '\0'));

    std::string empty;
    csync::wipeString(empty);
    QVERIFY(empty.empty());
  }
};

QTEST_APPLESS_MAIN(CryptoTest)
#include "crypto_test.moc"
