import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// The patient's visits, newest first: where, why, when, and how many entries
// were charted during each.
ListView {
    id: root
    required property ChartController chart
    objectName: "visitList"
    clip: true
    spacing: 4
    model: chart.visits
    delegate: Rectangle {
        required property string setting
        required property string reason
        required property string location
        required property string start
        required property string end
        required property bool open
        required property string author
        required property int itemCount
        width: root.width
        implicitHeight: col.implicitHeight + 2 * Theme.spacing
        radius: Theme.radius
        color: Theme.surface
        border.color: open ? Theme.accent : Theme.border
        ColumnLayout {
            id: col
            anchors.fill: parent
            anchors.margins: Theme.spacing
            Label {
                text: setting + (reason ? " — " + reason : "") + (location ? "  ·  " + location : "")
                font.pixelSize: Theme.fontLarge
                color: Theme.text
            }
            Label {
                text: (open ? qsTr("in progress since %1").arg(start) : start + " – " + end) + "  ·  " +
                      author + "  ·  " + qsTr("%n item(s) charted", "", itemCount)
                color: Theme.mutedText
            }
        }
    }
    Label {
        anchors.centerIn: parent
        visible: root.count === 0
        text: qsTr("No visits yet")
        color: Theme.mutedText
    }
}
