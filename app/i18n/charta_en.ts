<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>AddUserDialog</name>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="14"/>
        <source>Add a user to this tablet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="22"/>
        <source>User name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="24"/>
        <source>Name shown on the lock screen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="24"/>
        <source>Display name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="26"/>
        <source>Their passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="26"/>
        <source>Passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="28"/>
        <source>The passphrase again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="28"/>
        <source>Passphrase again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="31"/>
        <source>Add user</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="37"/>
        <source>The two passphrases differ.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AddUserDialog.qml" line="42"/>
        <source>%1 can now unlock this tablet.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AttachDialog</name>
    <message>
        <location filename="../qml/AttachDialog.qml" line="16"/>
        <source>Attach a photo or document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="43"/>
        <source>Kind of attachment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="53"/>
        <source>What it is about: the patient, a visit or an entry</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="60"/>
        <source>Caption (what it shows)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="71"/>
        <source>Wound series (photos of the same wound over time)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="77"/>
        <source>Choose file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="79"/>
        <source>Choose a photo or PDF file to attach</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="85"/>
        <source>Take photo…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="87"/>
        <source>Take a photo with the camera</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="103"/>
        <source>Choose a photo or document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="104"/>
        <source>Photos and PDF documents (*.jpg *.jpeg *.png *.pdf)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachDialog.qml" line="104"/>
        <source>All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AttachmentViewer</name>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="71"/>
        <source>‹ Back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="74"/>
        <source>Close the viewer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="88"/>
        <source>about %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="102"/>
        <source>Zoom out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="117"/>
        <source>Zoom in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="121"/>
        <source>Fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="124"/>
        <source>Fit the photo to the screen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="131"/>
        <source>Downloading…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="131"/>
        <source>Download now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="133"/>
        <source>Download this file to the tablet now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="143"/>
        <source>Entered in error…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="145"/>
        <source>Mark this attachment as entered in error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="194"/>
        <source>Entered in error: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="195"/>
        <source>Not on this tablet yet: it downloads at a later sync, or now with &quot;Download now&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="196"/>
        <source>PDF document %1 (%2), stored on this tablet. It opens in the clinic&apos;s record.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="201"/>
        <source>This photo cannot be shown: its stored copy did not pass its check. It was recorded in the audit trail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="211"/>
        <source>Why is this attachment entered in error?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="212"/>
        <source>Wrong patient</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="212"/>
        <source>Duplicate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentViewer.qml" line="212"/>
        <source>Unclear photo</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AttachmentsSection</name>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="27"/>
        <source>Attach photo or document…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="37"/>
        <location filename="../qml/AttachmentsSection.qml" line="139"/>
        <source>Series: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="40"/>
        <source>Show the wound series %1 side by side</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="115"/>
        <source>Entered in error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="116"/>
        <source>PDF document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="116"/>
        <source>PDF document, not on this tablet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="117"/>
        <source>Photo not on this tablet yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="138"/>
        <source>Entered in error: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/AttachmentsSection.qml" line="152"/>
        <source>No photos or documents yet</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>BreakGlassDialog</name>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="17"/>
        <source>Break glass: open a chart outside your clinic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="47"/>
        <source>Only in an emergency, for a patient in your care now. Your name, this tablet and your reason are recorded and shown to the patient&apos;s clinic and to the patient. The chart opens read-only and is removed from this tablet after some hours.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="51"/>
        <source>Identifier (medical record or health number)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="51"/>
        <source>Patient identifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="55"/>
        <source>Birth date (YYYY-MM-DD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="55"/>
        <source>Birth date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="59"/>
        <source>Why you need this chart now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="59"/>
        <source>Reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="66"/>
        <source>Asking the server…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/BreakGlassDialog.qml" line="66"/>
        <source>Open the chart and record my reason</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CameraCapture</name>
    <message>
        <location filename="../qml/CameraCapture.qml" line="18"/>
        <source>Take a photo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/CameraCapture.qml" line="48"/>
        <source>Take photo</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChartPage</name>
    <message>
        <location filename="../qml/ChartPage.qml" line="22"/>
        <source>Summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="23"/>
        <source>Allergies</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="24"/>
        <source>Problems</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="25"/>
        <source>Medications</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="26"/>
        <source>Immunisations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="27"/>
        <source>Vital signs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="28"/>
        <source>Visits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="29"/>
        <source>Results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="30"/>
        <source>Notes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="31"/>
        <source>Photos and documents</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="51"/>
        <source>‹ Patients</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ChartPage.qml" line="54"/>
        <source>Back to the patient list</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConflictListPage</name>
    <message>
        <location filename="../qml/ConflictListPage.qml" line="19"/>
        <source>‹ Patients</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictListPage.qml" line="20"/>
        <source>Back to the patient list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictListPage.qml" line="21"/>
        <source>Open conflicts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictListPage.qml" line="25"/>
        <source>No open conflicts.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictListPage.qml" line="46"/>
        <source>  (non-clinical)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConflictReviewPage</name>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="22"/>
        <source>‹ Back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="23"/>
        <source>Back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="24"/>
        <source>Conflicts in %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="28"/>
        <source>No open conflicts in this chart.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="71"/>
        <source>%1 on device %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="75"/>
        <source>Keep this value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="77"/>
        <source>Keep %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="87"/>
        <source>Or type the right value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="87"/>
        <source>New value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ConflictReviewPage.qml" line="89"/>
        <source>Use this value</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EnrolPage</name>
    <message>
        <location filename="../qml/EnrolPage.qml" line="25"/>
        <source>Set up this tablet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="33"/>
        <source>Ask your clinic&apos;s administrator for the server address and a one-time enrolment code. Your passphrase protects the charts on this tablet and is your Charta password.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="41"/>
        <source>Server address, e.g. https://charta.example.org</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="43"/>
        <source>Server address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="50"/>
        <location filename="../qml/EnrolPage.qml" line="51"/>
        <source>Enrolment code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="58"/>
        <source>Your user name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="59"/>
        <source>User name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="67"/>
        <source>Your passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="68"/>
        <source>Passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="75"/>
        <source>Connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EnrolPage.qml" line="75"/>
        <location filename="../qml/EnrolPage.qml" line="77"/>
        <source>Enrol this tablet</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EntrySection</name>
    <message>
        <location filename="../qml/EntrySection.qml" line="24"/>
        <source>Allergic to…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="24"/>
        <source>Problem</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="33"/>
        <location filename="../qml/EntrySection.qml" line="35"/>
        <source>Criticality</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="33"/>
        <source>Low risk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="34"/>
        <source>High risk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="34"/>
        <source>Unable to assess</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="40"/>
        <source>Reaction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="40"/>
        <source>Onset (YYYY-MM-DD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="45"/>
        <source>Add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="47"/>
        <source>Add allergy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="47"/>
        <source>Add problem</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="61"/>
        <source>Allergies not asked yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="61"/>
        <source>No known allergies</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="106"/>
        <source>by %1, %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="114"/>
        <source>Change…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/EntrySection.qml" line="116"/>
        <source>Change the status of %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ImmunisationsSection</name>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="17"/>
        <source>Due and overdue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="34"/>
        <source>dose %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="35"/>
        <source>given %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="36"/>
        <source>OVERDUE since %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="37"/>
        <source>due now (from %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="37"/>
        <source>from %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="47"/>
        <source>Given</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="52"/>
        <source>Vaccine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="54"/>
        <source>CVX</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="54"/>
        <source>CVX code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="60"/>
        <source>Date given (today if empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="60"/>
        <source>Date given</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="62"/>
        <source>Lot</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="62"/>
        <source>Lot number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="64"/>
        <source>Record</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="66"/>
        <source>Record immunisation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="82"/>
        <source>Vision screening</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="82"/>
        <source>Hearing screening</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="83"/>
        <source>Screening</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="90"/>
        <source>Pass</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="90"/>
        <source>Refer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="91"/>
        <source>Screening result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ImmunisationsSection.qml" line="95"/>
        <source>Record screening</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>KioskExitDialog</name>
    <message>
        <location filename="../qml/KioskExitDialog.qml" line="15"/>
        <source>Leave kiosk mode</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/KioskExitDialog.qml" line="28"/>
        <source>This tablet is shared by the clinic. Only an administrator can close Charta: type the kiosk passphrase.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/KioskExitDialog.qml" line="36"/>
        <location filename="../qml/KioskExitDialog.qml" line="37"/>
        <source>Kiosk passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/KioskExitDialog.qml" line="46"/>
        <location filename="../qml/KioskExitDialog.qml" line="48"/>
        <source>Close Charta</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <location filename="../qml/Main.qml" line="17"/>
        <source>Charta</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MedicationsSection</name>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="31"/>
        <source>Medication and strength</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="32"/>
        <source>Medication</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="36"/>
        <location filename="../qml/MedicationsSection.qml" line="172"/>
        <source>Dose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="38"/>
        <source>Route</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="40"/>
        <source>How often</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="43"/>
        <source>Add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="45"/>
        <source>Add medication</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="75"/>
        <source>Allergy alert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="82"/>
        <source>To record it anyway, say why (for example: tolerated before, prescriber informed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="83"/>
        <source>Reason to override the allergy alert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="126"/>
        <source>by %1, %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="134"/>
        <source>Change dose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="136"/>
        <source>Change the dose of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="141"/>
        <source>Hold, stop…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="143"/>
        <source>Change the status of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="166"/>
        <location filename="../qml/MedicationsSection.qml" line="172"/>
        <source>New dose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="174"/>
        <source>Save</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/MedicationsSection.qml" line="176"/>
        <source>Save the new dose</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>NewPatientDialog</name>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="16"/>
        <source>New patient</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="34"/>
        <source>Family name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="36"/>
        <source>Given names</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="38"/>
        <source>Birth date (YYYY-MM-DD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="38"/>
        <source>Birth date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="47"/>
        <source>Female</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="47"/>
        <source>Male</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="48"/>
        <source>Other</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="48"/>
        <source>Unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="49"/>
        <source>Sex</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="52"/>
        <source>Medical record number (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="52"/>
        <source>Medical record number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="58"/>
        <source>This may be a patient already on this tablet: %1. Open that chart instead if it is the same person.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="65"/>
        <source>Open %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="76"/>
        <source>Create a new chart anyway</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NewPatientDialog.qml" line="76"/>
        <source>Create chart</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>NotesSection</name>
    <message>
        <location filename="../qml/NotesSection.qml" line="21"/>
        <location filename="../qml/NotesSection.qml" line="110"/>
        <source>Edit the draft</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="21"/>
        <source>New note</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="22"/>
        <source>Note text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="30"/>
        <source>Save draft</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="30"/>
        <source>Start draft</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="41"/>
        <source>Sign</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="43"/>
        <source>Sign the note</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="51"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="88"/>
        <source>Signed by %1, %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="89"/>
        <source>Draft by %1, %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="108"/>
        <source>Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="116"/>
        <source>Addendum</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="118"/>
        <source>Add an addendum</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="131"/>
        <source>Addendum to a signed note</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="137"/>
        <source>Addendum text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="139"/>
        <source>Add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/NotesSection.qml" line="141"/>
        <source>Add the addendum</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PatientDelegate</name>
    <message>
        <location filename="../qml/PatientDelegate.qml" line="50"/>
        <source>Break-glass, read-only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientDelegate.qml" line="74"/>
        <source>Edits not yet synced</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientDelegate.qml" line="80"/>
        <source>Open conflict</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PatientListPage</name>
    <message>
        <location filename="../qml/PatientListPage.qml" line="35"/>
        <source>Search by name, birth date or identifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="36"/>
        <source>Search patients</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="46"/>
        <source>The clinic&apos;s patients</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="47"/>
        <source>My caseload</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="48"/>
        <source>Needs attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="49"/>
        <source>Which patients to list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="53"/>
        <source>Add user</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="55"/>
        <source>Add a user to this tablet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="60"/>
        <source>Break glass</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="62"/>
        <source>Open a chart outside your clinic in an emergency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="67"/>
        <source>New patient</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="77"/>
        <source>%1 of %2 patients · %3 charts cannot be read on this tablet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/PatientListPage.qml" line="78"/>
        <source>%1 of %2 patients</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <location filename="../src/chart_controller.cc" line="68"/>
        <source>active</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="69"/>
        <source>inactive</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="70"/>
        <source>resolved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="71"/>
        <source>on hold</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="72"/>
        <source>completed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="73"/>
        <source>stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="74"/>
        <source>not done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="75"/>
        <source>entered in error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="76"/>
        <source>planned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="77"/>
        <source>in progress</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="78"/>
        <source>finished</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="79"/>
        <source>cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="81"/>
        <source>unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="90"/>
        <source>Note text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="103"/>
        <source>Vision screening</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="104"/>
        <source>Hearing screening</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/patient_list_model.cc" line="27"/>
        <source>(no name recorded)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/text_format.cc" line="12"/>
        <source>just now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/text_format.cc" line="13"/>
        <source>%1 min ago</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/text_format.cc" line="15"/>
        <source>%1 h ago</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../src/text_format.cc" line="17"/>
        <source>%n day(s) ago</source>
        <translation>
            <numerusform>%n day ago</numerusform>
            <numerusform>%n days ago</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../src/text_format.cc" line="27"/>
        <source>yes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/text_format.cc" line="27"/>
        <source>no</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="48"/>
        <source>Wound photo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="49"/>
        <source>Consent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="50"/>
        <source>Referral</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="51"/>
        <source>Outside result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="52"/>
        <source>Photo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="53"/>
        <source>Document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="63"/>
        <source>The patient</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="64"/>
        <source>Visit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="65"/>
        <source>Problem</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="66"/>
        <source>Allergy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="67"/>
        <source>Medication</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="68"/>
        <source>Immunisation</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ReasonDialog</name>
    <message>
        <location filename="../qml/ReasonDialog.qml" line="9"/>
        <source>Why?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ReasonDialog.qml" line="10"/>
        <source>Entered in error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ReasonDialog.qml" line="10"/>
        <source>Resolved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ReasonDialog.qml" line="10"/>
        <source>Refuted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ReasonDialog.qml" line="44"/>
        <location filename="../qml/ReasonDialog.qml" line="45"/>
        <source>Reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ReasonDialog.qml" line="49"/>
        <source>Confirm</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ResultsSection</name>
    <message>
        <location filename="../qml/ResultsSection.qml" line="35"/>
        <source>, above the reference range</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ResultsSection.qml" line="35"/>
        <source>, below the reference range</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ResultsSection.qml" line="39"/>
        <source>ref. %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/ResultsSection.qml" line="51"/>
        <source>No results</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SeriesView</name>
    <message>
        <location filename="../qml/SeriesView.qml" line="35"/>
        <source>‹ Back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SeriesView.qml" line="38"/>
        <source>Close the series</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../qml/SeriesView.qml" line="43"/>
        <source>Wound series: %1 (%n photo(s))</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <location filename="../qml/SeriesView.qml" line="78"/>
        <source>Not on this tablet yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SeriesView.qml" line="86"/>
        <source>day %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>StatusDialog</name>
    <message>
        <location filename="../qml/StatusDialog.qml" line="19"/>
        <source>Change %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/StatusDialog.qml" line="38"/>
        <source>Mark as %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/StatusDialog.qml" line="49"/>
        <source>Why? (for example: entered in error, resolved, refuted)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/StatusDialog.qml" line="50"/>
        <source>Reason for the change</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/StatusDialog.qml" line="54"/>
        <source>Confirm</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/StatusDialog.qml" line="57"/>
        <source>Confirm the change</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SummarySection</name>
    <message numerus="yes">
        <location filename="../qml/SummarySection.qml" line="22"/>
        <source>%n field(s) of this chart have competing values from different devices: review them under Conflicts.</source>
        <translation>
            <numerusform>%n field of this chart has competing values from different devices: review it under Conflicts.</numerusform>
            <numerusform>%n fields of this chart have competing values from different devices: review them under Conflicts.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="25"/>
        <source>Contact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="30"/>
        <source>No contact details recorded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="32"/>
        <source>Active problems</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="43"/>
        <source>Current medications</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="48"/>
        <source>  (on hold)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="54"/>
        <source>Due now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="59"/>
        <source>dose %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="60"/>
        <source>overdue since %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="60"/>
        <source>due</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="70"/>
        <location filename="../qml/SummarySection.qml" line="92"/>
        <source>Start a visit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="78"/>
        <source>End the visit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="103"/>
        <source>Home visit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="103"/>
        <source>School clinic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="104"/>
        <source>Workplace clinic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="104"/>
        <source>Clinic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="105"/>
        <source>Where</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="108"/>
        <source>Reason for the visit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="110"/>
        <source>Place (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="110"/>
        <source>Place</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="112"/>
        <source>Start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SummarySection.qml" line="114"/>
        <source>Start the visit</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SyncStatusBar</name>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="38"/>
        <source>Syncing…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="39"/>
        <source>Online</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="40"/>
        <source>Offline</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="40"/>
        <source>Not synced yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="45"/>
        <source>All edits sent</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../qml/SyncStatusBar.qml" line="46"/>
        <source>%n edit(s) waiting</source>
        <translation>
            <numerusform>%n edit waiting</numerusform>
            <numerusform>%n edits waiting</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="51"/>
        <source>Last sync: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../qml/SyncStatusBar.qml" line="63"/>
        <source>%n conflict(s)</source>
        <translation>
            <numerusform>%n conflict</numerusform>
            <numerusform>%n conflicts</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="71"/>
        <source>Sync now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="79"/>
        <source>Light</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="79"/>
        <source>Dark</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="81"/>
        <source>Use the light theme</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="81"/>
        <source>Use the dark theme</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="86"/>
        <source>Lock</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="88"/>
        <source>Lock the tablet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="100"/>
        <source>Sync progress: %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="107"/>
        <source>Last sync failed: %1. Your edits are kept on this tablet and will be sent later.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/SyncStatusBar.qml" line="108"/>
        <source>The server wants you to sign in again: lock and unlock the tablet.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TrendPlot</name>
    <message>
        <location filename="../qml/TrendPlot.qml" line="14"/>
        <source>values</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/TrendPlot.qml" line="30"/>
        <source>No values recorded yet</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>UnlockPage</name>
    <message>
        <location filename="../qml/UnlockPage.qml" line="19"/>
        <source>Charta is locked</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/UnlockPage.qml" line="24"/>
        <source>Clinic %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/UnlockPage.qml" line="35"/>
        <source>User</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/UnlockPage.qml" line="43"/>
        <location filename="../qml/UnlockPage.qml" line="44"/>
        <source>Passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/UnlockPage.qml" line="53"/>
        <source>Unlocking…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/UnlockPage.qml" line="53"/>
        <location filename="../qml/UnlockPage.qml" line="55"/>
        <source>Unlock</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../qml/UnlockPage.qml" line="66"/>
        <source>The tablet locks itself after %n minute(s) without use.</source>
        <translation>
            <numerusform>The tablet locks itself after %n minute without use.</numerusform>
            <numerusform>The tablet locks itself after %n minutes without use.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../qml/UnlockPage.qml" line="73"/>
        <source>Leave kiosk mode…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/UnlockPage.qml" line="74"/>
        <source>Leave kiosk mode</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>VisitsSection</name>
    <message>
        <location filename="../qml/VisitsSection.qml" line="39"/>
        <source>in progress since %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../qml/VisitsSection.qml" line="40"/>
        <source>%n item(s) charted</source>
        <translation>
            <numerusform>%n item charted</numerusform>
            <numerusform>%n items charted</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../qml/VisitsSection.qml" line="48"/>
        <source>No visits yet</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>VitalsSection</name>
    <message>
        <location filename="../qml/VitalsSection.qml" line="27"/>
        <source>Vital sign</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="35"/>
        <location filename="../qml/VitalsSection.qml" line="36"/>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="45"/>
        <source>Save</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="47"/>
        <source>Save vital sign</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="84"/>
        <source>entered in error: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="91"/>
        <source>In error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="93"/>
        <source>Mark %1 %2 as entered in error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="100"/>
        <source>Why is this value in error?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="101"/>
        <source>Wrong patient</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="101"/>
        <source>Typing error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../qml/VitalsSection.qml" line="101"/>
        <source>Faulty device</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>charta::app::ChartAttachments</name>
    <message>
        <location filename="../src/attachments_controller.cc" line="147"/>
        <source>an entry no longer shown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="190"/>
        <source>entered in error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="190"/>
        <source>active</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location filename="../src/attachments_controller.cc" line="219"/>
        <source>%n original(s) (%1) not on this tablet yet: they download at the next syncs, newest first, within the tablet&apos;s storage budget.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="253"/>
        <source>Cannot open %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="253"/>
        <source>the file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="256"/>
        <location filename="../src/attachments_controller.cc" line="288"/>
        <source>This file is too large to attach (%1; the limit is %2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="260"/>
        <source>Cannot read %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="266"/>
        <source>The camera gave no picture. Try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="268"/>
        <source>The photo could not be saved as JPEG.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="274"/>
        <source>No chart is open.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="275"/>
        <source>This chart is read-only on this tablet (break-glass access).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="277"/>
        <source>This tablet is not enrolled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="280"/>
        <source>Choose what kind of file this is.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="284"/>
        <source>Choose what this is about again: that entry is not in the chart.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="286"/>
        <source>The file is empty: nothing to attach.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="293"/>
        <source>Only JPEG or PNG photos and PDF documents can be attached.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="306"/>
        <source>This photo cannot be read: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="309"/>
        <source>The photo&apos;s thumbnail could not be made.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/attachments_controller.cc" line="313"/>
        <location filename="../src/attachments_controller.cc" line="317"/>
        <source>Not saved (%1). Nothing was changed.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>charta::app::ChartController</name>
    <message>
        <location filename="../src/chart_controller.cc" line="155"/>
        <location filename="../src/chart_controller.cc" line="182"/>
        <source>This chart cannot be shown: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="170"/>
        <source>Break-glass access to a patient of clinic %1 by %2: &quot;%3&quot;. Read-only on this tablet, removed at %4. Recorded in the audit trail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="214"/>
        <source>(no name recorded)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="252"/>
        <source> (high risk)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="255"/>
        <source>Allergies: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="256"/>
        <source>No known allergies</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="256"/>
        <source>Allergies not recorded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="279"/>
        <source>%1 visit since %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="346"/>
        <source>criticality %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="350"/>
        <location filename="../src/chart_controller.cc" line="355"/>
        <source>since %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="359"/>
        <source>lot %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="448"/>
        <source>Addendum by %1, %2: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="536"/>
        <source>No chart store.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="537"/>
        <source>No chart is open.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="541"/>
        <source>Not saved: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="542"/>
        <source>Not saved (%1). Nothing was changed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="554"/>
        <source>Unknown field %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="557"/>
        <source>Enter the birth date as YYYY-MM-DD.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="560"/>
        <source>Sex must be female, male, other or unknown.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="570"/>
        <source>This patient has active allergies: mark them resolved or entered in error first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="580"/>
        <source>Enter what the patient is allergic to.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="598"/>
        <source>Enter the problem.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="601"/>
        <source>Enter the onset date as YYYY-MM-DD.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="620"/>
        <source>HIGH RISK: recorded allergy to %1 (%2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="621"/>
        <source>Recorded allergy to %1 (%2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="629"/>
        <source>Enter the medication.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="632"/>
        <source>Allergy alert: %1 Give a reason to record it anyway.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="655"/>
        <source>That medication is not in this chart.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="656"/>
        <source>Enter the new dose.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="664"/>
        <source>Enter the vaccine.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="667"/>
        <source>Enter the date given as YYYY-MM-DD.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="668"/>
        <source>The date given cannot be in the future.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="685"/>
        <source>Choose the screening.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="686"/>
        <source>Choose the result.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="688"/>
        <source>Enter the date as YYYY-MM-DD.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="689"/>
        <source>The date cannot be in the future.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="723"/>
        <source>That entry is not in this chart.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="726"/>
        <source>This entry cannot become %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="729"/>
        <source>Say why (for example: entered in error, resolved, refuted).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="739"/>
        <source>Choose where the visit takes place.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="740"/>
        <source>A visit is already in progress: end it first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="755"/>
        <source>No visit is in progress.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="768"/>
        <location filename="../src/chart_controller.cc" line="878"/>
        <source>Enter a number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="777"/>
        <source>Unknown vital sign.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="790"/>
        <source>That measurement is not in this chart.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="791"/>
        <source>Say why it is in error.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="817"/>
        <source>The note is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="824"/>
        <location filename="../src/chart_controller.cc" line="831"/>
        <location filename="../src/chart_controller.cc" line="839"/>
        <source>That note is not in this chart.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="825"/>
        <source>This note is signed: add an addendum instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="832"/>
        <source>This note is already signed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="833"/>
        <source>An empty note cannot be signed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="840"/>
        <source>Only a signed note takes addenda: edit the draft instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="841"/>
        <source>The addendum is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="846"/>
        <location filename="../src/chart_controller.cc" line="858"/>
        <source>That conflict is gone.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="848"/>
        <source>Choose one of the values.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="874"/>
        <source>Enter a whole number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_controller.cc" line="881"/>
        <source>yes</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>charta::app::ChartStore</name>
    <message>
        <location filename="../src/chart_store.cc" line="179"/>
        <source>never</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="235"/>
        <source>This tablet is already enrolled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="240"/>
        <source>Enter the server address, the enrolment code and your user name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="244"/>
        <source>The passphrase must have at least %1 characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="249"/>
        <source>Cannot create the data folder %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="277"/>
        <source>Enrolment failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="295"/>
        <source>This tablet is not enrolled yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="313"/>
        <source>Wrong user or passphrase.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="314"/>
        <source>Cannot unlock: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="342"/>
        <source>The tablet locked before the chart was asked for: try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="414"/>
        <location filename="../src/chart_store.cc" line="436"/>
        <location filename="../src/chart_store.cc" line="544"/>
        <source>Unlock the tablet first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="415"/>
        <source>Enter the patient&apos;s identifier (record or insurance number).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="418"/>
        <source>Enter the birth date as YYYY-MM-DD.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="420"/>
        <source>Say why you need this chart (at least 5 characters).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="421"/>
        <location filename="../src/chart_store.cc" line="437"/>
        <source>This tablet has no server to ask.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="438"/>
        <source>A sync is under way: try again when it has finished.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="455"/>
        <source>Not downloaded: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="457"/>
        <source>The server does not have this file yet: the tablet that attached it has not uploaded it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="459"/>
        <source>The server cannot be reached now. The file downloads at a later sync.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="477"/>
        <source>No patient has this identifier and birth date. Check both and try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="545"/>
        <source>Enter the user name the clinic gave them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/chart_store.cc" line="552"/>
        <source>%1 is already a user of this tablet.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>charta::app::Kiosk</name>
    <message>
        <location filename="../src/kiosk.cc" line="70"/>
        <source>The kiosk lock cannot be read (%1): ask the clinic&apos;s administrator.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/kiosk.cc" line="79"/>
        <source>That is not the kiosk passphrase.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/kiosk.cc" line="80"/>
        <source>The kiosk lock is damaged (%1): ask the clinic&apos;s administrator.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>charta::app::NewPatientController</name>
    <message>
        <location filename="../src/new_patient_controller.cc" line="18"/>
        <source>Enter the family name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/new_patient_controller.cc" line="19"/>
        <source>Enter the given names.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/new_patient_controller.cc" line="21"/>
        <source>Enter the birth date as YYYY-MM-DD.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/new_patient_controller.cc" line="22"/>
        <source>The birth date cannot be in the future.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/new_patient_controller.cc" line="23"/>
        <source>Check the birth year.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/new_patient_controller.cc" line="24"/>
        <source>Choose the sex.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/new_patient_controller.cc" line="55"/>
        <source>Unlock the tablet first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/new_patient_controller.cc" line="66"/>
        <source>The chart was not created: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/new_patient_controller.cc" line="77"/>
        <source>The chart was created but its identifier was not saved: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>charta::app::PatientListModel</name>
    <message>
        <location filename="../src/patient_list_model.cc" line="172"/>
        <source>No known allergies</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../src/patient_list_model.cc" line="173"/>
        <source>Allergies not recorded</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
