// The tablet's encrypted attachment files (attachments.h, attachment_store.h).
//
// A blob file: "CHARTA-ATT-1\n" magic (13 bytes), the secretstream header
// (24 bytes), then one stream message per chunk (chunk + 17 bytes), the last
// tagged FINAL. Its length follows from the blob's size, which the sealed
// row holds, so a file cut or extended is caught before anything is
// decrypted. The stream key is a keyed hash of the patient's key (label
// "attachments.stream"); each chunk's associated data is
// "attachment \x1f patient \x1f hash \x1f index/chunks".
//
// New files are written as "<name>.tmp", fsynced, renamed to "<name>" and
// the folder fsynced; only then is the row written (durably). A crash in
// between leaves a file without a row, which sweep() deletes.
//
// Downloads arrive chunk by chunk into "<name>.part", each chunk fsynced
// before the row counts it. libsodium cannot re-create a push state from a
// stream's header, and a stream state holds key material, so it is never
// written to disk: while the process lives the state stays in memory (a
// Writer); after a restart (or lock()) the held chunks are read back,
// verified and encrypted again into a new stream (a new header, so no nonce
// is ever reused), which also rebuilds the running SHA-256 of the blob. That
// costs one pass over what is held, once per restart, and needs nothing
// but the patient's key.

#include "attachment_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "bytes.h"

namespace charta::sync {

namespace {

constexpr std::string_view kMagic = "CHARTA-ATT-1\n";
constexpr std::uint64_t kRowFormat = 1;
constexpr std::int64_t kStatePartial = 0;
constexpr std::int64_t kStateComplete = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS attachments (
  patient TEXT NOT NULL, name TEXT NOT NULL, state INTEGER NOT NULL, upload INTEGER NOT NULL,
  chunks_held INTEGER NOT NULL, file_bytes INTEGER NOT NULL, sealed BLOB NOT NULL,
  PRIMARY KEY (patient, name)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attachments_upload ON attachments(upload) WHERE upload = 1;
)sql";

std::string adRow(std::string_view patient, std::string_view name) {
  return "attachments\x1f" + std::string(patient) + "\x1f" + std::string(name);
}

std::string adChunk(std::string_view patient, std::string_view hash, std::uint64_t index, std::uint64_t chunks) {
  return "attachment\x1f" + std::string(patient) + "\x1f" + std::string(hash) + "\x1f" + std::to_string(index) + "/" +
         std::to_string(chunks);
}

std::string blobName(const SecretKey& patientKey, std::string_view hash) {
  return toHex(keyedHash(patientKey, "attachments.name\x1f" + std::string(hash)));
}

Result<SecretKey> streamKey(const SecretKey& patientKey) {
  std::string raw = keyedHash(patientKey, "attachments.stream");
  auto key = SecretKey::fromBytes(raw);
  wipeString(raw);
  return key;
}

std::uint64_t fileBytesFor(std::uint64_t size) {
  return kMagic.size() + kStreamHeaderBytes + size + attachmentChunkCount(size) * kStreamOverheadBytes;
}

std::uint64_t chunkOffset(std::uint64_t index) {
  return kMagic.size() + kStreamHeaderBytes + index * (kAttachmentChunkBytes + kStreamOverheadBytes);
}

Status errnoStatus(const std::string& what) { return Status::ioError(what + ": " + std::strerror(errno)); }

Status writeAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("cannot write " + path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

// Reads exactly n bytes at offset; fewer only at the end of the file.
Status readAt(int fd, std::uint64_t offset, std::size_t n, std::string& out) {
  out.assign(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("cannot read an attachment file");
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return Status::ok();
}

Status syncFolder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open " + folder);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errnoStatus("cannot sync " + folder);
  return Status::ok();
}

void unlinkQuietly(const std::string& path) { (void)::unlink(path.c_str()); }

class Fd {
 public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      m_fd = o.m_fd;
      o.m_fd = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }
  void reset() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

 private:
  int m_fd;
};

}  // namespace

// --- attachments.h helpers ---------------------------------------------------

bool isAttachmentMediaType(std::string_view mediaType) {
  return mediaType == "image/jpeg" || mediaType == "image/png" || mediaType == "application/pdf";
}

bool hasMediaTypeSignature(std::string_view mediaType, std::string_view bytes) {
  std::string_view signature;
  if (mediaType == "image/jpeg") signature = std::string_view("\xFF\xD8\xFF", 3);
  if (mediaType == "image/png") signature = std::string_view("\x89PNG\r\n\x1A\n", 8);
  if (mediaType == "application/pdf") signature = "%PDF-";
  return !signature.empty() && bytes.substr(0, signature.size()) == signature;
}

std::uint64_t attachmentChunkCount(std::uint64_t size) {
  return (size + kAttachmentChunkBytes - 1) / kAttachmentChunkBytes;
}

std::uint64_t attachmentChunkSize(std::uint64_t size, std::uint64_t index) {
  const std::uint64_t chunks = attachmentChunkCount(size);
  if (index >= chunks) return 0;
  return index + 1 < chunks ? kAttachmentChunkBytes : size - index * kAttachmentChunkBytes;
}

std::uint64_t attachmentStoredBytes(std::uint64_t size) { return fileBytesFor(size); }

// --- AttachmentReader --------------------------------------------------------

struct AttachmentReader::Impl {
  Fd fd;
  std::string patient;
  std::string hash;
  std::string mediaType;
  std::uint64_t size = 0;
  std::uint64_t chunks = 0;
  std::uint64_t next = 0;
  StreamOpener opener;
  Sha256 sha;
  Status failed;

  Status fail(Status s) {
    failed = s;
    return s;
  }
};

AttachmentReader::AttachmentReader(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
AttachmentReader::~AttachmentReader() = default;
const std::string& AttachmentReader::hash() const { return m_impl->hash; }
std::uint64_t AttachmentReader::size() const { return m_impl->size; }
std::uint64_t AttachmentReader::chunks() const { return m_impl->chunks; }
const std::string& AttachmentReader::mediaType() const { return m_impl->mediaType; }

Result<std::optional<std::string>> AttachmentReader::next() {
  Impl& d = *m_impl;
  if (!d.failed.isOk()) return d.failed;
  if (d.next >= d.chunks) return std::optional<std::string>();
  const std::uint64_t index = d.next;
  const std::uint64_t plain = attachmentChunkSize(d.size, index);
  std::string sealed;
  if (Status s = readAt(d.fd.get(), chunkOffset(index), static_cast<std::size_t>(plain + kStreamOverheadBytes), sealed);
      !s.isOk()) {
    return d.fail(s);
  }
  const std::string where = "attachment " + d.hash + " of patient " + d.patient + ": chunk " + std::to_string(index);
  if (sealed.size() != plain + kStreamOverheadBytes) return d.fail(Status::corruption(where + " is cut short"));
  bool final = false;
  auto opened = d.opener.pull(sealed, adChunk(d.patient, d.hash, index, d.chunks), &final);
  if (!opened.isOk()) {
    return d.fail(Status::corruption(
        where + " does not open (the file was changed, cut, or belongs to another patient or blob)"));
  }
  const bool last = index + 1 == d.chunks;
  if (final != last) {
    return d.fail(Status::corruption(where + (last ? " lacks the end-of-stream tag" : " ends the stream too early")));
  }
  d.sha.update(opened.value());
  if (last) {
    // Nothing may follow the final chunk, and the whole must hash to its address.
    std::string extra;
    if (Status s = readAt(d.fd.get(), chunkOffset(index) + sealed.size(), 1, extra); !s.isOk()) return d.fail(s);
    if (!extra.empty()) return d.fail(Status::corruption(where + " is followed by more bytes"));
    if (d.sha.finishHex() != d.hash)
      return d.fail(Status::corruption("attachment " + d.hash + " does not match its hash"));
  }
  ++d.next;
  return std::optional<std::string>(std::move(opened).value());
}

// --- AttachmentStore ---------------------------------------------------------

struct AttachmentStore::Row {
  std::string name;
  std::int64_t state = 0;
  std::int64_t upload = 0;
  std::uint64_t chunksHeld = 0;
  std::uint64_t fileBytes = 0;
  std::string sealed;
};

struct AttachmentStore::Writer {
  Fd fd;
  StreamSealer sealer;
  Sha256 sha;
  std::uint64_t held = 0;
  std::uint64_t offset = 0;  // where the next message goes
};

const char* AttachmentStore::schema() { return kSchema; }

AttachmentStore::AttachmentStore(SqliteDb& db, std::string folder) : m_db(db), m_folder(std::move(folder)) {}

AttachmentStore::~AttachmentStore() { forgetWriters(); }

void AttachmentStore::forgetWriters() { m_writers.clear(); }

Status AttachmentStore::ensureFolder() {
  if (::mkdir(m_folder.c_str(), 0700) != 0 && errno != EEXIST) return errnoStatus("cannot create " + m_folder);
  return Status::ok();
}

Result<std::optional<AttachmentStore::Row>> AttachmentStore::loadRow(const std::string& patient,
                                                                     const std::string& name) {
  auto st = m_db.prepare(
      "SELECT state, upload, chunks_held, file_bytes, sealed FROM attachments WHERE patient = ?1 AND name = ?2");
  if (!st.isOk()) return st.status();
  st.value()->bind(1, patient).bind(2, name);
  auto row = st.value()->step();
  if (!row.isOk()) return row.status();
  if (!row.value()) return std::optional<Row>();
  Row r;
  r.name = name;
  r.state = st.value()->int64(0);
  r.upload = st.value()->int64(1);
  r.chunksHeld = static_cast<std::uint64_t>(st.value()->int64(2));
  r.fileBytes = static_cast<std::uint64_t>(st.value()->int64(3));
  r.sealed = st.value()->text(4);
  return std::optional<Row>(std::move(r));
}

Result<AttachmentInfo> AttachmentStore::openRowInfo(const std::string& patient, const SecretKey& patientKey,
                                                    const Row& row) {
  auto opened = sync::open(patientKey, row.sealed, adRow(patient, row.name));
  if (!opened.isOk()) {
    return Status::corruption("the attachments row " + row.name + " of patient " + patient +
                              " does not open: the stored row was changed or moved");
  }
  AttachmentInfo info;
  info.patient = patient;
  ByteReader r(opened.value());
  std::uint64_t format = 0, thumbnail = 0;
  if (!r.u64(format) || format != kRowFormat || !r.str(info.hash) || !r.u64(info.size) || !r.str(info.mediaType) ||
      !r.i64(info.takenAtMs) || !r.u64(thumbnail) || !r.str(info.uploadError) || !r.atEnd() ||
      blobName(patientKey, info.hash) != row.name) {
    return Status::corruption("the attachments row " + row.name + " of patient " + patient + " is damaged");
  }
  info.thumbnail = thumbnail != 0;
  info.chunks = attachmentChunkCount(info.size);
  info.complete = row.state == kStateComplete;
  info.chunksHeld = info.complete ? info.chunks : row.chunksHeld;
  info.fileBytes = row.fileBytes;
  info.upload = row.upload == 1   ? AttachmentInfo::Upload::kPending
                : row.upload == 2 ? AttachmentInfo::Upload::kRefused
                                  : AttachmentInfo::Upload::kNone;
  return info;
}

Status AttachmentStore::writeRow(const std::string& patient, const SecretKey& patientKey, const AttachmentInfo& info,
                                 const std::string& name, bool durable) {
  ByteWriter w;
  w.u64(kRowFormat)
      .str(info.hash)
      .u64(info.size)
      .str(info.mediaType)
      .i64(info.takenAtMs)
      .u64(info.thumbnail ? 1 : 0)
      .str(info.uploadError);
  const std::int64_t upload = info.upload == AttachmentInfo::Upload::kPending   ? 1
                              : info.upload == AttachmentInfo::Upload::kRefused ? 2
                                                                                : 0;
  if (Status s = m_db.setDurable(durable); !s.isOk()) return s;
  auto st = m_db.prepare(
      "INSERT INTO attachments (patient, name, state, upload, chunks_held, file_bytes, sealed) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (patient, name) DO UPDATE SET state = excluded.state, "
      "upload = excluded.upload, chunks_held = excluded.chunks_held, file_bytes = excluded.file_bytes, "
      "sealed = excluded.sealed");
  if (!st.isOk()) return st.status();
  return st.value()
      ->bind(1, patient)
      .bind(2, name)
      .bind(3, info.complete ? kStateComplete : kStatePartial)
      .bind(4, upload)
      .bind(5, static_cast<std::int64_t>(info.complete ? info.chunks : info.chunksHeld))
      .bind(6, static_cast<std::int64_t>(info.fileBytes))
      .bindBlob(7, seal(patientKey, w.bytes(), adRow(patient, name)))
      .run();
}

Status AttachmentStore::deleteRow(const std::string& patient, const std::string& name) {
  if (Status s = m_db.setDurable(true); !s.isOk()) return s;
  auto st = m_db.prepare("DELETE FROM attachments WHERE patient = ?1 AND name = ?2");
  if (!st.isOk()) return st.status();
  return st.value()->bind(1, patient).bind(2, name).run();
}

void AttachmentStore::dropWriter(const std::string& patient, const std::string& name) {
  m_writers.erase(patient + "\x1f" + name);
}

Result<AttachmentInfo> AttachmentStore::store(const std::string& patient, const SecretKey& patientKey,
                                              std::string_view bytes, const AttachmentMeta& meta) {
  if (bytes.empty()) return Status::invalidArgument("an attachment needs at least one byte");
  if (bytes.size() > kMaxAttachmentBytes) {
    return Status::invalidArgument("an attachment holds at most " + std::to_string(kMaxAttachmentBytes >> 20) +
                                   " MiB, not " + std::to_string(bytes.size()) + " bytes");
  }
  if (!isAttachmentMediaType(meta.mediaType)) {
    return Status::invalidArgument("unsupported media type '" + meta.mediaType +
                                   "' (image/jpeg, image/png or application/pdf)");
  }
  if (!hasMediaTypeSignature(meta.mediaType, bytes)) {
    return Status::invalidArgument("the file is not " + meta.mediaType + " (its first bytes say otherwise)");
  }
  AttachmentInfo info;
  info.patient = patient;
  info.hash = sha256Hex(bytes);
  info.size = bytes.size();
  info.mediaType = meta.mediaType;
  info.takenAtMs = meta.takenAtMs;
  info.thumbnail = meta.thumbnail;
  info.chunks = attachmentChunkCount(info.size);
  info.chunksHeld = info.chunks;
  info.complete = true;
  info.fileBytes = fileBytesFor(info.size);
  info.upload = AttachmentInfo::Upload::kPending;
  const std::string name = blobName(patientKey, info.hash);
  auto existing = loadRow(patient, name);
  if (!existing.isOk()) return existing.status();
  if (existing.value() && existing.value()->state == kStateComplete) {
    return openRowInfo(patient, patientKey, *existing.value());  // stored once per patient
  }
  dropWriter(patient, name);  // a download under way is replaced by the whole blob
  if (Status s = ensureFolder(); !s.isOk()) return s;
  auto key = streamKey(patientKey);
  if (!key.isOk()) return key.status();
  const std::string tmp = pathOf(name + ".tmp");
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return errnoStatus("cannot create " + tmp);
  auto fail = [&](Status s) -> Result<AttachmentInfo> {
    fd.reset();
    unlinkQuietly(tmp);
    return s;
  };
  std::string header;
  StreamSealer sealer = StreamSealer::start(key.value(), &header);
  std::string out;
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(info.fileBytes, 8 * kAttachmentChunkBytes)));
  out.append(kMagic).append(header);
  for (std::uint64_t i = 0; i < info.chunks; ++i) {
    const auto begin = static_cast<std::size_t>(i * kAttachmentChunkBytes);
    const auto n = static_cast<std::size_t>(attachmentChunkSize(info.size, i));
    out += sealer.push(bytes.substr(begin, n), adChunk(patient, info.hash, i, info.chunks), i + 1 == info.chunks);
    if (out.size() >= 4 * kAttachmentChunkBytes || i + 1 == info.chunks) {
      if (Status s = writeAll(fd.get(), out, tmp); !s.isOk()) return fail(s);
      out.clear();
    }
  }
  if (::fsync(fd.get()) != 0) return fail(errnoStatus("cannot sync " + tmp));
  fd.reset();
  unlinkQuietly(pathOf(name + ".part"));
  if (::rename(tmp.c_str(), pathOf(name).c_str()) != 0) return fail(errnoStatus("cannot rename " + tmp));
  if (Status s = syncFolder(m_folder); !s.isOk()) return s;
  if (Status s = writeRow(patient, patientKey, info, name, true); !s.isOk()) {
    unlinkQuietly(pathOf(name));
    return s;
  }
  return info;
}

Result<std::unique_ptr<AttachmentReader>> AttachmentStore::open(const std::string& patient, const SecretKey& patientKey,
                                                                const std::string& hash) {
  if (!isContentHash(hash)) return Status::invalidArgument("'" + hash + "' is not a SHA-256 hex content hash");
  const std::string name = blobName(patientKey, hash);
  auto row = loadRow(patient, name);
  if (!row.isOk()) return row.status();
  if (!row.value() || row.value()->state != kStateComplete) {
    return Status::notFound("attachment " + hash + " of patient " + patient + " is not on this tablet");
  }
  auto info = openRowInfo(patient, patientKey, *row.value());
  if (!info.isOk()) return info.status();
  const std::string path = pathOf(name);
  auto impl = std::make_unique<AttachmentReader::Impl>();
  impl->fd = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (impl->fd.get() < 0) {
    if (errno == ENOENT) return Status::corruption("the file of attachment " + hash + " is missing");
    return errnoStatus("cannot open " + path);
  }
  struct stat st {};
  if (::fstat(impl->fd.get(), &st) != 0) return errnoStatus("cannot read " + path);
  if (static_cast<std::uint64_t>(st.st_size) != fileBytesFor(info.value().size)) {
    return Status::corruption("the file of attachment " + hash + " of patient " + patient + " has " +
                              std::to_string(st.st_size) + " bytes, not " +
                              std::to_string(fileBytesFor(info.value().size)) + " (cut or extended)");
  }
  std::string head;
  if (Status s = readAt(impl->fd.get(), 0, kMagic.size() + kStreamHeaderBytes, head); !s.isOk()) return s;
  if (head.size() != kMagic.size() + kStreamHeaderBytes || head.compare(0, kMagic.size(), kMagic) != 0) {
    return Status::corruption("the file of attachment " + hash + " is not an attachment file");
  }
  auto key = streamKey(patientKey);
  if (!key.isOk()) return key.status();
  auto opener = StreamOpener::start(key.value(), std::string_view(head).substr(kMagic.size()));
  if (!opener.isOk()) return Status::corruption("the file of attachment " + hash + ": " + opener.status().message());
  impl->opener = std::move(opener).value();
  impl->patient = patient;
  impl->hash = hash;
  impl->mediaType = info.value().mediaType;
  impl->size = info.value().size;
  impl->chunks = info.value().chunks;
  return std::make_unique<AttachmentReader>(std::move(impl));
}

Result<std::optional<AttachmentInfo>> AttachmentStore::info(const std::string& patient, const SecretKey& patientKey,
                                                            const std::string& hash) {
  if (!isContentHash(hash)) return Status::invalidArgument("'" + hash + "' is not a SHA-256 hex content hash");
  auto row = loadRow(patient, blobName(patientKey, hash));
  if (!row.isOk()) return row.status();
  if (!row.value()) return std::optional<AttachmentInfo>();
  auto info = openRowInfo(patient, patientKey, *row.value());
  if (!info.isOk()) return info.status();
  return std::optional<AttachmentInfo>(std::move(info).value());
}

Result<std::vector<std::string>> AttachmentStore::patients(const std::string& patient) {
  auto st = m_db.prepare(patient.empty() ? "SELECT DISTINCT patient FROM attachments ORDER BY patient"
                                         : "SELECT DISTINCT patient FROM attachments WHERE patient = ?1");
  if (!st.isOk()) return st.status();
  if (!patient.empty()) st.value()->bind(1, patient);
  std::vector<std::string> out;
  for (;;) {
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value()) break;
    out.push_back(st.value()->text(0));
  }
  return out;
}

Result<std::vector<std::string>> AttachmentStore::patientsWithUploads() {
  auto st = m_db.prepare("SELECT DISTINCT patient FROM attachments WHERE upload = 1 ORDER BY patient");
  if (!st.isOk()) return st.status();
  std::vector<std::string> out;
  for (;;) {
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value()) break;
    out.push_back(st.value()->text(0));
  }
  return out;
}

Result<std::vector<AttachmentInfo>> AttachmentStore::list(const std::string& patient, const SecretKey& patientKey) {
  std::vector<Row> rows;
  {
    auto st =
        m_db.prepare("SELECT name, state, upload, chunks_held, file_bytes, sealed FROM attachments WHERE patient = ?1");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, patient);
    for (;;) {
      auto row = st.value()->step();
      if (!row.isOk()) return row.status();
      if (!row.value()) break;
      Row r;
      r.name = st.value()->text(0);
      r.state = st.value()->int64(1);
      r.upload = st.value()->int64(2);
      r.chunksHeld = static_cast<std::uint64_t>(st.value()->int64(3));
      r.fileBytes = static_cast<std::uint64_t>(st.value()->int64(4));
      r.sealed = st.value()->text(5);
      rows.push_back(std::move(r));
    }
  }
  std::vector<AttachmentInfo> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    auto info = openRowInfo(patient, patientKey, r);
    if (!info.isOk()) return info.status();
    out.push_back(std::move(info).value());
  }
  std::sort(out.begin(), out.end(), [](const AttachmentInfo& a, const AttachmentInfo& b) {
    return a.takenAtMs != b.takenAtMs ? a.takenAtMs > b.takenAtMs : a.hash < b.hash;
  });
  return out;
}

Result<AttachmentStore::Writer*> AttachmentStore::writerFor(const std::string& patient, const SecretKey& patientKey,
                                                            const AttachmentInfo& info, const std::string& name,
                                                            std::uint64_t held) {
  const std::string id = patient + "\x1f" + name;
  if (auto it = m_writers.find(id); it != m_writers.end() && it->second->held == held) return it->second.get();
  m_writers.erase(id);
  if (Status s = ensureFolder(); !s.isOk()) return s;
  auto key = streamKey(patientKey);
  if (!key.isOk()) return key.status();
  const std::string part = pathOf(name + ".part");
  const std::string tmp = pathOf(name + ".part.tmp");
  auto writer = std::make_unique<Writer>();
  std::string header;
  writer->sealer = StreamSealer::start(key.value(), &header);
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (out.get() < 0) return errnoStatus("cannot create " + tmp);
  std::string buffer(kMagic);
  buffer += header;
  std::uint64_t kept = 0;
  if (held > 0) {
    // Resume: read back what the old stream holds, verify it, encrypt it
    // again into the new one. Whatever does not check out is dropped and
    // fetched again.
    Fd in(::open(part.c_str(), O_RDONLY | O_CLOEXEC));
    std::string head;
    if (in.get() >= 0 && readAt(in.get(), 0, kMagic.size() + kStreamHeaderBytes, head).isOk() &&
        head.size() == kMagic.size() + kStreamHeaderBytes && head.compare(0, kMagic.size(), kMagic) == 0) {
      auto opener = StreamOpener::start(key.value(), std::string_view(head).substr(kMagic.size()));
      for (std::uint64_t i = 0; opener.isOk() && i < held && i + 1 < info.chunks; ++i) {
        std::string sealed;
        const std::uint64_t plain = attachmentChunkSize(info.size, i);
        if (!readAt(in.get(), chunkOffset(i), static_cast<std::size_t>(plain + kStreamOverheadBytes), sealed).isOk()) {
          break;
        }
        bool final = false;
        const std::string ad = adChunk(patient, info.hash, i, info.chunks);
        auto chunk = opener.value().pull(sealed, ad, &final);
        if (!chunk.isOk() || final || chunk.value().size() != plain) break;
        writer->sha.update(chunk.value());
        buffer += writer->sealer.push(chunk.value(), ad, false);
        ++kept;
        if (buffer.size() >= 4 * kAttachmentChunkBytes) {
          if (Status s = writeAll(out.get(), buffer, tmp); !s.isOk()) return s;
          buffer.clear();
        }
      }
    }
  }
  if (Status s = writeAll(out.get(), buffer, tmp); !s.isOk()) return s;
  if (::fsync(out.get()) != 0) return errnoStatus("cannot sync " + tmp);
  out.reset();
  if (::rename(tmp.c_str(), part.c_str()) != 0) return errnoStatus("cannot rename " + tmp);
  if (Status s = syncFolder(m_folder); !s.isOk()) return s;
  writer->fd = Fd(::open(part.c_str(), O_WRONLY | O_CLOEXEC));
  if (writer->fd.get() < 0) return errnoStatus("cannot open " + part);
  writer->held = kept;
  writer->offset = chunkOffset(kept);
  if (kept != held) {
    AttachmentInfo updated = info;
    updated.chunksHeld = kept;
    updated.fileBytes = writer->offset;
    if (Status s = writeRow(patient, patientKey, updated, name, false); !s.isOk()) return s;
  }
  return m_writers.emplace(id, std::move(writer)).first->second.get();
}

Result<std::uint64_t> AttachmentStore::beginDownload(const std::string& patient, const SecretKey& patientKey,
                                                     const std::string& hash, std::uint64_t size,
                                                     const AttachmentMeta& meta) {
  if (!isContentHash(hash)) return Status::invalidArgument("'" + hash + "' is not a SHA-256 hex content hash");
  if (size == 0 || size > kMaxAttachmentBytes) {
    return Status::invalidArgument("attachment " + hash + " has a size of " + std::to_string(size) + " bytes");
  }
  if (!isAttachmentMediaType(meta.mediaType)) {
    return Status::invalidArgument("unsupported media type '" + meta.mediaType + "'");
  }
  const std::string name = blobName(patientKey, hash);
  auto row = loadRow(patient, name);
  if (!row.isOk()) return row.status();
  AttachmentInfo info;
  bool rowChanged = !row.value();
  if (row.value()) {
    auto opened = openRowInfo(patient, patientKey, *row.value());
    if (!opened.isOk()) return opened.status();
    info = std::move(opened).value();
    if (info.complete) return info.chunks;
    if (info.size != size || info.mediaType != meta.mediaType) {
      // The server describes it otherwise than when the download began: start over.
      dropWriter(patient, name);
      unlinkQuietly(pathOf(name + ".part"));
      info.chunksHeld = 0;
      rowChanged = true;
    }
  } else {
    info.chunksHeld = 0;
  }
  info.patient = patient;
  info.hash = hash;
  info.size = size;
  info.mediaType = meta.mediaType;
  info.takenAtMs = meta.takenAtMs;
  info.thumbnail = meta.thumbnail;
  info.chunks = attachmentChunkCount(size);
  info.complete = false;
  info.upload = AttachmentInfo::Upload::kNone;
  info.fileBytes = chunkOffset(info.chunksHeld);
  if (rowChanged) {
    if (Status s = writeRow(patient, patientKey, info, name, false); !s.isOk()) return s;
  }
  auto writer = writerFor(patient, patientKey, info, name, info.chunksHeld);
  if (!writer.isOk()) return writer.status();
  return writer.value()->held;
}

Result<bool> AttachmentStore::putChunk(const std::string& patient, const SecretKey& patientKey, const std::string& hash,
                                       std::uint64_t index, std::string_view bytes,
                                       std::string_view expectedChunkHash) {
  if (!isContentHash(hash)) return Status::invalidArgument("'" + hash + "' is not a SHA-256 hex content hash");
  const std::string name = blobName(patientKey, hash);
  auto row = loadRow(patient, name);
  if (!row.isOk()) return row.status();
  if (!row.value()) return Status::notFound("no download of attachment " + hash + " was begun");
  auto opened = openRowInfo(patient, patientKey, *row.value());
  if (!opened.isOk()) return opened.status();
  AttachmentInfo info = std::move(opened).value();
  if (info.complete) return true;
  auto writerResult = writerFor(patient, patientKey, info, name, info.chunksHeld);
  if (!writerResult.isOk()) return writerResult.status();
  Writer& w = *writerResult.value();
  if (index != w.held) {
    return Status::invalidArgument("attachment " + hash + ": chunk " + std::to_string(w.held) + " comes next, not " +
                                   std::to_string(index));
  }
  const std::uint64_t expected = attachmentChunkSize(info.size, index);
  if (bytes.size() != expected) {
    return Status::corruption("attachment " + hash + ": chunk " + std::to_string(index) + " has " +
                              std::to_string(bytes.size()) + " bytes, not " + std::to_string(expected));
  }
  if (!expectedChunkHash.empty() && sha256Hex(bytes) != expectedChunkHash) {
    return Status::corruption("attachment " + hash + ": chunk " + std::to_string(index) +
                              " does not match the server's hash of it");
  }
  const bool last = index + 1 == info.chunks;
  const std::string part = pathOf(name + ".part");
  const std::string sealed = w.sealer.push(bytes, adChunk(patient, hash, index, info.chunks), last);
  auto failWriter = [&](Status s) -> Result<bool> {
    dropWriter(patient, name);  // the stream moved on: rebuilt from what the row counts
    return s;
  };
  if (::lseek(w.fd.get(), static_cast<off_t>(w.offset), SEEK_SET) < 0) return failWriter(errnoStatus("seek " + part));
  if (::ftruncate(w.fd.get(), static_cast<off_t>(w.offset)) != 0) return failWriter(errnoStatus("truncate " + part));
  if (Status s = writeAll(w.fd.get(), sealed, part); !s.isOk()) return failWriter(s);
  if (::fsync(w.fd.get()) != 0) return failWriter(errnoStatus("cannot sync " + part));
  w.sha.update(bytes);
  w.offset += sealed.size();
  ++w.held;
  info.chunksHeld = w.held;
  info.fileBytes = w.offset;
  if (!last) {
    if (Status s = writeRow(patient, patientKey, info, name, false); !s.isOk()) return failWriter(s);
    return false;
  }
  const std::string whole = w.sha.finishHex();
  dropWriter(patient, name);
  if (whole != hash) {
    // Every chunk matched the server's hashes but the whole does not: start over.
    unlinkQuietly(part);
    (void)deleteRow(patient, name);
    return Status::corruption("the downloaded attachment " + hash + " does not match its hash; it is fetched again");
  }
  if (::rename(part.c_str(), pathOf(name).c_str()) != 0) return errnoStatus("cannot rename " + part);
  if (Status s = syncFolder(m_folder); !s.isOk()) return s;
  info.complete = true;
  info.chunksHeld = info.chunks;
  if (Status s = writeRow(patient, patientKey, info, name, true); !s.isOk()) return s;
  return true;
}

Status AttachmentStore::setUpload(const std::string& patient, const SecretKey& patientKey, const std::string& hash,
                                  AttachmentInfo::Upload upload, std::string_view error) {
  auto current = info(patient, patientKey, hash);
  if (!current.isOk()) return current.status();
  if (!current.value()) return Status::notFound("attachment " + hash + " of patient " + patient + " is not stored");
  AttachmentInfo updated = *current.value();
  updated.upload = upload;
  updated.uploadError = std::string(error);
  return writeRow(patient, patientKey, updated, blobName(patientKey, hash), true);
}

Status AttachmentStore::remove(const std::string& patient, const SecretKey& patientKey, const std::string& hash) {
  const std::string name = blobName(patientKey, hash);
  dropWriter(patient, name);
  if (Status s = deleteRow(patient, name); !s.isOk()) return s;
  unlinkQuietly(pathOf(name));
  unlinkQuietly(pathOf(name + ".part"));
  return Status::ok();
}

Result<std::size_t> AttachmentStore::evict(std::uint64_t budget,
                                           const std::function<const SecretKey*(const std::string&)>& keyFor) {
  std::uint64_t total = counts().fileBytes;
  if (total <= budget) return std::size_t{0};
  struct Candidate {
    std::string patient;
    std::string name;
    std::int64_t takenAtMs;
    std::uint64_t bytes;
  };
  std::vector<Row> rows;
  std::vector<std::string> rowPatients;
  {
    auto st = m_db.prepare(
        "SELECT patient, name, state, upload, chunks_held, file_bytes, sealed FROM attachments "
        "WHERE state = 1 AND upload = 0");
    if (!st.isOk()) return st.status();
    for (;;) {
      auto row = st.value()->step();
      if (!row.isOk()) return row.status();
      if (!row.value()) break;
      Row r;
      rowPatients.push_back(st.value()->text(0));
      r.name = st.value()->text(1);
      r.state = st.value()->int64(2);
      r.upload = st.value()->int64(3);
      r.chunksHeld = static_cast<std::uint64_t>(st.value()->int64(4));
      r.fileBytes = static_cast<std::uint64_t>(st.value()->int64(5));
      r.sealed = st.value()->text(6);
      rows.push_back(std::move(r));
    }
  }
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SecretKey* key = keyFor(rowPatients[i]);
    if (key == nullptr) continue;
    auto info = openRowInfo(rowPatients[i], *key, rows[i]);
    if (!info.isOk() || info.value().thumbnail) continue;
    candidates.push_back({rowPatients[i], rows[i].name, info.value().takenAtMs, rows[i].fileBytes});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.takenAtMs != b.takenAtMs ? a.takenAtMs < b.takenAtMs : a.name < b.name;
  });
  std::size_t evicted = 0;
  for (const Candidate& c : candidates) {
    if (total <= budget) break;
    if (Status s = deleteRow(c.patient, c.name); !s.isOk()) return s;
    unlinkQuietly(pathOf(c.name));
    total = total > c.bytes ? total - c.bytes : 0;
    ++evicted;
  }
  return evicted;
}

AttachmentCounts AttachmentStore::counts() {
  AttachmentCounts c;
  auto st = m_db.prepare(
      "SELECT COALESCE(SUM(state = 1), 0), COALESCE(SUM(state = 0), 0), COALESCE(SUM(upload = 1), 0), "
      "COALESCE(SUM(upload = 2), 0), COALESCE(SUM(file_bytes), 0) FROM attachments");
  if (!st.isOk()) return c;
  auto row = st.value()->step();
  if (!row.isOk() || !row.value()) return c;
  c.complete = static_cast<std::uint64_t>(st.value()->int64(0));
  c.partial = static_cast<std::uint64_t>(st.value()->int64(1));
  c.toUpload = static_cast<std::uint64_t>(st.value()->int64(2));
  c.refused = static_cast<std::uint64_t>(st.value()->int64(3));
  c.fileBytes = static_cast<std::uint64_t>(st.value()->int64(4));
  return c;
}

Status AttachmentStore::sweep() {
  // Rows of patients no longer here: their keys are gone; delete the files.
  std::vector<std::pair<std::string, std::string>> orphans;
  std::map<std::string, std::int64_t> states;  // name -> state, of the rows that stay
  {
    auto st = m_db.prepare("SELECT patient, name, state, patient IN (SELECT id FROM patients) FROM attachments");
    if (!st.isOk()) return st.status();
    for (;;) {
      auto row = st.value()->step();
      if (!row.isOk()) return row.status();
      if (!row.value()) break;
      if (st.value()->int64(3) == 0) {
        orphans.emplace_back(st.value()->text(0), st.value()->text(1));
      } else {
        states[st.value()->text(1)] = st.value()->int64(2);
      }
    }
  }
  for (const auto& [patient, name] : orphans) {
    dropWriter(patient, name);
    unlinkQuietly(pathOf(name));
    unlinkQuietly(pathOf(name + ".part"));
    if (Status s = deleteRow(patient, name); !s.isOk()) return s;
  }
  // Files nothing refers to.
  DIR* dir = ::opendir(m_folder.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return Status::ok();
    return errnoStatus("cannot list " + m_folder);
  }
  std::vector<std::string> files;
  while (const dirent* e = ::readdir(dir)) {
    const std::string file = e->d_name;
    if (file != "." && file != "..") files.push_back(file);
  }
  ::closedir(dir);
  std::set<std::string> present;
  for (const std::string& file : files) {
    const std::size_t dot = file.find('.');
    const std::string name = file.substr(0, dot);
    const std::string suffix = dot == std::string::npos ? std::string() : file.substr(dot);
    const auto it = states.find(name);
    const bool keep = it != states.end() && ((suffix.empty() && it->second == kStateComplete) ||
                                             (suffix == ".part" && it->second == kStatePartial));
    if (keep) {
      present.insert(name);
    } else {
      unlinkQuietly(pathOf(file));
    }
  }
  // Complete rows whose file is gone (deleted behind our back): forget them,
  // so the blob is fetched again. A partial row without its file starts over
  // by itself.
  std::vector<std::string> gone;
  for (const auto& [name, state] : states) {
    if (state == kStateComplete && present.count(name) == 0) gone.push_back(name);
  }
  for (const std::string& name : gone) {
    if (Status s = m_db.setDurable(true); !s.isOk()) return s;
    auto del = m_db.prepare("DELETE FROM attachments WHERE name = ?1 AND state = 1");
    if (!del.isOk()) return del.status();
    if (Status s = del.value()->bind(1, name).run(); !s.isOk()) return s;
  }
  return Status::ok();
}

Status AttachmentStore::eraseAll() {
  forgetWriters();
  if (Status s = m_db.exec("DELETE FROM attachments"); !s.isOk()) return s;
  DIR* dir = ::opendir(m_folder.c_str());
  if (dir == nullptr) return errno == ENOENT ? Status::ok() : errnoStatus("cannot list " + m_folder);
  std::vector<std::string> files;
  while (const dirent* e = ::readdir(dir)) {
    const std::string file = e->d_name;
    if (file != "." && file != "..") files.push_back(file);
  }
  ::closedir(dir);
  for (const std::string& file : files) unlinkQuietly(pathOf(file));
  return Status::ok();
}

}  // namespace charta::sync
