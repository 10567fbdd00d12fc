// Tampering with the replica file at scale: a thousand single-bit flips in
// stored ciphertexts (every sealed column the replica has), sealed cells
// swapped between patients, old versions of rows put back after newer edits,
// and the file cut at random lengths. Each trial starts from a pristine copy
// of the file, then opens, unlocks and reads everything the nurse or the sync
// could read. Required: the tampered cell is refused (its read fails with
// kCorruption, or the replica rebuilds what it caches from the sealed ops), no
// read ever returns a value other than the pristine one, every other patient
// still reads, and the refusal is an audit event. CHARTA_TAMPER_TRIALS sets
// the number of bit flips (default 1000; the other kinds get a tenth each).
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "charta/crdt/op_codec.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/replica.h"
#include "random_edits.h"
#include "support/fake_clock.h"
#include "sync/replica/raw_sqlite.h"

using namespace charta;
using namespace charta::sync;
using charta::testing::rawExec;
using charta::testing::rawScalar;
using Code = crdt::Status::Code;

namespace {

// One stored sealed cell: where it is, the patient it belongs to ("" for
// none) and the table name replica.tamper_detected gives for it.
// `refusedOp`: an op the server refused, never sent again, so that only the
// opening of its chart reads it (also when the chart's checkpoint covers it).
struct Cell {
  std::string table, column, where, patient, audited;
  bool refusedOp = false;
};

// What one read gave: its value, or the status it failed with.
struct Read {
  bool ok = false;
  Code code = Code::kOk;
  std::string value;
};
using Reads = std::map<std::string, Read>;

int tamperTrials() {
  const char* env = std::getenv("CHARTA_TAMPER_TRIALS");
  const int n = env ? std::atoi(env) : 0;
  return n > 0 ? n : 1000;
}

crdt::Op writeName(crdt::OpFactory& f, const crdt::ChartDocument& d, const std::string& name) {
  return f.writeField(d, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kFamilyName},
                      crdt::Value{name});
}

std::string summaryText(const PatientSummary& s) {
  std::string out = s.familyName + "|" + s.givenNames + "|" + s.birthDate + "|" + s.sex + "|";
  for (const auto& v : s.identifiers) out += v + ",";
  for (const auto& v : s.allergies) out += v + ",";
  out += s.noKnownAllergies ? (*s.noKnownAllergies ? "nka" : "allergies") : "unknown";
  for (std::uint64_t n : {s.opCount, s.pendingOps, s.openConflicts, s.heldOps}) out += "|" + std::to_string(n);
  for (const auto& v : s.chartedBy) out += "," + v;
  return out;
}

// Changes the file behind the replica's back (closed), without syncing:
// each trial's copy is thrown away.
void rawChange(const std::string& path, const std::string& sql) { rawExec(path, "PRAGMA synchronous=OFF; " + sql); }

// Stores `bytes` in one cell.
void rawSetBlob(const std::string& path, const Cell& c, const std::string& bytes) {
  const std::string hex = QByteArray::fromStdString(bytes).toHex().toStdString();
  rawChange(path, "UPDATE " + c.table + " SET " + c.column + " = X'" + hex + "' WHERE " + c.where);
}

std::string rawBlob(const std::string& path, const Cell& c) {
  return rawScalar(path, "SELECT " + c.column + " FROM " + c.table + " WHERE " + c.where);
}

// The figures of one kind of tamper.
struct Tally {
  int trials = 0, rejected = 0, recovered = 0, released = 0, audited = 0;
  QString line(const char* kind) const {
    return QString::asprintf(
        "%s: %d trials, %d rejected (%d of them rebuilt from sealed ops), %d plaintext released, "
        "%d audited",
        kind, trials, rejected, recovered, released, audited);
  }
};

}  // namespace

class TamperScaleTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  charta::testing::FakeWallClock m_clock{1'790'000'000'000};
  std::string m_pristine, m_older, m_trial;
  std::vector<std::string> m_patients;                  // the break-glass copy's included
  std::map<std::string, std::vector<Cell>> m_cells;     // by "table.column"
  std::map<std::string, std::string> m_attachmentHash;  // patient -> hash
  std::int64_t m_auditMax = 0;                          // audit rows of the pristine file
  Reads m_expected;
  std::mt19937_64 m_rng{20261207};

  const char* kPass = "correct horse battery";

  ReplicaOptions options() { return ReplicaOptions{0, &m_clock, false}; }

  std::size_t below(std::size_t n) { return static_cast<std::size_t>(m_rng() % n); }

  // Copies a closed replica (its WAL folded in) and its attachment files.
  void copyReplica(const std::string& from, const std::string& to) {
    namespace fs = std::filesystem;
    for (const char* suffix : {"", "-wal", "-shm", "-attachments"}) fs::remove_all(to + suffix);
    fs::copy_file(from, to);  // (no sync: a copy thrown away after its trial)
    fs::copy(from + "-attachments", to + "-attachments");
  }

  // Everything a nurse or the sync reads, in a fixed order.
  Reads readAll(Replica& r) {
    Reads out;
    auto put = [&out](const std::string& name, const auto& result, auto text) {
      out[name] = result.isOk() ? Read{true, Code::kOk, text(result.value())} : Read{false, result.status().code(), {}};
    };
    auto same = [](const std::string& s) { return s; };
    auto ops = [](const std::vector<crdt::Op>& list) {
      std::string bytes;
      for (const auto& op : list) bytes += crdt::encodeOp(op);
      return bytes;
    };
    for (const std::string& p : m_patients) {
      // (Not audited, a commit less per trial; chart() differs only by it.)
      put("chart:" + p, r.chartCopy(p, {}), [](const crdt::ChartDocument& d) { return d.canonicalState(); });
      put("summary:" + p, r.summary(p), summaryText);
      put("attachments:" + p, r.attachments(p), [](const std::vector<AttachmentInfo>& list) {
        std::string text;
        for (const AttachmentInfo& a : list) {
          text += a.hash + a.mediaType + std::to_string(a.size) + std::to_string(a.takenAtMs) +
                  std::to_string(a.complete) + std::to_string(static_cast<int>(a.upload)) + a.uploadError + ";";
        }
        return text;
      });
      if (m_attachmentHash.count(p)) put("attachment:" + p, r.readAttachment(p, m_attachmentHash.at(p), {}), same);
    }
    // Break-glass copies that do not open are left out of the list: absent.
    for (const BreakGlassInfo& b : r.breakGlassCopies()) {
      out["break_glass:" + b.patient] = {true, Code::kOk,
                                         b.clinic + "|" + b.reason + "|" + b.user + "|" + std::to_string(b.openedAtMs) +
                                             "|" + std::to_string(b.expiresAtMs)};
    }
    put("device_secret", r.deviceSecret(), same);
    put("session", r.session("nurse"), [](const std::optional<Session>& s) { return s ? s->token + s->role : ""; });
    put("audit", r.pendingAudit(1u << 20), [this](const std::vector<DeviceAuditEvent>& events) {
      std::string text;
      for (const auto& e : events) {
        if (static_cast<std::int64_t>(e.seq) > m_auditMax) break;
        text += std::to_string(e.seq) + e.user + e.action + e.patient + e.detail + std::to_string(e.atMs) + ";";
      }
      return text;
    });
    put("outbox", r.outbox(1u << 20), ops);
    // A new server epoch sends every op again: the sync opens every op row,
    // also those a chart's checkpoint already covers.
    crdt::Status epoch = r.startNewEpoch("tamper-check");
    put("outbox_all", epoch.isOk() ? r.outbox(1u << 20) : crdt::Result<std::vector<crdt::Op>>(epoch), ops);
    return out;
  }

  struct Trial {
    bool opened = false;
    Reads reads;
    std::vector<DeviceAuditEvent> events;  // recorded after the pristine ones
  };

  // Opens and unlocks the trial file (as the nurse, or the aide when the
  // nurse's wrapped key was changed), reads everything, unlocks as the other
  // user too (`bothUsers`: only when a user's wrapped key was changed, a
  // commit less otherwise), and collects the audit events recorded since.
  Trial runTrial(bool bothUsers = false) {
    Trial t;
    auto opened = Replica::open(m_trial, options());
    if (!opened.isOk()) return t;
    t.opened = true;
    Replica& r = *opened.value();
    const bool nurse = r.unlock(m_vault, "nurse", kPass).isOk();
    const bool someone = nurse || r.unlock(m_vault, "aide", kPass).isOk();
    t.reads["unlock"] = nurse ? Read{true, Code::kOk, "both"} : Read{false, Code::kRejected, {}};
    if (!someone) return t;
    for (auto& [name, read] : readAll(r)) t.reads[name] = read;
    if (bothUsers || !nurse) {
      r.lock();
      const bool other = nurse ? r.unlock(m_vault, "aide", kPass).isOk() : false;
      if (!other) {
        t.reads["unlock"] = Read{false, Code::kRejected, {}};
        if (!r.unlock(m_vault, nurse ? "nurse" : "aide", kPass).isOk()) return t;
      }
    }
    // The events recorded after the pristine ones (past a changed one).
    auto events = r.pendingAudit(1u << 20);
    if (!events.isOk() && r.acknowledgeAudit(static_cast<std::uint64_t>(m_auditMax)).isOk()) {
      events = r.pendingAudit(1u << 20);
    }
    if (!events.isOk()) return t;
    for (const DeviceAuditEvent& e : events.value()) {
      if (static_cast<std::int64_t>(e.seq) > m_auditMax) t.events.push_back(e);
    }
    return t;
  }

  // What one trial changed: the patients whose rows it changed ("*": any),
  // the table the tamper_detected event must name ("unlock": a user's wrapped
  // key; "": no event expected).
  struct Plan {
    std::set<std::string> patients;
    std::string audited, what;
  };

  // `trials` trials on fresh copies of the pristine file changed by `tamper`.
  template <class F>
  Tally run(int trials, F tamper) {
    Tally tally;
    for (int i = 0; i < trials && !QTest::currentTestFailed(); ++i) {
      copyReplica(m_pristine, m_trial);
      const Plan plan = tamper(i);
      if (!QTest::currentTestFailed()) {
        judge(runTrial(plan.audited == "unlock" || plan.audited == "users"), tally, plan);
      }
    }
    return tally;
  }

  void judge(const Trial& t, Tally& tally, const Plan& plan) {
    ++tally.trials;
    int refused = t.opened ? 0 : 1;
    for (const auto& [name, want] : m_expected) {
      auto it = t.reads.find(name);
      if (it != t.reads.end() && it->second.ok) {
        if (it->second.value == want.value) continue;
        ++tally.released;
        QFAIL((plan.what + ": " + name + " returned a value other than the pristine one").c_str());
      }
      ++refused;
      const Code code = it == t.reads.end() ? Code::kCorruption : it->second.code;
      if (!plan.audited.empty() && name != "unlock") {
        QVERIFY2(code == Code::kCorruption, (plan.what + ": " + name + " failed with another code").c_str());
      }
      const std::size_t colon = name.find(':');
      if (!plan.patients.count("*") && colon != std::string::npos) {
        QVERIFY2(plan.patients.count(name.substr(colon + 1)),
                 (plan.what + ": " + name + " failed: another patient no longer reads").c_str());
      }
    }
    bool audited = false;
    for (const DeviceAuditEvent& e : t.events) {
      if (plan.audited == "unlock") {
        audited |= e.action == "replica.unlock_failed";
      } else if (e.action == "replica.tamper_detected") {
        audited |= e.detail.find("\"table\":\"" + plan.audited + "\"") != std::string::npos;
      }
    }
    const bool rejected = refused > 0 || audited;
    tally.rejected += rejected ? 1 : 0;
    tally.recovered += rejected && refused == 0 ? 1 : 0;
    tally.audited += audited ? 1 : 0;
    QVERIFY2(rejected, (plan.what + ": not rejected").c_str());
    if (!plan.audited.empty()) QVERIFY2(audited || !rejected, (plan.what + ": not audited").c_str());
  }

  // Prints the figures and checks them: every trial rejected, no plaintext
  // released, every rejection audited.
  void report(const Tally& t, const char* kind, const QString& more, bool audits = true) {
    qInfo().noquote() << t.line(kind) << more;
    QCOMPARE(t.rejected, t.trials);
    QCOMPARE(t.released, 0);
    if (audits) QCOMPARE(t.audited, t.rejected);
  }

  // Every sealed cell of the pristine file, by column.
  void collectCells() {
    // Table, column, the row's filter and its patient (as SQL), whether it is
    // a refused op, which rows, and the table the audit event names.
    const std::vector<std::array<const char*, 7>> columns = {
        {"ops", "sealed", "'replica = ' || replica || ' AND seq = ' || seq", "patient", "state = 2", "", "ops"},
        {"patients", "wrapped_key", "'id = ''' || id || ''''", "id", "0", "", "patients.key"},
        {"patients", "summary", "'id = ''' || id || ''''", "id", "0", "", "patients.summary"},
        {"checkpoints", "sealed", "'patient = ''' || patient || ''''", "patient", "0", "", "checkpoints"},
        {"break_glass", "sealed", "'patient = ''' || patient || ''''", "patient", "0", "", "break_glass"},
        {"attachments", "sealed", "'patient = ''' || patient || ''' AND name = ''' || name || ''''", "patient", "0", "",
         "attachments"},
        {"secrets", "sealed", "'name = ''' || name || ''''", "''", "0", "", "secrets"},
        {"audit", "payload", "'seq = ' || seq", "''", "0", " WHERE sealed = 1", "audit"},  // not those made locked
        {"users", "wrap", "'id = ''' || id || ''''", "''", "0", "", "unlock"}};
    m_cells.clear();
    for (const auto& [table, column, where, patient, refused, rows, audited] : columns) {
      // The rows as text: fields split by 0x1f, rows by 0x1e.
      const std::string all =
          rawScalar(m_pristine, std::string("SELECT group_concat(") + where + " || char(31) || " + patient +
                                    " || char(31) || (" + refused + "), char(30)) FROM " + table + rows);
      for (const QString& row : QString::fromStdString(all).split(QChar(0x1e), Qt::SkipEmptyParts)) {
        const QStringList f = row.split(QChar(0x1f));
        m_cells[std::string(table) + "." + column].push_back(
            Cell{table, column, f[0].toStdString(), f[1].toStdString(), audited, f[2] == "1"});
      }
    }
  }

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_pristine = m_dir.path().toStdString() + "/pristine.db";
    m_older = m_dir.path().toStdString() + "/older.db";
    m_trial = m_dir.path().toStdString() + "/trial.db";
    BreakGlassCopy breakGlass;
    std::string laterBreakGlassOp;
    {
      const DeviceIdentity id{"http://127.0.0.1:1", "dev-tamper", crdt::ReplicaId{4242}, "demo", "epoch-1"};
      auto made = Replica::create(m_pristine, id, "device-secret-XYZ", m_vault, UserInfo{"nurse", "Nurse N.", {}, 0},
                                  kPass, options());
      QVERIFY2(made.isOk(), made.status().toString().c_str());
      Replica& r = *made.value();
      QVERIFY(r.addUser(m_vault, UserInfo{"aide", "Aide A.", {}, 0}, kPass).isOk());
      QVERIFY(r.storeSession(Session{"token-abc", 1'800'000'000'000, "nurse", "Nurse N.", "nurse", "demo"}).isOk());
      RandomEditor editor(r, 77, 4);
      for (int i = 0; i < 240; ++i, m_clock.advance(1000)) QVERIFY(editor.editOnce().isOk());
      // Half the outbox acknowledged, one op refused by the server.
      auto outbox = r.outbox(1u << 20);
      QVERIFY(outbox.isOk());
      std::vector<Replica::Ack> acks;
      for (std::size_t i = 0; i < outbox.value().size(); i += 2) {
        acks.push_back({outbox.value()[i].id, i == 0 ? 0u : i + 1, i == 0 ? "refused for the test" : ""});
      }
      QVERIFY(r.acknowledge(acks).isOk());
      // A break-glass copy of another clinic's patient.
      crdt::OpFactory other(crdt::ReplicaId{777}, m_clock, 1);
      other.setUser("north-nurse");
      crdt::ChartDocument bgDoc("p-elsewhere");
      breakGlass = BreakGlassCopy{"p-elsewhere", "north", "unconscious on arrival", 1'900'000'000'000, {}};
      for (const char* name : {"Achterberg", "Achterberg-Lunde"}) {
        crdt::Op op = writeName(other, bgDoc, name);
        QVERIFY(bgDoc.apply(op).isOk());
        breakGlass.ops.push_back(crdt::encodeOp(op));
      }
      QVERIFY(r.storeBreakGlass(breakGlass).isOk());
      // What the other clinic will have added when it is opened again.
      crdt::Op later = writeName(other, bgDoc, "Achterberg-Lunde-Berg");
      QVERIFY(bgDoc.apply(later).isOk());
      laterBreakGlassOp = crdt::encodeOp(later);
      // A photo on two patients.
      const auto ids = r.patients();
      for (std::size_t i = 0; i < 2; ++i) {
        const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + "photo of " + ids[i] + std::string(300, 'a');
        auto stored = r.storeAttachment(ids[i], png, AttachmentMeta{"image/png", 1'790'000'000'000, false});
        QVERIFY2(stored.isOk(), stored.status().toString().c_str());
        m_attachmentHash[ids[i]] = stored.value().hash;
      }
    }
    // The file before a last round of edits (for replays), then those edits:
    // charts, a new session, the nurse's passphrase changed (and back: a new
    // wrapped key), the break-glass copy opened again for longer (with an op
    // more).
    rawExec(m_pristine, "PRAGMA wal_checkpoint(TRUNCATE)");
    copyReplica(m_pristine, m_older);
    {
      auto r = Replica::open(m_pristine, options()).value();
      QVERIFY(r->unlock(m_vault, "nurse", kPass).isOk());
      QVERIFY(r->storeSession(Session{"token-def", 1'800'600'000'000, "nurse", "Nurse N.", "nurse", "demo"}).isOk());
      QVERIFY(r->changePassphrase(m_vault, kPass, "an interim passphrase").isOk());
      QVERIFY(r->changePassphrase(m_vault, "an interim passphrase", kPass).isOk());
      breakGlass.expiresAtMs = 1'950'000'000'000;
      breakGlass.ops.push_back(laterBreakGlassOp);
      QVERIFY(r->storeBreakGlass(breakGlass).isOk());
      for (const std::string& p : r->patients()) {
        if (r->isBreakGlass(p)) continue;
        const Replica::MakeOp rename = [](auto& f, const auto& d) { return writeName(f, d, "Renamed"); };
        QVERIFY(r->editBatch(p, std::vector<Replica::MakeOp>(40, rename)).isOk());
      }
      m_patients = r->patients();
    }
    rawExec(m_pristine, "PRAGMA wal_checkpoint(TRUNCATE)");
    m_auditMax = std::stoll(rawScalar(m_pristine, "SELECT MAX(seq) FROM audit"));
    collectCells();
    QVERIFY(m_cells.size() == 9);
    copyReplica(m_pristine, m_trial);
    const Trial pristine = runTrial(true);
    QVERIFY(pristine.opened);
    m_expected = pristine.reads;
    for (const auto& [name, read] : m_expected) QVERIFY2(read.ok, ("pristine read fails: " + name).c_str());
    QVERIFY(m_expected.count("break_glass:p-elsewhere") == 1);
    QVERIFY(m_expected.at("outbox_all").value.size() > m_expected.at("outbox").value.size());
  }

  // One random bit of one random sealed cell (a random column first, so
  // every column gets its share), as a failing disk or a tamperer would. The
  // first trials take the op rows the server refused (see Cell::refusedOp).
  void bitFlips() {
    std::vector<const Cell*> refusedOps;
    for (const Cell& c : m_cells.at("ops.sealed")) refusedOps.push_back(c.refusedOp ? &c : nullptr);
    refusedOps.erase(std::remove(refusedOps.begin(), refusedOps.end(), nullptr), refusedOps.end());
    QVERIFY(!refusedOps.empty());
    std::map<std::string, int> perColumn;
    const Tally tally = run(tamperTrials(), [&](int i) {
      auto column = m_cells.begin();
      std::advance(column, static_cast<std::ptrdiff_t>(below(m_cells.size())));
      const auto at = static_cast<std::size_t>(i);
      if (at < refusedOps.size()) column = m_cells.find("ops.sealed");
      const Cell& cell = at < refusedOps.size() ? *refusedOps[at] : column->second[below(column->second.size())];
      ++perColumn[column->first];
      std::string blob = rawBlob(m_trial, cell);
      const std::size_t bit = below(blob.size() * 8);
      blob[bit / 8] = static_cast<char>(blob[bit / 8] ^ (1 << (bit % 8)));
      rawSetBlob(m_trial, cell, blob);
      return Plan{{cell.patient}, cell.audited, "flip bit " + std::to_string(bit) + " of " + cell.where};
    });
    QString columns;
    for (const auto& [name, n] : perColumn) columns += QString(" %1=%2").arg(QString::fromStdString(name)).arg(n);
    report(tally, "bit flips", "; per column:" + columns);
  }

  // A sealed cell of one patient swapped with the same cell of another.
  void swapsBetweenPatients() {
    const std::vector<std::string> columns = {"ops.sealed", "patients.wrapped_key", "patients.summary",
                                              "checkpoints.sealed", "attachments.sealed"};
    const Tally tally = run(std::max(100, tamperTrials() / 10), [&](int) {
      const std::vector<Cell>& cells = m_cells.at(columns[below(columns.size())]);
      const Cell& a = cells[below(cells.size())];
      const Cell* b = &cells[below(cells.size())];
      while (b->patient == a.patient) b = &cells[below(cells.size())];
      const std::string blobA = rawBlob(m_trial, a), blobB = rawBlob(m_trial, *b);
      rawSetBlob(m_trial, a, blobB);
      rawSetBlob(m_trial, *b, blobA);
      return Plan{{a.patient, b->patient}, a.audited, "swap " + a.where + " / " + b->where};
    });
    report(tally, "swaps between patients", "");
  }

  // The version of a row from before the last edits put back: the ciphertext
  // alone, or the whole row (with its version). A whole checkpoint row put
  // back opens and agrees with itself, but the summary names the current
  // checkpoint's version: refused and audited, and the chart replayed from
  // its ops. A whole session, break-glass row or wrapped key (or the ledger
  // itself) put back opens too, but the ledger holds the digest of the row
  // written last: refused and audited (the unlock, for a wrapped key).
  void replays() {
    struct Kind {
      std::string table, columns, audited;
    };
    const std::vector<Kind> kinds = {{"patients", "summary", "patients.summary"},
                                     {"patients", "summary, summary_version", "patients.summary"},
                                     {"checkpoints", "sealed", "checkpoints"},
                                     {"checkpoints", "version, known, sealed", "checkpoints"},
                                     {"secrets", "sealed", "secrets"},
                                     {"break_glass", "expires_at, sealed", "break_glass"},
                                     {"users", "wrap", "users"}};
    std::map<std::string, std::vector<Cell>> changed;  // rows the last edits rewrote
    for (const char* column :
         {"patients.summary", "checkpoints.sealed", "secrets.sealed", "break_glass.sealed", "users.wrap"}) {
      for (const Cell& c : m_cells.at(column)) {
        const std::string old = rawBlob(m_older, c);
        if (!old.empty() && old != rawBlob(m_pristine, c)) changed[c.table].push_back(c);
      }
    }
    QVERIFY(changed["patients"].size() >= 3 && changed["checkpoints"].size() >= 2);
    QCOMPARE(changed["secrets"].size(), std::size_t{2});  // the nurse's session and the ledger
    QCOMPARE(changed["break_glass"].size(), std::size_t{1});
    QCOMPARE(changed["users"].size(), std::size_t{1});  // the nurse's wrapped key
    std::map<std::string, int> perKind;
    const Tally tally = run(std::max(100, tamperTrials() / 10), [&](int) {
      const Kind& kind = kinds[below(kinds.size())];
      ++perKind[kind.table + "(" + kind.columns + ")"];
      const Cell& cell = changed[kind.table][below(changed[kind.table].size())];
      std::string set;
      for (const QString& col : QString::fromStdString(kind.columns).split(", ")) {
        const std::string c = col.toStdString();
        const bool blob = c == "sealed" || c == "summary" || c == "wrap";
        const std::string old = rawScalar(
            m_older, "SELECT " + (blob ? "hex(" + c + ")" : c) + " FROM " + kind.table + " WHERE " + cell.where);
        set += (set.empty() ? "" : ", ") + c + " = " + (blob ? "X'" + old + "'" : old);
      }
      rawChange(m_trial, "UPDATE " + kind.table + " SET " + set + " WHERE " + cell.where);
      // An older ledger: every row it covers may be refused, any patient's.
      const bool ledger = cell.where == "name = 'ledger'";
      return Plan{{ledger ? "*" : cell.patient}, kind.audited, "replay " + kind.columns + " of " + cell.where};
    });
    QString text;
    for (const auto& [name, n] : perKind) text += QString(" %1=%2").arg(QString::fromStdString(name)).arg(n);
    report(tally, "replays of old rows", "; per kind:" + text);
  }

  // The file cut at a random length (its WAL gone): refused to open, or its
  // reads refused, never a wrong value.
  void truncations() {
    const auto size = static_cast<std::size_t>(std::filesystem::file_size(m_pristine));
    const Tally tally = run(std::max(100, tamperTrials() / 10), [&](int) {
      const std::size_t length = below(size);
      std::filesystem::resize_file(m_trial, length);
      return Plan{{"*"}, "", "cut to " + std::to_string(length) + " of " + std::to_string(size) + " bytes"};
    });
    report(tally, "truncations", " (no audit event: the file that would hold it is cut)", false);
  }
};

QTEST_GUILESS_MAIN(TamperScaleTest)
#include "tamper_scale_test.moc"
