// What the browser tests (console_test.mjs, portal_test.mjs) share: their
// arguments, the skip when Chromium is missing, playwright-core from
// --node-dir, a charta-server on SQLite in a temporary folder with the demo
// clinic, charta-sim runs and enrolments, HTTP helpers, the browser and the
// check of its console, screenshots, a watchdog and the cleanup.
//
// A test calls startRun() first, then runTest(main): main() throws (an
// assertion) to fail. Everything this module starts (the server, charta-sim
// runs, the browser) is stopped at the end, after a signal and when the
// watchdog fires; the temporary folder is removed; on failure --out
// receives failure.png (of the page given to screenshotOnFailure) and the
// server's log. Exit 0: passed; 1: failed; 2: wrong arguments; 77: skipped
// because Chromium is not installed.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SKIP = 77;
export const CHROMIUM = process.env.CHARTA_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SYSADMIN = { username: 'admin', password: 'demo-admin-pass' }; // the server's --demo sysadmin
export const CLINIC = 'demo'; // the server's --demo clinic

const started = Date.now();
export const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The run: set by startRun().
let name = 'browser_test'; // in messages: the test's file name
let args = null;
let tmpDir = null; // removed at the end, also after a signal
let outDir = null;
let dataDir = null;
let serverLog = null;
let watchdog = null;
let chromium = null;
let server = null;
let browser = null;
let failurePage = null;
let failed = false;

// ---------------------------------------------------------------------------
// Arguments, skip, npm

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    if (!key.startsWith('--') || i + 1 >= argv.length) {
      console.error(`${name}: unexpected argument ${key}`);
      process.exit(2);
    }
    out[key.slice(2)] = argv[i + 1];
  }
  for (const k of ['server', 'sim', 'node-dir', 'out']) {
    if (!out[k]) {
      console.error(`${name}: --${k} is required`);
      process.exit(2);
    }
  }
  return out;
}

function loadPlaywright(nodeDir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(nodeDir, 'package.json'), 'utf8'));
  const want = pkg.dependencies['playwright-core'];
  const installed = path.join(nodeDir, 'node_modules', 'playwright-core', 'package.json');
  let have = null;
  try {
    have = JSON.parse(fs.readFileSync(installed, 'utf8')).version;
  } catch (e) {
    have = null;
  }
  if (have !== want) {
    log(`installing playwright-core ${want} into ${nodeDir} (once)`);
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev'], {
      cwd: nodeDir, stdio: 'inherit', timeout: 240_000,
    });
    if (npm.error || npm.status !== 0) {
      throw new Error(`npm install failed in ${nodeDir} (${npm.error ? npm.error.message : `exit ${npm.status}`})`);
    }
  }
  const require = createRequire(path.join(nodeDir, 'package.json'));
  return require('playwright-core');
}

// ---------------------------------------------------------------------------
// Processes

const children = new Set();

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch (e) {
        // already gone
      }
    }
  }
}

// Runs a command to the end: {code, stdout, stderr}.
export function run(bin, argv, { timeout = 60_000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(bin, argv, { timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      children.delete(child);
      const code = error ? (typeof error.code === 'number' ? error.code : (child.exitCode ?? -1)) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    children.add(child);
  });
}

export async function runOk(bin, argv, what) {
  const r = await run(bin, argv);
  if (r.code !== 0) {
    throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function stopProcess(child, ms = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await done;
  clearTimeout(timer);
  children.delete(child);
}

// ---------------------------------------------------------------------------
// HTTP helpers (node's fetch)

export async function http(base, method, urlPath, { body, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(base + urlPath, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

export function expectStatus(r, status, what) {
  assert.equal(r.status, status, `${what}: expected HTTP ${status}, got ${r.status}: ${r.text.slice(0, 400)}`);
  return r.json;
}

// ---------------------------------------------------------------------------
// The run: arguments, skip, temporary folder, --out, watchdog, cleanup

// Reads the arguments, exits 77 when Chromium is missing, makes the
// temporary folder and an empty --out, and starts the watchdog.
// name: the test in messages; tmpPrefix: of the temporary folder.
export function startRun({ name: testName, tmpPrefix, watchdogMs }) {
  name = testName;
  args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`${name}: SKIPPED: ${CHROMIUM} is not installed (Debian package chromium; scripts/install-deps installs it)`);
    process.exit(SKIP);
  }
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      console.error(`${name}: ${signal}: stopping the server and the browser`);
      killAll();
      if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
      process.exit(1); // the exit handlers (ours and playwright's) kill the rest
    });
  }
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  outDir = path.resolve(args.out);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  dataDir = path.join(tmpDir, 'server');
  serverLog = path.join(tmpDir, 'server.log');
  fs.mkdirSync(dataDir);
  watchdog = setTimeout(() => {
    console.error(`${name}: FAILED: still running after ${watchdogMs / 1000} s; stopping everything`);
    failed = true;
    finish().finally(() => process.exit(1));
  }, watchdogMs);
  return { args, tmp: tmpDir, outDir };
}

async function finish() {
  clearTimeout(watchdog);
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), sleep(10_000)]);
    browser = null;
  }
  await stopProcess(server);
  killAll();
  if (failed && fs.existsSync(serverLog)) fs.copyFileSync(serverLog, path.join(outDir, 'server.log'));
  fs.rmSync(tmpDir, { recursive: true, force: true });
}

// Loads playwright-core, runs main(), cleans up and exits (0 or 1).
export async function runTest(main) {
  try {
    ({ chromium } = loadPlaywright(path.resolve(args['node-dir'])));
    await main();
    log('PASSED');
  } catch (e) {
    failed = true;
    console.error(`${name}: FAILED: ${e && e.stack ? e.stack : e}`);
    if (failurePage) {
      await Promise.race([failurePage.screenshot({ path: path.join(outDir, 'failure.png'), fullPage: true }).catch(() => {}), sleep(10_000)]);
    }
    console.error(`(screenshots and the server log are in ${outDir})`);
  } finally {
    await finish();
  }
  process.exit(failed ? 1 : 0);
}

// ---------------------------------------------------------------------------
// The server and the tablets

// charta-server on SQLite in the temporary folder, with the demo clinic
// (--demo), on a free port; returns once it answers /healthz.
export async function startServer() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFd = fs.openSync(serverLog, 'a');
  server = spawn(args.server, ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, '--demo', '--log-file', serverLog],
    { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  children.add(server);
  log(`charta-server on ${base}`);
  for (let i = 0; ; i++) {
    if (server.exitCode !== null) throw new Error(`charta-server exited with ${server.exitCode}; see server.log`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch (e) {
      // not listening yet
    }
    if (i > 300) throw new Error('charta-server did not answer /healthz within 30 s');
    await sleep(100);
  }
  return { port, base };
}

// Signs the demo sysadmin in: adminApi(method, path, body) calls with its token.
export async function sysadminApi(base) {
  const login = expectStatus(await http(base, 'POST', '/v1/login', { body: SYSADMIN }), 200, 'sysadmin login');
  const bearer = { Authorization: `Bearer ${login.token}` };
  return (method, p, body) => http(base, method, p, { body, headers: bearer });
}

// Enrols a charta-sim tablet of the demo clinic in dir with a fresh
// enrolment code, for nurse ({id, password}): {dir, name, id (the device's)}.
export async function enrolTablet(base, adminApi, { dir, name: tabletName, nurse }) {
  const passFile = path.join(tmpDir, `${nurse.id}-pass`);
  fs.writeFileSync(passFile, `${nurse.password}\n`, { mode: 0o600 });
  const code = expectStatus(await adminApi('POST', '/v1/admin/enrolment-codes', { clinic: CLINIC }), 201, 'enrolment code').code;
  const r = await runOk(args.sim, ['enroll', '--server', base, '--code', code, '--data', dir, '--user', nurse.id,
    '--passphrase-file', passFile, '--name', tabletName, '--kdf', 'minimum'], `enrolling ${tabletName}`);
  return { dir, name: tabletName, id: JSON.parse(r.stdout.trim().split('\n').pop()).device_id };
}

// ---------------------------------------------------------------------------
// The browser

export async function launchBrowser() {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  return browser;
}

// A PNG of the whole page in --out.
export async function screenshot(page, pngName) {
  await page.screenshot({ path: path.join(outDir, `${pngName}.png`), fullPage: true });
}

// The page failure.png shows if the test fails.
export function screenshotOnFailure(page) {
  failurePage = page;
}

// Browser console messages: every error and warning of the pages watched,
// in order, as {page (label), type, text, url}. Chromium logs every 4xx
// answer to fetch() as an error; each test says which of them it causes on
// purpose (checkConsole).
export const consoleProblems = [];

// A 15 s default timeout for the page, and its console errors and warnings
// (and uncaught exceptions) into consoleProblems under label.
export function watchPage(page, label) {
  page.setDefaultTimeout(15_000);
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      consoleProblems.push({ page: label, type: msg.type(), text: msg.text(), url: (msg.location() || {}).url || '' });
    }
  });
  page.on('pageerror', (err) => consoleProblems.push({ page: label, type: 'pageerror', text: String(err && err.stack || err), url: '' }));
}

// The HTTP status (a string) of a console message that reports a refused
// request, else null.
export function httpErrorStatus(p) {
  const m = /^Failed to load resource: the server responded with a status of (\d+)/.exec(p.text);
  return p.type === 'error' && m ? m[1] : null;
}

export function isHttpError(p, status) {
  return httpErrorStatus(p) === status;
}

// Fails on any console problem that expected(p, index) does not allow.
export function checkConsole(expected) {
  const unexpected = consoleProblems.filter((p, i) => !expected(p, i));
  assert.deepEqual(unexpected, [], `browser console errors or warnings:\n${unexpected.map((p) => `  [${p.page}] ${p.type}: ${p.text} ${p.url}`).join('\n')}`);
  log(`browser console clean (${consoleProblems.length} expected HTTP refusals logged by Chromium)`);
}
