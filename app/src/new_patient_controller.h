// NewPatientController: the logic of the "new patient" form.
//
// check() validates what was typed and lists likely duplicates already on
// the tablet (same birth date, similar name: clinical_rules.h) so the nurse
// can open the existing chart instead; create() makes the chart offline (its
// ops sync like any edit).
#pragma once

#include <QObject>
#include <QVariantList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace charta::app {

class ChartStore;

class NewPatientController : public QObject {
  Q_OBJECT
  QML_ELEMENT

 public:
  explicit NewPatientController(QObject* parent = nullptr);
  NewPatientController(ChartStore* store, QObject* parent);

  // What is wrong with the form ("" when it can be saved).
  Q_INVOKABLE QString validate(const QString& familyName, const QString& givenNames, const QString& birthDate,
                               const QString& sex) const;
  // Likely duplicates: [{patientId, displayName, birthDate}].
  Q_INVOKABLE QVariantList duplicatesOf(const QString& familyName, const QString& givenNames,
                                        const QString& birthDate) const;
  // {patientId} on success, {error} otherwise.
  Q_INVOKABLE QVariantMap create(const QString& familyName, const QString& givenNames, const QString& birthDate,
                                 const QString& sex, const QString& identifier);

 private:
  ChartStore* m_store;
};

}  // namespace charta::app
