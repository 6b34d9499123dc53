"""Cutting a layered file down to its first k progressive layers, without touching the networks.

Every kept MODL and BLOB is parsed (CRC checked) and written again; the container's encoding is
canonical (fixed-width fields, minimal varints), so each chunk comes out byte for byte as it was.
Only SHDR's framing, the LHDR (dropped for k = 1, shortened otherwise), GIDX and IEND are new.
Ancillary chunks are not carried over.
"""

from __future__ import annotations

import os

from .chunks import BlobChunk, LayerHeader, ModelChunk
from .reader import ContainerReader
from .writer import ContainerWriter
from ..errors import InrInputError


def extract_layers(src: str | os.PathLike, dst: str | os.PathLike, layers: int) -> tuple[int, int]:
    """Write ``dst`` holding layers 0..layers-1 of ``src``; returns (bytes written, bytes of src)."""
    with ContainerReader(src) as r:
        if not 1 <= layers <= r.n_layers:
            raise InrInputError(f"--layers {layers}: the file has {r.n_layers} layer{'s' if r.n_layers > 1 else ''}")
        if os.path.abspath(os.fspath(src)) == os.path.abspath(os.fspath(dst)):
            raise InrInputError("extract: the output must not be the input file")
        kept = None if layers == 1 else LayerHeader(r.layers.residual[:layers - 1])
        with ContainerWriter(dst, r.header, layers=kept) as w:
            for gom in range(r.header.n_goms):
                layer = 0
                for chunk in r.read_gom(gom):
                    if isinstance(chunk, ModelChunk):
                        layer = chunk.layer
                    if layer >= layers:
                        continue
                    if isinstance(chunk, BlobChunk):
                        w.write_blob(chunk)
                    else:
                        w.write_model(chunk)
            written = w.close()
        return written, r.file_size
