// AttachmentStore: the replica's encrypted blob files and their rows
// (attachments.h says what is stored and how). Private to charta_sync: the
// Replica owns one, serialises every call with its mutex, and hands it the
// patient's key for each call (the store keeps no key of its own, only the
// stream states of downloads under way, zeroed by forgetWriters()).
//
// Thread-safety: none; the Replica's mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "charta/sync/attachments.h"
#include "charta/sync/crypto.h"
#include "replica_store.h"

namespace charta::sync {

class AttachmentStore {
 public:
  // The table (CREATE ... IF NOT EXISTS: an older replica file gains it).
  static const char* schema();

  // folder: where the blob files live (created when first needed).
  AttachmentStore(SqliteDb& db, std::string folder);
  ~AttachmentStore();

  const std::string& folder() const { return m_folder; }

  // Deletes what nothing refers to: rows of patients no longer on the tablet
  // (and their files), files without a row (a crash between a file's rename
  // and its row), leftover temporary files, and rows whose file is gone.
  Status sweep();
  // Every row and file (remote wipe).
  Status eraseAll();
  // Zeroes and forgets the stream states of downloads under way (lock()).
  void forgetWriters();

  Result<AttachmentInfo> store(const std::string& patient, const SecretKey& patientKey, std::string_view bytes,
                               const AttachmentMeta& meta);
  Result<std::unique_ptr<AttachmentReader>> open(const std::string& patient, const SecretKey& patientKey,
                                                 const std::string& hash);
  Result<std::optional<AttachmentInfo>> info(const std::string& patient, const SecretKey& patientKey,
                                             const std::string& hash);
  // Patients with at least one row (patient empty: all), sorted.
  Result<std::vector<std::string>> patients(const std::string& patient);
  Result<std::vector<AttachmentInfo>> list(const std::string& patient, const SecretKey& patientKey);

  // Downloads: chunks held (all of them when complete).
  Result<std::uint64_t> beginDownload(const std::string& patient, const SecretKey& patientKey, const std::string& hash,
                                      std::uint64_t size, const AttachmentMeta& meta);
  // true when that was the last chunk and the blob is now complete.
  Result<bool> putChunk(const std::string& patient, const SecretKey& patientKey, const std::string& hash,
                        std::uint64_t index, std::string_view bytes, std::string_view expectedChunkHash);

  // Uploads.
  Status setUpload(const std::string& patient, const SecretKey& patientKey, const std::string& hash,
                   AttachmentInfo::Upload upload, std::string_view error);
  // (patient, file name) of the blobs to upload, oldest rows first.
  Result<std::vector<std::string>> patientsWithUploads();

  // Evicts complete originals the server holds, oldest (takenAt) first,
  // until the files take at most budget bytes: how many. keyFor gives a
  // patient's key (nullptr: skip that patient's blobs).
  Result<std::size_t> evict(std::uint64_t budget, const std::function<const SecretKey*(const std::string&)>& keyFor);
  // Removes one blob (and a download under way).
  Status remove(const std::string& patient, const SecretKey& patientKey, const std::string& hash);

  AttachmentCounts counts();

 private:
  struct Writer;
  struct Row;
  Status ensureFolder();
  std::string pathOf(const std::string& name) const { return m_folder + "/" + name; }
  Result<std::optional<Row>> loadRow(const std::string& patient, const std::string& name);
  Result<AttachmentInfo> openRowInfo(const std::string& patient, const SecretKey& patientKey, const Row& row);
  Status writeRow(const std::string& patient, const SecretKey& patientKey, const AttachmentInfo& info,
                  const std::string& name, bool durable);
  Status deleteRow(const std::string& patient, const std::string& name);
  void dropWriter(const std::string& patient, const std::string& name);
  Result<Writer*> writerFor(const std::string& patient, const SecretKey& patientKey, const AttachmentInfo& info,
                            const std::string& name, std::uint64_t held);

  SqliteDb& m_db;
  std::string m_folder;
  std::map<std::string, std::unique_ptr<Writer>> m_writers;  // by patient \x1f name
};

}  // namespace charta::sync
