// The HTTP adapter against a real client on 127.0.0.1: request decoding,
// binary bodies, the body limit, handler failures, concurrency, start/stop.

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http.h"
#include "support/http_client.h"
#include "support/tls_cert.h"

using charta::server::errorResponse;
using charta::server::HttpHandler;
using charta::server::HttpRequest;
using charta::server::HttpResponse;
using charta::server::HttpServer;
using charta::server::HttpServerOptions;
using charta::server::Status;
using charta::test::freePort;
using charta::test::HttpClient;
using charta::test::HttpResult;
using charta::test::rawHttp;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The echo handler's reply: every field of the request, length-prefixed.
void putField(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

std::string encodeEcho(const HttpRequest& r) {
  std::string out;
  putField(out, r.method);
  putField(out, r.path);
  putField(out, std::to_string(r.query.size()));
  for (const auto& [k, v] : r.query) {
    putField(out, k);
    putField(out, v);
  }
  putField(out, std::to_string(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    putField(out, k);
    putField(out, v);
  }
  putField(out, r.remoteAddress);
  putField(out, r.tls ? "1" : "0");
  putField(out, r.body);
  return out;
}

struct Echo {
  std::string method, path;
  Pairs query, headers;
  std::string remoteAddress;
  bool tls = false;
  std::string body;
  bool ok = false;

  const std::string* header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

class EchoReader {
 public:
  explicit EchoReader(std::string_view s) : m_s(s) {}
  bool field(std::string* out) {
    const std::size_t colon = m_s.find(':', m_pos);
    if (colon == std::string_view::npos) return false;
    const std::size_t length = std::stoul(std::string(m_s.substr(m_pos, colon - m_pos)));
    if (colon + 1 + length > m_s.size()) return false;
    *out = std::string(m_s.substr(colon + 1, length));
    m_pos = colon + 1 + length;
    return true;
  }
  bool pairs(Pairs* out) {
    std::string count;
    if (!field(&count)) return false;
    for (std::size_t i = 0, n = std::stoul(count); i < n; ++i) {
      std::string k, v;
      if (!field(&k) || !field(&v)) return false;
      out->emplace_back(k, v);
    }
    return true;
  }
  bool atEnd() const { return m_pos == m_s.size(); }

 private:
  std::string_view m_s;
  std::size_t m_pos = 0;
};

Echo decodeEcho(std::string_view s) {
  Echo e;
  EchoReader r(s);
  std::string tls;
  e.ok = r.field(&e.method) && r.field(&e.path) && r.pairs(&e.query) && r.pairs(&e.headers) &&
         r.field(&e.remoteAddress) && r.field(&tls) && r.field(&e.body) && r.atEnd();
  e.tls = tls == "1";
  return e;
}

// A server with a handler that counts its calls.
struct TestServer {
  std::unique_ptr<HttpServer> server;
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  std::string base;
};

HttpHandler countingEcho(const std::shared_ptr<std::atomic<int>>& calls) {
  return [calls](const HttpRequest& request) {
    ++*calls;
    HttpResponse response;
    response.contentType = "application/octet-stream";
    response.body = encodeEcho(request);
    return response;
  };
}

TestServer startEcho(HttpServerOptions options = {}) {
  TestServer t;
  options.host = "127.0.0.1";
  if (options.port == 8443) options.port = freePort();
  auto started = HttpServer::start(options, countingEcho(t.calls));
  if (!started.isOk()) {
    qWarning("start failed: %s", started.status().toString().c_str());
    return t;
  }
  t.server = std::move(started).value();
  t.base = "http://127.0.0.1:" + std::to_string(t.server->port());
  return t;
}

std::string allBytes(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i % 256);
  return s;
}

// TCP_NODELAY of every socket of this process whose local port is port:
// (listening?, nodelay) per socket.
std::vector<std::pair<bool, bool>> noDelayOfSocketsOnPort(std::uint16_t port) {
  std::vector<std::pair<bool, bool>> out;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  while (const dirent* entry = ::readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == ::dirfd(dir)) continue;
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 || address.sin_family != AF_INET ||
        ntohs(address.sin_port) != port) {
      continue;
    }
    int listening = 0;
    int noDelay = 0;
    socklen_t size = sizeof listening;
    ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size);
    size = sizeof noDelay;
    ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &noDelay, &size);
    out.emplace_back(listening != 0, noDelay != 0);
  }
  ::closedir(dir);
  return out;
}

std::string errorCodeOf(const HttpResult& r) {
  const std::size_t at = r.body.find("\"code\":\"");
  if (at == std::string::npos) return {};
  const std::size_t start = at + 8;
  return r.body.substr(start, r.body.find('"', start) - start);
}

}  // namespace

class HttpServerTest : public QObject {
  Q_OBJECT

 private slots:
  // --- the library-free half ---

  void errorResponseEscapesAnyMessage() {
    HttpResponse r = errorResponse(400, "bad_request", "plain");
    QVERIFY(r.status == 400);
    QVERIFY(r.contentType == "application/json");
    QVERIFY(r.body == "{\"error\":{\"code\":\"bad_request\",\"message\":\"plain\"}}");

    static constexpr char kNasty[] = "q\" b\\ n\n r\r t\t z\0 e\x1f d\x7f";
    r = errorResponse(500, "c\"d", std::string_view(kNasty, sizeof kNasty - 1));
    QVERIFY(r.body ==
            "{\"error\":{\"code\":\"c\\\"d\",\"message\":\"q\\\" b\\\\ n\\n r\\r t\\t z\\u0000 e\\u001f d\\u007f\"}}");

    // Valid UTF-8 passes through; broken sequences become U+FFFD.
    r = errorResponse(400, "x", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    QVERIFY(r.body == "{\"error\":{\"code\":\"x\",\"message\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}}");
    r = errorResponse(400, "x", "a\xC3 b\xC0\xAF c\xED\xA0\x80 d\xF4\x90\x80\x80 e\xFF");
    QVERIFY(r.body ==
            "{\"error\":{\"code\":\"x\",\"message\":\"a\\ufffd b\\ufffd\\ufffd c\\ufffd\\ufffd\\ufffd "
            "d\\ufffd\\ufffd\\ufffd\\ufffd e\\ufffd\"}}");
    r = errorResponse(400, "x", "\xE2\x80\xA8\xE2\x80\xA9");
    QVERIFY(r.body == "{\"error\":{\"code\":\"x\",\"message\":\"\\u2028\\u2029\"}}");
  }

  void requestLookupsReturnTheFirstValue() {
    HttpRequest r;
    r.headers = {{"x-a", "1"}, {"x-a", "2"}};
    r.query = {{"k", ""}, {"k", "v"}};
    QVERIFY(r.header("x-a") && *r.header("x-a") == "1");
    QVERIFY(r.header("X-A") == nullptr);
    QVERIFY(r.header("x-b") == nullptr);
    QVERIFY(r.queryParam("k") && r.queryParam("k")->empty());
    QVERIFY(r.queryParam("v") == nullptr);
  }

  // --- start() arguments ---

  void startRefusesBadArguments() {
    HttpServerOptions options;
    options.port = freePort();
    auto noHandler = HttpServer::start(options, HttpHandler());
    QVERIFY(!noHandler.isOk());
    QVERIFY(noHandler.status().code() == Status::Code::kInvalidArgument);

    HttpServerOptions halfTls = options;
    halfTls.tlsCertFile = "cert.pem";
    auto half = HttpServer::start(halfTls, countingEcho(std::make_shared<std::atomic<int>>()));
    QVERIFY(!half.isOk());
    QVERIFY(half.status().code() == Status::Code::kInvalidArgument);

    for (const char* host : {"::1", "example.invalid", "", "127.0.0.256"}) {
      HttpServerOptions bad = options;
      bad.host = host;
      auto r = HttpServer::start(bad, countingEcho(std::make_shared<std::atomic<int>>()));
      QVERIFY2(!r.isOk(), host);
      QVERIFY(r.status().code() == Status::Code::kIoError);
    }
  }

  // --- decoding ---

  void decodesMethodPathAndQuery() {
    TestServer t = startEcho();
    QVERIFY(t.server);
    HttpClient client(t.base);
    HttpResult r = client.get("/v1/a%20b/c%2Fd/%C3%A9?x=1&y=&x=2&z&&e%3D=%26v&plus=a+b&pct=%25");
    QVERIFY2(r.error.empty(), r.error.c_str());
    QVERIFY(r.status == 200);
    QVERIFY(r.header("content-type") && *r.header("content-type") == "application/octet-stream");
    Echo e = decodeEcho(r.body);
    QVERIFY(e.ok);
    QVERIFY(e.method == "GET");
    QVERIFY(e.path == "/v1/a b/c/d/\xC3\xA9");
    const Pairs expected = {{"x", "1"}, {"y", ""}, {"x", "2"}, {"z", ""}, {"e=", "&v"}, {"plus", "a+b"}, {"pct", "%"}};
    QVERIFY(e.query == expected);
    QVERIFY(e.remoteAddress == "127.0.0.1");
    QVERIFY(!e.tls);
    QVERIFY(e.body.empty());

    for (const char* method : {"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"}) {
      r = client.request(method, "/m", "x");
      QVERIFY2(r.status == 200, method);
      e = decodeEcho(r.body);
      QVERIFY2(e.ok && e.method == method && e.path == "/m" && e.query.empty(),
               (std::string(method) + " -> " + e.method + " " + e.path).c_str());
    }
    r = client.get("/");
    QVERIFY(r.status == 200 && decodeEcho(r.body).path == "/");
  }

  void lowerCasesHeaderNames() {
    TestServer t = startEcho();
    QVERIFY(t.server);
    HttpClient client(t.base);
    HttpResult r = client.post("/h", "{}", {{"X-Custom-Header", "Value With Case"}, {"AUTHORIZATION", "Bearer t"}});
    QVERIFY2(r.status == 200, r.error.c_str());
    Echo e = decodeEcho(r.body);
    QVERIFY(e.ok);
    QVERIFY(e.header("x-custom-header") && *e.header("x-custom-header") == "Value With Case");
    QVERIFY(e.header("authorization") && *e.header("authorization") == "Bearer t");
    QVERIFY(e.header("content-type") && *e.header("content-type") == "application/json");
    for (const auto& [name, value] : e.headers) {
      QVERIFY(QString::fromStdString(name) == QString::fromStdString(name).toLower());
    }
  }

  void sendsResponseHeadersAndDropsUnsafeOnes() {
    auto calls = std::make_shared<std::atomic<int>>(0);
    HttpServerOptions options;
    options.port = freePort();
    auto started = HttpServer::start(options, [](const HttpRequest&) {
      HttpResponse response;
      response.status = 201;
      response.contentType = "text/plain; charset=utf-8";
      response.headers = {{"X-Reply", "yes"},
                          {"X-Split", "a\r\nX-Injected: 1"},
                          {"Bad Name", "v"},
                          {"Content-Length", "999"},
                          {"Content-Type", "application/evil"}};
      response.body = "created";
      return response;
    });
    QVERIFY(started.isOk());
    HttpClient client("http://127.0.0.1:" + std::to_string(started.value()->port()));
    HttpResult r = client.get("/");
    QVERIFY2(r.status == 201, r.error.c_str());
    QVERIFY(r.body == "created");
    QVERIFY(r.header("x-reply") && *r.header("x-reply") == "yes");
    QVERIFY(r.header("x-split") == nullptr);
    QVERIFY(r.header("x-injected") == nullptr);
    QVERIFY(r.header("content-type") && *r.header("content-type") == "text/plain; charset=utf-8");
    QVERIFY(r.header("content-length") && *r.header("content-length") == "7");
  }

  // --- bodies ---

  void roundTripsBinaryBodies() {
    TestServer t = startEcho();
    QVERIFY(t.server);
    HttpClient client(t.base);
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{256}, std::size_t{65536}, std::size_t{65537},
                             std::size_t{1} << 20}) {
      const std::string body = allBytes(size);
      HttpResult r = client.post("/bin", body, {}, "application/octet-stream");
      QVERIFY2(r.status == 200, r.error.c_str());
      Echo e = decodeEcho(r.body);
      QVERIFY(e.ok);
      QVERIFY(e.body.size() == size);
      QVERIFY(e.body == body);
    }
    // The response body is binary safe too.
    HttpServerOptions options;
    options.port = freePort();
    const std::string bytes = allBytes(1u << 20);
    auto started = HttpServer::start(options, [&bytes](const HttpRequest&) {
      HttpResponse response;
      response.contentType = "application/octet-stream";
      response.body = bytes;
      return response;
    });
    QVERIFY(started.isOk());
    HttpClient raw("http://127.0.0.1:" + std::to_string(started.value()->port()));
    HttpResult r = raw.get("/");
    QVERIFY(r.status == 200);
    QVERIFY(r.body == bytes);
  }

  void readsChunkedBodies() {
    TestServer t = startEcho();
    QVERIFY(t.server);
    std::string request =
        "POST /c HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n";
    const std::string body = allBytes(70000);
    for (std::size_t at = 0; at < body.size(); at += 7000) {
      const std::string piece = body.substr(at, 7000);
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      request += size + piece + "\r\n";
    }
    request += "0\r\n\r\n";
    HttpResult r = rawHttp("127.0.0.1", t.server->port(), request);
    QVERIFY2(r.status == 200, r.error.c_str());
    Echo e = decodeEcho(r.body);
    QVERIFY(e.ok);
    QVERIFY(e.body == body);
  }

  void answers413ForContentLengthOverTheLimit() {
    HttpServerOptions options;
    options.port = freePort();
    options.maxBodyBytes = 64 * 1024;
    TestServer t = startEcho(options);
    QVERIFY(t.server);
    HttpClient client(t.base);

    HttpResult atLimit = client.post("/p", std::string(64 * 1024, 'a'));
    QVERIFY(atLimit.status == 200);
    QVERIFY(*t.calls == 1);

    // Slightly over: the adapter reads and drops the rest, the client sees 413.
    HttpResult over = client.post("/p", std::string(64 * 1024 + 1, 'a'));
    QVERIFY2(over.status == 413, over.error.c_str());
    QVERIFY(errorCodeOf(over) == "body_too_large");
    QVERIFY(over.header("content-type") && *over.header("content-type") == "application/json");
    HttpResult far = client.post("/p", std::string(3 << 20, 'b'));
    QVERIFY2(far.status == 413, far.error.c_str());
    QVERIFY(*t.calls == 1);

    // Declared far beyond limit + discard allowance: cut off at the next body
    // bytes that arrive after the head was checked, connection closed.
    HttpResult huge = charta::test::rawHttpInParts(
        "127.0.0.1", t.server->port(),
        {"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n" + std::string(4096, 'c'),
         std::string(4096, 'd')},
        300);
    QVERIFY2(huge.status == 413, huge.error.c_str());
    QVERIFY(huge.header("connection") && *huge.header("connection") == "close");
    QVERIFY(huge.body.find("body_too_large") != std::string::npos);
    QVERIFY(*t.calls == 1);

    // And the server still serves.
    HttpResult after = client.post("/p", "{}");
    QVERIFY(after.status == 200);
    QVERIFY(*t.calls == 2);
  }

  // A route may take another limit than maxBodyBytes (bodyLimit, told the
  // request's head); a body over a limit larger than one read is still read
  // and dropped, so the client sees the 413.
  void aRouteMayHaveItsOwnBodyLimit() {
    HttpServerOptions options;
    options.port = freePort();
    options.maxBodyBytes = 64 * 1024;
    options.bodyLimit = [](const HttpRequest& head) -> std::size_t {
      return head.method == "PUT" && head.path == "/big" ? std::size_t{1} << 20 : 64 * 1024;
    };
    TestServer t = startEcho(options);
    QVERIFY(t.server);
    HttpClient client(t.base);

    HttpResult whole = client.request("PUT", "/big", std::string(1 << 20, 'a'), {}, "application/octet-stream");
    QVERIFY2(whole.status == 200, whole.error.c_str());
    QVERIFY(*t.calls == 1);
    HttpResult over = client.request("PUT", "/big", std::string((1 << 20) + 5000, 'b'), {}, "application/octet-stream");
    QVERIFY2(over.status == 413, over.error.c_str());
    QVERIFY(errorCodeOf(over) == "body_too_large");
    QVERIFY(over.body.find("1048576") != std::string::npos);
    // Other routes keep maxBodyBytes.
    HttpResult other = client.request("PUT", "/small", std::string(64 * 1024 + 1, 'c'), {}, "application/octet-stream");
    QVERIFY2(other.status == 413, other.error.c_str());
    QVERIFY(*t.calls == 1);
  }

  void answers413ForChunkedBodiesOverTheLimit() {
    HttpServerOptions options;
    options.port = freePort();
    options.maxBodyBytes = 64 * 1024;
    TestServer t = startEcho(options);
    QVERIFY(t.server);
    std::string request =
        "POST /c HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n";
    for (int i = 0; i < 20; ++i) request += "2800\r\n" + std::string(0x2800, 'z') + "\r\n";  // 200 KiB
    request += "0\r\n\r\n";
    HttpResult r = rawHttp("127.0.0.1", t.server->port(), request);
    QVERIFY2(r.status == 413, r.error.c_str());
    QVERIFY(r.body.find("body_too_large") != std::string::npos);
    QVERIFY(*t.calls == 0);

    HttpClient client(t.base);
    QVERIFY(client.get("/").status == 200);
    QVERIFY(*t.calls == 1);
  }

  // --- failures and load ---

  void handlerExceptionsBecome500() {
    auto calls = std::make_shared<std::atomic<int>>(0);
    HttpServerOptions options;
    options.port = freePort();
    auto started = HttpServer::start(options, [calls](const HttpRequest& request) {
      ++*calls;
      if (request.path == "/throw") throw std::runtime_error("boom \"quoted\"\n");
      if (request.path == "/throw-int") throw 42;
      HttpResponse ok;
      ok.body = "{}";
      return ok;
    });
    QVERIFY(started.isOk());
    HttpClient client("http://127.0.0.1:" + std::to_string(started.value()->port()));
    for (int i = 0; i < 3; ++i) {
      HttpResult r = client.post("/throw", "{}");
      QVERIFY(r.status == 500);
      QVERIFY(errorCodeOf(r) == "internal_error");
      QVERIFY(r.body.find("boom \\\"quoted\\\"\\n") != std::string::npos);
      r = client.get("/throw-int");
      QVERIFY(r.status == 500);
      QVERIFY(errorCodeOf(r) == "internal_error");
      r = client.get("/fine");
      QVERIFY(r.status == 200 && r.body == "{}");
    }
    QVERIFY(*calls == 9);
  }

  void servesManyConcurrentClients() {
    TestServer t = startEcho();
    QVERIFY(t.server);
    constexpr int kThreads = 64;
    constexpr int kRequests = 50;
    HttpClient shared(t.base);
    std::atomic<int> good{0};
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        std::unique_ptr<HttpClient> own;
        if (i % 2 == 1) own = std::make_unique<HttpClient>(t.base);
        HttpClient& client = own ? *own : shared;
        for (int k = 0; k < kRequests; ++k) {
          const std::string tag = std::to_string(i) + "-" + std::to_string(k);
          const std::string body = tag + std::string(static_cast<std::size_t>(k * 37), '\xA5');
          HttpResult r = client.post("/load?tag=" + tag, body, {{"X-Tag", tag}}, "application/octet-stream");
          Echo e = decodeEcho(r.body);
          const bool ok = r.status == 200 && e.ok && e.body == body && e.query.size() == 1 &&
                          e.query[0].second == tag && e.header("x-tag") && *e.header("x-tag") == tag;
          (ok ? good : bad)++;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    QVERIFY2(bad == 0, qPrintable(QString("%1 bad answers").arg(bad.load())));
    QVERIFY(good == kThreads * kRequests);
    QVERIFY(*t.calls == kThreads * kRequests);
  }

  void answersHeadWithoutABody() {
    TestServer t = startEcho();
    QVERIFY(t.server);
    HttpResult r = rawHttp("127.0.0.1", t.server->port(), "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    QVERIFY2(r.status == 200, r.error.c_str());
    QVERIFY(r.body.empty());
    QVERIFY(*t.calls == 1);
  }

  // The library turns Nagle's algorithm off on accepted sockets (it writes a
  // response's head and body separately: with Nagle on, each small response
  // waits for the client's delayed ACK, ~40 ms). Checked here because
  // nothing else would notice it going away.
  void acceptedConnectionsHaveNagleOff() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    std::string cert, key, error;
    QVERIFY2(charta::test::makeSelfSignedCert(dir.path().toStdString(), &cert, &key, &error), error.c_str());
    for (bool tls : {false, true}) {
      HttpServerOptions options;
      options.port = freePort();
      if (tls) {
        options.tlsCertFile = cert;
        options.tlsKeyFile = key;
      }
      TestServer t = startEcho(options);
      QVERIFY(t.server);
      const std::string base = (tls ? "https" : "http") + t.base.substr(4);
      HttpClient client(base, cert);  // keeps its connection open
      QVERIFY(client.get("/").status == 200);
      int accepted = 0;
      for (const auto& [isListening, isNoDelay] : noDelayOfSocketsOnPort(t.server->port())) {
        if (isListening) continue;
        ++accepted;
        QVERIFY(isNoDelay);
      }
      QVERIFY(accepted >= 1);
    }
  }

  // --- start and stop ---

  void failsWhenThePortIsTaken() {
    // Taken by another socket.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    QVERIFY(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    QVERIFY(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    QVERIFY(::listen(fd, 4) == 0);
    QVERIFY(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    HttpServerOptions options;
    options.port = ntohs(address.sin_port);
    auto taken = HttpServer::start(options, countingEcho(std::make_shared<std::atomic<int>>()));
    ::close(fd);
    QVERIFY(!taken.isOk());
    QVERIFY(taken.status().code() == Status::Code::kIoError);
    QVERIFY2(taken.status().message().find(std::to_string(options.port)) != std::string::npos,
             taken.status().message().c_str());

    // Taken by another server of this process: refused, and the first one
    // keeps serving.
    TestServer first = startEcho();
    QVERIFY(first.server);
    options.port = first.server->port();
    auto second = HttpServer::start(options, countingEcho(std::make_shared<std::atomic<int>>()));
    QVERIFY(!second.isOk());
    QVERIFY(second.status().code() == Status::Code::kIoError);
    HttpClient client(first.base);
    QVERIFY(client.get("/still").status == 200);
    QVERIFY(*first.calls == 1);
  }

  void stopIsIdempotentAndFinal() {
    TestServer t = startEcho();
    QVERIFY(t.server);
    HttpClient client(t.base);
    QVERIFY(client.get("/").status == 200);
    t.server->stop();
    t.server->stop();
    HttpResult after = HttpClient(t.base).get("/");
    QVERIFY(after.status == 0);
    QVERIFY(!after.error.empty());
    QVERIFY(*t.calls == 1);
    t.server.reset();  // the destructor stops again

    // The port is free again.
    HttpServerOptions options;
    options.port = static_cast<std::uint16_t>(std::stoi(t.base.substr(t.base.rfind(':') + 1)));
    TestServer again = startEcho(options);
    QVERIFY(again.server);
    QVERIFY(HttpClient(again.base).get("/").status == 200);
  }

  void stopWaitsForRequestsInFlight() {
    auto started = std::make_shared<std::atomic<bool>>(false);
    HttpServerOptions options;
    options.port = freePort();
    auto server = HttpServer::start(options, [started](const HttpRequest&) {
      *started = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      HttpResponse r;
      r.body = "\"slow\"";
      return r;
    });
    QVERIFY(server.isOk());
    HttpResult slow;
    std::thread caller([&] { slow = HttpClient("http://127.0.0.1:" + std::to_string(options.port)).get("/slow"); });
    while (!*started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server.value()->stop();
    caller.join();
    QVERIFY2(slow.status == 200, slow.error.c_str());
    QVERIFY(slow.body == "\"slow\"");
  }

  void picksAPortWhenAskedForZeroAndAcceptsLocalhost() {
    HttpServerOptions options;
    options.host = "localhost";
    options.port = 0;
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto a = HttpServer::start(options, countingEcho(calls));
    auto b = HttpServer::start(options, countingEcho(calls));
    QVERIFY(a.isOk() && b.isOk());
    QVERIFY(a.value()->port() != 0 && b.value()->port() != 0);
    QVERIFY(a.value()->port() != b.value()->port());
    QVERIFY(HttpClient("http://127.0.0.1:" + std::to_string(a.value()->port())).get("/").status == 200);
    QVERIFY(HttpClient("http://localhost:" + std::to_string(b.value()->port())).get("/").status == 200);
    QVERIFY(*calls == 2);
  }
};

QTEST_APPLESS_MAIN(HttpServerTest)
#include "http_server_test.moc"
