// The "attachment" image provider: photos of the open chart, decrypted from
// the replica for the view that shows them and never written anywhere else.
//
//   image://attachment/thumb/<patient>/<hash>  a thumbnail in the chart (the
//       chart's opening is already audited as chart.read)
//   image://attachment/view/<patient>/<hash>   the photo in the viewer:
//       audited as attachment.read on the tablet
//
// A blob that is not on the tablet, or that does not check out (a flipped
// bit, a cut or swapped file), gives an empty image and a warning; the
// replica never hands out bytes that failed their check.
//
// Thread-safety: QML calls requestImage on its image loader threads; the
// replica serialises access itself.
#pragma once

#include <QQuickImageProvider>

namespace charta::app {

class AttachmentImageProvider : public QQuickImageProvider {
 public:
  AttachmentImageProvider();
  QImage requestImage(const QString& id, QSize* size, const QSize& requestedSize) override;
};

}  // namespace charta::app
