import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// First run: connect this tablet to the clinic's server with a one-time
// enrolment code, and become its first user.
Page {
    id: root
    readonly property string pageKind: "enrol"
    property string defaultServer: ""
    background: Rectangle { color: Theme.background }

    Flickable {
        anchors.fill: parent
        contentHeight: form.implicitHeight + 4 * Theme.spacing
        ColumnLayout {
            id: form
            width: Math.min(root.width - 4 * Theme.spacing, 640)
            anchors.horizontalCenter: parent.horizontalCenter
            y: 2 * Theme.spacing
            spacing: Theme.spacing

            Label {
                text: qsTr("Set up this tablet")
                font.pixelSize: Theme.fontTitle
                color: Theme.text
            }
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.mutedText
                text: qsTr("Ask your clinic's administrator for the server address and a one-time enrolment code. Your passphrase protects the charts on this tablet and is your Charta password.")
            }
            TextField {
                id: server
                objectName: "serverField"
                Layout.fillWidth: true
                implicitHeight: Theme.touch
                text: root.defaultServer
                placeholderText: qsTr("Server address, e.g. https://charta.example.org")
                inputMethodHints: Qt.ImhUrlCharactersOnly
                Accessible.name: qsTr("Server address")
            }
            TextField {
                id: code
                objectName: "codeField"
                Layout.fillWidth: true
                implicitHeight: Theme.touch
                placeholderText: qsTr("Enrolment code")
                Accessible.name: qsTr("Enrolment code")
            }
            TextField {
                id: user
                objectName: "userField"
                Layout.fillWidth: true
                implicitHeight: Theme.touch
                placeholderText: qsTr("Your user name")
                Accessible.name: qsTr("User name")
            }
            TextField {
                id: passphrase
                objectName: "passphraseField"
                Layout.fillWidth: true
                implicitHeight: Theme.touch
                echoMode: TextInput.Password
                placeholderText: qsTr("Your passphrase")
                Accessible.name: qsTr("Passphrase")
            }
            MessageBanner { id: message; objectName: "enrolError"; Layout.fillWidth: true }
            Button {
                objectName: "enrolButton"
                Layout.fillWidth: true
                implicitHeight: Theme.touch
                text: ChartStore.busy ? qsTr("Connecting…") : qsTr("Enrol this tablet")
                enabled: !ChartStore.busy
                Accessible.name: qsTr("Enrol this tablet")
                onClicked: {
                    message.text = ""
                    ChartStore.enrol(server.text, code.text, user.text, passphrase.text)
                }
            }
        }
    }
    Connections {
        target: ChartStore
        function onEnrolFinished(ok, text) {
            passphrase.text = ""
            message.text = ok ? "" : text
        }
    }
}
