// The tablet's HTTP transport end to end: makeHttpTransport() against a real
// charta-server started in process on loopback (SQLite), over plain HTTP and
// HTTPS, and against scripted raw TCP servers that give the answers a correct
// server never gives (garbage, cut bodies, silence, trickles, proxy pages).

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/api_harness.h"
#include "charta/crdt/op_codec.h"
#include "charta/crdt/schema.h"
#include "charta/sync/transport.h"
#include "support/fake_clock.h"
#include "support/tls_cert.h"

using namespace charta;
using namespace charta::test;
using sync::CallError;

namespace {

using Kind = CallError::Kind;
using Ms = std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// A raw TCP server on 127.0.0.1 that reads each request and lets a script
// answer it however it likes (or not at all), then closes the connection.

class ScriptedServer {
 public:
  // connection: 0 for the first connection accepted, 1 for the next...
  using Script = std::function<void(int fd, int connection, const std::string& request)>;

  explicit ScriptedServer(Script script) : m_script(std::move(script)) {
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(m_listen, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 && ::listen(m_listen, 16) == 0 &&
        ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      m_port = ntohs(address.sin_port);
    }
    m_thread = std::thread([this] { run(); });
  }
  ~ScriptedServer() {
    m_stop = true;
    m_thread.join();
    ::close(m_listen);
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  int connections() const { return m_connections; }
  std::string lastRequest() const {
    std::lock_guard lock(m_mutex);
    return m_lastRequest;
  }

  // Writes all of bytes (false when the peer is gone).
  static bool send(int fd, std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  // A whole HTTP/1.1 answer with a Content-Length.
  static std::string answer(int status, std::string_view reason, std::string_view body,
                            std::string_view extraHeaders = {}) {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           std::string(extraHeaders) + "\r\n" + std::string(body);
  }

 private:
  void run() {
    while (!m_stop) {
      pollfd p{m_listen, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const std::string request = readRequest(fd);
      {
        std::lock_guard lock(m_mutex);
        m_lastRequest = request;
      }
      const int index = m_connections++;
      m_script(fd, index, request);
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    }
  }

  // The head and a Content-Length body (up to 2 s).
  static std::string readRequest(int fd) {
    std::string in;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::size_t want = std::string::npos;
    while (std::chrono::steady_clock::now() < deadline) {
      if (want == std::string::npos) {
        const std::size_t end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          std::size_t length = 0;
          std::string lower = in.substr(0, end);
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          const std::size_t at = lower.find("content-length:");
          if (at != std::string::npos) length = std::stoul(lower.substr(at + 15));
          want = end + 4 + length;
        }
      }
      if (want != std::string::npos && in.size() >= want) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      in.append(buffer, static_cast<std::size_t>(n));
    }
    return in;
  }

  Script m_script;
  int m_listen = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  mutable std::mutex m_mutex;
  std::string m_lastRequest;
  std::thread m_thread;
};

// The value of a header of a raw request ("" when absent); names compared
// without case, the value trimmed.
std::string headerOf(const std::string& request, const std::string& name) {
  const std::size_t headEnd = request.find("\r\n\r\n");
  std::size_t pos = request.find("\r\n");
  while (pos != std::string::npos && pos < headEnd) {
    const std::size_t start = pos + 2;
    const std::size_t end = request.find("\r\n", start);
    const std::string line = request.substr(start, end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos &&
        QString::fromStdString(line.substr(0, colon)).compare(QString::fromStdString(name), Qt::CaseInsensitive) == 0) {
      return QString::fromStdString(line.substr(colon + 1)).trimmed().toStdString();
    }
    pos = end;
  }
  return {};
}

// A script that answers every request with the same bytes.
ScriptedServer::Script always(std::string bytes) {
  return [bytes](int fd, int, const std::string&) { ScriptedServer::send(fd, bytes); };
}

// ---------------------------------------------------------------------------
// Helpers

std::unique_ptr<sync::Transport> transportFor(const std::string& url, int timeoutMs = 10000,
                                              const std::string& caCertFile = {}) {
  sync::HttpTransportOptions options;
  options.baseUrl = url;
  options.timeoutMs = timeoutMs;
  options.caCertFile = caCertFile;
  std::string error;
  auto transport = sync::makeHttpTransport(options, &error);
  if (!transport) qWarning("makeHttpTransport: %s", error.c_str());
  return transport;
}

std::string describe(const CallError& e) { return e.toString(); }

// A tablet's ops for one patient, made the way the tablet makes them.
struct Chart {
  Chart(crdt::ReplicaId replica, const std::string& user, const std::string& patient, std::uint64_t firstSeq)
      : factory(replica, clock, firstSeq), doc(patient) {
    clock.set(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    factory.setUser(user);
  }
  crdt::Op write(crdt::FieldId f, crdt::Value v) {
    crdt::Op op = factory.writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, f}, std::move(v));
    (void)doc.apply(op);
    return op;
  }
  testing::FakeWallClock clock;
  crdt::OpFactory factory;
  crdt::ChartDocument doc;
};

// An enrolled, signed-in tablet.
struct Tablet {
  sync::Enrolment enrolment;
  sync::DeviceCredential device;
  sync::Session session;
};

// Writes a self-signed certificate for a name other than 127.0.0.1 and localhost.
bool makeCertForOtherName(const QString& dir, std::string* cert, std::string* key, std::string* error) {
  *cert = (dir + "/other-cert.pem").toStdString();
  *key = (dir + "/other-key.pem").toStdString();
  QProcess openssl;
  openssl.start("openssl",
                {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                 "-subj", "/CN=someone-else.example", "-addext", "subjectAltName=DNS:someone-else.example", "-keyout",
                 QString::fromStdString(*key), "-out", QString::fromStdString(*cert)});
  if (!openssl.waitForFinished(60000) || openssl.exitCode() != 0) {
    *error = "openssl failed: " + openssl.readAllStandardError().toStdString();
    return false;
  }
  return true;
}

}  // namespace

class TransportTest : public QObject {
  Q_OBJECT

 private:
  TestServer m_server;
  std::unique_ptr<sync::Transport> m_transport;

  std::string issueCode(const std::string& url) {
    AdminClient admin(url);
    if (admin.login("admin", "demo-admin-pass").status != 200) return {};
    HttpResult r = admin.post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}});
    return r.status == 201 ? str(parseJson(r.body), "code") : std::string();
  }

  // Enrols with a fresh code and signs the nurse in, through the transport.
  bool newTablet(sync::Transport& t, const std::string& url, Tablet* out) {
    auto e = t.enrol(issueCode(url), "transport test tablet");
    if (!e.isOk()) {
      qWarning("enrol: %s", describe(e.error()).c_str());
      return false;
    }
    out->enrolment = e.value();
    out->device = {e.value().deviceId, e.value().deviceSecret};
    auto s = t.login(out->device, "nurse", "demo-nurse-pass");
    if (!s.isOk()) {
      qWarning("login: %s", describe(s.error()).c_str());
      return false;
    }
    out->session = s.value();
    return true;
  }

  // Pulls every page from since, limit ops a page; returns the ops and the pages.
  std::vector<std::string> pullAll(sync::Transport& t, const Tablet& tablet, std::uint64_t since, std::size_t limit,
                                   int* pages, std::uint64_t* cursor, const std::string& patient = {}) {
    std::vector<std::string> ops;
    *pages = 0;
    *cursor = since;
    for (int i = 0; i < 10000; ++i) {
      sync::PullRequest request;
      request.since = *cursor;
      request.limit = limit;
      request.patient = patient;
      auto page = t.pull(tablet.device, tablet.session.token, request);
      if (!page.isOk()) {
        qWarning("pull: %s", describe(page.error()).c_str());
        return ops;
      }
      ++*pages;
      if (limit > 0 && page.value().ops.size() > limit) qWarning("a page holds more than the limit");
      ops.insert(ops.end(), page.value().ops.begin(), page.value().ops.end());
      *cursor = page.value().next;
      if (!page.value().more) break;
    }
    return ops;
  }

 private slots:
  void initTestCase() {
    QVERIFY2(m_server.start(false), m_server.error.c_str());
    m_transport = transportFor(m_server.url());
    QVERIFY(m_transport != nullptr);
  }

  void cleanupTestCase() {
    m_transport.reset();
    if (m_server.server) m_server.server->stop();
  }

  // --- the error model, without a network ---

  void errorKindsFollowTheStatus() {
    QVERIFY(sync::callErrorForStatus(500, "internal", "bug").kind == Kind::kServer);
    auto unavailable = sync::callErrorForStatus(503, "unavailable", "store down", 12);
    QVERIFY(unavailable.kind == Kind::kServer);
    QCOMPARE(unavailable.retryAfterSeconds, 12);
    QVERIFY(unavailable.retryable());
    auto throttled = sync::callErrorForStatus(429, "too_many_attempts", "wait", 4);
    QVERIFY(throttled.kind == Kind::kThrottled);
    QVERIFY(throttled.retryable());
    QCOMPARE(throttled.retryAfterSeconds, 4);
    QVERIFY(sync::callErrorForStatus(401, "unauthenticated", "").kind == Kind::kAuth);
    QVERIFY(sync::callErrorForStatus(403, "bad_code", "").kind == Kind::kForbidden);
    QVERIFY(sync::callErrorForStatus(410, "device_revoked", "", 0, true).kind == Kind::kRevoked);
    // A 410 that does not say both never erases a replica.
    QVERIFY(sync::callErrorForStatus(410, "device_revoked", "", 0, false).kind == Kind::kRefused);
    QVERIFY(sync::callErrorForStatus(410, "gone", "", 0, true).kind == Kind::kRefused);
    QVERIFY(sync::callErrorForStatus(400, "invalid", "").kind == Kind::kRefused);
    QVERIFY(sync::callErrorForStatus(413, "too_many_ops", "").kind == Kind::kRefused);
    QVERIFY(sync::callErrorForStatus(302, "", "").kind == Kind::kProtocol);
    // Retry-After means nothing on a refusal.
    QCOMPARE(sync::callErrorForStatus(400, "invalid", "", 30).retryAfterSeconds, 0);
    for (Kind k : {Kind::kAuth, Kind::kRevoked, Kind::kForbidden, Kind::kRefused, Kind::kProtocol}) {
      CallError e;
      e.kind = k;
      QVERIFY(!e.retryable());
    }
    CallError network;
    network.kind = Kind::kNetwork;
    network.message = "connection refused";
    QVERIFY(network.retryable());
    QCOMPARE(QString::fromStdString(network.toString()), QStringLiteral("network: connection refused"));
    QCOMPARE(QString::fromStdString(sync::callErrorForStatus(403, "bad_code", "the code is used").toString()),
             QStringLiteral("forbidden: HTTP 403 bad_code: the code is used"));
    QCOMPARE(QString::fromStdString(throttled.toString()),
             QStringLiteral("throttled: HTTP 429 too_many_attempts: wait (retry after 4 s)"));
    QCOMPARE(QString::fromStdString(std::string(sync::callErrorKindName(Kind::kRevoked))), QStringLiteral("revoked"));
  }

  void badOptionsAreRefused() {
    QTemporaryDir dir;
    const std::string garbage = (dir.path() + "/garbage.pem").toStdString();
    {
      std::ofstream out(garbage);
      out << "not a certificate\n";
    }
    struct Case {
      std::string url;
      std::string ca;
      int timeoutMs;
    };
    const std::vector<Case> cases = {
        {"not a url at all", "", 1000},
        {"ftp://127.0.0.1:21", "", 1000},
        {"http://127.0.0.1:8080/?x=1", "", 1000},
        {"http://user:pw@127.0.0.1:8080", "", 1000},
        {"http://127.0.0.1:8080", "", 0},
        {"https://127.0.0.1:8443", (dir.path() + "/missing.pem").toStdString(), 1000},
        {"https://127.0.0.1:8443", garbage, 1000},
        {"http://127.0.0.1:8080", garbage, 1000},  // a CA file but no TLS
    };
    for (const Case& c : cases) {
      sync::HttpTransportOptions options;
      options.baseUrl = c.url;
      options.caCertFile = c.ca;
      options.timeoutMs = c.timeoutMs;
      std::string error;
      QVERIFY2(sync::makeHttpTransport(options, &error) == nullptr, c.url.c_str());
      QVERIFY2(!error.empty(), c.url.c_str());
    }
    std::string error = "stale";
    sync::HttpTransportOptions good;
    good.baseUrl = "http://127.0.0.1:1/charta";
    QVERIFY(sync::makeHttpTransport(good, &error) != nullptr);
    QVERIFY(error.empty());
  }

  // --- the real server ---

  void health() {
    auto h = m_transport->health();
    QVERIFY2(h.isOk(), describe(h.error()).c_str());
    QCOMPARE(QString::fromStdString(h.value().status), QStringLiteral("ok"));
    QCOMPARE(QString::fromStdString(h.value().store), QStringLiteral("sqlite"));
    QVERIFY(!h.value().epoch.empty());
    QVERIFY(h.value().epoch == m_server.server->epoch());
  }

  void enrolWithTheDemoCodeOnce() {
    const std::string code = m_server.demoCode();
    QVERIFY(!code.empty());
    auto e = m_transport->enrol(code, "demo tablet");
    QVERIFY2(e.isOk(), describe(e.error()).c_str());
    QVERIFY(!e.value().deviceId.empty());
    QVERIFY(!e.value().deviceSecret.empty());
    QVERIFY(!e.value().replica.isNull());
    QCOMPARE(QString::fromStdString(e.value().clinic), QStringLiteral("demo"));
    QVERIFY(e.value().epoch == m_server.server->epoch());

    auto again = m_transport->enrol(code, "second tablet");
    QVERIFY(!again.isOk());
    QVERIFY(again.error().kind == Kind::kForbidden);
    QCOMPARE(again.error().httpStatus, 403);
    QCOMPARE(QString::fromStdString(again.error().code), QStringLiteral("bad_code"));
    QVERIFY(!again.error().message.empty());
    QVERIFY(!again.error().retryable());
  }

  void loginRefreshLogout() {
    auto e = m_transport->enrol(issueCode(m_server.url()), "login tablet");
    QVERIFY2(e.isOk(), describe(e.error()).c_str());
    const sync::DeviceCredential device{e.value().deviceId, e.value().deviceSecret};

    auto bad = m_transport->login(device, "nurse", "not-the-password");
    QVERIFY(!bad.isOk());
    QVERIFY(bad.error().kind == Kind::kAuth);
    QCOMPARE(bad.error().httpStatus, 401);
    QCOMPARE(QString::fromStdString(bad.error().code), QStringLiteral("bad_credentials"));

    const std::int64_t before = QDateTime::currentMSecsSinceEpoch();
    auto s = m_transport->login(device, "nurse", "demo-nurse-pass");
    QVERIFY2(s.isOk(), describe(s.error()).c_str());
    QVERIFY(!s.value().token.empty());
    QVERIFY(s.value().expiresAtMs > before);
    QCOMPARE(QString::fromStdString(s.value().userId), QStringLiteral("nurse"));
    QCOMPARE(QString::fromStdString(s.value().role), QStringLiteral("nurse"));
    QCOMPARE(QString::fromStdString(s.value().clinic), QStringLiteral("demo"));
    QVERIFY(!s.value().displayName.empty());

    auto renewed = m_transport->refresh(device, s.value().token);
    QVERIFY2(renewed.isOk(), describe(renewed.error()).c_str());
    QVERIFY(renewed.value() >= s.value().expiresAtMs - 1000);

    auto out = m_transport->logout(device, s.value().token);
    QVERIFY2(out.isOk(), describe(out.error()).c_str());
    auto after = m_transport->refresh(device, s.value().token);
    QVERIFY(!after.isOk());
    QVERIFY(after.error().kind == Kind::kAuth);
    QCOMPARE(QString::fromStdString(after.error().code), QStringLiteral("unauthenticated"));
  }

  void pushThenPushAgainThenPullInPages() {
    Tablet tablet;
    QVERIFY(newTablet(*m_transport, m_server.url(), &tablet));
    std::vector<crdt::Op> ops;
    for (int p = 0; p < 4; ++p) {
      Chart chart(tablet.enrolment.replica, "nurse", "transport-patient-" + std::to_string(p),
                  static_cast<std::uint64_t>(p) * 100 + 1);
      for (int i = 0; i < 5; ++i) {
        ops.push_back(chart.write(crdt::field::kPhone, std::string("555-01") + std::to_string(10 + i)));
      }
    }
    const std::string batch = crdt::encodeBatch(ops);
    const sync::TransportStats before = m_transport->stats();
    auto first = m_transport->push(tablet.device, tablet.session.token, batch, 7);
    QVERIFY2(first.isOk(), describe(first.error()).c_str());
    QCOMPARE(first.value().seqs.size(), ops.size());
    QCOMPARE(first.value().stored, ops.size());
    QCOMPARE(first.value().duplicates, std::size_t{0});
    QVERIFY(first.value().rejected.empty());
    QVERIFY(first.value().futureClock.empty());
    QVERIFY(first.value().epoch == m_server.server->epoch());
    std::set<std::uint64_t> distinct(first.value().seqs.begin(), first.value().seqs.end());
    QCOMPARE(distinct.size(), ops.size());
    QVERIFY(*distinct.begin() > 0);
    QVERIFY(first.value().head >= *distinct.rbegin());
    const sync::TransportStats after = m_transport->stats();
    QCOMPARE(after.requests - before.requests, std::uint64_t{1});
    QCOMPARE(after.bytesSent - before.bytesSent, static_cast<std::uint64_t>(batch.size()));
    QVERIFY(after.bytesReceived > before.bytesReceived);

    // A retry after a lost answer: the same sequences, nothing stored twice.
    auto second = m_transport->push(tablet.device, tablet.session.token, batch, 0);
    QVERIFY2(second.isOk(), describe(second.error()).c_str());
    QVERIFY(second.value().seqs == first.value().seqs);
    QCOMPARE(second.value().stored, std::size_t{0});
    QCOMPARE(second.value().duplicates, ops.size());

    // Pages of 6 ops: every op pushed comes back, byte for byte, once.
    int pages = 0;
    std::uint64_t cursor = 0;
    std::vector<std::string> pulled = pullAll(*m_transport, tablet, 0, 6, &pages, &cursor);
    QVERIFY(pages >= 4);
    QVERIFY(cursor >= *distinct.rbegin());
    std::set<std::string> got(pulled.begin(), pulled.end());
    QCOMPARE(got.size(), pulled.size());
    for (const crdt::Op& op : ops) QVERIFY(got.count(crdt::encodeOp(op)) == 1);
    for (const std::string& bytes : pulled) QVERIFY(crdt::decodeOp(bytes).isOk());

    // Nothing new: one page, no ops, the same cursor.
    sync::PullRequest again;
    again.since = cursor;
    auto empty = m_transport->pull(tablet.device, tablet.session.token, again);
    QVERIFY2(empty.isOk(), describe(empty.error()).c_str());
    QVERIFY(empty.value().ops.empty());
    QCOMPARE(empty.value().next, cursor);
    QVERIFY(!empty.value().more);
  }

  void pullOnePatientWithAnAwkwardId() {
    Tablet tablet;
    QVERIFY(newTablet(*m_transport, m_server.url(), &tablet));
    // Spaces, '&', '=', '?', '/', '%' and non-ASCII must survive the query string.
    const std::string awkward = "bed 7 & ward=3/x?y%20z \xc3\xa9";
    Chart chart(tablet.enrolment.replica, "nurse", awkward, 1);
    Chart other(tablet.enrolment.replica, "nurse", "transport-plain-patient", 50);
    std::vector<crdt::Op> ops = {chart.write(crdt::field::kFamilyName, std::string("Okafor")),
                                 other.write(crdt::field::kFamilyName, std::string("Mensah")),
                                 chart.write(crdt::field::kGivenNames, std::string("Ada"))};
    auto pushed = m_transport->push(tablet.device, tablet.session.token, crdt::encodeBatch(ops), 0);
    QVERIFY2(pushed.isOk(), describe(pushed.error()).c_str());
    QCOMPARE(pushed.value().stored, std::size_t{3});
    int pages = 0;
    std::uint64_t cursor = 0;
    std::vector<std::string> pulled = pullAll(*m_transport, tablet, 0, 0, &pages, &cursor, awkward);
    QCOMPARE(pulled.size(), std::size_t{2});
    QVERIFY(pulled[0] == crdt::encodeOp(ops[0]));
    QVERIFY(pulled[1] == crdt::encodeOp(ops[2]));
  }

  void reportReachesTheDeviceList() {
    Tablet tablet;
    QVERIFY(newTablet(*m_transport, m_server.url(), &tablet));
    sync::DeviceReport report;
    report.pendingOps = 42;
    report.lastError = "network: TLS handshake failed";
    auto r = m_transport->report(tablet.device, tablet.session.token, report);
    QVERIFY2(r.isOk(), describe(r.error()).c_str());

    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    HttpResult list = admin.get("/v1/admin/devices");
    QCOMPARE(list.status, 200);
    json::Value v = parseJson(list.body);
    bool found = false;
    for (const json::Value& d : *v.find("devices")->asArray()) {
      if (str(d, "id") != tablet.device.deviceId) continue;
      found = true;
      QCOMPARE(num(d, "pending_ops"), std::int64_t{42});
      QCOMPARE(QString::fromStdString(str(d, "last_error")), QStringLiteral("network: TLS handshake failed"));
    }
    QVERIFY(found);
  }

  void sendAudit() {
    Tablet tablet;
    QVERIFY(newTablet(*m_transport, m_server.url(), &tablet));
    const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
    std::vector<sync::DeviceAuditEvent> events = {
        {1, now - 2000, "nurse", "replica.unlock", "", "{}"},
        {2, now - 1000, "nurse", "chart.read", "transport-patient-0", R"({"view":"summary"})"},
        {3, now, "nurse", "chart.break_glass", "transport-patient-1", R"({"reason":"emergency"})"},
    };
    auto r = m_transport->sendAudit(tablet.device, tablet.session.token, events);
    if (!r.isOk() && r.error().httpStatus == 404) {
      QSKIP("the server has no POST /v1/sync/audit yet");
    }
    QVERIFY2(r.isOk(), describe(r.error()).c_str());
    QCOMPARE(r.value().acked, std::uint64_t{3});
    // Sent again (a lost answer): still acknowledged, not an error.
    auto again = m_transport->sendAudit(tablet.device, tablet.session.token, events);
    QVERIFY2(again.isOk(), describe(again.error()).c_str());
    QCOMPARE(again.value().acked, std::uint64_t{3});
  }

  void revokedDeviceIsToldToWipe() {
    Tablet tablet;
    QVERIFY(newTablet(*m_transport, m_server.url(), &tablet));
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    HttpResult revoked = admin.post("/v1/admin/devices/" + tablet.device.deviceId + "/revoke", json::Object{});
    QVERIFY2(revoked.status == 200, revoked.body.c_str());
    auto page = m_transport->pull(tablet.device, tablet.session.token, sync::PullRequest{});
    QVERIFY(!page.isOk());
    QVERIFY2(page.error().kind == Kind::kRevoked, describe(page.error()).c_str());
    QCOMPARE(page.error().httpStatus, 410);
    QCOMPARE(QString::fromStdString(page.error().code), QStringLiteral("device_revoked"));
    QVERIFY(!page.error().retryable());
    auto push = m_transport->push(tablet.device, tablet.session.token, crdt::encodeBatch({}), 0);
    QVERIFY(!push.isOk());
    QVERIFY(push.error().kind == Kind::kRevoked);
  }

  void unsafeHeaderValuesAreNeverSent() {
    const sync::TransportStats before = m_transport->stats();
    auto r = m_transport->pull(sync::DeviceCredential{"dev\r\nX-Evil: 1", "secret"}, "token", sync::PullRequest{});
    QVERIFY(!r.isOk());
    QVERIFY(r.error().kind == Kind::kRefused);
    QCOMPARE(r.error().httpStatus, 0);
    auto t = m_transport->pull(sync::DeviceCredential{"dev", "secret"}, "tok\nen", sync::PullRequest{});
    QVERIFY(!t.isOk());
    QVERIFY(t.error().kind == Kind::kRefused);
    auto colon = m_transport->pull(sync::DeviceCredential{"dev:1", "secret"}, "token", sync::PullRequest{});
    QVERIFY(!colon.isOk());
    QVERIFY(colon.error().kind == Kind::kRefused);
    QCOMPARE(m_transport->stats().requests, before.requests);
  }

  void statsCountRequestsAndBytes() {
    auto fresh = transportFor(m_server.url());
    QVERIFY(fresh != nullptr);
    QCOMPARE(fresh->stats().requests, std::uint64_t{0});
    auto h = fresh->health();
    QVERIFY(h.isOk());
    HttpResult raw = HttpClient(m_server.url()).get("/healthz");
    QCOMPARE(raw.status, 200);
    sync::TransportStats s = fresh->stats();
    QCOMPARE(s.requests, std::uint64_t{1});
    QCOMPARE(s.bytesSent, std::uint64_t{0});
    QCOMPARE(s.bytesReceived, static_cast<std::uint64_t>(raw.body.size()));
    auto bad = fresh->login(sync::DeviceCredential{}, "nobody-at-all", "wrong password");
    QVERIFY(!bad.isOk());
    s = fresh->stats();
    QCOMPARE(s.requests, std::uint64_t{2});
    QVERIFY(s.bytesSent > 20);                   // the JSON body of the sign-in
    QVERIFY(s.bytesReceived > raw.body.size());  // the error body counts too
  }

  void concurrentCallsOnOneTransport() {
    Tablet tablet;
    QVERIFY(newTablet(*m_transport, m_server.url(), &tablet));
    auto shared = transportFor(m_server.url());
    QVERIFY(shared != nullptr);
    constexpr int kThreads = 8;
    constexpr int kCalls = 12;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kCalls; ++i) {
          if ((t + i) % 2 == 0) {
            if (shared->health().isOk()) ++ok;
          } else {
            sync::PullRequest request;
            request.limit = 5;
            if (shared->pull(tablet.device, tablet.session.token, request).isOk()) ++ok;
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    QCOMPARE(ok.load(), kThreads * kCalls);
    QVERIFY(shared->stats().requests >= static_cast<std::uint64_t>(kThreads * kCalls));
  }

  void throttledSignInCarriesRetryAfter() {
    TestServer server;
    QVERIFY2(server.start(false), server.error.c_str());
    auto t = transportFor(server.url());
    QVERIFY(t != nullptr);
    bool throttled = false;
    for (int i = 0; i < 10 && !throttled; ++i) {
      auto r = t->login(sync::DeviceCredential{}, "admin", "wrong password " + std::to_string(i));
      QVERIFY(!r.isOk());
      if (r.error().kind == Kind::kThrottled) {
        throttled = true;
        QCOMPARE(r.error().httpStatus, 429);
        QCOMPARE(QString::fromStdString(r.error().code), QStringLiteral("too_many_attempts"));
        QVERIFY(r.error().retryAfterSeconds >= 1);
        QVERIFY(r.error().retryable());
      } else {
        QVERIFY2(r.error().kind == Kind::kAuth, describe(r.error()).c_str());
      }
    }
    QVERIFY(throttled);
    server.server->stop();
  }

  void stoppedServerIsANetworkError() {
    TestServer server;
    QVERIFY2(server.start(false), server.error.c_str());
    auto t = transportFor(server.url(), 5000);
    QVERIFY(t != nullptr);
    QVERIFY(t->health().isOk());
    server.server->stop();
    // A fresh transport: the in-process listener library keeps answering an
    // idle pooled connection after stop() (with a 404), which a stopped
    // server process never does.
    t = transportFor(server.url(), 5000);
    QVERIFY(t != nullptr);
    const auto start = std::chrono::steady_clock::now();
    auto h = t->health();
    QVERIFY(!h.isOk());
    QVERIFY2(h.error().kind == Kind::kNetwork, describe(h.error()).c_str());
    QCOMPARE(h.error().httpStatus, 0);
    QVERIFY(!h.error().message.empty());
    QVERIFY(h.error().retryable());
    QVERIFY(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));  // refused, not timed out
  }

  // A pooled keep-alive connection to a server that went away and came back
  // on the same port: the next call must not fail because of it.
  void restartedServerDoesNotFailTheNextCall() {
    TestServer server;
    QVERIFY2(server.start(false), server.error.c_str());
    auto t = transportFor(server.url(), 5000);
    QVERIFY(t != nullptr);
    for (int i = 0; i < 3; ++i) QVERIFY(t->health().isOk());
    server.server->stop();
    server.server.reset();
    auto restarted = server::Server::start(server.config);  // same data, same port
    QVERIFY2(restarted.isOk(), restarted.status().toString().c_str());
    server.server = std::move(restarted).value();
    for (int i = 0; i < 5; ++i) {
      auto h = t->health();
      QVERIFY2(h.isOk(), describe(h.error()).c_str());
    }
    server.server->stop();
  }

  // --- HTTPS ---

  void httpsTrustsExactlyTheGivenCertificate() {
    QTemporaryDir dir;
    QVERIFY(QDir().mkpath(dir.path() + "/a") && QDir().mkpath(dir.path() + "/b"));
    std::string certA, keyA, certB, keyB, certOther, keyOther, error;
    QVERIFY2(makeSelfSignedCert((dir.path() + "/a").toStdString(), &certA, &keyA, &error), error.c_str());
    QVERIFY2(makeSelfSignedCert((dir.path() + "/b").toStdString(), &certB, &keyB, &error), error.c_str());
    QVERIFY2(makeCertForOtherName(dir.path(), &certOther, &keyOther, &error), error.c_str());

    auto startTls = [&](const std::string& name, const std::string& cert, const std::string& key) {
      server::Config c;
      c.data = (dir.path() + "/" + QString::fromStdString(name)).toStdString();
      c.listen = "127.0.0.1:" + std::to_string(freePort());
      c.logFile = c.data + ".log";
      c.logLevel = "warn";
      c.tlsCert = cert;
      c.tlsKey = key;
      c.demo = true;
      return server::Server::start(c);
    };
    auto served = startTls("served", certA, keyA);
    QVERIFY2(served.isOk(), served.status().toString().c_str());
    std::unique_ptr<server::Server> tls = std::move(served).value();
    const std::string port = std::to_string(tls->port());

    auto trusting = transportFor("https://127.0.0.1:" + port, 10000, certA);
    QVERIFY(trusting != nullptr);
    auto h = trusting->health();
    QVERIFY2(h.isOk(), describe(h.error()).c_str());
    QCOMPARE(QString::fromStdString(h.value().status), QStringLiteral("ok"));
    auto byName = transportFor("https://localhost:" + port, 10000, certA);
    QVERIFY(byName != nullptr);
    QVERIFY(byName->health().isOk());

    // Another certificate, or the system's store: no answer is accepted.
    for (const std::string& ca : {certB, std::string()}) {
      auto distrusting = transportFor("https://127.0.0.1:" + port, 10000, ca);
      QVERIFY(distrusting != nullptr);
      auto refused = distrusting->health();
      QVERIFY(!refused.isOk());
      QVERIFY2(refused.error().kind == Kind::kNetwork, describe(refused.error()).c_str());
    }
    // Plain HTTP to the TLS port gets no usable answer either.
    auto plain = transportFor("http://127.0.0.1:" + port, 3000);
    QVERIFY(plain != nullptr);
    QVERIFY(!plain->health().isOk());
    tls->stop();

    // A trusted certificate that names another host: the host name is checked.
    auto misnamed = startTls("misnamed", certOther, keyOther);
    QVERIFY2(misnamed.isOk(), misnamed.status().toString().c_str());
    std::unique_ptr<server::Server> other = std::move(misnamed).value();
    auto checking = transportFor("https://127.0.0.1:" + std::to_string(other->port()), 10000, certOther);
    QVERIFY(checking != nullptr);
    auto wrongName = checking->health();
    QVERIFY(!wrongName.isOk());
    QVERIFY2(wrongName.error().kind == Kind::kNetwork, describe(wrongName.error()).c_str());
    other->stop();
  }

  // --- answers a correct server never gives ---

  void garbageAnswerIsAProtocolError() {
    ScriptedServer garbage(
        always("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 23\r\n\r\n"
               "<html>Captive!</html>\r\n"));
    auto t = transportFor(garbage.url());
    QVERIFY(t != nullptr);
    auto h = t->health();
    QVERIFY(!h.isOk());
    QVERIFY2(h.error().kind == Kind::kProtocol, describe(h.error()).c_str());
    QCOMPARE(h.error().httpStatus, 200);
    QVERIFY(!h.error().retryable());
    // Calls whose answer carries nothing still want JSON.
    auto r = t->report(sync::DeviceCredential{"d", "s"}, "t", sync::DeviceReport{});
    QVERIFY(!r.isOk());
    QVERIFY(r.error().kind == Kind::kProtocol);
  }

  void missingOrMistypedMembersAreProtocolErrors() {
    struct Case {
      const char* body;
      const char* mentions;  // the message names the member at fault
    };
    const std::vector<Case> healthCases = {
        {R"({"status":"ok","store":"sqlite"})", "epoch"},
        {R"({"status":"ok","store":"sqlite","epoch":7})", "epoch"},
        {R"(["status","ok"])", "not a JSON object"},
        {R"({"status":"ok","store":"sqlite","epoch":"e","status":"bad"})", "twice"},
    };
    for (const Case& c : healthCases) {
      ScriptedServer s(always(ScriptedServer::answer(200, "OK", c.body)));
      auto t = transportFor(s.url());
      auto h = t->health();
      QVERIFY2(!h.isOk(), c.body);
      QVERIFY2(h.error().kind == Kind::kProtocol, c.body);
      QVERIFY2(h.error().message.find(c.mentions) != std::string::npos, h.error().message.c_str());
    }
    const std::vector<Case> pushCases = {
        {R"({"epoch":"e","stored":1,"duplicates":0,"seqs":"1","rejected":[],"future_clock":[],"head":1})", "seqs"},
        {R"({"epoch":"e","stored":1,"duplicates":0,"seqs":[-1],"rejected":[],"future_clock":[],"head":1})", "seqs"},
        {R"({"epoch":"e","stored":1,"duplicates":0,"seqs":[1.5],"rejected":[],"future_clock":[],"head":1})", "seqs"},
        {R"({"epoch":"e","stored":1,"duplicates":0,"seqs":[1],"rejected":[{"index":0,"op":"1.1"}],)"
         R"("future_clock":[],"head":1})",
         "reason"},
        {R"({"epoch":"e","stored":1,"duplicates":0,"seqs":[1],"rejected":[],"future_clock":[3],"head":1})",
         "future_clock"},
        {R"({"epoch":"e","stored":1,"duplicates":0,"seqs":[1],"rejected":[],"future_clock":[]})", "head"},
    };
    for (const Case& c : pushCases) {
      ScriptedServer s(always(ScriptedServer::answer(200, "OK", c.body)));
      auto t = transportFor(s.url());
      auto p = t->push(sync::DeviceCredential{"d", "s"}, "t", "batch", 0);
      QVERIFY2(!p.isOk(), c.body);
      QVERIFY2(p.error().kind == Kind::kProtocol, c.body);
      QVERIFY2(p.error().message.find(c.mentions) != std::string::npos, p.error().message.c_str());
    }
    const std::vector<Case> pullCases = {
        {R"({"epoch":"e","ops":["AQID!"],"next":1,"more":false,"purge":[],"enter":[]})", "base64"},
        {R"({"epoch":"e","ops":["AQJ="],"next":1,"more":false,"purge":[],"enter":[]})", "base64"},  // stray bits
        {R"({"epoch":"e","ops":["AQ"],"next":1,"more":false,"purge":[],"enter":[]})", "base64"},
        {R"({"epoch":"e","ops":[],"next":1,"more":"no","purge":[],"enter":[]})", "more"},
        {R"({"epoch":"e","ops":[],"next":1,"more":false,"purge":[1],"enter":[]})", "purge"},
        {R"({"epoch":"e","ops":[],"next":3,"more":false,"purge":[]})", "enter"},
        {R"({"epoch":"e","ops":[],"next":4,"more":false,"purge":[],"enter":[]})", "behind"},
        {R"({"epoch":"e","ops":[],"next":5,"more":true,"purge":[],"enter":[]})", "more"},
    };
    for (const Case& c : pullCases) {
      ScriptedServer s(always(ScriptedServer::answer(200, "OK", c.body)));
      auto t = transportFor(s.url());
      sync::PullRequest request;
      request.since = 5;
      auto p = t->pull(sync::DeviceCredential{"d", "s"}, "t", request);
      QVERIFY2(!p.isOk(), c.body);
      QVERIFY2(p.error().kind == Kind::kProtocol, c.body);
      QVERIFY2(p.error().message.find(c.mentions) != std::string::npos, p.error().message.c_str());
    }
    const std::vector<Case> enrolCases = {
        {R"({"device_id":"d","device_secret":"s","replica_id":"0","clinic":"c","epoch":"e"})", "replica_id"},
        {R"({"device_id":"d","device_secret":"s","replica_id":"9223372036854775808","clinic":"c","epoch":"e"})",
         "replica_id"},
        {R"({"device_id":"d","device_secret":"s","replica_id":12,"clinic":"c","epoch":"e"})", "replica_id"},
        {R"({"device_id":"d:1","device_secret":"s","replica_id":"12","clinic":"c","epoch":"e"})", "device_id"},
    };
    for (const Case& c : enrolCases) {
      ScriptedServer s(always(ScriptedServer::answer(200, "OK", c.body)));
      auto t = transportFor(s.url());
      auto e = t->enrol("CODE", "tablet");
      QVERIFY2(!e.isOk(), c.body);
      QVERIFY2(e.error().kind == Kind::kProtocol, c.body);
      QVERIFY2(e.error().message.find(c.mentions) != std::string::npos, e.error().message.c_str());
    }
  }

  void newerServersMayAddMembers() {
    ScriptedServer s(always(ScriptedServer::answer(
        200, "OK",
        R"({"epoch":"e2","ops":["AQID","AAEC/w=="],"next":9,"more":false,"purge":["p1"],"enter":[],)"
        R"("shiny":{"new":[1,2,3]}})")));
    auto t = transportFor(s.url());
    sync::PullRequest request;
    request.since = 2;
    request.limit = 50;
    request.patient = "p 1";
    auto page = t->pull(sync::DeviceCredential{"dev-1", "se:cret"}, "tok", request);
    QVERIFY2(page.isOk(), describe(page.error()).c_str());
    QCOMPARE(page.value().ops.size(), std::size_t{2});
    QVERIFY(page.value().ops[0] == std::string("\x01\x02\x03", 3));
    QVERIFY(page.value().ops[1] == std::string("\x00\x01\x02\xff", 4));
    QCOMPARE(page.value().next, std::uint64_t{9});
    QVERIFY(page.value().purge == std::vector<std::string>{"p1"});
    QVERIFY(page.value().epoch == "e2");
    // What went over the wire: the query and both credentials.
    const std::string request0 = s.lastRequest();
    QVERIFY2(request0.rfind("GET /v1/sync/pull?since=2&limit=50&patient=p%201 HTTP/1.1\r\n", 0) == 0, request0.c_str());
    QCOMPARE(QString::fromStdString(headerOf(request0, "X-Charta-Device")), QStringLiteral("dev-1:se:cret"));
    QCOMPARE(QString::fromStdString(headerOf(request0, "Authorization")), QStringLiteral("Bearer tok"));
  }

  void pushSendsTheBatchAsItIs() {
    ScriptedServer s(always(ScriptedServer::answer(
        200, "OK",
        R"({"epoch":"e","stored":1,"duplicates":0,"seqs":[5,0],"rejected":[{"index":1,"op":"3.2","reason":"no"}],)"
        R"("future_clock":[0],"head":5})")));
    auto t = transportFor(s.url());
    const std::string batch("\x01\x00\xffops", 6);
    auto p = t->push(sync::DeviceCredential{"dev", "sec"}, "tok", batch, 12);
    QVERIFY2(p.isOk(), describe(p.error()).c_str());
    QVERIFY(p.value().seqs == (std::vector<std::uint64_t>{5, 0}));
    QCOMPARE(p.value().rejected.size(), std::size_t{1});
    QCOMPARE(p.value().rejected[0].index, std::size_t{1});
    QCOMPARE(QString::fromStdString(p.value().rejected[0].op), QStringLiteral("3.2"));
    QCOMPARE(QString::fromStdString(p.value().rejected[0].reason), QStringLiteral("no"));
    QVERIFY(p.value().futureClock == std::vector<std::size_t>{0});
    QCOMPARE(p.value().head, std::uint64_t{5});
    const std::string request = s.lastRequest();
    QVERIFY(request.rfind("POST /v1/sync/push HTTP/1.1\r\n", 0) == 0);
    QCOMPARE(QString::fromStdString(headerOf(request, "Content-Type")), QStringLiteral("application/x-charta-ops"));
    QCOMPARE(QString::fromStdString(headerOf(request, "X-Charta-Pending")), QStringLiteral("12"));
    QCOMPARE(QString::fromStdString(headerOf(request, "Content-Length")), QString::number(batch.size()));
    QVERIFY(request.size() > batch.size());
    QVERIFY(request.compare(request.size() - batch.size(), batch.size(), batch) == 0);
  }

  void auditAndReportBodies() {
    ScriptedServer s(always(ScriptedServer::answer(200, "OK", R"({"acked":2})")));
    auto t = transportFor(s.url());
    std::vector<sync::DeviceAuditEvent> events = {{1, 1700000000000, "nurse", "chart.read", "p-1", R"({"a":1})"},
                                                  {2, 1700000000001, "nurse", "replica.unlock", "", ""}};
    auto a = t->sendAudit(sync::DeviceCredential{"dev", "sec"}, "tok", events);
    QVERIFY2(a.isOk(), describe(a.error()).c_str());
    QCOMPARE(a.value().acked, std::uint64_t{2});
    std::string request = s.lastRequest();
    QVERIFY(request.rfind("POST /v1/sync/audit HTTP/1.1\r\n", 0) == 0);
    json::Value body = parseJson(request.substr(request.find("\r\n\r\n") + 4));
    const json::Array& sent = *body.find("events")->asArray();
    QCOMPARE(sent.size(), std::size_t{2});
    QCOMPARE(num(sent[0], "seq"), std::int64_t{1});
    QCOMPARE(num(sent[0], "at"), std::int64_t{1700000000000});
    QCOMPARE(QString::fromStdString(str(sent[0], "action")), QStringLiteral("chart.read"));
    QCOMPARE(QString::fromStdString(str(sent[0], "patient")), QStringLiteral("p-1"));
    QCOMPARE(QString::fromStdString(str(sent[0], "detail")), QStringLiteral(R"({"a":1})"));
    QCOMPARE(QString::fromStdString(str(sent[1], "detail")), QStringLiteral("{}"));
    QCOMPARE(QString::fromStdString(str(sent[1], "user")), QStringLiteral("nurse"));

    ScriptedServer r(always(ScriptedServer::answer(200, "OK", R"({"ok":true})")));
    auto tr = transportFor(r.url());
    auto rep = tr->report(sync::DeviceCredential{"dev", "sec"}, "tok", sync::DeviceReport{9, "boom"});
    QVERIFY2(rep.isOk(), describe(rep.error()).c_str());
    request = r.lastRequest();
    json::Value reported = parseJson(request.substr(request.find("\r\n\r\n") + 4));
    QCOMPARE(num(reported, "pending_ops"), std::int64_t{9});
    QCOMPARE(QString::fromStdString(str(reported, "last_error")), QStringLiteral("boom"));
  }

  void errorAnswersWithoutTheServersBody() {
    {
      ScriptedServer s(always(ScriptedServer::answer(503, "Service Unavailable",
                                                     R"({"error":{"code":"unavailable","message":"storage"}})",
                                                     "Retry-After: 7\r\n")));
      auto h = transportFor(s.url())->health();
      QVERIFY(!h.isOk());
      QVERIFY(h.error().kind == Kind::kServer);
      QCOMPARE(h.error().httpStatus, 503);
      QCOMPARE(h.error().retryAfterSeconds, 7);
      QCOMPARE(QString::fromStdString(h.error().code), QStringLiteral("unavailable"));
      QCOMPARE(QString::fromStdString(h.error().message), QStringLiteral("storage"));
    }
    {
      // A proxy's page: no JSON, still a server error to retry.
      ScriptedServer s(
          always("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n"
                 "<h1>502</h1>\n"));
      auto h = transportFor(s.url())->health();
      QVERIFY(!h.isOk());
      QVERIFY(h.error().kind == Kind::kServer);
      QCOMPARE(h.error().httpStatus, 502);
      QVERIFY(h.error().code.empty());
      QVERIFY(h.error().message.find("Bad Gateway") != std::string::npos);
    }
    {
      ScriptedServer s(always(
          ScriptedServer::answer(429, "Too Many Requests", R"({"error":{"code":"too_many_attempts","message":"wait"}})",
                                 "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n")));  // a date in the past: retry now
      auto h = transportFor(s.url())->health();
      QVERIFY(!h.isOk());
      QVERIFY(h.error().kind == Kind::kThrottled);
      QCOMPARE(h.error().retryAfterSeconds, 0);
    }
    {
      // 410 without "wipe": true is not a revocation.
      ScriptedServer s(
          always(ScriptedServer::answer(410, "Gone", R"({"error":{"code":"device_revoked","message":"x"}})")));
      auto h = transportFor(s.url())->health();
      QVERIFY(!h.isOk());
      QVERIFY(h.error().kind == Kind::kRefused);
    }
    {
      ScriptedServer s(always(ScriptedServer::answer(
          410, "Gone", R"({"error":{"code":"device_revoked","message":"wipe it"},"wipe":true})")));
      auto h = transportFor(s.url())->health();
      QVERIFY(!h.isOk());
      QVERIFY(h.error().kind == Kind::kRevoked);
    }
    {
      ScriptedServer s(always("HTTP/1.1 302 Found\r\nLocation: http://portal.example/\r\nContent-Length: 0\r\n\r\n"));
      auto h = transportFor(s.url())->health();
      QVERIFY(!h.isOk());
      QVERIFY2(h.error().kind == Kind::kProtocol, describe(h.error()).c_str());
      QCOMPARE(h.error().httpStatus, 302);
    }
  }

  void answerCutMidBodyIsANetworkError() {
    ScriptedServer s(
        always("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
               "{\"status\":\"ok\",\"sto"));  // not a raw string: moc would count its brace
    auto t = transportFor(s.url());
    auto h = t->health();
    QVERIFY(!h.isOk());
    QVERIFY2(h.error().kind == Kind::kNetwork, describe(h.error()).c_str());
    QCOMPARE(h.error().httpStatus, 0);
    QCOMPARE(s.connections(), 1);  // an answer had begun: never sent again
  }

  void silentServerTimesOut() {
    std::atomic<bool> release{false};
    ScriptedServer s([&](int, int, const std::string&) {
      for (int i = 0; i < 100 && !release; ++i) std::this_thread::sleep_for(Ms(20));
    });
    auto t = transportFor(s.url(), 300);
    const auto start = std::chrono::steady_clock::now();
    auto h = t->health();
    const auto took = std::chrono::steady_clock::now() - start;
    release = true;
    QVERIFY(!h.isOk());
    QVERIFY2(h.error().kind == Kind::kNetwork, describe(h.error()).c_str());
    QVERIFY(took >= Ms(250));
    QVERIFY(took < Ms(3000));
  }

  void tricklingServerHitsTheDeadline() {
    // One byte every 50 ms never trips an inactivity timer; the deadline
    // covers the whole call.
    std::atomic<bool> release{false};
    ScriptedServer s([&](int fd, int, const std::string&) {
      if (!ScriptedServer::send(fd,
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n")) {
        return;
      }
      for (int i = 0; i < 500 && !release; ++i) {
        if (!ScriptedServer::send(fd, " ")) return;
        std::this_thread::sleep_for(Ms(50));
      }
    });
    auto t = transportFor(s.url(), 600);
    const auto start = std::chrono::steady_clock::now();
    auto h = t->health();
    const auto took = std::chrono::steady_clock::now() - start;
    release = true;
    QVERIFY(!h.isOk());
    QVERIFY2(h.error().kind == Kind::kNetwork, describe(h.error()).c_str());
    QVERIFY(took < Ms(4000));  // the trickle alone would last 25 s
  }

  // A server that closes each keep-alive connection right after answering (an
  // idle timeout), gracefully or with a reset: every call finds its pooled
  // connection dead, and none fails. (The library resends by itself after a
  // graceful close; after a reset its write fails and the transport resends.)
  void idleConnectionsClosedByTheServerDoNotFailCalls_data() {
    QTest::addColumn<bool>("reset");
    QTest::newRow("close") << false;
    QTest::newRow("reset") << true;
  }
  void idleConnectionsClosedByTheServerDoNotFailCalls() {
    QFETCH(bool, reset);
    const std::string good = ScriptedServer::answer(200, "OK", R"({"status":"ok","store":"sqlite","epoch":"e"})");
    ScriptedServer s([&](int fd, int, const std::string&) {
      ScriptedServer::send(fd, good);
      if (reset) {
        std::this_thread::sleep_for(Ms(10));  // let the answer leave before the reset
        const linger abortive{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
      }
    });
    auto t = transportFor(s.url());
    constexpr int kCalls = 6;
    for (int i = 0; i < kCalls; ++i) {
      auto h = t->health();
      QVERIFY2(h.isOk(), describe(h.error()).c_str());
      std::this_thread::sleep_for(Ms(30));  // the close reaches the client before the next call
    }
    QCOMPARE(s.connections(), kCalls);
    QVERIFY(t->stats().requests >= static_cast<std::uint64_t>(kCalls));
    QVERIFY(t->stats().requests <= static_cast<std::uint64_t>(2 * kCalls));
  }

  void connectionDroppedBeforeAnswerIsSentOnceMore() {
    // The first connection is closed without a word (a dead pooled
    // connection looks like this); the second is answered.
    const std::string good = ScriptedServer::answer(200, "OK", R"({"status":"ok","store":"sqlite","epoch":"e"})");
    ScriptedServer s([&](int fd, int connection, const std::string&) {
      if (connection > 0) ScriptedServer::send(fd, good);
    });
    auto t = transportFor(s.url());
    auto h = t->health();
    QVERIFY2(h.isOk(), describe(h.error()).c_str());
    QCOMPARE(s.connections(), 2);
    QCOMPARE(t->stats().requests, std::uint64_t{2});

    // Enrolment is never sent twice: a code works once.
    ScriptedServer e([&](int fd, int connection, const std::string&) {
      if (connection > 0) ScriptedServer::send(fd, good);
    });
    auto te = transportFor(e.url());
    auto enrolled = te->enrol("CODE", "tablet");
    QVERIFY(!enrolled.isOk());
    QVERIFY2(enrolled.error().kind == Kind::kNetwork, describe(enrolled.error()).c_str());
    QCOMPARE(e.connections(), 1);

    // A server that never answers is given up on after the second try.
    ScriptedServer dead([](int, int, const std::string&) {});
    auto td = transportFor(dead.url());
    auto none = td->health();
    QVERIFY(!none.isOk());
    QVERIFY(none.error().kind == Kind::kNetwork);
    QCOMPARE(dead.connections(), 2);
  }
};

QTEST_GUILESS_MAIN(TransportTest)
#include "transport_test.moc"
