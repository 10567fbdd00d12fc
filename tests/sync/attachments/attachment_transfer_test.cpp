// The sync engine's attachment step (SyncEngine::syncAttachments and the
// attachment part of syncOnce) with real encrypted replicas and an in-memory
// server that speaks the attachment protocol (FakeAttachmentServer): upload
// from one tablet and download on another, transfers cut part-way resuming
// from the chunks either side holds (also after a restart), thumbnails first
// and originals newest first within the budget, refusals, and the status
// counts. The same over real HTTP to a real server: attachment_sync_test.
#include <QTemporaryDir>
#include <QtTest>
#include <map>
#include <set>

#include "attachment_bytes.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/attachments.h"
#include "charta/sync/crypto.h"
#include "charta/sync/engine.h"

using namespace charta;
using namespace charta::sync;
using crdt::Collection;
using crdt::FieldRef;
using crdt::FieldValue;
using crdt::Value;
namespace field = crdt::field;

using charta::test::jpeg;
using charta::test::png;

namespace {

CallError httpError(int status, std::string code, std::string message) {
  return callErrorForStatus(status, std::move(code), std::move(message));
}

CallError networkCut() {
  CallError e;
  e.kind = CallError::Kind::kNetwork;
  e.message = "the connection was cut";
  return e;
}

// The server's side of docs/PROTOCOL.md "Attachments", in memory, with
// faults: after `cutAfter` chunk transfers every call fails as a cut
// connection until heal().
class FakeAttachmentServer final : public Transport {
 public:
  struct Blob {
    std::uint64_t size = 0;
    std::string mediaType;
    std::map<std::uint64_t, std::string> chunks;
    bool complete = false;
  };
  std::map<std::pair<std::string, std::string>, Blob> blobs;
  std::set<std::string> declareRefused;  // hashes answered 415 on declare
  long cutAfter = -1;                    // chunk transfers before the cut; -1: never
  long chunkCalls = 0;
  long chunkPuts = 0;
  long chunkGets = 0;

  void heal() { cutAfter = -1; }

  Reply<Health> health() override { return Health{"ok", "memory", "e1"}; }
  Reply<Enrolment> enrol(std::string_view, std::string_view) override { return httpError(400, "bad", "no"); }
  Reply<Session> login(const DeviceCredential&, std::string_view u, std::string_view) override {
    return Session{"token", 4'000'000'000'000, std::string(u), "N", "nurse", "demo"};
  }
  Reply<Empty> logout(const DeviceCredential&, std::string_view) override { return Empty{}; }
  Reply<std::int64_t> refresh(const DeviceCredential&, std::string_view) override {
    return std::int64_t{4'000'000'000'000};
  }
  Reply<PushReply> push(const DeviceCredential&, std::string_view, std::string_view, std::uint64_t) override {
    return httpError(400, "bad", "not in this test");
  }
  Reply<PullPage> pull(const DeviceCredential&, std::string_view, const PullRequest&) override {
    return httpError(400, "bad", "not in this test");
  }
  Reply<AuditReply> sendAudit(const DeviceCredential&, std::string_view,
                              const std::vector<DeviceAuditEvent>& events) override {
    return AuditReply{events.empty() ? 0 : events.back().seq};
  }
  Reply<Empty> report(const DeviceCredential&, std::string_view, const DeviceReport&) override { return Empty{}; }
  Reply<BreakGlassReply> breakGlass(const DeviceCredential&, std::string_view, const BreakGlassRequest&) override {
    return httpError(404, "not_found", "no");
  }
  TransportStats stats() const override { return {}; }

  Reply<AttachmentStatus> declareAttachment(const DeviceCredential&, std::string_view, std::string_view patient,
                                            std::string_view hash, std::uint64_t size,
                                            std::string_view mediaType) override {
    if (cut()) return networkCut();
    if (declareRefused.count(std::string(hash))) return httpError(415, "unsupported_media_type", "not this type");
    Blob& b = blobs[{std::string(patient), std::string(hash)}];
    if (b.size == 0) {
      b.size = size;
      b.mediaType = std::string(mediaType);
    } else if (b.size != size || b.mediaType != mediaType) {
      return httpError(409, "conflict", "declared otherwise");
    }
    return statusOf(b, false);
  }

  Reply<AttachmentStatus> putAttachmentChunk(const DeviceCredential&, std::string_view, std::string_view patient,
                                             std::string_view hash, std::uint64_t index,
                                             std::string_view bytes) override {
    if (cut() || cutChunk()) return networkCut();
    auto it = blobs.find({std::string(patient), std::string(hash)});
    if (it == blobs.end()) return httpError(404, "not_found", "not declared");
    Blob& b = it->second;
    if (bytes.size() != attachmentChunkSize(b.size, index)) return httpError(400, "invalid", "wrong length");
    ++chunkPuts;
    b.chunks[index] = std::string(bytes);
    if (!b.complete && b.chunks.size() == attachmentChunkCount(b.size)) {
      std::string whole;
      for (const auto& [i, c] : b.chunks) whole += c;
      if (sha256Hex(whole) != hash) {
        b.chunks.clear();
        return httpError(422, "corrupt", "the chunks do not hash to the address");
      }
      b.complete = true;
    }
    return statusOf(b, false);
  }

  Reply<AttachmentStatus> attachmentStatus(const DeviceCredential&, std::string_view, std::string_view patient,
                                           std::string_view hash) override {
    if (cut()) return networkCut();
    auto it = blobs.find({std::string(patient), std::string(hash)});
    if (it == blobs.end()) return httpError(404, "not_found", "no such attachment");
    return statusOf(it->second, true);
  }

  Reply<std::string> attachmentChunk(const DeviceCredential&, std::string_view, std::string_view patient,
                                     std::string_view hash, std::uint64_t index) override {
    if (cut() || cutChunk()) return networkCut();
    auto it = blobs.find({std::string(patient), std::string(hash)});
    if (it == blobs.end()) return httpError(404, "not_found", "no such attachment");
    if (!it->second.complete) return httpError(409, "incomplete", "still uploading");
    ++chunkGets;
    return it->second.chunks.at(index);
  }

 private:
  bool cut() const { return cutAfter >= 0 && chunkCalls >= cutAfter; }
  bool cutChunk() {
    ++chunkCalls;
    return cut() && chunkCalls > cutAfter;
  }

  static AttachmentStatus statusOf(const Blob& b, bool withHashes) {
    AttachmentStatus s;
    s.complete = b.complete;
    s.size = b.size;
    s.mediaType = b.mediaType;
    s.chunkSize = kAttachmentChunkBytes;
    s.chunks = attachmentChunkCount(b.size);
    for (std::uint64_t i = 0; i < s.chunks; ++i) {
      if (!b.chunks.count(i)) s.missing.push_back(i);
    }
    if (withHashes && b.complete) {
      for (const auto& [i, c] : b.chunks) s.chunkHashes.push_back(sha256Hex(c));
    }
    return s;
  }
};

struct Tablet {
  std::string path;
  std::unique_ptr<Replica> replica;
  std::unique_ptr<SyncEngine> engine;
};

}  // namespace

class AttachmentTransferTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  FakeAttachmentServer m_server;
  int m_count = 0;
  const std::string m_patient = "p-attachments-1";

  EngineOptions options() {
    EngineOptions o;
    o.sleep = [](std::int64_t) {};
    return o;
  }

  std::unique_ptr<Tablet> tablet() {
    auto t = std::make_unique<Tablet>();
    ++m_count;
    t->path = m_dir.path().toStdString() + "/tablet-" + std::to_string(m_count) + ".db";
    DeviceIdentity id{"http://fake", "dev-" + std::to_string(m_count), crdt::ReplicaId{std::uint64_t(100 + m_count)},
                      "demo", "e1"};
    auto r = Replica::create(t->path, id, "secret", m_vault, UserInfo{"nurse", "N", {}, 0}, "correct horse battery");
    if (!r.isOk()) return nullptr;
    t->replica = std::move(r).value();
    if (!t->replica->storeSession(Session{"token", 4'000'000'000'000, "nurse", "N", "nurse", "demo"}).isOk()) {
      return nullptr;
    }
    auto op = t->replica->edit(m_patient, [](crdt::OpFactory& f, const crdt::ChartDocument& d) {
      return f.writeField(d, FieldRef{Collection::kDemographics, {}, field::kFamilyName}, Value{std::string("Okafor")});
    });
    if (!op.isOk()) return nullptr;
    t->engine = std::make_unique<SyncEngine>(*t->replica, m_server, options());
    return t;
  }

  void restart(Tablet& t) {
    t.engine.reset();
    t.replica.reset();
    auto r = Replica::open(t.path);
    QVERIFY(r.isOk());
    t.replica = std::move(r).value();
    QVERIFY(t.replica->unlock(m_vault, "nurse", "correct horse battery").isOk());
    t.engine = std::make_unique<SyncEngine>(*t.replica, m_server, options());
  }

  AttachmentWant want(const AttachmentInfo& info, bool thumbnail = false) {
    AttachmentWant w;
    w.patient = info.patient;
    w.hash = info.hash;
    w.size = thumbnail ? 0 : info.size;
    w.mediaType = thumbnail ? std::string() : info.mediaType;
    w.takenAtMs = info.takenAtMs;
    w.thumbnail = thumbnail;
    return w;
  }

 private slots:
  void init() {
    m_server.blobs.clear();
    m_server.declareRefused.clear();
    m_server.heal();
    m_server.chunkCalls = m_server.chunkPuts = m_server.chunkGets = 0;
  }

  void uploadOnOneTabletDownloadOnAnother() {
    auto a = tablet();
    auto b = tablet();
    QVERIFY(a && b);
    const std::string bytes = jpeg(3 * kAttachmentChunkBytes + kAttachmentChunkBytes / 2, 1);
    const std::string thumb = png(30'000, 2);
    auto original = a->replica->storeAttachment(m_patient, bytes, {"image/jpeg", 1000, false});
    auto thumbnail = a->replica->storeAttachment(m_patient, thumb, {"image/png", 1000, true});
    QVERIFY(original.isOk() && thumbnail.isOk());
    QCOMPARE(a->replica->attachmentCounts().toUpload, std::uint64_t{2});

    SyncReport up = a->engine->syncAttachments({});
    QVERIFY2(up.attachmentError.empty(), up.attachmentError.c_str());
    QCOMPARE(up.attachmentsUploaded, std::size_t{2});
    QCOMPARE(up.attachmentChunksSent, std::size_t{5});
    QCOMPARE(a->replica->attachmentCounts().toUpload, std::uint64_t{0});
    QCOMPARE(a->engine->status().attachmentsToUpload, std::uint64_t{0});
    // Nothing more to send.
    QCOMPARE(a->engine->syncAttachments({}).attachmentChunksSent, std::size_t{0});

    const std::vector<AttachmentWant> wants{want(original.value()), want(thumbnail.value(), true)};
    SyncReport down = b->engine->syncAttachments(wants);
    QVERIFY2(down.attachmentError.empty(), down.attachmentError.c_str());
    QCOMPARE(down.attachmentsDownloaded, std::size_t{2});
    QVERIFY(b->replica->readAttachment(m_patient, original.value().hash).value() == bytes);
    QVERIFY(b->replica->readAttachment(m_patient, thumbnail.value().hash).value() == thumb);
    auto state = b->replica->attachmentState(m_patient, thumbnail.value().hash);
    QVERIFY(state.value()->thumbnail && state.value()->upload == AttachmentInfo::Upload::kNone);
    QCOMPARE(b->engine->status().attachmentsNotDownloaded, std::uint64_t{0});
    // A second sync moves nothing.
    const long gets = m_server.chunkGets;
    QCOMPARE(b->engine->syncAttachments(wants).attachmentChunksReceived, std::size_t{0});
    QCOMPARE(m_server.chunkGets, gets);
  }

  void aCutUploadResumesFromTheChunksTheServerHolds() {
    auto a = tablet();
    QVERIFY(a);
    const std::string bytes = jpeg(5 * kAttachmentChunkBytes + 99, 3);  // 6 chunks
    auto stored = a->replica->storeAttachment(m_patient, bytes, {"image/jpeg", 1, false});
    QVERIFY(stored.isOk());
    m_server.cutAfter = 2;
    SyncReport first = a->engine->syncAttachments({});
    QVERIFY(!first.attachmentError.empty());
    QVERIFY(first.ok);  // the attachment step never fails a sync
    QCOMPARE(first.attachmentChunksSent, std::size_t{2});
    QCOMPARE(a->replica->attachmentCounts().toUpload, std::uint64_t{1});
    m_server.heal();
    restart(*a);
    SyncReport second = a->engine->syncAttachments({});
    QVERIFY2(second.attachmentError.empty(), second.attachmentError.c_str());
    QCOMPARE(second.attachmentChunksSent, std::size_t{4});  // only what the server lacked
    QCOMPARE(second.attachmentsUploaded, std::size_t{1});
    QCOMPARE(m_server.chunkPuts, long{6});
    QVERIFY(m_server.blobs.begin()->second.complete);
  }

  void aCutDownloadResumesFromTheChunksTheTabletHolds() {
    auto a = tablet();
    auto b = tablet();
    QVERIFY(a && b);
    const std::string bytes = jpeg(4 * kAttachmentChunkBytes + 5, 4);  // 5 chunks
    auto stored = a->replica->storeAttachment(m_patient, bytes, {"image/jpeg", 1, false});
    QVERIFY(stored.isOk());
    QVERIFY(a->engine->syncAttachments({}).attachmentsUploaded == 1);
    m_server.chunkCalls = 0;
    m_server.cutAfter = 3;
    const std::vector<AttachmentWant> wants{want(stored.value())};
    SyncReport first = b->engine->syncAttachments(wants);
    QVERIFY(!first.attachmentError.empty());
    QCOMPARE(first.attachmentChunksReceived, std::size_t{3});
    QCOMPARE(b->engine->status().attachmentsNotDownloaded, std::uint64_t{1});
    QCOMPARE(b->engine->status().attachmentBytesNotDownloaded, std::uint64_t{bytes.size()});
    auto state = b->replica->attachmentState(m_patient, stored.value().hash);
    QVERIFY(state.isOk() && state.value() && !state.value()->complete);
    QCOMPARE(state.value()->chunksHeld, std::uint64_t{3});
    // The tablet restarts before the next sync: the chunks stay.
    m_server.heal();
    restart(*b);
    SyncReport second = b->engine->syncAttachments(wants);
    QVERIFY2(second.attachmentError.empty(), second.attachmentError.c_str());
    QCOMPARE(second.attachmentChunksReceived, std::size_t{2});
    QCOMPARE(second.attachmentsDownloaded, std::size_t{1});
    QVERIFY(b->replica->readAttachment(m_patient, stored.value().hash).value() == bytes);
    QCOMPARE(b->engine->status().attachmentsNotDownloaded, std::uint64_t{0});
  }

  void thumbnailsAlwaysOriginalsNewestFirstWithinTheBudget() {
    auto a = tablet();
    auto b = tablet();
    QVERIFY(a && b);
    std::vector<AttachmentInfo> originals;
    for (int i = 0; i < 3; ++i) {
      auto s = a->replica->storeAttachment(m_patient, jpeg(kAttachmentChunkBytes + 10, 10 + std::uint64_t(i)),
                                           {"image/jpeg", 1000 * (i + 1), false});
      QVERIFY(s.isOk());
      originals.push_back(s.value());
    }
    auto thumb = a->replica->storeAttachment(m_patient, png(40'000, 20), {"image/png", 1000, true});
    QVERIFY(thumb.isOk());
    QCOMPARE(a->engine->syncAttachments({}).attachmentsUploaded, std::size_t{4});
    // Room for the thumbnail and two originals.
    const std::uint64_t budget = attachmentStoredBytes(40'000) + 2 * attachmentStoredBytes(kAttachmentChunkBytes + 10);
    QVERIFY(b->replica->setAttachmentBudget(budget).isOk());
    std::vector<AttachmentWant> wants;
    for (const auto& o : originals) wants.push_back(want(o));
    wants.push_back(want(thumb.value(), true));
    SyncReport r = b->engine->syncAttachments(wants);
    QVERIFY2(r.attachmentError.empty(), r.attachmentError.c_str());
    QCOMPARE(r.attachmentsDownloaded, std::size_t{3});
    auto held = [&](const AttachmentInfo& info) {
      auto s = b->replica->attachmentState(m_patient, info.hash);
      return s.isOk() && s.value() && s.value()->complete;
    };
    QVERIFY(held(thumb.value()));
    QVERIFY(held(originals[2]) && held(originals[1]));  // the newest two
    QVERIFY(!held(originals[0]));
    const SyncStatus st = b->engine->status();
    QCOMPARE(st.attachmentsNotDownloaded, std::uint64_t{1});
    QCOMPARE(st.attachmentBytesNotDownloaded, originals[0].size);
    // A newer photo arrives: it is fetched, and the oldest held original goes.
    auto newer =
        a->replica->storeAttachment(m_patient, jpeg(kAttachmentChunkBytes + 10, 30), {"image/jpeg", 9000, false});
    QVERIFY(newer.isOk());
    QCOMPARE(a->engine->syncAttachments({}).attachmentsUploaded, std::size_t{1});
    wants.push_back(want(newer.value()));
    r = b->engine->syncAttachments(wants);
    QCOMPARE(r.attachmentsDownloaded, std::size_t{1});
    QCOMPARE(r.attachmentsEvicted, std::size_t{1});
    QVERIFY(held(newer.value()) && held(originals[2]) && !held(originals[1]) && held(thumb.value()));
    QVERIFY(b->replica->attachmentCounts().fileBytes <= budget);
    // On demand, outside the budget: fetched now (and evicted again later).
    QVERIFY(b->engine->fetchAttachment(want(originals[0])).isOk());
    QVERIFY(b->replica->readAttachment(m_patient, originals[0].hash).isOk());
    AttachmentWant unknown = want(originals[0]);
    unknown.hash = sha256Hex("never uploaded");
    QVERIFY(b->engine->fetchAttachment(unknown).code() == crdt::Status::Code::kNotFound);
  }

  void aRefusedUploadIsNotRetried() {
    auto a = tablet();
    QVERIFY(a);
    auto stored = a->replica->storeAttachment(m_patient, jpeg(1000, 40), {"image/jpeg", 1, false});
    QVERIFY(stored.isOk());
    m_server.declareRefused.insert(stored.value().hash);
    SyncReport r = a->engine->syncAttachments({});
    QVERIFY(!r.attachmentError.empty());
    const AttachmentCounts counts = a->replica->attachmentCounts();
    QCOMPARE(counts.toUpload, std::uint64_t{0});
    QCOMPARE(counts.refused, std::uint64_t{1});
    auto state = a->replica->attachmentState(m_patient, stored.value().hash);
    QVERIFY(state.value()->upload == AttachmentInfo::Upload::kRefused && !state.value()->uploadError.empty());
  }

  void theChartsAttachmentEntriesAreWhatIsWanted() {
    auto t = tablet();
    QVERIFY(t);
    const std::string original = sha256Hex("original");
    const std::string thumbnail = sha256Hex("thumbnail");
    auto add = [&](const std::string& hash, const std::string* thumb) {
      std::vector<FieldValue> fields{{field::kAttachmentKind, Value{std::string("wound-photo")}},
                                     {field::kContentHash, Value{hash}},
                                     {field::kMediaType, Value{std::string("image/jpeg")}},
                                     {field::kContentSize, Value{std::int64_t{4242}}},
                                     {field::kTakenAt, Value{std::int64_t{77}}}};
      if (thumb) fields.push_back({field::kThumbnailHash, Value{*thumb}});
      return t->replica->edit(m_patient, [&](crdt::OpFactory& f, const crdt::ChartDocument& d) {
        return f.addEntry(d, Collection::kAttachments, fields);
      });
    };
    QVERIFY(add(original, &thumbnail).isOk());
    auto gone = add(sha256Hex("entered in error"), nullptr);
    QVERIFY(gone.isOk());
    QVERIFY(t->replica
                ->edit(m_patient,
                       [&](crdt::OpFactory& f, const crdt::ChartDocument& d) {
                         return f.setStatus(d, gone.value().id, crdt::EntryStatus::kEnteredInError, "wrong patient");
                       })
                .isOk());
    auto wants = wantedAttachments(*t->replica);
    QVERIFY2(wants.isOk(), wants.status().toString().c_str());
    QCOMPARE(wants.value().size(), std::size_t{2});
    const AttachmentWant& o = wants.value()[0].thumbnail ? wants.value()[1] : wants.value()[0];
    const AttachmentWant& th = wants.value()[0].thumbnail ? wants.value()[0] : wants.value()[1];
    QCOMPARE(o.hash, original);
    QCOMPARE(o.size, std::uint64_t{4242});
    QCOMPARE(o.mediaType, std::string("image/jpeg"));
    QCOMPARE(o.takenAtMs, std::int64_t{77});
    QVERIFY(!o.thumbnail);
    QCOMPARE(th.hash, thumbnail);
    QVERIFY(th.thumbnail);
  }

  void aTransportWithoutAttachmentsLeavesThemWaiting() {
    // The defaults of Transport refuse every attachment call.
    class OpsOnly final : public Transport {
     public:
      explicit OpsOnly(Transport& inner) : m_inner(inner) {}
      Reply<Health> health() override { return m_inner.health(); }
      Reply<Enrolment> enrol(std::string_view c, std::string_view n) override { return m_inner.enrol(c, n); }
      Reply<Session> login(const DeviceCredential& d, std::string_view u, std::string_view p) override {
        return m_inner.login(d, u, p);
      }
      Reply<Empty> logout(const DeviceCredential& d, std::string_view t) override { return m_inner.logout(d, t); }
      Reply<std::int64_t> refresh(const DeviceCredential& d, std::string_view t) override {
        return m_inner.refresh(d, t);
      }
      Reply<PushReply> push(const DeviceCredential& d, std::string_view t, std::string_view b,
                            std::uint64_t p) override {
        return m_inner.push(d, t, b, p);
      }
      Reply<PullPage> pull(const DeviceCredential& d, std::string_view t, const PullRequest& r) override {
        return m_inner.pull(d, t, r);
      }
      Reply<AuditReply> sendAudit(const DeviceCredential& d, std::string_view t,
                                  const std::vector<DeviceAuditEvent>& e) override {
        return m_inner.sendAudit(d, t, e);
      }
      Reply<Empty> report(const DeviceCredential& d, std::string_view t, const DeviceReport& r) override {
        return m_inner.report(d, t, r);
      }
      Reply<BreakGlassReply> breakGlass(const DeviceCredential& d, std::string_view t,
                                        const BreakGlassRequest& r) override {
        return m_inner.breakGlass(d, t, r);
      }
      TransportStats stats() const override { return m_inner.stats(); }

     private:
      Transport& m_inner;
    };
    auto a = tablet();
    QVERIFY(a);
    QVERIFY(a->replica->storeAttachment(m_patient, jpeg(1000, 50), {"image/jpeg", 1, false}).isOk());
    OpsOnly opsOnly(m_server);
    SyncEngine engine(*a->replica, opsOnly, options());
    SyncReport r = engine.syncAttachments({});
    QVERIFY(r.ok);
    QVERIFY(!r.attachmentError.empty());
    QCOMPARE(a->replica->attachmentCounts().toUpload, std::uint64_t{1});
  }
};

QTEST_GUILESS_MAIN(AttachmentTransferTest)
#include "attachment_transfer_test.moc"
