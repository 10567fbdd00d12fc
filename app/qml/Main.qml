import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Charta

// The window: enrolment on first run, the lock screen while locked, then the
// patient list, charts and conflicts, with the sync status always in view.
ApplicationWindow {
    id: root
    property string defaultServer: ""
    width: 1280
    height: 800
    visible: true
    // Kiosk mode (a shared clinic tablet): full screen, and closing asks for
    // the kiosk passphrase.
    visibility: Kiosk.active ? Window.FullScreen : Window.AutomaticVisibility
    title: qsTr("Charta")
    color: Theme.background
    font.pixelSize: Theme.fontNormal
    // The Basic style's colours, from the theme (light or dark).
    palette.window: Theme.surface
    palette.windowText: Theme.text
    palette.base: Theme.surface
    palette.text: Theme.text
    palette.button: Theme.dark ? "#2d343c" : "#e3e8ed"
    palette.buttonText: Theme.text
    palette.brightText: Theme.text
    palette.dark: Theme.dark ? "#2d343c" : "#dde3e9"
    palette.mid: Theme.border
    palette.light: Theme.surface
    palette.highlight: Theme.accent
    palette.highlightedText: Theme.textOnAccent
    palette.placeholderText: Theme.mutedText

    readonly property bool portrait: height > width
    property alias kioskExitDialog: kioskExit

    header: SyncStatusBar {
        visible: ChartStore.enrolled && ChartStore.unlocked
        onConflictsRequested: root.showScreen("conflicts", "")
        onLockRequested: ChartStore.lock()
    }

    StackView {
        id: stack
        objectName: "stack"
        anchors.fill: parent
    }

    Component { id: enrolPage; EnrolPage { defaultServer: root.defaultServer } }
    Component { id: unlockPage; UnlockPage {} }
    Component {
        id: listPage
        PatientListPage { onOpenChart: (patientId) => root.openChart(patientId, "summary") }
    }
    Component { id: chartPage; ChartPage {} }
    Component {
        id: conflictListPage
        ConflictListPage { onReview: (patientId) => root.showScreen("conflict-review", patientId) }
    }
    Component { id: conflictReviewPage; ConflictReviewPage {} }

    function home() {
        if (phase === "charts" && currentPhase() === "charts" && stack.depth > 0) {
            stack.pop(null, StackView.Immediate)  // back to the patient list, kept as it was
            return
        }
        phase = currentPhase()
        stack.clear(StackView.Immediate)
        if (!ChartStore.enrolled)
            stack.push(enrolPage, {}, StackView.Immediate)
        else if (!ChartStore.unlocked)
            stack.push(unlockPage, {}, StackView.Immediate)
        else
            stack.push(listPage, {}, StackView.Immediate)
    }

    function openChart(patientId, section) {
        stack.push(chartPage, { patientId: patientId, section: section })
    }

    function setDarkTheme(dark) {
        Theme.dark = dark
    }

    // Named screens, for the screenshots and the flow tests.
    function showScreen(screen, patientId) {
        home()
        if (!ChartStore.unlocked)
            return
        if (screen === "chart")
            stack.push(chartPage, { patientId: patientId, section: "summary" }, StackView.Immediate)
        else if (screen === "vitals")
            stack.push(chartPage, { patientId: patientId, section: "vitals" }, StackView.Immediate)
        else if (screen === "medication-alert") {
            const page = stack.push(chartPage, { patientId: patientId, section: "medications" }, StackView.Immediate)
            page.proposeMedication("Amoxicillin 500 mg")
        } else if (screen === "conflicts")
            stack.push(conflictListPage, {}, StackView.Immediate)
        else if (screen === "conflict-review")
            stack.push(conflictReviewPage, { patientId: patientId }, StackView.Immediate)
    }

    // enrol, unlock or charts: when it changes, start over from its first page.
    property string phase: ""
    function currentPhase() {
        return !ChartStore.enrolled ? "enrol" : !ChartStore.unlocked ? "unlock" : "charts"
    }
    Connections {
        target: ChartStore
        function onStateChanged() {
            if (root.phase !== root.currentPhase())
                root.home()
        }
    }

    onClosing: (close) => {
        if (Kiosk.active && !Kiosk.released) {
            close.accepted = false
            kioskExit.open()
        }
    }
    function requestKioskExit() {
        kioskExit.open()
    }
    KioskExitDialog {
        id: kioskExit
        objectName: "kioskExitDialog"
        onReleased: root.close()
    }
    Shortcut {
        sequences: ["Ctrl+Alt+Q"]
        enabled: Kiosk.active
        onActivated: root.requestKioskExit()
    }

    Component.onCompleted: home()
}
