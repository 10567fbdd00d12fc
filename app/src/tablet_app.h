// TabletApp: what charta-tablet's main does, as library code the tests share.
//
//   run          the app: the window over the store (enrol, unlock, charts)
//   selfTest     loads every QML file of the module and reports what failed
//   screenshots  renders each main screen from a demo clinic, in landscape
//                (1280x800) and portrait (800x1280), to PNG files
#pragma once

#include <QString>
#include <QStringList>

class QQmlEngine;

namespace charta::app {

// The Controls style and fonts the app pins, so it looks the same everywhere.
void prepareApplication();

// Lets the engine find the Charta module built into the program (its qmldir
// is at qrc:/Charta/qmldir), wherever the program is run from.
void prepareEngine(QQmlEngine& engine);

// Loads every QML file of the Charta module into a component; returns the
// errors (empty: all loaded). Needs a ChartStore instance set.
QStringList selfTest(QQmlEngine& engine);

// Writes <dir>/<screen>-<orientation>.png for each main screen (and the chart
// in the dark theme), from a demo
// clinic made in a temporary folder (no server needed). Returns the files
// written, or an empty list with *error set.
QStringList takeScreenshots(const QString& dir, QString* error);

}  // namespace charta::app
