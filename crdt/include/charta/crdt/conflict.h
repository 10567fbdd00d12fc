// Conflict: a field whose concurrent writes disagree and need a person.
#pragma once

#include <string>
#include <vector>

#include "charta/crdt/op.h"

namespace charta::crdt {

struct ConflictValue {
  Value value;
  OpId op;
  std::string author;
  ReplicaId device;
  Hlc hlc;
  std::string reason;
};

struct Conflict {
  std::string patient;
  FieldRef field;      // for a note: collection kDemographics is not used; see isNote
  bool isNote = false; // true: field.entry is the note id, the values are draft texts
  std::string path;    // "allergies[r3.17].severity", "notes[r2.9].text"
  bool clinical = true;
  // The value a view shows meanwhile (the forward-only winner, or the latest).
  Value shown;
  std::vector<ConflictValue> values;  // sorted by (hlc, op id)
};

}  // namespace charta::crdt
