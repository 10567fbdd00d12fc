#include "support/fault_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace charta::test {

namespace {

// The bytes a write (or a shrinking truncate) replaced, to put back at a
// power cut.
struct Undo {
  std::int64_t offset = 0;
  std::string bytes;
};

// What the VFS knows of one watched file (kept while it is closed too: its
// unsynced writes are still at risk until a sync or a delete).
// A write (bytes at offset) or a truncate (to offset) since the last sync,
// for a power cut that keeps some of them.
struct Change {
  bool truncate = false;
  std::int64_t offset = 0;
  std::string bytes;
};

struct FileRecord {
  std::int64_t size = 0;        // now
  std::int64_t syncedSize = 0;  // at the last xSync (or when first opened)
  std::vector<Undo> undo;       // since the last xSync, oldest first
  std::vector<Change> changes;  // since the last xSync, oldest first
  int open = 0;
};

}  // namespace

struct FaultVfs::Impl {
  sqlite3_vfs vfs{};
  sqlite3_vfs* real = nullptr;
  int fileOffset = 0;  // of the wrapped file inside ours, 8-byte aligned
  mutable std::mutex mu;
  std::string prefix;
  std::uint64_t writes = 0;
  std::uint64_t syncs = 0;
  std::uint64_t crashAt = 0;
  std::uint64_t fullErrors = 0;
  bool crashed = false;
  bool syncsLie = false;
  double keepProbability = 0;  // of each unsynced change at a power cut
  std::uint64_t random = 0;
  std::uint64_t changesKept = 0;
  std::vector<std::uint64_t> mainDbWrites;
  bool limited = false;
  std::int64_t limit = 0;
  std::map<std::string, FileRecord> files;

  bool watches(const char* path) const {
    return path && !prefix.empty() && std::strncmp(path, prefix.c_str(), prefix.size()) == 0;
  }
  std::int64_t total() const {
    std::int64_t n = 0;
    for (const auto& [path, rec] : files) n += rec.size;
    return n;
  }
  std::uint64_t nextRandom() {
    std::uint64_t z = (random += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // One counted write done: the power goes when it was the chosen one.
  void counted(bool mainDb) {
    ++writes;
    if (mainDb) mainDbWrites.push_back(writes);
    if (crashAt != 0 && writes == crashAt) crashed = true;
  }
};

namespace {

struct FaultFile {
  sqlite3_file base;
  FaultVfs::Impl* owner;
  bool watched;
  bool mainDb;
  std::string path;
};

FaultVfs::Impl* implOf(sqlite3_vfs* vfs) { return static_cast<FaultVfs::Impl*>(vfs->pAppData); }
FaultFile* faultOf(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file); }
sqlite3_file* realOf(sqlite3_file* file) {
  FaultFile* f = faultOf(file);
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + f->owner->fileOffset);
}

// Reads what the real file holds in [offset, offset + n): the undo bytes.
bool readReal(sqlite3_file* real, std::int64_t offset, std::int64_t n, std::string* out) {
  out->assign(static_cast<std::size_t>(n), '\0');
  const int rc = real->pMethods->xRead(real, out->data(), static_cast<int>(n), offset);
  return rc == SQLITE_OK || rc == SQLITE_IOERR_SHORT_READ;
}

// --- io methods ---

int xClose(sqlite3_file* file) {
  FaultFile* f = faultOf(file);
  sqlite3_file* real = realOf(file);
  const int rc = real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
  if (f->watched) {
    std::lock_guard lock(f->owner->mu);
    auto it = f->owner->files.find(f->path);
    if (it != f->owner->files.end() && it->second.open > 0) --it->second.open;
  }
  f->~FaultFile();
  return rc;
}

int xRead(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  FaultFile* f = faultOf(file);
  sqlite3_file* real = realOf(file);
  if (f->watched) {
    std::lock_guard lock(f->owner->mu);
    if (f->owner->crashed) return SQLITE_IOERR_READ;
  }
  return real->pMethods->xRead(real, buffer, amount, offset);
}

int xWrite(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
  FaultFile* f = faultOf(file);
  sqlite3_file* real = realOf(file);
  if (!f->watched) return real->pMethods->xWrite(real, buffer, amount, offset);
  FaultVfs::Impl& d = *f->owner;
  std::lock_guard lock(d.mu);
  if (d.crashed) return SQLITE_IOERR_WRITE;
  FileRecord& rec = d.files[f->path];
  const std::int64_t end = offset + amount;
  const std::int64_t growth = std::max<std::int64_t>(0, end - rec.size);
  if (d.limited && d.total() + growth > d.limit) {
    ++d.fullErrors;
    return SQLITE_FULL;
  }
  // Only bytes that a power cut would bring back need saving: those that
  // exist now and were there at the last sync.
  const std::int64_t keepEnd = std::min({end, rec.size, rec.syncedSize});
  if (keepEnd > offset) {
    Undo u;
    u.offset = offset;
    if (!readReal(real, offset, keepEnd - offset, &u.bytes)) return SQLITE_IOERR_WRITE;
    rec.undo.push_back(std::move(u));
  }
  const int rc = real->pMethods->xWrite(real, buffer, amount, offset);
  if (rc == SQLITE_OK) {
    rec.size = std::max(rec.size, end);
    rec.changes.push_back(
        Change{false, offset, std::string(static_cast<const char*>(buffer), static_cast<std::size_t>(amount))});
  }
  d.counted(f->mainDb);
  return rc;
}

int xTruncate(sqlite3_file* file, sqlite3_int64 size) {
  FaultFile* f = faultOf(file);
  sqlite3_file* real = realOf(file);
  if (!f->watched) return real->pMethods->xTruncate(real, size);
  FaultVfs::Impl& d = *f->owner;
  std::lock_guard lock(d.mu);
  if (d.crashed) return SQLITE_IOERR_TRUNCATE;
  FileRecord& rec = d.files[f->path];
  if (size > rec.size && d.limited && d.total() + (size - rec.size) > d.limit) {
    ++d.fullErrors;
    return SQLITE_FULL;
  }
  const std::int64_t keepEnd = std::min(rec.size, rec.syncedSize);
  if (size < keepEnd) {
    Undo u;
    u.offset = size;
    if (!readReal(real, size, keepEnd - size, &u.bytes)) return SQLITE_IOERR_TRUNCATE;
    rec.undo.push_back(std::move(u));
  }
  const int rc = real->pMethods->xTruncate(real, size);
  if (rc == SQLITE_OK) {
    rec.size = size;
    rec.changes.push_back(Change{true, size, {}});
  }
  d.counted(f->mainDb);
  return rc;
}

int xSync(sqlite3_file* file, int flags) {
  FaultFile* f = faultOf(file);
  sqlite3_file* real = realOf(file);
  if (!f->watched) return real->pMethods->xSync(real, flags);
  FaultVfs::Impl& d = *f->owner;
  std::lock_guard lock(d.mu);
  if (d.crashed) return SQLITE_IOERR_FSYNC;
  // What is durable is what this record says, not what the real disk holds
  // (a power cut is simulated, never real): the real flush would only cost
  // time, so it is not made.
  if (!d.syncsLie) {
    FileRecord& rec = d.files[f->path];
    rec.undo.clear();
    rec.changes.clear();
    rec.syncedSize = rec.size;
    ++d.syncs;
  }
  d.counted(f->mainDb);
  return SQLITE_OK;
}

int xFileSize(sqlite3_file* file, sqlite3_int64* size) {
  FaultFile* f = faultOf(file);
  sqlite3_file* real = realOf(file);
  if (f->watched) {
    std::lock_guard lock(f->owner->mu);
    if (f->owner->crashed) return SQLITE_IOERR_FSTAT;
  }
  return real->pMethods->xFileSize(real, size);
}

int xLock(sqlite3_file* file, int level) { return realOf(file)->pMethods->xLock(realOf(file), level); }
int xUnlock(sqlite3_file* file, int level) { return realOf(file)->pMethods->xUnlock(realOf(file), level); }
int xCheckReservedLock(sqlite3_file* file, int* out) {
  return realOf(file)->pMethods->xCheckReservedLock(realOf(file), out);
}

int xFileControl(sqlite3_file* file, int op, void* arg) {
  // A size hint may grow a file without xWrite: it is only a hint, so a
  // watched file ignores it and every byte it gains is a counted write.
  if (faultOf(file)->watched && op == SQLITE_FCNTL_SIZE_HINT) return SQLITE_OK;
  return realOf(file)->pMethods->xFileControl(realOf(file), op, arg);
}

int xSectorSize(sqlite3_file* file) { return realOf(file)->pMethods->xSectorSize(realOf(file)); }
int xDeviceCharacteristics(sqlite3_file* file) { return realOf(file)->pMethods->xDeviceCharacteristics(realOf(file)); }
int xShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return realOf(file)->pMethods->xShmMap(realOf(file), region, size, extend, out);
}
int xShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return realOf(file)->pMethods->xShmLock(realOf(file), offset, n, flags);
}
void xShmBarrier(sqlite3_file* file) { realOf(file)->pMethods->xShmBarrier(realOf(file)); }
int xShmUnmap(sqlite3_file* file, int deleteFlag) {
  return realOf(file)->pMethods->xShmUnmap(realOf(file), deleteFlag);
}

// Watched files are never memory-mapped: every read is an xRead the power
// cut can refuse.
int xFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  sqlite3_file* real = realOf(file);
  if (faultOf(file)->watched || real->pMethods->iVersion < 3) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return real->pMethods->xFetch(real, offset, amount, out);
}
int xUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  sqlite3_file* real = realOf(file);
  if (faultOf(file)->watched || real->pMethods->iVersion < 3) return SQLITE_OK;
  return real->pMethods->xUnfetch(real, offset, page);
}

const sqlite3_io_methods kMethods = {
    3,
    xClose,
    xRead,
    xWrite,
    xTruncate,
    xSync,
    xFileSize,
    xLock,
    xUnlock,
    xCheckReservedLock,
    xFileControl,
    xSectorSize,
    xDeviceCharacteristics,
    xShmMap,
    xShmLock,
    xShmBarrier,
    xShmUnmap,
    xFetch,
    xUnfetch,
};

// --- vfs methods ---

int vfsOpen(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* outFlags) {
  FaultVfs::Impl& d = *implOf(vfs);
  auto* f = new (file) FaultFile{};
  f->owner = &d;
  f->base.pMethods = nullptr;
  {
    std::lock_guard lock(d.mu);
    f->watched = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL)) != 0 && d.watches(name);
    f->mainDb = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    if (f->watched && d.crashed) {
      f->~FaultFile();
      return SQLITE_CANTOPEN;
    }
  }
  if (f->watched) f->path = name;
  sqlite3_file* real = realOf(file);
  const int rc = d.real->xOpen(d.real, name, real, flags, outFlags);
  if (rc != SQLITE_OK) {
    if (real->pMethods) real->pMethods->xClose(real);
    f->~FaultFile();
    return rc;
  }
  if (f->watched) {
    sqlite3_int64 size = 0;
    if (real->pMethods->xFileSize(real, &size) != SQLITE_OK) size = 0;
    std::lock_guard lock(d.mu);
    auto [it, fresh] = d.files.try_emplace(f->path);
    if (fresh) it->second.size = it->second.syncedSize = size;
    ++it->second.open;
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int vfsDelete(sqlite3_vfs* vfs, const char* name, int syncDir) {
  FaultVfs::Impl& d = *implOf(vfs);
  {
    std::lock_guard lock(d.mu);
    if (d.watches(name)) {
      if (d.crashed) return SQLITE_IOERR_DELETE;
      const int rc = d.real->xDelete(d.real, name, syncDir);
      if (rc == SQLITE_OK || rc == SQLITE_IOERR_DELETE_NOENT) d.files.erase(name);
      return rc;
    }
  }
  return d.real->xDelete(d.real, name, syncDir);
}

int vfsAccess(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return implOf(vfs)->real->xAccess(implOf(vfs)->real, name, flags, out);
}
int vfsFullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return implOf(vfs)->real->xFullPathname(implOf(vfs)->real, name, n, out);
}
void* vfsDlOpen(sqlite3_vfs* vfs, const char* name) { return implOf(vfs)->real->xDlOpen(implOf(vfs)->real, name); }
void vfsDlError(sqlite3_vfs* vfs, int n, char* out) { implOf(vfs)->real->xDlError(implOf(vfs)->real, n, out); }
void (*vfsDlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return implOf(vfs)->real->xDlSym(implOf(vfs)->real, handle, symbol);
}
void vfsDlClose(sqlite3_vfs* vfs, void* handle) { implOf(vfs)->real->xDlClose(implOf(vfs)->real, handle); }
int vfsRandomness(sqlite3_vfs* vfs, int n, char* out) {
  return implOf(vfs)->real->xRandomness(implOf(vfs)->real, n, out);
}
int vfsSleep(sqlite3_vfs* vfs, int micros) { return implOf(vfs)->real->xSleep(implOf(vfs)->real, micros); }
int vfsCurrentTime(sqlite3_vfs* vfs, double* out) { return implOf(vfs)->real->xCurrentTime(implOf(vfs)->real, out); }
int vfsGetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return implOf(vfs)->real->xGetLastError(implOf(vfs)->real, n, out);
}
int vfsCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return implOf(vfs)->real->xCurrentTimeInt64(implOf(vfs)->real, out);
}
int vfsSetSystemCall(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr call) {
  return implOf(vfs)->real->xSetSystemCall(implOf(vfs)->real, name, call);
}
sqlite3_syscall_ptr vfsGetSystemCall(sqlite3_vfs* vfs, const char* name) {
  return implOf(vfs)->real->xGetSystemCall(implOf(vfs)->real, name);
}
const char* vfsNextSystemCall(sqlite3_vfs* vfs, const char* name) {
  return implOf(vfs)->real->xNextSystemCall(implOf(vfs)->real, name);
}

}  // namespace

FaultVfs::FaultVfs() : m_impl(std::make_unique<Impl>()) {
  Impl& d = *m_impl;
  sqlite3_initialize();
  d.real = sqlite3_vfs_find(nullptr);
  d.fileOffset = static_cast<int>((sizeof(FaultFile) + 7) / 8 * 8);
  sqlite3_vfs& v = d.vfs;
  v.iVersion = 3;
  v.szOsFile = d.fileOffset + d.real->szOsFile;
  v.mxPathname = d.real->mxPathname;
  v.zName = "charta-fault";
  v.pAppData = &d;
  v.xOpen = vfsOpen;
  v.xDelete = vfsDelete;
  v.xAccess = vfsAccess;
  v.xFullPathname = vfsFullPathname;
  v.xDlOpen = vfsDlOpen;
  v.xDlError = vfsDlError;
  v.xDlSym = vfsDlSym;
  v.xDlClose = vfsDlClose;
  v.xRandomness = vfsRandomness;
  v.xSleep = vfsSleep;
  v.xCurrentTime = vfsCurrentTime;
  v.xGetLastError = vfsGetLastError;
  v.xCurrentTimeInt64 = vfsCurrentTimeInt64;
  v.xSetSystemCall = vfsSetSystemCall;
  v.xGetSystemCall = vfsGetSystemCall;
  v.xNextSystemCall = vfsNextSystemCall;
  sqlite3_vfs_register(&v, 1);
}

FaultVfs::~FaultVfs() {
  sqlite3_vfs_unregister(&m_impl->vfs);
  sqlite3_vfs_register(m_impl->real, 1);
}

void FaultVfs::watch(const std::string& prefix) {
  std::string resolved = prefix;
  if (char* p = ::realpath(prefix.c_str(), nullptr)) {
    resolved = p;
    std::free(p);
  }
  if (!resolved.empty() && resolved.back() != '/') resolved += '/';
  std::lock_guard lock(m_impl->mu);
  m_impl->prefix = resolved;
}

std::uint64_t FaultVfs::writes() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->writes;
}

std::uint64_t FaultVfs::syncs() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->syncs;
}

void FaultVfs::resetCounters() {
  std::lock_guard lock(m_impl->mu);
  m_impl->writes = 0;
  m_impl->syncs = 0;
  m_impl->mainDbWrites.clear();
}

void FaultVfs::keepUnsyncedChanges(double probability, std::uint64_t seed) {
  std::lock_guard lock(m_impl->mu);
  m_impl->keepProbability = probability;
  m_impl->random = seed;
}

std::uint64_t FaultVfs::unsyncedChangesKept() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->changesKept;
}

void FaultVfs::setSyncsLie(bool lie) {
  std::lock_guard lock(m_impl->mu);
  m_impl->syncsLie = lie;
}

std::vector<std::uint64_t> FaultVfs::mainDbWrites() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->mainDbWrites;
}

void FaultVfs::crashAfter(std::uint64_t n) {
  std::lock_guard lock(m_impl->mu);
  m_impl->crashAt = n == 0 ? 0 : m_impl->writes + n;
}

void FaultVfs::crashNow() {
  std::lock_guard lock(m_impl->mu);
  m_impl->crashed = true;
}

bool FaultVfs::crashed() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->crashed;
}

bool FaultVfs::reboot(std::string* error) {
  Impl& d = *m_impl;
  std::lock_guard lock(d.mu);
  auto fail = [error](const std::string& what) {
    if (error) *error = what;
    return false;
  };
  for (const auto& [path, rec] : d.files) {
    if (rec.open > 0) return fail(path + " is still open");
  }
  for (const auto& [path, rec] : d.files) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      return fail("cannot open " + path + ": " + std::strerror(errno));
    }
    bool ok = true;
    for (auto it = rec.undo.rbegin(); it != rec.undo.rend() && ok; ++it) {
      ok = ::pwrite(fd, it->bytes.data(), it->bytes.size(), static_cast<off_t>(it->offset)) ==
           static_cast<ssize_t>(it->bytes.size());
    }
    ok = ok && ::ftruncate(fd, static_cast<off_t>(rec.syncedSize)) == 0;
    // A disk that wrote some of the unsynced changes (in any order) before
    // the power went: each reaches it or not; a later one wins where they
    // overlap, and a hole reads as zeros.
    for (const Change& c : rec.changes) {
      if (!ok || d.keepProbability <= 0 ||
          d.nextRandom() % 1000 >= static_cast<std::uint64_t>(d.keepProbability * 1000)) {
        continue;
      }
      ++d.changesKept;
      ok = c.truncate ? ::ftruncate(fd, static_cast<off_t>(c.offset)) == 0
                      : ::pwrite(fd, c.bytes.data(), c.bytes.size(), static_cast<off_t>(c.offset)) ==
                            static_cast<ssize_t>(c.bytes.size());
    }
    ::close(fd);
    if (!ok) return fail("cannot restore " + path);
  }
  d.files.clear();
  d.crashed = false;
  d.crashAt = 0;
  d.writes = 0;
  d.syncs = 0;
  d.mainDbWrites.clear();
  return true;
}

void FaultVfs::setSpaceLeft(std::uint64_t bytes) {
  std::lock_guard lock(m_impl->mu);
  m_impl->limited = true;
  m_impl->limit = m_impl->total() + static_cast<std::int64_t>(std::min<std::uint64_t>(bytes, LLONG_MAX / 2));
}

void FaultVfs::setUnlimitedSpace() {
  std::lock_guard lock(m_impl->mu);
  m_impl->limited = false;
}

std::uint64_t FaultVfs::fullErrors() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->fullErrors;
}

}  // namespace charta::test
