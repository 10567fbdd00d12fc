#include "support/small_filesystem.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace charta::test {

namespace {

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

// The system user the PostgreSQL test cluster runs as: postgres when the
// suites run as root (scripts/pg-cluster), else the caller.
bool clusterOwner(uid_t* uid, gid_t* gid, std::string* error) {
  if (::getuid() != 0) {
    *uid = ::getuid();
    *gid = ::getgid();
    return true;
  }
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    *error = "no postgres system user, which the test cluster runs as";
    return false;
  }
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return true;
}

}  // namespace

SmallFilesystem::~SmallFilesystem() {
  std::string ignored;
  (void)unmount(&ignored);
}

bool SmallFilesystem::mount(std::int64_t bytes, std::string* error) {
  if (mounted()) {
    *error = "already mounted on " + m_path;
    return false;
  }
  char folder[] = "/tmp/charta-full.XXXXXX";
  if (::mkdtemp(folder) == nullptr) {
    *error = errnoText("mkdtemp");
    return false;
  }
  // Root of the filesystem: traversable, so that the cluster's user reaches
  // its folder; the ballast beside it stays root's.
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0711";
  if (::mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options.c_str()) != 0) {
    *error = errnoText(std::string("mount -t tmpfs -o ") + options + " tmpfs " + folder);
    ::rmdir(folder);
    return false;
  }
  m_path = folder;
  return true;
}

bool SmallFilesystem::makeTablespaceFolder(std::string* out, std::string* error) const {
  uid_t owner = 0;
  gid_t group = 0;
  if (!clusterOwner(&owner, &group, error)) return false;
  const std::string folder = m_path + "/tablespace";
  if (::mkdir(folder.c_str(), 0700) != 0 || ::chown(folder.c_str(), owner, group) != 0) {
    *error = errnoText("make " + folder);
    return false;
  }
  *out = folder;
  return true;
}

std::int64_t SmallFilesystem::freeBytes() const {
  struct statvfs st {};
  if (!mounted() || ::statvfs(m_path.c_str(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

bool SmallFilesystem::fillLeaving(std::int64_t room, std::string* error) const {
  const std::int64_t take = freeBytes() - room;
  if (take <= 0) return true;
  const std::string ballast = m_path + "/ballast";
  const int fd = ::open(ballast.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = errnoText("open " + ballast);
    return false;
  }
  struct stat st {};
  const int rc = ::fstat(fd, &st) != 0 ? errno : ::posix_fallocate(fd, st.st_size, take);
  ::close(fd);
  if (rc != 0) {
    *error = "fill " + ballast + " with " + std::to_string(take) + " bytes: " + std::strerror(rc);
    return false;
  }
  return true;
}

bool SmallFilesystem::removeBallast(std::string* error) const {
  if (::unlink((m_path + "/ballast").c_str()) != 0 && errno != ENOENT) {
    *error = errnoText("remove the ballast");
    return false;
  }
  return true;
}

bool SmallFilesystem::unmount(std::string* error) {
  if (!mounted()) return true;
  if (::umount2(m_path.c_str(), 0) != 0 && ::umount2(m_path.c_str(), MNT_DETACH) != 0) {
    *error = errnoText("unmount " + m_path);
    return false;
  }
  ::rmdir(m_path.c_str());
  m_path.clear();
  return true;
}

}  // namespace charta::test
