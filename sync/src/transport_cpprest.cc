// makeHttpTransport(): the Transport over HTTP(S) on cpprestsdk's http_client
// (Boost.Asio on Linux). The only file of charta_sync that includes
// cpprestsdk headers: JSON is parsed here with web::json and handed on as the
// typed structs of transport.h, so nothing else sees the library.
//
// How a call runs:
//  - One http_client serves every call; it pools keep-alive connections and
//    is safe for concurrent requests. The library turns Nagle's algorithm off
//    on every connection it opens (small requests would otherwise wait for the
//    server's delayed ACK).
//  - A call has one deadline, HttpTransportOptions::timeoutMs from the start
//    of the call to the last byte of the answer. The library's own timeout
//    (set to the same value) only fires after that long without progress, so
//    the call waits on its own deadline and cancels the request (which closes
//    its connection) when it passes: a server that trickles bytes cannot hold
//    a call for longer than the deadline.
//  - The library resends a request by itself when a pooled connection turns
//    out to be closed while it reads the status line, but not when the write
//    already fails (the peer reset the idle connection). So when a request
//    fails before any byte of an answer arrived (and not by the deadline), it
//    is sent once more at once. Every call here is safe to repeat (a push is
//    idempotent by op id on the server, the rest read or overwrite), except
//    enrolment: a code works once, so an enrolment is never resent.
//  - Every failure becomes a CallError (see transport.h); no exception leaves
//    this file, and every pplx task gets a continuation that observes it.
//
// Attachment chunks travel as raw bytes (application/octet-stream) both ways;
// every attachment call is safe to repeat (a chunk already held is accepted
// again), so they are resent like the rest.
//
// Answers are read strictly: a 2xx body that is not JSON, or misses a member
// the protocol requires, or has one of the wrong type, is kProtocol with a
// message that names the member. Members this version does not know are
// ignored (a newer server may add some). The answers that carry ops (a pull
// page, a break-glass answer) are read by readPullAnswer and
// readBreakGlassAnswer (transport_answers.h), which take the body's bytes
// without an exchange, so that tests and the fuzzer run the same parser.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
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
#include <cpprest/asyncrt_utils.h>
#include <cpprest/http_client.h>
#include <cpprest/json.h>
#include <cpprest/uri.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pplx/pplxtasks.h>

#include <boost/asio/ssl.hpp>
#pragma GCC diagnostic pop

#include "charta/crdt/schema.h"
#include "charta/sync/transport.h"
#include "transport_answers.h"

namespace charta::sync {

namespace {

namespace http = web::http;
namespace json = web::json;
using http::client::http_client;
using http::client::http_client_config;
using Clock = std::chrono::steady_clock;

// An answer declaring a longer body is refused before it is read (a pull
// page of 2,000 ops is a few MiB).
constexpr std::uint64_t kMaxAnswerBytes = 256ull << 20;
// Retry-After values beyond a day are taken as a day.
constexpr int kMaxRetryAfterSeconds = 24 * 3600;
constexpr std::string_view kOpsContentType = "application/x-charta-ops";
constexpr std::string_view kJsonContentType = "application/json";
constexpr std::string_view kBytesContentType = "application/octet-stream";
// The calls whose answers are read by transport_answers.h.
constexpr std::string_view kPullPath = "/v1/sync/pull";
constexpr std::string_view kBreakGlassPath = "/v1/sync/break-glass";

// ---------------------------------------------------------------------------
// Small helpers

std::string describeException(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const http::http_exception& e) {
    std::string what = e.what();
    const std::string detail = e.error_code().message();
    if (what.empty()) return detail;
    // The library reports a refused connection and a write to a reset
    // connection as "host unreachable", which would mislead a person: its
    // message ("Failed to connect to any resolved endpoint") says enough.
    const bool remapped = e.error_code().value() == static_cast<int>(std::errc::host_unreachable);
    if (e.error_code().value() != 0 && !remapped && !detail.empty() && what.find(detail) == std::string::npos) {
      what += " (" + detail + ")";
    }
    return what;
  } catch (const pplx::task_canceled&) {
    return "the request was cancelled";
  } catch (const std::exception& e) {
    return e.what()[0] != '\0' ? std::string(e.what()) : std::string("request failed");
  } catch (...) {
  }
  return "request failed";
}

bool isTimeout(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const http::http_exception& e) {
    return e.error_code().value() == static_cast<int>(std::errc::timed_out);
  } catch (...) {
  }
  return false;
}

// A header value must not be able to end its line (no header injection) and
// holds no other control character either.
bool isSafeHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

CallError localError(std::string message) {
  // Nothing was sent: the request as given can never be sent.
  CallError error;
  error.kind = CallError::Kind::kRefused;
  error.message = std::move(message);
  return error;
}

CallError networkError(std::string message) {
  CallError error;
  error.kind = CallError::Kind::kNetwork;
  error.message = std::move(message);
  return error;
}

CallError protocolError(int status, std::string message) {
  CallError error;
  error.kind = CallError::Kind::kProtocol;
  error.httpStatus = status;
  error.message = std::move(message);
  return error;
}

// Retry-After: delta-seconds or an HTTP-date (RFC 9110 10.2.3). 0 when absent
// or unreadable.
int parseRetryAfter(const std::string& value) {
  if (value.empty()) return 0;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return kMaxRetryAfterSeconds;
    return std::min(std::stoi(value), kMaxRetryAfterSeconds);
  }
  try {
    const utility::datetime when = utility::datetime::from_string(value, utility::datetime::RFC_1123);
    const utility::datetime now = utility::datetime::utc_now();
    if (!when.is_initialized() || when <= now) return 0;
    return std::min(when - now, kMaxRetryAfterSeconds);
  } catch (...) {
  }
  return 0;
}

// Strict standard base64 (RFC 4648 section 4) with padding: any other byte,
// a length that is not a multiple of 4, misplaced padding or non-zero unused
// bits are refused, so one op has exactly one text.
std::optional<std::string> decodeBase64(std::string_view text) {
  static constexpr std::array<std::int8_t, 256> kValues = [] {
    std::array<std::int8_t, 256> values{};
    values.fill(-1);
    constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
      values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    }
    return values;
  }();
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::size_t padding = 0;
    if (last && text[i + 3] == '=') padding = text[i + 2] == '=' ? 2 : 1;
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      std::int8_t v = 0;
      if (k < 4 - padding) {
        v = kValues[static_cast<unsigned char>(text[i + k])];
        if (v < 0) return std::nullopt;
      }
      group = (group << 6) | static_cast<std::uint32_t>(v);
    }
    if (padding == 2 && (group & 0xffffu) != 0) return std::nullopt;
    if (padding == 1 && (group & 0xffu) != 0) return std::nullopt;
    out.push_back(static_cast<char>((group >> 16) & 0xffu));
    if (padding < 2) out.push_back(static_cast<char>((group >> 8) & 0xffu));
    if (padding < 1) out.push_back(static_cast<char>(group & 0xffu));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Strict reading of a JSON answer

std::string_view typeName(const json::value& v) {
  switch (v.type()) {
    case json::value::Number: return "a number";
    case json::value::Boolean: return "a boolean";
    case json::value::String: return "a string";
    case json::value::Object: return "an object";
    case json::value::Array: return "an array";
    case json::value::Null: return "null";
  }
  return "something else";
}

// Reads the members of one JSON object; the first problem is kept and every
// later read returns a neutral value, so a parser reads on and checks ok()
// once at the end.
class ObjectReader {
 public:
  // problem: shared by the readers of one answer (nested objects report into it).
  ObjectReader(const json::value& value, std::string where, std::string* problem)
      : m_where(std::move(where)), m_problem(problem) {
    if (!value.is_object()) {
      fail(m_where + " is " + std::string(typeName(value)) + ", not a JSON object");
      return;
    }
    m_object = &value.as_object();
    std::set<std::string> names;
    for (const auto& member : *m_object) {
      if (!names.insert(member.first).second) {
        fail(m_where + " has the member \"" + member.first + "\" twice");
        return;
      }
    }
  }

  bool ok() const { return m_problem->empty(); }

  std::string string(std::string_view name) {
    const json::value* v = member(name);
    if (!v) return {};
    if (!v->is_string()) {
      wrongType(name, *v, "a string");
      return {};
    }
    return v->as_string();
  }
  // A string or null (read as "").
  std::string stringOrNull(std::string_view name) {
    const json::value* v = member(name);
    if (!v || v->is_null()) return {};
    if (!v->is_string()) {
      wrongType(name, *v, "a string or null");
      return {};
    }
    return v->as_string();
  }
  std::uint64_t unsignedInt(std::string_view name) {
    const json::value* v = member(name);
    return v ? unsignedValue(*v, quoted(name)) : 0;
  }
  bool has(std::string_view name) const { return m_object && m_object->find(std::string(name)) != m_object->end(); }
  // A member a newer server adds: 0 when absent, a problem when mistyped.
  std::uint64_t optionalUnsignedInt(std::string_view name) {
    if (!m_object || !ok() || m_object->find(std::string(name)) == m_object->end()) return 0;
    return unsignedInt(name);
  }
  std::int64_t signedInt(std::string_view name) {
    const json::value* v = member(name);
    if (!v) return 0;
    if (!v->is_integer() || !v->as_number().is_int64()) {
      wrongType(name, *v, "an integer");
      return 0;
    }
    return v->as_number().to_int64();
  }
  bool boolean(std::string_view name) {
    const json::value* v = member(name);
    if (!v) return false;
    if (!v->is_boolean()) {
      wrongType(name, *v, "a boolean");
      return false;
    }
    return v->as_bool();
  }
  // nullptr (and a problem) when missing or not an array.
  const json::array* array(std::string_view name) {
    const json::value* v = member(name);
    if (!v) return nullptr;
    if (!v->is_array()) {
      wrongType(name, *v, "an array");
      return nullptr;
    }
    return &v->as_array();
  }
  const json::value* object(std::string_view name) {
    const json::value* v = member(name);
    if (!v) return nullptr;
    if (!v->is_object()) {
      wrongType(name, *v, "an object");
      return nullptr;
    }
    return v;
  }

  std::vector<std::uint64_t> unsignedArray(std::string_view name) {
    std::vector<std::uint64_t> out;
    const json::array* items = array(name);
    if (!items) return out;
    out.reserve(items->size());
    std::size_t i = 0;
    for (const json::value& item : *items) {
      out.push_back(unsignedValue(item, quoted(name) + "[" + std::to_string(i++) + "]"));
    }
    return out;
  }
  std::vector<std::string> stringArray(std::string_view name) {
    std::vector<std::string> out;
    const json::array* items = array(name);
    if (!items) return out;
    out.reserve(items->size());
    std::size_t i = 0;
    for (const json::value& item : *items) {
      if (!item.is_string()) {
        fail(m_where + ": " + quoted(name) + "[" + std::to_string(i) + "] is " + std::string(typeName(item)) +
             ", not a string");
        return out;
      }
      out.push_back(item.as_string());
      ++i;
    }
    return out;
  }

  // For checks beyond types: records a problem of this object.
  void fail(std::string problem) {
    if (m_problem->empty()) *m_problem = std::move(problem);
  }
  const std::string& where() const { return m_where; }
  // Where a reader of a nested object reports its problem.
  std::string* problemSlot() const { return m_problem; }

 private:
  static std::string quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

  const json::value* member(std::string_view name) {
    if (!m_object || !ok()) return nullptr;
    const auto found = m_object->find(std::string(name));
    if (found == m_object->end()) {
      fail(m_where + " has no member " + quoted(name));
      return nullptr;
    }
    return &found->second;
  }
  void wrongType(std::string_view name, const json::value& v, std::string_view wanted) {
    fail(m_where + ": member " + quoted(name) + " is " + std::string(typeName(v)) + ", not " + std::string(wanted));
  }
  std::uint64_t unsignedValue(const json::value& v, const std::string& what) {
    if (!ok()) return 0;
    if (!v.is_integer() || !v.as_number().is_uint64()) {
      fail(m_where + ": " + what + " is " +
           (v.is_number() ? std::string("not a non-negative integer") : std::string(typeName(v)) + ", not an integer"));
      return 0;
    }
    return v.as_number().to_uint64();
  }

  std::string m_where;
  std::string* m_problem;
  const json::object* m_object = nullptr;
};

// An id the server handed out that must later travel in a header.
void checkHeaderSafe(ObjectReader& reader, std::string_view name, const std::string& value) {
  if (value.empty()) {
    reader.fail(reader.where() + ": member \"" + std::string(name) + "\" is empty");
  } else if (!isSafeHeaderValue(value)) {
    reader.fail(reader.where() + ": member \"" + std::string(name) + "\" holds a control character");
  }
}

// The body of a 2xx answer (status) to the call what names ("GET
// /v1/sync/pull"): a JSON object read by read(ObjectReader&), or the first
// problem as a kProtocol error.
template <typename T, typename Read>
Reply<T> readJsonAnswer(const std::string& body, int status, const std::string& what, Read read) {
  std::error_code parseError;
  json::value value;
  try {
    value = json::value::parse(body, parseError);
  } catch (...) {
    parseError = std::make_error_code(std::errc::invalid_argument);
  }
  if (parseError) return protocolError(status, what + ": the answer is not JSON (" + parseError.message() + ")");
  std::string problem;
  ObjectReader reader(value, what + " answer", &problem);
  T result = read(reader);
  if (!problem.empty()) return protocolError(status, problem);
  return result;
}

// Every op of an answer out of base64 (the first bad one is the problem).
void decodeOps(ObjectReader& r, std::vector<std::string>& ops) {
  for (std::size_t i = 0; r.ok() && i < ops.size(); ++i) {
    std::optional<std::string> bytes = decodeBase64(ops[i]);
    if (!bytes) {
      r.fail(r.where() + ": \"ops\"[" + std::to_string(i) + "] is not valid base64");
      return;
    }
    ops[i] = std::move(*bytes);
  }
}

PullPage readPullPage(ObjectReader& r, std::uint64_t since) {
  PullPage page;
  page.epoch = r.string("epoch");
  page.ops = r.stringArray("ops");
  page.next = r.unsignedInt("next");
  page.more = r.boolean("more");
  page.head = r.optionalUnsignedInt("head");
  page.purge = r.stringArray("purge");
  page.enter = r.stringArray("enter");
  if (!r.ok()) return page;
  decodeOps(r, page.ops);
  if (!r.ok()) return page;
  // The cursor only moves forward; a page that says "more" without moving
  // it would have the engine ask for the same page for ever.
  if (page.next < since) {
    r.fail(r.where() + ": \"next\" (" + std::to_string(page.next) + ") is behind \"since\" (" + std::to_string(since) +
           ")");
  } else if (page.more && page.ops.empty() && page.next == since) {
    r.fail(r.where() + ": \"more\" is true but the page neither holds ops nor moves the cursor");
  }
  return page;
}

BreakGlassReply readBreakGlass(ObjectReader& r) {
  BreakGlassReply b;
  b.patient = r.string("patient");
  b.clinic = r.string("clinic");
  b.inScope = r.boolean("in_scope");
  b.ops = r.stringArray("ops");
  b.head = r.optionalUnsignedInt("head");
  b.expiresAtMs = r.signedInt("expires_at");
  if (!r.ok()) return b;
  if (b.patient.empty()) r.fail(r.where() + ": \"patient\" is empty");
  decodeOps(r, b.ops);
  return b;
}

// ---------------------------------------------------------------------------
// One exchange with the server

struct Outgoing {
  std::string method;  // "GET", "POST"
  std::string target;  // path and query, percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  bool hasBody = false;
  std::string body;
  std::string contentType;
  std::string accept = std::string(kJsonContentType);
  bool resendable = true;  // may be sent once more when no answer arrived
};

struct Answer {
  int status = 0;
  std::string body;
  std::string retryAfter;
  std::string reason;
};

// What the request's continuations hand to the waiting call.
class Pending {
 public:
  void headersArrived() {
    std::lock_guard lock(m_mutex);
    m_answered = true;
  }
  void finish(Answer answer) {
    std::lock_guard lock(m_mutex);
    if (m_done) return;
    m_answer = std::move(answer);
    m_done = true;
    m_changed.notify_all();
  }
  void fail(std::string error, bool timedOut) {
    std::lock_guard lock(m_mutex);
    if (m_done) return;
    m_error = std::move(error);
    m_timedOut = timedOut;
    m_done = true;
    m_changed.notify_all();
  }
  // false when the deadline passed first.
  bool waitUntil(Clock::time_point deadline) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_until(lock, deadline, [this] { return m_done; });
  }

  // After waitUntil() returned true, or under the lock: the outcome.
  std::optional<Answer> answer() {
    std::lock_guard lock(m_mutex);
    return m_answer;
  }
  std::string error() {
    std::lock_guard lock(m_mutex);
    return m_error;
  }
  bool answered() {
    std::lock_guard lock(m_mutex);
    return m_answered;
  }
  bool timedOut() {
    std::lock_guard lock(m_mutex);
    return m_timedOut;
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_done = false;
  bool m_answered = false;  // the status line and headers arrived
  bool m_timedOut = false;  // the library's own timeout fired
  std::optional<Answer> m_answer;
  std::string m_error;
};

// Shared with continuations that may outlive the transport (a call that gave
// up on its deadline leaves its request to finish on its own).
struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bytesSent{0};
  std::atomic<std::uint64_t> bytesReceived{0};
};

struct AttemptResult {
  std::optional<Answer> answer;
  std::string error;
  bool resendable = false;  // failed before any answer, not by a timeout
};

// The shared, immutable TLS trust: the certificates of caCertFile.
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using TrustedCerts = std::vector<std::shared_ptr<X509>>;

std::string takeOpenSslErrors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out.empty() ? std::string("no certificate found") : out;
}

// Every PEM certificate of file; nullopt (and *error) when it cannot be read
// or holds none.
std::optional<TrustedCerts> loadCertificates(const std::string& file, std::string* error) {
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) {
    *error = "cannot open the CA certificate file '" + file + "': " + takeOpenSslErrors();
    return std::nullopt;
  }
  TrustedCerts certs;
  for (;;) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) break;
    certs.emplace_back(cert, X509Free());
  }
  const unsigned long last = ERR_peek_last_error();
  const bool endOfFile = last != 0 && ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  if (certs.empty() || (last != 0 && !endOfFile)) {
    *error = "no usable PEM certificate in the CA certificate file '" + file + "': " + takeOpenSslErrors();
    return std::nullopt;
  }
  ERR_clear_error();
  return certs;
}

// ---------------------------------------------------------------------------
// The transport

class HttpTransport final : public Transport {
 public:
  HttpTransport(std::unique_ptr<http_client> client, int timeoutMs)
      : m_client(std::move(client)), m_timeoutMs(timeoutMs) {}

  Reply<Health> health() override {
    Outgoing out = get("/healthz");
    return call<Health>(out, [](ObjectReader& r) {
      Health h;
      h.status = r.string("status");
      h.store = r.string("store");
      h.epoch = r.string("epoch");
      return h;
    });
  }

  Reply<Enrolment> enrol(std::string_view code, std::string_view deviceName) override {
    json::value body = json::value::object();
    body["code"] = json::value::string(std::string(code));
    body["name"] = json::value::string(std::string(deviceName));
    Outgoing out = postJson("/v1/enrol", body);
    out.resendable = false;  // a code works once: a resent enrolment would use it up
    return call<Enrolment>(out, [](ObjectReader& r) {
      Enrolment e;
      e.deviceId = r.string("device_id");
      e.deviceSecret = r.string("device_secret");
      const std::string replica = r.string("replica_id");
      e.clinic = r.string("clinic");
      e.epoch = r.string("epoch");
      if (!r.ok()) return e;
      checkHeaderSafe(r, "device_id", e.deviceId);
      checkHeaderSafe(r, "device_secret", e.deviceSecret);
      if (e.deviceId.find(':') != std::string::npos) r.fail(r.where() + ": member \"device_id\" holds a ':'");
      const std::optional<std::uint64_t> id = parseReplicaId(replica);
      if (!id) {
        r.fail(r.where() + ": member \"replica_id\" is not the decimal text of a non-zero 63-bit number");
      } else {
        e.replica = crdt::ReplicaId{*id};
      }
      return e;
    });
  }

  Reply<Session> login(const DeviceCredential& device, std::string_view username, std::string_view password) override {
    json::value body = json::value::object();
    body["username"] = json::value::string(std::string(username));
    body["password"] = json::value::string(std::string(password));
    Outgoing out = postJson("/v1/login", body);
    if (auto bad = addCredentials(out, device, {})) return *bad;
    return call<Session>(out, [](ObjectReader& r) {
      Session s;
      s.token = r.string("token");
      s.expiresAtMs = r.signedInt("expires_at");
      if (const json::value* user = r.object("user")) {
        ObjectReader u(*user, "the login answer's \"user\"", r.problemSlot());
        s.userId = u.string("id");
        s.displayName = u.string("display_name");
        s.role = u.string("role");
        s.clinic = u.stringOrNull("clinic");
      }
      if (r.ok()) checkHeaderSafe(r, "token", s.token);
      return s;
    });
  }

  Reply<Empty> logout(const DeviceCredential& device, std::string_view token) override {
    Outgoing out = postEmpty("/v1/logout");
    if (auto bad = addCredentials(out, device, token)) return *bad;
    return callEmpty(out);
  }

  Reply<std::int64_t> refresh(const DeviceCredential& device, std::string_view token) override {
    Outgoing out = postEmpty("/v1/session/refresh");
    if (auto bad = addCredentials(out, device, token)) return *bad;
    return call<std::int64_t>(out, [](ObjectReader& r) { return r.signedInt("expires_at"); });
  }

  Reply<PushReply> push(const DeviceCredential& device, std::string_view token, std::string_view batch,
                        std::uint64_t pendingAfter) override {
    Outgoing out;
    out.method = "POST";
    out.target = "/v1/sync/push";
    out.hasBody = true;
    out.body.assign(batch);
    out.contentType = kOpsContentType;
    out.headers.emplace_back("X-Charta-Pending", std::to_string(pendingAfter));
    if (auto bad = addCredentials(out, device, token)) return *bad;
    return call<PushReply>(out, [](ObjectReader& r) {
      PushReply p;
      p.epoch = r.string("epoch");
      p.stored = toSize(r.unsignedInt("stored"));
      p.duplicates = toSize(r.unsignedInt("duplicates"));
      p.seqs = r.unsignedArray("seqs");
      if (const json::array* rejected = r.array("rejected")) {
        std::size_t i = 0;
        for (const json::value& item : *rejected) {
          ObjectReader one(item, "the push answer's \"rejected\"[" + std::to_string(i++) + "]", r.problemSlot());
          PushReply::Rejected rj;
          rj.index = toSize(one.unsignedInt("index"));
          rj.op = one.string("op");
          rj.reason = one.string("reason");
          if (!one.ok()) break;
          if (rj.index >= p.seqs.size()) one.fail(one.where() + ": \"index\" is past the end of \"seqs\"");
          p.rejected.push_back(std::move(rj));
        }
      }
      for (std::uint64_t index : r.unsignedArray("future_clock")) {
        if (index >= p.seqs.size()) r.fail(r.where() + ": \"future_clock\" names an index past the end of \"seqs\"");
        p.futureClock.push_back(toSize(index));
      }
      p.head = r.unsignedInt("head");
      return p;
    });
  }

  Reply<PullPage> pull(const DeviceCredential& device, std::string_view token, const PullRequest& request) override {
    std::string target = std::string(kPullPath) + "?since=" + std::to_string(request.since);
    if (request.limit > 0) target += "&limit=" + std::to_string(request.limit);
    if (!request.patient.empty()) target += "&patient=" + web::uri::encode_data_string(request.patient);
    Outgoing out = get(std::move(target));
    if (auto bad = addCredentials(out, device, token)) return *bad;
    Reply<Answer> answered = call2xx(out);
    if (!answered.isOk()) return answered.error();
    return readPullAnswer(answered.value().body, request.since, answered.value().status);
  }

  Reply<AuditReply> sendAudit(const DeviceCredential& device, std::string_view token,
                              const std::vector<DeviceAuditEvent>& events) override {
    json::value list = json::value::array(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      const DeviceAuditEvent& e = events[i];
      json::value item = json::value::object();
      item["seq"] = json::value::number(static_cast<std::uint64_t>(e.seq));
      item["at"] = json::value::number(static_cast<std::int64_t>(e.atMs));
      item["user"] = json::value::string(e.user);
      item["action"] = json::value::string(e.action);
      item["patient"] = json::value::string(e.patient);
      item["detail"] = json::value::string(e.detail.empty() ? std::string("{}") : e.detail);
      list[i] = std::move(item);
    }
    json::value body = json::value::object();
    body["events"] = std::move(list);
    Outgoing out = postJson("/v1/sync/audit", body);
    if (auto bad = addCredentials(out, device, token)) return *bad;
    return call<AuditReply>(out, [](ObjectReader& r) {
      AuditReply a;
      a.acked = r.unsignedInt("acked");
      return a;
    });
  }

  Reply<Empty> report(const DeviceCredential& device, std::string_view token, const DeviceReport& report) override {
    json::value body = json::value::object();
    body["pending_ops"] = json::value::number(static_cast<std::uint64_t>(report.pendingOps));
    body["last_error"] = json::value::string(report.lastError);
    Outgoing out = postJson("/v1/sync/report", body);
    if (auto bad = addCredentials(out, device, token)) return *bad;
    return callEmpty(out);
  }

  Reply<BreakGlassReply> breakGlass(const DeviceCredential& device, std::string_view token,
                                    const BreakGlassRequest& request) override {
    json::value body = json::value::object();
    body["identifier"] = json::value::string(request.identifier);
    body["birth_date"] = json::value::string(request.birthDate);
    body["reason"] = json::value::string(request.reason);
    Outgoing out = postJson(std::string(kBreakGlassPath), body);
    if (auto bad = addCredentials(out, device, token)) return *bad;
    Reply<Answer> answered = call2xx(out);
    if (!answered.isOk()) return answered.error();
    return readBreakGlassAnswer(answered.value().body, answered.value().status);
  }

  Reply<AttachmentStatus> declareAttachment(const DeviceCredential& device, std::string_view token,
                                            std::string_view patient, std::string_view hash, std::uint64_t size,
                                            std::string_view mediaType) override {
    if (auto bad = checkAttachmentAddress(patient, hash)) return *bad;
    json::value body = json::value::object();
    body["size"] = json::value::number(static_cast<std::uint64_t>(size));
    body["media_type"] = json::value::string(std::string(mediaType));
    Outgoing out = postJson(attachmentPath(patient, hash), body);
    out.method = "PUT";
    if (auto bad = addCredentials(out, device, token)) return *bad;
    return call<AttachmentStatus>(out, [](ObjectReader& r) { return readAttachmentStatus(r); });
  }

  Reply<AttachmentStatus> putAttachmentChunk(const DeviceCredential& device, std::string_view token,
                                             std::string_view patient, std::string_view hash, std::uint64_t index,
                                             std::string_view bytes) override {
    if (auto bad = checkAttachmentAddress(patient, hash)) return *bad;
    Outgoing out;
    out.method = "PUT";
    out.target = attachmentPath(patient, hash) + "/chunks/" + std::to_string(index);
    out.hasBody = true;
    out.body.assign(bytes);
    out.contentType = kBytesContentType;
    if (auto bad = addCredentials(out, device, token)) return *bad;
    return call<AttachmentStatus>(out, [](ObjectReader& r) { return readAttachmentStatus(r); });
  }

  Reply<AttachmentStatus> attachmentStatus(const DeviceCredential& device, std::string_view token,
                                           std::string_view patient, std::string_view hash) override {
    if (auto bad = checkAttachmentAddress(patient, hash)) return *bad;
    Outgoing out = get(attachmentPath(patient, hash));
    if (auto bad = addCredentials(out, device, token)) return *bad;
    return call<AttachmentStatus>(out, [](ObjectReader& r) { return readAttachmentStatus(r); });
  }

  Reply<std::string> attachmentChunk(const DeviceCredential& device, std::string_view token, std::string_view patient,
                                     std::string_view hash, std::uint64_t index) override {
    if (auto bad = checkAttachmentAddress(patient, hash)) return *bad;
    Outgoing out = get(attachmentPath(patient, hash) + "/chunks/" + std::to_string(index));
    out.accept = std::string(kBytesContentType);
    if (auto bad = addCredentials(out, device, token)) return *bad;
    Reply<Answer> answered = call2xx(out);
    if (!answered.isOk()) return answered.error();
    return std::move(answered.value().body);
  }

  TransportStats stats() const override {
    TransportStats s;
    s.requests = m_counters->requests.load(std::memory_order_relaxed);
    s.bytesSent = m_counters->bytesSent.load(std::memory_order_relaxed);
    s.bytesReceived = m_counters->bytesReceived.load(std::memory_order_relaxed);
    return s;
  }

 private:
  static std::size_t toSize(std::uint64_t v) {
    return v > std::numeric_limits<std::size_t>::max() ? std::numeric_limits<std::size_t>::max()
                                                       : static_cast<std::size_t>(v);
  }

  // "1".."9223372036854775807" without sign, leading zeros or anything else.
  static std::optional<std::uint64_t> parseReplicaId(const std::string& text) {
    if (text.empty() || text.size() > 19 || text[0] == '0') return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return value;
  }

  static std::optional<CallError> checkAttachmentAddress(std::string_view patient, std::string_view hash) {
    if (patient.empty()) return localError("an attachment needs its patient");
    if (!crdt::isContentHash(hash)) return localError("'" + std::string(hash) + "' is not a SHA-256 hex content hash");
    return std::nullopt;
  }

  static std::string attachmentPath(std::string_view patient, std::string_view hash) {
    return "/v1/sync/patients/" + web::uri::encode_data_string(std::string(patient)) + "/attachments/" +
           std::string(hash);
  }

  static AttachmentStatus readAttachmentStatus(ObjectReader& r) {
    AttachmentStatus a;
    const std::string state = r.string("state");
    a.size = r.unsignedInt("size");
    a.mediaType = r.string("media_type");
    a.chunkSize = r.unsignedInt("chunk_size");
    a.chunks = r.unsignedInt("chunks");
    a.missing = r.unsignedArray("missing");
    if (r.ok() && r.has("chunk_hashes")) a.chunkHashes = r.stringArray("chunk_hashes");
    if (!r.ok()) return a;
    a.complete = state == "complete";
    if (state != "complete" && state != "uploading") {
      r.fail(r.where() + ": \"state\" is \"" + state + "\", not \"uploading\" or \"complete\"");
    } else if (a.chunkSize == 0 || a.size == 0 || a.chunks != (a.size + a.chunkSize - 1) / a.chunkSize) {
      r.fail(r.where() + ": \"size\", \"chunk_size\" and \"chunks\" do not agree");
    } else if (std::any_of(a.missing.begin(), a.missing.end(), [&](std::uint64_t i) { return i >= a.chunks; })) {
      r.fail(r.where() + ": \"missing\" names a chunk past the last");
    } else if (!a.chunkHashes.empty() && (a.chunkHashes.size() != a.chunks ||
                                          !std::all_of(a.chunkHashes.begin(), a.chunkHashes.end(),
                                                       [](const std::string& h) { return crdt::isContentHash(h); }))) {
      r.fail(r.where() + ": \"chunk_hashes\" is not one SHA-256 hex per chunk");
    }
    return a;
  }

  static Outgoing get(std::string target) {
    Outgoing out;
    out.method = "GET";
    out.target = std::move(target);
    return out;
  }
  static Outgoing postJson(std::string target, const json::value& body) {
    Outgoing out;
    out.method = "POST";
    out.target = std::move(target);
    out.hasBody = true;
    out.body = body.serialize();
    out.contentType = kJsonContentType;
    return out;
  }
  static Outgoing postEmpty(std::string target) {
    Outgoing out;
    out.method = "POST";
    out.target = std::move(target);
    return out;
  }

  // X-Charta-Device when the device has an id, Authorization when there is a
  // token. A value that cannot travel in a header is refused here.
  static std::optional<CallError> addCredentials(Outgoing& out, const DeviceCredential& device,
                                                 std::string_view token) {
    if (!device.deviceId.empty() || !device.secret.empty()) {
      if (device.deviceId.empty() || device.deviceId.find(':') != std::string::npos) {
        return localError("the device id is empty or holds a ':'");
      }
      if (!isSafeHeaderValue(device.deviceId) || !isSafeHeaderValue(device.secret)) {
        return localError("the device credential holds a control character");
      }
      out.headers.emplace_back("X-Charta-Device", device.deviceId + ":" + device.secret);
    }
    if (!token.empty()) {
      if (!isSafeHeaderValue(token)) return localError("the session token holds a control character");
      out.headers.emplace_back("Authorization", "Bearer " + std::string(token));
    }
    return std::nullopt;
  }

  // Sends out (once more when allowed), then classifies the answer: a 2xx
  // answer is handed back, anything else becomes its CallError.
  Reply<Answer> call2xx(const Outgoing& out) {
    Reply<Answer> answered = exchange(out);
    if (!answered.isOk()) return answered.error();
    const Answer& answer = answered.value();
    if (answer.status < 200 || answer.status > 299) return errorFromAnswer(answer);
    return answered;
  }

  // call2xx, then the answer's body is parsed as a JSON object by read.
  template <typename T, typename Read>
  Reply<T> call(const Outgoing& out, Read read) {
    Reply<Answer> answered = call2xx(out);
    if (!answered.isOk()) return answered.error();
    return readJsonAnswer<T>(answered.value().body, answered.value().status, what(out), read);
  }

  // For calls whose answer carries nothing the tablet needs: any 2xx with an
  // empty body or a JSON object.
  Reply<Empty> callEmpty(const Outgoing& out) {
    Reply<Answer> answered = exchange(out);
    if (!answered.isOk()) return answered.error();
    const Answer& answer = answered.value();
    if (answer.status < 200 || answer.status > 299) return errorFromAnswer(answer);
    if (answer.body.empty()) return Empty{};
    std::error_code parseError;
    json::value body;
    try {
      body = json::value::parse(answer.body, parseError);
    } catch (...) {
      parseError = std::make_error_code(std::errc::invalid_argument);
    }
    if (parseError || !body.is_object()) {
      return protocolError(answer.status, what(out) + ": the answer is not a JSON object");
    }
    return Empty{};
  }

  static std::string what(const Outgoing& out) {
    const std::size_t query = out.target.find('?');
    return out.method + " " + out.target.substr(0, query);
  }

  // A non-2xx answer: its JSON error body (when it has one) and Retry-After.
  static CallError errorFromAnswer(const Answer& answer) {
    std::string code;
    std::string message;
    bool wipe = false;
    try {
      std::error_code parseError;
      const json::value body = json::value::parse(answer.body, parseError);
      if (!parseError && body.is_object()) {
        const json::object& top = body.as_object();
        const auto error = top.find("error");
        if (error != top.end() && error->second.is_object()) {
          const json::object& e = error->second.as_object();
          const auto c = e.find("code");
          const auto m = e.find("message");
          if (c != e.end() && c->second.is_string()) code = c->second.as_string();
          if (m != e.end() && m->second.is_string()) message = m->second.as_string();
        }
        const auto w = top.find("wipe");
        wipe = w != top.end() && w->second.is_boolean() && w->second.as_bool();
      }
    } catch (...) {
      code.clear();
      message.clear();
      wipe = false;
    }
    if (code.empty() && message.empty()) {
      message = (answer.reason.empty() ? std::string("an answer") : answer.reason) + " without a JSON error body";
    }
    return callErrorForStatus(answer.status, std::move(code), std::move(message), parseRetryAfter(answer.retryAfter),
                              wipe);
  }

  // Up to two attempts within one deadline: the second only when the first
  // failed before any answer arrived, not by a timeout, and out may be resent.
  Reply<Answer> exchange(const Outgoing& out) {
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(m_timeoutMs);
    AttemptResult first = attempt(out, deadline);
    if (first.answer) return std::move(*first.answer);
    if (first.resendable && out.resendable && Clock::now() < deadline) {
      AttemptResult second = attempt(out, deadline);
      if (second.answer) return std::move(*second.answer);
      return networkError(what(out) + ": " + second.error + " (tried twice)");
    }
    return networkError(what(out) + ": " + first.error);
  }

  AttemptResult attempt(const Outgoing& out, Clock::time_point deadline) {
    AttemptResult result;
    auto pending = std::make_shared<Pending>();
    pplx::cancellation_token_source cancel;
    try {
      http::http_request request{http::method(out.method)};
      request.set_request_uri(web::uri(out.target));
      request.headers().add("Accept", out.accept);
      for (const auto& [name, value] : out.headers) request.headers().add(name, value);
      if (out.hasBody) {
        request.set_body(std::vector<unsigned char>(out.body.begin(), out.body.end()));
        request.headers().set_content_type(out.contentType);
      }
      m_counters->requests.fetch_add(1, std::memory_order_relaxed);
      m_counters->bytesSent.fetch_add(out.body.size(), std::memory_order_relaxed);
      std::shared_ptr<Counters> counters = m_counters;
      m_client->request(request, cancel.get_token()).then([pending, counters](pplx::task<http::http_response> sent) {
        try {
          http::http_response response;
          try {
            response = sent.get();
          } catch (...) {
            pending->fail(describeException(std::current_exception()), isTimeout(std::current_exception()));
            return;
          }
          pending->headersArrived();
          if (response.headers().content_length() > kMaxAnswerBytes) {
            pending->fail("the answer declares " + std::to_string(response.headers().content_length()) +
                              " bytes, more than the limit of " + std::to_string(kMaxAnswerBytes),
                          false);
            return;
          }
          Answer answer;
          answer.status = response.status_code();
          answer.reason = response.reason_phrase();
          const auto retryAfter = response.headers().find("Retry-After");
          if (retryAfter != response.headers().end()) answer.retryAfter = retryAfter->second;
          response.extract_vector().then(
              [pending, counters, answer = std::move(answer)](pplx::task<std::vector<unsigned char>> body) {
                try {
                  std::vector<unsigned char> bytes = body.get();
                  counters->bytesReceived.fetch_add(bytes.size(), std::memory_order_relaxed);
                  Answer done = answer;
                  done.body.assign(bytes.begin(), bytes.end());
                  pending->finish(std::move(done));
                } catch (...) {
                  pending->fail("the answer was cut off: " + describeException(std::current_exception()),
                                isTimeout(std::current_exception()));
                }
              });
        } catch (...) {
          pending->fail(describeException(std::current_exception()), false);
        }
      });
    } catch (...) {
      result.error = describeException(std::current_exception());
      result.resendable = false;
      return result;
    }
    if (!pending->waitUntil(deadline)) {
      cancel.cancel();  // closes the connection; the continuations still run and find the call gone
      result.error = "no complete answer within " + std::to_string(m_timeoutMs) + " ms";
      return result;
    }
    result.answer = pending->answer();
    if (!result.answer) {
      cancel.cancel();  // an unread body must not leave its connection in the pool
      result.error = pending->error();
      result.resendable = !pending->answered() && !pending->timedOut();
      if (pending->timedOut()) result.error = "no progress within " + std::to_string(m_timeoutMs) + " ms";
    }
    return result;
  }

  std::unique_ptr<http_client> m_client;
  const int m_timeoutMs;
  const std::shared_ptr<Counters> m_counters = std::make_shared<Counters>();
};

std::string lowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

Reply<PullPage> readPullAnswer(const std::string& body, std::uint64_t since, int httpStatus) {
  return readJsonAnswer<PullPage>(body, httpStatus, "GET " + std::string(kPullPath),
                                  [since](ObjectReader& r) { return readPullPage(r, since); });
}

Reply<BreakGlassReply> readBreakGlassAnswer(const std::string& body, int httpStatus) {
  return readJsonAnswer<BreakGlassReply>(body, httpStatus, "POST " + std::string(kBreakGlassPath), readBreakGlass);
}

std::unique_ptr<Transport> makeHttpTransport(const HttpTransportOptions& options, std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  if (options.timeoutMs <= 0) {
    *error = "the timeout must be positive, not " + std::to_string(options.timeoutMs) + " ms";
    return nullptr;
  }
  try {
    if (!web::uri::validate(options.baseUrl)) {
      *error = "the server address '" + options.baseUrl + "' is not a URL";
      return nullptr;
    }
    const web::uri base(options.baseUrl);
    const std::string scheme = lowerAscii(base.scheme());
    if (scheme != "http" && scheme != "https") {
      *error = "the server address '" + options.baseUrl + "' must start with https:// (or http:// for tests)";
      return nullptr;
    }
    if (base.host().empty() || !base.user_info().empty() || !base.query().empty() || !base.fragment().empty()) {
      *error = "the server address '" + options.baseUrl + "' must be scheme://host[:port][/path], nothing more";
      return nullptr;
    }
    const bool tls = scheme == "https";
    if (!tls && !options.caCertFile.empty()) {
      // A CA file says the caller expects TLS: never fall back to plain HTTP.
      *error = "a CA certificate file is set but the server address '" + options.baseUrl + "' is not https";
      return nullptr;
    }
    std::shared_ptr<const TrustedCerts> trusted;
    if (tls && !options.caCertFile.empty()) {
      std::optional<TrustedCerts> certs = loadCertificates(options.caCertFile, error);
      if (!certs) return nullptr;
      trusted = std::make_shared<const TrustedCerts>(std::move(*certs));
    }

    http_client_config config;
    config.set_timeout(std::chrono::milliseconds(options.timeoutMs));
    config.set_validate_certificates(true);  // the chain and the host name (RFC 2818)
    // The library follows up to 10 redirects by default, with every header
    // (the device secret, the session token) sent to wherever they point. The
    // API never redirects: a 3xx is an answer (kProtocol), not an instruction.
    config.set_max_redirects(0);
    config.set_ssl_context_callback([trusted](boost::asio::ssl::context& context) {
      // Runs for every new connection. No exception may leave it.
      SSL_CTX* ctx = context.native_handle();
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
      if (!trusted) return;  // the system's trust store (the library loaded it)
      // Trust exactly the configured certificates: a fresh store replaces the system one.
      X509_STORE* store = X509_STORE_new();
      if (!store) throw std::bad_alloc();  // the request fails; the system's store is never used instead
      for (const auto& cert : *trusted) X509_STORE_add_cert(store, cert.get());
      SSL_CTX_set_cert_store(ctx, store);
      ERR_clear_error();
    });
    auto client = std::make_unique<http_client>(base, config);
    error->clear();
    return std::make_unique<HttpTransport>(std::move(client), options.timeoutMs);
  } catch (const std::exception& e) {
    *error = "cannot use the server address '" + options.baseUrl + "': " + e.what();
  } catch (...) {
    *error = "cannot use the server address '" + options.baseUrl + "'";
  }
  return nullptr;
}

}  // namespace charta::sync
