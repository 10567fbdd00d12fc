import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Asks why (removing an entry, marking a value in error, overriding an
// alert); accepted(reason) only with a reason typed or picked.
Dialog {
    id: root
    property string prompt: qsTr("Why?")
    property var suggestions: [qsTr("Entered in error"), qsTr("Resolved"), qsTr("Refuted")]
    signal reasonGiven(string reason)

    modal: true
    anchors.centerIn: parent
    width: Math.min(parent ? parent.width * 0.9 : 600, 640)
    title: prompt
    standardButtons: Dialog.Cancel

    onOpened: reasonField.text = ""

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        Flow {
            Layout.fillWidth: true
            spacing: Theme.spacing
            Repeater {
                model: root.suggestions
                Button {
                    text: modelData
                    implicitHeight: Theme.touch
                    font.pixelSize: Theme.fontNormal
                    Accessible.name: text
                    onClicked: reasonField.text = modelData
                }
            }
        }
        TextField {
            id: reasonField
            objectName: "reasonField"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            font.pixelSize: Theme.fontNormal
            placeholderText: qsTr("Reason")
            Accessible.name: qsTr("Reason")
        }
        Button {
            objectName: "reasonConfirm"
            text: qsTr("Confirm")
            enabled: reasonField.text.trim().length > 0
            implicitHeight: Theme.touch
            font.pixelSize: Theme.fontNormal
            Accessible.name: text
            onClicked: {
                root.reasonGiven(reasonField.text.trim())
                root.close()
            }
        }
    }
}
