// RowModel: a list model whose rows are maps from role name to value.
//
// Controllers fill it with rows they computed (entries of a chart section,
// vital signs, notes, conflicts...); QML delegates read the roles by name.
// The role names are fixed at construction, so a view can rely on them even
// while the model is empty.
#pragma once

#include <QAbstractListModel>
#include <QStringList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace charta::app {

class RowModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  QML_ANONYMOUS
  Q_PROPERTY(int count READ count NOTIFY countChanged)

 public:
  explicit RowModel(QStringList roles, QObject* parent = nullptr);

  // Replaces every row (rows missing a role read as undefined).
  void setRows(QList<QVariantMap> rows);
  void clear() { setRows({}); }
  const QList<QVariantMap>& rows() const { return m_rows; }

  int count() const { return static_cast<int>(m_rows.size()); }
  // The row as a map (an empty map outside the range).
  Q_INVOKABLE QVariantMap get(int row) const;

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

 signals:
  void countChanged();

 private:
  QStringList m_roles;
  QList<QVariantMap> m_rows;
};

}  // namespace charta::app
