// Charta patient portal: patients and parents read their record on a phone or
// a laptop. A single page app in plain JavaScript, served by charta-server at
// /me under a strict Content-Security-Policy. Everything the server returns
// is untrusted text (names, notes, values): the DOM is built with
// createElement and textContent only, never from HTML strings.
'use strict';

(() => {
  // ---------------------------------------------------------------------
  // State

  const state = {
    account: null, // {id, name}
    patients: [], // [{id, name, relation}]
    csrf: '',
    expiresAt: 0,
    expiryTimer: 0,
    returnTo: '', // the page to show after signing in
    lastUsername: '', // typed on the invitation form, offered on the sign-in form
    pendingFlash: null, // {kind, text} shown by the next route()
    renderToken: 0, // bumped on every render; stale async work checks it
    firstRender: true,
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------
  // DOM helpers

  const { h, s, clear, uid, field, notice, badge, tableWrap, parseHash, ApiError, SessionEnded, send } = window.ChartaDom;

  // A table whose rows become cards on a phone: each cell carries its
  // column's name in data-label (shown by the style sheet).
  function stackTable(id, caption, headers, rows, options = {}) {
    const tbody = h('tbody');
    for (const row of rows) {
      const tr = h('tr', row.attrs || null);
      row.cells.forEach((content, i) => {
        const cell = i === 0 && options.rowHeader !== false
          ? h('th', { scope: 'row', 'data-label': headers[i] }, content)
          : h('td', { 'data-label': headers[i] }, content);
        if (row.cellClass && row.cellClass[i]) cell.className = row.cellClass[i];
        tr.append(cell);
      });
      tbody.append(tr);
    }
    return h('table', { id, className: 'stack' },
      h('caption', { className: options.showCaption ? null : 'visually-hidden', text: caption }),
      h('thead', null, h('tr', null, headers.map((t) => h('th', { scope: 'col', text: t })))),
      tbody);
  }

  // ---------------------------------------------------------------------
  // Reading FHIR values safely (anything may be missing or of another type)

  const str = (x) => (typeof x === 'string' ? x : '');
  const arr = (x) => (Array.isArray(x) ? x : []);
  const obj = (x) => (x && typeof x === 'object' && !Array.isArray(x) ? x : {});
  const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);

  function codings(cc) {
    return arr(obj(cc).coding).map(obj);
  }

  // The words of a CodeableConcept: its text, else a coding's display, else a code.
  function ccText(cc) {
    const c = obj(cc);
    if (str(c.text).trim() && c.text !== '(not recorded)') return c.text.trim();
    for (const coding of codings(c)) if (str(coding.display).trim()) return coding.display.trim();
    for (const coding of codings(c)) if (str(coding.code)) return coding.code;
    return '';
  }

  function firstCode(cc) {
    for (const coding of codings(cc)) if (str(coding.code)) return coding.code;
    return '';
  }

  function hasCode(cc, code) {
    return codings(cc).some((c) => c.code === code);
  }

  function enteredInError(r) {
    return r.status === 'entered-in-error' || r.docStatus === 'entered-in-error' ||
      hasCode(r.verificationStatus, 'entered-in-error');
  }

  // ---------------------------------------------------------------------
  // Dates

  const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
  const shortDateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
  const monthFormat = new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric' });
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

  // A FHIR date or dateTime as {ms, hasTime}; a plain date is read in local
  // time so that it shows as the same day everywhere.
  function parseWhen(text) {
    const t = str(text);
    let m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(t);
    if (m) {
      const d = new Date(Number(m[1]), m[2] ? Number(m[2]) - 1 : 0, m[3] ? Number(m[3]) : 1);
      return Number.isFinite(d.getTime()) ? { ms: d.getTime(), hasTime: false, precision: m[3] ? 'day' : m[2] ? 'month' : 'year' } : null;
    }
    m = /^\d{4}-\d{2}-\d{2}T/.exec(t);
    if (m) {
      const ms = Date.parse(t);
      return Number.isFinite(ms) ? { ms, hasTime: true, precision: 'time' } : null;
    }
    return null;
  }

  function fmtDate(text) {
    const w = parseWhen(text);
    if (!w) return '';
    if (w.precision === 'year') return String(new Date(w.ms).getFullYear());
    if (w.precision === 'month') return monthFormat.format(new Date(w.ms));
    return dateFormat.format(new Date(w.ms));
  }

  function fmtDateTime(text) {
    const w = parseWhen(text);
    if (!w) return '';
    return w.hasTime ? dateTimeFormat.format(new Date(w.ms)) : fmtDate(text);
  }

  function timeEl(text, withTime) {
    const w = parseWhen(text);
    if (!w) return h('span', { className: 'muted', text: 'date not recorded' });
    return h('time', { datetime: str(text), text: withTime ? fmtDateTime(text) : fmtDate(text) });
  }

  function msTimeEl(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return h('span', { className: 'muted', text: '—' });
    const d = new Date(ms);
    return h('time', { datetime: d.toISOString(), text: dateTimeFormat.format(d) });
  }

  const whenMs = (text) => {
    const w = parseWhen(text);
    return w ? w.ms : 0;
  };

  function fmtNum(n) {
    return typeof n === 'number' && Number.isFinite(n) ? numberFormat.format(n) : '';
  }

  function plural(n, one, many) {
    return `${fmtNum(n)} ${n === 1 ? one : many}`;
  }

  // ---------------------------------------------------------------------
  // Plain words for codes

  const RELATIONS = {
    self: 'You',
    parent: 'Your child',
    guardian: 'In your care',
  };
  const relationText = (r) => RELATIONS[r] || (str(r) ? str(r) : '');

  const CRITICALITY = {
    high: ['danger', 'Can be serious'],
    low: ['calm', 'Usually mild'],
    'unable-to-assess': ['muted', 'Risk not known'],
  };
  const ALLERGY_CATEGORY = {
    food: 'Food', medication: 'Medicine', environment: 'Something around you', biologic: 'Biological product',
  };
  const MED_STATUS = {
    active: ['ok', 'Taking now'],
    'on-hold': ['warn', 'Paused'],
    completed: ['muted', 'Finished'],
    stopped: ['muted', 'Stopped'],
    intended: ['muted', 'Planned'],
    'not-taken': ['muted', 'Not taken'],
  };
  const ROUTES_PLAIN = {
    oral: 'by mouth',
    inhalation: 'breathed in',
    inhaled: 'breathed in',
    topical: 'on the skin',
    subcutaneous: 'injection under the skin',
    intramuscular: 'injection into a muscle',
    intravenous: 'into a vein',
    sublingual: 'under the tongue',
    nasal: 'in the nose',
    rectal: 'rectal',
    ophthalmic: 'in the eye',
  };
  const VISIT_KIND = {
    HH: 'Home visit',
    AMB: 'Clinic visit',
    FLD: 'School or workplace visit',
    EMER: 'Emergency',
    IMP: 'Hospital stay',
    ACUTE: 'Hospital stay',
    NONAC: 'Hospital stay',
    VR: 'Phone or video call',
    OBSENC: 'Observation stay',
    PRENC: 'Before a hospital stay',
    SS: 'Short stay',
  };
  // Vaccines by CVX code, with their usual short names kept in brackets.
  const VACCINES = {
    '08': ['Hepatitis B', 'Hep B'],
    '20': ['Diphtheria, tetanus and whooping cough', 'DTaP'],
    '10': ['Polio', 'IPV'],
    '49': ['Haemophilus influenzae type b', 'Hib'],
    '133': ['Pneumococcal', 'PCV13'],
    '119': ['Rotavirus', 'Rotavirus'],
    '03': ['Measles, mumps and rubella', 'MMR'],
    '21': ['Chickenpox', 'Varicella'],
    '83': ['Hepatitis A', 'Hep A'],
    '115': ['Tetanus, diphtheria and whooping cough booster', 'Tdap'],
    '62': ['Human papillomavirus', 'HPV'],
    '114': ['Meningitis ACWY', 'MenACWY'],
    '140': ['Flu', 'Influenza'],
    '141': ['Flu', 'Influenza'],
    '213': ['COVID-19', 'COVID-19'],
  };
  const VACCINE_BY_NAME = new Map(Object.values(VACCINES).map(([plain, short]) => [short.toLowerCase(), [plain, short]]));

  function vaccineName(text, code) {
    const c = str(code).replace(/^.*\|/, '');
    const known = VACCINES[c] || VACCINES[c.padStart(2, '0')] || VACCINE_BY_NAME.get(str(text).trim().toLowerCase());
    if (!known) return str(text) || (c ? `Vaccine (code ${c})` : 'Vaccine');
    const [plain, short] = known;
    const shown = str(text).trim() || short;
    return plain.toLowerCase() === shown.toLowerCase() ? plain : `${plain} (${shown})`;
  }

  // Vital signs by LOINC code: plain name, unit as people say it, decimals.
  const VITALS = {
    '85354-9': { name: 'Blood pressure', unit: 'mmHg', order: 1 },
    '55284-4': { name: 'Blood pressure', unit: 'mmHg', order: 1, same: '85354-9' },
    '8480-6': { name: 'Blood pressure, top number', unit: 'mmHg', order: 2 },
    '8462-4': { name: 'Blood pressure, bottom number', unit: 'mmHg', order: 3 },
    '8867-4': { name: 'Heart rate', unit: 'beats a minute', order: 4 },
    '8310-5': { name: 'Temperature', unit: '°C', order: 5 },
    '8331-1': { name: 'Temperature (by mouth)', unit: '°C', order: 6 },
    '29463-7': { name: 'Weight', unit: 'kg', order: 7 },
    '8302-2': { name: 'Height', unit: 'cm', order: 8 },
    '39156-5': { name: 'Body mass index (BMI)', unit: 'kg/m²', order: 9 },
    '9279-1': { name: 'Breathing rate', unit: 'breaths a minute', order: 10 },
    '59408-5': { name: 'Oxygen level in the blood', unit: '%', order: 11 },
    '2708-6': { name: 'Oxygen level in the blood', unit: '%', order: 11, same: '59408-5' },
    '72514-3': { name: 'Pain score', unit: 'out of 10', order: 12 },
    '8287-5': { name: 'Head size', unit: 'cm', order: 13 },
  };
  const UCUM_PLAIN = {
    Cel: '°C', '[degF]': '°F', 'mm[Hg]': 'mmHg', '/min': 'a minute', 'kg/m2': 'kg/m²', '{score}': 'out of 10',
    '{beats}/min': 'beats a minute', '{breaths}/min': 'breaths a minute', '%': '%',
  };
  // Laboratory tests by LOINC code.
  const LABS = {
    '4548-4': 'Long-term blood sugar (HbA1c)',
    '2160-0': 'Kidney test (creatinine)',
    '2823-3': 'Potassium',
    '2951-2': 'Sodium',
    '2093-3': 'Cholesterol',
    '2085-9': 'HDL cholesterol (“good” cholesterol)',
    '13457-7': 'LDL cholesterol',
    '18262-6': 'LDL cholesterol',
    '2571-8': 'Triglycerides (blood fats)',
    '2339-0': 'Blood sugar (glucose)',
    '2345-7': 'Blood sugar (glucose)',
    '718-7': 'Haemoglobin',
    '33914-3': 'Kidney function (eGFR)',
    '62238-1': 'Kidney function (eGFR)',
    '1742-6': 'Liver test (ALT)',
    '3016-3': 'Thyroid test (TSH)',
    '6690-2': 'White blood cells',
    '777-3': 'Platelets',
    '1988-5': 'Inflammation (CRP)',
    '2276-4': 'Ferritin (iron stores)',
  };

  const ACCESS_ACTIONS = {
    viewed: 'Looked at the record',
    changed: 'Added or changed something',
    exported: 'Made a copy of the record',
    downloaded: 'Downloaded a copy of the record',
    'emergency access': 'Opened the record in an emergency',
    'looked up': 'Looked up the record',
    imported: 'Brought in records from another system',
    'resolved a conflict': 'Chose between two different versions of an entry',
    'copied to a tablet': 'Copied the record to a clinic tablet',
    'moved to another clinic': 'Moved the record to another clinic',
    'viewed its conflicts': 'Checked entries that need a decision',
    'viewed its audit trail': 'Checked this list',
    'invited someone to this record': 'Invited someone to see the record online',
    'accepted an invitation': 'Accepted an invitation to see the record online',
    'withheld a note': 'Decided not to share a note online',
    'shared a note': 'Shared a note online',
  };
  const ROLES = {
    nurse: 'Nurse',
    clinic_admin: 'Clinic manager',
    sysadmin: 'System administrator',
    patient: 'Through this website',
    server: 'The Charta system',
  };

  function unitText(code, unit) {
    const known = VITALS[code];
    if (known) return known.unit;
    return UCUM_PLAIN[str(unit)] || str(unit);
  }

  // ---------------------------------------------------------------------
  // API

  const SIGNED_OUT_FOR_SAFETY = 'For your safety you were signed out. Please sign in again.';

  // Paths whose 401 answer is part of signing in, not an ended session.
  const isSignInPath = (path) => path === '/v1/me/session' || path === '/v1/me/accept';

  async function request(method, path, body) {
    try {
      return await send(method, path, body, state.csrf,
        'We could not reach the server. Check your internet connection and try again.');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && !isSignInPath(path) && state.account) {
        sessionEnded(SIGNED_OUT_FOR_SAFETY);
        throw new SessionEnded(e.message);
      }
      throw e;
    }
  }

  async function api(method, path, body) {
    const res = await request(method, path, body);
    const text = await res.text();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ApiError(res.status, 'bad_answer', 'The server sent an answer this page cannot read.');
    }
  }

  const patientPath = (id, what) => `/v1/me/patients/${encodeURIComponent(id)}/${what}`;

  // ---------------------------------------------------------------------
  // Session

  function normalisePatients(list) {
    return arr(list).map((p) => {
      if (typeof p === 'string') return { id: p, name: '', relation: '' };
      const o = obj(p);
      return { id: str(o.id), name: str(o.name), relation: str(o.relation) };
    }).filter((p) => p.id);
  }

  function setSession(data) {
    const d = obj(data);
    const account = obj(d.account);
    state.account = { id: str(account.id), name: str(account.name) || str(account.id) };
    state.patients = normalisePatients(d.patients);
    state.csrf = str(d.csrf);
    state.expiresAt = num(d.expires_at) || 0;
    clearTimeout(state.expiryTimer);
    if (state.expiresAt) {
      const wait = Math.min(Math.max(state.expiresAt - Date.now(), 1000), 2147483000);
      state.expiryTimer = setTimeout(() => sessionEnded(SIGNED_OUT_FOR_SAFETY), wait);
    }
    $('account-name').textContent = state.account.name;
    $('account').hidden = false;
  }

  function clearSession() {
    state.account = null;
    state.patients = [];
    state.csrf = '';
    state.expiresAt = 0;
    clearTimeout(state.expiryTimer);
    $('account').hidden = true;
    $('account-name').textContent = '';
    setRecordNav(null, '');
  }

  // Several calls in flight may each find the session gone: the first one
  // shows the sign-in form with the message, the others change nothing.
  function sessionEnded(message) {
    if (!state.account) return;
    clearSession();
    const parsed = parseHash();
    if (parsed && parsed.parts[0] === 'record') state.returnTo = location.hash;
    showWelcome({ problem: message, focus: true });
  }

  async function signOut() {
    const button = $('signout');
    button.disabled = true;
    try {
      await api('POST', '/v1/me/logout', {});
    } catch (e) {
      // The session is dropped on this page either way.
    } finally {
      button.disabled = false;
    }
    clearSession();
    state.returnTo = '';
    history.replaceState(null, '', '#/welcome');
    showWelcome({ info: 'You have signed out. You can close this page.', focus: true });
  }

  const patientById = (id) => state.patients.find((p) => p.id === id) || null;

  function defaultHash() {
    return state.patients.length ? recordHash(state.patients[0].id) : '#/welcome';
  }

  function recordHash(id, sub) {
    return `#/record/${encodeURIComponent(id)}${sub ? `/${sub}` : ''}`;
  }

  // ---------------------------------------------------------------------
  // Routing

  function navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  function setFlash(flash) {
    const area = $('flash');
    clear(area);
    if (flash) area.append(notice(flash.kind, flash.text));
  }

  // The record navigation: whose record (when there are several) and the
  // three pages of one record.
  function setRecordNav(patientId, tab) {
    const nav = $('recordnav');
    const chooser = $('chooser');
    clear(chooser);
    if (!patientId || !state.account) {
      nav.hidden = true;
      return;
    }
    nav.hidden = false;
    if (state.patients.length > 1) {
      const list = h('ul', { className: 'chooser-list', id: 'patient-chooser', 'aria-label': 'Whose record' });
      for (const p of state.patients) {
        const current = p.id === patientId;
        list.append(h('li', null, h('a', {
          href: recordHash(p.id, tab === 'record' ? '' : tab),
          className: 'chooser-link',
          'data-patient': p.id,
          'aria-current': current ? 'true' : null,
        }, h('span', { className: 'chooser-name', text: p.name || 'Record' }),
        h('span', { className: 'chooser-relation', text: relationText(p.relation) }))));
      }
      chooser.append(h('p', { className: 'chooser-label', id: 'chooser-label', text: 'Whose record' }), list);
      list.setAttribute('aria-labelledby', 'chooser-label');
    }
    const targets = { record: '', access: 'access', print: 'print' };
    for (const a of document.querySelectorAll('#tabs a[data-tab]')) {
      a.href = recordHash(patientId, targets[a.dataset.tab]);
      if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  function route(options = {}) {
    const parsed = parseHash();
    if (!parsed) return; // an in-page anchor, not a route
    const [name, patient, sub] = parsed.parts;
    setFlash(state.pendingFlash);
    state.pendingFlash = null;

    if (name === 'accept') {
      setRecordNav(null, '');
      return render(viewAccept, { params: parsed.params, title: 'Accept your invitation', options });
    }
    if (name === 'record' && patient) {
      if (!state.account) {
        state.returnTo = location.hash;
        return showWelcome({});
      }
      const tab = sub === 'access' ? 'access' : sub === 'print' ? 'print' : 'record';
      setRecordNav(patient, tab);
      const view = tab === 'access' ? viewAccess : tab === 'print' ? viewPrint : viewRecord;
      const title = tab === 'access' ? 'Who looked at the record' : tab === 'print' ? 'Print the record' : 'Health record';
      return render(view, { patient, title, options });
    }
    if (state.account && state.patients.length) {
      history.replaceState(null, '', defaultHash());
      return route(options);
    }
    if (state.account) {
      setRecordNav(null, '');
      return render(viewNoRecords, { title: 'Your account', options });
    }
    if (name !== 'welcome') history.replaceState(null, '', '#/welcome');
    return showWelcome({});
  }

  // Renders a view into <main>; async views check ctx.alive() after awaiting.
  function render(view, { patient, params, title, options = {} }) {
    const token = ++state.renderToken;
    const main = $('main');
    clear(main);
    document.body.classList.toggle('print-view', view === viewPrint);
    document.title = `${title} — My health record`;
    const first = state.firstRender;
    state.firstRender = false;
    const ctx = { token, patient, params: params || new URLSearchParams(), alive: () => token === state.renderToken };
    Promise.resolve()
      .then(() => view(main, ctx))
      .catch((e) => {
        if (e instanceof SessionEnded || !ctx.alive()) return;
        clear(main);
        main.append(h('h1', { tabIndex: -1, text: title }),
          notice('error', `This page could not be loaded. ${e.message}`,
            h('div', { className: 'button-row' },
              h('button', { type: 'button', className: 'button', text: 'Try again', on: { click: () => route() } }))));
      })
      .finally(() => {
        if (!ctx.alive()) return;
        // On a first visit nothing takes the focus (the skip link is the
        // first Tab stop); afterwards the heading does, for screen readers.
        if (!first || options.focus) {
          const h1 = main.querySelector('h1');
          if (h1) h1.focus({ preventScroll: false });
        }
      });
  }

  function pageHead(title, intro, extra, id) {
    return h('div', { className: 'page-head' },
      h('div', { className: 'page-head-text' }, h('h1', { tabIndex: -1, id: id || null, text: title }),
        intro ? h('p', { className: 'intro', text: intro }) : null),
      extra || null);
  }

  function loading(text) {
    return h('p', { className: 'loading', role: 'status', text: text || 'Loading…' });
  }

  // ---------------------------------------------------------------------
  // Welcome and signing in

  function showWelcome({ problem = '', info = '', focus = false }) {
    const token = ++state.renderToken;
    state.firstRender = false;
    document.body.classList.remove('print-view');
    setRecordNav(null, '');
    document.title = 'Welcome — My health record';
    const main = $('main');
    clear(main);

    const alert = h('div', { id: 'signin-alert', role: 'alert' });
    if (problem) alert.append(notice('warn', problem));
    const status = h('div', { id: 'signin-status', role: 'status' });
    if (info) status.append(notice('ok', info));

    const username = h('input', {
      type: 'text', id: 'signin-username', name: 'username', autocomplete: 'username',
      autocapitalize: 'none', spellcheck: 'false', required: true, value: state.lastUsername || '',
    });
    const passphrase = h('input', {
      type: 'password', id: 'signin-passphrase', name: 'passphrase', autocomplete: 'current-password', required: true,
    });
    const code = h('input', {
      type: 'text', id: 'signin-code', name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric',
      pattern: '[0-9]{6}', maxlength: '6', spellcheck: 'false',
    });
    const codeBox = h('div', { id: 'signin-code-box', hidden: true },
      field('6-digit code', code, 'Open your authenticator app and type the code it shows for this account. It changes every 30 seconds.'));
    const submit = h('button', { type: 'submit', className: 'button button-wide', id: 'signin-submit', text: 'Sign in' });
    const form = h('form', { id: 'signin-form', noValidate: true, 'aria-labelledby': 'signin-title' },
      field('User name', username), field('Passphrase', passphrase), codeBox, submit);

    const showCode = () => {
      codeBox.hidden = false;
      code.required = true;
    };

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clear(alert);
      clear(status);
      for (const input of [username, passphrase, code]) input.removeAttribute('aria-invalid');
      const name = username.value.trim();
      const codeValue = code.value.replace(/\s+/g, '');
      if (!name || !passphrase.value) {
        alert.append(notice('error', 'Please enter your user name and your passphrase.'));
        const missing = name ? passphrase : username;
        missing.setAttribute('aria-invalid', 'true');
        missing.focus();
        return;
      }
      if (!codeBox.hidden && codeValue && !/^\d{6}$/.test(codeValue)) {
        alert.append(notice('error', 'The code has 6 digits. Please type it again.'));
        code.setAttribute('aria-invalid', 'true');
        code.focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      const body = { username: name, passphrase: passphrase.value };
      if (!codeBox.hidden && codeValue) body.code = codeValue;
      try {
        const data = await api('POST', '/v1/me/session', body);
        if (token !== state.renderToken) return;
        setSession(data);
        state.lastUsername = '';
        const target = state.returnTo;
        state.returnTo = '';
        const targetParsed = target ? (() => {
          const m = /^#\/record\/([^/?]+)/.exec(target);
          return m ? decodeURIComponent(m[1]) : '';
        })() : '';
        const next = targetParsed && patientById(targetParsed) ? target : defaultHash();
        if (location.hash === next) route({ focus: true });
        else {
          history.replaceState(null, '', next);
          route({ focus: true });
        }
      } catch (e) {
        if (token !== state.renderToken) return;
        submit.disabled = false;
        submit.textContent = 'Sign in';
        if (e.code === 'second_factor_required' || e.code === 'bad_second_factor') {
          const wasShown = !codeBox.hidden;
          showCode();
          if (e.code === 'bad_second_factor' || (wasShown && codeValue)) {
            alert.append(notice('error', 'That code did not work. Codes change every 30 seconds: please type the newest one.'));
            code.value = '';
            code.setAttribute('aria-invalid', 'true');
          } else {
            alert.append(notice('info', 'Your account is protected with a code. Please type the 6-digit code from your authenticator app.'));
          }
          code.focus();
          return;
        }
        let text;
        if (e.status === 401) text = 'The user name or passphrase is not right. Please check them and try again.';
        else if (e.status === 429) {
          const wait = Number(e.retryAfter);
          text = 'There were too many attempts to sign in. ' + (Number.isFinite(wait) && wait > 0
            ? `Please wait ${wait < 90 ? plural(Math.ceil(wait), 'second', 'seconds') : plural(Math.ceil(wait / 60), 'minute', 'minutes')} and try again.`
            : 'Please wait a few minutes and try again.');
        } else text = `You could not be signed in. ${e.message}`;
        alert.append(notice('error', text));
        passphrase.value = '';
        passphrase.setAttribute('aria-invalid', 'true');
        passphrase.focus();
      }
    });

    main.append(h('div', { className: 'welcome' },
      h('section', { className: 'panel', 'aria-labelledby': 'signin-title' },
        h('h1', { id: 'signin-title', tabIndex: -1, text: 'Sign in to see your health record' }),
        h('p', { className: 'intro', text: 'See your allergies, medicines, vaccinations, visits, measurements and notes from your care team. Parents can see their children’s records.' }),
        alert, status, form,
        h('p', { className: 'hint small-gap', text: 'Forgot your passphrase? Ask your clinic for a new invitation.' })),
      h('section', { className: 'panel panel-soft', 'aria-labelledby': 'invite-title' },
        h('h2', { id: 'invite-title', text: 'New here?' }),
        h('p', { text: 'Your clinic gives you an invitation code. With it you choose your user name and passphrase.' }),
        h('a', { href: '#/accept', className: 'button button-secondary button-wide', id: 'have-invitation', text: 'I have an invitation' }))));
    if (focus) $('signin-title').focus();
  }

  // ---------------------------------------------------------------------
  // Accepting an invitation

  function viewAccept(main, ctx) {
    main.append(pageHead('Accept your invitation',
      'Choose how you will sign in. If you already have an account here (for example for another child), type that user name and passphrase: the new record is added to it.'));

    const alert = h('div', { id: 'accept-alert', role: 'alert' });
    const code = h('input', {
      type: 'text', id: 'accept-code', name: 'code', autocomplete: 'off', autocapitalize: 'characters',
      spellcheck: 'false', required: true, value: ctx.params.get('code') || '',
    });
    const username = h('input', {
      type: 'text', id: 'accept-username', name: 'username', autocomplete: 'username', autocapitalize: 'none',
      spellcheck: 'false', required: true,
    });
    const pass1 = h('input', { type: 'password', id: 'accept-passphrase', name: 'passphrase', autocomplete: 'new-password', required: true, minlength: '10' });
    const pass2 = h('input', { type: 'password', id: 'accept-passphrase2', name: 'passphrase2', autocomplete: 'new-password', required: true });
    const second = h('input', { type: 'checkbox', id: 'accept-second-factor', name: 'second_factor' });
    const submit = h('button', { type: 'submit', className: 'button button-wide', id: 'accept-submit', text: 'Create my account' });
    const form = h('form', { id: 'accept-form', noValidate: true, 'aria-label': 'Accept your invitation' },
      field('Invitation code', code, 'It is on the letter or message from your clinic.'),
      field('Choose a user name', username, 'You will type it to sign in. Letters, numbers, dots and dashes work well.'),
      field('Choose a passphrase', pass1, 'At least 10 characters. A few words you will remember, like “blue kettle river”, work well.'),
      field('Type the passphrase again', pass2),
      h('div', { className: 'check' }, second,
        h('label', { htmlFor: 'accept-second-factor' }, 'Also protect my account with a code from an authenticator app',
          h('span', { className: 'hint block', text: 'Safer: to sign in you will also need a code from an app on your phone.' }))),
      submit);
    const result = h('div', { id: 'accept-result-area', role: 'status' });
    const formPanel = h('section', { className: 'panel', 'aria-label': 'Invitation' }, alert, form);
    main.append(formPanel, result,
      h('p', { className: 'back' }, h('a', { href: '#/welcome', text: 'Back to sign in' })));

    const invalid = (input, text) => {
      alert.append(notice('error', text));
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clear(alert);
      for (const input of [code, username, pass1, pass2]) input.removeAttribute('aria-invalid');
      const codeValue = code.value.trim();
      const name = username.value.trim();
      if (!codeValue) return invalid(code, 'Please type the invitation code from your clinic.');
      if (!name) return invalid(username, 'Please choose a user name.');
      if (pass1.value.length < 10) return invalid(pass1, 'Your passphrase needs at least 10 characters.');
      if (pass1.value !== pass2.value) return invalid(pass2, 'The two passphrases are not the same. Please type them again.');
      submit.disabled = true;
      submit.textContent = 'Creating your account…';
      try {
        const data = await api('POST', '/v1/me/accept',
          { code: codeValue, username: name, passphrase: pass1.value, second_factor: second.checked });
        if (!ctx.alive()) return;
        state.lastUsername = name;
        formPanel.hidden = true;
        showAccepted(result, obj(data), name);
        // Signed in already (a parent adding a child): reload the list of records.
        if (state.account) {
          try {
            setSession(await api('GET', '/v1/me/session'));
          } catch (e) {
            // the sign-in form appears if the session ended
          }
        }
      } catch (e) {
        if (e instanceof SessionEnded || !ctx.alive()) return;
        submit.disabled = false;
        submit.textContent = 'Create my account';
        if (e.code === 'bad_code' || e.status === 403) {
          invalid(code, e.message || 'This invitation is not valid: it may have expired or been used already. Ask your clinic for a new one.');
        } else if (e.code === 'exists' || e.status === 409) {
          invalid(username, `This user name is already taken. ${e.message} If it is yours, type your current passphrase; otherwise choose another user name.`);
        } else if (e.status === 400) {
          alert.append(notice('error', `Please check what you typed: ${e.message}`));
          pass1.focus();
        } else if (e.status === 429) {
          alert.append(notice('error', 'There were too many attempts. Please wait a few minutes and try again.'));
        } else {
          alert.append(notice('error', `Your account could not be created. ${e.message}`));
        }
        pass1.value = '';
        pass2.value = '';
      }
    });
  }

  function copyButton(id, label, getText, statusEl) {
    return h('button', {
      type: 'button', className: 'button button-secondary button-small', id, text: label,
      on: {
        click: async () => {
          statusEl.textContent = '';
          try {
            await navigator.clipboard.writeText(getText());
            statusEl.textContent = 'Copied.';
          } catch (e) {
            statusEl.textContent = 'Copying did not work here: select the text and copy it.';
          }
        },
      },
    });
  }

  function showAccepted(area, data, username) {
    const patients = normalisePatients(data.patients);
    const box = h('section', { className: 'panel panel-ok', id: 'accept-result', 'aria-labelledby': 'accept-done-title' },
      h('h2', { id: 'accept-done-title', tabIndex: -1, text: 'Your account is ready' }));
    if (patients.length) {
      box.append(h('p', { text: 'You can see the record of:' }),
        h('ul', { className: 'plain-list linked-list' }, patients.map((p) =>
          h('li', null, h('strong', { text: p.name || 'a patient' }), p.relation ? ` — ${relationText(p.relation)}` : ''))));
    }
    const secret = str(data.totp_secret);
    const uri = str(data.totp_uri);
    if (secret || uri) {
      const copied = h('p', { className: 'hint', role: 'status', id: 'copy-status' });
      const steps = h('ol', { className: 'steps' },
        h('li', null, 'Open the authenticator app on your phone and choose to add an account.'),
        h('li', null, 'Type in this key (or copy it):'));
      box.append(h('h3', { text: 'Set up your authenticator app now' }), steps);
      if (secret) {
        box.append(h('div', { className: 'secret-box' },
          h('code', { className: 'secret', id: 'totp-secret', text: secret }),
          copyButton('copy-secret', 'Copy the key', () => secret, copied)));
      }
      if (uri) {
        box.append(h('p', { className: 'hint', text: 'Or use this setup link, which holds the same key:' }),
          h('div', { className: 'secret-box' },
            h('code', { className: 'secret secret-uri', id: 'totp-uri', text: uri }),
            copyButton('copy-uri', 'Copy the link', () => uri, copied)));
        // Only an otpauth: link may become a link (the text is untrusted).
        if (/^otpauth:\/\//i.test(uri)) {
          box.append(h('p', null, h('a', { href: uri, id: 'totp-open', className: 'text-link', text: 'Open the link in my authenticator app (on this phone)' })));
        }
      }
      box.append(copied, notice('warn', 'Keep this key private and do it now: it is shown only once. Without the app you cannot sign in; your clinic can then send you a new invitation.'));
    }
    box.append(h('p', { text: 'Now sign in with your user name and passphrase.' }),
      h('a', { href: '#/welcome', className: 'button button-wide', id: 'accept-signin', text: state.account ? 'Go to the records' : 'Sign in now' }));
    clear(area);
    area.append(box);
    state.lastUsername = username;
    $('accept-done-title').focus();
  }

  function viewNoRecords(main) {
    main.append(pageHead('Your account', 'No health record is linked to your account yet. Ask your clinic for an invitation.'),
      h('a', { href: '#/accept', className: 'button', text: 'I have an invitation' }));
  }

  // ---------------------------------------------------------------------
  // The record

  function collect(bundle) {
    const out = {
      Patient: [], AllergyIntolerance: [], Condition: [], MedicationStatement: [], MedicationRequest: [],
      Immunization: [], Encounter: [], Observation: [], DocumentReference: [],
    };
    for (const entry of arr(obj(bundle).entry)) {
      const r = obj(obj(entry).resource);
      if (out[r.resourceType]) out[r.resourceType].push({ r, fullUrl: str(obj(entry).fullUrl) });
    }
    return out;
  }

  function patientDisplayName(patientResource, fallback) {
    const names = arr(obj(patientResource).name).map(obj);
    const n = names.find((x) => x.use === 'official') || names[0];
    if (n) {
      if (str(n.text)) return n.text;
      const given = arr(n.given).filter((g) => typeof g === 'string').join(' ');
      const text = [given, str(n.family)].filter(Boolean).join(' ');
      if (text) return text;
    }
    return fallback || 'Health record';
  }

  function notFound(main) {
    main.append(pageHead('Record not found'),
      notice('warn', 'This record cannot be found, or your account cannot see it. If you think it should be here, please ask your clinic.'),
      state.patients.length ? h('p', null, h('a', { href: defaultHash(), className: 'button', text: 'Go to your records' })) : null);
  }

  // Loads the record for a view, showing `loadingText` meanwhile. Resolves to
  // {data, res} (res: the Bundle's resources by type), or null when the view
  // is gone or the record is not found (the page then says so).
  async function loadRecord(main, ctx, loadingText) {
    main.append(h('div', null, loading(loadingText)));
    let data;
    try {
      data = obj(await api('GET', patientPath(ctx.patient, 'record')));
    } catch (e) {
      if (e.status === 404 && ctx.alive()) {
        clear(main);
        notFound(main);
        return null;
      }
      throw e;
    }
    if (!ctx.alive()) return null;
    clear(main);
    return { data, res: collect(data.bundle) };
  }

  async function viewRecord(main, ctx) {
    const loaded = await loadRecord(main, ctx, 'Loading the record…');
    if (!loaded) return;
    const { data, res } = loaded;
    const info = { ...obj(data.patient), ...(patientById(ctx.patient) || {}) };
    const name = str(obj(data.patient).name) || info.name || patientDisplayName(res.Patient[0] && res.Patient[0].r, '');
    const relation = str(obj(data.patient).relation) || info.relation;
    const isSelf = relation === 'self';
    document.title = `${isSelf ? 'Your health record' : `${name} — health record`} — My health record`;

    const downloadStatus = h('div', { id: 'download-status', role: 'status' });
    const download = h('button', {
      type: 'button', className: 'button button-secondary', id: 'download-fhir',
      text: isSelf ? 'Download my record (FHIR)' : 'Download this record (FHIR)',
    });
    download.addEventListener('click', () => downloadFhir(ctx.patient, download, downloadStatus));

    main.append(pageHead(isSelf ? 'Your health record' : `Health record of ${name}`,
      recordIntro(res, name, relation), null, 'record-title'));
    main.append(h('div', { className: 'record-actions' },
      download,
      h('a', { href: recordHash(ctx.patient, 'print'), className: 'button button-secondary', id: 'go-print', text: 'Print' }),
      h('p', { className: 'hint', text: 'The download is a file in the FHIR format, which other health services and apps can read.' }),
      downloadStatus));

    const sections = buildSections(res, data, { print: false });
    main.append(jumpList(sections));
    for (const sec of sections) main.append(sec.el);
  }

  function recordIntro(res, name, relation) {
    const p = res.Patient[0] ? res.Patient[0].r : {};
    const bits = [];
    if (relation && relation !== 'self') bits.push(`${name} (${relationText(relation).toLowerCase()})`);
    else if (name) bits.push(name);
    if (str(p.birthDate)) bits.push(`born ${fmtDate(p.birthDate)}`);
    return bits.join(', ');
  }

  // "On this page": buttons that move to a section (hash links would change the route).
  function jumpList(sections) {
    const list = h('ul', { className: 'jump-list' });
    for (const sec of sections) {
      list.append(h('li', null, h('button', {
        type: 'button', className: 'jump', text: sec.title,
        on: {
          click: () => {
            const heading = sec.el.querySelector('h2');
            sec.el.scrollIntoView({ block: 'start' });
            if (heading) heading.focus({ preventScroll: true });
          },
        },
      })));
    }
    return h('nav', { className: 'jump-nav', 'aria-label': 'On this page' }, list);
  }

  function section(id, title, intro) {
    const el = h('section', { className: 'panel record-section', id: `section-${id}`, 'aria-labelledby': `${id}-title` },
      h('h2', { id: `${id}-title`, tabIndex: -1, text: title }));
    if (intro) el.append(h('p', { className: 'section-intro', text: intro }));
    return { id, title, el };
  }

  function empty(id, text) {
    return h('p', { className: 'empty', id: `${id}-empty`, text });
  }

  function buildSections(res, data, opts) {
    return [
      allergiesSection(res),
      problemsSection(res),
      medicinesSection(res),
      vaccinationsSection(res, data),
      visitsSection(res),
      measurementsSection(res, opts),
      resultsSection(res),
      notesSection(res, data),
    ];
  }

  // --- Allergies ---
  function allergiesSection(res) {
    const sec = section('allergies', 'Allergies');
    const items = res.AllergyIntolerance.map((x) => x.r).filter((r) => !enteredInError(r));
    if (!items.length) {
      sec.el.append(empty('allergies', 'No allergies are recorded.'));
      return sec;
    }
    const isActive = (r) => !codings(r.clinicalStatus).length || hasCode(r.clinicalStatus, 'active');
    items.sort((a, b) => Number(isActive(b)) - Number(isActive(a)) ||
      Number(b.criticality === 'high') - Number(a.criticality === 'high'));
    const list = h('ul', { className: 'cards', id: 'allergies-list' });
    for (const r of items) {
      const substance = ccText(r.code) || 'Something not named';
      const tags = h('p', { className: 'tags' });
      const crit = CRITICALITY[r.criticality];
      if (crit) tags.append(badge(crit[0], crit[1]));
      for (const c of arr(r.category)) if (ALLERGY_CATEGORY[c]) tags.append(badge('muted', ALLERGY_CATEGORY[c]));
      if (!isActive(r)) tags.append(badge('muted', hasCode(r.clinicalStatus, 'resolved') ? 'Gone' : 'No longer active'));
      const reactions = [];
      for (const reaction of arr(r.reaction).map(obj)) {
        const what = arr(reaction.manifestation).map(ccText).filter(Boolean).join(', ');
        const sev = { mild: 'mild', moderate: 'moderate', severe: 'severe' }[reaction.severity];
        if (what) reactions.push(sev ? `${what} (${sev})` : what);
      }
      const notes = arr(r.note).map((n) => str(obj(n).text)).filter((t) => t && !t.startsWith('Open conflict'));
      list.append(h('li', { className: `card${r.criticality === 'high' && isActive(r) ? ' card-danger' : ''}`, 'data-allergy': substance },
        h('h3', { className: 'card-title', text: substance }),
        tags.childNodes.length ? tags : null,
        reactions.length ? h('p', null, h('span', { className: 'label', text: 'Reaction: ' }), reactions.join('; ')) : null,
        notes.length ? h('p', { className: 'muted', text: notes.join(' ') }) : null,
        str(r.recordedDate) ? h('p', { className: 'meta' }, 'Recorded ', timeEl(r.recordedDate)) : null));
    }
    sec.el.append(list);
    return sec;
  }

  // --- Health problems (active only) ---
  function problemsSection(res) {
    const sec = section('problems', 'Health problems', 'Health problems your care team is looking after now.');
    const items = res.Condition.map((x) => x.r).filter((r) => !enteredInError(r) &&
      ['active', 'recurrence', 'relapse'].some((c) => hasCode(r.clinicalStatus, c)));
    if (!items.length) {
      sec.el.append(empty('problems', 'No current health problems are recorded.'));
      return sec;
    }
    items.sort((a, b) => whenMs(b.onsetDateTime) - whenMs(a.onsetDateTime));
    const list = h('ul', { className: 'cards', id: 'problems-list' });
    for (const r of items) {
      const name = ccText(r.code) || 'A health problem';
      list.append(h('li', { className: 'card', 'data-problem': name },
        h('h3', { className: 'card-title', text: name }),
        str(r.onsetDateTime) ? h('p', { className: 'meta' }, 'Since ', timeEl(r.onsetDateTime)) : null));
    }
    sec.el.append(list);
    return sec;
  }

  // --- Medicines ---
  function medicinesSection(res) {
    const sec = section('medicines', 'Medicines');
    const items = [...res.MedicationStatement, ...res.MedicationRequest].map((x) => x.r).filter((r) => !enteredInError(r));
    if (!items.length) {
      sec.el.append(empty('medicines', 'No medicines are recorded.'));
      return sec;
    }
    const rank = { active: 0, 'on-hold': 1, intended: 2 };
    const startOf = (r) => whenMs(obj(r.effectivePeriod).start || r.effectiveDateTime || r.authoredOn);
    items.sort((a, b) => (rank[a.status] ?? 3) - (rank[b.status] ?? 3) || startOf(b) - startOf(a));
    const list = h('ul', { className: 'cards', id: 'medicines-list' });
    for (const r of items) {
      const name = ccText(r.medicationCodeableConcept) || str(obj(r.medicationReference).display) || 'A medicine';
      const status = MED_STATUS[r.status] || ['muted', str(r.status) || 'Status not recorded'];
      const dosage = obj(arr(r.dosage || r.dosageInstruction)[0]);
      const routeText = ccText(dosage.route);
      const how = [str(dosage.text), routeText ? (ROUTES_PLAIN[routeText.toLowerCase()] || routeText) : ''].filter(Boolean).join(', ');
      const period = obj(r.effectivePeriod);
      const dates = [];
      if (str(period.start)) dates.push('Started ', timeEl(period.start));
      if (str(period.end)) dates.push(dates.length ? ', ended ' : 'Ended ', timeEl(period.end));
      const notes = arr(r.note).map((n) => str(obj(n).text)).filter((t) => t && !t.startsWith('Open conflict'));
      list.append(h('li', { className: `card${r.status === 'active' ? '' : ' card-past'}`, 'data-medicine': name },
        h('h3', { className: 'card-title', text: name }),
        h('p', { className: 'tags' }, badge(status[0], status[1])),
        how ? h('p', null, h('span', { className: 'label', text: 'How to take it: ' }), how) : null,
        dates.length ? h('p', { className: 'meta' }, dates) : null,
        notes.length ? h('p', { className: 'muted', text: notes.join(' ') }) : null));
    }
    sec.el.append(list);
    return sec;
  }

  // --- Vaccinations and what is due ---
  function vaccinationsSection(res, data) {
    const sec = section('vaccinations', 'Vaccinations');
    const due = arr(data.immunisations_due).map(obj).filter((d) => str(d.vaccine) || str(d.due));
    const dueBox = h('div', { className: 'due-box', id: 'due' }, h('h3', { text: 'What is due' }));
    if (!due.length) {
      dueBox.append(h('p', { className: 'empty', id: 'due-empty', text: 'Nothing is due at the moment.' }));
    } else {
      due.sort((a, b) => Number(Boolean(b.overdue)) - Number(Boolean(a.overdue)) ||
        Number(Boolean(a.upcoming)) - Number(Boolean(b.upcoming)) || whenMs(a.due) - whenMs(b.due));
      const list = h('ul', { className: 'due-list', id: 'due-list' });
      for (const d of due) {
        const dose = num(d.dose);
        let when;
        if (d.overdue) when = [badge('danger', 'Overdue'), ' it was due on ', timeEl(d.due)];
        else if (d.upcoming) when = [badge('calm', 'Coming up'), ' due from ', timeEl(d.due)];
        else when = [badge('warn', 'Due now'), ' due since ', timeEl(d.due)];
        list.append(h('li', { className: d.overdue ? 'due-item is-overdue' : 'due-item', 'data-due': str(d.vaccine) },
          h('span', { className: 'due-name' }, vaccineName(d.vaccine, d.vaccine), dose ? `, dose ${dose}` : ''),
          h('span', { className: 'due-when' }, when)));
      }
      dueBox.append(list, h('p', { className: 'hint', text: 'Please ask your clinic or school nurse for an appointment.' }));
    }
    sec.el.append(dueBox);

    const items = res.Immunization.map((x) => x.r).filter((r) => !enteredInError(r));
    sec.el.append(h('h3', { text: 'Vaccinations given' }));
    if (!items.length) {
      sec.el.append(empty('vaccinations', 'No vaccinations are recorded.'));
      return sec;
    }
    items.sort((a, b) => whenMs(b.occurrenceDateTime) - whenMs(a.occurrenceDateTime));
    const rows = items.map((r) => {
      const name = vaccineName(ccText(r.vaccineCode), firstCode(r.vaccineCode));
      const dose = num(obj(arr(r.protocolApplied)[0]).doseNumberPositiveInt);
      const notDone = r.status === 'not-done';
      return {
        attrs: { 'data-vaccine': name },
        cells: [
          str(r.occurrenceDateTime) ? timeEl(r.occurrenceDateTime) : h('span', { className: 'muted', text: str(r.occurrenceString) || 'date not recorded' }),
          [name, notDone ? [' ', badge('muted', 'Not given')] : null],
          dose ? String(dose) : '—',
        ],
      };
    });
    sec.el.append(tableWrap('Vaccinations given', stackTable('vaccinations-table', 'Vaccinations given, newest first',
      ['Date', 'Vaccine', 'Dose'], rows)));
    return sec;
  }

  // --- Visits ---
  function visitsSection(res) {
    const sec = section('visits', 'Visits');
    const items = res.Encounter.map((x) => x.r).filter((r) => !enteredInError(r) && r.status !== 'cancelled');
    if (!items.length) {
      sec.el.append(empty('visits', 'No visits are recorded.'));
      return sec;
    }
    items.sort((a, b) => whenMs(obj(b.period).start) - whenMs(obj(a.period).start));
    const list = h('ul', { className: 'timeline', id: 'visits-list' });
    for (const r of items) {
      const cls = obj(r.class);
      const kind = VISIT_KIND[str(cls.code)] || (str(cls.display) && cls.display !== 'not recorded' ? cls.display : 'Visit');
      const reason = arr(r.reasonCode).map(ccText).filter(Boolean).join(', ') ||
        arr(r.type).map(ccText).filter(Boolean).join(', ');
      const where = arr(r.location).map((l) => str(obj(obj(l).location).display)).filter(Boolean).join(', ');
      const who = arr(r.participant).map((p) => str(obj(obj(p).individual).display)).filter(Boolean).join(', ');
      const planned = r.status === 'planned' || r.status === 'arrived' || r.status === 'triaged';
      list.append(h('li', { className: 'visit' },
        h('p', { className: 'visit-date' }, timeEl(obj(r.period).start, false), planned ? [' ', badge('calm', 'Coming up')] : null),
        h('h3', { className: 'card-title', text: reason || kind }),
        h('p', { className: 'meta' }, [kind, where, who ? `with ${who}` : ''].filter(Boolean).join(' · '))));
    }
    sec.el.append(list);
    return sec;
  }

  // --- Measurements ---
  function vitalSeries(res) {
    const kinds = new Map(); // key -> {code, name, unit, two, points: [{t, when, values: [a, b?]}]}
    const add = (key, code, name, unit, two, point) => {
      if (!kinds.has(key)) kinds.set(key, { key, code, name, unit, two, points: [] });
      kinds.get(key).points.push(point);
    };
    for (const { r } of res.Observation) {
      if (enteredInError(r) || r.status === 'cancelled') continue;
      const cats = arr(r.category).flatMap((c) => codings(c).map((x) => x.code));
      if (!cats.includes('vital-signs')) continue;
      const when = str(r.effectiveDateTime) || str(obj(r.effectivePeriod).start) || str(r.issued);
      const t = whenMs(when);
      if (!t) continue;
      const code = firstCode(r.code);
      const spec = VITALS[code];
      const key = spec && spec.same ? spec.same : code || ccText(r.code);
      if (key === '85354-9') {
        let sys = null;
        let dia = null;
        for (const c of arr(r.component).map(obj)) {
          const v = num(obj(c.valueQuantity).value);
          if (hasCode(c.code, '8480-6')) sys = v;
          if (hasCode(c.code, '8462-4')) dia = v;
        }
        if (sys === null && dia === null) continue;
        add(key, key, 'Blood pressure', 'mmHg', true, { t, when, values: [sys, dia] });
        continue;
      }
      const v = num(obj(r.valueQuantity).value);
      if (v === null) continue;
      const name = spec ? spec.name : (ccText(r.code) || 'Measurement');
      add(key, code, name, unitText(code, obj(r.valueQuantity).unit), false, { t, when, values: [v] });
    }
    const list = [...kinds.values()];
    for (const k of list) k.points.sort((a, b) => a.t - b.t);
    list.sort((a, b) => ((VITALS[a.key] || {}).order || 99) - ((VITALS[b.key] || {}).order || 99) || a.name.localeCompare(b.name));
    return list;
  }

  function valueText(kind, values) {
    if (kind.two) {
      const [a, b] = values;
      return `${a === null ? '?' : fmtNum(a)}/${b === null ? '?' : fmtNum(b)} ${kind.unit}`;
    }
    return `${fmtNum(values[0])}${kind.unit ? ` ${kind.unit}` : ''}`;
  }

  function niceRange(lo, hi) {
    if (!(hi > lo)) {
      const pad = Math.abs(lo) * 0.05 || 1;
      return [lo - pad, hi + pad];
    }
    const span = hi - lo;
    const step = Math.pow(10, Math.floor(Math.log10(span))) / 2;
    return [Math.floor((lo - span * 0.08) / step) * step, Math.ceil((hi + span * 0.08) / step) * step];
  }

  // A small line plot of one kind of measurement over time (SVG built with
  // createElementNS), described for screen readers.
  function linePlot(kind) {
    const W = 360;
    const H = 170;
    const left = 44;
    const right = 12;
    const top = 12;
    const bottom = 28;
    const pw = W - left - right;
    const ph = H - top - bottom;
    const pts = kind.points;
    const all = pts.flatMap((p) => p.values.filter((v) => v !== null));
    const [y0, y1] = niceRange(Math.min(...all), Math.max(...all));
    const t0 = pts[0].t;
    const t1 = pts[pts.length - 1].t;
    const x = (t) => (t1 > t0 ? left + ((t - t0) / (t1 - t0)) * pw : left + pw / 2);
    const y = (v) => top + ph - ((v - y0) / (y1 - y0)) * ph;
    const titleId = uid('plot-title');
    const descId = uid('plot-desc');
    const latest = pts[pts.length - 1];
    const lows = kind.two ? null : Math.min(...all);
    const highs = kind.two ? null : Math.max(...all);
    const desc = `${plural(pts.length, 'measurement', 'measurements')} from ${dateFormat.format(new Date(t0))} to ${dateFormat.format(new Date(t1))}. ` +
      (kind.two ? '' : `Lowest ${fmtNum(lows)}, highest ${fmtNum(highs)}. `) +
      `Latest ${valueText(kind, latest.values)}. The same values are in the table.`;
    const svg = s('svg', {
      class: 'plot', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`,
      preserveAspectRatio: 'xMidYMid meet', focusable: 'false', 'data-kind': kind.key,
    },
    s('title', { id: titleId, text: `${kind.name} over time` }),
    s('desc', { id: descId, text: desc }));
    // Grid and axis labels: bottom, middle and top of the value range.
    for (const v of [y0, (y0 + y1) / 2, y1]) {
      svg.append(s('line', { class: v === y0 ? 'axis' : 'gridline', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
      svg.append(s('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', text: fmtNum(Math.round(v * 10) / 10) }));
    }
    svg.append(s('text', { x: left, y: H - 8, 'text-anchor': 'start', text: shortDateFormat.format(new Date(t0)) }));
    if (t1 > t0) svg.append(s('text', { x: W - right, y: H - 8, 'text-anchor': 'end', text: shortDateFormat.format(new Date(t1)) }));
    const seriesCount = kind.two ? 2 : 1;
    for (let i = 0; i < seriesCount; i++) {
      const cls = i === 0 ? 'series-a' : 'series-b';
      const own = pts.filter((p) => p.values[i] !== null);
      if (own.length > 1) {
        const d = own.map((p, k) => `${k ? 'L' : 'M'}${x(p.t).toFixed(1)} ${y(p.values[i]).toFixed(1)}`).join(' ');
        svg.append(s('path', { class: `line ${cls}`, d }));
      }
      const g = s('g', { class: cls });
      for (const p of own) {
        g.append(s('circle', { class: 'dot', cx: x(p.t).toFixed(1), cy: y(p.values[i]).toFixed(1), r: own.length > 40 ? 2 : 3.2 },
          s('title', { text: `${dateFormat.format(new Date(p.t))}: ${valueText(kind, p.values)}` })));
      }
      svg.append(g);
    }
    return svg;
  }

  function measurementTable(kind, id) {
    const headers = kind.two ? ['Date', 'Top number', 'Bottom number'] : ['Date', `${kind.name}${kind.unit ? ` (${kind.unit})` : ''}`];
    const rows = kind.points.slice().reverse().map((p) => ({
      cells: kind.two
        ? [timeEl(p.when, true), p.values[0] === null ? '—' : fmtNum(p.values[0]), p.values[1] === null ? '—' : fmtNum(p.values[1])]
        : [timeEl(p.when, true), fmtNum(p.values[0])],
      cellClass: kind.two ? [null, 'num', 'num'] : [null, 'num'],
    }));
    return tableWrap(`${kind.name}, all values`, stackTable(id, `${kind.name}, newest first`, headers, rows));
  }

  function measurementsSection(res, opts) {
    const sec = section('measurements', 'Measurements', 'Measurements taken at your visits, such as blood pressure, weight and height.');
    const kinds = vitalSeries(res);
    if (!kinds.length) {
      sec.el.append(empty('measurements', 'No measurements are recorded.'));
      return sec;
    }
    const grid = h('div', { className: 'plots', id: 'measurements-list' });
    kinds.forEach((kind, i) => {
      const latest = kind.points[kind.points.length - 1];
      const card = h('figure', { className: 'plot-card', 'data-measurement': kind.key },
        h('figcaption', null,
          h('h3', { className: 'card-title', text: kind.name }),
          h('p', { className: 'latest' }, h('span', { className: 'latest-value', text: valueText(kind, latest.values) }),
            h('span', { className: 'meta' }, ' latest, ', timeEl(latest.when)))),
        linePlot(kind));
      if (kind.two) {
        card.append(h('ul', { className: 'legend', 'aria-label': 'Legend' },
          h('li', null, h('span', { className: 'swatch swatch-a', 'aria-hidden': 'true' }), 'Top number (systolic)'),
          h('li', null, h('span', { className: 'swatch swatch-b', 'aria-hidden': 'true' }), 'Bottom number (diastolic)')));
      }
      const table = measurementTable(kind, `measure-table-${i}`);
      if (opts.print) card.append(table);
      else {
        card.append(h('details', null, h('summary', null, h('span', null, 'Show all values',
          h('span', { className: 'visually-hidden', text: ` of ${kind.name}` }), ' as a table')), table));
      }
      grid.append(card);
    });
    sec.el.append(grid);
    return sec;
  }

  // --- Test results ---
  function resultsSection(res) {
    const sec = section('results', 'Test results', 'Results of blood and other laboratory tests.');
    const items = res.Observation.map((x) => x.r).filter((r) => !enteredInError(r) && r.status !== 'cancelled' &&
      arr(r.category).some((c) => hasCode(c, 'laboratory')));
    if (!items.length) {
      sec.el.append(empty('results', 'No test results are recorded.'));
      return sec;
    }
    const when = (r) => str(r.effectiveDateTime) || str(obj(r.effectivePeriod).start) || str(r.issued);
    items.sort((a, b) => whenMs(when(b)) - whenMs(when(a)));
    const rows = items.map((r) => {
      const code = firstCode(r.code);
      const name = LABS[code] || ccText(r.code) || 'Test';
      const q = obj(r.valueQuantity);
      const unit = str(q.unit) || str(q.code);
      let value = '';
      const v = num(q.value);
      if (v !== null) value = `${fmtNum(v)}${unit ? ` ${unit}` : ''}`;
      else if (str(r.valueString)) value = r.valueString;
      else if (r.valueCodeableConcept) value = ccText(r.valueCodeableConcept);
      const range = obj(arr(r.referenceRange)[0]);
      const lo = num(obj(range.low).value);
      const hi = num(obj(range.high).value);
      let rangeText = str(range.text);
      if (!rangeText && (lo !== null || hi !== null)) {
        const u = str(obj(range.high).unit) || str(obj(range.low).unit) || unit;
        if (lo !== null && hi !== null) rangeText = `${fmtNum(lo)} to ${fmtNum(hi)}${u ? ` ${u}` : ''}`;
        else if (hi !== null) rangeText = `up to ${fmtNum(hi)}${u ? ` ${u}` : ''}`;
        else rangeText = `from ${fmtNum(lo)}${u ? ` ${u}` : ''}`;
      }
      let flag = null;
      if (v !== null && hi !== null && v > hi) flag = badge('warn', 'Higher than usual');
      else if (v !== null && lo !== null && v < lo) flag = badge('warn', 'Lower than usual');
      else if (v !== null && (lo !== null || hi !== null)) flag = badge('ok', 'In the usual range');
      return {
        attrs: { 'data-result': name },
        cells: [name, [value || '—', flag ? [' ', flag] : null], rangeText || '—', timeEl(when(r))],
      };
    });
    sec.el.append(tableWrap('Test results', stackTable('results-table', 'Test results, newest first',
      ['Test', 'Result', 'Usual range', 'Date'], rows)));
    return sec;
  }

  // --- Notes from the care team ---
  function decodeText(attachment) {
    const a = obj(attachment);
    const type = str(a.contentType).toLowerCase();
    if (type && !type.startsWith('text/')) return null;
    if (typeof a.data !== 'string') return null;
    try {
      const binary = atob(a.data.replace(/\s+/g, ''));
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      return new TextDecoder('utf-8').decode(bytes);
    } catch (e) {
      return null;
    }
  }

  function noteBody(r) {
    const parts = [];
    const contents = arr(r.content).map(obj);
    for (const c of contents) {
      const a = obj(c.attachment);
      const text = decodeText(a);
      if (text === null) {
        parts.push(h('p', { className: 'muted', text: 'A document that cannot be shown here.' }));
        continue;
      }
      if (contents.length > 1 && str(a.title)) parts.push(h('p', { className: 'label', text: a.title }));
      parts.push(h('p', { className: 'note-text', text }));
    }
    return parts;
  }

  function notesSection(res, data) {
    const sec = section('notes', 'Notes from your care team');
    const withheld = num(data.not_shared_notes) || 0;
    if (withheld > 0) {
      sec.el.append(h('p', { className: 'notice notice-info', id: 'notes-withheld',
        text: withheld === 1
          ? '1 note is not shown here. Your care team decided not to share it online. Please ask your clinic if you have questions.'
          : `${fmtNum(withheld)} notes are not shown here. Your care team decided not to share them online. Please ask your clinic if you have questions.` }));
    }
    const docs = res.DocumentReference.filter((x) => !enteredInError(x.r) && x.r.status !== 'superseded');
    const addenda = new Map(); // fullUrl of the note -> [addendum]
    const main = [];
    for (const d of docs) {
      const appends = arr(d.r.relatesTo).map(obj).find((rel) => rel.code === 'appends');
      const target = appends ? str(obj(appends.target).reference) : '';
      if (target && docs.some((x) => x.fullUrl === target)) {
        if (!addenda.has(target)) addenda.set(target, []);
        addenda.get(target).push(d);
      } else main.push(d);
    }
    if (!main.length) {
      sec.el.append(empty('notes', withheld ? 'No other notes are shared.' : 'No notes are shared yet.'));
      return sec;
    }
    main.sort((a, b) => whenMs(b.r.date) - whenMs(a.r.date));
    const list = h('ul', { className: 'notes', id: 'notes-list' });
    for (const d of main) {
      const author = arr(d.r.author).map((a) => str(obj(a).display)).filter(Boolean).join(', ');
      const item = h('li', { className: 'note', 'data-document': str(d.r.id) },
        h('p', { className: 'note-head' }, h('strong', null, timeEl(d.r.date)), author ? ` — written by ${author}` : ''),
        noteBody(d.r));
      const more = (addenda.get(d.fullUrl) || []).sort((a, b) => whenMs(a.r.date) - whenMs(b.r.date));
      for (const a of more) {
        const aAuthor = arr(a.r.author).map((x) => str(obj(x).display)).filter(Boolean).join(', ');
        item.append(h('div', { className: 'addendum', 'data-document': str(a.r.id) },
          h('p', { className: 'note-head' }, 'Added later, ', timeEl(a.r.date), aAuthor ? ` by ${aAuthor}` : ''),
          noteBody(a.r)));
      }
      list.append(item);
    }
    sec.el.append(list);
    return sec;
  }

  // --- Download (FHIR) ---
  async function downloadFhir(patient, button, status) {
    clear(status);
    button.disabled = true;
    try {
      const res = await request('GET', patientPath(patient, 'fhir'));
      const blob = await res.blob();
      const disposition = res.headers.get('Content-Disposition') || '';
      const m = /filename="?([^";]+)"?/i.exec(disposition);
      let name = m ? m[1].replace(/[^A-Za-z0-9._-]/g, '_') : '';
      if (!name || name.startsWith('.')) name = `charta-${patient.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
      const url = URL.createObjectURL(new Blob([blob], { type: 'application/fhir+json' }));
      const a = h('a', { href: url, download: name, className: 'visually-hidden', text: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.append(notice('ok', `Your download has started: ${name}.`));
    } catch (e) {
      if (e instanceof SessionEnded) return;
      status.append(notice('error', `The record could not be downloaded. ${e.message}`));
    } finally {
      button.disabled = false;
    }
  }

  // ---------------------------------------------------------------------
  // Who looked at the record

  const ACCESS_PAGE = 100;

  async function viewAccess(main, ctx) {
    const p = patientById(ctx.patient);
    const isSelf = !p || p.relation === 'self';
    main.append(pageHead(isSelf ? 'Who looked at your record' : `Who looked at the record of ${p.name || 'this person'}`,
      'Everyone who opens, changes or copies this record is listed here, newest first. Opening it in an emergency is highlighted, with the reason given.'));
    const body = h('div', null, loading('Loading the list…'));
    main.append(body);
    let data;
    try {
      data = obj(await api('GET', patientPath(ctx.patient, 'access')));
    } catch (e) {
      if (e.status === 404 && ctx.alive()) {
        clear(main);
        return notFound(main);
      }
      throw e;
    }
    if (!ctx.alive()) return;
    clear(body);
    const events = arr(data.events).map(obj);
    if (!events.length) {
      body.append(h('p', { className: 'empty', id: 'access-empty', text: 'Nobody has looked at this record yet.' }));
      return;
    }
    const emergencies = events.filter((e) => e.break_glass === true);
    if (emergencies.length) {
      const whose = isSelf ? 'Your record' : 'This record';
      body.append(notice('warn', emergencies.length === 1
        ? `${whose} was opened once in an emergency. The row is highlighted below.`
        : `${whose} was opened ${fmtNum(emergencies.length)} times in an emergency. Those rows are highlighted below.`));
    }
    const panel = h('section', { className: 'panel', 'aria-label': 'Access list' });
    body.append(panel);
    // One sync sends many small changes at once: the same person, device and
    // action in a row within an hour are one line ("12 times"). The server
    // already counts the changes it received per person, device and hour
    // (`times`).
    const groups = [];
    for (const e of events) {
      const key = [e.who, e.role, e.device, e.clinic, e.action, e.reason].map((x) => String(x)).join('\u0000');
      const last = groups[groups.length - 1];
      const at = num(e.at) || 0;
      const times = Math.max(1, num(e.times) || 1);
      if (last && !e.break_glass && !last.break_glass && last.key === key && Math.abs(last.oldest - at) < 3600 * 1000) {
        last.count += times;
        last.oldest = at;
      } else groups.push({ ...e, key, count: times, oldest: at });
    }
    let shown = 0;
    const rowFor = (e) => {
      const role = ROLES[e.role] || str(e.role);
      const whoText = str(e.who) || 'Someone';
      const who = [h('span', { className: 'who', text: whoText.charAt(0).toUpperCase() + whoText.slice(1) }),
        role ? h('span', { className: 'sub', text: role }) : null,
        str(e.device) ? h('span', { className: 'sub', text: `on ${e.device}` }) : null];
      const action = ACCESS_ACTIONS[e.action] || str(e.action) || '—';
      const what = [e.break_glass ? [badge('danger', 'Emergency access'), ' '] : null, action,
        e.count > 1 ? h('span', { className: 'sub', text: `${fmtNum(e.count)} times` }) : null,
        str(e.reason) ? h('span', { className: e.break_glass ? 'sub reason' : 'sub', text: `Reason given: ${e.reason}` }) : null];
      const when = [msTimeEl(e.at)];
      if (e.count > 1 && e.at - e.oldest >= 60 * 1000) when.push(h('span', { className: 'sub' }, 'since ', msTimeEl(e.oldest)));
      return {
        attrs: {
          className: e.break_glass ? 'row-emergency' : null, 'data-action': str(e.action), 'data-role': str(e.role),
          'data-count': String(e.count),
        },
        cells: [when, who, str(e.clinic) || '—', what],
      };
    };
    const table = stackTable('access-table', 'Who looked at the record, newest first', ['When', 'Who', 'Where (clinic)', 'What'], []);
    const tbody = table.querySelector('tbody');
    const more = h('button', { type: 'button', className: 'button button-secondary', id: 'access-more' });
    const count = h('p', { className: 'hint', id: 'access-count', 'aria-live': 'polite' });
    const showMore = () => {
      const next = groups.slice(shown, shown + ACCESS_PAGE);
      const part = stackTable('x', 'x', ['When', 'Who', 'Where (clinic)', 'What'], next.map(rowFor));
      for (const tr of [...part.querySelectorAll('tbody tr')]) tbody.append(tr);
      shown += next.length;
      count.textContent = shown >= groups.length
        ? `${plural(groups.length, 'line', 'lines')}, newest first.`
        : `Showing ${fmtNum(shown)} of ${fmtNum(groups.length)} lines, newest first.`;
      more.hidden = shown >= groups.length;
      more.textContent = `Show ${fmtNum(Math.min(ACCESS_PAGE, groups.length - shown))} more`;
    };
    more.addEventListener('click', showMore);
    showMore();
    panel.append(tableWrap('Who looked at the record', table), count, more);
  }

  // ---------------------------------------------------------------------
  // Printable record

  async function viewPrint(main, ctx) {
    const loaded = await loadRecord(main, ctx, 'Preparing the printable record…');
    if (!loaded) return;
    const { data, res } = loaded;
    const name = str(obj(data.patient).name) || patientDisplayName(res.Patient[0] && res.Patient[0].r, '');
    const relation = str(obj(data.patient).relation) || (patientById(ctx.patient) || {}).relation;
    const printButton = h('button', { type: 'button', className: 'button', id: 'print-button', text: 'Print',
      on: { click: () => window.print() } });
    main.append(h('div', { className: 'print-tools no-print' },
      h('a', { href: recordHash(ctx.patient), className: 'button button-secondary', id: 'print-back', text: 'Back to the record' }),
      printButton,
      h('p', { className: 'hint', text: 'Tip: in the print window you can also choose “Save as PDF”.' })));
    main.append(pageHead(`Health record of ${name || 'the patient'}`,
      recordIntro(res, name, relation), null, 'print-title'));
    main.append(h('p', { className: 'printed-on' }, 'Printed on ', h('time', { datetime: new Date().toISOString(), text: dateFormat.format(new Date()) }),
      '. This is a copy of the record as it was on that day.'));
    for (const sec of buildSections(res, data, { print: true })) main.append(sec.el);
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
    window.addEventListener('hashchange', () => route({ focus: true }));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') setFlash(null);
    });

    try {
      const data = await api('GET', '/v1/me/session');
      setSession(data);
    } catch (e) {
      if (e.status !== 401 && e.status !== 403) {
        const main = $('main');
        clear(main);
        main.append(h('h1', { tabIndex: -1, text: 'My health record' }),
          notice('error', `The page could not reach the server. ${e.message}`,
            h('div', { className: 'button-row' },
              h('button', { type: 'button', className: 'button', text: 'Try again', on: { click: () => location.reload() } }))));
        return;
      }
    }
    if (!location.hash.startsWith('#/')) history.replaceState(null, '', state.account ? defaultHash() : '#/welcome');
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
