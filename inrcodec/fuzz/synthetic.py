"""Valid .inr files made from a header alone: every model coded by the codec's own weight coder.

For the decoder's fuzzers and limit tests (tests/property/test_decoder_fuzz.py, tools/fuzz/): a
header with extreme but legal values (``inrcodec.fuzz.mutate.extreme_header``) becomes a file
a conforming decoder must decode or refuse. Weights are zeros (a body of two bytes a tensor, so a
tiny file can declare a large network) or small random symbols (frames that depend on them).
Networks are built only to learn their tensor shapes: callers check the header's limits first.
"""

from __future__ import annotations

import random

import numpy as np

from ..coders.blob import BLOB_CODECS, compress_best
from ..container.chunks import BlobChunk, LayerHeader, ModelChunk, SequenceHeader
from .mutate import extreme_header
from ..container.writer import serialize
from ..errors import InrError, InrUnsupportedError
from ..levels import Limits, exceeded
from ..decode.model_io import plan_layers
from ..decode.weights import BlobTag, KIND_I, KIND_P, QuantizedModel, encode_body, pack_symbol_blob

# Limits under which a fuzzed file decodes a frame in well under a second and a few hundred MB
# (spec/levels.md §2: ~3 x 4 x max_activation x 4 bytes to render, ~6 x 4 bytes x max_total_params
# of weights), so that fuzzers can bound every input's time and memory.
FUZZ_LIMITS = Limits(max_pixels=1 << 16, max_params=1 << 21, max_total_params=1 << 22, max_frame_macs=1 << 30,
                     max_activation=1 << 22)


def model_chunks(header: SequenceHeader, layers: LayerHeader | None = None,
                 rng: np.random.Generator | None = None, *, max_symbol: int = 3,
                 step_code: int = -64) -> list[ModelChunk | BlobChunk]:
    """The MODL (and residual BLOB) chunks of every GOP and layer in file order: all-zero weights,
    or with ``rng`` symbols in -max_symbol..max_symbol at step code ``step_code`` (default 1/16; and
    random eps codes for P-models)."""
    specs = [layer.specs for layer in plan_layers(header, layers)]
    out: list[ModelChunk | BlobChunk] = []
    for g in range(header.n_gops):
        kind = KIND_I if g % header.gom_size == 0 else KIND_P
        for k, layer_specs_k in enumerate(specs):
            if rng is None:
                symbols = [np.zeros(s.shape, np.int32) for s in layer_specs_k]
                steps, eps = [0] * len(layer_specs_k), 0
            else:
                symbols = [rng.integers(-max_symbol, max_symbol + 1, s.shape, dtype=np.int32) for s in layer_specs_k]
                steps, eps = [step_code] * len(layer_specs_k), int(rng.integers(0, 256)) if kind == KIND_P else 0
            qm = QuantizedModel(kind, eps, steps, symbols)
            out.append(ModelChunk(gop_index=g, kind=kind, body=encode_body(qm, header.coder_id, layer_specs_k),
                                  layer=k))
            blob = [sym for sym, s in zip(symbols, layer_specs_k) if s.blob]
            if blob:
                raw = pack_symbol_blob(blob)
                name, data = compress_best(raw)
                out.append(BlobChunk(g, BlobTag.SYMBOLS, BLOB_CODECS.id_of(name), len(raw), data))
    return out


def synthetic_file(header: SequenceHeader, layers: LayerHeader | None = None,
                   rng: np.random.Generator | None = None, *, bodies: bool = True, max_symbol: int = 3,
                   step_code: int = -64) -> bytes:
    """A whole valid file for ``header`` (and ``layers``); ``bodies=False``: every MODL body empty,
    for headers a decoder must refuse before it reads any model (nothing is built then);
    ``max_symbol``, ``step_code``: the random weights' range (``model_chunks``)."""
    if bodies:
        chunks = model_chunks(header, layers, rng, max_symbol=max_symbol, step_code=step_code)
    else:
        n_layers = 1 if layers is None else layers.n_layers
        chunks = [ModelChunk(gop_index=g, kind=KIND_I if g % header.gom_size == 0 else KIND_P, body=b"", layer=k)
                  for g in range(header.n_gops) for k in range(n_layers)]
    return serialize(header, chunks, layers=layers)


def extreme_file(seed: int, limits: Limits = FUZZ_LIMITS) -> tuple[bytes, type[InrError] | None]:
    """A valid file with an extreme header (``extreme_header`` seeded by ``seed``) and what a decoder
    with ``limits`` must do with it: None, decode it (it has model bodies, zero or, for odd seeds,
    random weights); else the error it must raise from the header (its bodies are then empty)."""
    header, layers = extreme_header(random.Random(seed))
    try:
        message = exceeded(header, layers, limits=limits)[1]
    except InrError as exc:  # invalid arch_params, unknown architecture
        return synthetic_file(header, layers, bodies=False), type(exc)
    if message is not None:
        return synthetic_file(header, layers, bodies=False), InrUnsupportedError
    return synthetic_file(header, layers, np.random.default_rng(seed) if seed % 2 else None), None
