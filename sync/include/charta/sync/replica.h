// Replica: the tablet's encrypted local copy of its clinic's charts.
//
// One SQLite file (WAL) per device holds the ops of every patient in scope,
// a sealed summary per patient (the materialised state the patient list
// shows, so opening does not replay every chart), the outbox, the device's
// audit events and the sync cursor. docs/ARCHITECTURE.md ("The tablet's
// replica") lists the tables.
//
// At rest every payload is sealed with XChaCha20-Poly1305 (crypto.h), the
// associated data naming its table, its row and its patient, so a row copied
// onto another row, another patient or another table does not open. Keys:
//   - a random key per patient, wrapped by the device data key (purging a
//     patient deletes its key: what is left of its rows cannot be read);
//   - a random device data key, wrapped for each user of the tablet by the
//     KeyVault (Argon2id from the user's passphrase on the desktop);
//   - nothing is ever stored in the clear; lock() zeroes every key in memory.
// Plaintext columns hold only what indexing needs: opaque patient ids, op
// ids, server sequences, and the device's identity (device id, replica id,
// clinic, server URL). Staff user ids and display names are plaintext too,
// for the lock screen.
//
// A stored row that fails to open (flipped bits, a swapped or replayed row)
// is never shown: the call that met it returns kCorruption naming the table
// and row, and the event is recorded in the audit trail.
//
// Every read of a chart for a person (chart()) is an audit event, also
// offline; events sync to the server's audit chain (SyncEngine).
//
// Thread-safety: all members are safe to call from several threads (one
// mutex); a chart pointer returned stays valid only until the next call on
// the replica (charts are cached, and the cache is bounded).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "charta/crdt/hlc.h"
#include "charta/crdt/op.h"
#include "charta/crdt/op_factory.h"
#include "charta/crdt/status.h"
#include "charta/sync/attachments.h"
#include "charta/sync/key_vault.h"
#include "charta/sync/transport.h"

namespace charta::sync {

// Who this device is, as enrolment made it.
struct DeviceIdentity {
  std::string serverUrl;
  std::string deviceId;
  crdt::ReplicaId replica;
  std::string clinic;
  std::string epoch;  // the server epoch last seen
};

struct UserInfo {
  std::string id;
  std::string displayName;
  std::string vault;         // the KeyVault that wrapped this user's key
  std::int64_t addedAtMs = 0;
};

// What the patient list shows without opening the chart: the sealed
// materialised summary, updated in the transaction that changes the chart.
struct PatientSummary {
  std::string patient;
  std::string familyName;
  std::string givenNames;
  std::string birthDate;  // YYYY-MM-DD or empty
  std::string sex;
  std::vector<std::string> identifiers;  // "system|value"
  std::vector<std::string> allergies;    // displays of active allergies
  std::optional<bool> noKnownAllergies;  // empty: not recorded
  std::uint64_t opCount = 0;
  std::uint64_t pendingOps = 0;   // local edits not yet acknowledged
  std::uint64_t openConflicts = 0;
  std::uint64_t heldOps = 0;      // ops waiting for ones not yet received
  // Users who charted something shown in this chart (a user's caseload on
  // this tablet: the charts they have charted in), sorted.
  std::vector<std::string> chartedBy;
};

// A chart of another clinic fetched by break-glass (SyncEngine::breakGlass).
struct BreakGlassCopy {
  std::string patient;
  std::string clinic;     // the patient's clinic
  std::string reason;     // as the user typed it
  std::int64_t expiresAtMs = 0;
  std::vector<std::string> ops;  // single-op encodings, the patient's whole history
};

// What the replica keeps about a break-glass copy (sealed under the
// patient's key; the expiry in the clear so expired copies can be found
// while locked).
struct BreakGlassInfo {
  std::string patient;
  std::string clinic;
  std::string reason;
  std::string user;          // who opened it
  std::int64_t openedAtMs = 0;
  std::int64_t expiresAtMs = 0;
};

// Counters of one applyPulled() call.
struct ApplyStats {
  std::size_t received = 0;
  std::size_t stored = 0;      // new to this replica
  std::size_t duplicates = 0;  // already here
  std::size_t rejected = 0;    // stored, but the chart rejects them (as on every replica)
  std::size_t held = 0;        // stored, waiting for their dependencies
  std::size_t futureClock = 0; // stamped beyond the clock's drift bound
};

struct ReplicaOptions {
  // Lock after this long without activity (touch()); 0: never.
  std::int64_t autoLockMs = 5 * 60 * 1000;
  // The clock for op stamps, audit times and auto-lock (tests pass their own).
  const crdt::WallClock* clock = nullptr;  // nullptr: the system clock
  // Benchmarks only: op rows and summaries are stored unsealed, to measure
  // what encryption costs against the very same store. Recorded in the file:
  // open() refuses a mismatch, so an encrypted replica is never opened (or
  // written) in the clear, and charta-sim and the app never set it.
  bool unencryptedForBenchmark = false;
};

class Replica {
 public:
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Creates the replica file of a freshly enrolled device, with its first
  // user, and leaves it unlocked for that user. kAlreadyExists when the file
  // exists.
  static Result<std::unique_ptr<Replica>> create(const std::string& path, const DeviceIdentity& identity,
                                                 std::string_view deviceSecret, KeyVault& vault,
                                                 const UserInfo& firstUser, std::string_view passphrase,
                                                 ReplicaOptions options = {});
  // Opens an existing replica, locked. kNotFound when there is none;
  // kUnsupportedVersion for a file from a newer Charta.
  static Result<std::unique_ptr<Replica>> open(const std::string& path, ReplicaOptions options = {});
  // Deletes the replica file, its WAL and journal and its attachment files
  // (remote wipe, scope loss). The keys die with it.
  static Status destroy(const std::string& path);

  const std::string& path() const { return m_path; }
  DeviceIdentity identity() const;

  // --- users and keys ---
  std::vector<UserInfo> users() const;
  // kRejected for a wrong passphrase (audited as replica.unlock_failed),
  // kNotFound for an unknown user.
  Status unlock(KeyVault& vault, std::string_view user, std::string_view passphrase);
  // Zeroes every key; chart calls fail with kRejected "locked" until unlock.
  void lock();
  bool isUnlocked() const;
  std::string currentUser() const;
  // Records activity; auto-locks first when the idle time has passed.
  // Returns isUnlocked() afterwards.
  bool touch();
  // Adds a user on this tablet (REQUIRES: unlocked). kAlreadyExists.
  Status addUser(KeyVault& vault, const UserInfo& user, std::string_view passphrase);
  // Re-wraps the data key for the current user under a new passphrase.
  Status changePassphrase(KeyVault& vault, std::string_view oldPassphrase, std::string_view newPassphrase);

  // --- secrets kept for sync (sealed with the data key) ---
  Result<std::string> deviceSecret() const;
  // The server session of a user (token and expiry), if one was stored.
  Result<std::optional<Session>> session(std::string_view user) const;
  Status storeSession(const Session& session);
  Status forgetSession(std::string_view user);

  // --- charts ---
  // Patients in scope, sorted.
  std::vector<std::string> patients() const;
  // Each chart's change mark, read without decrypting anything: it changes
  // with every change to the chart (its summary's version) and when the
  // patient is purged and comes back (a new key). Break-glass copies and
  // patients with no chart yet are left out. For caches of what is derived
  // from charts; one indexed scan, where reading every summary would open
  // each one.
  std::map<std::string, std::string> chartMarks() const;
  Result<PatientSummary> summary(std::string_view patient) const;
  // A chart for a person to read: an audit event "chart.read" (purpose in
  // its detail). kNotFound for a patient not on this tablet.
  Result<const crdt::ChartDocument*> chart(std::string_view patient, std::string_view purpose = "view");
  // A copy of a chart, made under the replica's lock, for a reader on another
  // thread than the sync (the app): it never changes under its reader. With a
  // purpose it is audited like chart(); an empty purpose is for refreshing a
  // chart the same person already opened (not audited again).
  Result<crdt::ChartDocument> chartCopy(std::string_view patient, std::string_view purpose);
  // A chart for the machine (merge, hashing, export); not audited.
  Result<const crdt::ChartDocument*> document(std::string_view patient);

  // A local edit: make(factory, chart) returns the op (made with the
  // factory, for this patient); it is applied to the chart, stored and
  // queued in the outbox in one transaction. A new patient id starts a new
  // chart. kRejected (nothing stored) when the chart refuses the op.
  using MakeOp = std::function<crdt::Op(crdt::OpFactory&, const crdt::ChartDocument&)>;
  Result<crdt::Op> edit(std::string_view patient, const MakeOp& make);
  // Several local edits of one patient, all or nothing: each op is made from
  // the chart as it stands after the previous one, and every op is applied,
  // stored and queued in the outbox in one transaction, with the summary
  // written once. kRejected (nothing stored, the chart as before) when the
  // chart refuses any of them; an empty batch stores nothing.
  Result<std::vector<crdt::Op>> editBatch(std::string_view patient, const std::vector<MakeOp>& makes);
  // A new random patient id.
  static std::string newPatientId();

  // Records an audit event (REQUIRES: unlocked), e.g. break-glass access.
  Status recordAudit(std::string_view action, std::string_view patient, std::string_view detailJson);

  // Hash of every chart in scope (patient ids and canonical states): equal
  // on two replicas exactly when their charts are equal.
  Result<std::string> stateHash();

  // --- sync side (SyncEngine) ---
  std::uint64_t pendingOpCount() const;
  // Up to limit outbox ops, oldest first (the sealed rows opened).
  Result<std::vector<crdt::Op>> outbox(std::size_t limit);
  // The server acknowledged (seq > 0) or refused (seq == 0, reason) these
  // ops: they leave the outbox. Refused ones stay in the chart's history with
  // the reason, so the nurse can be told.
  struct Ack {
    crdt::OpId op;
    std::uint64_t serverSeq = 0;
    std::string rejectedReason;
  };
  Status acknowledge(const std::vector<Ack>& acks);
  // Applies one pulled page in one transaction: its ops are stored and
  // applied, the patients in page.purge are purged, those in page.enter are
  // queued for a catch-up, and the cursor moves to page.next. A cut before
  // the commit leaves the replica at the previous page. patientCatchUp: when
  // non-empty, the page is a patient-scoped catch-up (every op must be that
  // patient's) and moves that patient's catch-up cursor instead.
  Result<ApplyStats> applyPulled(const PullPage& page, std::string_view patientCatchUp = {});
  std::uint64_t cursor() const;
  // Patients the server said joined the clinic, not yet fully fetched, with
  // the cursor of their catch-up.
  std::vector<std::pair<std::string, std::uint64_t>> pendingEntries() const;
  Status finishPendingEntry(std::string_view patient);
  // Stores a break-glass copy: its ops as settled (never pushed), the chart
  // read-only (edit() refuses it) and left out of stateHash() (the charts in
  // scope), and a "chart.break_glass" audit event with the reason. A patient
  // the replica already holds in scope is refused (kAlreadyExists).
  Status storeBreakGlass(const BreakGlassCopy& copy);
  // Break-glass copies held now, by patient id (empty when locked).
  std::vector<BreakGlassInfo> breakGlassCopies() const;
  bool isBreakGlass(std::string_view patient) const;
  // Destroys the copies whose time is up (as purgePatient(), audited as
  // "replica.break_glass_expired"): how many.
  Result<std::size_t> purgeExpiredBreakGlass();

  // Deletes a patient's rows and destroys its key (scope purge).
  Status purgePatient(std::string_view patient);
  // Remote wipe: deletes every row and key and leaves the file empty and
  // locked; the owner then closes the replica and calls destroy().
  Status eraseEverything();
  // The server was restored from a backup (a new epoch): every op here goes
  // back into the outbox (the server keeps what it has), every attachment
  // blob held whole waits for upload again (the server asks only for the
  // chunks it lacks), and the cursor restarts at 0.
  Status startNewEpoch(std::string_view epoch);

  // --- attachments (attachments.h) ---
  // Every call below needs the replica unlocked and the patient on this
  // tablet (kNotFound otherwise); hash is the SHA-256 hex of the bytes.
  //
  // Stores a photo or document attached here (the app or charta-sim then
  // adds its chart entry with edit()). The same bytes stored twice for a
  // patient are kept once (the first meta stays). kInvalidArgument for an
  // empty or too large file, another media type, or bytes that are not of
  // meta.mediaType; kRejected for a break-glass copy. The blob waits for
  // upload (SyncEngine).
  Result<AttachmentInfo> storeAttachment(std::string_view patient, std::string_view bytes, const AttachmentMeta& meta);
  // The whole blob, verified; a read for a person, audited as
  // "attachment.read" with the purpose. kNotFound when it is not (wholly) on
  // the tablet, kCorruption when the stored file does not check out.
  Result<std::string> readAttachment(std::string_view patient, std::string_view hash,
                                     std::string_view purpose = "view");
  // A chunk-by-chunk reader of a stored blob; audited as readAttachment() when
  // purpose is not empty (empty: the sync engine's upload).
  Result<std::unique_ptr<AttachmentReader>> openAttachment(std::string_view patient, std::string_view hash,
                                                           std::string_view purpose);
  // What the tablet holds of a blob; nullopt when nothing.
  Result<std::optional<AttachmentInfo>> attachmentState(std::string_view patient, std::string_view hash);
  // Every blob held (whole or in part) of a patient, or of every patient when
  // patient is empty; newest (takenAt) first per patient.
  Result<std::vector<AttachmentInfo>> attachments(std::string_view patient = {});
  // Totals over every blob (works locked too).
  AttachmentCounts attachmentCounts() const;
  // The device's budget for attachment files (kDefaultAttachmentBudgetBytes
  // until set).
  std::uint64_t attachmentBudget() const;
  Status setAttachmentBudget(std::uint64_t bytes);
  // Deletes originals the server holds, oldest takenAt first, until the
  // files fit the budget; thumbnails and blobs still to upload stay. How
  // many were deleted.
  Result<std::size_t> evictAttachments();

  // --- attachments, sync side (SyncEngine) ---
  // Starts or resumes the download of a blob: the number of chunks already
  // held (all of them when it is complete). A download cut short, also by a
  // restart, resumes from the chunks held.
  Result<std::uint64_t> beginAttachmentDownload(std::string_view patient, std::string_view hash, std::uint64_t size,
                                                const AttachmentMeta& meta);
  // Appends chunk `index` (the next one) of a download, checked against the
  // server's hash of it (when not empty); true when the blob is complete
  // (checked against its content hash). kCorruption for a chunk that does
  // not match (nothing stored) or a whole that does not (the download starts
  // over).
  Result<bool> putAttachmentChunk(std::string_view patient, std::string_view hash, std::uint64_t index,
                                  std::string_view bytes, std::string_view expectedChunkHash);
  // Blobs attached here that the server lacks, oldest patients first.
  Result<std::vector<AttachmentInfo>> attachmentsToUpload();
  // The server holds the blob now / refused it for good (with the reason).
  Status markAttachmentUploaded(std::string_view patient, std::string_view hash);
  Status markAttachmentRefused(std::string_view patient, std::string_view hash, std::string_view reason);

  // Audit events not yet in the server's chain, oldest first.
  Result<std::vector<DeviceAuditEvent>> pendingAudit(std::size_t limit);
  std::uint64_t pendingAuditCount() const;
  Status acknowledgeAudit(std::uint64_t ackedSeq);

  // Sync bookkeeping the status model shows after a restart.
  struct SyncRecord {
    std::int64_t lastSuccessMs = 0;
    std::string lastError;
    std::int64_t lastErrorMs = 0;
  };
  SyncRecord syncRecord() const;
  Status recordSyncOutcome(const SyncRecord& record);

 private:
  struct Impl;
  Replica(std::string path, std::unique_ptr<Impl> impl);
  // purgePatient(), audited as `action`.
  Status purgePatientBecause(std::string_view patient, std::string_view action);

  std::string m_path;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace charta::sync
