// Attachments over real HTTP to a real charta-server (SQLite store) through
// the fault-injecting proxy: a 50 MB photo (48 chunks; the environment
// variable CHARTA_ATTACHMENT_TEST_BYTES sets another size) and its thumbnail
// attached on one tablet reach another tablet while connections are cut mid-body,
// and tablets restart between syncs. Each chunk crosses the network whole
// exactly once per side (a cut transfer resumes from the chunks either side
// holds), and both tablets end with the same bytes under the same hash.
#include <QTemporaryDir>
#include <QtTest>

#include "attachment_bytes.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/attachments.h"
#include "charta/sync/crypto.h"
#include "charta/sync/engine.h"
#include "server/api/api_harness.h"
#include "support/fault_proxy.h"

using namespace charta;
using namespace charta::sync;
using namespace charta::test;
using crdt::Collection;
using crdt::FieldRef;
using crdt::FieldValue;
using crdt::Value;
namespace field = crdt::field;

namespace {

constexpr const char* kPassphrase = "demo-nurse-pass";

struct Device {
  std::string path;
  std::unique_ptr<Transport> direct;
  std::unique_ptr<Transport> viaProxy;
  std::unique_ptr<Replica> replica;
  std::unique_ptr<SyncEngine> engine;
};

}  // namespace

class AttachmentSyncTest : public QObject {
  Q_OBJECT

  TestServer m_server;
  QTemporaryDir m_dir;
  std::unique_ptr<FaultProxy> m_proxy;
  std::unique_ptr<AdminClient> m_admin;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  int m_devices = 0;

  std::string newCode() {
    return str(parseJson(m_admin->post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}}).body), "code");
  }

  static EngineOptions options() {
    EngineOptions o;
    o.maxAttempts = 2;
    o.attachmentMaxAttempts = 2;
    o.backoffBaseMs = 1;
    o.backoffMaxMs = 5;
    o.jitterSeed = 3;
    o.passwordFor = [](const std::string&) { return std::optional<std::string>(kPassphrase); };
    return o;
  }

  std::unique_ptr<Device> enrol() {
    auto d = std::make_unique<Device>();
    d->path = m_dir.path().toStdString() + "/device-" + std::to_string(++m_devices) + ".db";
    std::string error;
    d->direct = makeHttpTransport(HttpTransportOptions{m_server.url(), {}, 10000}, &error);
    d->viaProxy = makeHttpTransport(HttpTransportOptions{m_proxy->baseUrl(), {}, 5000}, &error);
    if (!d->direct || !d->viaProxy) return nullptr;
    auto r = SyncEngine::enrol(*d->direct, d->path, m_server.url(), newCode(), "attach", m_vault, "nurse", kPassphrase,
                               kPassphrase);
    if (!r.isOk()) {
      qWarning() << r.status().toString().c_str();
      return nullptr;
    }
    d->replica = std::move(r).value();
    d->engine = std::make_unique<SyncEngine>(*d->replica, *d->viaProxy, options());
    return d;
  }

  void restart(Device& d) {
    d.engine.reset();
    d.replica.reset();
    auto r = Replica::open(d.path);
    QVERIFY(r.isOk());
    d.replica = std::move(r).value();
    QVERIFY(d.replica->unlock(m_vault, "nurse", kPassphrase).isOk());
    d.engine = std::make_unique<SyncEngine>(*d.replica, *d.viaProxy, options());
  }

 private slots:
  void initTestCase() {
    QVERIFY2(m_server.start(false), m_server.error.c_str());
    std::string error;
    m_proxy = FaultProxy::start(FaultProxyOptions{m_server.server->port(), 42, 4u << 20, 5000}, &error);
    QVERIFY2(m_proxy, error.c_str());
    m_admin = std::make_unique<AdminClient>(m_server.url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
  }

  void aPhotoCrossesACutNetworkWhole() {
    auto a = enrol();
    auto b = enrol();
    QVERIFY(a && b);
    const std::string patient = Replica::newPatientId();
    QVERIFY(a->replica
                ->edit(patient,
                       [](crdt::OpFactory& f, const crdt::ChartDocument& d) {
                         return f.writeField(d, FieldRef{Collection::kDemographics, {}, field::kFamilyName},
                                             Value{std::string("Okafor")});
                       })
                .isOk());
    // 50 MB (48 chunks) unless CHARTA_ATTACHMENT_TEST_BYTES says otherwise.
    const std::size_t size = qEnvironmentVariableIsSet("CHARTA_ATTACHMENT_TEST_BYTES")
                                 ? static_cast<std::size_t>(qEnvironmentVariableIntValue("CHARTA_ATTACHMENT_TEST_BYTES"))
                                 : std::size_t{50'000'000};
    const std::string photo = jpeg(size, 1);
    const std::uint64_t chunks = attachmentChunkCount(photo.size());
    std::string thumb("\x89PNG\r\n\x1A\n", 8);
    thumb += jpeg(20'000, 2);
    auto original = a->replica->storeAttachment(patient, photo, {"image/jpeg", 1'765'000'000'000, false});
    auto thumbnail = a->replica->storeAttachment(patient, thumb, {"image/png", 1'765'000'000'000, true});
    QVERIFY(original.isOk() && thumbnail.isOk());
    const std::string hash = original.value().hash;
    QCOMPARE(hash, sha256Hex(photo));
    auto entry = a->replica->edit(patient, [&](crdt::OpFactory& f, const crdt::ChartDocument& d) {
      return f.addEntry(d, Collection::kAttachments,
                        {FieldValue{field::kAttachmentKind, Value{std::string("wound-photo")}},
                         FieldValue{field::kContentHash, Value{hash}},
                         FieldValue{field::kMediaType, Value{std::string("image/jpeg")}},
                         FieldValue{field::kContentSize, Value{static_cast<std::int64_t>(photo.size())}},
                         FieldValue{field::kThumbnailHash, Value{thumbnail.value().hash}},
                         FieldValue{field::kTakenAt, Value{std::int64_t{1'765'000'000'000}}},
                         FieldValue{field::kSubject, Value{std::string()}},
                         FieldValue{field::kDisplay, Value{std::string("Left heel, day 3")}}});
    });
    QVERIFY2(entry.isOk(), entry.status().toString().c_str());

    // Connections cut mid-body, both ways, on about a third of the requests.
    m_proxy->reseed(7);
    m_proxy->setCutRequest(0.3);
    m_proxy->setCutResponse(0.3);
    std::size_t sent = 0, uploadErrors = 0;
    for (int i = 0; i < 200 && a->replica->attachmentCounts().toUpload > 0; ++i) {
      SyncReport r = a->engine->syncOnce();
      sent += r.attachmentChunksSent;
      if (!r.attachmentError.empty()) ++uploadErrors;
      if (i % 3 == 2) restart(*a);
    }
    QCOMPARE(a->replica->attachmentCounts().toUpload, std::uint64_t{0});
    QVERIFY(sent <= chunks + 1);  // a chunk the server holds is never sent again (an answer lost: not counted)

    std::size_t received = 0, downloadErrors = 0;
    auto complete = [&](const std::string& h) {
      auto s = b->replica->attachmentState(patient, h);
      return s.isOk() && s.value() && s.value()->complete;
    };
    for (int i = 0; i < 300 && !(complete(hash) && complete(thumbnail.value().hash)); ++i) {
      SyncReport r = b->engine->syncOnce();
      received += r.attachmentChunksReceived;
      if (!r.attachmentError.empty()) ++downloadErrors;
      if (i % 3 == 2) restart(*b);
    }
    qInfo("upload: %zu syncs with an attachment error; download: %zu", uploadErrors, downloadErrors);
    QVERIFY(uploadErrors + downloadErrors > 0);  // the proxy did cut transfers
    QVERIFY(complete(hash) && complete(thumbnail.value().hash));
    QCOMPARE(received, chunks + 1);  // every chunk received whole exactly once, restarts included
    m_proxy->heal();

    auto copy = b->replica->readAttachment(patient, hash);
    QVERIFY2(copy.isOk(), copy.status().toString().c_str());
    QCOMPARE(sha256Hex(copy.value()), hash);
    QVERIFY(copy.value() == photo);
    QVERIFY(b->replica->readAttachment(patient, thumbnail.value().hash).value() == thumb);
    // The server holds it complete, chunk by chunk as sent.
    auto secret = a->replica->deviceSecret();
    QVERIFY(secret.isOk());
    auto session = a->replica->session("nurse");
    QVERIFY(session.isOk() && session.value());
    auto status = a->direct->attachmentStatus({a->replica->identity().deviceId, secret.value()}, session.value()->token,
                                              patient, hash);
    QVERIFY2(status.isOk(), status.isOk() ? "" : status.error().toString().c_str());
    QVERIFY(status.value().complete);
    QCOMPARE(status.value().chunks, chunks);
    QCOMPARE(status.value().chunkHashes.size(), chunks);
    for (std::uint64_t i = 0; i < chunks; ++i) {
      QCOMPARE(status.value().chunkHashes[i],
               sha256Hex(std::string_view(photo).substr(i * kAttachmentChunkBytes, kAttachmentChunkBytes)));
    }
    const SyncStatus st = b->engine->status();
    QCOMPARE(st.attachmentsNotDownloaded, std::uint64_t{0});
    QCOMPARE(st.attachmentsToUpload, std::uint64_t{0});
  }

  // The transport's four calls straight to the server (no proxy): answers
  // read strictly, refusals classified.
  void theTransportSpeaksTheProtocol() {
    auto a = enrol();
    QVERIFY(a);
    const std::string patient = Replica::newPatientId();
    QVERIFY(a->replica
                ->edit(patient,
                       [](crdt::OpFactory& f, const crdt::ChartDocument& d) {
                         return f.writeField(d, FieldRef{Collection::kDemographics, {}, field::kFamilyName},
                                             Value{std::string("Haddad")});
                       })
                .isOk());
    QVERIFY(a->engine->syncOnce().ok);  // the server knows the patient now
    const DeviceCredential device{a->replica->identity().deviceId, a->replica->deviceSecret().value()};
    const std::string token = a->replica->session("nurse").value()->token;
    Transport& t = *a->direct;
    const std::string bytes = jpeg(kAttachmentChunkBytes + 300, 9);
    const std::string hash = sha256Hex(bytes);

    auto local = t.declareAttachment(device, token, patient, "NOT-A-HASH", 10, "image/jpeg");
    QVERIFY(!local.isOk() && local.error().kind == CallError::Kind::kRefused && local.error().httpStatus == 0);
    auto gif = t.declareAttachment(device, token, patient, hash, bytes.size(), "image/gif");
    QVERIFY(!gif.isOk() && gif.error().httpStatus == 415 && gif.error().kind == CallError::Kind::kRefused);
    auto unknown = t.attachmentStatus(device, token, patient, hash);
    QVERIFY(!unknown.isOk() && unknown.error().httpStatus == 404);
    auto elsewhere = t.declareAttachment(device, token, "p-not-in-this-clinic", hash, bytes.size(), "image/jpeg");
    QVERIFY(!elsewhere.isOk() && elsewhere.error().httpStatus == 404);

    auto declared = t.declareAttachment(device, token, patient, hash, bytes.size(), "image/jpeg");
    QVERIFY2(declared.isOk(), declared.isOk() ? "" : declared.error().toString().c_str());
    QVERIFY(!declared.value().complete);
    QCOMPARE(declared.value().chunkSize, kAttachmentChunkBytes);
    QCOMPARE(declared.value().chunks, std::uint64_t{2});
    QVERIFY((declared.value().missing == std::vector<std::uint64_t>{0, 1}));
    auto otherSize = t.declareAttachment(device, token, patient, hash, bytes.size() + 1, "image/jpeg");
    QVERIFY(!otherSize.isOk() && otherSize.error().httpStatus == 409);
    auto shortChunk = t.putAttachmentChunk(device, token, patient, hash, 0, bytes.substr(0, 1000));
    QVERIFY(!shortChunk.isOk() && shortChunk.error().httpStatus == 400);
    auto early = t.attachmentChunk(device, token, patient, hash, 0);
    QVERIFY(!early.isOk() && early.error().httpStatus == 409);
    auto second = t.putAttachmentChunk(device, token, patient, hash, 1, bytes.substr(kAttachmentChunkBytes));
    QVERIFY(second.isOk() && !second.value().complete);
    QVERIFY((second.value().missing == std::vector<std::uint64_t>{0}));
    auto first = t.putAttachmentChunk(device, token, patient, hash, 0, bytes.substr(0, kAttachmentChunkBytes));
    QVERIFY2(first.isOk(), first.isOk() ? "" : first.error().toString().c_str());
    QVERIFY(first.value().complete && first.value().missing.empty());
    auto again = t.putAttachmentChunk(device, token, patient, hash, 0, bytes.substr(0, kAttachmentChunkBytes));
    QVERIFY(again.isOk() && again.value().complete);  // idempotent
    auto status = t.attachmentStatus(device, token, patient, hash);
    QVERIFY(status.isOk() && status.value().complete);
    QCOMPARE(status.value().chunkHashes.size(), std::size_t{2});
    auto c0 = t.attachmentChunk(device, token, patient, hash, 0);
    auto c1 = t.attachmentChunk(device, token, patient, hash, 1);
    QVERIFY(c0.isOk() && c1.isOk());
    QVERIFY(c0.value() + c1.value() == bytes);
    QCOMPARE(sha256Hex(c1.value()), status.value().chunkHashes[1]);

    // A blob whose chunks do not hash to its address is refused whole.
    const std::string liar = sha256Hex("not these bytes");
    QVERIFY(t.declareAttachment(device, token, patient, liar, 500, "image/jpeg").isOk());
    auto corrupt = t.putAttachmentChunk(device, token, patient, liar, 0, jpeg(500, 10));
    QVERIFY(!corrupt.isOk() && corrupt.error().httpStatus == 422);
    // Chunk 0 that is not of the media type: 415, the upload discarded.
    const std::string pdf = "%PDF-" + jpeg(200, 11);
    QVERIFY(t.declareAttachment(device, token, patient, sha256Hex(pdf), pdf.size(), "application/pdf").isOk());
    auto wrongType = t.putAttachmentChunk(device, token, patient, sha256Hex(pdf), 0, jpeg(pdf.size(), 12));
    QVERIFY(!wrongType.isOk() && wrongType.error().httpStatus == 415);
  }

  void aBudgetKeepsOriginalsOffATablet() {
    auto a = enrol();
    auto b = enrol();
    QVERIFY(a && b);
    const std::string patient = Replica::newPatientId();
    QVERIFY(a->replica
                ->edit(patient,
                       [](crdt::OpFactory& f, const crdt::ChartDocument& d) {
                         return f.writeField(d, FieldRef{Collection::kDemographics, {}, field::kFamilyName},
                                             Value{std::string("Novak")});
                       })
                .isOk());
    const std::string pdf = "%PDF-1.4\n" + jpeg(kAttachmentChunkBytes + 100, 5);
    auto stored = a->replica->storeAttachment(patient, pdf, {"application/pdf", 1, false});
    QVERIFY(stored.isOk());
    QVERIFY(a->replica
                ->edit(patient,
                       [&](crdt::OpFactory& f, const crdt::ChartDocument& d) {
                         return f.addEntry(
                             d, Collection::kAttachments,
                             {FieldValue{field::kAttachmentKind, Value{std::string("referral")}},
                              FieldValue{field::kContentHash, Value{stored.value().hash}},
                              FieldValue{field::kMediaType, Value{std::string("application/pdf")}},
                              FieldValue{field::kContentSize, Value{static_cast<std::int64_t>(pdf.size())}},
                              FieldValue{field::kTakenAt, Value{std::int64_t{1}}}});
                       })
                .isOk());
    QVERIFY(a->engine->syncOnce().ok);
    QCOMPARE(a->replica->attachmentCounts().toUpload, std::uint64_t{0});
    QVERIFY(b->replica->setAttachmentBudget(1000).isOk());
    SyncReport r = b->engine->syncOnce();
    QVERIFY2(r.ok, r.message.c_str());
    // (The clinic's other charts have attachments too: their thumbnails come
    // whatever the budget, their originals do not.)
    auto held = b->replica->attachmentState(patient, stored.value().hash);
    QVERIFY(held.isOk() && !held.value());
    QVERIFY(b->engine->status().attachmentsNotDownloaded >= 1);
    QVERIFY(b->engine->status().attachmentBytesNotDownloaded >= pdf.size());
    // Opened on demand: fetched outside the budget.
    AttachmentWant want{patient, stored.value().hash, pdf.size(), "application/pdf", 1, false};
    QVERIFY(b->engine->fetchAttachment(want).isOk());
    QVERIFY(b->replica->readAttachment(patient, stored.value().hash).value() == pdf);
  }
};

QTEST_GUILESS_MAIN(AttachmentSyncTest)
#include "attachment_sync_test.moc"
