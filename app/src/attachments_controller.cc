#include "attachments_controller.h"

#include <QBuffer>
#include <QCameraDevice>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>
#include <QImageWriter>
#include <QLocale>
#include <QMediaDevices>
#include <algorithm>

#include "chart_store.h"
#include "charta/sync/attachments.h"
#include "text_format.h"

namespace charta::app {

using crdt::Collection;
using crdt::FieldValue;
using crdt::Value;
namespace field = crdt::field;

namespace {

const QStringList kAttachmentRoles{
    QStringLiteral("entryId"),     QStringLiteral("caption"),        QStringLiteral("kind"),
    QStringLiteral("kindName"),    QStringLiteral("mediaType"),      QStringLiteral("isImage"),
    QStringLiteral("takenMs"),     QStringLiteral("taken"),          QStringLiteral("series"),
    QStringLiteral("status"),      QStringLiteral("enteredInError"), QStringLiteral("statusReason"),
    QStringLiteral("author"),      QStringLiteral("hash"),           QStringLiteral("available"),
    QStringLiteral("thumbSource"), QStringLiteral("viewSource"),     QStringLiteral("sizeText"),
    QStringLiteral("fileName"),    QStringLiteral("size"),           QStringLiteral("about")};

QString qs(const std::string& s) { return QString::fromStdString(s); }

std::string textOf(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

std::int64_t intOf(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return 0;
}

QString kindName(const QString& kind) {
  if (kind == QLatin1String("wound-photo")) return QObject::tr("Wound photo");
  if (kind == QLatin1String("consent")) return QObject::tr("Consent");
  if (kind == QLatin1String("referral")) return QObject::tr("Referral");
  if (kind == QLatin1String("outside-result")) return QObject::tr("Outside result");
  if (kind == QLatin1String("photo")) return QObject::tr("Photo");
  return QObject::tr("Document");
}

QString sizeText(std::int64_t bytes) { return QLocale().formattedDataSize(bytes, 1); }

// What an attachment may be about, besides the patient: visits and entries
// (not entered in error), each as "<collection>/<entry id>" with a name a
// nurse reads.
QVariantList subjectsOf(const crdt::ChartDocument& doc) {
  QVariantList out{
      QVariantMap{{QStringLiteral("key"), QString()}, {QStringLiteral("name"), QObject::tr("The patient")}}};
  const std::pair<Collection, QString> kinds[] = {{Collection::kVisits, QObject::tr("Visit")},
                                                  {Collection::kProblems, QObject::tr("Problem")},
                                                  {Collection::kAllergies, QObject::tr("Allergy")},
                                                  {Collection::kMedications, QObject::tr("Medication")},
                                                  {Collection::kImmunisations, QObject::tr("Immunisation")}};
  for (const auto& [collection, label] : kinds) {
    for (const auto& [id, e] : doc.entries(collection)) {
      if (e.currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kEnteredInError)) continue;
      QString name = qs(textOf(e.fieldValue(field::kDisplay)));
      if (collection == Collection::kVisits) {
        const std::int64_t start = intOf(e.fieldValue(field::kStart));
        name = dateTimeText(start != 0 ? start : static_cast<std::int64_t>(e.created.wallMs));
        if (const std::string why = textOf(e.fieldValue(field::kReason)); !why.empty()) name += " — " + qs(why);
      }
      if (name.isEmpty()) name = qs(textOf(e.fieldValue(field::kCode)));
      out.append(
          QVariantMap{{QStringLiteral("key"), qs(std::string(crdt::collectionName(collection))) + "/" + opIdText(id)},
                      {QStringLiteral("name"), label + ": " + name}});
    }
  }
  return out;
}

// JPEG, PNG or PDF by the bytes themselves; "" for anything else.
std::string mediaTypeOf(std::string_view bytes) {
  for (std::string_view type : crdt::attachmentMediaTypes()) {
    if (sync::hasMediaTypeSignature(type, bytes)) return std::string(type);
  }
  return {};
}

QByteArray jpegOf(const QImage& image, int quality) {
  QByteArray out;
  QBuffer buffer(&out);
  buffer.open(QIODevice::WriteOnly);
  QImageWriter writer(&buffer, "jpeg");
  writer.setQuality(quality);
  if (!writer.write(image.convertToFormat(QImage::Format_RGB32))) return {};
  return out;
}

}  // namespace

ChartAttachments::ChartAttachments(QObject* parent) : QObject(parent), m_rows(new RowModel(kAttachmentRoles, this)) {}

void ChartAttachments::setChart(ChartController* chart) {
  if (chart == m_chart) return;
  if (m_chart) disconnect(m_chart, nullptr, this, nullptr);
  m_chart = chart;
  if (m_chart) connect(m_chart, &ChartController::chartChanged, this, &ChartAttachments::rebuild);
  emit chartChanged();
  rebuild();
}

bool ChartAttachments::cameraAvailable() const { return !QMediaDevices::videoInputs().isEmpty(); }

QVariantList ChartAttachments::kinds() const {
  QVariantList out;
  for (std::string_view k : crdt::attachmentKinds()) {
    const QString key = qs(std::string(k));
    out.append(QVariantMap{{QStringLiteral("key"), key}, {QStringLiteral("name"), kindName(key)}});
  }
  return out;
}

void ChartAttachments::rebuild() {
  const crdt::ChartDocument* doc = m_chart ? m_chart->document() : nullptr;
  sync::Replica* replica = m_chart && m_chart->store() ? m_chart->store()->replica() : nullptr;
  QList<QVariantMap> rows;
  QStringList series;
  QVariantList subjects;
  std::size_t missing = 0;
  std::int64_t missingBytes = 0;
  if (doc && replica) {
    const std::string patient = doc->patientId();
    const QString patientText = qs(patient);
    subjects = subjectsOf(*doc);
    auto aboutName = [&](const QString& key) {
      if (key.isEmpty()) return QString();  // the patient: nothing more to say
      for (const QVariant& v : subjects) {
        if (v.toMap().value(QStringLiteral("key")).toString() == key)
          return v.toMap().value(QStringLiteral("name")).toString();
      }
      return key.isEmpty() ? QString() : tr("an entry no longer shown");
    };
    auto onTablet = [&](const std::string& hash) {
      if (!crdt::isContentHash(hash)) return false;
      auto state = replica->attachmentState(patient, hash);
      return state.isOk() && state.value() && state.value()->complete;
    };
    for (const auto& [id, e] : doc->entries(Collection::kAttachments)) {
      const std::string hash = textOf(e.fieldValue(field::kContentHash));
      const std::string thumb = textOf(e.fieldValue(field::kThumbnailHash));
      const QString mediaType = qs(textOf(e.fieldValue(field::kMediaType)));
      const QString kind = qs(textOf(e.fieldValue(field::kAttachmentKind)));
      const QString label = qs(textOf(e.fieldValue(field::kSeries)));
      const QString fileName = qs(textOf(e.fieldValue(field::kFileName)));
      QString caption = qs(textOf(e.fieldValue(field::kDisplay)));
      if (caption.isEmpty()) caption = fileName.isEmpty() ? kindName(kind) : fileName;
      const bool image = mediaType.startsWith(QLatin1String("image/"));
      const bool enteredInError = e.currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kEnteredInError);
      const bool available = onTablet(hash);
      const std::int64_t size = intOf(e.fieldValue(field::kContentSize));
      std::int64_t taken = intOf(e.fieldValue(field::kTakenAt));
      if (taken == 0) taken = static_cast<std::int64_t>(e.created.wallMs);
      QString thumbSource;
      if (image && onTablet(thumb)) {
        thumbSource = QStringLiteral("image://attachment/thumb/%1/%2").arg(patientText, qs(thumb));
      } else if (image && available) {
        thumbSource = QStringLiteral("image://attachment/thumb/%1/%2").arg(patientText, qs(hash));
      }
      if (!available && !enteredInError) {
        ++missing;
        missingBytes += size;
      }
      if (!label.isEmpty() && !enteredInError && !series.contains(label)) series << label;
      rows.append(
          QVariantMap{{QStringLiteral("entryId"), opIdText(id)},
                      {QStringLiteral("caption"), caption},
                      {QStringLiteral("kind"), kind},
                      {QStringLiteral("kindName"), kindName(kind)},
                      {QStringLiteral("mediaType"), mediaType},
                      {QStringLiteral("isImage"), image},
                      {QStringLiteral("takenMs"), static_cast<qlonglong>(taken)},
                      {QStringLiteral("taken"), dateTimeText(taken)},
                      {QStringLiteral("series"), label},
                      {QStringLiteral("status"), enteredInError ? tr("entered in error") : tr("active")},
                      {QStringLiteral("enteredInError"), enteredInError},
                      {QStringLiteral("statusReason"), e.status.empty() ? QString() : qs(e.status.current().reason)},
                      {QStringLiteral("author"), qs(e.author)},
                      {QStringLiteral("hash"), qs(hash)},
                      {QStringLiteral("available"), available},
                      {QStringLiteral("thumbSource"), enteredInError ? QString() : thumbSource},
                      {QStringLiteral("viewSource"),
                       image && available && !enteredInError
                           ? QStringLiteral("image://attachment/view/%1/%2").arg(patientText, qs(hash))
                           : QString()},
                      {QStringLiteral("sizeText"), size > 0 ? sizeText(size) : QString()},
                      {QStringLiteral("fileName"), fileName},
                      {QStringLiteral("size"), static_cast<qlonglong>(size)},
                      {QStringLiteral("about"), aboutName(qs(textOf(e.fieldValue(field::kSubject))))}});
    }
    // Newest first; entered-in-error at the end.
    std::stable_sort(rows.begin(), rows.end(), [](const QVariantMap& a, const QVariantMap& b) {
      const bool ea = a.value(QStringLiteral("enteredInError")).toBool();
      const bool eb = b.value(QStringLiteral("enteredInError")).toBool();
      if (ea != eb) return eb;
      return a.value(QStringLiteral("takenMs")).toLongLong() > b.value(QStringLiteral("takenMs")).toLongLong();
    });
  }
  series.sort();
  m_rows->setRows(rows);
  m_series = series;
  m_subjects = subjects;
  m_notOnTablet = missing == 0 ? QString()
                               : tr("%n original(s) (%1) not on this tablet yet: they download at the next syncs, "
                                    "newest first, within the tablet's storage budget.",
                                    "", static_cast<int>(missing))
                                     .arg(sizeText(missingBytes));
  emit changed();
}

QVariantMap ChartAttachments::rowFor(const QString& entryId) const {
  for (const QVariantMap& row : m_rows->rows()) {
    if (row.value(QStringLiteral("entryId")).toString() == entryId) return row;
  }
  return {};
}

QVariantList ChartAttachments::seriesRows(const QString& label) const {
  std::vector<QVariantMap> rows;
  for (const QVariantMap& row : m_rows->rows()) {
    if (row.value(QStringLiteral("series")).toString() == label &&
        !row.value(QStringLiteral("enteredInError")).toBool())
      rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end(), [](const QVariantMap& a, const QVariantMap& b) {
    return a.value(QStringLiteral("takenMs")).toLongLong() < b.value(QStringLiteral("takenMs")).toLongLong();
  });
  QVariantList out;
  for (QVariantMap& row : rows) out.append(std::move(row));
  return out;
}

QString ChartAttachments::attachFile(const QUrl& url, const QString& kind, const QString& caption,
                                     const QString& series, const QString& subject) {
  const QString path = url.isLocalFile() ? url.toLocalFile() : url.toString();
  QFile file(path);
  if (path.isEmpty() || !file.open(QIODevice::ReadOnly)) {
    return tr("Cannot open %1: %2").arg(path.isEmpty() ? tr("the file") : path, file.errorString());
  }
  if (static_cast<std::uint64_t>(file.size()) > sync::kMaxAttachmentBytes) {
    return tr("This file is too large to attach (%1; the limit is %2).")
        .arg(sizeText(file.size()), sizeText(static_cast<std::int64_t>(sync::kMaxAttachmentBytes)));
  }
  const QByteArray bytes = file.readAll();
  if (file.error() != QFileDevice::NoError) return tr("Cannot read %1: %2").arg(path, file.errorString());
  return attachBytes(bytes, QFileInfo(path).fileName(), kind, caption, series, subject);
}

QString ChartAttachments::attachImage(const QImage& image, const QString& kind, const QString& caption,
                                      const QString& series, const QString& subject) {
  if (image.isNull()) return tr("The camera gave no picture. Try again.");
  const QByteArray jpeg = jpegOf(image, 90);
  if (jpeg.isEmpty()) return tr("The photo could not be saved as JPEG.");
  return attachBytes(jpeg, QString(), kind, caption, series, subject);
}

QString ChartAttachments::attachBytes(const QByteArray& bytes, const QString& fileName, const QString& kind,
                                      const QString& caption, const QString& series, const QString& subject) {
  if (!m_chart || !m_chart->store() || !m_chart->document()) return tr("No chart is open.");
  if (m_chart->readOnly()) return tr("This chart is read-only on this tablet (break-glass access).");
  sync::Replica* replica = m_chart->store()->replica();
  if (!replica) return tr("This tablet is not enrolled.");
  const std::string kindKey = kind.toStdString();
  const auto kinds = crdt::attachmentKinds();
  if (std::find(kinds.begin(), kinds.end(), kindKey) == kinds.end()) return tr("Choose what kind of file this is.");
  if (!subject.isEmpty() && std::none_of(m_subjects.begin(), m_subjects.end(), [&](const QVariant& v) {
        return v.toMap().value(QStringLiteral("key")).toString() == subject;
      })) {
    return tr("Choose what this is about again: that entry is not in the chart.");
  }
  if (bytes.isEmpty()) return tr("The file is empty: nothing to attach.");
  if (static_cast<std::uint64_t>(bytes.size()) > sync::kMaxAttachmentBytes) {
    return tr("This file is too large to attach (%1; the limit is %2).")
        .arg(sizeText(bytes.size()), sizeText(static_cast<std::int64_t>(sync::kMaxAttachmentBytes)));
  }
  const std::string_view data(bytes.constData(), static_cast<std::size_t>(bytes.size()));
  const std::string mediaType = mediaTypeOf(data);
  if (mediaType.empty()) return tr("Only JPEG or PNG photos and PDF documents can be attached.");
  const std::string patient = m_chart->document()->patientId();
  const auto now = static_cast<std::int64_t>(m_chart->store()->nowMs());

  // A photo: read it as the camera meant it (EXIF orientation), and make its thumbnail.
  std::string thumbHash;
  if (mediaType != "application/pdf") {
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    reader.setAutoTransform(true);
    const QImage image = reader.read();
    if (image.isNull()) return tr("This photo cannot be read: %1").arg(reader.errorString());
    const QByteArray thumb =
        jpegOf(image.scaled(kThumbnailPixels, kThumbnailPixels, Qt::KeepAspectRatio, Qt::SmoothTransformation), 80);
    if (thumb.isEmpty()) return tr("The photo's thumbnail could not be made.");
    auto stored =
        replica->storeAttachment(patient, std::string_view(thumb.constData(), static_cast<std::size_t>(thumb.size())),
                                 sync::AttachmentMeta{"image/jpeg", now, true});
    if (!stored.isOk()) return tr("Not saved (%1). Nothing was changed.").arg(qs(stored.status().message()));
    thumbHash = stored.value().hash;
  }
  auto stored = replica->storeAttachment(patient, data, sync::AttachmentMeta{mediaType, now, false});
  if (!stored.isOk()) return tr("Not saved (%1). Nothing was changed.").arg(qs(stored.status().message()));

  std::vector<FieldValue> fields{{field::kContentHash, Value{stored.value().hash}},
                                 {field::kMediaType, Value{mediaType}},
                                 {field::kContentSize, Value{static_cast<std::int64_t>(bytes.size())}},
                                 {field::kAttachmentKind, Value{kindKey}},
                                 {field::kTakenAt, Value{now}}};
  if (!thumbHash.empty()) fields.push_back({field::kThumbnailHash, Value{thumbHash}});
  if (const QString c = caption.trimmed(); !c.isEmpty()) fields.push_back({field::kDisplay, Value{c.toStdString()}});
  if (const QString s = series.trimmed(); !s.isEmpty()) fields.push_back({field::kSeries, Value{s.toStdString()}});
  if (!fileName.isEmpty()) fields.push_back({field::kFileName, Value{fileName.toStdString()}});
  if (!subject.isEmpty()) fields.push_back({field::kSubject, Value{subject.toStdString()}});
  const crdt::OpId visit = m_chart->visitForNewItem();
  return m_chart->doEdit([&](crdt::OpFactory& fac, const crdt::ChartDocument& doc) {
    return fac.addEntry(doc, Collection::kAttachments, fields, visit);
  });
}

}  // namespace charta::app
