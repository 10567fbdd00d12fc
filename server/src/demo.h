#pragma once

// The demo clinic `scripts/run` starts with: created once, in an empty store.

#include "charta/server/config.h"
#include "log.h"
#include "store.h"

namespace charta::server {

inline constexpr const char* kDemoClinic = "demo";
inline constexpr const char* kDemoAdmin = "admin";
inline constexpr const char* kDemoAdminPassword = "demo-admin-pass";
inline constexpr const char* kDemoNurse = "nurse";
inline constexpr const char* kDemoNursePassword = "demo-nurse-pass";

// When the store has no clinic: the clinic "demo", a sysadmin and a nurse
// with the passwords above, and an enrolment code written to
// <data>/demo-enrolment-code (0600) for the tablet. Logs what it made.
Status prepareDemo(Store& store, const Config& config, Logger& log);

}  // namespace charta::server
