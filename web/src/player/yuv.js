// Decoded planes -> RGBA for a canvas. Display only (the decoder's output is the integer planes):
// BT.709 coefficients when SHDR's matrix says 1, else BT.601; full range when color_range says 2,
// else limited ("unknown" shows as limited, as players do for video).

/** RGBA bytes (Uint8ClampedArray, width·height·4) of planes [Y, U, V] (4:2:0 or 4:4:4). */
export function toRgba(planes, width, height, { bitDepth = 8, matrix = 2, colorRange = 0, chroma = '420' } = {}) {
  const [Y, U, V] = planes;
  const out = new Uint8ClampedArray(width * height * 4);
  const scale = 255 / (2 ** bitDepth - 1);
  const full = colorRange === 2;
  const [kr, kb] = matrix === 1 ? [0.2126, 0.0722] : [0.299, 0.114];
  const kg = 1 - kr - kb;
  const ys = full ? 1 : 255 / 219, yo = full ? 0 : 16, cs = full ? 1 : 255 / 224;
  const rv = 2 * (1 - kr) * cs, bu = 2 * (1 - kb) * cs;
  const gu = (bu * kb) / kg, gv = (rv * kr) / kg;
  const cw = chroma === '420' ? (width + 1) >> 1 : width;
  const sub = chroma === '420' ? 1 : 0;
  for (let r = 0; r < height; r++) {
    const crow = (r >> sub) * cw;
    for (let c = 0; c < width; c++) {
      const ci = crow + (c >> sub);
      const y = (Y[r * width + c] * scale - yo) * ys;
      const u = U[ci] * scale - 128, v = V[ci] * scale - 128;
      const o = (r * width + c) * 4;
      out[o] = y + rv * v;
      out[o + 1] = y - gu * u - gv * v;
      out[o + 2] = y + bu * u;
      out[o + 3] = 255;
    }
  }
  return out;
}
