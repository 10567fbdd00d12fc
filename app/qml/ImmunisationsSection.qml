import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Immunisations given, and what is due or overdue by the clinic's schedule
// (docs/SCHEDULE.md).
RowLayout {
    id: root
    required property ChartController chart
    spacing: Theme.spacing

    ColumnLayout {
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.preferredWidth: 1
        Label { text: qsTr("Due and overdue"); font.pixelSize: Theme.fontLarge; color: Theme.text }
        ListView {
            id: due
            objectName: "dueList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: root.chart.dueItems
            delegate: Label {
                required property string name
                required property int dose
                required property string state
                required property string dueDate
                required property string doneDate
                width: due.width
                padding: 6
                wrapMode: Text.Wrap
                text: name + " " + qsTr("dose %1").arg(dose) + " — " +
                      (state === "done" ? qsTr("given %1").arg(doneDate)
                       : state === "overdue" ? qsTr("OVERDUE since %1").arg(dueDate)
                       : state === "due" ? qsTr("due now (from %1)").arg(dueDate) : qsTr("from %1").arg(dueDate))
                color: state === "overdue" ? Theme.danger : state === "done" ? Theme.mutedText : Theme.text
                font.bold: state === "overdue"
            }
        }
    }
    ColumnLayout {
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.preferredWidth: 1
        Label { text: qsTr("Given"); font.pixelSize: Theme.fontLarge; color: Theme.text }
        RowLayout {
            visible: !root.chart.readOnly  // a break-glass copy is read-only
            Layout.fillWidth: true
            TextField { id: vaccine; Layout.fillWidth: true; implicitHeight: Theme.touch
                        placeholderText: qsTr("Vaccine"); Accessible.name: qsTr("Vaccine") }
            TextField { id: cvx; implicitWidth: 90; implicitHeight: Theme.touch
                        placeholderText: qsTr("CVX"); Accessible.name: qsTr("CVX code") }
        }
        RowLayout {
            visible: !root.chart.readOnly
            Layout.fillWidth: true
            TextField { id: date; Layout.fillWidth: true; implicitHeight: Theme.touch
                        placeholderText: qsTr("Date given (today if empty)"); Accessible.name: qsTr("Date given") }
            TextField { id: lot; implicitWidth: 140; implicitHeight: Theme.touch
                        placeholderText: qsTr("Lot"); Accessible.name: qsTr("Lot number") }
            Button {
                text: qsTr("Record")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Record immunisation")
                onClicked: {
                    message.text = root.chart.addImmunisation(cvx.text, vaccine.text, date.text, lot.text)
                    if (message.text.length === 0) { vaccine.text = ""; cvx.text = ""; date.text = ""; lot.text = "" }
                }
            }
        }
        RowLayout {
            visible: !root.chart.readOnly
            Layout.fillWidth: true
            ComboBox {
                id: screening
                objectName: "screeningKind"
                implicitHeight: Theme.touch
                textRole: "text"
                valueRole: "value"
                model: [{ value: "vision", text: qsTr("Vision screening") }, { value: "hearing", text: qsTr("Hearing screening") }]
                Accessible.name: qsTr("Screening")
            }
            ComboBox {
                id: screeningResult
                implicitHeight: Theme.touch
                textRole: "text"
                valueRole: "value"
                model: [{ value: "pass", text: qsTr("Pass") }, { value: "refer", text: qsTr("Refer") }]
                Accessible.name: qsTr("Screening result")
            }
            Button {
                objectName: "recordScreeningButton"
                text: qsTr("Record screening")
                implicitHeight: Theme.touch
                Accessible.name: text
                onClicked: message.text = root.chart.recordScreening(screening.currentValue, screeningResult.currentValue, date.text)
            }
        }
        MessageBanner { id: message; Layout.fillWidth: true }
        ListView {
            id: given
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: root.chart.immunisations
            delegate: Label {
                required property string display
                required property string detail
                required property string status
                required property bool active
                width: given.width
                padding: 6
                text: display + "  ·  " + detail + (active ? "" : "  (" + status + ")")
                font.strikeout: !active
                color: Theme.text
                wrapMode: Text.Wrap
            }
        }
    }
}
