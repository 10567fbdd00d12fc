// The peer side of charta-bench: runs the CRDT workload in Yjs or Automerge.
//
// charta-bench writes the workload (every write as replica, patient, field,
// time and value) to a file and runs this script once per system, each in its
// own node process:
//
//   node peers.mjs --system yjs|automerge --workload FILE --apply-reps N --merge-reps N
//   node peers.mjs --idle          (the RSS of a node process that does nothing)
//
// Results go to stdout as lines of tab-separated fields, key first (see
// report()); progress goes to stderr. Nothing here asserts a speed: the C++ side
// compares and reports.
//
// (a) apply: the writes are made on a generating side (one document per
//     patient, each write by its replica's client/actor id) and every write is
//     captured as the bytes that system sends for it (the Yjs update emitted by
//     the transaction, the Automerge change). Timed: decoding and applying all
//     of them, one at a time, to fresh receiving documents.
// (b) merge: two copies of one document share a base, then replica 1 and
//     replica 2 each make their writes concurrently. Timed: applying what B
//     has and A lacks to a fresh copy of A, from bytes prepared beforehand.
// (c) bytes: the average update/change size, the saved state per document
//     totalled over all writes, and the size of what (b) transfers.
// (d) memory: maxRSS right after the first (a) repetition, which includes
//     reading the workload, the generating side, the bytes and one receiving side.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const kHere = dirname(fileURLToPath(import.meta.url));

function log(msg) {
  process.stderr.write(`peers: ${msg}\n`);
}

function emit(key, ...values) {
  process.stdout.write([key, ...values.map(String)].join("\t") + "\n");
}

function installedVersion(pkg) {
  const text = readFileSync(join(kHere, "node_modules", pkg, "package.json"), "utf8");
  return JSON.parse(text).version;
}

function parseArgs(argv) {
  const args = { system: "", workload: "", applyReps: 1, mergeReps: 1, idle: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--idle") args.idle = true;
    else if (a === "--system") args.system = argv[++i];
    else if (a === "--workload") args.workload = argv[++i];
    else if (a === "--apply-reps") args.applyReps = Number(argv[++i]);
    else if (a === "--merge-reps") args.mergeReps = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

// The workload file: "fields", "patients" and "apply" header lines, then one
// line per write: kind (w: apply workload; mb/ma/mx: merge base, side A,
// side B), replica, patient, field index, time (ms), value.
function readWorkload(path) {
  const wl = { fields: [], patients: 0, apply: [], base: [], sideA: [], sideB: [] };
  const lists = { w: wl.apply, mb: wl.base, ma: wl.sideA, mx: wl.sideB };
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "") continue;
    const cols = line.split("\t");
    const kind = cols[0];
    if (kind === "fields") wl.fields = cols.slice(1);
    else if (kind === "patients") wl.patients = Number(cols[1]);
    else if (kind in lists) {
      lists[kind].push({
        replica: Number(cols[1]),
        patient: Number(cols[2]),
        field: wl.fields[Number(cols[3])],
        timeMs: Number(cols[4]),
        value: cols[5],
      });
    }
  }
  if (wl.fields.length === 0 || wl.patients === 0 || wl.apply.length === 0) {
    throw new Error(`malformed workload file ${path}`);
  }
  return wl;
}

// FNV-1a 64 over "patient\tfield\tvalue\n" lines of every written field, in
// patient then field order: the same digest the C++ side computes.
function digest(wl, valueOf) {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let p = 0; p < wl.patients; p++) {
    for (const field of wl.fields) {
      const v = valueOf(p, field);
      if (v === undefined) continue;
      const line = Buffer.from(`${p}\t${field}\t${v}\n`, "utf8");
      for (const byte of line) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * prime);
    }
  }
  return h.toString(16).padStart(16, "0");
}

function sum(list, f) {
  let s = 0;
  for (const x of list) s += f(x);
  return s;
}

function maxRssKiB() {
  return process.resourceUsage().maxRSS;
}

// Small integer ids for every system, as Charta's server-assigned replica ids.
function actorOf(replica) {
  return replica.toString(16).padStart(2, "0");
}

const kMapName = "demographics";

async function yjsSystem() {
  const Y = await import("yjs");
  return {
    name: "yjs",
    version: installedVersion("yjs"),

    generate(wl) {
      const docs = [];
      for (let p = 0; p < wl.patients; p++) docs.push(new Y.Doc());
      const updates = [];
      let current = -1;
      for (const d of docs) d.on("update", (u) => updates.push({ patient: current, bytes: u }));
      for (const w of wl.apply) {
        const doc = docs[w.patient];
        current = w.patient;
        doc.clientID = w.replica;
        doc.getMap(kMapName).set(w.field, w.value);
      }
      for (const d of docs) d.destroy();
      return updates;
    },

    receive(wl, updates) {
      const docs = [];
      for (let p = 0; p < wl.patients; p++) docs.push(new Y.Doc());
      const start = performance.now();
      for (const u of updates) Y.applyUpdate(docs[u.patient], u.bytes);
      const ms = performance.now() - start;
      return { ms, docs };
    },

    valueOf(docs, p, field) {
      return docs[p].getMap(kMapName).get(field);
    },

    savedBytes(docs) {
      return sum(docs, (d) => Y.encodeStateAsUpdate(d).length);
    },

    prepareMerge(wl) {
      const base = new Y.Doc();
      for (const w of wl.base) {
        base.clientID = w.replica;
        base.getMap(kMapName).set(w.field, w.value);
      }
      const baseUpdate = Y.encodeStateAsUpdate(base);
      const side = (replica, writes) => {
        const d = new Y.Doc();
        Y.applyUpdate(d, baseUpdate);
        d.clientID = replica;
        for (const w of writes) d.getMap(kMapName).set(w.field, w.value);
        return d;
      };
      const a = side(wl.sideA[0].replica, wl.sideA);
      const b = side(wl.sideB[0].replica, wl.sideB);
      return {
        stateA: Y.encodeStateAsUpdate(a),
        stateB: Y.encodeStateAsUpdate(b),
        bIntoA: Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)),
        aIntoB: Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)),
      };
    },

    // Merges B into a fresh copy of A; returns the time and the merged doc.
    merge(m, reverse) {
      const d = new Y.Doc();
      Y.applyUpdate(d, reverse ? m.stateB : m.stateA);
      const update = reverse ? m.aIntoB : m.bIntoA;
      const start = performance.now();
      Y.applyUpdate(d, update);
      return { ms: performance.now() - start, doc: d };
    },

    mergeBytes(m) {
      return m.bIntoA.length;
    },

    sameState(x, y) {
      const sv = (d) => Buffer.from(Y.encodeStateVector(d)).toString("hex");
      const js = (d) => JSON.stringify(d.getMap(kMapName).toJSON());
      return sv(x) === sv(y) && js(x) === js(y);
    },

    // Yjs keeps one value per key: the shown value only.
    fieldValues(doc, field) {
      const v = doc.getMap(kMapName).get(field);
      return { shown: v, all: v === undefined ? [] : [v] };
    },
  };
}

async function automergeSystem() {
  const A = await import("@automerge/automerge");
  return {
    name: "automerge",
    version: installedVersion("@automerge/automerge"),

    // Generation switches actors per write with the low-level handle's clone
    // (a fork under another actor id); the changes are the ones A.change()
    // would make. Untimed.
    generate(wl) {
      const handles = [];
      for (let p = 0; p < wl.patients; p++) handles.push(A.getBackend(A.init({ actor: actorOf(0xff) })));
      const changes = [];
      for (const w of wl.apply) {
        const next = handles[w.patient].clone(actorOf(w.replica));
        handles[w.patient].free();
        handles[w.patient] = next;
        next.put("_root", w.field, w.value);
        next.commit(null, Math.floor(w.timeMs / 1000));
        changes.push({ patient: w.patient, bytes: next.getLastLocalChange() });
      }
      for (const h of handles) h.free();
      return changes;
    },

    receive(wl, changes) {
      const docs = [];
      for (let p = 0; p < wl.patients; p++) docs.push(A.init());
      const start = performance.now();
      for (const c of changes) docs[c.patient] = A.applyChanges(docs[c.patient], [c.bytes])[0];
      const ms = performance.now() - start;
      return { ms, docs };
    },

    valueOf(docs, p, field) {
      return docs[p][field];
    },

    savedBytes(docs) {
      return sum(docs, (d) => A.save(d).length);
    },

    prepareMerge(wl) {
      let base = A.init({ actor: actorOf(wl.base[0].replica) });
      for (const w of wl.base) {
        base = A.change(base, { time: Math.floor(w.timeMs / 1000) }, (d) => {
          d[w.field] = w.value;
        });
      }
      const side = (replica, writes) => {
        let d = A.clone(base, { actor: actorOf(replica) });
        for (const w of writes) {
          d = A.change(d, { time: Math.floor(w.timeMs / 1000) }, (x) => {
            x[w.field] = w.value;
          });
        }
        return d;
      };
      const a = side(wl.sideA[0].replica, wl.sideA);
      const b = side(wl.sideB[0].replica, wl.sideB);
      return {
        a,
        b,
        bIntoA: A.getChanges(base, b),
        aIntoB: A.getChanges(base, a),
      };
    },

    merge(m, reverse) {
      const d = A.clone(reverse ? m.b : m.a);
      const changes = reverse ? m.aIntoB : m.bIntoA;
      const start = performance.now();
      const [merged] = A.applyChanges(d, changes);
      return { ms: performance.now() - start, doc: merged };
    },

    mergeBytes(m) {
      return sum(m.bIntoA, (c) => c.length);
    },

    sameState(x, y) {
      const heads = (d) => A.getHeads(d).slice().sort().join(",");
      return heads(x) === heads(y) && JSON.stringify(x) === JSON.stringify(y);
    },

    fieldValues(doc, field) {
      const shown = doc[field];
      const conflicts = A.getConflicts(doc, field);
      const all = conflicts === undefined ? (shown === undefined ? [] : [shown]) : Object.values(conflicts);
      return { shown, all: all.map(String) };
    },
  };
}

async function run(args) {
  const sys = args.system === "yjs" ? await yjsSystem() : args.system === "automerge" ? await automergeSystem() : null;
  if (sys === null) throw new Error(`unknown system '${args.system}' (yjs or automerge)`);
  emit("system", sys.name);
  emit("version", sys.version);
  emit("node", process.version);

  const wl = readWorkload(args.workload);
  const n = wl.apply.length;
  log(`${sys.name} ${sys.version}: generating ${n} writes to ${wl.patients} documents`);
  let t = performance.now();
  let updates = sys.generate(wl);
  log(`${sys.name}: generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  emit("bytes_update_avg", sum(updates, (u) => u.bytes.length) / n);

  // (a) apply, then (d) memory after the first repetition, (c) saved state.
  const applyMs = [];
  let digestHex = "";
  for (let rep = 0; rep < args.applyReps; rep++) {
    const { ms, docs } = sys.receive(wl, updates);
    applyMs.push(ms);
    log(`${sys.name}: apply rep ${rep + 1}/${args.applyReps}: ${ms.toFixed(0)} ms, ${((n / ms) * 1000).toFixed(0)} ops/s`);
    if (rep === 0) {
      emit("max_rss_kib", maxRssKiB());
      digestHex = digest(wl, (p, field) => sys.valueOf(docs, p, field));
      emit("bytes_batch_avg", sys.savedBytes(docs) / n);
    }
  }
  emit("apply_ops", n);
  emit("apply_ms", ...applyMs);
  emit("apply_digest", digestHex);
  updates = null;  // (b) starts from a heap holding only its own data

  // (b) merge.
  log(`${sys.name}: preparing merge of ${wl.sideB.length} + ${wl.sideA.length} concurrent writes`);
  t = performance.now();
  const m = sys.prepareMerge(wl);
  log(`${sys.name}: prepared in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const mergeMs = [];
  let merged = null;
  for (let rep = 0; rep < args.mergeReps; rep++) {
    const r = sys.merge(m, false);
    mergeMs.push(r.ms);
    merged = r.doc;
    log(`${sys.name}: merge rep ${rep + 1}/${args.mergeReps}: ${r.ms.toFixed(1)} ms`);
  }
  const other = sys.merge(m, true).doc;
  emit("merge_ops", wl.sideB.length);
  emit("merge_bytes", sys.mergeBytes(m));
  emit("merge_ms", ...mergeMs);
  emit("merge_consistent", sys.sameState(merged, other) ? 1 : 0);
  for (const field of wl.fields) {
    const { shown, all } = sys.fieldValues(merged, field);
    if (shown === undefined) continue;
    emit("merge_field", field, shown, ...all.slice().sort());
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.idle) {
    emit("node", process.version);
    emit("max_rss_kib", maxRssKiB());
    return;
  }
  if (!args.workload) throw new Error("--workload FILE is required");
  await run(args);
}

main().catch((e) => {
  process.stderr.write(`peers: error: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
