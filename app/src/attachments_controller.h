// ChartAttachments: the photos and documents of the open chart (the chart
// page's "Photos and documents" section).
//
// Rows, newest first (roles: kAttachmentRoles in attachments_controller.cc):
// the entry's caption, kind, when taken, wound series, status, and whether
// its original and its thumbnail are on this tablet. Images show through the
// "attachment" image provider (attachment_images.h): thumbnails as
// image://attachment/thumb/<patient>/<hash>, a photo opened in the viewer as
// image://attachment/view/<patient>/<hash> (that read is audited as
// attachment.read on the tablet and syncs to the server's audit chain).
//
// attachFile() and attachImage() store the bytes encrypted in the replica
// (sync::Replica::storeAttachment: chunked secretstream under the patient's
// key, the same bytes stored once), make a thumbnail of a photo, and add the
// chart entry in the open visit, if any; the bytes upload at the next sync,
// apart from the clinical data. A file is taken by what its bytes are (JPEG,
// PNG or PDF), never by its name.
#pragma once

#include <QtQml/qqmlregistration.h>

#include <QImage>
#include <QObject>
#include <QStringList>
#include <QUrl>

#include "chart_controller.h"
#include "row_model.h"

namespace charta::app {

class ChartAttachments : public QObject {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(ChartController* chart READ chart WRITE setChart NOTIFY chartChanged)
  Q_PROPERTY(RowModel* rows READ rows CONSTANT)
  // Wound series of the chart (labels), for the series view and the form.
  Q_PROPERTY(QStringList series READ series NOTIFY changed)
  // Originals not on this tablet (still to download, or evicted to stay in
  // the storage budget), in plain words; empty when everything is here.
  Q_PROPERTY(QString notOnTablet READ notOnTablet NOTIFY changed)
  // Whether this device has a camera (Qt Multimedia): otherwise only files.
  Q_PROPERTY(bool cameraAvailable READ cameraAvailable CONSTANT)
  // {key, name} of every kind of attachment, in the form's order.
  Q_PROPERTY(QVariantList kinds READ kinds CONSTANT)
  // {key, name} of what an attachment may be about: the patient (key ""),
  // then each visit and entry of the chart ("problems/r1.4").
  Q_PROPERTY(QVariantList subjects READ subjects NOTIFY changed)

 public:
  explicit ChartAttachments(QObject* parent = nullptr);

  ChartController* chart() const { return m_chart; }
  void setChart(ChartController* chart);
  RowModel* rows() const { return m_rows; }
  QStringList series() const { return m_series; }
  QString notOnTablet() const { return m_notOnTablet; }
  bool cameraAvailable() const;
  QVariantList kinds() const;
  QVariantList subjects() const { return m_subjects; }

  // Attaches a local file (a picked file: file:// URL) about `subject` (a
  // key of subjects(); empty: the patient). "" or why not.
  Q_INVOKABLE QString attachFile(const QUrl& file, const QString& kind, const QString& caption, const QString& series,
                                 const QString& subject = {});
  // Attaches a photo taken with the camera (kept as JPEG). "" or why not.
  Q_INVOKABLE QString attachImage(const QImage& image, const QString& kind, const QString& caption,
                                  const QString& series, const QString& subject = {});
  // Attaches bytes (JPEG, PNG or PDF); the two calls above end here.
  QString attachBytes(const QByteArray& bytes, const QString& fileName, const QString& kind, const QString& caption,
                      const QString& series, const QString& subject = {});
  // The row of one attachment entry (an empty map when there is none).
  Q_INVOKABLE QVariantMap rowFor(const QString& entryId) const;
  // The rows of one wound series, oldest first (side by side over time).
  Q_INVOKABLE QVariantList seriesRows(const QString& series) const;

  // Longest side of a thumbnail, in pixels.
  static constexpr int kThumbnailPixels = 320;

 signals:
  void chartChanged();
  void changed();

 private:
  void rebuild();

  ChartController* m_chart = nullptr;
  RowModel* m_rows;
  QStringList m_series;
  QVariantList m_subjects;
  QString m_notOnTablet;
};

}  // namespace charta::app
