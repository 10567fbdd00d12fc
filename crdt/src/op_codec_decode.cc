// The op codec, decoding side. docs/FORMAT.md is the specification; op_codec_internal.h
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

using codec::str;
using codec::undelta;

// ---------------------------------------------------------------- decoding

// Checks the format byte and consumes it.
Status readFormatByte(std::string_view& in, std::uint8_t framing, std::string_view scope) {
  const std::string prefix = std::string(scope) + ": ";
  if (in.empty()) return Status::corruption(prefix + "empty input");
  const auto b = static_cast<std::uint8_t>(in.front());
  const unsigned major = b >> 4;
  const unsigned gotFraming = b & 0x0Fu;
  if (major > kFormatVersion) {
    return Status::unsupportedVersion(prefix + "format major version " + str(major) + " (this build reads up to " +
                                      str(kFormatVersion) + ")");
  }
  if (major == 0) return Status::corruption(prefix + "bad format byte " + str(b));
  if (gotFraming != framing) {
    if (gotFraming == codec::kFramingOp) return Status::corruption(prefix + "a single op, not a batch");
    if (gotFraming == codec::kFramingBatch) return Status::corruption(prefix + "a batch, not a single op");
    return Status::corruption(prefix + "unknown framing " + str(gotFraming));
  }
  in.remove_prefix(1);
  return Status::ok();
}

class Decoder {
 public:
  explicit Decoder(std::uint8_t framing) : m_framing(framing) {}

  const Status& status() const { return m_status; }
  void setOpIndex(std::uint64_t i) { m_opIndex = i; }

  // Reads the header that follows the format byte; opCount is 1 for the
  // single-op framing. What follows the header bounds the declared op count.
  bool readHeader(std::string_view& in, std::uint64_t& opCount) {
    std::uint64_t len = 0;
    if (!readVarint(in, len, "header length")) return false;
    if (len > in.size()) return fail("truncated header (declares " + str(len) + " bytes, " + str(in.size()) + " left)");
    std::string_view h = in.substr(0, static_cast<std::size_t>(len));
    in.remove_prefix(static_cast<std::size_t>(len));

    opCount = 1;
    if (m_framing == codec::kFramingBatch) {
      if (!readVarint(h, opCount, "op count")) return false;
      if (opCount > kMaxBatchOps) return fail("op count " + str(opCount) + " over the limit of " + str(kMaxBatchOps));
      if (opCount > in.size() / codec::kMinOpRecordBytes) {
        return fail("op count " + str(opCount) + " cannot fit in the " + str(in.size()) + " bytes left");
      }
    }

    std::uint64_t n = 0;
    if (!readVarint(h, n, "replica table size")) return false;
    if (n > h.size()) return fail("replica table size " + str(n) + " exceeds the header");
    m_replicas.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint64_t d = 0;
      if (!readVarint(h, d, "replica table")) return false;
      if (i == 0) {
        m_replicas.push_back(d);
        continue;
      }
      const std::uint64_t prev = m_replicas.back();
      if (d == 0 || d > std::numeric_limits<std::uint64_t>::max() - prev) {
        return fail("replica table entry " + str(i) + " is not strictly increasing");
      }
      m_replicas.push_back(prev + d);
    }
    m_lastSeq.assign(m_replicas.size(), 0);
    m_lastAuthor.assign(m_replicas.size(), 0);
    if (!readTable(h, m_authors, "author")) return false;
    if (!readTable(h, m_patients, "patient")) return false;
    // Bytes left in h are header fields of a newer minor version: skipped.
    return true;
  }

  // Reads one op record.
  bool readOp(std::string_view& in, Op& op) {
    if (in.empty()) return fail("truncated: op record missing");
    const auto tag = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    const unsigned kind = tag & codec::kTagKindMask;
    std::uint64_t len = 0;
    if (!readVarint(in, len, "op length")) return false;
    if (len > in.size()) {
      return fail("truncated op body (declares " + str(len) + " bytes, " + str(in.size()) + " left)");
    }
    std::string_view p = in.substr(0, static_cast<std::size_t>(len));
    in.remove_prefix(static_cast<std::size_t>(len));

    std::uint64_t raw = 0;
    std::int64_t d = 1;
    if (!readVarint(p, raw, "replica index")) return false;
    const std::uint64_t ri = raw >> 1;
    if (ri >= m_replicas.size()) return fail("replica index " + str(ri) + " out of range");
    if ((raw & 1) == 0 && !readZigzag(p, d, "seq")) return false;
    const auto r = static_cast<std::size_t>(ri);
    op.id.replica.value = m_replicas[r];
    op.id.seq = undelta(m_lastSeq[r], d);
    m_lastSeq[r] = op.id.seq;
    if (op.id.replica.isNull()) return fail("op id has replica 0");
    if (op.id.seq == 0) return fail("op id has seq 0");

    if (!readZigzag(p, d, "wall clock")) return false;
    op.hlc.wallMs = undelta(m_prevWall, d);
    m_prevWall = op.hlc.wallMs;
    op.hlc.logical = 0;
    if (tag & codec::kTagHasLogical) {
      std::uint64_t logical = 0;
      if (!readVarint(p, logical, "logical clock")) return false;
      if (logical > std::numeric_limits<std::uint32_t>::max()) return fail("logical clock out of range");
      op.hlc.logical = static_cast<std::uint32_t>(logical);
    }
    std::uint64_t& author = m_lastAuthor[r];
    if ((tag & codec::kTagNewAuthor) && !readVarint(p, author, "author index")) return false;
    if (author >= m_authors.size()) return fail("author index " + str(author) + " out of range");
    op.author = m_authors[static_cast<std::size_t>(author)];
    if ((tag & codec::kTagNewPatient) && !readVarint(p, m_patient, "patient index")) return false;
    if (m_patient >= m_patients.size()) return fail("patient index " + str(m_patient) + " out of range");
    op.patient = m_patients[static_cast<std::size_t>(m_patient)];
    op.context.clear();
    if ((tag & codec::kTagHasContext) && !readRefs(p, op.context, "context")) return false;
    if (kind >= codec::kKnownOpKindCount) {
      // A kind of a newer release: its body is kept as written (FORMAT.md,
      // "Versioning"), extension bytes included, to be relayed unchanged.
      op.body = UnknownOp{static_cast<std::uint8_t>(kind), std::string(p)};
      return true;
    }
    if (!readBody(p, static_cast<OpKind>(kind), op)) return false;
    // Bytes left in p are fields of a newer minor version: skipped.
    return true;
  }

 private:
  bool fail(std::string what) {
    const bool batch = m_framing == codec::kFramingBatch;
    std::string scope;
    if (!m_opIndex) {
      scope = batch ? "batch header" : "op header";
    } else {
      scope = batch ? "batch op " + str(*m_opIndex) : "op";
    }
    m_status = Status::corruption(scope + ": " + what);
    return false;
  }

  bool readVarint(std::string_view& in, std::uint64_t& v, std::string_view what) {
    if (coding::getVarint(in, v)) return true;
    // getVarint fails on truncation and on a varint longer than 64 bits.
    const bool truncated = in.size() < 10 && std::all_of(in.begin(), in.end(), [](char c) {
                             return (static_cast<unsigned char>(c) & 0x80) != 0;
                           });
    return fail((truncated ? "truncated " : "overlong varint in ") + std::string(what));
  }

  bool readZigzag(std::string_view& in, std::int64_t& v, std::string_view what) {
    std::uint64_t raw = 0;
    if (!readVarint(in, raw, what)) return false;
    v = coding::unzigzag(raw);
    return true;
  }

  bool readDouble(std::string_view& in, double& v, std::string_view what) {
    if (coding::getDouble(in, v)) return true;
    return fail("truncated " + std::string(what));
  }

  bool readStringOfLength(std::string_view& in, std::uint64_t len, std::size_t maxLen, std::string& s,
                          std::string_view what) {
    if (len > maxLen) return fail(std::string(what) + " too long (" + str(len) + " bytes, limit " + str(maxLen) + ")");
    if (len > in.size()) return fail("truncated " + std::string(what));
    s.assign(in.data(), static_cast<std::size_t>(len));
    in.remove_prefix(static_cast<std::size_t>(len));
    return true;
  }

  bool readString(std::string_view& in, std::string& s, std::string_view what) {
    std::uint64_t len = 0;
    return readVarint(in, len, what) && readStringOfLength(in, len, kMaxTextBytes, s, what);
  }

  bool readTable(std::string_view& h, std::vector<std::string>& table, std::string_view what) {
    const std::string name(what);
    std::uint64_t n = 0;
    if (!readVarint(h, n, name + " table size")) return false;
    if (n > h.size()) return fail(name + " table size " + str(n) + " exceeds the header");
    table.resize(static_cast<std::size_t>(n));
    for (std::string& s : table) {
      std::uint64_t len = 0;
      if (!readVarint(h, len, name + " id") || !readStringOfLength(h, len, kMaxIdBytes, s, name + " id")) {
        return false;
      }
    }
    return true;
  }

  // A reference: 0 for the null id, else replica index + 1 and a seq delta
  // against the last own seq of that replica.
  bool readRef(std::string_view& in, OpId& id, std::string_view what) {
    std::uint64_t raw = 0;
    if (!readVarint(in, raw, what)) return false;
    if (raw == 0) {
      id = OpId{};
      return true;
    }
    const std::uint64_t ri = raw - 1;
    if (ri >= m_replicas.size()) return fail(std::string(what) + " replica index " + str(ri) + " out of range");
    std::int64_t d = 0;
    if (!readZigzag(in, d, what)) return false;
    const auto r = static_cast<std::size_t>(ri);
    id.replica.value = m_replicas[r];
    id.seq = undelta(m_lastSeq[r], d);
    if (id.replica.isNull()) return fail(std::string(what) + " names replica 0");
    if (id.seq == 0) return fail(std::string(what) + " has seq 0");
    return true;
  }

  // A count, then that many non-null references.
  bool readRefs(std::string_view& in, std::vector<OpId>& ids, std::string_view what) {
    std::uint64_t n = 0;
    return readVarint(in, n, std::string(what) + " count") && readRefList(in, n, ids, what);
  }

  bool readRefList(std::string_view& in, std::uint64_t n, std::vector<OpId>& ids, std::string_view what) {
    if (n > kMaxRefs) return fail("too many " + std::string(what) + " (" + str(n) + ", limit " + str(kMaxRefs) + ")");
    // Each non-null reference takes at least two bytes.
    if (n > in.size() / 2) return fail("truncated " + std::string(what) + " (" + str(n) + " declared)");
    ids.clear();
    ids.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      OpId id;
      if (!readRef(in, id, what)) return false;
      if (id.isNull()) return fail("null id in " + std::string(what));
      ids.push_back(id);
    }
    return true;
  }

  bool readValue(std::string_view& in, Value& value, std::string_view what) {
    std::uint64_t header = 0;
    if (!readVarint(in, header, what)) return false;
    const std::uint64_t kind = header & codec::kValueKindMask;
    const std::uint64_t payload = header >> codec::kValueKindBits;
    const std::string name(what);
    switch (kind) {
      case static_cast<std::uint64_t>(ValueKind::kNull):
        if (payload != 0) return fail("bad null " + name);
        value = std::monostate{};
        return true;
      case static_cast<std::uint64_t>(ValueKind::kText): {
        std::string s;
        if (!readStringOfLength(in, payload, kMaxTextBytes, s, name)) return false;
        value = std::move(s);
        return true;
      }
      case static_cast<std::uint64_t>(ValueKind::kInt): {
        std::int64_t i = 0;
        if (payload != 0) return fail("bad integer " + name);
        if (!readZigzag(in, i, name)) return false;
        value = i;
        return true;
      }
      case static_cast<std::uint64_t>(ValueKind::kReal): {
        double d = 0;
        if (payload != 0) return fail("bad real " + name);
        if (!readDouble(in, d, name)) return false;
        value = d;
        return true;
      }
      case static_cast<std::uint64_t>(ValueKind::kBool):
        if (payload > 1) return fail("bad bool " + name);
        value = payload == 1;
        return true;
      default: return fail("unknown " + name + " kind " + str(kind));
    }
  }

  bool checkCollection(std::uint64_t raw, Collection& c) {
    if (raw > std::numeric_limits<std::uint8_t>::max() || !isValidCollection(static_cast<std::uint8_t>(raw))) {
      return fail("unknown collection " + str(raw));
    }
    c = static_cast<Collection>(raw);
    return true;
  }

  bool checkField(std::uint64_t raw, FieldId& field) {
    if (raw > std::numeric_limits<FieldId>::max()) return fail("field id " + str(raw) + " out of range");
    field = static_cast<FieldId>(raw);
    return true;
  }

  bool readBody(std::string_view& p, OpKind kind, Op& op) {
    switch (kind) {
      case OpKind::kAddEntry: {
        AddEntry b;
        std::uint64_t raw = 0;
        if (!readVarint(p, raw, "collection") || !checkCollection(raw, b.collection)) return false;
        std::uint64_t n = 0;
        if (!readVarint(p, n, "field count")) return false;
        if (n > kMaxFields) return fail("too many fields (" + str(n) + ", limit " + str(kMaxFields) + ")");
        // Each field takes at least two bytes (id and value header).
        if (n > p.size() / 2) return fail("truncated fields (" + str(n) + " declared)");
        b.fields.resize(static_cast<std::size_t>(n));
        for (FieldValue& f : b.fields) {
          if (!readVarint(p, raw, "field id") || !checkField(raw, f.field) || !readValue(p, f.value, "value")) {
            return false;
          }
        }
        if (!readRef(p, b.visit, "visit")) return false;
        op.body = std::move(b);
        return true;
      }
      case OpKind::kWriteField: {
        WriteField b;
        std::uint64_t raw = 0;
        if (!readVarint(p, raw, "target")) return false;
        if (!checkCollection(raw & ((1u << codec::kCollectionBits) - 1), b.target.collection) ||
            !checkField(raw >> codec::kCollectionBits, b.target.field) || !readRef(p, b.target.entry, "entry") ||
            !readValue(p, b.value, "value") || !readVarint(p, raw, "preds count") ||
            !readRefList(p, raw >> 1, b.preds, "preds") || ((raw & 1) && !readString(p, b.reason, "reason"))) {
          return false;
        }
        op.body = std::move(b);
        return true;
      }
      case OpKind::kAppendObservation: {
        AppendObservation b;
        std::uint64_t flags = 0;
        if (!readVarint(p, flags, "observation flags")) return false;
        if (flags > (codec::kObsCategoryMask | codec::kObsHasLow | codec::kObsHasHigh)) {
          return fail("unknown observation flags " + str(flags));
        }
        const std::uint64_t category = flags & codec::kObsCategoryMask;
        if (category != static_cast<std::uint64_t>(ObservationCategory::kVitalSign) &&
            category != static_cast<std::uint64_t>(ObservationCategory::kLaboratory)) {
          return fail("unknown observation category " + str(category));
        }
        b.category = static_cast<ObservationCategory>(category);
        std::int64_t d = 0;
        if (!readString(p, b.code, "code") || !readValue(p, b.value, "value") || !readString(p, b.unit, "unit") ||
            !readZigzag(p, d, "effective time")) {
          return false;
        }
        b.effectiveMs = static_cast<std::int64_t>(undelta(op.hlc.wallMs, d));
        double bound = 0;
        if (flags & codec::kObsHasLow) {
          if (!readDouble(p, bound, "reference low")) return false;
          b.referenceLow = bound;
        }
        if (flags & codec::kObsHasHigh) {
          if (!readDouble(p, bound, "reference high")) return false;
          b.referenceHigh = bound;
        }
        if (!readRef(p, b.visit, "visit")) return false;
        op.body = std::move(b);
        return true;
      }
      case OpKind::kMarkObservationError: {
        MarkObservationError b;
        if (!readRef(p, b.target, "target") || !readString(p, b.reason, "reason")) return false;
        op.body = std::move(b);
        return true;
      }
      case OpKind::kStartNote: {
        StartNote b;
        if (!readString(p, b.text, "text") || !readRef(p, b.visit, "visit")) return false;
        op.body = std::move(b);
        return true;
      }
      case OpKind::kEditNote: return readNoteChange<EditNote>(p, op);
      case OpKind::kSignNote: return readNoteChange<SignNote>(p, op);
      case OpKind::kAddAddendum: return readNoteChange<AddAddendum>(p, op);
      case OpKind::kUnknown: break;  // read by readOp
    }
    return fail("unknown op kind");
  }

  template <typename T>
  bool readNoteChange(std::string_view& p, Op& op) {
    T b;
    if (!readRef(p, b.note, "note") || !readString(p, b.text, "text") || !readRefs(p, b.preds, "preds")) {
      return false;
    }
    op.body = std::move(b);
    return true;
  }

  std::uint8_t m_framing;
  std::optional<std::uint64_t> m_opIndex;  // set while reading ops of a batch
  Status m_status;
  std::vector<std::uint64_t> m_replicas;
  std::vector<std::string> m_authors;
  std::vector<std::string> m_patients;
  // Delta state, advanced op by op exactly as the encoder does.
  std::vector<std::uint64_t> m_lastSeq;     // per replica index
  std::vector<std::uint64_t> m_lastAuthor;  // per replica index
  std::uint64_t m_prevWall = 0;
  std::uint64_t m_patient = 0;
};

}  // namespace

Result<Op> decodeOp(std::string_view bytes) {
  if (Status s = readFormatByte(bytes, codec::kFramingOp, "op"); !s.isOk()) return s;
  Decoder dec(codec::kFramingOp);
  std::uint64_t count = 0;
  if (!dec.readHeader(bytes, count)) return dec.status();
  dec.setOpIndex(0);
  Op op;
  if (!dec.readOp(bytes, op)) return dec.status();
  if (!bytes.empty()) return Status::corruption("op: " + str(bytes.size()) + " trailing bytes after the op");
  return op;
}

Result<std::vector<Op>> decodeBatch(std::string_view bytes) {
  if (Status s = readFormatByte(bytes, codec::kFramingBatch, "batch"); !s.isOk()) return s;
  Decoder dec(codec::kFramingBatch);
  std::uint64_t count = 0;
  if (!dec.readHeader(bytes, count)) return dec.status();
  std::vector<Op> ops;
  // The header check bounds count by the input size; a further cap keeps a
  // hostile count from reserving much more than real batches need.
  ops.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, 1u << 16)));
  for (std::uint64_t i = 0; i < count; ++i) {
    dec.setOpIndex(i);
    Op op;
    if (!dec.readOp(bytes, op)) return dec.status();
    ops.push_back(std::move(op));
  }
  if (!bytes.empty()) {
    return Status::corruption("batch: " + str(bytes.size()) + " trailing bytes after the last op");
  }
  return ops;
}

}  // namespace charta::crdt
