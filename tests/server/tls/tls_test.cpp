// The sync server over HTTPS: a self-signed certificate made by the test,
// clients that trust it (or not), plain HTTP to the TLS port, and the TLS
// settings start() refuses; a client offering only TLS 1.0 or 1.1 is refused.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest>
#include <memory>
#include <string>

#include "charta/server/server.h"
#include "support/http_client.h"
#include "support/tls_cert.h"

using namespace charta;
using namespace charta::test;

namespace {

// A TLS handshake with the server by a client that offers versions up to
// `maxVersion` (and, at OpenSSL security level 0, as old as TLS 1.0). The
// version agreed, or "" when the server refused the handshake.
std::string handshake(std::uint16_t port, int maxVersion) {
  std::string agreed;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return agreed;
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, maxVersion);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // only the version is under test
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) agreed = SSL_get_version(ssl);
    SSL_free(ssl);
  }
  if (fd >= 0) ::close(fd);
  SSL_CTX_free(ctx);
  return agreed;
}

}  // namespace

class TlsTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  std::string m_certA, m_keyA, m_certB, m_keyB;
  std::unique_ptr<server::Server> m_server;
  std::uint16_t m_port = 0;

  server::Config config(const std::string& name) {
    server::Config c;
    c.data = m_dir.path().toStdString() + "/" + name;
    c.listen = "127.0.0.1:" + std::to_string(freePort());
    c.logFile = m_dir.path().toStdString() + "/" + name + ".log";
    c.logLevel = "warn";
    return c;
  }

  std::string https() const { return "https://127.0.0.1:" + std::to_string(m_port); }

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    std::string error;
    QVERIFY(QDir().mkpath(m_dir.path() + "/a") && QDir().mkpath(m_dir.path() + "/b"));
    QVERIFY2(makeSelfSignedCert(m_dir.path().toStdString() + "/a", &m_certA, &m_keyA, &error), error.c_str());
    QVERIFY2(makeSelfSignedCert(m_dir.path().toStdString() + "/b", &m_certB, &m_keyB, &error), error.c_str());

    server::Config c = config("served");
    c.tlsCert = m_certA;
    c.tlsKey = m_keyA;
    c.demo = true;
    auto s = server::Server::start(c);
    QVERIFY2(s.isOk(), s.status().toString().c_str());
    m_server = std::move(s).value();
    m_port = m_server->port();
    QVERIFY(m_port != 0);
  }

  void cleanupTestCase() {
    if (m_server) m_server->stop();
  }

  void trustingClientGetsHealthz() {
    HttpClient client(https(), m_certA);
    HttpResult r = client.get("/healthz");
    QVERIFY2(r.status == 200, (r.body + r.error).c_str());
    QVERIFY(r.body.find("\"status\":\"ok\"") != std::string::npos);
    // By name too: the certificate also names localhost.
    HttpResult byName = HttpClient("https://localhost:" + std::to_string(m_port), m_certA).get("/healthz");
    QVERIFY2(byName.status == 200, (byName.body + byName.error).c_str());
    // The API itself over TLS: the demo sysadmin signs in.
    HttpResult login = client.post("/v1/login", R"({"username":"admin","password":"demo-admin-pass"})");
    QVERIFY2(login.status == 200, login.body.c_str());
    QVERIFY(login.body.find("\"token\"") != std::string::npos);
  }

  // Under TLS the console's session cookie is Secure: a browser never sends
  // it over plain HTTP.
  void consoleCookieIsSecureUnderTls() {
    HttpClient client(https(), m_certA);
    HttpResult in = client.post("/v1/console/session", R"({"username":"admin","password":"demo-admin-pass"})");
    QVERIFY2(in.status == 200, (in.body + in.error).c_str());
    const std::string* cookie = in.header("set-cookie");
    QVERIFY(cookie);
    QVERIFY(cookie->find("; Secure") != std::string::npos);
    QVERIFY(cookie->find("HttpOnly") != std::string::npos);
    QVERIFY(cookie->find("SameSite=Strict") != std::string::npos);
    HttpResult page = client.get("/admin");
    QCOMPARE(page.status, 200);
    QVERIFY(page.header("content-security-policy"));
  }

  void clientTrustingNothingFails() {
    HttpResult r = HttpClient(https()).get("/healthz");
    QCOMPARE(r.status, 0);
    QVERIFY(!r.error.empty());
    // Trusting another certificate is no better.
    HttpResult other = HttpClient(https(), m_certB).get("/healthz");
    QCOMPARE(other.status, 0);
    QVERIFY(!other.error.empty());
  }

  void plainHttpGetsNoAnswer() {
    HttpResult viaClient = HttpClient("http://127.0.0.1:" + std::to_string(m_port)).get("/healthz");
    QVERIFY2(viaClient.status != 200, viaClient.body.c_str());
    QVERIFY(viaClient.body.find("\"status\":\"ok\"") == std::string::npos);
    HttpResult raw =
        rawHttp("127.0.0.1", m_port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QVERIFY2(raw.status != 200, raw.body.c_str());
    QVERIFY(raw.body.find("\"status\":\"ok\"") == std::string::npos);
    // The TLS port still serves TLS clients afterwards.
    QCOMPARE(HttpClient(https(), m_certA).get("/healthz").status, 200);
  }

  // TLS below 1.2 is refused; 1.2 and 1.3 are served (so the refusal is the
  // server's, not this client's).
  void tlsBelow12IsRefused() {
    QCOMPARE(handshake(m_port, TLS1_VERSION), std::string());
    QCOMPARE(handshake(m_port, TLS1_1_VERSION), std::string());
    QCOMPARE(handshake(m_port, TLS1_2_VERSION), std::string("TLSv1.2"));
    QCOMPARE(handshake(m_port, TLS1_3_VERSION), std::string("TLSv1.3"));
  }

  void halfATlsConfigurationDoesNotStart() {
    server::Config certOnly = config("cert-only");
    certOnly.tlsCert = m_certA;
    auto a = server::Server::start(certOnly);
    QVERIFY(!a.isOk());
    QVERIFY2(a.status().message().find("tls_cert and tls_key go together") != std::string::npos,
             a.status().toString().c_str());
    server::Config keyOnly = config("key-only");
    keyOnly.tlsKey = m_keyA;
    auto b = server::Server::start(keyOnly);
    QVERIFY(!b.isOk());
    QVERIFY2(b.status().message().find("tls_cert and tls_key") != std::string::npos, b.status().toString().c_str());
  }

  void keyNotMatchingTheCertificateDoesNotStart() {
    server::Config c = config("mismatch");
    c.tlsCert = m_certA;
    c.tlsKey = m_keyB;
    auto s = server::Server::start(c);
    QVERIFY(!s.isOk());
    const std::string message = s.status().message();
    QVERIFY2(message.find("does not match") != std::string::npos || message.find("mismatch") != std::string::npos,
             message.c_str());
    QVERIFY2(message.find(m_keyB) != std::string::npos, message.c_str());
    // Nothing listens on the port it was given.
    QCOMPARE(HttpClient("http://" + c.listen).get("/healthz").status, 0);
  }

  void unreadableTlsFilesDoNotStart() {
    server::Config c = config("missing");
    c.tlsCert = m_dir.path().toStdString() + "/no-such-cert.pem";
    c.tlsKey = m_keyA;
    auto s = server::Server::start(c);
    QVERIFY(!s.isOk());
    QVERIFY2(s.status().message().find("no-such-cert.pem") != std::string::npos, s.status().toString().c_str());
    // A key file that holds a certificate, not a key.
    server::Config swapped = config("swapped");
    swapped.tlsCert = m_certA;
    swapped.tlsKey = m_certA;
    auto t = server::Server::start(swapped);
    QVERIFY(!t.isOk());
    QVERIFY2(t.status().message().find("key") != std::string::npos, t.status().toString().c_str());
  }
};

QTEST_GUILESS_MAIN(TlsTest)
#include "tls_test.moc"
