import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// One patient's chart: the header, then a section at a time.
Page {
    id: root
    readonly property string pageKind: "charts"
    property string patientId: ""
    property string section: "summary"
    readonly property ChartController controller: chart
    background: Rectangle { color: Theme.background }

    ChartController {
        id: chart
        objectName: "chartController"
        patientId: root.patientId
    }

    readonly property var sections: [
        { key: "summary", title: qsTr("Summary") },
        { key: "allergies", title: qsTr("Allergies") },
        { key: "problems", title: qsTr("Problems") },
        { key: "medications", title: qsTr("Medications") },
        { key: "immunisations", title: qsTr("Immunisations") },
        { key: "vitals", title: qsTr("Vital signs") },
        { key: "visits", title: qsTr("Visits") },
        { key: "results", title: qsTr("Results") },
        { key: "notes", title: qsTr("Notes") },
        { key: "attachments", title: qsTr("Photos and documents") }
    ]
    function indexOfSection(key) {
        for (let i = 0; i < sections.length; ++i)
            if (sections[i].key === key) return i
        return 0
    }
    // Opens the medication form with a name typed in (it shows the allergy alert, if any).
    function proposeMedication(name) {
        tabs.currentIndex = indexOfSection("medications")
        medications.propose(name)
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        RowLayout {
            Layout.fillWidth: true
            Button {
                objectName: "backButton"
                text: qsTr("‹ Patients")
                implicitHeight: Theme.touch
                flat: true
                Accessible.name: qsTr("Back to the patient list")
                onClicked: root.StackView.view.pop()
            }
            MessageBanner {
                Layout.fillWidth: true
                text: chart.loadError
            }
        }
        ChartHeader { chart: chart; Layout.fillWidth: true }
        TabBar {
            id: tabs
            objectName: "sectionTabs"
            Layout.fillWidth: true
            currentIndex: root.indexOfSection(root.section)
            Repeater {
                model: root.sections
                TabButton {
                    text: modelData.title
                    width: implicitWidth + 2 * Theme.spacing
                    implicitHeight: Theme.touch
                    Accessible.name: text
                }
            }
        }
        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: Theme.spacing
            currentIndex: tabs.currentIndex
            SummarySection { chart: chart }
            EntrySection { kind: "allergies"; chart: chart; rows: chart.allergies }
            EntrySection { kind: "problems"; chart: chart; rows: chart.problems }
            MedicationsSection { id: medications; chart: chart }
            ImmunisationsSection { chart: chart }
            VitalsSection { chart: chart }
            VisitsSection { chart: chart }
            ResultsSection { chart: chart }
            NotesSection { chart: chart }
            AttachmentsSection { chart: chart }
        }
    }
}
