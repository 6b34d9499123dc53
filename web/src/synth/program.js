// An architecture's computation as data, as inrcodec/archs/program.py writes it: a list of ops
// {kind, out, args, attrs} that the synthesis interprets (spec/models.md §1b, §2, §2b, §2c).
//
// The browser has no Python, so each architecture's `build` is written here a second time, op for
// op. tests/web/test_web_graphs.py holds the two together: for every golden stream and every
// quality of every architecture it compares this module's program (as JSON) and the ONNX graph
// built from it (byte for byte) with Python's. A program that drifts fails there, not in a viewer.

export const MAP_KINDS = new Set(['instance_norm', 'modulate', 'up2', 'add_tiled', 'conv3x3', 'heads']);
export const PATCH_BATCH = 1024; // patches run at a time between `patches` and `unpatch` (program.py)

const ARCH_NAMES = { 1: 'gnerv', 2: 'nirvana', 3: 'hinerv' };

export function archName(archId) {
  const name = ARCH_NAMES[archId];
  if (!name) throw new Error(`unknown architecture id ${archId} (known: ${Object.entries(ARCH_NAMES).map(([k, v]) => `${v} ${k}`).join(', ')})`);
  return name;
}

class Builder {
  constructor() { this.ops = []; }
  _op(kind, args, attrs = {}) {
    const out = `v${this.ops.length}`;
    this.ops.push({ kind, out, args, attrs });
    return out;
  }
  tensor(name, isMap = true) { return this._op('tensor', [], { name, is_map: isMap }); }
  fourier(base, levels) { return this._op('fourier', ['t'], { base, levels }); }
  sinusoid(scale, base, dim) { return this._op('sinusoid', ['t'], { scale, base, dim }); }
  centroids(gridH, gridW, patch, height, width) {
    return this._op('centroids', [], { grid_h: gridH, grid_w: gridW, patch, height, width });
  }
  linear(x, prefix) { return this._op('linear', [x], { prefix }); }
  gelu(x) { return this._op('gelu', [x]); }
  sine(x, w0) { return this._op('sine', [x], { w0 }); }
  add(a, b) { return this._op('add', [a, b]); }
  lerp(grid, isMap) { return this._op('lerp', ['t'], { grid, is_map: isMap }); }
  instanceNorm(x) { return this._op('instance_norm', [x]); }
  modulate(x, sm) { return this._op('modulate', [x, sm]); }
  up2(x) { return this._op('up2', [x]); }
  addTiled(x, loc) { return this._op('add_tiled', [x, loc]); }
  conv3x3(x, prefix, shuffle = false, gelu = false) { return this._op('conv3x3', [x], { prefix, shuffle, gelu }); }
  heads(x) { return this._op('heads', [x]); }
  patches(s, e, channels, side) { return this._op('patches', [s, e], { channels, side }); }
  unpatch(x, gridH, gridW) { return this._op('unpatch', [x], { grid_h: gridH, grid_w: gridW }); }
}

const ceilDiv = (a, b) => Math.floor((a + b - 1) / b);

function trunkStart(width, height, channels) {
  const grid = 2 ** channels.length;
  return [ceilDiv(height, grid), ceilDiv(width, grid)];
}

function checkChannels(name, channels, most) {
  if (channels.some((c) => !(c >= 1 && c <= 1024)) || channels.length > most) {
    throw new Error(`${name} channels must be 1..1024, at most ${most} of them`);
  }
}

// -- the architectures: parse (arch_params -> fields), tensors (wire order), build (the program) ---

const gnerv = {
  parse(p) {
    if (p.length < 5) throw new Error('gnerv needs (up_mode, pe_levels, time_dim, C0, C1, ...) with at least one block');
    const [upMode, peLevels, timeDim, ...channels] = p;
    if (upMode !== 0 && upMode !== 1) throw new Error(`gnerv up_mode must be 0 or 1, not ${upMode}`);
    if (!(peLevels >= 1 && peLevels <= 64) || !(timeDim >= 1 && timeDim <= 1024)) {
      throw new Error('gnerv pe_levels must be 1..64 and time_dim 1..1024');
    }
    checkChannels('gnerv', channels, 8);
    return { upMode, peLevels, timeDim, channels, expand: upMode === 0 ? 4 : 1 };
  },
  tensors(width, height, k, q) {
    const ch = q.channels, d = q.timeDim;
    const out = [['embedding', [1, ch[0], ...trunkStart(width, height, ch)]]];
    out.push(...layer('time_fc', [d, 2 * q.peLevels]));
    for (let j = 0; j + 1 < ch.length; j++) {
      out.push(...layer(`shift.${j}`, [2 * ch[j], d]), ...layer(`convs.${j}`, [q.expand * ch[j + 1], ch[j], 3, 3]));
    }
    return out.concat(headsTensors(ch[ch.length - 1], k));
  },
  build(b, width, height, k, q) {
    const z = b.gelu(b.linear(b.fourier(1.25, q.peLevels), 'time_fc'));
    let x = b.tensor('embedding');
    let [h, w] = trunkStart(width, height, q.channels);
    for (let j = 0; j + 1 < q.channels.length; j++) {
      if (h * w > 1) x = b.instanceNorm(x);
      x = b.modulate(x, b.linear(z, `shift.${j}`));
      x = q.upMode === 0 ? b.conv3x3(x, `convs.${j}`, true, true) : b.conv3x3(b.up2(x), `convs.${j}`, false, true);
      h *= 2; w *= 2;
    }
    return b.heads(x);
  },
};

const hinerv = {
  parse(p) {
    if (p.length < 6) throw new Error('hinerv needs (t0, levels, local_t, mod_t, C0, C1, ...) with at least one stage');
    const [t0, levels, localT, modT, ...channels] = p;
    if (!(t0 >= 1 && t0 <= 256) || !(levels >= 1 && levels <= 4) || !(localT >= 0 && localT <= 256) || !(modT >= 0 && modT <= 256)) {
      throw new Error('hinerv t0 must be 1..256, levels 1..4, local_t and mod_t 0..256');
    }
    checkChannels('hinerv', channels, 8);
    return { t0, levels, localT, modT, channels };
  },
  tensors(width, height, k, q) {
    const ch = q.channels;
    const [eh, ew] = trunkStart(width, height, ch);
    const out = [];
    for (let l = 0; l < q.levels; l++) out.push([`grids.${l}`, [q.t0 * 2 ** l, ch[0], eh, ew]]);
    for (let j = 0; j + 1 < ch.length; j++) {
      if (q.localT) out.push([`local.${j}`, [q.localT, ch[j], 2, 2]]);
      if (q.modT) out.push([`mod.${j}`, [q.modT, 2 * ch[j]]]);
      out.push(...layer(`convs.${j}`, [ch[j + 1], ch[j], 3, 3]));
    }
    return out.concat(headsTensors(ch[ch.length - 1], k));
  },
  build(b, width, height, k, q) {
    let x = b.lerp('grids.0', true);
    for (let l = 1; l < q.levels; l++) x = b.add(x, b.lerp(`grids.${l}`, true));
    for (let j = 0; j + 1 < q.channels.length; j++) {
      x = b.up2(x);
      if (q.localT) x = b.addTiled(x, b.lerp(`local.${j}`, true));
      if (q.modT) x = b.modulate(x, b.lerp(`mod.${j}`, false));
      x = b.conv3x3(x, `convs.${j}`, false, true);
    }
    return b.heads(x);
  },
};

const nirvana = {
  parse(p) {
    if (p.length < 5) throw new Error('nirvana needs (patch, mlp_width, mlp_depth, C0, C1, ...) with at least one block');
    const [patch, mlpWidth, mlpDepth, ...channels] = p;
    if (![8, 16, 32, 64, 128].includes(patch) || patch < 2 ** channels.length) {
      throw new Error(`nirvana patch must be 8..128, a power of two >= 2^(blocks+1), not ${patch}`);
    }
    if (!(mlpWidth >= 1 && mlpWidth <= 2048) || !(mlpDepth >= 1 && mlpDepth <= 16)) {
      throw new Error('nirvana mlp_width must be 1..2048 and mlp_depth 1..16');
    }
    checkChannels('nirvana', channels, 6);
    const h0 = patch / 2 ** channels.length;
    return { patch, mlpWidth, mlpDepth, channels, h0, feature: channels[0] * h0 * h0 };
  },
  tensors(width, height, k, q) {
    const ch = q.channels, m = q.mlpWidth;
    const out = [];
    for (let j = 0; j < q.mlpDepth; j++) out.push(...layer(`mlp.${j}`, [m, j === 0 ? 2 : m]));
    out.push(...layer('to_feature', [q.feature, m]));
    for (let j = 0; j + 1 < ch.length; j++) out.push(...layer(`convs.${j}`, [4 * ch[j + 1], ch[j], 3, 3]));
    return out.concat(headsTensors(ch[ch.length - 1], k));
  },
  build(b, width, height, k, q) {
    const gh = ceilDiv(height, q.patch), gw = ceilDiv(width, q.patch);
    let s = b.centroids(gh, gw, q.patch, height, width);
    for (let j = 0; j < q.mlpDepth; j++) s = b.sine(b.linear(s, `mlp.${j}`), 30.0);
    s = b.linear(s, 'to_feature');
    let x = b.patches(s, b.sinusoid(32.0, 10000.0, q.feature), q.channels[0], q.h0);
    for (let j = 0; j + 1 < q.channels.length; j++) x = b.conv3x3(x, `convs.${j}`, true, true);
    return b.unpatch(b.heads(x), gh, gw);
  },
};

function layer(prefix, shape) { return [[`${prefix}.weight`, shape], [`${prefix}.bias`, [shape[0]]]]; }
function headsTensors(c, k) { return layer('head_y', [4, c, 3, 3]).concat(layer('head_c', [k, c, 3, 3])); }

const ARCHS = { gnerv, hinerv, nirvana };

/** Chroma head outputs: 2 at half resolution (4:2:0), 8 PixelShuffled (4:4:4). */
export function chromaChannels(chroma) {
  if (chroma !== '420' && chroma !== '444') throw new Error(`chroma format ${chroma} is not 420 or 444`);
  return chroma === '420' ? 2 : 8;
}

/** The program of architecture `archId` (or name) for a frame: {ops, output}. */
export function program(arch, width, height, chroma, archParams) {
  const a = ARCHS[typeof arch === 'number' ? archName(arch) : arch];
  if (!a) throw new Error(`unknown architecture ${arch}`);
  const b = new Builder();
  const output = a.build(b, width, height, chromaChannels(chroma), a.parse(archParams.map(Number)));
  return { ops: b.ops, output };
}

/** The coded tensors in wire order: [[name, shape], ...]. */
export function tensorShapes(arch, width, height, chroma, archParams) {
  const a = ARCHS[typeof arch === 'number' ? archName(arch) : arch];
  return a.tensors(width, height, chromaChannels(chroma), a.parse(archParams.map(Number)));
}

/** Whether each value of a program is a map (true) or a vector (numpy_render.value_kinds). */
export function valueKinds(prog) {
  const out = { t: false };
  for (const op of prog.ops) {
    if (op.kind === 'tensor' || op.kind === 'lerp') out[op.out] = op.attrs.is_map;
    else if (op.kind === 'add' || op.kind === 'gelu') out[op.out] = out[op.args[0]];
    else out[op.out] = MAP_KINDS.has(op.kind) || op.kind === 'patches' || op.kind === 'unpatch';
  }
  return out;
}

/** Outputs of the ops that read only weights: computed once a GOP (numpy_render.constant_ops). */
export function constantOps(prog) {
  const c = new Set();
  for (const op of prog.ops) if (op.args.every((a) => c.has(a))) c.add(op.out);
  return c;
}
