// HttpServer on cpprestsdk's http_listener (Boost.Asio on Linux). The only
// server file that includes cpprestsdk headers.
//
// How a request flows: the listener calls Exchange::begin() on one of its pool
// threads as soon as the request head is parsed; the body is still arriving.
// An Exchange checks the head, reads the body asynchronously (never blocking a
// pool thread on the network, which would starve the pool under load), calls
// the handler, and replies. Every pplx task it creates gets a continuation
// that calls get() inside try/catch: an unobserved task exception terminates
// the process.
//
// cpprestsdk facts this file relies on (2.10.x, Asio listener):
//  - the response is written only after the whole request body has been read,
//    so a 413 for an over-long body either lets the library read and drop the
//    rest (the client then sees the 413) or stops it by failing the body
//    stream (the library then answers and, with "Connection: close", closes);
//  - the TLS context callback runs for every accepted connection;
//  - the listener turns Nagle's algorithm off (TCP_NODELAY) on every accepted
//    socket itself; it writes a response's head and body separately, and
//    with Nagle on each small response would wait for the client's delayed
//    ACK (about 40 ms on Linux). The suite checks the flag.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
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
#include <cpprest/http_listener.h>
#include <cpprest/uri.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pplx/pplxtasks.h>

#include <boost/asio/ssl.hpp>
#pragma GCC diagnostic pop

#include "http.h"

namespace charta::server {

namespace {

namespace http = web::http;
using web::http::experimental::listener::http_listener;
using web::http::experimental::listener::http_listener_config;

constexpr std::size_t kReadChunkBytes = 64u << 10;
constexpr int kFreePortAttempts = 8;

// ---------------------------------------------------------------------------
// Small helpers

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool containsChunked(std::string_view value) { return lowerAscii(value).find("chunked") != std::string::npos; }

// A decimal Content-Length ("0".."18446744073709551615"), nothing else.
std::optional<std::uint64_t> parseContentLength(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar); }

bool isSafeHeaderValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Query "a=1&b=&c&a=2" -> (a,1) (b,"") (c,"") (a,2); percent-escapes decoded.
// Throws web::uri_exception on a bad escape.
std::vector<std::pair<std::string, std::string>> splitQuery(const std::string& raw) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= raw.size()) {
    std::size_t end = raw.find('&', start);
    if (end == std::string::npos) end = raw.size();
    const std::string piece = raw.substr(start, end - start);
    if (!piece.empty()) {
      const std::size_t eq = piece.find('=');
      if (eq == std::string::npos) {
        out.emplace_back(web::uri::decode(piece), std::string());
      } else {
        out.emplace_back(web::uri::decode(piece.substr(0, eq)), web::uri::decode(piece.substr(eq + 1)));
      }
    }
    start = end + 1;
  }
  return out;
}

std::string describeException(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
  }
  return "unknown error";
}

// Observes a task's outcome so that a failure never goes unobserved.
template <typename T>
void observe(pplx::task<T> task) {
  task.then([](pplx::task<T> done) {
    try {
      done.get();
    } catch (...) {
    }
  });
}

// ---------------------------------------------------------------------------
// TLS: certificate chain and key parsed once, handed to every connection.

std::string takeOpenSslErrors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out.empty() ? std::string("no detail") : out;
}

// OpenSSL's default would prompt on the terminal for the passphrase of an
// encrypted key; a server must not wait for a keyboard.
int noPassphrase(char*, int, int, void*) { return 0; }

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

class TlsIdentity {
 public:
  // Reads and checks both files; the messages name the file at fault.
  static Result<std::shared_ptr<const TlsIdentity>> load(const std::string& certFile, const std::string& keyFile) {
    ERR_clear_error();
    auto identity = std::shared_ptr<TlsIdentity>(new TlsIdentity());

    std::unique_ptr<BIO, BioFree> certBio(BIO_new_file(certFile.c_str(), "r"));
    if (!certBio) {
      return Status::ioError("cannot open TLS certificate file '" + certFile + "': " + std::strerror(errno));
    }
    identity->m_leaf.reset(PEM_read_bio_X509_AUX(certBio.get(), nullptr, noPassphrase, nullptr));
    if (!identity->m_leaf) {
      return Status::ioError("no PEM certificate in TLS certificate file '" + certFile + "': " + takeOpenSslErrors());
    }
    for (;;) {
      std::unique_ptr<X509, X509Free> extra(PEM_read_bio_X509(certBio.get(), nullptr, noPassphrase, nullptr));
      if (!extra) break;
      identity->m_chain.push_back(std::move(extra));
    }
    // The loop ends on "no start line" at the end of the file; anything else
    // is a damaged certificate in the chain.
    const unsigned long last = ERR_peek_last_error();
    if (last != 0 && !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
      return Status::ioError("bad certificate in the chain of TLS certificate file '" + certFile +
                             "': " + takeOpenSslErrors());
    }
    ERR_clear_error();

    std::unique_ptr<BIO, BioFree> keyBio(BIO_new_file(keyFile.c_str(), "r"));
    if (!keyBio) {
      return Status::ioError("cannot open TLS key file '" + keyFile + "': " + std::strerror(errno));
    }
    identity->m_key.reset(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, noPassphrase, nullptr));
    if (!identity->m_key) {
      return Status::ioError("no PEM private key (or an encrypted one) in TLS key file '" + keyFile +
                             "': " + takeOpenSslErrors());
    }

    // The same setup every connection gets, checked once here.
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return Status::ioError("cannot create a TLS context: " + takeOpenSslErrors());
    std::string error;
    if (!identity->apply(ctx.get(), &error)) {
      return Status::ioError("TLS certificate file '" + certFile + "' and key file '" + keyFile +
                             "' cannot be used: " + error);
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      return Status::ioError("TLS key file '" + keyFile + "' does not match the certificate in '" + certFile +
                             "': " + takeOpenSslErrors());
    }
    return std::shared_ptr<const TlsIdentity>(std::move(identity));
  }

  // Installs protocol floor, chain and key into ctx. Never throws.
  bool apply(SSL_CTX* ctx, std::string* error) const {
    SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
      *error = "cannot require TLS 1.2: " + takeOpenSslErrors();
      return false;
    }
    if (SSL_CTX_use_certificate(ctx, m_leaf.get()) != 1) {
      *error = "certificate rejected: " + takeOpenSslErrors();
      return false;
    }
    SSL_CTX_clear_chain_certs(ctx);
    for (const auto& extra : m_chain) {
      if (SSL_CTX_add1_chain_cert(ctx, extra.get()) != 1) {
        *error = "chain certificate rejected: " + takeOpenSslErrors();
        return false;
      }
    }
    if (SSL_CTX_use_PrivateKey(ctx, m_key.get()) != 1) {
      *error = "private key rejected: " + takeOpenSslErrors();
      return false;
    }
    return true;
  }

 private:
  TlsIdentity() = default;

  std::unique_ptr<X509, X509Free> m_leaf;
  std::vector<std::unique_ptr<X509, X509Free>> m_chain;
  std::unique_ptr<EVP_PKEY, PkeyFree> m_key;
};

// ---------------------------------------------------------------------------
// Sockets: the host check and free ports.

Result<in_addr> parseHost(const std::string& host) {
  const std::string literal = host == "localhost" ? std::string("127.0.0.1") : host;
  in_addr address{};
  if (inet_pton(AF_INET, literal.c_str(), &address) != 1) {
    return Status::ioError("cannot listen on host '" + host + "': an IPv4 address or \"localhost\" is required");
  }
  return address;
}

std::string addressText(in_addr address) {
  char buffer[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &address, buffer, sizeof buffer);
  return buffer;
}

// A port on address that nothing is bound to right now (0 on failure).
std::uint16_t pickFreePort(in_addr address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr = address;
  sa.sin_port = 0;
  std::uint16_t port = 0;
  socklen_t length = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) == 0) {
    port = ntohs(sa.sin_port);
  }
  ::close(fd);
  return port;
}

// host:port pairs held by HttpServers of this process. cpprestsdk shares one
// socket per host:port between listeners, and a failed second registration
// tears down the first, so a second server on a taken endpoint is refused here.
class EndpointRegistry {
 public:
  static bool claim(const std::string& endpoint) {
    std::lock_guard lock(mutex());
    return endpoints().insert(endpoint).second;
  }
  static void release(const std::string& endpoint) {
    std::lock_guard lock(mutex());
    endpoints().erase(endpoint);
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& endpoints() {
    static std::set<std::string> s;
    return s;
  }
};

// ---------------------------------------------------------------------------
// The state requests share with the server, kept alive by every exchange.

class Shared {
 public:
  Shared(HttpHandler handler, std::size_t maxBodyBytes, std::function<std::size_t(const HttpRequest&)> bodyLimit,
         bool tls)
      : m_handler(std::move(handler)), m_maxBodyBytes(maxBodyBytes), m_bodyLimit(std::move(bodyLimit)), m_tls(tls) {}

  // The body limit of a request whose head is `head`.
  std::size_t maxBodyBytes(const HttpRequest& head) const {
    if (!m_bodyLimit) return m_maxBodyBytes;
    try {
      return m_bodyLimit(head);
    } catch (...) {
      return m_maxBodyBytes;
    }
  }
  bool tls() const { return m_tls; }

  // Registers a new request; false once stop() has begun.
  bool enter() {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return false;
    ++m_active;
    ++m_pending;
    return true;
  }
  // The handler will not be called (again) for this request.
  void leaveActive() {
    std::lock_guard lock(m_mutex);
    --m_active;
    m_changed.notify_all();
  }
  // The request's response has been sent or has failed.
  void leavePending() {
    std::lock_guard lock(m_mutex);
    --m_pending;
    m_changed.notify_all();
  }

  // Calls the handler unless the server has closed. nullopt: closed.
  std::optional<HttpResponse> callHandler(const HttpRequest& request) {
    {
      std::lock_guard lock(m_mutex);
      if (m_closed) return std::nullopt;
    }
    return m_handler(request);
  }

  void beginStop() {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  bool stopping() {
    std::lock_guard lock(m_mutex);
    return m_stopping;
  }
  // Waits until no response is pending, or the deadline passes.
  void waitPending(std::chrono::milliseconds grace) {
    std::unique_lock lock(m_mutex);
    m_changed.wait_for(lock, grace, [this] { return m_pending == 0; });
  }
  // After the listener closed: waits until no handler call runs, then drops
  // the handler.
  void closeAndWaitActive() {
    std::unique_lock lock(m_mutex);
    m_closed = true;
    m_changed.wait(lock, [this] { return m_active == 0; });
    m_handler = nullptr;
  }

 private:
  HttpHandler m_handler;
  const std::size_t m_maxBodyBytes;
  const std::function<std::size_t(const HttpRequest&)> m_bodyLimit;
  const bool m_tls;

  std::mutex m_mutex;
  std::condition_variable m_changed;
  int m_active = 0;   // requests whose handler call may still happen
  int m_pending = 0;  // requests whose response is not yet sent
  bool m_stopping = false;
  bool m_closed = false;
};

// One count of Shared (taken by Shared::enter()), given back by release()
// or at the latest by the destructor. Never throws.
class Ticket {
 public:
  enum class Kind { kActive, kPending };
  explicit Ticket(Kind kind) : m_kind(kind) {}
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;
  ~Ticket() { release(); }
  // Holds the count that Shared::enter() just took.
  void hold(const std::shared_ptr<Shared>& shared) { m_shared = shared; }
  void release() {
    if (!m_shared) return;
    if (m_kind == Kind::kActive) {
      m_shared->leaveActive();
    } else {
      m_shared->leavePending();
    }
    m_shared.reset();
  }

 private:
  Kind m_kind;
  std::shared_ptr<Shared> m_shared;
};

// ---------------------------------------------------------------------------
// One request, from its head to its reply.

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  // Called by the listener for every request. Never throws.
  static void begin(const std::shared_ptr<Shared>& shared, http::http_request request) {
    try {
      // Allocated before anything is counted, so a failure here leaks no count.
      auto exchange = std::shared_ptr<Exchange>(new Exchange(shared, request));
      if (!shared->enter()) {
        refuseShuttingDown(request);
        return;
      }
      exchange->m_active.hold(shared);
      exchange->m_pending.hold(shared);
      exchange->start();
    } catch (...) {
      // Nothing more can be done for this request; the library answers 500
      // if no reply was given.
    }
  }

 private:
  Exchange(const std::shared_ptr<Shared>& shared, http::http_request request)
      : m_shared(shared), m_request(std::move(request)) {}

  static void refuseShuttingDown(http::http_request& request) {
    HttpResponse response = errorResponse(503, "shutting_down", "the server is stopping");
    response.headers.emplace_back("Connection", "close");
    stopBody(request);
    try {
      observe(request.reply(toCpprest(response)));
    } catch (...) {
    }
  }

  // Makes the library stop reading this request's body: the body stream
  // fails, the library completes the request with that error and sends the
  // reply.
  static void stopBody(http::http_request& request) {
    try {
      auto body = request.body();
      if (body.is_valid()) {
        observe(
            body.streambuf().close(std::ios_base::out, std::make_exception_ptr(std::runtime_error("body refused"))));
      }
    } catch (...) {
    }
  }

  static http::http_response toCpprest(const HttpResponse& response, bool withoutBody = false) {
    const int status = response.status >= 100 && response.status <= 599 ? response.status : 500;
    http::http_response out(static_cast<http::status_code>(status));
    for (const auto& [name, value] : response.headers) {
      if (!isToken(name) || !isSafeHeaderValue(value)) continue;
      const std::string lower = lowerAscii(name);
      if (lower == "content-length" || lower == "transfer-encoding" || lower == "content-type") continue;
      out.headers().add(name, value);
    }
    if (withoutBody) {
      out.set_body(std::vector<unsigned char>());
    } else {
      out.set_body(std::vector<unsigned char>(response.body.begin(), response.body.end()));
    }
    if (!response.contentType.empty() && isSafeHeaderValue(response.contentType)) {
      out.headers().set_content_type(response.contentType);
    } else {
      out.headers().remove(http::header_names::content_type);
    }
    return out;
  }

  void start() {
    // The head: method, path, query, headers, peer.
    m_converted.method = m_request.method();
    m_converted.remoteAddress = m_request.remote_address();
    m_converted.tls = m_shared->tls();
    std::optional<std::string> contentLengthText;
    std::optional<std::string> transferEncoding;
    for (const auto& [name, value] : m_request.headers()) {
      std::string lower = lowerAscii(name);
      if (lower == "content-length") contentLengthText = value;
      if (lower == "transfer-encoding") transferEncoding = value;
      m_converted.headers.emplace_back(std::move(lower), value);
    }
    try {
      const web::uri& uri = m_request.request_uri();
      m_converted.path = web::uri::decode(uri.path());
      m_converted.query = splitQuery(uri.query());
    } catch (const std::exception&) {
      finishWithError(400, "bad_request", "the path or query has a bad percent-escape");
      return;
    }

    // The body framing, checked before any body byte is read.
    m_chunked = transferEncoding.has_value() && containsChunked(*transferEncoding);
    if (contentLengthText) {
      m_declared = parseContentLength(*contentLengthText);
      if (!m_declared) {
        finishWithError(400, "bad_request", "Content-Length is not a decimal number");
        return;
      }
      if (m_chunked) {
        finishWithError(400, "bad_request", "both Content-Length and chunked transfer encoding");
        return;
      }
    }
    m_limit = m_shared->maxBodyBytes(m_converted);
    const std::size_t limit = m_limit;
    if (m_declared && *m_declared > limit) {
      m_tooLarge = true;
      if (*m_declared - limit > kMaxDiscardBytes) {
        finishTooLarge(true);
        return;
      }
    }
    if (!m_chunked && (!m_declared || *m_declared == 0)) {
      dispatch();
      return;
    }
    m_body = m_request.body();
    m_chunk.resize(kReadChunkBytes);
    readMore();
  }

  void readMore() {
    std::size_t want = m_chunk.size();
    if (m_declared) {
      want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *m_declared - m_received));
    }
    auto self = shared_from_this();
    try {
      m_body.streambuf().getn(m_chunk.data(), want).then([self](pplx::task<std::size_t> done) {
        self->guarded([&] { self->onRead(std::move(done)); });
      });
    } catch (...) {
      finishWithError(400, "bad_request", "cannot read the body: " + describeException(std::current_exception()));
    }
  }

  void onRead(pplx::task<std::size_t> done) {
    std::size_t count = 0;
    try {
      count = done.get();
    } catch (...) {
      // The client went away or sent a broken body; the reply rarely arrives.
      finishWithError(400, "bad_request", "cannot read the body: " + describeException(std::current_exception()));
      return;
    }
    const std::size_t limit = m_limit;
    if (count > 0) {
      m_received += count;
      if (!m_tooLarge && m_received > limit) {
        m_tooLarge = true;
        m_converted.body.clear();
        m_converted.body.shrink_to_fit();
      }
      if (m_tooLarge) {
        // Over by a Content-Length known at the start, m_received may still
        // be below the limit (a limit above one read's size).
        if (m_received > limit && m_received - limit > kMaxDiscardBytes) {
          finishTooLarge(true);
          return;
        }
      } else {
        m_converted.body.append(reinterpret_cast<const char*>(m_chunk.data()), count);
      }
      if (m_declared && m_received == *m_declared) {
        bodyDone();
        return;
      }
      readMore();
      return;
    }
    // End of stream before the declared length: the body was cut short.
    if (m_declared) {
      finishWithError(400, "bad_request", "the body ended before Content-Length bytes");
      return;
    }
    // Chunked: the stream also ends on a failure; the request's completion
    // tells which.
    auto self = shared_from_this();
    try {
      m_request.content_ready().then([self](pplx::task<http::http_request> ready) {
        self->guarded([&] {
          try {
            ready.get();
          } catch (...) {
            self->finishWithError(400, "bad_request",
                                  "cannot read the body: " + describeException(std::current_exception()));
            return;
          }
          self->bodyDone();
        });
      });
    } catch (...) {
      finishWithError(400, "bad_request", "cannot read the body: " + describeException(std::current_exception()));
    }
  }

  // Runs step inside a task continuation, where nothing may escape (the
  // continuation's own task would hold the exception, unobserved).
  template <typename Step>
  void guarded(Step&& step) noexcept {
    try {
      step();
    } catch (...) {
      try {
        finishWithError(500, "internal_error", "the request could not be processed");
      } catch (...) {
        m_active.release();
        m_pending.release();
      }
    }
  }

  void bodyDone() {
    if (m_tooLarge) {
      finishTooLarge(false);
      return;
    }
    dispatch();
  }

  // The body is complete: call the handler and reply.
  void dispatch() {
    HttpResponse response;
    try {
      std::optional<HttpResponse> handled = m_shared->callHandler(m_converted);
      if (!handled) {
        m_active.release();
        finishWithError(503, "shutting_down", "the server is stopping");
        return;
      }
      response = std::move(*handled);
    } catch (const std::exception& e) {
      response = errorResponse(500, "internal_error", std::string("the request handler failed: ") + e.what());
    } catch (...) {
      response = errorResponse(500, "internal_error", "the request handler failed");
    }
    m_active.release();
    // Once stop() has begun, no connection is kept alive: a client's next
    // request on it would reach a closed listener (which answers 404).
    if (m_shared->stopping()) response.headers.emplace_back("Connection", "close");
    reply(response);
  }

  void finishTooLarge(bool cutOff) {
    HttpResponse response = errorResponse(
        413, "body_too_large", "the request body exceeds the limit of " + std::to_string(m_limit) + " bytes");
    if (cutOff) {
      response.headers.emplace_back("Connection", "close");
      stopBody(m_request);
    }
    m_active.release();
    reply(response);
  }

  // Replies with an error without calling the handler (again). The library
  // stops reading the body (whatever is left of it would otherwise be
  // buffered in full) and closes the connection after the reply.
  void finishWithError(int status, std::string_view code, const std::string& message) {
    HttpResponse response = errorResponse(status, code, message);
    response.headers.emplace_back("Connection", "close");
    stopBody(m_request);
    m_active.release();
    reply(response);
  }

  // Sends the reply; the pending count is given back once it is written
  // (or failed).
  void reply(const HttpResponse& response) {
    // A reply to HEAD carries no body (the library would send one).
    const bool withoutBody = m_converted.method == "HEAD";
    m_converted = HttpRequest();  // the body is no longer needed
    try {
      auto self = shared_from_this();
      m_request.reply(toCpprest(response, withoutBody)).then([self](pplx::task<void> sent) {
        try {
          sent.get();
        } catch (...) {
        }
        self->m_pending.release();
      });
    } catch (...) {
      // Already answered (the library answers 500 when it closes a connection
      // under us) or the response could not be built: try a bare 500, and
      // either way nothing is pending any more.
      try {
        observe(m_request.reply(http::status_codes::InternalError));
      } catch (...) {
      }
      m_pending.release();
    }
  }

  std::shared_ptr<Shared> m_shared;
  http::http_request m_request;
  Ticket m_active{Ticket::Kind::kActive};
  Ticket m_pending{Ticket::Kind::kPending};
  HttpRequest m_converted;
  std::optional<std::uint64_t> m_declared;
  bool m_chunked = false;
  bool m_tooLarge = false;
  std::size_t m_limit = 0;  // this request's body limit, set once its head is read
  std::uint64_t m_received = 0;
  concurrency::streams::istream m_body;
  std::vector<unsigned char> m_chunk;
};

// ---------------------------------------------------------------------------
// The server.

class CpprestHttpServer final : public HttpServer {
 public:
  CpprestHttpServer(std::shared_ptr<Shared> shared, std::unique_ptr<http_listener> listener, std::string endpoint,
                    std::uint16_t port)
      : m_shared(std::move(shared)), m_listener(std::move(listener)), m_endpoint(std::move(endpoint)), m_port(port) {}

  ~CpprestHttpServer() override { stop(); }

  std::uint16_t port() const override { return m_port; }

  void stop() override {
    std::lock_guard lock(m_stopMutex);
    if (m_stopped) return;
    m_stopped = true;
    m_shared->beginStop();
    m_shared->waitPending(std::chrono::milliseconds(kStopGraceMs));
    try {
      m_listener->close().wait();
    } catch (...) {
    }
    m_shared->closeAndWaitActive();
    m_listener.reset();
    EndpointRegistry::release(m_endpoint);
  }

 private:
  std::shared_ptr<Shared> m_shared;
  std::unique_ptr<http_listener> m_listener;
  std::string m_endpoint;
  std::uint16_t m_port;
  std::mutex m_stopMutex;
  bool m_stopped = false;
};

bool isAddressInUse(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const boost::system::system_error& e) {
    return e.code() == boost::asio::error::address_in_use;
  } catch (...) {
  }
  return false;
}

// Opens a listener on address:port. On failure returns the error and sets
// *inUse when the port was taken.
Result<std::unique_ptr<http_listener>> openListener(const std::shared_ptr<Shared>& shared,
                                                    const std::shared_ptr<const TlsIdentity>& tls, in_addr address,
                                                    std::uint16_t port, bool* inUse) {
  *inUse = false;
  const std::string endpoint = addressText(address) + ":" + std::to_string(port);
  if (!EndpointRegistry::claim(endpoint)) {
    *inUse = true;
    return Status::ioError("cannot listen on " + endpoint + ": another HttpServer of this process listens there");
  }
  std::exception_ptr failure;
  try {
    http_listener_config config;
    if (tls) {
      config.set_ssl_context_callback([tls](boost::asio::ssl::context& context) {
        // Runs for every accepted connection, on a pool thread: must not throw.
        std::string ignored;
        if (!tls->apply(context.native_handle(), &ignored)) ERR_clear_error();
      });
    }
    const std::string url = std::string(tls ? "https://" : "http://") + endpoint + "/";
    auto listener = std::make_unique<http_listener>(web::uri(url), config);
    const auto onRequest = [shared](http::http_request request) { Exchange::begin(shared, std::move(request)); };
    // The catch-all handler does not see OPTIONS and TRACE (the library
    // answers those itself, TRACE by echoing the request): route them too.
    listener->support(onRequest);
    listener->support(http::methods::OPTIONS, onRequest);
    listener->support(http::methods::TRCE, onRequest);
    listener->open().wait();
    return listener;
  } catch (...) {
    failure = std::current_exception();
  }
  EndpointRegistry::release(endpoint);
  *inUse = isAddressInUse(failure);
  return Status::ioError("cannot listen on " + endpoint + ": " + describeException(failure));
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options, HttpHandler handler) {
  if (!handler) return Status::invalidArgument("HttpServer::start: no handler");
  if (options.tlsCertFile.empty() != options.tlsKeyFile.empty()) {
    return Status::invalidArgument("HttpServer::start: TLS needs both a certificate file and a key file");
  }
  Result<in_addr> address = parseHost(options.host);
  if (!address.isOk()) return address.status();

  std::shared_ptr<const TlsIdentity> tls;
  if (!options.tlsCertFile.empty()) {
    auto loaded = TlsIdentity::load(options.tlsCertFile, options.tlsKeyFile);
    if (!loaded.isOk()) return loaded.status();
    tls = std::move(loaded).value();
  }

  auto shared = std::make_shared<Shared>(std::move(handler), options.maxBodyBytes, options.bodyLimit, tls != nullptr);
  const int attempts = options.port == 0 ? kFreePortAttempts : 1;
  Status lastError = Status::ioError("cannot listen: no free port found on " + addressText(address.value()));
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const std::uint16_t port = options.port != 0 ? options.port : pickFreePort(address.value());
    if (port == 0) continue;
    bool inUse = false;
    auto listener = openListener(shared, tls, address.value(), port, &inUse);
    if (!listener.isOk()) {
      lastError = listener.status();
      if (inUse) continue;
      break;
    }
    const std::string endpoint = addressText(address.value()) + ":" + std::to_string(port);
    return std::unique_ptr<HttpServer>(new CpprestHttpServer(shared, std::move(listener).value(), endpoint, port));
  }
  return lastError;
}

}  // namespace charta::server
