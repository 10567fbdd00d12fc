// One-line descriptions of ops, for failure reports and history dumps.
#pragma once

#include <string>

#include "charta/crdt/op.h"

namespace charta::convergence {

// "r7.3 @1709280000000.0 nurse-1 WriteField demographics.sex=female preds {r2.1}"
std::string describeOp(const crdt::Op& op);

}  // namespace charta::convergence
