// Enrolment, sign-in and the sync endpoints.

#include <charconv>

#include "api_internal.h"
#include "charta/crdt/op_codec.h"
#include "crypto.h"

namespace charta::server {
namespace {

HttpResponse throttled(std::int64_t waitMs) {
  HttpResponse r = errorResponse(
      429, "too_many_attempts",
      "too many failed attempts: wait " + std::to_string((waitMs + 999) / 1000) + " s before trying again");
  r.headers.emplace_back("Retry-After", std::to_string((waitMs + 999) / 1000));
  return r;
}

std::optional<std::int64_t> parseInt(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
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

HttpResponse ApiRoutes::login(Api& api, Api::Call& call) {
  std::string username;
  std::string password;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        username = r.requiredString("username", 64);
        password = r.requiredString("password", 1024);
      })) {
    return *bad;
  }

  std::int64_t now = nowMs();
  std::string accountKey = "user:" + username;
  std::string addressKey = "addr:" + call.req.remoteAddress;
  std::int64_t wait =
      std::max(accountThrottle(api).waitMs(accountKey, now), addressThrottle(api).waitMs(addressKey, now));
  if (wait > 0) return throttled(wait);

  std::optional<User> user;
  Status s = store(api).read([&](Connection& c) -> Status {
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
  if (refusal.empty() && user->role == Role::kNurse && !call.device) {
    return errorResponse(403, "forbidden", "nurses sign in on an enrolled device");
  }
  if (refusal.empty() && call.device && user->role != Role::kSysadmin && user->clinic != call.device->clinic) {
    return errorResponse(403, "forbidden", "this device belongs to another clinic");
  }
  if (refusal.empty() && call.device && user->role == Role::kSysadmin) {
    return errorResponse(403, "forbidden", "sysadmins sign in without a device");
  }
  if (!refusal.empty()) {
    accountThrottle(api).failure(accountKey, now);
    addressThrottle(api).failure(addressKey, now);
    Status a = store(api).write([&](WriteTx& tx) {
      setActor(tx, call);
      tx.audit({username, "", "", "auth.login_failed", user ? user->clinic : std::string(), "",
                json::serialize(json::Object{{"reason", refusal}})});
      return Status::ok();
    });
    if (!a.isOk()) return statusResponse(api, a);
    return errorResponse(401, "bad_credentials", refusal);
  }
  accountThrottle(api).success(accountKey);
  addressThrottle(api).success(addressKey);
  std::string token;
  std::int64_t ttl = static_cast<std::int64_t>(config(api).sessionTtlSeconds) * 1000;
  s = store(api).write([&](WriteTx& tx) -> Status {
    tx.setActor(user->id, call.device ? call.device->id : std::string(), call.req.remoteAddress);
    auto t = createSession(tx, user->id, call.device ? call.device->id : std::string(), ttl);
    if (!t.isOk()) return t.status();
    token = t.value();
    tx.audit({"", "", "", "auth.login", user->clinic, "", "{}"});
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"token", token}, {"expires_at", now + ttl}, {"user", userJson(*user)}});
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
  json::Array ops, purge, enter;
  ops.reserve(result.ops.size());
  for (const std::string& op : result.ops) ops.emplace_back(base64Encode(op));
  for (const std::string& p : result.purge) purge.emplace_back(p);
  for (const std::string& p : result.enter) enter.emplace_back(p);
  return jsonResponse(200, json::Object{{"epoch", store(api).epoch()},
                                        {"ops", std::move(ops)},
                                        {"next", result.next},
                                        {"more", result.more},
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
  return jsonResponse(200, json::Object{{"ok", true}});
}

}  // namespace charta::server
