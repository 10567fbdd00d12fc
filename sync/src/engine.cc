#include "charta/sync/engine.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "charta/crdt/op_codec.h"
#include "charta/sync/crypto.h"

namespace charta::sync {

namespace {

std::int64_t wallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// What a person reads in the status line.
std::string plainWords(const CallError& e) {
  switch (e.kind) {
    case CallError::Kind::kNetwork:
      return "Cannot reach the server (" + e.message + ")";
    case CallError::Kind::kServer:
      return "The server has a problem (HTTP " + std::to_string(e.httpStatus) + "): " + e.message;
    case CallError::Kind::kThrottled:
      return "The server asked to wait " + std::to_string(e.retryAfterSeconds) + " s";
    case CallError::Kind::kAuth:
      return "Sign in again to sync: " + e.message;
    case CallError::Kind::kRevoked:
      return "This tablet was revoked by an administrator; its data was erased";
    case CallError::Kind::kForbidden:
      return "The server refused: " + e.message;
    case CallError::Kind::kRefused:
      return "The server refused the request (" + e.code + "): " + e.message;
    case CallError::Kind::kProtocol:
      return "The server's answer was not understood: " + e.message;
  }
  return e.toString();
}

}  // namespace

std::int64_t backoffDelayMs(int attempt, std::int64_t baseMs, std::int64_t maxMs, std::uint64_t randomValue,
                            int retryAfterSeconds) {
  std::int64_t ceiling = baseMs;
  for (int i = 1; i < attempt && ceiling < maxMs; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, maxMs);
  const std::int64_t floor = ceiling / 2;
  const std::int64_t span = ceiling - floor + 1;
  std::int64_t delay = floor + static_cast<std::int64_t>(randomValue % static_cast<std::uint64_t>(span));
  const std::int64_t serverSays = static_cast<std::int64_t>(retryAfterSeconds) * 1000;
  return std::max(delay, serverSays);
}

struct SyncEngine::Run {
  SyncReport report;
  DeviceCredential device;
  std::string user;
  std::string token;
  bool stop = false;          // the sync cannot go on (error recorded in report)
  bool restarted = false;     // a new epoch was handled during this run
  int maxAttempts = 0;        // per request; 0: EngineOptions::maxAttempts
};

SyncEngine::SyncEngine(Replica& replica, Transport& transport, EngineOptions options)
    : m_replica(replica), m_transport(transport), m_options(std::move(options)) {
  m_rng = m_options.jitterSeed ? m_options.jitterSeed : (static_cast<std::uint64_t>(wallNowMs()) ^ randomBelow(~0ull));
  if (!m_options.sleep) {
    m_options.sleep = [](std::int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  }
  const Replica::SyncRecord record = m_replica.syncRecord();
  m_status.lastSuccessMs = record.lastSuccessMs;
  m_status.lastError = record.lastError;
  m_status.lastErrorMs = record.lastErrorMs;
  m_status.pendingOps = m_replica.pendingOpCount();
  m_status.pendingAudit = m_replica.pendingAuditCount();
  m_status.attachmentsToUpload = m_replica.attachmentCounts().toUpload;
}

Result<std::unique_ptr<Replica>> SyncEngine::enrol(Transport& transport, const std::string& path,
                                                   const std::string& serverUrl, std::string_view code,
                                                   std::string_view deviceName, KeyVault& vault,
                                                   std::string_view user, std::string_view passphrase,
                                                   std::string_view password, ReplicaOptions options) {
  // Check the passphrase before the code is spent.
  {
    auto probe = vault.wrap(user, passphrase, SecretKey::random());
    if (!probe.isOk()) return probe.status();
  }
  auto enrolment = transport.enrol(code, deviceName);
  if (!enrolment.isOk()) return Status::rejected("enrolment failed: " + plainWords(enrolment.error()));
  const Enrolment& e = enrolment.value();
  DeviceCredential device{e.deviceId, e.deviceSecret};
  auto session = transport.login(device, user, password);
  if (!session.isOk()) {
    return Status::rejected("the device was enrolled but " + std::string(user) +
                            " could not sign in: " + plainWords(session.error()) +
                            " (the code is spent: ask for a new one)");
  }
  DeviceIdentity identity{serverUrl, e.deviceId, e.replica, e.clinic, e.epoch};
  UserInfo first{std::string(user), session.value().displayName, {}, 0};
  auto replica = Replica::create(path, identity, e.deviceSecret, vault, first, passphrase, options);
  if (!replica.isOk()) return replica.status();
  if (Status st = replica.value()->storeSession(session.value()); !st.isOk()) return st;
  return std::move(replica).value();
}

Status SyncEngine::signIn(std::string_view password) {
  if (!m_replica.isUnlocked()) return Status::rejected("the replica is locked: unlock it first");
  auto secret = m_replica.deviceSecret();
  if (!secret.isOk()) return secret.status();
  const DeviceCredential device{m_replica.identity().deviceId, secret.value()};
  auto session = m_transport.login(device, m_replica.currentUser(), password);
  if (!session.isOk()) {
    const std::string words = plainWords(session.error());
    if (session.error().kind == CallError::Kind::kAuth) return Status::rejected(words);
    return Status::ioError(words);
  }
  if (Status st = m_replica.storeSession(session.value()); !st.isOk()) return st;
  setStatus([](SyncStatus& s) { s.signInNeeded = false; });
  return Status::ok();
}

Result<SyncEngine::BreakGlassOutcome> SyncEngine::breakGlass(const BreakGlassRequest& request) {
  std::lock_guard syncLock(m_syncMutex);
  if (!m_replica.isUnlocked()) return Status::rejected("the replica is locked: unlock it first");
  Run run;
  if (!ensureSession(run)) {
    return Status::rejected("Break-glass access needs a session with the server: " +
                            (run.report.message.empty() ? std::string("sign in first.") : run.report.message));
  }
  // One attempt more than a plain call would be pointless: a nurse waits.
  Reply<BreakGlassReply> reply = m_transport.breakGlass(run.device, run.token, request);
  if (!reply.isOk()) {
    const CallError& err = reply.error();
    setStatus([&](SyncStatus& s) {
      s.connectivity = err.kind == CallError::Kind::kNetwork ? SyncStatus::Connectivity::kOffline
                                                             : SyncStatus::Connectivity::kOnline;
    });
    if (err.kind == CallError::Kind::kNetwork || err.kind == CallError::Kind::kServer) {
      return Status::ioError("Break-glass access needs the server, which cannot be reached now: " + plainWords(err));
    }
    if (err.httpStatus == 404) return Status::notFound(err.message);
    if (err.kind == CallError::Kind::kAuth) {
      (void)m_replica.forgetSession(run.user);
      setStatus([](SyncStatus& s) { s.signInNeeded = true; });
    }
    if (err.kind == CallError::Kind::kRevoked) {
      (void)m_replica.eraseEverything();
      setStatus([](SyncStatus& s) { s.wiped = true; });
    }
    return Status::rejected(err.kind == CallError::Kind::kRefused && !err.message.empty() ? err.message
                                                                                          : plainWords(err));
  }
  setStatus([](SyncStatus& s) { s.connectivity = SyncStatus::Connectivity::kOnline; });
  const BreakGlassReply& r = reply.value();
  BreakGlassOutcome out{r.patient, r.inScope, r.expiresAtMs};
  if (r.inScope) return out;
  BreakGlassCopy copy;
  copy.patient = r.patient;
  copy.clinic = r.clinic;
  copy.reason = request.reason;
  copy.expiresAtMs = r.expiresAtMs;
  copy.ops = r.ops;
  if (Status st = m_replica.storeBreakGlass(copy); !st.isOk()) return st;
  return out;
}

SyncStatus SyncEngine::status() const {
  std::lock_guard lock(m_statusMutex);
  return m_status;
}

void SyncEngine::setStatus(const std::function<void(SyncStatus&)>& change) {
  SyncStatus copy;
  {
    std::lock_guard lock(m_statusMutex);
    change(m_status);
    copy = m_status;
  }
  if (m_options.onStatus) m_options.onStatus(copy);
}

void SyncEngine::publish() {
  const std::uint64_t pending = m_replica.pendingOpCount();
  const std::uint64_t audit = m_replica.pendingAuditCount();
  setStatus([&](SyncStatus& s) {
    s.pendingOps = pending;
    s.pendingAudit = audit;
  });
}

// One request with retries: fn() returns a Reply<T>.
template <typename T, typename Call>
std::optional<T> SyncEngine::call(Run& run, Call&& fn) {
  for (int attempt = 1;; ++attempt) {
    ++run.report.requests;
    Reply<T> reply = fn();
    if (reply.isOk()) {
      setStatus([](SyncStatus& s) { s.connectivity = SyncStatus::Connectivity::kOnline; });
      return std::move(reply.value());
    }
    const CallError& err = reply.error();
    if (err.kind == CallError::Kind::kNetwork) {
      setStatus([](SyncStatus& s) { s.connectivity = SyncStatus::Connectivity::kOffline; });
    } else {
      setStatus([](SyncStatus& s) { s.connectivity = SyncStatus::Connectivity::kOnline; });
    }
    if (err.kind == CallError::Kind::kAuth && attempt == 1 && m_options.passwordFor) {
      // The session ended: sign in again once, then retry the call.
      auto password = m_options.passwordFor(run.user);
      if (password) {
        auto session = m_transport.login(run.device, run.user, *password);
        ++run.report.requests;
        if (session.isOk() && m_replica.storeSession(session.value()).isOk()) {
          run.token = session.value().token;
          continue;
        }
      }
    }
    const int maxAttempts = run.maxAttempts > 0 ? run.maxAttempts : m_options.maxAttempts;
    if (!err.retryable() || attempt >= maxAttempts) {
      run.report.error = err;
      run.report.message = plainWords(err);
      run.stop = true;
      if (err.kind == CallError::Kind::kAuth) {
        (void)m_replica.forgetSession(run.user);
        setStatus([](SyncStatus& s) { s.signInNeeded = true; });
      }
      if (err.kind == CallError::Kind::kRevoked) {
        run.report.wiped = true;
        (void)m_replica.eraseEverything();
        setStatus([](SyncStatus& s) { s.wiped = true; });
      }
      return std::nullopt;
    }
    ++run.report.retries;
    m_options.sleep(backoffDelayMs(attempt, m_options.backoffBaseMs, m_options.backoffMaxMs, splitmix(m_rng),
                                   err.retryAfterSeconds));
  }
}

bool SyncEngine::ensureSession(Run& run) {
  run.user = m_replica.currentUser();
  auto secret = m_replica.deviceSecret();
  if (!secret.isOk()) {
    run.report.message = "The tablet's credential cannot be read: " + secret.status().message();
    run.stop = true;
    return false;
  }
  run.device = DeviceCredential{m_replica.identity().deviceId, secret.value()};
  auto session = m_replica.session(run.user);
  if (!session.isOk()) {
    run.report.message = session.status().message();
    run.stop = true;
    return false;
  }
  const std::int64_t now = wallNowMs();
  if (session.value() && session.value()->expiresAtMs > now + 60'000) {
    run.token = session.value()->token;
    return true;
  }
  if (session.value() && session.value()->expiresAtMs > now) {
    // About to expire: renew it (one extra request, once an hour at most).
    run.token = session.value()->token;
    ++run.report.requests;
    auto refreshed = m_transport.refresh(run.device, run.token);
    if (refreshed.isOk()) {
      Session s = *session.value();
      s.expiresAtMs = refreshed.value();
      (void)m_replica.storeSession(s);
      return true;
    }
  }
  if (m_options.passwordFor) {
    if (auto password = m_options.passwordFor(run.user)) {
      auto fresh = call<Session>(run, [&] { return m_transport.login(run.device, run.user, *password); });
      if (!fresh) return false;
      if (Status st = m_replica.storeSession(*fresh); !st.isOk()) {
        run.report.message = st.message();
        run.stop = true;
        return false;
      }
      run.token = fresh->token;
      return true;
    }
  }
  run.report.message = "Sign in again to sync";
  run.stop = true;
  setStatus([](SyncStatus& s) { s.signInNeeded = true; });
  return false;
}

bool SyncEngine::handleEpoch(Run& run, const std::string& epoch) {
  if (epoch.empty() || epoch == m_replica.identity().epoch) return false;
  // The server was restored from a backup: give it back everything we hold.
  if (Status st = m_replica.startNewEpoch(epoch); !st.isOk()) {
    run.report.message = "Cannot prepare the re-send after the server's restore: " + st.message();
    run.stop = true;
    return true;
  }
  run.report.newEpoch = true;
  run.restarted = true;
  publish();
  return true;
}

bool SyncEngine::push(Run& run) {
  for (;;) {
    auto batch = m_replica.outbox(m_options.pushBatchOps);
    if (!batch.isOk()) {
      run.report.message = "The outbox cannot be read: " + batch.status().message();
      run.stop = true;
      return false;
    }
    if (batch.value().empty()) return true;
    const std::vector<crdt::Op>& ops = batch.value();
    const std::string body = crdt::encodeBatch(ops);
    const std::uint64_t pending = m_replica.pendingOpCount();
    const std::uint64_t after = pending > ops.size() ? pending - ops.size() : 0;
    auto reply = call<PushReply>(run, [&] { return m_transport.push(run.device, run.token, body, after); });
    if (!reply) return false;
    if (reply->seqs.size() != ops.size()) {
      run.report.message = "The server acknowledged " + std::to_string(reply->seqs.size()) + " ops of " +
                           std::to_string(ops.size()) + " sent";
      run.stop = true;
      return false;
    }
    std::vector<Replica::Ack> acks;
    acks.reserve(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) acks.push_back({ops[i].id, reply->seqs[i], {}});
    for (const PushReply::Rejected& r : reply->rejected) {
      if (r.index < acks.size()) acks[r.index].rejectedReason = r.reason.empty() ? "refused" : r.reason;
    }
    for (const Replica::Ack& a : acks) {
      if (a.serverSeq == 0 && a.rejectedReason.empty()) {
        run.report.message = "The server neither stored nor refused op " + crdt::toString(a.op);
        run.stop = true;
        return false;
      }
    }
    if (Status st = m_replica.acknowledge(acks); !st.isOk()) {
      run.report.message = "Cannot record the server's acknowledgement: " + st.message();
      run.stop = true;
      return false;
    }
    for (const Replica::Ack& a : acks) (a.serverSeq > 0 ? run.report.pushed : run.report.refused)++;
    run.report.futureClock += reply->futureClock.size();
    publish();
    if (handleEpoch(run, reply->epoch)) {
      if (run.stop) return false;
      continue;  // the outbox now holds every op: keep pushing
    }
  }
}

bool SyncEngine::pull(Run& run) {
  const std::uint64_t start = m_replica.cursor();
  setStatus([](SyncStatus& s) {
    s.progressDone = 0;
    s.progressTotal = 0;
  });
  for (;;) {
    PullRequest request{m_replica.cursor(), m_options.pullPageOps, {}};
    auto page = call<PullPage>(run, [&] { return m_transport.pull(run.device, run.token, request); });
    if (!page) return false;
    if (handleEpoch(run, page->epoch)) return false;  // the caller starts over (push everything, pull from 0)
    auto applied = m_replica.applyPulled(*page);
    if (!applied.isOk()) {
      run.report.message = "A page from the server could not be applied: " + applied.status().message();
      run.stop = true;
      return false;
    }
    ++run.report.pages;
    run.report.pulled += applied.value().stored;
    run.report.futureClock += applied.value().futureClock;
    const std::uint64_t next = page->next;
    const std::uint64_t head = std::max(page->head, next);
    setStatus([&](SyncStatus& s) {
      s.progressDone = next > start ? next - start : 0;
      s.progressTotal = head > start ? head - start : 0;
    });
    if (!page->more) break;
    if (next <= request.since && !page->ops.empty()) {
      run.report.message = "The server's cursor did not move forward";
      run.stop = true;
      return false;
    }
  }
  // Patients that joined the clinic: fetch each one's whole history.
  for (const auto& [patient, since] : m_replica.pendingEntries()) {
    if (!pullPatient(run, patient, since)) return false;
  }
  return true;
}

bool SyncEngine::pullPatient(Run& run, const std::string& patient, std::uint64_t since) {
  for (;;) {
    PullRequest request{since, m_options.pullPageOps, patient};
    auto page = call<PullPage>(run, [&] { return m_transport.pull(run.device, run.token, request); });
    if (!page) return false;
    if (handleEpoch(run, page->epoch)) return false;
    auto applied = m_replica.applyPulled(*page, patient);
    if (!applied.isOk()) {
      run.report.message = "Patient " + patient + " could not be fetched: " + applied.status().message();
      run.stop = true;
      return false;
    }
    ++run.report.pages;
    run.report.pulled += applied.value().stored;
    since = page->next;
    if (!page->more) break;
  }
  if (Status st = m_replica.finishPendingEntry(patient); !st.isOk()) {
    run.report.message = st.message();
    run.stop = true;
    return false;
  }
  return true;
}

bool SyncEngine::sendAudit(Run& run) {
  for (;;) {
    auto events = m_replica.pendingAudit(m_options.auditBatch);
    if (!events.isOk()) {
      run.report.message = "The tablet's audit trail cannot be read: " + events.status().message();
      run.stop = true;
      return false;
    }
    if (events.value().empty()) return true;
    auto reply = call<AuditReply>(run, [&] { return m_transport.sendAudit(run.device, run.token, events.value()); });
    if (!reply) return false;
    const std::uint64_t last = events.value().back().seq;
    if (reply->acked < events.value().front().seq) {
      run.report.message = "The server did not take the audit events";
      run.stop = true;
      return false;
    }
    run.report.auditSent += static_cast<std::size_t>(std::min(reply->acked, last) - events.value().front().seq + 1);
    if (Status st = m_replica.acknowledgeAudit(std::min(reply->acked, last)); !st.isOk()) {
      run.report.message = st.message();
      run.stop = true;
      return false;
    }
    if (reply->acked < last) return true;  // the server took part; the rest goes next time
  }
}

void SyncEngine::sendReport(Run& run) {
  const std::uint64_t pending = m_replica.pendingOpCount();
  const std::string error = run.report.ok ? std::string() : run.report.message;
  const auto state = std::make_pair(pending, error);
  if (m_reported && *m_reported == state) return;
  if (!m_reported && pending == 0 && error.empty()) {
    m_reported = state;  // nothing worth a request on a clean first sync
    return;
  }
  if (run.token.empty() || run.report.wiped) return;
  ++run.report.requests;
  auto reply = m_transport.report(run.device, run.token, DeviceReport{pending, error});
  if (reply.isOk()) m_reported = state;
}

SyncReport SyncEngine::syncOnce() {
  std::lock_guard syncLock(m_syncMutex);
  Run run;
  setStatus([](SyncStatus& s) { s.syncing = true; });
  if (!m_replica.isUnlocked()) {
    run.report.message = "The tablet is locked";
  } else if (ensureSession(run)) {
    for (int round = 0; round < 3 && !run.stop; ++round) {
      run.restarted = false;
      if (!push(run) && !run.restarted) break;
      if (run.restarted && !run.stop) continue;
      if (!pull(run) && !run.restarted) break;
      if (run.restarted && !run.stop) continue;
      break;
    }
    if (!run.stop && !run.restarted) {
      if (sendAudit(run)) run.report.ok = true;
    }
    if (run.report.ok && m_options.attachments) {
      auto wants = cachedWants();
      if (wants.isOk()) {
        transferAttachments(run, wants.value());
      } else {
        run.report.attachmentError = "The charts' attachments cannot be listed: " + wants.status().message();
      }
    }
  }
  const std::int64_t now = wallNowMs();
  if (!run.report.wiped) {
    Replica::SyncRecord record = m_replica.syncRecord();
    if (run.report.ok) {
      record.lastSuccessMs = now;
      record.lastError.clear();
    } else {
      record.lastError = run.report.message;
      record.lastErrorMs = now;
    }
    (void)m_replica.recordSyncOutcome(record);
    sendReport(run);
  }
  const std::uint64_t pending = run.report.wiped ? 0 : m_replica.pendingOpCount();
  const std::uint64_t audit = run.report.wiped ? 0 : m_replica.pendingAuditCount();
  setStatus([&](SyncStatus& s) {
    s.syncing = false;
    s.pendingOps = pending;
    s.pendingAudit = audit;
    if (run.report.ok) {
      s.lastSuccessMs = now;
      s.lastError.clear();
      s.signInNeeded = false;
    } else {
      s.lastError = run.report.message;
      s.lastErrorMs = now;
    }
  });
  return run.report;
}

// --- attachments -------------------------------------------------------------

namespace {

// The wants of one chart, each blob once.
std::vector<AttachmentWant> wantsOf(const std::string& patient, const crdt::ChartDocument& doc) {
  std::vector<AttachmentWant> out;
  std::set<std::string> seen;
  for (const auto& [id, entry] : doc.entries(crdt::Collection::kAttachments)) {
    if (entry.currentStatus() != static_cast<std::int64_t>(crdt::EntryStatus::kActive)) continue;
    const crdt::Value hash = entry.fieldValue(crdt::field::kContentHash);
    const crdt::Value mediaType = entry.fieldValue(crdt::field::kMediaType);
    const crdt::Value size = entry.fieldValue(crdt::field::kContentSize);
    const crdt::Value takenAt = entry.fieldValue(crdt::field::kTakenAt);
    const crdt::Value thumbnail = entry.fieldValue(crdt::field::kThumbnailHash);
    const auto* h = std::get_if<std::string>(&hash);
    const std::int64_t taken = std::holds_alternative<std::int64_t>(takenAt) ? std::get<std::int64_t>(takenAt) : 0;
    if (h && isContentHash(*h) && seen.insert(*h).second) {
      AttachmentWant want;
      want.patient = patient;
      want.hash = *h;
      if (const auto* n = std::get_if<std::int64_t>(&size); n && *n > 0) want.size = static_cast<std::uint64_t>(*n);
      if (const auto* m = std::get_if<std::string>(&mediaType)) want.mediaType = *m;
      want.takenAtMs = taken;
      out.push_back(std::move(want));
    }
    const auto* t = std::get_if<std::string>(&thumbnail);
    if (t && isContentHash(*t) && seen.insert(*t).second) {
      AttachmentWant want;
      want.patient = patient;
      want.hash = *t;
      want.takenAtMs = taken;
      want.thumbnail = true;
      out.push_back(std::move(want));
    }
  }
  return out;
}

}  // namespace

Result<std::vector<AttachmentWant>> wantedAttachments(Replica& replica) {
  std::vector<AttachmentWant> out;
  for (const std::string& patient : replica.patients()) {
    if (replica.isBreakGlass(patient)) continue;  // outside the device's scope on the server
    // A copy: the app may call the replica from another thread meanwhile.
    auto doc = replica.chartCopy(patient, "");
    if (!doc.isOk()) {
      if (doc.status().code() == Status::Code::kNotFound) continue;  // purged meanwhile
      return doc.status();
    }
    for (AttachmentWant& w : wantsOf(patient, doc.value())) out.push_back(std::move(w));
  }
  return out;
}

Result<std::vector<AttachmentWant>> SyncEngine::cachedWants() {
  // Only charts that changed since the last sync are read again: their marks
  // are read in one scan, nothing opened (reading every summary cost about
  // 0.1 ms a patient, a quarter of a second on a clinic of 2,000, after
  // every sync).
  std::vector<AttachmentWant> out;
  std::map<std::string, WantCache> next;
  for (auto& [patient, mark] : m_replica.chartMarks()) {
    auto cached = m_wantCache.find(patient);
    if (cached == m_wantCache.end() || cached->second.mark != mark) {
      auto doc = m_replica.chartCopy(patient, "");
      if (!doc.isOk()) {
        if (doc.status().code() == Status::Code::kNotFound) continue;
        return doc.status();
      }
      next[patient] = WantCache{std::move(mark), wantsOf(patient, doc.value())};
    } else {
      next[patient] = std::move(cached->second);
    }
    for (const AttachmentWant& w : next[patient].wants) out.push_back(w);
  }
  m_wantCache = std::move(next);
  return out;
}

namespace {

// After a failed call of the attachment step: records the problem and says
// whether the step may go on with other blobs (the server refused this one)
// or must stop (the network, the server or the session failed).
bool attachmentCallFailed(SyncReport& report, bool& stop, const std::string& what) {
  stop = false;  // the sync itself is done; only this step may stop
  report.attachmentError = what + ": " + report.message;
  const bool refused =
      report.error && report.error->kind == CallError::Kind::kRefused && report.error->code != "unsupported";
  return refused;
}

int httpStatusOf(const SyncReport& report) { return report.error ? report.error->httpStatus : 0; }

}  // namespace

bool SyncEngine::uploadAttachment(Run& run, const AttachmentInfo& info) {
  const std::string what = "Attachment " + info.hash.substr(0, 12) + " could not be uploaded";
  auto declared = call<AttachmentStatus>(run, [&] {
    return m_transport.declareAttachment(run.device, run.token, info.patient, info.hash, info.size, info.mediaType);
  });
  if (!declared) {
    if (!attachmentCallFailed(run.report, run.stop, what)) return false;
    const int status = httpStatusOf(run.report);
    if (status == 400 || status == 409 || status == 413 || status == 415) {
      (void)m_replica.markAttachmentRefused(info.patient, info.hash, run.report.message);
    }
    return true;  // 404: the patient is not (yet) in the server's scope; later
  }
  if (declared->chunkSize != kAttachmentChunkBytes) {
    run.report.attachmentError =
        "The server's attachment chunk size (" + std::to_string(declared->chunkSize) + " bytes) is not this tablet's";
    return false;
  }
  if (declared->complete) {
    if (Status st = m_replica.markAttachmentUploaded(info.patient, info.hash); !st.isOk()) {
      run.report.attachmentError = st.message();
    }
    ++run.report.attachmentsUploaded;
    return true;
  }
  const std::set<std::uint64_t> missing(declared->missing.begin(), declared->missing.end());
  auto reader = m_replica.openAttachment(info.patient, info.hash, "");
  if (!reader.isOk()) {
    run.report.attachmentError = what + ": " + reader.status().message();
    if (reader.status().code() == Status::Code::kCorruption) {
      (void)m_replica.markAttachmentRefused(info.patient, info.hash, "the copy on this tablet is damaged");
    }
    return true;
  }
  for (std::uint64_t i = 0; i < info.chunks; ++i) {
    auto chunk = reader.value()->next();
    if (!chunk.isOk() || !chunk.value()) {
      run.report.attachmentError = what + ": " + chunk.status().message();
      (void)m_replica.markAttachmentRefused(info.patient, info.hash, "the copy on this tablet is damaged");
      return true;
    }
    std::string& bytes = *chunk.value();
    if (missing.count(i) == 0) {
      wipeString(bytes);
      continue;
    }
    auto put = call<AttachmentStatus>(
        run, [&] { return m_transport.putAttachmentChunk(run.device, run.token, info.patient, info.hash, i, bytes); });
    wipeString(bytes);
    if (!put) {
      if (!attachmentCallFailed(run.report, run.stop, what)) return false;
      // 415 wrong_type: never accepted. 422 corrupt: the server discarded
      // every chunk; the next sync sends the blob again.
      if (httpStatusOf(run.report) == 415) {
        (void)m_replica.markAttachmentRefused(info.patient, info.hash, run.report.message);
      }
      return true;
    }
    ++run.report.attachmentChunksSent;
    if (put->complete) {
      if (Status st = m_replica.markAttachmentUploaded(info.patient, info.hash); !st.isOk()) {
        run.report.attachmentError = st.message();
      }
      ++run.report.attachmentsUploaded;
      return true;
    }
  }
  return true;  // every chunk the server lacked was sent; the next sync asks again
}

SyncEngine::Fetched SyncEngine::downloadAttachment(Run& run, const AttachmentWant& want) {
  const std::string what = "Attachment " + want.hash.substr(0, 12) + " could not be downloaded";
  auto status = call<AttachmentStatus>(
      run, [&] { return m_transport.attachmentStatus(run.device, run.token, want.patient, want.hash); });
  if (!status) {
    if (!attachmentCallFailed(run.report, run.stop, what)) return Fetched::kStop;
    if (httpStatusOf(run.report) == 404) run.report.attachmentError.clear();  // not uploaded yet: not a problem
    return Fetched::kSkipped;
  }
  if (!status->complete) return Fetched::kSkipped;  // still being uploaded by the device that attached it
  if (status->chunkSize != kAttachmentChunkBytes) {
    run.report.attachmentError =
        "The server's attachment chunk size (" + std::to_string(status->chunkSize) + " bytes) is not this tablet's";
    return Fetched::kStop;
  }
  if ((want.size != 0 && status->size != want.size) ||
      (!want.mediaType.empty() && status->mediaType != want.mediaType) ||
      status->chunkHashes.size() != status->chunks) {
    run.report.attachmentError = what + ": the server describes it otherwise than the chart";
    return Fetched::kSkipped;
  }
  auto held = m_replica.beginAttachmentDownload(want.patient, want.hash, status->size,
                                                AttachmentMeta{status->mediaType, want.takenAtMs, want.thumbnail});
  if (!held.isOk()) {
    run.report.attachmentError = what + ": " + held.status().message();
    return Fetched::kSkipped;
  }
  if (held.value() >= status->chunks) return Fetched::kDone;
  for (std::uint64_t i = held.value(); i < status->chunks; ++i) {
    bool stored = false;
    for (int attempt = 0; attempt < 2 && !stored; ++attempt) {
      auto bytes = call<std::string>(
          run, [&] { return m_transport.attachmentChunk(run.device, run.token, want.patient, want.hash, i); });
      if (!bytes) return attachmentCallFailed(run.report, run.stop, what) ? Fetched::kSkipped : Fetched::kStop;
      ++run.report.attachmentChunksReceived;
      auto put = m_replica.putAttachmentChunk(want.patient, want.hash, i, *bytes, status->chunkHashes[i]);
      wipeString(*bytes);
      if (put.isOk()) {
        stored = true;
        if (put.value()) {
          ++run.report.attachmentsDownloaded;
          return Fetched::kDone;
        }
      } else if (put.status().code() != Status::Code::kCorruption || i + 1 == status->chunks) {
        run.report.attachmentError = what + ": " + put.status().message();
        return Fetched::kSkipped;
      }
    }
    if (!stored) {
      run.report.attachmentError = what + ": chunk " + std::to_string(i) + " arrived damaged twice";
      return Fetched::kSkipped;
    }
  }
  return Fetched::kDone;
}

void SyncEngine::transferAttachments(Run& run, const std::vector<AttachmentWant>& wants) {
  Run sub;
  sub.device = run.device;
  sub.token = run.token;
  sub.user = run.user;
  sub.maxAttempts = std::max(1, m_options.attachmentMaxAttempts);
  bool stopped = false;
  // 1. Blobs attached here that the server lacks.
  auto uploads = m_replica.attachmentsToUpload();
  if (!uploads.isOk()) {
    sub.report.attachmentError = "The attachments to upload cannot be read: " + uploads.status().message();
  } else {
    for (const AttachmentInfo& info : uploads.value()) {
      if (!uploadAttachment(sub, info)) {
        stopped = true;
        break;
      }
    }
  }
  // 2. Thumbnails, then originals newest first while they fit the budget
  // (what is held counts; thumbnails and blobs still to upload are never
  // evicted, so they come off the budget first).
  if (!stopped && !sub.report.wiped) {
    for (const AttachmentWant& w : wants) {
      if (!w.thumbnail) continue;
      auto state = m_replica.attachmentState(w.patient, w.hash);
      if (state.isOk() && state.value() && state.value()->complete) continue;
      if (downloadAttachment(sub, w) == Fetched::kStop || sub.report.wiped) {
        stopped = true;
        break;
      }
    }
  }
  if (!stopped && !sub.report.wiped) {
    auto held = m_replica.attachments();
    std::map<std::pair<std::string, std::string>, AttachmentInfo> heldBy;
    std::uint64_t fixed = 0;
    struct Candidate {
      const AttachmentWant* want;  // nullptr: held, no longer wanted
      std::int64_t takenAtMs;
      std::uint64_t bytes;
      bool held;
    };
    std::vector<Candidate> originals;
    if (held.isOk()) {
      for (const AttachmentInfo& info : held.value()) {
        if (info.complete && !info.thumbnail && info.upload == AttachmentInfo::Upload::kNone) {
          heldBy.emplace(std::make_pair(info.patient, info.hash), info);
        } else if (info.complete || info.thumbnail) {
          fixed += info.fileBytes;
        }
      }
    }
    for (const AttachmentWant& w : wants) {
      if (w.thumbnail) continue;
      auto it = heldBy.find(std::make_pair(w.patient, w.hash));
      if (it != heldBy.end()) {
        originals.push_back({&w, w.takenAtMs, it->second.fileBytes, true});
        heldBy.erase(it);
      } else if (w.size > 0) {
        auto state = m_replica.attachmentState(w.patient, w.hash);
        if (state.isOk() && state.value() && state.value()->complete) continue;  // kept for upload or refused
        originals.push_back({&w, w.takenAtMs, attachmentStoredBytes(w.size), false});
      }
    }
    for (const auto& [key, info] : heldBy) originals.push_back({nullptr, info.takenAtMs, info.fileBytes, true});
    std::stable_sort(originals.begin(), originals.end(),
                     [](const Candidate& a, const Candidate& b) { return a.takenAtMs > b.takenAtMs; });
    const std::uint64_t budget = m_replica.attachmentBudget();
    std::vector<const AttachmentWant*> toFetch;
    std::uint64_t planned = fixed;
    for (const Candidate& c : originals) {
      if (planned + c.bytes > budget) continue;
      planned += c.bytes;
      if (!c.held && c.want) toFetch.push_back(c.want);
    }
    for (const AttachmentWant* w : toFetch) {
      if (stopped || sub.report.wiped) break;
      if (downloadAttachment(sub, *w) == Fetched::kStop) stopped = true;
    }
  }
  // 3. The budget: old originals go.
  if (!sub.report.wiped) {
    auto evicted = m_replica.evictAttachments();
    if (evicted.isOk()) sub.report.attachmentsEvicted += evicted.value();
  }
  SyncReport& r = run.report;
  r.requests += sub.report.requests;
  r.retries += sub.report.retries;
  r.attachmentsUploaded += sub.report.attachmentsUploaded;
  r.attachmentsDownloaded += sub.report.attachmentsDownloaded;
  r.attachmentsEvicted += sub.report.attachmentsEvicted;
  r.attachmentChunksSent += sub.report.attachmentChunksSent;
  r.attachmentChunksReceived += sub.report.attachmentChunksReceived;
  r.attachmentError = sub.report.attachmentError;
  run.token = sub.token;
  if (sub.report.wiped) {
    r.wiped = true;
    r.ok = false;
    r.error = sub.report.error;
    r.message = sub.report.message;
    return;
  }
  publishAttachments(&wants);
  const std::string error = r.attachmentError;
  setStatus([&](SyncStatus& s) { s.attachmentError = error; });
}

void SyncEngine::publishAttachments(const std::vector<AttachmentWant>* wants) {
  const std::uint64_t toUpload = m_replica.attachmentCounts().toUpload;
  std::uint64_t missing = 0, missingBytes = 0;
  if (wants) {
    for (const AttachmentWant& w : *wants) {
      auto state = m_replica.attachmentState(w.patient, w.hash);
      if (state.isOk() && state.value() && state.value()->complete) continue;
      ++missing;
      missingBytes += w.size;
    }
  }
  setStatus([&](SyncStatus& s) {
    s.attachmentsToUpload = toUpload;
    if (wants) {
      s.attachmentsNotDownloaded = missing;
      s.attachmentBytesNotDownloaded = missingBytes;
    }
  });
}

SyncReport SyncEngine::syncAttachments(const std::vector<AttachmentWant>& wants) {
  std::lock_guard syncLock(m_syncMutex);
  Run run;
  if (!m_replica.isUnlocked()) {
    run.report.message = "The tablet is locked";
    return run.report;
  }
  if (!ensureSession(run)) return run.report;
  run.report.ok = true;
  transferAttachments(run, wants);
  return run.report;
}

Status SyncEngine::fetchAttachment(const AttachmentWant& want) {
  std::lock_guard syncLock(m_syncMutex);
  if (!m_replica.isUnlocked()) return Status::rejected("the replica is locked: unlock it first");
  Run run;
  if (!ensureSession(run)) {
    return Status::rejected("Fetching an attachment needs a session with the server: " +
                            (run.report.message.empty() ? std::string("sign in first.") : run.report.message));
  }
  run.maxAttempts = std::max(1, m_options.attachmentMaxAttempts);
  const Fetched fetched = downloadAttachment(run, want);
  publishAttachments(nullptr);
  if (run.report.wiped) return Status::rejected(run.report.message);
  auto state = m_replica.attachmentState(want.patient, want.hash);
  if (state.isOk() && state.value() && state.value()->complete) return Status::ok();
  if (fetched == Fetched::kStop) {
    if (run.report.error && run.report.error->kind == CallError::Kind::kAuth)
      return Status::rejected(run.report.message);
    return Status::ioError(run.report.attachmentError);
  }
  if (!run.report.attachmentError.empty()) return Status::ioError(run.report.attachmentError);
  return Status::notFound("the server has no complete copy of attachment " + want.hash + " (yet)");
}

}  // namespace charta::sync
