import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Another member of the clinic joins this shared tablet: their user name (as
// the clinic's server knows them), a name to show on the lock screen, and
// their passphrase (also their Charta password).
Dialog {
    id: root
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(Overlay.overlay ? Overlay.overlay.width * 0.9 : 600, 600)
    title: qsTr("Add a user to this tablet")
    standardButtons: Dialog.Close
    onOpened: { user.text = ""; name.text = ""; pass.text = ""; again.text = ""; message.text = "" }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        TextField { id: user; objectName: "newUserField"; Layout.fillWidth: true; implicitHeight: Theme.touch
                    placeholderText: qsTr("User name"); Accessible.name: qsTr("User name") }
        TextField { id: name; Layout.fillWidth: true; implicitHeight: Theme.touch
                    placeholderText: qsTr("Name shown on the lock screen"); Accessible.name: qsTr("Display name") }
        TextField { id: pass; Layout.fillWidth: true; implicitHeight: Theme.touch; echoMode: TextInput.Password
                    placeholderText: qsTr("Their passphrase"); Accessible.name: qsTr("Passphrase") }
        TextField { id: again; Layout.fillWidth: true; implicitHeight: Theme.touch; echoMode: TextInput.Password
                    placeholderText: qsTr("The passphrase again"); Accessible.name: qsTr("Passphrase again") }
        MessageBanner { id: message; Layout.fillWidth: true }
        Button {
            text: qsTr("Add user")
            implicitHeight: Theme.touch
            Accessible.name: text
            onClicked: {
                if (pass.text !== again.text) {
                    message.kind = "error"
                    message.text = qsTr("The two passphrases differ.")
                    return
                }
                const error = ChartStore.addUser(user.text, name.text, pass.text)
                message.kind = error ? "error" : "info"
                message.text = error ? error : qsTr("%1 can now unlock this tablet.").arg(name.text || user.text)
                if (!error) { pass.text = ""; again.text = "" }
            }
        }
    }
}
