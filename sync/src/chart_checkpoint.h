// Chart checkpoints: a chart's materialised state as bytes, so that opening
// a chart opens one sealed row and applies only the ops stored after it,
// instead of replaying the whole history.
//
// On-device only: the bytes are a Boost.Serialization binary archive, which
// is not portable between machines or builds (never on the wire, never in
// the server's store). A checkpoint is a cache: one that does not decode (a
// format of another build, a Boost upgrade) is dropped by the caller, which
// replays the chart from its ops and writes a new one.
//
// Thread-safety: functions of values.
#pragma once

#include <string>
#include <string_view>

#include "charta/crdt/chart_document.h"
#include "charta/crdt/status.h"

namespace charta::sync {

// The bytes of a chart's state (ChartDocument::snapshot()).
std::string encodeCheckpoint(const crdt::ChartDocument& doc);

// The chart back. kCorruption (with the reason) when the bytes are not a
// checkpoint of this format, are cut short, or describe another patient or a
// state that contradicts itself; kUnsupportedVersion for another format.
crdt::Result<crdt::ChartDocument> decodeCheckpoint(std::string_view bytes, std::string_view patient);

}  // namespace charta::sync
