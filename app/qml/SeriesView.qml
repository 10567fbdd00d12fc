import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// One wound series side by side, oldest on the left, each photo with its
// date and the days since the first: how the wound heals over time.
Popup {
    id: root
    required property ChartAttachments attachments
    property string label: ""
    property var photos: []
    signal openPhoto(var row)
    objectName: "seriesView"
    parent: Overlay.overlay
    modal: true
    width: parent ? parent.width : 800
    height: parent ? parent.height : 600
    padding: Theme.spacing
    background: Rectangle { color: Theme.background }

    function show(name) {
        label = name
        photos = attachments.seriesRows(name)
        open()
    }
    function daysSince(first, ms) { return Math.round((ms - first) / 86400000) }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        RowLayout {
            Layout.fillWidth: true
            Button {
                text: qsTr("‹ Back")
                flat: true
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Close the series")
                onClicked: root.close()
            }
            Label {
                Layout.fillWidth: true
                text: qsTr("Wound series: %1 (%n photo(s))", "", root.photos.length).arg(root.label)
                font.pixelSize: Theme.fontLarge
                color: Theme.text
            }
        }
        ListView {
            id: strip
            objectName: "seriesStrip"
            Layout.fillWidth: true
            Layout.fillHeight: true
            orientation: ListView.Horizontal
            spacing: Theme.spacing
            clip: true
            model: root.photos
            delegate: ColumnLayout {
                required property var modelData
                required property int index
                width: Math.max(240, (strip.width - 2 * Theme.spacing) / Math.min(3, Math.max(1, root.photos.length)))
                height: strip.height
                spacing: 4
                Image {
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    source: modelData.thumbSource
                    visible: source.toString().length > 0
                    asynchronous: true
                    fillMode: Image.PreserveAspectFit
                    sourceSize.width: 640
                    sourceSize.height: 640
                    TapHandler { onTapped: root.openPhoto(modelData) }
                }
                Label {
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    visible: !modelData.thumbSource
                    text: qsTr("Not on this tablet yet")
                    horizontalAlignment: Text.AlignHCenter
                    color: Theme.mutedText
                }
                Label {
                    Layout.fillWidth: true
                    horizontalAlignment: Text.AlignHCenter
                    text: modelData.taken + (index > 0
                          ? "  ·  " + qsTr("day %1").arg(root.daysSince(root.photos[0].takenMs, modelData.takenMs)) : "")
                    color: Theme.text
                }
                Label {
                    Layout.fillWidth: true
                    horizontalAlignment: Text.AlignHCenter
                    text: modelData.caption
                    elide: Text.ElideRight
                    color: Theme.mutedText
                }
            }
        }
    }
}
