// The player page: opens a file (picker, drag and drop, ?src=URL), shows its facts and frames, plays,
// pauses, steps and seeks. Decoding runs in Web Workers (worker.js); this page only draws.
//
// The workers are a pool (?workers=N; by default 2 where the wasm may use threads and the machine has
// two cores, else 1), each with its own Player and onnxruntime-web session of T/N wasm threads (T: the
// threads one worker would have, ?threads=). Frame n goes to worker n % N and frames are drawn in
// order: frames are independent (a GOP's frames come from its weights and their time positions alone,
// and onnxruntime-web's samples do not depend on which frames were asked before), so N workers give
// the same frames N at a time, where onnxruntime-web's own threads scale far less (1.3x from 1 to 2 at
// 1280x720). Worker 0 opens the file alone, so nothing competes with its first frame; the others
// (helpers) start once a frame is on the canvas, each reading the file again (a second fetch, served by
// the browser's cache or the local server; a File is read twice), making its sessions and loading the
// weights of its first frame's GOP, and take frames only then ('ready'): until then worker 0 renders
// everything. A helper that fails to start, or fails later, is dropped and its frames go back to
// worker 0. The decode speed shown is the pool's: the sum of the ready workers' rates.
//
// ?src=URL&check=1 is a hook for tests: decode every frame without playing, write "INDEX MD5" per frame
// (spec/conformance.md's frame MD5) into #frames, then "done" or the error into #status. It uses the
// pool too, strictly: frame n waits for worker n % N to be ready (unless it failed), so with N workers
// every worker renders its share of the frames.
// window.inrcodec exposes the timings, the pool (pool) and, for tests, a frame's samples (samples(n)).

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const CHECK = params.get('check') === '1';

const ISOLATED = self.crossOriginIsolated === true;
const CORES = navigator.hardwareConcurrency || 1;
// the wasm threads of one worker alone: worker.js's rule for ?threads=
const THREADS = ISOLATED ? Math.max(1, Math.min(4, Number(params.get('threads')) || CORES)) : 1;
const WORKERS = Math.max(1, Math.min(8, Math.floor(Number(params.get('workers'))) || (ISOLATED && CORES >= 2 ? 2 : 1)));
const WORKER_THREADS = Math.max(1, Math.floor(THREADS / WORKERS));
const HELPER_START_MS = 30000; // a helper not ready by then is dropped

const state = {
  pool: [], info: null, total: null, name: '', source: null, layers: null, cur: -1, playing: false,
  token: 0, nextId: 1, pending: new Map(), helpersStarted: false, dropped: [], timing: {},
};

window.inrcodec = {
  timing: state.timing,
  shown: null, // {n, md5} of the frame on the canvas
  get info() { return state.info; },
  // the pool: workers (N), wasm threads each, helpers ready, frames each worker rendered, helpers dropped (why)
  get pool() {
    return {
      workers: WORKERS, threads: WORKER_THREADS, ready: state.pool.filter((s) => s.ready).length,
      frames: state.pool.map((s) => s.frames), dropped: [...state.dropped],
    };
  },
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

// -- the pool ---------------------------------------------------------------------------------------

/** A pool entry: its worker (null until started), whether it takes frames (ready), whether it was
 * dropped (dead), its rate (fps: its frames over its rendering time) and the frames it rendered.
 * `settled` resolves when it is ready or dropped. */
function slot(index) {
  const s = { index, worker: null, ready: index === 0, dead: false, fps: 0, frames: 0 };
  s.settled = new Promise((resolve) => { s.settle = resolve; });
  if (index === 0) s.settle();
  return s;
}

function newWorker() {
  const workerUrl = new URL('worker.js', import.meta.url);
  workerUrl.searchParams.set('threads', String(WORKER_THREADS));
  return new Worker(workerUrl, { type: 'module' });
}

function wire(s) {
  s.worker.onmessage = (e) => onMessage(s, e);
  s.worker.onerror = (e) => {
    e.preventDefault();
    if (!state.pool.includes(s)) return;
    if (s.index > 0) dropHelper(s, e.message || 'the worker stopped');
    else fail(e.message || 'the decoder stopped');
  };
}

/** The worker for frame n: the (n % live)-th of the workers not dropped. */
function pick(n) {
  const live = state.pool.filter((s) => !s.dead);
  return live[n % live.length];
}

function send(p, s) {
  p.slot = s;
  s.worker.postMessage(p.msg);
}

/** Asks for a frame: {n, rgba?, md5?, planes?} (worker.js's 'frame'). `strict`: wait for worker n % N
 * to be ready rather than give the frame to worker 0 (check=1). */
function request(msg, strict = false) {
  if (!state.pool.length) return Promise.reject(new Error('no file open'));
  const id = state.nextId++;
  return new Promise((resolve, reject) => {
    const p = { resolve, reject, msg: { type: 'frame', id, ...msg }, slot: null };
    state.pending.set(id, p);
    const s = pick(msg.n);
    if (s.ready || !strict) send(p, s.ready ? s : state.pool[0]);
    else s.settled.then(() => { if (state.pending.get(id) === p) send(p, s.ready ? s : state.pool[0]); });
  });
}

/** Drops helper `s` (it failed): its frames asked and not answered go to worker 0. */
function dropHelper(s, why) {
  if (s.dead || !state.pool.includes(s)) return; // dropped already, or a file opened since
  s.dead = true;
  s.ready = false;
  s.worker?.terminate();
  s.settle();
  state.dropped.push(`worker ${s.index}: ${why}`);
  for (const p of state.pending.values()) if (p.slot === s) send(p, state.pool[0]);
  poolSettled();
}

function poolSettled() {
  if (state.pool.every((s) => s.ready || s.dead) && state.timing.pool === undefined) state.timing.pool = performance.now();
}

/** Starts the helpers (once a frame is on the canvas): each opens the same source and loads the GOP of
 * the first frame after the one shown that will be its own. */
function startHelpers() {
  if (state.helpersStarted || !state.info) return;
  state.helpersStarted = true;
  const n = state.pool.length, start = Math.max(0, state.cur + 1);
  for (const s of state.pool.slice(1)) {
    const warm = Math.min(state.info.nFrames - 1, start + ((((s.index - start) % n) + n) % n));
    try {
      s.worker = newWorker();
    } catch (err) {
      dropHelper(s, err.message);
      continue;
    }
    wire(s);
    state.timing[`w${s.index}.start`] = performance.now();
    s.worker.postMessage({ type: 'open', ...state.source, warm, layers: state.layers });
    setTimeout(() => { if (!s.ready) dropHelper(s, `not ready after ${HELPER_START_MS} ms`); }, HELPER_START_MS);
  }
}

function poolFps() {
  return state.pool.reduce((sum, s) => sum + (s.ready ? s.fps : 0), 0);
}

function onMessage(s, e) {
  if (s.dead || !state.pool.includes(s)) return; // a file opened since, or a dropped helper
  const m = e.data;
  if (m.type === 'frame' || (m.type === 'error' && m.id)) {
    const p = state.pending.get(m.id);
    state.pending.delete(m.id);
    if (m.type === 'frame') {
      s.fps = m.fps;
      s.frames++;
      p?.resolve(m);
    } else p?.reject(new Error(m.message));
    return;
  }
  if (s.index > 0) {
    // a helper: its timings as w<k>.<name>; ready once warmed up; an error of its own (reading,
    // starting) drops it, worker 0 reads the same file and reports the file's faults
    if (m.type === 'mark') state.timing[`w${s.index}.${m.name}`] = m.t - performance.timeOrigin;
    else if (m.type === 'ready') {
      state.timing[`w${s.index}.ready`] = performance.now();
      s.ready = true;
      s.settle();
      poolSettled();
    } else if (m.type === 'error') dropHelper(s, m.message);
    return;
  }
  if (m.type === 'header') return onHeader(m);
  if (m.type === 'mark') { state.timing[m.name] = m.t - performance.timeOrigin; return; }
  if (m.type === 'gop') return showSize(m.bytes);
  if (m.type === 'end') { state.total = m.bytes; showSize(m.bytes); state.timing.read = performance.now(); return; }
  if (m.type === 'error') {
    for (const p of state.pending.values()) p.reject(new Error(m.message));
    state.pending.clear();
    fail(m.message);
  }
}

// A worker made at page load starts onnxruntime-web's wasm at once, so a file opened later by the
// picker or by drag and drop shows its first frame without waiting for it. Each file after the first
// gets a fresh pool (the old workers, and whatever they were reading, are dropped).
let spare = newWorker();

function open(source, name) {
  for (const s of state.pool) s.worker?.terminate();
  for (const p of state.pending.values()) p.reject(new Error('another file was opened'));
  state.pending.clear();
  Object.assign(state, {
    info: null, total: null, name, source, layers: null, cur: -1, playing: false, token: state.token + 1,
    helpersStarted: false, dropped: [], pool: Array.from({ length: WORKERS }, (_, k) => slot(k)),
  });
  for (const k of Object.keys(state.timing)) delete state.timing[k];
  state.timing.open = performance.now();
  $('frames').textContent = '';
  $('i-name').textContent = name;
  status('reading…');
  const s = state.pool[0];
  s.worker = spare ?? newWorker();
  spare = null;
  wire(s);
  s.worker.postMessage({ type: 'open', ...source });
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
  $('i-speed').textContent = `${poolFps().toFixed(1)} frames/s`;
  // the first frame is on the canvas: now the helpers may start
  if (!state.helpersStarted) setTimeout(startHelpers, 0);
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

// frames asked ahead of the one shown, per worker ready: each renders while the page waits
const AHEAD = 2;
const ahead = () => AHEAD * state.pool.filter((s) => s.ready).length;

/** A request whose rejection counts as handled until it is awaited (a queue's later frames may fail
 * while an earlier one is awaited). */
function queued(msg, strict = false) {
  const r = request(msg, strict);
  r.catch(() => {});
  return r;
}

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
  const ask = () => { while (next < i.nFrames && queue.length < ahead()) queue.push(queued({ n: next++, rgba: true, md5: false })); };
  ask();
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
  // frame 0 alone (then the helpers start), then AHEAD frames a worker not dropped, each frame to its
  // own worker (strict)
  const queue = [];
  let next = 0;
  const ask = (window) => { while (next < i.nFrames && queue.length < window) queue.push(queued({ n: next++ }, true)); };
  try {
    for (let n = 0; n < i.nFrames; n++) {
      ask(n === 0 ? 1 : AHEAD * state.pool.filter((s) => !s.dead).length);
      const f = await queue.shift();
      if (n === 0) {
        state.timing.firstFrame = performance.now();
        startHelpers();
      }
      lines.push(`${n} ${f.md5}`);
      $('frames').textContent = lines.join('\n') + '\n';
      $('i-speed').textContent = `${poolFps().toFixed(1)} frames/s`;
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
  state.layers = Number(e.target.value);
  for (const s of state.pool) if (s.worker && !s.dead) s.worker.postMessage({ type: 'layers', k: state.layers });
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
