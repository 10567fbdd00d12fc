// Attachments: photos and documents of a patient's chart, as the tablet keeps
// them. The chart entry lives in crdt::Collection::kAttachments and syncs as
// ops; the bytes travel apart from ops (transport.h, the attachment calls).
//
// A blob is addressed by (patient, SHA-256 hex of its bytes). On the tablet
// each blob is one file in the replica's attachment folder (next to the
// replica file, "<replica>-attachments/"), encrypted with libsodium's
// secretstream (crypto.h) under a key derived from the patient's key: one
// stream per blob, one message per chunk of kAttachmentChunkBytes, the FINAL
// tag on the last, the associated data binding patient, hash, chunk index and
// chunk count. Purging a patient destroys its key, which crypto-erases its
// blobs; the files are deleted too. A file's name is a keyed hash of the
// content hash under the patient's key: the same file attached twice to a
// patient is stored once, and names reveal no content hash.
//
// What the replica's SQLite file holds about a blob (table `attachments`):
// the patient id and file name (opaque), whether it is complete or being
// downloaded, how many chunks are held, the bytes on disk and whether the
// server still lacks it in the clear; its hash, size, media type, date and
// whether it is a thumbnail sealed under the patient's key.
//
// Reading verifies everything: the size of the file, every chunk's MAC and
// associated data, the FINAL tag on the last chunk and nothing after it, and
// the SHA-256 of the whole. A flipped bit, a cut file or a file moved to
// another patient or hash is kCorruption; the last chunk of a blob is never
// handed out before the whole blob checked out.
//
// The Replica (replica.h) is the API: storeAttachment(), readAttachment(),
// openAttachment(), attachmentState(), attachments(), the download and upload
// calls the sync engine uses, and the storage budget (originals are evicted,
// oldest first, to stay under it; thumbnails and blobs the server does not
// hold yet never are).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "charta/crdt/schema.h"
#include "charta/crdt/status.h"

namespace charta::sync {

using crdt::Result;
using crdt::Status;

// The chunk size of the wire protocol and of the tablet's files.
inline constexpr std::uint64_t kAttachmentChunkBytes = 1u << 20;
// The largest blob the tablet stores (the server's default limit).
inline constexpr std::uint64_t kMaxAttachmentBytes = 100ull << 20;
// The per-device budget for attachment files when none was set.
inline constexpr std::uint64_t kDefaultAttachmentBudgetBytes = 1ull << 30;

// 64 lower-case hex digits (the chart entry's field::kContentHash).
using crdt::isContentHash;
// image/jpeg, image/png or application/pdf.
bool isAttachmentMediaType(std::string_view mediaType);
// Whether bytes start with the signature of mediaType (JPEG FF D8 FF, PNG
// 89 50 4E 47 0D 0A 1A 0A, PDF "%PDF-").
bool hasMediaTypeSignature(std::string_view mediaType, std::string_view bytes);
// ceil(size / kAttachmentChunkBytes).
std::uint64_t attachmentChunkCount(std::uint64_t size);
// The size of chunk index of a blob of size bytes.
std::uint64_t attachmentChunkSize(std::uint64_t size, std::uint64_t index);
// The bytes a blob of size bytes takes on the tablet (its encrypted file).
std::uint64_t attachmentStoredBytes(std::uint64_t size);

// What the tablet knows about a blob beyond its bytes.
struct AttachmentMeta {
  std::string mediaType;
  std::int64_t takenAtMs = 0;  // the entry's kTakenAt: newest are kept first
  bool thumbnail = false;      // thumbnails are never evicted
};

struct AttachmentInfo {
  enum class Upload : std::uint8_t {
    kNone,     // the server holds it (or it came from the server)
    kPending,  // attached here, not yet complete on the server
    kRefused,  // the server refused it for good (uploadError says why)
  };
  std::string patient;
  std::string hash;  // SHA-256 hex of the bytes
  std::uint64_t size = 0;
  std::string mediaType;
  std::int64_t takenAtMs = 0;
  bool thumbnail = false;
  bool complete = false;  // the whole blob is on this tablet
  std::uint64_t chunks = 0;
  std::uint64_t chunksHeld = 0;  // of a download under way
  std::uint64_t fileBytes = 0;   // on disk
  Upload upload = Upload::kNone;
  std::string uploadError;
};

// Totals for the status line (no key needed: plaintext columns only).
struct AttachmentCounts {
  std::uint64_t complete = 0;
  std::uint64_t partial = 0;   // downloads under way
  std::uint64_t toUpload = 0;  // attached here, the server lacks them
  std::uint64_t refused = 0;   // the server refused them
  std::uint64_t fileBytes = 0;
};

// Reads one stored blob chunk by chunk, verifying as it goes. It holds its
// own file and stream state: it does not hold the replica's lock.
class AttachmentReader {
 public:
  struct Impl;
  explicit AttachmentReader(std::unique_ptr<Impl> impl);
  ~AttachmentReader();
  AttachmentReader(const AttachmentReader&) = delete;
  AttachmentReader& operator=(const AttachmentReader&) = delete;

  const std::string& hash() const;
  std::uint64_t size() const;
  std::uint64_t chunks() const;
  const std::string& mediaType() const;
  // The next chunk's bytes; nullopt after the last. kCorruption when the file
  // does not check out (the reader stays failed afterwards).
  Result<std::optional<std::string>> next();

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace charta::sync
