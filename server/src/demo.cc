#include "demo.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "accounts.h"

namespace charta::server {

Status prepareDemo(Store& store, const Config& config, Logger& log) {
  // Checked and created in one write transaction: two servers starting on one
  // empty PostgreSQL database queue on the head row, and the second sees the
  // first one's clinic.
  std::string code;
  Status s = store.write([&](WriteTx& tx) -> Status {
    auto clinics = listClinics(tx.conn());
    if (!clinics.isOk()) return clinics.status();
    if (!clinics.value().empty()) return Status::ok();
    tx.setActor("", "", "demo");
    Status st = createClinic(tx, {kDemoClinic, "Demo clinic", 0});
    if (st.isOk()) st = createUser(tx, kDemoAdmin, "Demo sysadmin", Role::kSysadmin, "", kDemoAdminPassword);
    if (st.isOk()) st = createUser(tx, kDemoNurse, "Demo nurse", Role::kNurse, kDemoClinic, kDemoNursePassword);
    if (!st.isOk()) return st;
    auto c = issueEnrolmentCode(tx, kDemoClinic, "demo", 30LL * 24 * 3600 * 1000);
    if (!c.isOk()) return c.status();
    code = c.value();
    return Status::ok();
  });
  if (!s.isOk() || code.empty()) return s;
  if (!config.data.empty()) {
    std::string path = (std::filesystem::path(config.data) / "demo-enrolment-code").string();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      std::string line = code + "\n";
      ssize_t n = ::write(fd, line.data(), line.size());
      ::close(fd);
      if (n != static_cast<ssize_t>(line.size())) return Status::ioError("cannot write " + path);
    }
  }
  log.info("demo.created", {{"clinic", kDemoClinic},
                            {"sysadmin", kDemoAdmin},
                            {"nurse", kDemoNurse},
                            {"enrolment_code", code}});
  return Status::ok();
}

}  // namespace charta::server
