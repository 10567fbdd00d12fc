// Enrolment, sign-in and the sync endpoints.

#include <charconv>
#include <map>

#include "api_internal.h"
#include "charta/crdt/op_codec.h"
#include "crypto.h"

namespace charta::server {
namespace {

}  // namespace

HttpResponse throttled(std::int64_t waitMs) {
  HttpResponse r = errorResponse(
      429, "too_many_attempts",
      "too many failed attempts: wait " + std::to_string((waitMs + 999) / 1000) + " s before trying again");
  r.headers.emplace_back("Retry-After", std::to_string((waitMs + 999) / 1000));
  return r;
}

std::optional<HttpResponse> readCredentials(const HttpRequest& req, std::string& username, std::string& password) {
  return readObject(req, [&](json::ObjectReader& r) {
    username = r.requiredString("username", 64);
    password = r.requiredString("password", 1024);
  });
}

namespace {

std::optional<std::int64_t> parseInt(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The limits of POST /v1/sync/audit (docs/PROTOCOL.md, "Device audit events").
constexpr std::size_t kDeviceAuditMaxEvents = 1000;
constexpr std::size_t kDeviceAuditDetailBytes = 4096;
constexpr std::size_t kDeviceAuditActionBytes = 64;
// Sequences and times stay within what a JavaScript number holds exactly, and
// seq + 1 never overflows.
constexpr std::int64_t kDeviceAuditMaxInt = std::int64_t{1} << 53;

// A device's action names: 1-64 of [a-z0-9_.]. Stored as "tablet." + name:
// no action of the server's own starts so ("device." would not do: the server
// writes "device.enrol" and "device.revoke"), so a device's record of what
// happened on it never reads as something the server did.
constexpr std::string_view kDeviceActionPrefix = "tablet.";

bool validDeviceAction(std::string_view action) {
  if (action.empty() || action.size() > kDeviceAuditActionBytes) return false;
  for (char c : action) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  }
  return true;
}

// One event of a device's audit upload, checked.
struct DeviceAuditEvent {
  std::int64_t seq = 0;
  std::int64_t at = 0;
  std::string user;
  std::string action;
  std::string patient;
  json::Value detail;  // an object
};

// The limits of POST /v1/sync/break-glass (docs/PROTOCOL.md, "Break-glass").
constexpr std::size_t kBreakGlassReasonBytes = 1000;
constexpr std::size_t kBreakGlassReasonMinChars = 5;
constexpr std::size_t kBreakGlassDateBytes = 64;  // enough to say what is wrong with a bad one

std::string_view trimAscii(std::string_view s) {
  auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Characters, not bytes, of valid UTF-8 (the JSON parser refuses anything else).
std::size_t utf8Chars(std::string_view s) {
  std::size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

json::Value userJson(const User& u) {
  return json::Object{{"id", u.id},
                      {"display_name", u.displayName},
                      {"role", std::string(roleName(u.role))},
                      {"clinic", u.clinic.empty() ? json::Value() : json::Value(u.clinic)}};
}

}  // namespace

HttpResponse ApiRoutes::enrol(Api& api, Api::Call& call) {
  std::int64_t now = nowMs();
  std::string addressKey = "addr:" + call.req.remoteAddress;
  if (std::int64_t wait = addressThrottle(api).waitMs(addressKey, now); wait > 0) return throttled(wait);
  std::string code;
  std::string name;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        code = r.requiredString("code", 64);
        name = r.requiredString("name", 200);
      })) {
    return *bad;
  }
  Enrolled enrolled;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    tx.setActor("", "", call.req.remoteAddress);
    auto e = enrolDevice(tx, code, name);
    if (!e.isOk()) return e.status();
    enrolled = std::move(e).value();
    return Status::ok();
  });
  if (s.code() == Status::Code::kNotFound) {
    addressThrottle(api).failure(addressKey, now);
    return errorResponse(403, "bad_code", s.message());
  }
  if (!s.isOk()) return statusResponse(api, s);
  addressThrottle(api).success(addressKey);
  log(api).info("device.enrolled", {{"device", enrolled.device.id}, {"clinic", enrolled.device.clinic}});
  return jsonResponse(200, json::Object{{"device_id", enrolled.device.id},
                                        {"device_secret", enrolled.secret},
                                        {"replica_id", std::to_string(enrolled.device.replica)},
                                        {"clinic", enrolled.device.clinic},
                                        {"epoch", store(api).epoch()}});
}

std::variant<SignedIn, HttpResponse> signIn(Api& api, Api::Call& call, const std::string& username,
                                            const std::string& password, SignInFor purpose) {
  using R = ApiRoutes;
  std::int64_t now = nowMs();
  std::string accountKey = "user:" + username;
  std::string addressKey = "addr:" + call.req.remoteAddress;
  std::int64_t wait =
      std::max(R::accountThrottle(api).waitMs(accountKey, now), R::addressThrottle(api).waitMs(addressKey, now));
  if (wait > 0) return throttled(wait);

  std::optional<User> user;
  Status s = R::store(api).read([&](Connection& c) -> Status {
    auto u = findUser(c, username);
    if (!u.isOk()) return u.status();
    user = u.value();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  // Hash even for an unknown user, so timing does not tell which names exist.
  static const std::string kDummy = [] {
    auto h = hashPassword("timing-equaliser");
    return h.isOk() ? h.value() : std::string();
  }();
  bool good = false;
  if (user) {
    good = verifyPassword(user->passwordHash, password);
  } else {
    (void)verifyPassword(kDummy, password);
  }
  std::string refusal;
  if (!good || !user) {
    refusal = "wrong user name or password";
  } else if (user->revokedAt) {
    refusal = "this account was revoked";
  }
  if (!refusal.empty()) {
    R::accountThrottle(api).failure(accountKey, now);
    R::addressThrottle(api).failure(addressKey, now);
    Status a = R::store(api).write([&](WriteTx& tx) {
      setActor(tx, call);
      tx.audit({username, "", "", "auth.login_failed", user ? user->clinic : std::string(), "",
                json::serialize(json::Object{{"reason", refusal}})});
      return Status::ok();
    });
    if (!a.isOk()) return statusResponse(api, a);
    return errorResponse(401, "bad_credentials", refusal);
  }
  // The right password: what this account may sign in to.
  std::string forbidden;
  if (purpose == SignInFor::kConsole) {
    if (user->role != Role::kSysadmin) forbidden = "the console is for sysadmins";
  } else if (user->role == Role::kNurse && !call.device) {
    forbidden = "nurses sign in on an enrolled device";
  } else if (call.device && user->role != Role::kSysadmin && user->clinic != call.device->clinic) {
    forbidden = "this device belongs to another clinic";
  } else if (call.device && user->role == Role::kSysadmin) {
    forbidden = "sysadmins sign in without a device";
  }
  if (!forbidden.empty()) {
    if (purpose == SignInFor::kConsole) {
      Status a = R::store(api).write([&](WriteTx& tx) {
        tx.setActor(user->id, "", call.req.remoteAddress);
        tx.audit({"", "", "", "auth.console_refused", user->clinic, "",
                  json::serialize(json::Object{{"reason", forbidden}})});
        return Status::ok();
      });
      if (!a.isOk()) return statusResponse(api, a);
    }
    return errorResponse(403, "forbidden", forbidden);
  }
  R::accountThrottle(api).success(accountKey);
  R::addressThrottle(api).success(addressKey);
  SignedIn out{*user, {}, now + static_cast<std::int64_t>(R::config(api).sessionTtlSeconds) * 1000};
  const bool console = purpose == SignInFor::kConsole;
  s = R::store(api).write([&](WriteTx& tx) -> Status {
    tx.setActor(user->id, call.device ? call.device->id : std::string(), call.req.remoteAddress);
    auto t = createSession(tx, user->id, call.device ? call.device->id : std::string(), out.expiresAt - now);
    if (!t.isOk()) return t.status();
    out.token = t.value();
    tx.audit({"", "", "", console ? "auth.console_login" : "auth.login", user->clinic, "", "{}"});
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return out;
}

HttpResponse ApiRoutes::login(Api& api, Api::Call& call) {
  std::string username;
  std::string password;
  if (auto bad = readCredentials(call.req, username, password)) return *bad;
  auto result = signIn(api, call, username, password, SignInFor::kApi);
  if (auto* error = std::get_if<HttpResponse>(&result)) return *error;
  const SignedIn& in = std::get<SignedIn>(result);
  return jsonResponse(200,
                      json::Object{{"token", in.token}, {"expires_at", in.expiresAt}, {"user", userJson(in.user)}});
}

HttpResponse ApiRoutes::logout(Api& api, Api::Call& call) {
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    Status e = endSession(tx, call.sessionToken);
    if (!e.isOk()) return e;
    tx.audit({"", "", "", "auth.logout", call.user->clinic, "", "{}"});
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"ok", true}});
}

HttpResponse ApiRoutes::refresh(Api& api, Api::Call& call) {
  std::int64_t expires = nowMs() + static_cast<std::int64_t>(config(api).sessionTtlSeconds) * 1000;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    return extendSession(tx, call.sessionToken, expires);
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"expires_at", expires}});
}

HttpResponse ApiRoutes::push(Api& api, Api::Call& call) {
  const std::string* type = call.req.header("content-type");
  if (!type || type->rfind("application/x-charta-ops", 0) != 0) {
    return errorResponse(415, "unsupported_media_type",
                         "push bodies are an op batch (application/x-charta-ops, docs/FORMAT.md)");
  }
  auto ops = crdt::decodeBatch(call.req.body);
  if (!ops.isOk()) {
    return errorResponse(400,
                         ops.status().code() == Status::Code::kUnsupportedVersion ? "unsupported_version" : "malformed",
                         "the op batch does not decode: " + ops.status().message());
  }
  if (ops.value().size() > config(api).pushMaxOps) {
    return errorResponse(413, "too_many_ops",
                         "at most " + std::to_string(config(api).pushMaxOps) + " ops per push; split the batch");
  }
  std::optional<std::int64_t> pending;
  if (const std::string* p = call.req.header("x-charta-pending")) pending = parseInt(*p);
  PushResult result;
  std::int64_t head = 0;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    auto r = pushOps(tx, charts(api), *call.device, store(api).serverReplica(), ops.value(),
                     static_cast<std::int64_t>(config(api).futureClockBoundSeconds) * 1000);
    if (!r.isOk()) return r.status();
    result = std::move(r).value();
    head = tx.head().opSeq;
    if (pending) {
      return tx.conn().exec("UPDATE devices SET pending_ops = $2 WHERE id = $1",
                            std::vector<DbValue>{call.device->id, std::max<std::int64_t>(0, *pending)});
    }
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  metricsOf(api).opsStored(result.stored);
  metricsOf(api).activity(Metrics::Activity::kOpsIn, result.stored, nowMs());
  metricsOf(api).opsRejected(static_cast<std::int64_t>(result.rejected.size()));
  metricsOf(api).opsFlagged(static_cast<std::int64_t>(result.flagged.size()));
  json::Array seqs, rejected, flagged;
  for (std::int64_t q : result.seqs) seqs.emplace_back(q);
  for (const auto& rj : result.rejected) {
    rejected.push_back(
        json::Object{{"index", static_cast<std::int64_t>(rj.index)}, {"op", rj.op}, {"reason", rj.reason}});
  }
  for (std::size_t f : result.flagged) flagged.emplace_back(static_cast<std::int64_t>(f));
  return jsonResponse(200, json::Object{{"epoch", store(api).epoch()},
                                        {"stored", result.stored},
                                        {"duplicates", result.duplicates},
                                        {"seqs", std::move(seqs)},
                                        {"rejected", std::move(rejected)},
                                        {"future_clock", std::move(flagged)},
                                        {"head", head}});
}

HttpResponse ApiRoutes::pull(Api& api, Api::Call& call) {
  std::int64_t since = 0;
  std::int64_t limit = static_cast<std::int64_t>(config(api).pullPageOps);
  std::string patient;
  for (const auto& [key, value] : call.req.query) {
    if (key == "since") {
      auto v = parseInt(value);
      if (!v || *v < 0) return errorResponse(400, "invalid", "since: expected a non-negative integer");
      since = *v;
    } else if (key == "limit") {
      auto v = parseInt(value);
      if (!v || *v < 1) return errorResponse(400, "invalid", "limit: expected a positive integer");
      limit = std::min(*v, limit);
    } else if (key == "patient") {
      if (value.empty() || value.size() > crdt::kMaxIdBytes) return errorResponse(400, "invalid", "patient: bad id");
      patient = value;
    } else {
      return errorResponse(400, "invalid", "unknown query parameter \"" + key + "\"");
    }
  }
  PullResult result;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto r = readPull(c, *call.device, since, limit, patient);
    if (!r.isOk()) return r.status();
    result = std::move(r).value();
    return Status::ok();
  });
  if (s.isOk()) {
    s = store(api).write([&](WriteTx& tx) {
      setActor(tx, call);
      return recordPull(tx, *call.device, result, patient.empty());
    });
  }
  if (!s.isOk()) return statusResponse(api, s);
  metricsOf(api).activity(Metrics::Activity::kOpsOut, static_cast<std::int64_t>(result.ops.size()), nowMs());
  json::Array ops, purge, enter;
  ops.reserve(result.ops.size());
  for (const std::string& op : result.ops) ops.emplace_back(base64Encode(op));
  for (const std::string& p : result.purge) purge.emplace_back(p);
  for (const std::string& p : result.enter) enter.emplace_back(p);
  return jsonResponse(200, json::Object{{"epoch", store(api).epoch()},
                                        {"ops", std::move(ops)},
                                        {"next", result.next},
                                        {"more", result.more},
                                        {"head", result.head},
                                        {"purge", std::move(purge)},
                                        {"enter", std::move(enter)}});
}

HttpResponse ApiRoutes::report(Api& api, Api::Call& call) {
  std::int64_t pending;
  std::optional<std::string> lastError;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        pending = r.requiredInt("pending_ops", 0, std::int64_t{1} << 40);
        lastError = r.optionalString("last_error", 2000);
      })) {
    return *bad;
  }
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    Status e = tx.conn().exec("UPDATE devices SET pending_ops = $2, last_seen_at = $3 WHERE id = $1",
                              std::vector<DbValue>{call.device->id, pending, tx.now()});
    if (e.isOk() && lastError && !lastError->empty()) {
      e = tx.conn().exec("UPDATE devices SET last_error = $2, last_error_at = $3 WHERE id = $1",
                         std::vector<DbValue>{call.device->id, *lastError, tx.now()});
    }
    return e;
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (lastError && !lastError->empty()) metricsOf(api).activity(Metrics::Activity::kError, 1, nowMs());
  return jsonResponse(200, json::Object{{"ok", true}});
}

HttpResponse ApiRoutes::deviceAudit(Api& api, Api::Call& call) {
  HttpResponse error;
  auto body = parseBody(call.req, error);
  if (!body) return error;
  const json::Array* list = nullptr;
  {
    json::ObjectReader r(*body, "body");
    const json::Value* v = r.optionalValue("events");
    if (Status s = r.finish(); !s.isOk()) return errorResponse(400, "invalid", s.message());
    if (v == nullptr || v->asArray() == nullptr) {
      return errorResponse(400, "invalid", v == nullptr ? "body.events: missing" : "body.events: expected an array");
    }
    list = v->asArray();
  }
  if (list->size() > kDeviceAuditMaxEvents) {
    return errorResponse(413, "too_many_events",
                         "at most " + std::to_string(kDeviceAuditMaxEvents) + " events per call; split the batch");
  }
  // Everything the body alone can tell is checked before the transaction, so
  // a bad batch costs no lock on the head row.
  std::vector<DeviceAuditEvent> events;
  events.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::string where = "body.events[" + std::to_string(i) + "]";
    json::ObjectReader r((*list)[i], where);
    DeviceAuditEvent e;
    e.seq = r.requiredInt("seq", 1, kDeviceAuditMaxInt);
    e.at = r.requiredInt("at", 0, kDeviceAuditMaxInt);
    e.user = r.requiredString("user", 64);
    e.action = r.requiredString("action", kDeviceAuditActionBytes);
    e.patient = r.optionalString("patient", crdt::kMaxIdBytes).value_or(std::string());
    std::string detail = r.optionalString("detail", kDeviceAuditDetailBytes).value_or("{}");
    if (Status s = r.finish(); !s.isOk()) return errorResponse(400, "invalid", s.message());
    if (!validDeviceAction(e.action)) {
      return errorResponse(400, "invalid", where + ".action: 1-64 characters of a-z, 0-9, '_' and '.'");
    }
    // Shallower than the default: the object is nested in the row's own
    // detail, which the admin API parses again.
    json::ParseLimits limits;
    limits.maxDepth = 32;
    auto parsed = json::parse(detail, limits);
    if (!parsed.isOk() || !parsed.value().isObject()) {
      return errorResponse(400, "invalid",
                           where + ".detail: expected a JSON object in a string" +
                               (parsed.isOk() ? std::string() : ": " + parsed.status().message()));
    }
    e.detail = std::move(parsed).value();
    // The device numbers its events 1, 2, 3...: a batch that skips or repeats
    // one is a bug on the device, and storing it would hide the hole.
    if (!events.empty() && e.seq != events.back().seq + 1) {
      return errorResponse(
          400, "invalid",
          where + ".seq: expected " + std::to_string(events.back().seq + 1) + " (the seqs of a batch ascend by one)");
    }
    events.push_back(std::move(e));
  }

  std::int64_t acked = 0;
  std::int64_t stored = 0;
  bool gap = false;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    // The body runs again when the transaction is retried.
    stored = 0;
    gap = false;
    setActor(tx, call);
    Connection& c = tx.conn();
    auto rows =
        c.query("SELECT acked_seq FROM device_audit WHERE device_id = $1", std::vector<DbValue>{call.device->id});
    if (!rows.isOk()) return rows.status();
    acked = rows.value().empty() ? 0 : dbInt(rows.value()[0][0]);
    if (!events.empty() && events.front().seq > acked + 1) {
      // Events acked+1 .. first-1 would be missing from the chain for good.
      gap = true;
      return Status::invalidArgument("body.events[0].seq: expected " + std::to_string(acked + 1) +
                                     ": the server holds this device's events up to seq " + std::to_string(acked) +
                                     "; send again from there");
    }
    // Any user of the device's clinic may have recorded an event (a tablet is
    // shared), including one revoked since: the record of what they did stays.
    std::map<std::string, bool> ofClinic;
    for (std::size_t i = 0; i < events.size(); ++i) {
      auto [it, fresh] = ofClinic.try_emplace(events[i].user, false);
      if (fresh) {
        auto user = findUser(c, events[i].user);
        if (!user.isOk()) return user.status();
        it->second =
            user.value() && user.value()->role != Role::kSysadmin && user.value()->clinic == call.device->clinic;
      }
      if (!it->second) {
        return Status::invalidArgument("body.events[" + std::to_string(i) + "].user: " + json::quote(events[i].user) +
                                       " is not a user of this device's clinic");
      }
    }
    for (const DeviceAuditEvent& e : events) {
      if (e.seq <= acked) continue;  // stored by an earlier call whose answer was lost
      // The row's time is the server's (the chain's times come from one
      // clock); the tablet's own clock and numbering go into the detail.
      tx.audit(
          {e.user, call.device->id, "", std::string(kDeviceActionPrefix) + e.action, call.device->clinic, e.patient,
           json::serialize(json::Object{
               {"device_at", e.at}, {"device_seq", e.seq}, {"uploaded_by", call.user->id}, {"detail", e.detail}})});
      ++stored;
    }
    Status st =
        c.exec("UPDATE devices SET last_seen_at = $2 WHERE id = $1", std::vector<DbValue>{call.device->id, tx.now()});
    if (!st.isOk() || stored == 0) return st;
    acked = events.back().seq;
    return c.exec(
        "INSERT INTO device_audit (device_id, acked_seq, updated_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (device_id) DO UPDATE SET acked_seq = excluded.acked_seq, updated_at = excluded.updated_at",
        std::vector<DbValue>{call.device->id, acked, tx.now()});
  });
  if (gap) {
    // The error also carries the cursor, so a device can tell what the
    // server holds without parsing the message.
    return jsonResponse(
        400, json::Object{{"error", json::Object{{"code", "invalid"}, {"message", s.message()}}}, {"acked", acked}});
  }
  if (!s.isOk()) return statusResponse(api, s);
  metricsOf(api).deviceAuditStored(stored);
  return jsonResponse(200, json::Object{{"acked", acked}});
}

HttpResponse ApiRoutes::breakGlass(Api& api, Api::Call& call) {
  std::string identifier;
  std::string birthDate;
  std::string reason;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        identifier = r.requiredString("identifier", kBreakGlassIdentifierBytes);
        birthDate = r.requiredString("birth_date", kBreakGlassDateBytes);
        reason = r.requiredString("reason", kBreakGlassReasonBytes);
      })) {
    return *bad;
  }
  if (identifier.empty()) {
    return errorResponse(400, "invalid",
                         "body.identifier: expected 1 to " + std::to_string(kBreakGlassIdentifierBytes) + " bytes");
  }
  if (normaliseIdentifier(identifier).empty()) {
    return errorResponse(400, "invalid", "body.identifier: nothing but spaces and dashes");
  }
  if (!validDate(birthDate)) {
    return errorResponse(400, "invalid", "body.birth_date: expected a calendar date as YYYY-MM-DD");
  }
  reason = std::string(trimAscii(reason));
  if (utf8Chars(reason) < kBreakGlassReasonMinChars) {
    return errorResponse(
        400, "invalid",
        "body.reason: say why, in at least " + std::to_string(kBreakGlassReasonMinChars) + " characters");
  }

  // Failed lookups are throttled per user like failed sign-ins, so that
  // identifiers cannot be tried one after another. A key of its own: signing
  // in again must not clear it, and failed lookups must not lock a nurse out
  // of signing in.
  std::int64_t now = nowMs();
  const std::string throttleKey = "break_glass:" + call.user->id;
  if (std::int64_t wait = accountThrottle(api).waitMs(throttleKey, now); wait > 0) return throttled(wait);

  BreakGlassResult result;
  std::int64_t at = 0;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    at = tx.now();
    auto r = breakGlassLookup(tx, *call.device, identifier, birthDate, reason);
    if (!r.isOk()) return r.status();
    result = std::move(r).value();
    return tx.conn().exec("UPDATE devices SET last_seen_at = $2 WHERE id = $1",
                          std::vector<DbValue>{call.device->id, tx.now()});
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (result.keysBuilt) log(api).info("store.patient_keys_built", {{"by", "break_glass"}});
  using Outcome = BreakGlassResult::Outcome;
  switch (result.outcome) {
    case Outcome::kNotFound:
      accountThrottle(api).failure(throttleKey, now);
      return errorResponse(404, "not_found", "no patient has this identifier and birth date");
    case Outcome::kAmbiguous:
      return errorResponse(409, "ambiguous", "several patients have this identifier and birth date; ask the clinic");
    case Outcome::kInScope:
    case Outcome::kOutOfScope: break;
  }
  const bool inScope = result.outcome == Outcome::kInScope;
  json::Array ops;
  ops.reserve(result.ops.size());
  for (const std::string& op : result.ops) ops.emplace_back(base64Encode(op));
  if (!inScope) {
    log(api).info("chart.break_glass", {{"user", call.user->id},
                                        {"device", call.device->id},
                                        {"patient", result.patient},
                                        {"patient_clinic", result.clinic}});
  }
  return jsonResponse(
      200,
      json::Object{{"patient", result.patient},
                   {"clinic", result.clinic},
                   {"in_scope", inScope},
                   {"ops", std::move(ops)},
                   {"head", result.head},
                   {"expires_at", inScope ? std::int64_t{0}
                                          : at + static_cast<std::int64_t>(config(api).breakGlassTtlSeconds) * 1000}});
}

}  // namespace charta::server
