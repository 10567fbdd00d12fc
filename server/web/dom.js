// DOM helpers shared by Charta's two web pages, the sysadmin console (/admin)
// and the patient portal (/me); served by charta-server at /admin/dom.js and
// /me/dom.js and loaded before each page's own script. Everything the server
// returns is untrusted text: these build the DOM with createElement and
// textContent only, never from HTML strings, and refuse inline styles (the
// content security policy forbids them).
'use strict';

window.ChartaDom = (() => {
  // h('tag', {className, id, text, on: {click}, 'aria-x': ..., dataset...}, ...children)
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    applyProps(el, props);
    append(el, children);
    return el;
  }

  // The same for SVG: s('path', {d: ..., class: ...}, ...children)
  const SVG_NS = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'text') el.textContent = String(v);
        else el.setAttribute(k, String(v));
      }
    }
    append(el, children);
    return el;
  }

  function applyProps(el, props) {
    if (!props) return;
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'style') throw new Error('inline styles are not allowed by the content security policy');
      if (key === 'className') el.className = value;
      else if (key === 'text') el.textContent = String(value);
      else if (key === 'on') {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else if (key === 'htmlFor') el.htmlFor = value;
      else if (key === 'value') el.value = value;
      else if (key === 'tabIndex') el.tabIndex = value;
      else if (key === 'hidden' || key === 'disabled' || key === 'checked' || key === 'required' ||
               key === 'selected' || key === 'open' || key === 'noValidate') {
        el[key] = Boolean(value);
      } else if (value === true) el.setAttribute(key, '');
      else el.setAttribute(key, String(value));
    }
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false || child === '') continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  let uidCounter = 0;
  const uid = (prefix) => `${prefix}-${++uidCounter}`;

  // A labelled form field with an optional hint below the label.
  function field(labelText, input, hintText) {
    const id = input.id || uid('f');
    input.id = id;
    let hint = null;
    if (hintText) {
      hint = h('p', { className: 'hint', id: `${id}-hint`, text: hintText });
      const prev = input.getAttribute('aria-describedby');
      input.setAttribute('aria-describedby', prev ? `${prev} ${hint.id}` : hint.id);
    }
    return h('div', { className: 'field' }, h('label', { htmlFor: id, text: labelText }), hint, input);
  }

  function notice(kind, text, extra) {
    return h('div', { className: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null },
      h('p', { text }), extra || null);
  }

  function badge(kind, text, label) {
    return h('span', { className: `badge badge-${kind}`, title: label || null }, text);
  }

  // A region keyboard users can focus and scroll (sideways on a small screen).
  function tableWrap(label, table) {
    return h('div', { className: 'table-wrap', role: 'region', 'aria-label': label, tabIndex: 0 }, table);
  }

  // The hash route "#/a/b?x=1" as {parts: ['a', 'b'], params}; null for an
  // anchor that is not a route.
  function parseHash() {
    const raw = location.hash || '';
    if (!raw.startsWith('#/')) return null;
    const body = raw.slice(2);
    const qi = body.indexOf('?');
    const path = qi >= 0 ? body.slice(0, qi) : body;
    const params = new URLSearchParams(qi >= 0 ? body.slice(qi + 1) : '');
    const parts = path.split('/').filter((p) => p !== '').map((p) => {
      try {
        return decodeURIComponent(p);
      } catch (e) {
        return p;
      }
    });
    return { parts, params };
  }

  // A failed call: the HTTP status (0 when no answer came), the server's
  // error code and message, and Retry-After when it was throttled.
  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  // Thrown into a view whose session ended while it was loading; the view
  // stops quietly because the sign-in form has already replaced it.
  class SessionEnded extends Error {}

  // One call to the server's JSON API from the page: the CSRF token on
  // every request that is not a GET, no caching. Resolves to the Response
  // when it is a success; otherwise throws an ApiError with the server's
  // own message (`offline`: the message when no answer came at all).
  async function send(method, path, body, csrf, offline) {
    const headers = { Accept: 'application/json' };
    const options = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
    if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-Charta-CSRF'] = csrf;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, options);
    } catch (e) {
      throw new ApiError(0, 'network', offline);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    const err = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
    const message = typeof err.message === 'string' && err.message
      ? err.message : `The server answered ${res.status} ${res.statusText}.`;
    throw new ApiError(res.status, typeof err.code === 'string' ? err.code : `http_${res.status}`, message,
      res.headers.get('Retry-After'));
  }

  return Object.freeze({ h, s, clear, uid, field, notice, badge, tableWrap, parseHash, ApiError, SessionEnded, send });
})();
