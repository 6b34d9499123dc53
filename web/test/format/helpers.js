/** Shared by the decoder core's tests: paths of the conformance suite, MD5 of the weight digest. */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { digestParts } from "../../src/format/index.js";

export const SUITE = fileURLToPath(new URL("../../../tests/conformance/", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** The golden streams' folder names (every folder holding a stream.inr, not invalid/). */
export function goldenNames() {
  return readdirSync(SUITE, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== "invalid" && existsSync(`${SUITE}${d.name}/stream.inr`))
    .map((d) => d.name)
    .sort();
}

export function readBytes(path) {
  return new Uint8Array(readFileSync(path));
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** weights_md5 of spec/conformance.md §Weight digest. */
export function weightsMd5(model) {
  const h = createHash("md5");
  for (const part of digestParts(model)) h.update(part);
  return h.digest("hex");
}

/** MD5 of a model's binary32 weights in wire order, little-endian (the fixture's float_md5). */
export function floatMd5(model) {
  const h = createHash("md5");
  for (const { data } of model.weights.values()) {
    const b = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) b.writeFloatLE(data[i], 4 * i);
    h.update(b);
  }
  return h.digest("hex");
}

/** Every model of an opened file, in file order (GOM, GOP, layer). */
export async function allModels(file) {
  const out = [];
  for (let m = 0; m < file.nGoms; m++) for (const gop of await file.decodeGom(m)) out.push(...gop);
  return out;
}

/** Feed `bytes` to a stream in pieces of `step` bytes; the events, the models of each GOM event decoded. */
export async function streamModels(Stream, bytes, step) {
  const s = new Stream();
  const events = [];
  for (let i = 0; i < bytes.length; i += step) {
    for (const ev of s.push(bytes.subarray(i, i + step))) events.push({ ...ev, at: Math.min(i + step, bytes.length) });
  }
  events.push(...s.end());
  const models = [];
  for (const ev of events) if (ev.type === "gom") for (const gop of await ev.decode()) models.push(...gop);
  return { events, models };
}
