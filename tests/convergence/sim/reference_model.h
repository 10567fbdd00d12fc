// ReferenceModel: what one patient's chart must hold, computed from scratch.
//
// Built from the set of ops that must be applied (every op generated for the
// patient except the deliberately invalid ones), with no order and no
// incremental state: a register's heads are the writes that no other write
// lists in its preds; a field is in conflict when its heads hold two or more
// distinct values (except last-writer-wins registers, which show their latest
// head by (hlc, op id) and are never in conflict); entries, observations, error marks, signatures and addenda
// are plain sets; a note is in conflict when its open versions (late edits
// and signatures that no addendum named, and the signed text) disagree. The checks compare a ChartDocument against it.
//
// The model trusts only the schema's tables (register kinds, clinical flags,
// initial statuses, medication ranks), never ChartDocument's merge code.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "charta/crdt/op.h"

namespace charta::convergence {

struct ModelWrite {
  crdt::OpId id;
  crdt::Hlc hlc;
  std::string author;
  crdt::Value value;
  std::vector<crdt::OpId> preds;
  std::string reason;
};

class ModelRegister {
 public:
  explicit ModelRegister(crdt::RegisterKind kind = crdt::RegisterKind::kMultiValue) : m_kind(kind) {}

  void add(ModelWrite w) { m_writes.push_back(std::move(w)); }
  // Writes that no other write supersedes, sorted by (hlc, id). Writes listed
  // in `settled` count as superseded too (notes: addenda settle late edits).
  std::vector<const ModelWrite*> heads(const std::set<crdt::OpId>& settled = {}) const;
  // True when the heads hold at least two distinct values.
  static bool disagree(const std::vector<const ModelWrite*>& heads);
  // A conflict: the heads disagree (never for last-writer-wins registers).
  bool conflicted(const std::vector<const ModelWrite*>& heads) const {
    return m_kind != crdt::RegisterKind::kLastWriterWins && disagree(heads);
  }
  // Forward-only: the most advanced head; otherwise the latest head.
  // REQUIRES: !heads.empty()
  const ModelWrite& shown(const std::vector<const ModelWrite*>& heads) const;

  crdt::RegisterKind kind() const { return m_kind; }
  const std::vector<ModelWrite>& writes() const { return m_writes; }

 private:
  crdt::RegisterKind m_kind;
  std::vector<ModelWrite> m_writes;
};

struct ModelEntry {
  crdt::OpId id;
  crdt::Collection collection = crdt::Collection::kAllergies;
  std::string author;
  crdt::Hlc created;
  crdt::OpId visit;
};

struct ModelObservation {
  crdt::OpId id;
  std::string author;
  crdt::Hlc hlc;
  crdt::AppendObservation data;
  std::map<crdt::OpId, std::string> marks;
};

struct ModelNote {
  crdt::OpId id;
  std::string author;
  crdt::Hlc created;
  crdt::OpId visit;
  ModelRegister draft;                        // start, edits and signatures
  std::set<crdt::OpId> signatures;            // SignNote ids
  std::map<crdt::OpId, ModelWrite> addenda;   // text in value
  std::set<crdt::OpId> namedByAddenda;        // every pred of an addendum

  // Draft versions that no edit or signature names in its preds, and no
  // addendum either, except signatures: they stay (the signed text).
  std::vector<const ModelWrite*> draftHeads() const;
  // The signature shown (latest by (hlc, id)), or null when unsigned.
  const ModelWrite* latestSignature() const;
  // The versions that still compete: unsigned draft heads (late edits that
  // raced a signature, until an addendum names them), signatures no addendum
  // named, and the shown signature.
  std::vector<const ModelWrite*> openVersions() const;
  // True when the open versions hold two or more distinct texts.
  bool conflicted() const;
};

class ReferenceModel {
 public:
  // ops should be causally closed (every dependency of an op in it).
  explicit ReferenceModel(const std::vector<const crdt::Op*>& ops);

  const std::map<crdt::FieldRef, ModelRegister>& registers() const { return m_registers; }
  const std::map<crdt::OpId, ModelEntry>& entries() const { return m_entries; }
  const std::map<crdt::OpId, ModelObservation>& observations() const { return m_observations; }
  const std::map<crdt::OpId, ModelNote>& notes() const { return m_notes; }

  // Registers whose heads disagree; clinicalOnly drops display preferences.
  std::vector<crdt::FieldRef> conflictedFields(bool clinicalOnly) const;
  // Notes whose draft heads disagree.
  std::vector<crdt::OpId> conflictedNotes() const;

 private:
  ModelRegister& reg(const crdt::FieldRef& ref);

  std::map<crdt::FieldRef, ModelRegister> m_registers;
  std::map<crdt::OpId, ModelEntry> m_entries;
  std::map<crdt::OpId, ModelObservation> m_observations;
  std::map<crdt::OpId, ModelNote> m_notes;
};

}  // namespace charta::convergence
