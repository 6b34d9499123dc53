/**
 * The decoder core as the page gets it: bundled and minified by esbuild for browsers, its error
 * classes keep their spec names and its blobs (fzstd, xz-decompress's WebAssembly) still decode.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { SUITE, allModels, readBytes, readJson, weightsMd5 } from "./helpers.js";

// esbuild is a devDependency: without it (npm ci --omit=dev) the test says so and skips
const esbuild = await import("esbuild").catch(() => null);

test("a minified browser bundle keeps error names and decodes LZMA and zstd blobs", { skip: esbuild ? false : "esbuild is not installed (npm ci)" }, async () => {
  const out = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("../../src/format/index.js", import.meta.url))],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0].text;
  assert.ok(!/from\s*["']|require\(["']stream\/web/.test(code), "self-contained");
  const core = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  assert.throws(() => core.openFile(readBytes(`${SUITE}invalid/CRC_SHDR.inr`)), (e) => e.name === "InrChecksumError" && e.exitCode === 5);
  const f = core.openFile(readBytes(`${SUITE}BLOBLZMA_A/stream.inr`));
  const expected = readJson(`${SUITE}BLOBLZMA_A/expected.json`).models.map((m) => m.weights_md5);
  assert.deepEqual((await allModels(f)).map(weightsMd5), expected);
});
