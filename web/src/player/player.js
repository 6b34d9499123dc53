// The player's engine, the same in a Web Worker and under node: bytes in (streamed), frames out.
//
// It feeds the decoder core (web/src/format, its API in web/README.md) the file's bytes as they
// arrive; each GOP becomes playable as soon as its chunks are in (the core's "gop" events), so the
// first frame shows long before a large file is read. A frame request waits for its GOP, has the core
// decode its models (the core decodes a GOM's models once, from its I-model), loads the weights into
// the synthesis (web/src/synth) and renders the frame.
//
// inrcodec's decoders render a GOP's frames in batches of RENDER_BATCH from its first, because with
// their kernels the batch can change a frame's roundings. onnxruntime-web's wasm kernels give every
// frame the same samples whichever batch it is in (tests/web/test_web_synthesis.py checks it on every
// golden stream), so the player renders one frame at a time (PLAYER_BATCH): the first frame and a seek
// cost one frame's synthesis, not four.

import { Synthesis } from '../synth/network.js';
import { archName } from '../synth/program.js';
import { frameMd5 } from './md5.js';

const CHROMA = { 0: '420', 1: '444' };
export const PLAYER_BATCH = 1; // frames a synthesis call (see above); RENDER_BATCH would be inrcodec's

export class Player {
  /**
   * @param {object} ort  onnxruntime-web
   * @param {object} format  the decoder core (web/src/format/index.js)
   * @param {object} sessionOptions  onnxruntime-web session options
   */
  constructor(ort, format, sessionOptions = { executionProviders: ['wasm'] }) {
    this.ort = ort;
    this.format = format;
    this.sessionOptions = sessionOptions;
    this.file = null;
    this.info = null;
    this.bytes = 0;
    this.complete = false;
    this.error = null;
    this.layersWanted = null; // decode only the first k layers from the header on (null: all)
    this.gopDecoders = new Map(); // GOP index -> () => Promise<models[layer]>
    this.waiters = new Map(); // GOP index -> [{resolve, reject}]
    this.batch = null; // {key, frames}
    this.loaded = null; // GOP whose weights the synthesis holds
    this.queue = Promise.resolve(); // renders run one at a time
    this.renderMs = 0;
    this.rendered = 0;
    this.onHeader = () => {};
    this.onGop = () => {};
  }

  /** Reads `readable` (a ReadableStream or async iterable of Uint8Array) to its end, feeding the core. */
  async read(readable) {
    const stream = new this.format.InrStream();
    try {
      if (readable.getReader) {
        const reader = readable.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          this.push(stream, value);
        }
      } else {
        for await (const chunk of readable) this.push(stream, chunk);
      }
      stream.end();
      this.complete = true;
      if (!this.file) throw new this.format.InrTruncatedError('the file ends before its sequence header');
      for (const [gop, list] of this.waiters) {
        for (const w of list) w.reject(new this.format.InrFormatError(`GOP ${gop}: not in the file`));
      }
      this.waiters.clear();
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  push(stream, chunk) {
    this.bytes += chunk.length;
    for (const ev of stream.push(chunk)) {
      if (ev.type === 'header') this.setFile(ev.file);
      else if (ev.type === 'gop') this.addGop(ev.index, () => ev.decode());
    }
  }

  fail(err) {
    this.error = err;
    for (const list of this.waiters.values()) for (const w of list) w.reject(err);
    this.waiters.clear();
  }

  setFile(file) {
    this.file = file;
    const h = file.header;
    this.info = {
      width: h.width, height: h.height, nFrames: h.nFrames, fpsNum: h.fpsNum, fpsDen: h.fpsDen,
      chroma: CHROMA[h.chromaFormat], bitDepth: h.bitDepth, gopSize: h.gopSize, gomSize: h.gomSize,
      colorRange: h.colorRange, matrix: h.matrix,
      layers: file.layers.map((l) => ({ archId: l.archId, arch: archName(l.archId), archParams: l.archParams, scale: l.residualScale ?? 1 })),
    };
    const n = this.info.layers.length;
    this.setLayers(this.layersWanted ? Math.min(this.layersWanted, n) : n);
    this.onHeader(this.info);
  }

  /** Decode only the first `k` layers from now on (the page's layer selector). */
  setLayers(k) {
    const old = this.synth;
    this.nLayers = k;
    this.synth = new Synthesis(this.ort, { ...this.info, layers: this.info.layers.slice(0, k) }, this.sessionOptions);
    this.loaded = null;
    this.batch = null;
    // the sessions are built while the first GOP downloads; a failure shows at the first frame
    this.synth.prepare().catch(() => {});
    if (old) this.queue = this.queue.then(() => old.release());
  }

  addGop(gop, decode) {
    this.gopDecoders.set(gop, decode);
    for (const w of this.waiters.get(gop) ?? []) w.resolve();
    this.waiters.delete(gop);
    this.onGop(gop);
  }

  /** Resolves when GOP `gop`'s chunks have arrived. */
  arrived(gop) {
    if (this.gopDecoders.has(gop)) return Promise.resolve();
    if (this.error) return Promise.reject(this.error);
    if (this.complete) return Promise.reject(new this.format.InrFormatError(`GOP ${gop}: not in the file`));
    return new Promise((resolve, reject) => {
      if (!this.waiters.has(gop)) this.waiters.set(gop, []);
      this.waiters.get(gop).push({ resolve, reject });
    });
  }

  /** Frame `n`: {index, planes [Y, U, V] (Uint8Array, or Uint16Array above 8 bits), md5} (md5 null
   * unless `withMd5`: the digest costs about a tenth of a frame's synthesis). */
  async frame(n, withMd5 = true) {
    if (!this.info) throw new Error('no file open');
    const { nFrames, gopSize } = this.info;
    if (!(Number.isInteger(n) && n >= 0 && n < nFrames)) throw new RangeError(`frame ${n} outside 0..${nFrames - 1}`);
    const gop = Math.floor(n / gopSize);
    const offset = n - gop * gopSize, first = offset - (offset % PLAYER_BATCH);
    await this.arrived(gop);
    const run = this.queue.then(() => this.renderBatch(gop, first));
    this.queue = run.catch(() => {});
    const frames = await run;
    const planes = frames[offset - first];
    return { index: n, planes, md5: withMd5 ? frameMd5(planes) : null };
  }

  /** Makes the sessions and loads the weights of frame `n`'s GOP (once its chunks are in), as its render
   * would, without rendering: a pool worker's start (worker.js), so that its first frame asked costs a
   * frame and no more. */
  async preload(n) {
    if (!this.info) throw new Error('no file open');
    const gop = Math.floor(Math.max(0, Math.min(n, this.info.nFrames - 1)) / this.info.gopSize);
    await this.arrived(gop);
    const run = this.queue.then(async () => {
      await this.synth.prepare();
      await this.loadGop(gop);
    });
    this.queue = run.catch(() => {});
    await run;
  }

  async loadGop(gop) {
    if (this.loaded === gop) return;
    const models = await this.gopDecoders.get(gop)();
    this.synth.load(models.slice(0, this.nLayers).map((m) => m.weights));
    this.loaded = gop;
  }

  async renderBatch(gop, first) {
    const key = `${this.nLayers}/${gop}/${first}`;
    if (this.batch?.key === key) return this.batch.frames;
    const count = Math.min(this.info.nFrames - gop * this.info.gopSize, this.info.gopSize);
    const t0 = performance.now();
    await this.loadGop(gop);
    const offsets = [];
    for (let i = first; i < Math.min(count, first + PLAYER_BATCH); i++) offsets.push(i);
    const frames = await this.synth.render(offsets);
    this.renderMs += performance.now() - t0;
    this.rendered += frames.length;
    this.batch = { key, frames };
    return frames;
  }

  /** Frames rendered a second so far (synthesis and weight decoding, not waiting for bytes). */
  get fps() { return this.renderMs > 0 ? (1000 * this.rendered) / this.renderMs : 0; }
}
