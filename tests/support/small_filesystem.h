// A disk that really fills up, for PostgreSQL suites: a tmpfs of a given size
// mounted on a new folder under /tmp, a folder on it for a tablespace (owned
// by the system user the test cluster runs as), and a ballast file that takes
// its room and gives it back. Mounting needs root (CAP_SYS_ADMIN); a suite
// that cannot mount says so and skips what needs it.
#pragma once

#include <cstdint>
#include <string>

namespace charta::test {

class SmallFilesystem {
 public:
  SmallFilesystem() = default;
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;
  ~SmallFilesystem();  // unmounts (lazily if a file on it is still open)

  // False with *error when it cannot be mounted.
  bool mount(std::int64_t bytes, std::string* error);
  bool mounted() const { return !m_path.empty(); }
  const std::string& path() const { return m_path; }

  // A new, empty folder on it that the PostgreSQL test cluster's system user
  // owns (scripts/pg-cluster: postgres when run as root), for
  // newPostgresDatabaseIn.
  bool makeTablespaceFolder(std::string* out, std::string* error) const;

  // Bytes still free on it (-1 when it cannot tell).
  std::int64_t freeBytes() const;
  // Takes all its free room but `room` bytes, in a ballast file.
  bool fillLeaving(std::int64_t room, std::string* error) const;
  // Deletes the ballast: the room returns.
  bool removeBallast(std::string* error) const;

  bool unmount(std::string* error);

 private:
  std::string m_path;
};

}  // namespace charta::test
