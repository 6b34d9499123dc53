/**
 * Unit tests of the coders, tables, blobs and integer helpers against spec/entropy-coding.md,
 * spec/bitstream.md §2 and the reference coders' bytes (fixtures/reference.json).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ByteReader, crc32, decodeUvarint } from "../../src/format/bytes.js";
import { CODERS, getCoder } from "../../src/format/coders.js";
import { CODERS as ORACLE } from "./bigint-coders.js";
import { decompressBlob, wrapXz } from "../../src/format/blob.js";
import { InrFormatError, InrTruncatedError, InrUnsupportedError } from "../../src/format/errors.js";
import { Pcg64 } from "../../src/format/prng.js";
import { fixedPointTable, laplaceCounts, laplaceTable } from "../../src/format/tables.js";
import { stepFromCode } from "../../src/format/weights.js";
import { FIXTURES, readJson } from "./helpers.js";

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b) => Buffer.from(b).toString("hex");
const segmentsOf = (list) => list.map(({ symbols, table }) => ({ count: symbols.length, table }));

/** A small deterministic PRNG for test data (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomMessage(seed, nSegments, maxCount) {
  const r = rng(seed);
  const out = [];
  for (let k = 0; k < nSegments; k++) {
    const n = 1 + Math.floor(r() * (r() < 0.2 ? 3 : 300));
    const counts = Array.from({ length: n }, () => 1 + Math.floor(r() ** 4 * 2 ** (1 + Math.floor(r() * 39))));
    const table = fixedPointTable(Math.floor(r() * 200) - 100, counts);
    const count = Math.floor(r() * maxCount);
    // draw symbols from the table's own distribution, so rare ones stay rare
    const symbols = new Int32Array(count);
    for (let j = 0; j < count; j++) {
      if (n === 1) {
        symbols[j] = table.offset;
        continue;
      }
      const q = Math.floor(r() * 2 ** 24);
      let i = 0;
      while (table.left[i + 1] <= q) i++;
      symbols[j] = table.offset + i;
    }
    out.push({ symbols, table });
  }
  return out;
}

describe("bytes", () => {
  test("CRC-32 check value", () => assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926));

  test("uvarint table of §2.2", () => {
    for (const [value, h] of [[0n, "00"], [127n, "7f"], [128n, "8001"], [300n, "ac02"], [2n ** 64n - 1n, "ffffffffffffffffff01"]]) {
      const b = hex(h);
      assert.deepEqual(decodeUvarint(b, 0, b.length, 0, "x"), { value, next: b.length });
    }
  });

  test("uvarint rejects over-long, 11 bytes, 2^64, and is cut", () => {
    for (const h of ["8000", "ff00", "ffffffffffffffffffff01", "ffffffffffffffffff02", "80808080808080808080"]) {
      const b = hex(h);
      assert.throws(() => decodeUvarint(b, 0, b.length, 0, "x"), InrFormatError, h);
    }
    assert.equal(decodeUvarint(hex("8080"), 0, 2, 0, "x"), null);
    assert.throws(() => new ByteReader(hex("80"), 0, 1, "MODL").uvarint("gop_index"), InrTruncatedError);
  });

  test("reads never leave the payload", () => {
    const r = new ByteReader(hex("000102"), 0, 2, "disp", 100);
    assert.equal(r.u16("sar"), 1);
    assert.throws(() => r.u8("timing"), (e) => e instanceof InrTruncatedError && /offset 102/.test(e.message));
  });
});

describe("tables", () => {
  test("Laplace worked examples of §5", () => {
    assert.deepEqual([...laplaceCounts(30000, 3)].slice(3), [1048576, 480000, 219726, 100582]);
    assert.deepEqual([...laplaceCounts(1, 4)].slice(4), [1048576, 16, 1, 1, 1]);
    assert.deepEqual([...laplaceCounts(65535, 2)].slice(2), [1048576, 1048560, 1048544]);
  });

  test("every probability at least 1, their sum 2^24, at any dynamic range", () => {
    for (const counts of [
      [1, 1],
      [2 ** 20, ...Array(65536).fill(1)],
      [2 ** 40 - 2 ** 16, ...Array(65536).fill(1)],
      Array(65537).fill(1),
      [...laplaceCounts(65535, 32767)],
    ]) {
      const { left, n } = fixedPointTable(0, counts);
      assert.equal(left[0], 0);
      assert.equal(left[n], 2 ** 24);
      for (let i = 0; i < n; i++) assert.ok(left[i + 1] > left[i], `p_${i} >= 1`);
    }
  });

  test("a one-symbol table has no distribution", () => assert.equal(fixedPointTable(7, [5]).left, null));

  test("step codes of spec/models.md §4", () => {
    assert.equal(stepFromCode(0), 1);
    assert.equal(stepFromCode(16), 2);
    assert.equal(stepFromCode(-16), 0.5);
    assert.equal(stepFromCode(-1), 31 / 32);
    assert.equal(stepFromCode(-320), 2 ** -20);
    assert.equal(stepFromCode(64), 16);
  });

  test("PCG64 check values of spec/models.md §5.1", () => {
    for (const [seed, words] of [
      [0n, [0xa30febcfd9c2825fn, 0x4510bdf882d9d721n]],
      [1n, [0x8306bdf37922e4ffn, 0xf35196bbc152a866n]],
      [2n ** 64n - 1n, [0xae163a7a8c47568fn, 0xd86659f5f3382359n]],
    ]) {
      const g = new Pcg64(seed);
      assert.deepEqual([g.next(), g.next()], words);
    }
  });
});

describe("coders", () => {
  const sample = () => [
    { symbols: Int32Array.of(0, 1, -1, 2, 0, 0, -3, 5), table: laplaceTable(40000, 5) },
    { symbols: Int32Array.of(7, 7, 7), table: fixedPointTable(7, [1]) },
    { symbols: Int32Array.of(2, 0, 1, 1), table: fixedPointTable(0, [1, 2, 3]) },
  ];
  // the reference implementation's pinned bytes for the same message (tests/unit/test_coders.py)
  const golden = { raw: "5647552a85", range: "6398278c", ans: "95d5724777867b00" };

  for (const [id, coder] of CODERS) {
    test(`${coder.name}: the reference's bytes for a short message`, () => {
      assert.equal(toHex(coder.encode(sample())), golden[coder.name]);
      const back = coder.decode(hex(golden[coder.name]), segmentsOf(sample()));
      assert.deepEqual(back, sample().map((s) => s.symbols));
      assert.equal(getCoder(id), coder);
    });

    test(`${coder.name}: the reference's bytes for long messages`, () => {
      const cases = readJson(`${FIXTURES}reference.json`).coders.filter((c) => c.coder === coder.name);
      assert.equal(cases.length, 1);
      const message = cases[0].segments.map((s) => ({
        symbols: Int32Array.from(s.symbols),
        table: s.laplace ? laplaceTable(...s.laplace) : fixedPointTable(s.offset, s.counts),
      }));
      assert.equal(toHex(coder.encode(message)), cases[0].hex);
      assert.deepEqual(coder.decode(hex(cases[0].hex), segmentsOf(message)), message.map((s) => s.symbols));
    });

    test(`${coder.name}: random messages round-trip`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const message = randomMessage(seed, 1 + (seed % 5), seed % 7 === 0 ? 3 : 2000);
        const bytes = coder.encode(message);
        assert.deepEqual(coder.decode(bytes, segmentsOf(message)), message.map((s) => s.symbols), `seed ${seed}`);
      }
    });

    test(`${coder.name}: a message where nothing contributes is empty`, () => {
      const message = [{ symbols: Int32Array.of(3, 3), table: fixedPointTable(3, [9]) }, { symbols: new Int32Array(0), table: laplaceTable(100, 3) }];
      assert.equal(coder.encode(message).length, 0);
      assert.deepEqual(coder.decode(new Uint8Array(0), segmentsOf(message)), message.map((s) => s.symbols));
      assert.throws(() => coder.decode(new Uint8Array(4), segmentsOf(message)), InrFormatError);
    });

    test(`${coder.name}: every truncation and an appended word are refused`, () => {
      const message = randomMessage(99, 3, 400);
      const bytes = coder.encode(message);
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(() => coder.decode(bytes.subarray(0, n), segmentsOf(message)), InrFormatError, `cut to ${n}`);
      }
      for (const extra of [[0, 0, 0, 0], [1, 0, 0, 0], [0]]) {
        const longer = Uint8Array.from([...bytes, ...extra]);
        assert.throws(() => coder.decode(longer, segmentsOf(message)), InrFormatError);
      }
    });
  }

  test("unknown coder id", () => assert.throws(() => getCoder(200), InrUnsupportedError));

  for (const [id, oracle] of ORACLE) {
    test(`${oracle.name}: the same bytes and symbols as the spec transcribed with BigInts, damaged streams too`, () => {
      const coder = getCoder(id);
      for (let seed = 100; seed < 160; seed++) {
        const message = randomMessage(seed, 1 + (seed % 4), 1500);
        const bytes = oracle.encode(message);
        assert.equal(toHex(coder.encode(message)), toHex(bytes), `seed ${seed}`);
        const r = rng(seed);
        for (let k = 0; k < 8 && bytes.length; k++) {
          const bad = bytes.slice();
          bad[Math.floor(r() * bad.length)] ^= 1 + Math.floor(r() * 255);
          const outcome = (c) => {
            try {
              return c.decode(bad, segmentsOf(message)).map((a) => [...a].join());
            } catch (err) {
              return err.constructor.name;
            }
          };
          assert.deepEqual(outcome(coder), outcome(oracle), `seed ${seed}, damage ${k}`);
        }
      }
    });
  }

  test("range: a word appended after a one-word flush passes the end rule, not §2.5", () => {
    const message = [{ symbols: Int32Array.of(0), table: fixedPointTable(0, [1000, 1]) }];
    const bytes = getCoder(1).encode(message);
    assert.equal(bytes.length, 4);
    assert.throws(() => getCoder(1).decode(Uint8Array.from([...bytes, 0, 0, 0, 0]), segmentsOf(message)), /§2\.5/);
    assert.throws(() => getCoder(1).decode(new Uint8Array(0), segmentsOf(message)), /§2\.5/);
    assert.throws(() => getCoder(1).decode(new Uint8Array(3), segmentsOf(message)), /whole number/);
  });

  test("ANS: a last word 0, the sentinel alone", () => {
    const message = [{ symbols: Int32Array.of(1, 0), table: fixedPointTable(0, [3, 1]) }];
    const bytes = getCoder(2).encode(message);
    assert.throws(() => getCoder(2).decode(Uint8Array.from([...bytes, 0, 0, 0, 0]), segmentsOf(message)), /last word is 0/);
    assert.throws(() => getCoder(2).decode(hex("00000001"), segmentsOf(message)), InrFormatError);
  });

  test("raw: §4's example, short, long, padding, values", () => {
    const table = fixedPointTable(10, [1, 1, 1, 1, 1]);
    const message = [{ symbols: Int32Array.of(10, 11, 12, 13, 14), table }];
    assert.equal(toHex(getCoder(0).encode(message)), "0538");
    const raw = getCoder(0);
    assert.throws(() => raw.decode(hex("05"), segmentsOf(message)), InrTruncatedError);
    assert.throws(() => raw.decode(hex("053800"), segmentsOf(message)), InrFormatError);
    assert.throws(() => raw.decode(hex("0539"), segmentsOf(message)), /padding/);
    assert.throws(() => raw.decode(hex("0578"), segmentsOf(message)), /outside its table/); // 111 = 7 >= 5
  });
});

describe("blobs", () => {
  const text = new TextEncoder().encode("hello");

  test("none: exactly raw_size bytes", async () => {
    assert.deepEqual(await decompressBlob(text, 0, 5), text);
    await assert.rejects(decompressBlob(text, 0, 4), InrFormatError);
  });

  test("unknown method", async () => assert.rejects(decompressBlob(text, 200, 5), InrUnsupportedError));

  test("zstd: a raw block; no content size, a dictionary, trailing bytes refused", async () => {
    // magic, FHD single segment (FCS 1 byte), FCS 5, one last raw block of 5 bytes
    const frame = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 5, (5 << 3) | 1, 0, 0, ...text]);
    assert.deepEqual(await decompressBlob(frame, 1, 5), text);
    await assert.rejects(decompressBlob(frame, 1, 6), /declares 5/);
    await assert.rejects(decompressBlob(Uint8Array.from([...frame, 0]), 1, 5), /after its frame/);
    const noSize = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, (5 << 3) | 1, 0, 0, ...text]);
    await assert.rejects(decompressBlob(noSize, 1, 5), /without Frame_Content_Size/);
    const dict = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x21, 7, 5, (5 << 3) | 1, 0, 0, ...text]);
    await assert.rejects(decompressBlob(dict, 1, 5), /dictionary/);
    await assert.rejects(decompressBlob(frame.subarray(0, 12), 1, 5), /cut/);
  });

  test("zstd: RLE blocks past raw_size are refused at once", async () => {
    const blocks = [];
    for (let i = 0; i < 8192; i++) blocks.push(((131072 << 3) | (1 << 1) | (i === 8191 ? 1 : 0)) & 0xffffff, 0x41);
    const body = [];
    for (let i = 0; i < blocks.length; i += 2) body.push(blocks[i] & 0xff, (blocks[i] >> 8) & 0xff, blocks[i] >> 16, blocks[i + 1]);
    // window 2^20 (exponent 10), FCS in 4 bytes (flag 2): declares 2^20 bytes, expands to 1 GiB
    const frame = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x80, 10 << 3, 0, 0, 0x10, 0, ...body]);
    const t = performance.now();
    await assert.rejects(decompressBlob(frame, 1, 2 ** 20), /more than the declared/);
    assert.ok(performance.now() - t < 3000, "refused in milliseconds, not after 1 GiB");
  });

  test("lzma: a raw LZMA2 stream; cut, trailing bytes, other sizes refused", async () => {
    const raw = Uint8Array.from([0x01, 0x00, 0x04, ...text, 0x00]); // uncompressed chunk with dictionary reset, end marker
    assert.deepEqual(await decompressBlob(raw, 2, 5), text);
    for (const [data, size] of [[raw.subarray(0, raw.length - 1), 5], [Uint8Array.from([...raw, 0]), 5], [raw, 4], [raw, 6], [new Uint8Array(0), 0]]) {
      await assert.rejects(decompressBlob(data, 2, size), InrFormatError);
    }
  });

  test("lzma: repeated dictionary resets past raw_size are refused at once", async () => {
    const chunk = [0x01, 0xff, 0xff, ...new Uint8Array(65536)];
    const chunks = [];
    for (let i = 0; i < 64; i++) chunks.push(...chunk);
    const t = performance.now();
    await assert.rejects(decompressBlob(Uint8Array.from([...chunks, 0]), 2, 1000), InrFormatError);
    assert.ok(performance.now() - t < 3000, "refused in milliseconds, not after 1 GiB");
    assert.equal(wrapXz(Uint8Array.of(0), 0).length % 4, 0);
  });
});
