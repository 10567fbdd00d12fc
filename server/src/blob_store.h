#pragma once

// Where the bytes of attachments (photos, documents) live: one chunk at a
// time, addressed by (patient id, SHA-256 hex of the whole content, chunk
// index). What is known about each attachment (size, media type, state, the
// SHA-256 of each chunk held) is in the store's own tables (`attachments`,
// `attachment_chunks`, api_attachments.cc); the blob store holds only bytes.
//
// Two backends, chosen by the store's:
//  - files (SQLite stores): <data>/attachments/<patient>/<hash>/<index>, where
//    <patient> is the hex of the patient id (or "h-" + the hex of its BLAKE2b
//    digest when the id is long), folders 0700, files 0600, each chunk written
//    to a temporary file, synced and renamed into place, then the folder
//    synced. Reads and writes do not take part in the store's transactions:
//    a chunk is written before the transaction that records it, and removed
//    only after the transaction that forgets it has committed (finishRemove),
//    so a recorded chunk always has its file.
//  - PostgreSQL: table `attachment_blobs` (bytea per chunk) in the store's
//    database, written and removed through the transaction's own connection,
//    so bytes and rows commit or vanish together.
//
// Every id and hash is checked before it becomes a path (validBlobHash,
// non-empty patient id): no path component comes from a request as it is.
//
// Thread-safety: a BlobStore is shared by the API's threads; its methods may
// run concurrently (the files backend writes each chunk under a unique
// temporary name and renames it atomically).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "charta/server/config.h"
#include "db.h"

namespace charta::server {

// True for 64 lowercase hexadecimal digits (a SHA-256 as the wire carries it).
bool validBlobHash(std::string_view hash);

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // "files" or "postgres".
  virtual std::string_view kind() const = 0;
  // True when chunks are written through the transaction's connection
  // (PostgreSQL): put inside the transaction that records the chunk. False
  // (files): put before that transaction, with no connection.
  virtual bool transactional() const = 0;

  // Stores chunk `index` of attachment (patient, hash), replacing a chunk
  // already there atomically (a reader sees the old bytes or the new, never
  // a mix). Files: durable when it returns (`c` unused, may be null).
  // PostgreSQL: part of `c`'s transaction (`c` required). kInvalidArgument
  // for a bad hash, patient id or index.
  virtual Status put(Connection* c, const std::string& patient, const std::string& hash, std::int64_t index,
                     std::string_view bytes) = 0;

  // The bytes of a chunk; nullopt when it is not there.
  virtual Result<std::optional<std::string>> get(Connection& c, const std::string& patient, const std::string& hash,
                                                 std::int64_t index) = 0;

  // Removing one attachment (hash) or every attachment of a patient (hash
  // empty) takes two calls: removeInTransaction inside the transaction that
  // deletes the rows (PostgreSQL deletes the bytes there), and finishRemove
  // once that transaction has committed (the files backend deletes the files
  // there; never before, so a rollback keeps every recorded chunk's file).
  virtual Status removeInTransaction(Connection& c, const std::string& patient, const std::string& hash) = 0;
  virtual Status finishRemove(const std::string& patient, const std::string& hash) = 0;
};

class Store;

// The content of a complete attachment, every chunk checked against the
// SHA-256 recorded when it arrived and the whole against its address
// (api_attachments.cc, which owns the attachment tables); nullopt when the
// server holds no complete, intact copy.
Result<std::optional<std::string>> readAttachmentContent(Store& store, BlobStore& blobs, const std::string& patient,
                                                         const std::string& hash);

// Files under <dataDir>/attachments (created when the first chunk arrives).
std::unique_ptr<BlobStore> makeFileBlobStore(const std::string& dataDir);
// Table attachment_blobs of the store's PostgreSQL database (schemaSql makes it).
std::unique_ptr<BlobStore> makePostgresBlobStore();
// The backend that goes with the store's: PostgreSQL for a PostgreSQL store,
// files in config.data otherwise.
std::unique_ptr<BlobStore> makeBlobStore(const Config& config, Dialect dialect);

}  // namespace charta::server
