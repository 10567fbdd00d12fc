// The answers that carry ops, read from their raw bytes without an HTTP
// exchange. HttpTransport (transport_cpprest.cc) reads every 2xx answer to
// these calls with them, so the unit tests and the fuzzer exercise the very
// parser the tablet runs on what a server sends.
//
// Each returns the typed answer or a kProtocol CallError (httpStatus as
// given) whose message names the member at fault, the same as the HTTP
// transport's ("GET /v1/sync/pull answer: ..."). The ops come out of base64,
// as single-op encodings not yet decoded (crdt::decodeOp is the caller's).
#pragma once

#include <cstdint>
#include <string>

#include "charta/sync/transport.h"

namespace charta::sync {

// The body of a 2xx answer to GET /v1/sync/pull?since=<since>. Besides the
// members' types, the cursor must not move back ("next" behind since) and a
// page saying "more" must hold ops or move the cursor.
Reply<PullPage> readPullAnswer(const std::string& body, std::uint64_t since, int httpStatus = 200);

// The body of a 2xx answer to POST /v1/sync/break-glass.
Reply<BreakGlassReply> readBreakGlassAnswer(const std::string& body, int httpStatus = 200);

}  // namespace charta::sync
