// Replays every file of the fuzz corpus (tests/fuzz/corpus) through the same
// checks as the fuzz target, so seeds and every input a fuzzer ever crashed on
// run in the normal suite.
//
// File names state what a file must do beyond the shared properties:
//   valid-op-*     decodes with decodeOp
//   valid-batch-*  decodes with decodeBatch
//   bad-version-*  fails, with kUnsupportedVersion from one of the decoders
//   bad-*          fails with both decoders
//   anything else (crash-*, fuzzer finds): the shared properties only.
#include <QtTest>
#include <string>

#include "op_codec_check.h"

using namespace charta::crdt;

#ifndef CHARTA_FUZZ_CORPUS_DIR
#error "CHARTA_FUZZ_CORPUS_DIR must name the corpus directory"
#endif

namespace {

QStringList corpusFiles() {
  const QDir dir(QStringLiteral(CHARTA_FUZZ_CORPUS_DIR));
  return dir.entryList(QDir::Files | QDir::Hidden, QDir::Name);
}

}  // namespace

class CorpusReplayTest : public QObject {
  Q_OBJECT

 private slots:
  void corpusIsPresent() {
    const QStringList files = corpusFiles();
    QVERIFY2(!files.isEmpty(), "the fuzz corpus is empty or missing: " CHARTA_FUZZ_CORPUS_DIR);
    QVERIFY(!files.filter(QRegularExpression(QStringLiteral("^valid-op-"))).isEmpty());
    QVERIFY(!files.filter(QRegularExpression(QStringLiteral("^valid-batch-"))).isEmpty());
    QVERIFY(!files.filter(QRegularExpression(QStringLiteral("^bad-"))).isEmpty());
  }

  void replays_data() {
    QTest::addColumn<QString>("name");
    for (const QString& name : corpusFiles()) QTest::newRow(qPrintable(name)) << name;
  }

  void replays() {
    QFETCH(QString, name);
    QFile file(QDir(QStringLiteral(CHARTA_FUZZ_CORPUS_DIR)).filePath(name));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.errorString()));
    const std::string input = file.readAll().toStdString();

    const fuzz::CodecCheck check = fuzz::checkOpCodec(input);
    QVERIFY2(check.failure.empty(), check.failure.c_str());

    if (name.startsWith(QLatin1String("valid-op-"))) {
      QVERIFY2(check.op.isOk(), check.op.toString().c_str());
    } else if (name.startsWith(QLatin1String("valid-batch-"))) {
      QVERIFY2(check.batch.isOk(), check.batch.toString().c_str());
    } else if (name.startsWith(QLatin1String("bad-"))) {
      QVERIFY2(!check.op.isOk(), "decodeOp accepted a malformed input");
      QVERIFY2(!check.batch.isOk(), "decodeBatch accepted a malformed input");
      if (name.startsWith(QLatin1String("bad-version-"))) {
        QVERIFY(check.op.code() == Status::Code::kUnsupportedVersion ||
                check.batch.code() == Status::Code::kUnsupportedVersion);
      }
    }
  }
};

QTEST_APPLESS_MAIN(CorpusReplayTest)
#include "corpus_replay.moc"
