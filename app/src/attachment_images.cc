#include "attachment_images.h"

#include <QBuffer>
#include <QImageReader>
#include <QLoggingCategory>

#include "chart_store.h"

namespace charta::app {

namespace {
Q_LOGGING_CATEGORY(lcAttachments, "charta.attachments")
}

AttachmentImageProvider::AttachmentImageProvider() : QQuickImageProvider(QQuickImageProvider::Image) {}

QImage AttachmentImageProvider::requestImage(const QString& id, QSize* size, const QSize& requestedSize) {
  const QStringList parts = id.split(QLatin1Char('/'));
  ChartStore* store = ChartStore::instance();
  sync::Replica* replica = store ? store->replica() : nullptr;
  if (parts.size() != 3 || !replica) return {};
  const bool view = parts[0] == QLatin1String("view");
  const std::string patient = parts[1].toStdString(), hash = parts[2].toStdString();
  // A thumbnail is part of the chart already opened; the viewer is a read of its own.
  auto bytes = replica->readAttachment(patient, hash, view ? "view" : "");
  if (!bytes.isOk()) {
    qCWarning(lcAttachments) << "photo not shown:" << QString::fromStdString(bytes.status().message());
    return {};
  }
  QByteArray data = QByteArray::fromStdString(bytes.value());
  QBuffer buffer(&data);
  buffer.open(QIODevice::ReadOnly);
  QImageReader reader(&buffer);
  reader.setAutoTransform(true);
  if (requestedSize.isValid() && reader.size().isValid()) {
    reader.setScaledSize(reader.size().scaled(requestedSize, Qt::KeepAspectRatio));
  }
  QImage image = reader.read();
  if (image.isNull()) qCWarning(lcAttachments) << "photo not decoded:" << reader.errorString();
  if (size) *size = image.size();
  return image;
}

}  // namespace charta::app
