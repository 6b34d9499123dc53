/**
 * Frequency tables (spec/entropy-coding.md §3) and the Laplace table built from its two integer
 * parameters (§5). Everything is exact in binary64: counts and their sums stay below 2^40, and the
 * fixed-point quantiser uses only IEEE ×, ÷ and truncation, as §3.2 fixes them.
 */
import { InrFormatError } from "./errors.js";

export const PRECISION = 24;
const F = 2 ** PRECISION;

/**
 * A table ready for coding: symbols offset .. offset+n-1; for n >= 2, `left` holds the n+1
 * cumulative boundaries left_0 = 0 < left_1 < ... < left_n = 2^24 of §3.2.
 * @typedef {{offset: number, n: number, left: Int32Array | null}} Table
 */

/**
 * The fixed-point distribution of a FreqTable (§3.2).
 * @param {number} offset @param {ArrayLike<number>} counts every count >= 1, sum <= 2^40
 * @returns {Table}
 */
export function fixedPointTable(offset, counts) {
  const n = counts.length;
  if (n < 1 || n > 2 ** 16 + 1) throw new InrFormatError(`a frequency table of ${n} symbols (1 .. 65537)`);
  if (n === 1) return { offset, n, left: null };
  let total = 0;
  for (let i = 0; i < n; i++) total += counts[i];
  const scale = (F - n) / total;
  const left = new Int32Array(n + 1);
  let c = 0;
  for (let i = 0; i < n; i++) {
    left[i] = Math.trunc(c * scale) + i;
    c += counts[i];
  }
  left[n] = F;
  return { offset, n, left };
}

/**
 * The two-sided geometric table of spec/entropy-coding.md §5.
 * @param {number} code 1 .. 65535, the decay code / 2^16 @param {number} maxAbs 0 .. 2^15
 * @returns {Table}
 */
export function laplaceTable(code, maxAbs) {
  return fixedPointTable(-maxAbs, laplaceCounts(code, maxAbs));
}

/**
 * The counts m_max_abs .. m_1, m_0, m_1 .. m_max_abs of §5.
 * @param {number} code @param {number} maxAbs @returns {Float64Array}
 */
export function laplaceCounts(code, maxAbs) {
  const m = new Float64Array(maxAbs + 1);
  m[0] = 2 ** 20;
  for (let j = 1; j <= maxAbs; j++) m[j] = Math.max(1, Math.floor((m[j - 1] * code) / 65536)); // < 2^36: exact
  const counts = new Float64Array(2 * maxAbs + 1);
  for (let j = 0; j <= maxAbs; j++) {
    counts[maxAbs - j] = m[j];
    counts[maxAbs + j] = m[j];
  }
  return counts;
}

const LUT_SHIFT = 12; // 4096 buckets of 2^12 values of q

/**
 * For each bucket of q values (q >> 12), the index of the symbol holding its first q: decoding
 * starts there and steps on (made once per table, for segments long enough to pay for it).
 * @param {Table} table @returns {Int32Array}
 */
export function bucketTable(table) {
  if (!table.lut) {
    const { left, n } = table;
    const lut = new Int32Array((1 << (24 - LUT_SHIFT)) + 1);
    let i = 0;
    for (let b = 0; b < lut.length - 1; b++) {
      const q = b << LUT_SHIFT;
      while (left[i + 1] <= q) i++;
      lut[b] = i;
    }
    lut[lut.length - 1] = n - 1;
    table.lut = lut;
  }
  return table.lut;
}

/**
 * The index i with left_i <= q < left_{i+1}, by binary search between lo and hi (inclusive;
 * by default the whole table).
 * @param {Int32Array} left @param {number} q 0 <= q < 2^24 @param {number} [lo] @param {number} [hi]
 */
export function findIndex(left, q, lo = 0, hi = left.length - 2) {
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (left[mid] <= q) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
