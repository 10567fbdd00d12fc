import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Laboratory results (read-only here), with reference ranges and abnormal
// values flagged.
ListView {
    id: root
    required property ChartController chart
    objectName: "resultList"
    clip: true
    spacing: 2
    model: chart.results
    delegate: RowLayout {
        required property string name
        required property string value
        required property string unit
        required property string when
        required property string flag
        required property string reference
        required property bool enteredInError
        width: root.width
        Label {
            Layout.fillWidth: true
            text: name
            color: Theme.text
            font.strikeout: enteredInError
            elide: Text.ElideRight
        }
        Label {
            text: value + " " + unit + (flag ? "  " + flag : "")
            font.bold: flag.length > 0
            color: flag.length > 0 ? Theme.danger : Theme.text
            Accessible.name: value + " " + unit + (flag === "H" ? qsTr(", above the reference range") : flag === "L" ? qsTr(", below the reference range") : "")
        }
        Label {
            Layout.preferredWidth: 160
            text: reference ? qsTr("ref. %1").arg(reference) : ""
            color: Theme.mutedText
        }
        Label {
            Layout.preferredWidth: 200
            text: when
            color: Theme.mutedText
        }
    }
    Label {
        anchors.centerIn: parent
        visible: root.count === 0
        text: qsTr("No results")
        color: Theme.mutedText
    }
}
