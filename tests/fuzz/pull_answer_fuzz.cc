// libFuzzer target for an answer that carries ops, as the tablet reads it:
// the body of a pull page (GET /v1/sync/pull) and of a break-glass answer
// (POST /v1/sync/break-glass), through the transport's own parser
// (readPullAnswer and readBreakGlassAnswer, sync/src/transport_answers.h:
// JSON by cpprestsdk, ops in base64, the cursor checks), then what the
// replica does with the ops (Replica::applyPulled): each op through
// crdt::decodeOp and, when it decodes, applied to its patient's chart
// (ChartDocument::apply).
//
// Input: the first 8 bytes are the cursor the page was asked for ("since",
// little-endian), the rest is the answer's body. Shorter inputs are skipped.
//
// Properties, beyond "never crashes, leaks or hangs":
//  - a refused answer is a kProtocol error with the answer's status and a
//    message naming the call; the same body gives the same verdict twice;
//  - an accepted page never moves the cursor back ("next" >= since) and
//    never says "more" without holding ops or moving the cursor;
//  - an accepted answer written out again as JSON (ops in base64) reads back
//    as the same answer: the base64 decoder is the encoder's inverse;
//  - an op fails to decode only with kCorruption or kUnsupportedVersion, and
//    a decoded op is refused by its chart only by the chart's rules;
//  - the same ops applied again from scratch give the same charts.
// Built only with CHARTA_FUZZ=ON (clang); scripts/fuzz runs it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "charta/crdt/op_codec.h"
#include "charta/sync/transport.h"
#include "support/base64.h"
#include "transport_answers.h"

namespace {

using namespace charta;
using crdt::ChartDocument;
using crdt::Status;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "pull answer property broken: %s\n", what.c_str());
  __builtin_trap();
}

using charta::testing::base64;

// A JSON string of the bytes as they are (only what JSON requires escaped).
std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string strings(const std::vector<std::string>& texts, bool inBase64) {
  std::string out = "[";
  for (const std::string& text : texts) {
    if (out.size() > 1) out += ',';
    out += quote(inBase64 ? base64(text) : text);
  }
  return out + "]";
}

std::string pageJson(const sync::PullPage& p) {
  return "{\"epoch\":" + quote(p.epoch) + ",\"ops\":" + strings(p.ops, true) + ",\"next\":" + std::to_string(p.next) +
         ",\"more\":" + (p.more ? "true" : "false") + ",\"head\":" + std::to_string(p.head) +
         ",\"purge\":" + strings(p.purge, false) + ",\"enter\":" + strings(p.enter, false) + "}";
}

std::string breakGlassJson(const sync::BreakGlassReply& b) {
  return "{\"patient\":" + quote(b.patient) + ",\"clinic\":" + quote(b.clinic) +
         ",\"in_scope\":" + (b.inScope ? "true" : "false") + ",\"ops\":" + strings(b.ops, true) +
         ",\"head\":" + std::to_string(b.head) + ",\"expires_at\":" + std::to_string(b.expiresAtMs) + "}";
}

bool samePage(const sync::PullPage& a, const sync::PullPage& b) {
  return a.epoch == b.epoch && a.ops == b.ops && a.next == b.next && a.more == b.more && a.purge == b.purge &&
         a.enter == b.enter && a.head == b.head;
}

bool sameBreakGlass(const sync::BreakGlassReply& a, const sync::BreakGlassReply& b) {
  return a.patient == b.patient && a.clinic == b.clinic && a.inScope == b.inScope && a.ops == b.ops &&
         a.head == b.head && a.expiresAtMs == b.expiresAtMs;
}

template <typename T>
void checkRefusal(const sync::Reply<T>& first, const sync::Reply<T>& second, std::string_view call) {
  const sync::CallError& e = first.error();
  if (e.kind != sync::CallError::Kind::kProtocol) broken("a refused answer is not a protocol error: " + e.toString());
  if (e.httpStatus != 200) broken("a refused answer lost its status: " + e.toString());
  if (e.message.rfind(call, 0) != 0) broken("a refusal does not name the call: " + e.message);
  if (second.isOk() || second.error().message != e.message) broken("one body gave two verdicts: " + e.message);
}

// What the replica does with an answer's ops: decode each, apply it to its
// patient's chart. The canonical state of every chart touched.
std::map<std::string, std::string> applyOps(const std::vector<std::string>& ops) {
  std::map<std::string, ChartDocument> charts;
  for (const std::string& bytes : ops) {
    const crdt::Result<crdt::Op> op = crdt::decodeOp(bytes);
    if (!op.isOk()) {
      const Status::Code code = op.status().code();
      if (code != Status::Code::kCorruption && code != Status::Code::kUnsupportedVersion) {
        broken("decodeOp failed with an unexpected code: " + op.status().toString());
      }
      continue;  // the replica refuses the whole page; the other ops are still tried here
    }
    const crdt::Op& o = op.value();
    auto it = charts.find(o.patient);
    if (it == charts.end()) it = charts.emplace(o.patient, ChartDocument(o.patient)).first;
    const crdt::Result<crdt::ApplyOutcome> applied = it->second.apply(o);
    if (!applied.isOk() && applied.status().code() != Status::Code::kRejected &&
        applied.status().code() != Status::Code::kInvalidArgument) {
      broken("apply failed with an unexpected code: " + applied.status().toString());
    }
  }
  std::map<std::string, std::string> states;
  for (const auto& [patient, doc] : charts) states[patient] = doc.canonicalState();
  return states;
}

void checkOps(const std::vector<std::string>& ops) {
  if (applyOps(ops) != applyOps(ops)) broken("the same ops gave two different charts");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  std::uint64_t since = 0;
  for (std::size_t i = 0; i < 8; ++i) since |= static_cast<std::uint64_t>(data[i]) << (8 * i);
  const std::string body(reinterpret_cast<const char*>(data) + 8, size - 8);

  const sync::Reply<sync::PullPage> page = sync::readPullAnswer(body, since);
  const sync::Reply<sync::PullPage> again = sync::readPullAnswer(body, since);
  if (!page.isOk()) {
    checkRefusal(page, again, "GET /v1/sync/pull");
  } else {
    const sync::PullPage& p = page.value();
    if (!again.isOk() || !samePage(p, again.value())) broken("one body gave two pages");
    if (p.next < since) broken("a page moved the cursor back");
    if (p.more && p.ops.empty() && p.next == since) broken("a page says more without progress");
    const sync::Reply<sync::PullPage> written = sync::readPullAnswer(pageJson(p), since);
    if (!written.isOk()) broken("a page written out again is refused: " + written.error().toString());
    if (!samePage(p, written.value())) broken("a page written out again reads as another page");
    checkOps(p.ops);
  }

  const sync::Reply<sync::BreakGlassReply> glass = sync::readBreakGlassAnswer(body);
  const sync::Reply<sync::BreakGlassReply> glassAgain = sync::readBreakGlassAnswer(body);
  if (!glass.isOk()) {
    checkRefusal(glass, glassAgain, "POST /v1/sync/break-glass");
  } else {
    const sync::BreakGlassReply& b = glass.value();
    if (!glassAgain.isOk() || !sameBreakGlass(b, glassAgain.value())) broken("one body gave two break-glass answers");
    if (b.patient.empty()) broken("a break-glass answer without its patient");
    const sync::Reply<sync::BreakGlassReply> written = sync::readBreakGlassAnswer(breakGlassJson(b));
    if (!written.isOk()) broken("a break-glass answer written out again is refused: " + written.error().toString());
    if (!sameBreakGlass(b, written.value())) broken("a break-glass answer written out again reads as another");
    checkOps(b.ops);
  }
  return 0;
}
