import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Vital signs: entry with the unit shown and a plausible-range check (a
// typo like 370 for a temperature is caught before saving), the trend of
// the chosen sign, and every value with entered-in-error marking.
ColumnLayout {
    id: root
    required property ChartController chart
    spacing: Theme.spacing
    property string markId: ""

    RowLayout {
        visible: !root.chart.readOnly  // a break-glass copy is read-only
        Layout.fillWidth: true
        spacing: Theme.spacing
        ComboBox {
            id: kind
            objectName: "vitalKind"
            Layout.preferredWidth: 320
            implicitHeight: Theme.touch
            model: root.chart.vitalKinds
            textRole: "name"
            valueRole: "loinc"
            Accessible.name: qsTr("Vital sign")
        }
        TextField {
            id: value
            objectName: "vitalValue"
            Layout.preferredWidth: 160
            implicitHeight: Theme.touch
            inputMethodHints: Qt.ImhFormattedNumbersOnly
            placeholderText: qsTr("Value")
            Accessible.name: qsTr("Value")
            onTextChanged: check.text = text.length > 0 ? root.chart.checkVital(kind.currentValue, text) : ""
        }
        Label {
            text: kind.currentIndex >= 0 ? root.chart.vitalKinds[kind.currentIndex].unit : ""
            color: Theme.mutedText
        }
        Button {
            objectName: "addVitalButton"
            text: qsTr("Save")
            implicitHeight: Theme.touch
            Accessible.name: qsTr("Save vital sign")
            onClicked: {
                message.text = root.chart.addVital(kind.currentValue, value.text)
                if (message.text.length === 0) value.text = ""
            }
        }
    }
    MessageBanner { id: check; objectName: "vitalCheck"; Layout.fillWidth: true; kind: "warning" }
    MessageBanner { id: message; objectName: "vitalMessage"; Layout.fillWidth: true }
    TrendPlot {
        objectName: "trendPlot"
        Layout.fillWidth: true
        title: kind.currentText
        unit: kind.currentIndex >= 0 ? root.chart.vitalKinds[kind.currentIndex].unit : ""
        points: {
            root.chart.vitals.count  // re-evaluated when values arrive
            return root.chart.vitalSeries(kind.currentValue)
        }
    }
    ListView {
        id: list
        objectName: "vitalList"
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        model: root.chart.vitals
        delegate: RowLayout {
            required property string observationId
            required property string name
            required property string value
            required property string unit
            required property string when
            required property bool enteredInError
            required property string errorReason
            width: list.width
            Label {
                Layout.fillWidth: true
                text: name + ": " + value + " " + unit + "  ·  " + when + (enteredInError ? "  (" + qsTr("entered in error: %1").arg(errorReason) + ")" : "")
                font.strikeout: enteredInError
                color: enteredInError ? Theme.mutedText : Theme.text
                elide: Text.ElideRight
            }
            Button {
                visible: !enteredInError && !root.chart.readOnly
                text: qsTr("In error")
                implicitHeight: Theme.touch
                Accessible.name: qsTr("Mark %1 %2 as entered in error").arg(name).arg(value)
                onClicked: { root.markId = observationId; reason.open() }
            }
        }
    }
    ReasonDialog {
        id: reason
        prompt: qsTr("Why is this value in error?")
        suggestions: [qsTr("Wrong patient"), qsTr("Typing error"), qsTr("Faulty device")]
        onReasonGiven: (text) => message.text = root.chart.markObservationError(root.markId, text)
    }
}
