// Renders every frame of a file from weights exported by tests/web/export_weights.py, through the
// player's synthesis (web/src/synth) on onnxruntime-web's wasm backend under node:
//     node web/test/synthesis/render.mjs [--batch N] DIR [DIR ...]
// writes DIR/frames.bin (every frame's Y, U, V samples in order: bytes at 8 bits, little-endian 16-bit
// words above; with --batch N, DIR/frames_bN.bin, frames rendered N at a time from the GOP's first
// instead of RENDER_BATCH) and prints one line of JSON per DIR: {dir, frames, ms}.
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { Synthesis, RENDER_BATCH } from '../../src/synth/network.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const args = process.argv.slice(2);
const batchAt = args.indexOf('--batch');
const batch = batchAt >= 0 ? Number(args.splice(batchAt, 2)[1]) : RENDER_BATCH;
const outName = batchAt >= 0 ? `frames_b${batch}.bin` : 'frames.bin';

for (const dir of args) {
  const info = JSON.parse(fs.readFileSync(path.join(dir, 'info.json'), 'utf8'));
  const synth = new Synthesis(ort, info, { executionProviders: ['wasm'] });
  const out = [];
  const t0 = performance.now();
  for (const gop of info.gops) {
    synth.load(info.layers.map((_, k) => {
      const buf = fs.readFileSync(path.join(dir, `w_${gop.index}_${k}.bin`));
      const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      let o = 0;
      return synth.nets[k][0].specs.map(([, dims]) => {
        const n = dims.reduce((a, b) => a * b, 1);
        o += n;
        return all.subarray(o - n, o);
      });
    }));
    for (let first = 0; first < gop.count; first += batch) {
      const offsets = [];
      for (let i = first; i < Math.min(gop.count, first + batch); i++) offsets.push(i);
      for (const frame of await synth.render(offsets)) {
        for (const plane of frame) out.push(Buffer.from(plane.buffer, plane.byteOffset, plane.byteLength));
      }
    }
  }
  const ms = performance.now() - t0;
  fs.writeFileSync(path.join(dir, outName), Buffer.concat(out));
  await synth.release();
  process.stdout.write(JSON.stringify({ dir, frames: info.nFrames, ms }) + '\n');
}
