// Attachments (photos, documents) of a patient's chart: uploaded and
// downloaded in chunks, apart from ops (docs/PROTOCOL.md, "Attachments").
//
// Rows: `attachments` (one per patient and content hash: size, media type,
// chunk count, state "uploading" or "complete", who uploaded it) and
// `attachment_chunks` (one per chunk held, with its SHA-256). Bytes: the
// BlobStore (blob_store.h). A chunk's bytes are stored before its row commits
// (files) or with it (PostgreSQL), and removed only after the rows that name
// them are gone, so every chunk row has its bytes.

#include <algorithm>
#include <set>

#include "api_internal.h"
#include "blob_store.h"
#include "charta/crdt/op.h"
#include "crypto.h"

namespace charta::server {
namespace {

using P = std::vector<DbValue>;

constexpr std::string_view kUploading = "uploading";
constexpr std::string_view kComplete = "complete";

struct Attachment {
  std::string patient;
  std::string hash;
  std::int64_t size = 0;
  std::string mediaType;
  std::int64_t chunks = 0;
  std::string state;
};

struct HeldChunk {
  std::int64_t index = 0;
  std::string sha256;  // hex
};

std::int64_t chunkCount(std::int64_t size) {
  return (size + static_cast<std::int64_t>(kAttachmentChunkBytes) - 1) /
         static_cast<std::int64_t>(kAttachmentChunkBytes);
}

// The length chunk `index` of an attachment of `size` bytes must have.
std::int64_t chunkLength(std::int64_t size, std::int64_t index) {
  const auto c = static_cast<std::int64_t>(kAttachmentChunkBytes);
  return std::min(c, size - index * c);
}

// The signature a file of the media type starts with; empty for a type that
// is not accepted.
std::string_view signatureOf(std::string_view mediaType) {
  if (mediaType == "image/jpeg") return std::string_view("\xFF\xD8\xFF", 3);
  if (mediaType == "image/png") return std::string_view("\x89PNG\r\n\x1A\n", 8);
  if (mediaType == "application/pdf") return "%PDF-";
  return {};
}

// A chunk index as the path gives it: decimal digits, no sign, no leading zeros.
std::optional<std::int64_t> parseIndex(const std::string& s) {
  if (s.empty() || s.size() > 9 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::int64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return v;
}

Result<bool> patientInClinic(Connection& c, const std::string& patient, const std::string& clinic) {
  auto rows = c.query("SELECT clinic_id FROM patients WHERE id = $1", P{patient});
  if (!rows.isOk()) return rows.status();
  return !rows.value().empty() && dbText(rows.value()[0][0]) == clinic;
}

Result<std::optional<Attachment>> loadAttachment(Connection& c, const std::string& patient, const std::string& hash) {
  auto rows = c.query("SELECT size, media_type, chunks, state FROM attachments WHERE patient_id = $1 AND hash = $2",
                      P{patient, hash});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty()) return std::optional<Attachment>();
  const DbRow& r = rows.value()[0];
  return std::optional<Attachment>(Attachment{patient, hash, dbInt(r[0]), dbText(r[1]), dbInt(r[2]), dbText(r[3])});
}

Result<std::vector<HeldChunk>> loadChunks(Connection& c, const std::string& patient, const std::string& hash) {
  auto rows = c.query("SELECT idx, sha256 FROM attachment_chunks WHERE patient_id = $1 AND hash = $2 ORDER BY idx",
                      P{patient, hash});
  if (!rows.isOk()) return rows.status();
  std::vector<HeldChunk> out;
  out.reserve(rows.value().size());
  for (const DbRow& r : rows.value()) out.push_back({dbInt(r[0]), dbText(r[1])});
  return out;
}

// Deletes the rows of one attachment (hash) or of every attachment of the
// patient (hash empty) and, on PostgreSQL, their bytes. The caller calls
// BlobStore::finishRemove once the transaction has committed.
Status deleteAttachmentRows(Connection& c, BlobStore& blobs, const std::string& patient, const std::string& hash) {
  Status s = hash.empty()
                 ? c.exec("DELETE FROM attachment_chunks WHERE patient_id = $1", P{patient})
                 : c.exec("DELETE FROM attachment_chunks WHERE patient_id = $1 AND hash = $2", P{patient, hash});
  if (s.isOk()) {
    s = hash.empty() ? c.exec("DELETE FROM attachments WHERE patient_id = $1", P{patient})
                     : c.exec("DELETE FROM attachments WHERE patient_id = $1 AND hash = $2", P{patient, hash});
  }
  if (s.isOk()) s = blobs.removeInTransaction(c, patient, hash);
  return s;
}

// The JSON every attachment route answers with.
json::Value stateJson(const Attachment& a, const std::vector<HeldChunk>& held, bool withHashes) {
  std::set<std::int64_t> have;
  for (const HeldChunk& h : held) have.insert(h.index);
  json::Array missing;
  for (std::int64_t i = 0; i < a.chunks; ++i) {
    if (have.count(i) == 0) missing.emplace_back(i);
  }
  json::Object out{{"state", a.state},          {"size", a.size},
                   {"media_type", a.mediaType}, {"chunk_size", static_cast<std::int64_t>(kAttachmentChunkBytes)},
                   {"chunks", a.chunks},        {"missing", std::move(missing)}};
  if (withHashes && a.state == kComplete) {
    json::Array hashes;
    for (const HeldChunk& h : held) hashes.emplace_back(h.sha256);
    out.emplace_back("chunk_hashes", std::move(hashes));
  }
  return out;
}

// The patient and hash of the path, checked: a response when they are bad.
std::optional<HttpResponse> checkPath(const Api::Call& call) {
  const std::string& patient = call.pathParams[0];
  if (patient.empty() || patient.size() > crdt::kMaxIdBytes) {
    return errorResponse(400, "invalid", "patient: bad id");
  }
  if (!validBlobHash(call.pathParams[1])) {
    return errorResponse(400, "invalid", "the attachment's address is its SHA-256: 64 lowercase hex digits");
  }
  return std::nullopt;
}

HttpResponse notInScope(const std::string& patient) {
  return errorResponse(404, "not_found", "patient " + patient + " is not in this device's clinic");
}

// Hashes every chunk of an upload whose chunks are all held, in order, and
// either makes it complete (audited attachment.upload) or, when the content
// is not what its address says, discards every chunk (422 corrupt).
HttpResponse finishUpload(Api& api, Api::Call& call, const Attachment& declared) {
  BlobStore& blobs = ApiRoutes::blobs(api);
  const std::string& patient = declared.patient;
  const std::string& hash = declared.hash;
  // Read and hash outside the write lock: up to max_attachment_bytes.
  std::string digestHex;
  std::vector<HeldChunk> held;
  std::string problem;
  Status s = ApiRoutes::store(api).read([&](Connection& c) -> Status {
    problem.clear();
    auto chunks = loadChunks(c, patient, hash);
    if (!chunks.isOk()) return chunks.status();
    held = std::move(chunks).value();
    Sha256 whole;
    for (const HeldChunk& h : held) {
      auto bytes = blobs.get(c, patient, hash, h.index);
      if (!bytes.isOk()) return bytes.status();
      if (!bytes.value()) {
        problem = "chunk " + std::to_string(h.index) + " is missing";
        return Status::ok();
      }
      if (toHex(sha256(*bytes.value())) != h.sha256) {
        problem = "chunk " + std::to_string(h.index) + " changed after it was received";
        return Status::ok();
      }
      whole.update(*bytes.value());
    }
    digestHex = toHex(whole.finish());
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (problem.empty() && digestHex != hash) {
    problem = "the content's SHA-256 is " + digestHex + ", not the address " + hash;
  }
  const bool good = problem.empty();

  Attachment now = declared;
  std::vector<HeldChunk> after;
  std::optional<HttpResponse> refusal;
  bool discarded = false;
  s = ApiRoutes::store(api).write([&](WriteTx& tx) -> Status {
    refusal.reset();
    discarded = false;
    setActor(tx, call);
    Connection& c = tx.conn();
    auto a = loadAttachment(c, patient, hash);
    if (!a.isOk()) return a.status();
    if (!a.value()) {
      refusal = errorResponse(404, "not_found", "no attachment " + hash + " of patient " + patient);
      return Status::rejected("refused");
    }
    now = *a.value();
    auto chunks = loadChunks(c, patient, hash);
    if (!chunks.isOk()) return chunks.status();
    after = std::move(chunks).value();
    if (now.state == kComplete) return Status::ok();  // another request finished it
    // What was hashed must still be what is held (a concurrent discard and
    // new upload would change it): otherwise answer the state as it is.
    bool same = after.size() == held.size() && static_cast<std::int64_t>(after.size()) == now.chunks;
    for (std::size_t i = 0; same && i < after.size(); ++i) {
      same = after[i].index == held[i].index && after[i].sha256 == held[i].sha256;
    }
    if (!same) return Status::ok();
    if (!good) {
      discarded = true;
      tx.audit({"", "", "", "attachment.discard", call.device->clinic, patient,
                json::serialize(json::Object{{"hash", hash}, {"reason", problem}})});
      return deleteAttachmentRows(c, blobs, patient, hash);
    }
    now.state = std::string(kComplete);
    tx.audit({"", "", "", "attachment.upload", call.device->clinic, patient,
              json::serialize(json::Object{
                  {"hash", hash}, {"size", now.size}, {"media_type", now.mediaType}, {"chunks", now.chunks}})});
    return c.exec(
        "UPDATE attachments SET state = $3, completed_at = $4 WHERE patient_id = $1 AND hash = $2 AND state = $5",
        P{patient, hash, std::string(kComplete), tx.now(), std::string(kUploading)});
  });
  if (refusal) return *refusal;
  if (!s.isOk()) return statusResponse(api, s);
  if (discarded) {
    Status r = blobs.finishRemove(patient, hash);
    if (!r.isOk()) ApiRoutes::log(api).error("attachment.remove_failed", {{"message", r.toString()}});
    ApiRoutes::log(api).info("attachment.corrupt_upload",
                             {{"patient", patient}, {"hash", hash}, {"device", call.device->id}, {"problem", problem}});
    return errorResponse(422, "corrupt",
                         "the chunks do not make the content addressed " + hash + " (" + problem +
                             "): every chunk was discarded; upload it again from the start");
  }
  return jsonResponse(200, stateJson(now, after, false));
}

}  // namespace

Result<std::optional<std::string>> readAttachmentContent(Store& store, BlobStore& blobs, const std::string& patient,
                                                         const std::string& hash) {
  std::optional<std::string> content;
  Status s = store.read([&](Connection& c) -> Status {
    auto a = loadAttachment(c, patient, hash);
    if (!a.isOk()) return a.status();
    if (!a.value() || a.value()->state != kComplete) return Status::ok();
    auto held = loadChunks(c, patient, hash);
    if (!held.isOk()) return held.status();
    if (static_cast<std::int64_t>(held.value().size()) != a.value()->chunks) return Status::ok();
    std::string out;
    out.reserve(static_cast<std::size_t>(a.value()->size));
    for (const HeldChunk& h : held.value()) {
      auto bytes = blobs.get(c, patient, hash, h.index);
      if (!bytes.isOk()) return bytes.status();
      if (!bytes.value() || toHex(sha256(*bytes.value())) != h.sha256) return Status::ok();  // damaged: none
      out += *bytes.value();
    }
    if (toHex(sha256(out)) == hash) content = std::move(out);
    return Status::ok();
  });
  if (!s.isOk()) return s;
  return content;
}

std::size_t Api::bodyLimit(const HttpRequest& head) const {
  if (head.method == "PUT" && head.path.rfind("/v1/sync/patients/", 0) == 0 &&
      head.path.find("/chunks/") != std::string::npos) {
    // A whole chunk, whatever max_body_bytes says; a little more so that a
    // body of the wrong length gets the route's clear 400.
    return kAttachmentChunkBytes + 4096;
  }
  return static_cast<std::size_t>(m_config.maxBodyBytes);
}

HttpResponse ApiRoutes::attachmentDeclare(Api& api, Api::Call& call) {
  if (auto bad = checkPath(call)) return *bad;
  const std::string& patient = call.pathParams[0];
  const std::string& hash = call.pathParams[1];
  std::int64_t size = 0;
  std::string mediaType;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        size = r.requiredInt("size", 1, std::int64_t{1} << 53);
        mediaType = r.requiredString("media_type", 100);
      })) {
    return *bad;
  }
  if (signatureOf(mediaType).empty()) {
    return errorResponse(
        415, "unsupported_media_type",
        "media_type: attachments are image/jpeg, image/png or application/pdf, not " + json::quote(mediaType));
  }
  if (static_cast<std::uint64_t>(size) > config(api).maxAttachmentBytes) {
    return errorResponse(413, "too_large",
                         "an attachment may have at most " + std::to_string(config(api).maxAttachmentBytes) +
                             " bytes (max_attachment_bytes); this one has " + std::to_string(size));
  }
  Attachment a;
  std::vector<HeldChunk> held;
  std::optional<HttpResponse> refusal;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    refusal.reset();
    setActor(tx, call);
    Connection& c = tx.conn();
    auto scoped = patientInClinic(c, patient, call.device->clinic);
    if (!scoped.isOk()) return scoped.status();
    if (!scoped.value()) {
      refusal = notInScope(patient);
      return Status::rejected("refused");
    }
    auto existing = loadAttachment(c, patient, hash);
    if (!existing.isOk()) return existing.status();
    if (existing.value()) {
      a = *existing.value();
      if (a.size != size || a.mediaType != mediaType) {
        refusal = errorResponse(409, "exists",
                                "attachment " + hash + " was declared with " + std::to_string(a.size) + " bytes of " +
                                    a.mediaType + "; the same content cannot have another size or media type");
        return Status::rejected("refused");
      }
    } else {
      a = Attachment{patient, hash, size, mediaType, chunkCount(size), std::string(kUploading)};
      Status st = c.exec(
          "INSERT INTO attachments (patient_id, hash, size, media_type, chunks, state, uploaded_by, device_id, "
          "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (patient_id, hash) DO NOTHING",
          P{patient, hash, size, mediaType, a.chunks, a.state, call.user->id, call.device->id, tx.now()});
      if (!st.isOk()) return st;
    }
    auto chunks = loadChunks(c, patient, hash);
    if (!chunks.isOk()) return chunks.status();
    held = std::move(chunks).value();
    return Status::ok();
  });
  if (refusal) return *refusal;
  if (!s.isOk()) return statusResponse(api, s);
  // Every chunk held but not yet checked (the server stopped in between): finish now.
  if (a.state == kUploading && static_cast<std::int64_t>(held.size()) == a.chunks) return finishUpload(api, call, a);
  return jsonResponse(200, stateJson(a, held, false));
}

HttpResponse ApiRoutes::attachmentChunkPut(Api& api, Api::Call& call) {
  if (auto bad = checkPath(call)) return *bad;
  const std::string& patient = call.pathParams[0];
  const std::string& hash = call.pathParams[1];
  const auto index = parseIndex(call.pathParams[2]);
  if (!index) return errorResponse(400, "invalid", "the chunk index must be a non-negative decimal number");
  if (const std::string* type = call.req.header("content-type");
      type && type->rfind("application/octet-stream", 0) != 0) {
    return errorResponse(415, "unsupported_media_type", "a chunk's body is its raw bytes (application/octet-stream)");
  }
  BlobStore& blobStore = blobs(api);
  const std::string& body = call.req.body;

  // What the upload expects, read first: nothing is written for a bad chunk.
  std::optional<Attachment> found;
  bool held = false;
  bool scoped = false;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto inClinic = patientInClinic(c, patient, call.device->clinic);
    if (!inClinic.isOk()) return inClinic.status();
    scoped = inClinic.value();
    if (!scoped) return Status::ok();
    auto a = loadAttachment(c, patient, hash);
    if (!a.isOk()) return a.status();
    found = a.value();
    if (!found) return Status::ok();
    auto rows = c.query("SELECT 1 FROM attachment_chunks WHERE patient_id = $1 AND hash = $2 AND idx = $3",
                        P{patient, hash, *index});
    if (!rows.isOk()) return rows.status();
    held = !rows.value().empty();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (!scoped) return notInScope(patient);
  if (!found) {
    return errorResponse(
        404, "not_found",
        "no upload of " + hash + " for patient " + patient + ": declare it first (PUT without /chunks)");
  }
  const Attachment& a = *found;
  if (*index >= a.chunks) {
    return errorResponse(
        400, "invalid",
        "chunk " + std::to_string(*index) + ": this attachment has chunks 0 to " + std::to_string(a.chunks - 1));
  }
  const std::int64_t want = chunkLength(a.size, *index);
  if (static_cast<std::int64_t>(body.size()) != want) {
    return errorResponse(400, "invalid",
                         "chunk " + std::to_string(*index) + " must have " + std::to_string(want) + " bytes, not " +
                             std::to_string(body.size()) + "; it was not stored");
  }
  if (*index == 0) {
    const std::string_view signature = signatureOf(a.mediaType);
    if (std::string_view(body).substr(0, signature.size()) != signature) {
      // Not a file of the declared type: the upload is discarded (a complete
      // attachment is kept: this chunk changes nothing).
      bool discarded = false;
      if (a.state == kUploading) {
        s = store(api).write([&](WriteTx& tx) -> Status {
          discarded = false;
          setActor(tx, call);
          auto current = loadAttachment(tx.conn(), patient, hash);
          if (!current.isOk()) return current.status();
          if (!current.value() || current.value()->state != kUploading) return Status::ok();
          discarded = true;
          tx.audit({"", "", "", "attachment.discard", call.device->clinic, patient,
                    json::serialize(json::Object{{"hash", hash}, {"reason", "chunk 0 is not " + a.mediaType}})});
          return deleteAttachmentRows(tx.conn(), blobStore, patient, hash);
        });
        if (!s.isOk()) return statusResponse(api, s);
        if (discarded) {
          Status r = blobStore.finishRemove(patient, hash);
          if (!r.isOk()) log(api).error("attachment.remove_failed", {{"message", r.toString()}});
        }
      }
      return errorResponse(415, "wrong_type",
                           "chunk 0 does not start with the signature of " + a.mediaType +
                               (a.state == kUploading ? ": the upload was discarded" : ""));
    }
  }

  const std::string chunkHash = toHex(sha256(body));
  // A chunk already held is accepted again without writing it: a held chunk
  // is never overwritten (a complete attachment's bytes never change).
  if (!held && !blobStore.transactional()) {
    s = blobStore.put(nullptr, patient, hash, *index, body);
    if (!s.isOk()) return statusResponse(api, s);
  }
  Attachment now;
  std::vector<HeldChunk> chunks;
  std::optional<HttpResponse> refusal;
  s = store(api).write([&](WriteTx& tx) -> Status {
    refusal.reset();
    setActor(tx, call);
    Connection& c = tx.conn();
    auto current = loadAttachment(c, patient, hash);
    if (!current.isOk()) return current.status();
    if (!current.value() || current.value()->size != a.size || current.value()->mediaType != a.mediaType) {
      refusal = errorResponse(409, "discarded",
                              "the upload of " + hash + " was discarded meanwhile: declare it again and start over");
      return Status::rejected("refused");
    }
    now = *current.value();
    if (now.state == kUploading) {
      auto inserted = c.query(
          "INSERT INTO attachment_chunks (patient_id, hash, idx, sha256, size, received_at) "
          "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (patient_id, hash, idx) DO NOTHING RETURNING idx",
          P{patient, hash, *index, chunkHash, want, tx.now()});
      if (!inserted.isOk()) return inserted.status();
      if (!inserted.value().empty() && blobStore.transactional()) {
        Status st = blobStore.put(&c, patient, hash, *index, body);
        if (!st.isOk()) return st;
      }
    }
    auto rows = loadChunks(c, patient, hash);
    if (!rows.isOk()) return rows.status();
    chunks = std::move(rows).value();
    return Status::ok();
  });
  if (refusal) return *refusal;
  if (!s.isOk()) return statusResponse(api, s);
  if (now.state == kUploading && static_cast<std::int64_t>(chunks.size()) == now.chunks) {
    return finishUpload(api, call, now);
  }
  return jsonResponse(200, stateJson(now, chunks, false));
}

HttpResponse ApiRoutes::attachmentStatus(Api& api, Api::Call& call) {
  if (auto bad = checkPath(call)) return *bad;
  const std::string& patient = call.pathParams[0];
  const std::string& hash = call.pathParams[1];
  std::optional<Attachment> found;
  std::vector<HeldChunk> held;
  bool scoped = false;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto inClinic = patientInClinic(c, patient, call.device->clinic);
    if (!inClinic.isOk()) return inClinic.status();
    scoped = inClinic.value();
    if (!scoped) return Status::ok();
    auto a = loadAttachment(c, patient, hash);
    if (!a.isOk()) return a.status();
    found = a.value();
    if (!found) return Status::ok();
    auto chunks = loadChunks(c, patient, hash);
    if (!chunks.isOk()) return chunks.status();
    held = std::move(chunks).value();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (!scoped) return notInScope(patient);
  if (!found) return errorResponse(404, "not_found", "no attachment " + hash + " of patient " + patient);
  return jsonResponse(200, stateJson(*found, held, true));
}

HttpResponse ApiRoutes::attachmentChunkGet(Api& api, Api::Call& call) {
  if (auto bad = checkPath(call)) return *bad;
  const std::string& patient = call.pathParams[0];
  const std::string& hash = call.pathParams[1];
  const auto index = parseIndex(call.pathParams[2]);
  if (!index) return errorResponse(400, "invalid", "the chunk index must be a non-negative decimal number");
  BlobStore& blobStore = blobs(api);
  std::optional<Attachment> found;
  std::string recorded;
  std::optional<std::string> bytes;
  bool scoped = false;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto inClinic = patientInClinic(c, patient, call.device->clinic);
    if (!inClinic.isOk()) return inClinic.status();
    scoped = inClinic.value();
    if (!scoped) return Status::ok();
    auto a = loadAttachment(c, patient, hash);
    if (!a.isOk()) return a.status();
    found = a.value();
    if (!found || found->state != kComplete || *index >= found->chunks) return Status::ok();
    auto rows = c.query("SELECT sha256 FROM attachment_chunks WHERE patient_id = $1 AND hash = $2 AND idx = $3",
                        P{patient, hash, *index});
    if (!rows.isOk()) return rows.status();
    if (!rows.value().empty()) recorded = dbText(rows.value()[0][0]);
    auto b = blobStore.get(c, patient, hash, *index);
    if (!b.isOk()) return b.status();
    bytes = std::move(b).value();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (!scoped) return notInScope(patient);
  if (!found) return errorResponse(404, "not_found", "no attachment " + hash + " of patient " + patient);
  if (found->state != kComplete) {
    return errorResponse(409, "incomplete", "attachment " + hash + " is still being uploaded");
  }
  if (*index >= found->chunks) {
    return errorResponse(
        400, "invalid",
        "chunk " + std::to_string(*index) + ": this attachment has chunks 0 to " + std::to_string(found->chunks - 1));
  }
  // The bytes must still be what was received.
  std::string problem;
  if (!bytes) {
    problem = "missing";
  } else if (recorded.empty() || toHex(sha256(*bytes)) != recorded) {
    problem = "its SHA-256 no longer matches the one recorded when it was received";
  }
  const bool corrupt = !problem.empty();
  if (corrupt || *index == 0) {
    s = store(api).write([&](WriteTx& tx) -> Status {
      setActor(tx, call);
      if (corrupt) {
        tx.audit({"", "", "", "attachment.corrupt", call.device->clinic, patient,
                  json::serialize(json::Object{{"hash", hash}, {"chunk", *index}, {"problem", problem}})});
      } else {
        tx.audit({"", "", "", "attachment.download", call.device->clinic, patient,
                  json::serialize(json::Object{{"hash", hash}})});
      }
      return Status::ok();
    });
    if (!s.isOk()) return statusResponse(api, s);
  }
  if (corrupt) {
    metricsOf(api).error("attachment_corrupt");
    log(api).error("attachment.corrupt",
                   {{"patient", patient}, {"hash", hash}, {"chunk", *index}, {"problem", problem}});
    return errorResponse(
        500, "corrupt_chunk",
        "chunk " + std::to_string(*index) + " of attachment " + hash + " is damaged on the server (" + problem + ")");
  }
  HttpResponse r;
  r.contentType = "application/octet-stream";
  r.body = std::move(*bytes);
  return r;
}

Status purgePatientAttachments(WriteTx& tx, BlobStore& blobs, const std::string& patient, std::int64_t& removed) {
  auto rows = tx.conn().query("SELECT COUNT(*) FROM attachments WHERE patient_id = $1", P{patient});
  if (!rows.isOk()) return rows.status();
  removed = dbInt(rows.value()[0][0]);
  return deleteAttachmentRows(tx.conn(), blobs, patient, "");
}

HttpResponse ApiRoutes::attachmentPurge(Api& api, Api::Call& call) {
  const std::string& patient = call.pathParams[0];
  if (patient.empty() || patient.size() > crdt::kMaxIdBytes) return errorResponse(400, "invalid", "patient: bad id");
  std::int64_t removed = 0;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    auto clinic = tx.conn().query("SELECT clinic_id FROM patients WHERE id = $1", P{patient});
    if (!clinic.isOk()) return clinic.status();
    Status st = purgePatientAttachments(tx, blobs(api), patient, removed);
    if (!st.isOk()) return st;
    tx.audit({"", "", "", "attachment.purge", clinic.value().empty() ? std::string() : dbText(clinic.value()[0][0]),
              patient, json::serialize(json::Object{{"attachments", removed}})});
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (Status r = blobs(api).finishRemove(patient, ""); !r.isOk()) {
    log(api).error("attachment.remove_failed", {{"message", r.toString()}});
    return statusResponse(api, Status::ioError(r.message()));
  }
  return jsonResponse(200, json::Object{{"patient", patient}, {"removed", removed}});
}

}  // namespace charta::server
