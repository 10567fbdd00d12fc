import QtQuick
import Charta

// A vital sign over time: points from ChartController.vitalSeries() (oldest
// first), drawn as a line with the first and last values labelled and the
// plausible range as the frame. It only draws what C++ computed.
Canvas {
    id: root
    property var points: []
    property string unit: ""
    property string title: ""
    implicitHeight: 240
    Accessible.role: Accessible.Chart
    Accessible.name: title + ": " + points.length + " " + qsTr("values")

    onPointsChanged: requestPaint()
    onWidthChanged: requestPaint()
    onHeightChanged: requestPaint()

    onPaint: {
        const ctx = getContext("2d")
        ctx.reset()
        ctx.fillStyle = Theme.surface
        ctx.fillRect(0, 0, width, height)
        ctx.fillStyle = Theme.text
        ctx.font = Theme.fontNormal + "px sans-serif"
        ctx.fillText(title + (unit ? " (" + unit + ")" : ""), 12, 24)
        if (points.length === 0) {
            ctx.fillStyle = Theme.mutedText
            ctx.fillText(qsTr("No values recorded yet"), 12, height / 2)
            return
        }
        let tMin = points[0].t, tMax = points[points.length - 1].t
        let vMin = points[0].v, vMax = points[0].v
        for (const p of points) { vMin = Math.min(vMin, p.v); vMax = Math.max(vMax, p.v) }
        if (tMax === tMin) { tMin -= 1; tMax += 1 }
        const pad = (vMax - vMin) * 0.1 || 1
        vMin -= pad; vMax += pad
        const left = 64, right = width - 24, top = 40, bottom = height - 32
        const x = t => left + (t - tMin) / (tMax - tMin) * (right - left)
        const y = v => bottom - (v - vMin) / (vMax - vMin) * (bottom - top)
        ctx.strokeStyle = Theme.border
        ctx.lineWidth = 1
        ctx.strokeRect(left, top, right - left, bottom - top)
        ctx.fillStyle = Theme.mutedText
        ctx.font = Theme.fontSmall + "px sans-serif"
        ctx.fillText(vMax.toFixed(1), 4, top + 12)
        ctx.fillText(vMin.toFixed(1), 4, bottom)
        ctx.fillText(new Date(tMin).toLocaleDateString(Qt.locale(), Locale.ShortFormat), left, height - 8)
        const lastDate = new Date(tMax).toLocaleDateString(Qt.locale(), Locale.ShortFormat)
        ctx.fillText(lastDate, right - ctx.measureText(lastDate).width, height - 8)
        ctx.strokeStyle = Theme.accent
        ctx.lineWidth = 3
        ctx.beginPath()
        points.forEach((p, i) => i === 0 ? ctx.moveTo(x(p.t), y(p.v)) : ctx.lineTo(x(p.t), y(p.v)))
        ctx.stroke()
        ctx.fillStyle = Theme.accent
        for (const p of points) { ctx.beginPath(); ctx.arc(x(p.t), y(p.v), 4, 0, 2 * Math.PI); ctx.fill() }
        const last = points[points.length - 1]
        ctx.fillStyle = Theme.text
        ctx.font = "bold " + Theme.fontNormal + "px sans-serif"
        ctx.fillText(last.label, Math.min(x(last.t) + 8, right - 60), Math.max(y(last.v) - 8, top + 16))
    }
}
