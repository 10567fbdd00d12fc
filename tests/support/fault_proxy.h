// FaultProxy: a TCP proxy on 127.0.0.1 that sits between tablet clients and a
// real charta-server (also on 127.0.0.1) and breaks the network on purpose, one
// HTTP/1.1 request at a time, so the fault suites can check that sync survives
// lost requests, lost answers, truncated bodies, latency, duplicates and
// partitions.
//
// What it understands of HTTP/1.1:
//  - requests framed by Content-Length (or no body). A chunked request, a bad
//    or repeated-and-different Content-Length, a head over kMaxHeadBytes or a
//    body over FaultProxyOptions::maxBodyBytes is answered by the proxy itself
//    (501, 400, 431 or 413, counted in FaultStats::rejected), never forwarded.
//    "Expect: 100-continue" is answered by the proxy (100 Continue) and not
//    forwarded;
//  - responses framed by Content-Length, by chunked transfer encoding, or by
//    the end of the connection; 1xx interim responses are dropped; HEAD, 204
//    and 304 answers have no body. A response cut in the middle of a body
//    framed by the end of the connection cannot be told apart by the client
//    (the server adapter always sends Content-Length).
//
// Keep-alive: one request per client connection. The proxy reads one request,
// forwards it on a fresh upstream connection with "Connection: close", reads
// the whole answer, relays it with "Connection: close" (any Connection and
// Keep-Alive header of either side is replaced), then closes. Clients
// therefore never reuse a connection, which also means an HTTP client never
// silently re-sends a request because a pooled connection died: every fault is
// seen by the client exactly once. Requests and answers are buffered whole
// (answers are relayed only once complete).
//
// Faults, per request, decided once the whole request has been read. A drop
// request wins over a cut request; a request that is neither is duplicated or
// not, and independently gets at most one response fault (drop wins over cut):
//  - delay: wait delayMs + a uniform 0..delayJitterMs before doing anything;
//  - drop request: close the client connection, forward nothing;
//  - cut request: forward the head and only part of the body (part of the head
//    when there is no body), then close both sides;
//  - duplicate: send the request on two upstream connections one after the
//    other (the second once the first answer is complete) and relay the
//    second answer (the server's answer to the replay; the first one when the
//    second could not be had);
//  - drop response: forward, read the whole answer (the server did the work),
//    then close the client connection without a byte of it;
//  - cut response: relay the head and only part of the body (part of the head
//    when the body is empty), then close.
// Partition (setPartitioned(true)) is not per request: every new connection is
// accepted and reset at once, and every open one (also one waiting in a delay
// or for the server) is reset within ~50 ms, until healed.
//
// Reproducibility: every complete request consumes exactly seven draws of a
// generator seeded by FaultProxyOptions::seed (or reseed()), whatever the
// configuration, so the n-th decision depends only on the seed, n and the
// configuration at that moment. With concurrent clients which request is the
// n-th depends on timing; send sequentially for an exact replay.
//
// Thread-safety: every public member may be called from any thread while
// traffic flows (not while the destructor runs). The destructor stops the
// proxy: it resets open connections and joins every thread within ~100 ms,
// since every wait inside is a poll() of at most 50 ms. Plain POSIX sockets
// and std::thread; no Qt, no HTTP library, so any suite can use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace charta::test {

// Probabilities in [0, 1] (clamped); 0 never, 1 always.
struct FaultConfig {
  double dropRequest = 0;   // request read, never forwarded, client connection closed
  double dropResponse = 0;  // request forwarded and answered, answer thrown away
  double cutRequest = 0;    // request forwarded only in part, then closed
  double cutResponse = 0;   // answer relayed only in part, then closed
  double duplicate = 0;     // request sent twice to the server
  int delayMs = 0;          // added to every request (>= 0)
  int delayJitterMs = 0;    // plus a uniform 0..delayJitterMs (>= 0)
};

// What the proxy did to the n-th complete request (n counted from 0 since the
// start or the last reseed()).
struct FaultDecision {
  std::uint64_t index = 0;
  bool dropRequest = false;
  bool cutRequest = false;
  bool duplicate = false;
  bool dropResponse = false;
  bool cutResponse = false;
  int delayMs = 0;         // total delay, jitter included
  double cutFraction = 0;  // in [0, 1): where a cut falls within the body (or head)
  bool operator==(const FaultDecision&) const = default;
};

// Every counter moves before the client can observe the outcome it counts
// (relayed: just before the answer is sent), so a test may read stats() as
// soon as its request has returned.
struct FaultStats {
  std::uint64_t connections = 0;       // client connections accepted (refused ones included)
  std::uint64_t refused = 0;           // connections reset on arrival during a partition
  std::uint64_t severed = 0;           // open connections reset by a partition
  std::uint64_t requestsSeen = 0;      // complete requests read from clients (each got a decision)
  std::uint64_t forwarded = 0;         // requests sent whole to the server (a duplicate counts once)
  std::uint64_t droppedRequests = 0;   // never forwarded
  std::uint64_t droppedResponses = 0;  // answered by the server, not relayed
  std::uint64_t cutRequests = 0;       // sent to the server only in part
  std::uint64_t cutResponses = 0;      // relayed to the client only in part
  std::uint64_t duplicated = 0;        // requests sent a second time
  std::uint64_t delayed = 0;           // requests held back by a delay > 0
  std::uint64_t relayed = 0;           // whole answers handed to clients
  std::uint64_t rejected = 0;          // requests the proxy could not frame (answered by the proxy)
  std::uint64_t upstreamErrors = 0;    // server unreachable, silent, or not speaking HTTP
};

struct FaultProxyOptions {
  std::uint16_t targetPort = 0;  // the server, on 127.0.0.1
  std::uint64_t seed = 1;
  std::size_t maxBodyBytes = 64u << 20;
  // How long the proxy waits for the server to answer (and for a slow peer to
  // read or write) before giving up on a request.
  int ioTimeoutMs = 30000;
};

inline constexpr std::size_t kMaxHeadBytes = 64u << 10;
inline constexpr std::size_t kMaxLoggedDecisions = 100000;

class FaultProxy {
 public:
  // Listens on 127.0.0.1, port picked by the system. nullptr (and *error set
  // when error is not null) when the socket cannot be opened or targetPort is 0.
  static std::unique_ptr<FaultProxy> start(const FaultProxyOptions& options, std::string* error = nullptr);
  ~FaultProxy();  // stops: resets open connections, joins every thread
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string baseUrl() const;  // "http://127.0.0.1:<port>"

  // Faults. Changes apply to requests whose decision is drawn afterwards.
  void setFaults(const FaultConfig& config);
  FaultConfig faults() const;
  void setDropRequest(double probability);
  void setDropResponse(double probability);
  void setCutRequest(double probability);
  void setCutResponse(double probability);
  void setDuplicate(double probability);
  void setDelay(int delayMs, int jitterMs = 0);
  void setPartitioned(bool partitioned);
  bool partitioned() const;
  // Clears every fault and ends a partition. Counters, decisions and the
  // generator are left as they are.
  void heal();

  // Restarts the decision sequence: the generator from seed, the index from 0,
  // and an empty decision log.
  void reseed(std::uint64_t seed);
  // The decisions since the start or the last reseed(), in the order drawn
  // (the first kMaxLoggedDecisions of them).
  std::vector<FaultDecision> decisions() const;

  FaultStats stats() const;
  void resetStats();

 private:
  struct Impl;
  explicit FaultProxy(std::unique_ptr<Impl> impl, std::uint16_t port);

  std::unique_ptr<Impl> m_impl;
  std::uint16_t m_port = 0;
};

}  // namespace charta::test
