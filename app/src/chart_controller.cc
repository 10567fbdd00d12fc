#include "chart_controller.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <algorithm>
#include <cmath>

#include "chart_store.h"
#include "charta/crdt/clinical_rules.h"
#include "text_format.h"

namespace charta::app {

using crdt::ChartDocument;
using crdt::Collection;
using crdt::EntryStatus;
using crdt::FieldRef;
using crdt::FieldValue;
using crdt::Op;
using crdt::OpFactory;
using crdt::OpId;
using crdt::Value;
namespace field = crdt::field;

namespace {

// Roles of each section's rows.
const QStringList kEntryRoles{QStringLiteral("entryId"),  QStringLiteral("display"), QStringLiteral("detail"),
                              QStringLiteral("status"),   QStringLiteral("statusCode"), QStringLiteral("statusReason"),
                              QStringLiteral("active"),   QStringLiteral("conflicted"), QStringLiteral("author"),
                              QStringLiteral("when"),     QStringLiteral("inVisit"), QStringLiteral("criticality")};
const QStringList kVisitRoles{QStringLiteral("entryId"), QStringLiteral("setting"), QStringLiteral("reason"),
                              QStringLiteral("location"), QStringLiteral("start"), QStringLiteral("end"),
                              QStringLiteral("open"), QStringLiteral("status"), QStringLiteral("author"),
                              QStringLiteral("itemCount")};
const QStringList kObservationRoles{QStringLiteral("observationId"), QStringLiteral("code"), QStringLiteral("name"),
                                    QStringLiteral("value"), QStringLiteral("unit"), QStringLiteral("when"),
                                    QStringLiteral("effectiveMs"), QStringLiteral("enteredInError"),
                                    QStringLiteral("errorReason"), QStringLiteral("flag"), QStringLiteral("reference"),
                                    QStringLiteral("author")};
const QStringList kNoteRoles{QStringLiteral("noteId"),   QStringLiteral("text"),     QStringLiteral("signed"),
                             QStringLiteral("author"),   QStringLiteral("when"),     QStringLiteral("signedBy"),
                             QStringLiteral("signedWhen"), QStringLiteral("addenda"), QStringLiteral("editable"),
                             QStringLiteral("conflicted")};
const QStringList kDueRoles{QStringLiteral("name"), QStringLiteral("kind"), QStringLiteral("dose"),
                            QStringLiteral("state"), QStringLiteral("dueDate"), QStringLiteral("doneDate")};
const QStringList kConflictRoles{QStringLiteral("path"), QStringLiteral("label"), QStringLiteral("clinical"),
                                 QStringLiteral("shown"), QStringLiteral("values"), QStringLiteral("isNote")};

QString qs(const std::string& s) { return QString::fromStdString(s); }

QString hlcText(const crdt::Hlc& hlc) { return dateTimeText(static_cast<std::int64_t>(hlc.wallMs)); }

std::string textOf(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

std::string nameOfCode(std::string_view systemCode) {
  const auto bar = systemCode.find('|');
  return std::string(bar == std::string_view::npos ? systemCode : systemCode.substr(bar + 1));
}

QString statusText(std::int64_t status) {
  switch (static_cast<EntryStatus>(status)) {
    case EntryStatus::kActive: return QObject::tr("active");
    case EntryStatus::kInactive: return QObject::tr("inactive");
    case EntryStatus::kResolved: return QObject::tr("resolved");
    case EntryStatus::kOnHold: return QObject::tr("on hold");
    case EntryStatus::kCompleted: return QObject::tr("completed");
    case EntryStatus::kStopped: return QObject::tr("stopped");
    case EntryStatus::kNotDone: return QObject::tr("not done");
    case EntryStatus::kEnteredInError: return QObject::tr("entered in error");
    case EntryStatus::kPlanned: return QObject::tr("planned");
    case EntryStatus::kInProgress: return QObject::tr("in progress");
    case EntryStatus::kFinished: return QObject::tr("finished");
    case EntryStatus::kCancelled: return QObject::tr("cancelled");
  }
  return QObject::tr("unknown");
}

bool entryConflicted(const crdt::Entry& e) {
  if (e.status.conflicted()) return true;
  return std::any_of(e.fields.begin(), e.fields.end(), [](const auto& f) { return f.second.conflicted(); });
}

QString fieldLabel(const crdt::Conflict& c, const ChartDocument& doc) {
  if (c.isNote) return QObject::tr("Note text");
  const auto spec = crdt::findField(c.field.collection, c.field.field);
  const QString fieldName = spec ? qs(std::string(spec->name)) : QString::number(c.field.field);
  if (c.field.collection == Collection::kDemographics) return fieldName;
  QString entry = qs(std::string(crdt::collectionName(c.field.collection)));
  if (const crdt::Entry* e = doc.findEntry(c.field.entry)) {
    const std::string display = textOf(e->fieldValue(field::kDisplay));
    if (!display.empty()) entry = qs(display);
  }
  return entry + QStringLiteral(": ") + fieldName;
}

QString observationName(const std::string& code) {
  if (code == rules::kVisionScreeningCode) return QObject::tr("Vision screening");
  if (code == rules::kHearingScreeningCode) return QObject::tr("Hearing screening");
  return qs(code);
}

std::optional<double> parseNumber(const QString& text) {
  bool ok = false;
  QString t = text.trimmed();
  double v = QLocale().toDouble(t, &ok);
  if (!ok) v = t.replace(QLatin1Char(','), QLatin1Char('.')).toDouble(&ok);
  if (!ok || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

ChartController::ChartController(QObject* parent) : ChartController(ChartStore::instance(), parent) {}

ChartController::ChartController(ChartStore* store, QObject* parent)
    : QObject(parent),
      m_store(store),
      m_allergies(new RowModel(kEntryRoles, this)),
      m_problems(new RowModel(kEntryRoles, this)),
      m_medications(new RowModel(kEntryRoles, this)),
      m_immunisations(new RowModel(kEntryRoles, this)),
      m_visits(new RowModel(kVisitRoles, this)),
      m_vitals(new RowModel(kObservationRoles, this)),
      m_results(new RowModel(kObservationRoles, this)),
      m_notes(new RowModel(kNoteRoles, this)),
      m_dueItems(new RowModel(kDueRoles, this)),
      m_conflicts(new RowModel(kConflictRoles, this)) {
  if (m_store) {
    connect(m_store, &ChartStore::locked, this, &ChartController::clearAll);
    connect(m_store, &ChartStore::chartsChanged, this, [this](const QStringList& patients) {
      if (m_patientId.isEmpty()) return;
      // A sync (empty list) or another page's edit of this chart.
      if (patients.isEmpty() || patients.contains(m_patientId)) reload();
    });
  }
}

void ChartController::setPatientId(const QString& id) {
  if (id == m_patientId) return;
  m_patientId = id;
  emit patientIdChanged();
  if (!m_store || id.isEmpty()) {
    clearAll();
    return;
  }
  auto doc = m_store->readChart(id.toStdString(), "view");
  if (!doc.isOk()) {
    clearAll();
    m_loadError = tr("This chart cannot be shown: %1").arg(qs(doc.status().message()));
    emit chartChanged();
    return;
  }
  m_doc = std::move(doc).value();
  m_loadError.clear();
  updateBreakGlass();
  rebuild();
}

void ChartController::updateBreakGlass() {
  m_breakGlassText.clear();
  if (!m_store || m_patientId.isEmpty()) return;
  const QVariantMap info = m_store->breakGlassInfo(m_patientId);
  if (!info.value("active").toBool()) return;
  m_breakGlassText = tr("Break-glass access to a patient of clinic %1 by %2: \"%3\". Read-only on this tablet, "
                        "removed at %4. Recorded in the audit trail.")
                         .arg(info.value("clinic").toString(), info.value("user").toString(),
                              info.value("reason").toString(), info.value("expiresAt").toString());
}

void ChartController::reload() {
  if (!m_store || m_patientId.isEmpty() || !m_store->unlocked()) return;
  // The nurse already opened this chart (and the audit trail has it): a
  // refresh after an edit or a sync is not another read.
  auto doc = m_store->readChart(m_patientId.toStdString(), "");
  if (!doc.isOk()) {
    m_loadError = tr("This chart cannot be shown: %1").arg(qs(doc.status().message()));
    m_doc.reset();
  } else {
    m_doc = std::move(doc).value();
    m_loadError.clear();
  }
  updateBreakGlass();
  rebuild();
}

void ChartController::clearAll() {
  m_doc.reset();
  m_breakGlassText.clear();
  m_conflictList.clear();
  m_pendingEdits = 0;
  for (RowModel* m : {m_allergies, m_problems, m_medications, m_immunisations, m_visits, m_vitals, m_results, m_notes,
                      m_dueItems, m_conflicts}) {
    m->clear();
  }
  emit chartChanged();
}

QString ChartController::demographicText(int f) const {
  if (!m_doc) return {};
  const crdt::Register& r = m_doc->demographic(static_cast<crdt::FieldId>(f));
  if (r.empty()) return {};
  return valueText(r.current().value);
}

QString ChartController::displayName() const {
  if (!m_doc) return {};
  const QString family = familyName(), given = givenNames();
  if (family.isEmpty() && given.isEmpty()) return tr("(no name recorded)");
  return given.isEmpty() ? family.toUpper() : family.toUpper() + QStringLiteral(", ") + given;
}

QString ChartController::age() const {
  if (!m_doc || !m_store) return {};
  auto a = rules::ageAt(birthDate().toStdString(), m_store->today().toStdString());
  return a ? qs(a->label) : QString();
}

QString ChartController::identifiers() const {
  if (!m_doc) return {};
  QStringList out;
  for (const auto& [id, e] : m_doc->entries(Collection::kIdentifiers)) {
    if (e.currentStatus() != static_cast<std::int64_t>(EntryStatus::kActive)) continue;
    out << valueText(e.fieldValue(field::kIdentifierValue));
  }
  return out.join(QStringLiteral(", "));
}

QString ChartController::allergyState() const {
  if (!m_doc) return QStringLiteral("unknown");
  for (const auto& [id, e] : m_doc->entries(Collection::kAllergies)) {
    if (e.currentStatus() == static_cast<std::int64_t>(EntryStatus::kActive)) return QStringLiteral("allergies");
  }
  const crdt::Register& nka = m_doc->demographic(field::kNoKnownAllergies);
  if (!nka.empty()) {
    if (const auto* b = std::get_if<bool>(&nka.current().value); b && *b) return QStringLiteral("none");
  }
  return QStringLiteral("unknown");
}

QString ChartController::newerChangesText() const {
  const std::size_t n = m_doc ? m_doc->newerOps().size() : 0;
  if (n == 0) return {};
  const QString what = n == 1 ? tr("1 change to this chart was made with a newer version of Charta and is not shown "
                                   "here.")
                              : tr("%1 changes to this chart were made with a newer version of Charta and are not "
                                   "shown here.")
                                    .arg(n);
  return what + QLatin1Char(' ') +
         tr("Nothing is lost: they are kept and synced. Update Charta on this tablet to see them.");
}

QString ChartController::allergySummary() const {
  if (!m_doc) return {};
  QStringList names;
  for (const auto& [id, e] : m_doc->entries(Collection::kAllergies)) {
    if (e.currentStatus() != static_cast<std::int64_t>(EntryStatus::kActive)) continue;
    QString name = valueText(e.fieldValue(field::kDisplay));
    if (textOf(e.fieldValue(field::kCriticality)) == "high") name += tr(" (high risk)");
    names << name;
  }
  if (!names.isEmpty()) return tr("Allergies: %1").arg(names.join(QStringLiteral(", ")));
  return allergyState() == QLatin1String("none") ? tr("No known allergies") : tr("Allergies not recorded");
}

QString ChartController::activeVisitId() const {
  if (!m_doc || !m_store) return {};
  const std::string me = m_store->replica() ? m_store->replica()->currentUser() : std::string();
  // The newest visit in progress that this user started.
  const crdt::Entry* best = nullptr;
  for (const auto& [id, e] : m_doc->entries(Collection::kVisits)) {
    if (e.currentStatus() != static_cast<std::int64_t>(EntryStatus::kInProgress) || e.author != me) continue;
    if (!best || best->created < e.created) best = &e;
  }
  return best ? opIdText(best->id) : QString();
}

QString ChartController::activeVisitText() const {
  const auto id = parseOpIdText(activeVisitId());
  if (!id || !m_doc) return {};
  const crdt::Entry* e = m_doc->findEntry(*id);
  if (!e) return {};
  const QString setting = valueText(e->fieldValue(field::kSetting));
  const Value startValue = e->fieldValue(field::kStart);
  const auto* start = std::get_if<std::int64_t>(&startValue);
  return tr("%1 visit since %2").arg(setting, start ? dateTimeText(*start) : hlcText(e->created));
}

crdt::OpId ChartController::visitForNewItem() const {
  const auto id = parseOpIdText(activeVisitId());
  return id ? *id : OpId{};
}

QVariantList ChartController::vitalKinds() const {
  QVariantList out;
  for (const auto& v : crdt::vitalSigns()) {
    if (v.loinc == crdt::loinc::kBpPanel || v.loinc == crdt::loinc::kBpPanelLegacy) continue;
    out.append(QVariantMap{{QStringLiteral("loinc"), qs(std::string(v.loinc))},
                           {QStringLiteral("name"), qs(std::string(v.name))},
                           {QStringLiteral("unit"), qs(std::string(v.ucumUnit))},
                           {QStringLiteral("low"), v.plausibleLow},
                           {QStringLiteral("high"), v.plausibleHigh}});
  }
  return out;
}

void ChartController::rebuild() {
  if (!m_doc) {
    clearAll();
    return;
  }
  const ChartDocument& doc = *m_doc;
  const std::string today = m_store ? m_store->today().toStdString() : std::string();

  auto entryRows = [&](Collection c, auto detailOf) {
    QList<QVariantMap> rows;
    for (const auto& [id, e] : doc.entries(c)) {
      const std::int64_t status = e.currentStatus();
      QVariantMap row{{QStringLiteral("entryId"), opIdText(id)},
                      {QStringLiteral("display"), valueText(e.fieldValue(field::kDisplay))},
                      {QStringLiteral("detail"), detailOf(e)},
                      {QStringLiteral("status"), statusText(status)},
                      {QStringLiteral("statusCode"), static_cast<qlonglong>(status)},
                      {QStringLiteral("statusReason"),
                       e.status.empty() ? QString() : qs(e.status.current().reason)},
                      {QStringLiteral("active"), status == static_cast<std::int64_t>(initialStatus(c))},
                      {QStringLiteral("conflicted"), entryConflicted(e)},
                      {QStringLiteral("author"), qs(e.author)},
                      {QStringLiteral("when"), hlcText(e.created)},
                      {QStringLiteral("inVisit"), !e.visit.isNull()},
                      {QStringLiteral("criticality"), valueText(e.fieldValue(field::kCriticality))}};
      if (row.value(QStringLiteral("display")).toString().isEmpty()) {
        row[QStringLiteral("display")] = qs(nameOfCode(textOf(e.fieldValue(field::kCode))));
      }
      rows.append(row);
    }
    // Active first, then newest first.
    std::stable_sort(rows.begin(), rows.end(), [](const QVariantMap& a, const QVariantMap& b) {
      return a.value(QStringLiteral("active")).toBool() && !b.value(QStringLiteral("active")).toBool();
    });
    return rows;
  };
  auto join = [](std::initializer_list<QString> parts) {
    QStringList out;
    for (const QString& p : parts) {
      if (!p.isEmpty()) out << p;
    }
    return out.join(QStringLiteral(" · "));
  };
  m_allergies->setRows(entryRows(Collection::kAllergies, [&](const crdt::Entry& e) {
    const QString crit = valueText(e.fieldValue(field::kCriticality));
    return join({valueText(e.fieldValue(field::kReaction)), valueText(e.fieldValue(field::kSeverity)),
                 crit.isEmpty() ? QString() : tr("criticality %1").arg(crit)});
  }));
  m_problems->setRows(entryRows(Collection::kProblems, [&](const crdt::Entry& e) {
    const QString onset = valueText(e.fieldValue(field::kOnsetDate));
    return onset.isEmpty() ? QString() : tr("since %1").arg(onset);
  }));
  m_medications->setRows(entryRows(Collection::kMedications, [&](const crdt::Entry& e) {
    const QString start = valueText(e.fieldValue(field::kStartDate));
    return join({valueText(e.fieldValue(field::kDose)), valueText(e.fieldValue(field::kRoute)),
                 valueText(e.fieldValue(field::kFrequency)), start.isEmpty() ? QString() : tr("since %1").arg(start)});
  }));
  m_immunisations->setRows(entryRows(Collection::kImmunisations, [&](const crdt::Entry& e) {
    const QString lot = valueText(e.fieldValue(field::kLotNumber));
    return join({valueText(e.fieldValue(field::kOccurrenceDate)), lot.isEmpty() ? QString() : tr("lot %1").arg(lot)});
  }));

  // Visits, newest first, with what was charted during each.
  std::map<OpId, int> linked;
  for (Collection c : {Collection::kAllergies, Collection::kProblems, Collection::kMedications,
                       Collection::kImmunisations, Collection::kAttachments}) {
    for (const auto& [id, e] : doc.entries(c)) {
      if (!e.visit.isNull()) ++linked[e.visit];
    }
  }
  for (const auto& [id, o] : doc.observations()) {
    if (!o.data.visit.isNull()) ++linked[o.data.visit];
  }
  for (const auto& [id, n] : doc.notes()) {
    if (!n.visit.isNull()) ++linked[n.visit];
  }
  QList<QVariantMap> visits;
  std::vector<std::pair<std::int64_t, QVariantMap>> sortedVisits;
  for (const auto& [id, e] : doc.entries(Collection::kVisits)) {
    const Value startValue = e.fieldValue(field::kStart), endValue = e.fieldValue(field::kEnd);
    const auto* start = std::get_if<std::int64_t>(&startValue);
    const auto* end = std::get_if<std::int64_t>(&endValue);
    const std::int64_t startMs = start ? *start : static_cast<std::int64_t>(e.created.wallMs);
    sortedVisits.push_back(
        {startMs, QVariantMap{{QStringLiteral("entryId"), opIdText(id)},
                              {QStringLiteral("setting"), valueText(e.fieldValue(field::kSetting))},
                              {QStringLiteral("reason"), valueText(e.fieldValue(field::kReason))},
                              {QStringLiteral("location"), valueText(e.fieldValue(field::kLocation))},
                              {QStringLiteral("start"), dateTimeText(startMs)},
                              {QStringLiteral("end"), end ? dateTimeText(*end) : QString()},
                              {QStringLiteral("open"), e.currentStatus() ==
                                                           static_cast<std::int64_t>(EntryStatus::kInProgress)},
                              {QStringLiteral("status"), statusText(e.currentStatus())},
                              {QStringLiteral("author"), qs(e.author)},
                              {QStringLiteral("itemCount"), linked[id]}}});
  }
  std::sort(sortedVisits.begin(), sortedVisits.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [ms, row] : sortedVisits) visits.append(std::move(row));
  m_visits->setRows(visits);

  // Observations, newest first.
  std::vector<const crdt::Observation*> obs;
  for (const auto& [id, o] : doc.observations()) obs.push_back(&o);
  std::sort(obs.begin(), obs.end(), [](const crdt::Observation* a, const crdt::Observation* b) {
    return a->data.effectiveMs != b->data.effectiveMs ? a->data.effectiveMs > b->data.effectiveMs : a->id > b->id;
  });
  QList<QVariantMap> vitals, results;
  for (const crdt::Observation* o : obs) {
    const auto spec = crdt::findVitalSign(o->data.code);
    QString flag, reference;
    if (o->data.category == crdt::ObservationCategory::kLaboratory) {
      if (const auto* d = std::get_if<double>(&o->data.value)) {
        flag = qs(std::string(rules::flagLabel(rules::flagResult(*d, o->data.referenceLow, o->data.referenceHigh))));
      }
      if (o->data.referenceLow || o->data.referenceHigh) {
        reference = (o->data.referenceLow ? numberText(*o->data.referenceLow, 2) : QString()) + QStringLiteral("–") +
                    (o->data.referenceHigh ? numberText(*o->data.referenceHigh, 2) : QString());
      }
    }
    QString reason;
    if (!o->errorMarks.empty()) reason = qs(o->errorMarks.begin()->second);
    QVariantMap row{{QStringLiteral("observationId"), opIdText(o->id)},
                    {QStringLiteral("code"), qs(o->data.code)},
                    {QStringLiteral("name"), spec ? qs(std::string(spec->name)) : observationName(o->data.code)},
                    {QStringLiteral("value"), valueText(o->data.value)},
                    {QStringLiteral("unit"), qs(o->data.unit)},
                    {QStringLiteral("when"), dateTimeText(o->data.effectiveMs)},
                    {QStringLiteral("effectiveMs"), static_cast<qlonglong>(o->data.effectiveMs)},
                    {QStringLiteral("enteredInError"), o->enteredInError()},
                    {QStringLiteral("errorReason"), reason},
                    {QStringLiteral("flag"), flag},
                    {QStringLiteral("reference"), reference},
                    {QStringLiteral("author"), qs(o->author)}};
    (o->data.category == crdt::ObservationCategory::kLaboratory ? results : vitals).append(row);
  }
  m_vitals->setRows(vitals);
  m_results->setRows(results);

  // Notes, newest first.
  const std::string me = m_store && m_store->replica() ? m_store->replica()->currentUser() : std::string();
  std::vector<const crdt::Note*> notes;
  for (const auto& [id, n] : doc.notes()) notes.push_back(&n);
  std::sort(notes.begin(), notes.end(),
            [](const crdt::Note* a, const crdt::Note* b) { return b->created < a->created; });
  QList<QVariantMap> noteRows;
  for (const crdt::Note* n : notes) {
    QStringList addenda;
    for (const auto& [aid, a] : n->addenda) {
      addenda << tr("Addendum by %1, %2: %3").arg(qs(a.author), hlcText(a.hlc), qs(a.text));
    }
    const auto versions = n->openVersions();
    bool conflicted = false;
    for (const auto& v : versions) conflicted = conflicted || textOf(v.value) != n->text();
    QVariantMap row{{QStringLiteral("noteId"), opIdText(n->id)},
                    {QStringLiteral("text"), qs(n->text())},
                    {QStringLiteral("signed"), n->isSigned()},
                    {QStringLiteral("author"), qs(n->author)},
                    {QStringLiteral("when"), hlcText(n->created)},
                    {QStringLiteral("signedBy"), n->isSigned() ? qs(n->shownSignature().author) : QString()},
                    {QStringLiteral("signedWhen"), n->isSigned() ? hlcText(n->shownSignature().hlc) : QString()},
                    {QStringLiteral("addenda"), addenda},
                    {QStringLiteral("editable"), !n->isSigned() && n->author == me},
                    {QStringLiteral("conflicted"), conflicted}};
    noteRows.append(row);
  }
  m_notes->setRows(noteRows);

  // Immunisations and screenings due.
  std::vector<rules::GivenRecord> given;
  for (const auto& [id, e] : doc.entries(Collection::kImmunisations)) {
    if (e.currentStatus() != static_cast<std::int64_t>(EntryStatus::kCompleted)) continue;
    given.push_back({rules::ScheduleKind::kImmunisation, nameOfCode(textOf(e.fieldValue(field::kCode))),
                     textOf(e.fieldValue(field::kOccurrenceDate))});
  }
  for (const auto& [id, o] : doc.observations()) {
    if (o.enteredInError()) continue;
    const QDate d = QDateTime::fromMSecsSinceEpoch(o.data.effectiveMs).date();
    given.push_back({rules::ScheduleKind::kScreening, o.data.code, d.toString(Qt::ISODate).toStdString()});
  }
  QList<QVariantMap> due;
  for (const rules::DueItem& item : rules::dueItems(birthDate().toStdString(), today, given)) {
    QString state;
    switch (item.state) {
      case rules::DueState::kDone: state = QStringLiteral("done"); break;
      case rules::DueState::kOverdue: state = QStringLiteral("overdue"); break;
      case rules::DueState::kDue: state = QStringLiteral("due"); break;
      case rules::DueState::kUpcoming: state = QStringLiteral("upcoming"); break;
    }
    due.append(QVariantMap{{QStringLiteral("name"), qs(item.item.name)},
                           {QStringLiteral("kind"), item.item.kind == rules::ScheduleKind::kImmunisation
                                                        ? QStringLiteral("immunisation")
                                                        : QStringLiteral("screening")},
                           {QStringLiteral("dose"), item.item.dose},
                           {QStringLiteral("state"), state},
                           {QStringLiteral("dueDate"), qs(item.dueDate)},
                           {QStringLiteral("doneDate"), qs(item.doneDate)}});
  }
  // Overdue first, then due, upcoming, done.
  auto rank = [](const QVariantMap& m) {
    const QString s = m.value(QStringLiteral("state")).toString();
    return s == QLatin1String("overdue") ? 0 : s == QLatin1String("due") ? 1 : s == QLatin1String("upcoming") ? 2 : 3;
  };
  std::stable_sort(due.begin(), due.end(), [&](const QVariantMap& a, const QVariantMap& b) { return rank(a) < rank(b); });
  m_dueItems->setRows(due);

  // Conflicts: clinical ones first.
  m_conflictList = doc.conflicts();
  std::stable_sort(m_conflictList.begin(), m_conflictList.end(),
                   [](const crdt::Conflict& a, const crdt::Conflict& b) { return a.clinical && !b.clinical; });
  QList<QVariantMap> conflictRows;
  for (const crdt::Conflict& c : m_conflictList) {
    QVariantList values;
    for (const crdt::ConflictValue& v : c.values) {
      values.append(QVariantMap{{QStringLiteral("value"), valueText(v.value)},
                                {QStringLiteral("author"), qs(v.author)},
                                {QStringLiteral("device"), QStringLiteral("r%1").arg(v.device.value)},
                                {QStringLiteral("when"), hlcText(v.hlc)}});
    }
    conflictRows.append(QVariantMap{{QStringLiteral("path"), qs(c.path)},
                                    {QStringLiteral("label"), fieldLabel(c, doc)},
                                    {QStringLiteral("clinical"), c.clinical},
                                    {QStringLiteral("shown"), valueText(c.shown)},
                                    {QStringLiteral("values"), values},
                                    {QStringLiteral("isNote"), c.isNote}});
  }
  m_conflicts->setRows(conflictRows);

  m_pendingEdits = 0;
  if (m_store && m_store->replica()) {
    auto s = m_store->replica()->summary(m_patientId.toStdString());
    if (s.isOk()) m_pendingEdits = static_cast<int>(s.value().pendingOps);
  }
  emit chartChanged();
}

QString ChartController::doEdit(const std::function<Op(OpFactory&, const ChartDocument&)>& make) {
  if (!m_store) return tr("No chart store.");
  if (m_patientId.isEmpty()) return tr("No chart is open.");
  auto op = m_store->edit(m_patientId.toStdString(), make);
  if (!op.isOk()) {
    const auto& st = op.status();
    if (st.code() == crdt::Status::Code::kRejected) return tr("Not saved: %1").arg(qs(st.message()));
    return tr("Not saved (%1). Nothing was changed.").arg(qs(st.message()));
  }
  // chartsChanged reloads this controller.
  return {};
}

QString ChartController::setDemographic(const QString& name, const QString& value) {
  static const std::map<QString, crdt::FieldId> kFields{
      {QStringLiteral("familyName"), field::kFamilyName}, {QStringLiteral("givenNames"), field::kGivenNames},
      {QStringLiteral("birthDate"), field::kBirthDate},   {QStringLiteral("sex"), field::kSex},
      {QStringLiteral("address"), field::kAddress},       {QStringLiteral("phone"), field::kPhone}};
  const auto it = kFields.find(name);
  if (it == kFields.end()) return tr("Unknown field %1.").arg(name);
  const QString v = value.trimmed();
  if (it->second == field::kBirthDate && !rules::parseDate(v.toStdString())) {
    return tr("Enter the birth date as YYYY-MM-DD.");
  }
  if (it->second == field::kSex && !QStringList{"female", "male", "other", "unknown"}.contains(v)) {
    return tr("Sex must be female, male, other or unknown.");
  }
  const crdt::FieldId f = it->second;
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.writeField(doc, FieldRef{Collection::kDemographics, {}, f}, Value{v.toStdString()});
  });
}

QString ChartController::setNoKnownAllergies(bool none) {
  if (none && allergyState() == QLatin1String("allergies")) {
    return tr("This patient has active allergies: mark them resolved or entered in error first.");
  }
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.writeField(doc, FieldRef{Collection::kDemographics, {}, field::kNoKnownAllergies},
                          none ? Value{true} : Value{});
  });
}

QString ChartController::addAllergy(const QString& display, const QString& criticality, const QString& severity,
                                    const QString& reaction) {
  if (display.trimmed().isEmpty()) return tr("Enter what the patient is allergic to.");
  std::vector<FieldValue> fields{{field::kDisplay, Value{display.trimmed().toStdString()}}};
  if (!criticality.isEmpty()) fields.push_back({field::kCriticality, Value{criticality.toStdString()}});
  if (!severity.isEmpty()) fields.push_back({field::kSeverity, Value{severity.toStdString()}});
  if (!reaction.trimmed().isEmpty()) fields.push_back({field::kReaction, Value{reaction.trimmed().toStdString()}});
  const OpId visit = visitForNewItem();
  QString error = doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.addEntry(doc, Collection::kAllergies, fields, visit);
  });
  // An allergy recorded: "no known allergies" no longer holds.
  if (error.isEmpty() && m_doc && !m_doc->demographic(field::kNoKnownAllergies).empty()) {
    const auto& v = m_doc->demographic(field::kNoKnownAllergies).current().value;
    if (const auto* b = std::get_if<bool>(&v); b && *b) error = setNoKnownAllergies(false);
  }
  return error;
}

QString ChartController::addProblem(const QString& display, const QString& onsetDate) {
  if (display.trimmed().isEmpty()) return tr("Enter the problem.");
  std::vector<FieldValue> fields{{field::kDisplay, Value{display.trimmed().toStdString()}}};
  if (!onsetDate.trimmed().isEmpty()) {
    if (!rules::parseDate(onsetDate.trimmed().toStdString())) return tr("Enter the onset date as YYYY-MM-DD.");
    fields.push_back({field::kOnsetDate, Value{onsetDate.trimmed().toStdString()}});
  }
  const OpId visit = visitForNewItem();
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.addEntry(doc, Collection::kProblems, fields, visit);
  });
}

QStringList ChartController::medicationAlerts(const QString& display) const {
  QStringList out;
  if (!m_doc || display.trimmed().isEmpty()) return out;
  std::vector<rules::AllergyRecord> allergies;
  for (const auto& [id, e] : m_doc->entries(Collection::kAllergies)) {
    allergies.push_back({textOf(e.fieldValue(field::kDisplay)), textOf(e.fieldValue(field::kCode)),
                         textOf(e.fieldValue(field::kCriticality)),
                         e.currentStatus() == static_cast<std::int64_t>(EntryStatus::kActive)});
  }
  for (const auto& alert : rules::allergyAlerts(display.trimmed().toStdString(), {}, allergies)) {
    out << (alert.highCriticality ? tr("HIGH RISK: recorded allergy to %1 (%2).")
                                  : tr("Recorded allergy to %1 (%2)."))
               .arg(qs(alert.allergy), qs(alert.reason));
  }
  return out;
}

QString ChartController::addMedication(const QString& display, const QString& dose, const QString& route,
                                       const QString& frequency, const QString& overrideReason) {
  if (display.trimmed().isEmpty()) return tr("Enter the medication.");
  const QStringList alerts = medicationAlerts(display);
  if (!alerts.isEmpty() && overrideReason.trimmed().isEmpty()) {
    return tr("Allergy alert: %1 Give a reason to record it anyway.").arg(alerts.join(QLatin1Char(' ')));
  }
  std::vector<FieldValue> fields{{field::kDisplay, Value{display.trimmed().toStdString()}}};
  if (!dose.trimmed().isEmpty()) fields.push_back({field::kDose, Value{dose.trimmed().toStdString()}});
  if (!route.trimmed().isEmpty()) fields.push_back({field::kRoute, Value{route.trimmed().toStdString()}});
  if (!frequency.trimmed().isEmpty()) fields.push_back({field::kFrequency, Value{frequency.trimmed().toStdString()}});
  if (m_store) fields.push_back({field::kStartDate, Value{m_store->today().toStdString()}});
  const OpId visit = visitForNewItem();
  QString error = doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.addEntry(doc, Collection::kMedications, fields, visit);
  });
  if (error.isEmpty() && !alerts.isEmpty() && m_store) {
    QJsonObject detail{{QStringLiteral("medication"), display.trimmed()},
                       {QStringLiteral("alerts"), alerts.join(QLatin1Char(' '))},
                       {QStringLiteral("reason"), overrideReason.trimmed()}};
    const QByteArray json = QJsonDocument(detail).toJson(QJsonDocument::Compact);
    m_store->audit("medication.allergy_override", m_patientId.toStdString(), json.toStdString());
  }
  return error;
}

QString ChartController::changeDose(const QString& entryId, const QString& dose) {
  const auto id = parseOpIdText(entryId);
  if (!id || !m_doc || !m_doc->findEntry(*id)) return tr("That medication is not in this chart.");
  if (dose.trimmed().isEmpty()) return tr("Enter the new dose.");
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.writeField(doc, FieldRef{Collection::kMedications, *id, field::kDose}, Value{dose.trimmed().toStdString()});
  });
}

QString ChartController::addImmunisation(const QString& cvxCode, const QString& display, const QString& date,
                                         const QString& lotNumber) {
  if (display.trimmed().isEmpty() && cvxCode.trimmed().isEmpty()) return tr("Enter the vaccine.");
  const QString when = date.trimmed().isEmpty() && m_store ? m_store->today() : date.trimmed();
  const auto parsed = rules::parseDate(when.toStdString());
  if (!parsed) return tr("Enter the date given as YYYY-MM-DD.");
  if (m_store && when > m_store->today()) return tr("The date given cannot be in the future.");
  std::vector<FieldValue> fields{{field::kOccurrenceDate, Value{when.toStdString()}}};
  if (!cvxCode.trimmed().isEmpty()) {
    fields.push_back({field::kCode, Value{"http://hl7.org/fhir/sid/cvx|" + cvxCode.trimmed().toStdString()}});
  }
  if (!display.trimmed().isEmpty()) fields.push_back({field::kDisplay, Value{display.trimmed().toStdString()}});
  if (!lotNumber.trimmed().isEmpty()) fields.push_back({field::kLotNumber, Value{lotNumber.trimmed().toStdString()}});
  const OpId visit = visitForNewItem();
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.addEntry(doc, Collection::kImmunisations, fields, visit);
  });
}

QString ChartController::recordScreening(const QString& kind, const QString& result, const QString& date) {
  std::string code;
  if (kind == QLatin1String("vision")) code = std::string(rules::kVisionScreeningCode);
  if (kind == QLatin1String("hearing")) code = std::string(rules::kHearingScreeningCode);
  if (code.empty()) return tr("Choose the screening.");
  if (result != QLatin1String("pass") && result != QLatin1String("refer")) return tr("Choose the result.");
  const QString when = date.trimmed().isEmpty() && m_store ? m_store->today() : date.trimmed();
  if (!rules::parseDate(when.toStdString())) return tr("Enter the date as YYYY-MM-DD.");
  if (m_store && when > m_store->today()) return tr("The date cannot be in the future.");
  // A screening is a result (the result log, shown under Results) with the
  // app's own code (docs/SCHEDULE.md), at noon of its day.
  crdt::AppendObservation obs;
  obs.category = crdt::ObservationCategory::kLaboratory;
  obs.code = code;
  obs.value = Value{result.toStdString()};
  obs.effectiveMs = QDateTime(QDate::fromString(when, Qt::ISODate), QTime(12, 0)).toMSecsSinceEpoch();
  obs.visit = visitForNewItem();
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) { return fac.appendObservation(doc, obs); });
}

QVariantList ChartController::statusChoices(const QString& entryId) const {
  QVariantList out;
  const auto id = parseOpIdText(entryId);
  const crdt::Entry* e = id && m_doc ? m_doc->findEntry(*id) : nullptr;
  if (!e) return out;
  const std::int64_t current = e->currentStatus();
  for (std::int64_t s = 1; s <= 12; ++s) {
    if (s == current || !crdt::statusAllowed(e->collection, s)) continue;
    if (e->collection == Collection::kMedications && crdt::medicationStatusRank(s) < crdt::medicationStatusRank(current)) {
      continue;  // medications only move forward
    }
    if (current == static_cast<std::int64_t>(EntryStatus::kEnteredInError)) continue;
    out.append(QVariantMap{{QStringLiteral("code"), static_cast<qlonglong>(s)},
                           {QStringLiteral("name"), statusText(s)},
                           {QStringLiteral("needsReason"), crdt::statusNeedsReason(static_cast<EntryStatus>(s))}});
  }
  return out;
}

QString ChartController::setStatus(const QString& entryId, int status, const QString& reason) {
  const auto id = parseOpIdText(entryId);
  const crdt::Entry* e = id && m_doc ? m_doc->findEntry(*id) : nullptr;
  if (!e) return tr("That entry is not in this chart.");
  bool allowed = false;
  for (const QVariant& c : statusChoices(entryId)) allowed = allowed || c.toMap().value(QStringLiteral("code")) == status;
  if (!allowed) return tr("This entry cannot become %1.").arg(statusText(status));
  const auto s = static_cast<EntryStatus>(status);
  if (crdt::statusNeedsReason(s) && reason.trimmed().isEmpty()) {
    return tr("Say why (for example: entered in error, resolved, refuted).");
  }
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.setStatus(doc, *id, s, reason.trimmed().toStdString());
  });
}

QString ChartController::startVisit(const QString& setting, const QString& reason, const QString& location) {
  static const QStringList kSettings{QStringLiteral("home"), QStringLiteral("school"), QStringLiteral("workplace"),
                                     QStringLiteral("clinic")};
  if (!kSettings.contains(setting)) return tr("Choose where the visit takes place.");
  if (!activeVisitId().isEmpty()) return tr("A visit is already in progress: end it first.");
  const std::int64_t now = m_store ? static_cast<std::int64_t>(m_store->nowMs()) : 0;
  std::vector<FieldValue> fields{{field::kSetting, Value{setting.toStdString()}}, {field::kStart, Value{now}}};
  if (!reason.trimmed().isEmpty()) fields.push_back({field::kReason, Value{reason.trimmed().toStdString()}});
  if (!location.trimmed().isEmpty()) fields.push_back({field::kLocation, Value{location.trimmed().toStdString()}});
  if (m_store && m_store->replica()) {
    fields.push_back({field::kPractitioner, Value{m_store->replica()->currentUser()}});
  }
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.addEntry(doc, Collection::kVisits, fields);
  });
}

QString ChartController::endVisit() {
  const auto id = parseOpIdText(activeVisitId());
  if (!id) return tr("No visit is in progress.");
  const std::int64_t now = m_store ? static_cast<std::int64_t>(m_store->nowMs()) : 0;
  QString error = doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.writeField(doc, FieldRef{Collection::kVisits, *id, field::kEnd}, Value{now});
  });
  if (!error.isEmpty()) return error;
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.setStatus(doc, *id, EntryStatus::kFinished, {});
  });
}

QString ChartController::checkVital(const QString& loinc, const QString& valueText) const {
  const auto v = parseNumber(valueText);
  if (!v) return tr("Enter a number.");
  const auto check = rules::checkVital(loinc.toStdString(), *v);
  return qs(check.message);
}

QString ChartController::addVital(const QString& loinc, const QString& valueText) {
  const QString problem = checkVital(loinc, valueText);
  if (!problem.isEmpty()) return problem;
  const auto spec = crdt::findVitalSign(loinc.toStdString());
  if (!spec) return tr("Unknown vital sign.");
  crdt::AppendObservation obs;
  obs.category = crdt::ObservationCategory::kVitalSign;
  obs.code = loinc.toStdString();
  obs.value = Value{*parseNumber(valueText)};
  obs.unit = std::string(spec->ucumUnit);
  obs.effectiveMs = m_store ? static_cast<std::int64_t>(m_store->nowMs()) : 0;
  obs.visit = visitForNewItem();
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) { return fac.appendObservation(doc, obs); });
}

QString ChartController::markObservationError(const QString& observationId, const QString& reason) {
  const auto id = parseOpIdText(observationId);
  if (!id || !m_doc || !m_doc->observations().contains(*id)) return tr("That measurement is not in this chart.");
  if (reason.trimmed().isEmpty()) return tr("Say why it is in error.");
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.markObservationError(doc, *id, reason.trimmed().toStdString());
  });
}

QVariantList ChartController::vitalSeries(const QString& loinc) const {
  std::vector<std::pair<std::int64_t, double>> points;
  if (m_doc) {
    const std::string code = loinc.toStdString();
    for (const auto& [id, o] : m_doc->observations()) {
      if (o.data.code != code || o.enteredInError()) continue;
      if (const auto* d = std::get_if<double>(&o.data.value)) points.emplace_back(o.data.effectiveMs, *d);
    }
  }
  std::sort(points.begin(), points.end());
  QVariantList out;
  for (const auto& [t, v] : points) {
    out.append(QVariantMap{{QStringLiteral("t"), static_cast<qlonglong>(t)},
                           {QStringLiteral("v"), v},
                           {QStringLiteral("label"), numberText(v, 1)}});
  }
  return out;
}

QString ChartController::startNote(const QString& text) {
  if (text.trimmed().isEmpty()) return tr("The note is empty.");
  const OpId visit = visitForNewItem();
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) { return fac.startNote(doc, text.toStdString(), visit); });
}

QString ChartController::editNote(const QString& noteId, const QString& text) {
  const auto id = parseOpIdText(noteId);
  if (!id || !m_doc || !m_doc->notes().contains(*id)) return tr("That note is not in this chart.");
  if (m_doc->notes().at(*id).isSigned()) return tr("This note is signed: add an addendum instead.");
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) { return fac.editNote(doc, *id, text.toStdString()); });
}

QString ChartController::signNote(const QString& noteId, const QString& text) {
  const auto id = parseOpIdText(noteId);
  if (!id || !m_doc || !m_doc->notes().contains(*id)) return tr("That note is not in this chart.");
  if (m_doc->notes().at(*id).isSigned()) return tr("This note is already signed.");
  if (text.trimmed().isEmpty()) return tr("An empty note cannot be signed.");
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) { return fac.signNote(doc, *id, text.toStdString()); });
}

QString ChartController::addAddendum(const QString& noteId, const QString& text) {
  const auto id = parseOpIdText(noteId);
  if (!id || !m_doc || !m_doc->notes().contains(*id)) return tr("That note is not in this chart.");
  if (!m_doc->notes().at(*id).isSigned()) return tr("Only a signed note takes addenda: edit the draft instead.");
  if (text.trimmed().isEmpty()) return tr("The addendum is empty.");
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) { return fac.addAddendum(doc, *id, text.toStdString()); });
}

QString ChartController::resolveConflict(int row, int valueIndex) {
  if (row < 0 || row >= static_cast<int>(m_conflictList.size())) return tr("That conflict is gone.");
  const crdt::Conflict& c = m_conflictList[static_cast<std::size_t>(row)];
  if (valueIndex < 0 || valueIndex >= static_cast<int>(c.values.size())) return tr("Choose one of the values.");
  const Value chosen = c.values[static_cast<std::size_t>(valueIndex)].value;
  if (c.isNote) return resolveConflictWith(row, valueText(chosen));
  const FieldRef ref = c.field;
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.writeField(doc, ref, chosen, "conflict resolved on the tablet");
  });
}

QString ChartController::resolveConflictWith(int row, const QString& text) {
  if (row < 0 || row >= static_cast<int>(m_conflictList.size())) return tr("That conflict is gone.");
  const crdt::Conflict& c = m_conflictList[static_cast<std::size_t>(row)];
  if (c.isNote) {
    const OpId note = c.field.entry;
    const bool isSigned = m_doc && m_doc->notes().contains(note) && m_doc->notes().at(note).isSigned();
    if (isSigned) {
      return doEdit([&](OpFactory& fac, const ChartDocument& doc) { return fac.addAddendum(doc, note, text.toStdString()); });
    }
    return doEdit([&](OpFactory& fac, const ChartDocument& doc) { return fac.editNote(doc, note, text.toStdString()); });
  }
  // The typed text, in the kind the field holds.
  const auto spec = crdt::findField(c.field.collection, c.field.field);
  Value value{text.trimmed().toStdString()};
  if (spec && spec->kind == crdt::ValueKind::kInt) {
    bool ok = false;
    const qlonglong n = text.trimmed().toLongLong(&ok);
    if (!ok) return tr("Enter a whole number.");
    value = Value{static_cast<std::int64_t>(n)};
  } else if (spec && spec->kind == crdt::ValueKind::kReal) {
    const auto n = parseNumber(text);
    if (!n) return tr("Enter a number.");
    value = Value{*n};
  } else if (spec && spec->kind == crdt::ValueKind::kBool) {
    value = Value{text.trimmed() == tr("yes") || text.trimmed() == QLatin1String("true")};
  }
  const FieldRef ref = c.field;
  return doEdit([&](OpFactory& fac, const ChartDocument& doc) {
    return fac.writeField(doc, ref, value, "conflict resolved on the tablet");
  });
}

}  // namespace charta::app
