"""Cutting a layered file down to its first k progressive layers, without touching the networks.

Every kept MODL and BLOB is parsed (CRC checked) and written again; the container's encoding is
canonical (fixed-width fields, minimal varints), so each chunk comes out byte for byte as it was.
Only SHDR's framing, the LHDR (dropped for k = 1, shortened otherwise), GIDX and IEND are new.
The disp chunk (§5.7) is carried over; other ancillary chunks are not.
"""

from __future__ import annotations

import os

from .chunks import BlobChunk, LayerHeader, ModelChunk
from .reader import ContainerReader
from .writer import ContainerWriter
from ..errors import InrInputError


def extract_layers(src: str | os.PathLike, dst: str | os.PathLike, layers: int, *,
                   overwrite: bool = False) -> tuple[int, int]:
    """Write ``dst`` holding layers 0..layers-1 of ``src``; returns (bytes written, bytes of src).

    ``dst`` is never ``src`` (nor a link to it); an existing file is replaced only with ``overwrite``.
    """
    with ContainerReader(src) as r:
        if not 1 <= layers <= r.n_layers:
            raise InrInputError(f"--layers {layers}: the file has {r.n_layers} layer{'s' if r.n_layers > 1 else ''}")
        kept = None if layers == 1 else LayerHeader(r.layers.residual[:layers - 1])
        with ContainerWriter(dst, r.header, layers=kept, display=r.display, overwrite=overwrite,
                             inputs=(src,)) as w:
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
