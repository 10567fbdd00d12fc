// Comparison of a ChartDocument with the ReferenceModel. It appends
// human-readable findings to a Failures list; `label` ("seed 42 patient-1
// r7") starts every finding.
#pragma once

#include <string>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "reference_model.h"
#include "report.h"

namespace charta::convergence {

// Registers (heads, values, conflicted(), current()), entries, observations
// and error marks, notes (drafts, signatures, addenda, text()), and the
// conflict listing: every clinical field whose heads disagree must be listed
// (else a silent overwrite, counted), and nothing else may be.
void checkAgainstModel(const crdt::ChartDocument& doc, const ReferenceModel& model, const std::string& label,
                       Failures& failures, Counters& counters);

// "{r1.2, r7.3}"
std::string listIds(const std::vector<crdt::OpId>& ids);

}  // namespace charta::convergence
