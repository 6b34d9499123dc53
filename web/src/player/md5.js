// MD5 (RFC 1321), for the frame digests of spec/conformance.md: browsers' SubtleCrypto has no MD5.
// Written from the RFC: 64 steps in four rounds over 512-bit blocks, little-endian words.

const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

/** Incremental MD5: update(Uint8Array)..., then hex(). */
export class Md5 {
  constructor() {
    this.h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    this.buf = new Uint8Array(64);
    this.fill = 0;
    this.bytes = 0;
    this.words = new Uint32Array(16);
  }

  update(data) {
    this.bytes += data.length;
    let i = 0;
    if (this.fill) {
      const n = Math.min(64 - this.fill, data.length);
      this.buf.set(data.subarray(0, n), this.fill);
      this.fill += n; i = n;
      if (this.fill < 64) return this;
      this.block(this.buf, 0);
      this.fill = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.block(data, i);
    this.buf.set(data.subarray(i), 0);
    this.fill = data.length - i;
    return this;
  }

  block(d, o) {
    const x = this.words;
    for (let j = 0; j < 16; j++) x[j] = d[o + 4 * j] | (d[o + 4 * j + 1] << 8) | (d[o + 4 * j + 2] << 16) | (d[o + 4 * j + 3] << 24);
    let [a, b, c, e] = this.h;
    for (let i = 0; i < 64; i++) {
      let f, g;
      if (i < 16) { f = (b & c) | (~b & e); g = i; }
      else if (i < 32) { f = (e & b) | (~e & c); g = (5 * i + 1) & 15; }
      else if (i < 48) { f = b ^ c ^ e; g = (3 * i + 5) & 15; }
      else { f = c ^ (b | ~e); g = (7 * i) & 15; }
      const s = S[(i >> 4) * 4 + (i & 3)];
      const sum = (a + f + K[i] + x[g]) | 0;
      a = e; e = c; c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    this.h = [(this.h[0] + a) | 0, (this.h[1] + b) | 0, (this.h[2] + c) | 0, (this.h[3] + e) | 0];
  }

  hex() {
    const bits = this.bytes * 8;
    const pad = new Uint8Array(((this.fill < 56 ? 56 : 120) - this.fill) + 8);
    pad[0] = 0x80;
    const n = pad.length;
    for (let j = 0; j < 8; j++) pad[n - 8 + j] = Math.floor(bits / 2 ** (8 * j)) & 0xff;
    this.update(pad);
    return this.h.map((w) => [0, 8, 16, 24].map((s) => ((w >>> s) & 0xff).toString(16).padStart(2, '0')).join('')).join('');
  }
}

/** The MD5 of a frame as spec/conformance.md defines it: Y, U, V rows of visible samples, 8-bit as bytes,
 * deeper samples as little-endian 16-bit words (the planes here are cropped already). */
export function frameMd5(planes) {
  const m = new Md5();
  for (const p of planes) m.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  return m.hex();
}
