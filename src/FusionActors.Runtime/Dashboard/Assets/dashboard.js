// The FusionActors dashboard: sessions of the cluster and one session live. Plain JavaScript, no dependency.
// The operator token lives in sessionStorage; it goes to the node as "Authorization: Bearer" on fetch, and as the first
// message of the live WebSocket, never in a URL. Everything shown is set as text (never as HTML).
'use strict';

(() => {
  const TOKEN_KEY = 'fusionDashboardToken';
  const MAX_RESULTS = 240;      // results kept for the charts and the timeline
  const MAX_CHANGES = 200;      // stream state changes kept
  const SHOWN_RESULTS = 60;     // rows of the results table and cells of the strip
  const COLORS = ['#58a6ff', '#f0883e', '#3fb950', '#bc8cff', '#ff7b72', '#d29922', '#39c5cf'];

  const $ = (id) => document.getElementById(id);
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    sessions: [], listError: null, selected: null,
    status: null, prevStreams: {}, encoderMs: {},
    results: [], changes: [], live: 'off', ws: null, retry: 0, retryTimer: null, listTimer: null,
    events: 0, errors: [],
  };

  // ---- helpers ----------------------------------------------------------------------------------------------------
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  const num = (v, d = 2) => (typeof v === 'number' && isFinite(v)) ? v.toFixed(d) : '-';
  const secs = (us) => (typeof us === 'number' && Math.abs(us) < 1e15) ? (us / 1e6).toFixed(3) + ' s' : '-';
  const key = (r) => r.windowStartUs + '/' + r.revision;

  async function api(path, method = 'GET') {
    const response = await fetch('/dashboard/api/' + path, {
      method, cache: 'no-store', credentials: 'omit',
      headers: { 'Authorization': 'Bearer ' + state.token },
    });
    let body = null;
    try { body = await response.json(); } catch { /* an empty or non-JSON answer */ }
    if (response.status === 401) { signOut('the node refused the token'); throw new Error('unauthorized'); }
    if (!response.ok) throw new Error((body && (body.error + ': ' + body.detail)) || ('HTTP ' + response.status));
    return body;
  }

  function setBadge(id, text, on) {
    const b = $(id);
    b.textContent = text;
    b.className = 'badge' + (on === true ? ' on' : on === false ? ' off' : '');
  }

  // ---- sign in / out ----------------------------------------------------------------------------------------------
  function signOut(why) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    stopLive();
    clearInterval(state.listTimer);
    $('main').hidden = true;
    $('login').hidden = false;
    $('signout').hidden = true;
    $('login-error').textContent = why || '';
    setBadge('status', 'signed out');
  }

  async function signIn(token) {
    state.token = token;
    try {
      await refreshSessions(true);
    } catch (e) {
      if (state.token) $('login-error').textContent = String(e.message || e);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('login').hidden = true;
    $('main').hidden = false;
    $('signout').hidden = false;
    $('login-error').textContent = '';
    setBadge('status', 'signed in', true);
    clearInterval(state.listTimer);
    state.listTimer = setInterval(() => refreshSessions(false).catch(() => {}), 3000);
  }

  // ---- sessions list ----------------------------------------------------------------------------------------------
  async function refreshSessions(rethrow) {
    try {
      const listing = await api('sessions');
      state.sessions = listing.sessions;
      state.listError = null;
      const notes = [];
      if (listing.truncated) notes.push('first ' + listing.maxListed + ' by id');
      if (listing.unanswered.length) notes.push('no answer from ' + listing.unanswered.join(', '));
      $('sessions-note').textContent = listing.sessions.length + ' open' + (notes.length ? ' (' + notes.join('; ') + ')' : '');
      renderSessions();
    } catch (e) {
      state.listError = String(e.message || e);
      $('sessions-note').textContent = state.listError;
      if (rethrow) throw e;
    }
  }

  function renderSessions() {
    const body = $('sessions').tBodies[0];
    body.replaceChildren();
    for (const s of state.sessions) {
      const tr = el('tr');
      tr.dataset.session = s.sessionId;
      if (s.sessionId === state.selected) tr.classList.add('selected');
      tr.append(el('td', s.sessionId), el('td', s.node));
      const streams = el('td');
      s.streams.forEach((t, i) => {
        if (i) streams.append(' ');
        streams.append(el('span', t.streamId + ':' + t.state, 'state-' + t.state));
      });
      tr.append(streams, el('td', s.policy), el('td', s.results), el('td', secs(s.watermarkUs)));
      tr.addEventListener('click', () => select(s.sessionId));
      body.append(tr);
    }
  }

  // ---- one session ------------------------------------------------------------------------------------------------
  function select(id) {
    if (state.selected === id && state.ws) return;
    stopLive();
    state.selected = id;
    state.status = null; state.prevStreams = {}; state.encoderMs = {}; state.results = []; state.changes = [];
    $('session-panel').hidden = false;
    $('session-id').textContent = id;
    $('action-result').textContent = '';
    renderSessions();
    render();
    startLive();
  }

  function stopLive() {
    clearTimeout(state.retryTimer);
    if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
    state.live = 'off';
    if ($('live')) setBadge('live', 'not live');
  }

  function startLive() {
    const id = state.selected;
    if (!id || !state.token) return;
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/dashboard/api/live');
    state.ws = ws;
    state.live = 'connecting';
    setBadge('live', 'connecting');
    ws.onopen = () => ws.send(JSON.stringify({ token: state.token, session: id }));
    ws.onmessage = (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch { return; }
      state.events++;
      onEvent(e);
    };
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (state.live === 'closed' || state.live === 'refused') return;
      state.live = 'reconnecting';
      setBadge('live', 'reconnecting', false);
      const delay = Math.min(10000, 500 * 2 ** Math.min(state.retry++, 5));
      state.retryTimer = setTimeout(() => { if (state.selected === id) startLive(); }, delay);
    };
  }

  function onEvent(e) {
    switch (e.kind) {
      case 'subscribed':
        state.retry = 0;
        state.live = 'live';
        setBadge('live', 'live', true);
        applyStatus(e.status);
        for (const r of e.status.recent || []) addResult(r);
        break;
      case 'status': applyStatus(e.status); break;
      case 'result': addResult(e.result); break;
      case 'state':
        state.changes.unshift({ at: new Date(), streamId: e.streamId, from: e.from, to: e.to, reason: e.reason });
        state.changes.length = Math.min(state.changes.length, MAX_CHANGES);
        if (state.status) {
          const s = state.status.streams.find((t) => t.streamId === e.streamId);
          if (s) s.state = e.to;
        }
        break;
      case 'late':
        state.changes.unshift({ at: new Date(), streamId: e.streamId, from: '', to: 'late evidence', reason: 'at ' + secs(e.startUs) });
        state.changes.length = Math.min(state.changes.length, MAX_CHANGES);
        break;
      case 'closed':
        state.live = 'closed';
        setBadge('live', 'session closed', false);
        break;
      case 'error':
        state.errors.push(e.error + ': ' + e.detail);
        if (e.error === 'Unauthorized') { state.live = 'refused'; signOut('the node refused the token'); return; }
        if (e.error === 'NotOpen') { state.live = 'closed'; setBadge('live', 'not open', false); }
        break;
      case 'dropped': state.errors.push('dropped: ' + e.reason); break;
    }
    render();
  }

  function applyStatus(s) {
    // Encoder latency over the last interval: the change of the total encode time over the change of batches.
    for (const t of s.streams) {
      const p = state.prevStreams[t.streamId];
      if (p && t.batches > p.batches) state.encoderMs[t.streamId] = (t.encodeMillisTotal - p.encodeMillisTotal) / (t.batches - p.batches);
      else if (!p && t.batches > 0) state.encoderMs[t.streamId] = t.encodeMillisTotal / t.batches;
      state.prevStreams[t.streamId] = { batches: t.batches, encodeMillisTotal: t.encodeMillisTotal };
    }
    state.status = s;
  }

  function addResult(r) {
    const k = key(r);
    const i = state.results.findIndex((x) => key(x) === k);
    if (i >= 0) return;
    state.results.push(r);
    state.results.sort((a, b) => a.windowStartUs - b.windowStartUs || a.revision - b.revision);
    if (state.results.length > MAX_RESULTS) state.results.splice(0, state.results.length - MAX_RESULTS);
  }

  // The newest result of each window (its highest revision), oldest first.
  function latestPerWindow() {
    const byWindow = new Map();
    for (const r of state.results) byWindow.set(r.windowStartUs, r);
    return [...byWindow.values()];
  }

  // ---- rendering --------------------------------------------------------------------------------------------------
  let renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => { renderQueued = false; renderNow(); });
  }

  function renderNow() {
    const s = state.status;
    const windows = latestPerWindow();
    const latest = windows[windows.length - 1];
    $('session-summary').textContent = s
      ? 'policy ' + s.policy + ', results ' + s.results + ', missing a modality ' + s.windowsWithMissingModality +
        ', watermark ' + secs(s.alignment && s.alignment.watermarkUs) + (s.client ? ', client ' + s.client : '')
      : '';
    renderStreams(s, latest);
    const modalities = s ? [...new Set(s.streams.map((t) => t.modality))] : Object.keys((latest && latest.weights) || {});
    drawWeights(windows, modalities);
    drawLag(windows);
    renderResults(windows);
    const list = $('changes');
    list.replaceChildren(...state.changes.slice(0, 50).map((c) =>
      el('li', c.at.toLocaleTimeString() + '  ' + c.streamId + '  ' + (c.from ? c.from + ' \u2192 ' : '') + c.to + (c.reason ? ': ' + c.reason : ''))));
  }

  function renderStreams(s, latest) {
    const body = $('streams').tBodies[0];
    body.replaceChildren();
    if (!s) return;
    for (const t of s.streams) {
      const tr = el('tr');
      tr.dataset.stream = t.streamId;
      tr.dataset.modality = t.modality;
      const w = latest && latest.weights ? latest.weights[t.modality] : undefined;
      const presence = !latest ? '-' : latest.missing.includes(t.modality) ? 'missing' : latest.imputed.includes(t.modality) ? 'imputed' : 'present';
      const drift = t.drift
        ? (t.drift.window === 0 ? 'no input yet' : num(t.drift.mean) + ' of ' + t.drift.window + (t.drift.alerting ? ' ALERT > ' + num(t.drift.threshold) : ''))
        : '-';
      const wm = s.alignment ? t.watermarkUs - s.alignment.watermarkUs : null;
      tr.append(
        el('td', t.streamId), el('td', t.modality), el('td', t.state, 'state state-' + t.state),
        el('td', typeof w === 'number' ? num(w) : '-', 'weight'), el('td', presence, 'presence presence-' + presence),
        el('td', num(t.reliability)), el('td', secs(t.watermarkUs) + (wm !== null && Math.abs(wm) < 1e12 ? ' (' + (wm >= 0 ? '+' : '') + (wm / 1000).toFixed(0) + ' ms)' : '')),
        el('td', num(state.encoderMs[t.streamId], 1), 'encoder'),
        el('td', drift, t.drift && t.drift.alerting ? 'drift alert' : 'drift'),
        el('td', t.framesIn + ' / ' + t.rejected + ' / ' + t.framesLate), el('td', t.encoderRestarts));
      const fault = el('td');
      const crash = el('button', 'crash encoder');
      crash.type = 'button';
      crash.dataset.action = 'crash-encoder';
      crash.addEventListener('click', () => act('sessions/' + encodeURIComponent(s.sessionId) + '/streams/' + encodeURIComponent(t.streamId) + '/crash-encoder'));
      const drop = el('button', 'drop 5 s');
      drop.type = 'button';
      drop.dataset.action = 'drop';
      drop.addEventListener('click', () => act('sessions/' + encodeURIComponent(s.sessionId) + '/streams/' + encodeURIComponent(t.streamId) + '/drop/5'));
      fault.append(crash, ' ', drop);
      tr.append(fault);
      body.append(tr);
    }
  }

  function renderResults(windows) {
    const shown = windows.slice(-SHOWN_RESULTS).reverse();
    const body = $('results').tBodies[0];
    body.replaceChildren();
    const strip = $('strip');
    strip.replaceChildren();
    for (const r of shown) {
      const tr = el('tr');
      tr.dataset.window = r.windowStartUs;
      tr.dataset.missing = r.missing.join(',');
      tr.dataset.imputed = r.imputed.join(',');
      const weights = Object.entries(r.weights).map(([m, w]) => m + '=' + num(w)).join(' ');
      tr.append(el('td', secs(r.windowStartUs)), el('td', r.revision), el('td', r.status),
        el('td', r.topLabel !== null && r.topLabel !== undefined ? r.topLabel : r.topClass),
        el('td', num(r.confidence) + (r.uncertain ? ' (uncertain)' : '')), el('td', weights),
        el('td', r.missing.join(', '), 'presence-missing'), el('td', r.imputed.join(', '), 'presence-imputed'),
        el('td', (r.watermarkLagUs / 1000).toFixed(0)));
      body.append(tr);
    }
    for (const r of shown.slice().reverse()) {
      const cell = el('div', null, 'cell' + (r.missing.length ? ' has-missing' : '') + (r.imputed.length ? ' has-imputed' : '') + (r.status !== 'Fused' ? ' no-evidence' : ''));
      cell.title = secs(r.windowStartUs) + ' rev ' + r.revision + (r.missing.length ? ' missing ' + r.missing.join(',') : '') + (r.imputed.length ? ' imputed ' + r.imputed.join(',') : '');
      cell.append(el('b', r.topLabel !== null && r.topLabel !== undefined ? r.topLabel : r.topClass), el('em', num(r.confidence)));
      strip.append(cell);
    }
  }

  function axes(ctx, w, h, pad, yMax, yLabel) {
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = '#2a3542';
    ctx.fillStyle = '#8a96a3';
    ctx.font = '10px system-ui, sans-serif';
    for (let i = 0; i <= 4; i++) {
      const y = pad + (h - 2 * pad) * (1 - i / 4);
      ctx.beginPath(); ctx.moveTo(pad + 20, y); ctx.lineTo(w - pad, y); ctx.stroke();
      ctx.fillText(yLabel(yMax * i / 4), 2, y + 3);
    }
  }

  function drawWeights(windows, modalities) {
    const canvas = $('weights-chart');
    const ctx = canvas.getContext('2d');
    const w = canvas.width, h = canvas.height, pad = 10;
    axes(ctx, w, h, pad, 1, (v) => v.toFixed(2));
    const legend = $('weights-legend');
    legend.replaceChildren();
    const n = windows.length;
    const x = (i) => pad + 20 + (w - 2 * pad - 20) * (n <= 1 ? 1 : i / (n - 1));
    const y = (v) => pad + (h - 2 * pad) * (1 - v);
    modalities.forEach((m, k) => {
      const color = COLORS[k % COLORS.length];
      const item = el('span', m);
      const swatch = el('i');
      swatch.style.background = color;
      item.prepend(swatch);
      legend.append(item);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      windows.forEach((r, i) => {
        const v = typeof r.weights[m] === 'number' ? r.weights[m] : 0;
        if (i === 0) ctx.moveTo(x(i), y(v)); else ctx.lineTo(x(i), y(v));
      });
      ctx.stroke();
      // A window where the modality was missing: a red tick on the axis; imputed: amber.
      windows.forEach((r, i) => {
        const mark = r.missing.includes(m) ? '#f85149' : r.imputed.includes(m) ? '#d29922' : null;
        if (!mark) return;
        ctx.fillStyle = mark;
        ctx.fillRect(x(i) - 2, h - pad - 4 - 5 * k, 4, 4);
      });
    });
    ctx.lineWidth = 1;
  }

  function drawLag(windows) {
    const canvas = $('lag-chart');
    const ctx = canvas.getContext('2d');
    const w = canvas.width, h = canvas.height, pad = 10;
    const lags = windows.map((r) => Math.max(0, r.watermarkLagUs / 1000));
    const max = Math.max(10, ...lags) * 1.1;
    axes(ctx, w, h, pad, max, (v) => v.toFixed(0));
    const n = lags.length;
    ctx.strokeStyle = '#39c5cf';
    ctx.lineWidth = 2;
    ctx.beginPath();
    lags.forEach((v, i) => {
      const px = pad + 20 + (w - 2 * pad - 20) * (n <= 1 ? 1 : i / (n - 1));
      const py = pad + (h - 2 * pad) * (1 - v / max);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
    ctx.lineWidth = 1;
  }

  // ---- operator actions -------------------------------------------------------------------------------------------
  async function act(path) {
    const out = $('action-result');
    out.textContent = '...';
    try {
      const done = await api(path, 'POST');
      out.textContent = done.action + (done.streamId ? ' ' + done.streamId : '') + ': ' + done.outcome;
      out.className = '';
    } catch (e) {
      out.textContent = String(e.message || e);
      out.className = 'error';
    }
  }

  // ---- start ------------------------------------------------------------------------------------------------------
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    $('token').value = '';
    if (token) signIn(token);
  });
  $('signout').addEventListener('click', () => signOut(''));
  $('close-session').addEventListener('click', () => {
    if (state.selected && confirm('Close session ' + state.selected + '?')) act('sessions/' + encodeURIComponent(state.selected) + '/close');
  });

  // For scripts and tests: what the page holds (no token).
  window.fusionDashboard = {
    state: () => ({
      signedIn: !!state.token, sessions: state.sessions.map((s) => s.sessionId), selected: state.selected, live: state.live,
      results: state.results.length, events: state.events, errors: state.errors.slice(),
      lastResult: state.results.length ? state.results[state.results.length - 1] : null,
    }),
    select,
    act,
  };

  if (state.token) signIn(state.token); else signOut('');
})();
