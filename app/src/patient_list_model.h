// PatientListModel: the patients on this tablet, searched as the nurse types.
//
// Rows come from the sealed patient summaries (no chart is opened, nothing
// is audited): name, birth date, age, sex, identifiers, an allergy badge and
// whether the chart has unsynced edits or an open conflict, or is a
// read-only break-glass copy of another clinic's chart. The query matches
// family and given names (any word, from its start, without case or
// accents), a birth date (YYYY-MM-DD or its start) and identifiers (any part
// of the value). filter: "all" (the clinic's patients on this tablet),
// "caseload" (charts the current user has charted in), or "attention"
// (unsynced edits or a conflict).
// Refreshes itself when the store's charts change; empty while locked.
#pragma once

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <vector>

#include "charta/sync/replica.h"

namespace charta::app {

class ChartStore;

class PatientListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(QString query READ query WRITE setQuery NOTIFY queryChanged)
  Q_PROPERTY(QString filter READ filter WRITE setFilter NOTIFY filterChanged)
  Q_PROPERTY(int count READ count NOTIFY countChanged)
  Q_PROPERTY(int total READ total NOTIFY countChanged)
  Q_PROPERTY(int unreadable READ unreadable NOTIFY countChanged)

 public:
  enum Role {
    kPatientIdRole = Qt::UserRole + 1,
    kDisplayNameRole,
    kFamilyNameRole,
    kGivenNamesRole,
    kBirthDateRole,
    kAgeRole,
    kSexRole,
    kIdentifiersRole,
    kAllergyBadgeRole,
    kAllergyStateRole,  // "allergies", "none" (no known allergies), "unknown" (not recorded)
    kUnsyncedRole,
    kConflictedRole,
    kBreakGlassRole,  // a read-only copy of another clinic's chart (ChartStore::breakGlass)
  };
  Q_ENUM(Role)

  // Uses ChartStore::instance() when store is null (QML).
  explicit PatientListModel(QObject* parent = nullptr);
  PatientListModel(ChartStore* store, QObject* parent);

  QString query() const { return m_query; }
  void setQuery(const QString& query);
  QString filter() const { return m_filter; }
  void setFilter(const QString& filter);
  int count() const { return static_cast<int>(m_visible.size()); }
  int total() const { return static_cast<int>(m_all.size()); }
  int unreadable() const { return static_cast<int>(m_unreadable); }

  // Reloads the summaries from the store.
  Q_INVOKABLE void refresh();
  Q_INVOKABLE QString patientIdAt(int row) const;

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

 signals:
  void queryChanged();
  void filterChanged();
  void countChanged();

 private:
  struct Row {
    sync::PatientSummary summary;
    QString displayName;
    QString age;
    QString searchText;  // folded names, birth date, identifiers
    bool breakGlass = false;
  };
  void applyFilter();
  bool matches(const Row& row, const QStringList& words) const;

  ChartStore* m_store;
  QString m_query;
  QString m_filter = QStringLiteral("all");
  std::vector<Row> m_all;
  std::vector<const Row*> m_visible;
  std::size_t m_unreadable = 0;
  std::string m_user;  // the current user, for the caseload filter
};

// Lower case, Latin accents removed, for search ("Müller" -> "muller").
QString foldForSearch(const QString& text);

}  // namespace charta::app
