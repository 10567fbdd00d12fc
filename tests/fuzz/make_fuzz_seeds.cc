// Writes the seeds of the push body, key wrap and pull answer fuzzers
// (README.md). Run by hand when the seeds change and commit the output:
//
//   charta_make_fuzz_seeds tests/fuzz
//
// push_corpus/: op batches shaped like a tablet's pushes (a new patient with
// demographics, an allergy and a later edit, vital signs, a note signed,
// two tablets writing one field, ops of two patients, an op id twice).
// key_wrap_corpus/: a passphrase vault blob made by PassphraseVault::wrap
// with libsodium's minimum Argon2id cost (and damaged copies of it), a data
// key wrapped under a key-encryption key, and sealed bytes, all with the keys
// of key_wrap_fuzz.h.
// pull_corpus/: answers as the server writes them, each after the 8-byte
// cursor the page was asked for (pull_answer_fuzz.cc): pages of a first sync
// and its last page, an empty page, patients leaving and joining the clinic,
// one patient's catch-up, two tablets' writes, break-glass answers.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "charta/crdt/op_codec.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/crypto.h"
#include "key_wrap_fuzz.h"
#include "support/base64.h"

using namespace charta::crdt;

namespace {

constexpr std::uint64_t kWall = 1700000000000ull;

OpId id(std::uint64_t replica, std::uint64_t seq) { return OpId{ReplicaId{replica}, seq}; }

Op makeOp(OpId opId, std::uint64_t wall, OpBody body, std::string patient = "p-1", std::string author = "nurse.a") {
  Op op;
  op.id = opId;
  op.hlc = {wall, 0};
  op.author = std::move(author);
  op.patient = std::move(patient);
  op.body = std::move(body);
  return op;
}

WriteField demographic(FieldId field, std::string value, std::vector<OpId> preds = {}) {
  WriteField w;
  w.target = {Collection::kDemographics, {}, field};
  w.value = std::move(value);
  w.preds = std::move(preds);
  return w;
}

std::vector<Op> newPatient(const std::string& patient, std::uint64_t replica) {
  std::vector<Op> ops;
  ops.push_back(makeOp(id(replica, 1), kWall, demographic(field::kFamilyName, "Heidenreich"), patient));
  ops.push_back(makeOp(id(replica, 2), kWall + 1, demographic(field::kGivenNames, "Maricela"), patient));
  ops.push_back(makeOp(id(replica, 3), kWall + 2, demographic(field::kBirthDate, "1961-07-30"), patient));
  AddEntry identifier;
  identifier.collection = Collection::kIdentifiers;
  identifier.fields = {{field::kIdentifierSystem, std::string("urn:charta:mrn")},
                       {field::kIdentifierValue, std::string("MRN-55501")},
                       {kStatusField, std::int64_t{1}}};
  ops.push_back(makeOp(id(replica, 4), kWall + 3, identifier, patient));
  return ops;
}

std::vector<Op> allergyAndVitals() {
  std::vector<Op> ops = newPatient("p-1", 3);
  AddEntry add;
  add.collection = Collection::kAllergies;
  add.fields = {{field::kCode, std::string("http://snomed.info/sct|91936005")},
                {field::kDisplay, std::string("Penicillin")},
                {field::kSeverity, std::string("severe")},
                {kStatusField, std::int64_t{1}}};
  ops.push_back(makeOp(id(3, 5), kWall + 10, add));
  WriteField reaction;
  reaction.target = {Collection::kAllergies, id(3, 5), field::kReaction};
  reaction.value = std::string("urticaria");
  reaction.preds = {id(3, 5)};
  ops.push_back(makeOp(id(3, 6), kWall + 20, reaction));
  AppendObservation pulse;
  pulse.code = "8867-4";
  pulse.value = 88.0;
  pulse.unit = "/min";
  pulse.effectiveMs = static_cast<std::int64_t>(kWall) + 30;
  pulse.referenceLow = 60.0;
  pulse.referenceHigh = 100.0;
  ops.push_back(makeOp(id(3, 7), kWall + 30, pulse));
  AppendObservation temperature;
  temperature.code = "8310-5";
  temperature.value = 38.4;
  temperature.unit = "Cel";
  temperature.effectiveMs = static_cast<std::int64_t>(kWall) + 40;
  ops.push_back(makeOp(id(3, 8), kWall + 40, temperature));
  ops.push_back(makeOp(id(3, 9), kWall + 50, StartNote{"Home visit", {}}));
  ops.push_back(makeOp(id(3, 10), kWall + 60, EditNote{id(3, 9), "Home visit. Febrile, rash on arms.", {id(3, 9)}}));
  ops.push_back(makeOp(id(3, 11), kWall + 70, SignNote{id(3, 9), "Final.", {id(3, 10)}}));
  return ops;
}

using charta::testing::base64;

// A JSON array of the ops' single-op encodings in base64, as the server
// sends them.
std::string opsJson(const std::vector<Op>& ops) {
  std::string out = "[";
  for (const Op& op : ops) {
    if (out.size() > 1) out += ',';
    out += "\"" + base64(encodeOp(op)) + "\"";
  }
  return out + "]";
}

// A pull answer's seed: the cursor asked for (8 bytes, little-endian), then
// the body. members: what follows "ops" (next, more, head, purge, enter).
std::string pullSeed(std::uint64_t since, const std::vector<Op>& ops, const std::string& members) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((since >> (8 * i)) & 0xffu);
  return out + "{\"epoch\":\"8c5e1f0a2b7d4e93\",\"ops\":" + opsJson(ops) + "," + members + "}";
}

std::string breakGlassSeed(const std::vector<Op>& ops, const std::string& members) {
  return std::string(8, '\0') + "{" + members + ",\"ops\":" + opsJson(ops) + "}";
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
    std::fprintf(stderr, "usage: %s <tests/fuzz folder>\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  std::vector<std::pair<std::string, std::string>> push, wrap, pull;

  // Push bodies.
  push.emplace_back("seed-new-patient", encodeBatch(newPatient("p-1", 3)));
  const std::vector<Op> chart = allergyAndVitals();
  push.emplace_back("seed-allergy-vitals-note", encodeBatch(chart));
  push.emplace_back("seed-out-of-order", encodeBatch(std::vector<Op>(chart.rbegin(), chart.rend())));
  std::vector<Op> both = newPatient("p-1", 3);
  for (Op& op : newPatient("p-2", 4)) both.push_back(std::move(op));
  push.emplace_back("seed-two-patients", encodeBatch(both));
  std::vector<Op> conflict = newPatient("p-1", 3);
  conflict.push_back(makeOp(id(3, 5), kWall + 100, demographic(field::kFamilyName, "Heidenreich-Lowe", {id(3, 1)})));
  conflict.push_back(
      makeOp(id(4, 1), kWall + 90, demographic(field::kFamilyName, "Heydenreich", {id(3, 1)}), "p-1", "nurse.b"));
  push.emplace_back("seed-concurrent-writes", encodeBatch(conflict));
  std::vector<Op> twice = newPatient("p-1", 3);
  twice.push_back(twice.front());
  Op changed = twice.front();
  changed.body = demographic(field::kFamilyName, "Other");
  twice.push_back(changed);
  push.emplace_back("seed-op-id-twice", encodeBatch(twice));
  std::vector<Op> noPatient = newPatient("", 3);
  push.emplace_back("seed-no-patient", encodeBatch(noPatient));
  // The smallest form of the first find (crash-108f78c6...): an op that
  // depends on itself, after an op of another device that waits for it. In
  // this order the waiting op is held for ever; the other way round it is
  // rejected, so two replicas given both ops disagree.
  WriteField selfRef = demographic(field::kFamilyName, "Self", {id(5, 1)});
  WriteField waiter = demographic(field::kFamilyName, "Waiter", {id(5, 1)});
  push.emplace_back(
      "crash-self-reference-keeps-waiter-held",
      encodeBatch(std::vector<Op>{makeOp(id(6, 1), kWall + 1, waiter), makeOp(id(5, 1), kWall, selfRef)}));

  // Pull answers (and break-glass answers, read by the same target).
  const std::vector<Op> first(chart.begin(), chart.begin() + 4);
  const std::vector<Op> rest(chart.begin() + 4, chart.end());
  pull.emplace_back("seed-page-first", pullSeed(0, first, R"("next":4,"more":true,"head":11,"purge":[],"enter":[])"));
  pull.emplace_back("seed-page-last", pullSeed(4, rest, R"("next":11,"more":false,"head":11,"purge":[],"enter":[])"));
  pull.emplace_back("seed-page-empty", pullSeed(11, {}, R"("next":11,"more":false,"head":11,"purge":[],"enter":[])"));
  pull.emplace_back("seed-page-purge-enter",
                    pullSeed(11, {}, R"("next":14,"more":false,"head":14,"purge":["p-9"],"enter":["p-2","p-\u00e9"])"));
  pull.emplace_back("seed-page-catch-up-no-head",
                    pullSeed(0, newPatient("p-2", 4), R"("next":20,"more":false,"purge":[],"enter":[])"));
  pull.emplace_back(
      "seed-page-concurrent-writes",
      pullSeed(20, conflict, R"("next":27,"more":true,"head":40,"purge":[],"enter":[],"shiny":{"new":[1]})"));
  pull.emplace_back("seed-page-out-of-order", pullSeed(0, std::vector<Op>(chart.rbegin(), chart.rend()),
                                                       R"("next":11,"more":false,"head":11,"purge":[],"enter":[])"));
  pull.emplace_back("seed-page-next-behind-since",
                    pullSeed(30, first, R"("next":29,"more":false,"head":30,"purge":[],"enter":[])"));
  pull.emplace_back("seed-break-glass",
                    breakGlassSeed(newPatient("p-3", 5), R"("patient":"p-3","clinic":"south","in_scope":false)"
                                                         R"(,"head":4,"expires_at":1700003600000)"));
  pull.emplace_back("seed-break-glass-in-scope",
                    breakGlassSeed({}, R"("patient":"p-1","clinic":"north","in_scope":true,"head":11,"expires_at":0)"));

  // Key wraps.
  auto dataKey = charta::sync::SecretKey::fromBytes(charta::fuzz::dataKeyBytes());
  auto kek = charta::sync::SecretKey::fromBytes(charta::fuzz::kekBytes());
  if (!dataKey.isOk() || !kek.isOk()) {
    std::fprintf(stderr, "cannot make the keys\n");
    return 1;
  }
  charta::platform::PassphraseVault vault(charta::platform::PassphraseVault::Strength::kMinimumForTests);
  auto blob = vault.wrap(charta::fuzz::kWrapUser, charta::fuzz::kWrapPassphrase, dataKey.value());
  if (!blob.isOk()) {
    std::fprintf(stderr, "cannot wrap: %s\n", blob.status().toString().c_str());
    return 1;
  }
  wrap.emplace_back("seed-vault-blob", blob.value());
  std::string newer = blob.value();
  newer[0] = 2;
  wrap.emplace_back("seed-vault-blob-version-2", newer);
  wrap.emplace_back("seed-vault-blob-truncated", blob.value().substr(0, blob.value().size() - 1));
  std::string expensive = blob.value();
  expensive[1] = 16;  // 16 passes over 1 GiB: the most unwrap() accepts
  expensive[9] = 0;
  expensive[10] = 0;
  expensive[11] = 0;
  expensive[12] = 0x40;
  wrap.emplace_back("seed-vault-blob-costliest", expensive);
  wrap.emplace_back("seed-wrapped-key",
                    charta::sync::wrapKey(kek.value(), dataKey.value(), charta::fuzz::kWrapAssociatedData));
  wrap.emplace_back("seed-sealed-summary",
                    charta::sync::seal(kek.value(), "{\"name\":\"Maricela Heidenreich\",\"born\":\"1961-07-30\"}",
                                       charta::fuzz::kWrapAssociatedData));

  bool ok = true;
  for (const auto& [name, data] : push) ok = write(root + "/push_corpus", name, data) && ok;
  for (const auto& [name, data] : wrap) ok = write(root + "/key_wrap_corpus", name, data) && ok;
  for (const auto& [name, data] : pull) ok = write(root + "/pull_corpus", name, data) && ok;
  return ok ? 0 : 1;
}
