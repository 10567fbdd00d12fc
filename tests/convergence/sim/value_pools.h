// Value pools: plausible clinical values for the simulator to write.
//
// Pools are deliberately small so that concurrent writes often agree (which
// is not a conflict) and often disagree (which is one). Every value has the
// kind the schema asks for, except wrongKindValue's, which never does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "charta/crdt/op.h"
#include "charta/crdt/schema.h"
#include "rng.h"

namespace charta::convergence {

// A field id no build knows (a newer peer's field): merged as a clinical
// multi-value register, any value kind accepted.
inline constexpr crdt::FieldId kUnknownFieldId = 200;

// A value of the field's kind (sometimes null, which is always allowed).
crdt::Value plausibleValue(crdt::Collection c, crdt::FieldId f, Rng& rng);
// A non-null value of a kind the field does not take.
// REQUIRES: the field is known and its kind is not kNull.
crdt::Value wrongKindValue(crdt::Collection c, crdt::FieldId f, Rng& rng);

// The writable fields of a collection (every known field but the status).
std::vector<crdt::FieldId> writableFields(crdt::Collection c);
// The fields of a new entry: a few writable ones with plausible values.
std::vector<crdt::FieldValue> initialFields(crdt::Collection c, Rng& rng);

// Every status value the collection allows / does not allow.
std::vector<std::int64_t> allowedStatuses(crdt::Collection c);
std::vector<std::int64_t> disallowedStatuses(crdt::Collection c);

crdt::AppendObservation vitalSign(Rng& rng, std::int64_t effectiveMs);
crdt::AppendObservation labResult(Rng& rng, std::int64_t effectiveMs);

std::string noteText(Rng& rng);
std::string reasonText(Rng& rng);

}  // namespace charta::convergence
