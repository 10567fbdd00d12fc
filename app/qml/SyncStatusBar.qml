import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Always visible while charting: online or offline, edits waiting, the last
// successful sync, the last error in plain words, progress of a long sync,
// and "Sync now".
ToolBar {
    id: root
    signal conflictsRequested()
    signal lockRequested()

    background: Rectangle { color: Theme.surface; border.color: Theme.border }
    implicitHeight: layout.implicitHeight + Theme.spacing

    ColumnLayout {
        id: layout
        anchors.fill: parent
        anchors.margins: Theme.spacing / 2
        spacing: 4
        // One row on a landscape tablet; the status above the buttons in portrait.
        GridLayout {
            Layout.fillWidth: true
            columns: root.width >= 1100 ? 2 : 1
            columnSpacing: Theme.spacing
            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing
                Rectangle {
                    width: 16; height: 16; radius: 8
                    color: ChartStore.connectivity === "online" ? Theme.ok
                         : ChartStore.connectivity === "offline" ? Theme.danger : Theme.mutedText
                    Accessible.ignored: true
                }
                Label {
                    objectName: "connectivityLabel"
                    text: ChartStore.syncing ? qsTr("Syncing…")
                        : ChartStore.connectivity === "online" ? qsTr("Online")
                        : ChartStore.connectivity === "offline" ? qsTr("Offline") : qsTr("Not synced yet")
                    color: Theme.text
                }
                Label {
                    objectName: "pendingLabel"
                    text: ChartStore.pendingEdits === 0 ? qsTr("All edits sent")
                                                        : qsTr("%n edit(s) waiting", "", ChartStore.pendingEdits)
                    color: ChartStore.pendingEdits === 0 ? Theme.mutedText : Theme.pending
                }
                Label {
                    objectName: "lastSyncLabel"
                    text: qsTr("Last sync: %1").arg(ChartStore.lastSyncText)
                    color: Theme.mutedText
                    Layout.fillWidth: true
                    elide: Text.ElideRight
                }
            }
            RowLayout {
                Layout.alignment: Qt.AlignRight
                spacing: Theme.spacing
                Button {
                    objectName: "conflictsButton"
                    visible: ChartStore.openConflicts > 0
                    text: qsTr("%n conflict(s)", "", ChartStore.openConflicts)
                    implicitHeight: Theme.touch
                    palette.buttonText: Theme.danger
                    Accessible.name: text
                    onClicked: root.conflictsRequested()
                }
                Button {
                    objectName: "syncNowButton"
                    text: qsTr("Sync now")
                    enabled: !ChartStore.syncing
                    implicitHeight: Theme.touch
                    Accessible.name: text
                    onClicked: ChartStore.syncNow()
                }
                Button {
                    objectName: "themeButton"
                    text: Theme.dark ? qsTr("Light") : qsTr("Dark")
                    implicitHeight: Theme.touch
                    Accessible.name: Theme.dark ? qsTr("Use the light theme") : qsTr("Use the dark theme")
                    onClicked: Theme.dark = !Theme.dark
                }
                Button {
                    objectName: "lockButton"
                    text: qsTr("Lock")
                    implicitHeight: Theme.touch
                    Accessible.name: qsTr("Lock the tablet")
                    onClicked: root.lockRequested()
                }
            }
        }
        ProgressBar {
            objectName: "syncProgress"
            Layout.fillWidth: true
            visible: ChartStore.syncing && ChartStore.progressTotal > 0
            from: 0
            to: Math.max(1, ChartStore.progressTotal)
            value: ChartStore.progressDone
            Accessible.name: qsTr("Sync progress: %1 of %2").arg(ChartStore.progressDone).arg(ChartStore.progressTotal)
        }
        MessageBanner {
            objectName: "syncErrorBanner"
            Layout.fillWidth: true
            kind: "warning"
            text: ChartStore.lastError.length > 0
                  ? qsTr("Last sync failed: %1. Your edits are kept on this tablet and will be sent later.").arg(ChartStore.lastError.replace(/[.!]+$/, ""))
                  : (ChartStore.signInNeeded ? qsTr("The server wants you to sign in again: lock and unlock the tablet.") : "")
        }
    }
}
