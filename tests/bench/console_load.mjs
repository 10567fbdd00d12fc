// Page loads of the sysadmin console in headless Chromium, for
// `charta-bench console` (bench_console.cc):
//
//   node console_load.mjs --url URL --node-dir DIR --runs N --user U --password P
//
// Signs in once (the console's cookie), then loads each page N times and
// times it until the page shows its data: the summary cards, the first row of
// the conflict inbox, of the device list and of the audit trail (see below).
// Prints one JSON object: {"pages": {"overview": [ms, ...], ...},
// "switches": {...}, "console_errors": [...]}.
// --node-dir holds the browser tests' package.json (playwright-core, pinned);
// it is installed there with npm when missing. Exit 0, or 1 with the reason
// on stderr.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const CHROMIUM = process.env.CHARTA_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PAGES = [
  ['overview', '#/overview', 'ul.cards li'],
  ['conflicts', '#/conflicts', '#inbox-table tbody tr'],
  ['devices', '#/devices', '#devices-table tbody tr'],
  ['audit', '#/audit', '#audit-table tbody tr'],
];

function fail(message) {
  process.stderr.write(`console_load: ${message}\n`);
  process.exit(1);
}

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i + 1 < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
for (const k of ['url', 'node-dir', 'runs', 'user', 'password']) if (!args[k]) fail(`--${k} is required`);
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) fail('--runs: a positive integer');
if (!fs.existsSync(CHROMIUM)) fail(`${CHROMIUM} is not installed (Debian package chromium)`);

const nodeDir = path.resolve(args['node-dir']);
if (!fs.existsSync(path.join(nodeDir, 'node_modules', 'playwright-core', 'package.json'))) {
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev'],
    { cwd: nodeDir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (npm.error || npm.status !== 0) fail(`npm install failed in ${nodeDir}`);
}
const { chromium } = createRequire(path.join(nodeDir, 'package.json'))('playwright-core');

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const consoleErrors = [];
try {
  const context = await browser.newContext({ baseURL: args.url, viewport: { width: 1440, height: 900 } });
  const signIn = await context.request.post('/v1/console/session',
    { data: { username: args.user, password: args.password } });
  if (signIn.status() !== 200) fail(`console sign-in answered ${signIn.status()}: ${await signIn.text()}`);
  const pages = {};
  const switches = {};
  // Each page in its own tab, loaded once untimed (Chromium starts the tab's
  // renderer then), then reloaded --runs times as a sysadmin's browser would:
  // each reload a full load of the document, its files and its data, timed
  // from the navigation's start until the data is on screen (checked every
  // animation frame). Then --runs switches to it from another page inside
  // the page (a hash change: the console's own navigation), timed the same way.
  for (const [name, hash, selector] of PAGES) {
    pages[name] = [];
    switches[name] = [];
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${name}: ${m.text()}`); });
    page.on('pageerror', (e) => consoleErrors.push(`${name}: ${e.message}`));
    const shownAt = async () => (await page.waitForFunction(
      (sel) => document.querySelector(sel) !== null && performance.now(), selector,
      { polling: 'raf', timeout: 30_000 })).jsonValue();
    await page.goto(`/admin${hash}`);
    await shownAt();
    for (let i = 0; i < runs; ++i) {
      await page.reload();
      pages[name].push(await shownAt());
    }
    const [fromHash, fromSelector] = name === 'overview' ? ['#/conflicts', '#inbox-table tbody tr']
      : ['#/overview', 'ul.cards li'];
    for (let i = 0; i < runs; ++i) {
      await page.evaluate((h) => { location.hash = h; }, fromHash);
      await page.waitForSelector(fromSelector, { timeout: 30_000 });
      const from = await page.evaluate((h) => { const t = performance.now(); location.hash = h; return t; }, hash);
      switches[name].push(await shownAt() - from);
    }
    await page.close();
  }
  process.stdout.write(`${JSON.stringify({ pages, switches, console_errors: consoleErrors })}\n`);
} catch (e) {
  fail(e.stack || String(e));
} finally {
  await browser.close();
}
