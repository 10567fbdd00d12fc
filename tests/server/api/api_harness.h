// A charta-server started in process on loopback, on SQLite or on a fresh
// PostgreSQL database, and a tablet-like client that enrols, signs in,
// pushes, pulls and uploads its audit events over real HTTP. Shared by the
// API suites.
#pragma once

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "charta/crdt/op_codec.h"
#include "charta/crdt/op_factory.h"
#include "charta/server/server.h"
#include "json.h"
#include "support/http_client.h"
#include "support/postgres.h"

namespace charta::test {

namespace json = server::json;

inline json::Value parseJson(const std::string& body) {
  auto v = json::parse(body);
  return v.isOk() ? v.value() : json::Value();
}

inline std::string str(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->asString() ? *m->asString() : std::string();
}

inline std::int64_t num(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->asInt() ? *m->asInt() : -1;
}

// The error code of a JSON error body, "" when the body is not one.
inline std::string errorCode(const HttpResult& r) {
  json::Value v = parseJson(r.body);
  const json::Value* e = v.find("error");
  return e ? str(*e, "code") : std::string();
}

struct TestServer {
  QTemporaryDir dir;
  server::Config config;
  std::unique_ptr<server::Server> server;
  std::string error;

  // Starts a server with the demo clinic. `postgres`: a fresh database.
  bool start(bool postgres, const std::string& conninfo = {}) {
    config.data = dir.path().toStdString() + "/data";
    if (postgres) {
      config.postgres = conninfo.empty() ? newPostgresDatabase(&error) : conninfo;
      if (config.postgres.empty()) return false;
    }
    config.listen = "127.0.0.1:" + std::to_string(freePort());
    config.demo = true;
    config.logFile = dir.path().toStdString() + "/server.log";
    config.logLevel = "warn";
    config.maxBodyBytes = 1u << 20;
    auto s = server::Server::start(config);
    if (!s.isOk()) {
      error = s.status().toString();
      return false;
    }
    server = std::move(s).value();
    return true;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
  std::string demoCode() const {
    std::ifstream in(config.data + "/demo-enrolment-code");
    std::string code;
    std::getline(in, code);
    return code;
  }
};

// One event of a device's audit upload (POST /v1/sync/audit), recorded by
// `user` at the current time.
inline json::Value deviceAuditEvent(std::int64_t seq, const std::string& user, const std::string& action,
                                    const std::string& patient = {}, const std::string& detail = "{}") {
  return json::Object{{"seq", seq},
                      {"at", static_cast<std::int64_t>(QDateTime::currentMSecsSinceEpoch())},
                      {"user", user},
                      {"action", action},
                      {"patient", patient},
                      {"detail", detail}};
}

// A signed-in user of the admin API (no device).
struct AdminClient {
  HttpClient http;
  std::string token;
  explicit AdminClient(const std::string& url) : http(url) {}

  HttpResult login(const std::string& user, const std::string& password) {
    HttpResult r = http.post("/v1/login", json::serialize(json::Object{{"username", user}, {"password", password}}));
    if (r.status == 200) token = str(parseJson(r.body), "token");
    return r;
  }
  HeaderList auth() const { return {{"Authorization", "Bearer " + token}}; }
  HttpResult get(const std::string& path) { return http.get(path, auth()); }
  HttpResult post(const std::string& path, const json::Value& body) {
    return http.post(path, json::serialize(body), auth());
  }
};

// What a tablet does on the wire.
struct TabletClient {
  HttpClient http;
  std::string deviceId, secret, replica, clinic, token;
  explicit TabletClient(const std::string& url) : http(url) {}

  HttpResult enrol(const std::string& code, const std::string& name = "tablet") {
    HttpResult r = http.post("/v1/enrol", json::serialize(json::Object{{"code", code}, {"name", name}}));
    if (r.status == 200) {
      json::Value v = parseJson(r.body);
      deviceId = str(v, "device_id");
      secret = str(v, "device_secret");
      replica = str(v, "replica_id");
      clinic = str(v, "clinic");
    }
    return r;
  }
  HeaderList deviceHeader() const { return {{"X-Charta-Device", deviceId + ":" + secret}}; }
  HeaderList auth() const {
    HeaderList h = deviceHeader();
    h.emplace_back("Authorization", "Bearer " + token);
    return h;
  }
  HttpResult login(const std::string& user, const std::string& password) {
    HttpResult r = http.post("/v1/login", json::serialize(json::Object{{"username", user}, {"password", password}}),
                             deviceHeader());
    if (r.status == 200) token = str(parseJson(r.body), "token");
    return r;
  }
  HttpResult push(const std::vector<crdt::Op>& ops) {
    return http.post("/v1/sync/push", crdt::encodeBatch(ops), auth(), "application/x-charta-ops");
  }
  HttpResult uploadAudit(const json::Array& events) {
    return http.post("/v1/sync/audit", json::serialize(json::Object{{"events", events}}), auth());
  }
  HttpResult pullRaw(std::int64_t since, const std::string& extra = {}) {
    return http.get("/v1/sync/pull?since=" + std::to_string(since) + extra, auth());
  }
  // Pulls every page from `since`; returns the ops and sets `cursor`.
  std::vector<crdt::Op> pullAll(std::int64_t& cursor, int* pages = nullptr) {
    std::vector<crdt::Op> out;
    for (int page = 0; page < 100000; ++page) {
      HttpResult r = pullRaw(cursor);
      if (r.status != 200) return out;
      json::Value v = parseJson(r.body);
      for (const json::Value& op : *v.find("ops")->asArray()) {
        auto bytes = server_base64(*op.asString());
        auto decoded = crdt::decodeOp(bytes);
        if (decoded.isOk()) out.push_back(decoded.value());
      }
      cursor = num(v, "next");
      if (pages) *pages = page + 1;
      if (!v.find("more")->asBool().value_or(false)) break;
    }
    return out;
  }

  static std::string server_base64(const std::string& text) {
    static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::uint32_t buf = 0;
    int bits = 0;
    for (char c : text) {
      if (c == '=') break;
      auto pos = kAlphabet.find(c);
      if (pos == std::string::npos) return {};
      buf = (buf << 6) | static_cast<std::uint32_t>(pos);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += static_cast<char>((buf >> bits) & 0xff);
      }
    }
    return out;
  }
};

}  // namespace charta::test
