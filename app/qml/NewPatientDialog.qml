import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// A new patient, created offline. Before saving it lists likely duplicates
// (same birth date, similar name) so the nurse can open that chart instead.
Dialog {
    id: root
    signal created(string patientId)
    signal openExisting(string patientId)

    modal: true
    anchors.centerIn: parent
    width: Math.min(parent ? parent.width * 0.95 : 700, 720)
    title: qsTr("New patient")
    standardButtons: Dialog.Cancel

    property var duplicates: []
    NewPatientController { id: controller }

    function recheck() {
        duplicates = birth.text.length === 10 ? controller.duplicatesOf(family.text, given.text, birth.text) : []
    }
    onOpened: {
        family.text = ""; given.text = ""; birth.text = ""; identifier.text = ""; message.text = ""
        duplicates = []
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        TextField { id: family; objectName: "familyField"; Layout.fillWidth: true; implicitHeight: Theme.touch
                    placeholderText: qsTr("Family name"); Accessible.name: qsTr("Family name"); onTextChanged: root.recheck() }
        TextField { id: given; objectName: "givenField"; Layout.fillWidth: true; implicitHeight: Theme.touch
                    placeholderText: qsTr("Given names"); Accessible.name: qsTr("Given names"); onTextChanged: root.recheck() }
        TextField { id: birth; objectName: "birthField"; Layout.fillWidth: true; implicitHeight: Theme.touch
                    placeholderText: qsTr("Birth date (YYYY-MM-DD)"); Accessible.name: qsTr("Birth date")
                    inputMethodHints: Qt.ImhDate; onTextChanged: root.recheck() }
        ComboBox {
            id: sex
            objectName: "sexField"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            textRole: "text"
            valueRole: "value"
            model: [{ value: "female", text: qsTr("Female") }, { value: "male", text: qsTr("Male") },
                    { value: "other", text: qsTr("Other") }, { value: "unknown", text: qsTr("Unknown") }]
            Accessible.name: qsTr("Sex")
        }
        TextField { id: identifier; objectName: "identifierField"; Layout.fillWidth: true; implicitHeight: Theme.touch
                    placeholderText: qsTr("Medical record number (optional)"); Accessible.name: qsTr("Medical record number") }
        MessageBanner {
            objectName: "duplicateWarning"
            Layout.fillWidth: true
            kind: "warning"
            text: root.duplicates.length > 0
                  ? qsTr("This may be a patient already on this tablet: %1. Open that chart instead if it is the same person.")
                      .arg(root.duplicates.map(d => d.displayName + " (" + d.birthDate + ")").join(", "))
                  : ""
        }
        Repeater {
            model: root.duplicates
            Button {
                text: qsTr("Open %1").arg(modelData.displayName)
                implicitHeight: Theme.touch
                Accessible.name: text
                onClicked: { root.close(); root.openExisting(modelData.patientId) }
            }
        }
        MessageBanner { id: message; objectName: "newPatientError"; Layout.fillWidth: true }
        Button {
            objectName: "createPatientButton"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            text: root.duplicates.length > 0 ? qsTr("Create a new chart anyway") : qsTr("Create chart")
            Accessible.name: text
            onClicked: {
                const result = controller.create(family.text, given.text, birth.text, sex.currentValue, identifier.text)
                if (result.error) {
                    message.text = result.error
                    return
                }
                root.close()
                root.created(result.patientId)
            }
        }
    }
}
