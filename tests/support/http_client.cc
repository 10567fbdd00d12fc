// HttpClient on cpprestsdk's http_client; rawHttp and freePort on POSIX
// sockets. Kept apart from Qt (cpprestsdk's U() macro clashes with it).

#include "support/http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Woverloaded-virtual"
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#include <cpprest/http_client.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>
#pragma GCC diagnostic pop

namespace charta::test {

namespace {

namespace http = web::http;
using web::http::client::http_client;
using web::http::client::http_client_config;

constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr int kRawTimeoutMs = 5000;

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool methodHasBody(std::string_view method) { return method == "POST" || method == "PUT" || method == "PATCH"; }

// Splits "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody" into result.
void parseRawResponse(const std::string& raw, HttpResult* result) {
  const std::size_t headEnd = raw.find("\r\n\r\n");
  const std::size_t lineEnd = raw.find("\r\n");
  const std::string firstLine = raw.substr(0, lineEnd);
  if (firstLine.size() < 12 || firstLine.compare(0, 7, "HTTP/1.") != 0 || firstLine[8] != ' ' || firstLine[9] < '1' ||
      firstLine[9] > '5' || firstLine[10] < '0' || firstLine[10] > '9' || firstLine[11] < '0' || firstLine[11] > '9') {
    result->error = "not an HTTP response";
    result->body = raw;
    return;
  }
  result->status = (firstLine[9] - '0') * 100 + (firstLine[10] - '0') * 10 + (firstLine[11] - '0');
  const std::size_t headersEnd = headEnd == std::string::npos ? raw.size() : headEnd;
  std::size_t pos = lineEnd == std::string::npos ? raw.size() : lineEnd + 2;
  while (pos < headersEnd) {
    std::size_t end = raw.find("\r\n", pos);
    if (end == std::string::npos || end > headersEnd) end = headersEnd;
    const std::string line = raw.substr(pos, end - pos);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      const std::size_t first = value.find_first_not_of(" \t");
      const std::size_t last = value.find_last_not_of(" \t");
      value = first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
      result->headers.emplace_back(lowerAscii(line.substr(0, colon)), std::move(value));
    }
    pos = end + 2;
  }
  if (headEnd != std::string::npos) result->body = raw.substr(headEnd + 4);
}

}  // namespace

const std::string* HttpResult::header(std::string_view lowerName) const {
  for (const auto& [name, value] : headers) {
    if (name == lowerName) return &value;
  }
  return nullptr;
}

struct HttpClient::Impl {
  std::unique_ptr<http_client> client;
  std::string constructionError;
};

HttpClient::HttpClient(std::string baseUrl, std::string caCertFile) : m_impl(std::make_unique<Impl>()) {
  try {
    http_client_config config;
    config.set_timeout(kRequestTimeout);
    config.set_validate_certificates(true);
    config.set_ssl_context_callback([caCertFile](boost::asio::ssl::context& context) {
      // Trust exactly caCertFile: a fresh, empty store replaces the system one.
      SSL_CTX_set_cert_store(context.native_handle(), X509_STORE_new());
      SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
      if (!caCertFile.empty()) {
        boost::system::error_code ignored;
        context.load_verify_file(caCertFile, ignored);
      }
    });
    m_impl->client = std::make_unique<http_client>(web::uri(baseUrl), config);
  } catch (const std::exception& e) {
    m_impl->constructionError = std::string("cannot create a client for '") + baseUrl + "': " + e.what();
  }
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::request(std::string_view method, std::string_view pathAndQuery, std::string_view body,
                               HeaderList headers, std::string_view contentType) {
  HttpResult result;
  if (!m_impl->client) {
    result.error = m_impl->constructionError;
    return result;
  }
  try {
    http::http_request request{http::method(method)};
    request.set_request_uri(web::uri(std::string(pathAndQuery)));
    for (const auto& [name, value] : headers) request.headers().add(name, value);
    if (!body.empty() || methodHasBody(method)) {
      request.set_body(std::vector<unsigned char>(body.begin(), body.end()));
      if (contentType.empty()) {
        request.headers().remove(http::header_names::content_type);
      } else {
        request.headers().set_content_type(std::string(contentType));
      }
    }
    http::http_response response = m_impl->client->request(request).get();
    std::vector<unsigned char> bytes = response.extract_vector().get();
    result.status = response.status_code();
    result.body.assign(bytes.begin(), bytes.end());
    for (const auto& [name, value] : response.headers()) {
      result.headers.emplace_back(lowerAscii(name), value);
    }
  } catch (const std::exception& e) {
    result = HttpResult();
    result.error = e.what();
    if (result.error.empty()) result.error = "request failed";
  } catch (...) {
    result = HttpResult();
    result.error = "request failed";
  }
  return result;
}

HttpResult HttpClient::get(std::string_view pathAndQuery, HeaderList headers) {
  return request("GET", pathAndQuery, {}, std::move(headers), {});
}

HttpResult HttpClient::post(std::string_view path, std::string_view body, HeaderList headers,
                            std::string_view contentType) {
  return request("POST", path, body, std::move(headers), contentType);
}

HttpResult rawHttp(const std::string& host, std::uint16_t port, std::string_view bytes) {
  return rawHttpInParts(host, port, {std::string(bytes)}, 0);
}

HttpResult rawHttpInParts(const std::string& host, std::uint16_t port, const std::vector<std::string>& parts,
                          int pauseMs) {
  HttpResult result;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    result.error = "cannot resolve " + host;
    return result;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(found);
    result.error = std::string("socket: ") + std::strerror(errno);
    return result;
  }
  timeval timeout{};
  timeout.tv_sec = kRawTimeoutMs / 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);  // bounds connect and send
  const int connected = ::connect(fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (connected != 0) {
    result.error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return result;
  }
  bool sendFailed = false;
  for (std::size_t i = 0; i < parts.size() && !sendFailed; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pauseMs));
    const std::string& bytes = parts[i];
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // the server stopped reading or closed: read what it said
        sendFailed = true;
        break;
      }
      sent += static_cast<std::size_t>(n);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRawTimeoutMs);

  std::string received;
  bool closed = false;
  std::string readError;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    char buffer[16384];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      readError = std::strerror(errno);
      closed = true;
      break;
    }
    if (n == 0) {
      closed = true;
      break;
    }
    received.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);

  if (received.empty()) {
    result.error = closed ? "connection closed without a response" : "no response within 5 s";
    if (!readError.empty()) result.error += " (" + readError + ")";
    return result;
  }
  parseRawResponse(received, &result);
  return result;
}

std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  std::uint16_t port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace charta::test
