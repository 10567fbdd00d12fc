#pragma once

// The HTTP API (docs/PROTOCOL.md): routes each request, authenticates the
// device credential and the user session, checks role and clinic scope, runs
// the action in one store transaction with its audit events, and answers JSON
// (errors as {"error":{"code","message"}}). It knows HttpRequest/HttpResponse
// only, never the HTTP library.
//
// Thread-safe: handle() is called concurrently.

#include <memory>
#include <string>

#include "charta/server/config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "rate_limit.h"
#include "store.h"
#include "sync.h"

namespace charta::server {

class Api {
 public:
  Api(const Config& config, Store& store, Logger& log);

  HttpResponse handle(const HttpRequest& req);

  struct Call;  // one request being answered (api_internal.h)

 private:
  friend struct ApiRoutes;

  Config m_config;
  Store& m_store;
  Logger& m_log;
  Metrics m_metrics;
  ChartCache m_charts;
  LoginThrottle m_accountThrottle;
  LoginThrottle m_addressThrottle;
  std::int64_t m_startedAt;  // ms since the epoch
};

}  // namespace charta::server
