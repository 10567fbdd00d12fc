import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Notes: write a draft, edit it, sign it (then it is read-only), and add an
// addendum to a signed note.
ColumnLayout {
    id: root
    required property ChartController chart
    spacing: Theme.spacing
    property string editingId: ""

    TextArea {
        id: editor
        objectName: "noteEditor"
        visible: !root.chart.readOnly  // a break-glass copy is read-only
        Layout.fillWidth: true
        Layout.preferredHeight: 160
        wrapMode: TextEdit.Wrap
        placeholderText: root.editingId ? qsTr("Edit the draft") : qsTr("New note")
        Accessible.name: qsTr("Note text")
        background: Rectangle { color: Theme.surface; border.color: Theme.border; radius: Theme.radius }
    }
    RowLayout {
        visible: !root.chart.readOnly
        spacing: Theme.spacing
        Button {
            objectName: "saveDraftButton"
            text: root.editingId ? qsTr("Save draft") : qsTr("Start draft")
            implicitHeight: Theme.touch
            Accessible.name: text
            onClicked: {
                message.text = root.editingId ? root.chart.editNote(root.editingId, editor.text) : root.chart.startNote(editor.text)
                if (message.text.length === 0) { editor.text = ""; root.editingId = "" }
            }
        }
        Button {
            objectName: "signNoteButton"
            visible: root.editingId.length > 0
            text: qsTr("Sign")
            implicitHeight: Theme.touch
            Accessible.name: qsTr("Sign the note")
            onClicked: {
                message.text = root.chart.signNote(root.editingId, editor.text)
                if (message.text.length === 0) { editor.text = ""; root.editingId = "" }
            }
        }
        Button {
            visible: root.editingId.length > 0
            text: qsTr("Cancel")
            implicitHeight: Theme.touch
            onClicked: { editor.text = ""; root.editingId = "" }
        }
    }
    MessageBanner { id: message; objectName: "noteMessage"; Layout.fillWidth: true }

    ListView {
        id: list
        objectName: "noteList"
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        spacing: 6
        model: root.chart.notes
        delegate: Rectangle {
            id: note
            required property string noteId
            required property string text
            required property bool signed
            required property string author
            required property string when
            required property string signedBy
            required property string signedWhen
            required property var addenda
            required property bool editable
            required property bool conflicted
            width: list.width
            implicitHeight: col.implicitHeight + 2 * Theme.spacing
            radius: Theme.radius
            color: Theme.surface
            border.color: conflicted ? Theme.danger : Theme.border
            ColumnLayout {
                id: col
                anchors.fill: parent
                anchors.margins: Theme.spacing
                Label {
                    text: note.signed ? qsTr("Signed by %1, %2").arg(note.signedBy).arg(note.signedWhen)
                                      : qsTr("Draft by %1, %2").arg(note.author).arg(note.when)
                    color: note.signed ? Theme.ok : Theme.warning
                    font.bold: true
                }
                Label {
                    objectName: "noteText"
                    Layout.fillWidth: true
                    text: note.text
                    wrapMode: Text.Wrap
                    color: Theme.text
                }
                Repeater {
                    model: note.addenda
                    Label { Layout.fillWidth: true; text: modelData; wrapMode: Text.Wrap; color: Theme.mutedText }
                }
                RowLayout {
                    Button {
                        objectName: "editNoteButton"
                        visible: note.editable && !root.chart.readOnly
                        text: qsTr("Edit")
                        implicitHeight: Theme.touch
                        Accessible.name: qsTr("Edit the draft")
                        onClicked: { root.editingId = note.noteId; editor.text = note.text }
                    }
                    Button {
                        objectName: "addendumButton"
                        visible: note.signed && !root.chart.readOnly
                        text: qsTr("Addendum")
                        implicitHeight: Theme.touch
                        Accessible.name: qsTr("Add an addendum")
                        onClicked: { addendum.noteId = note.noteId; addendum.open() }
                    }
                }
            }
        }
    }
    Dialog {
        id: addendum
        property string noteId: ""
        modal: true
        anchors.centerIn: Overlay.overlay
        width: 600
        title: qsTr("Addendum to a signed note")
        standardButtons: Dialog.Cancel
        onOpened: addendumText.text = ""
        ColumnLayout {
            anchors.fill: parent
            TextArea { id: addendumText; Layout.fillWidth: true; Layout.preferredHeight: 140; wrapMode: TextEdit.Wrap
                       Accessible.name: qsTr("Addendum text") }
            Button {
                text: qsTr("Add")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Add the addendum")
                onClicked: { message.text = root.chart.addAddendum(addendum.noteId, addendumText.text); addendum.close() }
            }
        }
    }
}
