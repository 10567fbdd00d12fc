// FaultProxy on POSIX sockets: one accept thread, one thread per client
// connection. Every socket is non-blocking and every wait is a poll() of at
// most kPollMs, after which the thread checks for stop and partition, so that
// stopping and partitioning never wait for a peer.

#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace charta::test {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollMs = 50;
constexpr int kDrainMs = 1000;  // how long a closing connection waits for the client to close first
constexpr std::size_t kReadChunk = 64u << 10;

// --- small helpers -----------------------------------------------------------

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() { close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      close();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  void close() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }
  // Closes with a reset (RST) instead of an orderly FIN: what a peer sees
  // when the network drops the connection under it.
  void reset() {
    if (m_fd < 0) return;
    linger hard{};
    hard.l_onoff = 1;
    hard.l_linger = 0;
    ::setsockopt(m_fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close();
  }

 private:
  int m_fd = -1;
};

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A decimal number without sign or spaces; false on overflow or anything else.
bool parseDecimal(std::string_view s, std::size_t* out) {
  if (s.empty() || s.size() > 18) return false;
  std::size_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  *out = value;
  return true;
}

// splitmix64: tiny, fully specified, good enough for fault decisions.
std::uint64_t nextRandom(std::uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1).
double nextUnit(std::uint64_t& state) { return static_cast<double>(nextRandom(state) >> 11) * 0x1.0p-53; }

double clampProbability(double p) {
  if (!(p > 0)) return 0;  // also NaN
  return p > 1 ? 1 : p;
}

FaultConfig sanitize(FaultConfig c) {
  c.dropRequest = clampProbability(c.dropRequest);
  c.dropResponse = clampProbability(c.dropResponse);
  c.cutRequest = clampProbability(c.cutRequest);
  c.cutResponse = clampProbability(c.cutResponse);
  c.duplicate = clampProbability(c.duplicate);
  c.delayMs = std::max(0, c.delayMs);
  c.delayJitterMs = std::max(0, c.delayJitterMs);
  return c;
}

// Where a cut of `size` bytes falls: in [0, size - 1] (0 when size is 0).
std::size_t cutPoint(double fraction, std::size_t size) {
  if (size == 0) return 0;
  const auto at = static_cast<std::size_t>(fraction * static_cast<double>(size));
  return std::min(at, size - 1);
}

// --- HTTP framing ------------------------------------------------------------

struct Head {
  std::string startLine;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, values trimmed
};

// head: the bytes before the empty line (no final CRLF CRLF).
bool parseHead(std::string_view head, Head* out) {
  std::size_t lineEnd = head.find("\r\n");
  out->startLine = std::string(head.substr(0, lineEnd));
  if (out->startLine.empty()) return false;
  std::size_t pos = lineEnd == std::string_view::npos ? head.size() : lineEnd + 2;
  while (pos < head.size()) {
    lineEnd = head.find("\r\n", pos);
    if (lineEnd == std::string_view::npos) lineEnd = head.size();
    const std::string_view line = head.substr(pos, lineEnd - pos);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' || line.front() == '\t') return false;
    out->headers.emplace_back(lowerAscii(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    pos = lineEnd + 2;
  }
  return true;
}

// The head again, without the named headers, with "Connection: close".
std::string rewriteHead(const Head& head, std::initializer_list<std::string_view> dropped) {
  std::string out = head.startLine + "\r\n";
  for (const auto& [name, value] : head.headers) {
    if (std::find(dropped.begin(), dropped.end(), name) != dropped.end()) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  return out;
}

bool hasChunked(const Head& head) {
  for (const auto& [name, value] : head.headers) {
    if (name == "transfer-encoding" && lowerAscii(value).find("chunked") != std::string::npos) return true;
  }
  return false;
}

bool hasHeader(const Head& head, std::string_view name) {
  return std::any_of(head.headers.begin(), head.headers.end(), [&](const auto& h) { return h.first == name; });
}

enum class Length { kNone, kValue, kBad };

// Every Content-Length header (or comma-separated value) must agree.
Length contentLength(const Head& head, std::size_t* out) {
  bool seen = false;
  std::size_t value = 0;
  for (const auto& [name, raw] : head.headers) {
    if (name != "content-length") continue;
    std::string_view rest = raw;
    while (true) {
      const std::size_t comma = rest.find(',');
      std::size_t v = 0;
      if (!parseDecimal(trim(rest.substr(0, comma)), &v)) return Length::kBad;
      if (seen && v != value) return Length::kBad;
      seen = true;
      value = v;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (!seen) return Length::kNone;
  *out = value;
  return Length::kValue;
}

// Finds the end of a chunked body incrementally, as bytes arrive.
class ChunkScanner {
 public:
  enum class State { kNeedMore, kDone, kBad };
  explicit ChunkScanner(std::size_t start) : m_pos(start) {}

  // On kDone, end() is the offset just past the body (trailers included).
  State scan(const std::string& buf) {
    while (true) {
      const std::size_t eol = buf.find("\r\n", m_pos);
      if (eol == std::string::npos) return buf.size() - m_pos > 4096 ? State::kBad : State::kNeedMore;
      if (m_inTrailer) {
        const bool last = eol == m_pos;
        m_pos = eol + 2;
        if (last) return State::kDone;
        continue;
      }
      std::string_view line(buf.data() + m_pos, eol - m_pos);
      line = trim(line.substr(0, line.find(';')));
      if (line.empty() || line.size() > 15) return State::kBad;
      std::size_t size = 0;
      for (char c : line) {
        unsigned digit = 0;
        if (c >= '0' && c <= '9') {
          digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
          digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
          digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
          return State::kBad;
        }
        size = size * 16 + digit;
      }
      if (size == 0) {
        m_inTrailer = true;
        m_pos = eol + 2;
        continue;
      }
      const std::size_t next = eol + 2 + size + 2;
      if (buf.size() < next) return State::kNeedMore;
      if (buf.compare(next - 2, 2, "\r\n") != 0) return State::kBad;
      m_pos = next;
    }
  }
  std::size_t end() const { return m_pos; }

 private:
  std::size_t m_pos;
  bool m_inTrailer = false;
};

void setNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct Counters {
  std::atomic<std::uint64_t> connections{0}, refused{0}, severed{0}, requestsSeen{0}, forwarded{0}, droppedRequests{0},
      droppedResponses{0}, cutRequests{0}, cutResponses{0}, duplicated{0}, delayed{0}, relayed{0}, rejected{0},
      upstreamErrors{0};
};

// --- the proxy -----------------------------------------------------------------

// Everything the threads share. FaultProxy::Impl derives from it: the Session
// below cannot name that private nested type.
struct Core {
  FaultProxyOptions options;
  Fd listener;
  std::atomic<bool> stopping{false};
  std::atomic<bool> partitioned{false};
  std::atomic<std::uint64_t> partitionEpoch{0};
  Counters counters;

  mutable std::mutex mutex;  // guards the members below
  FaultConfig config;
  std::uint64_t rngState = 0;
  std::uint64_t nextIndex = 0;
  std::vector<FaultDecision> log;

  std::thread acceptThread;
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> workers;  // the accept thread's only

  void acceptLoop();
  FaultDecision decide();
  void stop() {
    stopping = true;
    if (acceptThread.joinable()) acceptThread.join();
    listener.close();
  }
};

enum class Io { kOk, kClosed, kError, kTimeout, kAborted };

// One client connection and the upstream connections made for it.
class Session {
 public:
  Session(Core& proxy, int clientFd, std::uint64_t epoch) : m_proxy(proxy), m_client(clientFd), m_epoch(epoch) {}

  void run();

 private:
  struct Answer {
    Io io = Io::kError;
    bool sent = false;  // the whole request reached the server
    std::string head;   // rewritten, with the final CRLF CRLF
    std::string body;   // as framed on the wire (chunked stays chunked)
  };

  bool aborted() const {
    return m_proxy.stopping.load() || m_proxy.partitioned.load() || m_proxy.partitionEpoch.load() != m_epoch;
  }
  Clock::time_point deadline() const { return Clock::now() + std::chrono::milliseconds(m_proxy.options.ioTimeoutMs); }

  Io waitFor(int fd, short events, Clock::time_point until) const;
  Io readSome(int fd, std::string& buf) const;
  Io sendAll(int fd, std::string_view data) const;
  Io sleepFor(int ms) const;
  Io connectUpstream(Fd& out) const;
  Answer exchange(const std::string& request, bool isHead) const;
  Io readAnswer(int fd, bool isHead, Answer* answer) const;

  void reject(int status, std::string_view reason);
  void finishGracefully();
  void sever();

  Core& m_proxy;
  Fd m_client;
  std::uint64_t m_epoch;
};

Io Session::waitFor(int fd, short events, Clock::time_point until) const {
  while (true) {
    if (aborted()) return Io::kAborted;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return Io::kTimeout;
    pollfd p{};
    p.fd = fd;
    p.events = events;
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, kPollMs)));
    if (rc < 0 && errno != EINTR) return Io::kError;
    if (rc > 0) return Io::kOk;  // readable, writable, or an error/hang-up the next call reports
  }
}

Io Session::readSome(int fd, std::string& buf) const {
  const Clock::time_point until = deadline();
  while (true) {
    const Io waited = waitFor(fd, POLLIN, until);
    if (waited != Io::kOk) return waited;
    char chunk[kReadChunk];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
      return Io::kOk;
    }
    if (n == 0) return Io::kClosed;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return Io::kError;
  }
}

Io Session::sendAll(int fd, std::string_view data) const {
  Clock::time_point until = deadline();
  while (!data.empty()) {
    const Io waited = waitFor(fd, POLLOUT, until);
    if (waited != Io::kOk) return waited;
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      until = deadline();
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return Io::kError;
    }
  }
  return Io::kOk;
}

Io Session::sleepFor(int ms) const {
  const Clock::time_point until = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < until) {
    if (aborted()) return Io::kAborted;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));
  }
  return aborted() ? Io::kAborted : Io::kOk;
}

Io Session::connectUpstream(Fd& out) const {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Io::kError;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(m_proxy.options.targetPort);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // sockaddr_in is the address form connect() takes for AF_INET.
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return Io::kError;
    const Io waited = waitFor(fd.get(), POLLOUT, deadline());
    if (waited != Io::kOk) return waited;
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) return Io::kError;
  }
  setNoDelay(fd.get());
  out = std::move(fd);
  return Io::kOk;
}

Io Session::readAnswer(int fd, bool isHead, Answer* answer) const {
  std::string buf;
  std::size_t headEnd = std::string::npos;
  Head head;
  int status = 0;
  // The head, skipping 1xx interim answers.
  while (true) {
    headEnd = buf.find("\r\n\r\n");
    if (headEnd == std::string::npos) {
      if (buf.size() > kMaxHeadBytes) return Io::kError;
      const Io io = readSome(fd, buf);
      if (io != Io::kOk) return io == Io::kClosed ? Io::kError : io;
      continue;
    }
    head = Head{};
    if (!parseHead(std::string_view(buf).substr(0, headEnd), &head)) return Io::kError;
    const std::string& line = head.startLine;
    if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ') return Io::kError;
    for (std::size_t i = 9; i < 12; ++i) {
      if (line[i] < '0' || line[i] > '9') return Io::kError;
    }
    status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status >= 100 && status < 200 && status != 101) {
      buf.erase(0, headEnd + 4);
      continue;
    }
    break;
  }
  answer->head = rewriteHead(head, {"connection", "keep-alive", "proxy-connection"});
  const std::size_t bodyStart = headEnd + 4;
  const std::size_t limit = m_proxy.options.maxBodyBytes;
  std::size_t bodyEnd = bodyStart;
  std::size_t length = 0;
  if (isHead || status == 204 || status == 304) {
    bodyEnd = bodyStart;
  } else if (hasChunked(head)) {
    ChunkScanner scanner(bodyStart);
    while (true) {
      const ChunkScanner::State state = scanner.scan(buf);
      if (state == ChunkScanner::State::kBad) return Io::kError;
      if (state == ChunkScanner::State::kDone) break;
      if (buf.size() - bodyStart > limit) return Io::kError;
      const Io io = readSome(fd, buf);
      if (io != Io::kOk) return io == Io::kClosed ? Io::kError : io;
    }
    bodyEnd = scanner.end();
  } else {
    const Length kind = contentLength(head, &length);
    if (kind == Length::kBad || (kind == Length::kValue && length > limit)) return Io::kError;
    if (kind == Length::kValue) {
      while (buf.size() - bodyStart < length) {
        const Io io = readSome(fd, buf);
        if (io != Io::kOk) return io == Io::kClosed ? Io::kError : io;
      }
      bodyEnd = bodyStart + length;
    } else {
      while (true) {  // framed by the end of the connection
        if (buf.size() - bodyStart > limit) return Io::kError;
        const Io io = readSome(fd, buf);
        if (io == Io::kClosed) break;
        if (io != Io::kOk) return io;
      }
      bodyEnd = buf.size();
    }
  }
  answer->body = buf.substr(bodyStart, bodyEnd - bodyStart);
  return Io::kOk;
}

Session::Answer Session::exchange(const std::string& request, bool isHead) const {
  Answer answer;
  Fd upstream;
  answer.io = connectUpstream(upstream);
  if (answer.io != Io::kOk) return answer;
  answer.io = sendAll(upstream.get(), request);
  if (answer.io != Io::kOk) return answer;
  answer.sent = true;
  answer.io = readAnswer(upstream.get(), isHead, &answer);
  return answer;
}

void Session::reject(int status, std::string_view reason) {
  ++m_proxy.counters.rejected;
  std::string reply = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                      "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  if (sendAll(m_client.get(), reply) == Io::kAborted) {
    sever();
    return;
  }
  finishGracefully();
}

// Half-closes, lets the client read everything and close first (so that no
// reset destroys bytes it has not read yet), then closes.
void Session::finishGracefully() {
  ::shutdown(m_client.get(), SHUT_WR);
  const Clock::time_point until = Clock::now() + std::chrono::milliseconds(kDrainMs);
  while (true) {
    const Io waited = waitFor(m_client.get(), POLLIN, until);
    if (waited == Io::kAborted) {
      sever();
      return;
    }
    if (waited != Io::kOk) break;
    char sink[4096];
    const ssize_t n = ::recv(m_client.get(), sink, sizeof sink, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
  }
  m_client.close();
}

void Session::sever() {
  if (!m_proxy.stopping.load()) ++m_proxy.counters.severed;
  m_client.reset();
}

void Session::run() {
  setNoDelay(m_client.get());
  std::string buf;
  std::size_t headEnd = std::string::npos;
  while ((headEnd = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHeadBytes) return reject(431, "Request Header Fields Too Large");
    const Io io = readSome(m_client.get(), buf);
    if (io == Io::kAborted) return sever();
    if (io != Io::kOk) return;  // the client went away (or idled out) before a whole request
  }
  Head head;
  if (!parseHead(std::string_view(buf).substr(0, headEnd), &head)) return reject(400, "Bad Request");
  const std::string method = head.startLine.substr(0, head.startLine.find(' '));
  if (hasHeader(head, "transfer-encoding")) return reject(501, "Not Implemented");
  std::size_t length = 0;
  const Length kind = contentLength(head, &length);
  if (kind == Length::kBad) return reject(400, "Bad Request");
  if (length > m_proxy.options.maxBodyBytes) return reject(413, "Content Too Large");

  const std::size_t bodyStart = headEnd + 4;
  if (length > 0 && buf.size() - bodyStart < length) {
    for (const auto& [name, value] : head.headers) {
      if (name == "expect" && lowerAscii(value) == "100-continue") {
        const Io io = sendAll(m_client.get(), "HTTP/1.1 100 Continue\r\n\r\n");
        if (io == Io::kAborted) return sever();
        if (io != Io::kOk) return;
      }
    }
  }
  while (buf.size() - bodyStart < length) {
    const Io io = readSome(m_client.get(), buf);
    if (io == Io::kAborted) return sever();
    if (io != Io::kOk) return;
  }
  const std::string_view body = std::string_view(buf).substr(bodyStart, length);

  Counters& counters = m_proxy.counters;
  const FaultDecision decision = m_proxy.decide();
  ++counters.requestsSeen;
  if (decision.delayMs > 0) {
    ++counters.delayed;
    if (sleepFor(decision.delayMs) == Io::kAborted) return sever();
  }
  if (decision.dropRequest) {
    ++counters.droppedRequests;
    m_client.close();
    return;
  }

  const std::string upstreamHead = rewriteHead(head, {"connection", "keep-alive", "proxy-connection", "expect"});
  std::string request = upstreamHead;
  request.append(body);

  if (decision.cutRequest) {
    const std::size_t keep = body.empty() ? 1 + cutPoint(decision.cutFraction, upstreamHead.size() - 1)
                                          : upstreamHead.size() + cutPoint(decision.cutFraction, body.size());
    Fd upstream;
    Io io = connectUpstream(upstream);
    if (io == Io::kOk) io = sendAll(upstream.get(), std::string_view(request).substr(0, keep));
    if (io == Io::kAborted) return sever();
    if (io == Io::kOk) {
      ++counters.cutRequests;
    } else {
      ++counters.upstreamErrors;
    }
    upstream.close();
    m_client.close();
    return;
  }

  const bool isHead = method == "HEAD";
  Answer answer = exchange(request, isHead);
  if (answer.io == Io::kAborted) return sever();
  if (answer.sent) ++counters.forwarded;
  if (decision.duplicate && answer.sent) {
    Answer second = exchange(request, isHead);
    if (second.io == Io::kAborted) return sever();
    if (second.sent) ++counters.duplicated;
    if (second.io == Io::kOk || answer.io != Io::kOk) answer = std::move(second);
  }
  if (answer.io != Io::kOk) {
    ++counters.upstreamErrors;
    m_client.close();
    return;
  }
  if (decision.dropResponse) {
    ++counters.droppedResponses;
    m_client.close();
    return;
  }
  if (decision.cutResponse) {
    std::string partial = answer.head;
    if (answer.body.empty()) {
      partial.resize(1 + cutPoint(decision.cutFraction, answer.head.size() - 1));
    } else {
      partial.append(answer.body, 0, cutPoint(decision.cutFraction, answer.body.size()));
    }
    const Io io = sendAll(m_client.get(), partial);
    if (io == Io::kAborted) return sever();
    ++counters.cutResponses;
    m_client.close();
    return;
  }
  answer.head.append(answer.body);
  ++counters.relayed;  // before the send: settled by the time the client has read the answer
  const Io io = sendAll(m_client.get(), answer.head);
  if (io == Io::kAborted) return sever();
  if (io != Io::kOk) {
    m_client.close();
    return;
  }
  finishGracefully();
}

FaultDecision Core::decide() {
  std::lock_guard lock(mutex);
  // Always seven draws, whatever the configuration (see the header).
  double u[7];
  for (double& x : u) x = nextUnit(rngState);
  FaultDecision d;
  d.index = nextIndex++;
  d.delayMs = config.delayMs;
  if (config.delayJitterMs > 0) {
    d.delayMs += std::min(config.delayJitterMs, static_cast<int>(u[5] * (config.delayJitterMs + 1.0)));
  }
  d.cutFraction = u[6];
  if (u[0] < config.dropRequest) {
    d.dropRequest = true;
  } else if (u[1] < config.cutRequest) {
    d.cutRequest = true;
  } else {
    d.duplicate = u[2] < config.duplicate;
    if (u[3] < config.dropResponse) {
      d.dropResponse = true;
    } else if (u[4] < config.cutResponse) {
      d.cutResponse = true;
    }
  }
  if (log.size() < kMaxLoggedDecisions) log.push_back(d);
  return d;
}

void Core::acceptLoop() {
  while (!stopping.load()) {
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
    pollfd p{};
    p.fd = listener.get();
    p.events = POLLIN;
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const int raw = ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (raw < 0) continue;
    ++counters.connections;
    const std::uint64_t epoch = partitionEpoch.load();
    if (partitioned.load()) {
      ++counters.refused;
      Fd(raw).reset();
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    try {
      std::thread thread([this, raw, epoch, done] {
        Session(*this, raw, epoch).run();
        done->store(true);
      });
      workers.push_back(Worker{std::move(thread), done});
    } catch (const std::system_error&) {
      ::close(raw);  // no thread to serve it
    }
  }
  for (Worker& worker : workers) worker.thread.join();
  workers.clear();
}

}  // namespace

struct FaultProxy::Impl : Core {};

std::unique_ptr<FaultProxy> FaultProxy::start(const FaultProxyOptions& options, std::string* error) {
  auto fail = [error](std::string message) -> std::unique_ptr<FaultProxy> {
    if (error != nullptr) *error = std::move(message);
    return nullptr;
  };
  if (options.targetPort == 0) return fail("no target port");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->options.ioTimeoutMs = std::max(1, options.ioTimeoutMs);
  impl->rngState = options.seed;
  impl->listener = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!impl->listener.valid()) return fail(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // sockaddr_in is the address form bind() and getsockname() take for AF_INET.
  if (::bind(impl->listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return fail(std::string("bind: ") + std::strerror(errno));
  }
  if (::listen(impl->listener.get(), 128) != 0) return fail(std::string("listen: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  if (::getsockname(impl->listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return fail(std::string("getsockname: ") + std::strerror(errno));
  }
  const std::uint16_t port = ntohs(addr.sin_port);
  Impl* raw = impl.get();
  try {
    raw->acceptThread = std::thread([raw] { raw->acceptLoop(); });
  } catch (const std::system_error& e) {
    return fail(std::string("thread: ") + e.what());
  }
  return std::unique_ptr<FaultProxy>(new FaultProxy(std::move(impl), port));
}

FaultProxy::FaultProxy(std::unique_ptr<Impl> impl, std::uint16_t port) : m_impl(std::move(impl)), m_port(port) {}

FaultProxy::~FaultProxy() { m_impl->stop(); }

std::string FaultProxy::baseUrl() const { return "http://127.0.0.1:" + std::to_string(m_port); }

void FaultProxy::setFaults(const FaultConfig& config) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->config = sanitize(config);
}

FaultConfig FaultProxy::faults() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->config;
}

void FaultProxy::setDropRequest(double probability) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->config.dropRequest = clampProbability(probability);
}

void FaultProxy::setDropResponse(double probability) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->config.dropResponse = clampProbability(probability);
}

void FaultProxy::setCutRequest(double probability) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->config.cutRequest = clampProbability(probability);
}

void FaultProxy::setCutResponse(double probability) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->config.cutResponse = clampProbability(probability);
}

void FaultProxy::setDuplicate(double probability) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->config.duplicate = clampProbability(probability);
}

void FaultProxy::setDelay(int delayMs, int jitterMs) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->config.delayMs = std::max(0, delayMs);
  m_impl->config.delayJitterMs = std::max(0, jitterMs);
}

void FaultProxy::setPartitioned(bool partitioned) {
  if (partitioned) {
    m_impl->partitioned = true;
    ++m_impl->partitionEpoch;
  } else {
    m_impl->partitioned = false;
  }
}

bool FaultProxy::partitioned() const { return m_impl->partitioned.load(); }

void FaultProxy::heal() {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->config = FaultConfig{};
  }
  setPartitioned(false);
}

void FaultProxy::reseed(std::uint64_t seed) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->rngState = seed;
  m_impl->nextIndex = 0;
  m_impl->log.clear();
}

std::vector<FaultDecision> FaultProxy::decisions() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->log;
}

FaultStats FaultProxy::stats() const {
  const Counters& c = m_impl->counters;
  FaultStats s;
  s.connections = c.connections.load();
  s.refused = c.refused.load();
  s.severed = c.severed.load();
  s.requestsSeen = c.requestsSeen.load();
  s.forwarded = c.forwarded.load();
  s.droppedRequests = c.droppedRequests.load();
  s.droppedResponses = c.droppedResponses.load();
  s.cutRequests = c.cutRequests.load();
  s.cutResponses = c.cutResponses.load();
  s.duplicated = c.duplicated.load();
  s.delayed = c.delayed.load();
  s.relayed = c.relayed.load();
  s.rejected = c.rejected.load();
  s.upstreamErrors = c.upstreamErrors.load();
  return s;
}

void FaultProxy::resetStats() {
  Counters& c = m_impl->counters;
  for (auto* counter :
       {&c.connections, &c.refused, &c.severed, &c.requestsSeen, &c.forwarded, &c.droppedRequests, &c.droppedResponses,
        &c.cutRequests, &c.cutResponses, &c.duplicated, &c.delayed, &c.relayed, &c.rejected, &c.upstreamErrors}) {
    counter->store(0);
  }
}

}  // namespace charta::test
