// SyncEngine: moves a replica's ops to and from the server, as
// docs/PROTOCOL.md describes, and keeps a status the app can show honestly.
//
// One sync (syncOnce):
//   1. push the outbox in batches; each op leaves the outbox when the server
//      acknowledged it with its sequence or refused it with a reason (push is
//      idempotent by op id, so a retry after a lost answer is safe);
//   2. pull pages from the cursor; each page is applied, with the cursor, in
//      one replica transaction, so a transfer cut anywhere resumes after the
//      last page applied; purge/enter lists are obeyed; patients that joined
//      the clinic are then fetched one by one;
//   3. upload the audit events recorded on the tablet (a third request only
//      when there are any) and tell the server the outbox size and the last
//      error when they changed;
//   4. when that all succeeded, move attachment blobs (attachments.h): upload
//      the ones attached here that the server lacks (only the chunks it says
//      are missing), then download the thumbnails of every attachment entry
//      of the charts in scope, then originals, newest first, while they fit
//      the device's storage budget, and evict old originals to stay under
//      it. A cut transfer resumes at the next sync from the chunks either
//      side holds. This step never fails the sync: clinical data is synced
//      already, and its problems go to SyncReport::attachmentError.
// An incremental sync after a day offline is one push and one pull.
//
// Failures: network errors, 5xx and 429 are retried within one sync with
// exponential backoff and full jitter (Retry-After honoured), up to
// maxAttempts; then the sync ends with the error in the status. 401 means
// the session ended: the engine signs in again when a password provider can
// give the password, else the status asks for a sign-in. 410 (the device was
// revoked) erases the replica and stops. A new server epoch (the server was
// restored from a backup) puts every op of the replica back into the outbox
// and restarts the pull at 0, so the server gets back whatever it lost.
//
// Thread-safety: syncOnce() runs on one thread at a time (a second caller
// waits); status() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "charta/crdt/status.h"
#include "charta/sync/key_vault.h"
#include "charta/sync/replica.h"
#include "charta/sync/transport.h"

namespace charta::sync {

struct SyncStatus {
  enum class Connectivity : std::uint8_t { kUnknown, kOnline, kOffline };
  Connectivity connectivity = Connectivity::kUnknown;
  bool syncing = false;
  std::uint64_t pendingOps = 0;     // outbox
  std::uint64_t pendingAudit = 0;   // audit events not yet on the server
  std::int64_t lastSuccessMs = 0;   // 0: never
  std::string lastError;            // plain words, empty after a successful sync
  std::int64_t lastErrorMs = 0;
  bool signInNeeded = false;        // the server wants a new sign-in
  bool wiped = false;               // the device was revoked and its replica erased
  // Progress of the pull under way: ops received so far and the server's
  // newest sequence minus the cursor at the start (0 when unknown).
  std::uint64_t progressDone = 0;
  std::uint64_t progressTotal = 0;
  // Attachments: attached here and not yet on the server; referenced by the
  // charts here but not (wholly) on the tablet, and their bytes (the
  // originals' sizes; a thumbnail's size is known only once fetched).
  std::uint64_t attachmentsToUpload = 0;
  std::uint64_t attachmentsNotDownloaded = 0;
  std::uint64_t attachmentBytesNotDownloaded = 0;
  std::string attachmentError;  // the last attachment transfer's problem, empty when none
};

// One blob a chart on the tablet refers to: an attachment entry's original
// or its thumbnail.
struct AttachmentWant {
  std::string patient;
  std::string hash;
  std::uint64_t size = 0;  // 0: unknown (thumbnails): the server's answer says
  std::string mediaType;   // empty: unknown
  std::int64_t takenAtMs = 0;
  bool thumbnail = false;
};

// The blobs of the active attachment entries (crdt::Collection::kAttachments)
// of every chart in scope (break-glass copies excluded): originals and
// thumbnails, each once.
Result<std::vector<AttachmentWant>> wantedAttachments(Replica& replica);

struct SyncReport {
  bool ok = false;
  std::optional<CallError> error;  // the call that failed, when one did
  std::string message;             // what went wrong, in plain words
  std::size_t pushed = 0;          // acknowledged by the server
  std::size_t refused = 0;         // refused by the server (with reasons)
  std::size_t pulled = 0;          // new ops stored from pulls
  std::size_t pages = 0;
  std::size_t requests = 0;        // HTTP requests made, retries included
  std::size_t retries = 0;
  std::size_t auditSent = 0;
  std::size_t futureClock = 0;     // ops flagged for a clock ahead of the server's (push) or ours (pull)
  bool newEpoch = false;
  bool wiped = false;
  // Attachments (step 4).
  std::size_t attachmentsUploaded = 0;    // completed on the server by this sync
  std::size_t attachmentsDownloaded = 0;  // completed on the tablet by this sync
  std::size_t attachmentsEvicted = 0;
  std::size_t attachmentChunksSent = 0;
  std::size_t attachmentChunksReceived = 0;
  std::string attachmentError;  // empty when every transfer tried went through
};

struct EngineOptions {
  std::size_t pushBatchOps = 2000;
  std::size_t pullPageOps = 0;      // 0: the server's default
  std::size_t auditBatch = 1000;
  int maxAttempts = 6;              // per request within one sync
  std::int64_t backoffBaseMs = 250;
  std::int64_t backoffMaxMs = 60'000;
  // Waits between attempts (tests pass one that records instead of sleeping).
  std::function<void(std::int64_t ms)> sleep;
  // Gives the current user's password when the session must be renewed
  // (charta-sim; the app asks the nurse instead and returns nullopt).
  std::function<std::optional<std::string>(const std::string& user)> passwordFor;
  // Called on the syncing thread whenever the status changes.
  std::function<void(const SyncStatus&)> onStatus;
  // For backoff jitter; 0: random.
  std::uint64_t jitterSeed = 0;
  // Step 4 (attachments); off: only ops and audit events move.
  bool attachments = true;
  // Attempts per attachment request within one sync (a blob that keeps
  // failing waits for the next sync rather than hold this one up).
  int attachmentMaxAttempts = 3;
};

// Delay before attempt `attempt` (1-based retries): full jitter in
// [base*2^(attempt-1) / 2, base*2^(attempt-1)], capped at max; a server's
// Retry-After wins when longer.
std::int64_t backoffDelayMs(int attempt, std::int64_t baseMs, std::int64_t maxMs, std::uint64_t randomValue,
                            int retryAfterSeconds = 0);

class SyncEngine {
 public:
  // The replica and transport outlive the engine.
  SyncEngine(Replica& replica, Transport& transport, EngineOptions options = {});

  // Enrols this device with a one-time code and creates its replica at path
  // with its first user (who must be able to sign in on the server with
  // `password`; the session is stored). The replica is returned unlocked.
  static Result<std::unique_ptr<Replica>> enrol(Transport& transport, const std::string& path,
                                                const std::string& serverUrl, std::string_view code,
                                                std::string_view deviceName, KeyVault& vault,
                                                std::string_view user, std::string_view passphrase,
                                                std::string_view password, ReplicaOptions options = {});

  // Signs the replica's current user in on the server and stores the session.
  Status signIn(std::string_view password);

  SyncReport syncOnce();
  SyncStatus status() const;

  // Break-glass: fetches a patient outside the device's clinic by identifier
  // and birth date, with the reason the user typed (the server audits it),
  // and stores a read-only copy that the replica destroys at its expiry.
  // kNotFound: no such patient; kRejected: refused (reason, ambiguous,
  // throttled, not signed in); kIoError: the server cannot be reached
  // (break-glass needs a connection). Not while a sync runs (waits for it).
  struct BreakGlassOutcome {
    std::string patient;
    bool inScope = false;  // the replica holds it already: nothing was stored
    std::int64_t expiresAtMs = 0;
  };
  Result<BreakGlassOutcome> breakGlass(const BreakGlassRequest& request);

  // Moves attachment blobs as step 4 of a sync does, for the given wants
  // instead of those of the charts (tests, and a sync's own step). Needs a
  // session; waits for a sync under way.
  SyncReport syncAttachments(const std::vector<AttachmentWant>& wants);
  // Downloads one blob now, outside the budget (an original the nurse
  // opens). kNotFound: the server has no complete copy (yet); kIoError: the
  // server cannot be reached; kRejected: not signed in.
  Status fetchAttachment(const AttachmentWant& want);

 private:
  struct Run;
  template <typename T, typename Call>
  std::optional<T> call(Run& run, Call&& fn);
  bool ensureSession(Run& run);
  bool push(Run& run);
  bool pull(Run& run);
  bool pullPatient(Run& run, const std::string& patient, std::uint64_t since);
  bool sendAudit(Run& run);
  void sendReport(Run& run);
  bool handleEpoch(Run& run, const std::string& epoch);
  void transferAttachments(Run& run, const std::vector<AttachmentWant>& wants);
  // false: stop moving attachments in this sync (the network or session failed).
  bool uploadAttachment(Run& run, const AttachmentInfo& info);
  enum class Fetched : std::uint8_t { kDone, kSkipped, kStop };
  Fetched downloadAttachment(Run& run, const AttachmentWant& want);
  void publishAttachments(const std::vector<AttachmentWant>* wants);
  // wantedAttachments(), reading again only the charts whose op count changed.
  Result<std::vector<AttachmentWant>> cachedWants();
  void publish();
  void setStatus(const std::function<void(SyncStatus&)>& change);

  Replica& m_replica;
  Transport& m_transport;
  EngineOptions m_options;
  std::mutex m_syncMutex;
  mutable std::mutex m_statusMutex;
  SyncStatus m_status;
  std::uint64_t m_rng;
  // What the server was last told (a report is sent only on change).
  std::optional<std::pair<std::uint64_t, std::string>> m_reported;
  struct WantCache {
    std::string mark;  // Replica::chartMarks()
    std::vector<AttachmentWant> wants;
  };
  std::map<std::string, WantCache> m_wantCache;  // by patient; syncing thread only
};

}  // namespace charta::sync
