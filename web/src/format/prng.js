/**
 * The seeded initialisation θ₀ of spec/models.md §5: a stream of 64-bit words from PCG64
 * (XSL-RR 128/64) seeded through SeedSequence (§5.1), turned into binary32 weights with the
 * binary64 arithmetic §5 writes down.
 */

const MASK128 = (1n << 128n) - 1n;
const PCG_MULT = 0x2360ed051fc65da44385df649fccf645n;
const TWO_M53 = 2 ** -53;

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

/**
 * PCG64 seeded by SeedSequence (§5.1). The 128-bit state is eight 16-bit limbs (least significant
 * first) in a Float64Array: a limb product is below 2^32 and a column of them below 2^36, so the
 * step's multiplication modulo 2^128 is exact in binary64.
 */
export class Pcg64 {
  /** @param {bigint} seed */
  constructor(seed) {
    const o = seedWords(seed).map(BigInt);
    const s = [0, 1, 2, 3].map((m) => o[2 * m] + (o[2 * m + 1] << 32n));
    const initState = (s[0] << 64n) + s[1];
    const initSeq = (s[2] << 64n) + s[3];
    this.a = limbs(PCG_MULT);
    this.c = limbs(((initSeq << 1n) | 1n) & MASK128);
    this.x = new Float64Array(8);
    this.t = new Float64Array(8);
    this.step();
    const add = limbs(initState);
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      const v = this.x[i] + add[i] + carry;
      carry = v >= 65536 ? 1 : 0;
      this.x[i] = v - carry * 65536;
    }
    this.step();
    this.hi = 0; // the last word, as two 32-bit halves
    this.lo = 0;
  }

  /** x = (A·x + c) mod 2^128. */
  step() {
    const { a, c, x, t } = this;
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      let v = carry + c[k];
      for (let i = 0; i <= k; i++) v += a[i] * x[k - i];
      carry = Math.floor(v * (1 / 65536));
      t[k] = v - carry * 65536;
    }
    this.x = t; // the arrays swap roles
    this.t = x;
  }

  /** Step and compute the output word into this.hi, this.lo (XSL-RR). */
  advance() {
    this.step();
    const x = this.x;
    const vh = ((x[7] * 65536 + x[6]) ^ (x[3] * 65536 + x[2])) >>> 0; // high 64 bits xor low 64 bits
    const vl = ((x[5] * 65536 + x[4]) ^ (x[1] * 65536 + x[0])) >>> 0;
    const rot = x[7] >>> 10; // x >> 122
    if (rot === 0) {
      this.hi = vh;
      this.lo = vl;
    } else if (rot < 32) {
      this.hi = ((vh >>> rot) | (vl << (32 - rot))) >>> 0;
      this.lo = ((vl >>> rot) | (vh << (32 - rot))) >>> 0;
    } else if (rot === 32) {
      this.hi = vl;
      this.lo = vh;
    } else {
      const r = rot - 32;
      this.hi = ((vl >>> r) | (vh << (32 - r))) >>> 0;
      this.lo = ((vh >>> r) | (vl << (32 - r))) >>> 0;
    }
  }

  /** The next 64-bit word. @returns {bigint} */
  next() {
    this.advance();
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** u = (r >> 11) · 2^-53 of the next word r (§5): exact, in [0, 1). */
  nextUnit() {
    this.advance();
    return (this.hi * 2097152 + (this.lo >>> 11)) * TWO_M53; // (r >> 11) < 2^53
  }
}

function limbs(v) {
  const out = new Float64Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(16 * i)) & 0xffffn);
  return out;
}


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
        out[i] = (2 * rng.nextUnit() - 1) * b; // one binary64 product, then one rounding to binary32
      }
    }
    return out;
  });
}
