import QtQuick
import QtQuick.Controls
import QtTest
import Charta

// The main flows as a nurse does them, on the real window: unlock (a wrong
// passphrase first), search, a vital sign with a range error, a medication
// that triggers the allergy alert, a note signed and then read-only, a
// conflict resolved, a break-glass that cannot reach the server, a
// break-glass copy shown read-only, a wound photo attached, opened, zoomed
// and marked entered in error, and kiosk mode refusing to close without
// its passphrase.
TestCase {
    id: test
    name: "Flows"
    when: windowShown
    property var win: null

    function initTestCase() {
        const component = Qt.createComponent("qrc:/Charta/Main.qml")
        compare(component.status, Component.Ready, component.errorString())
        win = component.createObject(null, { width: 1280, height: 800 })
        verify(win)
        win.show()
        waitForRendering(win.contentItem)
    }
    function cleanupTestCase() {
        if (win) win.destroy()
    }

    function find(name) {
        const item = findChild(win.contentItem, name) || findChild(win.header, name)
        verify(item, "no item named " + name)
        return item
    }
    // The page on top of the window's stack, and its controller.
    function page() {
        return find("stack").currentItem
    }
    function chart() {
        return page().controller
    }
    function typeInto(field, text) {
        mouseClick(field)
        field.selectAll()
        keyClick(Qt.Key_Delete)
        for (const c of text)
            keyClick(c)
    }
    function tab(title) {
        const tabs = find("sectionTabs")
        for (let i = 0; i < tabs.count; ++i) {
            if (tabs.itemAt(i).text === title) {
                mouseClick(tabs.itemAt(i))
                tryCompare(tabs, "currentIndex", i)
                return
            }
        }
        fail("no section " + title)
    }
    function openChart(query) {
        win.home()
        const search = find("searchField")
        typeInto(search, query)
        const list = find("patientList")
        tryCompare(list, "count", 1)
        waitForRendering(list)
        mouseClick(list.itemAtIndex(0))
        tryVerify(() => page().controller !== undefined && page().controller.loaded)
        tryVerify(() => !find("stack").busy)  // the push transition is over
        waitForRendering(page())
    }

    function test_1_unlock() {
        verify(!ChartStore.unlocked)
        // The lock screen shows no patient data.
        verify(!findChild(win.contentItem, "patientList"))
        const pass = find("passphraseField")
        typeInto(pass, "wrong-passphrase")
        mouseClick(find("unlockButton"))
        tryCompare(find("unlockError"), "text", "Wrong user or passphrase.", 20000)
        verify(!ChartStore.unlocked)
        typeInto(find("passphraseField"), testPassphrase)
        mouseClick(find("unlockButton"))
        tryVerify(() => ChartStore.unlocked, 20000)
        tryVerify(() => findChild(win.contentItem, "patientList") !== null)
        tryCompare(find("patientList"), "count", 3)  // two charts and a break-glass copy
    }

    function test_2_search() {
        win.home()
        const list = find("patientList")
        typeInto(find("searchField"), "lindq")
        tryCompare(list, "count", 1)
        typeInto(find("searchField"), "2019-06")
        tryCompare(list, "count", 1)
        typeInto(find("searchField"), "nobody")
        tryCompare(list, "count", 0)
        typeInto(find("searchField"), "")
        tryCompare(list, "count", 3)
    }

    function test_3_vitalWithRangeError() {
        openChart("Lindqvist")
        tab("Vital signs")
        const kind = find("vitalKind")
        const kinds = chart().vitalKinds
        let temperature = -1
        for (let i = 0; i < kinds.length; ++i)
            if (kinds[i].loinc === "8310-5") temperature = i
        verify(temperature >= 0)
        kind.currentIndex = temperature
        const list = find("vitalList")
        const before = list.count
        typeInto(find("vitalValue"), "370")
        verify(find("vitalCheck").text.indexOf("plausible") >= 0, find("vitalCheck").text)
        mouseClick(find("addVitalButton"))
        verify(find("vitalMessage").text.indexOf("plausible") >= 0)
        compare(list.count, before)
        typeInto(find("vitalValue"), "37.2")
        compare(find("vitalCheck").text, "")
        mouseClick(find("addVitalButton"))
        tryCompare(list, "count", before + 1)
        compare(find("vitalMessage").text, "")
    }

    function test_4_medicationAllergyAlert() {
        openChart("Lindqvist")
        tab("Medications")
        typeInto(find("medicationField"), "Amoxicillin 500 mg")
        const alert = find("allergyAlert")
        tryVerify(() => alert.visible)
        waitForRendering(win.contentItem)  // the alert and its reason field are laid out
        verify(find("allergyAlertText").text.indexOf("Penicillin") >= 0)
        mouseClick(find("addMedicationButton"))
        verify(find("medicationMessage").text.indexOf("Allergy alert") === 0, find("medicationMessage").text)
        compare(chart().medications.count, 0)
        typeInto(find("overrideReasonField"), "Tolerated before")
        mouseClick(find("addMedicationButton"))
        tryCompare(chart().medications, "count", 1)
        compare(find("medicationMessage").text, "")
    }

    function test_5_signNoteThenReadOnly() {
        openChart("Okafor")
        tab("Notes")
        const editor = find("noteEditor")
        mouseClick(editor)
        for (const c of "School visit")
            keyClick(c)
        mouseClick(find("saveDraftButton"))
        const list = find("noteList")
        tryCompare(list, "count", 1)
        waitForRendering(list)
        const edit = findChild(list.itemAtIndex(0), "editNoteButton")
        verify(edit.visible)
        mouseClick(edit)
        compare(editor.text, "School visit")
        tryVerify(() => find("signNoteButton").visible)
        waitForRendering(win.contentItem)
        mouseClick(find("signNoteButton"))
        tryVerify(() => chart().notes.get(0).signed)
        waitForRendering(list)
        verify(!findChild(list.itemAtIndex(0), "editNoteButton").visible)
        verify(findChild(list.itemAtIndex(0), "addendumButton").visible)
        compare(chart().editNote(chart().notes.get(0).noteId, "changed"),
                "This note is signed: add an addendum instead.")
    }

    function test_6_resolveConflict() {
        win.home()
        const button = find("conflictsButton")
        tryVerify(() => button.visible)
        mouseClick(button)
        const list = find("conflictList")
        tryCompare(list, "count", 1)
        waitForRendering(list)
        mouseClick(list.itemAtIndex(0))
        tryVerify(() => page().controller !== undefined && !find("stack").busy)
        const review = chart()
        tryCompare(review, "conflictCount", 1)
        const reviewList = find("conflictReviewList")
        waitForRendering(reviewList)
        const keep = findChild(reviewList.itemAtIndex(0), "keepValue0")
        verify(keep)
        mouseClick(keep)
        tryCompare(review, "conflictCount", 0)
        compare(find("resolveMessage").text, "")
        tryCompare(ChartStore, "openConflicts", 0)
    }

    // Break-glass asks for a reason and, offline, says plainly that it needs
    // the server; the dialog keeps what was typed.
    function test_7_breakGlassOffline() {
        win.home()
        mouseClick(find("breakGlassButton"))
        const dialog = page().breakGlassDialog
        tryVerify(() => dialog.opened)
        const field = (name) => {
            const item = findChild(dialog.contentItem, name)
            verify(item, "no item named " + name + " in the dialog")
            return item
        }
        verify(field("breakGlassWarning").text.indexOf("recorded") >= 0)
        typeInto(field("breakGlassIdentifier"), "MRN-1")
        typeInto(field("breakGlassBirthDate"), "1961-07-30")
        typeInto(field("breakGlassReason"), "hm")
        mouseClick(field("breakGlassOpenButton"))
        tryVerify(() => field("breakGlassError").text.indexOf("at least 5") >= 0)
        typeInto(field("breakGlassReason"), "unconscious on arrival")
        mouseClick(field("breakGlassOpenButton"))
        tryVerify(() => !dialog.busy, 30000)
        const error = field("breakGlassError").text
        verify(error.indexOf("server") >= 0, error)
        verify(dialog.visible)
        compare(field("breakGlassIdentifier").text, "MRN-1")
        dialog.close()
        tryVerify(() => !dialog.visible)
        compare(find("stack").depth, 1)
    }

    // A break-glass copy: marked in the list and the header, no entry forms.
    function test_8_breakGlassCopyIsReadOnly() {
        openChart("Visser")
        verify(chart().readOnly)
        const banner = find("breakGlassBanner")
        verify(banner.visible)
        verify(banner.text.indexOf("collapsed at the school gate") >= 0, banner.text)
        tab("Notes")
        verify(!find("noteEditor").visible)
        verify(!find("saveDraftButton").visible)
        tab("Vital signs")
        verify(!find("addVitalButton").visible)
        openChart("Lindqvist")
        verify(!chart().readOnly)
        verify(!find("breakGlassBanner").visible)
        tab("Notes")
        verify(find("noteEditor").visible)
    }

    // Kiosk mode (last: it closes the window): full screen, closing asks for
    // the kiosk passphrase, a wrong one keeps the window open.
    function test_8z_attachPhotoViewAndZoom() {
        openChart("Lindqvist")
        tab("Photos and documents")
        const grid = find("attachmentGrid")
        const section = grid.parent
        const before = grid.count
        mouseClick(find("attachButton"))
        const dialog = findChild(section, "attachDialog")
        verify(dialog)
        tryVerify(() => dialog.opened)
        typeInto(findChild(dialog.contentItem, "attachCaption"), "Left heel")
        // The file dialog is the platform's: the test hands over its choice.
        const url = testControl.writePhoto("heel.png")
        verify(url.length > 0)
        dialog.attachFile(url)
        compare(findChild(dialog.contentItem, "attachMessage").text, "")
        tryVerify(() => !dialog.visible)
        tryCompare(grid, "count", before + 1)
        compare(section.attachments.series.length, 0)
        const row = section.attachments.rows.get(0)
        compare(row.caption, "Left heel")
        compare(row.kind, "wound-photo")
        waitForRendering(grid)
        const thumb = findChild(grid, "thumbnail_0")
        verify(thumb)
        tryCompare(thumb, "status", Image.Ready)
        compare(thumb.implicitWidth, 320)

        mouseClick(grid.itemAtIndex(0))
        const viewer = findChild(section, "attachmentViewer")
        tryVerify(() => viewer.opened)
        const image = findChild(viewer.contentItem, "viewerImage")
        tryCompare(image, "status", Image.Ready)
        compare(image.implicitWidth, 1200)
        compare(image.implicitHeight, 600)
        mouseClick(findChild(viewer.contentItem, "zoomIn"))
        compare(viewer.zoom, 1.5)
        compare(findChild(viewer.contentItem, "zoomLabel").text, "150 %")
        mouseClick(findChild(viewer.contentItem, "zoomIn"))
        compare(viewer.zoom, 2.25)
        mouseClick(findChild(viewer.contentItem, "zoomOut"))
        compare(viewer.zoom, 1.5)

        mouseClick(findChild(viewer.contentItem, "markAttachmentError"))
        const reason = findChild(viewer, "attachmentReason")
        verify(reason)
        tryVerify(() => reason.opened)
        typeInto(findChild(reason.contentItem, "reasonField"), "Wrong patient")
        mouseClick(findChild(reason.contentItem, "reasonConfirm"))
        tryVerify(() => !viewer.visible)
        tryCompare(section.attachments.rows, "count", before + 1)
        tryVerify(() => section.attachments.rows.get(before).enteredInError)
        compare(section.attachments.rows.get(before).statusReason, "Wrong patient")
    }

    function test_9_kioskClosesOnlyWithItsPassphrase() {
        verify(!Kiosk.active)
        verify(testControl.startKiosk())
        verify(Kiosk.active)
        tryCompare(win, "visibility", Window.FullScreen)
        const dialog = win.kioskExitDialog
        win.close()
        tryVerify(() => dialog.opened)
        verify(win.visible)
        const field = (name) => {
            const item = findChild(dialog.contentItem, name)
            verify(item, "no item named " + name + " in the dialog")
            return item
        }
        typeInto(field("kioskPassphraseField"), "not the passphrase")
        mouseClick(field("kioskLeaveButton"))
        tryVerify(() => field("kioskError").text.length > 0, 10000)
        verify(field("kioskError").text.indexOf("not the kiosk passphrase") >= 0, field("kioskError").text)
        verify(win.visible)
        verify(!Kiosk.released)
        typeInto(field("kioskPassphraseField"), kioskPassphrase)
        mouseClick(field("kioskLeaveButton"))
        tryVerify(() => !win.visible, 10000)
        verify(Kiosk.released)
    }
}
