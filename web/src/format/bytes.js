/**
 * Bounded reading of big-endian integers and uvarints (spec/bitstream.md §2), and CRC-32 (§2.3).
 * A reader never looks outside its [start, end) window: reading past it is InrTruncatedError,
 * as a parser reading past a chunk's payload is (§4.1). Offsets in messages are absolute.
 */
import { InrFormatError, InrTruncatedError } from "./errors.js";

export const MAX_UVARINT_BYTES = 10;
const TWO_64 = 1n << 64n;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 of ISO-HDLC / zlib (spec/bitstream.md §2.3) of bytes[start, end).
 * @param {Uint8Array} bytes @param {number} [start] @param {number} [end]
 * @returns {number} unsigned 32-bit
 */
export function crc32(bytes, start = 0, end = bytes.length) {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Decode one uvarint from bytes at pos, not reading at or past end.
 * @param {Uint8Array} bytes @param {number} pos @param {number} end
 * @param {number} base absolute offset of bytes[0] (for messages) @param {string} what field name
 * @returns {{value: bigint, next: number} | null} null when the bytes end inside it
 */
export function decodeUvarint(bytes, pos, end, base, what) {
  let value = 0n;
  for (let i = 0; i < MAX_UVARINT_BYTES; i++) {
    if (pos + i >= end) return null;
    const b = bytes[pos + i];
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (!(b & 0x80)) {
      if (b === 0 && i > 0) {
        throw new InrFormatError(`${what} at offset ${base + pos}: over-long uvarint (a last byte 00)`);
      }
      if (value >= TWO_64) {
        throw new InrFormatError(`${what} at offset ${base + pos}: uvarint value 2^64 or more`);
      }
      return { value, next: pos + i + 1 };
    }
  }
  throw new InrFormatError(`${what} at offset ${base + pos}: uvarint longer than ${MAX_UVARINT_BYTES} bytes`);
}

/** A cursor over bytes[start, end) whose reads never leave that window. */
export class ByteReader {
  /**
   * @param {Uint8Array} bytes @param {number} start @param {number} end
   * @param {string} what the structure read (for messages), e.g. "SHDR"
   * @param {number} [base] absolute file offset of bytes[0]
   */
  constructor(bytes, start, end, what, base = 0) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.what = what;
    this.base = base;
  }

  /** Absolute file offset of the next byte. */
  get offset() {
    return this.base + this.pos;
  }

  get remaining() {
    return this.end - this.pos;
  }

  /** @param {number} n @param {string} field */
  need(n, field) {
    if (n > this.end - this.pos) {
      throw new InrTruncatedError(
        `${this.what}: ${field} at offset ${this.offset} reads past the end of the ${this.what} payload`,
      );
    }
  }

  /** @param {string} field */
  u8(field) {
    this.need(1, field);
    return this.bytes[this.pos++];
  }

  /** @param {string} field */
  u16(field) {
    this.need(2, field);
    const b = this.bytes, p = this.pos;
    this.pos += 2;
    return (b[p] << 8) | b[p + 1];
  }

  /** @param {string} field */
  u32(field) {
    this.need(4, field);
    const b = this.bytes, p = this.pos;
    this.pos += 4;
    return ((b[p] << 24) >>> 0) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }

  /** @param {string} field @returns {bigint} */
  u64(field) {
    const hi = this.u32(field);
    const lo = this.u32(field);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** @param {string} field @returns {bigint} */
  uvarint(field) {
    const r = decodeUvarint(this.bytes, this.pos, this.end, this.base, `${this.what} ${field}`);
    if (r === null) {
      throw new InrTruncatedError(
        `${this.what}: ${field} at offset ${this.offset} reads past the end of the ${this.what} payload`,
      );
    }
    this.pos = r.next;
    return r.value;
  }

  /**
   * A uvarint that must lie in lo..hi (else InrFormatError naming the field), as a number.
   * @param {string} field @param {number} lo @param {number} hi
   */
  uvarintIn(field, lo, hi) {
    const at = this.offset;
    const v = this.uvarint(field);
    if (v < BigInt(lo) || v > BigInt(hi)) {
      throw new InrFormatError(`${this.what}: ${field} ${v} at offset ${at} outside ${lo}..${hi}`);
    }
    return Number(v);
  }

  /** The rest of the window, as a view (no copy). */
  rest() {
    const out = this.bytes.subarray(this.pos, this.end);
    this.pos = this.end;
    return out;
  }

  /** InrFormatError when bytes are left where the spec fixes the payload's size. */
  expectEnd() {
    if (this.pos !== this.end) {
      throw new InrFormatError(
        `${this.what}: ${this.end - this.pos} unexpected bytes at offset ${this.offset}, after its last field`,
      );
    }
  }
}
