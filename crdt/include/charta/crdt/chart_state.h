// The materialised parts of a chart: entries, observations and notes.
//
// These are plain views that ChartDocument builds and keeps; callers read them
// through ChartDocument's accessors. Maps are ordered by op id so iteration is
// deterministic on every replica.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <vector>
#include <string>

#include "charta/crdt/hlc.h"
#include "charta/crdt/op.h"
#include "charta/crdt/register.h"

namespace charta::crdt {

// One allergy, problem, medication, immunisation, identifier or visit.
struct Entry {
  OpId id;  // the AddEntry op
  Collection collection = Collection::kAllergies;
  std::string author;
  Hlc created;
  OpId visit;
  Register status;                     // field 0
  std::map<FieldId, Register> fields;  // every other field ever written

  // Current status (initialStatus() when unset... never: AddEntry sets it).
  std::int64_t currentStatus() const;
  // The shown value of a field, or null when never written.
  Value fieldValue(FieldId f) const;
};

struct Observation {
  OpId id;
  std::string author;
  Hlc hlc;
  AppendObservation data;
  // Entered-in-error marks (op id -> reason); flagged when non-empty.
  std::map<OpId, std::string> errorMarks;

  bool enteredInError() const { return !errorMarks.empty(); }
};

struct Addendum {
  OpId id;
  std::string author;
  Hlc hlc;
  std::string text;
};

struct Note {
  OpId id;  // the StartNote op
  std::string author;
  Hlc created;
  OpId visit;
  // Draft versions not superseded. Signing writes the signed text here too and
  // nothing ever supersedes a signature (edits and signatures that saw one are
  // rejected), so an edit that raced a signature stays visible beside it.
  Register draft;
  // Signatures (op id -> write); the note is signed when non-empty.
  std::map<OpId, RegisterWrite> signatures;
  std::map<OpId, Addendum> addenda;
  // Signatures that an addendum named: a second, concurrent signature settled.
  std::set<OpId> acknowledged;

  bool isSigned() const { return !signatures.empty(); }
  // The signed text (latest signature by (hlc, id)), else the current draft.
  const std::string& text() const;
  // The signature whose text is shown. REQUIRES: isSigned()
  const RegisterWrite& shownSignature() const;
  // The draft versions that still compete: unsigned heads, signatures no
  // addendum settled, and the shown signature. A conflict when their texts differ.
  std::vector<RegisterWrite> openVersions() const;
};

}  // namespace charta::crdt
