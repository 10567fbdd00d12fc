// The HTTP adapter against hostile input and over TLS: malformed requests,
// broken framing, stalled uploads, certificates that must not be accepted.

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http.h"
#include "support/http_client.h"
#include "support/tls_cert.h"

using charta::server::HttpHandler;
using charta::server::HttpRequest;
using charta::server::HttpResponse;
using charta::server::HttpServer;
using charta::server::HttpServerOptions;
using charta::server::Status;
using charta::test::freePort;
using charta::test::HttpClient;
using charta::test::HttpResult;
using charta::test::makeSelfSignedCert;
using charta::test::rawHttp;

namespace {

// Answers {"path":..., "tls":..., "bytes":N} without JSON escaping needs:
// the test only sends plain paths.
HttpHandler countingHandler(const std::shared_ptr<std::atomic<int>>& calls) {
  return [calls](const HttpRequest& request) {
    ++*calls;
    HttpResponse response;
    response.body = std::string("{\"tls\":") + (request.tls ? "true" : "false") +
                    ",\"bytes\":" + std::to_string(request.body.size()) + "}";
    return response;
  };
}

struct Cert {
  std::string cert, key;
};

Cert makeCert(const QTemporaryDir& dir, const char* sub) {
  const std::string path = dir.path().toStdString() + "/" + sub;
  QDir().mkpath(QString::fromStdString(path));
  Cert c;
  std::string error;
  if (!makeSelfSignedCert(path, &c.cert, &c.key, &error)) qWarning("%s", error.c_str());
  return c;
}

bool is4xxOrClosed(const HttpResult& r) { return (r.status >= 400 && r.status < 500) || r.status == 0; }

}  // namespace

class HttpHostileTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_a = makeCert(m_dir, "a");
    m_b = makeCert(m_dir, "b");
    QVERIFY(!m_a.cert.empty() && !m_b.cert.empty());
  }

  // --- malformed plain HTTP ---

  void malformedRequestsGet4xxOrAClosedConnection() {
    auto calls = std::make_shared<std::atomic<int>>(0);
    HttpServerOptions options;
    options.port = freePort();
    auto server = HttpServer::start(options, countingHandler(calls));
    QVERIFY(server.isOk());
    const std::uint16_t port = options.port;

    const std::vector<std::string> hostile = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColonHeader\r\n\r\n",
        "GET /a\x01"
        "b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /\xC3\xA9 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /?a=%G0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n",
        "G\xE9T / HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nxyz",
        // The library reads "-5" as a huge length and waits for body bytes
        // before any reply can go out: this one ends by the client's timeout.
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(64, '\0'),
        std::string(1, '\0') + "\r\n\r\n",
        "\r\n\r\n",
    };
    for (const std::string& bytes : hostile) {
      HttpResult r = rawHttp("127.0.0.1", port, bytes);
      QVERIFY2(is4xxOrClosed(r),
               qPrintable(QString("status %1 for %2").arg(r.status).arg(QString::fromLatin1(bytes.c_str()))));
      // Still serving.
      QVERIFY(HttpClient("http://127.0.0.1:" + std::to_string(port)).get("/ok").status == 200);
    }
    // None of them reached the handler: the calls are the "/ok" requests.
    QVERIFY(*calls == static_cast<int>(hostile.size()));
  }

  void truncatedAndStalledUploadsDoNotHurt() {
    auto calls = std::make_shared<std::atomic<int>>(0);
    HttpServerOptions options;
    options.port = freePort();
    auto server = HttpServer::start(options, countingHandler(calls));
    QVERIFY(server.isOk());
    const std::uint16_t port = options.port;

    // Fewer bytes than declared, then the client goes away: no handler call.
    std::vector<std::thread> stalls;
    for (int i = 0; i < 8; ++i) {
      stalls.emplace_back([port] {
        rawHttp("127.0.0.1", port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
      });
    }
    // Meanwhile others are served.
    HttpClient client("http://127.0.0.1:" + std::to_string(port));
    for (int i = 0; i < 20; ++i) QVERIFY(client.post("/", "{}").status == 200);
    for (auto& t : stalls) t.join();
    QVERIFY(*calls == 20);
    QVERIFY(client.get("/").status == 200);
  }

  void stopDoesNotHangOnAStalledUpload() {
    auto calls = std::make_shared<std::atomic<int>>(0);
    HttpServerOptions options;
    options.port = freePort();
    auto server = HttpServer::start(options, countingHandler(calls));
    QVERIFY(server.isOk());
    HttpResult stalled;
    std::thread uploader([&] {
      stalled = rawHttp("127.0.0.1", options.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto before = std::chrono::steady_clock::now();
    server.value()->stop();
    const auto took = std::chrono::steady_clock::now() - before;
    uploader.join();
    QVERIFY(took < std::chrono::milliseconds(charta::server::kStopGraceMs + 3000));
    QVERIFY(*calls == 0);
    QVERIFY(stalled.status == 0 || stalled.status >= 500);
  }

  // --- TLS ---

  void servesHttpsToAClientTrustingTheCertificate() {
    auto calls = std::make_shared<std::atomic<int>>(0);
    HttpServerOptions options;
    options.port = freePort();
    options.tlsCertFile = m_a.cert;
    options.tlsKeyFile = m_a.key;
    auto server = HttpServer::start(options, countingHandler(calls));
    QVERIFY2(server.isOk(), server.status().toString().c_str());
    const std::string port = std::to_string(options.port);

    HttpClient trusting("https://127.0.0.1:" + port, m_a.cert);
    HttpResult r = trusting.post("/secure", std::string(100000, 's'));
    QVERIFY2(r.status == 200, r.error.c_str());
    QVERIFY(r.body == "{\"tls\":true,\"bytes\":100000}");
    // The certificate also names localhost.
    HttpResult byName = HttpClient("https://localhost:" + port, m_a.cert).get("/");
    QVERIFY2(byName.status == 200, byName.error.c_str());
    QVERIFY(*calls == 2);

    // A client trusting nothing, or another certificate, gets no answer.
    HttpResult untrusted = HttpClient("https://127.0.0.1:" + port).get("/");
    QVERIFY(untrusted.status == 0);
    QVERIFY(!untrusted.error.empty());
    HttpResult otherCa = HttpClient("https://127.0.0.1:" + port, m_b.cert).get("/");
    QVERIFY(otherCa.status == 0);
    QVERIFY(!otherCa.error.empty());

    // Plain HTTP to the HTTPS port fails.
    HttpResult plain = HttpClient("http://127.0.0.1:" + port).get("/");
    QVERIFY(plain.status == 0);
    QVERIFY(!plain.error.empty());
    HttpResult raw = rawHttp("127.0.0.1", options.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    QVERIFY(raw.status == 0);
    QVERIFY(*calls == 2);

    // And it still serves.
    QVERIFY(trusting.get("/again").status == 200);
    QVERIFY(*calls == 3);
  }

  void startFailsOnBadTlsFiles() {
    auto handler = countingHandler(std::make_shared<std::atomic<int>>(0));
    HttpServerOptions options;
    options.port = freePort();

    const auto expectIoError = [&](const std::string& cert, const std::string& key, const std::string& named) {
      HttpServerOptions o = options;
      o.tlsCertFile = cert;
      o.tlsKeyFile = key;
      auto r = HttpServer::start(o, handler);
      QVERIFY(!r.isOk());
      QVERIFY(r.status().code() == Status::Code::kIoError);
      QVERIFY2(r.status().message().find(named) != std::string::npos, r.status().message().c_str());
    };

    // A key that does not belong to the certificate.
    expectIoError(m_a.cert, m_b.key, m_b.key);
    // Missing files.
    const std::string missing = m_dir.path().toStdString() + "/missing.pem";
    expectIoError(missing, m_a.key, missing);
    expectIoError(m_a.cert, missing, missing);
    // Not PEM at all; key and certificate swapped.
    const std::string junk = m_dir.path().toStdString() + "/junk.pem";
    std::ofstream(junk) << "not a certificate\n";
    expectIoError(junk, m_a.key, junk);
    expectIoError(m_a.cert, junk, junk);
    expectIoError(m_a.key, m_a.cert, m_a.key);
    // An encrypted key fails at once (no passphrase prompt).
    const std::string encrypted = m_dir.path().toStdString() + "/encrypted.pem";
    QProcess openssl;
    openssl.start("openssl", {"pkey", "-in", QString::fromStdString(m_a.key), "-out", QString::fromStdString(encrypted),
                              "-aes256", "-passout", "pass:secret"});
    QVERIFY(openssl.waitForFinished(30000));
    QVERIFY(openssl.exitCode() == 0);
    expectIoError(m_a.cert, encrypted, encrypted);

    // The port was not left taken.
    HttpServerOptions ok = options;
    ok.tlsCertFile = m_a.cert;
    ok.tlsKeyFile = m_a.key;
    auto started = HttpServer::start(ok, handler);
    QVERIFY2(started.isOk(), started.status().toString().c_str());
  }

 private:
  QTemporaryDir m_dir;
  Cert m_a, m_b;
};

QTEST_APPLESS_MAIN(HttpHostileTest)
#include "http_hostile_test.moc"
