#include "conflict_list_model.h"

#include <algorithm>

#include "chart_store.h"
#include "text_format.h"

namespace charta::app {

ConflictListModel::ConflictListModel(QObject* parent) : ConflictListModel(ChartStore::instance(), parent) {}

ConflictListModel::ConflictListModel(ChartStore* store, QObject* parent)
    : RowModel({QStringLiteral("patientId"), QStringLiteral("patientName"), QStringLiteral("path"),
                QStringLiteral("clinical"), QStringLiteral("shown"), QStringLiteral("valueCount"),
                QStringLiteral("values")},
               parent),
      m_store(store) {
  if (m_store) {
    connect(m_store, &ChartStore::chartsChanged, this, &ConflictListModel::refresh);
    connect(m_store, &ChartStore::locked, this, &ConflictListModel::refresh);
  }
  refresh();
}

void ConflictListModel::refresh() {
  QList<QVariantMap> rows;
  if (m_store && m_store->unlocked()) {
    for (const auto& s : m_store->summaries()) {
      if (s.openConflicts == 0) continue;
      auto doc = m_store->readChart(s.patient, "conflicts");
      if (!doc.isOk()) continue;
      const QString name = QString::fromStdString(s.familyName).toUpper() + QStringLiteral(", ") +
                           QString::fromStdString(s.givenNames);
      for (const crdt::Conflict& c : doc.value().conflicts()) {
        QStringList values;
        for (const auto& v : c.values) values << valueText(v.value);
        rows.append(QVariantMap{{QStringLiteral("patientId"), QString::fromStdString(s.patient)},
                                {QStringLiteral("patientName"), name},
                                {QStringLiteral("path"), QString::fromStdString(c.path)},
                                {QStringLiteral("clinical"), c.clinical},
                                {QStringLiteral("shown"), valueText(c.shown)},
                                {QStringLiteral("valueCount"), static_cast<int>(c.values.size())},
                                {QStringLiteral("values"), values.join(QStringLiteral(" | "))}});
      }
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const QVariantMap& a, const QVariantMap& b) {
    return a.value(QStringLiteral("clinical")).toBool() && !b.value(QStringLiteral("clinical")).toBool();
  });
  setRows(rows);
}

}  // namespace charta::app
