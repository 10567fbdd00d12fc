import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// The chart at a glance: contact details, active problems and medications,
// what is due, open conflicts, and the visit under way.
ScrollView {
    id: root
    required property ChartController chart
    contentWidth: availableWidth

    ColumnLayout {
        width: root.availableWidth
        spacing: Theme.spacing

        MessageBanner {
            objectName: "summaryConflicts"
            Layout.fillWidth: true
            kind: "warning"
            text: root.chart.conflictCount > 0
                  ? qsTr("%n field(s) of this chart have competing values from different devices: review them under Conflicts.", "", root.chart.conflictCount)
                  : ""
        }
        Label { text: qsTr("Contact"); font.pixelSize: Theme.fontLarge; color: Theme.text }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: Theme.text
            text: [root.chart.phone, root.chart.address].filter(s => s.length > 0).join("  ·  ") || qsTr("No contact details recorded")
        }
        Label { text: qsTr("Active problems"); font.pixelSize: Theme.fontLarge; color: Theme.text }
        Repeater {
            model: root.chart.problems
            Label {
                visible: model.active
                text: "• " + model.display + (model.detail ? "  (" + model.detail + ")" : "")
                color: Theme.text
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
        }
        Label { text: qsTr("Current medications"); font.pixelSize: Theme.fontLarge; color: Theme.text }
        Repeater {
            model: root.chart.medications
            Label {
                visible: model.statusCode === 1 || model.statusCode === 4
                text: "• " + model.display + (model.detail ? "  " + model.detail : "") + (model.statusCode === 4 ? qsTr("  (on hold)") : "")
                color: Theme.text
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
        }
        Label { text: qsTr("Due now"); font.pixelSize: Theme.fontLarge; color: Theme.text }
        Repeater {
            model: root.chart.dueItems
            Label {
                visible: model.state === "overdue" || model.state === "due"
                text: "• " + model.name + " " + qsTr("dose %1").arg(model.dose) + " — " +
                      (model.state === "overdue" ? qsTr("overdue since %1").arg(model.dueDate) : qsTr("due"))
                color: model.state === "overdue" ? Theme.danger : Theme.text
            }
        }
        RowLayout {
            visible: !root.chart.readOnly  // a break-glass copy takes no visits
            spacing: Theme.spacing
            Button {
                objectName: "startVisitButton"
                visible: root.chart.activeVisitId.length === 0
                text: qsTr("Start a visit")
                implicitHeight: Theme.touch
                Accessible.name: text
                onClicked: visitDialog.open()
            }
            Button {
                objectName: "endVisitButton"
                visible: root.chart.activeVisitId.length > 0
                text: qsTr("End the visit")
                implicitHeight: Theme.touch
                Accessible.name: text
                onClicked: message.text = root.chart.endVisit()
            }
        }
        MessageBanner { id: message; Layout.fillWidth: true }
    }

    Dialog {
        id: visitDialog
        modal: true
        anchors.centerIn: Overlay.overlay
        width: 560
        title: qsTr("Start a visit")
        standardButtons: Dialog.Cancel
        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.spacing
            ComboBox {
                id: setting
                Layout.fillWidth: true
                implicitHeight: Theme.touch
                textRole: "text"
                valueRole: "value"
                model: [{ value: "home", text: qsTr("Home visit") }, { value: "school", text: qsTr("School clinic") },
                        { value: "workplace", text: qsTr("Workplace clinic") }, { value: "clinic", text: qsTr("Clinic") }]
                Accessible.name: qsTr("Where")
            }
            TextField { id: reason; Layout.fillWidth: true; implicitHeight: Theme.touch
                        placeholderText: qsTr("Reason for the visit"); Accessible.name: qsTr("Reason for the visit") }
            TextField { id: location; Layout.fillWidth: true; implicitHeight: Theme.touch
                        placeholderText: qsTr("Place (optional)"); Accessible.name: qsTr("Place") }
            Button {
                text: qsTr("Start")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Start the visit")
                onClicked: {
                    message.text = root.chart.startVisit(setting.currentValue, reason.text, location.text)
                    visitDialog.close()
                }
            }
        }
    }
}
