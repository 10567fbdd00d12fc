// The tablet's encrypted attachment files on real SQLite files with real
// libsodium: round trips of multi-chunk blobs, dedupe, what a damaged, cut
// or swapped file does, purge, a download resumed after a restart, the
// storage budget, and that no plaintext reaches the disk.
#include <dirent.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <set>
#include <sstream>

#include "attachment_bytes.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/attachments.h"
#include "charta/sync/crypto.h"
#include "charta/sync/replica.h"
#include "sync/replica/raw_sqlite.h"

using namespace charta;
using namespace charta::sync;
using charta::testing::rawExec;
using charta::testing::rawScalar;
using crdt::Collection;
using crdt::FieldRef;
using crdt::Value;
using Code = crdt::Status::Code;

using charta::test::jpeg;
using charta::test::png;

namespace {

std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::set<std::string> filesIn(const std::string& folder) {
  std::set<std::string> out;
  DIR* dir = ::opendir(folder.c_str());
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.insert(name);
  }
  ::closedir(dir);
  return out;
}

crdt::Op writeName(crdt::OpFactory& f, const crdt::ChartDocument& doc, const std::string& name) {
  return f.writeField(doc, FieldRef{Collection::kDemographics, {}, crdt::field::kFamilyName}, Value{name});
}

void flipBit(const std::string& path, std::size_t at) {
  std::string bytes = fileBytes(path);
  QVERIFY(at < bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
  writeBytes(path, bytes);
}

}  // namespace

class AttachmentStoreTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  int m_counter = 0;

  std::string newPath() { return m_dir.path().toStdString() + "/replica-" + std::to_string(++m_counter) + ".db"; }
  static std::string folderOf(const std::string& path) { return path + "-attachments"; }

  std::unique_ptr<Replica> make(const std::string& path, std::uint64_t replicaId = 1001) {
    DeviceIdentity id{"http://127.0.0.1:1", "dev-" + std::to_string(replicaId), crdt::ReplicaId{replicaId}, "demo",
                      "epoch-1"};
    auto r = Replica::create(path, id, "device-secret", m_vault, UserInfo{"nurse", "Nurse N.", {}, 0},
                             "correct horse battery");
    if (!r.isOk()) qWarning() << r.status().toString().c_str();
    return r.isOk() ? std::move(r).value() : nullptr;
  }

  std::unique_ptr<Replica> reopen(const std::string& path) {
    auto r = Replica::open(path);
    if (!r.isOk()) {
      qWarning() << r.status().toString().c_str();
      return nullptr;
    }
    if (!r.value()->unlock(m_vault, "nurse", "correct horse battery").isOk()) return nullptr;
    return std::move(r).value();
  }

  static std::string newPatient(Replica& r, const std::string& name) {
    const std::string patient = Replica::newPatientId();
    auto op = r.edit(patient, [&](auto& f, const auto& d) { return writeName(f, d, name); });
    return op.isOk() ? patient : std::string();
  }

 private slots:
  void helpers() {
    QCOMPARE(attachmentChunkCount(1), std::uint64_t{1});
    QCOMPARE(attachmentChunkCount(kAttachmentChunkBytes), std::uint64_t{1});
    QCOMPARE(attachmentChunkCount(kAttachmentChunkBytes + 1), std::uint64_t{2});
    QCOMPARE(attachmentChunkSize(kAttachmentChunkBytes + 5, 1), std::uint64_t{5});
    QVERIFY(hasMediaTypeSignature("image/jpeg", jpeg(10, 1)));
    QVERIFY(hasMediaTypeSignature("image/png", png(10, 1)));
    QVERIFY(hasMediaTypeSignature("application/pdf", "%PDF-1.7\n"));
    QVERIFY(!hasMediaTypeSignature("application/pdf", jpeg(10, 1)));
    QVERIFY(!hasMediaTypeSignature("image/gif", "GIF89a"));
    QVERIFY(isContentHash(sha256Hex("abc")));
    QCOMPARE(sha256Hex("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  }

  void streamsAreChainedAndBound() {
    const SecretKey key = SecretKey::random();
    std::string header;
    StreamSealer sealer = StreamSealer::start(key, &header);
    QCOMPARE(header.size(), kStreamHeaderBytes);
    const std::string m0 = sealer.push("first", "ad0", false);
    const std::string m1 = sealer.push("second", "ad1", false);
    const std::string m2 = sealer.push("last", "ad2", true);
    QCOMPARE(m0.size(), std::size_t{5} + kStreamOverheadBytes);
    auto openAll = [&](const std::vector<std::pair<std::string, std::string>>& messages) {
      auto opener = StreamOpener::start(key, header);
      if (!opener.isOk()) return std::string("bad header");
      std::string out;
      for (const auto& [m, ad] : messages) {
        bool final = false;
        auto r = opener.value().pull(m, ad, &final);
        if (!r.isOk()) return out + "|error";
        out += r.value() + (final ? "!" : ",");
      }
      return out;
    };
    QCOMPARE(openAll({{m0, "ad0"}, {m1, "ad1"}, {m2, "ad2"}}), std::string("first,second,last!"));
    QCOMPARE(openAll({{m1, "ad1"}}), std::string("|error"));                     // dropped
    QCOMPARE(openAll({{m0, "ad0"}, {m0, "ad0"}}), std::string("first,|error"));  // repeated
    QCOMPARE(openAll({{m0, "ad1"}}), std::string("|error"));                     // other associated data
    QCOMPARE(openAll({{m0, "ad0"}, {m1, "ad1"}, {m2, "ad2"}, {m2, "ad2"}}),
             std::string("first,second,last!|error"));  // nothing after the end
    const SecretKey other = SecretKey::random();
    auto wrongKey = StreamOpener::start(other, header);
    QVERIFY(wrongKey.isOk());
    QVERIFY(!wrongKey.value().pull(m0, "ad0", nullptr).isOk());
    QVERIFY(StreamOpener::start(key, header.substr(1)).status().code() == Code::kCorruption);
    Sha256 sha;
    sha.update("a");
    sha.update("bc");
    QCOMPARE(sha.finishHex(), sha256Hex("abc"));
  }

  void roundTripOfAMultiChunkBlob() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string patient = newPatient(*r, "Okafor");
    QVERIFY(!patient.empty());
    const std::string bytes = jpeg(3 * kAttachmentChunkBytes + kAttachmentChunkBytes / 2, 7);  // 3.5 MiB
    auto stored = r->storeAttachment(patient, bytes, AttachmentMeta{"image/jpeg", 1'700'000'000'000, false});
    QVERIFY2(stored.isOk(), stored.status().toString().c_str());
    const AttachmentInfo& info = stored.value();
    QCOMPARE(info.hash, sha256Hex(bytes));
    QCOMPARE(info.size, std::uint64_t{bytes.size()});
    QCOMPARE(info.chunks, std::uint64_t{4});
    QVERIFY(info.complete);
    QVERIFY(info.upload == AttachmentInfo::Upload::kPending);

    auto read = r->readAttachment(patient, info.hash);
    QVERIFY2(read.isOk(), read.status().toString().c_str());
    QVERIFY(read.value() == bytes);

    auto reader = r->openAttachment(patient, info.hash, "");
    QVERIFY(reader.isOk());
    std::string joined;
    int chunks = 0;
    for (;;) {
      auto chunk = reader.value()->next();
      QVERIFY2(chunk.isOk(), chunk.status().toString().c_str());
      if (!chunk.value()) break;
      QCOMPARE(chunk.value()->size(), std::size_t(attachmentChunkSize(bytes.size(), std::uint64_t(chunks))));
      joined += *chunk.value();
      ++chunks;
    }
    QCOMPARE(chunks, 4);
    QVERIFY(joined == bytes);

    // Reads for a person are audited; the engine's reads (no purpose) are not.
    auto events = r->pendingAudit(1000);
    QVERIFY(events.isOk());
    const std::vector<DeviceAuditEvent> list = events.value();
    int reads = 0;
    for (const auto& e : list) reads += e.action == "attachment.read" ? 1 : 0;
    QCOMPARE(reads, 1);

    // Persisted: the same after reopening.
    r.reset();
    auto again = reopen(path);
    QVERIFY(again);
    auto state = again->attachmentState(patient, info.hash);
    QVERIFY(state.isOk() && state.value() && state.value()->complete);
    QCOMPARE(state.value()->mediaType, std::string("image/jpeg"));
    QCOMPARE(state.value()->takenAtMs, std::int64_t{1'700'000'000'000});
    QVERIFY(again->readAttachment(patient, info.hash).value() == bytes);
    QVERIFY(again->attachmentsToUpload().value().size() == 1);
    QVERIFY(again->markAttachmentUploaded(patient, info.hash).isOk());
    QVERIFY(again->attachmentsToUpload().value().empty());
    QCOMPARE(again->attachmentCounts().toUpload, std::uint64_t{0});
  }

  void refusesWhatIsNotAnAttachment() {
    auto r = make(newPath());
    QVERIFY(r);
    const std::string patient = newPatient(*r, "Novak");
    QVERIFY(r->storeAttachment(patient, "", {"image/jpeg", 0, false}).status().code() == Code::kInvalidArgument);
    QVERIFY(r->storeAttachment(patient, jpeg(100, 1), {"image/gif", 0, false}).status().code() ==
            Code::kInvalidArgument);
    QVERIFY(r->storeAttachment(patient, jpeg(100, 1), {"application/pdf", 0, false}).status().code() ==
            Code::kInvalidArgument);
    QVERIFY(r->storeAttachment("p-unknown", jpeg(100, 1), {"image/jpeg", 0, false}).status().code() == Code::kNotFound);
    QVERIFY(r->readAttachment(patient, sha256Hex("nothing")).status().code() == Code::kNotFound);
    QVERIFY(r->readAttachment(patient, "not-a-hash").status().code() == Code::kInvalidArgument);
    r->lock();
    QVERIFY(r->storeAttachment(patient, jpeg(100, 1), {"image/jpeg", 0, false}).status().code() == Code::kRejected);
  }

  void theSameBytesAreStoredOncePerPatient() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string a = newPatient(*r, "Silva");
    const std::string b = newPatient(*r, "Haddad");
    const std::string bytes = jpeg(kAttachmentChunkBytes + 10, 3);
    auto first = r->storeAttachment(a, bytes, {"image/jpeg", 1, false});
    auto second = r->storeAttachment(a, bytes, {"image/jpeg", 2, false});
    QVERIFY(first.isOk() && second.isOk());
    QCOMPARE(first.value().hash, second.value().hash);
    QCOMPARE(filesIn(folderOf(path)).size(), std::size_t{1});
    QCOMPARE(r->attachmentCounts().complete, std::uint64_t{1});
    QCOMPARE(r->attachments(a).value().size(), std::size_t{1});
    // Another patient: its own copy under its own key and name.
    QVERIFY(r->storeAttachment(b, bytes, {"image/jpeg", 1, false}).isOk());
    QCOMPARE(filesIn(folderOf(path)).size(), std::size_t{2});
    // File names reveal no content hash.
    for (const std::string& f : filesIn(folderOf(path))) QVERIFY(f != first.value().hash);
    QCOMPARE(r->attachments().value().size(), std::size_t{2});
  }

  void aFlippedBitIsAnErrorNeverPlaintext() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string patient = newPatient(*r, "Lindqvist");
    const std::string bytes = jpeg(3 * kAttachmentChunkBytes + 1000, 11);
    auto stored = r->storeAttachment(patient, bytes, {"image/jpeg", 0, false});
    QVERIFY(stored.isOk());
    const std::string hash = stored.value().hash;
    const std::string file = folderOf(path) + "/" + *filesIn(folderOf(path)).begin();
    const std::string original = fileBytes(file);
    // A bit in the third chunk: the first two still come out of a chunk
    // reader, the third is an error, and a whole read gives nothing.
    const std::size_t third = 13 + 24 + 2 * (kAttachmentChunkBytes + 17) + 500;
    flipBit(file, third);
    auto whole = r->readAttachment(patient, hash);
    QVERIFY(whole.status().code() == Code::kCorruption);
    auto reader = r->openAttachment(patient, hash, "");
    QVERIFY(reader.isOk());
    QVERIFY(reader.value()->next().isOk());
    QVERIFY(reader.value()->next().isOk());
    auto bad = reader.value()->next();
    QVERIFY(!bad.isOk() && bad.status().code() == Code::kCorruption);
    QVERIFY(!reader.value()->next().isOk());  // stays failed
    // A bit in the last chunk: the last chunk is never handed out.
    writeBytes(file, original);
    flipBit(file, original.size() - 3);
    reader = r->openAttachment(patient, hash, "");
    QVERIFY(reader.isOk());
    for (int i = 0; i < 3; ++i) QVERIFY(reader.value()->next().isOk());
    QVERIFY(!reader.value()->next().isOk());
    // A bit in the stream header or the magic.
    writeBytes(file, original);
    flipBit(file, 20);
    QVERIFY(r->readAttachment(patient, hash).status().code() == Code::kCorruption);
    writeBytes(file, original);
    flipBit(file, 2);
    QVERIFY(r->readAttachment(patient, hash).status().code() == Code::kCorruption);
    writeBytes(file, original);
    QVERIFY(r->readAttachment(patient, hash).value() == bytes);
    // Every failure was audited.
    int tamper = 0;
    auto audited = r->pendingAudit(1000);
    QVERIFY(audited.isOk());
    const std::vector<DeviceAuditEvent> all = audited.value();
    for (const auto& e : all) tamper += e.action == "replica.tamper_detected" ? 1 : 0;
    QVERIFY(tamper >= 3);  // whole reads and opens (a chunk reader reports to its caller)
  }

  void aCutOrExtendedFileIsAnError() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string patient = newPatient(*r, "Moreau");
    const std::string bytes = jpeg(2 * kAttachmentChunkBytes, 5);  // exactly two full chunks
    auto stored = r->storeAttachment(patient, bytes, {"image/jpeg", 0, false});
    QVERIFY(stored.isOk());
    const std::string hash = stored.value().hash;
    const std::string file = folderOf(path) + "/" + *filesIn(folderOf(path)).begin();
    const std::string original = fileBytes(file);
    // One byte short, one whole chunk short (the stream then lacks its
    // final tag), one byte more.
    for (const std::string& changed :
         {original.substr(0, original.size() - 1), original.substr(0, original.size() - (kAttachmentChunkBytes + 17)),
          original + "x", original.substr(0, 13 + 24)}) {
      writeBytes(file, changed);
      auto read = r->readAttachment(patient, hash);
      QVERIFY(!read.isOk());
      QVERIFY(read.status().code() == Code::kCorruption);
    }
    ::unlink(file.c_str());
    QVERIFY(r->readAttachment(patient, hash).status().code() == Code::kCorruption);
    writeBytes(file, original);
    QVERIFY(r->readAttachment(patient, hash).value() == bytes);
  }

  void aFileSwappedBetweenPatientsOrHashesIsAnError() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string a = newPatient(*r, "Tanaka");
    const std::string b = newPatient(*r, "Okafor");
    const std::string folder = folderOf(path);
    // Same size everywhere, so only the cryptography can tell them apart.
    const std::string bytesA = jpeg(kAttachmentChunkBytes + 77, 21);
    const std::string bytesA2 = jpeg(kAttachmentChunkBytes + 77, 22);
    const std::string bytesB = jpeg(kAttachmentChunkBytes + 77, 23);
    auto storeAndName = [&](const std::string& patient, const std::string& bytes, std::string& hash) {
      const std::set<std::string> before = filesIn(folder);
      auto stored = r->storeAttachment(patient, bytes, {"image/jpeg", 0, false});
      hash = stored.isOk() ? stored.value().hash : std::string();
      for (const std::string& f : filesIn(folder)) {
        if (!before.count(f)) return folder + "/" + f;
      }
      return std::string();
    };
    std::string hashA, hashA2, hashB;
    const std::string fileA = storeAndName(a, bytesA, hashA);
    const std::string fileA2 = storeAndName(a, bytesA2, hashA2);
    const std::string fileB = storeAndName(b, bytesB, hashB);
    QVERIFY(!fileA.empty() && !fileA2.empty() && !fileB.empty());
    const std::string originalB = fileBytes(fileB);
    const std::string originalA2 = fileBytes(fileA2);
    // Patient A's file in place of patient B's.
    writeBytes(fileB, fileBytes(fileA));
    QVERIFY(r->readAttachment(b, hashB).status().code() == Code::kCorruption);
    // Another blob of the same patient in its place.
    writeBytes(fileA2, fileBytes(fileA));
    QVERIFY(r->readAttachment(a, hashA2).status().code() == Code::kCorruption);
    // The sealed rows swapped between two blobs do not open either.
    rawExec(path, "UPDATE attachments SET sealed = (SELECT sealed FROM attachments WHERE patient = '" + b +
                      "') WHERE patient = '" + a + "' AND name = '" + fileA.substr(folder.size() + 1) + "'");
    QVERIFY(r->readAttachment(a, hashA).status().code() == Code::kCorruption);
    writeBytes(fileB, originalB);
    writeBytes(fileA2, originalA2);
    QVERIFY(r->readAttachment(b, hashB).value() == bytesB);
    QVERIFY(r->readAttachment(a, hashA2).value() == bytesA2);
  }

  void purgingAPatientRemovesItsBlobs() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string gone = newPatient(*r, "Gone");
    const std::string kept = newPatient(*r, "Kept");
    auto g = r->storeAttachment(gone, jpeg(kAttachmentChunkBytes * 2 + 3, 31), {"image/jpeg", 0, false});
    auto k = r->storeAttachment(kept, jpeg(1000, 32), {"image/jpeg", 0, false});
    QVERIFY(g.isOk() && k.isOk());
    // A download under way too.
    const std::string partial = jpeg(3 * kAttachmentChunkBytes, 33);
    QVERIFY(r->beginAttachmentDownload(gone, sha256Hex(partial), partial.size(), {"image/jpeg", 0, false}).isOk());
    QVERIFY(r->putAttachmentChunk(gone, sha256Hex(partial), 0, partial.substr(0, kAttachmentChunkBytes), {}).isOk());
    QCOMPARE(filesIn(folderOf(path)).size(), std::size_t{3});
    QVERIFY(r->purgePatient(gone).isOk());
    QCOMPARE(filesIn(folderOf(path)).size(), std::size_t{1});
    QVERIFY(r->readAttachment(gone, g.value().hash).status().code() == Code::kNotFound);
    QVERIFY(rawScalar(path, "SELECT COUNT(*) FROM attachments WHERE patient = '" + gone + "'") == "0");
    QVERIFY(r->readAttachment(kept, k.value().hash).isOk());
    // A purge by the server (a pulled page) does the same.
    PullPage page;
    page.purge = {kept};
    page.next = 1;
    QVERIFY(r->applyPulled(page).isOk());
    QVERIFY(filesIn(folderOf(path)).empty());
    // The remote wipe and destroy() leave nothing.
    const std::string other = newPatient(*r, "Other");
    QVERIFY(r->storeAttachment(other, jpeg(500, 34), {"image/jpeg", 0, false}).isOk());
    QVERIFY(r->eraseEverything().isOk());
    QVERIFY(filesIn(folderOf(path)).empty());
    r.reset();
    QVERIFY(Replica::destroy(path).isOk());
    QVERIFY(::access(folderOf(path).c_str(), F_OK) != 0);
  }

  void aDownloadResumesAfterARestart() {
    const std::string path = newPath();
    const std::string bytes = jpeg(4 * kAttachmentChunkBytes + 12345, 41);  // 5 chunks
    const std::string hash = sha256Hex(bytes);
    std::vector<std::string> chunkHashes;
    for (std::uint64_t i = 0; i < attachmentChunkCount(bytes.size()); ++i) {
      chunkHashes.push_back(sha256Hex(bytes.substr(i * kAttachmentChunkBytes, kAttachmentChunkBytes)));
    }
    auto chunk = [&](std::uint64_t i) { return bytes.substr(i * kAttachmentChunkBytes, kAttachmentChunkBytes); };
    const AttachmentMeta meta{"image/jpeg", 5, false};
    std::string patient;
    {
      auto r = make(path);
      QVERIFY(r);
      patient = newPatient(*r, "Resume");
      auto begun = r->beginAttachmentDownload(patient, hash, bytes.size(), meta);
      QVERIFY2(begun.isOk(), begun.status().toString().c_str());
      QCOMPARE(begun.value(), std::uint64_t{0});
      // A chunk that does not match the server's hash, or out of order, is refused.
      QVERIFY(r->putAttachmentChunk(patient, hash, 0, chunk(1), chunkHashes[0]).status().code() == Code::kCorruption);
      QVERIFY(r->putAttachmentChunk(patient, hash, 1, chunk(1), chunkHashes[1]).status().code() ==
              Code::kInvalidArgument);
      QVERIFY(r->putAttachmentChunk(patient, hash, 0, chunk(0), chunkHashes[0]).isOk());
      QVERIFY(r->putAttachmentChunk(patient, hash, 1, chunk(1), chunkHashes[1]).isOk());
      QVERIFY(r->putAttachmentChunk(patient, hash, 2, chunk(2), chunkHashes[2]).isOk());
      auto state = r->attachmentState(patient, hash);
      QVERIFY(state.isOk() && state.value() && !state.value()->complete);
      QCOMPARE(state.value()->chunksHeld, std::uint64_t{3});
      QVERIFY(r->readAttachment(patient, hash).status().code() == Code::kNotFound);
      // Locking forgets the stream state; the next call rebuilds it.
      r->lock();
      QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
      QCOMPARE(r->beginAttachmentDownload(patient, hash, bytes.size(), meta).value(), std::uint64_t{3});
    }
    {
      // A restart: the process is gone, the chunks stay.
      auto r = reopen(path);
      QVERIFY(r);
      auto begun = r->beginAttachmentDownload(patient, hash, bytes.size(), meta);
      QVERIFY2(begun.isOk(), begun.status().toString().c_str());
      QCOMPARE(begun.value(), std::uint64_t{3});
      QVERIFY(r->putAttachmentChunk(patient, hash, 3, chunk(3), chunkHashes[3]).isOk());
    }
    {
      // The .part file lost its last chunk in a crash (the row counted it):
      // resume from what checks out.
      const std::set<std::string> files = filesIn(folderOf(path));
      QCOMPARE(files.size(), std::size_t{1});
      const std::string part = folderOf(path) + "/" + *files.begin();
      QVERIFY(part.size() > 5 && part.substr(part.size() - 5) == ".part");
      const std::string held = fileBytes(part);
      writeBytes(part, held.substr(0, held.size() - 100));
      auto r = reopen(path);
      QVERIFY(r);
      QCOMPARE(r->beginAttachmentDownload(patient, hash, bytes.size(), meta).value(), std::uint64_t{3});
      QVERIFY(r->putAttachmentChunk(patient, hash, 3, chunk(3), chunkHashes[3]).isOk());
      auto done = r->putAttachmentChunk(patient, hash, 4, chunk(4), chunkHashes[4]);
      QVERIFY2(done.isOk(), done.status().toString().c_str());
      QVERIFY(done.value());
      QVERIFY(r->readAttachment(patient, hash).value() == bytes);
      auto state = r->attachmentState(patient, hash);
      QVERIFY(state.value()->complete && state.value()->upload == AttachmentInfo::Upload::kNone);
      QCOMPARE(r->beginAttachmentDownload(patient, hash, bytes.size(), meta).value(), std::uint64_t{5});
      QCOMPARE(filesIn(folderOf(path)).size(), std::size_t{1});
    }
  }

  void aDownloadWhoseWholeDoesNotMatchStartsOver() {
    auto r = make(newPath());
    QVERIFY(r);
    const std::string patient = newPatient(*r, "Mismatch");
    const std::string bytes = jpeg(kAttachmentChunkBytes + 10, 51);
    const std::string claimed = sha256Hex("something else");
    QVERIFY(r->beginAttachmentDownload(patient, claimed, bytes.size(), {"image/jpeg", 0, false}).isOk());
    QVERIFY(r->putAttachmentChunk(patient, claimed, 0, bytes.substr(0, kAttachmentChunkBytes), {}).isOk());
    auto last = r->putAttachmentChunk(patient, claimed, 1, bytes.substr(kAttachmentChunkBytes), {});
    QVERIFY(last.status().code() == Code::kCorruption);
    auto state = r->attachmentState(patient, claimed);
    QVERIFY(state.isOk() && !state.value());
    QCOMPARE(r->attachmentCounts().partial, std::uint64_t{0});
  }

  void evictionKeepsThumbnailsAndEvictsTheOldestOriginals() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string patient = newPatient(*r, "Budget");
    QCOMPARE(r->attachmentBudget(), kDefaultAttachmentBudgetBytes);
    std::vector<std::string> originals;
    for (int i = 0; i < 4; ++i) {
      // Taken on days 3, 1, 4, 2: the oldest are the second and the fourth.
      const std::int64_t takenAt = std::int64_t{86'400'000} * std::int64_t{i == 0 ? 3 : i == 1 ? 1 : i == 2 ? 4 : 2};
      auto stored = r->storeAttachment(patient, jpeg(kAttachmentChunkBytes, 60 + std::uint64_t(i)),
                                       {"image/jpeg", takenAt, false});
      QVERIFY(stored.isOk());
      QVERIFY(r->markAttachmentUploaded(patient, stored.value().hash).isOk());
      originals.push_back(stored.value().hash);
    }
    std::vector<std::string> thumbnails;
    for (int i = 0; i < 2; ++i) {
      auto stored = r->storeAttachment(patient, png(20'000, 70 + std::uint64_t(i)), {"image/png", 0, true});
      QVERIFY(stored.isOk());
      QVERIFY(r->markAttachmentUploaded(patient, stored.value().hash).isOk());
      thumbnails.push_back(stored.value().hash);
    }
    // Not on the server yet: never evicted, however old.
    auto pending = r->storeAttachment(patient, jpeg(kAttachmentChunkBytes, 80), {"image/jpeg", 1, false});
    QVERIFY(pending.isOk());
    QCOMPARE(r->evictAttachments().value(), std::size_t{0});  // within the default budget
    // Room for the thumbnails, the pending one and two originals.
    const std::uint64_t total = r->attachmentCounts().fileBytes;
    QVERIFY(r->setAttachmentBudget(total - 2 * kAttachmentChunkBytes).isOk());
    QCOMPARE(r->attachmentBudget(), total - 2 * kAttachmentChunkBytes);
    auto evicted = r->evictAttachments();
    QVERIFY2(evicted.isOk(), evicted.status().toString().c_str());
    QCOMPARE(evicted.value(), std::size_t{2});
    QVERIFY(r->attachmentCounts().fileBytes <= r->attachmentBudget());
    auto held = [&](const std::string& hash) {
      auto s = r->attachmentState(patient, hash);
      return s.isOk() && s.value() && s.value()->complete;
    };
    QVERIFY(held(originals[0]) && held(originals[2]));
    QVERIFY(!held(originals[1]) && !held(originals[3]));
    QVERIFY(held(thumbnails[0]) && held(thumbnails[1]));
    QVERIFY(held(pending.value().hash));
    // A budget below the thumbnails: every original the server holds goes,
    // thumbnails and the pending one stay.
    QVERIFY(r->setAttachmentBudget(1).isOk());
    QCOMPARE(r->evictAttachments().value(), std::size_t{2});
    QVERIFY(held(thumbnails[0]) && held(thumbnails[1]) && held(pending.value().hash));
    QCOMPARE(filesIn(folderOf(path)).size(), std::size_t{3});
  }

  // A server restored from a backup (a new epoch) may lack attachments it had
  // acknowledged: the tablet offers every blob it holds again (the server's
  // answer then lists only the chunks it lacks), as it re-pushes its ops.
  void aNewEpochOffersEveryHeldBlobAgain() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string patient = newPatient(*r, "Epoch");
    auto original = r->storeAttachment(patient, jpeg(kAttachmentChunkBytes + 10, 90), {"image/jpeg", 5, false});
    auto thumb = r->storeAttachment(patient, png(20'000, 91), {"image/png", 5, true});
    QVERIFY(original.isOk() && thumb.isOk());
    QVERIFY(r->markAttachmentUploaded(patient, original.value().hash).isOk());
    QVERIFY(r->markAttachmentUploaded(patient, thumb.value().hash).isOk());
    QCOMPARE(r->attachmentCounts().toUpload, std::uint64_t{0});
    QVERIFY(r->startNewEpoch("epoch-after-restore").isOk());
    QCOMPARE(r->attachmentCounts().toUpload, std::uint64_t{2});
    auto again = r->attachmentsToUpload();
    QVERIFY(again.isOk());
    QCOMPARE(again.value().size(), std::size_t{2});
    // Until the server holds them again they are not evicted either.
    QVERIFY(r->setAttachmentBudget(1).isOk());
    QCOMPARE(r->evictAttachments().value(), std::size_t{0});
  }

  void canariesNeverReachTheDisk() {
    const std::string path = newPath();
    const std::string canary = "CANARY-ATTACHMENT-PLAINTEXT-5521";
    std::string pdf = "%PDF-1.4\n";
    while (pdf.size() < 2 * kAttachmentChunkBytes + 5000) pdf += "(" + canary + ") Tj\n";
    const std::string hash = sha256Hex(pdf);
    {
      auto r = make(path);
      QVERIFY(r);
      const std::string patient = newPatient(*r, "Canary");
      const std::string other = newPatient(*r, "Canary2");
      QVERIFY(r->storeAttachment(patient, pdf, {"application/pdf", 123, false}).isOk());
      // And a download under way of the same document for another patient.
      QVERIFY(r->beginAttachmentDownload(other, hash, pdf.size(), {"application/pdf", 123, false}).isOk());
      QVERIFY(r->putAttachmentChunk(other, hash, 0, pdf.substr(0, kAttachmentChunkBytes), {}).isOk());
      QVERIFY(r->readAttachment(patient, hash).isOk());
      // Scan while open (the WAL holds the recent pages) and after closing.
      std::vector<std::string> files = {path, path + "-wal"};
      for (const std::string& f : filesIn(folderOf(path))) files.push_back(folderOf(path) + "/" + f);
      QVERIFY(files.size() >= 4);
      for (const std::string& f : files) {
        const std::string bytes = fileBytes(f);
        QVERIFY2(bytes.find(canary) == std::string::npos, f.c_str());
        QVERIFY2(bytes.find(hash) == std::string::npos, f.c_str());
        QVERIFY2(bytes.find("application/pdf") == std::string::npos, f.c_str());
      }
    }
    for (const std::string& f : filesIn(folderOf(path))) {
      QVERIFY(fileBytes(folderOf(path) + "/" + f).find(canary) == std::string::npos);
    }
    QVERIFY(fileBytes(path).find(canary) == std::string::npos);
  }

  void anOlderReplicaFileOpensAndGainsTheTable() {
    const std::string path = newPath();
    std::string patient;
    {
      auto r = make(path);
      QVERIFY(r);
      patient = newPatient(*r, "Older");
    }
    // As written by a build without attachments.
    rawExec(path, "DROP TABLE attachments");
    auto r = reopen(path);
    QVERIFY(r);
    const std::string bytes = jpeg(5000, 90);
    auto stored = r->storeAttachment(patient, bytes, {"image/jpeg", 0, false});
    QVERIFY2(stored.isOk(), stored.status().toString().c_str());
    QVERIFY(r->readAttachment(patient, stored.value().hash).value() == bytes);
  }

  void leftoversOfACrashAreSweptOnOpen() {
    const std::string path = newPath();
    std::string patient, hash;
    {
      auto r = make(path);
      QVERIFY(r);
      patient = newPatient(*r, "Crash");
      auto stored = r->storeAttachment(patient, jpeg(3000, 91), {"image/jpeg", 0, false});
      QVERIFY(stored.isOk());
      hash = stored.value().hash;
    }
    const std::string folder = folderOf(path);
    writeBytes(folder + "/0123abcd.tmp", "half-written");
    writeBytes(folder + "/feedbeef", "a file whose row never committed");
    auto r = reopen(path);
    QVERIFY(r);
    QCOMPARE(filesIn(folder).size(), std::size_t{1});
    QVERIFY(r->readAttachment(patient, hash).isOk());
  }
};

QTEST_GUILESS_MAIN(AttachmentStoreTest)
#include "attachment_store_test.moc"
