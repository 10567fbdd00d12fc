#include "blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "crypto.h"

namespace charta::server {
namespace {

namespace fs = std::filesystem;
using P = std::vector<DbValue>;

// Longer patient ids are named by their digest, so that a folder name stays
// well under the 255 bytes file systems allow.
constexpr std::size_t kPatientHexMaxBytes = 100;
constexpr std::size_t kPatientMaxBytes = 1024;

Status checkKey(const std::string& patient, const std::string& hash, bool hashMayBeEmpty) {
  if (patient.empty() || patient.size() > kPatientMaxBytes)
    return Status::invalidArgument("blob store: bad patient id");
  if (hash.empty() ? !hashMayBeEmpty : !validBlobHash(hash)) {
    return Status::invalidArgument("blob store: bad content hash");
  }
  return Status::ok();
}

std::string errnoText(int error) { return std::strerror(error); }

// Makes `dir`, below `root`, with every folder from `root` down mode 0700.
Status makeFolders(const fs::path& root, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return dbOsWriteError("cannot create " + dir.string(), ec.value());
  fs::path p = root;
  ::chmod(p.c_str(), 0700);
  for (const fs::path& part : dir.lexically_relative(root)) {
    p /= part;
    ::chmod(p.c_str(), 0700);
  }
  return Status::ok();
}

Status syncFolder(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::ioError("cannot open " + dir.string() + ": " + errnoText(errno));
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) return Status::ioError("cannot sync " + dir.string() + ": " + errnoText(error));
  return Status::ok();
}

class FileBlobStore final : public BlobStore {
 public:
  explicit FileBlobStore(const std::string& dataDir) : m_root(fs::path(dataDir) / "attachments") {}

  std::string_view kind() const override { return "files"; }
  bool transactional() const override { return false; }

  Status put(Connection*, const std::string& patient, const std::string& hash, std::int64_t index,
             std::string_view bytes) override {
    Status s = checkKey(patient, hash, false);
    if (!s.isOk()) return s;
    if (index < 0) return Status::invalidArgument("blob store: bad chunk index");
    const fs::path dir = m_root / patientFolder(patient) / hash;
    s = makeFolders(m_root, dir);
    if (!s.isOk()) return s;
    const fs::path target = dir / std::to_string(index);
    const fs::path temp = dir / (std::to_string(index) + ".tmp-" + randomToken(9));
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return dbOsWriteError("cannot create " + temp.string(), errno);
    std::size_t done = 0;
    int error = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        error = errno;
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    if (error == 0 && ::fsync(fd) != 0) error = errno;
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error == 0 && ::rename(temp.c_str(), target.c_str()) != 0) error = errno;
    if (error != 0) {
      ::unlink(temp.c_str());
      // A full disk or a file-size limit is a full storage (507), like the
      // database's; the half-written temporary file is gone.
      return dbOsWriteError("cannot write " + target.string(), error);
    }
    return syncFolder(dir);
  }

  Result<std::optional<std::string>> get(Connection&, const std::string& patient, const std::string& hash,
                                         std::int64_t index) override {
    Status s = checkKey(patient, hash, false);
    if (!s.isOk()) return s;
    if (index < 0) return Status::invalidArgument("blob store: bad chunk index");
    const fs::path file = m_root / patientFolder(patient) / hash / std::to_string(index);
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
      return Status::ioError("cannot open " + file.string() + ": " + errnoText(errno));
    }
    std::string out;
    char buffer[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0) {
        if (errno == EINTR) continue;
        int error = errno;
        ::close(fd);
        return Status::ioError("cannot read " + file.string() + ": " + errnoText(error));
      }
      if (n == 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return std::optional<std::string>(std::move(out));
  }

  Status removeInTransaction(Connection&, const std::string& patient, const std::string& hash) override {
    return checkKey(patient, hash, true);
  }

  Status finishRemove(const std::string& patient, const std::string& hash) override {
    Status s = checkKey(patient, hash, true);
    if (!s.isOk()) return s;
    const fs::path folder = m_root / patientFolder(patient);
    const fs::path target = hash.empty() ? folder : folder / hash;
    std::error_code ec;
    fs::remove_all(target, ec);
    if (ec) return Status::ioError("cannot remove " + target.string() + ": " + ec.message());
    if (!hash.empty() && fs::is_empty(folder, ec) && !ec) fs::remove(folder, ec);
    return Status::ok();
  }

 private:
  static std::string patientFolder(const std::string& patient) {
    if (patient.size() <= kPatientHexMaxBytes) return toHex(patient);
    return "h-" + toHex(digest(patient));
  }

  fs::path m_root;
};

class PostgresBlobStore final : public BlobStore {
 public:
  std::string_view kind() const override { return "postgres"; }
  bool transactional() const override { return true; }

  Status put(Connection* c, const std::string& patient, const std::string& hash, std::int64_t index,
             std::string_view bytes) override {
    Status s = checkKey(patient, hash, false);
    if (!s.isOk()) return s;
    if (index < 0) return Status::invalidArgument("blob store: bad chunk index");
    if (c == nullptr) return Status::invalidArgument("blob store: PostgreSQL chunks are written in a transaction");
    return c->exec(
        "INSERT INTO attachment_blobs (patient_id, hash, idx, bytes) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (patient_id, hash, idx) DO UPDATE SET bytes = excluded.bytes",
        P{patient, hash, index, Blob{std::string(bytes)}});
  }

  Result<std::optional<std::string>> get(Connection& c, const std::string& patient, const std::string& hash,
                                         std::int64_t index) override {
    Status s = checkKey(patient, hash, false);
    if (!s.isOk()) return s;
    auto rows = c.query("SELECT bytes FROM attachment_blobs WHERE patient_id = $1 AND hash = $2 AND idx = $3",
                        P{patient, hash, index});
    if (!rows.isOk()) return rows.status();
    if (rows.value().empty()) return std::optional<std::string>();
    return std::optional<std::string>(dbBytes(rows.value()[0][0]));
  }

  Status removeInTransaction(Connection& c, const std::string& patient, const std::string& hash) override {
    Status s = checkKey(patient, hash, true);
    if (!s.isOk()) return s;
    if (hash.empty()) return c.exec("DELETE FROM attachment_blobs WHERE patient_id = $1", P{patient});
    return c.exec("DELETE FROM attachment_blobs WHERE patient_id = $1 AND hash = $2", P{patient, hash});
  }

  Status finishRemove(const std::string& patient, const std::string& hash) override {
    return checkKey(patient, hash, true);
  }
};

}  // namespace

bool validBlobHash(std::string_view hash) {
  if (hash.size() != 64) return false;
  for (char ch : hash) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

std::unique_ptr<BlobStore> makeFileBlobStore(const std::string& dataDir) {
  return std::make_unique<FileBlobStore>(dataDir);
}

std::unique_ptr<BlobStore> makePostgresBlobStore() { return std::make_unique<PostgresBlobStore>(); }

std::unique_ptr<BlobStore> makeBlobStore(const Config& config, Dialect dialect) {
  if (dialect == Dialect::kPostgres) return makePostgresBlobStore();
  return makeFileBlobStore(config.data);
}

}  // namespace charta::server
