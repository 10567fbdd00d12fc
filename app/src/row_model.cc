#include "row_model.h"

namespace charta::app {

RowModel::RowModel(QStringList roles, QObject* parent) : QAbstractListModel(parent), m_roles(std::move(roles)) {}

void RowModel::setRows(QList<QVariantMap> rows) {
  const bool countChanges = rows.size() != m_rows.size();
  beginResetModel();
  m_rows = std::move(rows);
  endResetModel();
  if (countChanges) emit countChanged();
}

QVariantMap RowModel::get(int row) const {
  if (row < 0 || row >= m_rows.size()) return {};
  return m_rows.at(row);
}

int RowModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant RowModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const int r = role - Qt::UserRole;
  if (r < 0 || r >= m_roles.size()) {
    if (role == Qt::DisplayRole && !m_roles.isEmpty()) return m_rows.at(index.row()).value(m_roles.first());
    return {};
  }
  return m_rows.at(index.row()).value(m_roles.at(r));
}

QHash<int, QByteArray> RowModel::roleNames() const {
  QHash<int, QByteArray> names;
  for (int i = 0; i < m_roles.size(); ++i) names.insert(Qt::UserRole + i, m_roles.at(i).toUtf8());
  return names;
}

}  // namespace charta::app
