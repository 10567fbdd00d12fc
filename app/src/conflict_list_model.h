// ConflictListModel: every open conflict on this tablet, clinical ones first.
//
// One row per conflicting field or note: the patient, what the field is,
// the value shown meanwhile and how many values compete. Opening one leads
// to the chart's conflict review (ChartController::conflicts), where it is
// resolved. Built from the summaries' conflict counts, so only charts that
// have conflicts are opened (and those reads are audited).
#pragma once

#include <QtQml/qqmlregistration.h>

#include "row_model.h"

namespace charta::app {

class ChartStore;

class ConflictListModel : public RowModel {
  Q_OBJECT
  QML_ELEMENT

 public:
  explicit ConflictListModel(QObject* parent = nullptr);
  ConflictListModel(ChartStore* store, QObject* parent);

  Q_INVOKABLE void refresh();

 private:
  ChartStore* m_store;
};

}  // namespace charta::app
