import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// Always on top of a chart: name, age, sex, identifiers and allergies ("no
// known allergies" and "not recorded" are different and look different).
Rectangle {
    id: root
    required property ChartController chart
    color: Theme.surface
    border.color: Theme.border
    implicitHeight: layout.implicitHeight + 2 * Theme.spacing

    ColumnLayout {
        id: layout
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: 4
        RowLayout {
            Layout.fillWidth: true
            Label {
                objectName: "chartName"
                text: root.chart.displayName
                font.pixelSize: Theme.fontTitle
                font.bold: true
                color: Theme.text
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
            Label {
                visible: root.chart.activeVisitText.length > 0
                text: root.chart.activeVisitText
                color: Theme.accent
            }
        }
        Label {
            text: [root.chart.age, root.chart.sex, root.chart.birthDate, root.chart.identifiers]
                  .filter(s => s.length > 0).join("  ·  ")
            color: Theme.mutedText
            Layout.fillWidth: true
            elide: Text.ElideRight
        }
        MessageBanner {
            objectName: "breakGlassBanner"
            Layout.fillWidth: true
            kind: "error"
            text: root.chart.breakGlassText
        }
        MessageBanner {
            objectName: "newerChangesBanner"
            Layout.fillWidth: true
            kind: "warning"
            text: root.chart.newerChangesText
        }
        Label {
            objectName: "allergyBanner"
            text: root.chart.allergySummary
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            padding: 6
            font.bold: root.chart.allergyState !== "none"
            color: root.chart.allergyState === "allergies" ? Theme.danger
                 : root.chart.allergyState === "unknown" ? Theme.warning : Theme.ok
            background: Rectangle {
                radius: Theme.radius
                color: root.chart.allergyState === "allergies" ? Theme.dangerSurface
                     : root.chart.allergyState === "unknown" ? Theme.warningSurface : "transparent"
            }
            Accessible.name: text
        }
    }
}
