#pragma once

// Clinics, users, devices, enrolment codes and sessions in the store. Secrets
// (device secrets, session tokens, enrolment codes) are stored only as their
// BLAKE2b digest; passwords as Argon2id hashes.
//
// Functions taking a WriteTx run inside Store::write() and add their own audit
// events; those taking a Connection only read.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store.h"

namespace charta::server {

enum class Role { kNurse, kClinicAdmin, kSysadmin };
std::string_view roleName(Role r);
std::optional<Role> parseRole(std::string_view s);

struct Clinic {
  std::string id;
  std::string name;
  std::int64_t createdAt = 0;
};

struct User {
  std::string id;
  std::string displayName;
  Role role = Role::kNurse;
  std::string clinic;  // "" for a sysadmin
  std::string passwordHash;
  std::int64_t createdAt = 0;
  std::optional<std::int64_t> revokedAt;
};

struct Device {
  std::string id;
  std::string clinic;
  std::string name;
  std::uint64_t replica = 0;
  std::int64_t enrolledAt = 0;
  std::string enrolledBy;
  std::optional<std::int64_t> revokedAt;
  std::optional<std::int64_t> lastSeenAt, lastPushAt, lastPullAt;
  std::int64_t lastPullSeq = 0;
  std::int64_t pendingOps = 0;
  std::string lastError;
  std::optional<std::int64_t> lastErrorAt;
  std::int64_t opsPushed = 0;
  std::int64_t futureOps = 0;
};

struct Session {
  std::string user;
  std::string device;  // "" when signed in without a device (console, shell)
  std::int64_t expiresAt = 0;
};

// Identifiers of clinics, users, devices and patients: 1-64 characters of
// [A-Za-z0-9._-], starting with a letter or digit.
bool validId(std::string_view id);

Status createClinic(WriteTx& tx, const Clinic& clinic);
Result<std::vector<Clinic>> listClinics(Connection& c);
Result<std::optional<Clinic>> findClinic(Connection& c, const std::string& id);

// `password` at least 10 characters. kAlreadyExists for a taken id.
Status createUser(WriteTx& tx, const std::string& id, const std::string& displayName, Role role,
                  const std::string& clinic, const std::string& password);
Result<std::optional<User>> findUser(Connection& c, const std::string& id);
Result<std::vector<User>> listUsers(Connection& c, const std::string& clinic /* "" = all */);
// Revokes the user and ends their sessions.
Status revokeUser(WriteTx& tx, const std::string& id);

// Returns the code in clear (shown once); stores its digest.
Result<std::string> issueEnrolmentCode(WriteTx& tx, const std::string& clinic, const std::string& createdBy,
                                       std::int64_t ttlMs);

// A one-time code as stored (its digest is): people type codes in any case,
// with or without dashes, so upper case in groups of four ("7KQM-4ZT2-...").
std::string canonicalCode(std::string_view code);

struct Enrolled {
  Device device;
  std::string secret;  // shown once
};
// Uses the code (once, before it expires) to enrol a device of its clinic.
// kNotFound for an unknown, used or expired code (one message for all three).
Result<Enrolled> enrolDevice(WriteTx& tx, const std::string& code, const std::string& name);
Result<std::optional<Device>> findDevice(Connection& c, const std::string& id);
// The device whose credential this is, checked in constant time.
Result<std::optional<Device>> deviceForCredential(Connection& c, const std::string& id,
                                                  const std::string& secret);
Result<std::vector<Device>> listDevices(Connection& c, const std::string& clinic /* "" = all */);
// Revokes the device and ends the sessions opened through it.
Status revokeDevice(WriteTx& tx, const std::string& id);

// A new session token (returned in clear, stored as a digest).
Result<std::string> createSession(WriteTx& tx, const std::string& user, const std::string& device,
                                  std::int64_t ttlMs);
Result<std::optional<Session>> findSession(Connection& c, const std::string& token, std::int64_t now);
Status endSession(WriteTx& tx, const std::string& token);
Status extendSession(WriteTx& tx, const std::string& token, std::int64_t expiresAt);

}  // namespace charta::server
