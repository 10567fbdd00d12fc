import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Break-glass: open the chart of a patient outside this tablet's clinic, by
// an identifier and the birth date, with a typed reason. The server records
// who opened which chart and why; the copy stays read-only on this tablet
// and is destroyed when it expires.
Dialog {
    id: root
    signal chartOpened(string patientId)

    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(Overlay.overlay ? Overlay.overlay.width * 0.95 : 700, 720)
    title: qsTr("Break glass: open a chart outside your clinic")
    standardButtons: Dialog.Cancel
    property bool busy: false

    onAboutToShow: {
        identifier.text = ""; birth.text = ""; reason.text = ""; message.text = ""; busy = false
    }

    Connections {
        target: ChartStore
        function onBreakGlassFinished(ok, patientId, text) {
            if (!root.visible || !root.busy) return
            root.busy = false
            if (!ok) {
                message.kind = "error"
                message.text = text
                return
            }
            root.close()
            root.chartOpened(patientId)
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        MessageBanner {
            objectName: "breakGlassWarning"
            Layout.fillWidth: true
            kind: "warning"
            text: qsTr("Only in an emergency, for a patient in your care now. Your name, this tablet and your reason are recorded and shown to the patient's clinic and to the patient. The chart opens read-only and is removed from this tablet after some hours.")
        }
        TextField { id: identifier; objectName: "breakGlassIdentifier"; Layout.fillWidth: true; implicitHeight: Theme.touch
                    enabled: !root.busy
                    placeholderText: qsTr("Identifier (medical record or health number)"); Accessible.name: qsTr("Patient identifier")
                    inputMethodHints: Qt.ImhNoPredictiveText }
        TextField { id: birth; objectName: "breakGlassBirthDate"; Layout.fillWidth: true; implicitHeight: Theme.touch
                    enabled: !root.busy
                    placeholderText: qsTr("Birth date (YYYY-MM-DD)"); Accessible.name: qsTr("Birth date")
                    inputMethodHints: Qt.ImhDate }
        TextField { id: reason; objectName: "breakGlassReason"; Layout.fillWidth: true; implicitHeight: Theme.touch
                    enabled: !root.busy
                    placeholderText: qsTr("Why you need this chart now"); Accessible.name: qsTr("Reason") }
        MessageBanner { id: message; objectName: "breakGlassError"; Layout.fillWidth: true }
        Button {
            objectName: "breakGlassOpenButton"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            enabled: !root.busy
            text: root.busy ? qsTr("Asking the server…") : qsTr("Open the chart and record my reason")
            Accessible.name: text
            onClicked: {
                message.text = ""
                // Refusals of what was typed arrive at once, through
                // breakGlassFinished, like the server's answer later.
                root.busy = true
                ChartStore.breakGlass(identifier.text, birth.text, reason.text)
            }
        }
    }
}
