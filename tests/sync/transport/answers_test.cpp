// The answers that carry ops, read from their bytes (sync/src/transport_answers.h):
// the parser HttpTransport runs on a pull page and a break-glass answer, with
// the exact messages a person sees when a server sends something wrong. The
// same answers over HTTP are in transport_test.cpp; the fuzzer is
// tests/fuzz/pull_answer_fuzz.cc.

#include <QtTest>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/op_codec.h"
#include "charta/sync/transport.h"
#include "support/base64.h"
#include "transport_answers.h"

using namespace charta;
using sync::CallError;

namespace {

using charta::testing::base64;

// A JSON array of the texts as they are (base64 needs no escaping; a test
// may write its own escapes).
std::string jsonStrings(const std::vector<std::string>& texts) {
  std::string out = "[";
  for (const std::string& text : texts) out += (out.size() > 1 ? ",\"" : "\"") + text + "\"";
  return out + "]";
}

crdt::Op demographic(std::uint64_t seq, crdt::FieldId field, std::string value) {
  crdt::Op op;
  op.id = crdt::OpId{crdt::ReplicaId{7}, seq};
  op.hlc = {1700000000000ull + seq, 0};
  op.author = "nurse.a";
  op.patient = "p-1";
  crdt::WriteField write;
  write.target = {crdt::Collection::kDemographics, {}, field};
  write.value = std::move(value);
  op.body = std::move(write);
  return op;
}

// The message of a failed read (and that it is kProtocol with the status).
std::string problemOf(const sync::Reply<sync::PullPage>& reply, int status = 200) {
  if (reply.isOk()) return "(the answer was accepted)";
  if (reply.error().kind != CallError::Kind::kProtocol) {
    return "(not a protocol error: " + reply.error().toString() + ")";
  }
  if (reply.error().httpStatus != status) return "(HTTP " + std::to_string(reply.error().httpStatus) + ")";
  return reply.error().message;
}

std::string problemOf(const sync::Reply<sync::BreakGlassReply>& reply) {
  if (reply.isOk()) return "(the answer was accepted)";
  if (reply.error().kind != CallError::Kind::kProtocol) {
    return "(not a protocol error: " + reply.error().toString() + ")";
  }
  return reply.error().message;
}

#define COMPARE_TEXT(actual, expected) QCOMPARE(QString::fromStdString(actual), QString::fromStdString(expected))

}  // namespace

class TransportAnswersTest : public QObject {
  Q_OBJECT

 private slots:
  void goodPullPage() {
    const std::vector<crdt::Op> ops = {demographic(1, crdt::field::kFamilyName, "Heidenreich"),
                                       demographic(2, crdt::field::kGivenNames, "Maricela")};
    const std::string body = R"({"epoch":"e-2026","ops":)" +
                             jsonStrings({base64(crdt::encodeOp(ops[0])), base64(crdt::encodeOp(ops[1]))}) +
                             R"(,"next":42,"more":true,"head":97,"purge":["p-9"],"enter":["p-1","p-2"]})";
    const auto page = sync::readPullAnswer(body, 40);
    QVERIFY2(page.isOk(), page.error().toString().c_str());
    const sync::PullPage& p = page.value();
    COMPARE_TEXT(p.epoch, "e-2026");
    QCOMPARE(p.ops.size(), std::size_t{2});
    for (std::size_t i = 0; i < ops.size(); ++i) {
      QVERIFY(p.ops[i] == crdt::encodeOp(ops[i]));
      const auto decoded = crdt::decodeOp(p.ops[i]);
      QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
      QVERIFY(decoded.value() == ops[i]);
    }
    QCOMPARE(p.next, std::uint64_t{42});
    QVERIFY(p.more);
    QCOMPARE(p.head, std::uint64_t{97});
    QVERIFY(p.purge == std::vector<std::string>{"p-9"});
    QVERIFY((p.enter == std::vector<std::string>{"p-1", "p-2"}));

    // "head" is optional, members this version does not know are ignored,
    // an empty last page leaves the cursor where it was, and a page of ops
    // may say "more" without moving the cursor (its ops are the progress).
    const auto last = sync::readPullAnswer(
        R"({"epoch":"e","ops":[],"next":40,"more":false,"purge":[],"enter":[],"newer":{"x":[1]}})", 40);
    QVERIFY2(last.isOk(), last.error().toString().c_str());
    QCOMPARE(last.value().head, std::uint64_t{0});
    QVERIFY(last.value().ops.empty());
    const auto held =
        sync::readPullAnswer(R"({"epoch":"e","ops":["AQID"],"next":40,"more":true,"purge":[],"enter":[]})", 40);
    QVERIFY2(held.isOk(), held.error().toString().c_str());
    QVERIFY(held.value().ops == std::vector<std::string>{std::string("\x01\x02\x03", 3)});
  }

  void badBase64() {
    const char* const kMessage = "GET /v1/sync/pull answer: \"ops\"[1] is not valid base64";
    for (const char* op : {"AQID!A==", "AQJ=", "AQ", "AQ=D", "====", "A\\u0000ID"}) {
      const std::string body =
          R"({"epoch":"e","ops":)" + jsonStrings({"AAEC/w==", op}) + R"(,"next":1,"more":false,"purge":[],"enter":[]})";
      COMPARE_TEXT(problemOf(sync::readPullAnswer(body, 0)), kMessage);
    }
    // The status of the answer travels with the error.
    COMPARE_TEXT(problemOf(sync::readPullAnswer(
                               R"({"epoch":"e","ops":["","AQ"],"next":1,"more":false,"purge":[],"enter":[]})", 0, 203),
                           203),
                 kMessage);
  }

  void nextBehindSince() {
    COMPARE_TEXT(problemOf(sync::readPullAnswer(
                     R"({"epoch":"e","ops":["AQID"],"next":4,"more":false,"purge":[],"enter":[]})", 5)),
                 "GET /v1/sync/pull answer: \"next\" (4) is behind \"since\" (5)");
    COMPARE_TEXT(problemOf(sync::readPullAnswer(R"({"epoch":"e","ops":[],"next":0,"more":false,"purge":[],"enter":[]})",
                                                18446744073709551615ull)),
                 "GET /v1/sync/pull answer: \"next\" (0) is behind \"since\" (18446744073709551615)");
  }

  void moreWithoutProgress() {
    COMPARE_TEXT(
        problemOf(sync::readPullAnswer(R"({"epoch":"e","ops":[],"next":5,"more":true,"purge":[],"enter":[]})", 5)),
        "GET /v1/sync/pull answer: \"more\" is true but the page neither holds ops nor moves the cursor");
    // Moving the cursor is progress (a page of ops the device may not see).
    QVERIFY(sync::readPullAnswer(R"({"epoch":"e","ops":[],"next":6,"more":true,"purge":[],"enter":[]})", 5).isOk());
  }

  void notJson() {
    for (const char* body : {"", "<html>502 Bad Gateway</html>", R"({"epoch":"e")", "{\"epoch\":\"e\"} trailing"}) {
      const std::string problem = problemOf(sync::readPullAnswer(body, 0));
      QVERIFY2(problem.rfind("GET /v1/sync/pull: the answer is not JSON (", 0) == 0, problem.c_str());
      QVERIFY2(problem.back() == ')', problem.c_str());
    }
  }

  void wrongTypes() {
    struct Case {
      const char* body;
      const char* message;
    };
    const std::vector<Case> cases = {
        {R"(["epoch","ops"])", "GET /v1/sync/pull answer is an array, not a JSON object"},
        {R"("page")", "GET /v1/sync/pull answer is a string, not a JSON object"},
        {R"({"epoch":"e","ops":"AQID","next":1,"more":false,"purge":[],"enter":[]})",
         "GET /v1/sync/pull answer: member \"ops\" is a string, not an array"},
        {R"({"epoch":"e","ops":[3],"next":1,"more":false,"purge":[],"enter":[]})",
         "GET /v1/sync/pull answer: \"ops\"[0] is a number, not a string"},
        {R"({"epoch":7,"ops":[],"next":1,"more":false,"purge":[],"enter":[]})",
         "GET /v1/sync/pull answer: member \"epoch\" is a number, not a string"},
        {R"({"epoch":"e","ops":[],"next":-1,"more":false,"purge":[],"enter":[]})",
         "GET /v1/sync/pull answer: \"next\" is not a non-negative integer"},
        {R"({"epoch":"e","ops":[],"next":1.5,"more":false,"purge":[],"enter":[]})",
         "GET /v1/sync/pull answer: \"next\" is not a non-negative integer"},
        {R"({"epoch":"e","ops":[],"next":"1","more":false,"purge":[],"enter":[]})",
         "GET /v1/sync/pull answer: \"next\" is a string, not an integer"},
        {R"({"epoch":"e","ops":[],"next":1,"more":"no","purge":[],"enter":[]})",
         "GET /v1/sync/pull answer: member \"more\" is a string, not a boolean"},
        {R"({"epoch":"e","ops":[],"next":1,"more":false,"head":null,"purge":[],"enter":[]})",
         "GET /v1/sync/pull answer: \"head\" is null, not an integer"},
        {R"({"epoch":"e","ops":[],"next":1,"more":false,"purge":[{}],"enter":[]})",
         "GET /v1/sync/pull answer: \"purge\"[0] is an object, not a string"},
        {R"({"epoch":"e","ops":[],"next":1,"more":false,"purge":[]})",
         "GET /v1/sync/pull answer has no member \"enter\""},
        {R"({"epoch":"e","ops":[],"next":1,"next":2,"more":false,"purge":[],"enter":[]})",
         "GET /v1/sync/pull answer has the member \"next\" twice"},
    };
    for (const Case& c : cases) COMPARE_TEXT(problemOf(sync::readPullAnswer(c.body, 0)), c.message);
  }

  void breakGlassAnswer() {
    const crdt::Op op = demographic(1, crdt::field::kFamilyName, "Heidenreich");
    const auto good = sync::readBreakGlassAnswer(R"({"patient":"p-1","clinic":"south","in_scope":false,"ops":)" +
                                                 jsonStrings({base64(crdt::encodeOp(op))}) +
                                                 R"(,"head":12,"expires_at":1700000900000})");
    QVERIFY2(good.isOk(), good.error().toString().c_str());
    COMPARE_TEXT(good.value().patient, "p-1");
    COMPARE_TEXT(good.value().clinic, "south");
    QVERIFY(!good.value().inScope);
    QCOMPARE(good.value().ops.size(), std::size_t{1});
    QVERIFY(good.value().ops[0] == crdt::encodeOp(op));
    QCOMPARE(good.value().head, std::uint64_t{12});
    QCOMPARE(good.value().expiresAtMs, std::int64_t{1700000900000});

    COMPARE_TEXT(problemOf(sync::readBreakGlassAnswer(
                     R"({"patient":"p-1","clinic":"c","in_scope":false,"ops":["AQ"],"expires_at":1})")),
                 "POST /v1/sync/break-glass answer: \"ops\"[0] is not valid base64");
    // The first problem is the one reported.
    COMPARE_TEXT(problemOf(sync::readBreakGlassAnswer(
                     R"({"patient":"","clinic":"c","in_scope":false,"ops":["AQ"],"expires_at":1})")),
                 "POST /v1/sync/break-glass answer: \"patient\" is empty");
    COMPARE_TEXT(problemOf(sync::readBreakGlassAnswer(
                     R"({"patient":"p-1","clinic":"c","in_scope":false,"ops":[],"expires_at":"soon"})")),
                 "POST /v1/sync/break-glass answer: member \"expires_at\" is a string, not an integer");
    const std::string problem = problemOf(sync::readBreakGlassAnswer("not json"));
    QVERIFY2(problem.rfind("POST /v1/sync/break-glass: the answer is not JSON (", 0) == 0, problem.c_str());
  }
};

QTEST_GUILESS_MAIN(TransportAnswersTest)
#include "answers_test.moc"
