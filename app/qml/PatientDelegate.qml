import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// One patient in the list: name, age, sex, birth date, identifiers, the
// allergy badge, dots for unsynced edits and open conflicts, and a mark on a
// read-only break-glass copy of another clinic's chart.
ItemDelegate {
    id: root
    required property string patientId
    required property string displayName
    required property string age
    required property string sex
    required property string birthDate
    required property string identifiers
    required property string allergyBadge
    required property string allergyState
    required property bool unsynced
    required property bool conflicted
    required property bool breakGlass

    implicitHeight: Math.max(Theme.touch + 16, content.implicitHeight + 2 * Theme.spacing)
    Accessible.name: displayName + ", " + age + ", " + allergyBadge

    contentItem: RowLayout {
        id: content
        spacing: Theme.spacing
        ColumnLayout {
            Layout.fillWidth: true
            spacing: 2
            Label {
                text: root.displayName
                font.pixelSize: Theme.fontLarge
                font.bold: true
                color: Theme.text
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
            Label {
                text: [root.age, root.sex, root.birthDate, root.identifiers].filter(s => s.length > 0).join("  ·  ")
                color: Theme.mutedText
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
        }
        Label {
            objectName: "breakGlassBadge"
            visible: root.breakGlass
            text: qsTr("Break-glass, read-only")
            padding: 6
            color: Theme.danger
            font.bold: true
            background: Rectangle { radius: Theme.radius; color: Theme.dangerSurface }
        }
        Label {
            objectName: "allergyBadge"
            text: root.allergyBadge
            padding: 6
            color: root.allergyState === "allergies" ? Theme.danger : Theme.mutedText
            font.bold: root.allergyState === "allergies"
            background: Rectangle {
                radius: Theme.radius
                color: root.allergyState === "allergies" ? Theme.dangerSurface : "transparent"
                border.color: root.allergyState === "unknown" ? Theme.warning : "transparent"
            }
            Layout.maximumWidth: root.width * 0.4
            elide: Text.ElideRight
        }
        Rectangle {
            visible: root.unsynced
            width: 16; height: 16; radius: 8
            color: Theme.pending
            Accessible.name: qsTr("Edits not yet synced")
        }
        Rectangle {
            visible: root.conflicted
            width: 16; height: 16; radius: 8
            color: Theme.danger
            Accessible.name: qsTr("Open conflict")
        }
    }
}
