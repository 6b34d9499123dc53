/**
 * Model bodies (spec/models.md §3), residual BLOBs (§3b) and dequantisation (§4, §6): from a
 * MODL chunk (and the BLOBs after it) to per-tensor step codes and integer symbols, then to
 * binary32 weights. Every step is integer or one correctly rounded binary32 operation, so the
 * weights are bit-exact on every platform.
 */
import { ByteReader } from "./bytes.js";
import { getCoder } from "./coders.js";
import { decompressBlob } from "./blob.js";
import { InrFormatError, InrUnsupportedError } from "./errors.js";
import { laplaceTable } from "./tables.js";

export const KIND_I = 0;
export const KIND_P = 1;
const MIN_STEP_CODE = -320;
const MAX_STEP_CODE = 64;
const MAX_ABS_SYMBOL = 32767;
const TAG_FLOAT = 1n; // legacy: binary32 residuals
const TAG_SYMBOLS = 2n;

/**
 * One model's integers, as the conformance digest sees them.
 * @typedef {object} QuantizedModel
 * @property {number} kind 0 I, 1 P
 * @property {number} epsCode the body's eps_code (0 for an I-model)
 * @property {number[]} stepCodes one per tensor, wire order
 * @property {Int32Array[]} symbols one per tensor, row-major
 * @property {Uint8Array | null} blob the decompressed residual BLOB (raw_size bytes), if any
 * @property {number} blobTag 1 or 2 when there is one, else 0
 */

/** step(s) of §4, exact in binary32. @param {number} s */
export function stepFromCode(s) {
  const m = ((s % 16) + 16) % 16;
  return (16 + m) * 2 ** (Math.floor(s / 16) - 4);
}

/**
 * Parse a model body (§3) for `tensors` and decode its stream with coder `coderId`.
 * @param {{body: Uint8Array, bodyOffset: number, kind: number, gop: number, layer: number}} modl
 * @param {import("./archs.js").TensorSpec[]} tensors @param {number} coderId
 * @returns {QuantizedModel & {blobBounds: number[]}}
 */
export function decodeBody(modl, tensors, coderId) {
  const coder = getCoder(coderId);
  const what = `MODL body (GOP ${modl.gop}${modl.layer ? ` layer ${modl.layer}` : ""})`;
  const r = new ByteReader(modl.body, 0, modl.body.length, what, modl.bodyOffset);
  const epsCode = modl.kind === KIND_P ? r.u8("eps_code") : 0;
  const stepCodes = [];
  const blobBounds = [];
  const plan = []; // per tensor: the index of its segment, or -1
  const segments = [];
  for (const t of tensors) {
    let at = r.offset;
    const u = r.uvarint(`${t.name} step_code`);
    const code = u % 2n === 0n ? u / 2n : -(u + 1n) / 2n;
    if (code < BigInt(MIN_STEP_CODE) || code > BigInt(MAX_STEP_CODE)) {
      throw new InrFormatError(`${what}: step code ${code} of ${t.name} at offset ${at} outside ${MIN_STEP_CODE}..${MAX_STEP_CODE}`);
    }
    stepCodes.push(Number(code));
    at = r.offset;
    let maxAbs = r.uvarint(`${t.name} max_abs`);
    if (maxAbs > BigInt(MAX_ABS_SYMBOL)) {
      throw new InrFormatError(`${what}: max_abs ${maxAbs} of ${t.name} at offset ${at} above ${MAX_ABS_SYMBOL}`);
    }
    maxAbs = Number(maxAbs);
    if (t.blob) {
      blobBounds.push(maxAbs); // symbols in the residual BLOB (§3b): no laplace_code, no segment
      plan.push(-1);
      continue;
    }
    if (maxAbs === 0) {
      plan.push(-1);
      continue;
    }
    at = r.offset;
    const lap = r.u16(`${t.name} laplace_code`);
    if (lap === 0) throw new InrFormatError(`${what}: Laplace code 0 of ${t.name} at offset ${at}`);
    plan.push(segments.length);
    segments.push({ count: t.numel, table: laplaceTable(lap, maxAbs) });
  }
  const decoded = coder.decode(r.rest(), segments);
  const symbols = tensors.map((t, i) => (plan[i] < 0 ? new Int32Array(t.numel) : decoded[plan[i]]));
  return { kind: modl.kind, epsCode, stepCodes, symbols, blob: null, blobTag: 0, blobBounds };
}

function unshuffle16(raw, n) {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = raw[i] | (raw[n + i] << 8);
    out[i] = u & 1 ? -((u + 1) >> 1) : u >> 1;
  }
  return out;
}

function unshuffleFloat32(raw, n) {
  const bytes = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    bytes[4 * i] = raw[i];
    bytes[4 * i + 1] = raw[n + i];
    bytes[4 * i + 2] = raw[2 * n + i];
    bytes[4 * i + 3] = raw[3 * n + i];
  }
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/**
 * Decode one model: its body and, for an architecture with blob tensors, its residual BLOB.
 * @param {{tensors: import("./archs.js").TensorSpec[], index: number}} layer
 * @param {object} modl a MODL chunk (readModel) @param {object[]} blobs the BLOBs after it
 * @param {number} coderId
 * @returns {Promise<QuantizedModel>}
 */
export async function decodeModel(layer, modl, blobs, coderId) {
  const qm = decodeBody(modl, layer.tensors, coderId);
  const blobTensors = layer.tensors.filter((t) => t.blob);
  if (blobTensors.length === 0) return qm; // BLOBs of other architectures are ignored (§3b)
  const where = `GOP ${modl.gop}${layer.index ? ` layer ${layer.index}` : ""}`;
  const mine = blobs.filter((b) => b.tag === TAG_FLOAT || b.tag === TAG_SYMBOLS);
  if (mine.length !== 1) throw new InrFormatError(`${where}: ${mine.length} residual BLOBs, the architecture needs 1`);
  const blob = mine[0];
  const n = blobTensors.reduce((a, t) => a + t.numel, 0);
  const need = (blob.tag === TAG_SYMBOLS ? 2 : 4) * n;
  if (blob.rawSize !== need) {
    throw new InrFormatError(`${where}: residual BLOB at offset ${blob.offset} of ${blob.rawSize} bytes, the architecture needs ${need}`);
  }
  if (blob.tag === TAG_FLOAT) {
    // checked before decompression: tag 1's blob tensors carry no symbols
    const blobIdx = layer.tensors.map((t, i) => (t.blob ? i : -1)).filter((i) => i >= 0);
    if (qm.blobBounds.some((b) => b !== 0) || blobIdx.some((i) => qm.stepCodes[i] !== 0)) {
      throw new InrFormatError(`${where}: blob tensors with step codes or symbols beside a binary32 residual BLOB`);
    }
  }
  const raw = await decompressBlob(blob.data, blob.method, blob.rawSize);
  if (blob.tag === TAG_SYMBOLS) {
    const all = unshuffle16(raw, n);
    let pos = 0;
    let b = 0;
    layer.tensors.forEach((t, i) => {
      if (!t.blob) return;
      const sym = all.subarray(pos, pos + t.numel);
      const bound = qm.blobBounds[b++];
      for (let j = 0; j < sym.length; j++) {
        if (sym[j] > bound || -sym[j] > bound) {
          throw new InrFormatError(`${where}: a BLOB symbol of ${t.name} (${sym[j]}) exceeds its max_abs ${bound}`);
        }
      }
      qm.symbols[i] = sym;
      pos += t.numel;
    });
  }
  qm.blob = raw;
  qm.blobTag = Number(blob.tag);
  return qm;
}

/**
 * Binary32 weights of a decoded model (§4, §6; §3b for tag 1): symbol × step for an I-model;
 * θ′ + symbol × step for a P-model, θ′ = fl32(fl32(ε·θ₀) + fl32(κ·previous)).
 * @param {{tensors: import("./archs.js").TensorSpec[]}} layer @param {QuantizedModel} qm
 * @param {Float32Array[] | null} prev the layer's previous weights in the GOM (P-models)
 * @param {() => Float32Array[]} theta0 the layer's θ₀ (called for P-models only)
 * @returns {Float32Array[]}
 */
export function dequantize(layer, qm, prev, theta0) {
  const legacy = qm.blobTag === 1 ? unshuffleFloat32(qm.blob, qm.blob.length / 4) : null;
  let legacyPos = 0;
  const isP = qm.kind === KIND_P;
  const init = isP ? theta0() : null;
  const eps = qm.epsCode / 256;
  const kappa = (256 - qm.epsCode) / 256;
  return layer.tensors.map((t, i) => {
    const out = new Float32Array(t.numel);
    if (legacy !== null && t.blob) {
      const r = legacy.subarray(legacyPos, legacyPos + t.numel);
      legacyPos += t.numel;
      if (isP) {
        const p = prev[i];
        for (let j = 0; j < t.numel; j++) out[j] = p[j] + r[j]; // not interpolated with θ₀ (§3b)
      } else out.set(r);
      return out;
    }
    const step = stepFromCode(qm.stepCodes[i]);
    const sym = qm.symbols[i];
    if (!isP) {
      for (let j = 0; j < t.numel; j++) out[j] = sym[j] * step; // exact in binary32
      return out;
    }
    const p = prev[i];
    const z = init[i];
    const fr = Math.fround;
    for (let j = 0; j < t.numel; j++) out[j] = fr(fr(eps * z[j]) + fr(kappa * p[j])) + sym[j] * step;
    return out;
  });
}

/** The largest |weight| a decoder renders (spec/models.md §4b). */
export const MAX_WEIGHT = 64;

/**
 * Refuse a decoded model with a weight that is not finite or above MAX_WEIGHT in magnitude
 * (spec/models.md §4b), before a frame of its GOP is rendered: InrUnsupportedError (exit 6).
 * @param {{tensors: import("./archs.js").TensorSpec[]}} layer @param {Float32Array[]} data
 * @param {number} gop @param {number} k the layer
 */
export function checkWeightRange(layer, data, gop, k) {
  layer.tensors.forEach((t, i) => {
    let top = 0;
    for (const v of data[i]) {
      if (!(Math.abs(v) <= top)) top = Number.isNaN(v) ? NaN : Math.abs(v);
      if (Number.isNaN(top)) break;
    }
    if (top <= MAX_WEIGHT) return;
    const where = `GOP ${gop}` + (k ? ` layer ${k}` : "");
    const what = Number.isFinite(top) ? `a weight of magnitude ${top}` : "a weight that is not finite (NaN or infinity)";
    throw new InrUnsupportedError(`${where}: ${t.name} holds ${what}, outside the ±${MAX_WEIGHT} a decoder renders (spec/models.md §4b)`);
  });
}

/**
 * The bytes the conformance weight digest hashes (spec/conformance.md §Weight digest), in order.
 * @param {QuantizedModel} qm @returns {Uint8Array[]}
 */
export function digestParts(qm) {
  const head = new Int32Array([qm.kind, qm.epsCode, ...qm.stepCodes]);
  const parts = [head, ...qm.symbols].map((a) => {
    const b = new Uint8Array(a.length * 4);
    const v = new DataView(b.buffer);
    for (let i = 0; i < a.length; i++) v.setInt32(4 * i, a[i], true);
    return b;
  });
  if (qm.blob) parts.push(qm.blob);
  return parts;
}
