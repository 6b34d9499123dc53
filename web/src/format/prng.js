/**
 * The seeded initialisation θ₀ of spec/models.md §5: a stream of 64-bit words from PCG64
 * (XSL-RR 128/64) seeded through SeedSequence (§5.1), turned into binary32 weights with the
 * binary64 arithmetic §5 writes down. The 128-bit state is a BigInt.
 */

const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULT = 0x2360ed051fc65da44385df649fccf645n;

/**
 * The eight 32-bit state words of §5.1 steps 1-3 for a 64-bit seed.
 * @param {bigint} seed
 */
export function seedWords(seed) {
  const entropy = seed < 1n << 32n ? [Number(seed)] : [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  let h = 0x43b0d7e5;
  const hashmix = (v) => {
    v = (v ^ h) >>> 0;
    h = Math.imul(h, 0x931e8875) >>> 0;
    v = Math.imul(v, h) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  };
  const mix = (x, y) => {
    const r = (Math.imul(0xca01f9dd, x) - Math.imul(0x4973f715, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const pool = [0, 1, 2, 3].map((i) => hashmix(i < entropy.length ? entropy[i] : 0));
  for (let src = 0; src < 4; src++) {
    for (let dst = 0; dst < 4; dst++) if (dst !== src) pool[dst] = mix(pool[dst], hashmix(pool[src]));
  }
  let g = 0x8b51f9dd;
  const out = [];
  for (let j = 0; j < 8; j++) {
    let v = (pool[j % 4] ^ g) >>> 0;
    g = Math.imul(g, 0x58f38ded) >>> 0;
    v = Math.imul(v, g) >>> 0;
    out.push((v ^ (v >>> 16)) >>> 0);
  }
  return out;
}

/** PCG64 seeded by SeedSequence (§5.1): `next()` gives the next 64-bit word as a BigInt. */
export class Pcg64 {
  /** @param {bigint} seed */
  constructor(seed) {
    const o = seedWords(seed).map(BigInt);
    const s = [0, 1, 2, 3].map((m) => o[2 * m] + (o[2 * m + 1] << 32n));
    const initState = (s[0] << 64n) + s[1];
    const initSeq = (s[2] << 64n) + s[3];
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.x = 0n;
    this.step();
    this.x = (this.x + initState) & MASK128;
    this.step();
  }

  step() {
    this.x = (PCG_MULT * this.x + this.inc) & MASK128;
  }

  /** @returns {bigint} */
  next() {
    this.step();
    const x = this.x;
    const v = ((x >> 64n) ^ x) & MASK64;
    const rot = x >> 122n;
    return ((v >> rot) | (v << ((64n - rot) & 63n))) & MASK64;
  }
}

const TWO_M53 = 2 ** -53;

/**
 * θ₀ of one layer (§5): for each tensor in wire order, a Float32Array; tensors with bound 0 are
 * zeros and draw nothing.
 * @param {import("./archs.js").TensorSpec[]} tensors @param {bigint} seed
 * @returns {Float32Array[]}
 */
export function initArrays(tensors, seed) {
  const rng = new Pcg64(seed);
  return tensors.map((t) => {
    const out = new Float32Array(t.numel);
    const b = t.initBound;
    if (b !== 0) {
      for (let i = 0; i < t.numel; i++) {
        const u = Number(rng.next() >> 11n) * TWO_M53; // exact: a 53-bit integer times 2^-53
        out[i] = (2 * u - 1) * b; // one binary64 product, then one rounding to binary32
      }
    }
    return out;
  });
}
