// Writes the seed corpus of the op codec fuzzer: valid encodings of every op
// kind in both framings, and malformed inputs (truncated, newer version, bad
// kinds and enums, huge declared sizes, trailing bytes). Run by hand when the
// seeds change and commit the output:
//
//   charta_make_corpus tests/fuzz/corpus
//
// Names follow corpus_replay.cpp: valid-op-*, valid-batch-*, bad-version-*, bad-*.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "charta/crdt/op_codec.h"

#include "support/codec_bytes.h"

using namespace charta::crdt;
using namespace charta::testing;

namespace {

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kWall = 1700000000000ull;


Op makeOp(OpId opId, std::uint64_t wall, OpBody body, std::string author = "nurse.a", std::string patient = "p-1") {
  Op op;
  op.id = opId;
  op.hlc = {wall, 0};
  op.author = std::move(author);
  op.patient = std::move(patient);
  op.body = std::move(body);
  return op;
}



// A single op around a hand-written record: replica 7, author "u", patient "p".
std::string handOp(std::uint8_t tag, std::string_view payload) {
  std::string out = bytes({0x10, 0x08, 0x01, 0x07, 0x01, 0x01, 'u', 0x01, 0x01, 'p'});
  out.push_back(static_cast<char>(tag));
  putVarint(out, payload.size());
  out.append(payload);
  return out;
}

// Replica index 0, seq 1, wall 1.
const std::string kHead = bytes({0x00, 0x02, 0x02});

std::vector<Op> everyKind() {
  std::vector<Op> ops;
  AddEntry add;
  add.collection = Collection::kAllergies;
  add.fields = {{field::kCode, std::string("http://snomed.info/sct|91936005")},
                {field::kDisplay, std::string("Pénicilline")},
                {field::kSeverity, std::string("severe")},
                {kStatusField, std::int64_t{1}}};
  ops.push_back(makeOp(id(3, 1), kWall, add));

  WriteField write;
  write.target = {Collection::kAllergies, id(3, 1), field::kReaction};
  write.value = std::string("urticaria");
  write.preds = {id(3, 1)};
  ops.push_back(makeOp(id(3, 2), kWall + 4000, write));

  AppendObservation obs;
  obs.code = "8867-4";
  obs.value = 88.0;
  obs.unit = "/min";
  obs.effectiveMs = static_cast<std::int64_t>(kWall) + 3000;
  obs.referenceLow = 60.0;
  obs.referenceHigh = 100.0;
  ops.push_back(makeOp(id(4, 7), kWall + 3500, obs, "dr.b"));

  ops.push_back(makeOp(id(4, 8), kWall + 9000, MarkObservationError{id(4, 7), "wrong patient"}, "dr.b"));
  ops.push_back(makeOp(id(3, 3), kWall + 10000, StartNote{"Visite à domicile 🏠", {}}));
  ops.push_back(makeOp(id(3, 4), kWall + 11000, EditNote{id(3, 3), "Visite à domicile. Afebrile.", {id(3, 3)}}));
  ops.push_back(makeOp(id(3, 5), kWall + 12000, SignNote{id(3, 3), "Final.", {id(3, 4)}}));
  Op addendum = makeOp(id(4, 9), kWall + 5000, AddAddendum{id(3, 3), "", {id(3, 5)}}, "dr.b");
  addendum.context = {id(3, 4)};
  ops.push_back(addendum);
  return ops;
}


bool write(const std::string& dir, const std::string& name, const std::string& data) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<std::pair<std::string, std::string>> files;

  const std::vector<Op> ops = everyKind();
  const char* const kKindNames[] = {"add-entry",  "write-field", "append-observation", "mark-observation-error",
                                    "start-note", "edit-note",   "sign-note",          "add-addendum"};
  for (std::size_t i = 0; i < ops.size(); ++i)
    files.emplace_back(std::string("valid-op-") + kKindNames[i], encodeOp(ops[i]));

  Op extremes = ops[1];
  extremes.id = id(kMax64, kMax64);
  extremes.hlc = {kMax64, std::numeric_limits<std::uint32_t>::max()};
  extremes.context = {id(1, kMax64), id(kMax64, 1)};
  files.emplace_back("valid-op-extremes", encodeOp(extremes));
  files.emplace_back("valid-op-minor-extension", withTrailingFields(encodeOp(ops[1]), false, "\x03\x01x"));

  const std::string batch = encodeBatch(ops);
  files.emplace_back("valid-batch-every-kind", batch);
  files.emplace_back("valid-batch-empty", encodeBatch(std::vector<Op>{}));
  files.emplace_back("valid-batch-minor-extension", withTrailingFields(batch, true, std::string("\x00\x7f", 2)));
  std::vector<Op> reversed(ops.rbegin(), ops.rend());
  reversed.push_back(extremes);
  files.emplace_back("valid-batch-out-of-order", encodeBatch(reversed));
  std::vector<Op> writes;
  for (std::uint64_t i = 0; i < 40; ++i) {
    WriteField w;
    w.target = {Collection::kDemographics, {}, static_cast<FieldId>(1 + i % 9)};
    w.value = i % 3 == 0 ? Value(static_cast<std::int64_t>(i)) : Value("v" + std::to_string(i));
    if (i > 0) w.preds = {writes.back().id};
    writes.push_back(makeOp(id(10 + i % 3, 100 + i), kWall + i * 1500, w, "user" + std::to_string(i % 3)));
  }
  files.emplace_back("valid-batch-writes", encodeBatch(writes));

  // Truncated.
  const std::string single = encodeOp(ops[1]);
  files.emplace_back("bad-op-empty", "");
  files.emplace_back("bad-op-truncated-header", single.substr(0, 6));
  files.emplace_back("bad-op-truncated-body", single.substr(0, single.size() - 1));
  files.emplace_back("bad-batch-truncated-last-op", batch.substr(0, batch.size() - 2));
  // Every record complete, but the header declares one op more than follows.
  std::string missing = encodeBatch(std::vector<Op>(ops.begin(), ops.end() - 1));
  missing[2] = static_cast<char>(ops.size());  // op count, after a one-byte header length
  files.emplace_back("bad-batch-missing-op", missing);
  // Versions and framing.
  std::string v = single;
  v[0] = 0x20;
  files.emplace_back("bad-version-op-major-2", v);
  v = batch;
  v[0] = static_cast<char>(0xF1);
  files.emplace_back("bad-version-batch-major-15", v);
  v = single;
  v[0] = 0x00;
  files.emplace_back("bad-op-format-byte-0", v);
  v[0] = 0x13;
  files.emplace_back("bad-op-framing-3", v);
  // Enums and ids.
  // Kinds 8-15 are a newer release's: carried with their body unread.
  files.emplace_back("valid-op-newer-kind-8", handOp(0x08, kHead + bytes({0x01, 'a', 0x00})));
  files.emplace_back("valid-op-newer-kind-15", handOp(0x0F, kHead));
  files.emplace_back("bad-op-value-kind-5", handOp(0x01, kHead + bytes({0x08, 0x00, 0x05, 0x00, 0x00})));
  // A WriteField's three collection bits are all collections (7: attachments);
  // AddEntry carries its collection as a varint, where 8 is unknown.
  files.emplace_back("valid-op-write-field-collection-7", handOp(0x01, kHead + bytes({0x0F, 0x00, 0x00, 0x00, 0x00})));
  files.emplace_back("bad-op-collection-8", handOp(0x00, kHead + bytes({0x08, 0x00})));
  files.emplace_back("bad-op-category-3", handOp(0x02, kHead + bytes({0x03, 0x00, 0x00, 0x00, 0x00, 0x00})));
  files.emplace_back("bad-op-bool-2", handOp(0x01, kHead + bytes({0x08, 0x00, 0x14, 0x00, 0x00})));
  files.emplace_back("bad-op-null-pred", handOp(0x05, kHead + bytes({0x01, 0x00, 0x00, 0x01, 0x00, 0x00})));
  files.emplace_back("bad-op-seq-0", handOp(0x04, bytes({0x00, 0x00, 0x02, 0x00, 0x00})));
  Op replica0 = ops[4];
  replica0.id = id(0, 1);
  files.emplace_back("bad-op-replica-0", encodeOp(replica0));
  files.emplace_back("bad-op-logical-overflow",
                     handOp(0x84, kHead + bytes({0x80, 0x80, 0x80, 0x80, 0x10, 0x01, 'a', 0x00})));
  files.emplace_back("bad-op-overlong-varint",
                     handOp(0x04, bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x00})));
  files.emplace_back("bad-batch-unsorted-replicas", bytes({0x11, 0x06, 0x00, 0x02, 0x05, 0x00, 0x00, 0x00}));
  // Huge declared sizes.
  const std::string huge = bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F});
  files.emplace_back("bad-op-huge-header-length", bytes({0x10}) + huge);
  files.emplace_back("bad-batch-huge-op-count", bytes({0x11, 0x09}) + huge);
  files.emplace_back("bad-batch-huge-replica-table", bytes({0x11, 0x0C, 0x00}) + huge + bytes({0x00, 0x00}));
  files.emplace_back("bad-op-huge-author", bytes({0x10, 0x05, 0x00, 0x01, 0xFF, 0xFF, 0x03}));
  files.emplace_back("bad-op-huge-op-length",
                     bytes({0x10, 0x08, 0x01, 0x07, 0x01, 0x01, 'u', 0x01, 0x01, 'p', 0x01}) + huge);
  files.emplace_back("bad-op-huge-text", handOp(0x04, kHead + bytes({0xFF, 0xFF, 0x7F})));
  files.emplace_back("bad-op-huge-pred-count",
                     handOp(0x01, kHead + bytes({0x08, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x0F, 0x00})));
  files.emplace_back("bad-op-huge-field-count", handOp(0x00, kHead + bytes({0x02, 0xFF, 0xFF, 0x3F, 0x00})));
  // Trailing bytes.
  files.emplace_back("bad-op-trailing-byte", single + '\0');
  files.emplace_back("bad-batch-trailing-bytes", batch + "\x01\x02");

  for (const auto& [name, data] : files) {
    if (!write(dir, name, data)) return 1;
  }
  std::printf("wrote %zu files to %s\n", files.size(), dir.c_str());
  return 0;
}
