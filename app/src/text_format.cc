#include "text_format.h"

#include <QDateTime>
#include <QLocale>

namespace charta::app {

QString relativeTime(std::int64_t nowMs, std::int64_t thenMs) {
  const std::int64_t diff = nowMs - thenMs;
  if (diff < -60'000) return dateTimeText(thenMs);
  const std::int64_t minutes = diff / 60'000;
  if (minutes < 1) return QObject::tr("just now");
  if (minutes < 60) return QObject::tr("%1 min ago").arg(minutes);
  const std::int64_t hours = minutes / 60;
  if (hours < 24) return QObject::tr("%1 h ago").arg(hours);
  const std::int64_t days = hours / 24;
  if (days < 14) return QObject::tr("%n day(s) ago", nullptr, static_cast<int>(days));
  return QLocale().toString(QDateTime::fromMSecsSinceEpoch(thenMs).date(), QLocale::ShortFormat);
}

QString dateTimeText(std::int64_t ms) {
  return QLocale().toString(QDateTime::fromMSecsSinceEpoch(ms), QLocale::ShortFormat);
}

QString valueText(const crdt::Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return {};
  if (const auto* b = std::get_if<bool>(&v)) return *b ? QObject::tr("yes") : QObject::tr("no");
  if (const auto* d = std::get_if<double>(&v)) return numberText(*d, 2);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return QLocale().toString(static_cast<qlonglong>(*i));
  return QString::fromStdString(std::get<std::string>(v));
}

QString opIdText(const crdt::OpId& id) { return QString::fromStdString(crdt::toString(id)); }

std::optional<crdt::OpId> parseOpIdText(const QString& text) {
  if (!text.startsWith(QLatin1Char('r'))) return std::nullopt;
  const qsizetype dot = text.indexOf(QLatin1Char('.'));
  if (dot < 2) return std::nullopt;
  bool okReplica = false, okSeq = false;
  const qulonglong replica = text.mid(1, dot - 1).toULongLong(&okReplica);
  const qulonglong seq = text.mid(dot + 1).toULongLong(&okSeq);
  if (!okReplica || !okSeq || seq == 0) return std::nullopt;
  crdt::OpId id;
  id.replica.value = replica;
  id.seq = seq;
  return id;
}

QString numberText(double value, int decimals) {
  QString s = QLocale().toString(value, 'f', decimals);
  // Trailing zeros after the decimal point say nothing: "120.00" -> "120", "37.50" -> "37.5".
  const QString point = QLocale().decimalPoint();
  if (decimals > 0 && s.contains(point)) {
    while (s.endsWith(QLatin1Char('0'))) s.chop(1);
    if (s.endsWith(point)) s.chop(point.size());
  }
  return s;
}

}  // namespace charta::app
