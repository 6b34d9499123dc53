// npm run build: the player as a static site in web/dist/ — index.html, main.js (the page), worker.js
// (decoder core, synthesis, onnxruntime-web) and ort/ (onnxruntime-web's WASM runtime, served from the
// site itself: nothing is fetched from a CDN at run time).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
// --out DIR: build elsewhere (the tests build into a temporary folder)
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(here, 'dist');
const ortDist = path.join(here, 'node_modules', 'onnxruntime-web', 'dist');
// the threaded SIMD build of the wasm backend: its module and its glue (what ort.wasm.bundle loads)
const ORT_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(path.join(dist, 'ort'), { recursive: true });
await esbuild.build({
  entryPoints: { main: path.join(here, 'src', 'main.js'), worker: path.join(here, 'src', 'worker.js') },
  outdir: dist,
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  keepNames: true, // error classes show their names (InrFormatError: ...) in the page
  sourcemap: true,
  logLevel: 'warning',
});
fs.copyFileSync(path.join(here, 'index.html'), path.join(dist, 'index.html'));
for (const f of ORT_FILES) fs.copyFileSync(path.join(ortDist, f), path.join(dist, 'ort', f));
const size = (f) => fs.statSync(path.join(dist, f)).size;
const ortBytes = ORT_FILES.reduce((s, f) => s + size(path.join('ort', f)), 0);
console.log(`web/dist: main.js ${size('main.js')} B, worker.js ${size('worker.js')} B, ort/ ${ortBytes} B`);
