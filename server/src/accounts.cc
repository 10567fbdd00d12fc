#include "accounts.h"

#include "crypto.h"
#include "json.h"

namespace charta::server {
namespace {

using P = std::vector<DbValue>;

std::optional<std::int64_t> optInt(const DbValue& v) {
  if (dbIsNull(v)) return std::nullopt;
  return dbInt(v);
}

DbValue nullable(const std::string& s) {
  if (s.empty()) return std::monostate{};
  return s;
}

User userFromRow(const DbRow& r) {
  User u;
  u.id = dbText(r[0]);
  u.displayName = dbText(r[1]);
  u.role = parseRole(dbText(r[2])).value_or(Role::kNurse);
  u.clinic = dbText(r[3]);
  u.passwordHash = dbText(r[4]);
  u.createdAt = dbInt(r[5]);
  u.revokedAt = optInt(r[6]);
  return u;
}
constexpr const char* kUserColumns = "id, display_name, role, clinic_id, password_hash, created_at, revoked_at";

constexpr const char* kDeviceColumns =
    "id, clinic_id, name, replica_id, enrolled_at, enrolled_by, revoked_at, last_seen_at, last_push_at, "
    "last_pull_at, last_pull_seq, pending_ops, last_error, last_error_at, ops_pushed, future_ops, secret_hash";

Device deviceFromRow(const DbRow& r) {
  Device d;
  d.id = dbText(r[0]);
  d.clinic = dbText(r[1]);
  d.name = dbText(r[2]);
  d.replica = static_cast<std::uint64_t>(dbInt(r[3]));
  d.enrolledAt = dbInt(r[4]);
  d.enrolledBy = dbText(r[5]);
  d.revokedAt = optInt(r[6]);
  d.lastSeenAt = optInt(r[7]);
  d.lastPushAt = optInt(r[8]);
  d.lastPullAt = optInt(r[9]);
  d.lastPullSeq = dbInt(r[10]);
  d.pendingOps = dbInt(r[11]);
  d.lastError = dbText(r[12]);
  d.lastErrorAt = optInt(r[13]);
  d.opsPushed = dbInt(r[14]);
  d.futureOps = dbInt(r[15]);
  return d;
}

std::string detail(std::initializer_list<std::pair<const char*, json::Value>> members) {
  json::Value v = json::Value::object();
  for (const auto& [k, val] : members) v.set(k, val);
  return json::serialize(v);
}

}  // namespace

std::string_view roleName(Role r) {
  switch (r) {
    case Role::kNurse: return "nurse";
    case Role::kClinicAdmin: return "clinic_admin";
    case Role::kSysadmin: return "sysadmin";
  }
  return "nurse";
}

std::optional<Role> parseRole(std::string_view s) {
  if (s == "nurse") return Role::kNurse;
  if (s == "clinic_admin") return Role::kClinicAdmin;
  if (s == "sysadmin") return Role::kSysadmin;
  return std::nullopt;
}

bool validId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(id[0])) return false;
  for (char c : id) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

Status createClinic(WriteTx& tx, const Clinic& clinic) {
  if (!validId(clinic.id)) return Status::invalidArgument("clinic id: 1-64 letters, digits, '.', '_' or '-'");
  if (clinic.name.empty() || clinic.name.size() > 200) return Status::invalidArgument("clinic name: 1-200 characters");
  Status s = tx.conn().exec("INSERT INTO clinics (id, name, created_at) VALUES ($1, $2, $3)",
                            P{clinic.id, clinic.name, tx.now()});
  if (s.code() == Status::Code::kAlreadyExists) return Status::alreadyExists("clinic " + clinic.id + " exists");
  if (!s.isOk()) return s;
  tx.audit({"", "", "", "clinic.create", clinic.id, "", detail({{"name", clinic.name}})});
  return Status::ok();
}

Result<std::vector<Clinic>> listClinics(Connection& c) {
  auto rows = c.query("SELECT id, name, created_at FROM clinics ORDER BY id");
  if (!rows.isOk()) return rows.status();
  std::vector<Clinic> out;
  for (const DbRow& r : rows.value()) out.push_back({dbText(r[0]), dbText(r[1]), dbInt(r[2])});
  return out;
}

Result<std::optional<Clinic>> findClinic(Connection& c, const std::string& id) {
  auto rows = c.query("SELECT id, name, created_at FROM clinics WHERE id = $1", P{id});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty()) return std::optional<Clinic>();
  const DbRow& r = rows.value()[0];
  return std::optional<Clinic>(Clinic{dbText(r[0]), dbText(r[1]), dbInt(r[2])});
}

Status createUser(WriteTx& tx, const std::string& id, const std::string& displayName, Role role,
                  const std::string& clinic, const std::string& password) {
  if (!validId(id)) return Status::invalidArgument("user id: 1-64 letters, digits, '.', '_' or '-'");
  if (displayName.size() > 200) return Status::invalidArgument("display name: at most 200 characters");
  if (password.size() < 10) return Status::invalidArgument("password: at least 10 characters");
  if (password.size() > 1024) return Status::invalidArgument("password: at most 1024 characters");
  if (role == Role::kSysadmin) {
    if (!clinic.empty()) return Status::invalidArgument("a sysadmin belongs to no clinic");
  } else {
    auto found = findClinic(tx.conn(), clinic);
    if (!found.isOk()) return found.status();
    if (!found.value()) return Status::notFound("clinic " + clinic + " does not exist");
  }
  auto hash = hashPassword(password);
  if (!hash.isOk()) return hash.status();
  Status s = tx.conn().exec(
      "INSERT INTO users (id, display_name, role, clinic_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
      P{id, displayName.empty() ? id : displayName, std::string(roleName(role)), nullable(clinic), hash.value(),
        tx.now()});
  if (s.code() == Status::Code::kAlreadyExists) return Status::alreadyExists("user " + id + " exists");
  if (!s.isOk()) return s;
  tx.audit({"", "", "", "user.create", clinic, "", detail({{"user", id}, {"role", std::string(roleName(role))}})});
  return Status::ok();
}

Result<std::optional<User>> findUser(Connection& c, const std::string& id) {
  auto rows = c.query(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = $1", P{id});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty()) return std::optional<User>();
  return std::optional<User>(userFromRow(rows.value()[0]));
}

Result<std::vector<User>> listUsers(Connection& c, const std::string& clinic) {
  auto rows = clinic.empty()
                  ? c.query(std::string("SELECT ") + kUserColumns + " FROM users ORDER BY id")
                  : c.query(std::string("SELECT ") + kUserColumns + " FROM users WHERE clinic_id = $1 ORDER BY id",
                            P{clinic});
  if (!rows.isOk()) return rows.status();
  std::vector<User> out;
  for (const DbRow& r : rows.value()) out.push_back(userFromRow(r));
  return out;
}

Status revokeUser(WriteTx& tx, const std::string& id) {
  auto user = findUser(tx.conn(), id);
  if (!user.isOk()) return user.status();
  if (!user.value()) return Status::notFound("user " + id + " does not exist");
  Status s = tx.conn().exec("UPDATE users SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", P{id, tx.now()});
  if (s.isOk()) s = tx.conn().exec("DELETE FROM sessions WHERE user_id = $1", P{id});
  if (!s.isOk()) return s;
  tx.audit({"", "", "", "user.revoke", user.value()->clinic, "", detail({{"user", id}})});
  return Status::ok();
}

Result<std::string> issueEnrolmentCode(WriteTx& tx, const std::string& clinic, const std::string& createdBy,
                                       std::int64_t ttlMs) {
  auto found = findClinic(tx.conn(), clinic);
  if (!found.isOk()) return found.status();
  if (!found.value()) return Status::notFound("clinic " + clinic + " does not exist");
  std::string code = randomCode();
  Status s = tx.conn().exec(
      "INSERT INTO enrolment_codes (code_hash, clinic_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
      P{Blob{digest(code)}, clinic, createdBy, tx.now(), tx.now() + ttlMs});
  if (!s.isOk()) return s;
  tx.audit({"", "", "", "enrolment_code.issue", clinic, "",
            detail({{"expires_at", tx.now() + ttlMs}, {"code_digest", toHex(digest(code)).substr(0, 16)}})});
  return code;
}

std::string canonicalCode(std::string_view code) {
  std::string normal;
  for (char ch : code) {
    if (ch == '-' || ch == ' ') continue;
    normal += (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
  }
  std::string out;
  for (std::size_t i = 0; i < normal.size(); ++i) {
    if (i && i % 4 == 0) out += '-';
    out += normal[i];
  }
  return out;
}

Result<Enrolled> enrolDevice(WriteTx& tx, const std::string& code, const std::string& name) {
  if (name.empty() || name.size() > 200) return Status::invalidArgument("device name: 1-200 characters");
  const std::string canonical = canonicalCode(code);
  auto rows = tx.conn().query(
      "SELECT clinic_id, expires_at, used_at FROM enrolment_codes WHERE code_hash = $1", P{Blob{digest(canonical)}});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty() || !dbIsNull(rows.value()[0][2]) || dbInt(rows.value()[0][1]) < tx.now()) {
    return Status::notFound("the enrolment code is unknown, used or expired");
  }
  Enrolled out;
  out.device.clinic = dbText(rows.value()[0][0]);
  out.device.id = "dev-" + randomToken(9);
  out.device.name = name;
  out.device.enrolledAt = tx.now();
  out.device.enrolledBy = toHex(digest(canonical)).substr(0, 16);
  out.secret = randomToken(32);
  // 63 random bits: a collision with another device's replica id is not
  // expected in the life of a deployment; the UNIQUE constraint refuses one.
  out.device.replica = randomId63();
  Status s = tx.conn().exec(
      "INSERT INTO devices (id, clinic_id, name, replica_id, secret_hash, enrolled_at, enrolled_by) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      P{out.device.id, out.device.clinic, name, static_cast<std::int64_t>(out.device.replica),
        Blob{digest(out.secret)}, tx.now(), out.device.enrolledBy});
  if (!s.isOk()) return s;
  s = tx.conn().exec("UPDATE enrolment_codes SET used_at = $2, device_id = $3 WHERE code_hash = $1",
                            P{Blob{digest(canonical)}, tx.now(), out.device.id});
  if (!s.isOk()) return s;
  tx.audit({"", out.device.id, "", "device.enrol", out.device.clinic, "",
            detail({{"name", name}, {"replica", std::to_string(out.device.replica)}})});
  return out;
}

Result<std::optional<Device>> findDevice(Connection& c, const std::string& id) {
  auto rows = c.query(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE id = $1", P{id});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty()) return std::optional<Device>();
  return std::optional<Device>(deviceFromRow(rows.value()[0]));
}

Result<std::optional<Device>> deviceForCredential(Connection& c, const std::string& id, const std::string& secret) {
  auto rows = c.query(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE id = $1", P{id});
  if (!rows.isOk()) return rows.status();
  std::string want = digest(secret);
  if (rows.value().empty()) return std::optional<Device>();
  if (!equalConstantTime(dbBytes(rows.value()[0][16]), want)) return std::optional<Device>();
  return std::optional<Device>(deviceFromRow(rows.value()[0]));
}

Result<std::vector<Device>> listDevices(Connection& c, const std::string& clinic) {
  auto rows = clinic.empty()
                  ? c.query(std::string("SELECT ") + kDeviceColumns + " FROM devices ORDER BY id")
                  : c.query(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE clinic_id = $1 ORDER BY id",
                            P{clinic});
  if (!rows.isOk()) return rows.status();
  std::vector<Device> out;
  for (const DbRow& r : rows.value()) out.push_back(deviceFromRow(r));
  return out;
}

Status revokeDevice(WriteTx& tx, const std::string& id) {
  auto device = findDevice(tx.conn(), id);
  if (!device.isOk()) return device.status();
  if (!device.value()) return Status::notFound("device " + id + " does not exist");
  Status s = tx.conn().exec("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", P{id, tx.now()});
  if (s.isOk()) s = tx.conn().exec("DELETE FROM sessions WHERE device_id = $1", P{id});
  if (!s.isOk()) return s;
  tx.audit({"", "", "", "device.revoke", device.value()->clinic, "", detail({{"device", id}})});
  return Status::ok();
}

Result<std::string> createSession(WriteTx& tx, const std::string& user, const std::string& device, std::int64_t ttlMs) {
  std::string token = randomToken(32);
  Status s = tx.conn().exec(
      "INSERT INTO sessions (token_hash, user_id, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
      P{Blob{digest(token)}, user, nullable(device), tx.now(), tx.now() + ttlMs});
  if (!s.isOk()) return s;
  // Sessions that expired long ago are of no use to anyone.
  s = tx.conn().exec("DELETE FROM sessions WHERE user_id = $1 AND expires_at < $2", P{user, tx.now() - 86400000});
  if (!s.isOk()) return s;
  return token;
}

Result<std::optional<Session>> findSession(Connection& c, const std::string& token, std::int64_t now) {
  auto rows = c.query("SELECT user_id, device_id, expires_at FROM sessions WHERE token_hash = $1",
                      P{Blob{digest(token)}});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty() || dbInt(rows.value()[0][2]) < now) return std::optional<Session>();
  const DbRow& r = rows.value()[0];
  return std::optional<Session>(Session{dbText(r[0]), dbText(r[1]), dbInt(r[2])});
}

Status endSession(WriteTx& tx, const std::string& token) {
  return tx.conn().exec("DELETE FROM sessions WHERE token_hash = $1", P{Blob{digest(token)}});
}

Status extendSession(WriteTx& tx, const std::string& token, std::int64_t expiresAt) {
  return tx.conn().exec("UPDATE sessions SET expires_at = $2 WHERE token_hash = $1", P{Blob{digest(token)}, expiresAt});
}

}  // namespace charta::server
