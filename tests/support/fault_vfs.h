// FaultVfs: a SQLite VFS that wraps the default one ("unix") and stands in
// for the tablet's storage, so the reliability suites can cut the power or
// fill the disk under a replica that opens its database as usual.
//
// While a FaultVfs object lives it is the default VFS (sqlite3_vfs_register
// with makeDflt = 1); the destructor unregisters it and makes the wrapped VFS
// the default again (every connection opened through it must be closed by
// then). Every file goes through it, but only the files it watches are
// counted and faulted: main databases, WAL files and rollback journals whose
// path starts with a prefix given to watch(). Everything else (an in-process
// server's database, temporary files) passes straight through.
//
// Counted writes: every xWrite, xTruncate and xSync on a watched file. What
// an xSync made durable is recorded here (the power cut is simulated, never
// real), so a watched file's xSync is not passed on to the real disk.
//
// Power loss (crashAfter(n)): the n-th counted write (from the last
// resetCounters()) completes, then the power is cut: every later read,
// write, truncate, sync, size query and delete of a watched file fails with
// SQLITE_IOERR, so nothing reaches the disk any more. The files still hold
// what the process wrote, as a page cache would; reboot(), called once the
// crashed connections are closed, makes them what the power cut left on the
// disk: each watched file loses every write since its last xSync (the bytes
// those writes overwrote come back from an undo log, and the file gets back
// the size it had at that sync). A file created and never synced still
// exists (empty when nothing of it was synced), as when its directory entry
// reached the disk; a delete is durable at once.
//
// Full disk (setSpaceLeft(bytes)): the watched files may grow by that many
// bytes in total; a write or truncate that would grow them further fails with
// SQLITE_FULL and changes nothing. setUnlimitedSpace() gives the room back.
//
// Thread-safety: every member may be called from any thread; SQLite may call
// into the VFS from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace charta::test {

class FaultVfs {
 public:
  FaultVfs();
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  // Watches the database, WAL and journal files under this path prefix (a
  // folder, resolved to its real path); an empty prefix watches nothing.
  void watch(const std::string& prefix);

  // Counted writes (xWrite, xTruncate, xSync) and syncs since resetCounters().
  std::uint64_t writes() const;
  std::uint64_t syncs() const;
  void resetCounters();
  // Which of the counted writes (1-based, since resetCounters()) hit a main
  // database file rather than a WAL or journal: a checkpoint's.
  std::vector<std::uint64_t> mainDbWrites() const;

  // Cuts the power after the n-th counted write from now on (0: never).
  void crashAfter(std::uint64_t n);
  // Cuts the power now.
  void crashNow();
  bool crashed() const;
  // A harsher cut: each write or truncate made since a file's last sync
  // reaches the disk with this probability (drawn from seed), in any order
  // (the kept ones are replayed in order over the synced state, so a later
  // one wins where they overlap; a hole reads as zeros). 0, the default:
  // every unsynced change is lost. Writes are whole (no torn sector).
  void keepUnsyncedChanges(double probability, std::uint64_t seed);
  // Unsynced changes that survived power cuts so far (keepUnsyncedChanges).
  std::uint64_t unsyncedChangesKept() const;
  // A disk whose flush does nothing (a cache that lies): xSync succeeds but
  // makes nothing durable. Only to check that the suites notice the loss.
  void setSyncsLie(bool lie);
  // After a power cut, once every watched file is closed: leaves on the
  // disk exactly what was synced, and powers up again (I/O works, counters
  // and file records start afresh). False when a watched file is still open
  // or a file could not be restored (nothing is powered up then).
  bool reboot(std::string* error = nullptr);

  // Full disk: the watched files may grow by `bytes` more, in total.
  void setSpaceLeft(std::uint64_t bytes);
  void setUnlimitedSpace();
  // Writes refused with SQLITE_FULL so far.
  std::uint64_t fullErrors() const;

  // For the VFS callbacks (fault_vfs.cc) only.
  struct Impl;

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace charta::test
