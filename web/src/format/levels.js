/**
 * The decoder's level (spec/levels.md): limits checked on SHDR and LHDR before any network is
 * built or any model read. A header above a limit is InrUnsupportedError naming the limit.
 */
import { InrUnsupportedError } from "./errors.js";
import { planNetwork } from "./archs.js";

/** spec/levels.md §2. Every value may be overridden through the `limits` option. */
export const DEFAULT_LIMITS = Object.freeze({
  maxPixels: 2 ** 25,
  maxLayers: 8,
  maxParams: 2 ** 24,
  maxTotalParams: 2 ** 26,
  maxMacsPerPixel: 2 ** 19,
  maxTotalMacsPerPixel: 2 ** 20,
  maxFrameMacs: 2 ** 38,
  maxActivation: 2 ** 29,
});

function ceilDiv(a, b) {
  return (a + b - 1n) / b;
}

function above(what, value, limit, name) {
  return new InrUnsupportedError(
    `${what} ${value}, above the limit ${limit} (the limits option's ${name} raises it)`,
  );
}

/**
 * Check the header against the level and build each decoded layer's plan, in the order of
 * spec/levels.md §1.2.
 * @param {{width: number, height: number, chromaFormat: number}} header
 * @param {{archId: number, archParams: (number|bigint)[]}[]} layers the layers to decode, layer 0 first
 * @param {Partial<typeof DEFAULT_LIMITS>} [limits]
 */
export function checkLevel(header, layers, limits = {}) {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const { width, height, chromaFormat } = header;
  if (width * height > lim.maxPixels) {
    throw new InrUnsupportedError(
      `frame ${width}x${height} has ${width * height} samples, above the limit ${lim.maxPixels} (the limits option's maxPixels raises it)`,
    );
  }
  const plans = layers.map((l) => planNetwork(l.archId, l.archParams, width, height, chromaFormat));
  if (layers.length > lim.maxLayers) throw above("layers decoded:", layers.length, lim.maxLayers, "maxLayers");
  plans.forEach((p, i) => {
    const where = `layer ${i} (${p.arch})`;
    const c = p.cost;
    if (c.params > BigInt(lim.maxParams)) throw above(`${where}: parameters`, c.params, lim.maxParams, "maxParams");
    if (c.macs > BigInt(lim.maxMacsPerPixel) * c.padded) {
      throw above(`${where}: MACs per pixel`, ceilDiv(c.macs, c.padded), lim.maxMacsPerPixel, "maxMacsPerPixel");
    }
    if (c.activation > BigInt(lim.maxActivation)) {
      throw above(`${where}: largest activation`, c.activation, lim.maxActivation, "maxActivation");
    }
  });
  const total = plans.reduce((a, p) => a + p.cost.params, 0n);
  if (total > BigInt(lim.maxTotalParams)) throw above("parameters of all layers", total, lim.maxTotalParams, "maxTotalParams");
  // the exact sum of MACs/padded over the layers, compared as one fraction
  let num = 0n;
  let den = 1n;
  for (const p of plans) {
    num = num * p.cost.padded + p.cost.macs * den;
    den *= p.cost.padded;
  }
  if (num > BigInt(lim.maxTotalMacsPerPixel) * den) {
    throw above("MACs per pixel of all layers", ceilDiv(num, den), lim.maxTotalMacsPerPixel, "maxTotalMacsPerPixel");
  }
  const frameMacs = plans.reduce((a, p) => a + p.cost.macs, 0n);
  if (frameMacs > BigInt(lim.maxFrameMacs)) throw above("MACs per frame", frameMacs, lim.maxFrameMacs, "maxFrameMacs");
  return plans;
}
