// HTTP clients for the server suites: a real HTTP(S) client, a raw socket
// for hostile bytes, and a free-port helper. No cpprestsdk type in this
// header, so Qt test files can include it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace charta::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;      // 0 when no response arrived
  std::string body;    // exact bytes
  HeaderList headers;  // names lower-case, in the order received
  std::string error;   // non-empty when no response arrived

  // The first value, or nullptr.
  const std::string* header(std::string_view lowerName) const;
};

// A client for one base URL ("http://127.0.0.1:8080", "https://127.0.0.1:8443").
// Requests on one client may run concurrently from many threads; connections
// are pooled and kept alive. Every call waits up to 30 s and never throws:
// failures (connect, TLS, timeout, bad URL) come back in HttpResult::error.
class HttpClient {
 public:
  // caCertFile (https only): the one PEM certificate trusted; the server name
  // is checked against it too. Empty: no certificate is trusted, so every
  // https request fails verification.
  explicit HttpClient(std::string baseUrl, std::string caCertFile = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // pathAndQuery is sent as given (already percent-encoded), e.g. "/a%20b?x=1".
  // A body is sent when non-empty or when the method is POST, PUT or PATCH,
  // with contentType as Content-Type (none when contentType is empty).
  HttpResult request(std::string_view method, std::string_view pathAndQuery, std::string_view body = {},
                     HeaderList headers = {}, std::string_view contentType = "application/json");
  HttpResult get(std::string_view pathAndQuery, HeaderList headers = {});
  HttpResult post(std::string_view path, std::string_view body, HeaderList headers = {},
                  std::string_view contentType = "application/json");

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Connects to host:port (IPv4 literal or name), sends bytes as they are, then
// reads until the server closes or 5 s have passed since sending ended
// (sending gives up when the server closes, or stops reading for 5 s).
// status comes from the first line when it is "HTTP/1.x NNN ..."; headers and
// body are split at the first empty line (a chunked body is left as it came).
// error is set when the connection failed, nothing came back, or the reply is
// not HTTP (its bytes are then in body).
HttpResult rawHttp(const std::string& host, std::uint16_t port, std::string_view bytes);

// rawHttp sending parts one after the other with a pause between them (a
// client that pauses mid-request); the 5 s read limit starts after the last.
HttpResult rawHttpInParts(const std::string& host, std::uint16_t port, const std::vector<std::string>& parts,
                          int pauseMs);

// A TCP port on 127.0.0.1 that was free a moment ago (0 on failure).
std::uint16_t freePort();

}  // namespace charta::test
