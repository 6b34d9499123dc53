// The player's Web Worker: reads the file (streamed), decodes and synthesises frames, so the page
// never blocks. The page runs a pool of them (main.js), each with its own Player. Messages in:
// {type: 'open', url} or {type: 'open', file}, with, for a helper of the pool, `warm` (a frame: make the
// sessions and load its GOP's weights, then say 'ready') and `layers` (the layer selector's choice so far); {type: 'frame', id, n,
// rgba}; {type: 'layers', k}. Messages out: 'header', 'mark' (timings), 'gop' (arrived), 'end', 'frame'
// (id, n, md5, rgba?, planes?, fps), 'ready' (after `warm`), 'error' (id when it answers a request,
// message).

import * as ort from 'onnxruntime-web/wasm';
import * as format from './format/index.js';
import { Player } from './player/player.js';
import { toRgba } from './player/yuv.js';
import { Graph } from './synth/onnx.js';

// onnxruntime-web's .wasm and .mjs are copied to dist/ort/ by the build; an absolute URL (a bare
// relative path fails to resolve from inside onnxruntime-web, FIELD-NOTES).
ort.env.wasm.wasmPaths = new URL('ort/', self.location.href).href;
// Threads need cross-origin isolation (SharedArrayBuffer): inrcodec play and the tests serve the
// COOP/COEP headers; a plain static host gets one thread. The page sets ?threads=N (its share of the
// page's threads) in the worker's own query.
const asked = Number(new URL(self.location.href).searchParams.get('threads')) || 0;
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, Math.min(4, asked || navigator.hardwareConcurrency || 1)) : 1;
ort.env.logLevel = 'error';

// Start onnxruntime-web's wasm (fetch, compile, threads) now, while the page asks for the file: a
// one-node graph's session is the way to make it initialise.
const warmup = (() => {
  const g = new Graph('warmup');
  g.output(g.op('Identity', [g.input('x', [1])]), [1]);
  return ort.InferenceSession.create(g.model()).then(() => mark('wasm')).catch(() => {});
})();

/** A timing mark for the page (window.inrcodec.timing), on the page's clock. */
function mark(name) { self.postMessage({ type: 'mark', name, t: performance.timeOrigin + performance.now() }); }

let player = null;

function describe(err) {
  const name = err?.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${name}${err?.message ?? String(err)}`;
}

function post(msg, transfer = []) { self.postMessage(msg, transfer); }

async function open(msg) {
  player = new Player(ort, format);
  const me = player;
  me.layersWanted = msg.layers ?? null;
  let total = null;
  player.onHeader = (info) => {
    post({ type: 'header', info, total, threads: ort.env.wasm.numThreads });
    me.synth.prepare().then(() => mark('sessions'), () => {});
    if (msg.warm !== undefined) warm(me, msg.warm);
  };
  player.onGop = (gop) => {
    if (gop === 0) mark('gop0');
    post({ type: 'gop', gop, bytes: me.bytes });
  };
  let body;
  if (msg.url) {
    const res = await fetch(msg.url);
    if (!res.ok) throw new Error(`${msg.url}: HTTP ${res.status} ${res.statusText}`);
    total = Number(res.headers.get('content-length')) || null;
    body = res.body;
  } else {
    total = msg.file.size;
    body = msg.file.stream();
  }
  await player.read(body);
  if (me === player) post({ type: 'end', bytes: me.bytes });
}

/** A helper's start: its sessions made and frame n's GOP's weights loaded, then 'ready'; a failure is an
 * error of the worker (the page drops it). */
async function warm(me, n) {
  try {
    await me.preload(n);
    if (me === player) post({ type: 'ready' });
  } catch (err) {
    if (me === player) post({ type: 'error', message: describe(err) });
  }
}

function setLayers(k) {
  if (!player) throw new Error('no file open');
  if (player.info) player.setLayers(k);
  else player.layersWanted = k; // before the header: from it on
}

async function frame(msg) {
  const me = player;
  if (!me) throw new Error('no file open');
  const f = await me.frame(msg.n, msg.md5 !== false);
  const out = { type: 'frame', id: msg.id, n: msg.n, md5: f.md5, fps: me.fps };
  const transfer = [];
  if (msg.rgba) {
    const i = me.info;
    out.rgba = toRgba(f.planes, i.width, i.height, i);
    transfer.push(out.rgba.buffer);
  }
  if (msg.planes) out.planes = f.planes.map((p) => Array.from(p));
  post(out, transfer);
}

self.onmessage = (e) => {
  const msg = e.data;
  let job;
  if (msg.type === 'open') job = open(msg);
  else if (msg.type === 'frame') job = frame(msg);
  else if (msg.type === 'layers') job = Promise.resolve().then(() => setLayers(msg.k));
  else job = Promise.reject(new Error(`unknown message ${msg.type}`));
  job.catch((err) => post({ type: 'error', id: msg.id, message: describe(err) }));
};

self.onerror = (e) => post({ type: 'error', message: describe(e.error ?? e.message) });
self.onunhandledrejection = (e) => post({ type: 'error', message: describe(e.reason) });
