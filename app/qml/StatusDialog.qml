import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Changes an entry's status: the statuses it may move to (from
// ChartController.statusChoices), and a reason when the change ends or
// retracts the entry. History is kept: nothing is ever deleted.
Dialog {
    id: root
    property string entryTitle: ""
    property var choices: []
    property int chosen: -1
    signal statusChosen(int code, string reason)

    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(Overlay.overlay ? Overlay.overlay.width * 0.9 : 640, 640)
    title: qsTr("Change %1").arg(entryTitle)
    standardButtons: Dialog.Cancel
    onOpened: { chosen = -1; reason.text = "" }

    readonly property bool needsReason: chosen >= 0 && chosen < choices.length && choices[chosen].needsReason

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        Flow {
            Layout.fillWidth: true
            spacing: Theme.spacing
            Repeater {
                model: root.choices
                RadioButton {
                    objectName: "statusChoice" + index
                    text: modelData.name
                    checked: root.chosen === index
                    implicitHeight: Theme.touch
                    Accessible.name: qsTr("Mark as %1").arg(modelData.name)
                    onClicked: root.chosen = index
                }
            }
        }
        TextField {
            id: reason
            objectName: "statusReasonField"
            visible: root.needsReason
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            placeholderText: qsTr("Why? (for example: entered in error, resolved, refuted)")
            Accessible.name: qsTr("Reason for the change")
        }
        Button {
            objectName: "statusConfirm"
            text: qsTr("Confirm")
            enabled: root.chosen >= 0 && (!root.needsReason || reason.text.trim().length > 0)
            implicitHeight: Theme.touch
            Accessible.name: qsTr("Confirm the change")
            onClicked: {
                root.statusChosen(root.choices[root.chosen].code, reason.text.trim())
                root.close()
            }
        }
    }
}
