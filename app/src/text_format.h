// Text the app shows for times, values and ids.
#pragma once

#include <QString>

#include <cstdint>
#include <optional>
#include <string>

#include "charta/crdt/op_id.h"
#include "charta/crdt/value.h"

namespace charta::app {

// "just now", "5 min ago", "2 h ago", "3 days ago", then the date; a time in
// the future (a skewed clock) is shown as its date and time.
QString relativeTime(std::int64_t nowMs, std::int64_t thenMs);
// A date and time in the locale's short format.
QString dateTimeText(std::int64_t ms);
// A chart value as text for people (null: empty).
QString valueText(const crdt::Value& v);
// Op ids travel through QML as "r<replica>.<seq>".
QString opIdText(const crdt::OpId& id);
std::optional<crdt::OpId> parseOpIdText(const QString& text);
// A number in the locale's format with at most `decimals` decimals.
QString numberText(double value, int decimals = 1);

}  // namespace charta::app
