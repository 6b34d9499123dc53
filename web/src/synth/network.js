// Synthesis: a GOP's float32 weights -> integer frames (spec/models.md §1b, §2–§2c, §7, §8).
//
// As the Python ort backend (inrcodec/decode/onnx_graph.py, OrtNetwork) does, a layer's program is
// cut in three: the operations on maps run as one ONNX graph (onnx.js, run by onnxruntime-web), the
// cheap per-frame ones before it (time encodings, MLPs, temporal interpolation, patch features) and
// after it (nirvana's unpatch) run here, and then the heads' PixelShuffle, crop and offset, the layers'
// sum and the one rounding to integers. One session per layer serves every GOP: the weights are
// graph inputs. Values are {data: Float32Array, dims}, maps NCHW as the weights and the graph lay them out.

import { MAP_KINDS, PATCH_BATCH, constantOps, program, tensorShapes, valueKinds } from './program.js';
import { UP2_PLACES, graphModel, up2Folds, up2Taps, weightInputs } from './onnx.js';

const fr = Math.fround;
export const RENDER_BATCH = 4; // frames per network call from a GOP's first (inrcodec/decode/batch.py)

const numel = (dims) => dims.reduce((a, b) => a * b, 1);
const val = (data, dims) => ({ data, dims });

// -- §1b host operations, binary32 ------------------------------------------------------------------

function fma32(a, b, c) { return fr(a * b + c); } // a·b is exact in binary64 for binary32 a, b

const ERF_P = fr(0.3275911);
const ERF_A = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592].map(fr);
const SQRT1_2 = fr(Math.SQRT1_2);

/** erf of a binary32 value as torch's CPU kernel (and numpy_render._erf) computes it. */
function erf32(u) {
  const a = Math.abs(u);
  const t = fr(1 / fma32(a, ERF_P, 1));
  let r = fma32(t, ERF_A[0], ERF_A[1]);
  for (let i = 2; i < 5; i++) r = fma32(r, t, ERF_A[i]);
  const e = fr(Math.exp(-fr(u * u)));
  const out = fma32(fr(-e * t), r, 1);
  return u < 0 || Object.is(u, -0) ? -out : out;
}

function gelu(x) {
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i];
    out[i] = fr(fr(v * 0.5) * fr(erf32(fr(v * SQRT1_2)) + 1));
  }
  return val(out, x.dims);
}

function fourier(t, base, levels) {
  const out = new Float32Array(t.length * 2 * levels);
  const pi = fr(Math.PI);
  const freqs = Array.from({ length: levels }, (_, l) => fr(fr(base ** l) * pi));
  t.forEach((tv, b) => freqs.forEach((f, l) => {
    const a = fr(tv * f);
    out[b * 2 * levels + 2 * l] = fr(Math.sin(a));
    out[b * 2 * levels + 2 * l + 1] = fr(Math.cos(a));
  }));
  return val(out, [t.length, 2 * levels]);
}

function sinusoid(t, scale, base, dim) {
  const half = Math.floor(dim / 2);
  const div = Array.from({ length: half }, (_, i) => fr(base ** fr(fr(2 * i) / dim)));
  const out = new Float32Array(t.length * dim);
  t.forEach((tv, b) => {
    const u = fr(scale * tv);
    for (let i = 0; i < half; i++) {
      const a = fr(u / div[i]);
      out[b * dim + 2 * i] = fr(Math.sin(a));
      out[b * dim + 2 * i + 1] = fr(Math.cos(a));
    }
  });
  return val(out, [t.length, dim]);
}

function centroids({ grid_h: gh, grid_w: gw, patch, height, width }) {
  const out = new Float32Array(gh * gw * 2);
  for (let r = 0; r < gh; r++) {
    const y = fr(2 * fr(((r + 0.5) * patch) / height) - 1);
    for (let c = 0; c < gw; c++) {
      out[2 * (r * gw + c)] = fr(2 * fr(((c + 0.5) * patch) / width) - 1);
      out[2 * (r * gw + c) + 1] = y;
    }
  }
  return val(out, [gh * gw, 2]);
}

function linear(x, w, b) {
  const [o, i] = w.dims, n = x.data.length / i;
  const out = new Float32Array(n * o);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < o; j++) {
      let s = 0;
      for (let k = 0; k < i; k++) s += w.data[j * i + k] * x.data[r * i + k];
      out[r * o + j] = fr(s + b.data[j]);
    }
  }
  return val(out, [n, o]);
}

function add(a, b) {
  // broadcasting a batch of one
  const [big, small] = a.data.length >= b.data.length ? [a, b] : [b, a];
  const out = new Float32Array(big.data.length), m = small.data.length;
  for (let i = 0; i < out.length; i++) out[i] = fr(big.data[i] + small.data[i % m]);
  return val(out, big.dims);
}

function lerp(grid, t) {
  // §2c: p = t·N − ½ clamped to [0, N−1], G[i0]·(1 − f) + G[i1]·f, every operation binary32
  const n = grid.dims[0], per = grid.data.length / n;
  const out = new Float32Array(t.length * per);
  t.forEach((tv, b) => {
    const p = Math.min(Math.max(fr(fr(tv * n) - 0.5), 0), n - 1);
    const i0 = Math.floor(p), i1 = Math.min(i0 + 1, n - 1), f = fr(p - i0), g = fr(1 - f);
    for (let k = 0; k < per; k++) {
      out[b * per + k] = fr(fr(grid.data[i0 * per + k] * g) + fr(grid.data[i1 * per + k] * f));
    }
  });
  return val(out, [t.length, ...grid.dims.slice(1)]);
}

function instanceNorm(x) {
  // §1b.7 per frame and channel, the statistics in binary64, then x·α + β (numpy_render._instance_norm)
  const [n, c, h, w] = x.dims, hw = h * w, out = new Float32Array(x.data.length);
  for (let o = 0; o < n * c; o++) {
    const d = x.data.subarray(o * hw, (o + 1) * hw);
    let mean = 0;
    for (let i = 0; i < hw; i++) mean += d[i];
    mean /= hw;
    let v = 0;
    for (let i = 0; i < hw; i++) v += (d[i] - mean) ** 2;
    const alpha = fr(1 / Math.sqrt(v / hw + 1e-5)), beta = -fr(fr(mean) * alpha);
    for (let i = 0; i < hw; i++) out[o * hw + i] = fr(fr(d[i] * alpha) + beta);
  }
  return val(out, x.dims);
}

function patches(s, e, channels, side) {
  const [p, f] = s.dims, b = e.dims[0];
  const out = new Float32Array(b * p * f);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < p; j++) {
      const o = (i * p + j) * f;
      for (let k = 0; k < f; k++) out[o + k] = fr(s.data[j * f + k] + e.data[i * f + k]);
    }
  }
  return val(out, [b * p, channels, side, side]);
}

/** [B·P, h, w, K] channels-last patch heads -> [B, gh·h, gw·w, K], patch (r, c) at rows r·h, columns c·w. */
function unpatch(x, gh, gw) {
  const [n, h, w, k] = x.dims, b = n / (gh * gw);
  const H = gh * h, W = gw * w, out = new Float32Array(b * H * W * k);
  for (let i = 0; i < b; i++) {
    for (let r = 0; r < gh; r++) {
      for (let c = 0; c < gw; c++) {
        const src = ((i * gh + r) * gw + c) * h * w * k;
        for (let y = 0; y < h; y++) {
          const dst = ((i * H + r * h + y) * W + c * w) * k;
          out.set(x.data.subarray(src + y * w * k, src + (y + 1) * w * k), dst);
        }
      }
    }
  }
  return val(out, [b, H, W, k]);
}

// -- one layer's network --------------------------------------------------------------------------

export class Network {
  /**
   * @param {object} ort  the onnxruntime-web module
   * @param {object} layer  {archId, archParams, width, height, chroma ('420'|'444'), offset}
   */
  constructor(ort, { archId, archParams, width, height, chroma, offset }, sessionOptions = {}) {
    this.ort = ort;
    this.width = width; this.height = height; this.chroma = chroma;
    this.offset = fr(offset);
    this.specs = tensorShapes(archId, width, height, chroma, archParams);
    this.program = program(archId, width, height, chroma, archParams);
    this.sessionOptions = sessionOptions;
    this.session = null;
    this.isMap = valueKinds(this.program);
    const cons = constantOps(this.program);
    this.constOps = this.program.ops.filter((op) => cons.has(op.out));
    const frameOps = this.program.ops.filter((op) => !cons.has(op.out));
    // the cut of OrtNetwork.__init__: maps to the graph, the rest before or after it
    const graph = new Set();
    for (const op of frameOps) {
      if (MAP_KINDS.has(op.kind) || ((op.kind === 'add' || op.kind === 'gelu') && op.args.some((a) => graph.has(a)))) graph.add(op.out);
    }
    this.graphOps = frameOps.filter((op) => graph.has(op.out));
    let pre = frameOps.filter((op) => !graph.has(op.out));
    const post = new Set();
    for (const op of pre) if (op.args.some((a) => graph.has(a) || post.has(a))) post.add(op.out);
    this.postOps = pre.filter((op) => post.has(op.out));
    this.preOps = pre.filter((op) => !post.has(op.out));
    const made = new Set(this.graphOps.map((op) => op.out));
    this.inputs = [...new Set(this.graphOps.flatMap((op) => op.args.filter((a) => !made.has(a))))].sort();
    this.outputs = [...new Set(this.postOps.flatMap((op) => op.args.filter((a) => made.has(a))))].sort();
    this.heads = made.has(this.program.output) ? this.program.output : null;
    this.chunked = new Set(this.preOps.filter((op) => op.kind === 'patches').map((op) => op.out));
    this.w = null;
    this.fold = null; // the convs folded with their up2 (up2Folds), from the first weights
  }

  /** Take the GOP's float32 weights: Float32Arrays in wire order (as tensorShapes gives them), or the
   * decoder core's Map of name -> {shape, data} (web/README.md). `zeros`: they are prepare()'s zeros,
   * whose fold is zeros (not computed: it would only delay the first frame). */
  load(arrays, zeros = false) {
    if (arrays instanceof Map) {
      arrays = this.specs.map(([name]) => {
        if (!arrays.has(name)) throw new Error(`the decoded model has no tensor ${name}`);
        return arrays.get(name).data;
      });
    }
    if (arrays.length !== this.specs.length) throw new Error(`expected ${this.specs.length} tensors, got ${arrays.length}`);
    const w = {};
    this.specs.forEach(([name, dims], i) => {
      const a = arrays[i];
      if (a.length !== numel(dims)) throw new Error(`${name}: ${a.length} values, the network needs ${numel(dims)}`);
      w[name] = val(a instanceof Float32Array ? a : Float32Array.from(a), dims);
    });
    this.w = w;
    this.consts = {};
    for (const op of this.constOps) this.consts[op.out] = this.execute(op, this.consts);
    if (!this.fold) this.fold = up2Folds(this.graphOps, this.graphInputs(), new Set([...this.outputs, this.heads]));
    this.feedWeights = this.convFeed(zeros);
  }

  /** The graph's weight inputs (OrtNetwork._conv_feed): each conv's weight and bias, the heads
   * concatenated; those of the convs in this.fold folded with up2 (foldUp2Conv), a bias for each phase. */
  convFeed(zeros = false) {
    const feed = new Map();
    for (const op of this.graphOps) {
      const names = weightInputs(op);
      if (!names) continue;
      if (this.fold.has(op.out)) {
        const prefix = op.attrs.prefix, w = this.w[names[0]], b = this.w[names[1]];
        const [c, cin] = w.dims;
        const folded = zeros ? new Map(UP2_PLACES.flatMap((r) => UP2_PLACES.map((q) => [`${r}.${q}`, new Float32Array(36 * c * cin)])))
          : foldUp2Conv(w.data, c, cin);
        for (const [place, kernel] of folded) feed.set(`${prefix}.up2.${place}.weight`, val(kernel, [4 * c, cin, 3, 3]));
        const bias = new Float32Array(4 * c);
        for (let i = 0; i < bias.length; i++) bias[i] = b.data[i >> 2];
        feed.set(`${prefix}.up2.bias`, val(bias, [4 * c]));
      } else if (op.kind === 'heads') {
        const [y, c, yb, cb] = ['head_y.weight', 'head_c.weight', 'head_y.bias', 'head_c.bias'].map((n) => this.w[n]);
        feed.set(names[0], val(concat(y.data, c.data), [y.dims[0] + c.dims[0], ...y.dims.slice(1)]));
        feed.set(names[1], val(concat(yb.data, cb.data), [yb.dims[0] + cb.dims[0]]));
      } else {
        feed.set(names[0], this.w[names[0]]);
        feed.set(names[1], this.w[names[1]]);
      }
    }
    return feed;
  }

  execute(op, env) {
    const a = op.attrs, v = op.args.map((x) => env[x]);
    switch (op.kind) {
      case 'tensor': return this.w[a.name];
      case 'fourier': return fourier(v[0].data, a.base, a.levels);
      case 'sinusoid': return sinusoid(v[0].data, a.scale, a.base, a.dim);
      case 'centroids': return centroids(a);
      case 'linear': return linear(v[0], this.w[`${a.prefix}.weight`], this.w[`${a.prefix}.bias`]);
      case 'gelu': return gelu(v[0]);
      case 'sine': {
        const out = new Float32Array(v[0].data.length);
        const w0 = fr(a.w0);
        for (let i = 0; i < out.length; i++) out[i] = fr(Math.sin(fr(w0 * v[0].data[i])));
        return val(out, v[0].dims);
      }
      case 'add': return add(v[0], v[1]);
      case 'lerp': return lerp(this.w[a.grid], v[0].data);
      case 'instance_norm': return instanceNorm(v[0]);
      case 'patches': return patches(v[0], v[1], a.channels, a.side);
      case 'unpatch': return unpatch(v[0], a.grid_h, a.grid_w);
      default: throw new Error(`no host operation ${op.kind}`);
    }
  }

  /** The graph's inputs' dims, [name, dims] (OrtNetwork._graph_inputs: shapes from one frame). */
  graphInputs() {
    const env = { ...this.consts, t: val(new Float32Array(1), [1]) };
    for (const op of this.preOps) env[op.out] = this.execute(op, env);
    return this.inputs.map((n) => {
      const dims = env[n].dims;
      return [n, n in this.consts ? dims : ['N', ...dims.slice(1)]];
    });
  }

  /** The serialized ONNX model of the map operations (OrtNetwork.graph). */
  graph() {
    const weights = [...this.feedWeights].map(([n, x]) => [n, x.dims]);
    return graphModel(this.graphOps, this.graphInputs(), weights, this.outputs, this.heads, this.fold);
  }

  session_() {
    if (!this.session) this.session = this.ort.InferenceSession.create(this.graph(), this.sessionOptions);
    return this.session;
  }

  /** Make the session before the first weights arrive (the graph needs only their shapes), so that a
   * player can build it while the file is still downloading. */
  prepare() {
    if (!this.w) this.load(this.specs.map(([, dims]) => new Float32Array(numel(dims))), true);
    return this.session_();
  }

  /** Planes [Y, U, V] (Float32Array [B·h·w] each, with dims) of the frames at time positions t. */
  async run(t) {
    if (!this.w) throw new Error('load weights first');
    const session = await this.session_();
    const T = this.ort.Tensor;
    const env = { ...this.consts, t: val(Float32Array.from(t), [t.length]) };
    for (const op of this.preOps) env[op.out] = this.execute(op, env);
    const feed = {};
    for (const [n, x] of this.feedWeights) feed[n] = new T('float32', x.data, x.dims);
    for (const n of this.inputs) feed[n] = new T('float32', env[n].data, env[n].dims);
    let results;
    const chunked = this.inputs.filter((n) => this.chunked.has(n));
    if (chunked.length) {
      // patches: a bounded batch at a time, concatenated
      const total = env[chunked[0]].dims[0];
      const parts = [];
      for (let i = 0; i < total; i += PATCH_BATCH) {
        const f = { ...feed };
        for (const n of chunked) {
          const x = env[n], per = numel(x.dims.slice(1)), m = Math.min(PATCH_BATCH, total - i);
          f[n] = new T('float32', x.data.subarray(i * per, (i + m) * per), [m, ...x.dims.slice(1)]);
        }
        parts.push(await session.run(f));
      }
      results = session.outputNames.map((name) => {
        const ts = parts.map((p) => p[name]);
        const data = concat(...ts.map((x) => x.data));
        return val(data, [ts.reduce((s, x) => s + x.dims[0], 0), ...ts[0].dims.slice(1)]);
      });
    } else {
      const out = await session.run(feed);
      results = session.outputNames.map((name) => val(out[name].data, out[name].dims.slice()));
    }
    this.outputs.forEach((n, i) => { env[n] = results[i]; });
    if (this.heads !== null) return this.crop(results[this.outputs.length], results[this.outputs.length + 1]);
    for (const op of this.postOps) env[op.out] = this.execute(op, env);
    return this.planes(env[this.program.output]);
  }

  chromaShape() {
    return this.chroma === '420' ? [Math.ceil(this.height / 2), Math.ceil(this.width / 2)] : [this.height, this.width];
  }

  /** §1b.8 from the graph's shuffled heads (NCHW luma [B,1,2h,2w], chroma [B,2,hc,wc]): cropped, + offset. */
  crop(y, c) {
    const b = y.dims[0];
    const [ch, cw] = this.chromaShape();
    return [
      cropPlanes(y, 0, b, this.height, this.width, this.offset),
      cropPlanes(c, 0, b, ch, cw, this.offset),
      cropPlanes(c, 1, b, ch, cw, this.offset),
    ];
  }

  /** §1b.8 from a channels-last heads map [B, h, w, 4 + k] (nirvana, after unpatch). */
  planes(heads) {
    const [b, h, w, k] = heads.dims, d = heads.data, off = this.offset;
    const H = this.height, W = this.width, [ch, cw] = this.chromaShape();
    const Y = new Float32Array(b * H * W), U = new Float32Array(b * ch * cw), V = new Float32Array(b * ch * cw);
    for (let i = 0; i < b; i++) {
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          const src = ((i * h + (r >> 1)) * w + (c >> 1)) * k + 2 * (r & 1) + (c & 1);
          Y[(i * H + r) * W + c] = fr(d[src] + off);
        }
      }
      for (let r = 0; r < ch; r++) {
        for (let c = 0; c < cw; c++) {
          let su, sv;
          if (k === 6) {
            su = ((i * h + r) * w + c) * k + 4; sv = su + 1;
          } else { // 4:4:4: channels 4–7 (Cb) and 8–11 (Cr), each PixelShuffled
            su = ((i * h + (r >> 1)) * w + (c >> 1)) * k + 4 + 2 * (r & 1) + (c & 1); sv = su + 4;
          }
          U[(i * ch + r) * cw + c] = fr(d[su] + off);
          V[(i * ch + r) * cw + c] = fr(d[sv] + off);
        }
      }
    }
    return [val(Y, [b, H, W]), val(U, [b, ch, cw]), val(V, [b, ch, cw])];
  }

  async release() {
    const s = this.session;
    this.session = null;
    if (s) await (await s).release();
  }
}

/**
 * A conv3x3 weight [c, cin, 3, 3] folded with up2 for each (row, column) place of a region of x
 * (onnx_graph.fold_up2_conv, value for value): Map 'row.column' -> Float32Array [4c, cin, 3, 3], channel
 * 4o + 2py + px the phase (py, px) of channel o. In binary64, the columns first (a sum over kx), then
 * the rows (a sum over ky), each sum from 0 in tap order, then rounded to binary32.
 */
export function foldUp2Conv(wd, c, cin) {
  // the loops run over every (o, i) innermost, the few nonzero blend weights hoisted: long simple loops
  // that V8 optimises at once (nested per-value loops stayed interpreted for ~0.4 s on the first GOP
  // while onnxruntime's threads held the cores); skipping a zero term leaves every sum's bits unchanged
  const n = UP2_PLACES.length, m = c * cin;
  const taps = UP2_PLACES.map(up2Taps);
  const t = []; // [ky][column place][px][dx]: Float64Array over (o, i)
  for (let ky = 0; ky < 3; ky++) {
    for (let q = 0; q < n; q++) {
      for (let px = 0; px < 2; px++) {
        for (let dx = 0; dx < 3; dx++) {
          const s = new Float64Array(m);
          for (let kx = 0; kx < 3; kx++) {
            const a = taps[q][px][kx][dx], off = ky * 3 + kx;
            if (a !== 0) for (let e = 0; e < m; e++) s[e] += wd[e * 9 + off] * a;
          }
          t.push(s);
        }
      }
    }
  }
  const folded = new Map(), acc = new Float64Array(m);
  UP2_PLACES.forEach((row, r) => UP2_PLACES.forEach((col, q) => {
    const k = new Float32Array(36 * m);
    for (let py = 0; py < 2; py++) {
      for (let px = 0; px < 2; px++) {
        for (let dy = 0; dy < 3; dy++) {
          for (let dx = 0; dx < 3; dx++) {
            acc.fill(0);
            for (let ky = 0; ky < 3; ky++) {
              const b = taps[r][py][ky][dy], src = t[((ky * n + q) * 2 + px) * 3 + dx];
              if (b !== 0) for (let e = 0; e < m; e++) acc[e] += b * src[e];
            }
            const at = (py * 2 + px) * cin * 9 + dy * 3 + dx;
            for (let o = 0; o < c; o++) {
              for (let i = 0; i < cin; i++) k[o * 36 * cin + at + i * 9] = acc[o * cin + i];
            }
          }
        }
      }
    }
    folded.set(`${row}.${col}`, k);
  }));
  return folded;
}

function concat(...arrays) {
  const out = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of arrays) { out.set(a, o); o += a.length; }
  return out;
}

function cropPlanes(x, channel, b, rows, cols, off) {
  const [, C, h, w] = x.dims;
  const out = new Float32Array(b * rows * cols);
  for (let i = 0; i < b; i++) {
    for (let r = 0; r < rows; r++) {
      const src = ((i * C + channel) * h + r) * w, dst = (i * rows + r) * cols;
      for (let c = 0; c < cols; c++) out[dst + c] = fr(x.data[src + c] + off);
    }
  }
  return val(out, [b, rows, cols]);
}

// -- the file's layers, summed and rounded ----------------------------------------------------------

/** spec/models.md §7: round_half_even(clamp(v, 0, 1) · (2^D − 1)) in binary32; NaN gives 0. */
export function toSamples(v, bitDepth) {
  const peak = 2 ** bitDepth - 1;
  const out = bitDepth <= 8 ? new Uint8Array(v.length) : new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) {
    let x = v[i];
    if (!(x > 0)) x = 0; else if (x > 1) x = 1;
    x = fr(x * peak);
    const f = Math.floor(x), d = x - f;
    out[i] = d > 0.5 || (d === 0.5 && (f & 1)) ? f + 1 : f;
  }
  return out;
}

export class Synthesis {
  /**
   * @param {object} ort  onnxruntime-web
   * @param {object} info {width, height, chroma ('420'|'444'), bitDepth, gopSize,
   *   layers: [{archId, archParams, scale}]} — layer 0 the base network
   */
  constructor(ort, info, sessionOptions = {}) {
    this.info = info;
    this.nets = info.layers.map((l, k) => [new Network(ort, {
      archId: l.archId, archParams: l.archParams, width: info.width, height: info.height, chroma: info.chroma,
      offset: k === 0 ? 0.5 : 0,
    }, sessionOptions), fr(l.scale ?? 1)]);
  }

  /** Build every layer's session now (before the weights: see Network.prepare). */
  prepare() { return Promise.all(this.nets.map(([net]) => net.prepare())); }

  /** Each layer's float32 weights in wire order: weights[layer][tensor]. */
  load(weights) { this.nets.forEach(([net], k) => net.load(weights[k])); }

  /** Y, U, V samples of the GOP's frames at offsets `offsets` (one network call): [[Y, U, V], ...] per frame. */
  async render(offsets) {
    const t = offsets.map((i) => fr(i / this.info.gopSize));
    let planes = await this.nets[0][0].run(t);
    for (const [net, scale] of this.nets.slice(1)) {
      const r = await net.run(t);
      planes = planes.map((p, j) => {
        const out = new Float32Array(p.data.length);
        for (let i = 0; i < out.length; i++) out[i] = fr(p.data[i] + fr(r[j].data[i] / scale));
        return val(out, p.dims);
      });
    }
    const samples = planes.map((p) => toSamples(p.data, this.info.bitDepth));
    return offsets.map((_, f) => samples.map((s, j) => {
      const per = planes[j].dims[1] * planes[j].dims[2];
      return s.subarray(f * per, (f + 1) * per);
    }));
  }

  async release() { for (const [net] of this.nets) await net.release(); }
}
