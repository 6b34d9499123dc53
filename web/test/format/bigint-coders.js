/**
 * The test oracle: the range and ANS coders of spec/entropy-coding.md §2.3-§2.4 transcribed
 * with BigInt states, line for line as the spec writes them (the decoder core's coders.js
 * computes the same with pairs of 32-bit numbers, which is faster; coders.test.js holds the two
 * together). Not used by the core.
 */
import { checkCanonical, contributes, startDecode, wordsToBytes } from "../../src/format/coders.js";
import { InrFormatError } from "../../src/format/errors.js";
import { findIndex } from "../../src/format/tables.js";

/** @typedef {import("../../src/format/tables.js").Table} Table */
/** @typedef {{count: number, table: Table}} Segment */
/** @typedef {{symbols: Int32Array, table: Table}} EncodeSegment */

const MASK64 = (1n << 64n) - 1n;
const TWO32 = 1n << 32n;
const TWO64 = 1n << 64n;
const TWO24 = 1n << 24n;

/** Per-table BigInt copies of left_i and p_i. */
function bigTable(table) {
  const { left, n } = table;
  const l = new Array(n);
  const p = new Array(n);
  for (let i = 0; i < n; i++) {
    l[i] = BigInt(left[i]);
    p[i] = BigInt(left[i + 1] - left[i]);
  }
  return { l, p };
}

// -- range (id 1) ------------------------------------------------------------------------------

/** @param {Uint8Array} stream @param {Segment[]} segments @returns {Int32Array[]} */
function decodeRange(stream, segments) {
  const { out, words, live } = startDecode(stream, segments, "range");
  if (live.length === 0) return out;
  let pos = 0;
  const nw = words.length;
  const next = () => (pos < nw ? BigInt(words[pos++]) : 0n);
  // D = X ⊖ L. Decoding keeps 0 <= D < R after every index, so D needs no modular arithmetic.
  let d = next() << 32n;
  d |= next();
  let r = MASK64;
  for (const k of live) {
    const { count, table } = segments[k];
    const { l, p } = bigTable(table);
    const left = table.left;
    const sym = out[k];
    const offset = table.offset;
    for (let j = 0; j < count; j++) {
      const s = r >> 24n;
      const q = d / s;
      if (q >= TWO24) throw new InrFormatError("range stream: a point outside the coded interval (not a valid stream)");
      const i = findIndex(left, Number(q));
      d -= s * l[i];
      r = s * p[i];
      if (r < TWO32) {
        r <<= 32n;
        d = (d << 32n) | next();
      }
      sym[j] = i + offset;
    }
  }
  if (pos !== nw || d >= (1n << 33n) - 1n) {
    throw new InrFormatError("range stream: its end does not match the last symbol (entropy-coding.md §2.3 end rule)");
  }
  checkCanonical(encodeRange, stream, segments, out, live, "range");
  return out;
}

/** @param {EncodeSegment[]} segments @returns {Uint8Array} */
function encodeRange(segments) {
  const words = [];
  let low = 0n;
  let r = MASK64;
  /** @type {{w: bigint, n: number} | null} */
  let run = null;
  const writeRun = (carry) => {
    words.push(Number(run.w + carry));
    const fill = carry ? 0 : 0xffffffff;
    for (let i = 1; i < run.n; i++) words.push(fill);
    run = null;
  };
  for (const { symbols, table } of segments) {
    if (!contributes(symbols.length, table)) continue;
    const { l, p } = bigTable(table);
    for (let j = 0; j < symbols.length; j++) {
      const i = symbols[j] - table.offset;
      if (!(i >= 0 && i < table.n)) throw new RangeError(`symbol ${symbols[j]} outside its table`);
      const s = r >> 24n;
      r = s * p[i];
      const low2 = (low + s * l[i]) & MASK64;
      const carry = low2 < low ? 1n : 0n;
      if (run !== null && low2 + r < TWO64) writeRun(carry);
      low = low2;
      if (r < TWO32) {
        r <<= 32n;
        const t = low >> 32n;
        low = (low << 32n) & MASK64;
        if (run !== null) run.n += 1;
        else if (low + r < TWO64) words.push(Number(t));
        else run = { w: t, n: 1 };
      }
    }
  }
  if (r === MASK64) return new Uint8Array(0);
  const pt = (low + TWO32 - 1n) & MASK64;
  if (run !== null) writeRun(pt < low ? 1n : 0n);
  words.push(Number(pt >> 32n));
  if (((low + r) & MASK64) >> 32n === pt >> 32n) words.push(0);
  return wordsToBytes(words);
}

// -- ANS (id 2) --------------------------------------------------------------------------------

/** @param {Uint8Array} stream @param {Segment[]} segments @returns {Int32Array[]} */
function decodeAns(stream, segments) {
  const { out, words, live } = startDecode(stream, segments, "ANS");
  if (live.length === 0) return out;
  let pos = words.length - 1;
  if (pos < 0 || words[pos] === 0) throw new InrFormatError("ANS stream: empty, or its last word is 0");
  let x = BigInt(words[pos--]);
  while (x < TWO32 && pos >= 0) x = (x << 32n) | BigInt(words[pos--]);
  for (const k of live) {
    const { count, table } = segments[k];
    const { p } = bigTable(table);
    const left = table.left;
    const sym = out[k];
    const offset = table.offset;
    for (let j = 0; j < count; j++) {
      const q = Number(x & 0xffffffn);
      const i = findIndex(left, q);
      x = (x >> 24n) * p[i] + BigInt(q - left[i]);
      if (x < TWO32 && pos >= 0) x = (x << 32n) | BigInt(words[pos--]);
      sym[j] = i + offset;
    }
  }
  if (x !== TWO24 || pos >= 0) {
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
  let x = TWO24;
  for (let k = live.length - 1; k >= 0; k--) {
    const { symbols, table } = live[k];
    const { l, p } = bigTable(table);
    for (let j = symbols.length - 1; j >= 0; j--) {
      const i = symbols[j] - table.offset;
      if (!(i >= 0 && i < table.n)) throw new RangeError(`symbol ${symbols[j]} outside its table`);
      const pi = p[i];
      if (x >> 40n >= pi) {
        bulk.push(Number(x & 0xffffffffn));
        x >>= 32n;
      }
      x = (x / pi) * TWO24 + l[i] + (x % pi);
    }
  }
  while (x !== 0n) {
    bulk.push(Number(x & 0xffffffffn));
    x >>= 32n;
  }
  return wordsToBytes(bulk);
}

/** The oracle coders by wire id. */
export const CODERS = new Map([
  [1, { name: "range", decode: decodeRange, encode: encodeRange }],
  [2, { name: "ans", decode: decodeAns, encode: encodeAns }],
]);
