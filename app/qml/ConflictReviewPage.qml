import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// One chart's conflicts: the competing values side by side with who, which
// device and when; keep one, or type a new value.
Page {
    id: root
    readonly property string pageKind: "charts"
    property string patientId: ""
    readonly property ChartController controller: chart
    background: Rectangle { color: Theme.background }

    ChartController { id: chart; objectName: "reviewController"; patientId: root.patientId }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: Theme.spacing
        RowLayout {
            Button { text: qsTr("‹ Back"); flat: true; implicitHeight: Theme.touch
                     Accessible.name: qsTr("Back"); onClicked: root.StackView.view.pop() }
            Label { text: qsTr("Conflicts in %1").arg(chart.displayName); font.pixelSize: Theme.fontTitle
                    color: Theme.text; elide: Text.ElideRight; Layout.fillWidth: true }
        }
        MessageBanner { id: message; objectName: "resolveMessage"; Layout.fillWidth: true }
        Label { visible: chart.conflictCount === 0; text: qsTr("No open conflicts in this chart."); color: Theme.mutedText }
        ListView {
            id: list
            objectName: "conflictReviewList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: Theme.spacing
            model: chart.conflicts
            delegate: Rectangle {
                id: conflict
                required property int index
                required property string label
                required property string shown
                required property var values
                required property bool clinical
                width: list.width
                implicitHeight: col.implicitHeight + 2 * Theme.spacing
                radius: Theme.radius
                color: Theme.surface
                border.color: clinical ? Theme.danger : Theme.border
                ColumnLayout {
                    id: col
                    anchors.fill: parent
                    anchors.margins: Theme.spacing
                    Label { text: conflict.label; font.pixelSize: Theme.fontLarge; font.bold: true; color: Theme.text }
                    Flow {
                        Layout.fillWidth: true
                        spacing: Theme.spacing
                        Repeater {
                            model: conflict.values
                            Rectangle {
                                width: Math.max(260, (list.width - 4 * Theme.spacing) / Math.max(1, conflict.values.length))
                                implicitHeight: valueCol.implicitHeight + 2 * Theme.spacing
                                radius: Theme.radius
                                border.color: Theme.border
                                color: Theme.background
                                ColumnLayout {
                                    id: valueCol
                                    anchors.fill: parent
                                    anchors.margins: Theme.spacing
                                    Label { text: modelData.value; font.pixelSize: Theme.fontLarge; color: Theme.text
                                            wrapMode: Text.Wrap; Layout.fillWidth: true }
                                    Label { text: qsTr("%1 on device %2").arg(modelData.author).arg(modelData.device); color: Theme.mutedText }
                                    Label { text: modelData.when; color: Theme.mutedText }
                                    Button {
                                        objectName: "keepValue" + index
                                        text: qsTr("Keep this value")
                                        implicitHeight: Theme.touch
                                        Accessible.name: qsTr("Keep %1").arg(modelData.value)
                                        onClicked: message.text = chart.resolveConflict(conflict.index, index)
                                    }
                                }
                            }
                        }
                    }
                    RowLayout {
                        Layout.fillWidth: true
                        TextField { id: typed; Layout.fillWidth: true; implicitHeight: Theme.touch
                                    placeholderText: qsTr("Or type the right value"); Accessible.name: qsTr("New value") }
                        Button {
                            text: qsTr("Use this value")
                            enabled: typed.text.trim().length > 0
                            implicitHeight: Theme.touch
                            Accessible.name: text
                            onClicked: message.text = chart.resolveConflictWith(conflict.index, typed.text)
                        }
                    }
                }
            }
        }
    }
}
