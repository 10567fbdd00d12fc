#include "chart_checkpoint.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <sstream>
#include <stdexcept>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

#include "charta/crdt/op_codec.h"
#include "charta/sync/crypto.h"

namespace charta::sync {
namespace {

// Bumped whenever what is serialised below changes; a checkpoint of another
// format is dropped and rebuilt from the ops.
// 2: ops of a newer release's kinds (ChartSnapshot::newer) follow the held ops.
constexpr std::uint32_t kCheckpointFormat = 2;
constexpr char kMagic[4] = {'C', 'K', 'P', 'T'};
// A BLAKE2b checksum of the archive follows the format. Boost's binary
// archives trust their input (a garbled length is a huge allocation), so
// the archive is parsed only when its checksum holds. The sealed row
// already guards against tampering; this guards the parser against a bug or
// a damaged unsealed benchmark store.
constexpr std::size_t kChecksumBytes = 16;
constexpr std::size_t kHeaderBytes = sizeof kMagic + sizeof(std::uint32_t) + kChecksumBytes;

// Thrown inside a load when the archive holds something impossible.
struct BadCheckpoint : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The held ops travel as their own wire encoding (op_codec), which already
// handles every op body; the rest of the snapshot is serialised field by field.
struct SnapshotArchive {
  crdt::ChartSnapshot snapshot;
};

}  // namespace
}  // namespace charta::sync

namespace boost::serialization {

template <class A>
void serialize(A& ar, charta::crdt::ReplicaId& r, unsigned) {
  ar & r.value;
}
template <class A>
void serialize(A& ar, charta::crdt::OpId& id, unsigned) {
  ar & id.replica & id.seq;
}
template <class A>
void serialize(A& ar, charta::crdt::Hlc& h, unsigned) {
  ar & h.wallMs & h.logical;
}

template <class A>
void save(A& ar, const charta::crdt::Value& v, unsigned) {
  const auto index = static_cast<std::uint8_t>(v.index());
  ar & index;
  std::visit(charta::crdt::Overloaded{[](const std::monostate&) {}, [&](const auto& x) { ar & x; }}, v);
}
template <class A>
void load(A& ar, charta::crdt::Value& v, unsigned) {
  std::uint8_t index = 0;
  ar & index;
  switch (index) {
    case 0: v = std::monostate{}; break;
    case 1: { std::string s; ar & s; v = std::move(s); break; }
    case 2: { std::int64_t i = 0; ar & i; v = i; break; }
    case 3: { double d = 0; ar & d; v = d; break; }
    case 4: { bool b = false; ar & b; v = b; break; }
    default: throw charta::sync::BadCheckpoint("unknown value kind " + std::to_string(index));
  }
}

template <class A>
void serialize(A& ar, charta::crdt::RegisterWrite& w, unsigned) {
  ar & w.id & w.hlc & w.author & w.value & w.reason;
}

template <class A>
void save(A& ar, const charta::crdt::Register& r, unsigned) {
  const auto kind = static_cast<std::uint8_t>(r.kind());
  ar & kind;
  ar & r.heads();
  // Sorted, so that equal registers give equal bytes.
  std::vector<std::pair<charta::crdt::OpId, std::int64_t>> history(r.statusHistory().begin(),
                                                                    r.statusHistory().end());
  std::sort(history.begin(), history.end());
  ar & history;
}
template <class A>
void load(A& ar, charta::crdt::Register& r, unsigned) {
  std::uint8_t kind = 0;
  std::vector<charta::crdt::RegisterWrite> heads;
  std::vector<std::pair<charta::crdt::OpId, std::int64_t>> history;
  ar & kind & heads & history;
  std::unordered_map<charta::crdt::OpId, std::int64_t> historyMap(history.begin(), history.end());
  auto restored = charta::crdt::Register::restore(static_cast<charta::crdt::RegisterKind>(kind), std::move(heads),
                                                  std::move(historyMap));
  if (!restored.isOk()) throw charta::sync::BadCheckpoint(restored.status().message());
  r = std::move(restored).value();
}

template <class A, class E>
void serializeEnum(A& ar, E& e) {
  auto raw = static_cast<std::uint8_t>(e);
  ar & raw;
  e = static_cast<E>(raw);
}

template <class A>
void serialize(A& ar, charta::crdt::Entry& e, unsigned) {
  ar & e.id;
  serializeEnum(ar, e.collection);
  ar & e.author & e.created & e.visit & e.status & e.fields;
}

template <class A>
void serialize(A& ar, charta::crdt::AppendObservation& o, unsigned) {
  serializeEnum(ar, o.category);
  ar & o.code & o.value & o.unit & o.effectiveMs;
  for (std::optional<double>* bound : {&o.referenceLow, &o.referenceHigh}) {
    bool present = bound->has_value();
    double value = bound->value_or(0.0);
    ar & present & value;
    *bound = present ? std::optional<double>(value) : std::nullopt;
  }
  ar & o.visit;
}

template <class A>
void serialize(A& ar, charta::crdt::Observation& o, unsigned) {
  ar & o.id & o.author & o.hlc & o.data & o.errorMarks;
}
template <class A>
void serialize(A& ar, charta::crdt::Addendum& a, unsigned) {
  ar & a.id & a.author & a.hlc & a.text;
}
template <class A>
void serialize(A& ar, charta::crdt::Note& n, unsigned) {
  ar & n.id & n.author & n.created & n.visit & n.draft & n.signatures & n.addenda & n.acknowledged;
}

template <class A>
void save(A& ar, const charta::sync::SnapshotArchive& a, unsigned) {
  const charta::crdt::ChartSnapshot& s = a.snapshot;
  ar & s.patientId & s.demographics & s.entries & s.observations & s.notes & s.applied & s.rejected;
  std::vector<std::string> held;
  held.reserve(s.held.size());
  for (const charta::crdt::Op& op : s.held) held.push_back(charta::crdt::encodeOp(op));
  ar & held;
  std::vector<std::string> newer;
  newer.reserve(s.newer.size());
  for (const charta::crdt::Op& op : s.newer) newer.push_back(charta::crdt::encodeOp(op));
  ar & newer;
  ar & s.latestHlc;
}
template <class A>
void load(A& ar, charta::sync::SnapshotArchive& a, unsigned) {
  charta::crdt::ChartSnapshot& s = a.snapshot;
  ar & s.patientId & s.demographics & s.entries & s.observations & s.notes & s.applied & s.rejected;
  std::vector<std::string> held;
  ar & held;
  for (const std::string& bytes : held) {
    auto op = charta::crdt::decodeOp(bytes);
    if (!op.isOk()) throw charta::sync::BadCheckpoint("a held op does not decode: " + op.status().message());
    s.held.push_back(std::move(op).value());
  }
  std::vector<std::string> newer;
  ar & newer;
  for (const std::string& bytes : newer) {
    auto op = charta::crdt::decodeOp(bytes);
    if (!op.isOk()) {
      throw charta::sync::BadCheckpoint("an op of a newer kind does not decode: " + op.status().message());
    }
    // This build reads the kind (it was upgraded since): the checkpoint lacks
    // what the op does, so the chart is replayed from its ops instead.
    if (!std::holds_alternative<charta::crdt::UnknownOp>(op.value().body)) {
      throw charta::sync::BadCheckpoint("the checkpoint predates this build's op kinds");
    }
    s.newer.push_back(std::move(op).value());
  }
  ar & s.latestHlc;
}

}  // namespace boost::serialization

BOOST_SERIALIZATION_SPLIT_FREE(charta::crdt::Value)
BOOST_SERIALIZATION_SPLIT_FREE(charta::crdt::Register)
BOOST_SERIALIZATION_SPLIT_FREE(charta::sync::SnapshotArchive)

// Plain structures: no per-class version or object tracking in the archive
// (kCheckpointFormat versions the whole).
#define CHARTA_PLAIN_SERIALIZABLE(T)                                          \
  BOOST_CLASS_IMPLEMENTATION(T, boost::serialization::object_serializable) \
  BOOST_CLASS_TRACKING(T, boost::serialization::track_never)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::ReplicaId)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::OpId)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::Hlc)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::Value)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::RegisterWrite)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::Register)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::Entry)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::AppendObservation)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::Observation)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::Addendum)
CHARTA_PLAIN_SERIALIZABLE(charta::crdt::Note)
CHARTA_PLAIN_SERIALIZABLE(charta::sync::SnapshotArchive)
#undef CHARTA_PLAIN_SERIALIZABLE

namespace charta::sync {

std::string encodeCheckpoint(const crdt::ChartDocument& doc) {
  std::ostringstream out(std::ios::binary);
  {
    boost::archive::binary_oarchive ar(out);
    // Not const: the shared save/load functions assign what they read back.
    SnapshotArchive archive{doc.snapshot()};
    ar << archive;
  }
  const std::string body = std::move(out).str();
  std::string bytes(kMagic, sizeof kMagic);
  const std::uint32_t format = kCheckpointFormat;
  bytes.append(reinterpret_cast<const char*>(&format), sizeof format);
  bytes += genericHash(body, kChecksumBytes);
  bytes += body;
  return bytes;
}

crdt::Result<crdt::ChartDocument> decodeCheckpoint(std::string_view bytes, std::string_view patient) {
  if (bytes.size() < kHeaderBytes || !std::equal(kMagic, kMagic + sizeof kMagic, bytes.begin())) {
    return crdt::Status::corruption("not a chart checkpoint");
  }
  std::uint32_t format = 0;
  std::memcpy(&format, bytes.data() + sizeof kMagic, sizeof format);
  if (format != kCheckpointFormat) {
    return crdt::Status::unsupportedVersion("chart checkpoint format " + std::to_string(format) +
                                            ", this build reads " + std::to_string(kCheckpointFormat));
  }
  const std::string_view body = bytes.substr(kHeaderBytes);
  if (genericHash(body, kChecksumBytes) != bytes.substr(kHeaderBytes - kChecksumBytes, kChecksumBytes)) {
    return crdt::Status::corruption("chart checkpoint fails its checksum");
  }
  SnapshotArchive archive;
  try {
    std::istringstream in(std::string(body), std::ios::binary);
    boost::archive::binary_iarchive ar(in);
    ar >> archive;
  } catch (const std::exception& e) {
    return crdt::Status::corruption(std::string("chart checkpoint does not decode: ") + e.what());
  }
  if (archive.snapshot.patientId != patient) return crdt::Status::corruption("chart checkpoint of another patient");
  return crdt::ChartDocument::fromSnapshot(std::move(archive.snapshot));
}

}  // namespace charta::sync
