#pragma once

// Push, pull and the conflict index: what the sync endpoints do to the store.
//
// The server keeps a materialised ChartDocument per patient (ChartCache),
// brought up to date from the op log inside each write transaction, so that
// it validates incoming ops exactly as every tablet will, and indexes the
// open conflicts of each chart it touches. Several server processes on one
// PostgreSQL each keep their own cache; the op log is the truth.
//
// Thread-safety: ChartCache is used only inside Store::write(), where the
// head row lock serialises writers; its map is guarded anyway.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "accounts.h"
#include "charta/crdt/chart_document.h"
#include "charta/crdt/op.h"
#include "json.h"
#include "store.h"

namespace charta::server {

class ChartCache {
 public:
  // The chart of `patient` with every stored op applied. The pointer stays
  // valid until invalidate() or the cache is destroyed.
  Result<crdt::ChartDocument*> load(Connection& c, const std::string& patient);
  // Records that `seq` was applied to the cached chart (after a store).
  void advance(const std::string& patient, std::int64_t seq);
  void invalidate(const std::set<std::string>& patients);

 private:
  struct Entry {
    std::unique_ptr<crdt::ChartDocument> doc;
    std::int64_t seq = 0;
  };
  std::mutex m_mu;
  std::map<std::string, Entry> m_charts;
};

struct PushResult {
  struct Rejection {
    std::size_t index = 0;
    std::string op;
    std::string reason;
  };
  std::vector<std::int64_t> seqs;  // per op of the batch: its server sequence, 0 when rejected
  std::vector<Rejection> rejected;
  std::vector<std::size_t> flagged;  // indexes of ops stamped too far in the future
  std::int64_t stored = 0;
  std::int64_t duplicates = 0;
};

// Stores the ops of one push batch once each (idempotent by op id). Not
// stored, and answered with a reason instead:
//   - ops the chart rejects, and ops for patients outside the device's clinic;
//   - ops under another replica id than the device's own, unless that replica
//     is the server's or a revoked device's of the same clinic (a tablet
//     relaying, after a restore, what a lost tablet made): a device must not
//     take op ids that belong to a live device;
//   - an op whose id is already stored with different content;
//   - an op of the device's own replica naming an author who is not a user
//     of its clinic.
// Every op received is an audit event.
Result<PushResult> pushOps(WriteTx& tx, ChartCache& cache, const Device& device, std::uint64_t serverReplica,
                           const std::vector<crdt::Op>& ops, std::int64_t futureBoundMs);

// Stores ops the server made itself (an import, a conflict resolution) for
// patients of `clinic`: `docs` holds each patient's chart with the ops already
// applied. Assigns sequences (seqsOut, in order) and reindexes conflicts and
// break-glass keys, like a push.
Status storeServerOps(WriteTx& tx, ChartCache& cache, std::map<std::string, crdt::ChartDocument*>& docs,
                      const std::vector<const crdt::Op*>& ops, const std::string& clinic,
                      std::vector<std::int64_t>& seqsOut);

struct PullResult {
  std::vector<std::string> ops;  // encoded ops, in sequence order
  std::int64_t next = 0;         // the cursor for the next pull
  bool more = false;
  std::int64_t head = 0;         // the store's newest sequence when the page was read
  std::vector<std::string> purge;  // patients that left the device's clinic
  std::vector<std::string> enter;  // patients that joined it: fetch with `patient`
  std::vector<std::string> patientsRead;  // charts in this page (for the audit)
};

// The ops of the device's clinic after `since`, at most `limit`. With
// `patient` set: that patient's whole history after `since` (it must be in
// the clinic). Reads only: a pull does not hold the head lock while it reads.
Result<PullResult> readPull(Connection& c, const Device& device, std::int64_t since, std::int64_t limit,
                            const std::string& patient);
// Audits each chart read by a pull and records the device's cursor (when
// `wholeCursor`: a pull of the clinic, not of one patient).
Status recordPull(WriteTx& tx, const Device& device, const PullResult& pulled, bool wholeCursor);

// Moves a patient to another clinic; devices of the old clinic purge it.
Status movePatient(WriteTx& tx, const std::string& patient, const std::string& toClinic);

// Break-glass lookup (docs/PROTOCOL.md, "Break-glass"). Table patient_keys
// holds, per patient, one key per active identifier of its chart:
// birth date + "|" + the identifier's value normalised, so finding a patient
// by what a nurse types is one index lookup, never a scan of every chart. The
// rows of a chart are rewritten in the transaction that stores its ops
// (storeOps), from the materialised chart.

// An identifier as typed or charted, for comparison: ASCII whitespace and '-'
// removed wherever they are, ASCII letters in lower case.
std::string normaliseIdentifier(std::string_view identifier);
// True for a YYYY-MM-DD date that exists in the calendar.
bool validDate(std::string_view date);
// The break-glass keys of a chart: none without a valid birth date; one per
// identifier entry whose status is active and whose normalised value is 1 to
// kBreakGlassIdentifierBytes bytes (longer values can never be typed).
std::set<std::string> patientKeysOf(const crdt::ChartDocument& doc);
inline constexpr std::size_t kBreakGlassIdentifierBytes = 256;

// A store made by an older server (or restored from its backup) has charts
// but no keys: when meta "patient_keys" is absent, builds the keys of every
// patient from the op log and sets it, in the caller's transaction. True when
// it built them.
Result<bool> ensurePatientKeys(WriteTx& tx);

struct BreakGlassResult {
  enum class Outcome { kNotFound, kAmbiguous, kInScope, kOutOfScope };
  Outcome outcome = Outcome::kNotFound;
  std::string patient;
  std::string clinic;            // the patient's
  std::vector<std::string> ops;  // out of scope: every op of the patient, encoded, in sequence order
  std::int64_t head = 0;         // the store's newest sequence
  bool keysBuilt = false;        // this call built the keys (ensurePatientKeys)
};

// Finds the patient whose chart has `birthDate` and an active identifier
// equal to `identifier` once normalised, and audits the lookup:
// chart.break_glass_refused (no match, several), chart.lookup (a patient of
// the device's clinic: the tablet already holds it), chart.break_glass (a
// patient of another clinic, whose ops are read in this transaction).
// REQUIRES: validDate(birthDate), a non-empty normalised identifier.
Result<BreakGlassResult> breakGlassLookup(WriteTx& tx, const Device& device, const std::string& identifier,
                                          const std::string& birthDate, const std::string& reason);

json::Value valueToJson(const crdt::Value& v);
// A conflict as the admin API shows it.
json::Value conflictToJson(const crdt::Conflict& c);

// How a conflict ranks in the inbox (the `clinical` column): 2 for a
// clinically significant field (allergies, medications), 1 for another
// clinical field, 0 for a field that is not clinical. Rows written before the
// rank existed hold 1 for every clinical field until their chart changes.
std::int64_t conflictRank(const crdt::Conflict& k);

struct ConflictRow {
  std::string id, patient, clinic, path;
  std::int64_t rank = 0;  // conflictRank
  std::int64_t openedAt = 0;
  std::string detail;  // JSON
};
// Which open conflicts to list; empty members match everything.
struct ConflictFilter {
  std::string clinic;
  std::string patient;
  std::string id;
  std::string pathPrefix;         // the field: paths that start with it
  std::int64_t openedBefore = 0;  // ms since the epoch; 0: any age
};
// Open conflicts, highest rank first, then oldest first.
Result<std::vector<ConflictRow>> listConflicts(Connection& c, const ConflictFilter& filter, std::int64_t limit,
                                               std::int64_t offset);
Result<std::int64_t> countConflicts(Connection& c, const ConflictFilter& filter);

// Where an op came from, for the console's side-by-side view: the device
// that pushed it, when the server received it and the wall clock of its HLC.
struct OpOrigin {
  std::string device;  // "" when the op was made on the server (a resolution, an import)
  std::string deviceName;
  std::int64_t receivedAt = 0;
  std::int64_t writtenAt = 0;
};
// Nullopt for an id that is not "r<replica>.<seq>" or an op the server does not hold.
Result<std::optional<OpOrigin>> opOrigin(Connection& c, const std::string& opId);

// Resolves an open field conflict with `value`: an op by `user` on the
// server's replica whose predecessors are every competing value, stored and
// pulled like any other. kNotFound when the conflict is no longer open.
Result<crdt::Op> resolveConflict(WriteTx& tx, ChartCache& cache, std::uint64_t serverReplica,
                                 const std::string& conflictId, const crdt::Value& value,
                                 const std::string& reason, const std::string& user);

}  // namespace charta::server
