#pragma once

// The server's one seam to HTTP: a listener that turns each request into an
// HttpRequest, calls one handler, and sends its HttpResponse back. Every
// cpprestsdk type and exception stays in http_cpprest.cc (cpprestsdk is
// archived upstream; this keeps it replaceable).
//
// The handler sees every method (OPTIONS and TRACE included) and every path.
//
// Thread-safety: the handler is called concurrently from the listener's
// threads; it must be thread-safe. It runs on the HTTP library's shared thread
// pool (40 threads), so a handler that blocks for long holds back other
// requests.
//
// What the adapter does on its own, before or instead of the handler:
//  - bodies over maxBodyBytes (or bodyLimit's answer): 413 body_too_large (Content-Length checked
//    before any body byte is read; chunked bodies counted while reading);
//  - a Content-Length that is not a number, or Content-Length together with
//    chunked transfer encoding, or a path or query with a bad percent-escape:
//    400 bad_request;
//  - a handler that throws: 500 internal_error (the server keeps serving);
//  - requests arriving while stop() runs: 503 shutting_down;
//  - a malformed request line or header: 400 from the library, connection closed.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "charta/crdt/status.h"

namespace charta::server {

using crdt::Result;
using crdt::Status;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query, e.g. "/v1/sync/pull"
  // Decoded, in order; repeated keys kept. Only percent-escapes are decoded
  // ('+' stays '+'); "k" alone gives ("k", ""), empty pieces ("a&&b") are skipped.
  // Decoded path and query bytes may be any byte value, not necessarily UTF-8.
  std::vector<std::pair<std::string, std::string>> query;
  // Names lower-case, values trimmed; a header repeated on the wire arrives
  // once, its values joined with ", ".
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;           // the exact body bytes (binary safe)
  std::string remoteAddress;  // the peer's IP address, e.g. "127.0.0.1"
  bool tls = false;

  // The first value, or nullptr.
  const std::string* header(std::string_view lowerName) const;
  const std::string* queryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;  // outside 100..599 is sent as 500
  std::string contentType = "application/json";
  // Extra headers. Content-Length, Transfer-Encoding and Content-Type are set
  // by the adapter and dropped here; so is any header whose name is not an HTTP
  // token or whose value holds CR, LF or NUL (no response splitting).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent exactly (binary safe), with a Content-Length; none for HEAD
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // An IPv4 address ("127.0.0.1", "0.0.0.0" for every interface) or
  // "localhost" (listens on 127.0.0.1).
  std::string host = "127.0.0.1";
  // 0: a free port is picked; port() tells which.
  std::uint16_t port = 8443;
  // Bodies larger than this are answered 413 by the adapter itself (with the
  // JSON error body), before the handler runs. Up to kMaxDiscardBytes past the
  // limit are read and thrown away so that the client, still sending, sees
  // the 413; a longer body is cut off (connection closed after the 413,
  // the client may see a reset instead).
  std::size_t maxBodyBytes = 32u << 20;
  // Optional: the body limit of one request, told its head (method, path,
  // query and headers; the body still empty), used instead of maxBodyBytes
  // (a route of raw uploads may take more, or less, than the JSON routes).
  // Called on the listener's threads: must be thread-safe and must not throw.
  std::function<std::size_t(const HttpRequest& head)> bodyLimit;
  // Both set: HTTPS (TLS 1.2 or newer) with this PEM certificate chain and PEM
  // private key, read once by start(). Both empty: plain HTTP. One without the
  // other: start() fails with kInvalidArgument.
  std::string tlsCertFile;
  std::string tlsKeyFile;
};

// See HttpServerOptions::maxBodyBytes.
inline constexpr std::size_t kMaxDiscardBytes = 16u << 20;
// See HttpServer::stop().
inline constexpr int kStopGraceMs = 5000;

class HttpServer {
 public:
  virtual ~HttpServer() = default;  // stops
  // Starts listening; returns once the socket accepts connections.
  // kIoError when the address cannot be bound (bad host, port in use, also by
  // another HttpServer of this process) or the certificate or key cannot be
  // loaded or do not match (the message names the file). kInvalidArgument for
  // an empty handler or half a TLS configuration.
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options, HttpHandler handler);
  virtual std::uint16_t port() const = 0;
  // Stops accepting and waits for requests in flight: new requests get 503,
  // requests already running get up to kStopGraceMs to finish and answer,
  // then every connection is closed and stop() waits for the handler calls
  // still running. Idempotent; the handler is not called after stop().
  // REQUIRES: not called from the handler (it would wait for itself).
  virtual void stop() = 0;
};

// The JSON error body every failure uses: {"error":{"code":..., "message":...}}.
// Any bytes are fine in code and message: they are escaped, and byte sequences
// that are not UTF-8 become U+FFFD, so the body is always valid JSON.
HttpResponse errorResponse(int status, std::string_view code, std::string_view message);

}  // namespace charta::server
