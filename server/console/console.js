// Charta sysadmin console: a single page app in plain JavaScript, served by
// charta-server under a strict Content-Security-Policy. Everything the server
// returns is untrusted text (patients, users, devices): the DOM is built with
// createElement and textContent only, never from HTML strings.
'use strict';

(() => {
  // ---------------------------------------------------------------------
  // State

  const state = {
    user: null, // {id, display_name, role}
    csrf: '',
    expiresAt: 0,
    expiryTimer: 0,
    clinics: null, // cached list of {id, name}
    lastInboxHash: '#/conflicts',
    pendingFlash: null, // {kind, text} shown by the next route()
    renderToken: 0, // bumped on every render; stale async work checks it
    currentView: '',
    auditStack: [], // previous `after` cursors of the audit pager
  };

  const HOUR = 3600 * 1000;
  const DAY = 24 * HOUR;
  const PAGE_SIZE = 100;

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------
  // DOM helpers

  const { h, s, clear, uid, field, notice, badge, tableWrap, parseHash, ApiError, SessionEnded, send } = window.ChartaDom;

  // Allergies and medications are clinically significant: they lead the inbox.
  function severityBadge(c) {
    if (c.significant) return badge('clinical', 'Clinically significant', 'An allergy or a medication: resolve it first');
    return c.clinical ? badge('warn', 'Clinical') : null;
  }

  function th(text, cls) {
    return h('th', { scope: 'col', className: cls || null, text });
  }

  function td(content, cls) {
    return h('td', { className: cls || null }, content);
  }

  // ---------------------------------------------------------------------
  // Formatting

  const numberFormat = new Intl.NumberFormat(undefined);
  const fmtNum = (n) => (typeof n === 'number' && Number.isFinite(n) ? numberFormat.format(n) : '—');

  const dateFormat = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const hourFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

  function validTime(ms) {
    return typeof ms === 'number' && Number.isFinite(ms) && ms > 0;
  }

  function fmtTime(ms) {
    return validTime(ms) ? dateFormat.format(new Date(ms)) : '—';
  }

  function fmtRelative(ms, now = Date.now()) {
    if (!validTime(ms)) return '';
    const diff = now - ms;
    const abs = Math.abs(diff);
    let text;
    if (abs < 45 * 1000) return 'just now';
    if (abs < 90 * 60 * 1000) text = `${Math.max(1, Math.round(abs / 60000))} min`;
    else if (abs < 36 * HOUR) text = `${Math.round(abs / HOUR)} h`;
    else {
      const days = Math.round(abs / DAY);
      text = `${days} ${days === 1 ? 'day' : 'days'}`;
    }
    return diff >= 0 ? `${text} ago` : `in ${text}`;
  }

  // <time> with the local date-time, and the relative time below it.
  function timeCell(ms, options = {}) {
    if (!validTime(ms)) return h('span', { className: 'sub', text: options.never || '—' });
    const t = h('time', { datetime: new Date(ms).toISOString(), text: fmtTime(ms) });
    if (options.relative === false) return t;
    return [t, h('span', { className: 'sub', text: fmtRelative(ms) })];
  }

  function fmtValue(v) {
    if (v === null || v === undefined) return '(no value)';
    if (typeof v === 'string') return v === '' ? '(empty text)' : v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    try {
      return JSON.stringify(v);
    } catch (e) {
      return String(v);
    }
  }

  function fmtDetail(detail) {
    if (detail === null || detail === undefined || detail === '') return '';
    if (typeof detail === 'string') return detail;
    if (typeof detail === 'object' && Object.keys(detail).length === 0) return '';
    try {
      return JSON.stringify(detail);
    } catch (e) {
      return String(detail);
    }
  }

  // An audit entry's detail: "key value" lines, times (keys ending in _at)
  // as local date-times; anything nested as compact JSON.
  function detailNode(detail) {
    if (detail === null || detail === undefined || detail === '') return '';
    if (typeof detail !== 'object' || Array.isArray(detail)) return h('span', { className: 'detail', text: fmtDetail(detail) });
    const keys = Object.keys(detail);
    if (!keys.length) return '';
    const list = h('ul', { className: 'kv-list detail' });
    for (const k of keys) {
      const v = detail[k];
      let text;
      if (/_at$/.test(k) && validTime(v)) text = fmtTime(v);
      else if (typeof v === 'string') text = v;
      else text = fmtDetail(v) || String(v);
      list.append(h('li', null, h('span', { className: 'kv-key', text: k }), ' ', text));
    }
    return list;
  }

  function plural(n, one, many) {
    return `${fmtNum(n)} ${n === 1 ? one : many}`;
  }

  // ms <-> <input type="datetime-local"> value, in local time.
  function toLocalInput(ms) {
    if (!validTime(ms)) return '';
    const d = new Date(ms);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function fromLocalInput(text) {
    if (!text) return null;
    const ms = new Date(text).getTime();
    return Number.isFinite(ms) ? ms : null;
  }

  // ---------------------------------------------------------------------
  // API

  // Calls the API; a 401 (outside signing in) means the session ended.
  async function api(method, path, body) {
    let res;
    try {
      res = await send(method, path, body, state.csrf,
        'The server cannot be reached. Check the network and try again.');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && !path.startsWith('/v1/console/session')) {
        sessionEnded('Your session has ended. Please sign in again.');
        throw new SessionEnded(e.message);
      }
      throw e;
    }
    const text = await res.text();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      return null;
    }
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const text = q.toString();
    return text ? `?${text}` : '';
  }

  async function loadClinics() {
    if (state.clinics) return state.clinics;
    const data = await api('GET', '/v1/admin/clinics');
    state.clinics = Array.isArray(data && data.clinics) ? data.clinics : [];
    return state.clinics;
  }

  function clinicName(id) {
    if (!id) return '—';
    const c = (state.clinics || []).find((x) => x.id === id);
    return c && c.name ? `${c.name} (${id})` : id;
  }

  function clinicSelect(id, selected, { allOption = true, required = false } = {}) {
    const select = h('select', { id, name: 'clinic', required });
    if (allOption) select.append(h('option', { value: '', text: 'All clinics' }));
    else select.append(h('option', { value: '', text: 'Choose a clinic…' }));
    for (const c of state.clinics || []) {
      select.append(h('option', { value: c.id, selected: c.id === selected, text: c.name ? `${c.name} (${c.id})` : c.id }));
    }
    return select;
  }

  // ---------------------------------------------------------------------
  // Session

  function setSession(data) {
    state.user = data.user || null;
    state.csrf = typeof data.csrf === 'string' ? data.csrf : '';
    state.expiresAt = typeof data.expires_at === 'number' ? data.expires_at : 0;
    clearTimeout(state.expiryTimer);
    if (state.expiresAt) {
      const wait = Math.min(Math.max(state.expiresAt - Date.now(), 1000), 2147483000);
      state.expiryTimer = setTimeout(() => sessionEnded('Your session has expired. Please sign in again.'), wait);
    }
    const name = state.user ? (state.user.display_name || state.user.id) : '';
    $('account-name').textContent = name;
    $('account').hidden = false;
    $('mainnav').hidden = false;
  }

  function clearSession() {
    state.user = null;
    state.csrf = '';
    state.expiresAt = 0;
    state.clinics = null;
    state.auditStack = [];
    clearTimeout(state.expiryTimer);
    $('account').hidden = true;
    $('mainnav').hidden = true;
    $('account-name').textContent = '';
  }

  // Several calls in flight may each find the session gone: the first one
  // shows the sign-in form with the message, the others change nothing.
  function sessionEnded(message) {
    if (!state.user) return;
    clearSession();
    showSignIn(message, '', { focus: true });
  }

  async function signOut() {
    const button = $('signout');
    button.disabled = true;
    try {
      await api('POST', '/v1/console/logout', {});
    } catch (e) {
      // The session is dropped locally either way.
    } finally {
      button.disabled = false;
    }
    clearSession();
    showSignIn('', 'You have signed out.', { focus: true });
  }

  // The sign-in form. On a first visit nothing takes the focus (the skip link
  // is the first Tab stop); after a sign-out or an ended session the heading
  // does, so that screen readers announce the change.
  function showSignIn(problem, info, { focus = false } = {}) {
    state.renderToken++;
    state.currentView = 'signin';
    setFlash(null);
    updateNav('');
    document.title = 'Sign in — Charta console';
    const main = $('main');
    clear(main);

    const alert = h('div', { id: 'signin-alert', role: 'alert' });
    if (problem) alert.append(notice('warn', problem));
    const status = h('div', { role: 'status' });
    if (info) status.append(notice('ok', info));

    const username = h('input', {
      type: 'text', id: 'signin-username', name: 'username', autocomplete: 'username',
      autocapitalize: 'none', spellcheck: 'false', required: true,
    });
    const password = h('input', {
      type: 'password', id: 'signin-password', name: 'password', autocomplete: 'current-password', required: true,
    });
    const submit = h('button', { type: 'submit', className: 'button', id: 'signin-submit', text: 'Sign in' });
    const form = h('form', { className: 'signin-form', noValidate: true, 'aria-labelledby': 'signin-title' },
      field('User name', username), field('Password', password), submit);

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clear(alert);
      clear(status);
      const name = username.value.trim();
      if (!name || !password.value) {
        alert.append(notice('error', 'Enter your user name and password.'));
        (name ? password : username).focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      try {
        const data = await api('POST', '/v1/console/session', { username: name, password: password.value });
        setSession(data);
        if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/overview');
        route({ focus: true });
      } catch (e) {
        submit.disabled = false;
        submit.textContent = 'Sign in';
        let text;
        if (e.status === 401) text = `Wrong user name or password (${e.message}).`;
        else if (e.status === 403) text = `This account cannot use the console: ${e.message}.`;
        else if (e.status === 429) {
          text = `Too many failed attempts: ${e.message}.` +
            (e.retryAfter ? ` Try again in ${e.retryAfter} seconds.` : ' Try again later.');
        } else text = `Signing in failed: ${e.message}`;
        alert.append(notice('error', text));
        password.value = '';
        password.setAttribute('aria-invalid', 'true');
        password.focus();
      }
    });

    main.append(h('div', { className: 'signin' },
      h('div', { className: 'panel' },
        h('h1', { id: 'signin-title', tabIndex: -1, text: 'Sign in' }),
        h('p', { className: 'panel-intro', text: 'The Charta console is for sysadmins. Sign in with your Charta account.' }),
        alert, status, form)));
    if (focus) $('signin-title').focus();
  }

  // ---------------------------------------------------------------------
  // Flash messages (shown once, after a navigation)

  function setFlash(flash) {
    const area = $('flash');
    clear(area);
    if (flash) area.append(notice(flash.kind, flash.text));
  }

  // ---------------------------------------------------------------------
  // Confirmation dialog (a real modal, keyboard operable; no window.confirm)

  function confirmDialog({ title, text, confirmLabel }) {
    const dialog = $('confirm-dialog');
    const ok = $('confirm-ok');
    const cancel = $('confirm-cancel');
    const opener = document.activeElement;
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    ok.textContent = confirmLabel || 'Confirm';
    return new Promise((resolve) => {
      let done = false;
      const finish = (result) => {
        if (done) return;
        done = true;
        ok.removeEventListener('click', onOk);
        cancel.removeEventListener('click', onCancel);
        dialog.removeEventListener('cancel', onEscape);
        if (dialog.open) dialog.close();
        if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
        resolve(result);
      };
      const onOk = () => finish(true);
      const onCancel = () => finish(false);
      const onEscape = (event) => {
        event.preventDefault();
        finish(false);
      };
      ok.addEventListener('click', onOk);
      cancel.addEventListener('click', onCancel);
      dialog.addEventListener('cancel', onEscape);
      dialog.showModal();
      cancel.focus(); // the safe choice has the focus
    });
  }

  // ---------------------------------------------------------------------
  // Routing

  const ROUTES = {
    overview: { title: 'Overview', view: viewOverview },
    conflicts: { title: 'Conflicts', view: viewConflicts },
    devices: { title: 'Devices', view: viewDevices },
    patients: { title: 'Patient access', view: viewPatients },
    audit: { title: 'Audit', view: viewAudit },
  };

  function hashFor(name, params) {
    return `#/${name}${params ? query(params) : ''}`;
  }

  function updateNav(name) {
    for (const a of document.querySelectorAll('#mainnav a[data-route]')) {
      if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  function route(options = {}) {
    if (!state.user) return;
    const parsed = parseHash();
    if (!parsed) return; // an in-page anchor, not a route
    let name = parsed.parts[0] || 'overview';
    if (!ROUTES[name]) {
      history.replaceState(null, '', '#/overview');
      name = 'overview';
      parsed.parts = ['overview'];
    }
    const viewKey = name === 'conflicts' && parsed.parts.length > 1 ? 'conflict-detail' : name;
    const sameView = viewKey === state.currentView;
    const focusedId = sameView && document.activeElement ? document.activeElement.id : '';

    const token = ++state.renderToken;
    state.currentView = viewKey;
    updateNav(name);
    setFlash(state.pendingFlash);
    state.pendingFlash = null;

    const main = $('main');
    clear(main);
    const ctx = {
      token,
      params: parsed.params,
      parts: parsed.parts,
      alive: () => token === state.renderToken,
      focusHeading: () => {
        if (token !== state.renderToken) return;
        const target = focusedId && $(focusedId);
        if (target && sameView) target.focus();
        else if (!sameView || options.focus) {
          const h1 = main.querySelector('h1');
          if (h1) h1.focus();
        }
      },
    };
    document.title = `${ROUTES[name].title} — Charta console`;
    Promise.resolve()
      .then(() => ROUTES[name].view(main, ctx))
      .catch((e) => {
        if (e instanceof SessionEnded || !ctx.alive()) return;
        clear(main);
        main.append(h('h1', { tabIndex: -1, text: ROUTES[name].title }),
          notice('error', `This page could not be loaded: ${e.message}`,
            h('div', { className: 'button-row' },
              h('button', { type: 'button', className: 'button', text: 'Try again', on: { click: () => route() } }))));
      })
      .finally(() => ctx.focusHeading());
  }

  function navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  function pageHead(title, intro, extra) {
    return h('div', { className: 'page-head' },
      h('div', null, h('h1', { tabIndex: -1, text: title }), intro ? h('p', { text: intro }) : null), extra || null);
  }

  function loadingPanel(text) {
    return h('p', { className: 'loading', role: 'status', text: text || 'Loading…' });
  }

  // ---------------------------------------------------------------------
  // Overview

  function lastSync(d) {
    const a = validTime(d.last_push_at) ? d.last_push_at : 0;
    const b = validTime(d.last_pull_at) ? d.last_pull_at : 0;
    return Math.max(a, b) || null;
  }

  function deviceStatusBadge(d) {
    if (d.revoked_at) return badge('muted', 'Revoked');
    if (d.stale) return badge('stale', 'Stale', 'Not seen for longer than the stale limit');
    if (d.last_error) return badge('warn', 'Error');
    return badge('ok', 'OK');
  }

  async function viewOverview(main, ctx) {
    main.append(pageHead('Overview', 'Sync health of every device, the last 24 hours of sync traffic, and what needs a decision.'));
    const body = h('div', null, loadingPanel('Loading sync health…'));
    main.append(body);

    const [devicesR, activityR, conflictsR] = await Promise.allSettled([
      api('GET', '/v1/admin/devices'),
      api('GET', '/v1/admin/activity'),
      api('GET', '/v1/admin/conflicts?limit=1'),
      loadClinics().catch(() => []),
    ]);
    for (const r of [devicesR, activityR, conflictsR]) {
      if (r.status === 'rejected' && r.reason instanceof SessionEnded) throw r.reason;
    }
    if (!ctx.alive()) return;
    clear(body);

    const devices = devicesR.status === 'fulfilled' && Array.isArray(devicesR.value.devices) ? devicesR.value.devices : [];
    const active = devices.filter((d) => !d.revoked_at);
    const stale = active.filter((d) => d.stale);
    const skewed = devices.filter((d) => (d.future_clock_ops || 0) > 0);
    const withErrors = active.filter((d) => d.last_error);

    // Summary cards
    const cards = h('ul', { className: 'cards', 'aria-label': 'Summary' });
    const card = (label, value, kind, link) => h('li', { className: `card${kind ? ` card-${kind}` : ''}` },
      h('span', { className: 'card-label', text: label }),
      h('span', { className: 'card-value' }, link ? h('a', { href: link, text: value }) : value));
    if (devicesR.status === 'fulfilled') {
      cards.append(card('Active devices', fmtNum(active.length)));
      cards.append(card('Stale devices', fmtNum(stale.length), stale.length ? 'warn' : null));
      cards.append(card('Devices with a sync error', fmtNum(withErrors.length), withErrors.length ? 'warn' : null));
      cards.append(card('Clock-skew warnings', fmtNum(skewed.length), skewed.length ? 'warn' : null));
    }
    if (conflictsR.status === 'fulfilled') {
      const total = conflictsR.value.total || 0;
      cards.append(card('Open conflicts', fmtNum(total), total ? 'danger' : null, '#/conflicts'));
    }
    if (devicesR.status === 'fulfilled' && typeof devicesR.value.head === 'number') {
      cards.append(card('Server op sequence', fmtNum(devicesR.value.head)));
    }
    body.append(cards);

    // Sync health by device
    const health = h('section', { className: 'panel', 'aria-labelledby': 'health-title' },
      h('h2', { id: 'health-title', text: 'Sync health by device' }));
    if (devicesR.status === 'rejected') {
      health.append(notice('error', `The devices could not be loaded: ${devicesR.reason.message}`));
    } else if (!devices.length) {
      health.append(h('p', { className: 'empty', text: 'No device is enrolled yet. Issue an enrolment code on the Devices page.' }));
    } else {
      const staleAfter = devicesR.value.stale_after_seconds;
      if (typeof staleAfter === 'number') {
        health.append(h('p', { className: 'hint',
          text: `A device counts as stale when it has not been seen for ${fmtStaleLimit(staleAfter)}. Stale devices are highlighted.` }));
      }
      const sorted = devices.slice().sort((a, b) =>
        (a.revoked_at ? 1 : 0) - (b.revoked_at ? 1 : 0) || (b.stale ? 1 : 0) - (a.stale ? 1 : 0) ||
        String(a.name).localeCompare(String(b.name)));
      const tbody = h('tbody');
      for (const d of sorted) {
        const row = h('tr', { 'data-device-id': d.id,
          className: d.revoked_at ? 'row-revoked' : (d.stale ? 'row-stale' : null) });
        row.append(
          h('th', { scope: 'row' }, d.name || d.id, h('span', { className: 'id id-line', text: d.id })),
          td(clinicName(d.clinic)),
          td(deviceStatusBadge(d)),
          td(timeCell(lastSync(d), { never: 'never' })),
          td(typeof d.lag_ops === 'number' ? plural(d.lag_ops, 'op', 'ops') : '—', 'num'),
          td(fmtNum(d.pending_ops), 'num'),
          td(d.last_error
            ? [h('span', { className: 'error-text', text: d.last_error }),
              validTime(d.last_error_at) ? h('span', { className: 'sub', text: `${fmtTime(d.last_error_at)} · ${fmtRelative(d.last_error_at)}` }) : null]
            : h('span', { className: 'sub', text: 'none' })));
        tbody.append(row);
      }
      health.append(tableWrap('Sync health by device', h('table', null,
        h('caption', { className: 'visually-hidden', text: 'Sync health by device' }),
        h('thead', null, h('tr', null, th('Device'), th('Clinic'), th('Status'), th('Last successful sync'),
          th('Behind the server', 'num'), th('Pending on device', 'num'), th('Last error'))),
        tbody)));
    }
    body.append(health);

    // Clock-skew warnings
    const skew = h('section', { className: 'panel', 'aria-labelledby': 'skew-title' },
      h('h2', { id: 'skew-title', text: 'Clock-skew warnings' }),
      h('p', { className: 'panel-intro', text: 'Ops flagged for a future clock, by device. A tablet whose clock runs ahead stamps its edits in the future; check its date and time.' }));
    if (devicesR.status === 'fulfilled') {
      if (!skewed.length) {
        skew.append(h('p', { className: 'empty', text: 'No device has sent ops stamped in the future.' }));
      } else {
        const tbody = h('tbody');
        for (const d of skewed.sort((a, b) => b.future_clock_ops - a.future_clock_ops)) {
          tbody.append(h('tr', null,
            h('th', { scope: 'row' }, d.name || d.id, h('span', { className: 'id id-line', text: d.id })),
            td(clinicName(d.clinic)),
            td(fmtNum(d.future_clock_ops), 'num'),
            td(timeCell(d.last_seen_at, { never: 'never' }))));
        }
        skew.append(tableWrap('Ops flagged for a future clock', h('table', null,
          h('caption', { className: 'visually-hidden', text: 'Ops flagged for a future clock, by device' }),
          h('thead', null, h('tr', null, th('Device'), th('Clinic'), th('Ops flagged', 'num'), th('Last seen'))),
          tbody)));
      }
    } else {
      skew.append(notice('error', 'Not available: the devices could not be loaded.'));
    }

    // Activity chart
    const activity = h('section', { className: 'panel', 'aria-labelledby': 'activity-title' },
      h('h2', { id: 'activity-title', text: 'Sync activity, last 24 hours' }));
    if (activityR.status === 'rejected') {
      activity.append(notice('error', `The activity could not be loaded: ${activityR.reason.message}`));
    } else {
      const hours = Array.isArray(activityR.value.hours) ? activityR.value.hours : [];
      activity.append(activityChart(hours));
    }
    body.append(activity, skew);
  }

  function fmtStaleLimit(seconds) {
    if (seconds % 86400 === 0) return plural(seconds / 86400, 'day', 'days');
    if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour', 'hours');
    if (seconds % 60 === 0) return plural(seconds / 60, 'minute', 'minutes');
    return plural(seconds, 'second', 'seconds');
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const exp = Math.pow(10, Math.floor(Math.log10(v)));
    const f = v / exp;
    const nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return Math.max(1, nf * exp);
  }

  function activityChart(hours) {
    const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
    const rows = hours.map((hr) => ({
      start: num(hr.start), pushes: num(hr.pushes), pulls: num(hr.pulls),
      opsIn: num(hr.ops_in), opsOut: num(hr.ops_out), errors: num(hr.errors),
    }));
    const sum = (k) => rows.reduce((acc, r) => acc + r[k], 0);
    const totals = { opsIn: sum('opsIn'), opsOut: sum('opsOut'), pushes: sum('pushes'), pulls: sum('pulls'), errors: sum('errors') };
    const hourLabel = (ms) => (validTime(ms) ? hourFormat.format(new Date(ms)) : '');

    const W = 760;
    const H = 340;
    const left = 56;
    const right = 16;
    const top1 = 34;
    const h1 = 150;
    const top2 = top1 + h1 + 46;
    const h2 = 60;
    const plotW = W - left - right;
    const n = Math.max(rows.length, 1);
    const band = plotW / n;
    const opsMax = niceMax(Math.max(0, ...rows.map((r) => Math.max(r.opsIn, r.opsOut))));
    const errMax = niceMax(Math.max(0, ...rows.map((r) => r.errors)));

    const titleId = uid('chart-title');
    const descId = uid('chart-desc');
    let busiest = null;
    for (const r of rows) if (!busiest || r.opsIn + r.opsOut > busiest.opsIn + busiest.opsOut) busiest = r;
    const desc = rows.length
      ? `Over the last ${rows.length} hours: ${plural(totals.opsIn, 'op', 'ops')} received from devices, ` +
        `${plural(totals.opsOut, 'op', 'ops')} sent to devices, ${plural(totals.pushes, 'push', 'pushes')}, ` +
        `${plural(totals.pulls, 'pull', 'pulls')} and ${plural(totals.errors, 'error', 'errors')}.` +
        (busiest && busiest.opsIn + busiest.opsOut > 0
          ? ` The busiest hour began at ${hourLabel(busiest.start)} with ${plural(busiest.opsIn + busiest.opsOut, 'op', 'ops')}.` : '') +
        ' The same figures are in the table below.'
      : 'No activity was reported.';

    const svg = s('svg', {
      class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`,
      preserveAspectRatio: 'xMidYMid meet', focusable: 'false',
    },
    s('title', { id: titleId, text: 'Sync volume and errors per hour over the last 24 hours' }),
    s('desc', { id: descId, text: desc }));

    const yAxis = (top, height, max, label) => {
      const g = s('g', null);
      g.append(s('text', { class: 'chart-title', x: left, y: top - 12, text: label }));
      const ticks = max >= 2 && Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];
      for (const t of ticks) {
        const y = top + height - (t / max) * height;
        g.append(s('line', { class: t === 0 ? 'axis' : 'gridline', x1: left, x2: W - right, y1: y, y2: y }));
        g.append(s('text', { x: left - 8, y: y + 4, 'text-anchor': 'end', text: fmtNum(Math.round(t * 100) / 100) }));
      }
      g.append(s('line', { class: 'axis', x1: left, x2: left, y1: top, y2: top + height }));
      return g;
    };
    svg.append(yAxis(top1, h1, opsMax, 'Ops per hour (in from devices, out to devices)'));
    svg.append(yAxis(top2, h2, errMax, 'Errors per hour'));

    const bars = s('g', null);
    const barW = Math.max(2, band * 0.36);
    rows.forEach((r, i) => {
      const x0 = left + i * band + band * 0.1;
      const range = `${hourLabel(r.start)}–${hourLabel(r.start + HOUR)}`;
      const hIn = (r.opsIn / opsMax) * h1;
      const hOut = (r.opsOut / opsMax) * h1;
      const hErr = (r.errors / errMax) * h2;
      bars.append(s('rect', { class: 'bar-in', x: x0, y: top1 + h1 - hIn, width: barW, height: Math.max(hIn, 0) },
        s('title', { text: `${range}: ${plural(r.opsIn, 'op', 'ops')} in` })));
      bars.append(s('rect', { class: 'bar-out', x: x0 + barW, y: top1 + h1 - hOut, width: barW, height: Math.max(hOut, 0) },
        s('title', { text: `${range}: ${plural(r.opsOut, 'op', 'ops')} out` })));
      bars.append(s('rect', { class: 'bar-err', x: x0, y: top2 + h2 - hErr, width: barW * 2, height: Math.max(hErr, 0) },
        s('title', { text: `${range}: ${plural(r.errors, 'error', 'errors')}` })));
      if (i % 3 === 0 || i === rows.length - 1) {
        const x = left + i * band + band / 2;
        svg.append(s('text', { x, y: top2 + h2 + 18, 'text-anchor': 'middle', text: hourLabel(r.start) }));
        svg.append(s('line', { class: 'axis', x1: x, x2: x, y1: top2 + h2, y2: top2 + h2 + 5 }));
        svg.append(s('line', { class: 'axis', x1: x, x2: x, y1: top1 + h1, y2: top1 + h1 + 5 }));
      }
    });
    svg.append(bars);
    svg.append(s('text', { x: left + plotW / 2, y: top2 + h2 + 40, 'text-anchor': 'middle', text: 'Hour starting (local time)' }));

    const legend = h('ul', { className: 'legend', 'aria-label': 'Legend' },
      h('li', null, h('span', { className: 'swatch swatch-in', 'aria-hidden': 'true' }), `Ops in from devices (${fmtNum(totals.opsIn)})`),
      h('li', null, h('span', { className: 'swatch swatch-out', 'aria-hidden': 'true' }), `Ops out to devices (${fmtNum(totals.opsOut)})`),
      h('li', null, h('span', { className: 'swatch swatch-err', 'aria-hidden': 'true' }), `Errors (${fmtNum(totals.errors)})`));

    const tbody = h('tbody');
    for (const r of rows) {
      tbody.append(h('tr', null,
        h('th', { scope: 'row' }, h('time', { datetime: validTime(r.start) ? new Date(r.start).toISOString() : null, text: validTime(r.start) ? fmtTime(r.start) : '—' })),
        td(fmtNum(r.pushes), 'num'), td(fmtNum(r.pulls), 'num'), td(fmtNum(r.opsIn), 'num'),
        td(fmtNum(r.opsOut), 'num'), td(fmtNum(r.errors), 'num')));
    }
    const table = h('table', null,
      h('caption', { text: 'Sync activity per hour' }),
      h('thead', null, h('tr', null, th('Hour starting'), th('Pushes', 'num'), th('Pulls', 'num'),
        th('Ops in', 'num'), th('Ops out', 'num'), th('Errors', 'num'))),
      tbody);

    return h('figure', { className: 'chart-figure' }, svg, legend,
      h('details', null, h('summary', { text: 'Show the activity as a table' }), tableWrap('Sync activity per hour', table)));
  }

  // ---------------------------------------------------------------------
  // Conflict inbox

  function ageUnitMs(unit) {
    return unit === 'd' ? DAY : HOUR;
  }

  async function viewConflicts(main, ctx) {
    if (ctx.parts.length > 1) return viewConflictDetail(main, ctx, ctx.parts.slice(1).join('/'));
    state.lastInboxHash = location.hash || '#/conflicts';
    const p = ctx.params;
    const filters = {
      clinic: p.get('clinic') || '',
      patient: p.get('patient') || '',
      field: p.get('field') || '',
      age: p.get('age') || '',
      unit: p.get('unit') === 'd' ? 'd' : 'h',
    };
    const offset = Math.max(0, parseInt(p.get('offset') || '0', 10) || 0);
    const pageSize = Math.min(1000, Math.max(1, parseInt(p.get('limit') || String(PAGE_SIZE), 10) || PAGE_SIZE));

    main.append(pageHead('Conflicts',
      'Concurrent edits of the same field that need a person to decide. Clinically significant fields (allergies, medications) come first, then the oldest.'));
    await loadClinics().catch((e) => {
      if (e instanceof SessionEnded) throw e;
    });
    if (!ctx.alive()) return;

    // Filters
    const clinic = clinicSelect('filter-clinic', filters.clinic);
    const patient = h('input', { type: 'text', id: 'filter-patient', name: 'patient', value: filters.patient, spellcheck: 'false', autocomplete: 'off' });
    const fieldInput = h('input', { type: 'text', id: 'filter-field', name: 'field', value: filters.field, spellcheck: 'false', autocomplete: 'off' });
    const age = h('input', { type: 'number', id: 'filter-age', name: 'age', min: '0', step: '1', inputmode: 'numeric', value: filters.age });
    const unit = h('select', { id: 'filter-age-unit', name: 'unit', 'aria-label': 'Age unit' },
      h('option', { value: 'h', selected: filters.unit === 'h', text: 'hours' }),
      h('option', { value: 'd', selected: filters.unit === 'd', text: 'days' }));
    const sizes = [25, 50, 100, 250, 500];
    if (!sizes.includes(pageSize)) sizes.push(pageSize);
    const perPage = h('select', { id: 'filter-limit', name: 'limit' },
      sizes.sort((a, b) => a - b).map((n) => h('option', { value: String(n), selected: n === pageSize, text: String(n) })));
    const ageField = h('div', { className: 'field' },
      h('label', { htmlFor: 'filter-age', text: 'Open for more than' }),
      h('div', { className: 'age-inputs' }, age, unit));
    const form = h('form', { className: 'filters', role: 'search', 'aria-label': 'Filter conflicts', noValidate: true },
      field('Clinic', clinic), field('Patient', patient), field('Field (path prefix)', fieldInput), ageField,
      field('Per page', perPage),
      h('div', { className: 'button-row' },
        h('button', { type: 'submit', className: 'button', id: 'filter-apply', text: 'Apply filters' }),
        h('button', { type: 'button', className: 'button button-secondary', id: 'filter-clear', text: 'Clear',
          on: { click: () => navigate('#/conflicts') } })));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const ageValue = age.value.trim();
      navigate(hashFor('conflicts', {
        clinic: clinic.value, patient: patient.value.trim(), field: fieldInput.value.trim(),
        age: ageValue && Number(ageValue) > 0 ? String(Math.floor(Number(ageValue))) : '',
        unit: ageValue && Number(ageValue) > 0 ? unit.value : '',
        limit: perPage.value === String(PAGE_SIZE) ? '' : perPage.value,
      }));
    });
    main.append(h('section', { className: 'panel', 'aria-label': 'Filters' }, form));

    const results = h('section', { className: 'panel', 'aria-labelledby': 'inbox-title' },
      h('h2', { id: 'inbox-title', text: 'Open conflicts' }), loadingPanel('Loading conflicts…'));
    main.append(results);

    const q = {
      clinic: filters.clinic, patient: filters.patient, field: filters.field, limit: pageSize, offset,
    };
    if (filters.age && Number(filters.age) > 0) q.opened_before = Date.now() - Number(filters.age) * ageUnitMs(filters.unit);
    const data = await api('GET', `/v1/admin/conflicts${query(q)}`);
    if (!ctx.alive()) return;
    const conflicts = Array.isArray(data.conflicts) ? data.conflicts : [];
    const total = typeof data.total === 'number' ? data.total : conflicts.length;
    results.lastChild.remove();
    results.dataset.total = String(total);
    const first = conflicts.length ? offset + 1 : 0;
    const last = offset + conflicts.length;
    const range = conflicts.length ? `${fmtNum(first)}–${fmtNum(last)} of ${fmtNum(total)}` : `0 of ${fmtNum(total)}`;
    results.querySelector('h2').append(' ', h('span', { className: 'heading-count', text: `(${fmtNum(total)})` }));

    const filtered = Boolean(filters.clinic || filters.patient || filters.field || filters.age);
    if (!conflicts.length) {
      results.append(h('p', { className: 'empty', id: 'inbox-empty',
        text: offset > 0 ? 'No more conflicts on this page.'
          : filtered ? 'No open conflict matches these filters.' : 'No open conflicts. Every chart agrees.' }));
    } else {
      const tbody = h('tbody');
      for (const c of conflicts) {
        const values = Array.isArray(c.values) ? c.values : [];
        const detailHash = `#/conflicts/${encodeURIComponent(c.id)}`;
        const valueList = h('ul', { className: 'plain-list' });
        for (const v of values.slice(0, 3)) valueList.append(h('li', { text: fmtValue(v.value) }));
        if (values.length > 3) valueList.append(h('li', { className: 'sub', text: `and ${values.length - 3} more` }));
        tbody.append(h('tr', { 'data-conflict-id': c.id },
          h('th', { scope: 'row' }, h('span', { className: 'mono', text: c.patient })),
          td(clinicName(c.clinic)),
          td([h('span', { className: 'mono', text: c.path }), ' ', severityBadge(c)]),
          td(valueList),
          td(timeCell(c.opened_at)),
          td(h('a', { href: detailHash, className: 'button button-small button-secondary', text: 'Review',
            'aria-label': `Review the conflict on ${c.path} for patient ${c.patient}` }))));
      }
      results.append(tableWrap('Open conflicts', h('table', { id: 'inbox-table' },
        h('caption', { className: 'visually-hidden', text: 'Open conflicts' }),
        h('thead', null, h('tr', null, th('Patient'), th('Clinic'), th('Field'), th('Competing values'), th('Opened'), th('Action'))),
        tbody)));
    }

    // Pager: "1–100 of 10,000"
    const to = last;
    const pageParams = (o) => ({ clinic: filters.clinic, patient: filters.patient, field: filters.field,
      age: filters.age, unit: filters.age ? filters.unit : '', limit: pageSize === PAGE_SIZE ? '' : pageSize,
      offset: o > 0 ? o : '' });
    const prev = h('button', { type: 'button', className: 'button button-secondary', id: 'page-prev', text: 'Previous',
      disabled: offset <= 0, on: { click: () => navigate(hashFor('conflicts', pageParams(Math.max(0, offset - pageSize)))) } });
    const next = h('button', { type: 'button', className: 'button button-secondary', id: 'page-next', text: 'Next',
      disabled: to >= total || conflicts.length < pageSize,
      on: { click: () => navigate(hashFor('conflicts', pageParams(offset + pageSize))) } });
    results.append(h('nav', { className: 'pager', 'aria-label': 'Conflict pages' },
      h('p', { className: 'pager-status', id: 'inbox-count', 'aria-live': 'polite',
        text: range }),
      h('div', { className: 'button-row' }, prev, next)));
  }

  // ---------------------------------------------------------------------
  // Conflict detail and resolution

  function coerceEntered(text, values) {
    const kinds = new Set(values.map((v) => v.value).filter((v) => v !== null && v !== undefined).map((v) => typeof v));
    if (kinds.size === 1 && kinds.has('number')) {
      const n = Number(text);
      if (text.trim() !== '' && Number.isFinite(n)) return n;
    }
    if (kinds.size === 1 && kinds.has('boolean')) {
      const t = text.trim().toLowerCase();
      if (t === 'true' || t === 'yes') return true;
      if (t === 'false' || t === 'no') return false;
    }
    return text;
  }

  function sameValue(a, b) {
    return a === b || (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' &&
      JSON.stringify(a) === JSON.stringify(b));
  }

  async function viewConflictDetail(main, ctx, id) {
    const back = h('p', null, h('a', { href: state.lastInboxHash, text: '← Back to the conflict inbox' }));
    main.append(back, pageHead('Conflict'));
    const body = h('div', null, loadingPanel('Loading the conflict…'));
    main.append(body);
    await loadClinics().catch((e) => {
      if (e instanceof SessionEnded) throw e;
    });
    const data = await api('GET', `/v1/admin/conflicts${query({ id })}`);
    if (!ctx.alive()) return;
    clear(body);
    const c = Array.isArray(data.conflicts) ? data.conflicts.find((x) => x.id === id) : null;
    if (!c) {
      body.append(notice('info', 'This conflict is not open any more: it may have been resolved already.',
        h('div', { className: 'button-row' }, h('a', { href: state.lastInboxHash, className: 'button', text: 'Back to the inbox' }))));
      return;
    }
    const values = Array.isArray(c.values) ? c.values : [];
    main.querySelector('h1').textContent = `Conflict on ${c.path}`;
    document.title = `Conflict on ${c.path} — Charta console`;

    body.append(h('section', { className: 'panel', 'aria-label': 'About this conflict' },
      h('dl', { className: 'facts' },
        h('dt', { text: 'Patient' }), h('dd', { className: 'mono', text: c.patient }),
        h('dt', { text: 'Clinic' }), h('dd', { text: clinicName(c.clinic) }),
        h('dt', { text: 'Field' }), h('dd', null, h('span', { className: 'mono', text: c.path }), ' ',
          severityBadge(c) || badge('muted', 'Not clinical')),
        h('dt', { text: 'Opened' }), h('dd', null, h('time', { datetime: validTime(c.opened_at) ? new Date(c.opened_at).toISOString() : null, text: fmtTime(c.opened_at) }),
          ` (${fmtRelative(c.opened_at)})`),
        h('dt', { text: 'Tablets show now' }), h('dd', { text: fmtValue(c.shown) }),
        h('dt', { text: 'Conflict id' }), h('dd', { className: 'id', text: c.id }))));

    // The resolution form: a reason, then one button per competing value, or an entered value.
    const errorArea = h('div', { id: 'resolve-error', role: 'alert' });
    const reason = h('textarea', { id: 'resolve-reason', name: 'reason', rows: '3', required: true, maxlength: '2000',
      'aria-required': 'true' });
    const reasonError = h('p', { className: 'field-error', id: 'resolve-reason-error', hidden: true });
    reason.setAttribute('aria-describedby', 'resolve-reason-hint resolve-reason-error');
    const reasonField = h('div', { className: 'field' },
      h('label', { htmlFor: 'resolve-reason', text: 'Reason for your decision (required)' }),
      h('p', { className: 'hint', id: 'resolve-reason-hint', text: 'Recorded with the resolution in the audit chain, e.g. "confirmed with the patient by phone".' }),
      reasonError, reason);

    const cards = h('ol', { className: 'values', 'aria-label': 'Competing values' });
    values.forEach((v, i) => {
      const valueId = `value-${i}`;
      const shown = sameValue(v.value, c.shown);
      const facts = h('dl', { className: 'facts' },
        h('dt', { text: 'Who' }), h('dd', { text: v.author || '—' }),
        h('dt', { text: 'Device' }), h('dd', null, v.device_name || v.device || '—',
          v.device_id || v.device ? h('span', { className: 'id', text: ` ${v.device_id || v.device}` }) : null),
        h('dt', { text: 'Written' }), h('dd', null, timeCell(v.written_at)),
        h('dt', { text: 'Received' }), h('dd', null, validTime(v.received_at) ? timeCell(v.received_at) : h('span', { className: 'sub', text: 'not recorded' })),
        h('dt', { text: 'HLC' }), h('dd', { className: 'mono', text: v.hlc || '—' }));
      if (v.reason) facts.append(h('dt', { text: 'Reason given' }), h('dd', { text: v.reason }));
      cards.append(h('li', { className: `value-card${shown ? ' is-shown' : ''}`, 'data-value-index': String(i) },
        h('h3', null, `Value ${i + 1} of ${values.length} `, shown ? badge('muted', 'shown now') : null),
        h('p', { className: 'value-text', id: valueId, text: fmtValue(v.value) }),
        facts,
        h('button', { type: 'submit', className: 'button', name: 'choice', value: String(i), id: `keep-${i}`,
          'aria-describedby': valueId, text: 'Keep this value' })));
    });

    const other = h('input', { type: 'text', id: 'resolve-other', name: 'other', autocomplete: 'off', spellcheck: 'false' });
    const otherError = h('p', { className: 'field-error', id: 'resolve-other-error', hidden: true });
    other.setAttribute('aria-describedby', 'resolve-other-error');
    const otherBox = h('fieldset', null, h('legend', { text: 'Or enter the correct value' }),
      h('div', { className: 'resolve-other' },
        h('div', { className: 'field' }, h('label', { htmlFor: 'resolve-other', text: 'Value to keep' }), otherError, other),
        h('button', { type: 'submit', className: 'button button-secondary', name: 'choice', value: 'other', id: 'keep-other',
          text: 'Keep entered value' })));

    const form = h('form', { id: 'resolve-form', noValidate: true, 'aria-labelledby': 'resolve-title' },
      h('h2', { id: 'resolve-title', text: 'Resolve' }),
      errorArea, reasonField,
      h('h3', { text: `The ${values.length} competing values` }),
      cards, otherBox);

    const setError = (input, errorEl, text) => {
      errorEl.textContent = text || '';
      errorEl.hidden = !text;
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    };

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clear(errorArea);
      const choice = event.submitter ? event.submitter.value : '';
      let value;
      let ok = true;
      setError(reason, reasonError, '');
      setError(other, otherError, '');
      if (choice === 'other') {
        if (other.value.trim() === '') {
          setError(other, otherError, 'Enter the value to keep.');
          ok = false;
        } else {
          value = coerceEntered(other.value.trim(), values);
        }
      } else {
        const i = Number(choice);
        if (!Number.isInteger(i) || !values[i]) return;
        value = values[i].value;
      }
      if (reason.value.trim() === '') {
        setError(reason, reasonError, 'Give a reason for your decision.');
        reason.focus();
        return;
      }
      if (!ok) {
        other.focus();
        return;
      }
      const buttons = form.querySelectorAll('button');
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const res = await api('POST', '/v1/admin/conflicts/resolve', { id: c.id, value, reason: reason.value.trim() });
        state.pendingFlash = {
          kind: 'ok',
          text: `Conflict resolved: ${c.path} of patient ${res && res.patient ? res.patient : c.patient} now reads “${fmtValue(value)}”. Tablets receive the decision at their next sync.`,
        };
        navigate(state.lastInboxHash || '#/conflicts');
      } catch (e) {
        if (e instanceof SessionEnded) return;
        buttons.forEach((b) => { b.disabled = false; });
        const text = e.status === 404
          ? `This conflict is not open any more (${e.message}). It may have been resolved already.`
          : `The conflict was not resolved: ${e.message}`;
        errorArea.append(notice('error', text));
        errorArea.querySelector('.notice').tabIndex = -1;
        errorArea.querySelector('.notice').focus();
      }
    });

    body.append(h('section', { className: 'panel' }, form));
  }

  // ---------------------------------------------------------------------
  // Patient access: invitations to the patient portal (/me) and notes a
  // clinic does not share there.

  async function viewPatients(main) {
    main.append(pageHead('Patient access',
      'Invite a patient, or a parent or guardian, to read the record in the patient portal, and choose which notes it shows.'));

    // Invitation
    const invitePanel = h('section', { className: 'panel', 'aria-labelledby': 'invite-title' },
      h('h2', { id: 'invite-title', text: 'Invite to the patient portal' }),
      h('p', { className: 'panel-intro', text: 'The code works once, for 14 days. Give it to the person in private; they choose their own passphrase at /me.' }));
    const patient = h('input', { type: 'text', id: 'invite-patient', autocomplete: 'off', required: true });
    const relation = h('select', { id: 'invite-relation' },
      h('option', { value: 'self', text: 'The patient' }),
      h('option', { value: 'parent', text: 'A parent' }),
      h('option', { value: 'guardian', text: 'A guardian' }));
    const person = h('input', { type: 'text', id: 'invite-name', autocomplete: 'off', required: true });
    const inviteError = h('div', { role: 'alert' });
    const inviteResult = h('div', { id: 'invite-result', role: 'status' });
    const inviteButton = h('button', { type: 'submit', className: 'button', id: 'invite-issue', text: 'Issue invitation' });
    const inviteForm = h('form', { className: 'filters', noValidate: true, 'aria-label': 'Invite to the patient portal' },
      field('Patient id', patient), field('Who is invited', relation), field('Their name', person, 'As the clinic knows them, e.g. the parent\'s name.'),
      h('div', { className: 'button-row' }, inviteButton));
    inviteForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      clear(inviteError);
      clear(inviteResult);
      const missing = [[patient, 'the patient id'], [person, 'the name of the person invited']].find(([el]) => !el.value.trim());
      if (missing) {
        inviteError.append(notice('error', `Enter ${missing[1]}.`));
        missing[0].focus();
        return;
      }
      inviteButton.disabled = true;
      try {
        const res = await api('POST', `/v1/admin/patients/${encodeURIComponent(patient.value.trim())}/invitations`,
          { relation: relation.value, name: person.value.trim() });
        inviteResult.append(h('div', { className: 'code-box' },
          h('p', { text: `Invitation for ${person.value.trim()} to the record of ${res.patient}:` }),
          h('span', { className: 'code-value', id: 'invite-code', text: res.code }),
          h('p', { className: 'hint' }, 'Valid until ', h('time', { datetime: validTime(res.expires_at) ? new Date(res.expires_at).toISOString() : null, text: fmtTime(res.expires_at) }),
            '. It works once.')));
      } catch (e) {
        if (e instanceof SessionEnded) return;
        inviteError.append(notice('error', `No invitation was issued: ${e.message}`));
      } finally {
        inviteButton.disabled = false;
      }
    });
    invitePanel.append(inviteError, inviteForm, inviteResult);

    // Note sharing
    const notePanel = h('section', { className: 'panel', 'aria-labelledby': 'note-title' },
      h('h2', { id: 'note-title', text: 'Share or withhold a note' }),
      h('p', { className: 'panel-intro', text: 'Signed notes are shown in the patient portal unless withheld here, e.g. when they hold information about someone else. The reason is recorded in the audit chain.' }));
    const notePatient = h('input', { type: 'text', id: 'note-patient', autocomplete: 'off', required: true });
    const noteId = h('input', { type: 'text', id: 'note-id', autocomplete: 'off', required: true, placeholder: 'r3.17' });
    const shared = h('select', { id: 'note-shared' },
      h('option', { value: 'false', text: 'Withhold from the portal' }),
      h('option', { value: 'true', text: 'Show in the portal' }));
    const reason = h('textarea', { id: 'note-reason', rows: 2, required: true });
    const noteError = h('div', { role: 'alert' });
    const noteResult = h('div', { id: 'note-result', role: 'status' });
    const noteButton = h('button', { type: 'submit', className: 'button', id: 'note-save', text: 'Save' });
    const noteForm = h('form', { className: 'filters', noValidate: true, 'aria-label': 'Share or withhold a note' },
      field('Patient id', notePatient), field('Note id', noteId, 'The note\'s id, as the FHIR export names its DocumentReference.'),
      field('In the portal', shared), field('Reason (required)', reason), h('div', { className: 'button-row' }, noteButton));
    noteForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      clear(noteError);
      clear(noteResult);
      const missing = [[notePatient, 'the patient id'], [noteId, 'the note id'], [reason, 'a reason']].find(([el]) => !el.value.trim());
      if (missing) {
        noteError.append(notice('error', `Enter ${missing[1]}.`));
        missing[0].focus();
        return;
      }
      noteButton.disabled = true;
      try {
        const res = await api('POST', `/v1/admin/patients/${encodeURIComponent(notePatient.value.trim())}/notes/${encodeURIComponent(noteId.value.trim())}/sharing`,
          { shared: shared.value === 'true', reason: reason.value.trim() });
        noteResult.append(notice('ok', res.shared ? `Note ${res.note} is shown in the portal.` : `Note ${res.note} is withheld from the portal.`));
      } catch (e) {
        if (e instanceof SessionEnded) return;
        noteError.append(notice('error', `Nothing was changed: ${e.message}`));
      } finally {
        noteButton.disabled = false;
      }
    });
    notePanel.append(noteError, noteForm, noteResult);
    main.append(invitePanel, notePanel);
  }

  // ---------------------------------------------------------------------
  // Devices

  const HISTORY_ACTIONS = {
    'device.enrol': 'Device enrolled',
    'device.revoke': 'Device revoked',
    'enrolment_code.issue': 'Enrolment code issued',
  };

  async function viewDevices(main, ctx) {
    main.append(pageHead('Devices', 'Enrolled tablets, enrolment codes and the enrolment history.'));
    const body = h('div', null, loadingPanel('Loading devices…'));
    main.append(body);

    const [devicesR, , ...historyR] = await Promise.allSettled([
      api('GET', '/v1/admin/devices'),
      loadClinics(),
      ...Object.keys(HISTORY_ACTIONS).map((a) => api('GET', `/v1/admin/audit${query({ action: a, limit: 1000 })}`)),
    ]);
    for (const r of [devicesR, ...historyR]) {
      if (r.status === 'rejected' && r.reason instanceof SessionEnded) throw r.reason;
    }
    if (!ctx.alive()) return;
    clear(body);
    if (devicesR.status === 'rejected') throw devicesR.reason;
    const devices = Array.isArray(devicesR.value.devices) ? devicesR.value.devices : [];
    const byId = new Map(devices.map((d) => [d.id, d]));

    // Enrolment code
    const codePanel = h('section', { className: 'panel', 'aria-labelledby': 'code-title' },
      h('h2', { id: 'code-title', text: 'Issue an enrolment code' }),
      h('p', { className: 'panel-intro', text: 'A code enrols one new tablet in a clinic. It works once and expires.' }));
    const clinic = clinicSelect('code-clinic', (state.clinics || []).length === 1 ? state.clinics[0].id : '', { allOption: false, required: true });
    const codeError = h('div', { role: 'alert' });
    const codeResult = h('div', { id: 'code-result', role: 'status' });
    const issue = h('button', { type: 'submit', className: 'button', id: 'code-issue', text: 'Issue enrolment code' });
    const codeForm = h('form', { className: 'filters', noValidate: true, 'aria-label': 'Issue an enrolment code' },
      field('Clinic', clinic), h('div', { className: 'button-row' }, issue));
    codeForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      clear(codeError);
      clear(codeResult);
      if (!clinic.value) {
        codeError.append(notice('error', 'Choose the clinic the tablet will belong to.'));
        clinic.setAttribute('aria-invalid', 'true');
        clinic.focus();
        return;
      }
      clinic.removeAttribute('aria-invalid');
      issue.disabled = true;
      try {
        const res = await api('POST', '/v1/admin/enrolment-codes', { clinic: clinic.value });
        codeResult.append(h('div', { className: 'code-box' },
          h('p', { text: `Enrolment code for ${clinicName(res.clinic || clinic.value)}:` }),
          h('span', { className: 'code-value', id: 'code-value', text: res.code }),
          h('p', { className: 'hint' }, 'Valid until ', h('time', { datetime: validTime(res.expires_at) ? new Date(res.expires_at).toISOString() : null, text: fmtTime(res.expires_at) }),
            validTime(res.expires_at) ? ` (${fmtRelative(res.expires_at)})` : '', '. It works once.')));
      } catch (e) {
        if (e instanceof SessionEnded) return;
        codeError.append(notice('error', `No code was issued: ${e.message}`));
      } finally {
        issue.disabled = false;
      }
    });
    codePanel.append(codeError, codeForm, codeResult);

    // Device list
    const listPanel = h('section', { className: 'panel', 'aria-labelledby': 'devices-title' },
      h('h2', { id: 'devices-title', text: `Enrolled devices (${fmtNum(devices.length)})` }));
    const listError = h('div', { role: 'alert' });
    listPanel.append(listError);
    if (!devices.length) {
      listPanel.append(h('p', { className: 'empty', text: 'No device is enrolled yet.' }));
    } else {
      const tbody = h('tbody');
      const sorted = devices.slice().sort((a, b) => (a.revoked_at ? 1 : 0) - (b.revoked_at ? 1 : 0) ||
        String(a.name).localeCompare(String(b.name)));
      for (const d of sorted) {
        const name = d.name || d.id;
        let action;
        if (d.revoked_at) {
          action = h('span', { className: 'sub' }, 'Revoked ', h('time', { datetime: new Date(d.revoked_at).toISOString(), text: fmtTime(d.revoked_at) }));
        } else {
          action = h('button', { type: 'button', className: 'button button-small button-danger', 'data-revoke': d.id,
            'aria-label': `Revoke ${name}`, text: 'Revoke…',
            on: {
              click: async (event) => {
                const button = event.currentTarget;
                const yes = await confirmDialog({
                  title: `Revoke “${name}”?`,
                  text: `${name} (${clinicName(d.clinic)}) will no longer sync. At its next connection it erases its replica, including anything not yet synced. This cannot be undone; the tablet has to be enrolled again.`,
                  confirmLabel: 'Revoke device',
                });
                if (!yes || !ctx.alive()) return;
                button.disabled = true;
                try {
                  await api('POST', `/v1/admin/devices/${encodeURIComponent(d.id)}/revoke`, {});
                  state.pendingFlash = { kind: 'ok', text: `${name} was revoked. It erases its replica at its next sync.` };
                  route();
                } catch (e) {
                  if (e instanceof SessionEnded) return;
                  button.disabled = false;
                  clear(listError);
                  listError.append(notice('error', `${name} was not revoked: ${e.message}`));
                }
              },
            } });
        }
        tbody.append(h('tr', { 'data-device-id': d.id, className: d.revoked_at ? 'row-revoked' : (d.stale ? 'row-stale' : null) },
          h('th', { scope: 'row' }, name, h('span', { className: 'id id-line', text: d.id })),
          td(clinicName(d.clinic)),
          td(deviceStatusBadge(d)),
          td([timeCell(d.enrolled_at, { relative: false }), d.enrolled_by ? h('span', { className: 'sub', text: `code ref. ${d.enrolled_by}` }) : null]),
          td(timeCell(d.last_seen_at, { never: 'never' })),
          td(h('span', { className: 'mono', text: d.replica_id || '—' })),
          td(action)));
      }
      listPanel.append(tableWrap('Enrolled devices', h('table', { id: 'devices-table' },
        h('caption', { className: 'visually-hidden', text: 'Enrolled devices' }),
        h('thead', null, h('tr', null, th('Device'), th('Clinic'), th('Status'), th('Enrolled'), th('Last seen'), th('Replica id'), th('Action'))),
        tbody)));
    }

    // Enrolment history
    const historyPanel = h('section', { className: 'panel', 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title', text: 'Enrolment history' }));
    const events = [];
    const failed = [];
    historyR.forEach((r, i) => {
      if (r.status === 'fulfilled' && Array.isArray(r.value.events)) events.push(...r.value.events);
      else if (r.status === 'rejected') failed.push(`${Object.keys(HISTORY_ACTIONS)[i]}: ${r.reason.message}`);
    });
    if (failed.length) historyPanel.append(notice('error', `Part of the history could not be loaded (${failed.join('; ')}).`));
    events.sort((a, b) => b.seq - a.seq);
    if (!events.length) {
      historyPanel.append(h('p', { className: 'empty', text: 'Nothing recorded yet.' }));
    } else {
      const shown = events.slice(0, 30);
      const tbody = h('tbody');
      for (const e of shown) {
        // A revocation names its device in the detail, not in the device column.
        const deviceId = e.device || (e.detail && typeof e.detail === 'object' && typeof e.detail.device === 'string' ? e.detail.device : '');
        const dev = deviceId ? byId.get(deviceId) : null;
        tbody.append(h('tr', { 'data-action': e.action },
          td(timeCell(e.at)),
          td(HISTORY_ACTIONS[e.action] || e.action),
          td(deviceId ? [dev && dev.name ? dev.name : '', h('span', { className: 'id id-line', text: deviceId })] : '—'),
          td(clinicName(e.clinic)),
          td(e.user || '—'),
          td(e.address || '—'),
          td(detailNode(e.detail)),
          td(e.chain === 'broken' ? badge('broken', 'Broken') : e.chain === 'ok' ? badge('ok', 'Intact') : '—')));
      }
      if (events.length > shown.length) {
        historyPanel.append(h('p', { className: 'hint' }, `The latest ${shown.length} of ${fmtNum(events.length)} events, newest first. Older ones: `,
          h('a', { href: hashFor('audit', { action: 'device.enrol' }), text: 'enrolments' }), ', ',
          h('a', { href: hashFor('audit', { action: 'device.revoke' }), text: 'revocations' }), ', ',
          h('a', { href: hashFor('audit', { action: 'enrolment_code.issue' }), text: 'codes issued' }), ' on the Audit page.'));
      }
      historyPanel.append(tableWrap('Enrolment history', h('table', { id: 'history-table' },
        h('caption', { className: 'visually-hidden', text: 'Enrolment history, newest first' }),
        h('thead', null, h('tr', null, th('When'), th('Event'), th('Device'), th('Clinic'), th('By'), th('Address'), th('Details'), th('Chain'))),
        tbody)));
    }

    body.append(listPanel, codePanel, historyPanel);
  }

  // ---------------------------------------------------------------------
  // Audit

  async function viewAudit(main, ctx) {
    const p = ctx.params;
    const f = {
      patient: p.get('patient') || '',
      user: p.get('user') || '',
      device: p.get('device') || '',
      action: p.get('action') || '',
      from: p.get('from') || '',
      to: p.get('to') || '',
      after: p.get('after') || '',
      limit: ['50', '100', '500', '1000'].includes(p.get('limit')) ? p.get('limit') : '100',
    };
    main.append(pageHead('Audit', 'Every read and write, every op received and every device event, in a tamper-evident hash chain.'));

    // Chain verification
    const verifyResult = h('div', { id: 'verify-result', role: 'status' });
    const verifyButton = h('button', { type: 'button', className: 'button', id: 'verify-chain', text: 'Verify chain' });
    verifyButton.addEventListener('click', async () => {
      clear(verifyResult);
      verifyButton.disabled = true;
      verifyResult.append(h('p', { className: 'loading', text: 'Verifying the whole chain…' }));
      try {
        const r = await api('POST', '/v1/admin/audit/verify', {});
        clear(verifyResult);
        if (r.ok) {
          verifyResult.append(notice('ok', `Chain intact: ${plural(r.checked, 'entry', 'entries')} checked.`));
        } else {
          verifyResult.append(notice('error',
            `Chain broken at entry #${r.first_broken}${r.problem ? `: ${r.problem}` : ''} (${plural(r.checked, 'entry', 'entries')} checked).`));
        }
      } catch (e) {
        if (e instanceof SessionEnded) return;
        clear(verifyResult);
        verifyResult.append(notice('error', `The chain could not be verified: ${e.message}`));
      } finally {
        verifyButton.disabled = false;
      }
    });
    main.append(h('section', { className: 'panel', 'aria-labelledby': 'verify-title' },
      h('h2', { id: 'verify-title', text: 'Verify the audit chain' }),
      h('p', { className: 'panel-intro', text: 'Recomputes every entry\'s hash from the first one: a changed, deleted or truncated entry is found and named.' }),
      h('div', { className: 'button-row' }, verifyButton), verifyResult));

    // Search form
    const inputs = {
      patient: h('input', { type: 'text', id: 'audit-patient', name: 'patient', value: f.patient, spellcheck: 'false', autocomplete: 'off' }),
      user: h('input', { type: 'text', id: 'audit-user', name: 'user', value: f.user, spellcheck: 'false', autocomplete: 'off' }),
      device: h('input', { type: 'text', id: 'audit-device', name: 'device', value: f.device, spellcheck: 'false', autocomplete: 'off' }),
      action: h('input', { type: 'text', id: 'audit-action', name: 'action', value: f.action, spellcheck: 'false', autocomplete: 'off' }),
      from: h('input', { type: 'datetime-local', id: 'audit-from', name: 'from', value: toLocalInput(Number(f.from)) }),
      to: h('input', { type: 'datetime-local', id: 'audit-to', name: 'to', value: toLocalInput(Number(f.to)) }),
      limit: h('select', { id: 'audit-limit', name: 'limit' },
        ['50', '100', '500', '1000'].map((n) => h('option', { value: n, selected: n === f.limit, text: n }))),
    };
    const form = h('form', { className: 'filters', role: 'search', 'aria-label': 'Search the audit log', noValidate: true },
      field('Patient', inputs.patient), field('User', inputs.user), field('Device id', inputs.device),
      field('Action', inputs.action), field('From', inputs.from), field('Until', inputs.to), field('Entries per page', inputs.limit),
      h('div', { className: 'button-row' },
        h('button', { type: 'submit', className: 'button', id: 'audit-search', text: 'Search' }),
        h('button', { type: 'button', className: 'button button-secondary', id: 'audit-clear', text: 'Clear',
          on: { click: () => { state.auditStack = []; navigate('#/audit'); } } })));
    const formError = h('div', { role: 'alert' });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clear(formError);
      const from = fromLocalInput(inputs.from.value);
      const to = fromLocalInput(inputs.to.value);
      if (from !== null && to !== null && to <= from) {
        formError.append(notice('error', '"Until" must be later than "From".'));
        inputs.to.focus();
        return;
      }
      state.auditStack = [];
      navigate(hashFor('audit', {
        patient: inputs.patient.value.trim(), user: inputs.user.value.trim(), device: inputs.device.value.trim(),
        action: inputs.action.value.trim(), from: from === null ? '' : from, to: to === null ? '' : to,
        limit: inputs.limit.value === '100' ? '' : inputs.limit.value,
      }));
    });
    main.append(h('section', { className: 'panel', 'aria-label': 'Search' }, formError, form));

    const results = h('section', { className: 'panel', 'aria-labelledby': 'audit-title' },
      h('h2', { id: 'audit-title', text: 'Entries' }), loadingPanel('Loading entries…'));
    main.append(results);

    const q = {
      patient: f.patient, user: f.user, device: f.device, action: f.action, from: f.from, to: f.to,
      after: f.after, limit: f.limit,
    };
    const data = await api('GET', `/v1/admin/audit${query(q)}`);
    if (!ctx.alive()) return;
    results.lastChild.remove();
    const events = Array.isArray(data.events) ? data.events : [];
    if (!events.length) {
      results.append(h('p', { className: 'empty', id: 'audit-empty', text: f.after ? 'No more entries.' : 'No entry matches this search.' }));
    } else {
      const broken = events.filter((e) => e.chain === 'broken').length;
      results.append(h('p', { className: 'hint', id: 'audit-summary' },
        `${plural(events.length, 'entry', 'entries')} shown, oldest first. `,
        broken ? h('strong', { className: 'error-text', text: `${plural(broken, 'entry', 'entries')} with a broken chain link.` }) : 'Every entry shown links correctly to the one before.'));
      const tbody = h('tbody');
      for (const e of events) {
        tbody.append(h('tr', { 'data-seq': String(e.seq), className: e.chain === 'broken' ? 'row-broken' : null },
          td(fmtNum(e.seq), 'num'),
          td(timeCell(e.at)),
          td(h('span', { className: 'mono', text: e.action || '—' })),
          td(e.user || '—'),
          td(e.device ? h('span', { className: 'mono', text: e.device }) : '—'),
          td(e.clinic || '—'),
          td(e.patient ? h('span', { className: 'mono', text: e.patient }) : '—'),
          td(e.address || '—'),
          td(detailNode(e.detail)),
          td(e.chain === 'broken'
            ? [badge('broken', 'Broken'), e.chain_problem ? h('span', { className: 'sub', text: e.chain_problem }) : null]
            : e.chain === 'ok' ? badge('ok', 'Intact') : badge('muted', 'Unknown'))));
      }
      results.append(tableWrap('Audit entries', h('table', { id: 'audit-table' },
        h('caption', { className: 'visually-hidden', text: 'Audit entries, oldest first' }),
        h('thead', null, h('tr', null, th('Seq', 'num'), th('When'), th('Action'), th('User'), th('Device'), th('Clinic'),
          th('Patient'), th('Address'), th('Details'), th('Chain'))),
        tbody)));
    }

    // Pager (cursor based: after = the last seq of this page)
    const base = { patient: f.patient, user: f.user, device: f.device, action: f.action, from: f.from, to: f.to,
      limit: f.limit === '100' ? '' : f.limit };
    const hasNext = events.length >= Number(f.limit) && typeof data.next_after === 'number' && data.next_after > 0;
    const first = h('button', { type: 'button', className: 'button button-secondary', id: 'audit-first', text: 'First page',
      disabled: !f.after, on: { click: () => { state.auditStack = []; navigate(hashFor('audit', base)); } } });
    const prev = h('button', { type: 'button', className: 'button button-secondary', id: 'audit-prev', text: 'Previous',
      disabled: !f.after || !state.auditStack.length,
      on: { click: () => {
        const back = state.auditStack.pop();
        navigate(hashFor('audit', { ...base, after: back || '' }));
      } } });
    const next = h('button', { type: 'button', className: 'button button-secondary', id: 'audit-next', text: 'Next',
      disabled: !hasNext,
      on: { click: () => {
        state.auditStack.push(f.after);
        navigate(hashFor('audit', { ...base, after: data.next_after }));
      } } });
    results.append(h('nav', { className: 'pager', 'aria-label': 'Audit pages' },
      h('p', { className: 'pager-status', text: events.length
        ? `Entries #${fmtNum(events[0].seq)} to #${fmtNum(events[events.length - 1].seq)}` : '' }),
      h('div', { className: 'button-row' }, first, prev, next)));
  }

  // ---------------------------------------------------------------------
  // Start

  async function start() {
    $('signout').addEventListener('click', signOut);
    $('skip-link').addEventListener('click', (event) => {
      event.preventDefault();
      const main = $('main');
      main.focus();
      main.scrollIntoView();
    });
    window.addEventListener('hashchange', () => route());
    document.addEventListener('keydown', (event) => {
      // A visible keyboard shortcut is not needed; Escape closes the dialog natively.
      if (event.key === 'Escape') setFlash(null);
    });

    try {
      const data = await api('GET', '/v1/console/session');
      setSession(data);
      if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/overview');
      route();
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        showSignIn('');
      } else {
        const main = $('main');
        clear(main);
        main.append(h('h1', { tabIndex: -1, text: 'Charta console' }),
          notice('error', `The server could not be reached: ${e.message}`,
            h('div', { className: 'button-row' },
              h('button', { type: 'button', className: 'button', text: 'Try again', on: { click: () => location.reload() } }))));
      }
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
