#pragma once

// A running sync server: the store, the API and the HTTP listener, built from
// a Config. charta-server's `serve` is this plus signal handling; tests start
// it in process.
//
// Thread-safety: start/stop from one thread; the server answers requests on
// its own threads.

#include <cstdint>
#include <memory>
#include <string>

#include "charta/crdt/status.h"
#include "charta/server/config.h"

namespace charta::server {

class Server {
 public:
  // Opens the store (creating the schema), prepares the demo clinic when
  // config.demo is set and the store has no clinic, and starts listening.
  static crdt::Result<std::unique_ptr<Server>> start(const Config& config);
  virtual ~Server() = default;

  virtual std::uint16_t port() const = 0;
  virtual std::string epoch() = 0;
  // Stops listening and waits for requests in flight. Idempotent.
  virtual void stop() = 0;
};

// What `charta-server ARGS...` does; returns the process exit code. Output and
// errors go to the given streams (tests capture them).
int runCommandLine(int argc, char** argv);

}  // namespace charta::server
