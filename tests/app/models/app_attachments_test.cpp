// Photos and documents in the app, over a real encrypted replica (no
// server): attaching a photo (a PNG file, or a camera picture kept as JPEG)
// makes a thumbnail and a chart entry in the open visit; a PDF is taken by
// its bytes, not its name; wrong, empty and too-large files are refused in
// plain words with nothing saved; the image provider shows thumbnails
// without an audit event and the viewer's photo with one; a flipped bit in a
// stored file shows nothing; a wound series comes oldest first; entered in
// error keeps the entry; a break-glass copy cannot take attachments.
#include <QAbstractItemModelTester>
#include <QBuffer>
#include <QFile>
#include <QImage>
#include <QImageWriter>
#include <QQuickImageProvider>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "app/app_fixture.h"
#include "attachment_images.h"
#include "attachments_controller.h"
#include "chart_controller.h"
#include "new_patient_controller.h"
#include "text_format.h"

using namespace charta;
using namespace charta::app;
using namespace charta::test;
namespace fs = std::filesystem;

namespace {

QByteArray encoded(const QImage& image, const char* format) {
  QByteArray out;
  QBuffer buffer(&out);
  buffer.open(QIODevice::WriteOnly);
  QImageWriter writer(&buffer, format);
  if (!writer.write(image)) qWarning() << writer.errorString();
  return out;
}

// A 1200 x 600 picture, red on the left half and blue on the right.
QImage halves() {
  QImage image(1200, 600, QImage::Format_RGB32);
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) image.setPixel(x, y, x < 600 ? qRgb(220, 20, 20) : qRgb(20, 20, 220));
  }
  return image;
}

QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
  const QString path = dir.filePath(name);
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) qWarning() << "cannot write" << path;
  return path;
}

std::size_t auditCount(ChartStore& store, const std::string& action) {
  auto events = store.replica()->pendingAudit(100000);
  if (!events.isOk()) return 0;
  std::size_t n = 0;
  for (const auto& e : events.value()) n += e.action == action;
  return n;
}

}  // namespace

class AppAttachmentsTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  QTemporaryDir m_files;
  std::unique_ptr<ChartStore> m_store;
  QString m_patient;

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid() && m_files.isValid());
    QVERIFY(makeOfflineReplica(m_dir.path()));
    m_store = std::make_unique<ChartStore>(offlineStoreOptions(m_dir.path()));
    ChartStore::setInstance(m_store.get());
    QVERIFY(unlockStore(*m_store));
    NewPatientController c(m_store.get(), nullptr);
    m_patient = c.create("Lindqvist", "Ada", "1950-03-14", "female", "MRN-200001").value("patientId").toString();
    QVERIFY(!m_patient.isEmpty());
  }

  void aPhotoGetsAThumbnailAndAnEntryInTheOpenVisit() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_patient);
    QVERIFY(chart.loaded());
    QCOMPARE(chart.startVisit("home", "wound care", ""), QString());
    ChartAttachments attachments;
    QAbstractItemModelTester tester(attachments.rows(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    attachments.setChart(&chart);
    QCOMPARE(attachments.rows()->count(), 0);

    const QString png = writeFile(m_files, "heel-day1.png", encoded(halves(), "png"));
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(png), "wound-photo", "Left heel, day 1", "left heel"),
             QString());
    QCOMPARE(attachments.rows()->count(), 1);
    const QVariantMap row = attachments.rows()->get(0);
    QCOMPARE(row.value("caption").toString(), QString("Left heel, day 1"));
    QCOMPARE(row.value("kind").toString(), QString("wound-photo"));
    QCOMPARE(row.value("mediaType").toString(), QString("image/png"));
    QCOMPARE(row.value("fileName").toString(), QString("heel-day1.png"));
    QVERIFY(row.value("available").toBool());
    QVERIFY(row.value("isImage").toBool());
    QCOMPARE(attachments.series(), QStringList{"left heel"});
    QVERIFY(attachments.notOnTablet().isEmpty());

    // The entry names the original and a thumbnail, and sits in the visit.
    const crdt::ChartDocument* doc = chart.document();
    QCOMPARE(doc->entries(crdt::Collection::kAttachments).size(), std::size_t{1});
    const crdt::Entry& entry = doc->entries(crdt::Collection::kAttachments).begin()->second;
    QVERIFY(!entry.visit.isNull());
    const auto hash = std::get<std::string>(entry.fieldValue(crdt::field::kContentHash));
    const auto thumb = std::get<std::string>(entry.fieldValue(crdt::field::kThumbnailHash));
    QCOMPARE(row.value("hash").toString().toStdString(), hash);
    QVERIFY(row.value("thumbSource").toString().endsWith(QString::fromStdString(thumb)));

    // The thumbnail: a JPEG at most 320 px, red left and blue right.
    AttachmentImageProvider provider;
    const std::size_t readsBefore = auditCount(*m_store, "attachment.read");
    QSize size;
    const QString thumbId = row.value("thumbSource").toString().mid(QString("image://attachment/").size());
    const QImage t = provider.requestImage(thumbId, &size, QSize());
    QCOMPARE(t.size(), QSize(320, 160));
    QVERIFY(qRed(t.pixel(40, 80)) > 180 && qBlue(t.pixel(40, 80)) < 80);
    QVERIFY(qBlue(t.pixel(280, 80)) > 180 && qRed(t.pixel(280, 80)) < 80);
    QCOMPARE(auditCount(*m_store, "attachment.read"), readsBefore);  // part of the chart already opened

    // The viewer's photo: full size, and a read in the audit trail.
    const QString viewId = row.value("viewSource").toString().mid(QString("image://attachment/").size());
    const QImage full = provider.requestImage(viewId, &size, QSize());
    QCOMPARE(full.size(), QSize(1200, 600));
    QCOMPARE(auditCount(*m_store, "attachment.read"), readsBefore + 1);
    QCOMPARE(provider.requestImage(viewId, &size, QSize(300, 300)).size(), QSize(300, 150));

    // The same file again is one blob on the tablet (two entries).
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(png), "wound-photo", "again", "left heel"), QString());
    QCOMPARE(attachments.rows()->count(), 2);
    auto held = m_store->replica()->attachments(m_patient.toStdString());
    QVERIFY(held.isOk());
    QCOMPARE(held.value().size(), std::size_t{2});  // the original and its thumbnail, once each
  }

  void aCameraPhotoIsStoredAsJpeg() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_patient);
    ChartAttachments attachments;
    attachments.setChart(&chart);
    const int before = attachments.rows()->count();
    QCOMPARE(attachments.attachImage(halves(), "photo", "Rash on the forearm", ""), QString());
    QCOMPARE(attachments.rows()->count(), before + 1);
    bool found = false;
    for (const QVariantMap& row : attachments.rows()->rows()) {
      if (row.value("caption").toString() != "Rash on the forearm") continue;
      found = true;
      QCOMPARE(row.value("mediaType").toString(), QString("image/jpeg"));
    }
    QVERIFY(found);
    QCOMPARE(attachments.attachImage(QImage(), "photo", "", ""), QString("The camera gave no picture. Try again."));
  }

  void documentsAreTakenByTheirBytesNotTheirNames() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_patient);
    ChartAttachments attachments;
    attachments.setChart(&chart);
    const int before = attachments.rows()->count();
    const std::size_t opsBefore = m_store->replica()->pendingOpCount();

    const QString pdf = writeFile(m_files, "consent.bin", "%PDF-1.4\nsigned consent form\n%%EOF\n");
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(pdf), "consent", "", ""), QString());
    QCOMPARE(attachments.rows()->count(), before + 1);
    QVariantMap consent;
    for (const QVariantMap& row : attachments.rows()->rows()) {
      if (row.value("kind").toString() == "consent") consent = row;
    }
    QCOMPARE(consent.value("mediaType").toString(), QString("application/pdf"));
    QCOMPARE(consent.value("caption").toString(), QString("consent.bin"));  // no caption: the file's name
    QVERIFY(consent.value("thumbSource").toString().isEmpty());
    QVERIFY(!consent.value("isImage").toBool());

    // Refused, in plain words, with nothing saved.
    const QString html = writeFile(m_files, "photo.jpg", "<html>not a photo</html>");
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(html), "photo", "", ""),
             QString("Only JPEG or PNG photos and PDF documents can be attached."));
    const QString empty = writeFile(m_files, "empty.png", QByteArray());
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(empty), "photo", "", ""),
             QString("The file is empty: nothing to attach."));
    QVERIFY(attachments.attachFile(QUrl::fromLocalFile(m_files.filePath("missing.png")), "photo", "", "")
                .startsWith("Cannot open"));
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(pdf), "selfie", "", ""),
             QString("Choose what kind of file this is."));
    const QString truncated = writeFile(m_files, "cut.png", encoded(halves(), "png").left(40));
    QVERIFY(attachments.attachFile(QUrl::fromLocalFile(truncated), "photo", "", "")
                .startsWith("This photo cannot be read"));
    const QString big = m_files.filePath("big.pdf");
    {
      std::ofstream out(big.toStdString(), std::ios::binary);
      out << "%PDF-1.4\n";
      out.seekp(static_cast<std::streamoff>(sync::kMaxAttachmentBytes) + 1);
      out << '\n';
    }
    QVERIFY(attachments.attachFile(QUrl::fromLocalFile(big), "referral", "", "").startsWith("This file is too large"));
    QCOMPARE(attachments.rows()->count(), before + 1);
    QCOMPARE(m_store->replica()->pendingOpCount(), opsBefore + 1);
  }

  void aWoundSeriesComesOldestFirstAndEnteredInErrorKeepsTheEntry() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_patient);
    ChartAttachments attachments;
    attachments.setChart(&chart);
    QImage day5 = halves();
    day5.fill(qRgb(200, 120, 120));
    QCOMPARE(attachments.attachImage(day5, "wound-photo", "Left heel, day 5", "left heel"), QString());
    const QVariantList series = attachments.seriesRows("left heel");
    QCOMPARE(series.size(), 3);
    QCOMPARE(series.first().toMap().value("caption").toString(), QString("Left heel, day 1"));
    QCOMPARE(series.last().toMap().value("caption").toString(), QString("Left heel, day 5"));

    QString wrongId;
    for (const QVariantMap& row : attachments.rows()->rows()) {
      if (row.value("caption").toString() == "again") wrongId = row.value("entryId").toString();
    }
    QVERIFY(!wrongId.isEmpty());
    QVERIFY(!chart.setStatus(wrongId, 8, "").isEmpty());  // a reason is required
    QCOMPARE(chart.setStatus(wrongId, 8, "Duplicate"), QString());
    const QVariantMap last = attachments.rows()->get(attachments.rows()->count() - 1);
    QCOMPARE(last.value("entryId").toString(), wrongId);  // listed last
    QVERIFY(last.value("enteredInError").toBool());
    QCOMPARE(last.value("statusReason").toString(), QString("Duplicate"));
    QVERIFY(last.value("thumbSource").toString().isEmpty());
    QCOMPARE(attachments.seriesRows("left heel").size(), 2);
  }

  void aDocumentMayBeAboutAVisitOrAnEntry() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_patient);
    QCOMPARE(chart.addProblem("Pressure ulcer, left heel", "2026-11-01"), QString());
    ChartAttachments attachments;
    attachments.setChart(&chart);
    QString ulcer;
    bool visitOffered = false;
    for (const QVariant& v : attachments.subjects()) {
      const QVariantMap m = v.toMap();
      if (m.value("name").toString() == "Problem: Pressure ulcer, left heel") ulcer = m.value("key").toString();
      visitOffered = visitOffered || m.value("key").toString().startsWith("visits/");
    }
    QVERIFY(attachments.subjects().first().toMap().value("key").toString().isEmpty());  // the patient first
    QVERIFY(visitOffered);
    QVERIFY(ulcer.startsWith("problems/"));
    const QString pdf = writeFile(m_files, "referral.pdf", "%PDF-1.4\nreferral to the wound clinic\n%%EOF\n");
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(pdf), "referral", "Wound clinic", "", ulcer), QString());
    QVariantMap row;
    for (const QVariantMap& r : attachments.rows()->rows()) {
      if (r.value("caption").toString() == "Wound clinic") row = r;
    }
    QCOMPARE(row.value("about").toString(), QString("Problem: Pressure ulcer, left heel"));
    const crdt::Entry* entry = chart.document()->findEntry(*parseOpIdText(row.value("entryId").toString()));
    QVERIFY(entry);
    QCOMPARE(QString::fromStdString(std::get<std::string>(entry->fieldValue(crdt::field::kSubject))), ulcer);
    QCOMPARE(attachments.attachFile(QUrl::fromLocalFile(pdf), "referral", "", "", "problems/r9.999"),
             QString("Choose what this is about again: that entry is not in the chart."));
  }

  // The viewer never shows a photo whose stored file was changed.
  void aFlippedBitInAStoredFileShowsNothing() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_patient);
    ChartAttachments attachments;
    attachments.setChart(&chart);
    auto files = [&] {
      std::map<fs::path, std::uintmax_t> out;
      for (const auto& entry : fs::recursive_directory_iterator(m_dir.path().toStdString())) {
        if (entry.is_regular_file() && entry.path().string().find("-attachments") != std::string::npos)
          out[entry.path()] = entry.file_size();
      }
      return out;
    };
    const auto before = files();
    QImage noisy = halves();  // not a photo stored before (the same bytes are stored once)
    for (int i = 0; i < 5000; ++i) noisy.setPixel((i * 7919) % 1200, (i * 104729) % 600, qRgb(i % 256, 90, 40));
    QCOMPARE(attachments.attachImage(noisy, "photo", "to be damaged", ""), QString());
    QVariantMap row;
    for (const QVariantMap& r : attachments.rows()->rows()) {
      if (r.value("caption").toString() == "to be damaged") row = r;
    }
    // The new files are the photo and its thumbnail: flip one bit in the larger.
    fs::path newest;
    for (const auto& [path, size] : files()) {
      if (!before.contains(path) && (newest.empty() || size > fs::file_size(newest))) newest = path;
    }
    QVERIFY2(!newest.empty(), "no attachment file found");
    {
      std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(fs::file_size(newest) / 2));
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x10);
      f.seekp(static_cast<std::streamoff>(fs::file_size(newest) / 2));
      f.write(&c, 1);
    }
    AttachmentImageProvider provider;
    QSize size;
    const QString viewId = row.value("viewSource").toString().mid(QString("image://attachment/").size());
    QVERIFY(provider.requestImage(viewId, &size, QSize()).isNull());
    auto read = m_store->replica()->readAttachment(m_patient.toStdString(), row.value("hash").toString().toStdString());
    QCOMPARE(read.status().code(), crdt::Status::Code::kCorruption);
  }

  void lockingEmptiesTheList() {
    ChartController chart(m_store.get(), nullptr);
    chart.setPatientId(m_patient);
    ChartAttachments attachments;
    attachments.setChart(&chart);
    QVERIFY(attachments.rows()->count() > 0);
    m_store->lock();
    QCOMPARE(attachments.rows()->count(), 0);
    AttachmentImageProvider provider;
    QSize size;
    QVERIFY(provider.requestImage("thumb/" + m_patient + "/" + QString(64, 'a'), &size, QSize()).isNull());
  }
};

QTEST_MAIN(AppAttachmentsTest)
#include "app_attachments_test.moc"
