import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// The lock screen: choose who you are, type your passphrase. It shows no
// patient data at all.
Page {
    id: root
    readonly property string pageKind: "unlock"
    background: Rectangle { color: Theme.background }

    ColumnLayout {
        width: Math.min(root.width - 4 * Theme.spacing, 560)
        anchors.centerIn: parent
        spacing: Theme.spacing

        Label {
            text: qsTr("Charta is locked")
            font.pixelSize: Theme.fontTitle
            color: Theme.text
        }
        Label {
            text: qsTr("Clinic %1").arg(ChartStore.clinic)
            color: Theme.mutedText
        }
        ComboBox {
            id: user
            objectName: "userChooser"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            model: ChartStore.users
            textRole: "name"
            valueRole: "id"
            Accessible.name: qsTr("User")
        }
        TextField {
            id: passphrase
            objectName: "passphraseField"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            echoMode: TextInput.Password
            placeholderText: qsTr("Passphrase")
            Accessible.name: qsTr("Passphrase")
            onAccepted: unlockButton.clicked()
        }
        MessageBanner { id: message; objectName: "unlockError"; Layout.fillWidth: true }
        Button {
            id: unlockButton
            objectName: "unlockButton"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            text: ChartStore.busy ? qsTr("Unlocking…") : qsTr("Unlock")
            enabled: !ChartStore.busy && passphrase.text.length > 0
            Accessible.name: qsTr("Unlock")
            onClicked: {
                message.text = ""
                ChartStore.unlock(user.currentValue, passphrase.text)
            }
        }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: Theme.mutedText
            font.pixelSize: Theme.fontSmall
            text: qsTr("The tablet locks itself after %n minute(s) without use.", "", Math.max(1, Math.round(ChartStore.autoLockSeconds / 60)))
        }
        Button {
            objectName: "kioskExitButton"
            visible: Kiosk.active
            flat: true
            Layout.alignment: Qt.AlignRight
            text: qsTr("Leave kiosk mode…")
            Accessible.name: qsTr("Leave kiosk mode")
            onClicked: root.Window.window.requestKioskExit()
        }
    }
    Connections {
        target: ChartStore
        function onUnlockFinished(ok, text) {
            passphrase.text = ""
            message.text = ok ? "" : text
        }
    }
}
