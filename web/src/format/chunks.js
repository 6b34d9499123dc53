/**
 * Chunk framing and the payload of each chunk type (spec/bitstream.md §4, §5). Parsers take the
 * whole file's bytes (offsets are absolute) and raise the spec's error classes.
 */
import { ByteReader, crc32, decodeUvarint } from "./bytes.js";
import {
  InrChecksumError,
  InrFormatError,
  InrTruncatedError,
  InrUnsupportedError,
} from "./errors.js";

/** spec/bitstream.md §3.1, §8. */
export const SIGNATURE = Uint8Array.of(0x89, 0x49, 0x4e, 0x52, 0x0d, 0x0a, 0x1a, 0x0a);
export const READER_VERSION = 3;
export const PREAMBLE_BYTES = 12;
export const IEND_BYTES = 17;
export const MAX_CHUNK_BYTES = 2 ** 30;
export const MAX_DIMENSION = 16384;
export const MAX_FRAMES = 10_000_000;
export const MAX_ARCH_PARAMS = 64;
export const MAX_BLOB_RAW_BYTES = 2 ** 28;
export const MAX_LAYERS = 8;
export const MAX_RESIDUAL_SCALE = 2 ** 24;
export const MIN_INDEX_ENTRY_BYTES = 3;
const LAYERED_VERSION = 2;
const HIGH_DEPTH_VERSION = 3;

/** Chunk types the reader knows; the others are ancillary (skipped) or unknown critical. */
export const STRUCTURE_TYPES = new Set(["SHDR", "LHDR", "GIDX", "IEND"]);
export const PAYLOAD_TYPES = new Set(["MODL", "BLOB"]);

/**
 * @typedef {{type: string, offset: number, payloadStart: number, payloadEnd: number, end: number}} Chunk
 */

function isLetter(b) {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** Whether the chunk type is critical (first letter upper case, §4.2). */
export function isCritical(type) {
  const c = type.charCodeAt(0);
  return c >= 0x41 && c <= 0x5a;
}

function typeName(bytes, off) {
  let s = "";
  for (let i = 0; i < 4; i++) {
    const b = bytes[off + i];
    s += isLetter(b) ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return s;
}

/**
 * Read and verify the chunk at `off`, which must end by `end` (spec/bitstream.md §4.1, steps 1-4).
 * With `partial`, bytes running out before the chunk is whole give null (more may arrive) instead
 * of InrTruncatedError.
 * @param {Uint8Array} bytes @param {number} off @param {number} end
 * @param {boolean} [partial]
 * @returns {Chunk | null}
 */
export function readChunk(bytes, off, end, partial = false) {
  const cut = (msg) => {
    if (partial) return null;
    throw new InrTruncatedError(msg);
  };
  if (end - off < 4) return cut(`chunk at offset ${off}: the bytes end inside its type (${end - off} of 4 bytes)`);
  const name = typeName(bytes, off);
  const len = decodeUvarint(bytes, off + 4, end, 0, `${name} length`);
  if (len === null) return cut(`${name} at offset ${off}: the bytes end inside its length`);
  if (len.value > BigInt(MAX_CHUNK_BYTES)) {
    throw new InrFormatError(`${name} at offset ${off}: length ${len.value} above the limit 2^30`);
  }
  const length = Number(len.value);
  const total = len.next - off + length + 4;
  if (total > end - off) {
    return cut(`${name} at offset ${off}: the chunk (${total} bytes) does not fit in the ${end - off} bytes left`);
  }
  const payloadEnd = len.next + length;
  const stored =
    ((bytes[payloadEnd] << 24) >>> 0) + ((bytes[payloadEnd + 1] << 16) | (bytes[payloadEnd + 2] << 8) | bytes[payloadEnd + 3]);
  if (crc32(bytes, off, payloadEnd) !== stored) {
    throw new InrChecksumError(`${name} at offset ${off}: CRC mismatch (the chunk is damaged)`);
  }
  for (let i = 0; i < 4; i++) {
    if (!isLetter(bytes[off + i])) throw new InrFormatError(`chunk at offset ${off}: type ${name} is not 4 letters`);
  }
  return { type: name, offset: off, payloadStart: len.next, payloadEnd, end: payloadEnd + 4 };
}

/** A reader over a chunk's payload. @param {Uint8Array} bytes @param {Chunk} c */
export function payloadReader(bytes, c) {
  return new ByteReader(bytes, c.payloadStart, c.payloadEnd, c.type);
}

/**
 * The preamble (§3): signature and versions.
 * @param {Uint8Array} bytes the file's first bytes (all of them when fewer than 12)
 * @param {number} size bytes available (the file's size for a whole file)
 */
export function readPreamble(bytes, size) {
  const n = Math.min(size, 8);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== SIGNATURE[i]) throw new InrFormatError("not an .inr file (bad signature)");
  }
  if (size < PREAMBLE_BYTES) {
    throw new InrTruncatedError(`${size} bytes, shorter than the 12-byte signature and versions`);
  }
  const writerVersion = (bytes[8] << 8) | bytes[9];
  const minReaderVersion = (bytes[10] << 8) | bytes[11];
  if (minReaderVersion < 1 || minReaderVersion > writerVersion) {
    throw new InrFormatError(`min_reader_version ${minReaderVersion} must be in 1..writer_version (${writerVersion})`);
  }
  if (minReaderVersion > READER_VERSION) {
    throw new InrUnsupportedError(
      `file needs reader version ${minReaderVersion}; this reader is version ${READER_VERSION}`,
    );
  }
  return { writerVersion, minReaderVersion };
}

function rangeError(r, field, at, value, allowed, cls = InrFormatError) {
  return new cls(`${r.what}: ${field} ${value} at offset ${at} outside ${allowed}`);
}

function fieldIn(r, field, read, lo, hi, cls = InrFormatError) {
  const at = r.offset;
  const v = read.call(r, field);
  if (v < lo || v > hi) throw rangeError(r, field, at, v, `${lo}..${hi}`, cls);
  return v;
}

/** arch_params: a count then that many uvarints (kept as numbers when exact, else bigints). */
function readArchParams(r) {
  const n = r.uvarintIn("n_arch_params", 0, MAX_ARCH_PARAMS);
  const out = [];
  for (let i = 0; i < n; i++) {
    const v = r.uvarint(`arch_params[${i}]`);
    out.push(v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  }
  return out;
}

/**
 * SHDR (§5.1).
 * @param {Uint8Array} bytes @param {Chunk} c
 * @param {{writerVersion: number, minReaderVersion: number}} versions the preamble's
 */
export function readHeader(bytes, c, { writerVersion, minReaderVersion }) {
  const r = payloadReader(bytes, c);
  const h = {};
  h.width = fieldIn(r, "width", r.u16, 1, MAX_DIMENSION);
  h.height = fieldIn(r, "height", r.u16, 1, MAX_DIMENSION);
  h.nFrames = fieldIn(r, "n_frames", r.u32, 1, MAX_FRAMES);
  h.fpsNum = fieldIn(r, "fps_num", r.u32, 1, 2 ** 32 - 1);
  h.fpsDen = fieldIn(r, "fps_den", r.u32, 1, 2 ** 32 - 1);
  h.chromaFormat = fieldIn(r, "chroma_format", r.u8, 0, 1, InrUnsupportedError);
  let at = r.offset;
  h.bitDepth = r.u8("bit_depth");
  if (![8, 10, 12].includes(h.bitDepth)) {
    throw rangeError(r, "bit_depth", at, h.bitDepth, "{8, 10, 12}", InrUnsupportedError);
  }
  if (h.bitDepth > 8 && minReaderVersion < HIGH_DEPTH_VERSION) {
    throw new InrFormatError(
      `SHDR: bit_depth ${h.bitDepth} at offset ${at} in a file whose min_reader_version is ${minReaderVersion}; ` +
        `bit depths above 8 need ${HIGH_DEPTH_VERSION}`,
    );
  }
  h.colorRange = fieldIn(r, "color_range", r.u8, 0, 2);
  h.colorPrimaries = r.u8("color_primaries");
  h.transfer = r.u8("transfer");
  h.matrix = r.u8("matrix");
  h.chromaSiting = fieldIn(r, "chroma_siting", r.u8, 0, 3);
  h.gopSize = fieldIn(r, "gop_size", r.u32, 1, MAX_FRAMES);
  h.gomSize = fieldIn(r, "gom_size", r.u16, 1, 65535);
  h.archId = r.u8("arch_id");
  h.archParams = readArchParams(r);
  h.coderId = r.u8("coder_id");
  h.seed = r.u64("seed");
  r.expectEnd();
  h.writerVersion = writerVersion;
  h.minReaderVersion = minReaderVersion;
  return h;
}

/**
 * LHDR (§5.6): the residual layers 1 .. n_layers-1.
 * @param {Uint8Array} bytes @param {Chunk} c @param {number} minReaderVersion
 */
export function readLayerHeader(bytes, c, minReaderVersion) {
  const r = payloadReader(bytes, c);
  const nLayers = fieldIn(r, "n_layers", r.u8, 2, MAX_LAYERS);
  const layers = [];
  for (let k = 1; k < nLayers; k++) {
    const archId = r.u8(`layer ${k} arch_id`);
    const archParams = readArchParams(r);
    const residualScale = fieldIn(r, `layer ${k} residual_scale`, r.u32, 1, MAX_RESIDUAL_SCALE);
    const seed = r.u64(`layer ${k} seed`);
    layers.push({ archId, archParams, residualScale, seed });
  }
  r.expectEnd();
  if (minReaderVersion < LAYERED_VERSION) {
    throw new InrFormatError(
      `LHDR at offset ${c.offset} in a file whose min_reader_version is ${minReaderVersion}; ` +
        `progressive layers need ${LAYERED_VERSION}`,
    );
  }
  return { nLayers, layers };
}

/**
 * MODL (§5.2).
 * @param {Uint8Array} bytes @param {Chunk} c
 * @param {{nGops: number, gomSize: number, nLayers: number}} seq
 */
export function readModel(bytes, c, seq) {
  const r = payloadReader(bytes, c);
  const gop = r.uvarintIn("gop_index", 0, seq.nGops - 1);
  const at = r.offset;
  const kind = fieldIn(r, "kind", r.u8, 0, 1);
  if ((kind === 0) !== (gop % seq.gomSize === 0)) {
    throw new InrFormatError(
      `MODL at offset ${c.offset}: kind ${kind} (at offset ${at}) for GOP ${gop}, whose place in its GOM needs ` +
        `${gop % seq.gomSize === 0 ? "an I-model (0)" : "a P-model (1)"}`,
    );
  }
  const layer = fieldIn(r, "layer", r.u8, 0, seq.nLayers - 1);
  const bodyOffset = r.offset;
  const body = r.rest();
  return { type: "MODL", offset: c.offset, gop, kind, layer, body, bodyOffset };
}

/**
 * BLOB (§5.3).
 * @param {Uint8Array} bytes @param {Chunk} c @param {{nGops: number}} seq
 */
export function readBlob(bytes, c, seq) {
  const r = payloadReader(bytes, c);
  const gop = r.uvarintIn("gop_index", 0, seq.nGops - 1);
  const tag = r.uvarint("tag");
  const method = r.u8("method");
  const rawSize = r.uvarintIn("raw_size", 0, MAX_BLOB_RAW_BYTES);
  const dataOffset = r.offset;
  const data = r.rest();
  return { type: "BLOB", offset: c.offset, gop, tag, method, rawSize, data, dataOffset };
}

/**
 * GIDX (§5.4): the entries with absolute offsets (checked against the chunk area by the caller).
 * @param {Uint8Array} bytes @param {Chunk} c @param {{nGops: number}} seq
 * @returns {{code: number, gop: number, offset: number}[]}
 */
export function readIndex(bytes, c, seq) {
  const r = payloadReader(bytes, c);
  const at = r.offset;
  const n = r.uvarint("n_entries");
  if (n > BigInt(Math.floor(r.remaining / MIN_INDEX_ENTRY_BYTES))) {
    throw new InrFormatError(`GIDX at offset ${at}: ${n} entries cannot fit in ${r.remaining} bytes`);
  }
  const entries = [];
  let offset = 0n;
  for (let i = 0; i < Number(n); i++) {
    const code = fieldIn(r, `entry ${i} code`, r.u8, 0, 1);
    const gop = r.uvarintIn(`entry ${i} gop_index`, 0, seq.nGops - 1);
    const dat = r.offset;
    const delta = r.uvarint(`entry ${i} offset_delta`);
    if (i > 0 && delta === 0n) throw new InrFormatError(`GIDX: entry ${i} offset_delta 0 at offset ${dat}`);
    offset += delta;
    // offsets beyond 2^53 are outside any file; the caller's area check refuses them
    entries.push({ code, gop, offset: offset > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(offset) });
  }
  r.expectEnd();
  return entries;
}

/** IEND (§5.5): index_offset. @param {Uint8Array} bytes @param {Chunk} c */
export function readTrailer(bytes, c) {
  const r = payloadReader(bytes, c);
  const v = r.u64("index_offset");
  r.expectEnd();
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
}

/** The display defaults (§5.7). */
export const DEFAULT_DISPLAY = Object.freeze({ sarNum: 0, sarDen: 0, rotation: 0, fieldOrder: 0, timing: 0 });

/** disp (§5.7). @param {Uint8Array} bytes @param {Chunk} c */
export function readDisplay(bytes, c) {
  const r = payloadReader(bytes, c);
  const sarNum = r.u32("sar_num");
  const sarDen = r.u32("sar_den");
  const rotation = fieldIn(r, "rotation", r.u16, 0, 359);
  const fieldOrder = fieldIn(r, "field_order", r.u8, 0, 2);
  const timing = fieldIn(r, "timing", r.u8, 0, 1);
  r.expectEnd();
  if ((sarNum === 0) !== (sarDen === 0)) {
    throw new InrFormatError(`disp at offset ${c.offset}: sar ${sarNum}:${sarDen} (both 0 or both at least 1)`);
  }
  return { sarNum, sarDen, rotation, fieldOrder, timing };
}

/**
 * Checks that payload chunks (or index entries) come GOP after GOP, each GOP opened by its MODLs
 * of layers 0 .. n_layers-1 in turn, each followed by its BLOBs (§4.3, §6).
 */
export class GopOrder {
  /** @param {number} nLayers @param {number} [firstGop] */
  constructor(nLayers, firstGop = 0) {
    this.nLayers = nLayers;
    this.nextGop = firstGop;
    this.openGop = -1;
    this.nextLayer = nLayers; // the open GOP's next layer; nLayers when it has them all
  }

  /** Accept a MODL of `gop` (and `layer`, when known) or raise. */
  model(gop, where, layer = undefined) {
    const [wantGop, wantLayer] = this.nextLayer < this.nLayers ? [this.openGop, this.nextLayer] : [this.nextGop, 0];
    const got = layer === undefined ? wantLayer : layer;
    if (gop !== wantGop || got !== wantLayer) {
      const l = (x) => (this.nLayers > 1 ? ` layer ${x}` : "");
      throw new InrFormatError(
        `${where}: MODL of GOP ${gop}${l(got)} where the MODL of GOP ${wantGop}${l(wantLayer)} was expected ` +
          "(payload chunks go in GOP order, one MODL per GOP and layer)",
      );
    }
    if (got === 0) {
      this.openGop = gop;
      this.nextGop += 1;
    }
    this.nextLayer = got + 1;
  }

  /** Accept a BLOB of `gop` (it belongs to the MODL before it) or raise. */
  blob(gop, where) {
    if (gop !== this.openGop) {
      throw new InrFormatError(
        `${where}: BLOB of GOP ${gop} outside that GOP's run of chunks (current GOP: ${this.openGop})`,
      );
    }
  }

  get gopDone() {
    return this.nextLayer === this.nLayers;
  }

  /** Raise unless every GOP up to `lastGop` has had its MODLs (every layer). */
  expectThrough(lastGop, where) {
    if (this.nextGop !== lastGop + 1) throw new InrFormatError(`${where}: no MODL for GOP ${this.nextGop}`);
    if (!this.gopDone) throw new InrFormatError(`${where}: no MODL of layer ${this.nextLayer} for GOP ${this.openGop}`);
  }
}
