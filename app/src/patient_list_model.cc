#include "patient_list_model.h"

#include <algorithm>
#include <set>

#include "chart_store.h"
#include "charta/crdt/clinical_rules.h"

namespace charta::app {

QString foldForSearch(const QString& text) {
  const QString decomposed = text.normalized(QString::NormalizationForm_KD);
  QString out;
  out.reserve(decomposed.size());
  for (const QChar c : decomposed) {
    if (c.category() == QChar::Mark_NonSpacing) continue;
    out.append(c.toLower());
  }
  return out;
}

namespace {

QString displayNameOf(const sync::PatientSummary& s) {
  const QString family = QString::fromStdString(s.familyName);
  const QString given = QString::fromStdString(s.givenNames);
  if (family.isEmpty() && given.isEmpty()) return QObject::tr("(no name recorded)");
  if (given.isEmpty()) return family.toUpper();
  return family.toUpper() + QStringLiteral(", ") + given;
}

QString identifierText(const std::string& systemValue) {
  const auto bar = systemValue.find('|');
  const std::string value = bar == std::string::npos ? systemValue : systemValue.substr(bar + 1);
  return QString::fromStdString(value);
}

}  // namespace

PatientListModel::PatientListModel(QObject* parent) : PatientListModel(ChartStore::instance(), parent) {}

PatientListModel::PatientListModel(ChartStore* store, QObject* parent) : QAbstractListModel(parent), m_store(store) {
  if (m_store) {
    connect(m_store, &ChartStore::chartsChanged, this, &PatientListModel::refresh);
    connect(m_store, &ChartStore::locked, this, &PatientListModel::refresh);
    connect(m_store, &ChartStore::stateChanged, this, &PatientListModel::refresh);
  }
  refresh();
}

void PatientListModel::setQuery(const QString& query) {
  if (query == m_query) return;
  m_query = query;
  emit queryChanged();
  applyFilter();
}

void PatientListModel::setFilter(const QString& filter) {
  if (filter == m_filter) return;
  m_filter = filter;
  emit filterChanged();
  applyFilter();
}

void PatientListModel::refresh() {
  std::vector<Row> rows;
  m_unreadable = 0;
  m_user = m_store && m_store->replica() ? m_store->replica()->currentUser() : std::string();
  if (m_store && m_store->unlocked()) {
    const std::string today = m_store->today().toStdString();
    std::set<std::string> breakGlass;
    for (const sync::BreakGlassInfo& info : m_store->replica()->breakGlassCopies()) breakGlass.insert(info.patient);
    for (auto& s : m_store->summaries(&m_unreadable)) {
      Row row;
      row.breakGlass = breakGlass.count(s.patient) > 0;
      row.displayName = displayNameOf(s);
      if (auto age = rules::ageAt(s.birthDate, today)) row.age = QString::fromStdString(age->label);
      QStringList parts{QString::fromStdString(s.familyName), QString::fromStdString(s.givenNames),
                        QString::fromStdString(s.birthDate)};
      for (const auto& id : s.identifiers) parts << identifierText(id);
      row.searchText = foldForSearch(parts.join(QLatin1Char(' ')));
      row.summary = std::move(s);
      rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      const int c = QString::localeAwareCompare(a.displayName, b.displayName);
      return c != 0 ? c < 0 : a.summary.patient < b.summary.patient;
    });
  }
  beginResetModel();
  m_visible.clear();
  m_all = std::move(rows);
  endResetModel();
  applyFilter();
}

bool PatientListModel::matches(const Row& row, const QStringList& words) const {
  if (m_filter == QLatin1String("attention") && row.summary.pendingOps == 0 && row.summary.openConflicts == 0) {
    return false;
  }
  if (m_filter == QLatin1String("caseload") &&
      std::find(row.summary.chartedBy.begin(), row.summary.chartedBy.end(), m_user) == row.summary.chartedBy.end()) {
    return false;
  }
  for (const QString& word : words) {
    // A word matches the start of any word of the row (names, date, ids), or
    // anywhere inside an identifier or date (digits).
    qsizetype at = row.searchText.indexOf(word);
    bool found = false;
    while (at >= 0 && !found) {
      found = at == 0 || !row.searchText.at(at - 1).isLetter() || word.front().isDigit();
      if (!found) at = row.searchText.indexOf(word, at + 1);
    }
    if (!found) return false;
  }
  return true;
}

void PatientListModel::applyFilter() {
  const QStringList words = foldForSearch(m_query).split(QLatin1Char(' '), Qt::SkipEmptyParts);
  std::vector<const Row*> visible;
  for (const Row& row : m_all) {
    if (matches(row, words)) visible.push_back(&row);
  }
  const bool changed = visible != m_visible;
  if (changed) {
    beginResetModel();
    m_visible = std::move(visible);
    endResetModel();
  }
  emit countChanged();
}

QString PatientListModel::patientIdAt(int row) const {
  if (row < 0 || row >= count()) return {};
  return QString::fromStdString(m_visible[static_cast<std::size_t>(row)]->summary.patient);
}

int PatientListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : count(); }

QVariant PatientListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& row = *m_visible[static_cast<std::size_t>(index.row())];
  const sync::PatientSummary& s = row.summary;
  switch (role) {
    case Qt::DisplayRole:
    case kDisplayNameRole:
      return row.displayName;
    case kPatientIdRole:
      return QString::fromStdString(s.patient);
    case kFamilyNameRole:
      return QString::fromStdString(s.familyName);
    case kGivenNamesRole:
      return QString::fromStdString(s.givenNames);
    case kBirthDateRole:
      return QString::fromStdString(s.birthDate);
    case kAgeRole:
      return row.age;
    case kSexRole:
      return QString::fromStdString(s.sex);
    case kIdentifiersRole: {
      QStringList ids;
      for (const auto& id : s.identifiers) ids << identifierText(id);
      return ids.join(QStringLiteral(", "));
    }
    case kAllergyBadgeRole: {
      if (!s.allergies.empty()) {
        QStringList names;
        for (const auto& a : s.allergies) names << QString::fromStdString(a);
        return names.join(QStringLiteral(", "));
      }
      if (s.noKnownAllergies.value_or(false)) return tr("No known allergies");
      return tr("Allergies not recorded");
    }
    case kAllergyStateRole:
      if (!s.allergies.empty()) return QStringLiteral("allergies");
      return s.noKnownAllergies.value_or(false) ? QStringLiteral("none") : QStringLiteral("unknown");
    case kUnsyncedRole:
      return s.pendingOps > 0;
    case kBreakGlassRole:
      return row.breakGlass;
    case kConflictedRole:
      return s.openConflicts > 0;
    default:
      return {};
  }
}

QHash<int, QByteArray> PatientListModel::roleNames() const {
  return {{kPatientIdRole, "patientId"},     {kDisplayNameRole, "displayName"}, {kFamilyNameRole, "familyName"},
          {kGivenNamesRole, "givenNames"},   {kBirthDateRole, "birthDate"},     {kAgeRole, "age"},
          {kSexRole, "sex"},                 {kIdentifiersRole, "identifiers"}, {kAllergyBadgeRole, "allergyBadge"},
          {kAllergyStateRole, "allergyState"}, {kUnsyncedRole, "unsynced"},     {kConflictedRole, "conflicted"},
          {kBreakGlassRole, "breakGlass"}};
}

}  // namespace charta::app
