// The admin API: clinics, users, enrolment codes, devices, conflicts, audit.

#include <charconv>

#include "api_internal.h"
#include "crypto.h"
#include "fhir_export.h"
#include "fhir_import.h"

namespace charta::server {
namespace {

using P = std::vector<DbValue>;

json::Value optionalTime(const std::optional<std::int64_t>& t) { return t ? json::Value(*t) : json::Value(); }

std::optional<std::int64_t> parseInt(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Reads the query into `out` (only the names listed); a 400 for others.
std::optional<HttpResponse> readQuery(const HttpRequest& req, std::initializer_list<const char*> allowed,
                                      std::map<std::string, std::string>& out) {
  for (const auto& [key, value] : req.query) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) return errorResponse(400, "invalid", "unknown query parameter \"" + key + "\"");
    out[key] = value;
  }
  return std::nullopt;
}

std::optional<HttpResponse> readLimits(std::map<std::string, std::string>& q, std::int64_t& limit,
                                       std::int64_t& offset) {
  limit = 100;
  offset = 0;
  if (q.count("limit")) {
    auto v = parseInt(q["limit"]);
    if (!v || *v < 1 || *v > 1000) return errorResponse(400, "invalid", "limit: 1 to 1000");
    limit = *v;
  }
  if (q.count("offset")) {
    auto v = parseInt(q["offset"]);
    if (!v || *v < 0) return errorResponse(400, "invalid", "offset: a non-negative integer");
    offset = *v;
  }
  return std::nullopt;
}

// An admin read is audited like any other read.
Status auditRead(Store& store, const Api::Call& call, const std::string& action, const std::string& clinic,
                 const std::string& patient = {}) {
  return store.write([&](WriteTx& tx) {
    setActor(tx, call);
    tx.audit({"", "", "", action, clinic, patient, "{}"});
    return Status::ok();
  });
}

}  // namespace

HttpResponse ApiRoutes::listClinics(Api& api, Api::Call& call) {
  std::vector<Clinic> clinics;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto r = server::listClinics(c);
    if (!r.isOk()) return r.status();
    clinics = r.value();
    return Status::ok();
  });
  if (s.isOk()) s = auditRead(store(api), call, "admin.clinics.read", "");
  if (!s.isOk()) return statusResponse(api, s);
  json::Array out;
  for (const Clinic& c : clinics)
    out.push_back(json::Object{{"id", c.id}, {"name", c.name}, {"created_at", c.createdAt}});
  return jsonResponse(200, json::Object{{"clinics", std::move(out)}});
}

HttpResponse ApiRoutes::createClinic(Api& api, Api::Call& call) {
  std::string id;
  std::string name;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        id = r.requiredString("id", 64);
        name = r.requiredString("name", 200);
      })) {
    return *bad;
  }
  Status s = store(api).write([&](WriteTx& tx) {
    setActor(tx, call);
    return server::createClinic(tx, {id, name, 0});
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(201, json::Object{{"id", id}, {"name", name}});
}

HttpResponse ApiRoutes::listUsers(Api& api, Api::Call& call) {
  std::map<std::string, std::string> q;
  if (auto e = readQuery(call.req, {"clinic"}, q)) return *e;
  std::string clinic = q["clinic"];
  if (call.user->role == Role::kClinicAdmin) {
    if (!clinic.empty() && clinic != call.user->clinic) return errorResponse(403, "forbidden", "another clinic");
    clinic = call.user->clinic;
  }
  std::vector<User> users;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto r = server::listUsers(c, clinic);
    if (!r.isOk()) return r.status();
    users = r.value();
    return Status::ok();
  });
  if (s.isOk()) s = auditRead(store(api), call, "admin.users.read", clinic);
  if (!s.isOk()) return statusResponse(api, s);
  json::Array out;
  for (const User& u : users) {
    out.push_back(json::Object{{"id", u.id},
                               {"display_name", u.displayName},
                               {"role", std::string(roleName(u.role))},
                               {"clinic", u.clinic.empty() ? json::Value() : json::Value(u.clinic)},
                               {"created_at", u.createdAt},
                               {"revoked_at", optionalTime(u.revokedAt)}});
  }
  return jsonResponse(200, json::Object{{"users", std::move(out)}});
}

HttpResponse ApiRoutes::createUser(Api& api, Api::Call& call) {
  std::string id;
  std::string displayName;
  std::string roleText;
  std::string clinic;
  std::string password;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        id = r.requiredString("id", 64);
        displayName = r.optionalString("display_name", 200).value_or("");
        roleText = r.requiredString("role", 32);
        clinic = r.optionalString("clinic", 64).value_or("");
        password = r.requiredString("password", 1024);
      })) {
    return *bad;
  }
  auto role = parseRole(roleText);
  if (!role) return errorResponse(400, "invalid", "role: nurse, clinic_admin or sysadmin");
  if (call.user->role == Role::kClinicAdmin && (*role == Role::kSysadmin || clinic != call.user->clinic)) {
    return errorResponse(403, "forbidden", "a clinic admin creates nurses and clinic admins of their own clinic");
  }
  Status s = store(api).write([&](WriteTx& tx) {
    setActor(tx, call);
    return server::createUser(tx, id, displayName, *role, clinic, password);
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(
      201,
      json::Object{{"id", id}, {"role", roleText}, {"clinic", clinic.empty() ? json::Value() : json::Value(clinic)}});
}

HttpResponse ApiRoutes::revokeUser(Api& api, Api::Call& call) {
  const std::string& id = call.pathParams[0];
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    auto u = findUser(tx.conn(), id);
    if (!u.isOk()) return u.status();
    if (!u.value()) return Status::notFound("user " + id + " does not exist");
    if (call.user->role != Role::kSysadmin &&
        (u.value()->role == Role::kSysadmin || !mayActOnClinic(*call.user, u.value()->clinic))) {
      return Status::rejected("forbidden");
    }
    return server::revokeUser(tx, id);
  });
  if (s.code() == Status::Code::kRejected) return errorResponse(403, "forbidden", "this user is outside your clinic");
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"ok", true}});
}

HttpResponse ApiRoutes::issueCode(Api& api, Api::Call& call) {
  std::string clinic;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) { clinic = r.requiredString("clinic", 64); })) {
    return *bad;
  }
  if (!mayActOnClinic(*call.user, clinic)) return errorResponse(403, "forbidden", "this clinic is not yours");
  std::string code;
  std::int64_t ttl = static_cast<std::int64_t>(config(api).enrolmentCodeTtlSeconds) * 1000;
  std::int64_t expires = 0;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    auto c = issueEnrolmentCode(tx, clinic, call.user->id, ttl);
    if (!c.isOk()) return c.status();
    code = c.value();
    expires = tx.now() + ttl;
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(201, json::Object{{"code", code}, {"clinic", clinic}, {"expires_at", expires}});
}

HttpResponse ApiRoutes::listDevices(Api& api, Api::Call& call) {
  std::map<std::string, std::string> q;
  if (auto e = readQuery(call.req, {"clinic"}, q)) return *e;
  std::string clinic = q["clinic"];
  if (call.user->role == Role::kClinicAdmin) {
    if (!clinic.empty() && clinic != call.user->clinic) return errorResponse(403, "forbidden", "another clinic");
    clinic = call.user->clinic;
  }
  std::vector<Device> devices;
  std::int64_t head = 0;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto r = server::listDevices(c, clinic);
    if (!r.isOk()) return r.status();
    devices = r.value();
    auto h = c.query("SELECT op_seq FROM head WHERE id = 1");
    if (!h.isOk()) return h.status();
    head = dbInt(h.value()[0][0]);
    return Status::ok();
  });
  if (s.isOk()) s = auditRead(store(api), call, "admin.devices.read", clinic);
  if (!s.isOk()) return statusResponse(api, s);
  std::int64_t now = nowMs();
  std::int64_t staleMs = static_cast<std::int64_t>(config(api).staleDeviceSeconds) * 1000;
  json::Array out;
  for (const Device& d : devices) {
    bool stale = !d.revokedAt && (!d.lastSeenAt || now - *d.lastSeenAt > staleMs);
    out.push_back(json::Object{{"id", d.id},
                               {"name", d.name},
                               {"clinic", d.clinic},
                               {"replica_id", std::to_string(d.replica)},
                               {"enrolled_at", d.enrolledAt},
                               {"enrolled_by", d.enrolledBy},
                               {"revoked_at", optionalTime(d.revokedAt)},
                               {"last_seen_at", optionalTime(d.lastSeenAt)},
                               {"last_push_at", optionalTime(d.lastPushAt)},
                               {"last_pull_at", optionalTime(d.lastPullAt)},
                               {"lag_ops", std::max<std::int64_t>(0, head - d.lastPullSeq)},
                               {"pending_ops", d.pendingOps},
                               {"ops_pushed", d.opsPushed},
                               {"future_clock_ops", d.futureOps},
                               {"last_error", d.lastError.empty() ? json::Value() : json::Value(d.lastError)},
                               {"last_error_at", optionalTime(d.lastErrorAt)},
                               {"stale", stale}});
  }
  return jsonResponse(
      200, json::Object{
               {"head", head}, {"devices", std::move(out)}, {"stale_after_seconds", config(api).staleDeviceSeconds}});
}

HttpResponse ApiRoutes::revokeDevice(Api& api, Api::Call& call) {
  const std::string& id = call.pathParams[0];
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    auto d = findDevice(tx.conn(), id);
    if (!d.isOk()) return d.status();
    if (!d.value()) return Status::notFound("device " + id + " does not exist");
    if (!mayActOnClinic(*call.user, d.value()->clinic)) return Status::rejected("forbidden");
    return server::revokeDevice(tx, id);
  });
  if (s.code() == Status::Code::kRejected) return errorResponse(403, "forbidden", "this device is outside your clinic");
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"ok", true}});
}

HttpResponse ApiRoutes::listConflicts(Api& api, Api::Call& call) {
  std::map<std::string, std::string> q;
  if (auto e = readQuery(call.req, {"clinic", "patient", "id", "field", "opened_before", "limit", "offset"}, q)) {
    return *e;
  }
  std::int64_t limit = 0, offset = 0;
  if (auto e = readLimits(q, limit, offset)) return *e;
  ConflictFilter filter{q["clinic"], q["patient"], q["id"], q["field"], 0};
  if (q.count("opened_before")) {
    auto v = parseInt(q["opened_before"]);
    if (!v || *v <= 0) return errorResponse(400, "invalid", "opened_before: a time in ms since the epoch");
    filter.openedBefore = *v;
  }
  std::vector<ConflictRow> rows;
  std::int64_t total = 0;
  // Where each competing value came from, by op id.
  std::map<std::string, OpOrigin> origins;
  std::vector<json::Value> details;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto r = server::listConflicts(c, filter, limit, offset);
    if (!r.isOk()) return r.status();
    rows = r.value();
    auto n = countConflicts(c, filter);
    if (!n.isOk()) return n.status();
    total = n.value();
    for (const ConflictRow& row : rows) {
      auto detail = json::parse(row.detail);
      details.push_back(detail.isOk() ? std::move(detail).value() : json::Value::object());
      const json::Value* values = details.back().find("values");
      if (!values || !values->isArray()) continue;
      for (const json::Value& v : *values->asArray()) {
        const json::Value* op = v.find("op");
        const std::string* id = op ? op->asString() : nullptr;
        if (!id || origins.count(*id)) continue;
        auto o = opOrigin(c, *id);
        if (!o.isOk()) return o.status();
        if (o.value()) origins.emplace(*id, *o.value());
      }
    }
    return Status::ok();
  });
  if (s.isOk()) s = auditRead(store(api), call, "admin.conflicts.read", q["clinic"], q["patient"]);
  if (!s.isOk()) return statusResponse(api, s);
  json::Array out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ConflictRow& row = rows[i];
    json::Array values;
    if (const json::Value* vs = details[i].find("values"); vs && vs->isArray()) {
      for (json::Value v : *vs->asArray()) {
        if (!v.isObject()) continue;
        const json::Value* op = v.find("op");
        const std::string* id = op ? op->asString() : nullptr;
        auto o = id ? origins.find(*id) : origins.end();
        const bool known = o != origins.end();
        v.set("device_id", known && !o->second.device.empty() ? json::Value(o->second.device) : json::Value());
        v.set("device_name", known
                                 ? json::Value(o->second.device.empty() ? std::string("server") : o->second.deviceName)
                                 : json::Value());
        v.set("written_at", known ? json::Value(o->second.writtenAt) : json::Value());
        v.set("received_at", known ? json::Value(o->second.receivedAt) : json::Value());
        values.push_back(std::move(v));
      }
    }
    const json::Value* shown = details[i].find("shown");
    out.push_back(json::Object{{"id", row.id},
                               {"patient", row.patient},
                               {"clinic", row.clinic},
                               {"path", row.path},
                               {"clinical", row.rank > 0},
                               {"significant", row.rank >= 2},
                               {"opened_at", row.openedAt},
                               {"values", std::move(values)},
                               {"shown", shown ? *shown : json::Value()}});
  }
  return jsonResponse(200, json::Object{{"total", total}, {"conflicts", std::move(out)}});
}

HttpResponse ApiRoutes::resolveConflict(Api& api, Api::Call& call) {
  std::string id;
  std::optional<json::Value> value;
  std::string reason;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        id = r.requiredString("id", 1024);
        if (const json::Value* v = r.optionalValue("value")) value = *v;
        reason = r.requiredString("reason", 2000);
      })) {
    return *bad;
  }
  if (!value) return errorResponse(400, "invalid", "body.value: the value to keep is required");
  crdt::Value v;
  if (value->isNull()) {
    v = std::monostate{};  // keep "no value": one side cleared the field
  } else if (auto str = value->asString()) {
    v = *str;
  } else if (auto i = value->asInt()) {
    v = *i;
  } else if (auto d = value->asDouble()) {
    v = *d;
  } else if (auto b = value->asBool()) {
    v = *b;
  } else {
    return errorResponse(400, "invalid", "body.value: a string, number, boolean or null");
  }
  crdt::Op op;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    auto o = server::resolveConflict(tx, charts(api), store(api).serverReplica(), id, v, reason, call.user->id);
    if (!o.isOk()) return o.status();
    op = o.value();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"op", crdt::toString(op.id)}, {"patient", op.patient}});
}

HttpResponse ApiRoutes::queryAudit(Api& api, Api::Call& call) {
  std::map<std::string, std::string> q;
  if (auto e = readQuery(call.req, {"patient", "user", "device", "action", "from", "to", "after", "limit"}, q))
    return *e;
  std::int64_t limit = 100, offset = 0;
  q.erase("offset");
  if (auto e = readLimits(q, limit, offset)) return *e;
  std::string sql =
      "SELECT seq, at, user_id, device_id, address, action, clinic_id, patient_id, detail, hash, prev_hash "
      "FROM audit WHERE 1 = 1";
  std::vector<DbValue> params;
  auto addText = [&](const char* key, const char* column) {
    if (!q.count(key)) return;
    params.push_back(q[key]);
    sql += std::string(" AND ") + column + " = $" + std::to_string(params.size());
  };
  addText("patient", "patient_id");
  addText("user", "user_id");
  addText("device", "device_id");
  addText("action", "action");
  for (auto [key, op] : {std::pair{"from", ">="}, std::pair{"to", "<"}, std::pair{"after", ">"}}) {
    if (!q.count(key)) continue;
    auto v = parseInt(q[key]);
    if (!v) return errorResponse(400, "invalid", std::string(key) + ": an integer");
    params.push_back(*v);
    sql += std::string(" AND ") + (std::string(key) == "after" ? "seq " : "at ") + op + " $" +
           std::to_string(params.size());
  }
  params.push_back(limit);
  sql += " ORDER BY seq LIMIT $" + std::to_string(params.size());
  std::vector<DbRow> rows;
  // The hash of the row before each one listed, to check its link.
  std::map<std::int64_t, std::string> before;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto r = c.query(sql, params);
    if (!r.isOk()) return r.status();
    rows = std::move(r).value();
    std::vector<DbValue> seqs;
    std::string in;
    for (const DbRow& row : rows) {
      std::int64_t prevSeq = dbInt(row[0]) - 1;
      if (prevSeq < 1) continue;
      seqs.push_back(prevSeq);
      in += (in.empty() ? "$" : ", $") + std::to_string(seqs.size());
    }
    if (seqs.empty()) return Status::ok();
    auto prev = c.query("SELECT seq, hash FROM audit WHERE seq IN (" + in + ")", seqs);
    if (!prev.isOk()) return prev.status();
    for (const DbRow& p : prev.value()) before[dbInt(p[0])] = dbBytes(p[1]);
    return Status::ok();
  });
  if (s.isOk()) s = auditRead(store(api), call, "admin.audit.read", "", q["patient"]);
  if (!s.isOk()) return statusResponse(api, s);
  json::Array out;
  for (const DbRow& row : rows) {
    const std::int64_t seq = dbInt(row[0]);
    const std::string prevHash = dbBytes(row[10]);
    // Each row on its own: its content still gives its hash, and it links to
    // the row before it. (The verify call checks the whole chain.)
    std::string problem;
    AuditEvent e{dbText(row[2]), dbText(row[3]), dbText(row[4]), dbText(row[5]),
                 dbText(row[6]), dbText(row[7]), dbText(row[8])};
    if (auditRowHash(prevHash, seq, dbInt(row[1]), e) != dbBytes(row[9])) {
      problem = "changed after it was written";
    } else if (seq == 1 ? prevHash != std::string(32, '\0') : (!before.count(seq - 1) || before[seq - 1] != prevHash)) {
      problem =
          seq > 1 && !before.count(seq - 1) ? "the row before it is missing" : "does not link to the row before it";
    }
    auto detail = json::parse(dbText(row[8]));
    out.push_back(json::Object{{"seq", seq},
                               {"at", dbInt(row[1])},
                               {"user", dbText(row[2])},
                               {"device", dbText(row[3])},
                               {"address", dbText(row[4])},
                               {"action", dbText(row[5])},
                               {"clinic", dbText(row[6])},
                               {"patient", dbText(row[7])},
                               {"detail", detail.isOk() ? detail.value() : json::Value(dbText(row[8]))},
                               {"hash", toHex(dbBytes(row[9]))},
                               {"chain", problem.empty() ? "ok" : "broken"},
                               {"chain_problem", problem.empty() ? json::Value() : json::Value(problem)}});
  }
  std::int64_t next = rows.empty() ? 0 : dbInt(rows.back()[0]);
  return jsonResponse(200, json::Object{{"events", std::move(out)}, {"next_after", next}});
}

HttpResponse ApiRoutes::verifyAudit(Api& api, Api::Call& call) {
  auto v = server::verifyAudit(store(api));
  if (!v.isOk()) return statusResponse(api, v.status());
  Status s = auditRead(store(api), call, "admin.audit.verify", "");
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200,
                      json::Object{{"ok", v.value().ok},
                                   {"checked", v.value().checked},
                                   {"first_broken", v.value().ok ? json::Value() : json::Value(v.value().firstBroken)},
                                   {"problem", v.value().problem}});
}

HttpResponse ApiRoutes::movePatient(Api& api, Api::Call& call) {
  std::string patient;
  std::string clinic;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        patient = r.requiredString("patient", 256);
        clinic = r.requiredString("clinic", 64);
      })) {
    return *bad;
  }
  Status s = store(api).write([&](WriteTx& tx) {
    setActor(tx, call);
    return server::movePatient(tx, patient, clinic);
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"ok", true}});
}

HttpResponse ApiRoutes::importFhir(Api& api, Api::Call& call) {
  std::map<std::string, std::string> q;
  if (auto bad = readQuery(call.req, {"clinic"}, q)) return *bad;
  if (q["clinic"].empty()) return errorResponse(400, "invalid", "clinic: the clinic to import into");
  if (!mayActOnClinic(*call.user, q["clinic"])) {
    return errorResponse(403, "forbidden", "a clinic admin imports only into their own clinic");
  }
  auto report = importFhirBundle(store(api), charts(api), call.req.body, q["clinic"], call.user->id,
                                 call.req.remoteAddress);
  if (!report.isOk()) return statusResponse(api, report.status());
  return jsonResponse(report.value().applied ? 200 : 422, fhirReportToJson(report.value()));
}

HttpResponse ApiRoutes::exportFhir(Api& api, Api::Call& call) {
  const std::string& patient = call.pathParams[0];
  std::map<std::string, std::string> q;
  if (auto bad = readQuery(call.req, {}, q)) return *bad;
  // Scope: a clinic admin sees only their clinic's patients; any other
  // patient is "not found", so that ids of other clinics are not confirmed.
  const std::string scope = call.user->role == Role::kSysadmin ? std::string() : call.user->clinic;
  auto bundles = exportPatients(store(api), charts(api), {patient}, scope, FhirBundleType::kSearchset, call.user->id,
                                call.req.remoteAddress, attachmentContent(api));
  if (!bundles.isOk()) return statusResponse(api, bundles.status());
  HttpResponse r = jsonResponse(200, bundles.value().front());
  r.contentType = "application/fhir+json; charset=utf-8";
  return r;
}

}  // namespace charta::server
