// The PouchDB side of charta-bench's sync benchmark: CouchDB-style replication
// as offline-first health systems built on PouchDB/CouchDB use it (a client
// database pulling from a CouchDB-compatible server over HTTP), measured on a
// chart-shaped data set so the C++ side can put it beside Charta's own sync.
//
//   node pouch_peer.mjs --patients 2000 --entries 100 --changed 100 --dir DIR
//       [--seed 1] [--rounds 5] [--adapter leveldb|memory] [--no-tuned]
//       [--no-keep-alive] [--no-gzip]
//
// Everything runs in this one node process, on two threads:
//   server  (a worker thread, so that it runs beside the client as a real
//           server would instead of taking turns with it on one event loop)
//           express-pouchdb, the core of pouchdb-server, in an express app on
//           127.0.0.1 at an ephemeral port, in its "minimumForPouchDB" mode:
//           every route replication uses, plus the gzip compression that
//           pouchdb-server applies (and that a CouchDB deployment usually gets
//           from its reverse proxy). Its databases are PouchDB on leveldb
//           (leveldown's prebuilt binary; no compiler needed) under DIR.
//   client  (the main thread) PouchDB on leveldb under DIR, pulling from the
//           server's URL with PouchDB's own http adapter, default options.
//           One deviation from PouchDB's stock node setup: the http adapter
//           fetches through a keep-alive agent. Without an agent, the
//           node-fetch that PouchDB uses in node sends "Connection: close", so
//           every request opens a new TCP connection, which no browser (where
//           such apps usually run) does. --no-keep-alive restores the stock
//           behaviour.
// --adapter memory puts both sides on PouchDB's in-memory adapter instead;
// --no-gzip switches the server's compression off.
//
// Steps (only the replications are timed):
// 1. Seed: patients x entries documents, one per chart entry (id
//    "p0001-e0042"; patient, kind allergy|problem|medication|vital|note, a few
//    small kind-specific fields, author, time: about 155 bytes of JSON each),
//    written with bulkDocs straight into the server's database, not over HTTP.
// 2. Cold pull: a fresh client database replicates from the server with
//    PouchDB's default options (batch_size 100, batches_limit 10) until
//    complete. Checked: every document arrived (doc_count). "Tuned" repeats
//    it into another fresh client with batch_size 1000.
// 3. Incremental: --changed documents get a new revision on the server (again
//    straight into its database), then the already-synced client replicates
//    again. Checked: the client holds exactly those new revisions. Repeated
//    --rounds times, each round amending other documents.
//
// Requests and bytes are counted on the server: every HTTP request it gets,
// and every byte written to / read from its sockets (headers included, bodies
// as sent, so gzip-compressed where the client accepted it). *_bytes is
// server -> client (what the client downloads), *_bytes_sent is client ->
// server (what it uploads: requests, bulk_get bodies and the replication
// checkpoint PouchDB also writes to the source). A pull makes about 5
// requests per batch: _changes, _bulk_get, the checkpoint's GET and PUT on
// the server, and a database info GET.
//
// Reading the numbers: a cold pull is bounded by the server thread (PouchDB's
// _changes and _bulk_get over leveldb cost it about 150 us of CPU per
// document, the client about half that), so on a machine busy with other
// work it stretches well past the CPU time shown on stderr. An incremental
// pull of 100 documents costs some 10-15 ms of CPU on each side. When the
// rounds change more documents than there are (small runs), documents are
// amended again and their revision histories, so the bytes, grow.
// Only the server thread touches the server's database: leveldb allows one
// open handle per directory, so seeding and amending go through it.
//
// Output: exactly one JSON line on stdout at the end; progress and, per pull,
// the requests per route with their time on the server, each thread's busy
// time (event loop) and its CPU time versus time spent waiting for a CPU (a
// busy machine shows there) go to stderr. Fields:
//   system "pouchdb", pouchdb_version, express_pouchdb_version,
//   server_adapter, client_adapter, keep_alive, gzip, patients, entries,
//   docs, doc_bytes_avg, seed_ms (untimed setup, for information),
//   cold_ms, cold_docs, cold_requests, cold_bytes, cold_bytes_sent,
//   cold_batch_size, cold_tuned_ms, cold_tuned_requests, cold_tuned_bytes,
//   cold_tuned_batch_size (the cold_tuned_* absent with --no-tuned),
//   changed, incremental_ms (one per round), incremental_median_ms,
//   incremental_requests, incremental_bytes, incremental_bytes_sent (medians
//   over the rounds), incremental_requests_each, incremental_bytes_each,
//   ok true.
// On any failure: {"ok":false,"error":"..."} and a non-zero exit status.
// The script closes its server and databases and exits by itself; it removes
// the databases it made under DIR (pouch-server, pouch-client,
// pouch-client-tuned) and nothing else there.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const kHere = dirname(fileURLToPath(import.meta.url));
const kDbName = "charts";
const kDefaultBatchSize = 100; // PouchDB's replication default (batch_size)
const kTunedBatchSize = 1000;
const kSeedChunk = 2000;

// Anything a library prints must not reach stdout, which carries the result.
console.log = console.info = (...a) => process.stderr.write(a.join(" ") + "\n");

function log(msg) {
  process.stderr.write(`pouch_peer${isMainThread ? "" : " server"}: ${msg}\n`);
}

function installedVersion(pkg) {
  const text = readFileSync(join(kHere, "node_modules", pkg, "package.json"), "utf8");
  return JSON.parse(text).version;
}

function parseArgs(argv) {
  const args = {
    patients: 0, entries: 0, changed: 0, dir: "", seed: 1, rounds: 5,
    adapter: "leveldb", tuned: true, keepAlive: true, gzip: true,
  };
  const count = (name, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a whole number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--patients") args.patients = count(a, next());
    else if (a === "--entries") args.entries = count(a, next());
    else if (a === "--changed") args.changed = count(a, next());
    else if (a === "--dir") args.dir = next();
    else if (a === "--seed") args.seed = count(a, next());
    else if (a === "--rounds") args.rounds = count(a, next());
    else if (a === "--adapter") args.adapter = next();
    else if (a === "--no-tuned") args.tuned = false;
    else if (a === "--no-keep-alive") args.keepAlive = false;
    else if (a === "--no-gzip") args.gzip = false;
    else throw new Error(`unknown argument ${a}`);
  }
  if (args.patients < 1 || args.entries < 1) throw new Error("--patients and --entries must be at least 1");
  if (!args.dir) throw new Error("--dir is required");
  if (args.rounds < 1) throw new Error("--rounds must be at least 1");
  if (args.adapter !== "leveldb" && args.adapter !== "memory") {
    throw new Error(`--adapter must be leveldb or memory, got ${args.adapter}`);
  }
  if (args.changed > args.patients * args.entries) throw new Error("--changed exceeds the number of documents");
  return args;
}

// This thread's time on a CPU and time runnable but waiting for one, in ms
// (Linux; null elsewhere). On a busy machine the second one grows, which
// tells a slow run caused by other load from a slow run caused by the work.
function threadCpu() {
  try {
    const f = readFileSync("/proc/thread-self/schedstat", "utf8").trim().split(/\s+/);
    return { run: Number(f[0]) / 1e6, wait: Number(f[1]) / 1e6 };
  } catch {
    return null;
  }
}

function cpuDiff(before, after) {
  if (!before || !after) return "n/a";
  return `${Math.round(after.run - before.run)} ms on a cpu + ${Math.round(after.wait - before.wait)} ms waiting for one`;
}

async function loadPouchDB(adapter) {
  const { default: PouchDB } = await import("pouchdb");
  if (adapter === "memory") {
    const { default: memoryAdapter } = await import("pouchdb-adapter-memory");
    PouchDB.plugin(memoryAdapter);
  }
  return PouchDB;
}

// mulberry32: small, fast, deterministic for a given --seed.
function makeRng(seed) {
  let a = (seed * 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- The data set --------------------------------------------------------

const kKinds = ["allergy", "problem", "medication", "vital", "note"];
const kKindWeights = [0.05, 0.1, 0.2, 0.45, 0.2]; // vitals dominate real charts
const kSubstances = ["penicillin", "latex", "peanut", "sulfa", "aspirin", "shellfish", "egg"];
const kReactions = ["rash", "hives", "anaphylaxis", "nausea", "swelling", "wheeze"];
const kSeverities = ["mild", "moderate", "severe"];
const kProblems = [["I10", "hypertension"], ["E11.9", "type 2 diabetes"], ["J45.909", "asthma"],
  ["B54", "malaria"], ["A09", "gastroenteritis"], ["D50.9", "iron deficiency anaemia"],
  ["O24.4", "gestational diabetes"], ["A15.0", "pulmonary tuberculosis"]];
const kStatuses = ["active", "resolved", "inactive"];
const kDrugs = [["amoxicillin", 500], ["metformin", 850], ["paracetamol", 1000], ["amlodipine", 5],
  ["artemether-lumefantrine", 80], ["ferrous sulfate", 200], ["salbutamol", 100], ["isoniazid", 300]];
const kFreqs = ["od", "bd", "tid", "qid", "prn"];
const kVitals = [["systolic", "mmHg", 95, 170, 0], ["diastolic", "mmHg", 55, 105, 0],
  ["pulse", "bpm", 50, 130, 0], ["temp", "C", 35.8, 39.6, 1], ["spo2", "%", 88, 100, 0],
  ["weight", "kg", 3, 95, 1], ["resp_rate", "/min", 12, 40, 0]];
const kWords = ["reviewed", "stable", "follow-up", "in", "two", "weeks", "counselled", "on",
  "adherence", "referred", "to", "clinic", "no", "danger", "signs", "fever", "resolved",
  "cough", "improving", "mother", "reports", "good", "feeding", "home", "visit", "done"];

function pick(rng, list) {
  return list[Math.floor(rng() * list.length)];
}

function pickKind(rng) {
  let r = rng();
  for (let i = 0; i < kKinds.length; i++) {
    r -= kKindWeights[i];
    if (r < 0) return kKinds[i];
  }
  return kKinds[kKinds.length - 1];
}

function pad(n, width) {
  return String(n).padStart(width, "0");
}

const kBaseTime = Date.UTC(2024, 0, 1);

function isoTime(rng) {
  // within one year from kBaseTime, whole seconds
  return new Date(kBaseTime + Math.floor(rng() * 365 * 86400) * 1000).toISOString();
}

function vitalValue(rng, v) {
  const x = v[2] + rng() * (v[3] - v[2]);
  return v[4] ? Math.round(x * 10) / 10 : Math.round(x);
}

function noteText(rng) {
  const n = 4 + Math.floor(rng() * 6);
  const words = [];
  for (let i = 0; i < n; i++) words.push(pick(rng, kWords));
  return words.join(" ");
}

function makeEntry(rng, patientId, id) {
  const kind = pickKind(rng);
  const doc = { _id: id, patient: patientId, kind };
  switch (kind) {
    case "allergy":
      doc.substance = pick(rng, kSubstances);
      doc.reaction = pick(rng, kReactions);
      doc.severity = pick(rng, kSeverities);
      break;
    case "problem": {
      const p = pick(rng, kProblems);
      doc.code = p[0];
      doc.label = p[1];
      doc.status = pick(rng, kStatuses);
      break;
    }
    case "medication": {
      const d = pick(rng, kDrugs);
      doc.drug = d[0];
      doc.dose_mg = d[1];
      doc.freq = pick(rng, kFreqs);
      break;
    }
    case "vital": {
      const v = pick(rng, kVitals);
      doc.name = v[0];
      doc.value = vitalValue(rng, v);
      doc.unit = v[1];
      break;
    }
    default:
      doc.text = noteText(rng);
  }
  doc.author = `chw-${pad(1 + Math.floor(rng() * 60), 3)}`;
  doc.time = isoTime(rng);
  return doc;
}

// A new revision of an entry, as a correction in the field would make it.
function amend(rng, doc, round) {
  switch (doc.kind) {
    case "allergy": doc.severity = pick(rng, kSeverities); break;
    case "problem": doc.status = pick(rng, kStatuses); break;
    case "medication": doc.freq = pick(rng, kFreqs); break;
    case "vital": {
      const v = kVitals.find((x) => x[0] === doc.name) || kVitals[0];
      doc.value = vitalValue(rng, v);
      break;
    }
    default: doc.text = noteText(rng);
  }
  doc.author = `chw-${pad(1 + Math.floor(rng() * 60), 3)}`;
  doc.time = isoTime(rng);
  doc.amended = round;
  return doc;
}

// ---- The server thread -------------------------------------------------------

// Counts requests (also per route) and socket bytes on the HTTP server.
function makeCounters(server) {
  const live = new Set();
  const c = { requests: 0, connections: 0, closedOut: 0, closedIn: 0, routes: {}, routeMs: {} };
  server.on("connection", (sock) => {
    c.connections++;
    live.add(sock);
    sock.on("close", () => {
      c.closedOut += sock.bytesWritten;
      c.closedIn += sock.bytesRead;
      live.delete(sock);
    });
  });
  server.on("request", (req, res) => {
    c.requests++;
    const t0 = performance.now();
    // e.g. "GET /charts/_changes", "PUT /charts/_local/*": shows which routes
    // replication used (a server without _bulk_get would show one GET per
    // doc) and the time from each request's arrival to its response's end.
    const path = req.url.split("?")[0].replace(/\/_local\/.*/, "/_local/*")
      .replace(/^\/[^/_][^/]*\/(?!_).+/, "/db/<doc>");
    const key = `${req.method} ${path}`;
    c.routes[key] = (c.routes[key] || 0) + 1;
    res.once("finish", () => {
      c.routeMs[key] = (c.routeMs[key] || 0) + (performance.now() - t0);
    });
  });
  c.snapshot = () => {
    let out = c.closedOut;
    let inb = c.closedIn;
    for (const s of live) {
      out += s.bytesWritten;
      inb += s.bytesRead;
    }
    return {
      requests: c.requests, connections: c.connections, out, in: inb,
      routes: { ...c.routes }, routeMs: { ...c.routeMs },
    };
  };
  c.closeAll = () => {
    for (const s of live) s.destroy();
  };
  return c;
}

// Holds the server and its database; the main thread drives it by messages
// {id, op, args} and gets {id, result} or {id, error} back.
async function serverThread() {
  const args = workerData;
  const rng = makeRng(args.seed);
  const total = args.patients * args.entries;
  const PouchDB = await loadPouchDB(args.adapter);
  const { default: expressPouchDB } = await import("express-pouchdb");
  const { default: express } = await import("express");

  let ServerPouch;
  if (args.adapter === "memory") {
    ServerPouch = PouchDB.defaults({ adapter: "memory" });
  } else {
    mkdirSync(args.serverDir, { recursive: true });
    ServerPouch = PouchDB.defaults({ prefix: args.serverDir + "/" });
  }

  let httpServer = null;
  let counters = null;
  let serverDb = null;
  const ids = [];
  let order = null;

  const ops = {
    async start() {
      const app = express();
      app.use(expressPouchDB(ServerPouch, {
        mode: "minimumForPouchDB",
        inMemoryConfig: true,
        overrideMode: { exclude: args.gzip ? [] : ["compression"] },
      }));
      httpServer = await new Promise((res, rej) => {
        const s = app.listen(0, "127.0.0.1", () => res(s));
        s.on("error", rej);
      });
      counters = makeCounters(httpServer);
      serverDb = new ServerPouch(kDbName);
      return { url: `http://127.0.0.1:${httpServer.address().port}/${kDbName}` };
    },

    // Straight into the server's database, not over HTTP.
    async seed() {
      const width = Math.max(4, String(args.patients - 1).length);
      const ewidth = Math.max(4, String(args.entries - 1).length);
      let docBytes = 0;
      let batch = [];
      const t0 = performance.now();
      const flush = async () => {
        if (!batch.length) return;
        const res = await serverDb.bulkDocs(batch);
        for (const r of res) if (!r.ok) throw new Error(`seeding ${r.id}: ${r.error || r.name} ${r.reason || r.message}`);
        batch = [];
      };
      for (let p = 0; p < args.patients; p++) {
        const pid = `p${pad(p, width)}`;
        for (let e = 0; e < args.entries; e++) {
          const id = `${pid}-e${pad(e, ewidth)}`;
          const doc = makeEntry(rng, pid, id);
          docBytes += JSON.stringify(doc).length;
          ids.push(id);
          batch.push(doc);
          if (batch.length >= kSeedChunk) await flush();
        }
      }
      await flush();
      const seedMs = performance.now() - t0;
      const info = await serverDb.info();
      if (info.doc_count !== total) throw new Error(`server holds ${info.doc_count} docs after seeding, expected ${total}`);
      // The incremental rounds walk a fixed shuffle of all ids.
      order = ids.slice();
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      return { seedMs, docBytesAvg: docBytes / total };
    },

    // A new revision of the next `count` documents; returns their new revs.
    async change({ round, count }) {
      const keys = [];
      for (let k = 0; k < count; k++) keys.push(order[((round - 1) * count + k) % order.length]);
      const current = await serverDb.allDocs({ keys, include_docs: true });
      const docs = current.rows.map((row) => {
        if (!row.doc) throw new Error(`round ${round}: ${row.key} missing on the server`);
        return amend(rng, row.doc, round);
      });
      const written = docs.length ? await serverDb.bulkDocs(docs) : [];
      const revs = {};
      for (const w of written) {
        if (!w.ok) throw new Error(`round ${round}: updating ${w.id}: ${w.error || w.name}`);
        revs[w.id] = w.rev;
      }
      return revs;
    },

    snapshot() {
      return { ...counters.snapshot(), elu: performance.eventLoopUtilization(), cpu: threadCpu() };
    },

    async close() {
      if (httpServer) {
        const closed = new Promise((res) => httpServer.close(() => res()));
        counters.closeAll();
        await closed;
        httpServer = null;
      }
      if (serverDb) {
        await serverDb.destroy();
        serverDb = null;
      }
      return true;
    },
  };

  parentPort.on("message", async (m) => {
    try {
      const result = await ops[m.op](m.args);
      parentPort.postMessage({ id: m.id, result });
      if (m.op === "close") parentPort.close();
    } catch (err) {
      log(`${m.op}: ${err && err.stack ? err.stack : err}`);
      parentPort.postMessage({ id: m.id, error: String(err && err.message ? err.message : err) });
    }
  });
}

// The main thread's handle on the server thread.
class ServerThread {
  constructor(data) {
    this.worker = new Worker(fileURLToPath(import.meta.url), { workerData: data, stdout: false, stderr: false });
    this.nextId = 1;
    this.pending = new Map();
    this.failure = null;
    this.exited = new Promise((res) => this.worker.once("exit", res));
    const failAll = (err) => {
      this.failure = this.failure || err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on("message", (m) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(`server thread: ${m.error}`));
      else p.resolve(m.result);
    });
    this.worker.on("error", (err) => {
      log(`server thread failed: ${err && err.stack ? err.stack : err}`);
      failAll(new Error(`server thread failed: ${err && err.message ? err.message : err}`));
    });
    this.worker.on("exit", (code) => failAll(new Error(`server thread exited (${code})`)));
  }

  call(op, args) {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args });
    });
  }

  // Closes the server and its database, then waits for the thread to end
  // (ending it by force only if it has not after a while).
  async shutdown() {
    try {
      await this.call("close");
    } catch (err) {
      if (!this.failure || this.pending.size) log(`closing the server: ${err.message}`);
    }
    const timer = new Promise((res) => setTimeout(() => res("timeout"), 10000).unref());
    if ((await Promise.race([this.exited, timer])) === "timeout") {
      log("the server thread did not end by itself; terminating it");
      await this.worker.terminate();
    }
  }
}

// ---- The client (main thread) ----------------------------------------------------

function median(list) {
  const s = [...list].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round1(x) {
  return Math.round(x * 10) / 10;
}

function diff(before, after) {
  const routes = [];
  for (const [k, v] of Object.entries(after.routes)) {
    const d = v - (before.routes[k] || 0);
    const ms = (after.routeMs[k] || 0) - (before.routeMs[k] || 0);
    if (d) routes.push(`${k} x${d} ${Math.round(ms)} ms`);
  }
  return {
    requests: after.requests - before.requests,
    connections: after.connections - before.connections,
    bytes: after.out - before.out,
    bytesSent: after.in - before.in,
    routes: routes.join(", "),
  };
}

async function client(args) {
  const total = args.patients * args.entries;
  const dir = resolve(args.dir);
  const paths = {
    serverDir: join(dir, "pouch-server"),
    client: join(dir, "pouch-client"),
    tuned: join(dir, "pouch-client-tuned"),
  };
  const removeOurs = () => {
    for (const p of Object.values(paths)) rmSync(p, { recursive: true, force: true });
  };
  removeOurs();
  mkdirSync(dir, { recursive: true });

  const PouchDB = await loadPouchDB(args.adapter);
  const clientOpts = args.adapter === "memory" ? { adapter: "memory" } : {};
  const agent = args.keepAlive ? new Agent({ keepAlive: true }) : null;
  const remoteOpts = agent ? { fetch: (url, opts) => PouchDB.fetch(url, { ...opts, agent }) } : {};

  const server = new ServerThread({ ...args, serverDir: paths.serverDir });
  const opened = [];
  const cleanup = async () => {
    await server.shutdown();
    for (const db of opened.reverse()) {
      try {
        await db.destroy();
      } catch (err) {
        log(`closing a database: ${err.message}`);
      }
    }
    if (agent) agent.destroy();
    removeOurs();
  };

  try {
    const { url } = await server.call("start");
    log(`server on ${url} (${args.adapter}${args.gzip ? ", gzip" : ""}); client ${args.adapter}` +
      `${args.keepAlive ? ", keep-alive" : ", a connection per request"}`);
    const seeded = await server.call("seed");
    log(`seeded ${total} docs in ${Math.round(seeded.seedMs)} ms, ${seeded.docBytesAvg.toFixed(1)} bytes of JSON each`);

    // One timed pull from the server into `db`.
    const pull = async (db, remote, opts, label) => {
      const before = await server.call("snapshot");
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = threadCpu();
      const t0 = performance.now();
      const res = opts ? await db.replicate.from(remote, opts) : await db.replicate.from(remote);
      const ms = performance.now() - t0;
      const elu = performance.eventLoopUtilization(elu0);
      const cpu1 = threadCpu();
      const after = await server.call("snapshot");
      const serverElu = performance.eventLoopUtilization(after.elu, before.elu);
      const d = diff(before, after);
      if (!res.ok || res.status !== "complete" || (res.errors && res.errors.length)) {
        throw new Error(`${label}: replication ended ${res.status} with ${res.errors ? res.errors.length : "?"} errors`);
      }
      log(`${label}: ${Math.round(ms)} ms, ${res.docs_written} docs, ${d.requests} requests on ` +
        `${d.connections} new connections, ${d.bytes} bytes down, ${d.bytesSent} up; busy: client ` +
        `${Math.round(elu.active)} ms, server ${Math.round(serverElu.active)} ms`);
      log(`${label} threads: client ${cpuDiff(cpu0, cpu1)}; server ${cpuDiff(before.cpu, after.cpu)}`);
      log(`${label} routes: ${d.routes}`);
      return { ms, docs: res.docs_written, ...d };
    };

    // Cold pull with the defaults.
    const db = new PouchDB(paths.client, clientOpts);
    opened.push(db);
    const remote = new PouchDB(url, remoteOpts);
    const cold = await pull(db, remote, null, "cold");
    const coldInfo = await db.info();
    if (coldInfo.doc_count !== total || cold.docs !== total) {
      throw new Error(`cold pull: client holds ${coldInfo.doc_count} docs (${cold.docs} written), expected ${total}`);
    }

    // The same into another fresh client with a larger batch.
    let tuned = null;
    if (args.tuned) {
      const tdb = new PouchDB(paths.tuned, clientOpts);
      opened.push(tdb);
      tuned = await pull(tdb, new PouchDB(url, remoteOpts), { batch_size: kTunedBatchSize }, "cold tuned");
      const info = await tdb.info();
      if (info.doc_count !== total || tuned.docs !== total) {
        throw new Error(`tuned pull: client holds ${info.doc_count} docs (${tuned.docs} written), expected ${total}`);
      }
      opened.pop();
      await tdb.destroy();
    }

    // Incremental rounds into the already-synced client.
    const rounds = [];
    for (let r = 1; r <= args.rounds; r++) {
      const want = await server.call("change", { round: r, count: args.changed });
      const keys = Object.keys(want);
      const res = await pull(db, remote, null, `incremental ${r}`);
      if (res.docs !== args.changed) throw new Error(`round ${r}: ${res.docs} docs written, expected ${args.changed}`);
      const got = await db.allDocs({ keys });
      for (const row of got.rows) {
        if (!row.value || row.value.rev !== want[row.key]) {
          throw new Error(`round ${r}: client has ${row.key} at ${row.value && row.value.rev}, expected ${want[row.key]}`);
        }
      }
      rounds.push(res);
    }
    const info = await db.info();
    if (info.doc_count !== total) throw new Error(`after the rounds the client holds ${info.doc_count} docs, expected ${total}`);

    const result = {
      system: "pouchdb",
      pouchdb_version: installedVersion("pouchdb"),
      express_pouchdb_version: installedVersion("express-pouchdb"),
      server_adapter: args.adapter,
      client_adapter: args.adapter,
      keep_alive: args.keepAlive,
      gzip: args.gzip,
      patients: args.patients,
      entries: args.entries,
      docs: total,
      doc_bytes_avg: round1(seeded.docBytesAvg),
      seed_ms: Math.round(seeded.seedMs),
      cold_ms: round1(cold.ms),
      cold_docs: cold.docs,
      cold_requests: cold.requests,
      cold_bytes: cold.bytes,
      cold_bytes_sent: cold.bytesSent,
      cold_batch_size: kDefaultBatchSize,
    };
    if (tuned) {
      Object.assign(result, {
        cold_tuned_ms: round1(tuned.ms),
        cold_tuned_requests: tuned.requests,
        cold_tuned_bytes: tuned.bytes,
        cold_tuned_batch_size: kTunedBatchSize,
      });
    }
    Object.assign(result, {
      changed: args.changed,
      incremental_ms: rounds.map((x) => round1(x.ms)),
      incremental_median_ms: round1(median(rounds.map((x) => x.ms))),
      incremental_requests: median(rounds.map((x) => x.requests)),
      incremental_bytes: median(rounds.map((x) => x.bytes)),
      incremental_bytes_sent: median(rounds.map((x) => x.bytesSent)),
      incremental_requests_each: rounds.map((x) => x.requests),
      incremental_bytes_each: rounds.map((x) => x.bytes),
      ok: true,
    });
    await cleanup();
    return result;
  } catch (err) {
    try {
      await cleanup();
    } catch (e) {
      log(`cleanup after the failure: ${e.message}`);
    }
    throw err;
  }
}

// ---- Entry -------------------------------------------------------------------

if (isMainThread) {
  let written = false;
  const writeResult = (obj) => {
    if (written) return;
    written = true;
    process.stdout.write(JSON.stringify(obj) + "\n");
  };
  const fail = (err) => {
    log(`error: ${err && err.stack ? err.stack : err}`);
    writeResult({ ok: false, error: String(err && err.message ? err.message : err) });
    process.exitCode = 1;
  };
  process.on("uncaughtException", (err) => {
    fail(err);
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    fail(err);
    process.exit(1);
  });
  // A safety net only: everything is closed by then, so the process ends on
  // its own long before this fires (the timer does not keep it alive).
  const exitSoon = () => {
    setTimeout(() => {
      log("something kept the process alive after the work was done; exiting");
      process.exit(process.exitCode || 0);
    }, 10000).unref();
  };
  Promise.resolve()
    .then(() => client(parseArgs(process.argv.slice(2))))
    .then((result) => {
      writeResult(result);
      exitSoon();
    }, (err) => {
      fail(err);
      exitSoon();
    });
} else {
  serverThread().catch((err) => {
    // Reaches the main thread as the worker's "error" event.
    throw err;
  });
}
