// The browser sensor: microphone -> 16 kHz, 20 ms frames -> the node's WebSocket ingress (docs/ingress.md), with the
// client's half of the delivery contract: seqs per stream, every frame held until committed and replayed after a
// reconnect, results shown in the order the session ranks them (repeats and outranked ones dropped). No dependency, no CDN: served by the node.

const SAMPLE_RATE = 16000;
const FRAME_SAMPLES = 320; // 20 ms
const FRAME_US = 20000;
const MAX_FRAMES_PER_MESSAGE = 64;
const MAX_HELD = 3000; // 60 s of audio; beyond it the oldest uncommitted frames are dropped (a microphone cannot wait)
const MAX_ROWS = 200;
const ALL_COMMITTED = (1n << 63n) - 1n;

const $ = (id) => document.getElementById(id);

const stats = {
  state: "idle", node: null, framesCaptured: 0, framesSent: 0, framesReplayed: 0, framesDroppedUnheld: 0,
  committedThroughUs: null, held: 0, rejected: {}, results: 0, fused: 0, duplicatesDropped: 0, outrankedDropped: 0,
  opens: 0, errors: [], lastResult: null, level: 0,
};
window.fusionSensor = { stats: () => JSON.parse(JSON.stringify(stats)), results: [] };

let session = null;

function nonce() {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (c) => ({ "+": "-", "/": "_", "=": "" })[c]);
}

function spec(sessionId, model) {
  return {
    sessionId,
    labels: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    window: { kind: "Tumbling", lengthUs: 1000000, hopUs: 1000000 },
    streams: [{
      streamId: "audio", modality: "audio", model, frameLength: FRAME_SAMPLES, sampleRateHz: SAMPLE_RATE,
      framing: { kind: "Windowed", lengthUs: 1000000, hopUs: 1000000 },
    }],
  };
}

class Session {
  constructor(sessionId, token, model) {
    this.sessionId = sessionId;
    this.token = token;
    this.spec = spec(sessionId, model);
    this.nonce = nonce();
    this.t0 = performance.now();
    this.held = [];          // frames not yet committed, in seq order: {seq, eventTimeUs, values}
    this.outbox = 0;         // index into held of the first frame not sent on this connection
    this.nextSeq = 0;
    this.startUs = null;     // event time of seq 0
    this.pending = new Float32Array(FRAME_SAMPLES);
    this.pendingLength = 0;
    this.epoch = 0;
    this.capability = null;
    this.committed = -1n;
    // Per window "start:end": [highest revision as the session numbered it, results shown, decided on evidence].
    this.windows = new Map();
    // Per window start not committed yet: the highest revision shown; a reopen names them (docs/ingress.md, "Delivery").
    this.delivered = new Map();
    this.closing = false;
    this.stopped = false;
    this.ws = null;
    this.retryMs = 250;
  }

  nowUs() { return Math.round((performance.now() - this.t0) * 1000); }

  connect() {
    if (this.stopped) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ingress/v1`;
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.opened = false;
    setState("connecting");
    ws.onopen = () => {
      const open = { protocol: 1, spec: this.spec, nonce: this.nonce, clientNowUs: this.nowUs() };
      if (this.token) open.token = this.token;
      if (this.capability) {
        const lowest = this.held.length > 0 ? this.held[0].seq : this.nextSeq;
        open.resume = {
          committedThroughUs: Number(this.committed < 0n ? 0n : this.committed > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : this.committed),
          nextSeq: { audio: lowest }, epoch: this.epoch, capability: this.capability,
          generation: Math.min(stats.opens, 262143),
        };
        if (this.delivered.size > 0) open.resume.delivered = Object.fromEntries(this.delivered);
      }
      ws.send(concat(Uint8Array.of(0x01), new TextEncoder().encode(JSON.stringify(open))));
    };
    ws.onmessage = (e) => this.receive(new DataView(e.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) { setState(stats.state === "done" ? "done" : "stopped"); return; }
      setState("reconnecting");
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(5000, this.retryMs * 2);
    };
  }

  receive(view) {
    const type = view.getUint8(0);
    const json = () => JSON.parse(new TextDecoder().decode(new Uint8Array(view.buffer, 1)));
    switch (type) {
      case 0x81: {
        const o = json();
        this.epoch = o.epoch;
        this.capability = o.capability;
        this.opened = true;
        this.retryMs = 250;
        this.outbox = 0; // replay everything still held, in order
        stats.framesReplayed += stats.opens > 0 ? this.held.length : 0;
        stats.opens++;
        stats.node = o.node;
        $("node").textContent = o.node;
        setState(this.closing ? "closing" : "streaming");
        this.flush();
        if (this.closing) this.sendClose();
        break;
      }
      case 0x82: {
        const through = view.getBigInt64(1, true);
        if (through > this.committed) this.committed = through;
        let drop = 0;
        while (drop < this.held.length && (through === ALL_COMMITTED || BigInt(this.held[drop].eventTimeUs) < through)) drop++;
        this.held.splice(0, drop);
        this.outbox = Math.max(0, this.outbox - drop);
        for (const start of [...this.delivered.keys()]) if (through === ALL_COMMITTED || BigInt(start) < through) this.delivered.delete(start);
        stats.committedThroughUs = through === ALL_COMMITTED ? "all" : Number(through);
        stats.held = this.held.length;
        if (through === ALL_COMMITTED) { setState("done"); this.stop(); }
        break;
      }
      case 0x83: {
        const r = json();
        // Shown in the order the session ranks them, numbered 0, 1, 2, ... per window: a repeat, or one ranked below
        // a result shown (an older incarnation's, or NoEvidence after evidence), is dropped.
        const key = `${r.windowStartUs}:${r.windowEndUs}`;
        const had = this.windows.get(key);
        const evidence = r.status !== "NoEvidence";
        if (had && r.revision === had[0]) { stats.duplicatesDropped++; break; }
        if (had && (r.revision < had[0] || (!evidence && had[2]))) { stats.outrankedDropped++; break; }
        const shown = had ? had[1] : 0;
        this.windows.set(key, [r.revision, shown + 1, evidence || (had ? had[2] : false)]);
        if (this.windows.size > 4 * MAX_ROWS) this.windows.delete(this.windows.keys().next().value);
        if (BigInt(r.windowStartUs) >= this.committed && (this.delivered.get(r.windowStartUs) ?? -1) < r.revision) {
          this.delivered.set(r.windowStartUs, r.revision);
          if (this.delivered.size > 1024) this.delivered.delete(this.delivered.keys().next().value);
        }
        r.revision = shown;
        stats.results++;
        if (r.status === "Fused") stats.fused++;
        stats.lastResult = r;
        window.fusionSensor.results.push(r);
        if (window.fusionSensor.results.length > MAX_ROWS) window.fusionSensor.results.shift();
        showResult(r);
        break;
      }
      case 0x84: {
        const r = json();
        stats.rejected[r.reason] = (stats.rejected[r.reason] || 0) + 1;
        break;
      }
      case 0x85: {
        const pong = new DataView(new ArrayBuffer(17));
        pong.setUint8(0, 0x05);
        pong.setBigInt64(1, view.getBigInt64(1, true), true);
        pong.setBigInt64(9, BigInt(this.nowUs()), true);
        this.send(pong.buffer);
        break;
      }
      case 0xff: {
        const err = json();
        stats.errors.push(`${err.code}: ${err.message}`);
        $("error").textContent = `${err.code}: ${err.message}`;
        if (!err.retryable) { this.stopped = true; setState("failed"); }
        break;
      }
      default:
        stats.errors.push(`unknown message type ${type}`);
    }
    render();
  }

  send(buffer) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(buffer);
  }

  // Samples from the microphone, already at 16 kHz: cut into 20 ms frames stamped by sample count.
  capture(samples) {
    let i = 0;
    while (i < samples.length) {
      const n = Math.min(FRAME_SAMPLES - this.pendingLength, samples.length - i);
      this.pending.set(samples.subarray(i, i + n), this.pendingLength);
      this.pendingLength += n;
      i += n;
      if (this.pendingLength === FRAME_SAMPLES) {
        if (this.startUs === null) this.startUs = this.nowUs();
        const values = new Float32Array(FRAME_SAMPLES);
        for (let k = 0; k < FRAME_SAMPLES; k++) values[k] = Math.max(-1, Math.min(1, this.pending[k]));
        this.held.push({ seq: this.nextSeq, eventTimeUs: this.startUs + this.nextSeq * FRAME_US, values });
        this.nextSeq++;
        this.pendingLength = 0;
        stats.framesCaptured++;
        if (this.held.length > MAX_HELD) {
          this.held.shift();
          this.outbox = Math.max(0, this.outbox - 1);
          stats.framesDroppedUnheld++;
        }
      }
    }
    stats.held = this.held.length;
  }

  // Sends what is held and not yet sent on this connection, 64 frames a message, while the socket drains.
  flush() {
    if (!this.opened || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    while (this.outbox < this.held.length && this.ws.bufferedAmount < (1 << 20)) {
      const frames = this.held.slice(this.outbox, this.outbox + MAX_FRAMES_PER_MESSAGE);
      const size = 3 + frames.reduce((s, f) => s + 21 + 4 * f.values.length, 0);
      const view = new DataView(new ArrayBuffer(size));
      view.setUint8(0, 0x02);
      view.setUint16(1, frames.length, true);
      let at = 3;
      for (const f of frames) {
        view.setUint8(at, 0); at += 1;
        view.setBigInt64(at, BigInt(f.seq), true); at += 8;
        view.setBigInt64(at, BigInt(f.eventTimeUs), true); at += 8;
        view.setUint32(at, f.values.length, true); at += 4;
        for (let k = 0; k < f.values.length; k++, at += 4) view.setFloat32(at, f.values[k], true);
      }
      this.ws.send(view.buffer);
      this.outbox += frames.length;
      stats.framesSent += frames.length;
    }
  }

  sendClose() { this.send(Uint8Array.of(0x04, 0).buffer); }

  // Ends the stream: the node commits everything once the last window is fused, and the page then disconnects.
  finish() {
    this.closing = true;
    setState("closing");
    this.flush();
    this.sendClose();
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
  }
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out.buffer;
}

function setState(s) {
  stats.state = s;
  $("state").textContent = s;
}

function render() {
  $("frames").textContent = stats.framesSent;
  $("committed").textContent = stats.committedThroughUs === null ? "–" : stats.committedThroughUs === "all" ? "all" : `${(stats.committedThroughUs / 1e6).toFixed(2)} s`;
  $("held").textContent = stats.held;
  $("rejected").textContent = Object.values(stats.rejected).reduce((a, b) => a + b, 0);
  $("level").value = stats.level;
}

function showResult(r) {
  const row = document.createElement("tr");
  row.className = r.status + (r.uncertain ? " uncertain" : "");
  const weights = Object.entries(r.weights || {}).map(([m, w]) => `${m} ${Number(w).toFixed(2)}`).join(", ");
  const cells = [(r.windowStartUs / 1e6).toFixed(1) + " s", r.revision, r.status, r.topLabel ?? "–",
    r.confidence === undefined ? "–" : Number(r.confidence).toFixed(3), weights, (r.missing || []).join(", ")];
  for (const c of cells) {
    const td = document.createElement("td");
    td.textContent = String(c); // text only: nothing from the wire becomes markup
    row.appendChild(td);
  }
  const body = $("results");
  body.insertBefore(row, body.firstChild);
  while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
}

async function start(sessionId, token, model) {
  $("error").textContent = "";
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  // The context resamples the microphone to the models' 16 kHz.
  const context = new AudioContext({ sampleRate: SAMPLE_RATE });
  await context.audioWorklet.addModule("capture-worklet.js");
  const source = context.createMediaStreamSource(media);
  const capture = new AudioWorkletNode(context, "fusion-capture");
  session = new Session(sessionId, token, model);
  capture.port.onmessage = (e) => {
    const samples = e.data;
    let peak = 0;
    for (let k = 0; k < samples.length; k++) peak = Math.max(peak, Math.abs(samples[k]));
    stats.level = 0.8 * stats.level + 0.2 * Math.min(1, peak);
    session.capture(samples);
  };
  source.connect(capture);
  await context.resume();
  session.connect();
  const flusher = setInterval(() => { session.flush(); render(); }, 100);
  $("start").disabled = true;
  $("stop").disabled = false;
  $("stop").onclick = () => {
    source.disconnect();
    media.getTracks().forEach((t) => t.stop());
    clearInterval(flusher);
    session.finish();
    $("stop").disabled = true;
  };
  window.fusionSensor.stop = () => $("stop").onclick();
  // A dropped connection, as a network would drop it: the page reconnects, resumes and replays what is uncommitted.
  window.fusionSensor.drop = () => { if (session.ws) session.ws.close(4000, "connection drill"); };
}

function init() {
  const query = new URLSearchParams(location.search);
  // The token may come in the fragment, which the browser never sends to a server: #token=...
  const fragment = new URLSearchParams(location.hash.slice(1));
  $("session").value = query.get("session") || `browser-${Math.random().toString(36).slice(2, 10)}`;
  $("model").value = query.get("model") || "audio-digits";
  if (fragment.get("token")) $("token").value = fragment.get("token");
  $("setup").onsubmit = (e) => {
    e.preventDefault();
    start($("session").value, $("token").value || null, $("model").value).catch((err) => {
      stats.errors.push(String(err));
      $("error").textContent = String(err);
      setState("failed");
    });
  };
  if (query.get("autostart") === "1") $("setup").requestSubmit();
}

init();
