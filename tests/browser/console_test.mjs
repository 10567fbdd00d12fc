// The sysadmin console in a real browser, against a real charta-server and
// real charta-sim tablets:
//
//   node console_test.mjs --server CHARTA_SERVER --sim CHARTA_SIM --node-dir DIR --out DIR
//
// --node-dir holds package.json (playwright-core, pinned); the package is
// installed there with npm on the first run. --out receives a PNG of every
// page and, on failure, the server's log. Exit 0: passed; 1: failed;
// 77: skipped because Chromium is not installed. What it shares with
// portal_test.mjs (arguments, npm, the server and charta-sim, the browser,
// console checks, cleanup) is in harness.mjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLINIC, SYSADMIN, checkConsole, consoleProblems, enrolTablet, expectStatus, http, isHttpError, launchBrowser, log,
  run, runOk, runTest, screenshot, screenshotOnFailure, sleep, startRun, startServer, sysadminApi, watchPage,
} from './harness.mjs';

const NURSE = { id: 'nurse.kim', password: 'kim-nurse-passphrase' };
const CLINIC_ADMIN = { id: 'clinic.lead', password: 'clinic-lead-passphrase' };

const { args, tmp } = startRun({ name: 'console_test', tmpPrefix: 'charta-console-', watchdogMs: 300_000 });

// [from, to) indexes of browser console messages in which 401 answers of the
// admin API are expected (the session was ended from outside on purpose).
let expectedAdmin401 = [0, 0];

async function main() {
  // --- The server, on SQLite in a temporary folder, with the demo clinic ---
  const { base } = await startServer();

  // --- Accounts and enrolment codes through the admin API ---
  const adminApi = await sysadminApi(base);
  expectStatus(await adminApi('POST', '/v1/admin/users',
    { id: NURSE.id, display_name: 'Kim Nurse', role: 'nurse', clinic: CLINIC, password: NURSE.password }), 201, 'create nurse');
  expectStatus(await adminApi('POST', '/v1/admin/users',
    { id: CLINIC_ADMIN.id, display_name: 'Clinic Lead', role: 'clinic_admin', clinic: CLINIC, password: CLINIC_ADMIN.password }),
  201, 'create clinic admin');

  // --- Two tablets of the clinic, editing the same patients offline ---
  const tablets = {};
  for (const name of ['A', 'B']) {
    tablets[name] = await enrolTablet(base, adminApi, { dir: path.join(tmp, `tablet-${name}`), name: `Tablet ${name}`, nurse: NURSE });
  }
  const sim = (verb, t, ...more) => run(args.sim, [verb, '--data', t.dir, ...more]);
  const simOk = (verb, t, ...more) => runOk(args.sim, [verb, '--data', t.dir, ...more], `charta-sim ${verb} on ${t.name}`);
  const syncBoth = async (times = 2) => {
    for (let i = 0; i < times; i++) {
      await simOk('sync', tablets.A);
      await simOk('sync', tablets.B);
    }
  };
  const deviceConflicts = async (t) => (await simOk('conflicts', t)).stdout.split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const openConflicts = async () => expectStatus(await adminApi('GET', '/v1/admin/conflicts?limit=1000'), 200, 'list conflicts');

  // A charts three patients and syncs; B pulls them; then both edit them
  // offline with different seeds and sync (twice), so concurrent edits of
  // the same fields meet on the server.
  await simOk('edit', tablets.A, '--random', '12', '--seed', '101', '--patients', '3');
  await simOk('sync', tablets.A);
  await simOk('sync', tablets.B);
  let conflicts = null;
  for (let round = 0; round < 4; round++) {
    await simOk('edit', tablets.A, '--random', '40', '--seed', String(300 + round), '--patients', '3');
    await simOk('edit', tablets.B, '--random', '40', '--seed', String(700 + round), '--patients', '3');
    await syncBoth(2);
    conflicts = await openConflicts();
    if (conflicts.total >= 2) break;
  }
  log(`${conflicts.total} open conflicts on the server`);
  assert.ok(conflicts.total >= 1 && conflicts.conflicts.length >= 1, 'the tablets made no conflict: nothing to resolve');

  // --- The browser ---
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-GB' });
  const page = await context.newPage();
  screenshotOnFailure(page);
  watchPage(page, 'console');
  const shot = (name) => screenshot(page, name);
  const flashText = () => page.locator('#flash').innerText();

  // The page and its headers.
  const response = await page.goto(`${base}/admin`);
  assert.equal(response.status(), 200, 'GET /admin');
  const csp = response.headers()['content-security-policy'] || '';
  assert.ok(csp.includes("default-src 'none'") && csp.includes("script-src 'self'"), `GET /admin: Content-Security-Policy is "${csp}"`);
  await page.locator('#signin-username').waitFor();
  await shot('signin');
  log('sign-in page shown');

  // Keyboard: the first Tab stop is the skip link, which leads into the main
  // content, whose first stop is the user name.
  const focused = () => page.evaluate(() => document.activeElement && document.activeElement.id);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'skip-link', 'the first Tab stop is the skip link');
  await page.keyboard.press('Enter');
  assert.equal(await focused(), 'main', 'the skip link moves the focus to the main content');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'signin-username', 'then the user name');

  // A wrong password, then a clinic admin: both refused with a message on the page.
  await page.fill('#signin-username', SYSADMIN.username);
  await page.fill('#signin-password', 'not-the-password');
  await page.click('#signin-submit');
  await page.locator('#signin-alert .notice').waitFor();
  assert.match(await page.locator('#signin-alert').innerText(), /wrong user name or password/i);
  await page.fill('#signin-username', CLINIC_ADMIN.id);
  await page.fill('#signin-password', CLINIC_ADMIN.password);
  await page.click('#signin-submit');
  await page.getByText(/cannot use the console/).waitFor();
  assert.match(await page.locator('#signin-alert').innerText(), /sysadmin/i, 'the refusal names sysadmins');
  assert.ok(await page.locator('#signin-username').isVisible(), 'still on the sign-in form');
  log('wrong password and clinic admin refused');

  // The sysadmin signs in: the overview lists both tablets.
  await page.fill('#signin-username', SYSADMIN.username);
  await page.fill('#signin-password', SYSADMIN.password);
  await page.click('#signin-submit');
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  for (const t of Object.values(tablets)) {
    await page.locator(`tr[data-device-id="${t.id}"]`).filter({ hasText: t.name }).waitFor();
  }
  await page.locator('svg.chart').waitFor();
  assert.equal(await page.locator('#mainnav a[aria-current="page"]').innerText(), 'Overview');
  assert.match(await page.locator('#account-name').innerText(), /\S/, 'the signed-in user is shown');
  await shot('overview');
  log('signed in; overview lists both tablets');

  // The session cookie: HttpOnly and SameSite=Strict.
  const cookies = await context.cookies(base);
  const cookie = cookies.find((c) => c.name === 'charta_console');
  assert.ok(cookie, `the console's session cookie is set (cookies: ${cookies.map((c) => c.name).join(', ')})`);
  assert.equal(cookie.httpOnly, true, 'session cookie is HttpOnly');
  assert.equal(cookie.sameSite, 'Strict', 'session cookie is SameSite=Strict');

  // CSRF: the cookie alone does not change anything; with the token it does.
  const cookieHeader = { Cookie: `charta_console=${cookie.value}` };
  const noToken = await http(base, 'POST', '/v1/admin/enrolment-codes', { body: { clinic: CLINIC }, headers: cookieHeader });
  assert.equal(noToken.status, 403, `POST without the CSRF token: ${noToken.status} ${noToken.text}`);
  assert.equal(noToken.json && noToken.json.error && noToken.json.error.code, 'csrf', `error code: ${noToken.text}`);
  const session = expectStatus(await http(base, 'GET', '/v1/console/session', { headers: cookieHeader }), 200, 'GET /v1/console/session');
  assert.match(session.csrf, /^[0-9a-f]+$/);
  const withToken = await http(base, 'POST', '/v1/admin/enrolment-codes',
    { body: { clinic: CLINIC }, headers: { ...cookieHeader, 'X-Charta-CSRF': session.csrf } });
  assert.equal(withToken.status, 201, `POST with the CSRF token: ${withToken.status} ${withToken.text}`);
  log('CSRF: refused without the token (403 csrf), accepted with it (201)');

  // --- The conflict inbox ---
  const total0 = conflicts.total;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Conflicts' }).click();
  await page.locator('#inbox-table').waitFor();
  assert.match(await page.locator('#inbox-count').innerText(), new RegExp(`of ${total0.toLocaleString('en-GB')}$`));
  const rowIds = await page.$$eval('tr[data-conflict-id]', (rows) => rows.map((r) => r.dataset.conflictId));
  for (const c of conflicts.conflicts.slice(0, 100)) assert.ok(rowIds.includes(c.id), `conflict ${c.id} is in the inbox`);
  await shot('conflicts');

  // Paging, one conflict per page: "1–1 of N", Next, Previous.
  const inboxCount = () => page.locator('#inbox-count').innerText();
  const firstRowId = () => page.locator('tr[data-conflict-id]').first().getAttribute('data-conflict-id');
  if (total0 >= 2) {
    await page.evaluate(() => { location.hash = '#/conflicts?limit=1'; });
    await page.waitForFunction(() => document.querySelector('#inbox-count')?.textContent.startsWith('1–1 of'));
    assert.equal(await inboxCount(), `1–1 of ${total0}`);
    assert.ok(await page.locator('#page-prev').isDisabled(), 'no previous page on the first one');
    const onFirst = await firstRowId();
    await page.click('#page-next');
    await page.waitForFunction(() => document.querySelector('#inbox-count')?.textContent.startsWith('2–2 of'));
    assert.notEqual(await firstRowId(), onFirst, 'the second page shows another conflict');
    await page.click('#page-prev');
    await page.waitForFunction(() => document.querySelector('#inbox-count')?.textContent.startsWith('1–1 of'));
    assert.equal(await firstRowId(), onFirst);
    log('inbox paging: 1–1, 2–2, back to 1–1');
  }

  // Filters: patient and field of the first conflict; then an age nobody has.
  const target = conflicts.conflicts[0];
  await page.click('#filter-clear');
  await page.waitForFunction(() => location.hash === '#/conflicts');
  await page.locator('#inbox-table').waitFor();
  await page.fill('#filter-patient', target.patient);
  await page.fill('#filter-field', target.path);
  await page.click('#filter-apply');
  await page.waitForFunction(() => location.hash.includes('field='));
  await page.locator('#inbox-count').waitFor();
  const filtered = expectStatus(await adminApi('GET',
    `/v1/admin/conflicts?patient=${encodeURIComponent(target.patient)}&field=${encodeURIComponent(target.path)}`), 200, 'filtered conflicts');
  const shownRows = await page.$$eval('tr[data-conflict-id]', (rows) => rows.map((r) => r.dataset.conflictId));
  assert.deepEqual(shownRows, filtered.conflicts.map((c) => c.id), 'the filtered inbox shows what the API filter gives');
  assert.ok(shownRows.includes(target.id));
  assert.equal(await inboxCount(), `1–${filtered.total} of ${filtered.total}`);
  await page.fill('#filter-age', '2');
  await page.selectOption('#filter-age-unit', 'd');
  await page.click('#filter-apply');
  await page.waitForFunction(() => location.hash.includes('age=2'));
  await page.locator('#inbox-empty').waitFor();
  assert.match(await page.locator('#inbox-empty').innerText(), /No open conflict matches/);
  await page.click('#filter-clear');
  await page.waitForFunction(() => location.hash === '#/conflicts');
  await page.locator('#inbox-table').waitFor();
  log('inbox filters: patient + field, and an age no conflict has');

  // The first conflict: check the tablets see it too, then resolve it by
  // choosing one of the competing values.
  const onA = await deviceConflicts(tablets.A);
  assert.ok(onA.some((c) => c.patient === target.patient && c.path === target.path),
    `tablet A lists the conflict on ${target.patient} ${target.path} before it is resolved`);
  await page.locator(`tr[data-conflict-id="${target.id}"]`).getByRole('link', { name: /Review/ }).click();
  await page.locator('#resolve-form').waitFor();
  assert.ok((await page.locator('h1').innerText()).includes(target.path), 'the detail names the field');
  assert.equal(await page.locator('.value-card').count(), target.values.length, 'one card per competing value');
  for (const v of target.values) {
    if (typeof v.value === 'string' && v.value) await page.locator('.value-card .value-text', { hasText: v.value }).first().waitFor();
  }
  await shot('conflict-detail');
  // No reason: refused on the page.
  await page.click('#keep-0');
  await page.locator('#resolve-reason-error').waitFor();
  assert.match(await page.locator('#resolve-reason-error').innerText(), /reason/i);
  await page.fill('#resolve-reason', 'Confirmed with the patient by phone (browser test).');
  await page.click('#keep-0');
  await page.waitForFunction(() => location.hash.startsWith('#/conflicts') && !location.hash.startsWith('#/conflicts/'));
  await page.locator('#flash .notice-ok').waitFor();
  assert.match(await flashText(), /Conflict resolved/);
  await page.locator('#inbox-count, #inbox-empty').first().waitFor();
  assert.equal(await page.locator(`tr[data-conflict-id="${target.id}"]`).count(), 0, 'the resolved conflict left the inbox');
  conflicts = await openConflicts();
  assert.equal(conflicts.total, total0 - 1, 'the total dropped by one');
  assert.ok(!conflicts.conflicts.some((c) => c.id === target.id), 'the API no longer lists it');
  if (conflicts.total > 0) {
    assert.match(await page.locator('#inbox-count').innerText(), new RegExp(`of ${(total0 - 1).toLocaleString('en-GB')}$`));
  }
  log(`resolved ${target.path} of ${target.patient} by choosing a value (${total0} -> ${conflicts.total})`);

  // The tablets pull the decision: the conflict is gone there, and they agree.
  await syncBoth(1);
  for (const t of Object.values(tablets)) {
    const still = (await deviceConflicts(t)).filter((c) => c.patient === target.patient && c.path === target.path);
    assert.equal(still.length, 0, `${t.name} still lists the resolved conflict: ${JSON.stringify(still)}`);
  }
  let hashA = (await simOk('state-hash', tablets.A)).stdout.trim();
  let hashB = (await simOk('state-hash', tablets.B)).stdout.trim();
  assert.ok(hashA && hashA === hashB, `state hashes differ after sync: ${hashA} vs ${hashB}`);
  log('tablets synced: the conflict is closed on both and their state hashes are equal');

  // A second conflict, resolved with an entered value.
  if (conflicts.conflicts.length > 0) {
    const second = conflicts.conflicts[0];
    const entered = enteredValueFor(second);
    await page.locator(`tr[data-conflict-id="${second.id}"]`).getByRole('link', { name: /Review/ }).click();
    await page.locator('#resolve-form').waitFor();
    await page.fill('#resolve-reason', 'Corrected from the paper record (browser test).');
    await page.fill('#resolve-other', entered);
    await page.click('#keep-other');
    await page.waitForFunction(() => location.hash.startsWith('#/conflicts') && !location.hash.startsWith('#/conflicts/'));
    await page.locator('#flash .notice-ok').waitFor();
    assert.ok((await flashText()).includes(entered), 'the confirmation names the entered value');
    assert.equal(await page.locator(`tr[data-conflict-id="${second.id}"]`).count(), 0, 'the second conflict left the inbox');
    const after = await openConflicts();
    assert.ok(!after.conflicts.some((c) => c.id === second.id), 'the API no longer lists the second conflict');
    await syncBoth(1);
    const still = (await deviceConflicts(tablets.B)).filter((c) => c.patient === second.patient && c.path === second.path);
    assert.equal(still.length, 0, `tablet B still lists the second conflict: ${JSON.stringify(still)}`);
    assert.ok(still.length === 0);
    hashA = (await simOk('state-hash', tablets.A)).stdout.trim();
    hashB = (await simOk('state-hash', tablets.B)).stdout.trim();
    assert.equal(hashA, hashB, 'state hashes after the second resolution');
    log(`resolved ${second.path} of ${second.patient} with the entered value "${entered}"`);
  } else {
    log('only one conflict: the entered-value resolution is not exercised');
  }

  // --- A session that ends on the server: the next call (401) brings the sign-in form back ---
  const current = (await context.cookies(base)).find((c) => c.name === 'charta_console');
  const ended = await http(base, 'POST', '/v1/console/logout',
    { body: {}, headers: { Cookie: `charta_console=${current.value}`, 'X-Charta-CSRF': session.csrf } });
  assert.equal(ended.status, 200, `ending the session from outside: ${ended.status} ${ended.text}`);
  const endedFrom = consoleProblems.length;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
  await page.locator('#signin-username').waitFor();
  assert.match(await page.locator('#signin-alert').innerText(), /session has ended/i);
  assert.ok(await page.locator('#mainnav').isHidden(), 'the navigation is hidden while signed out');
  await page.fill('#signin-username', SYSADMIN.username);
  await page.fill('#signin-password', SYSADMIN.password);
  await page.click('#signin-submit');
  await page.locator('#devices-table').waitFor(); // back where the user was
  await sleep(200);
  expectedAdmin401 = [endedFrom, consoleProblems.length];
  log('a session ended on the server sends the user to the sign-in form; signing in returns to the page');

  // --- Devices: a revocation with its confirmation (keyboard), then an enrolment code ---
  const revoked = tablets.B;
  await page.click(`button[data-revoke="${revoked.id}"]`);
  await page.locator('#confirm-dialog[open]').waitFor();
  assert.match(await page.locator('#confirm-title').innerText(), new RegExp(revoked.name));
  assert.equal(await focused(), 'confirm-cancel', 'the dialog opens on its safe choice');
  await page.keyboard.press('Escape');
  await page.locator('#confirm-dialog:not([open])').waitFor({ state: 'attached' });
  assert.equal(await page.evaluate(() => document.activeElement.dataset.revoke), revoked.id, 'Escape closes it and the focus returns');
  assert.equal(expectStatus(await adminApi('GET', '/v1/admin/devices'), 200, 'devices').devices.find((d) => d.id === revoked.id).revoked_at, null,
    'Escape did not revoke');
  await page.keyboard.press('Enter'); // the revoke button again, from the keyboard
  await page.locator('#confirm-dialog[open]').waitFor();
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'confirm-ok');
  await page.keyboard.press('Enter');
  await page.locator('#flash .notice-ok').filter({ hasText: 'was revoked' }).waitFor();
  await page.locator(`tr[data-device-id="${revoked.id}"]`).filter({ hasText: 'Revoked' }).waitFor();
  await page.locator('#history-table tr[data-action="device.revoke"]').first().waitFor();
  assert.ok(await page.locator('#history-table tr[data-action="device.enrol"]').count() >= 2, 'both enrolments in the history');
  const codesBefore = await page.locator('#history-table tr[data-action="enrolment_code.issue"]').count();
  assert.ok(codesBefore >= 3, 'issued codes in the history');
  await page.selectOption('#code-clinic', CLINIC);
  await page.click('#code-issue');
  await page.locator('#code-value').waitFor();
  const issued = await page.locator('#code-value').innerText();
  assert.match(issued, /^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/, `an enrolment code is shown: ${issued}`);
  assert.match(await page.locator('#code-result').innerText(), /Valid until/);
  await shot('devices');
  const wiped = await sim('sync', revoked);
  assert.equal(wiped.code, 3, `sync of the revoked tablet exits 3 (wiped), got ${wiped.code}: ${wiped.stderr}`);
  assert.ok(!fs.existsSync(path.join(revoked.dir, 'replica.db')), 'the revoked tablet erased its replica');
  log(`revoked ${revoked.name} in the browser; its next sync exited 3 and erased the replica`);

  // --- Audit: search by patient, chain status, verify ---
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await page.locator('#audit-patient').waitFor();
  await page.fill('#audit-patient', target.patient);
  await page.click('#audit-search');
  await page.waitForFunction((p) => location.hash.includes(encodeURIComponent(p)), target.patient);
  await page.locator('#audit-table').waitFor();
  const auditRows = page.locator('#audit-table tbody tr');
  assert.ok(await auditRows.count() >= 1, 'audit entries for the patient');
  const chainCells = await page.$$eval('#audit-table tbody tr', (rows) => rows.map((r) => r.lastElementChild.textContent.trim()));
  assert.ok(chainCells.every((t) => t === 'Intact'), `chain status per entry: ${chainCells.join(', ')}`);
  const patientCells = await page.$$eval('#audit-table tbody tr', (rows) => rows.map((r) => r.children[6].textContent.trim()));
  assert.ok(patientCells.every((t) => t === target.patient), 'every entry is of the patient searched for');
  await page.click('#verify-chain');
  await page.locator('#verify-result .notice').waitFor();
  const verifyText = await page.locator('#verify-result').innerText();
  assert.match(verifyText, /Chain intact: [\d,]+ entr(y|ies) checked/, verifyText);
  assert.ok(Number(verifyText.match(/([\d,]+) entr/)[1].replace(/,/g, '')) > 10, 'the verification checked the chain');
  await shot('audit');
  log(`audit: ${chainCells.length} entries for the patient, ${verifyText.trim()}`);

  // --- Patient access: an invitation to the patient portal, which works once ---
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Patient access' }).click();
  await page.locator('#invite-patient').waitFor();
  await page.click('#invite-issue');
  assert.match(await page.locator('#invite-title').locator('xpath=..').innerText(), /Enter the patient id/);
  await page.fill('#invite-patient', target.patient);
  await page.selectOption('#invite-relation', 'parent');
  await page.fill('#invite-name', 'Sam Parent');
  await page.click('#invite-issue');
  await page.locator('#invite-code').waitFor();
  const inviteCode = (await page.locator('#invite-code').innerText()).trim();
  assert.match(inviteCode, /^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/, `invitation code shown: ${inviteCode}`);
  const accepted = await http(base, 'POST', '/v1/me/accept',
    { body: { code: inviteCode, username: 'sam.parent', passphrase: 'a parent passphrase' } });
  expectStatus(accepted, 201, 'accepting the invitation issued in the console');
  assert.equal(accepted.json.patients[0].id, target.patient);
  assert.equal(accepted.json.patients[0].relation, 'parent');
  const twice = await http(base, 'POST', '/v1/me/accept',
    { body: { code: inviteCode, username: 'someone.else', passphrase: 'another passphrase' } });
  assert.equal(twice.status, 403, 'an invitation works once');
  await page.fill('#note-patient', target.patient);
  await page.fill('#note-id', 'r999999.1');
  await page.fill('#note-reason', 'third-party information');
  await page.click('#note-save');
  await page.locator('#note-title').locator('xpath=..').locator('.notice-error').waitFor();
  await shot('patients');
  log(`patient access: invitation ${inviteCode} issued in the console and accepted once; an unknown note refused`);

  // --- Sign out: back to the form, and the session is over on the server ---
  const last = (await context.cookies(base)).find((c) => c.name === 'charta_console');
  await page.click('#signout');
  await page.locator('#signin-username').waitFor();
  assert.match(await page.locator('main').innerText(), /You have signed out/);
  assert.equal((await http(base, 'GET', '/v1/console/session', { headers: { Cookie: `charta_console=${last.value}` } })).status, 401,
    'the session ended on the server');
  log('signed out');

  // --- No console errors or warnings, except the HTTP refusals caused on purpose ---
  checkConsole((p, i) => expectedNetworkError(p, base) ||
    (i >= expectedAdmin401[0] && i < expectedAdmin401[1] && isHttpError(p, '401') && p.url.startsWith(`${base}/v1/admin/`)));
}

// Chromium logs every 4xx answer to fetch() as a console error. The ones the
// test causes on purpose are: no session yet at page load (GET
// /v1/console/session 401), the wrong password (POST 401), the clinic admin
// (POST 403), the admin calls right after the session was ended from
// outside (401, see expectedAdmin401) and the made-up note on the patient
// access page (404). Anything else fails the test.
function expectedNetworkError(p, base) {
  if (isHttpError(p, '404') && /\/v1\/admin\/patients\/[^/]+\/notes\/r999999\.1\/sharing$/.test(p.url)) return true;
  return (isHttpError(p, '401') || isHttpError(p, '403')) && p.url === `${base}/v1/console/session`;
}

// A valid value to type in for a conflict's field that differs from what the
// tablets wrote where possible.
function enteredValueFor(c) {
  const values = c.values.map((v) => v.value);
  const leaf = c.path.split(/[./]/).pop();
  const unused = (options) => options.find((o) => !values.includes(o));
  if (/severity/.test(leaf)) return unused(['mild', 'moderate', 'severe']) || String(values[0]);
  if (/criticality/.test(leaf)) return unused(['low', 'high', 'unable-to-assess']) || String(values[0]);
  if (/phone/.test(leaf)) return '+41 79 5550123';
  if (/address/.test(leaf)) return '12 Console Street';
  return values[0] === null || values[0] === undefined ? 'checked' : String(values[0]);
}

await runTest(main);
