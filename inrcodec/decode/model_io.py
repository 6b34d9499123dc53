"""A file's networks, rebuilt from its headers, and the decoding of their MODL chunks.

The decoder and the encoder's closed loop both use this module, so "encode by decoding" runs the
decoder's own code: what the encoder predicts the next P-model from is what a decoder will have.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ..coders.blob import decompress_blob
from ..container.chunks import BlobChunk, LayerHeader, ModelChunk, SequenceHeader, layer_specs
from ..archs import ARCHITECTURES, TensorSpec, output_offset
from ..container.spec import ChromaFormat
from ..errors import InrFormatError
from .init import init_arrays, p_reference
from .weights import (BlobTag, BLOB_TAGS, KIND_I, QuantizedModel, attach_blob, blob_raw_size, decode_body,
                      dequantize)

if TYPE_CHECKING:
    from ..models.base import InrModel


@dataclass
class Layer:
    """One layer's network as the headers define it (layer 0 from SHDR, the others from LHDR)."""

    index: int
    model: "InrModel | None"  # the torch network (build_layers); None where the decoder needs no torch (plan_layers)
    specs: list[TensorSpec]
    seed: int
    scale: float  # residual_scale (1 for the base layer): the layer adds its planes / scale

    @property
    def output_offset(self) -> float:
        """What every plane of this layer adds (0 for a residual layer)."""
        return output_offset(self.index)

    @property
    def has_blob(self) -> bool:
        """Whether the architecture has blob tensors, whose symbols travel in a residual BLOB."""
        return any(spec.blob for spec in self.specs)

    @cached_property
    def theta_init(self) -> list[np.ndarray]:
        """The seeded initialisation every I-model starts from (made on first use)."""
        return init_arrays(self.specs, self.seed)


def plan_layers(header: SequenceHeader, layers: LayerHeader | None, n_layers: int | None = None) -> list[Layer]:
    """The file's first ``n_layers`` layers (all when None) without their networks: what decoding the
    weights needs, from the architectures alone (no torch)."""
    chroma = ChromaFormat.from_code(header.chroma_format).label
    out = []
    for k, ls in enumerate(layer_specs(header, layers)[:n_layers]):
        specs = ARCHITECTURES.by_id(ls.arch_id).tensors(header.width, header.height, chroma, ls.arch_params)
        out.append(Layer(k, None, specs, ls.seed, float(ls.residual_scale)))
    return out


def build_layers(header: SequenceHeader, layers: LayerHeader | None, device: Any,
                 n_layers: int | None = None) -> list[Layer]:
    """The torch networks the encoder trains for the file's first ``n_layers`` layers (all when None), on ``device``."""
    chroma = ChromaFormat.from_code(header.chroma_format).label
    out = []
    for plan, ls in zip(plan_layers(header, layers, n_layers), layer_specs(header, layers)):
        model = ARCHITECTURES.by_id(ls.arch_id).network_class()(header.width, header.height, chroma, ls.arch_params)
        model.output_offset = plan.output_offset
        model.to(device)
        out.append(replace(plan, model=model))
    return out


def decode_model(layer: Layer, header: SequenceHeader, chunk: ModelChunk, blobs: list[BlobChunk]) -> QuantizedModel:
    """A MODL's integers, with its residual BLOB among ``blobs`` (the BLOBs that follow it)."""
    qm = decode_body(chunk.body, layer.specs, int(chunk.kind), header.coder_id, chunk.body_offset)
    if layer.has_blob:
        mine = [b for b in blobs if b.tag in BLOB_TAGS]
        where = f"GOP {chunk.gop_index}" + (f" layer {layer.index}" if layer.index else "")
        if len(mine) != 1:
            raise InrFormatError(f"{where}: {len(mine)} residual BLOBs, the architecture needs 1")
        blob = mine[0]
        need = blob_raw_size(blob.tag, layer.specs)
        if blob.raw_size != need:  # checked before anything is decompressed
            raise InrFormatError(f"{where}: residual BLOB of {blob.raw_size} bytes, the architecture needs {need}")
        attach_blob(qm, layer.specs, blob.tag, decompress_blob(blob.data, blob.method, blob.raw_size))
    return qm


def model_weights(layer: Layer, qm: QuantizedModel, prev: list[np.ndarray] | None, gop_index: int) -> list[np.ndarray]:
    """The float32 weights of a decoded model; a P-model predicts from ``prev``, its layer's previous weights."""
    if qm.kind == KIND_I:
        return dequantize(qm, None, layer.specs)
    if prev is None:
        raise InrFormatError(f"GOP {gop_index}: P-model without a decoded predecessor")
    # a legacy binary32 BLOB kept its blob tensors unchanged from the previous model
    keep = [s.blob for s in layer.specs] if qm.blob_tag == BlobTag.FLOAT else None
    return dequantize(qm, p_reference(layer.theta_init, prev, qm.eps_code, keep), layer.specs)
