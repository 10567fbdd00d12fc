// Transport: the tablet's side of the HTTP API in docs/PROTOCOL.md, as typed
// calls. The engine never sees HTTP or JSON; makeHttpTransport() is the one
// implementation over the network (transport_cpprest.cc, the only file of
// charta_sync that includes cpprestsdk), and tests may put their own behind
// the interface.
//
// Every call returns either its answer or a CallError that says what the
// engine should do next: retry later (network, 5xx, 429), sign in again
// (401), stop and wipe (410), or give up on this request (other 4xx, an
// answer that does not parse). Nothing throws.
//
// Thread-safety: one transport may serve concurrent calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "charta/crdt/op_id.h"

namespace charta::sync {

struct CallError {
  enum class Kind : std::uint8_t {
    kNetwork,    // no answer: refused, reset, cut mid-body, timeout, TLS failure
    kServer,     // 5xx (503 unavailable included): retry with backoff
    kThrottled,  // 429: retry after retryAfterSeconds
    kAuth,       // 401: the session (or credential) is not accepted
    kRevoked,    // 410 device_revoked with "wipe": true: erase the replica
    kForbidden,  // 403
    kRefused,    // any other 4xx: this request will never succeed as sent
    kProtocol,   // a 2xx answer that does not parse as the protocol says
  };
  Kind kind = Kind::kNetwork;
  int httpStatus = 0;           // 0 when no answer arrived
  std::string code;             // the error body's "code", when there was one
  std::string message;          // for a person: the server's message or the network error
  int retryAfterSeconds = 0;    // from Retry-After on 429/503, else 0

  // kNetwork, kServer, kThrottled: the same request may succeed later.
  bool retryable() const;
  // "<kind>: [HTTP <status> [<code>]: ]<message>[ (retry after N s)]", e.g.
  // "network: POST /v1/sync/push: ... connection refused" or
  // "forbidden: HTTP 403 bad_code: the enrolment code is used".
  std::string toString() const;
};

std::string_view callErrorKindName(CallError::Kind kind);

// The CallError for an answer whose status is not 2xx, by the rules above:
// 5xx kServer, 429 kThrottled, 401 kAuth, 403 kForbidden, 410 kRevoked only
// with code "device_revoked" and "wipe": true (any other 410 is kRefused: a
// replica is never erased on a guess), other 4xx kRefused, and 1xx/3xx
// (nothing this API sends) kProtocol. code and message come from the error
// body, when it had them. Used by the HTTP transport and by fake transports in
// tests.
CallError callErrorForStatus(int httpStatus, std::string code, std::string message, int retryAfterSeconds = 0,
                             bool wipe = false);

// Either the answer or the error.
template <typename T>
class Reply {
 public:
  Reply(T value) : m_value(std::move(value)) {}         // NOLINT(implicit)
  Reply(CallError error) : m_error(std::move(error)) {}  // NOLINT(implicit)
  bool isOk() const { return m_value.has_value(); }
  // REQUIRES: isOk()
  const T& value() const& { return *m_value; }
  T& value() & { return *m_value; }
  // REQUIRES: !isOk()
  const CallError& error() const { return m_error; }

 private:
  std::optional<T> m_value;
  CallError m_error;
};

struct Empty {};

// What a device sends on every authenticated call.
struct DeviceCredential {
  std::string deviceId;
  std::string secret;
};

struct Health {
  std::string status;  // "ok"
  std::string store;   // "sqlite" | "postgres"
  std::string epoch;
};

struct Enrolment {
  std::string deviceId;
  std::string deviceSecret;
  crdt::ReplicaId replica;
  std::string clinic;
  std::string epoch;
};

struct Session {
  std::string token;
  std::int64_t expiresAtMs = 0;
  std::string userId;
  std::string displayName;
  std::string role;
  std::string clinic;
};

struct PushReply {
  struct Rejected {
    std::size_t index = 0;
    std::string op;  // "replica.seq"
    std::string reason;
  };
  std::string epoch;
  std::size_t stored = 0;
  std::size_t duplicates = 0;
  std::vector<std::uint64_t> seqs;  // one per op sent, 0 when rejected
  std::vector<Rejected> rejected;
  std::vector<std::size_t> futureClock;  // indexes of ops flagged for a future clock
  std::uint64_t head = 0;
};

struct PullPage {
  std::string epoch;
  std::vector<std::string> ops;  // each op's single-op encoding (base64 already decoded)
  std::uint64_t next = 0;
  bool more = false;
  std::vector<std::string> purge;
  std::vector<std::string> enter;
  // The server's newest sequence in this scope when the answer says so
  // (optional member "head"; 0 when absent): the total of a progress bar.
  std::uint64_t head = 0;
};

struct PullRequest {
  std::uint64_t since = 0;
  std::size_t limit = 0;        // 0: the server's default
  std::string patient;          // empty: the whole clinic
};

// One audit event recorded on the tablet (POST /v1/sync/audit).
struct DeviceAuditEvent {
  std::uint64_t seq = 0;      // the device's own audit sequence, 1, 2, 3... without gaps
  std::int64_t atMs = 0;      // when it happened, by the tablet's clock
  std::string user;           // who (a user id of the device's clinic)
  std::string action;         // "chart.read", "chart.break_glass", "replica.unlock", ...
  std::string patient;        // empty when none
  std::string detail;         // a JSON object as text ("{}" when nothing more)
};

// POST /v1/sync/break-glass: a patient outside the device's clinic, found by
// an identifier and birth date, with the reason the nurse typed.
struct BreakGlassRequest {
  std::string identifier;
  std::string birthDate;  // YYYY-MM-DD
  std::string reason;
};

struct BreakGlassReply {
  std::string patient;
  std::string clinic;             // the patient's clinic
  bool inScope = false;           // the device's own clinic holds it: no ops sent
  std::vector<std::string> ops;   // the patient's whole history (single-op encodings)
  std::uint64_t head = 0;
  std::int64_t expiresAtMs = 0;   // the copy is read-only and destroyed then
};

struct AuditReply {
  std::uint64_t acked = 0;  // every event with seq <= acked is in the server's chain
};

struct DeviceReport {
  std::uint64_t pendingOps = 0;
  std::string lastError;  // empty when the last sync succeeded
};

// What the server holds of one attachment blob (the JSON answer of the
// attachment routes, docs/PROTOCOL.md "Attachments").
struct AttachmentStatus {
  bool complete = false;  // "state": "complete" (else "uploading")
  std::uint64_t size = 0;
  std::string mediaType;
  std::uint64_t chunkSize = 0;
  std::uint64_t chunks = 0;
  std::vector<std::uint64_t> missing;    // chunk indexes the server lacks
  std::vector<std::string> chunkHashes;  // SHA-256 hex per chunk (attachmentStatus() of a complete one)
};

// Counters for benchmarks and the status model: what went over the wire.
struct TransportStats {
  std::uint64_t requests = 0;
  std::uint64_t bytesSent = 0;      // request bodies
  std::uint64_t bytesReceived = 0;  // response bodies
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual Reply<Health> health() = 0;
  virtual Reply<Enrolment> enrol(std::string_view code, std::string_view deviceName) = 0;
  virtual Reply<Session> login(const DeviceCredential& device, std::string_view username,
                               std::string_view password) = 0;
  virtual Reply<Empty> logout(const DeviceCredential& device, std::string_view token) = 0;
  // The new expiry of the session.
  virtual Reply<std::int64_t> refresh(const DeviceCredential& device, std::string_view token) = 0;
  // batch: an op batch (crdt::encodeBatch). pendingAfter: ops still in the
  // outbox after this batch (X-Charta-Pending).
  virtual Reply<PushReply> push(const DeviceCredential& device, std::string_view token, std::string_view batch,
                                std::uint64_t pendingAfter) = 0;
  virtual Reply<PullPage> pull(const DeviceCredential& device, std::string_view token,
                               const PullRequest& request) = 0;
  // POST /v1/sync/audit: events in seq order, ascending by one, at most 1,000
  // a call (more is 413 too_many_events, kRefused). Safe to send again.
  virtual Reply<AuditReply> sendAudit(const DeviceCredential& device, std::string_view token,
                                      const std::vector<DeviceAuditEvent>& events) = 0;
  virtual Reply<Empty> report(const DeviceCredential& device, std::string_view token,
                              const DeviceReport& report) = 0;
  // 404 (no such patient), 409 (ambiguous) and 400 are kRefused with the
  // server's message; 429 kThrottled.
  virtual Reply<BreakGlassReply> breakGlass(const DeviceCredential& device, std::string_view token,
                                            const BreakGlassRequest& request) = 0;

  // --- attachments: raw bytes apart from ops, addressed by (patient, SHA-256
  // hex). A patient outside the device's scope is 404 (kRefused), like a
  // chart. The defaults refuse (kRefused, code "unsupported"): a transport
  // that carries no attachments still serves ops.
  //
  // PUT .../attachments/{hash}: starts or resumes an upload (safe to repeat).
  // 400 bad hash or size, 409 declared otherwise before, 413 too_large, 415
  // unsupported_media_type: kRefused.
  virtual Reply<AttachmentStatus> declareAttachment(const DeviceCredential& device, std::string_view token,
                                                    std::string_view patient, std::string_view hash, std::uint64_t size,
                                                    std::string_view mediaType);
  // PUT .../attachments/{hash}/chunks/{index}: one chunk's raw bytes
  // (idempotent). 415 wrong_type (the upload was discarded), 422 corrupt (the
  // whole did not match its hash: every chunk discarded) and 400: kRefused.
  virtual Reply<AttachmentStatus> putAttachmentChunk(const DeviceCredential& device, std::string_view token,
                                                     std::string_view patient, std::string_view hash,
                                                     std::uint64_t index, std::string_view bytes);
  // GET .../attachments/{hash}: with chunkHashes when complete; 404 when the
  // server has none (kRefused, httpStatus 404).
  virtual Reply<AttachmentStatus> attachmentStatus(const DeviceCredential& device, std::string_view token,
                                                   std::string_view patient, std::string_view hash);
  // GET .../attachments/{hash}/chunks/{index}: the chunk's raw bytes. 409
  // incomplete: kRefused; 500 corrupt_chunk: kServer.
  virtual Reply<std::string> attachmentChunk(const DeviceCredential& device, std::string_view token,
                                             std::string_view patient, std::string_view hash, std::uint64_t index);

  virtual TransportStats stats() const = 0;
};

struct HttpTransportOptions {
  std::string baseUrl;         // "https://charta.example.org:8443" or "http://127.0.0.1:8080"
  // PEM: exactly the certificates trusted for https (the system's store is
  // then not used); empty: the system's store. Either way the certificate must
  // name the host of baseUrl. Set with an http:// baseUrl it is refused (a
  // caller that expects TLS never silently gets plain HTTP).
  std::string caCertFile;
  int timeoutMs = 30000;       // per call, connect to last byte (including the one resend below)
};

// The HTTP(S) transport. A call that fails before any byte of an answer
// arrived (a pooled keep-alive connection the server had closed looks like
// that) is sent once more at once, within the same timeout; enrol() never is
// (a code works once). Every other failure is reported, for the engine to
// retry as it sees fit.
//
// kInvalidArgument-like failures (a URL that does not parse, a missing CA
// file) come back as nullptr with the reason in *error (error may be null).
std::unique_ptr<Transport> makeHttpTransport(const HttpTransportOptions& options, std::string* error);

}  // namespace charta::sync
