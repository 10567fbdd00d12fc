pragma Singleton
import QtQuick

// Colours, sizes and spacing of the app. Touch targets are at least 48 px
// (usable with gloves); text is large enough to read at arm's length.
QtObject {
    id: root
    property bool dark: false

    readonly property int touch: 56
    readonly property int spacing: 12
    readonly property int radius: 8
    readonly property int fontSmall: 16
    readonly property int fontNormal: 19
    readonly property int fontLarge: 24
    readonly property int fontTitle: 30

    readonly property color background: dark ? "#15181c" : "#f4f6f8"
    readonly property color surface: dark ? "#21262c" : "#ffffff"
    readonly property color text: dark ? "#eef1f4" : "#1b1f24"
    readonly property color mutedText: dark ? "#a9b2bc" : "#56606b"
    readonly property color accent: dark ? "#5fb0ff" : "#0b62c4"
    readonly property color textOnAccent: "#ffffff"
    readonly property color border: dark ? "#39414a" : "#d3d9df"
    readonly property color danger: dark ? "#ff7b72" : "#b3261e"
    readonly property color dangerSurface: dark ? "#4a1d1b" : "#fde7e5"
    readonly property color warning: dark ? "#f2cc60" : "#8a5a00"
    readonly property color warningSurface: dark ? "#3d3415" : "#fff4d6"
    readonly property color ok: dark ? "#56d364" : "#1a7f37"
    readonly property color pending: dark ? "#d2a8ff" : "#8250df"
}
