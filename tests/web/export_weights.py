"""Dump a file's per-GOP float32 weights as inrcodec's own decoder makes them, for the player's
synthesis tests under node (web/test/synthesis/render.mjs): those test synthesis alone, on weights
known to be right, apart from the JavaScript decoder core (web/src/format, tested by its own suite).

    python tests/web/export_weights.py FILE.inr OUTDIR

OUTDIR/info.json: the picture, the layers and the GOPs; OUTDIR/w_<gop>_<layer>.bin: that model's
tensors in wire order, float32 little-endian, concatenated.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from inrcodec.container.chunks import layer_specs
from inrcodec.container.spec import ChromaFormat
from inrcodec.decode.decoder import InrFile
from inrcodec.decode.options import DecodeOptions


def export(path: str, out: str) -> dict:
    os.makedirs(out, exist_ok=True)
    with InrFile(path, DecodeOptions(backend="numpy")) as f:
        h = f.header
        info = {
            "width": h.width, "height": h.height, "chroma": ChromaFormat.from_code(h.chroma_format).label,
            "bitDepth": h.bit_depth, "gopSize": h.gop_size, "nFrames": h.n_frames,
            "layers": [{"archId": ls.arch_id, "archParams": list(ls.arch_params), "scale": ls.residual_scale}
                       for ls in layer_specs(h, f.reader.layers)],
            "gops": [],
        }
        for gom in range(h.n_goms):
            for g, _qms, weights in f.decode_gom(gom):
                start, count = h.gop_range(g)
                info["gops"].append({"index": g, "start": start, "count": count})
                for k, arrays in enumerate(weights):
                    data = b"".join(np.ascontiguousarray(a, "<f4").tobytes() for a in arrays)
                    with open(os.path.join(out, f"w_{g}_{k}.bin"), "wb") as fh:
                        fh.write(data)
    with open(os.path.join(out, "info.json"), "w") as fh:
        json.dump(info, fh)
    return info


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: export_weights.py FILE.inr OUTDIR")
    export(sys.argv[1], sys.argv[2])
