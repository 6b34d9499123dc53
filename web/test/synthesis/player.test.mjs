// node --test: the player's engine (web/src/player/player.js) with the decoder core and
// onnxruntime-web under node: a frame is the same whatever was asked before it, the first frame comes
// before the file is read, and a cut file is an error for the frames it lacks. (Frames against the
// golden streams' own: tests/web/test_web_synthesis.py and test_web_browser.py, with the ±1 rule.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import * as format from '../../src/format/index.js';
import { Player } from '../../src/player/player.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const CONFORMANCE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'tests', 'conformance');
const golden = (f) => ({
  bytes: new Uint8Array(fs.readFileSync(path.join(CONFORMANCE, f, 'stream.inr'))),
  expected: JSON.parse(fs.readFileSync(path.join(CONFORMANCE, f, 'expected.json'), 'utf8')),
});

/** The bytes 100 at a time until `ready()`, then, once `gate` resolves, the rest. */
async function* pieces(bytes, ready, gate) {
  let i = 0;
  for (; i < bytes.length && !ready(); i += 100) yield bytes.subarray(i, Math.min(bytes.length, i + 100));
  await gate;
  yield bytes.subarray(i);
}

async function allFrames(bytes, order) {
  const player = new Player(ort, format);
  await player.read([bytes]);
  const md5 = {};
  for (const n of order) md5[n] = (await player.frame(n)).md5;
  await player.synth.release();
  return md5;
}

test('a frame is the same whatever was asked before it (LAYERS_A: three layers; MULTIGOM_A: three GOMs)', async () => {
  for (const f of ['LAYERS_A', 'MULTIGOM_A']) {
    const { bytes, expected } = golden(f);
    const order = [...Array(expected.n_frames).keys()];
    const inOrder = await allFrames(bytes, order);
    const shuffled = await allFrames(bytes, [...order].sort((a, b) => ((a * 7) % 5) - ((b * 7) % 5) || b - a));
    assert.deepEqual(shuffled, inOrder, f);
  }
});

test('the first frame is out before the file is read (MULTIGOM_A: three GOMs)', async () => {
  const { bytes, expected } = golden('MULTIGOM_A');
  const whole = await allFrames(bytes, [0, 11]);
  let release;
  const gate = new Promise((r) => { release = r; });
  const player = new Player(ort, format);
  const gop0 = new Promise((r) => { player.onGop = (g) => g === 0 && r(); });
  const reading = player.read(pieces(bytes, () => player.gopDecoders.has(0), gate));
  await gop0;
  const first = await player.frame(0);
  assert.equal(first.md5, whole[0]);
  assert.ok(player.bytes < bytes.length && !player.complete, 'frame 0 came after the whole file');
  const last = player.frame(11); // its GOP has not arrived: it waits
  release();
  await reading;
  assert.equal((await last).md5, whole[11]);
  assert.equal(expected.n_frames, 12);
  await player.synth.release();
});

test('a cut file: the frames it holds play, the others and the read end in InrTruncatedError', async () => {
  const { bytes } = golden('MULTIGOM_A');
  const whole = await allFrames(bytes, [0]);
  const player = new Player(ort, format);
  const gop0 = new Promise((r) => { player.onGop = (g) => g === 0 && r(); });
  async function* cut() { // the bytes up to GOP 0's end, then nothing more
    for (let i = 0; !player.gopDecoders.has(0); i += 100) yield bytes.subarray(i, i + 100);
  }
  const reading = player.read(cut());
  await gop0;
  const late = player.frame(11).then(() => null, (e) => e);
  await assert.rejects(reading, format.InrTruncatedError);
  assert.ok((await late) instanceof format.InrTruncatedError);
  assert.equal((await player.frame(0)).md5, whole[0]);
  await player.synth.release();
});
