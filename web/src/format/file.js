/**
 * A whole .inr file: the strict open of spec/bitstream.md §7.1, the level check of
 * spec/levels.md, and decoding a GOM's models to weights (§7.2; spec/models.md §1). `Sequence`
 * holds what the headers define and decodes a GOM's parsed chunks; `InrFile` adds the index and
 * reads each GOM's byte range from the file. The streaming parser (stream.js) shares `Sequence`.
 */
import {
  DEFAULT_DISPLAY,
  GopOrder,
  IEND_BYTES,
  PAYLOAD_TYPES,
  PREAMBLE_BYTES,
  SIGNATURE,
  STRUCTURE_TYPES,
  isCritical,
  readBlob,
  readChunk,
  readDisplay,
  readHeader,
  readIndex,
  readLayerHeader,
  readModel,
  readPreamble,
  readTrailer,
} from "./chunks.js";
import { InrFormatError, InrInputError, InrTruncatedError, InrUnsupportedError } from "./errors.js";
import { checkLevel } from "./levels.js";
import { initArrays } from "./prng.js";
import { checkWeightRange, decodeModel, dequantize } from "./weights.js";

const SALVAGE_HINT = " (a salvage reader may recover the complete GOMs before the damage)";

/**
 * One decoded model of one layer.
 * @typedef {import("./weights.js").QuantizedModel & {gop: number, layer: number,
 *   weights: Map<string, {shape: number[], data: Float32Array}>}} DecodedModel
 */

/** The error for a critical chunk type this reader does not know (§4.2). */
export function unknownCritical(c) {
  return new InrUnsupportedError(`${c.type} at offset ${c.offset}: unknown critical chunk type; this reader (version 3) cannot decode the file`);
}

/** Read preamble, SHDR and LHDR from bytes[0, avail); null when more bytes are needed (partial). */
export function readHeaders(bytes, avail, partial = false) {
  if (partial && avail < PREAMBLE_BYTES) {
    for (let i = 0; i < Math.min(avail, 8); i++) {
      if (bytes[i] !== SIGNATURE[i]) throw new InrFormatError("not an .inr file (bad signature)");
    }
    return null;
  }
  const pre = readPreamble(bytes, avail);
  const shdr = readChunk(bytes, PREAMBLE_BYTES, avail, partial);
  if (shdr === null) return null;
  if (shdr.type !== "SHDR") throw new InrFormatError(`first chunk at offset 12 is ${shdr.type}, must be SHDR`);
  const header = readHeader(bytes, shdr, pre);
  let end = shdr.end;
  let lhdr = null;
  if (avail - end < 4 && partial) return null;
  if (avail - end >= 4 && String.fromCharCode(...bytes.subarray(end, end + 4)) === "LHDR") {
    const c = readChunk(bytes, end, avail, partial);
    if (c === null) return null;
    lhdr = readLayerHeader(bytes, c, pre.minReaderVersion);
    end = c.end;
  }
  return { header, lhdr, headerEnd: end };
}

/** What the headers define: picture, layers (their networks checked against the level), GOPs, GOMs. */
export class Sequence {
  /**
   * @param {object} header SHDR @param {object | null} lhdr LHDR
   * @param {{limits?: object, nLayers?: number}} [opts]
   */
  constructor(header, lhdr, opts = {}) {
    this.header = header;
    this.fileLayers = lhdr ? lhdr.nLayers : 1;
    const all = [
      { archId: header.archId, archParams: header.archParams, residualScale: 1, seed: header.seed },
      ...(lhdr ? lhdr.layers : []),
    ];
    const k = opts.nLayers === undefined ? all.length : opts.nLayers;
    if (!(Number.isInteger(k) && k >= 1 && k <= all.length)) {
      throw new InrInputError(`nLayers ${opts.nLayers} outside 1..${all.length}`);
    }
    const plans = checkLevel(header, all.slice(0, k), opts.limits);
    /** the decoded layers, layer 0 first */
    this.layers = plans.map((p, i) => ({
      index: i,
      archId: all[i].archId,
      arch: p.arch,
      params: p.params,
      archParams: all[i].archParams,
      seed: all[i].seed,
      residualScale: all[i].residualScale,
      outputOffset: i === 0 ? 0.5 : 0,
      tensors: p.tensors,
      cost: p.cost,
    }));
    this._theta0 = new Map();
    /** what the chunk parsers check a MODL or BLOB against */
    this.chunkLimits = { nGops: 0, gomSize: header.gomSize, nLayers: this.fileLayers };
    this.display = DEFAULT_DISPLAY;
    const { nFrames, gopSize, gomSize } = header;
    this.nFrames = nFrames;
    this.nGops = Math.ceil(nFrames / gopSize);
    this.nGoms = Math.ceil(this.nGops / gomSize);
    this.chunkLimits.nGops = this.nGops;
    this._gops = null;
    this._goms = null;
  }

  /**
   * GOP g (spec/bitstream.md §6): its GOM, first frame, frame count and kind.
   * @param {number} g @returns {{index: number, gom: number, start: number, count: number, kind: "I" | "P"}}
   */
  gop(g) {
    if (!(Number.isInteger(g) && g >= 0 && g < this.nGops)) throw new InrInputError(`GOP ${g} outside 0..${this.nGops - 1}`);
    const { gopSize, gomSize } = this.header;
    const start = g * gopSize;
    return { index: g, gom: Math.floor(g / gomSize), start, count: Math.min(gopSize, this.nFrames - start), kind: g % gomSize ? "P" : "I" };
  }

  /**
   * GOM m: its first GOP, GOP count, first frame and frame count.
   * @param {number} m @returns {{index: number, firstGop: number, nGops: number, start: number, count: number}}
   */
  gom(m) {
    if (!(Number.isInteger(m) && m >= 0 && m < this.nGoms)) throw new InrInputError(`GOM ${m} outside 0..${this.nGoms - 1}`);
    const firstGop = m * this.header.gomSize;
    const nGops = Math.min(this.header.gomSize, this.nGops - firstGop);
    const start = firstGop * this.header.gopSize;
    const last = this.gop(firstGop + nGops - 1);
    return { index: m, firstGop, nGops, start, count: last.start + last.count - start };
  }

  /** Every GOP, as gop(g) gives it; built on first use (a header may declare up to 10^7 GOPs). */
  get gops() {
    this._gops ??= Array.from({ length: this.nGops }, (_, g) => this.gop(g));
    return this._gops;
  }

  /** Every GOM, as gom(m) gives it; built on first use. */
  get goms() {
    this._goms ??= Array.from({ length: this.nGoms }, (_, m) => this.gom(m));
    return this._goms;
  }

  /** The GOP of frame `i`. @param {number} i */
  gopOfFrame(i) {
    if (!(Number.isInteger(i) && i >= 0 && i < this.nFrames)) {
      throw new InrInputError(`frame ${i} outside 0..${this.nFrames - 1}`);
    }
    return Math.floor(i / this.header.gopSize);
  }

  /** θ₀ of layer k, made on first use (P-models only need it). */
  theta0(k) {
    if (!this._theta0.has(k)) this._theta0.set(k, initArrays(this.layers[k].tensors, this.layers[k].seed));
    return this._theta0.get(k);
  }

  /**
   * Decode GOM m's models from its payload chunks (parsed, in file order, GOP order checked).
   * @param {number} m @param {object[]} chunks MODL and BLOB chunks (readModel / readBlob)
   * @returns {Promise<DecodedModel[][]>} [GOP in the GOM][layer]
   */
  decodeChunks(m, chunks) {
    const d = new GomDecoder(this, m);
    d.addChunks(chunks);
    return d.all();
  }
}

/**
 * Decodes one GOM's models GOP by GOP, each P-model from its layer's previous model, as the
 * GOPs' chunks arrive: `gop(j)` decodes the GOM's GOPs 0 .. j (once) and gives GOP j's models.
 */
export class GomDecoder {
  /** @param {Sequence} seq @param {number} m */
  constructor(seq, m) {
    this.seq = seq;
    this.m = m;
    this.gom = seq.gom(m);
    /** @type {object[][]} each GOP's MODL and BLOB chunks */
    this.gopChunks = [];
    /** @type {Promise<DecodedModel[]>[]} */
    this.results = [];
    this.prev = seq.layers.map(() => null);
  }

  /** Add the chunks of whole GOPs, in order (each GOP opens with its layer-0 MODL). */
  addChunks(chunks) {
    for (const c of chunks) {
      if ((c.type === "MODL" && c.layer === 0) || this.gopChunks.length === 0) this.gopChunks.push([]);
      this.gopChunks[this.gopChunks.length - 1].push(c);
    }
  }

  /**
   * The models (one per decoded layer) of the GOM's j-th GOP.
   * @param {number} j @returns {Promise<DecodedModel[]>}
   */
  gop(j) {
    if (!(Number.isInteger(j) && j >= 0 && j < this.gopChunks.length)) {
      return Promise.reject(new InrInputError(`GOM ${this.m}: GOP ${this.gom.firstGop + j} has not arrived`));
    }
    for (let x = this.results.length; x <= j; x++) {
      this.results[x] = (x ? this.results[x - 1] : Promise.resolve()).then(() => this._decode(x));
    }
    return this.results[j];
  }

  /** Every GOP's models, once the GOM's chunks are all in. @returns {Promise<DecodedModel[][]>} */
  all() {
    if (this.gopChunks.length !== this.gom.nGops) {
      return Promise.reject(new InrFormatError(`GOM ${this.m}: ${this.gopChunks.length} of its ${this.gom.nGops} GOPs`));
    }
    return Promise.all(this.gopChunks.map((_, j) => this.gop(j)));
  }

  async _decode(x) {
    const seq = this.seq;
    const g = this.gom.firstGop + x;
    const chunks = this.gopChunks[x];
    const models = [];
    let i = 0;
    for (let k = 0; k < seq.fileLayers; k++) {
      const modl = chunks[i++];
      const blobs = [];
      while (i < chunks.length && chunks[i].type === "BLOB") blobs.push(chunks[i++]);
      if (!modl || modl.type !== "MODL" || modl.gop !== g || modl.layer !== k) {
        throw new InrFormatError(`GOM ${this.m}: no MODL of GOP ${g} layer ${k} where expected`);
      }
      if (k >= seq.layers.length) continue; // a layer not decoded
      const layer = seq.layers[k];
      const qm = await decodeModel(layer, modl, blobs, seq.header.coderId);
      const data = dequantize(layer, qm, this.prev[k], () => seq.theta0(k));
      checkWeightRange(layer, data, g, k);
      this.prev[k] = data;
      const weights = new Map(layer.tensors.map((t, j) => [t.name, { shape: t.shape, data: data[j] }]));
      models.push({ ...qm, gop: g, layer: k, weights });
    }
    if (i !== chunks.length) throw new InrFormatError(`GOM ${this.m}: GOP ${g} holds chunks after its layers`);
    return models;
  }
}

/** A whole file in memory, opened strictly (spec/bitstream.md §7.1). */
export class InrFile extends Sequence {
  /** @param {Uint8Array} bytes @param {object} [opts] */
  constructor(bytes, opts = {}) {
    const h = readHeaders(bytes, bytes.length);
    super(h.header, h.lhdr, opts);
    this.bytes = bytes;
    this.headerEnd = h.headerEnd;
    try {
      this._loadIndex();
    } catch (err) {
      if (err instanceof InrFormatError) err.message += SALVAGE_HINT;
      throw err;
    }
    this.display = this._readDisplay();
    this._cache = { gom: -1, decoder: null };
  }

  _loadIndex() {
    const b = this.bytes;
    const size = b.length;
    const iendAt = size - IEND_BYTES;
    if (iendAt < this.headerEnd) this._diagnoseEnd(`file ends at offset ${size}, leaving no room for GIDX and IEND`);
    const t = b.subarray(iendAt, iendAt + 5);
    if (!(t[0] === 0x49 && t[1] === 0x45 && t[2] === 0x4e && t[3] === 0x44 && t[4] === 8)) {
      this._diagnoseEnd(`the last ${IEND_BYTES} bytes are not an IEND chunk`);
    }
    const iend = readChunk(b, iendAt, size);
    const indexAt = readTrailer(b, iend);
    if (!(indexAt >= this.headerEnd && indexAt < iendAt)) {
      throw new InrFormatError(`IEND at offset ${iendAt}: index_offset ${indexAt} outside the chunk area ${this.headerEnd}..${iendAt - 1}`);
    }
    const gidx = readChunk(b, indexAt, iendAt);
    if (gidx.type !== "GIDX") throw new InrFormatError(`IEND points at offset ${indexAt}, where ${gidx.type} is, not GIDX`);
    if (gidx.end !== iendAt) throw new InrFormatError(`GIDX at offset ${indexAt} ends at ${gidx.end}, but IEND begins at ${iendAt}`);
    const entries = readIndex(b, gidx, this.chunkLimits);
    const order = new GopOrder(this.fileLayers);
    entries.forEach((e, i) => {
      const where = `GIDX entry ${i}`;
      if (!(e.offset >= this.headerEnd && e.offset < indexAt)) {
        throw new InrFormatError(`${where}: offset ${e.offset} outside the chunk area ${this.headerEnd}..${indexAt - 1}`);
      }
      if (e.code === 0) order.model(e.gop, where);
      else order.blob(e.gop, where);
    });
    order.expectThrough(this.nGops - 1, "GIDX");
    this.indexOffset = indexAt;
    this.entries = entries;
    // a GOM starts at its I-model: the first entry of a GOP whose index is a multiple of gom_size
    const starts = [];
    entries.forEach((e, i) => {
      if (e.gop % this.header.gomSize === 0 && (i === 0 || entries[i - 1].gop !== e.gop)) starts.push(i);
    });
    starts.push(entries.length);
    this._gomSlices = starts.slice(0, -1).map((start, m) => [start, starts[m + 1]]);
  }

  /** No trailer: walk the chunks to say why (cut, damage, bytes after IEND). */
  _diagnoseEnd(problem) {
    const size = this.bytes.length;
    let pos = this.headerEnd;
    while (pos < size) {
      const c = readChunk(this.bytes, pos, size);
      pos = c.end;
      if (c.type === "IEND") {
        if (pos !== size) throw new InrFormatError(`${size - pos} bytes after the IEND chunk at offset ${c.offset}`);
        throw new InrFormatError(`IEND at offset ${c.offset} is ${c.end - c.offset} bytes, must be ${IEND_BYTES}`);
      }
    }
    throw new InrTruncatedError(`${problem}: the file stops after the chunk ending at offset ${pos} without its IEND trailer (truncated or unfinished)`);
  }

  /** §7.1 step 7: the chunks between the headers and the first payload chunk; the disp among them. */
  _readDisplay() {
    const end = this.entries[0].offset;
    let pos = this.headerEnd;
    let display = null;
    while (pos < end) {
      const c = readChunk(this.bytes, pos, end);
      if (STRUCTURE_TYPES.has(c.type) || PAYLOAD_TYPES.has(c.type)) {
        throw new InrFormatError(`${c.type} at offset ${pos}: a ${c.type} chunk may not come between the headers and the first indexed payload chunk`);
      }
      if (isCritical(c.type)) throw unknownCritical(c);
      if (c.type === "disp") {
        if (display !== null) throw new InrFormatError(`disp at offset ${pos}: a second disp chunk (a file has at most one)`);
        display = readDisplay(this.bytes, c);
      }
      pos = c.end;
    }
    return display === null ? DEFAULT_DISPLAY : display;
  }

  /**
   * GOM m's payload chunks, parsed from its byte range and checked against the index (§7.2).
   * @param {number} m
   */
  readGomChunks(m) {
    if (!(Number.isInteger(m) && m >= 0 && m < this.nGoms)) throw new InrInputError(`GOM ${m} outside 0..${this.nGoms - 1}`);
    const [i0, i1] = this._gomSlices[m];
    const entries = this.entries.slice(i0, i1);
    const start = entries[0].offset;
    const end = i1 < this.entries.length ? this.entries[i1].offset : this.indexOffset;
    const order = new GopOrder(this.fileLayers, this.gom(m).firstGop);
    const out = [];
    let pos = start;
    let e = 0;
    while (pos < end) {
      const c = readChunk(this.bytes, pos, end);
      const where = `${c.type} at offset ${pos}`;
      if (PAYLOAD_TYPES.has(c.type)) {
        const entry = entries[e++];
        const chunk = c.type === "MODL" ? readModel(this.bytes, c, this.chunkLimits) : readBlob(this.bytes, c, this.chunkLimits);
        if (!entry || entry.offset !== c.offset || entry.code !== (c.type === "MODL" ? 0 : 1) || entry.gop !== chunk.gop) {
          throw new InrFormatError(`${where}: ${c.type} of GOP ${chunk.gop} where the index has ${entry ? `${entry.code ? "BLOB" : "MODL"} of GOP ${entry.gop} at offset ${entry.offset}` : "no entry"}`);
        }
        if (chunk.type === "MODL") order.model(chunk.gop, where, chunk.layer);
        else order.blob(chunk.gop, where);
        out.push(chunk);
      } else if (c.type === "disp") {
        throw new InrFormatError(`${where}: a disp chunk inside a GOM (its place is before the first payload chunk)`);
      } else if (STRUCTURE_TYPES.has(c.type)) {
        throw new InrFormatError(`${where}: ${c.type} chunk out of place`);
      } else if (isCritical(c.type)) {
        throw unknownCritical(c);
      }
      pos = c.end;
    }
    if (e !== entries.length) throw new InrFormatError(`index entry at offset ${entries[e].offset} does not point at a chunk`);
    return out;
  }

  /** GOM m's decoder (the last one asked for is kept, with what it decoded). @param {number} m */
  _gomDecoder(m) {
    if (this._cache.gom !== m) {
      const d = new GomDecoder(this, m);
      d.addChunks(this.readGomChunks(m));
      this._cache = { gom: m, decoder: d };
    }
    return this._cache.decoder;
  }

  /**
   * Decode GOM m: every GOP's models, every decoded layer.
   * @param {number} m @returns {Promise<DecodedModel[][]>}
   */
  async decodeGom(m) {
    return this._gomDecoder(m).all();
  }

  /**
   * The models of GOP `gop` (one per decoded layer), its GOM decoded from the I-model up to it.
   * @param {number} gop @returns {Promise<DecodedModel[]>}
   */
  async decodeGop(gop) {
    if (!(Number.isInteger(gop) && gop >= 0 && gop < this.nGops)) throw new InrInputError(`GOP ${gop} outside 0..${this.nGops - 1}`);
    const m = this.gop(gop).gom;
    return this._gomDecoder(m).gop(gop - this.gom(m).firstGop);
  }

  /**
   * The weights of GOP `gop`, layer `layer`: name -> {shape, data}.
   * @param {number} gop @param {number} [layer]
   * @returns {Promise<Map<string, {shape: number[], data: Float32Array}>>}
   */
  async weights(gop, layer = 0) {
    if (!(Number.isInteger(layer) && layer >= 0 && layer < this.layers.length)) {
      throw new InrInputError(`layer ${layer} outside 0..${this.layers.length - 1}`);
    }
    return (await this.decodeGop(gop))[layer].weights;
  }
}

/**
 * Open a whole file (strict), checking the level.
 * @param {Uint8Array} bytes @param {{limits?: object, nLayers?: number}} [opts]
 */
export function openFile(bytes, opts = {}) {
  return new InrFile(bytes, opts);
}
