// The player page: opens a file (picker, drag and drop, ?src=URL), shows its facts and frames, plays,
// pauses, steps and seeks. Decoding runs in a Web Worker (worker.js); this page only draws.
//
// ?src=URL&check=1 is a hook for tests: decode every frame without playing, write "INDEX MD5" per frame
// (spec/conformance.md's frame MD5) into #frames, then "done" or the error into #status.
// window.inrcodec exposes the timings and, for tests, a frame's samples (samples(n)).

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const CHECK = params.get('check') === '1';

const state = {
  worker: null, info: null, total: null, name: '', cur: -1, playing: false, token: 0,
  nextId: 1, pending: new Map(), opened: 0, timing: {},
};

window.inrcodec = {
  timing: state.timing,
  shown: null, // {n, md5} of the frame on the canvas
  get info() { return state.info; },
  samples: (n) => request({ n, planes: true }).then((r) => r.planes),
  show: (n, md5 = true) => show(n, md5), // decode and draw frame n
  playAll: () => play(false), // play to the end as fast as frames come: {frames, ms} (benchmarks)
};

function status(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function fail(message) {
  state.playing = false;
  status(message, true);
  $('play').textContent = '▶';
}

function request(msg) {
  if (!state.worker) return Promise.reject(new Error('no file open'));
  const id = state.nextId++;
  return new Promise((resolve, reject) => {
    state.pending.set(id, { resolve, reject });
    state.worker.postMessage({ type: 'frame', id, ...msg });
  });
}

function onMessage(worker, e) {
  if (worker !== state.worker) return; // a file opened since
  const m = e.data;
  if (m.type === 'header') return onHeader(m);
  if (m.type === 'mark') { state.timing[m.name] = m.t - performance.timeOrigin; return; }
  if (m.type === 'gop') return showSize(m.bytes);
  if (m.type === 'end') { state.total = m.bytes; showSize(m.bytes); state.timing.read = performance.now(); return; }
  if (m.type === 'frame' || (m.type === 'error' && m.id)) {
    const p = state.pending.get(m.id);
    state.pending.delete(m.id);
    if (m.type === 'frame') p?.resolve(m); else p?.reject(new Error(m.message));
    return;
  }
  if (m.type === 'error') {
    for (const p of state.pending.values()) p.reject(new Error(m.message));
    state.pending.clear();
    fail(m.message);
  }
}

function newWorker() {
  const workerUrl = new URL('worker.js', import.meta.url);
  if (params.get('threads')) workerUrl.searchParams.set('threads', params.get('threads'));
  return new Worker(workerUrl, { type: 'module' });
}

// A worker made at page load starts onnxruntime-web's wasm at once, so a file opened later by the
// picker or by drag and drop shows its first frame without waiting for it. Each file after the first
// gets a fresh worker (the old one, and whatever it was reading, is dropped).
let spare = newWorker();

function open(source, name) {
  state.worker?.terminate();
  for (const p of state.pending.values()) p.reject(new Error('another file was opened'));
  state.pending.clear();
  Object.assign(state, { info: null, total: null, name, cur: -1, playing: false, token: state.token + 1 });
  for (const k of Object.keys(state.timing)) delete state.timing[k];
  state.timing.open = performance.now();
  $('frames').textContent = '';
  $('i-name').textContent = name;
  status('reading…');
  const worker = spare ?? newWorker();
  spare = null;
  worker.onmessage = (e) => onMessage(worker, e);
  worker.onerror = (e) => { e.preventDefault(); if (worker === state.worker) fail(e.message || 'the decoder stopped'); };
  state.worker = worker;
  worker.postMessage({ type: 'open', ...source });
}

function showSize(bytes) {
  const total = state.total ?? bytes;
  $('i-size').textContent = `${total.toLocaleString()} bytes${state.total === null ? ' (reading)' : ''}`;
  const i = state.info;
  if (i && state.total !== null) $('i-bpp').textContent = ((8 * state.total) / (i.width * i.height * i.nFrames)).toFixed(4);
}

function onHeader(m) {
  const i = (state.info = m.info);
  state.total = m.total;
  state.timing.header = performance.now();
  if (m.total) showSize(m.total);
  $('i-picture').textContent = `${i.width}×${i.height} ${i.chroma === '420' ? '4:2:0' : '4:4:4'}, ${i.bitDepth}-bit, ${(i.fpsNum / i.fpsDen).toFixed(3).replace(/\.?0+$/, '')} fps`;
  $('i-frames').textContent = `${i.nFrames} (GOP ${i.gopSize}, GOM ${i.gomSize})`;
  $('i-arch').textContent = i.layers.map((l) => `${l.arch} (${l.archParams.join(', ')})`).join(' + ');
  const sel = $('layers');
  sel.innerHTML = '';
  i.layers.forEach((_, k) => sel.add(new Option(k === 0 ? '1 (base)' : `${k + 1}`, String(k + 1))));
  sel.value = String(i.layers.length);
  sel.disabled = i.layers.length < 2;
  $('seek').max = String(i.nFrames - 1);
  const view = $('view');
  view.width = i.width; view.height = i.height;
  view.style.width = `${Math.max(i.width, Math.min(2 * i.width, 640))}px`;
  document.querySelector('#drop .hint').hidden = true;
  for (const id of ['prev', 'play', 'next', 'seek']) $(id).disabled = CHECK;
  if (CHECK) check();
  else {
    show(0).then((shown) => {
      if (!shown) return;
      state.timing.firstFrame = performance.now();
      $('i-first').textContent = `${Math.round(state.timing.firstFrame - state.timing.open)} ms after opening`;
    });
  }
}

function draw(f) {
  const i = state.info;
  $('view').getContext('2d').putImageData(new ImageData(f.rgba, i.width, i.height), 0, 0);
  state.cur = f.n;
  window.inrcodec.shown = { n: f.n, md5: f.md5 };
  $('seek').value = String(f.n);
  $('pos').textContent = `${f.n + 1} / ${i.nFrames}`;
  $('i-speed').textContent = `${f.fps.toFixed(1)} frames/s`;
}

/** Decode and draw frame n (the latest request wins); whether it was drawn. `md5`: with its digest
 * (window.inrcodec.shown), as seeks and steps have it; playback goes without. */
async function show(n, md5 = true) {
  const token = ++state.token;
  try {
    const f = await request({ n, rgba: true, md5 });
    if (token !== state.token) return false;
    draw(f);
    status('');
    return true;
  } catch (err) {
    if (token === state.token) fail(err.message);
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const AHEAD = 2; // frames asked of the worker ahead of the one shown: it renders while the page waits

/** Play from the frame after the one shown to the end (or a pause): paced to the file's frame rate,
 * or (`paced` false, benchmarks) as fast as frames come. Returns {frames, ms} drawn. */
async function play(paced = true) {
  const i = state.info;
  if (state.playing || !i) return null;
  state.playing = true;
  $('play').textContent = '❚❚';
  const token = ++state.token;
  const live = () => state.playing && token === state.token;
  const interval = (1000 * i.fpsDen) / i.fpsNum;
  let next = state.cur + 1 >= i.nFrames ? 0 : state.cur + 1;
  const queue = [];
  const ask = () => { if (next < i.nFrames) queue.push(request({ n: next++, rgba: true, md5: false })); };
  for (let k = 0; k < AHEAD; k++) ask();
  const t0 = performance.now();
  let due = t0, drawn = 0;
  try {
    while (live() && queue.length) {
      const f = await queue.shift();
      if (!live()) break;
      ask();
      if (paced) {
        due += interval;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait); else due = performance.now();
        if (!live()) break;
      }
      draw(f);
      drawn++;
    }
  } catch (err) {
    if (token === state.token) fail(err.message);
  }
  for (const q of queue) q.catch(() => {});
  if (token === state.token) { state.playing = false; $('play').textContent = '▶'; }
  return { frames: drawn, ms: performance.now() - t0 };
}

function pause() { state.playing = false; state.token++; $('play').textContent = '▶'; }

function step(d) {
  if (!state.info) return;
  pause();
  show(Math.min(state.info.nFrames - 1, Math.max(0, state.cur + d)));
}

async function check() {
  const i = state.info;
  const lines = [];
  status('checking…');
  try {
    for (let n = 0; n < i.nFrames; n++) {
      const f = await request({ n });
      if (n === 0) state.timing.firstFrame = performance.now();
      lines.push(`${n} ${f.md5}`);
      $('frames').textContent = lines.join('\n') + '\n';
      $('i-speed').textContent = `${f.fps.toFixed(1)} frames/s`;
    }
    state.timing.done = performance.now();
    status('done');
  } catch (err) {
    status(err.message, true);
  }
}

// -- wiring -----------------------------------------------------------------------------------------

$('picker').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) open({ file: f }, f.name); });
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer.files[0];
  if (f) open({ file: f }, f.name);
});
$('play').addEventListener('click', () => (state.playing ? pause() : play()));
$('prev').addEventListener('click', () => step(-1));
$('next').addEventListener('click', () => step(1));
$('seek').addEventListener('input', (e) => { pause(); show(Number(e.target.value)); });
$('layers').addEventListener('change', (e) => {
  pause();
  state.worker.postMessage({ type: 'layers', k: Number(e.target.value) });
  show(Math.max(0, state.cur));
});
document.addEventListener('keydown', (e) => {
  if (e.target.tagName === 'INPUT' && e.target.type !== 'range') return;
  if (e.key === ' ') { e.preventDefault(); state.playing ? pause() : play(); }
  else if (e.key === 'ArrowRight') step(1);
  else if (e.key === 'ArrowLeft') step(-1);
});
window.addEventListener('unhandledrejection', (e) => fail(String(e.reason?.message ?? e.reason)));

const src = params.get('src');
if (src) {
  try {
    open({ url: new URL(src, location.href).href }, decodeURIComponent(src.split('/').pop()));
  } catch (err) {
    fail(`?src=${src}: ${err.message}`);
  }
} else if (CHECK) {
  status('?check=1 needs ?src=URL', true);
}
