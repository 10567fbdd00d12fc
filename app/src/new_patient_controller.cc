#include "new_patient_controller.h"

#include "chart_store.h"
#include "charta/crdt/clinical_rules.h"

namespace charta::app {

using crdt::Collection;
using crdt::FieldRef;
using crdt::Value;
namespace field = crdt::field;

NewPatientController::NewPatientController(QObject* parent) : NewPatientController(ChartStore::instance(), parent) {}
NewPatientController::NewPatientController(ChartStore* store, QObject* parent) : QObject(parent), m_store(store) {}

QString NewPatientController::validate(const QString& familyName, const QString& givenNames, const QString& birthDate,
                                       const QString& sex) const {
  if (familyName.trimmed().isEmpty()) return tr("Enter the family name.");
  if (givenNames.trimmed().isEmpty()) return tr("Enter the given names.");
  const auto birth = rules::parseDate(birthDate.trimmed().toStdString());
  if (!birth) return tr("Enter the birth date as YYYY-MM-DD.");
  if (m_store && birthDate.trimmed() > m_store->today()) return tr("The birth date cannot be in the future.");
  if (birth->year < 1890) return tr("Check the birth year.");
  if (!QStringList{"female", "male", "other", "unknown"}.contains(sex)) return tr("Choose the sex.");
  return {};
}

QVariantList NewPatientController::duplicatesOf(const QString& familyName, const QString& givenNames,
                                                const QString& birthDate) const {
  QVariantList out;
  if (!m_store) return out;
  std::vector<rules::PersonName> existing;
  std::map<std::string, sync::PatientSummary> byId;
  for (auto& s : m_store->summaries()) {
    existing.push_back({s.patient, s.familyName, s.givenNames, s.birthDate});
    byId.emplace(s.patient, std::move(s));
  }
  const rules::PersonName candidate{{}, familyName.trimmed().toStdString(), givenNames.trimmed().toStdString(),
                                    birthDate.trimmed().toStdString()};
  for (const std::string& id : rules::likelyDuplicates(candidate, existing)) {
    const auto& s = byId.at(id);
    out.append(QVariantMap{
        {QStringLiteral("patientId"), QString::fromStdString(id)},
        {QStringLiteral("displayName"),
         QString::fromStdString(s.familyName).toUpper() + QStringLiteral(", ") + QString::fromStdString(s.givenNames)},
        {QStringLiteral("birthDate"), QString::fromStdString(s.birthDate)}});
  }
  return out;
}

QVariantMap NewPatientController::create(const QString& familyName, const QString& givenNames,
                                         const QString& birthDate, const QString& sex, const QString& identifier) {
  const QString problem = validate(familyName, givenNames, birthDate, sex);
  if (!problem.isEmpty()) return {{QStringLiteral("error"), problem}};
  if (!m_store || !m_store->unlocked()) return {{QStringLiteral("error"), tr("Unlock the tablet first.")}};
  const std::string patient = sync::Replica::newPatientId();
  const std::pair<crdt::FieldId, QString> fields[] = {{field::kFamilyName, familyName.trimmed()},
                                                      {field::kGivenNames, givenNames.trimmed()},
                                                      {field::kBirthDate, birthDate.trimmed()},
                                                      {field::kSex, sex}};
  for (const auto& [f, text] : fields) {
    auto op = m_store->edit(patient, [&](crdt::OpFactory& fac, const crdt::ChartDocument& doc) {
      return fac.writeField(doc, FieldRef{Collection::kDemographics, {}, f}, Value{text.toStdString()});
    });
    if (!op.isOk()) {
      return {{QStringLiteral("error"), tr("The chart was not created: %1").arg(QString::fromStdString(op.status().message()))}};
    }
  }
  if (!identifier.trimmed().isEmpty()) {
    auto op = m_store->edit(patient, [&](crdt::OpFactory& fac, const crdt::ChartDocument& doc) {
      return fac.addEntry(doc, Collection::kIdentifiers,
                          {crdt::FieldValue{field::kIdentifierSystem, Value{std::string("urn:charta:mrn")}},
                           crdt::FieldValue{field::kIdentifierValue, Value{identifier.trimmed().toStdString()}}});
    });
    if (!op.isOk()) {
      return {{QStringLiteral("patientId"), QString::fromStdString(patient)},
              {QStringLiteral("error"), tr("The chart was created but its identifier was not saved: %1")
                                            .arg(QString::fromStdString(op.status().message()))}};
    }
  }
  return {{QStringLiteral("patientId"), QString::fromStdString(patient)}};
}

}  // namespace charta::app
