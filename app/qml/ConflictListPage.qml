import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Every open conflict on this tablet, clinical ones first.
Page {
    id: root
    readonly property string pageKind: "charts"
    signal review(string patientId)
    background: Rectangle { color: Theme.background }

    ConflictListModel { id: conflicts; objectName: "conflictModel" }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacing
        RowLayout {
            Button { text: qsTr("‹ Patients"); flat: true; implicitHeight: Theme.touch
                     Accessible.name: qsTr("Back to the patient list"); onClicked: root.StackView.view.pop() }
            Label { text: qsTr("Open conflicts"); font.pixelSize: Theme.fontTitle; color: Theme.text }
        }
        Label {
            visible: conflicts.count === 0
            text: qsTr("No open conflicts.")
            color: Theme.mutedText
        }
        ListView {
            id: list
            objectName: "conflictList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 4
            model: conflicts
            delegate: ItemDelegate {
                required property string patientId
                required property string patientName
                required property string path
                required property bool clinical
                required property string values
                width: list.width
                implicitHeight: Theme.touch + 24
                Accessible.name: patientName + ", " + path
                contentItem: ColumnLayout {
                    Label { text: patientName + "  ·  " + path + (clinical ? "" : qsTr("  (non-clinical)"))
                            font.bold: clinical; color: Theme.text }
                    Label { text: values; color: Theme.mutedText; elide: Text.ElideRight; Layout.fillWidth: true }
                }
                onClicked: root.review(patientId)
            }
        }
    }
}
