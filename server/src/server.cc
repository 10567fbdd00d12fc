#include "charta/server/server.h"

#include "accounts.h"
#include "api.h"
#include "crypto.h"
#include "demo.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "sync.h"

namespace charta::server {
namespace {

class RunningServer final : public Server {
 public:
  RunningServer(std::unique_ptr<Logger> log, std::unique_ptr<Store> store, const Config& config)
      : m_log(std::move(log)), m_store(std::move(store)), m_api(config, *m_store, *m_log) {}
  ~RunningServer() override { stop(); }

  Status listen(const Config& config) {
    HttpServerOptions options;
    options.host = config.host();
    options.port = config.port();
    options.maxBodyBytes = config.maxBodyBytes;
    options.bodyLimit = [this](const HttpRequest& head) { return m_api.bodyLimit(head); };
    options.tlsCertFile = config.tlsCert;
    options.tlsKeyFile = config.tlsKey;
    auto http = HttpServer::start(options, [this](const HttpRequest& req) { return m_api.handle(req); });
    if (!http.isOk()) return http.status();
    m_http = std::move(http).value();
    m_log->info("server.listening", {{"listen", config.listen},
                                     {"tls", !config.tlsCert.empty()},
                                     {"store", m_store->backendName()},
                                     {"epoch", m_store->epoch()}});
    return Status::ok();
  }

  std::uint16_t port() const override { return m_http ? m_http->port() : 0; }
  std::string epoch() override { return m_store->epoch(); }
  void stop() override {
    if (m_http) {
      m_http->stop();
      m_http.reset();
      m_log->info("server.stopped");
    }
  }

 private:
  std::unique_ptr<Logger> m_log;
  std::unique_ptr<Store> m_store;
  Api m_api;
  std::unique_ptr<HttpServer> m_http;
};

}  // namespace

crdt::Result<std::unique_ptr<Server>> Server::start(const Config& config) {
  Status s = validateConfig(config);
  if (!s.isOk()) return s;
  s = initCrypto();
  if (!s.isOk()) return s;
  auto log = Logger::open(config.logFile, Logger::parseLevel(config.logLevel).value_or(Logger::Level::kInfo));
  if (!log.isOk()) return log.status();
  auto store = Store::open(config);
  if (!store.isOk()) return store.status();
  if (config.demo) {
    s = prepareDemo(*store.value(), config, *log.value());
    if (!s.isOk()) return s;
  }
  // A store made by an older server has charts but no break-glass keys. Built
  // here rather than at the first break-glass, which should not wait for it;
  // a failure only delays them to that call, sync does not depend on them.
  bool keysBuilt = false;
  s = store.value()->write([&](WriteTx& tx) -> Status {
    auto built = ensurePatientKeys(tx);
    if (!built.isOk()) return built.status();
    keysBuilt = built.value();
    return Status::ok();
  });
  if (!s.isOk()) {
    log.value()->error("store.patient_keys_failed", {{"message", s.toString()}});
  } else if (keysBuilt) {
    log.value()->info("store.patient_keys_built", {{"by", "start"}});
  }
  auto server = std::make_unique<RunningServer>(std::move(log).value(), std::move(store).value(), config);
  s = server->listen(config);
  if (!s.isOk()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace charta::server
