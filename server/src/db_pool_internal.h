#pragma once

// The connection pool both Database implementations share (private to
// charta_server_db). It owns idle connections and counts the leased ones, so
// at most `size` connections exist at once; take() blocks while all are out.
//
// Thread-safety: all members are safe to call from any thread.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "db.h"

namespace charta::server::detail {

class ConnectionPool {
 public:
  using Opener = std::function<Result<std::unique_ptr<Connection>>()>;
  using Check = std::function<bool(Connection&)>;

  // `open` makes a new connection; `alive` is asked before an idle
  // connection is handed out (false: it is closed and replaced); `reusable`
  // is asked when one comes back (false: it is closed, its slot freed).
  ConnectionPool(int size, Opener open, Check alive, Check reusable);
  ~ConnectionPool();

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Hands an already opened connection to the pool (counts as one slot).
  void seed(std::unique_ptr<Connection> conn);
  // An idle connection, or a new one while fewer than `size` exist; blocks
  // otherwise. Fails only when opening a connection fails.
  Result<std::unique_ptr<Connection>> take();
  void put(std::unique_ptr<Connection> conn);

 private:
  const int m_size;
  Opener m_open;
  Check m_alive;
  Check m_reusable;
  std::mutex m_mutex;
  std::condition_variable m_freed;
  std::vector<std::unique_ptr<Connection>> m_idle;  // guarded by m_mutex
  int m_count = 0;                                  // guarded: idle + leased
};

}  // namespace charta::server::detail
