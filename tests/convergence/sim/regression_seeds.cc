#include "regression_seeds.h"

namespace charta::convergence {

namespace {
constexpr RegressionSeed kSeeds[] = {
    // {seed, "what it found"},
    {2541, "divergence: a last-writer-wins field depends on delivery order when a write is stamped behind its pred"},
    {542, "a last-writer-wins field shows a write stamped behind the one it replaced, not the latest write"},
    {291, "an addendum naming one of two concurrent signatures hides the other signed text (no conflict listed)"},
    {552, "an addendum that saw only the signature hides a late edit that raced it (no conflict listed)"},
    {237, "SignNote after an addendum accepted: a signed note is signed again with other text"},
};
}  // namespace

std::span<const RegressionSeed> regressionSeeds() { return kSeeds; }

}  // namespace charta::convergence
