import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// One photo or document: the photo with zoom (pinch, wheel, buttons, drag to
// pan), its details, and "entered in error" with a reason. Opening a photo
// here is a read of its own in the audit trail.
Popup {
    id: root
    required property ChartController chart
    required property ChartAttachments attachments
    property var row: ({})
    property bool fetching: false
    property real zoom: 1
    readonly property real minZoom: 1
    readonly property real maxZoom: 8
    objectName: "attachmentViewer"
    parent: Overlay.overlay
    modal: true
    x: 0
    y: 0
    width: parent ? parent.width : 800
    height: parent ? parent.height : 600
    padding: Theme.spacing
    background: Rectangle { color: Theme.background }

    function show(r) {
        row = r
        zoom = 1
        fetching = false
        message.text = ""
        open()
    }

    // The chart changed (an edit, a sync, a download): show this entry as it is now.
    Connections {
        target: root.attachments
        function onChanged() {
            if (!root.opened || !root.row.entryId) return
            const now = root.attachments.rowFor(root.row.entryId)
            if (now.entryId) root.row = now
        }
    }
    Connections {
        target: ChartStore
        function onAttachmentFetched(hash, ok, why) {
            if (hash !== root.row.hash) return
            root.fetching = false
            if (!ok) message.text = why
        }
    }
    function setZoom(z) {
        const clamped = Math.max(minZoom, Math.min(maxZoom, z))
        // Keep the centre of the view where it was.
        const cx = (flick.contentX + flick.width / 2) / Math.max(1, flick.contentWidth)
        const cy = (flick.contentY + flick.height / 2) / Math.max(1, flick.contentHeight)
        zoom = clamped
        flick.contentX = Math.max(0, cx * flick.contentWidth - flick.width / 2)
        flick.contentY = Math.max(0, cy * flick.contentHeight - flick.height / 2)
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing
            Button {
                objectName: "viewerClose"
                text: qsTr("‹ Back")
                flat: true
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Close the viewer")
                onClicked: root.close()
            }
            ColumnLayout {
                Layout.fillWidth: true
                spacing: 0
                Label {
                    text: root.row.caption || ""
                    font.pixelSize: Theme.fontLarge
                    color: Theme.text
                    elide: Text.ElideRight
                    Layout.fillWidth: true
                }
                Label {
                    text: [root.row.kindName, root.row.about ? qsTr("about %1").arg(root.row.about) : "",
                           root.row.taken, root.row.author, root.row.sizeText]
                          .filter(function (s) { return s && s.length > 0 }).join("  ·  ")
                    color: Theme.mutedText
                    elide: Text.ElideRight
                    Layout.fillWidth: true
                }
            }
            Button {
                objectName: "zoomOut"
                text: "−"
                enabled: image.visible && root.zoom > root.minZoom
                implicitWidth: Theme.touch
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Zoom out")
                onClicked: root.setZoom(root.zoom / 1.5)
            }
            Label {
                objectName: "zoomLabel"
                text: Math.round(root.zoom * 100) + " %"
                color: Theme.text
                visible: image.visible
            }
            Button {
                objectName: "zoomIn"
                text: "+"
                enabled: image.visible && root.zoom < root.maxZoom
                implicitWidth: Theme.touch
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Zoom in")
                onClicked: root.setZoom(root.zoom * 1.5)
            }
            Button {
                text: qsTr("Fit")
                enabled: image.visible && root.zoom !== 1
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Fit the photo to the screen")
                onClicked: root.setZoom(1)
            }
            Button {
                objectName: "fetchAttachment"
                visible: !root.row.available && !root.row.enteredInError
                enabled: !root.fetching
                text: root.fetching ? qsTr("Downloading…") : qsTr("Download now")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Download this file to the tablet now")
                onClicked: {
                    message.text = ""
                    root.fetching = true
                    ChartStore.fetchAttachment(root.chart.patientId, root.row.hash, root.row.size, root.row.mediaType)
                }
            }
            Button {
                objectName: "markAttachmentError"
                visible: !root.chart.readOnly && !root.row.enteredInError
                text: qsTr("Entered in error…")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Mark this attachment as entered in error")
                onClicked: reason.open()
            }
        }
        Label {
            id: message
            objectName: "viewerMessage"
            Layout.fillWidth: true
            visible: text.length > 0
            wrapMode: Text.WordWrap
            color: Theme.danger
        }
        Flickable {
            id: flick
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            contentWidth: width * root.zoom
            contentHeight: height * root.zoom
            boundsBehavior: Flickable.StopAtBounds
            Image {
                id: image
                objectName: "viewerImage"
                width: flick.contentWidth
                height: flick.contentHeight
                visible: source.toString().length > 0
                source: root.opened ? (root.row.viewSource || "") : ""
                asynchronous: true
                fillMode: Image.PreserveAspectFit
                smooth: true
                mipmap: true
            }
            PinchHandler {
                target: null
                onScaleChanged: (delta) => root.setZoom(root.zoom * delta)
            }
            WheelHandler {
                acceptedModifiers: Qt.ControlModifier
                onWheel: (event) => root.setZoom(root.zoom * (event.angleDelta.y > 0 ? 1.25 : 0.8))
            }
        }
        Label {
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: !image.visible
            horizontalAlignment: Text.AlignHCenter
            verticalAlignment: Text.AlignVCenter
            wrapMode: Text.WordWrap
            color: Theme.mutedText
            text: root.row.enteredInError ? qsTr("Entered in error: %1").arg(root.row.statusReason)
                  : !root.row.available ? qsTr("Not on this tablet yet: it downloads at a later sync, or now with \"Download now\".")
                  : root.row.isImage ? "" : qsTr("PDF document %1 (%2), stored on this tablet. It opens in the clinic's record.")
                                            .arg(root.row.fileName || "").arg(root.row.sizeText || "")
        }
        Label {
            visible: image.status === Image.Error
            text: qsTr("This photo cannot be shown: its stored copy did not pass its check. It was recorded in the audit trail.")
            color: Theme.danger
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
        }
    }

    ReasonDialog {
        id: reason
        objectName: "attachmentReason"
        prompt: qsTr("Why is this attachment entered in error?")
        suggestions: [qsTr("Wrong patient"), qsTr("Duplicate"), qsTr("Unclear photo")]
        onReasonGiven: (why) => {
            message.text = root.chart.setStatus(root.row.entryId, 8, why)
            if (message.text.length === 0) root.close()
        }
    }
}
