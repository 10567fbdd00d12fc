import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Leaving kiosk mode: only with the kiosk passphrase that the clinic's
// administrator set for this tablet.
Dialog {
    id: root
    signal released()

    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(Overlay.overlay ? Overlay.overlay.width * 0.9 : 560, 560)
    title: qsTr("Leave kiosk mode")
    standardButtons: Dialog.Cancel

    onAboutToShow: { passphrase.text = ""; message.text = "" }
    onOpened: passphrase.forceActiveFocus()

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: Theme.text
            text: qsTr("This tablet is shared by the clinic. Only an administrator can close Charta: type the kiosk passphrase.")
        }
        TextField {
            id: passphrase
            objectName: "kioskPassphraseField"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            echoMode: TextInput.Password
            placeholderText: qsTr("Kiosk passphrase")
            Accessible.name: qsTr("Kiosk passphrase")
            onAccepted: leave.clicked()
        }
        MessageBanner { id: message; objectName: "kioskError"; Layout.fillWidth: true }
        Button {
            id: leave
            objectName: "kioskLeaveButton"
            Layout.fillWidth: true
            implicitHeight: Theme.touch
            text: qsTr("Close Charta")
            enabled: passphrase.text.length > 0
            Accessible.name: qsTr("Close Charta")
            onClicked: {
                if (Kiosk.release(passphrase.text)) {
                    root.close()
                    root.released()
                } else {
                    passphrase.text = ""
                    message.kind = "error"
                    message.text = Kiosk.error
                }
            }
        }
    }
}
