// The op codec, encoding side. docs/FORMAT.md is the specification; op_codec_internal.h
// holds its constants.
//
// Both framings share one op record: the single-op framing is a header with
// the tables of its one op followed by that record, the batch framing a header
// with shared tables and an op count followed by that many records. Ids,
// clocks and table indexes are delta-coded against a small state (last seq and
// author per replica, last wall clock and patient) that the encoder and the
// decoder advance in the same order.
#include "charta/crdt/op_codec.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "coding.h"
#include "op_codec_internal.h"

namespace charta::crdt {
namespace {

using codec::delta;
using coding::putBytes;
using coding::putDouble;
using coding::putVarint;
using coding::putZigzag;

// ---------------------------------------------------------------- encoding

class Encoder {
 public:
  explicit Encoder(std::span<const Op> ops) {
    for (const Op& op : ops) {
      m_replicas.push_back(op.id.replica.value);
      forEachReference(op, [this](const OpId& id) {
        if (!id.isNull()) m_replicas.push_back(id.replica.value);
      });
      intern(m_authors, m_authorIndex, op.author);
      intern(m_patients, m_patientIndex, op.patient);
    }
    std::sort(m_replicas.begin(), m_replicas.end());
    m_replicas.erase(std::unique(m_replicas.begin(), m_replicas.end()), m_replicas.end());
    m_lastSeq.assign(m_replicas.size(), 0);
    m_lastAuthor.assign(m_replicas.size(), 0);
  }

  void putHeader(std::string& out, std::uint8_t framing, std::size_t opCount) const {
    out.push_back(static_cast<char>(codec::formatByte(framing)));
    std::string header;
    if (framing == codec::kFramingBatch) putVarint(header, opCount);
    putVarint(header, m_replicas.size());
    std::uint64_t prev = 0;
    for (std::uint64_t r : m_replicas) {
      putVarint(header, r - prev);
      prev = r;
    }
    putVarint(header, m_authors.size());
    for (std::string_view a : m_authors) putBytes(header, a);
    putVarint(header, m_patients.size());
    for (std::string_view p : m_patients) putBytes(header, p);
    putBytes(out, header);
  }

  void putOp(std::string& out, const Op& op) {
    std::string& p = m_scratch;
    p.clear();
    const auto* newer = std::get_if<UnknownOp>(&op.body);
    if (newer && (newer->kind < kFirstNewerOpKind || newer->kind > kLastNewerOpKind)) {
      // Not a kind a newer release can use: an empty record, which no
      // decoder accepts, rather than bytes that might read as another op.
      out.push_back(static_cast<char>(kFirstNewerOpKind));
      putVarint(out, 0);
      return;
    }
    auto tag = static_cast<std::uint8_t>(newer ? newer->kind : op.body.index());
    // Replica index and whether seq follows the replica's last one; if not,
    // the seq delta.
    const std::size_t ri = replicaIndex(op.id.replica.value);
    const bool consecutive = op.id.seq == m_lastSeq[ri] + 1;
    putVarint(p, (std::uint64_t{ri} << 1) | (consecutive ? 1 : 0));
    if (!consecutive) putZigzag(p, delta(op.id.seq, m_lastSeq[ri]));
    m_lastSeq[ri] = op.id.seq;
    putZigzag(p, delta(op.hlc.wallMs, m_prevWall));
    m_prevWall = op.hlc.wallMs;
    if (op.hlc.logical != 0) {
      tag |= codec::kTagHasLogical;
      putVarint(p, op.hlc.logical);
    }
    const std::uint64_t ai = m_authorIndex.find(op.author)->second;
    if (ai != m_lastAuthor[ri]) {
      tag |= codec::kTagNewAuthor;
      putVarint(p, ai);
      m_lastAuthor[ri] = ai;
    }
    const std::uint64_t pi = m_patientIndex.find(op.patient)->second;
    if (pi != m_prevPatient) {
      tag |= codec::kTagNewPatient;
      putVarint(p, pi);
      m_prevPatient = pi;
    }
    if (!op.context.empty()) {
      tag |= codec::kTagHasContext;
      putRefs(p, op.context);
    }
    putBody(p, op);
    out.push_back(static_cast<char>(tag));
    putBytes(out, p);
  }

 private:
  using Index = std::unordered_map<std::string_view, std::uint64_t>;

  static void intern(std::vector<std::string_view>& table, Index& index, std::string_view s) {
    if (index.emplace(s, table.size()).second) table.push_back(s);
  }

  std::size_t replicaIndex(std::uint64_t replica) const {
    return static_cast<std::size_t>(std::lower_bound(m_replicas.begin(), m_replicas.end(), replica) -
                                    m_replicas.begin());
  }

  void putRef(std::string& p, const OpId& ref) const {
    if (ref.isNull()) {
      putVarint(p, 0);
      return;
    }
    const std::size_t ri = replicaIndex(ref.replica.value);
    putVarint(p, ri + 1);
    putZigzag(p, delta(ref.seq, m_lastSeq[ri]));
  }

  void putRefs(std::string& p, const std::vector<OpId>& refs) const {
    putVarint(p, refs.size());
    for (const OpId& ref : refs) putRef(p, ref);
  }

  static void putValue(std::string& p, const Value& value) {
    auto header = [](ValueKind kind, std::uint64_t payload) {
      return (payload << codec::kValueKindBits) | static_cast<std::uint64_t>(kind);
    };
    std::visit(Overloaded{
                   [&](std::monostate) { putVarint(p, header(ValueKind::kNull, 0)); },
                   [&](const std::string& s) {
                     putVarint(p, header(ValueKind::kText, s.size()));
                     p.append(s);
                   },
                   [&](std::int64_t i) {
                     putVarint(p, header(ValueKind::kInt, 0));
                     putZigzag(p, i);
                   },
                   [&](double d) {
                     putVarint(p, header(ValueKind::kReal, 0));
                     putDouble(p, d);
                   },
                   [&](bool b) { putVarint(p, header(ValueKind::kBool, b ? 1 : 0)); },
               },
               value);
  }

  void putBody(std::string& p, const Op& op) const {
    std::visit(Overloaded{
                   [&](const AddEntry& b) {
                     putVarint(p, static_cast<std::uint64_t>(b.collection));
                     putVarint(p, b.fields.size());
                     for (const FieldValue& f : b.fields) {
                       putVarint(p, f.field);
                       putValue(p, f.value);
                     }
                     putRef(p, b.visit);
                   },
                   [&](const WriteField& b) {
                     putVarint(p, (std::uint64_t{b.target.field} << codec::kCollectionBits) |
                                      static_cast<std::uint64_t>(b.target.collection));
                     putRef(p, b.target.entry);
                     putValue(p, b.value);
                     // Preds count and whether a reason follows, in one varint.
                     putVarint(p, (std::uint64_t{b.preds.size()} << 1) | (b.reason.empty() ? 0 : 1));
                     for (const OpId& pred : b.preds) putRef(p, pred);
                     if (!b.reason.empty()) putBytes(p, b.reason);
                   },
                   [&](const AppendObservation& b) {
                     std::uint64_t flags = static_cast<std::uint64_t>(b.category) & codec::kObsCategoryMask;
                     if (b.referenceLow) flags |= codec::kObsHasLow;
                     if (b.referenceHigh) flags |= codec::kObsHasHigh;
                     putVarint(p, flags);
                     putBytes(p, b.code);
                     putValue(p, b.value);
                     putBytes(p, b.unit);
                     putZigzag(p, delta(static_cast<std::uint64_t>(b.effectiveMs), op.hlc.wallMs));
                     if (b.referenceLow) putDouble(p, *b.referenceLow);
                     if (b.referenceHigh) putDouble(p, *b.referenceHigh);
                     putRef(p, b.visit);
                   },
                   [&](const MarkObservationError& b) {
                     putRef(p, b.target);
                     putBytes(p, b.reason);
                   },
                   [&](const StartNote& b) {
                     putBytes(p, b.text);
                     putRef(p, b.visit);
                   },
                   [&](const EditNote& b) { putNoteChange(p, b.note, b.text, b.preds); },
                   [&](const SignNote& b) { putNoteChange(p, b.note, b.text, b.preds); },
                   [&](const AddAddendum& b) { putNoteChange(p, b.note, b.text, b.preds); },
                   [&](const UnknownOp& b) { p.append(b.body); },
               },
               op.body);
  }

  void putNoteChange(std::string& p, const OpId& note, const std::string& text, const std::vector<OpId>& preds) const {
    putRef(p, note);
    putBytes(p, text);
    putRefs(p, preds);
  }

  std::vector<std::uint64_t> m_replicas;  // sorted, distinct
  std::vector<std::string_view> m_authors;
  std::vector<std::string_view> m_patients;
  Index m_authorIndex;
  Index m_patientIndex;
  // Delta state, advanced op by op.
  std::vector<std::uint64_t> m_lastSeq;     // per replica index
  std::vector<std::uint64_t> m_lastAuthor;  // per replica index
  std::uint64_t m_prevWall = 0;
  std::uint64_t m_prevPatient = 0;
  std::string m_scratch;
};

}  // namespace

std::string encodeOp(const Op& op) {
  Encoder enc(std::span<const Op>(&op, 1));
  std::string out;
  enc.putHeader(out, codec::kFramingOp, 1);
  enc.putOp(out, op);
  return out;
}

std::string encodeBatch(std::span<const Op> ops) {
  Encoder enc(ops);
  std::string out;
  enc.putHeader(out, codec::kFramingBatch, ops.size());
  for (const Op& op : ops) enc.putOp(out, op);
  return out;
}

}  // namespace charta::crdt
