/**
 * The architectures of spec/models.md (§2 gnerv, §2b nirvana, §2c hinerv) as far as the decoder
 * core needs them: arch_params checked and parsed, the coded tensors in wire order (name, shape,
 * bound of the seeded initialisation, whether the tensor travels in the residual BLOB), and the
 * level's measures of spec/levels.md §3, in BigInt (a product of several header fields can pass
 * 2^53). Names and shapes are those of the reference decoder's tensors, which its ONNX graphs read.
 */
import { InrFormatError, InrUnsupportedError } from "./errors.js";

const MAX_CODED_PARAMS = 2n ** 24n;

/**
 * @typedef {{name: string, shape: number[], numel: number, initBound: number, blob: boolean}} TensorSpec
 * @typedef {{params: bigint, macs: bigint, padded: bigint, activation: bigint}} Cost
 */

function tensor(name, shape, initBound, blob = false) {
  return { name, shape, numel: shape.reduce((a, b) => a * b, 1), initBound, blob };
}

/** 1/√fan_in (spec/models.md §5): fan_in is the product of the dimensions after the first. */
function fanInBound(shape) {
  return 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1));
}

/** A weight (bound default 1/√fan_in) and its zero-initialised bias. */
function layer(prefix, shape, bound = undefined, blob = false) {
  return [
    tensor(`${prefix}.weight`, shape, bound === undefined ? fanInBound(shape) : bound, blob),
    tensor(`${prefix}.bias`, [shape[0]], 0, blob),
  ];
}

function heads(c, k, blob = false) {
  return [...layer("head_y", [4, c, 3, 3], undefined, blob), ...layer("head_c", [k, c, 3, 3], undefined, blob)];
}

function ceilDiv(a, b) {
  return Math.floor((a + b - 1) / b);
}

const maxOf = (...xs) => xs.reduce((a, b) => (b > a ? b : a));

/** arch_params must be numbers in lo..hi (bigints only arise above 2^53). */
function check(arch, cond, what) {
  if (!cond) throw new InrFormatError(`${arch} arch_params: ${what}`);
}

function inRange(v, lo, hi) {
  return typeof v === "number" && v >= lo && v <= hi;
}

function channelsOk(arch, ch, minN, maxN) {
  check(arch, ch.length >= minN && ch.length <= maxN, `${ch.length} channel counts (${minN}..${maxN})`);
  ch.forEach((c, i) => check(arch, inRange(c, 1, 1024), `C${i} = ${c} outside 1..1024`));
}

// -- gnerv (arch_id 1, §2) ---------------------------------------------------------------------

const gnerv = {
  id: 1,
  name: "gnerv",
  parse(p) {
    check("gnerv", p.length >= 5, `${p.length} values, needs up_mode, pe_levels, time_dim and 2..8 channel counts`);
    const [upMode, peLevels, timeDim, ...channels] = p;
    check("gnerv", upMode === 0 || upMode === 1, `up_mode ${upMode} (0 or 1)`);
    check("gnerv", inRange(peLevels, 1, 64), `pe_levels ${peLevels} outside 1..64`);
    check("gnerv", inRange(timeDim, 1, 1024), `time_dim ${timeDim} outside 1..1024`);
    channelsOk("gnerv", channels, 2, 8);
    return { upMode, peLevels, timeDim, channels };
  },
  grid(q, w, h) {
    const g = 2 ** q.channels.length; // 2^(n+1)
    return [ceilDiv(h, g), ceilDiv(w, g)];
  },
  cost(q, w, h, k) {
    const [eh, ew] = gnerv.grid(q, w, h).map(BigInt);
    const ch = q.channels.map(BigInt);
    const n = ch.length - 1;
    const td = BigInt(q.timeDim), pe = BigInt(q.peLevels), e = q.upMode === 0 ? 4n : 1n, kk = BigInt(k);
    let area = eh * ew;
    let params = ch[0] * area + td * (2n * pe + 1n);
    let macs = 2n * pe * td;
    let act = ch[0] * area;
    for (let j = 0; j < n; j++) {
      params += 2n * ch[j] * (td + 1n) + e * ch[j + 1] * (9n * ch[j] + 1n);
      macs += 2n * ch[j] * td + 9n * ch[j] * 4n * ch[j + 1] * area;
      act = maxOf(act, ch[j] * area, 4n * ch[j + 1] * area, q.upMode === 1 ? 4n * ch[j] * area : 0n);
      area *= 4n;
    }
    params += (4n + kk) * (9n * ch[n] + 1n);
    macs += 9n * ch[n] * (4n + kk) * area;
    act = maxOf(act, ch[n] * area, (4n + kk) * area);
    return { params, macs, padded: 4n * area, activation: act };
  },
  tensors(q, w, h, k) {
    const [eh, ew] = gnerv.grid(q, w, h);
    const ch = q.channels;
    const e = q.upMode === 0 ? 4 : 1;
    const out = [tensor("embedding", [1, ch[0], eh, ew], 1), ...layer("time_fc", [q.timeDim, 2 * q.peLevels])];
    for (let j = 0; j + 1 < ch.length; j++) {
      out.push(...layer(`shift.${j}`, [2 * ch[j], q.timeDim]), ...layer(`convs.${j}`, [e * ch[j + 1], ch[j], 3, 3]));
    }
    return [...out, ...heads(ch[ch.length - 1], k)];
  },
};

// -- nirvana (arch_id 2, §2b) ------------------------------------------------------------------

const nirvana = {
  id: 2,
  name: "nirvana",
  parse(p) {
    check("nirvana", p.length >= 5, `${p.length} values, needs P, M, L and 2..6 channel counts`);
    const [patch, mlpWidth, mlpDepth, ...channels] = p;
    channelsOk("nirvana", channels, 2, 6);
    check(
      "nirvana",
      [8, 16, 32, 64, 128].includes(patch) && patch >= 2 ** channels.length,
      `patch size ${patch} (8..128, a power of two >= 2^(n+1))`,
    );
    check("nirvana", inRange(mlpWidth, 1, 2048), `MLP width ${mlpWidth} outside 1..2048`);
    check("nirvana", inRange(mlpDepth, 1, 16), `MLP depth ${mlpDepth} outside 1..16`);
    const h0 = patch / 2 ** channels.length;
    return { patch, mlpWidth, mlpDepth, channels, h0, feature: channels[0] * h0 * h0 };
  },
  grid(q, w, h) {
    return [ceilDiv(h, q.patch), ceilDiv(w, q.patch)];
  },
  cost(q, w, h, k) {
    const [gh, gw] = nirvana.grid(q, w, h).map(BigInt);
    const N = gh * gw;
    const ch = q.channels.map(BigInt);
    const n = ch.length - 1;
    const M = BigInt(q.mlpWidth), L = BigInt(q.mlpDepth), F = BigInt(q.feature), kk = BigInt(k);
    const half = BigInt(q.patch / 2);
    let params = 2n * M + (L - 1n) * M * M + F * M + L * M + F;
    let perPatch = 2n * M + (L - 1n) * M * M + F * M;
    let q2 = 0n;
    let hj = BigInt(q.h0);
    for (let j = 0; j < n; j++) {
      params += 4n * ch[j + 1] * (9n * ch[j] + 1n);
      perPatch += 9n * ch[j] * 4n * ch[j + 1] * hj * hj;
      q2 = maxOf(q2, ch[j] * hj * hj, 4n * ch[j + 1] * hj * hj);
      hj *= 2n;
    }
    params += (4n + kk) * (9n * ch[n] + 1n);
    perPatch += 9n * ch[n] * (4n + kk) * half * half;
    q2 = maxOf(q2, ch[n] * half * half, (4n + kk) * half * half);
    const act = maxOf(N * M, N * F, (N < 1024n ? N : 1024n) * q2, N * (4n + kk) * half * half);
    const P = BigInt(q.patch);
    return { params, macs: N * perPatch, padded: N * P * P, activation: act };
  },
  tensors(q, w, h, k) {
    const m = q.mlpWidth;
    const ch = q.channels;
    const out = [];
    for (let j = 0; j < q.mlpDepth; j++) {
      const fanIn = j === 0 ? 2 : m;
      out.push(...layer(`mlp.${j}`, [m, fanIn], j === 0 ? 1 / 2 : Math.sqrt(6 / m) / 30));
    }
    out.push(...layer("to_feature", [q.feature, m]));
    for (let j = 0; j + 1 < ch.length; j++) out.push(...layer(`convs.${j}`, [4 * ch[j + 1], ch[j], 3, 3], undefined, true));
    return [...out, ...heads(ch[ch.length - 1], k, true)];
  },
};

// -- hinerv (arch_id 3, §2c) -------------------------------------------------------------------

const hinerv = {
  id: 3,
  name: "hinerv",
  parse(p) {
    check("hinerv", p.length >= 6, `${p.length} values, needs t0, L, lt, mt and 2..8 channel counts`);
    const [t0, levels, localT, modT, ...channels] = p;
    check("hinerv", inRange(t0, 1, 256), `t0 ${t0} outside 1..256`);
    check("hinerv", inRange(levels, 1, 4), `L ${levels} outside 1..4`);
    check("hinerv", inRange(localT, 0, 256), `lt ${localT} outside 0..256`);
    check("hinerv", inRange(modT, 0, 256), `mt ${modT} outside 0..256`);
    channelsOk("hinerv", channels, 2, 8);
    return { t0, levels, localT, modT, channels };
  },
  grid: gnerv.grid,
  cost(q, w, h, k) {
    const [eh, ew] = hinerv.grid(q, w, h).map(BigInt);
    const ch = q.channels.map(BigInt);
    const n = ch.length - 1;
    const kk = BigInt(k);
    const T = BigInt(q.t0) * (2n ** BigInt(q.levels) - 1n);
    let area = eh * ew;
    let params = T * ch[0] * area;
    let macs = 0n;
    let act = ch[0] * area;
    let sumC = 0n;
    for (let j = 0; j < n; j++) {
      sumC += ch[j];
      area *= 4n;
      params += ch[j + 1] * (9n * ch[j] + 1n);
      macs += 9n * ch[j] * ch[j + 1] * area;
      act = maxOf(act, ch[j] * area, ch[j + 1] * area);
    }
    params += (4n * BigInt(q.localT) + 2n * BigInt(q.modT)) * sumC + (4n + kk) * (9n * ch[n] + 1n);
    macs += 9n * ch[n] * (4n + kk) * area;
    act = maxOf(act, (4n + kk) * area);
    return { params, macs, padded: 4n * area, activation: act };
  },
  tensors(q, w, h, k) {
    const [eh, ew] = hinerv.grid(q, w, h);
    const ch = q.channels;
    const out = [];
    for (let l = 0; l < q.levels; l++) out.push(tensor(`grids.${l}`, [q.t0 * 2 ** l, ch[0], eh, ew], l === 0 ? 1 : 0));
    for (let j = 0; j + 1 < ch.length; j++) {
      if (q.localT) out.push(tensor(`local.${j}`, [q.localT, ch[j], 2, 2], 0));
      if (q.modT) out.push(tensor(`mod.${j}`, [q.modT, 2 * ch[j]], 0));
      out.push(...layer(`convs.${j}`, [ch[j + 1], ch[j], 3, 3]));
    }
    return [...out, ...heads(ch[ch.length - 1], k)];
  },
};

/** The architectures by arch_id. */
export const ARCHITECTURES = new Map([gnerv, nirvana, hinerv].map((a) => [a.id, a]));

/** Chroma-head channels k (spec/models.md §1b.8). @param {number} chromaFormat 0 4:2:0, 1 4:4:4 */
export function chromaChannels(chromaFormat) {
  return chromaFormat === 0 ? 2 : 8;
}

/**
 * One layer's network from the header: InrUnsupportedError for an unknown arch_id,
 * InrFormatError for arch_params that break its rules (parameter cap included).
 * @param {number} archId @param {(number|bigint)[]} archParams
 * @param {number} width @param {number} height @param {number} chromaFormat
 * @returns {{arch: string, params: object, cost: Cost, tensors: TensorSpec[]}}
 */
export function planNetwork(archId, archParams, width, height, chromaFormat) {
  const a = ARCHITECTURES.get(archId);
  if (!a) throw new InrUnsupportedError(`arch_id ${archId} is unknown (known: 1 gnerv, 2 nirvana, 3 hinerv)`);
  const q = a.parse(archParams);
  const k = chromaChannels(chromaFormat);
  const cost = a.cost(q, width, height, k);
  check(a.name, cost.params <= MAX_CODED_PARAMS, `${cost.params} coded parameters, above 2^24`);
  return { arch: a.name, params: q, cost, tensors: a.tensors(q, width, height, k) };
}
