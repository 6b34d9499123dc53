/**
 * Blob codecs (spec/entropy-coding.md §6): none (0), zstd (1, through fzstd) and a raw LZMA2
 * stream (2, through xz-decompress, which reads .xz only: the raw stream is wrapped in a minimal
 * .xz container here). Each produces exactly raw_size bytes or raises InrFormatError; none ever
 * holds more than raw_size bytes of output (zstd and LZMA stop at the first block past it).
 */
import { Decompress } from "fzstd";
import xz from "xz-decompress";
import { crc32 } from "./bytes.js";
import { InrError, InrFormatError, InrUnsupportedError } from "./errors.js";

const ZSTD_MIN_WINDOW_BYTES = 1 << 10;
const LZMA_MIN_DICT_BYTES = 1 << 12;
const LZMA_MAX_DICT_BYTES = 1 << 26;

function nextPowerOfTwo(n) {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The LZMA2 dictionary size of a blob of `rawSize` bytes (§6.3). */
export function lzmaDictBytes(rawSize) {
  return Math.min(LZMA_MAX_DICT_BYTES, Math.max(LZMA_MIN_DICT_BYTES, nextPowerOfTwo(rawSize)));
}

/** The end of the one zstd frame at the start of `data` (§6.2), its header checked; structural walk only. */
function zstdFrameEnd(data, rawSize) {
  const bad = (why) => new InrFormatError(`zstd blob: ${why}`);
  if (data.length < 6) throw bad(`${data.length} bytes, shorter than a frame header`);
  if (data[0] !== 0x28 || data[1] !== 0xb5 || data[2] !== 0x2f || data[3] !== 0xfd) throw bad("not a zstd frame");
  const fhd = data[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  if (fhd & 0x08) throw bad("reserved bit set in the frame header");
  const checksum = (fhd >> 2) & 1;
  const didBytes = [0, 1, 2, 4][fhd & 3];
  let pos = 5;
  let window = 0;
  if (!single) {
    const wd = data[pos++];
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  let did = 0;
  for (let i = 0; i < didBytes; i++) did += data[pos + i] * 2 ** (8 * i);
  pos += didBytes;
  if (did !== 0) throw bad(`frame needs dictionary ${did}`);
  const fcsBytes = fcsFlag === 0 ? single : 1 << fcsFlag;
  if (fcsBytes === 0) throw bad("frame without Frame_Content_Size");
  if (pos + fcsBytes > data.length) throw bad("frame header cut");
  let fcs = 0;
  for (let i = 0; i < fcsBytes; i++) fcs += data[pos + i] * 2 ** (8 * i);
  if (fcsBytes === 2) fcs += 256;
  pos += fcsBytes;
  if (fcs !== rawSize) throw bad(`frame declares ${fcs} bytes, expected ${rawSize}`);
  if (single) window = fcs;
  const allowed = Math.max(ZSTD_MIN_WINDOW_BYTES, nextPowerOfTwo(rawSize));
  if (window > allowed) throw bad(`frame declares a ${window}-byte window, above the ${allowed} bytes its raw size allows`);
  for (;;) {
    if (pos + 3 > data.length) throw bad("cut inside a block header");
    const h = data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16);
    pos += 3;
    const type = (h >> 1) & 3;
    const size = h >>> 3;
    if (type === 3) throw bad("reserved block type");
    pos += type === 1 ? 1 : size;
    if (pos > data.length) throw bad("cut inside a block");
    if (h & 1) break;
  }
  pos += checksum * 4;
  if (pos > data.length) throw bad("cut inside the content checksum");
  return pos;
}

function decompressZstd(data, rawSize) {
  const end = zstdFrameEnd(data, rawSize);
  if (end !== data.length) throw new InrFormatError(`zstd blob: ${data.length - end} bytes after its frame`);
  const out = new Uint8Array(rawSize);
  let n = 0;
  const d = new Decompress((chunk) => {
    if (n + chunk.length > rawSize) throw new InrFormatError(`zstd blob: more than the declared ${rawSize} bytes`);
    out.set(chunk, n);
    n += chunk.length;
  });
  try {
    d.push(data, true);
  } catch (err) {
    if (err instanceof InrError) throw err;
    throw new InrFormatError(`zstd blob: ${err && err.message}`);
  }
  if (n !== rawSize) throw new InrFormatError(`zstd blob gave ${n} bytes, expected ${rawSize}`);
  return out;
}

function vli(n) {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function le32(n) {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}

function pad4(arr) {
  while (arr.length % 4) arr.push(0);
  return arr;
}

/**
 * A .xz stream (xz-file-format 1.2.0) of one block holding the raw LZMA2 `data`, no check, its
 * header declaring both sizes so that the decoder refuses more output, a missing end marker and
 * trailing bytes; the dictionary as §6.3 derives it.
 */
export function wrapXz(data, rawSize) {
  const dict = lzmaDictBytes(rawSize); // a power of two 2^12 .. 2^26
  const prop = 2 * (Math.log2(dict) - 12);
  const flags = [0x00, 0x00]; // check type none
  const head = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, ...flags, ...le32(crc32(Uint8Array.from(flags)))];
  const body = [0xc0, ...vli(data.length), ...vli(rawSize), 0x21, 0x01, prop]; // 1 filter, both sizes; LZMA2
  const blockSize = Math.ceil((1 + body.length + 4) / 4) * 4;
  const bh = pad4([(blockSize >> 2) - 1, ...body]);
  const block = [...bh, ...le32(crc32(Uint8Array.from(bh)))];
  const index = pad4([0x00, ...vli(1), ...vli(block.length + data.length), ...vli(rawSize)]);
  const indexAll = [...index, ...le32(crc32(Uint8Array.from(index)))];
  const back = [...le32(indexAll.length / 4 - 1), ...flags];
  const foot = [...le32(crc32(Uint8Array.from(back))), ...back, 0x59, 0x5a];
  const padding = (4 - (data.length % 4)) % 4;
  const out = new Uint8Array(head.length + block.length + data.length + padding + indexAll.length + foot.length);
  let p = 0;
  for (const part of [head, block, data, new Uint8Array(padding), indexAll, foot]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

async function decompressLzma(data, rawSize) {
  if (data.length === 0) throw new InrFormatError("lzma blob of 0 bytes (no end marker)");
  const wrapped = wrapXz(data, rawSize);
  const source = new ReadableStream({
    start(c) {
      c.enqueue(wrapped);
      c.close();
    },
  });
  const reader = new xz.XzReadableStream(source).getReader();
  const out = new Uint8Array(rawSize);
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > rawSize) {
        await reader.cancel();
        throw new InrFormatError(`lzma blob gives more than ${rawSize} bytes`);
      }
      out.set(value, n);
      n += value.length;
    }
  } catch (err) {
    if (err instanceof InrError) throw err;
    throw new InrFormatError(`lzma blob: ${err && err.message}`);
  }
  if (n !== rawSize) throw new InrFormatError(`lzma blob gives ${n} bytes, expected ${rawSize}`);
  return out;
}

/** The blob codecs by wire id. */
export const BLOB_METHODS = new Map([
  [0, "none"],
  [1, "zstd"],
  [2, "lzma"],
]);

/**
 * Exactly `rawSize` decompressed bytes of a blob, or InrFormatError (InrUnsupportedError for an
 * unknown method).
 * @param {Uint8Array} data @param {number} method @param {number} rawSize
 * @returns {Promise<Uint8Array>}
 */
export async function decompressBlob(data, method, rawSize) {
  if (method === 0) {
    if (data.length !== rawSize) throw new InrFormatError(`stored blob has ${data.length} bytes, expected ${rawSize}`);
    return data;
  }
  if (method === 1) return decompressZstd(data, rawSize);
  if (method === 2) return decompressLzma(data, rawSize);
  throw new InrUnsupportedError(`blob method ${method} is unknown (known: 0 none, 1 zstd, 2 lzma)`);
}
