"""Write the fixture the JavaScript decoder core's tests (web/test/format/) compare with.

- "weights": for every golden stream of tests/conformance/, the reference decoder's binary32
  weights of each model (every GOP and layer, in file order): the MD5 of every tensor's values in
  wire order, each as little-endian binary32, and the tensors' names and shapes. The weight
  digest of spec/conformance.md covers only the integers; this also holds the JavaScript
  dequantisation, theta_0 and P-model prediction to the reference, bit for bit.
- "coders": the reference coders' bytes (constriction 0.5.0 underneath) for a few long messages,
  so the JavaScript range and ANS coders are held to more than their own round trips.

    python tools/export_web_fixtures.py > web/test/format/fixtures/reference.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from inrcodec.coders import get_coder
from inrcodec.container.reader import ContainerReader
from inrcodec.container.chunks import BlobChunk, ModelChunk
from inrcodec.decode.model_io import decode_model, model_weights, plan_layers
from inrcodec.quant.tables import FreqTable, laplace_table

ROOT = Path(__file__).resolve().parent.parent / "tests" / "conformance"


def stream_weights(path: Path) -> list[dict]:
    """One entry per model in file order: gop, layer, md5 of its binary32 weights, names, shapes."""
    out = []
    with ContainerReader(path) as reader:
        layers = plan_layers(reader.header, reader.layers)
        for m in range(reader.header.n_goms):
            chunks = reader.read_gom(m)
            prev = [None] * len(layers)
            for i, chunk in enumerate(chunks):
                if not isinstance(chunk, ModelChunk):
                    continue
                blobs = []
                for later in chunks[i + 1:]:
                    if not isinstance(later, BlobChunk):
                        break
                    blobs.append(later)
                layer = layers[chunk.layer]
                qm = decode_model(layer, reader.header, chunk, blobs)
                weights = model_weights(layer, qm, prev[chunk.layer], chunk.gop_index)
                prev[chunk.layer] = weights
                h = hashlib.md5()
                for w in weights:
                    h.update(np.ascontiguousarray(w, "<f4").tobytes())
                out.append({"gop": chunk.gop_index, "layer": chunk.layer, "float_md5": h.hexdigest(),
                            "tensors": [[s.name, list(s.shape)] for s in layer.specs]})
    return out


def coder_cases() -> list[dict]:
    """Messages for every model coder: Laplace segments of several scales, a skewed explicit
    table (long runs of a near-certain symbol), a one-symbol table between them."""
    rng = np.random.default_rng(31)
    segments = []
    for scale, n, code, max_abs in [(3.0, 3000, 50000, 40), (0.3, 1500, 9000, 4), (200.0, 1000, 65300, 1200)]:
        sym = np.clip(np.rint(rng.laplace(0.0, scale, n)), -max_abs, max_abs).astype(np.int64)
        segments.append(({"laplace": [code, max_abs]}, sym, laplace_table(code, max_abs)))
    segments.append(({"offset": 5, "counts": [1]}, np.full(7, 5), FreqTable(5, np.array([1]))))
    counts = [2**39, 1, 3, 2**20]
    sym = rng.choice(4, 4000, p=[0.97, 0.005, 0.005, 0.02]).astype(np.int64) - 2
    segments.append(({"offset": -2, "counts": counts}, sym, FreqTable(-2, np.array(counts))))
    out = []
    for name in ("range", "ans", "raw"):
        coded = get_coder(name).encode([(s, t) for _, s, t in segments])
        out.append({"coder": name, "segments": [{**d, "symbols": s.tolist()} for d, s, _ in segments],
                    "hex": coded.hex()})
    return out


def main() -> None:
    streams = {d.name: stream_weights(d / "stream.inr") for d in sorted(ROOT.iterdir())
               if (d / "stream.inr").is_file()}
    json.dump({"weights": streams, "coders": coder_cases()}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
