// Random causal histories of writes to one Register, for property tests.
//
// A few writers each know a causally closed set of writes; a writer writes
// with preds = the heads of what it knows (sometimes only some of them), or
// learns everything another writer knows. Stamps behave like hybrid clocks:
// ahead of the preds, except for a writer whose clock refused a stamp too far
// ahead (then the write's stamp is behind a pred's, as OpFactory makes it).
// Forward-only registers also get writes that go back from a status they saw:
// those are invalid and kept apart.
#pragma once

#include <cstddef>
#include <vector>

#include "charta/crdt/register.h"
#include "reference_model.h"
#include "rng.h"

namespace charta::convergence {

struct RegisterHistory {
  crdt::RegisterKind kind = crdt::RegisterKind::kMultiValue;
  std::vector<ModelWrite> valid;    // in generation order (causal)
  std::vector<ModelWrite> invalid;  // forward-only writes that go back
  std::size_t skewedStamps = 0;     // valid writes stamped behind a pred
};

RegisterHistory randomRegisterHistory(crdt::RegisterKind kind, Rng& rng);

// The model of the valid writes.
ModelRegister modelOf(const RegisterHistory& h);

}  // namespace charta::convergence
