import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A message in plain words: an error (red), a warning (amber) or news.
Rectangle {
    id: root
    property string text: ""
    property string kind: "error"   // error, warning, info
    visible: text.length > 0
    implicitHeight: visible ? label.implicitHeight + 2 * Theme.spacing : 0
    radius: Theme.radius
    color: kind === "error" ? Theme.dangerSurface : kind === "warning" ? Theme.warningSurface : Theme.surface
    border.color: kind === "error" ? Theme.danger : kind === "warning" ? Theme.warning : Theme.border
    Accessible.role: Accessible.AlertMessage
    Accessible.name: text

    Label {
        id: label
        anchors.fill: parent
        anchors.margins: Theme.spacing
        text: root.text
        wrapMode: Text.Wrap
        font.pixelSize: Theme.fontNormal
        color: root.kind === "error" ? Theme.danger : Theme.text
    }
}
