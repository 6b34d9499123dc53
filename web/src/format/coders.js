/**
 * The entropy coders of spec/entropy-coding.md: raw (id 0, §4), range (id 1, §2.3) and rANS
 * (id 2, §2.4), each with the same two verbs: `decode(stream, segments)` -> one Int32Array of
 * symbols per segment, and `encode(segments)` -> bytes. A segment is {count, table} (symbols for
 * encode). The range and ANS states are 64-bit: each is a pair of 32-bit words held in numbers,
 * every product split so that no value passes 2^53, so each step is the spec's integer
 * arithmetic exactly (test/format/bigint-coders.js, the spec transcribed with BigInts, is the
 * oracle the tests compare with). A decoded range or ANS stream is accepted only when re-encoding
 * its symbols gives the same bytes (§2.5).
 */
import { InrFormatError, InrTruncatedError, InrUnsupportedError } from "./errors.js";
import { bucketTable, findIndex } from "./tables.js";

/** @typedef {import("./tables.js").Table} Table */
/** @typedef {{count: number, table: Table}} Segment */
/** @typedef {{symbols: Int32Array, table: Table}} EncodeSegment */

const TWO32 = 4294967296;
const TWO24 = 16777216;
const LUT_MIN_COUNT = 1024; // segments this long find symbols through a bucket table

/*
 * 64-bit values are pairs (hi, lo) of numbers in 0 .. 2^32-1. Every product below is split so
 * that no intermediate value reaches 2^53: each step is exact integer arithmetic, the spec's.
 */

/** hi and lo words of s * x for s < 2^40, x < 2^25 (written to `out`). */
function mul(s, x, out) {
  const sh = Math.floor(s / 1048576); // s = sh * 2^20 + sl
  const sl = s - sh * 1048576;
  const a = sh * x; // < 2^45
  const ah = Math.floor(a / 4096); // a * 2^20 = ah * 2^32 + al * 2^20
  const low = (a - ah * 4096) * 1048576 + sl * x; // < 2^32 + 2^45
  const c = Math.floor(low / TWO32);
  out.hi = ah + c;
  out.lo = low - c * TWO32;
}

/** Whether a segment contributes bits (§1: not when its table has one symbol or count is 0). */
export function contributes(count, table) {
  return count > 0 && table.n > 1;
}

/** Fill segments that contribute nothing with their table's offset; the others are left to the coder. */
function prepare(segments) {
  return segments.map(({ count, table }) => {
    const out = new Int32Array(count);
    if (!contributes(count, table)) out.fill(table.offset);
    return out;
  });
}

function bytesToWords(stream, what) {
  if (stream.length % 4 !== 0) {
    throw new InrFormatError(`${what} stream of ${stream.length} bytes, not a whole number of 32-bit words`);
  }
  const n = stream.length / 4;
  const words = new Uint32Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 4) {
    words[i] = (stream[p] | (stream[p + 1] << 8) | (stream[p + 2] << 16) | (stream[p + 3] << 24)) >>> 0;
  }
  return words;
}

/** 32-bit words as little-endian bytes (§2.1). @param {ArrayLike<number>} words */
export function wordsToBytes(words) {
  const out = new Uint8Array(words.length * 4);
  for (let i = 0, p = 0; i < words.length; i++, p += 4) {
    const w = words[i];
    out[p] = w & 0xff;
    out[p + 1] = (w >>> 8) & 0xff;
    out[p + 2] = (w >>> 16) & 0xff;
    out[p + 3] = w >>> 24;
  }
  return out;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The start of a range or ANS decode: the output arrays (those of segments that contribute
 * nothing already filled), the stream's words and the contributing segments' indices (none: the
 * stream must be empty, §1).
 * @param {Uint8Array} stream @param {Segment[]} segments @param {string} what "range" or "ANS"
 */
export function startDecode(stream, segments, what) {
  const out = prepare(segments);
  const words = bytesToWords(stream, what);
  const live = segments.map((s, k) => k).filter((k) => contributes(segments[k].count, segments[k].table));
  if (live.length === 0 && stream.length) {
    throw new InrFormatError(`${what} stream of ${stream.length} bytes where no segment contributes`);
  }
  return { out, words, live };
}

/**
 * §2.5: the stream must be the encoding of the symbols it decoded to.
 * @param {(segments: EncodeSegment[]) => Uint8Array} encode @param {Uint8Array} stream
 * @param {Segment[]} segments @param {Int32Array[]} out @param {number[]} live @param {string} what
 */
export function checkCanonical(encode, stream, segments, out, live, what) {
  if (!sameBytes(encode(live.map((k) => ({ symbols: out[k], table: segments[k].table }))), stream)) {
    throw new InrFormatError(`${what} stream is not the encoding of its symbols (entropy-coding.md §2.5)`);
  }
}

// -- range (id 1) ------------------------------------------------------------------------------

/** @param {Uint8Array} stream @param {Segment[]} segments @returns {Int32Array[]} */
function decodeRange(stream, segments) {
  const { out, words, live } = startDecode(stream, segments, "range");
  if (live.length === 0) return out;
  const nw = words.length;
  let pos = 0;
  // D = X ⊖ L (the decoder needs L only through it); decoding keeps 0 <= D < R after every index
  let dh = pos < nw ? words[pos++] : 0;
  let dl = pos < nw ? words[pos++] : 0;
  let rh = 0xffffffff;
  let rl = 0xffffffff;
  const m = { hi: 0, lo: 0 };
  for (const k of live) {
    const { count, table } = segments[k];
    const { left, offset } = table;
    const lut = count >= LUT_MIN_COUNT ? bucketTable(table) : null;
    const sym = out[k];
    for (let j = 0; j < count; j++) {
      const s = rh * 256 + (rl >>> 24); // R >> 24, < 2^40
      let q = Math.floor((dh * TWO32 + dl) / s); // within one or two of D div s
      if (q >= TWO24 + 2) throw new InrFormatError("range stream: a point outside the coded interval (not a valid stream)");
      mul(s, q, m);
      let r = (dh - m.hi) * TWO32 + (dl - m.lo); // D - s*q exactly (small)
      while (r < 0) {
        q -= 1;
        r += s;
      }
      while (r >= s) {
        q += 1;
        r -= s;
      }
      if (q >= TWO24) throw new InrFormatError("range stream: a point outside the coded interval (not a valid stream)");
      let i;
      if (lut === null) i = findIndex(left, q);
      else i = findIndex(left, q, lut[q >>> 12], lut[(q >>> 12) + 1]);
      // D = D - s*left_i = r + s*(q - left_i); R = s*p_i
      mul(s, q - left[i], m);
      const low = m.lo + r;
      const c = low >= TWO32 ? 1 : 0;
      dh = m.hi + c;
      dl = low - c * TWO32;
      mul(s, left[i + 1] - left[i], m);
      rh = m.hi;
      rl = m.lo;
      if (rh === 0) {
        // renormalise: R < 2^32, so D < 2^32 too
        rh = rl;
        rl = 0;
        dh = dl;
        dl = pos < nw ? words[pos++] : 0;
      }
      sym[j] = i + offset;
    }
  }
  if (pos !== nw || !(dh === 0 || (dh === 1 && dl < 0xffffffff))) {
    throw new InrFormatError("range stream: its end does not match the last symbol (entropy-coding.md §2.3 end rule)");
  }
  checkCanonical(encodeRange, stream, segments, out, live, "range");
  return out;
}

/** @param {EncodeSegment[]} segments @returns {Uint8Array} */
function encodeRange(segments) {
  const words = [];
  let lh = 0;
  let ll = 0;
  let rh = 0xffffffff;
  let rl = 0xffffffff;
  let coded = false;
  let runWord = -1; // the pending run (w, n), none while runWord < 0
  let runCount = 0;
  const writeRun = (carry) => {
    words.push(runWord + carry);
    const fill = carry ? 0 : 0xffffffff;
    for (let i = 1; i < runCount; i++) words.push(fill);
    runWord = -1;
  };
  const m = { hi: 0, lo: 0 };
  for (const { symbols, table } of segments) {
    if (!contributes(symbols.length, table)) continue;
    const { left, offset, n } = table;
    coded = true;
    for (let j = 0; j < symbols.length; j++) {
      const i = symbols[j] - offset;
      if (!(i >= 0 && i < n)) throw new RangeError(`symbol ${symbols[j]} outside its table`);
      const s = rh * 256 + (rl >>> 24);
      mul(s, left[i + 1] - left[i], m);
      rh = m.hi;
      rl = m.lo;
      mul(s, left[i], m); // L' = L ⊕ s*left_i; carry when it wraps
      let low = ll + m.lo;
      let c = low >= TWO32 ? 1 : 0;
      ll = low - c * TWO32;
      const high = lh + m.hi + c;
      const carry = high >= TWO32 ? 1 : 0;
      lh = high - carry * TWO32;
      if (runWord >= 0 && lh + rh + (ll + rl >= TWO32 ? 1 : 0) < TWO32) writeRun(carry); // L + R < 2^64
      if (rh === 0) {
        rh = rl;
        rl = 0;
        const t = lh;
        lh = ll;
        ll = 0;
        if (runWord >= 0) runCount += 1;
        else if (lh + rh + (ll + rl >= TWO32 ? 1 : 0) < TWO32) words.push(t);
        else {
          runWord = t;
          runCount = 1;
        }
      }
    }
  }
  if (!coded) return new Uint8Array(0);
  // P = L ⊕ (2^32 - 1)
  let pl = ll + 0xffffffff;
  const c = pl >= TWO32 ? 1 : 0;
  pl -= c * TWO32;
  let ph = lh + c;
  const wrapped = ph >= TWO32 ? 1 : 0;
  ph -= wrapped * TWO32;
  if (runWord >= 0) writeRun(wrapped);
  words.push(ph);
  if ((lh + rh + (ll + rl >= TWO32 ? 1 : 0)) % TWO32 === ph) words.push(0);
  return wordsToBytes(words);
}

// -- ANS (id 2) --------------------------------------------------------------------------------

/** @param {Uint8Array} stream @param {Segment[]} segments @returns {Int32Array[]} */
function decodeAns(stream, segments) {
  const { out, words, live } = startDecode(stream, segments, "ANS");
  if (live.length === 0) return out;
  let pos = words.length - 1;
  if (pos < 0 || words[pos] === 0) throw new InrFormatError("ANS stream: empty, or its last word is 0");
  let xh = 0;
  let xl = words[pos--];
  if (pos >= 0) {
    xh = xl;
    xl = words[pos--];
  }
  const m = { hi: 0, lo: 0 };
  for (const k of live) {
    const { count, table } = segments[k];
    const { left, offset } = table;
    const lut = count >= LUT_MIN_COUNT ? bucketTable(table) : null;
    const sym = out[k];
    for (let j = 0; j < count; j++) {
      const q = xl % TWO24;
      let i;
      if (lut === null) i = findIndex(left, q);
      else i = findIndex(left, q, lut[q >>> 12], lut[(q >>> 12) + 1]);
      // x = (x >> 24) * p_i + (q - left_i)
      mul(xh * 256 + Math.floor(xl / TWO24), left[i + 1] - left[i], m);
      const low = m.lo + (q - left[i]);
      const c = low >= TWO32 ? 1 : 0;
      xh = m.hi + c;
      xl = low - c * TWO32;
      if (xh === 0 && pos >= 0) {
        xh = xl;
        xl = words[pos--];
      }
      sym[j] = i + offset;
    }
  }
  if (xh !== 0 || xl !== TWO24 || pos >= 0) {
    throw new InrFormatError("ANS stream: it does not end in the encoder's start state (entropy-coding.md §2.4)");
  }
  checkCanonical(encodeAns, stream, segments, out, live, "ANS");
  return out;
}

/** @param {EncodeSegment[]} segments @returns {Uint8Array} */
function encodeAns(segments) {
  const live = segments.filter(({ symbols, table }) => contributes(symbols.length, table));
  if (live.length === 0) return new Uint8Array(0);
  const bulk = [];
  let xh = 0;
  let xl = TWO24;
  for (let k = live.length - 1; k >= 0; k--) {
    const { symbols, table } = live[k];
    const { left, offset, n } = table;
    for (let j = symbols.length - 1; j >= 0; j--) {
      const i = symbols[j] - offset;
      if (!(i >= 0 && i < n)) throw new RangeError(`symbol ${symbols[j]} outside its table`);
      const p = left[i + 1] - left[i];
      if (Math.floor(xh / 256) >= p) {
        bulk.push(xl);
        xl = xh;
        xh = 0;
      }
      // x div p and x mod p, 16 bits of x at a time below the high word
      const qh = Math.floor(xh / p);
      const t1 = (xh - qh * p) * 65536 + (xl >>> 16);
      const q1 = Math.floor(t1 / p);
      const t2 = (t1 - q1 * p) * 65536 + (xl & 0xffff);
      const q2 = Math.floor(t2 / p);
      const quot = qh * TWO32 + q1 * 65536 + q2; // < 2^40
      // x = quot * 2^24 + left_i + (x mod p)
      const top = Math.floor(quot / 256);
      const low = (quot - top * 256) * TWO24 + left[i] + (t2 - q2 * p);
      const c = low >= TWO32 ? 1 : 0;
      xh = top + c;
      xl = low - c * TWO32;
    }
  }
  bulk.push(xl);
  if (xh !== 0) bulk.push(xh);
  return wordsToBytes(bulk);
}

// -- raw (id 0) --------------------------------------------------------------------------------

function rawWidth(n) {
  let w = 0;
  while (2 ** w < n) w++;
  return w;
}

/** @param {Uint8Array} stream @param {Segment[]} segments @returns {Int32Array[]} */
function decodeRaw(stream, segments) {
  const out = segments.map(({ count }) => new Int32Array(count));
  let bits = 0;
  for (const { count, table } of segments) bits += count * rawWidth(table.n);
  const need = Math.ceil(bits / 8);
  if (stream.length < need) throw new InrTruncatedError(`raw stream of ${stream.length} bytes, needs ${need}`);
  if (stream.length > need) throw new InrFormatError(`raw stream of ${stream.length} bytes, needs exactly ${need}`);
  let bit = 0;
  segments.forEach(({ count, table }, k) => {
    const w = rawWidth(table.n);
    const sym = out[k];
    for (let j = 0; j < count; j++) {
      let v = 0;
      for (let b = 0; b < w; b++, bit++) v = (v << 1) | ((stream[bit >> 3] >> (7 - (bit & 7))) & 1);
      if (v >= table.n) throw new InrFormatError(`raw stream: value ${v} outside its table of ${table.n} symbols`);
      sym[j] = v + table.offset;
    }
  });
  for (; bit < need * 8; bit++) {
    if ((stream[bit >> 3] >> (7 - (bit & 7))) & 1) throw new InrFormatError("raw stream: padding bits not zero");
  }
  return out;
}

/** @param {EncodeSegment[]} segments @returns {Uint8Array} */
function encodeRaw(segments) {
  let bits = 0;
  for (const { symbols, table } of segments) bits += symbols.length * rawWidth(table.n);
  const out = new Uint8Array(Math.ceil(bits / 8));
  let bit = 0;
  for (const { symbols, table } of segments) {
    const w = rawWidth(table.n);
    for (let j = 0; j < symbols.length; j++) {
      const v = symbols[j] - table.offset;
      if (!(v >= 0 && v < table.n)) throw new RangeError(`symbol ${symbols[j]} outside its table`);
      for (let b = w - 1; b >= 0; b--, bit++) if ((v >> b) & 1) out[bit >> 3] |= 0x80 >> (bit & 7);
    }
  }
  return out;
}

/** The coders by wire id (spec/entropy-coding.md §1). */
export const CODERS = new Map([
  [0, { name: "raw", decode: decodeRaw, encode: encodeRaw }],
  [1, { name: "range", decode: decodeRange, encode: encodeRange }],
  [2, { name: "ans", decode: decodeAns, encode: encodeAns }],
]);

/** The coder of wire id `id`, or InrUnsupportedError. @param {number} id */
export function getCoder(id) {
  const c = CODERS.get(id);
  if (!c) throw new InrUnsupportedError(`coder_id ${id} is unknown (known: 0 raw, 1 range, 2 ans)`);
  return c;
}
