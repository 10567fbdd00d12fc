// Attachments (photos, documents) end to end: a real charta-server on
// loopback with real storage (SQLite with chunk files in its data folder, or
// PostgreSQL with chunks in table attachment_blobs when built with
// CHARTA_API_TEST_POSTGRES), driven over real HTTP as a tablet would
// (docs/PROTOCOL.md, "Attachments").

#include <sys/resource.h>
#include <sys/stat.h>

#include <QtTest>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "api/api_fixture.h"
#include "crypto.h"
#include "support/small_filesystem.h"

using namespace charta;
using namespace charta::test;

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kChunk = 1u << 20;
constexpr std::uint64_t kMaxAttachment = 8u << 20;  // this suite's max_attachment_bytes
constexpr std::uint64_t kMaxBody = 64u << 10;       // this suite's max_body_bytes: below a chunk
constexpr std::string_view kJpeg("\xFF\xD8\xFF\xE0", 4);
constexpr std::string_view kPng("\x89PNG\r\n\x1A\n", 8);
// On PostgreSQL the store's database lives on a filesystem of its own, which
// a test can fill: room for template1's copy and every upload of the suite.
constexpr std::int64_t kStoreFilesystemBytes = 256 << 20;

std::string hexSha256(std::string_view bytes) { return server::toHex(server::sha256(bytes)); }

// `size` random bytes starting with `signature`.
std::string randomFile(std::size_t size, std::string_view signature, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t v = rng();
    for (std::size_t k = 0; k < 8 && i + k < size; ++k) out[i + k] = static_cast<char>((v >> (8 * k)) & 0xff);
  }
  out.replace(0, std::min(signature.size(), size), signature.substr(0, size));
  return out;
}

std::string chunkOf(const std::string& data, std::size_t i) { return data.substr(i * kChunk, kChunk); }
std::size_t chunksOf(const std::string& data) { return (data.size() + kChunk - 1) / kChunk; }

std::vector<std::int64_t> ints(const json::Value& v, std::string_view key) {
  std::vector<std::int64_t> out;
  const json::Value* a = v.find(key);
  if (!a || !a->asArray()) return out;
  for (const json::Value& x : *a->asArray()) out.push_back(x.asInt().value_or(-1));
  return out;
}

}  // namespace

class AttachmentsTest : public ApiFixture {
  Q_OBJECT

 private:
  // PostgreSQL's store: its filesystem, the tablespace folder on it, or why
  // there is none. Declared before the server, so it goes after it.
  SmallFilesystem m_disk;
  std::string m_tablespace, m_noDisk;
  TestServer m_server;
  std::unique_ptr<AdminClient> m_admin;
  std::unique_ptr<TabletClient> m_tablet;
  std::uint64_t m_nextSeq = 1;
  int m_unique = 0;

  std::string unique(const std::string& prefix) { return prefix + "-" + std::to_string(++m_unique); }

  // A patient of the tablet's clinic, known to the server (one op pushed).
  std::string newPatient() {
    std::string patient = unique("att-patient");
    Chart chart(m_tablet->replica, "nurse", patient, m_nextSeq);
    m_nextSeq += 10;
    HttpResult r = m_tablet->push({chart.write(crdt::field::kFamilyName, std::string("Family"))});
    if (r.status != 200 || num(parseJson(r.body), "stored") != 1) {
      qWarning("push failed: %d %s", r.status, r.body.c_str());
      return {};
    }
    return patient;
  }

  static std::string path(const std::string& patient, const std::string& hash) {
    return "/v1/sync/patients/" + patient + "/attachments/" + hash;
  }
  static std::string chunkPath(const std::string& patient, const std::string& hash, std::size_t i) {
    return path(patient, hash) + "/chunks/" + std::to_string(i);
  }

  HttpResult declare(const std::string& patient, const std::string& hash, std::int64_t size,
                     const std::string& mediaType = "image/jpeg", const HeaderList* headers = nullptr) {
    return m_tablet->http.request("PUT", path(patient, hash),
                                  json::serialize(json::Object{{"size", size}, {"media_type", mediaType}}),
                                  headers ? *headers : m_tablet->auth());
  }
  HttpResult putChunk(const std::string& patient, const std::string& hash, std::size_t i, const std::string& bytes,
                      const HeaderList* headers = nullptr) {
    return m_tablet->http.request("PUT", chunkPath(patient, hash, i), bytes, headers ? *headers : m_tablet->auth(),
                                  "application/octet-stream");
  }
  HttpResult status(const std::string& patient, const std::string& hash, const HeaderList* headers = nullptr) {
    return m_tablet->http.get(path(patient, hash), headers ? *headers : m_tablet->auth());
  }
  HttpResult getChunk(const std::string& patient, const std::string& hash, std::size_t i,
                      const HeaderList* headers = nullptr) {
    return m_tablet->http.get(chunkPath(patient, hash, i), headers ? *headers : m_tablet->auth());
  }

  // Declares and sends every chunk; the last answer.
  HttpResult upload(const std::string& patient, const std::string& data, const std::string& mediaType = "image/jpeg") {
    const std::string hash = hexSha256(data);
    HttpResult d = declare(patient, hash, static_cast<std::int64_t>(data.size()), mediaType);
    if (d.status != 200) return d;
    HttpResult last;
    for (std::size_t i = 0; i < chunksOf(data); ++i) {
      last = putChunk(patient, hash, i, chunkOf(data, i));
      if (last.status != 200) return last;
    }
    return last;
  }

  // The folder of the SQLite store's chunk files of one attachment.
  fs::path attachmentsRoot() const { return fs::path(m_server.config.data) / "attachments"; }
  fs::path blobFolder(const std::string& patient, const std::string& hash) const {
    return attachmentsRoot() / server::toHex(patient) / hash;
  }

  // Chunk files (SQLite) or chunk rows (PostgreSQL) the store holds for an
  // attachment (hash) or for every attachment of the patient (hash empty).
  std::int64_t storedChunks(const std::string& patient, const std::string& hash = {}) {
    if (!kPostgres) {
      fs::path folder = attachmentsRoot() / server::toHex(patient);
      if (!hash.empty()) folder /= hash;
      std::error_code ec;
      if (!fs::exists(folder, ec)) return 0;
      std::int64_t n = 0;
      for (const auto& e : fs::recursive_directory_iterator(folder)) n += e.is_regular_file() ? 1 : 0;
      return n;
    }
    return countRows(hash.empty() ? "SELECT COUNT(*) FROM attachment_blobs WHERE patient_id = $1"
                                  : "SELECT COUNT(*) FROM attachment_blobs WHERE patient_id = $1 AND hash = $2",
                     patient, hash);
  }

  // Rows of the store's own tables for an attachment (both backends).
  std::int64_t metadataRows(const std::string& patient, const std::string& hash) {
    return countRows("SELECT COUNT(*) FROM attachments WHERE patient_id = $1 AND hash = $2", patient, hash) +
           countRows("SELECT COUNT(*) FROM attachment_chunks WHERE patient_id = $1 AND hash = $2", patient, hash);
  }

  std::int64_t countRows(const std::string& sql, const std::string& patient, const std::string& hash) {
    auto db = openStoreDirectly(m_server);
    if (!db) return -1;
    auto lease = db->acquire();
    if (!lease.isOk()) return -1;
    std::vector<server::DbValue> params{patient};
    if (!hash.empty()) params.emplace_back(hash);
    auto rows = (*lease.value()).query(sql, params);
    if (!rows.isOk()) {
      qWarning("%s: %s", sql.c_str(), rows.status().toString().c_str());
      return -1;
    }
    return server::dbInt(rows.value()[0][0]);
  }

  // Flips one bit of a stored chunk behind the server's back: the file on
  // disk (SQLite) or the bytea (PostgreSQL).
  bool flipBit(const std::string& patient, const std::string& hash, std::size_t i, std::size_t byte) {
    if (!kPostgres) {
      fs::path file = blobFolder(patient, hash) / std::to_string(i);
      std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
      if (!f) return false;
      f.seekg(static_cast<std::streamoff>(byte));
      char ch = 0;
      f.read(&ch, 1);
      ch = static_cast<char>(ch ^ 0x10);
      f.seekp(static_cast<std::streamoff>(byte));
      f.write(&ch, 1);
      return static_cast<bool>(f);
    }
    auto db = openStoreDirectly(m_server);
    if (!db) return false;
    auto lease = db->acquire();
    if (!lease.isOk()) return false;
    server::Connection& c = *lease.value();
    auto rows = c.query("SELECT bytes FROM attachment_blobs WHERE patient_id = $1 AND hash = $2 AND idx = $3",
                        std::vector<server::DbValue>{patient, hash, static_cast<std::int64_t>(i)});
    if (!rows.isOk() || rows.value().empty()) return false;
    std::string bytes = server::dbBytes(rows.value()[0][0]);
    bytes[byte] = static_cast<char>(bytes[byte] ^ 0x10);
    return c
        .exec("UPDATE attachment_blobs SET bytes = $4 WHERE patient_id = $1 AND hash = $2 AND idx = $3",
              std::vector<server::DbValue>{patient, hash, static_cast<std::int64_t>(i), server::Blob{bytes}})
        .isOk();
  }

 private slots:
  void initTestCase() {
    // As TestServer::start, with this suite's limits: JSON bodies of at most
    // 64 KiB, attachments of at most 8 MiB.
    m_server.config.data = m_server.dir.path().toStdString() + "/data";
    if (kPostgres) {
      if (m_disk.mount(kStoreFilesystemBytes, &m_noDisk) && m_disk.makeTablespaceFolder(&m_tablespace, &m_noDisk)) {
        m_server.config.postgres = newPostgresDatabaseIn(m_tablespace, &m_server.error);
      } else {
        m_tablespace.clear();
        m_server.config.postgres = newPostgresDatabase(&m_server.error);
      }
      QVERIFY2(!m_server.config.postgres.empty(), m_server.error.c_str());
    }
    m_server.config.listen = "127.0.0.1:" + std::to_string(freePort());
    m_server.config.demo = true;
    m_server.config.logFile = m_server.dir.path().toStdString() + "/server.log";
    m_server.config.logLevel = "warn";
    m_server.config.maxBodyBytes = kMaxBody;
    m_server.config.maxAttachmentBytes = kMaxAttachment;
    auto s = server::Server::start(m_server.config);
    QVERIFY2(s.isOk(), s.status().toString().c_str());
    m_server.server = std::move(s).value();

    m_admin = std::make_unique<AdminClient>(m_server.url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
    m_tablet = std::make_unique<TabletClient>(m_server.url());
    enrolAndLogin(*m_tablet, m_server, issueCode(*m_admin));
  }

  void multiChunkUploadCompletesAndDownloadsIdentical() {
    const std::string patient = newPatient();
    QVERIFY(!patient.empty());
    const std::string data = randomFile(kChunk * 5 + kChunk / 2, kJpeg, 1);  // 5.5 MiB
    const std::string hash = hexSha256(data);

    HttpResult d = declare(patient, hash, static_cast<std::int64_t>(data.size()));
    QVERIFY2(d.status == 200, d.body.c_str());
    json::Value v = parseJson(d.body);
    QCOMPARE(QString::fromStdString(str(v, "state")), QStringLiteral("uploading"));
    QCOMPARE(num(v, "size"), static_cast<std::int64_t>(data.size()));
    QCOMPARE(QString::fromStdString(str(v, "media_type")), QStringLiteral("image/jpeg"));
    QCOMPARE(num(v, "chunk_size"), static_cast<std::int64_t>(kChunk));
    QCOMPARE(num(v, "chunks"), std::int64_t{6});
    QVERIFY(ints(v, "missing") == (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));

    for (std::size_t i = 0; i < 6; ++i) {
      HttpResult r = putChunk(patient, hash, i, chunkOf(data, i));
      QVERIFY2(r.status == 200, r.body.c_str());
      json::Value rv = parseJson(r.body);
      QCOMPARE(QString::fromStdString(str(rv, "state")),
               i < 5 ? QStringLiteral("uploading") : QStringLiteral("complete"));
      QCOMPARE(ints(rv, "missing").size(), 5 - i);
    }

    HttpResult st = status(patient, hash);
    QCOMPARE(st.status, 200);
    json::Value sv = parseJson(st.body);
    QCOMPARE(QString::fromStdString(str(sv, "state")), QStringLiteral("complete"));
    QVERIFY(ints(sv, "missing").empty());
    const json::Array& hashes = *sv.find("chunk_hashes")->asArray();
    QCOMPARE(hashes.size(), std::size_t{6});

    std::string downloaded;
    for (std::size_t i = 0; i < 6; ++i) {
      HttpResult r = getChunk(patient, hash, i);
      QVERIFY2(r.status == 200, r.body.substr(0, 200).c_str());
      QCOMPARE(QString::fromStdString(*r.header("content-type")), QStringLiteral("application/octet-stream"));
      QCOMPARE(QString::fromStdString(*hashes[i].asString()), QString::fromStdString(hexSha256(r.body)));
      downloaded += r.body;
    }
    QCOMPARE(downloaded.size(), data.size());
    QCOMPARE(QString::fromStdString(hexSha256(downloaded)), QString::fromStdString(hash));
    QVERIFY(downloaded == data);

    // Where the bytes are: six chunk files (0600 in 0700 folders), or six rows.
    QCOMPARE(storedChunks(patient, hash), std::int64_t{6});
    if (!kPostgres) {
      struct stat sb {};
      QCOMPARE(::stat((blobFolder(patient, hash) / "5").c_str(), &sb), 0);
      QCOMPARE(static_cast<int>(sb.st_mode & 0777), 0600);
      QCOMPARE(static_cast<std::int64_t>(sb.st_size), static_cast<std::int64_t>(kChunk / 2));
      QCOMPARE(::stat(blobFolder(patient, hash).c_str(), &sb), 0);
      QCOMPARE(static_cast<int>(sb.st_mode & 0777), 0700);
      QCOMPARE(::stat(attachmentsRoot().c_str(), &sb), 0);
      QCOMPARE(static_cast<int>(sb.st_mode & 0777), 0700);
    }

    // Audited: the upload once, the download (chunk 0) once, naming patient and hash.
    auto matching = [&](const std::string& action) {
      int n = 0;
      for (const json::Value& e : auditOf(*m_admin, action)) {
        const json::Value* detail = e.find("detail");
        if (str(e, "patient") == patient && detail && str(*detail, "hash") == hash &&
            str(e, "device") == m_tablet->deviceId && str(e, "user") == "nurse") {
          ++n;
        }
      }
      return n;
    };
    QCOMPARE(matching("attachment.upload"), 1);
    QCOMPARE(matching("attachment.download"), 1);
    QVERIFY(chainVerifies(*m_admin));

    // Sending a chunk of a complete attachment again changes nothing.
    HttpResult again = putChunk(patient, hash, 2, chunkOf(data, 2));
    QCOMPARE(again.status, 200);
    QCOMPARE(QString::fromStdString(str(parseJson(again.body), "state")), QStringLiteral("complete"));
    QCOMPARE(getChunk(patient, hash, 2).body, chunkOf(data, 2));
    // Declaring it again answers its state; another size or type is refused.
    QCOMPARE(QString::fromStdString(
                 str(parseJson(declare(patient, hash, static_cast<std::int64_t>(data.size())).body), "state")),
             QStringLiteral("complete"));
    HttpResult other = declare(patient, hash, static_cast<std::int64_t>(data.size()) + 1);
    QCOMPARE(other.status, 409);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size()), "image/png").status, 409);
  }

  void resumeSendsOnlyWhatIsMissing() {
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk * 3 + 100, kPng, 2);
    const std::string hash = hexSha256(data);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size()), "image/png").status, 200);
    QCOMPARE(putChunk(patient, hash, 0, chunkOf(data, 0)).status, 200);
    QCOMPARE(putChunk(patient, hash, 2, chunkOf(data, 2)).status, 200);

    // The connection dropped: the tablet asks what the server holds.
    HttpResult st = status(patient, hash);
    QCOMPARE(st.status, 200);
    json::Value v = parseJson(st.body);
    QCOMPARE(QString::fromStdString(str(v, "state")), QStringLiteral("uploading"));
    QVERIFY(ints(v, "missing") == (std::vector<std::int64_t>{1, 3}));
    QVERIFY(v.find("chunk_hashes") == nullptr);
    // Declaring again is harmless and answers the same.
    HttpResult again = declare(patient, hash, static_cast<std::int64_t>(data.size()), "image/png");
    QCOMPARE(again.status, 200);
    QVERIFY(ints(parseJson(again.body), "missing") == (std::vector<std::int64_t>{1, 3}));
    // A chunk already held is accepted again.
    HttpResult dup = putChunk(patient, hash, 2, chunkOf(data, 2));
    QCOMPARE(dup.status, 200);
    QVERIFY(ints(parseJson(dup.body), "missing") == (std::vector<std::int64_t>{1, 3}));
    // Not complete yet: no download.
    HttpResult early = getChunk(patient, hash, 0);
    QCOMPARE(early.status, 409);
    QCOMPARE(QString::fromStdString(errorCode(early)), QStringLiteral("incomplete"));

    QCOMPARE(putChunk(patient, hash, 3, chunkOf(data, 3)).status, 200);
    HttpResult last = putChunk(patient, hash, 1, chunkOf(data, 1));
    QCOMPARE(last.status, 200);
    QCOMPARE(QString::fromStdString(str(parseJson(last.body), "state")), QStringLiteral("complete"));
    QCOMPARE(getChunk(patient, hash, 3).body, chunkOf(data, 3));
    QCOMPARE(storedChunks(patient, hash), std::int64_t{4});
  }

  void twoSendersOfTheSameUploadAgree() {
    // A tablet that retries while its first attempt still runs: every chunk
    // sent twice at once, in opposite orders.
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk * 4 + 4321, kJpeg, 15);
    const std::string hash = hexSha256(data);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size())).status, 200);
    std::vector<int> statuses[2];
    auto send = [&](int which) {
      HttpClient client(m_server.url());
      for (std::size_t k = 0; k < 5; ++k) {
        const std::size_t i = which == 0 ? k : 4 - k;
        statuses[which].push_back(client
                                      .request("PUT", chunkPath(patient, hash, i), chunkOf(data, i), m_tablet->auth(),
                                               "application/octet-stream")
                                      .status);
      }
    };
    std::thread a(send, 0), b(send, 1);
    a.join();
    b.join();
    for (const auto& list : statuses) {
      for (int st : list) QCOMPARE(st, 200);
    }
    json::Value v = parseJson(status(patient, hash).body);
    QCOMPARE(QString::fromStdString(str(v, "state")), QStringLiteral("complete"));
    std::string downloaded;
    for (std::size_t i = 0; i < 5; ++i) downloaded += getChunk(patient, hash, i).body;
    QVERIFY(downloaded == data);
    int uploads = 0;
    for (const json::Value& e : auditOf(*m_admin, "attachment.upload")) uploads += str(e, "patient") == patient;
    QCOMPARE(uploads, 1);
    // No temporary file is left behind.
    if (!kPostgres) {
      for (const auto& e : fs::recursive_directory_iterator(blobFolder(patient, hash))) {
        QVERIFY2(e.path().filename().string().find(".tmp") == std::string::npos, e.path().c_str());
      }
    }
  }

  void anUploadResumesAfterTheServerRestarts() {
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk * 2 + 77, kJpeg, 16);
    const std::string hash = hexSha256(data);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size())).status, 200);
    QCOMPARE(putChunk(patient, hash, 0, chunkOf(data, 0)).status, 200);
    QCOMPARE(putChunk(patient, hash, 2, chunkOf(data, 2)).status, 200);
    restartAfter(m_server, {});
    // A new connection to the new process, with the same device and session.
    auto tablet = std::make_unique<TabletClient>(m_server.url());
    tablet->deviceId = m_tablet->deviceId;
    tablet->secret = m_tablet->secret;
    tablet->replica = m_tablet->replica;
    tablet->token = m_tablet->token;
    m_tablet = std::move(tablet);
    m_admin = std::make_unique<AdminClient>(m_server.url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
    HttpResult st = status(patient, hash);
    QCOMPARE(st.status, 200);
    QVERIFY(ints(parseJson(st.body), "missing") == (std::vector<std::int64_t>{1}));
    HttpResult last = putChunk(patient, hash, 1, chunkOf(data, 1));
    QCOMPARE(last.status, 200);
    QCOMPARE(QString::fromStdString(str(parseJson(last.body), "state")), QStringLiteral("complete"));
    QCOMPARE(getChunk(patient, hash, 1).body, chunkOf(data, 1));
  }

  void badChunksAreRefusedAndNotStored() {
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk * 2 + 10, kJpeg, 3);
    const std::string hash = hexSha256(data);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size())).status, 200);
    // One byte short, one byte over, a last chunk of a whole chunk's length.
    HttpResult shortChunk = putChunk(patient, hash, 0, chunkOf(data, 0).substr(1));
    QCOMPARE(shortChunk.status, 400);
    QCOMPARE(QString::fromStdString(errorCode(shortChunk)), QStringLiteral("invalid"));
    QCOMPARE(putChunk(patient, hash, 1, chunkOf(data, 1) + "x").status, 400);
    QCOMPARE(putChunk(patient, hash, 2, chunkOf(data, 1)).status, 400);
    // No such chunk, no index, not an index.
    QCOMPARE(putChunk(patient, hash, 3, "abc").status, 400);
    QCOMPARE(
        m_tablet->http
            .request("PUT", path(patient, hash) + "/chunks/-1", "abc", m_tablet->auth(), "application/octet-stream")
            .status,
        400);
    QCOMPARE(
        m_tablet->http
            .request("PUT", path(patient, hash) + "/chunks/01", "abc", m_tablet->auth(), "application/octet-stream")
            .status,
        400);
    // Far more than a chunk: the HTTP layer refuses it before the handler.
    HttpResult huge = putChunk(patient, hash, 0, std::string(2 * kChunk, 'x'));
    QVERIFY2(huge.status == 413, (huge.error + huge.body).c_str());
    QCOMPARE(QString::fromStdString(errorCode(huge)), QStringLiteral("body_too_large"));
    // Nothing of it was stored.
    json::Value v = parseJson(status(patient, hash).body);
    QVERIFY(ints(v, "missing") == (std::vector<std::int64_t>{0, 1, 2}));
    QCOMPARE(storedChunks(patient, hash), std::int64_t{0});
    // A chunk with the wrong content type.
    QCOMPARE(
        m_tablet->http
            .request("PUT", chunkPath(patient, hash, 2), data.substr(2 * kChunk), m_tablet->auth(), "application/json")
            .status,
        415);
    // A chunk of an upload never declared.
    const std::string undeclared = hexSha256("never declared");
    QCOMPARE(putChunk(patient, undeclared, 0, "abc").status, 404);
    // The JSON routes keep max_body_bytes (64 KiB here) while a chunk takes 1 MiB.
    HttpResult bigJson = m_tablet->http.request("PUT", path(patient, hash),
                                                "{\"size\": 1, \"media_type\": \"" + std::string(kMaxBody, 'a') + "\"}",
                                                m_tablet->auth());
    QCOMPARE(bigJson.status, 413);
    // The upload still works afterwards.
    for (std::size_t i = 0; i < 3; ++i) QCOMPARE(putChunk(patient, hash, i, chunkOf(data, i)).status, 200);
    QCOMPARE(QString::fromStdString(str(parseJson(status(patient, hash).body), "state")), QStringLiteral("complete"));
  }

  void aFullDiskRefusesAChunkAndKeepsNothing() {
    if (kPostgres && !m_disk.mounted()) {
      QSKIP(("no filesystem of its own for the PostgreSQL store to fill: " + m_noDisk).c_str());
    }
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk + 10, kJpeg, 15);
    const std::string hash = hexSha256(data);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size())).status, 200);
    HttpResult refused;
    if (kPostgres) {
      // The store's filesystem fills but a quarter of a chunk: the cluster's
      // writes fail with ENOSPC (its error 53100).
      std::string error;
      QVERIFY2(m_disk.fillLeaving(static_cast<std::int64_t>(kChunk / 4), &error), error.c_str());
      refused = putChunk(patient, hash, 0, chunkOf(data, 0));
      QVERIFY2(m_disk.removeBallast(&error), error.c_str());
    } else {
      // No file of this (in-process) server may grow past half a chunk.
      // Writes past it fail with EFBIG, as on a full filesystem.
      struct rlimit before {};
      QCOMPARE(::getrlimit(RLIMIT_FSIZE, &before), 0);
      const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
      struct rlimit full = before;
      full.rlim_cur = kChunk / 2;
      QCOMPARE(::setrlimit(RLIMIT_FSIZE, &full), 0);
      refused = putChunk(patient, hash, 0, chunkOf(data, 0));
      ::setrlimit(RLIMIT_FSIZE, &before);
      std::signal(SIGXFSZ, oldHandler);
    }
    QVERIFY2(refused.status == 507, (std::to_string(refused.status) + " " + refused.body).c_str());
    QCOMPARE(QString::fromStdString(errorCode(refused)), QStringLiteral("insufficient_storage"));
    QVERIFY(refused.header("retry-after") != nullptr);
    // Nothing of it is kept: no chunk, no half-written file.
    QCOMPARE(storedChunks(patient, hash), std::int64_t{0});
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(attachmentsRoot(), ec)) {
      QVERIFY2(entry.path().filename().string().find(".tmp-") == std::string::npos, entry.path().c_str());
    }
    QVERIFY(ints(parseJson(status(patient, hash).body), "missing") == (std::vector<std::int64_t>{0, 1}));
    // Room returns: the same chunks go through, and the bytes come back.
    for (std::size_t i = 0; i < 2; ++i) QCOMPARE(putChunk(patient, hash, i, chunkOf(data, i)).status, 200);
    QCOMPARE(QString::fromStdString(str(parseJson(status(patient, hash).body), "state")), QStringLiteral("complete"));
    HttpResult back = getChunk(patient, hash, 0);
    QCOMPARE(back.status, 200);
    QVERIFY(back.body == chunkOf(data, 0));
  }

  void aBodyCutShortIsNeverStored() {
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk + 10, kJpeg, 14);
    const std::string hash = hexSha256(data);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size())).status, 200);
    // The tablet's connection drops after 1000 of the chunk's 1 MiB.
    std::string request = "PUT " + chunkPath(patient, hash, 0) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : m_tablet->auth()) request += name + ": " + value + "\r\n";
    request += "Content-Type: application/octet-stream\r\nContent-Length: " + std::to_string(kChunk) + "\r\n\r\n";
    request += chunkOf(data, 0).substr(0, 1000);
    (void)rawHttp("127.0.0.1", m_server.server->port(), request);
    // The server answers the next request normally, and holds nothing of it.
    HttpResult st = status(patient, hash);
    QCOMPARE(st.status, 200);
    QVERIFY(ints(parseJson(st.body), "missing") == (std::vector<std::int64_t>{0, 1}));
    QCOMPARE(storedChunks(patient, hash), std::int64_t{0});
    QCOMPARE(countRows("SELECT COUNT(*) FROM attachment_chunks WHERE patient_id = $1 AND hash = $2", patient, hash),
             std::int64_t{0});
  }

  void declarationsAreChecked() {
    const std::string patient = newPatient();
    const std::string hash = hexSha256("a declaration");
    // Over max_attachment_bytes.
    HttpResult big = declare(patient, hash, static_cast<std::int64_t>(kMaxAttachment) + 1);
    QCOMPARE(big.status, 413);
    QCOMPARE(QString::fromStdString(errorCode(big)), QStringLiteral("too_large"));
    // Exactly the limit is fine.
    QCOMPARE(declare(patient, hexSha256("at the limit"), static_cast<std::int64_t>(kMaxAttachment)).status, 200);
    // Other media types.
    for (const char* type : {"image/gif", "text/html", "application/octet-stream", "IMAGE/JPEG", ""}) {
      HttpResult r = declare(patient, hash, 10, type);
      QCOMPARE(r.status, 415);
      QCOMPARE(QString::fromStdString(errorCode(r)), QStringLiteral("unsupported_media_type"));
    }
    // Sizes and hashes.
    QCOMPARE(declare(patient, hash, 0).status, 400);
    QCOMPARE(declare(patient, hash, -5).status, 400);
    std::string upper = hash;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    QVERIFY(upper != hash);
    for (const std::string& bad : {upper, hash.substr(1), hash + "0", std::string(64, 'g'), std::string("zz")}) {
      HttpResult r = declare(patient, bad, 10);
      QCOMPARE(r.status, 400);
      QCOMPARE(status(patient, bad).status, 400);
    }
    QCOMPARE(m_tablet->http.request("PUT", path(patient, hash), "{\"size\": 10}", m_tablet->auth()).status, 400);
    QCOMPARE(m_tablet->http
                 .request("PUT", path(patient, hash), "{\"size\": 10, \"media_type\": \"image/png\", \"x\": 1}",
                          m_tablet->auth())
                 .status,
             400);
    // None of them left anything.
    HttpResult st = status(patient, hash);
    QCOMPARE(st.status, 404);
    QCOMPARE(metadataRows(patient, hash), std::int64_t{0});
  }

  void wrongSignatureDiscardsTheUpload() {
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk + 500, kPng, 4);  // a PNG...
    const std::string hash = hexSha256(data);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size()), "image/jpeg").status, 200);  // ...said JPEG
    QCOMPARE(putChunk(patient, hash, 1, chunkOf(data, 1)).status, 200);
    QCOMPARE(storedChunks(patient, hash), std::int64_t{1});
    HttpResult r = putChunk(patient, hash, 0, chunkOf(data, 0));
    QCOMPARE(r.status, 415);
    QCOMPARE(QString::fromStdString(errorCode(r)), QStringLiteral("wrong_type"));
    // The whole upload is gone: no rows, no bytes.
    QCOMPARE(status(patient, hash).status, 404);
    QCOMPARE(metadataRows(patient, hash), std::int64_t{0});
    QCOMPARE(storedChunks(patient, hash), std::int64_t{0});
    // Declared as what it is, it uploads.
    HttpResult ok = upload(patient, data, "image/png");
    QVERIFY2(ok.status == 200, ok.body.c_str());
    QCOMPARE(QString::fromStdString(str(parseJson(ok.body), "state")), QStringLiteral("complete"));
    // A PDF must start with %PDF-.
    const std::string pdf = "%PDF-1.7\n" + randomFile(3000, "", 5);
    HttpResult pdfOk = upload(patient, pdf, "application/pdf");
    QCOMPARE(pdfOk.status, 200);
    const std::string notPdf = "%PS-Adobe" + randomFile(3000, "", 6);
    QCOMPARE(upload(patient, notPdf, "application/pdf").status, 415);
    QCOMPARE(status(patient, hexSha256(notPdf)).status, 404);
  }

  void contentThatIsNotItsAddressIsDiscarded() {
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk * 2 + 1234, kJpeg, 7);
    std::string tampered = data;
    tampered[kChunk + 77] = static_cast<char>(tampered[kChunk + 77] ^ 1);  // chunk 1 differs
    const std::string hash = hexSha256(data);
    QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size())).status, 200);
    QCOMPARE(putChunk(patient, hash, 0, chunkOf(tampered, 0)).status, 200);
    QCOMPARE(putChunk(patient, hash, 1, chunkOf(tampered, 1)).status, 200);
    HttpResult last = putChunk(patient, hash, 2, chunkOf(tampered, 2));
    QCOMPARE(last.status, 422);
    QCOMPARE(QString::fromStdString(errorCode(last)), QStringLiteral("corrupt"));
    // Nothing half-stored: the upload is unknown again, without rows or bytes.
    QCOMPARE(status(patient, hash).status, 404);
    QCOMPARE(metadataRows(patient, hash), std::int64_t{0});
    QCOMPARE(storedChunks(patient, hash), std::int64_t{0});
    // The tablet starts over and every chunk is missing again.
    HttpResult again = declare(patient, hash, static_cast<std::int64_t>(data.size()));
    QCOMPARE(again.status, 200);
    QVERIFY(ints(parseJson(again.body), "missing") == (std::vector<std::int64_t>{0, 1, 2}));
    HttpResult ok;
    for (std::size_t i = 0; i < 3; ++i) ok = putChunk(patient, hash, i, chunkOf(data, i));
    QCOMPARE(ok.status, 200);
    QCOMPARE(QString::fromStdString(str(parseJson(ok.body), "state")), QStringLiteral("complete"));
  }

  void aFlippedBitIsFoundBeforeServing() {
    const std::string patient = newPatient();
    const std::string data = randomFile(kChunk * 2 + 99, kJpeg, 8);
    const std::string hash = hexSha256(data);
    QCOMPARE(upload(patient, data).status, 200);
    QVERIFY(flipBit(patient, hash, 1, 4242));
    HttpResult r = getChunk(patient, hash, 1);
    QCOMPARE(r.status, 500);
    QCOMPARE(QString::fromStdString(errorCode(r)), QStringLiteral("corrupt_chunk"));
    QVERIFY2(r.body.find("chunk 1") != std::string::npos, r.body.c_str());
    // The other chunks are still served; the damage is audited.
    QCOMPARE(getChunk(patient, hash, 0).body, chunkOf(data, 0));
    QCOMPARE(getChunk(patient, hash, 2).body, chunkOf(data, 2));
    bool audited = false;
    for (const json::Value& e : auditOf(*m_admin, "attachment.corrupt")) {
      if (str(e, "patient") != patient) continue;
      const json::Value* detail = e.find("detail");
      audited = detail && str(*detail, "hash") == hash && num(*detail, "chunk") == 1;
    }
    QVERIFY(audited);
  }

  // The FHIR export carries a photo's bytes once the server holds them whole
  // and intact: not before the upload, and not after a bit flipped on disk.
  void theFhirExportCarriesTheBytesItHolds() {
    const std::string patient = unique("att-fhir");
    Chart chart(m_tablet->replica, "nurse", patient, m_nextSeq);
    m_nextSeq += 10;
    const std::string data = randomFile(kChunk + kChunk / 2, kJpeg, 21);
    const std::string hash = hexSha256(data);
    namespace field = crdt::field;
    const crdt::Op name = chart.write(field::kFamilyName, std::string("Okafor"));
    const crdt::Op entry =
        chart.factory.addEntry(chart.doc, crdt::Collection::kAttachments,
                               {{field::kContentHash, crdt::Value{hash}},
                                {field::kMediaType, crdt::Value{std::string("image/jpeg")}},
                                {field::kContentSize, crdt::Value{static_cast<std::int64_t>(data.size())}},
                                {field::kAttachmentKind, crdt::Value{std::string("wound-photo")}},
                                {field::kDisplay, crdt::Value{std::string("Left heel")}}});
    QVERIFY(chart.doc.apply(entry).isOk());
    HttpResult pushed = m_tablet->push({name, entry});
    QVERIFY2(pushed.status == 200 && num(parseJson(pushed.body), "stored") == 2, pushed.body.c_str());

    // The Media resource of the export, or a null value.
    auto media = [&]() -> json::Value {
      HttpResult r = m_admin->get("/fhir/Patient/" + patient + "/$everything");
      if (r.status != 200) {
        qWarning("export failed: %d %s", r.status, r.body.substr(0, 300).c_str());
        return {};
      }
      const json::Value bundle = parseJson(r.body);
      for (const json::Value& e : *bundle.find("entry")->asArray()) {
        const json::Value* res = e.find("resource");
        if (res && str(*res, "resourceType") == "Media") return *res;
      }
      return {};
    };
    json::Value before = media();
    QVERIFY(before.isObject());
    QCOMPARE(QString::fromStdString(str(*before.find("content"), "contentType")), QStringLiteral("image/jpeg"));
    QVERIFY(before.find("content")->find("data") == nullptr);  // not uploaded yet

    QCOMPARE(upload(patient, data).status, 200);
    json::Value after = media();
    QVERIFY(after.isObject());
    const std::optional<std::string> bytes = server::base64Decode(str(*after.find("content"), "data"));
    QVERIFY(bytes.has_value());
    QVERIFY(*bytes == data);
    QCOMPARE(num(*after.find("content"), "size"), static_cast<std::int64_t>(data.size()));

    QVERIFY(flipBit(patient, hash, 1, 77));
    json::Value damaged = media();
    QVERIFY(damaged.isObject());
    QVERIFY(damaged.find("content")->find("data") == nullptr);
  }

  void otherClinicsPatientsAreNotFound() {
    // A patient of the tablet's clinic moved to another clinic, and one the
    // server never heard of: both 404 on every route.
    const std::string patient = newPatient();
    const std::string data = randomFile(5000, kJpeg, 9);
    const std::string hash = hexSha256(data);
    QCOMPARE(upload(patient, data).status, 200);
    QCOMPARE(m_admin->post("/v1/admin/clinics", json::Object{{"id", "elsewhere"}, {"name", "Elsewhere"}}).status, 201);
    QCOMPARE(
        m_admin->post("/v1/admin/patients/move", json::Object{{"patient", patient}, {"clinic", "elsewhere"}}).status,
        200);
    for (const std::string& p : {patient, std::string("never-charted")}) {
      QCOMPARE(declare(p, hash, static_cast<std::int64_t>(data.size())).status, 404);
      QCOMPARE(putChunk(p, hash, 0, data).status, 404);
      QCOMPARE(status(p, hash).status, 404);
      HttpResult g = getChunk(p, hash, 0);
      QCOMPARE(g.status, 404);
      QCOMPARE(QString::fromStdString(errorCode(g)), QStringLiteral("not_found"));
    }
    // Moved back, the attachment is there again: a move keeps it.
    QCOMPARE(m_admin->post("/v1/admin/patients/move", json::Object{{"patient", patient}, {"clinic", "demo"}}).status,
             200);
    QCOMPARE(getChunk(patient, hash, 0).body, data);
  }

  void credentialsAreNeeded() {
    const std::string patient = newPatient();
    const std::string data = randomFile(5000, kJpeg, 10);
    const std::string hash = hexSha256(data);
    QCOMPARE(upload(patient, data).status, 200);
    const HeaderList none;
    const HeaderList deviceOnly = m_tablet->deviceHeader();
    const HeaderList sessionOnly{{"Authorization", "Bearer " + m_tablet->token}};
    const HeaderList sysadmin = m_admin->auth();
    for (const HeaderList* h : {&none, &deviceOnly, &sessionOnly}) {
      QCOMPARE(declare(patient, hash, static_cast<std::int64_t>(data.size()), "image/jpeg", h).status, 401);
      QCOMPARE(putChunk(patient, hash, 0, data, h).status, 401);
      QCOMPARE(status(patient, hash, h).status, 401);
      HttpResult g = getChunk(patient, hash, 0, h);
      QCOMPARE(g.status, 401);
      QVERIFY(g.body.find("\xFF\xD8\xFF") == std::string::npos);
    }
    // A sysadmin's session has no device: sysadmins do not sync charts.
    QCOMPARE(getChunk(patient, hash, 0, &sysadmin).status, 401);
  }

  void purgeRemovesThePatientsBlobs() {
    const std::string patient = newPatient();
    const std::string keep = newPatient();
    const std::string a = randomFile(kChunk + 10, kJpeg, 11);
    const std::string b = randomFile(300, kPng, 12);
    QCOMPARE(upload(patient, a).status, 200);
    QCOMPARE(upload(patient, b, "image/png").status, 200);
    const std::string partial = randomFile(kChunk * 2, kJpeg, 13);
    QCOMPARE(declare(patient, hexSha256(partial), static_cast<std::int64_t>(partial.size())).status, 200);
    QCOMPARE(putChunk(patient, hexSha256(partial), 0, chunkOf(partial, 0)).status, 200);
    QCOMPARE(upload(keep, b, "image/png").status, 200);
    QCOMPARE(storedChunks(patient), std::int64_t{4});

    // Only a sysadmin purges.
    HttpResult byTablet =
        m_tablet->http.request("DELETE", "/v1/admin/patients/" + patient + "/attachments", {}, m_tablet->auth());
    QCOMPARE(byTablet.status, 403);
    HttpResult r =
        m_admin->http.request("DELETE", "/v1/admin/patients/" + patient + "/attachments", {}, m_admin->auth());
    QVERIFY2(r.status == 200, r.body.c_str());
    QCOMPARE(num(parseJson(r.body), "removed"), std::int64_t{3});
    QCOMPARE(storedChunks(patient), std::int64_t{0});
    if (!kPostgres) QVERIFY(!fs::exists(attachmentsRoot() / server::toHex(patient)));
    QCOMPARE(metadataRows(patient, hexSha256(a)), std::int64_t{0});
    QCOMPARE(status(patient, hexSha256(a)).status, 404);
    QCOMPARE(status(patient, hexSha256(partial)).status, 404);
    bool audited = false;
    for (const json::Value& e : auditOf(*m_admin, "attachment.purge")) audited |= str(e, "patient") == patient;
    QVERIFY(audited);
    // Another patient's copy of the same content stays.
    QCOMPARE(getChunk(keep, hexSha256(b), 0).body, b);
    QCOMPARE(storedChunks(keep), std::int64_t{1});
  }

  // PostgreSQL's store on its own filesystem: the server stops, the database
  // and its tablespace go, then the filesystem.
  void cleanupTestCase() {
    if (m_tablespace.empty()) return;
    m_tablet.reset();
    m_admin.reset();
    m_server.server.reset();
    std::string error;
    QVERIFY2(dropPostgresDatabase(m_server.config.postgres, m_tablespace, &error), error.c_str());
    QVERIFY2(m_disk.unmount(&error), error.c_str());
  }
};

QTEST_GUILESS_MAIN(AttachmentsTest)
#include "attachments_test.moc"
