/**
 * Unit tests of the container layer (spec/bitstream.md) and the file API: the worked example,
 * the GOP/GOM layout, options, and damage of every kind raising only InrError subclasses.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  InrError,
  InrInputError,
  InrStream,
  InrTruncatedError,
  InrUnsupportedError,
  openFile,
} from "../../src/format/index.js";
import { crc32 } from "../../src/format/bytes.js";
import { readHeaders } from "../../src/format/file.js";
import { SUITE, allModels, readBytes, readJson, weightsMd5 } from "./helpers.js";

const hex = (s) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g), (h) => parseInt(h, 16));
const golden = (name) => readBytes(`${SUITE}${name}/stream.inr`);

// spec/bitstream.md §11: one 16x16 frame, arch_id 0, one I-model with body "AB"
const WORKED = hex(`
  89494E520D0A1A0A 00010001
  534844522A 0010001000000001 0000001900000001 00080102020201 00000001000100 01AC0200 0000000000000000 3D330C86
  4D4F444C05000000 4142 86E434E1
  4749445804010000 3F C1EB94CE
  49454E4408 000000000000004D 3D761727`);

describe("container", () => {
  test("the worked example of §11", () => {
    assert.equal(WORKED.length, 107);
    const { header, lhdr, headerEnd } = readHeaders(WORKED, WORKED.length);
    assert.equal(lhdr, null);
    assert.equal(headerEnd, 0x3f);
    assert.deepEqual(
      [header.width, header.height, header.nFrames, header.fpsNum, header.fpsDen, header.gopSize, header.gomSize],
      [16, 16, 1, 25, 1, 1, 1],
    );
    assert.deepEqual([header.archId, header.archParams, header.coderId, header.seed], [0, [300], 0, 0n]);
    // arch_id 0 names no architecture: refused from the header (spec/levels.md §1.2.2)
    assert.throws(() => openFile(WORKED), InrUnsupportedError);
  });

  test("GOPs and GOMs of §6 (7 frames in GOPs of 3)", () => {
    const f = openFile(golden("SHORTGOP_A"));
    assert.deepEqual(f.gops.map((g) => [g.start, g.count]), [[0, 3], [3, 3], [6, 1]]);
    assert.equal(f.gopOfFrame(6), 2);
    assert.throws(() => f.gopOfFrame(7), InrInputError);
  });

  test("several GOMs; GOPs and layers outside the file", async () => {
    const f = openFile(golden("MULTIGOM_A"));
    assert.deepEqual(f.goms.map((g) => [g.firstGop, g.nGops, g.start, g.count]), [[0, 2, 0, 4], [2, 2, 4, 4], [4, 2, 8, 4]]);
    assert.deepEqual(f.gops.map((g) => g.kind).join(""), "IPIPIP");
    await assert.rejects(f.weights(6), InrInputError);
    await assert.rejects(f.weights(0, 1), InrInputError);
    const w = await f.weights(3);
    assert.deepEqual(w.get("embedding").shape.length, 4);
  });

  test("a header declaring 10^7 GOPs costs nothing until they are asked for", () => {
    const bytes = golden("ODDSIZE_A").slice(0, 71); // preamble, SHDR (payload at 17, 46 bytes), "MODL"
    const v = new DataView(bytes.buffer);
    v.setUint32(17 + 4, 10_000_000); // n_frames
    v.setUint32(17 + 23, 1); // gop_size
    v.setUint32(63, crc32(bytes, 12, 63));
    const s = new InrStream();
    const t = performance.now();
    assert.deepEqual(s.push(bytes.subarray(0, 67)), []); // LHDR or not: the next type tells
    const [ev] = s.push(bytes.subarray(67));
    ev.file.gop(9_999_999);
    assert.ok(performance.now() - t < 200);
    assert.equal(ev.file.nGops, 10_000_000);
    assert.deepEqual(ev.file.gom(4_999_999), { index: 4_999_999, firstGop: 9_999_998, nGops: 2, start: 9_999_998, count: 2 });
    assert.throws(() => openFile(bytes), InrTruncatedError);
  });

  test("the disp chunk", () => {
    const f = openFile(golden("NIRVANA_D"));
    assert.notDeepEqual(f.display, { sarNum: 0, sarDen: 0, rotation: 0, fieldOrder: 0, timing: 0 });
    assert.deepEqual(openFile(golden("ODDSIZE_A")).display, { sarNum: 0, sarDen: 0, rotation: 0, fieldOrder: 0, timing: 0 });
  });

  test("layers: all by default, the first K on request", async () => {
    const bytes = golden("LAYERS_A");
    const expected = readJson(`${SUITE}LAYERS_A/expected.json`).models;
    const f = openFile(bytes, { nLayers: 1 });
    assert.equal(f.layers.length, 1);
    assert.equal(f.fileLayers, 3);
    const models = await allModels(f);
    assert.deepEqual(models.map(weightsMd5), expected.filter((m) => m.layer === 0).map((m) => m.weights_md5));
    const all = openFile(bytes);
    assert.deepEqual(all.layers.map((l) => l.outputOffset), [0.5, 0, 0]);
    assert.ok(all.layers.every((l, k) => k === 0 || l.residualScale >= 1));
    assert.throws(() => openFile(bytes, { nLayers: 4 }), InrInputError);
  });

  test("a limit raised by the caller opens a file above the level", () => {
    const bytes = readBytes(`${SUITE}invalid/LEVEL_MACS.inr`);
    assert.throws(() => openFile(bytes), /maxMacsPerPixel/);
    assert.equal(openFile(bytes, { limits: { maxMacsPerPixel: 2 ** 20 } }).layers[0].arch, "gnerv");
    assert.throws(() => openFile(golden("ODDSIZE_A"), { limits: { maxPixels: 100 } }), /37x29 has 1073 samples/);
  });
});

describe("damage", () => {
  const bytes = golden("MULTIGOM_A");

  const decodeAll = async (b) => allModels(openFile(b));
  const streamAll = async (b) => {
    const s = new InrStream();
    const events = [...s.push(b), ...s.end()];
    for (const ev of events) if (ev.type === "gom") await ev.decode();
  };

  test("streamed, the GOMs before a damaged one are still given, then the fault", async () => {
    const s = new InrStream();
    const events = s.push(readBytes(`${SUITE}invalid/CRC_MODL.inr`)); // a bit of GOM 2's I-model
    // GOM 1 is not proven complete: the damaged chunk might have been one of its BLOBs (§7.3)
    assert.deepEqual(events.filter((e) => e.type === "gom").map((e) => e.index), [0]);
    assert.deepEqual(events.filter((e) => e.type === "gop").map((e) => e.index), [0, 1, 2]);
    const expected = readJson(`${SUITE}MULTIGOM_A/expected.json`).models.slice(0, 2).map((m) => m.weights_md5);
    const models = [];
    for (const e of events) if (e.type === "gom") for (const gop of await e.decode()) models.push(...gop);
    assert.deepEqual(models.map(weightsMd5), expected);
    assert.throws(() => s.end(), (e) => e.name === "InrChecksumError");
    assert.throws(() => s.push(new Uint8Array(1)), (e) => e.name === "InrChecksumError");
  });

  test("every cut is InrTruncatedError, whole or streamed", async () => {
    for (let n = 0; n < bytes.length; n += n < 200 ? 1 : 13) {
      const cut = bytes.subarray(0, n);
      assert.throws(() => openFile(cut), InrTruncatedError, `cut to ${n}`);
      await assert.rejects(streamAll(cut), InrTruncatedError, `streamed, cut to ${n}`);
    }
  });

  test("a flipped bit anywhere after the versions is refused as an InrError", async () => {
    for (let pos = 12; pos < bytes.length; pos += 7) {
      const bad = bytes.slice();
      bad[pos] ^= 1 << (pos % 8);
      for (const run of [decodeAll, streamAll]) {
        await assert.rejects(run(bad), (err) => err instanceof InrError, `bit at ${pos}`);
      }
    }
  });

  test("random bytes behind the signature are refused as an InrError", async () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let k = 0; k < 200; k++) {
      const junk = Uint8Array.from({ length: 12 + (k % 60) * 3 }, next);
      junk.set(bytes.subarray(0, 12 + (k % 3 ? 0 : 60)).subarray(0, Math.min(junk.length, 12 + (k % 3 ? 0 : 60))));
      for (const run of [decodeAll, streamAll]) await assert.rejects(run(junk), (err) => err instanceof InrError);
    }
  });
});
