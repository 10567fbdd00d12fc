// The patient portal in a real browser, against a real charta-server and a
// real charta-sim tablet:
//
//   node portal_test.mjs --server CHARTA_SERVER --sim CHARTA_SIM --node-dir DIR --out DIR
//
// --node-dir holds package.json (playwright-core, pinned); the package is
// installed there with npm on the first run. --out receives a PNG of every
// screen, the downloaded FHIR Bundle and, on failure, the server's log.
// Exit 0: passed; 1: failed; 77: skipped because Chromium is not installed.
// What it shares with console_test.mjs (arguments, npm, the server and
// charta-sim, the browser, console checks, cleanup) is in harness.mjs.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import nodeHttp from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CLINIC, checkConsole, consoleProblems, enrolTablet, expectStatus, http, httpErrorStatus, launchBrowser, log, run,
  runOk, runTest, screenshot as shot, screenshotOnFailure, sleep, startRun, startServer, sysadminApi, watchPage,
} from './harness.mjs';

const SOURCE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NURSE = { id: 'nurse.kim', name: 'Kim Nurse', password: 'kim-nurse-passphrase' };
const TABLET = 'Home-visit tablet';
const OTHER_CLINIC = { id: 'north', name: 'North school clinic' };
const OTHER_NURSE = { id: 'nurse.ola', name: 'Ola Night', password: 'ola-nurse-passphrase' };
const TEEN = { username: 'mia.k', passphrase: 'green kettle river seven' }; // patient A, self, second factor
const PARENT = { username: 'sam.parent', passphrase: 'paper boats at dawn' }; // parent of A and C
const BREAK_GLASS_REASON = 'Found unconscious at the bus stop, no carer present';
const POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1366, height: 900 };

const { args, tmp, outDir } = startRun({ name: 'portal_test', tmpPrefix: 'charta-portal-', watchdogMs: 240_000 });

// ---------------------------------------------------------------------------
// HTTP with the path as written

// A request whose path is sent exactly as written (fetch would resolve
// "..", "%2e%2e" and the like before sending).
function rawRequest(port, method, rawPath, headers = {}, body) {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request({ host: '127.0.0.1', port, method, path: rawPath, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${rawPath}: no answer within 10 s`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---------------------------------------------------------------------------
// RFC 6238 time-based codes with HMAC-SHA256, 6 digits, 30 s steps

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${text}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secretBase32, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = crypto.createHmac('sha256', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}

// A code with at least 5 s left in its step (the server accepts one step either side too).
async function freshTotp(secret) {
  const left = 30 - ((Date.now() / 1000) % 30);
  if (left < 5) await sleep(left * 1000 + 200);
  return totp(secret);
}

// ---------------------------------------------------------------------------
// What the reference export (the staff's $everything) says the record holds

const codes = (cc) => (cc && Array.isArray(cc.coding) ? cc.coding.map((c) => c.code) : []);
const ccText = (cc) => (cc && (cc.text && cc.text !== '(not recorded)' ? cc.text
  : (cc.coding || []).map((c) => c.display).find(Boolean) || (cc.coding || []).map((c) => c.code).find(Boolean))) || '';
const inError = (r) => r.status === 'entered-in-error' || codes(r.verificationStatus).includes('entered-in-error');

function expectedOf(bundle) {
  const all = (bundle.entry || []).map((e) => e.resource);
  const of = (type) => all.filter((r) => r.resourceType === type && !inError(r));
  const vitalKinds = new Set();
  for (const o of of('Observation')) {
    if (!(o.category || []).some((c) => codes(c).includes('vital-signs'))) continue;
    const code = codes(o.code)[0];
    vitalKinds.add(code === '55284-4' ? '85354-9' : code === '2708-6' ? '59408-5' : code);
  }
  const patient = all.find((r) => r.resourceType === 'Patient') || {};
  const name = (patient.name || [])[0] || {};
  return {
    patient,
    name: [...(name.given || []), name.family].filter(Boolean).join(' '),
    mrn: ((patient.identifier || []).find((i) => i.system === 'urn:charta:mrn') || {}).value,
    allergies: of('AllergyIntolerance').map((r) => ccText(r.code)),
    problems: of('Condition').filter((r) => codes(r.clinicalStatus).includes('active')).map((r) => ccText(r.code)),
    medicines: of('MedicationStatement').map((r) => ccText(r.medicationCodeableConcept)),
    immunisations: of('Immunization'),
    visits: of('Encounter').filter((r) => r.status !== 'cancelled'),
    vitalKinds: [...vitalKinds],
    labs: of('Observation').filter((o) => (o.category || []).some((c) => codes(c).includes('laboratory'))),
    documents: of('DocumentReference'),
  };
}

const noteText = (doc) => Buffer.from(((doc.content || [])[0] || {}).attachment?.data || '', 'base64').toString('utf8');

// ---------------------------------------------------------------------------
// The scenario

// Chromium logs every 4xx answer to fetch() as a console error. Each one
// the test causes on purpose is allowed by its status and path (and, for
// ended sessions, only inside the window it happens in); any other error or
// warning fails the test.
const allowed = []; // {status, path (prefix), from, to}
function allow(status, pathPrefix, from = 0, to = Infinity) {
  allowed.push({ status: String(status), pathPrefix, from, to });
}
function isAllowed(p, i, base) {
  const status = httpErrorStatus(p);
  if (!status || !p.url.startsWith(base)) return false;
  const urlPath = p.url.slice(base.length);
  return allowed.some((a) => a.status === status && urlPath.startsWith(a.pathPrefix) && i >= a.from && i < a.to);
}

async function main() {
  // --- The server, on SQLite in a temporary folder, with the demo clinic ---
  const { port, base } = await startServer();

  // --- A nurse's tablet charts three demo patients and syncs ---
  const adminApi = await sysadminApi(base);
  expectStatus(await adminApi('POST', '/v1/admin/users',
    { id: NURSE.id, display_name: NURSE.name, role: 'nurse', clinic: CLINIC, password: NURSE.password }), 201, 'create nurse');
  const tabletDir = path.join(tmp, 'tablet');
  await enrolTablet(base, adminApi, { dir: tabletDir, name: TABLET, nurse: NURSE });
  const simOk = (verb, ...more) => runOk(args.sim, [verb, '--data', tabletDir, ...more], `charta-sim ${verb}`);
  await simOk('seed-demo', '--patients', '3', '--seed', '7');
  await simOk('sync');

  // The patients' ids: from the ops the server received (audit op.receive).
  const ids = [];
  for (let after = ''; ;) {
    const page = expectStatus(await adminApi('GET', `/v1/admin/audit?action=op.receive&limit=1000${after ? `&after=${after}` : ''}`),
      200, 'audit op.receive');
    for (const e of page.events) if (e.patient && !ids.includes(e.patient)) ids.push(e.patient);
    if (ids.length >= 3 || page.events.length < 1000 || !page.next_after) break;
    after = page.next_after;
  }
  assert.equal(ids.length, 3, `three demo patients on the server: ${ids.join(', ')}`);
  const reference = {};
  for (const id of ids) {
    reference[id] = expectStatus(await adminApi('GET', `/fhir/Patient/${encodeURIComponent(id)}/$everything`), 200, `$everything ${id}`);
  }
  // A: the patient with the most vaccinations (a school child), C: another
  // child for the parent's account, B: nobody's (the adult).
  const byVaccines = ids.slice().sort((x, y) => expectedOf(reference[y]).immunisations.length - expectedOf(reference[x]).immunisations.length);
  const [A, C, B] = byVaccines;
  const expA = expectedOf(reference[A]);
  assert.ok(expA.immunisations.length > 0, 'patient A has vaccinations');
  assert.ok(expA.documents.length > 0, 'patient A has notes');
  assert.ok(expA.vitalKinds.length > 0, 'patient A has measurements');
  log(`patients: A ${A} (${expA.name}: ${expA.allergies.length} allergies, ${expA.problems.length} problems, ` +
    `${expA.medicines.length} medicines, ${expA.immunisations.length} vaccinations, ${expA.visits.length} visits, ` +
    `${expA.vitalKinds.length} kinds of measurement, ${expA.labs.length} results, ${expA.documents.length} notes), B ${B}, C ${C}`);

  const invite = async (patient, relation, name) => expectStatus(await adminApi('POST',
    `/v1/admin/patients/${encodeURIComponent(patient)}/invitations`, { relation, name }), 201, `invitation for ${patient}`);
  const inviteA = await invite(A, 'self', expA.name || 'Patient A');
  assert.match(inviteA.code, /\S{6,}/, 'an invitation code');
  expectStatus(await adminApi('POST', '/v1/admin/patients/no-such-patient/invitations', { relation: 'self', name: 'Nobody' }),
    404, 'invitation for an unknown patient');

  // --- The browser, on a phone ---
  const browser = await launchBrowser();
  const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: 'en-GB' });
  const page = await phone.newPage();
  screenshotOnFailure(page);
  watchPage(page, 'phone');
  const focused = (p) => p.evaluate(() => document.activeElement && document.activeElement.id);
  allow(401, '/v1/me/session'); // no session yet at page load; wrong passphrase; code needed; wrong code

  // The page and its headers.
  const response = await page.goto(`${base}/me`);
  assert.equal(response.status(), 200, 'GET /me');
  const headers = response.headers();
  assert.equal(headers['content-security-policy'], POLICY, 'GET /me: Content-Security-Policy');
  assert.equal((headers['x-frame-options'] || '').toUpperCase(), 'DENY', 'GET /me: X-Frame-Options');
  for (const asset of ['portal.js', 'portal.css', 'icon.svg']) {
    const r = await fetch(`${base}/me/${asset}`);
    assert.equal(r.status, 200, `GET /me/${asset}`);
    assert.equal(r.headers.get('content-security-policy'), POLICY, `/me/${asset}: Content-Security-Policy`);
  }
  await page.locator('#signin-username').waitFor();
  assert.match(page.url(), /#\/welcome$/, 'the first screen is #/welcome');
  await shot(page, 'welcome');
  // Keyboard: skip link first, it leads into the main content, whose first stop is the user name.
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'skip-link', 'the first Tab stop is the skip link');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'main', 'the skip link moves the focus to the main content');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'signin-username', 'then the user name');
  // Touch targets: the sign-in button and the invitation link are at least 44 px high.
  for (const sel of ['#signin-submit', '#have-invitation']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(box && box.height >= 44, `${sel} is a large touch target (${box && box.height} px)`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `nothing is wider than the phone's screen (${overflow} px too wide)`);
  log('welcome page: headers, keyboard order, touch targets');

  // --- Accepting the invitation ---
  await page.click('#have-invitation');
  await page.waitForFunction(() => location.hash === '#/accept');
  await page.locator('#accept-code').waitFor();
  const acceptAlert = () => page.locator('#accept-alert').innerText();
  const fillAccept = async (code, username, p1, p2 = p1) => {
    await page.fill('#accept-code', code);
    await page.fill('#accept-username', username);
    await page.fill('#accept-passphrase', p1);
    await page.fill('#accept-passphrase2', p2);
  };
  // Checked on the page before anything is sent.
  await fillAccept(inviteA.code, TEEN.username, 'short');
  await page.click('#accept-submit');
  await page.locator('#accept-alert .notice').waitFor();
  assert.match(await acceptAlert(), /at least 10 characters/);
  await fillAccept(inviteA.code, TEEN.username, TEEN.passphrase, `${TEEN.passphrase}!`);
  await page.click('#accept-submit');
  await page.locator('#accept-alert').getByText(/not the same/).waitFor();
  // An unknown code: the page says so clearly.
  allow(403, '/v1/me/accept');
  await fillAccept('ZZZZ-ZZZZ-ZZZZ-ZZZZ', TEEN.username, TEEN.passphrase);
  await page.click('#accept-submit');
  await page.locator('#accept-alert').getByText(/not valid/).waitFor();
  assert.match(await acceptAlert(), /expired or been used already.*Ask your clinic/s);
  // The server refuses a short passphrase too, without using up the invitation.
  const short = await http(base, 'POST', '/v1/me/accept',
    { body: { code: inviteA.code, username: TEEN.username, passphrase: 'short', second_factor: false } });
  assert.equal(short.status, 400, `a short passphrase: ${short.status} ${short.text}`);
  assert.equal(short.json?.error?.code, 'invalid');
  // The real code, with the second factor.
  await fillAccept(inviteA.code, TEEN.username, TEEN.passphrase);
  await page.check('#accept-second-factor');
  await page.click('#accept-submit');
  await page.locator('#accept-result').waitFor();
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  const uri = (await page.locator('#totp-uri').innerText()).trim();
  assert.match(secret, /^[A-Z2-7]{16,}$/, `a base32 secret is shown: ${secret}`);
  assert.ok(uri.startsWith('otpauth://totp/') && uri.includes(`secret=${secret}`), `the otpauth URI holds the secret: ${uri}`);
  assert.match(uri, /algorithm=SHA256/i, 'the URI names HMAC-SHA256');
  assert.match(await page.locator('#accept-result').innerText(), /Now sign in/);
  assert.match(await page.locator('#accept-result').innerText(), new RegExp(expA.name.split(' ')[0]), 'the result names the patient');
  await shot(page, 'accept');
  // The used code: the same clear message.
  await page.click('#accept-signin');
  await page.locator('#signin-username').waitFor();
  assert.equal(await page.inputValue('#signin-username'), TEEN.username, 'the sign-in form offers the new user name');
  await page.click('#have-invitation');
  await page.locator('#accept-code').waitFor();
  await fillAccept(inviteA.code, 'someone.else', TEEN.passphrase);
  await page.click('#accept-submit');
  await page.locator('#accept-alert').getByText(/not valid/).waitFor();
  log(`invitation accepted with a second factor; short, mismatched, unknown and used codes refused on the page`);

  // --- Signing in: wrong passphrase, then the code is asked for, a wrong code, the right one ---
  await page.click('text=Back to sign in');
  await page.locator('#signin-username').waitFor();
  await page.fill('#signin-username', TEEN.username);
  await page.fill('#signin-passphrase', 'not the passphrase at all');
  await page.click('#signin-submit');
  await page.locator('#signin-alert .notice').waitFor();
  assert.match(await page.locator('#signin-alert').innerText(), /not right/);
  assert.ok(await page.locator('#signin-code').isHidden(), 'no code field before the passphrase is right');
  await page.fill('#signin-passphrase', TEEN.passphrase);
  await page.click('#signin-submit');
  await page.locator('#signin-code').waitFor();
  assert.match(await page.locator('#signin-alert').innerText(), /6-digit code/);
  assert.equal(await focused(page), 'signin-code', 'the code field takes the focus');
  await shot(page, 'signin-code');
  const now = totp(secret);
  await page.fill('#signin-code', now === '000000' ? '111111' : '000000');
  await page.click('#signin-submit');
  await page.locator('#signin-alert').getByText(/did not work/).waitFor();
  await page.fill('#signin-code', await freshTotp(secret));
  await page.click('#signin-submit');
  await page.locator('#record-title').waitFor();
  assert.equal(new URL(page.url()).hash, `#/record/${encodeURIComponent(A)}`);
  log('signed in with user name, passphrase and a time-based code (HMAC-SHA256)');

  // The cookie: HttpOnly, SameSite=Strict.
  const cookie = (await phone.cookies(base)).find((c) => c.name === 'charta_me');
  assert.ok(cookie, 'the portal session cookie charta_me is set');
  assert.equal(cookie.httpOnly, true, 'charta_me is HttpOnly');
  assert.equal(cookie.sameSite, 'Strict', 'charta_me is SameSite=Strict');
  assert.equal(cookie.path, '/', 'charta_me has Path=/');
  assert.equal(await page.evaluate(() => document.cookie.includes('charta_me')), false, 'no script reads the cookie');
  const cookieHeader = { Cookie: `charta_me=${cookie.value}` };
  const meApi = (p) => http(base, 'GET', p, { headers: cookieHeader });
  const session = expectStatus(await meApi('/v1/me/session'), 200, 'GET /v1/me/session');
  assert.deepEqual(session.patients.map((p) => p.id), [A]);
  assert.equal(session.patients[0].relation, 'self');

  // --- The record, on the phone ---
  const recordData = expectStatus(await meApi(`/v1/me/patients/${encodeURIComponent(A)}/record`), 200, 'record of A');
  await checkRecord(page, expA, recordData);
  assert.ok((await page.locator('svg.plot path.line').count()) >= 1, 'at least one measurement is plotted as a line');
  const overflowRecord = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflowRecord <= 0, `the record fits the phone's width (${overflowRecord} px too wide)`);
  await shot(page, 'record-phone');
  log(`record on the phone: every section as the export has it (${expA.vitalKinds.length} plots, ` +
    `${recordData.immunisations_due.length} vaccinations due)`);

  // CSRF: a POST from the page without the token is refused, and the session lives on.
  allow(403, '/v1/me/logout');
  const csrf = await page.evaluate(async () => {
    const r = await fetch('/v1/me/logout', { method: 'POST', credentials: 'same-origin' });
    return { status: r.status, body: await r.text() };
  });
  assert.equal(csrf.status, 403, `POST /v1/me/logout without the CSRF token: ${csrf.status} ${csrf.body}`);
  assert.equal(JSON.parse(csrf.body).error.code, 'csrf');
  expectStatus(await meApi('/v1/me/session'), 200, 'the session after the refused POST');
  log('CSRF: a POST without the token is refused with 403 csrf');

  // --- The tablet charts an allergy offline, syncs; the page shows it after a reload ---
  await simOk('add-allergy', '--patient', A, '--substance', 'Peanut', '--criticality', 'high');
  await simOk('sync');
  await page.reload();
  await page.locator('#allergies-list [data-allergy="Peanut"]').waitFor();
  assert.match(await page.locator('#allergies-list [data-allergy="Peanut"]').getAttribute('class'), /card-danger/,
    'a highly critical allergy stands out');
  log('the tablet charted "Peanut" offline and synced: the record shows it');

  // --- Download the FHIR Bundle through the button; the project's validator checks it ---
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-fhir')]);
  assert.match(download.suggestedFilename(), /^charta-.+\.json$/, `download name ${download.suggestedFilename()}`);
  const bundlePath = path.join(outDir, 'record-download.json');
  await download.saveAs(bundlePath);
  const downloaded = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
  assert.equal(downloaded.resourceType, 'Bundle');
  assert.ok(downloaded.entry.some((e) => e.resource.resourceType === 'AllergyIntolerance' && ccText(e.resource.code) === 'Peanut'),
    'the downloaded Bundle holds the new allergy');
  assert.ok(downloaded.entry.some((e) => e.resource.resourceType === 'Patient'), 'the downloaded Bundle holds the Patient');
  const validation = await run('python3', [path.join(SOURCE_DIR, 'tests', 'server', 'fhir', 'validate_bundles.py'),
    path.join(SOURCE_DIR, 'server', 'fhir', 'fhir.schema.json'), bundlePath], { timeout: 90_000 });
  assert.equal(validation.code, 0, `validate_bundles.py: ${validation.stdout}${validation.stderr}`);
  await page.locator('#download-status .notice-ok').waitFor();
  log(`downloaded ${download.suggestedFilename()} (${downloaded.entry.length} resources): valid FHIR R4 (${validation.stdout.trim().split('\n')[0].replace(outDir, 'out')})`);

  // --- On a laptop (the same session) ---
  const laptop = await browser.newContext({ viewport: LAPTOP, locale: 'en-GB', storageState: await phone.storageState() });
  const desk = await laptop.newPage();
  screenshotOnFailure(desk);
  watchPage(desk, 'laptop');
  await desk.goto(`${base}/me#/record/${encodeURIComponent(A)}`);
  await desk.locator('#allergies-list [data-allergy="Peanut"]').waitFor();
  await desk.locator('svg.plot').first().waitFor();
  await shot(desk, 'record-desktop');
  log('record on a laptop');
  await checkShapes(laptop, base, A, expectStatus(await meApi(`/v1/me/patients/${encodeURIComponent(A)}/record`), 200, 'record of A'));

  // --- Emergency access from another clinic's tablet (break-glass) ---
  expectStatus(await adminApi('POST', '/v1/admin/clinics', { id: OTHER_CLINIC.id, name: OTHER_CLINIC.name }), 201, 'create clinic');
  expectStatus(await adminApi('POST', '/v1/admin/users', { id: OTHER_NURSE.id, display_name: OTHER_NURSE.name, role: 'nurse',
    clinic: OTHER_CLINIC.id, password: OTHER_NURSE.password }), 201, 'create the other clinic\'s nurse');
  const northCode = expectStatus(await adminApi('POST', '/v1/admin/enrolment-codes', { clinic: OTHER_CLINIC.id }), 201, 'code').code;
  const enrolled = expectStatus(await http(base, 'POST', '/v1/enrol', { body: { code: northCode, name: 'North tablet' } }), 200, 'enrol');
  const deviceHeader = { 'X-Charta-Device': `${enrolled.device_id}:${enrolled.device_secret}` };
  const northLogin = expectStatus(await http(base, 'POST', '/v1/login',
    { body: { username: OTHER_NURSE.id, password: OTHER_NURSE.password }, headers: deviceHeader }), 200, 'north nurse login');
  const glass = await http(base, 'POST', '/v1/sync/break-glass', {
    body: { identifier: expA.mrn, birth_date: expA.patient.birthDate, reason: BREAK_GLASS_REASON },
    headers: { ...deviceHeader, Authorization: `Bearer ${northLogin.token}` },
  });
  expectStatus(glass, 200, 'break-glass lookup of A');
  assert.equal(glass.json.patient, A);

  // --- Who looked at the record ---
  await desk.click('#tab-access');
  await desk.locator('#access-table').waitFor();
  assert.equal(await desk.locator('#tab-access').getAttribute('aria-current'), 'page');
  const headerCells = await desk.$$eval('#access-table thead th', (ths) => ths.map((t) => t.textContent.trim()));
  assert.deepEqual(headerCells, ['When', 'Who', 'Where (clinic)', 'What']);
  const nurseRows = desk.locator('#access-table tbody tr[data-role="nurse"]').filter({ hasText: NURSE.name }).filter({ hasText: TABLET });
  assert.ok(await nurseRows.filter({ hasText: 'Added or changed something' }).count() >= 1, 'the nurse\'s changes from the tablet are listed');
  const ownViews = desk.locator('#access-table tbody tr[data-role="patient"]').filter({ hasText: 'Looked at the record' });
  assert.ok(await ownViews.count() >= 1, 'the portal\'s own views are listed');
  const emergency = desk.locator('#access-table tbody tr.row-emergency');
  assert.equal(await emergency.count(), 1, 'one emergency access, highlighted');
  const emergencyText = await emergency.innerText();
  assert.ok(emergencyText.includes(BREAK_GLASS_REASON), `the emergency row gives the reason: ${emergencyText}`);
  assert.match(emergencyText, /Emergency access/);
  assert.ok(emergencyText.includes(OTHER_NURSE.name) && emergencyText.includes(OTHER_CLINIC.name), 'who and where (the clinic by name)');
  // The tablet's changes are counted per hour by the server: one line, many times.
  const changeCounts = await nurseRows.filter({ hasText: 'Added or changed something' })
    .evaluateAll((rows) => rows.map((r) => Number(r.dataset.count)));
  assert.ok(changeCounts.some((n) => n > 1), `the nurse's changes are counted: ${changeCounts.join(', ')}`);
  await shot(desk, 'access');
  log(`access log: the nurse's tablet, the portal's own views and the emergency access with its reason`);

  // --- The printable record ---
  await desk.click('#tab-print');
  await desk.locator('#print-button').waitFor();
  for (const id of ['allergies', 'problems', 'medicines', 'vaccinations', 'visits', 'measurements', 'results', 'notes']) {
    assert.equal(await desk.locator(`#section-${id}`).count(), 1, `the printable record has ${id}`);
  }
  assert.equal(await desk.locator('#section-measurements details').count(), 0, 'measurement tables are open on paper');
  await desk.evaluate(() => {
    window.printCalls = 0;
    window.print = () => { window.printCalls += 1; };
  });
  await desk.click('#print-button');
  assert.equal(await desk.evaluate(() => window.printCalls), 1, 'the Print button calls window.print()');
  await shot(desk, 'print');
  await desk.emulateMedia({ media: 'print' });
  assert.ok(await desk.locator('#print-button').isHidden(), 'no buttons on paper');
  assert.ok(await desk.locator('.topbar').isHidden(), 'no navigation on paper');
  await shot(desk, 'print-paper');
  await desk.emulateMedia({ media: 'screen' });
  log('printable record: every section, Print calls window.print(), print CSS hides the controls');

  // --- A note marked not shared disappears and the page says one is withheld ---
  const note = recordData.notes[0];
  assert.ok(note && note.id && note.document, `the record lists its notes: ${JSON.stringify(recordData.notes)}`);
  expectStatus(await adminApi('POST', `/v1/admin/patients/${encodeURIComponent(A)}/notes/${encodeURIComponent(note.id)}/sharing`,
    { shared: false, reason: 'Discussed in person first (browser test)' }), 200, 'withhold a note');
  await desk.click('#tab-record');
  await desk.locator('#notes-withheld').waitFor();
  assert.match(await desk.locator('#notes-withheld').innerText(), /^1 note is not shown here/);
  assert.equal(await desk.locator(`[data-document="${note.document}"]`).count(), 0, 'the withheld note is gone');
  const recordAfter = expectStatus(await meApi(`/v1/me/patients/${encodeURIComponent(A)}/record`), 200, 'record after withholding');
  assert.equal(recordAfter.not_shared_notes, 1, 'the record counts one withheld note');
  const docsAfter = recordAfter.bundle.entry.filter((e) => e.resource.resourceType === 'DocumentReference').map((e) => e.resource.id);
  assert.ok(docsAfter.length < expA.documents.length && !docsAfter.includes(note.document), 'the export leaves the note out');
  const shownAfter = await desk.$$eval('#notes-list [data-document]', (els) => els.map((e) => e.dataset.document));
  assert.deepEqual(shownAfter.sort(), docsAfter.slice().sort(), 'the other notes are still there');
  const fhirAfter = JSON.parse((await meApi(`/v1/me/patients/${encodeURIComponent(A)}/fhir`)).text);
  assert.ok(!fhirAfter.entry.some((e) => e.resource.resourceType === 'DocumentReference' && e.resource.id === note.document),
    'the download leaves the withheld note out too');
  log(`note ${note.id} withheld: gone from the page and the download; the page says 1 note is not shown`);

  // --- Another patient's record is out of reach: the access matrix ---
  const csrfToken = session.csrf;
  const enc = (id) => encodeURIComponent(id);
  const pctAll = (id) => [...Buffer.from(id, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  const matrix = [
    ['GET', `/v1/me/patients/${enc(A)}/record`, 'own record (control)', [200]],
    ['GET', `/v1/me/patients/${enc(B)}/record`, 'B record', [404]],
    ['GET', `/v1/me/patients/${enc(B)}/fhir`, 'B FHIR', [404]],
    ['GET', `/v1/me/patients/${enc(B)}/access`, 'B access log', [404]],
    ['GET', `/v1/me/patients/${enc(A)}/../${enc(B)}/record`, 'A/../B', [404, 400]],
    ['GET', `/v1/me/patients/${enc(A)}/%2e%2e/${enc(B)}/record`, 'A/%2e%2e/B', [404, 400]],
    ['GET', `/v1/me/patients/${enc(A)}%2F..%2F${enc(B)}/record`, 'A%2F..%2FB', [404, 400]],
    ['GET', `/v1/me/patients/${pctAll(B)}/record`, 'B percent-encoded', [404]],
    ['GET', `/v1/me/patients/${enc(B)}%00/record`, 'B%00', [404, 400]],
    ['GET', `/v1/me/patients/${enc(B).toUpperCase()}/record`, 'B upper case', [404]],
    ['GET', `/v1/me/patients/${enc(B)}/record?patient=${enc(A)}`, 'B ?patient=A', [404]],
    ['GET', `/v1/me/patients/${enc(A)}/record?patient=${enc(B)}`, 'A ?patient=B', [404]],
    ['GET', `/v1/me/patients//record`, 'empty id', [404]],
    ['GET', `/v1/me/patients/${enc(B)}/record/`, 'B trailing slash', [404]],
    ['GET', '/v1/admin/clinics', 'admin clinics', [401, 403]],
    ['GET', '/v1/admin/audit', 'admin audit', [401, 403]],
    ['GET', `/fhir/Patient/${enc(A)}/$everything`, 'staff FHIR export of A', [401, 403]],
    ['GET', '/v1/sync/pull?since=0', 'sync pull', [401, 403]],
    ['GET', '/v1/console/session', 'console session', [401, 403]],
    ['POST', `/v1/admin/patients/${enc(A)}/invitations`, 'invite (with CSRF)', [401, 403]],
    ['POST', `/v1/admin/patients/${enc(A)}/notes/${enc(note.id)}/sharing`, 'note sharing (with CSRF)', [401, 403]],
  ];
  const results = [];
  for (const [method, p, what, want] of matrix) {
    const h = { ...cookieHeader, Accept: 'application/json' };
    let body;
    if (method === 'POST') {
      h['X-Charta-CSRF'] = csrfToken;
      h['Content-Type'] = 'application/json';
      body = JSON.stringify(p.includes('invitations') ? { relation: 'self', name: 'x' } : { shared: true, reason: 'x' });
    }
    const r = await rawRequest(port, method, p, h, body);
    const leaked = p.includes(enc(B)) || p.includes(pctAll(B)) ? r.text.includes(expectedOf(reference[B]).name || '\u0000') : false;
    results.push({ what, method, path: p, status: r.status, ok: want.includes(r.status) && !leaked, want: want.join('/') });
  }
  const noCookie = await rawRequest(port, 'GET', `/v1/me/patients/${enc(A)}/record`, {});
  results.push({ what: 'own record without the cookie', method: 'GET', path: `/v1/me/patients/${enc(A)}/record`, status: noCookie.status,
    ok: noCookie.status === 401, want: '401' });
  console.log('  access matrix (portal cookie of A\'s account):');
  for (const r of results) {
    console.log(`    ${r.ok ? 'ok  ' : 'FAIL'} ${String(r.status).padEnd(4)} (want ${r.want.padEnd(7)}) ${r.method.padEnd(4)} ${r.what}: ${r.path}`);
  }
  const bad = results.filter((r) => !r.ok);
  assert.deepEqual(bad, [], 'the access matrix');
  log(`access matrix: ${results.length} requests, B's record and the staff API out of reach`);

  // --- A parent with two children: one account, a chooser ---
  const inviteC = await invite(C, 'parent', 'Sam Parent');
  const inviteAParent = await invite(A, 'parent', 'Sam Parent');
  const family = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: 'en-GB' });
  const fam = await family.newPage();
  screenshotOnFailure(fam);
  watchPage(fam, 'parent');
  await fam.goto(`${base}/me#/accept`);
  await fam.locator('#accept-code').waitFor();
  const famAccept = async (code, username, p1) => {
    await fam.fill('#accept-code', code);
    await fam.fill('#accept-username', username);
    await fam.fill('#accept-passphrase', p1);
    await fam.fill('#accept-passphrase2', p1);
    await fam.click('#accept-submit');
  };
  await famAccept(inviteC.code, PARENT.username, PARENT.passphrase);
  await fam.locator('#accept-result').waitFor();
  assert.equal(await fam.locator('#totp-secret').count(), 0, 'no second factor asked for: no secret shown');
  await fam.click('#accept-signin');
  await fam.click('#have-invitation');
  // The same user name with another passphrase: refused (409), the page explains.
  allow(409, '/v1/me/accept');
  await famAccept(inviteAParent.code, PARENT.username, 'another passphrase entirely');
  await fam.locator('#accept-alert').getByText(/already taken/).waitFor();
  await famAccept(inviteAParent.code, PARENT.username, PARENT.passphrase);
  await fam.locator('#accept-result').waitFor();
  assert.equal(await fam.locator('#accept-result li').count(), 2, 'the account now has both children');
  await fam.click('#accept-signin');
  await fam.fill('#signin-username', PARENT.username);
  await fam.fill('#signin-passphrase', PARENT.passphrase);
  await fam.click('#signin-submit');
  await fam.locator('#record-title').waitFor();
  const chooser = fam.locator('#patient-chooser a');
  assert.equal(await chooser.count(), 2, 'the chooser lists both children');
  const chooserText = await fam.locator('#patient-chooser').innerText();
  assert.equal((chooserText.match(/Your child/g) || []).length, 2, `the relation is shown: ${chooserText}`);
  assert.equal(await fam.locator(`#patient-chooser a[data-patient="${C}"]`).getAttribute('aria-current'), 'true');
  const famCookie0 = (await family.cookies(base)).find((c) => c.name === 'charta_me');
  const recordC = expectStatus(await http(base, 'GET', `/v1/me/patients/${encodeURIComponent(C)}/record`,
    { headers: { Cookie: `charta_me=${famCookie0.value}` } }), 200, 'record of C');
  assert.equal(recordC.patient.relation, 'parent');
  await checkRecord(fam, expectedOf(reference[C]), recordC);
  log(`the parent sees C's record as the export has it (${recordC.immunisations_due.length} vaccinations due, ` +
    `${recordC.immunisations_due.filter((d) => d.overdue).length} overdue)`);
  await fam.click(`#patient-chooser a[data-patient="${A}"]`);
  await fam.locator('#allergies-list [data-allergy="Peanut"]').waitFor();
  assert.equal(await fam.locator(`#patient-chooser a[data-patient="${A}"]`).getAttribute('aria-current'), 'true');
  assert.match(await fam.locator('#record-title').innerText(), new RegExp(`Health record of ${expA.name.split(' ')[0]}`));
  await shot(fam, 'chooser');
  // B is not theirs: the page says it cannot be found.
  allow(404, `/v1/me/patients/${enc(B)}/`);
  await fam.evaluate((b) => { location.hash = `#/record/${encodeURIComponent(b)}`; }, B);
  await fam.getByRole('heading', { name: 'Record not found' }).waitFor();
  log('a parent: one account for two children (the second added with the same passphrase), a chooser; B not found');

  // --- The session ends on the server: the next action shows the sign-in form ---
  const famCookie = (await family.cookies(base)).find((c) => c.name === 'charta_me');
  const famSession = expectStatus(await http(base, 'GET', '/v1/me/session', { headers: { Cookie: `charta_me=${famCookie.value}` } }), 200, 'parent session');
  expectStatus(await http(base, 'POST', '/v1/me/logout',
    { body: {}, headers: { Cookie: `charta_me=${famCookie.value}`, 'X-Charta-CSRF': famSession.csrf } }), 200, 'ending the session from outside');
  const endedFrom = consoleProblems.length;
  await fam.evaluate((a) => { location.hash = `#/record/${encodeURIComponent(a)}/access`; }, A);
  await fam.locator('#signin-username').waitFor();
  assert.match(await fam.locator('#signin-alert').innerText(), /For your safety you were signed out/);
  await fam.fill('#signin-username', PARENT.username);
  await fam.fill('#signin-passphrase', PARENT.passphrase);
  await fam.click('#signin-submit');
  await fam.locator('#access-table').waitFor(); // back where they were
  await shot(fam, 'access-phone');
  allow(401, '/v1/me/patients/', endedFrom, consoleProblems.length);
  log('an ended session shows "For your safety you were signed out"; signing in returns to the page');

  // --- Sign out ---
  const lastCookie = (await family.cookies(base)).find((c) => c.name === 'charta_me');
  await fam.click('#signout');
  await fam.locator('#signin-username').waitFor();
  assert.match(await fam.locator('main').innerText(), /You have signed out/);
  assert.equal((await http(base, 'GET', '/v1/me/session', { headers: { Cookie: `charta_me=${lastCookie.value}` } })).status, 401,
    'the session ended on the server');
  log('signed out');

  // --- No console errors or warnings, except the HTTP refusals caused on purpose ---
  checkConsole((p, i) => isAllowed(p, i, base));
}

// The record page against the reference export and the record API.
async function checkRecord(page, exp, data) {
  await page.locator('#section-notes').waitFor();
  const texts = async (sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
  const attrs = async (sel, attr) => page.$$eval(sel, (els, a) => els.map((e) => e.getAttribute(a)), attr);
  // Allergies
  if (exp.allergies.length) {
    const shown = await attrs('#allergies-list [data-allergy]', 'data-allergy');
    for (const a of exp.allergies) assert.ok(shown.includes(a), `allergy ${a} is shown (${shown.join(', ')})`);
  } else {
    await page.locator('#allergies-empty').waitFor();
  }
  // Health problems (active)
  if (exp.problems.length) {
    const shown = await attrs('#problems-list [data-problem]', 'data-problem');
    assert.deepEqual(shown.slice().sort(), exp.problems.slice().sort(), 'active health problems');
  } else {
    assert.match(await page.locator('#problems-empty').innerText(), /No current health problems/);
  }
  // Medicines
  if (exp.medicines.length) {
    const shown = await attrs('#medicines-list [data-medicine]', 'data-medicine');
    assert.deepEqual(shown.slice().sort(), exp.medicines.slice().sort(), 'medicines');
  } else {
    assert.match(await page.locator('#medicines-empty').innerText(), /No medicines/);
  }
  // Vaccinations and what is due
  assert.equal(await page.locator('#vaccinations-table tbody tr').count(), exp.immunisations.length, 'one row per vaccination');
  const shownVaccines = (await texts('#vaccinations-table tbody tr')).join('\n');
  for (const i of exp.immunisations) assert.ok(shownVaccines.includes(ccText(i.vaccineCode)), `vaccine ${ccText(i.vaccineCode)} is shown`);
  const due = data.immunisations_due || [];
  if (due.length) {
    assert.equal(await page.locator('#due-list li').count(), due.length, 'one line per vaccination due');
    const overdue = due.filter((d) => d.overdue).length;
    assert.equal(await page.locator('#due-list li.is-overdue').count(), overdue, 'overdue ones stand out');
  } else {
    await page.locator('#due-empty').waitFor();
  }
  // Visits
  if (exp.visits.length) {
    assert.equal(await page.locator('#visits-list > li').count(), exp.visits.length, 'one line per visit');
  } else {
    await page.locator('#visits-empty').waitFor();
  }
  // Measurements: one plot (an SVG) and one table per kind
  const kinds = await attrs('#measurements-list [data-measurement]', 'data-measurement');
  assert.deepEqual(kinds.slice().sort(), exp.vitalKinds.slice().sort(), 'one plot per kind of measurement');
  assert.equal(await page.locator('#measurements-list svg.plot').count(), exp.vitalKinds.length);
  assert.equal(await page.locator('#measurements-list table').count(), exp.vitalKinds.length, 'a table alternative per plot');
  // Test results
  if (exp.labs.length) {
    assert.equal(await page.locator('#results-table tbody tr').count(), exp.labs.length, 'one row per test result');
  } else {
    assert.match(await page.locator('#results-empty').innerText(), /No test results/);
  }
  // Notes: every shared note (and addendum), with its decoded text
  const docs = await attrs('#notes-list [data-document]', 'data-document');
  assert.deepEqual(docs.slice().sort(), exp.documents.map((d) => d.id).sort(), 'every note is shown');
  const notesText = await page.locator('#notes-list').innerText();
  for (const d of exp.documents) {
    const first = noteText(d).split('\n').find((l) => l.trim()) || '';
    assert.ok(notesText.includes(first.trim()), `the note ${d.id} shows its text ("${first.slice(0, 60)}")`);
  }
  assert.equal(await page.locator('#notes-withheld').count(), 0, 'nothing withheld yet');
}

// Every FHIR shape the page reads, whether or not the demo charts have it:
// A's real record answer with resources added (entered in error, resolved,
// a blood-pressure panel, a laboratory result out of range, a note with
// non-ASCII text and markup, an addendum) and vaccinations due, served to
// the page instead of the server's answer (page.route). The page must show
// what counts, hide what was entered in error, and treat every text as text.
async function checkShapes(context, base, patient, real) {
  const p = await context.newPage();
  watchPage(p, 'shapes');
  const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
  const cat = (code) => [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] }];
  const loinc = (code) => ({ coding: [{ system: 'http://loinc.org', code }] });
  const status = (code) => ({ coding: [{ code }] });
  const bp = (id, when, sys, dia) => ({
    resourceType: 'Observation', id, status: 'final', category: cat('vital-signs'), code: loinc('85354-9'),
    effectiveDateTime: when,
    component: [{ code: loinc('8480-6'), valueQuantity: { value: sys, unit: 'mm[Hg]' } },
      { code: loinc('8462-4'), valueQuantity: { value: dia, unit: 'mm[Hg]' } }],
  });
  const markup = '<img src=x onerror="window.__xss=1">';
  const added = [
    { resourceType: 'AllergyIntolerance', id: 's-allergy-error', verificationStatus: status('entered-in-error'),
      code: { text: 'Latex (charted by mistake)' } },
    { resourceType: 'AllergyIntolerance', id: 's-allergy', clinicalStatus: status('active'), verificationStatus: status('confirmed'),
      criticality: 'low', category: ['medication'], code: { coding: [{ display: 'Penicillin' }] },
      reaction: [{ manifestation: [{ text: 'Rash' }], severity: 'mild' }] },
    { resourceType: 'Condition', id: 's-problem', clinicalStatus: status('active'), code: { text: 'Asthma' }, onsetDateTime: '2020-03-01' },
    { resourceType: 'Condition', id: 's-problem-old', clinicalStatus: status('resolved'), code: { text: 'Broken arm' } },
    { resourceType: 'Condition', id: 's-problem-error', verificationStatus: status('entered-in-error'), code: { text: 'Gout' } },
    { resourceType: 'MedicationStatement', id: 's-med', status: 'active', medicationCodeableConcept: { text: 'Salbutamol inhaler' },
      dosage: [{ text: '2 puffs, as needed', route: { text: 'inhalation' } }], effectivePeriod: { start: '2020-03-01' } },
    { resourceType: 'MedicationStatement', id: 's-med-error', status: 'entered-in-error', medicationCodeableConcept: { text: 'Wrong medicine' } },
    { resourceType: 'Immunization', id: 's-vaccine-error', status: 'entered-in-error', vaccineCode: { text: 'Not a vaccine' },
      occurrenceDateTime: '2021-01-01' },
    { resourceType: 'Encounter', id: 's-visit-error', status: 'entered-in-error', class: { code: 'AMB' },
      period: { start: '2025-02-02T10:00:00.000Z' }, reasonCode: [{ text: 'Visit charted by mistake' }] },
    bp('s-bp-1', '2025-01-10T09:00:00.000Z', 118, 76), bp('s-bp-2', '2025-06-10T09:00:00.000Z', 124, 81),
    bp('s-bp-3', '2026-01-10T09:00:00.000Z', 121, 79),
    { resourceType: 'Observation', id: 's-vital-error', status: 'entered-in-error', category: cat('vital-signs'),
      code: loinc('9279-1'), valueQuantity: { value: 99, unit: '/min' }, effectiveDateTime: '2025-03-03T10:00:00.000Z' },
    { resourceType: 'Observation', id: 's-lab', status: 'final', category: cat('laboratory'), code: loinc('4548-4'),
      valueQuantity: { value: 6.1, unit: '%' }, effectiveDateTime: '2026-02-01T10:00:00.000Z',
      referenceRange: [{ low: { value: 4, unit: '%' }, high: { value: 5.6, unit: '%' } }] },
    { resourceType: 'DocumentReference', id: 's-note', status: 'current', docStatus: 'amended', date: '2026-02-01T11:00:00.000Z',
      author: [{ display: '<b>Dr. Bold</b>' }],
      content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: b64(`Grüße – ünïcode ✓\nSecond line ${markup}`) } }] },
    { resourceType: 'DocumentReference', id: 's-addendum', status: 'current', docStatus: 'final', date: '2026-02-02T11:00:00.000Z',
      author: [{ display: 'nurse.kim' }], relatesTo: [{ code: 'appends', target: { reference: '' } }],
      content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: b64('An addendum.') } }] },
  ];
  const entries = added.map((resource, i) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`, resource,
  }));
  entries.find((e) => e.resource.id === 's-addendum').resource.relatesTo[0].target.reference =
    entries.find((e) => e.resource.id === 's-note').fullUrl;
  const body = {
    ...real,
    bundle: { ...real.bundle, entry: [...real.bundle.entry, ...entries] },
    immunisations_due: [
      { vaccine: 'MMR', dose: 2, due: '2025-04-29', overdue: true, upcoming: false },
      { vaccine: 'HPV', dose: 1, due: '2027-01-01', overdue: false, upcoming: true },
    ],
    not_shared_notes: 2,
  };
  await p.route(`${base}/v1/me/patients/${encodeURIComponent(patient)}/record`,
    (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) }));
  await p.goto(`${base}/me#/record/${encodeURIComponent(patient)}`);
  await p.locator('#section-notes').waitFor();
  const attrs = (sel, attr) => p.$$eval(sel, (els, a) => els.map((e) => e.getAttribute(a)), attr);
  const text = (sel) => p.locator(sel).innerText();
  // Entered in error: nowhere on the page.
  const all = await text('main');
  for (const gone of ['Latex', 'Gout', 'Wrong medicine', 'Not a vaccine', 'Visit charted by mistake', 'Broken arm']) {
    assert.ok(!all.includes(gone), `"${gone}" (entered in error or no longer a problem) is not shown`);
  }
  assert.deepEqual((await attrs('#allergies-list [data-allergy]', 'data-allergy')).sort(), ['Peanut', 'Penicillin']);
  assert.match(await text('#allergies-list [data-allergy="Penicillin"]'), /Usually mild[\s\S]*Medicine[\s\S]*Reaction: Rash \(mild\)/);
  assert.deepEqual(await attrs('#problems-list [data-problem]', 'data-problem'), ['Asthma']);
  assert.match(await text('#problems-list'), /Since 1 March 2020/);
  assert.deepEqual(await attrs('#medicines-list [data-medicine]', 'data-medicine'), ['Salbutamol inhaler']);
  assert.match(await text('#medicines-list'), /Taking now[\s\S]*2 puffs, as needed, breathed in/);
  assert.equal(await p.locator('#vaccinations-table tbody tr').count(), real.bundle.entry.filter((e) => e.resource.resourceType === 'Immunization').length);
  assert.equal(await p.locator('#due-list li').count(), 2);
  assert.equal(await p.locator('#due-list li.is-overdue').count(), 1);
  assert.match(await text('#due-list li.is-overdue'), /Measles, mumps and rubella \(MMR\), dose 2\s*Overdue\s+it was due on 29 April 2025/);
  assert.match(await text('#due-list'), /Coming up\s+due from 1 January 2027/);
  // Blood pressure: one plot, two lines, the latest as top/bottom.
  const bpCard = p.locator('#measurements-list [data-measurement="85354-9"]');
  assert.equal(await bpCard.locator('svg.plot path.line').count(), 2, 'systolic and diastolic lines');
  assert.match(await bpCard.locator('.latest-value').innerText(), /^121\/79 mmHg$/);
  assert.equal(await bpCard.locator('table tbody tr').count(), 3);
  assert.equal(await p.locator('#measurements-list [data-measurement="9279-1"]').count(), 0, 'no plot for a value entered in error');
  // Laboratory: name in plain words, value, range, flag.
  assert.match(await text('#results-table tbody tr[data-result="Long-term blood sugar (HbA1c)"]'),
    /6\.1 %[\s\S]*Higher than usual[\s\S]*4 to 5\.6 %[\s\S]*1 February 2026/);
  // Notes: decoded UTF-8, markup as text, the addendum under its note, withheld count.
  const noteBox = p.locator('#notes-list [data-document="s-note"]');
  const noteShown = await noteBox.innerText();
  assert.ok(noteShown.includes('Grüße – ünïcode ✓'), `UTF-8 note text: ${noteShown}`);
  assert.ok(noteShown.includes(markup), 'markup in a note is shown as text');
  assert.ok(noteShown.includes('written by <b>Dr. Bold</b>'), 'markup in an author is shown as text');
  assert.equal(await noteBox.locator('img, b').count(), 0, 'no element is made from the text');
  assert.equal(await p.evaluate(() => window.__xss), undefined, 'nothing in the text runs');
  assert.match(await noteBox.locator('[data-document="s-addendum"]').innerText(), /Added later[\s\S]*An addendum\./);
  assert.match(await text('#notes-withheld'), /^2 notes are not shown here/);
  await shot(p, 'record-shapes');
  await p.close();
  log('every FHIR shape (page.route answer): entered-in-error hidden, BP panel as two lines, lab flag, UTF-8 notes as text, due list');
}

await runTest(main);
