/**
 * The conformance suite (spec/conformance.md) through the decoder core: every golden stream's
 * weight digests exact (rule 1), its float weights equal to the reference decoder's bit for bit,
 * the same through the streaming parser; every invalid stream refused with its class (rule 4).
 */
import assert from "node:assert/strict";
import { test, describe } from "node:test";
import { InrError, InrStream, openFile } from "../../src/format/index.js";
import { FIXTURES, SUITE, allModels, floatMd5, goldenNames, readBytes, readJson, streamModels, weightsMd5 } from "./helpers.js";

const reference = readJson(`${FIXTURES}reference.json`).weights;
const names = goldenNames();

test("the suite has its 28 golden streams", () => {
  assert.equal(names.length, 28);
  assert.deepEqual(Object.keys(reference).sort(), names);
});

describe("golden streams", () => {
  for (const name of names) {
    test(name, async () => {
      const bytes = readBytes(`${SUITE}${name}/stream.inr`);
      const expected = readJson(`${SUITE}${name}/expected.json`);
      const f = openFile(bytes);
      assert.equal(f.nFrames, expected.n_frames);
      assert.equal(f.header.width, expected.width);
      assert.equal(f.header.height, expected.height);
      const models = await allModels(f);
      assert.deepEqual(
        models.map((m) => weightsMd5(m)),
        expected.models.map((m) => m.weights_md5),
        "weight digests",
      );
      const ref = reference[name];
      assert.deepEqual(models.map((m) => [m.gop, m.layer]), ref.map((r) => [r.gop, r.layer]));
      models.forEach((m, i) => {
        assert.deepEqual([...m.weights].map(([n, w]) => [n, w.shape]), ref[i].tensors, `names and shapes, model ${i}`);
        assert.equal(floatMd5(m), ref[i].float_md5, `binary32 weights of GOP ${m.gop} layer ${m.layer}`);
      });
      // weights(gop, layer) of a fresh file (its GOM decoded up to that GOP only) gives the same arrays
      const last = models[models.length - 1];
      const fresh = openFile(bytes);
      assert.equal(floatMd5({ weights: await fresh.weights(last.gop, last.layer) }), ref[ref.length - 1].float_md5);
      assert.equal((await fresh.decodeGop(0)).length, f.layers.length);
    });
  }
});

describe("golden streams, streamed", () => {
  for (const name of names) {
    test(name, async () => {
      const bytes = readBytes(`${SUITE}${name}/stream.inr`);
      const expected = readJson(`${SUITE}${name}/expected.json`);
      const { events, models } = await streamModels(InrStream, bytes, 97);
      assert.deepEqual(models.map((m) => weightsMd5(m)), expected.models.map((m) => m.weights_md5));
      assert.equal(events[0].type, "header");
      assert.equal(events[events.length - 1].type, "end");
      const goms = events.filter((e) => e.type === "gom");
      assert.deepEqual(goms.map((e) => e.index), [...Array(events[0].file.nGoms).keys()]);
      // a "gop" event per GOP, in order, each before its GOM's; its models those of the GOM's
      const gops = events.filter((e) => e.type === "gop");
      assert.deepEqual(gops.map((e) => e.index), [...Array(events[0].file.nGops).keys()]);
      gops.forEach((e) => assert.ok(events.indexOf(e) < events.findIndex((x) => x.type === "gom" && x.index === e.gom)));
      const perGop = [];
      for (const e of gops) perGop.push(...(await e.decode()));
      assert.deepEqual(perGop.map((m) => weightsMd5(m)), expected.models.map((m) => m.weights_md5));
      if (goms.length > 1) assert.ok(goms[0].at < bytes.length, "GOM 0 before the end of the file");
      // byte by byte: every GOM is out before the trailer has arrived, and GOM m before GOM m + 1's end
      const s = new InrStream();
      const at = [];
      bytes.forEach((b, i) => {
        for (const ev of s.push(bytes.subarray(i, i + 1))) at.push([ev.type, i + 1]);
      });
      const last = at[at.length - 1];
      assert.deepEqual(last, ["end", bytes.length]);
      assert.ok(at.filter(([t]) => t === "gom").every(([, i]) => i <= bytes.length - 17), "GOMs before IEND");
    });
  }
});

describe("invalid streams", () => {
  const manifest = readJson(`${SUITE}invalid/invalid.json`);
  test("the manifest lists its streams", () => assert.ok(manifest.streams.length >= 31));
  for (const s of manifest.streams) {
    const bytes = readBytes(`${SUITE}invalid/${s.stream}`);
    test(`${s.name}: ${s.error}`, async () => {
      const decodeAll = async () => allModels(openFile(bytes));
      await assert.rejects(decodeAll, (err) => {
        assert.ok(err instanceof InrError, `${err}`);
        assert.equal(err.name, s.error, err.message);
        assert.equal(err.exitCode, s.exit);
        assert.ok(!err.message.includes("\n"), "a one-line message");
        return true;
      });
    });
    test(`${s.name}, streamed: ${s.error}`, async () => {
      await assert.rejects(streamModels(InrStream, bytes, 61), (err) => {
        assert.equal(err.name, s.error, err.message);
        return true;
      });
    });
  }
});
