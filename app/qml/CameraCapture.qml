import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtMultimedia
import Charta

// The tablet's camera (Qt Multimedia): a live view and a shutter button. The
// picture goes straight to the encrypted store in memory, never to a file.
Dialog {
    id: root
    signal captured(var image)
    signal cancelled()
    modal: true
    parent: Overlay.overlay
    anchors.centerIn: parent
    width: parent ? parent.width * 0.95 : 800
    height: parent ? parent.height * 0.95 : 600
    title: qsTr("Take a photo")
    standardButtons: Dialog.Cancel
    onRejected: root.cancelled()

    CaptureSession {
        id: session
        camera: Camera { id: camera; active: root.visible }
        imageCapture: ImageCapture {
            id: imageCapture
            onImageCaptured: (requestId, preview) => root.captured(preview)
            onErrorOccurred: (requestId, error, message) => errorLabel.text = message
        }
        videoOutput: output
    }
    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        VideoOutput {
            id: output
            Layout.fillWidth: true
            Layout.fillHeight: true
        }
        Label {
            id: errorLabel
            visible: text.length > 0 || camera.error !== Camera.NoError
            text: camera.errorString
            color: Theme.danger
        }
        Button {
            Layout.alignment: Qt.AlignHCenter
            text: qsTr("Take photo")
            enabled: imageCapture.readyForCapture
            implicitHeight: Theme.touch
            Accessible.name: text
            onClicked: imageCapture.capture()
        }
    }
}
