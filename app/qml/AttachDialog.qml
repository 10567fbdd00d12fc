import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Charta

// Attach a photo or document: what kind, a caption, a wound series, then a
// file (JPEG, PNG or PDF) or, where the tablet has a camera, a photo. The
// bytes are stored encrypted on the tablet and upload at the next sync.
Dialog {
    id: root
    required property ChartAttachments attachments
    modal: true
    anchors.centerIn: parent
    width: Math.min(parent ? parent.width * 0.9 : 700, 720)
    title: qsTr("Attach a photo or document")
    standardButtons: Dialog.Cancel

    function attachFile(url) {
        message.text = root.attachments.attachFile(url, kind.currentValue, caption.text, series.editText,
                                                   about.currentValue)
        if (message.text.length === 0) root.close()
    }
    function attachImage(image) {
        message.text = root.attachments.attachImage(image, kind.currentValue, caption.text, series.editText,
                                                    about.currentValue)
        if (message.text.length === 0) root.close()
    }

    onOpened: { message.text = ""; caption.text = ""; series.editText = ""; about.currentIndex = 0 }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        ComboBox {
            id: kind
            objectName: "attachKind"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            model: root.attachments.kinds
            textRole: "name"
            valueRole: "key"
            Accessible.name: qsTr("Kind of attachment")
        }
        ComboBox {
            id: about
            objectName: "attachAbout"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            model: root.attachments.subjects
            textRole: "name"
            valueRole: "key"
            Accessible.name: qsTr("What it is about: the patient, a visit or an entry")
        }
        TextField {
            id: caption
            objectName: "attachCaption"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            placeholderText: qsTr("Caption (what it shows)")
            Accessible.name: placeholderText
        }
        ComboBox {
            id: series
            objectName: "attachSeries"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            editable: true
            visible: kind.currentValue === "wound-photo" || kind.currentValue === "photo"
            model: root.attachments.series
            Accessible.name: qsTr("Wound series (photos of the same wound over time)")
        }
        RowLayout {
            spacing: Theme.spacing
            Button {
                objectName: "attachChooseFile"
                text: qsTr("Choose file…")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Choose a photo or PDF file to attach")
                onClicked: fileDialog.open()
            }
            Button {
                objectName: "attachTakePhoto"
                visible: root.attachments.cameraAvailable
                text: qsTr("Take photo…")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Take a photo with the camera")
                onClicked: cameraLoader.active = true
            }
        }
        Label {
            id: message
            objectName: "attachMessage"
            Layout.fillWidth: true
            visible: text.length > 0
            wrapMode: Text.WordWrap
            color: Theme.danger
        }
    }

    FileDialog {
        id: fileDialog
        title: qsTr("Choose a photo or document")
        nameFilters: [qsTr("Photos and PDF documents (*.jpg *.jpeg *.png *.pdf)"), qsTr("All files (*)")]
        onAccepted: root.attachFile(selectedFile)
    }
    Loader {
        id: cameraLoader
        active: false
        sourceComponent: CameraCapture {
            onCaptured: (image) => { cameraLoader.active = false; root.attachImage(image) }
            onCancelled: cameraLoader.active = false
        }
        onLoaded: item.open()
    }
}
