import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Medications: add (with an alert when it matches a recorded allergy),
// change the dose, hold, stop, or mark entered in error, each with a reason.
ColumnLayout {
    id: root
    required property ChartController chart
    spacing: Theme.spacing

    property var alerts: []

    function propose(name) {
        drug.text = name
        root.alerts = root.chart.medicationAlerts(name)
    }

    GridLayout {
        visible: !root.chart.readOnly  // a break-glass copy is read-only
        Layout.fillWidth: true
        columns: root.width > 900 ? 5 : 2
        columnSpacing: Theme.spacing
        rowSpacing: Theme.spacing
        TextField {
            id: drug
            objectName: "medicationField"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            placeholderText: qsTr("Medication and strength")
            Accessible.name: qsTr("Medication")
            onTextChanged: root.alerts = root.chart.medicationAlerts(text)
        }
        TextField { id: dose; objectName: "doseField"; implicitHeight: Theme.touch
                    placeholderText: qsTr("Dose"); Accessible.name: qsTr("Dose") }
        TextField { id: route; implicitHeight: Theme.touch
                    placeholderText: qsTr("Route"); Accessible.name: qsTr("Route") }
        TextField { id: frequency; implicitHeight: Theme.touch
                    placeholderText: qsTr("How often"); Accessible.name: qsTr("How often") }
        Button {
            objectName: "addMedicationButton"
            text: qsTr("Add")
            implicitHeight: Theme.touch
            Accessible.name: qsTr("Add medication")
            onClicked: {
                message.text = root.chart.addMedication(drug.text, dose.text, route.text, frequency.text, overrideReason.text)
                if (message.text.length === 0) { drug.text = ""; dose.text = ""; route.text = ""; frequency.text = ""; overrideReason.text = "" }
            }
        }
    }
    Rectangle {
        objectName: "allergyAlert"
        visible: root.alerts.length > 0
        Layout.fillWidth: true
        implicitHeight: alertLayout.implicitHeight + 2 * Theme.spacing
        radius: Theme.radius
        color: Theme.dangerSurface
        border.color: Theme.danger
        border.width: 3
        Accessible.role: Accessible.AlertMessage
        Accessible.name: alertText.text
        ColumnLayout {
            id: alertLayout
            anchors.fill: parent
            anchors.margins: Theme.spacing
            Label {
                id: alertText
                objectName: "allergyAlertText"
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                font.pixelSize: Theme.fontLarge
                font.bold: true
                color: Theme.danger
                text: qsTr("Allergy alert") + "\n" + root.alerts.join("\n")
            }
            TextField {
                id: overrideReason
                objectName: "overrideReasonField"
                Layout.fillWidth: true
                implicitHeight: Theme.touch
                placeholderText: qsTr("To record it anyway, say why (for example: tolerated before, prescriber informed)")
                Accessible.name: qsTr("Reason to override the allergy alert")
            }
        }
    }
    MessageBanner { id: message; objectName: "medicationMessage"; Layout.fillWidth: true }

    ListView {
        id: list
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        model: root.chart.medications
        spacing: 4
        delegate: Rectangle {
            id: med
            required property string entryId
            required property string display
            required property string detail
            required property string status
            required property string statusReason
            required property int statusCode
            required property bool conflicted
            required property string author
            required property string when
            width: list.width
            implicitHeight: medRow.implicitHeight + 2 * Theme.spacing
            radius: Theme.radius
            color: Theme.surface
            border.color: conflicted ? Theme.danger : Theme.border
            RowLayout {
                id: medRow
                anchors.fill: parent
                anchors.margins: Theme.spacing
                ColumnLayout {
                    Layout.fillWidth: true
                    Label {
                        text: med.display
                        font.pixelSize: Theme.fontLarge
                        font.strikeout: med.statusCode === 6 || med.statusCode === 8
                        color: Theme.text
                    }
                    Label {
                        text: [med.detail, med.status + (med.statusReason ? " (" + med.statusReason + ")" : ""),
                               qsTr("by %1, %2").arg(med.author).arg(med.when)].filter(s => s.length > 0).join("  ·  ")
                        color: Theme.mutedText
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                }
                Button {
                    visible: !root.chart.readOnly && (med.statusCode === 1 || med.statusCode === 4)
                    text: qsTr("Change dose")
                    implicitHeight: Theme.touch
                    Accessible.name: qsTr("Change the dose of %1").arg(med.display)
                    onClicked: { doseDialog.entryId = med.entryId; doseDialog.open() }
                }
                Button {
                    visible: !root.chart.readOnly && root.chart.statusChoices(med.entryId).length > 0
                    text: qsTr("Hold, stop…")
                    implicitHeight: Theme.touch
                    Accessible.name: qsTr("Change the status of %1").arg(med.display)
                    onClicked: {
                        statusDialog.entryId = med.entryId
                        statusDialog.entryTitle = med.display
                        statusDialog.choices = root.chart.statusChoices(med.entryId)
                        statusDialog.open()
                    }
                }
            }
        }
    }

    StatusDialog {
        id: statusDialog
        property string entryId: ""
        onStatusChosen: (code, reason) => message.text = root.chart.setStatus(entryId, code, reason)
    }
    Dialog {
        id: doseDialog
        property string entryId: ""
        modal: true
        anchors.centerIn: Overlay.overlay
        width: 480
        title: qsTr("New dose")
        standardButtons: Dialog.Cancel
        onOpened: newDose.text = ""
        ColumnLayout {
            anchors.fill: parent
            TextField { id: newDose; Layout.fillWidth: true; implicitHeight: Theme.touch
                        placeholderText: qsTr("Dose"); Accessible.name: qsTr("New dose") }
            Button {
                text: qsTr("Save")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Save the new dose")
                onClicked: { message.text = root.chart.changeDose(doseDialog.entryId, newDose.text); doseDialog.close() }
            }
        }
    }
}
