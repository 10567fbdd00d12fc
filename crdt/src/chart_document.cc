#include "charta/crdt/chart_document.h"

#include <algorithm>

namespace charta::crdt {
namespace {

const Register kEmptyRegister;

Status checkValueKind(Collection c, FieldId f, const Value& v) {
  const auto spec = findField(c, f);
  if (!spec || kindOf(v) == ValueKind::kNull) return Status::ok();
  const std::string name = std::string(collectionName(c)) + "." + std::string(spec->name);
  if (kindOf(v) != spec->kind) return Status::rejected("field " + name + " takes another kind of value");
  if (c != Collection::kAttachments) return Status::ok();
  // An attachment's references must name a blob a device can fetch.
  const auto* text = std::get_if<std::string>(&v);
  auto oneOf = [](std::span<const std::string_view> allowed, const std::string& s) {
    return std::find(allowed.begin(), allowed.end(), s) != allowed.end();
  };
  switch (f) {
    case field::kContentHash:
    case field::kThumbnailHash:
      if (!isContentHash(*text)) return Status::rejected("field " + name + " takes 64 lowercase hex digits");
      break;
    case field::kMediaType:
      if (!oneOf(attachmentMediaTypes(), *text)) return Status::rejected("field " + name + ": unsupported media type");
      break;
    case field::kAttachmentKind:
      if (!oneOf(attachmentKinds(), *text)) return Status::rejected("field " + name + ": unknown kind of attachment");
      break;
    case field::kContentSize:
      if (std::get<std::int64_t>(v) <= 0) return Status::rejected("field " + name + " must be positive");
      break;
    default: break;
  }
  return Status::ok();
}

Status checkStatusValue(Collection c, const Value& v, const std::string& reason) {
  const auto* status = std::get_if<std::int64_t>(&v);
  if (status == nullptr || !statusAllowed(c, *status)) {
    return Status::rejected("not a valid status for " + std::string(collectionName(c)));
  }
  if (statusNeedsReason(static_cast<EntryStatus>(*status)) && reason.empty()) {
    return Status::rejected("changing an entry to " + std::string(statusName(static_cast<EntryStatus>(*status))) +
                            " needs a reason");
  }
  return Status::ok();
}

}  // namespace

ChartDocument::ChartDocument(std::string patientId) : m_patientId(std::move(patientId)) {}

bool ChartDocument::knows(const OpId& id) const {
  return m_applied.contains(id) || m_rejected.contains(id) || m_held.contains(id);
}

Result<ApplyOutcome> ChartDocument::apply(const Op& op) {
  if (op.patient != m_patientId) {
    return Status::invalidArgument("op " + toString(op.id) + " belongs to patient '" + op.patient + "', not to '" +
                                   m_patientId + "'");
  }
  if (op.id.replica.isNull() || op.id.seq == 0) return Status::invalidArgument("op has a null id");
  if (knows(op.id)) return ApplyOutcome::kDuplicate;

  // An op can only build on earlier ops of its own device; anything else is a
  // cycle that would be held forever.
  bool selfReference = false;
  forEachReference(op, [&](const OpId& dep) {
    if (dep.replica == op.id.replica && dep.seq >= op.id.seq) selfReference = true;
  });
  if (selfReference) {
    // Ops already held for this one are rejected with it now, as they would
    // be had it arrived first: every order of the same ops gives one chart.
    Status s = reject(op.id, "op " + toString(op.id) + " depends on itself or a later op of its device");
    releaseWaiters(op.id);
    return s;
  }
  if (!dependenciesSettled(op)) {
    for (const OpId& dep : dependenciesOf(op)) {
      if (!isSettled(dep)) m_waiters[dep].push_back(op.id);
    }
    m_held.emplace(op.id, op);
    return ApplyOutcome::kHeld;
  }
  Status s = settle(op);
  if (!s.isOk()) return s;
  return ApplyOutcome::kApplied;
}

bool ChartDocument::dependenciesSettled(const Op& op) const {
  // Scans in place: nearly every op arrives after its dependencies, so the
  // common path allocates nothing.
  bool settled = true;
  forEachReference(op, [&](const OpId& dep) {
    if (!dep.isNull() && !isSettled(dep)) settled = false;
  });
  return settled;
}

Status ChartDocument::reject(const OpId& id, std::string reason) {
  Status s = Status::rejected(reason);
  m_rejected.emplace(id, std::move(reason));
  return s;
}

Status ChartDocument::settle(const Op& op) {
  Status result = settleOne(op);
  releaseWaiters(op.id);
  return result;
}

void ChartDocument::releaseWaiters(const OpId& settled) {
  if (m_waiters.empty()) return;  // nothing is held: the common case
  // Settle every held op that now has all its dependencies (iteratively: a
  // long chain of held ops must not recurse).
  std::vector<OpId> ready{settled};
  while (!ready.empty()) {
    const OpId done = ready.back();
    ready.pop_back();
    auto waiting = m_waiters.find(done);
    if (waiting == m_waiters.end()) continue;
    std::vector<OpId> candidates = std::move(waiting->second);
    m_waiters.erase(waiting);
    for (const OpId& id : candidates) {
      auto held = m_held.find(id);
      if (held == m_held.end()) continue;
      if (!dependenciesSettled(held->second)) continue;  // still registered under another missing dependency
      Op next = std::move(held->second);
      m_held.erase(held);
      settleOne(next);
      ready.push_back(next.id);
    }
  }
}

Status ChartDocument::settleOne(const Op& op) {
  // The first rejected dependency in id order names the reason, so every
  // replica records the same text.
  OpId rejectedDep;
  forEachReference(op, [&](const OpId& dep) {
    if (!dep.isNull() && m_rejected.contains(dep) && (rejectedDep.isNull() || dep < rejectedDep)) rejectedDep = dep;
  });
  if (!rejectedDep.isNull()) {
    return reject(op.id, "op " + toString(op.id) + " depends on rejected op " + toString(rejectedDep));
  }
  Status s = validate(op);
  if (!s.isOk()) {
    return reject(op.id,
                  "op " + toString(op.id) + " (" + std::string(opKindName(kindOf(op.body))) + "): " + s.message());
  }
  applyValid(op);
  m_applied.insert(op.id);
  m_seen.advance(op.id);
  m_latestHlc = std::max(m_latestHlc, op.hlc);
  return Status::ok();
}

Status ChartDocument::validate(const Op& op) const {
  if (op.author.empty()) return Status::rejected("an op must name its author");
  if (op.author.size() > kMaxIdBytes) {
    return Status::rejected("author id longer than " + std::to_string(kMaxIdBytes) + " bytes");
  }
  auto visitOk = [this](const OpId& visit) {
    if (visit.isNull()) return Status::ok();
    auto it = m_entryIndex.find(visit);
    if (it == m_entryIndex.end() || it->second != Collection::kVisits) {
      return Status::rejected("linked visit " + toString(visit) + " is not a visit of this chart");
    }
    return Status::ok();
  };
  auto findNote = [this](const OpId& id) -> const Note* {
    auto it = m_notes.find(id);
    return it == m_notes.end() ? nullptr : &it->second;
  };
  auto sawSignature = [](const Note& note, const std::vector<OpId>& preds) {
    return std::any_of(preds.begin(), preds.end(), [&](const OpId& p) { return note.signatures.contains(p); });
  };

  return std::visit(
      Overloaded{
          [&](const AddEntry& b) -> Status {
            if (!isValidCollection(static_cast<std::uint8_t>(b.collection)) || !isEntryCollection(b.collection)) {
              return Status::rejected("AddEntry needs an entry collection");
            }
            std::vector<FieldId> seenFields;
            for (const FieldValue& fv : b.fields) {
              if (std::find(seenFields.begin(), seenFields.end(), fv.field) != seenFields.end()) {
                return Status::rejected("field " + std::to_string(fv.field) + " given twice");
              }
              seenFields.push_back(fv.field);
              if (fv.field == kStatusField) {
                if (Status s = checkStatusValue(b.collection, fv.value, "new entry"); !s.isOk()) return s;
              } else if (Status s = checkValueKind(b.collection, fv.field, fv.value); !s.isOk()) {
                return s;
              }
            }
            return visitOk(b.visit);
          },
          [&](const WriteField& b) -> Status {
            const FieldRef& t = b.target;
            if (!isValidCollection(static_cast<std::uint8_t>(t.collection))) {
              return Status::rejected("unknown collection");
            }
            if (t.collection == Collection::kDemographics) {
              if (!t.entry.isNull()) return Status::rejected("a demographics field has no entry");
              if (t.field == kStatusField) return Status::rejected("demographics have no status field");
            } else {
              auto it = m_entryIndex.find(t.entry);
              if (it == m_entryIndex.end() || it->second != t.collection) {
                return Status::rejected(toString(t.entry) + " is not an entry of " +
                                        std::string(collectionName(t.collection)));
              }
            }
            if (t.collection != Collection::kDemographics && t.field == kStatusField) {
              if (Status s = checkStatusValue(t.collection, b.value, b.reason); !s.isOk()) return s;
            } else if (Status s = checkValueKind(t.collection, t.field, b.value); !s.isOk()) {
              return s;
            }
            const Register* reg = findRegister(t);
            if (reg != nullptr) return reg->check(b.value, b.preds);
            return Status::ok();
          },
          [&](const AppendObservation& b) -> Status {
            if (b.code.empty()) return Status::rejected("an observation needs a code");
            if (b.category != ObservationCategory::kVitalSign && b.category != ObservationCategory::kLaboratory) {
              return Status::rejected("unknown observation category");
            }
            const ValueKind k = kindOf(b.value);
            if (k != ValueKind::kReal && k != ValueKind::kText && k != ValueKind::kInt) {
              return Status::rejected("an observation value is a number or text");
            }
            return visitOk(b.visit);
          },
          [&](const MarkObservationError& b) -> Status {
            if (!m_observations.contains(b.target)) {
              return Status::rejected(toString(b.target) + " is not an observation of this chart");
            }
            if (b.reason.empty()) return Status::rejected("marking entered-in-error needs a reason");
            return Status::ok();
          },
          [&](const StartNote& b) -> Status { return visitOk(b.visit); },
          [&](const EditNote& b) -> Status {
            const Note* note = findNote(b.note);
            if (note == nullptr) return Status::rejected(toString(b.note) + " is not a note of this chart");
            if (note->author != op.author) return Status::rejected("only the note's author may edit its draft");
            if (b.preds.empty()) return Status::rejected("an edit must name the draft it replaces");
            if (sawSignature(*note, b.preds)) {
              return Status::rejected("note " + toString(b.note) + " is signed; corrections are addenda");
            }
            return Status::ok();
          },
          [&](const SignNote& b) -> Status {
            const Note* note = findNote(b.note);
            if (note == nullptr) return Status::rejected(toString(b.note) + " is not a note of this chart");
            if (note->author != op.author) return Status::rejected("only the note's author may sign it");
            if (b.preds.empty()) return Status::rejected("a signature must name the draft it signs");
            if (sawSignature(*note, b.preds)) {
              return Status::rejected("note " + toString(b.note) + " is already signed; corrections are addenda");
            }
            return Status::ok();
          },
          [&](const AddAddendum& b) -> Status {
            const Note* note = findNote(b.note);
            if (note == nullptr) return Status::rejected(toString(b.note) + " is not a note of this chart");
            if (!sawSignature(*note, b.preds)) {
              return Status::rejected("an addendum needs a signed note (name its signature)");
            }
            if (b.text.empty()) return Status::rejected("an addendum needs text");
            return Status::ok();
          },
          [&](const UnknownOp& b) -> Status {
            // Its own rules are a newer release's; this one only carries it.
            if (b.kind < kFirstNewerOpKind || b.kind > kLastNewerOpKind) {
              return Status::rejected("op kind " + std::to_string(b.kind) + " is not one a newer release may add");
            }
            return Status::ok();
          },
      },
      op.body);
}

Register& ChartDocument::registerFor(const FieldRef& ref) {
  if (ref.collection == Collection::kDemographics) {
    return m_demographics.try_emplace(ref.field, registerKindOf(ref.collection, ref.field)).first->second;
  }
  Entry& entry = m_entries[static_cast<std::size_t>(ref.collection)].at(ref.entry);
  if (ref.field == kStatusField) return entry.status;
  return entry.fields.try_emplace(ref.field, registerKindOf(ref.collection, ref.field)).first->second;
}

void ChartDocument::applyValid(const Op& op) {
  auto writeOf = [&op](Value v, std::string reason = {}) {
    return RegisterWrite{op.id, op.hlc, op.author, std::move(v), std::move(reason)};
  };
  std::visit(
      Overloaded{
          [&](const AddEntry& b) {
            Entry entry{op.id,  b.collection, op.author,
                        op.hlc, b.visit,      Register(registerKindOf(b.collection, kStatusField)),
                        {}};
            bool statusGiven = false;
            for (const FieldValue& fv : b.fields) {
              if (fv.field == kStatusField) {
                entry.status.apply(writeOf(fv.value), {});
                statusGiven = true;
              } else {
                entry.fields.try_emplace(fv.field, registerKindOf(b.collection, fv.field))
                    .first->second.apply(writeOf(fv.value), {});
              }
            }
            if (!statusGiven) {
              entry.status.apply(writeOf(static_cast<std::int64_t>(initialStatus(b.collection))), {});
            }
            m_entries[static_cast<std::size_t>(b.collection)].emplace(op.id, std::move(entry));
            m_entryIndex.emplace(op.id, b.collection);
          },
          [&](const WriteField& b) { registerFor(b.target).apply(writeOf(b.value, b.reason), b.preds); },
          [&](const AppendObservation& b) {
            m_observations.emplace(op.id, Observation{op.id, op.author, op.hlc, b, {}});
          },
          [&](const MarkObservationError& b) { m_observations.at(b.target).errorMarks.emplace(op.id, b.reason); },
          [&](const StartNote& b) {
            Note note{op.id, op.author, op.hlc, b.visit, Register(), {}, {}, {}};
            note.draft.apply(writeOf(b.text), {});
            m_notes.emplace(op.id, std::move(note));
          },
          [&](const EditNote& b) { m_notes.at(b.note).draft.apply(writeOf(b.text), b.preds); },
          [&](const SignNote& b) {
            Note& note = m_notes.at(b.note);
            note.draft.apply(writeOf(b.text), b.preds);
            note.signatures.emplace(op.id, writeOf(b.text));
          },
          [&](const AddAddendum& b) {
            Note& note = m_notes.at(b.note);
            // Settle what the addendum names: unsigned versions leave
            // the draft, signatures stay but are acknowledged.
            std::vector<OpId> drafts;
            for (const OpId& pred : b.preds) {
              if (note.signatures.contains(pred)) {
                note.acknowledged.insert(pred);
              } else {
                drafts.push_back(pred);
              }
            }
            note.draft.retire(drafts);
            note.addenda.emplace(op.id, Addendum{op.id, op.author, op.hlc, b.text});
          },
          [&](const UnknownOp&) { m_newer.emplace(op.id, op); },
      },
      op.body);
}

std::vector<OpId> ChartDocument::missingDependencies() const {
  std::vector<OpId> missing;
  for (const auto& [dep, waiters] : m_waiters) {
    if (!knows(dep)) missing.push_back(dep);
  }
  std::sort(missing.begin(), missing.end());
  return missing;
}

const Register& ChartDocument::demographic(FieldId field) const {
  auto it = m_demographics.find(field);
  return it == m_demographics.end() ? kEmptyRegister : it->second;
}

const std::map<OpId, Entry>& ChartDocument::entries(Collection c) const {
  return m_entries[static_cast<std::size_t>(c)];
}

const Entry* ChartDocument::findEntry(const OpId& id) const {
  auto it = m_entryIndex.find(id);
  if (it == m_entryIndex.end()) return nullptr;
  return &m_entries[static_cast<std::size_t>(it->second)].at(id);
}

const Register* ChartDocument::findRegister(const FieldRef& ref) const {
  if (ref.collection == Collection::kDemographics) {
    auto it = m_demographics.find(ref.field);
    return it == m_demographics.end() ? nullptr : &it->second;
  }
  const Entry* entry = findEntry(ref.entry);
  if (entry == nullptr || entry->collection != ref.collection) return nullptr;
  if (ref.field == kStatusField) return &entry->status;
  auto it = entry->fields.find(ref.field);
  return it == entry->fields.end() ? nullptr : &it->second;
}

}  // namespace charta::crdt
