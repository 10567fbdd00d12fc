#pragma once

// The HTTP API (docs/PROTOCOL.md): routes each request, authenticates the
// device credential and the user session, checks role and clinic scope, runs
// the action in one store transaction with its audit events, and answers JSON
// (errors as {"error":{"code","message"}}). It knows HttpRequest/HttpResponse
// only, never the HTTP library.
//
// Thread-safe: handle() is called concurrently.

#include <atomic>
#include <cstdint>
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

class BlobStore;

// The chunk size of attachment uploads and downloads (docs/PROTOCOL.md,
// "Attachments"): fixed by the server, told to clients in every answer.
inline constexpr std::size_t kAttachmentChunkBytes = std::size_t{1} << 20;

class Api {
 public:
  Api(const Config& config, Store& store, Logger& log);
  ~Api();

  HttpResponse handle(const HttpRequest& req);
  // The body limit of a request, told its head (HttpServerOptions::bodyLimit):
  // an attachment chunk may be a whole chunk whatever max_body_bytes says;
  // every other request max_body_bytes.
  std::size_t bodyLimit(const HttpRequest& head) const;

  struct Call;  // one request being answered (api_internal.h)

 private:
  friend struct ApiRoutes;

  Config m_config;
  Store& m_store;
  Logger& m_log;
  Metrics m_metrics;
  ChartCache m_charts;
  std::unique_ptr<BlobStore> m_blobs;  // attachment chunks (blob_store.h)
  LoginThrottle m_accountThrottle;
  LoginThrottle m_addressThrottle;
  std::int64_t m_startedAt;  // ms since the epoch
  // When a write was first refused for a full storage (ms since the epoch), 0
  // once a state-changing request succeeds again (/healthz, /metrics).
  std::atomic<std::int64_t> m_storageFullSince{0};
};

}  // namespace charta::server
