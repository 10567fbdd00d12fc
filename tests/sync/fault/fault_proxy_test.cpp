// FaultProxy in front of the server's real HTTP adapter: transparent when
// healed, and each fault (partition, lost request, lost answer, cut bodies,
// duplicates, latency) seen from both ends: what the handler counted and what
// the client got. Also: the decision sequence replays from a seed, chunked
// answers are framed, and stopping never waits for a peer.

#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QtTest>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http.h"
#include "support/http_client.h"

using charta::server::HttpRequest;
using charta::server::HttpResponse;
using charta::server::HttpServer;
using charta::server::HttpServerOptions;
using charta::test::FaultConfig;
using charta::test::FaultDecision;
using charta::test::FaultProxy;
using charta::test::FaultProxyOptions;
using charta::test::FaultStats;
using charta::test::HttpClient;
using charta::test::HttpResult;

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// What /echo answers for a body.
std::string echoOf(std::string_view body) {
  return "len=" + std::to_string(body.size()) + " fnv=" + std::to_string(fnv1a(body));
}

// Deterministic bytes, every value 0..255 present.
std::string pattern(std::size_t size, unsigned salt = 0) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 31 + salt) & 0xff);
  return out;
}

long long msSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// The server side: POST /echo answers echoOf(body); GET /blob?size=N answers
// pattern(N). Counts every call and remembers every body length seen.
struct Backend {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<std::size_t> bodySizes;

  HttpResponse handle(const HttpRequest& request) {
    ++calls;
    {
      std::lock_guard lock(mutex);
      bodySizes.push_back(request.body.size());
    }
    HttpResponse response;
    response.contentType = "application/octet-stream";
    if (request.path == "/echo") {
      response.body = echoOf(request.body);
    } else if (request.path == "/blob") {
      const std::string* size = request.queryParam("size");
      response.body = pattern(size == nullptr ? 0 : std::stoul(*size));
    } else {
      response.status = 404;
    }
    return response;
  }
  bool sawBodyOfSize(std::size_t size) {
    std::lock_guard lock(mutex);
    for (std::size_t s : bodySizes) {
      if (s == size) return true;
    }
    return false;
  }
  void reset() {
    calls = 0;
    std::lock_guard lock(mutex);
    bodySizes.clear();
  }
};

// A tiny server that answers every request with a chunked body (the adapter
// always sends Content-Length), to check the proxy's chunked framing.
class ChunkedServer {
 public:
  ChunkedServer() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(m_fd, 16) != 0 || ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { serve(); });
  }
  ~ChunkedServer() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
    if (m_fd >= 0) ::close(m_fd);
  }
  std::uint16_t port() const { return m_port; }
  static std::string body() { return pattern(3000, 7); }

 private:
  void serve() {
    while (!m_stop) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(m_fd, nullptr, nullptr);
      if (client < 0) continue;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd q{client, POLLIN, 0};
        if (::poll(&q, 1, 2000) <= 0) break;
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      // Three chunks (with an extension and a trailer), then the connection stays
      // open until the peer closes: only the chunked framing tells the proxy
      // the answer is complete.
      const std::string b = body();
      std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
      reply += "3e8;x=y\r\n" + b.substr(0, 1000) + "\r\n";
      reply += "7D0\r\n" + b.substr(1000, 2000) + "\r\n";
      reply += "0\r\nX-Trailer: t\r\n\r\n";
      std::string_view rest = reply;
      while (!rest.empty()) {
        const ssize_t n = ::send(client, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n <= 0) break;
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
      pollfd q{client, POLLIN, 0};
      while (::poll(&q, 1, 2000) > 0 && ::recv(client, buf, sizeof buf, 0) > 0) {
      }
      ::close(client);
    }
  }

  int m_fd = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

}  // namespace

class FaultProxyTest : public QObject {
  Q_OBJECT

 private:
  Backend m_backend;
  std::unique_ptr<HttpServer> m_server;
  std::unique_ptr<FaultProxy> m_proxy;

  std::unique_ptr<FaultProxy> startProxy(std::uint64_t seed, std::uint16_t target = 0) {
    FaultProxyOptions options;
    options.targetPort = target == 0 ? m_server->port() : target;
    options.seed = seed;
    std::string error;
    auto proxy = FaultProxy::start(options, &error);
    if (!proxy) qWarning("proxy: %s", error.c_str());
    return proxy;
  }

  HttpResult postEcho(HttpClient& client, const std::string& body) {
    return client.post("/echo", body, {}, "application/octet-stream");
  }

 private slots:
  void initTestCase() {
    HttpServerOptions options;
    options.port = 0;
    auto started = HttpServer::start(options, [this](const HttpRequest& r) { return m_backend.handle(r); });
    QVERIFY2(started.isOk(), started.status().toString().c_str());
    m_server = std::move(started).value();
  }
  void cleanupTestCase() {
    if (m_server) m_server->stop();
  }
  void init() {
    m_backend.reset();
    m_proxy = startProxy(1);
    QVERIFY(m_proxy != nullptr);
    QVERIFY(m_proxy->port() != 0);
  }
  void cleanup() { m_proxy.reset(); }

  void startRefusesNoTarget() {
    std::string error;
    QVERIFY(FaultProxy::start(FaultProxyOptions{}, &error) == nullptr);
    QVERIFY(!error.empty());
  }

  // Several clients at once, bodies of many sizes (1 MiB both ways included).
  void transparentWhenHealed() {
    constexpr int kClients = 4;
    constexpr int kPerClient = 6;
    std::atomic<int> good{0};
    std::mutex failuresMutex;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        HttpClient client(m_proxy->baseUrl());
        for (int i = 0; i < kPerClient; ++i) {
          const std::size_t size = c == 0 && i == 0 ? std::size_t{1} << 20 : static_cast<std::size_t>(c * 977 + i * 13);
          const std::string body = pattern(size, static_cast<unsigned>(c * 100 + i));
          const HttpResult r = client.post("/echo", body, {}, "application/octet-stream");
          const std::string* connection = r.header("connection");
          if (r.status == 200 && r.body == echoOf(body) && connection != nullptr && *connection == "close") {
            ++good;
          } else {
            std::lock_guard lock(failuresMutex);
            failures.push_back(std::to_string(r.status) + " " + r.error + " " + r.body.substr(0, 80));
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    QVERIFY2(failures.empty(), failures.empty() ? "" : failures.front().c_str());
    QCOMPARE(good.load(), kClients * kPerClient);

    HttpClient client(m_proxy->baseUrl());
    const HttpResult big = client.get("/blob?size=1048576");
    QCOMPARE(big.status, 200);
    QVERIFY(big.body == pattern(std::size_t{1} << 20));
    const HttpResult empty = client.get("/blob?size=0");
    QCOMPARE(empty.status, 200);
    QVERIFY(empty.body.empty());

    const int total = kClients * kPerClient + 2;
    QCOMPARE(m_backend.calls.load(), total);
    QVERIFY(m_backend.sawBodyOfSize(std::size_t{1} << 20));
    const FaultStats s = m_proxy->stats();
    QCOMPARE(s.requestsSeen, std::uint64_t(total));
    QCOMPARE(s.forwarded, std::uint64_t(total));
    QCOMPARE(s.relayed, std::uint64_t(total));
    QCOMPARE(s.droppedRequests + s.droppedResponses + s.cutRequests + s.cutResponses + s.duplicated, std::uint64_t(0));
    QCOMPARE(s.upstreamErrors, std::uint64_t(0));
    // One request per connection.
    QCOMPARE(s.connections, std::uint64_t(total));
  }

  void partitionFailsEverythingUntilHealed() {
    HttpClient client(m_proxy->baseUrl());
    QCOMPARE(postEcho(client, "before").status, 200);
    m_proxy->setPartitioned(true);
    QVERIFY(m_proxy->partitioned());
    for (int i = 0; i < 5; ++i) {
      const HttpResult r = postEcho(client, "during " + std::to_string(i));
      QCOMPARE(r.status, 0);
      QVERIFY(!r.error.empty());
    }
    QCOMPARE(m_backend.calls.load(), 1);
    QVERIFY(m_proxy->stats().refused >= 5);
    QCOMPARE(m_proxy->stats().requestsSeen, std::uint64_t(1));

    m_proxy->heal();
    QVERIFY(!m_proxy->partitioned());
    const HttpResult after = postEcho(client, "after");
    QCOMPARE(after.status, 200);
    QCOMPARE(after.body, echoOf("after"));
    QCOMPARE(m_backend.calls.load(), 2);
  }

  // A partition also drops a connection already open (here: held in a delay).
  void partitionSeversOpenConnections() {
    m_proxy->setDelay(5000);
    HttpResult inFlight;
    long long elapsedMs = 0;
    std::thread t([&] {
      HttpClient client(m_proxy->baseUrl());
      const auto start = Clock::now();
      inFlight = postEcho(client, "held");
      elapsedMs = msSince(start);
    });
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->stats().requestsSeen, std::uint64_t(1), 5000);
    m_proxy->setPartitioned(true);
    t.join();
    QCOMPARE(inFlight.status, 0);
    QVERIFY(!inFlight.error.empty());
    QVERIFY2(elapsedMs < 4000, std::to_string(elapsedMs).c_str());
    QCOMPARE(m_proxy->stats().severed, std::uint64_t(1));
    QCOMPARE(m_backend.calls.load(), 0);

    m_proxy->heal();  // also clears the delay
    HttpClient client(m_proxy->baseUrl());
    const auto start = Clock::now();
    QCOMPARE(postEcho(client, "healed").status, 200);
    QVERIFY(msSince(start) < 4000);
    QCOMPARE(m_backend.calls.load(), 1);
  }

  void dropRequestNeverReachesServer() {
    m_proxy->setDropRequest(1);
    HttpClient client(m_proxy->baseUrl());
    const HttpResult r = postEcho(client, pattern(5000));
    QCOMPARE(r.status, 0);
    QVERIFY(!r.error.empty());
    QTest::qWait(200);
    QCOMPARE(m_backend.calls.load(), 0);
    const FaultStats s = m_proxy->stats();
    QCOMPARE(s.requestsSeen, std::uint64_t(1));
    QCOMPARE(s.droppedRequests, std::uint64_t(1));
    QCOMPARE(s.forwarded, std::uint64_t(0));
  }

  // The key case for idempotency: the server did the work, the client never hears.
  void dropResponseAfterServerDidTheWork() {
    m_proxy->setDropResponse(1);
    HttpClient client(m_proxy->baseUrl());
    const std::string body = pattern(20000, 3);
    const HttpResult r = postEcho(client, body);
    QCOMPARE(r.status, 0);
    QVERIFY(!r.error.empty());
    // The proxy reads the whole answer before closing, so the call is already counted.
    QCOMPARE(m_backend.calls.load(), 1);
    QVERIFY(m_backend.sawBodyOfSize(body.size()));
    const FaultStats s = m_proxy->stats();
    QCOMPARE(s.forwarded, std::uint64_t(1));
    QCOMPARE(s.droppedResponses, std::uint64_t(1));
    QCOMPARE(s.relayed, std::uint64_t(0));
  }

  void cutRequestMidBody() {
    m_proxy->setCutRequest(1);
    HttpClient client(m_proxy->baseUrl());
    const std::string body = pattern(100000, 5);
    const HttpResult r = postEcho(client, body);
    QCOMPARE(r.status, 0);
    QVERIFY(!r.error.empty());
    // An empty body: the cut falls in the head.
    const HttpResult g = client.get("/blob?size=10");
    QCOMPARE(g.status, 0);
    QVERIFY(!g.error.empty());
    QTRY_COMPARE(m_proxy->stats().cutRequests, std::uint64_t(2));
    QTest::qWait(300);  // give the server time to (wrongly) handle anything
    QVERIFY(!m_backend.sawBodyOfSize(body.size()));
    QCOMPARE(m_backend.calls.load(), 0);  // the adapter reads the whole body before the handler runs
    QCOMPARE(m_proxy->stats().forwarded, std::uint64_t(0));

    m_proxy->heal();
    QCOMPARE(postEcho(client, body).body, echoOf(body));
    QCOMPARE(m_backend.calls.load(), 1);
  }

  void cutResponseMidBody() {
    m_proxy->setCutResponse(1);
    HttpClient client(m_proxy->baseUrl());
    const HttpResult r = client.get("/blob?size=100000");
    QCOMPARE(r.status, 0);
    QVERIFY(!r.error.empty());
    // An empty body: the cut falls in the head.
    const HttpResult e = client.get("/blob?size=0");
    QCOMPARE(e.status, 0);
    QVERIFY(!e.error.empty());
    QCOMPARE(m_backend.calls.load(), 2);
    QCOMPARE(m_proxy->stats().cutResponses, std::uint64_t(2));
    QCOMPARE(m_proxy->stats().relayed, std::uint64_t(0));
  }

  void duplicateReachesServerTwice() {
    m_proxy->setDuplicate(1);
    HttpClient client(m_proxy->baseUrl());
    const std::string body = pattern(30000, 9);
    const HttpResult r = postEcho(client, body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, echoOf(body));
    QCOMPARE(m_backend.calls.load(), 2);
    const FaultStats s = m_proxy->stats();
    QCOMPARE(s.requestsSeen, std::uint64_t(1));
    QCOMPARE(s.forwarded, std::uint64_t(1));
    QCOMPARE(s.duplicated, std::uint64_t(1));
    QCOMPARE(s.relayed, std::uint64_t(1));
  }

  void delayAddsLatency() {
    m_proxy->setDelay(300, 100);
    HttpClient client(m_proxy->baseUrl());
    for (int i = 0; i < 3; ++i) {
      const auto start = Clock::now();
      const HttpResult r = postEcho(client, "slow");
      const long long elapsed = msSince(start);
      QCOMPARE(r.status, 200);
      const FaultDecision d = m_proxy->decisions().back();
      QVERIFY2(d.delayMs >= 300 && d.delayMs <= 400, std::to_string(d.delayMs).c_str());
      QVERIFY2(elapsed >= d.delayMs, (std::to_string(elapsed) + " < " + std::to_string(d.delayMs)).c_str());
    }
    QCOMPARE(m_proxy->stats().delayed, std::uint64_t(3));
    QCOMPARE(m_backend.calls.load(), 3);
  }

  // Same seed and configuration, same decisions; the outcomes follow them.
  void sameSeedSameDecisions() {
    FaultConfig config;
    config.dropRequest = 0.15;
    config.cutRequest = 0.15;
    config.dropResponse = 0.15;
    config.cutResponse = 0.15;
    config.duplicate = 0.25;
    config.delayJitterMs = 5;
    constexpr int kRequests = 40;

    struct Run {
      std::vector<FaultDecision> decisions;
      std::vector<int> statuses;
    };
    auto runWith = [&](FaultProxy& proxy) {
      proxy.setFaults(config);
      Run run;
      HttpClient client(proxy.baseUrl());
      for (int i = 0; i < kRequests; ++i) {
        const int before = m_backend.calls.load();
        const std::string body = pattern(static_cast<std::size_t>(100 + i * 50), static_cast<unsigned>(i));
        const HttpResult r = postEcho(client, body);
        run.statuses.push_back(r.status);
        const FaultDecision d = proxy.decisions().back();
        const bool lost = d.dropRequest || d.cutRequest || d.dropResponse || d.cutResponse;
        if (lost) {
          if (r.status != 0) qWarning("request %d: status %d despite a fault", i, r.status);
        } else if (r.status != 200 || r.body != echoOf(body)) {
          qWarning("request %d: status %d without a fault", i, r.status);
        }
        // What the server handled follows the decision too.
        const int expected = d.dropRequest || d.cutRequest ? 0 : (d.duplicate ? 2 : 1);
        const Clock::time_point until = Clock::now() + std::chrono::seconds(2);
        while (m_backend.calls.load() - before < expected && Clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (m_backend.calls.load() - before != expected) {
          qWarning("request %d: server handled %d, expected %d", i, m_backend.calls.load() - before, expected);
          run.statuses.back() = -1;
        }
      }
      run.decisions = proxy.decisions();
      return run;
    };

    m_proxy.reset();
    auto a = startProxy(42);
    auto b = startProxy(42);
    auto c = startProxy(43);
    QVERIFY(a && b && c);
    const Run ra = runWith(*a);
    const Run rb = runWith(*b);
    const Run rc = runWith(*c);
    QCOMPARE(ra.decisions.size(), std::size_t(kRequests));
    QVERIFY(ra.decisions == rb.decisions);
    QVERIFY(ra.statuses == rb.statuses);
    QVERIFY(ra.decisions != rc.decisions);
    for (const Run* run : {&ra, &rc}) {
      for (int i = 0; i < kRequests; ++i) {
        const FaultDecision& d = run->decisions[static_cast<std::size_t>(i)];
        QCOMPARE(d.index, std::uint64_t(i));
        const bool lost = d.dropRequest || d.cutRequest || d.dropResponse || d.cutResponse;
        QCOMPARE(run->statuses[static_cast<std::size_t>(i)], lost ? 0 : 200);
      }
    }
    // The seed gives a mix of every fault (a fixed property of seed 42).
    auto count = [&](auto member) {
      int n = 0;
      for (const FaultDecision& d : ra.decisions) n += d.*member ? 1 : 0;
      return n;
    };
    QVERIFY(count(&FaultDecision::dropRequest) > 0);
    QVERIFY(count(&FaultDecision::cutRequest) > 0);
    QVERIFY(count(&FaultDecision::dropResponse) > 0);
    QVERIFY(count(&FaultDecision::cutResponse) > 0);
    QVERIFY(count(&FaultDecision::duplicate) > 0);
    const FaultStats s = a->stats();
    QCOMPARE(s.droppedRequests, std::uint64_t(count(&FaultDecision::dropRequest)));
    QCOMPARE(s.cutRequests, std::uint64_t(count(&FaultDecision::cutRequest)));
    QCOMPARE(s.droppedResponses, std::uint64_t(count(&FaultDecision::dropResponse)));
    QCOMPARE(s.cutResponses, std::uint64_t(count(&FaultDecision::cutResponse)));

    // reseed() replays the same sequence on the same proxy.
    a->reseed(42);
    const Run again = runWith(*a);
    QVERIFY(again.decisions == ra.decisions);
    QVERIFY(again.statuses == ra.statuses);
  }

  void chunkedResponsesAreFramed() {
    ChunkedServer chunked;
    QVERIFY(chunked.port() != 0);
    auto proxy = startProxy(7, chunked.port());
    QVERIFY(proxy != nullptr);
    HttpClient client(proxy->baseUrl());
    const auto start = Clock::now();
    const HttpResult r = client.get("/anything");
    QCOMPARE(r.status, 200);
    QVERIFY(r.body == ChunkedServer::body());
    // The chunked server keeps its connection open: only the framing ended the answer.
    QVERIFY(msSince(start) < 1500);
    QCOMPARE(proxy->stats().relayed, std::uint64_t(1));

    proxy->setCutResponse(1);
    const HttpResult cut = client.get("/anything");
    QCOMPARE(cut.status, 0);
    QVERIFY(!cut.error.empty());
    QCOMPARE(proxy->stats().cutResponses, std::uint64_t(1));
  }

  // One request per connection: a second request on the same connection is
  // not served, and the answer says Connection: close.
  void oneRequestPerConnection() {
    const std::string one = "GET /blob?size=5 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
    const HttpResult r = charta::test::rawHttp("127.0.0.1", m_proxy->port(), one + one);
    QCOMPARE(r.status, 200);
    QVERIFY(r.body == pattern(5));
    const std::string* connection = r.header("connection");
    QVERIFY(connection != nullptr);
    QCOMPARE(*connection, std::string("close"));
    QCOMPARE(m_backend.calls.load(), 1);
  }

  // A request the proxy cannot frame is answered by the proxy, not forwarded.
  void chunkedRequestRejected() {
    const HttpResult r = charta::test::rawHttp(
        "127.0.0.1", m_proxy->port(),
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    QCOMPARE(r.status, 501);
    QCOMPARE(m_proxy->stats().rejected, std::uint64_t(1));
    QCOMPARE(m_backend.calls.load(), 0);
  }

  // Stopping never waits for a peer: a request held in a long delay is cut.
  void destructorDoesNotHang() {
    m_proxy->setDelay(20000);
    HttpResult inFlight;
    std::thread t([&, url = m_proxy->baseUrl()] {
      HttpClient client(url);
      inFlight = postEcho(client, "held");
    });
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->stats().requestsSeen, std::uint64_t(1), 5000);
    const auto start = Clock::now();
    m_proxy.reset();
    QVERIFY2(msSince(start) < 1000, std::to_string(msSince(start)).c_str());
    t.join();
    QCOMPARE(inFlight.status, 0);
    QCOMPARE(m_backend.calls.load(), 0);
  }
};

QTEST_GUILESS_MAIN(FaultProxyTest)
#include "fault_proxy_test.moc"
