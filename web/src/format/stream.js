/**
 * Streaming: an .inr file fed in pieces as they arrive (`push(Uint8Array)`), yielding the header
 * as soon as SHDR (and LHDR) are in, each GOP as soon as its chunks are complete — when the next
 * GOP's first MODL or the index has arrived — and each GOM after its last GOP, so a player can
 * start on GOP 0 long before the file ends. Every chunk is checked as it arrives (§4.1: CRC, framing; §4.3 and §6: place and
 * GOP order; §5.7: disp). The index, which comes last, is then checked against every payload
 * chunk seen (same offset, type and GOP), and IEND against the index: a streamed GOM is decoded
 * before the index that a strict whole-file open (§7.1) reads first, and the file's remaining
 * faults are reported when they arrive.
 */
import {
  GopOrder,
  IEND_BYTES,
  PAYLOAD_TYPES,
  STRUCTURE_TYPES,
  isCritical,
  readBlob,
  readChunk,
  readDisplay,
  readIndex,
  readModel,
  readTrailer,
} from "./chunks.js";
import { InrFormatError, InrTruncatedError } from "./errors.js";
import { GomDecoder, Sequence, readHeaders, unknownCritical } from "./file.js";

/**
 * @typedef {{type: "header", file: Sequence}
 *   | {type: "gop", index: number, gom: number, file: Sequence, decode: () => Promise<import("./file.js").DecodedModel[]>}
 *   | {type: "gom", index: number, file: Sequence, decode: () => Promise<import("./file.js").DecodedModel[][]>}
 *   | {type: "end", file: Sequence}} StreamEvent
 */

/** A push parser over an .inr file's bytes. */
export class InrStream {
  /** @param {{limits?: object, nLayers?: number}} [opts] as openFile's */
  constructor(opts = {}) {
    this.opts = opts;
    this.bytes = new Uint8Array(1 << 16);
    this.length = 0;
    this.pos = 0;
    this.phase = "headers"; // headers -> chunks -> trailer -> done
    /** @type {Sequence | null} */
    this.file = null;
    this.failed = null;
  }

  /**
   * Feed the next bytes of the file; returns the events they complete, in file order. A fault
   * found after some of them is thrown by the next push or end (the events before it stand).
   * @param {Uint8Array} chunk @returns {StreamEvent[]}
   */
  push(chunk) {
    if (this.failed) throw this.failed;
    if (this.length + chunk.length > this.bytes.length) {
      let cap = this.bytes.length;
      while (cap < this.length + chunk.length) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
    const events = [];
    try {
      this._parse(events);
    } catch (err) {
      this.failed = err;
      // what came before the fault is still given; the next push or end throws
      if (events.length === 0) throw err;
    }
    return events;
  }

  /** No more bytes: InrTruncatedError unless the file ended with its IEND. @returns {StreamEvent[]} */
  end() {
    if (this.failed) throw this.failed;
    if (this.phase !== "done") {
      this.failed = new InrTruncatedError(
        this.pos < this.length
          ? `the file ends inside the chunk at offset ${this.pos} (${this.length} bytes in all)`
          : `the file stops at offset ${this.length} without its ${this.phase === "trailer" ? "IEND" : "GIDX and IEND"} (truncated or unfinished)`,
      );
      throw this.failed;
    }
    return [];
  }

  _parse(events) {
    const b = this.bytes;
    if (this.phase === "headers") {
      const h = readHeaders(b, this.length, true);
      if (h === null) return;
      this.file = new Sequence(h.header, h.lhdr, this.opts);
      this.pos = h.headerEnd;
      this.phase = "chunks";
      this.order = new GopOrder(this.file.fileLayers);
      this.seen = []; // every payload chunk: {code, gop, offset}, for the index
      this.gomDecoder = null; // the GOM in progress
      this.gopChunks = null; // the GOP in progress
      this.display = null;
      events.push({ type: "header", file: this.file });
    }
    const f = this.file;
    while (this.phase === "chunks") {
      const c = readChunk(b, this.pos, this.length, true);
      if (c === null) return;
      const where = `${c.type} at offset ${c.offset}`;
      if (PAYLOAD_TYPES.has(c.type)) {
        const chunk = c.type === "MODL" ? readModel(b, c, f.chunkLimits) : readBlob(b, c, f.chunkLimits);
        if (chunk.type === "MODL") {
          this.order.model(chunk.gop, where, chunk.layer);
          if (chunk.layer === 0) {
            this._gopDone(events);
            if (chunk.gop % f.header.gomSize === 0) {
              this._gomDone(events);
              this.gomDecoder = new GomDecoder(f, chunk.gop / f.header.gomSize);
            }
            this.gopChunks = [];
          }
        } else this.order.blob(chunk.gop, where);
        // the bytes stay (the buffer only grows), so the chunk's views stay valid
        this.gopChunks.push(chunk);
        this.seen.push({ code: chunk.type === "MODL" ? 0 : 1, gop: chunk.gop, offset: c.offset });
      } else if (c.type === "GIDX") {
        this.order.expectThrough(f.nGops - 1, "GIDX");
        this._gopDone(events);
        this._gomDone(events);
        const entries = readIndex(b, c, f.chunkLimits);
        if (entries.length !== this.seen.length) {
          throw new InrFormatError(`GIDX at offset ${c.offset}: ${entries.length} entries for ${this.seen.length} payload chunks`);
        }
        entries.forEach((e, i) => {
          const s = this.seen[i];
          if (e.code !== s.code || e.gop !== s.gop || e.offset !== s.offset) {
            throw new InrFormatError(`GIDX entry ${i}: ${e.code ? "BLOB" : "MODL"} of GOP ${e.gop} at offset ${e.offset}, but the file has ${s.code ? "BLOB" : "MODL"} of GOP ${s.gop} at offset ${s.offset}`);
          }
        });
        this.indexOffset = c.offset;
        this.phase = "trailer";
      } else if (c.type === "disp") {
        if (this.seen.length) throw new InrFormatError(`${where}: a disp chunk inside a GOM (its place is before the first payload chunk)`);
        if (this.display) throw new InrFormatError(`${where}: a second disp chunk (a file has at most one)`);
        this.display = readDisplay(b, c);
        f.display = this.display;
      } else if (STRUCTURE_TYPES.has(c.type)) {
        throw new InrFormatError(`${where}: ${c.type} chunk out of place`);
      } else if (isCritical(c.type)) {
        throw unknownCritical(c);
      }
      this.pos = c.end;
    }
    if (this.phase === "trailer") {
      const c = readChunk(b, this.pos, this.length, true);
      if (c === null) return;
      if (c.type !== "IEND") throw new InrFormatError(`${c.type} at offset ${c.offset}: GIDX must be followed by IEND`);
      if (c.end - c.offset !== IEND_BYTES) throw new InrFormatError(`IEND at offset ${c.offset} is ${c.end - c.offset} bytes, must be ${IEND_BYTES}`);
      const at = readTrailer(b, c);
      if (at !== this.indexOffset) throw new InrFormatError(`IEND at offset ${c.offset}: index_offset ${at}, but GIDX is at ${this.indexOffset}`);
      this.pos = c.end;
      this.phase = "done";
      events.push({ type: "end", file: f });
    }
    if (this.phase === "done" && this.length > this.pos) {
      throw new InrFormatError(`${this.length - this.pos} bytes after the IEND chunk at offset ${this.pos - IEND_BYTES}`);
    }
  }

  /** The GOP in progress is complete: yield it. */
  _gopDone(events) {
    if (this.gopChunks === null) return;
    const d = this.gomDecoder;
    const j = d.gopChunks.length;
    d.addChunks(this.gopChunks);
    this.gopChunks = null;
    events.push({ type: "gop", index: d.gom.firstGop + j, gom: d.m, file: this.file, decode: () => d.gop(j) });
  }

  /** The GOM in progress is complete (its last GOP yielded): yield it. */
  _gomDone(events) {
    if (this.gomDecoder === null) return;
    const d = this.gomDecoder;
    this.gomDecoder = null;
    events.push({ type: "gom", index: d.m, file: this.file, decode: () => d.all() });
  }
}
