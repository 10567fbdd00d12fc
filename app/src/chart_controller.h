// ChartController: the logic of one open chart (the chart page).
//
// Setting patientId opens the chart for reading (an audited chart.read on
// the tablet) and fills the header and one RowModel per section. Every
// action makes one op through the store (applied, stored and queued for sync
// in one transaction) and reloads the chart; it returns an empty string on
// success or, in plain words, why nothing was saved. Clinical checks
// (plausible vital signs, medication vs allergy, reasons for removals,
// signed notes being read-only) come from clinical_rules.h and the chart's
// own rules; QML only shows what this returns.
//
// Section rows (roles): see the *Roles lists in chart_controller.cc.
// Entry and note ids travel as "r<replica>.<seq>" strings.
#pragma once

#include <QObject>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

#include <functional>
#include <optional>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "charta/crdt/op_factory.h"
#include "row_model.h"

namespace charta::app {

class ChartStore;

class ChartController : public QObject {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(QString patientId READ patientId WRITE setPatientId NOTIFY patientIdChanged)
  Q_PROPERTY(bool loaded READ loaded NOTIFY chartChanged)
  Q_PROPERTY(QString loadError READ loadError NOTIFY chartChanged)
  Q_PROPERTY(QString displayName READ displayName NOTIFY chartChanged)
  Q_PROPERTY(QString familyName READ familyName NOTIFY chartChanged)
  Q_PROPERTY(QString givenNames READ givenNames NOTIFY chartChanged)
  Q_PROPERTY(QString birthDate READ birthDate NOTIFY chartChanged)
  Q_PROPERTY(QString age READ age NOTIFY chartChanged)
  Q_PROPERTY(QString sex READ sex NOTIFY chartChanged)
  Q_PROPERTY(QString phone READ phone NOTIFY chartChanged)
  Q_PROPERTY(QString address READ address NOTIFY chartChanged)
  Q_PROPERTY(QString identifiers READ identifiers NOTIFY chartChanged)
  Q_PROPERTY(QString allergySummary READ allergySummary NOTIFY chartChanged)
  Q_PROPERTY(QString allergyState READ allergyState NOTIFY chartChanged)
  Q_PROPERTY(int conflictCount READ conflictCount NOTIFY chartChanged)
  Q_PROPERTY(int pendingEdits READ pendingEdits NOTIFY chartChanged)
  Q_PROPERTY(QString activeVisitId READ activeVisitId NOTIFY chartChanged)
  Q_PROPERTY(QString activeVisitText READ activeVisitText NOTIFY chartChanged)
  Q_PROPERTY(RowModel* allergies READ allergies CONSTANT)
  Q_PROPERTY(RowModel* problems READ problems CONSTANT)
  Q_PROPERTY(RowModel* medications READ medications CONSTANT)
  Q_PROPERTY(RowModel* immunisations READ immunisations CONSTANT)
  Q_PROPERTY(RowModel* visits READ visits CONSTANT)
  Q_PROPERTY(RowModel* vitals READ vitals CONSTANT)
  Q_PROPERTY(RowModel* results READ results CONSTANT)
  Q_PROPERTY(RowModel* notes READ notes CONSTANT)
  Q_PROPERTY(RowModel* dueItems READ dueItems CONSTANT)
  Q_PROPERTY(RowModel* conflicts READ conflicts CONSTANT)
  Q_PROPERTY(QVariantList vitalKinds READ vitalKinds CONSTANT)
  // A chart of another clinic opened by break-glass: read-only here, with
  // the banner text (whose access, why, until when).
  Q_PROPERTY(bool readOnly READ readOnly NOTIFY chartChanged)
  Q_PROPERTY(QString breakGlassText READ breakGlassText NOTIFY chartChanged)
  // Not empty when the chart holds changes made with a newer release of
  // Charta, which this one keeps and syncs but cannot show.
  Q_PROPERTY(QString newerChangesText READ newerChangesText NOTIFY chartChanged)

 public:
  // Uses ChartStore::instance() (QML).
  explicit ChartController(QObject* parent = nullptr);
  ChartController(ChartStore* store, QObject* parent);

  QString patientId() const { return m_patientId; }
  void setPatientId(const QString& id);
  bool loaded() const { return m_doc.has_value(); }
  QString loadError() const { return m_loadError; }
  bool readOnly() const { return !m_breakGlassText.isEmpty(); }
  QString breakGlassText() const { return m_breakGlassText; }
  QString newerChangesText() const;
  QString displayName() const;
  QString familyName() const { return demographicText(1); }
  QString givenNames() const { return demographicText(2); }
  QString birthDate() const { return demographicText(3); }
  QString age() const;
  QString sex() const { return demographicText(4); }
  QString phone() const { return demographicText(6); }
  QString address() const { return demographicText(5); }
  QString identifiers() const;
  QString allergySummary() const;
  QString allergyState() const;
  int conflictCount() const { return m_conflicts->count(); }
  int pendingEdits() const { return m_pendingEdits; }
  QString activeVisitId() const;
  QString activeVisitText() const;
  RowModel* allergies() const { return m_allergies; }
  RowModel* problems() const { return m_problems; }
  RowModel* medications() const { return m_medications; }
  RowModel* immunisations() const { return m_immunisations; }
  RowModel* visits() const { return m_visits; }
  RowModel* vitals() const { return m_vitals; }
  RowModel* results() const { return m_results; }
  RowModel* notes() const { return m_notes; }
  RowModel* dueItems() const { return m_dueItems; }
  RowModel* conflicts() const { return m_conflicts; }
  // Every vital sign the app charts: {loinc, name, unit, low, high}.
  QVariantList vitalKinds() const;

  // --- demographics ---
  Q_INVOKABLE QString setDemographic(const QString& field, const QString& value);
  // true: "no known allergies" recorded; false: back to "not recorded".
  Q_INVOKABLE QString setNoKnownAllergies(bool none);

  // --- entries ---
  Q_INVOKABLE QString addAllergy(const QString& display, const QString& criticality, const QString& severity,
                                 const QString& reaction);
  Q_INVOKABLE QString addProblem(const QString& display, const QString& onsetDate);
  // Allergy alerts a new medication would raise (plain sentences); empty: none.
  Q_INVOKABLE QStringList medicationAlerts(const QString& display) const;
  // Refuses while medicationAlerts() is not empty and overrideReason is empty;
  // an override is recorded in the audit trail with its reason.
  Q_INVOKABLE QString addMedication(const QString& display, const QString& dose, const QString& route,
                                    const QString& frequency, const QString& overrideReason);
  Q_INVOKABLE QString changeDose(const QString& entryId, const QString& dose);
  Q_INVOKABLE QString addImmunisation(const QString& cvxCode, const QString& display, const QString& date,
                                      const QString& lotNumber);
  // A school screening done: "vision" or "hearing", result "pass" or
  // "refer", on a date (today when empty). It counts in the schedule.
  Q_INVOKABLE QString recordScreening(const QString& kind, const QString& result, const QString& date);
  // The statuses an entry may move to from where it is: {code, name, needsReason}.
  Q_INVOKABLE QVariantList statusChoices(const QString& entryId) const;
  Q_INVOKABLE QString setStatus(const QString& entryId, int status, const QString& reason);

  // --- visits ---
  Q_INVOKABLE QString startVisit(const QString& setting, const QString& reason, const QString& location);
  Q_INVOKABLE QString endVisit();

  // --- observations ---
  // Checks a vital sign value as typed ("" when plausible, else why not).
  Q_INVOKABLE QString checkVital(const QString& loinc, const QString& valueText) const;
  Q_INVOKABLE QString addVital(const QString& loinc, const QString& valueText);
  Q_INVOKABLE QString markObservationError(const QString& observationId, const QString& reason);
  // Points of one vital sign over time, oldest first: {t (ms), v, label}; entered-in-error left out.
  Q_INVOKABLE QVariantList vitalSeries(const QString& loinc) const;

  // --- notes ---
  Q_INVOKABLE QString startNote(const QString& text);
  Q_INVOKABLE QString editNote(const QString& noteId, const QString& text);
  Q_INVOKABLE QString signNote(const QString& noteId, const QString& text);
  Q_INVOKABLE QString addAddendum(const QString& noteId, const QString& text);

  // --- conflicts ---
  // Keeps value number valueIndex of conflict number row (supersedes the others).
  Q_INVOKABLE QString resolveConflict(int row, int valueIndex);
  // Replaces every competing value with a new one typed by the nurse.
  Q_INVOKABLE QString resolveConflictWith(int row, const QString& text);

  // Reloads the chart from the store (after a sync, or on demand).
  Q_INVOKABLE void reload();

  // --- for the chart's other controllers (C++: ChartAttachments) ---
  ChartStore* store() const { return m_store; }
  // The open chart as last loaded; nullptr when none.
  const crdt::ChartDocument* document() const { return m_doc ? &*m_doc : nullptr; }
  // One op through the store; "" or, in plain words, why nothing was saved.
  QString doEdit(const std::function<crdt::Op(crdt::OpFactory&, const crdt::ChartDocument&)>& make);
  // The visit a new item is charted in (the open one), or the null id.
  crdt::OpId visitForNewItem() const;

 signals:
  void patientIdChanged();
  void chartChanged();

 private:
  QString demographicText(int field) const;
  void rebuild();
  void clearAll();

  ChartStore* m_store;
  QString m_patientId;
  QString m_loadError;
  QString m_breakGlassText;  // empty: a chart in scope
  void updateBreakGlass();
  std::optional<crdt::ChartDocument> m_doc;
  std::vector<crdt::Conflict> m_conflictList;
  int m_pendingEdits = 0;
  RowModel* m_allergies;
  RowModel* m_problems;
  RowModel* m_medications;
  RowModel* m_immunisations;
  RowModel* m_visits;
  RowModel* m_vitals;
  RowModel* m_results;
  RowModel* m_notes;
  RowModel* m_dueItems;
  RowModel* m_conflicts;
};

}  // namespace charta::app
