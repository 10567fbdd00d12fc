import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Photos and documents of the chart: thumbnails newest first, a form to
// attach a file or take a photo, each wound series side by side over time,
// and a viewer with zoom. What is not on this tablet yet is said plainly.
ColumnLayout {
    id: root
    required property ChartController chart
    readonly property ChartAttachments attachments: model
    spacing: Theme.spacing

    ChartAttachments {
        id: model
        objectName: "chartAttachments"
        chart: root.chart
    }

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.spacing
        Button {
            objectName: "attachButton"
            visible: !root.chart.readOnly
            text: qsTr("Attach photo or document…")
            implicitHeight: Theme.touch
            Accessible.name: text
            onClicked: attachDialog.open()
        }
        Repeater {
            model: model.series
            Button {
                required property string modelData
                objectName: "seriesButton_" + modelData
                text: qsTr("Series: %1").arg(modelData)
                implicitHeight: Theme.touch
                flat: true
                Accessible.name: qsTr("Show the wound series %1 side by side").arg(modelData)
                onClicked: seriesView.show(modelData)
            }
        }
        Item { Layout.fillWidth: true }
    }
    Label {
        objectName: "notOnTabletLabel"
        Layout.fillWidth: true
        visible: text.length > 0
        text: model.notOnTablet
        wrapMode: Text.WordWrap
        color: Theme.warning
    }

    GridView {
        id: grid
        objectName: "attachmentGrid"
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        cellWidth: 220
        cellHeight: 250
        model: model.rows
        delegate: Rectangle {
            id: card
            required property int index
            required property string entryId
            required property string caption
            required property string kindName
            required property string taken
            required property string series
            required property bool isImage
            required property bool available
            required property bool enteredInError
            required property string statusReason
            required property string thumbSource
            required property string viewSource
            required property string sizeText
            width: grid.cellWidth - Theme.spacing
            height: grid.cellHeight - Theme.spacing
            radius: Theme.radius
            color: Theme.surface
            border.color: enteredInError ? Theme.danger : Theme.border
            opacity: enteredInError ? 0.6 : 1
            Accessible.role: Accessible.Button
            Accessible.name: kindName + ": " + caption + ", " + taken
            ColumnLayout {
                anchors.fill: parent
                anchors.margins: 8
                spacing: 4
                Rectangle {
                    Layout.fillWidth: true
                    Layout.preferredHeight: 150
                    color: Theme.background
                    radius: Theme.radius
                    Image {
                        id: thumb
                        objectName: "thumbnail_" + card.index
                        anchors.fill: parent
                        anchors.margins: 2
                        visible: card.thumbSource.length > 0
                        source: card.thumbSource
                        asynchronous: true
                        fillMode: Image.PreserveAspectFit
                        sourceSize.width: 320
                        sourceSize.height: 320
                    }
                    Label {
                        anchors.centerIn: parent
                        width: parent.width - 16
                        horizontalAlignment: Text.AlignHCenter
                        wrapMode: Text.WordWrap
                        visible: !thumb.visible
                        color: Theme.mutedText
                        text: card.enteredInError ? qsTr("Entered in error")
                              : !card.isImage ? (card.available ? qsTr("PDF document") : qsTr("PDF document, not on this tablet"))
                              : qsTr("Photo not on this tablet yet")
                    }
                }
                Label {
                    Layout.fillWidth: true
                    text: card.caption
                    elide: Text.ElideRight
                    font.bold: true
                    font.strikeout: card.enteredInError
                    color: Theme.text
                }
                Label {
                    Layout.fillWidth: true
                    text: card.kindName + "  ·  " + card.taken
                    elide: Text.ElideRight
                    font.pixelSize: Theme.fontSmall
                    color: Theme.mutedText
                }
                Label {
                    Layout.fillWidth: true
                    visible: text.length > 0
                    text: card.enteredInError ? qsTr("Entered in error: %1").arg(card.statusReason)
                          : (card.series.length > 0 ? qsTr("Series: %1").arg(card.series) + "  ·  " : "") + card.sizeText
                    elide: Text.ElideRight
                    font.pixelSize: Theme.fontSmall
                    color: card.enteredInError ? Theme.danger : Theme.mutedText
                }
            }
            TapHandler {
                onTapped: viewer.show(model.rows.get(card.index))
            }
        }
        Label {
            anchors.centerIn: parent
            visible: grid.count === 0
            text: qsTr("No photos or documents yet")
            color: Theme.mutedText
        }
    }

    AttachDialog {
        id: attachDialog
        objectName: "attachDialog"
        attachments: model
    }
    AttachmentViewer {
        id: viewer
        chart: root.chart
        attachments: model
    }
    SeriesView {
        id: seriesView
        attachments: model
        onOpenPhoto: (row) => viewer.show(row)
    }
}
