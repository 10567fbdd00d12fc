import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Allergies or problems: the entries with their status, a form to add one,
// and status changes that ask for a reason and keep the history.
ColumnLayout {
    id: root
    required property ChartController chart
    required property string kind   // allergies, problems
    required property var rows   // a RowModel of the chart
    spacing: Theme.spacing

    RowLayout {
        visible: !root.chart.readOnly  // a break-glass copy is read-only
        Layout.fillWidth: true
        spacing: Theme.spacing
        TextField {
            id: display
            objectName: root.kind + "DisplayField"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            placeholderText: root.kind === "allergies" ? qsTr("Allergic to…") : qsTr("Problem")
            Accessible.name: placeholderText
        }
        ComboBox {
            id: criticality
            visible: root.kind === "allergies"
            implicitHeight: Theme.touch
            textRole: "text"
            valueRole: "value"
            model: [{ value: "", text: qsTr("Criticality") }, { value: "low", text: qsTr("Low risk") },
                    { value: "high", text: qsTr("High risk") }, { value: "unable-to-assess", text: qsTr("Unable to assess") }]
            Accessible.name: qsTr("Criticality")
        }
        TextField {
            id: extra
            implicitHeight: Theme.touch
            placeholderText: root.kind === "allergies" ? qsTr("Reaction") : qsTr("Onset (YYYY-MM-DD)")
            Accessible.name: placeholderText
        }
        Button {
            objectName: root.kind + "AddButton"
            text: qsTr("Add")
            implicitHeight: Theme.touch
            Accessible.name: root.kind === "allergies" ? qsTr("Add allergy") : qsTr("Add problem")
            onClicked: {
                message.text = root.kind === "allergies"
                        ? root.chart.addAllergy(display.text, criticality.currentValue, "", extra.text)
                        : root.chart.addProblem(display.text, extra.text)
                if (message.text.length === 0) { display.text = ""; extra.text = "" }
            }
        }
    }
    RowLayout {
        visible: root.kind === "allergies" && root.chart.allergyState !== "allergies" && !root.chart.readOnly
        spacing: Theme.spacing
        Button {
            objectName: "noKnownAllergiesButton"
            text: root.chart.allergyState === "none" ? qsTr("Allergies not asked yet") : qsTr("No known allergies")
            implicitHeight: Theme.touch
            Accessible.name: text
            onClicked: message.text = root.chart.setNoKnownAllergies(root.chart.allergyState !== "none")
        }
    }
    MessageBanner { id: message; objectName: root.kind + "Message"; Layout.fillWidth: true }

    ListView {
        id: list
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        model: root.rows
        spacing: 4
        delegate: Rectangle {
            id: entry
            required property string entryId
            required property string display
            required property string detail
            required property string status
            required property string statusReason
            required property bool active
            required property bool conflicted
            required property string author
            required property string when
            width: list.width
            implicitHeight: row.implicitHeight + 2 * Theme.spacing
            radius: Theme.radius
            color: Theme.surface
            border.color: conflicted ? Theme.danger : Theme.border
            RowLayout {
                id: row
                anchors.fill: parent
                anchors.margins: Theme.spacing
                ColumnLayout {
                    Layout.fillWidth: true
                    Label {
                        text: entry.display
                        font.pixelSize: Theme.fontLarge
                        font.strikeout: !entry.active
                        color: entry.active ? Theme.text : Theme.mutedText
                    }
                    Label {
                        text: [entry.detail, entry.status + (entry.statusReason ? " (" + entry.statusReason + ")" : ""),
                               qsTr("by %1, %2").arg(entry.author).arg(entry.when)].filter(s => s.length > 0).join("  ·  ")
                        color: Theme.mutedText
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                }
                Button {
                    visible: !root.chart.readOnly && root.chart.statusChoices(entry.entryId).length > 0
                    text: qsTr("Change…")
                    implicitHeight: Theme.touch
                    Accessible.name: qsTr("Change the status of %1").arg(entry.display)
                    onClicked: {
                        statusDialog.entryId = entry.entryId
                        statusDialog.entryTitle = entry.display
                        statusDialog.choices = root.chart.statusChoices(entry.entryId)
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
}
