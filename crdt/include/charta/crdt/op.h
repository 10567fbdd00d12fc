// Op: one change to one patient's chart, and the closed set of op kinds.
//
// Every op carries its globally unique id (device replica + per-device
// sequence), a hybrid logical clock stamp, the user who made it, the patient
// document it changes, and its causal context: the ids of the ops it saw and
// builds on. A document holds an op back until all of them have arrived.
//
// The kinds form one std::variant: adding a kind breaks the build wherever it
// is not handled (std::visit with an overload set). The wire encoding of every
// kind is in docs/FORMAT.md. An op of a kind a newer release added (UnknownOp)
// is carried, not read: stored, relayed and counted, with no effect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "charta/crdt/hlc.h"
#include "charta/crdt/op_id.h"
#include "charta/crdt/schema.h"
#include "charta/crdt/value.h"

namespace charta::crdt {

// Which register a write targets: a demographics field (entry null) or a
// field of one entry of a collection (entry = the id of the AddEntry op).
struct FieldRef {
  Collection collection = Collection::kDemographics;
  OpId entry;
  FieldId field = 0;

  friend bool operator==(const FieldRef&, const FieldRef&) = default;
  friend auto operator<=>(const FieldRef&, const FieldRef&) = default;
};

// "demographics.birthDate", "allergies[r3.17].severity", "medications[r2.4].status"
std::string toPath(const FieldRef& ref);

struct FieldValue {
  FieldId field = 0;
  Value value;
  friend bool operator==(const FieldValue&, const FieldValue&) = default;
};

// Adds an entry (allergy, problem, medication, immunisation, identifier,
// visit). The entry's id is the op's id; its initial fields are writes made by
// this op. Never removed: retraction is a status change.
struct AddEntry {
  Collection collection = Collection::kAllergies;
  std::vector<FieldValue> fields;
  OpId visit;  // the visit it was charted in, or null
  friend bool operator==(const AddEntry&, const AddEntry&) = default;
};

// Writes one register. preds are the writes of that register the author saw
// (its values at the time); they are superseded. A write listing every
// competing value resolves a conflict; reason says why (required for status
// changes that end or retract an entry, and for conflict resolutions made on
// the server).
struct WriteField {
  FieldRef target;
  Value value;
  std::vector<OpId> preds;
  std::string reason;
  friend bool operator==(const WriteField&, const WriteField&) = default;
};

// Appends a vital sign or laboratory result to the observation log.
struct AppendObservation {
  ObservationCategory category = ObservationCategory::kVitalSign;
  std::string code;   // LOINC code, e.g. "8867-4"
  Value value;        // real for quantities, text for coded or free results
  std::string unit;   // UCUM, e.g. "/min"
  std::int64_t effectiveMs = 0;  // when it was measured
  std::optional<double> referenceLow;   // laboratory reference range
  std::optional<double> referenceHigh;
  OpId visit;
  friend bool operator==(const AppendObservation&, const AppendObservation&) = default;
};

// Marks an observation entered-in-error (it stays in the log, flagged).
struct MarkObservationError {
  OpId target;
  std::string reason;
  friend bool operator==(const MarkObservationError&, const MarkObservationError&) = default;
};

// Starts a note draft owned by the op's author; the note's id is the op's id.
struct StartNote {
  std::string text;
  OpId visit;
  friend bool operator==(const StartNote&, const StartNote&) = default;
};

// Replaces the author's draft text; preds are the draft versions seen.
struct EditNote {
  OpId note;
  std::string text;
  std::vector<OpId> preds;
  friend bool operator==(const EditNote&, const EditNote&) = default;
};

// Signs the note with this final text; the note is frozen from then on.
struct SignNote {
  OpId note;
  std::string text;
  std::vector<OpId> preds;
  friend bool operator==(const SignNote&, const SignNote&) = default;
};

// Appends an addendum to a signed note. preds must include a signature; draft
// versions listed in preds (late edits that raced the signature) are settled.
struct AddAddendum {
  OpId note;
  std::string text;
  std::vector<OpId> preds;
  friend bool operator==(const AddAddendum&, const AddAddendum&) = default;
};

// Wire kinds a newer release may add under format major 1 (docs/FORMAT.md,
// "Versioning"): kinds 8-15, whose body needs nothing of the batch it travels
// in (what such an op builds on goes in its context list).
inline constexpr std::uint8_t kFirstNewerOpKind = 8;
inline constexpr std::uint8_t kLastNewerOpKind = 15;

// An op of a kind this release cannot read. Its common fields (id, clock,
// author, patient, context) decode as usual; its body stays the bytes it was
// written with, so the op is stored, relayed and re-encoded unchanged. A
// chart applies it with no effect once its context has arrived, and keeps it
// (ChartDocument::newerOps) so that a release that can read it replays it.
struct UnknownOp {
  std::uint8_t kind = kFirstNewerOpKind;  // the wire kind, 8-15
  std::string body;                       // the op payload after the common fields
  friend bool operator==(const UnknownOp&, const UnknownOp&) = default;
};

using OpBody = std::variant<AddEntry, WriteField, AppendObservation, MarkObservationError, StartNote, EditNote,
                            SignNote, AddAddendum, UnknownOp>;

enum class OpKind : std::uint8_t {
  kAddEntry = 0,
  kWriteField = 1,
  kAppendObservation = 2,
  kMarkObservationError = 3,
  kStartNote = 4,
  kEditNote = 5,
  kSignNote = 6,
  kAddAddendum = 7,
  kUnknown = 8,  // UnknownOp: one of the wire kinds 8-15, carried unread
};
inline OpKind kindOf(const OpBody& body) { return static_cast<OpKind>(body.index()); }
std::string_view opKindName(OpKind kind);

// Author and patient ids are short identifiers (a user id, a patient uuid).
// The bound keeps batch decoding linear in its input (a batch repeats a table
// string once per op); documents reject ops with longer ids.
inline constexpr std::size_t kMaxIdBytes = 256;

struct Op {
  OpId id;
  Hlc hlc;
  std::string author;   // user id
  std::string patient;  // patient document id
  // Extra causal context beyond what the body names (usually empty).
  std::vector<OpId> context;
  OpBody body;

  ReplicaId device() const { return id.replica; }
  friend bool operator==(const Op&, const Op&) = default;
};

// Helper for std::visit over OpBody.
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Calls f(const OpId&) on every op id the op refers to (not its own id): the
// extra context, then the body's entry, note, visit, target and preds. Null
// ids are passed too (an unset visit, a demographics target's entry).
template <typename F>
void forEachReference(const Op& op, F&& f) {
  for (const OpId& id : op.context) f(id);
  auto all = [&f](const std::vector<OpId>& ids) {
    for (const OpId& id : ids) f(id);
  };
  std::visit(Overloaded{
                 [&](const AddEntry& b) { f(b.visit); },
                 [&](const WriteField& b) {
                   f(b.target.entry);
                   all(b.preds);
                 },
                 [&](const AppendObservation& b) { f(b.visit); },
                 [&](const MarkObservationError& b) { f(b.target); },
                 [&](const StartNote& b) { f(b.visit); },
                 [&](const EditNote& b) {
                   f(b.note);
                   all(b.preds);
                 },
                 [&](const SignNote& b) {
                   f(b.note);
                   all(b.preds);
                 },
                 [&](const AddAddendum& b) {
                   f(b.note);
                   all(b.preds);
                 },
                 [](const UnknownOp&) {},  // it names what it builds on in the context
             },
             op.body);
}

// Every op id this op needs before it can apply (forEachReference without the
// null ids), sorted, without duplicates.
std::vector<OpId> dependenciesOf(const Op& op);

}  // namespace charta::crdt
