import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// The patients on this tablet, searched as you type (name, birth date or
// identifier), and a new patient created offline.
Page {
    id: root
    readonly property string pageKind: "charts"
    property alias breakGlassDialog: breakGlass
    signal openChart(string patientId)
    background: Rectangle { color: Theme.background }

    PatientListModel {
        id: patients
        objectName: "patientModel"
        query: search.text
        filter: filterChooser.currentValue
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: Theme.spacing

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing
            TextField {
                id: search
                objectName: "searchField"
                Layout.fillWidth: true
                implicitHeight: Theme.touch
                placeholderText: qsTr("Search by name, birth date or identifier")
                Accessible.name: qsTr("Search patients")
                inputMethodHints: Qt.ImhNoPredictiveText
            }
            ComboBox {
                id: filterChooser
                objectName: "listFilter"
                implicitHeight: Theme.touch
                implicitWidth: 240
                textRole: "text"
                valueRole: "value"
                model: [{ value: "all", text: qsTr("The clinic's patients") },
                        { value: "caseload", text: qsTr("My caseload") },
                        { value: "attention", text: qsTr("Needs attention") }]
                Accessible.name: qsTr("Which patients to list")
            }
            Button {
                objectName: "addUserButton"
                text: qsTr("Add user")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Add a user to this tablet")
                onClicked: addUser.open()
            }
            Button {
                objectName: "breakGlassButton"
                text: qsTr("Break glass")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Open a chart outside your clinic in an emergency")
                onClicked: breakGlass.open()
            }
            Button {
                objectName: "newPatientButton"
                text: qsTr("New patient")
                implicitHeight: Theme.touch
                Accessible.name: text
                onClicked: newPatient.open()
            }
        }
        Label {
            objectName: "countLabel"
            color: Theme.mutedText
            text: patients.unreadable > 0
                  ? qsTr("%1 of %2 patients · %3 charts cannot be read on this tablet").arg(patients.count).arg(patients.total).arg(patients.unreadable)
                  : qsTr("%1 of %2 patients").arg(patients.count).arg(patients.total)
        }
        ListView {
            id: list
            objectName: "patientList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: patients
            spacing: 4
            delegate: PatientDelegate {
                width: list.width
                onClicked: root.openChart(patientId)
            }
            ScrollBar.vertical: ScrollBar {}
        }
    }

    AddUserDialog { id: addUser }

    BreakGlassDialog {
        id: breakGlass
        objectName: "breakGlassDialog"
        onChartOpened: (patientId) => root.openChart(patientId)
    }

    NewPatientDialog {
        id: newPatient
        onCreated: (patientId) => root.openChart(patientId)
        onOpenExisting: (patientId) => root.openChart(patientId)
    }
}
