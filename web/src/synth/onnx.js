// The map operations of a program as one ONNX graph: inrcodec/decode/onnx_graph.py's `graph_model`,
// written in JavaScript for the browser. The two write the same bytes for the same program (the
// protobuf fields in the same order, the same node and constant names, attributes sorted by name);
// tests/web/test_web_graphs.py compares them for every golden stream, so the player runs the very
// graph the Python ort backend runs.

export const OPSET = 17;
export const IR_VERSION = 8;
const ELEM_FLOAT = 1, ELEM_INT64 = 7;

// -- protobuf wire format ------------------------------------------------------------------------

class Bytes {
  constructor() { this.parts = []; this.length = 0; }
  push(u8) { this.parts.push(u8); this.length += u8.length; return this; }
  bytes() {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}

function cat(...parts) {
  const b = new Bytes();
  for (const p of parts) b.push(p);
  return b.bytes();
}

function varint(n) {
  // LEB128; a negative int64 as two's complement over ten bytes (protobuf)
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

const key = (field, wire) => varint((field << 3) | wire);
const int = (field, n) => cat(key(field, 0), varint(n));
const bytesField = (field, data) => cat(key(field, 2), varint(data.length), data);
const enc = new TextEncoder();
const str = (field, text) => bytesField(field, enc.encode(text));

function floatField(field, x) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return cat(key(field, 5), b);
}

/** A float attribute (ONNX keeps int and float attributes apart; JavaScript numbers do not). */
export class Float {
  constructor(x) { this.x = x; }
}

/** A constant tensor: Float32Array or BigInt64Array data with its shape ([] for a scalar). */
function tensor(name, data, shape) {
  const elem = data instanceof BigInt64Array ? ELEM_INT64 : ELEM_FLOAT;
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // little-endian hosts only
  return cat(...shape.map((d) => int(1, d)), int(2, elem), str(8, name), bytesField(9, raw));
}

function attribute(name, value) {
  if (value instanceof Float) return cat(str(1, name), floatField(2, value.x), int(20, 1));
  if (typeof value === 'number' || typeof value === 'boolean') return cat(str(1, name), int(3, Number(value)), int(20, 2));
  if (typeof value === 'string') return cat(str(1, name), bytesField(4, enc.encode(value)), int(20, 3));
  return cat(str(1, name), ...value.map((v) => int(8, v)), int(20, 7));
}

function valueInfo(name, shape) {
  const dims = cat(...shape.map((d) => bytesField(1, typeof d === 'string' ? str(2, d) : int(1, d))));
  const tensorType = cat(int(1, ELEM_FLOAT), bytesField(2, dims));
  return cat(str(1, name), bytesField(2, bytesField(1, tensorType)));
}

const f32 = (...v) => Float32Array.from(v);
const i64 = (...v) => BigInt64Array.from(v.map(BigInt));

export class Graph {
  constructor(name) {
    this.name = name;
    this.nodes = []; this.inits = []; this.inputs = []; this.outputs = [];
    this.n = 0;
  }
  fresh(op) { this.n += 1; return `${op.toLowerCase()}_${this.n}`; }
  input(name, shape) { this.inputs.push(valueInfo(name, shape)); return name; }
  /** An initializer (a scalar is written with one dimension of 1, as numpy.ascontiguousarray makes it). */
  const(data, shape = [data.length]) {
    const name = this.fresh('const');
    this.inits.push(tensor(name, data, shape));
    return name;
  }
  op(opType, inputs, attrs = {}) {
    const out = this.fresh(opType);
    const names = Object.keys(attrs).sort();
    this.nodes.push(cat(...inputs.map((i) => str(1, i)), str(2, out), str(3, out), str(4, opType),
      ...names.map((k) => bytesField(5, attribute(k, attrs[k])))));
    return out;
  }
  output(name, shape) { this.outputs.push(valueInfo(name, shape)); }
  model() {
    const graph = cat(...this.nodes.map((n) => bytesField(1, n)), str(2, this.name),
      ...this.inits.map((t) => bytesField(5, t)), ...this.inputs.map((i) => bytesField(11, i)),
      ...this.outputs.map((o) => bytesField(12, o)));
    const opset = cat(str(1, ''), int(2, OPSET));
    return cat(int(1, IR_VERSION), str(2, 'inrcodec'), bytesField(7, graph), bytesField(8, opset));
  }

  // the operations of spec/models.md §1b, NCHW (onnx_graph.Graph's methods, in the same order)
  gelu(x) {
    const e = this.op('Erf', [this.op('Div', [x, this.const(f32(Math.SQRT2))])]);
    return this.op('Mul', [this.op('Mul', [x, this.op('Add', [e, this.const(f32(1))])]), this.const(f32(0.5))]);
  }
  conv3x3(x, w, b) { return this.op('Conv', [x, w, b], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }); }
  /** DepthToSpace (CRD) of `channels` channels as a grouped ConvTranspose with a one-hot 2×2 kernel. */
  pixelShuffle(x, channels) {
    const oneHot = new Float32Array(channels * 4);
    for (let ch = 0; ch < channels; ch++) oneHot[ch * 4 + 2 * ((ch % 4) >> 1) + (ch % 2)] = 1;
    return this.op('ConvTranspose', [x, this.const(oneHot, [channels, 1, 2, 2])],
      { group: Math.floor(channels / 4), kernel_shape: [2, 2], strides: [2, 2] });
  }
  up2(x) {
    return this.op('Resize', [x, '', this.const(f32(1, 1, 2, 2))], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  }
  /** conv3x3(up2(x)) for x [N, Cin, h, w] (h, w >= 2) to `channels` channels, folded (onnx_graph.up2_conv3x3). */
  up2Conv3x3(x, prefix, h, w, channels) {
    const bias = `${prefix}.up2.bias`;
    const conv = ([rp, r0, r1], [cp, c0, c1]) => {
      const lo = [Math.max(r0 - 1, 0), Math.max(c0 - 1, 0)], hi = [Math.min(r1 + 1, h), Math.min(c1 + 1, w)];
      const part = lo[0] === 0 && lo[1] === 0 && hi[0] === h && hi[1] === w ? x
        : this.op('Slice', [x, this.const(i64(...lo)), this.const(i64(...hi)), this.const(i64(2, 3))]);
      return this.op('Conv', [part, `${prefix}.up2.${rp}.${cp}.weight`, bias],
        { kernel_shape: [3, 3], pads: [Number(r0 === 0), Number(c0 === 0), Number(r1 === h), Number(c1 === w)] });
    };
    const scatter = (into, pieces, at, axis) => {
      const update = pieces.length === 1 ? pieces[0] : this.op('Concat', pieces, { axis });
      const dims = [1, 1, 1, 1];
      dims[axis] = at.length;
      const index = this.const(i64(...at), dims);
      return this.op('ScatterElements', [into, this.op('Expand', [index, this.op('Shape', [update])]), update], { axis });
    };
    const rows = up2Regions(h), cols = up2Regions(w), everyRow = ['middle', 0, h];
    let out = conv(everyRow, ['middle', 0, w]);
    const edgeCols = cols.filter((c) => c[0] !== 'middle');
    out = scatter(out, edgeCols.map((c) => conv(everyRow, c)), edgeCols.map((c) => c[1]), 3);
    const edgeRows = rows.filter((r) => r[0] !== 'middle');
    const pieces = edgeRows.map((r) => {
      const row = cols.map((c) => conv(r, c));
      return row.length === 1 ? row[0] : this.op('Concat', row, { axis: 3 });
    });
    out = scatter(out, pieces, edgeRows.map((r) => r[1]), 2);
    return this.pixelShuffle(out, 4 * channels);
  }
  sliceChannels(x, start, stop) {
    return this.op('Slice', [x, this.const(i64(start)), this.const(i64(stop)), this.const(i64(1))]);
  }
  instanceNorm(x, channels) {
    return this.op('InstanceNormalization', [x, this.const(new Float32Array(channels).fill(1)), this.const(new Float32Array(channels))],
      { epsilon: new Float(1e-5) });
  }
}

// -- up2 then conv3x3 as one convolution at the low resolution (onnx_graph.py says how and why) ----

export const UP2_PLACES = ['first', 'middle', 'last'];
// up-sampled sample 2i + e (e = -1..2) as weights on x[i-1], x[i], x[i+1]
const UP2_BLEND = new Map([[-1, [[0, 0.75], [1, 0.25]]], [0, [[0, 0.25], [1, 0.75]]], [1, [[1, 0.75], [2, 0.25]]],
  [2, [[1, 0.25], [2, 0.75]]]]);

/** [p][k][d] (onnx_graph.up2_taps): the weight of x[i + d - 1] in the up-sampled sample tap k of phase p reads. */
export function up2Taps(place) {
  const first = place === 'first', last = place === 'last';
  const a = [0, 1].map(() => [0, 1, 2].map(() => [0, 0, 0]));
  for (let p = 0; p < 2; p++) {
    for (let k = 0; k < 3; k++) {
      const e = p + k - 1;
      if ((first && e === -1) || (last && e === 2)) continue;
      for (const [d, weight] of UP2_BLEND.get(e)) a[p][k][(first && d === 0) || (last && d === 2) ? 1 : d] += weight;
    }
  }
  return a;
}

/** The (place, start, stop) regions of a map axis of n >= 2 samples. */
function up2Regions(n) {
  return [['first', 0, 1], ...(n > 2 ? [['middle', 1, n - 1]] : []), ['last', n - 1, n]];
}

/** conv3x3 ops (Map: output -> the up2 op it reads) whose up2 nobody else reads (onnx_graph.fused_up2). */
export function fusedUp2(ops, keep = new Set()) {
  const readers = new Map();
  for (const op of ops) for (const a of op.args) readers.set(a, (readers.get(a) ?? 0) + 1);
  const ups = new Map(ops.filter((op) => op.kind === 'up2' && !keep.has(op.out)).map((op) => [op.out, op]));
  const out = new Map();
  for (const op of ops) {
    if (op.kind === 'conv3x3' && !op.attrs.shuffle && ups.has(op.args[0]) && readers.get(op.args[0]) === 1) {
      out.set(op.out, ups.get(op.args[0]));
    }
  }
  return out;
}

export const UP2_FOLD_AREA = 4096; // onnx_graph.UP2_FOLD_AREA

/** The conv3x3 outputs of fusedUp2 worth folding for these inputs ([value, dims] pairs): onnx_graph.up2_folds. */
export function up2Folds(ops, inputs, keep = new Set(), minArea = UP2_FOLD_AREA) {
  const size = new Map(inputs.filter(([, d]) => d.length === 4).map(([v, d]) => [v, d.slice(2)]));
  for (const op of ops) {
    if (op.args.length && size.has(op.args[0])) {
      const [h, w] = size.get(op.args[0]);
      size.set(op.out, op.kind === 'up2' || op.attrs.shuffle ? [2 * h, 2 * w] : [h, w]);
    }
  }
  const out = new Set();
  for (const [conv, up] of fusedUp2(ops, keep)) {
    const [h, w] = size.get(up.args[0]);
    if (Math.min(h, w) >= 2 && h * w >= minArea) out.add(conv);
  }
  return out;
}

/** The (weight, bias) graph inputs of a conv3x3 or heads op, else null. */
export function weightInputs(op) {
  if (op.kind === 'conv3x3') return [`${op.attrs.prefix}.weight`, `${op.attrs.prefix}.bias`];
  if (op.kind === 'heads') return ['heads.weight', 'heads.bias'];
  return null;
}

/**
 * The ONNX model of `ops` (onnx_graph.graph_model): `inputs` (value -> NCHW or [N, n] dims, a string
 * dimension symbolic) and `weights` (name -> dims) in, in insertion order; `outputs` out channels-last;
 * then, if `heads` names the heads' map, its PixelShuffled luma [N, 1, 2h, 2w] and chroma.
 */
export function graphModel(ops, inputs, weights, outputs, heads = null, fold = new Set()) {
  const g = new Graph('inrcodec');
  const name = {}, shape = {};
  for (const [value, dims] of inputs) { name[value] = g.input(value, dims); shape[value] = dims.slice(1); }
  for (const [w, dims] of weights) g.input(w, dims);
  const wdims = new Map(weights);
  const fused = new Map([...fusedUp2(ops, new Set([...outputs, heads]))].filter(([out]) => fold.has(out)));
  const folded = new Set([...fused.values()].map((up) => up.out));
  for (const op of ops) {
    if (folded.has(op.out)) continue; // made by the conv that reads it
    if (fused.has(op.out)) {
      const up = fused.get(op.out), prefix = op.attrs.prefix;
      const [, h0, w0] = shape[up.args[0]];
      const c = Math.floor(wdims.get(`${prefix}.up2.bias`)[0] / 4);
      let out = g.up2Conv3x3(name[up.args[0]], prefix, h0, w0, c);
      if (op.attrs.gelu) out = g.gelu(out);
      name[op.out] = out; shape[op.out] = [c, 2 * h0, 2 * w0];
      continue;
    }
    const [x, ...rest] = op.args.map((a) => name[a]);
    const s0 = shape[op.args[0]];
    let [c, h, w] = s0.length === 3 ? s0 : [null, null, null];
    let out;
    if (op.kind === 'instance_norm') out = g.instanceNorm(x, c);
    else if (op.kind === 'modulate') {
      const [s, m] = [[0, c], [c, 2 * c]].map(([a, b]) => g.op('Reshape', [g.sliceChannels(rest[0], a, b), g.const(i64(0, c, 1, 1))]));
      out = g.op('Add', [g.op('Mul', [x, g.op('Add', [s, g.const(f32(1))])]), m]);
    } else if (op.kind === 'up2') { out = g.up2(x); h *= 2; w *= 2; }
    else if (op.kind === 'add_tiled') {
      out = g.op('Add', [x, g.op('Tile', [rest[0], g.const(i64(1, 1, Math.floor(h / 2), Math.floor(w / 2)))])]);
    } else if (op.kind === 'conv3x3' || op.kind === 'heads') {
      const [wn, bn] = weightInputs(op);
      out = g.conv3x3(x, wn, bn); c = wdims.get(wn)[0];
      if (op.attrs.shuffle) { out = g.pixelShuffle(out, c); c = Math.floor(c / 4); h *= 2; w *= 2; }
      if (op.attrs.gelu) out = g.gelu(out);
    } else if (op.kind === 'add') out = g.op('Add', [x, rest[0]]);
    else if (op.kind === 'gelu') out = g.gelu(x);
    else throw new Error(`the ort backend has no graph for operation ${op.kind}`);
    name[op.out] = out; shape[op.out] = [c, h, w];
  }
  for (const value of outputs) {
    const [c, h, w] = shape[value];
    const out = g.op('Transpose', [name[value]], { perm: [0, 2, 3, 1] });
    g.output(out, ['N', h, w, c]);
  }
  if (heads !== null) {
    const k = shape[heads][0] - 4;
    g.output(g.pixelShuffle(g.sliceChannels(name[heads], 0, 4), 4), ['N', 1, 'Hy', 'Wy']);
    const chroma = g.sliceChannels(name[heads], 4, 4 + k);
    g.output(k === 8 ? g.pixelShuffle(chroma, k) : chroma, ['N', 2, 'Hc', 'Wc']);
  }
  return g.model();
}
