"""The streaming decoder: one model at a time, frames out as they are made, frame-exact seek.

Memory holds one GOM's previous model and one GOP's frames at most, whatever the video length.
Seeking to frame N reads only the GOM that holds N (through the index) and decodes its models
from the I-model up to the GOP of N.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np
import torch

from ..coders.blob import decompress_blob
from ..container.chunks import BlobChunk, ModelChunk
from ..container.reader import ContainerReader
from ..errors import InrFormatError, InrInputError
from ..io.video import chroma_from_code
from ..models import ARCHITECTURES
from .init import init_arrays, p_reference
from .render import render_frames
from .weights import (BLOB_TAG_FLOAT, BLOB_TAGS, KIND_I, QuantizedModel, attach_blob, blob_raw_size, decode_body,
                      dequantize)

Frame = tuple[np.ndarray, np.ndarray, np.ndarray]


class InrFile:
    """An open .inr file: ``len()``, ``f[n]`` (Y, U, V planes), iteration, ``frames(start, count)``."""

    def __init__(self, path: str | os.PathLike | bytes, *, salvage: bool = False, device: str = "cpu") -> None:
        self._reader = ContainerReader(path, salvage=salvage)
        self.header = h = self._reader.header
        try:
            self.chroma = chroma_from_code(h.chroma_format)
            self._model = ARCHITECTURES.by_id(h.arch_id)(h.width, h.height, self.chroma, h.arch_params)
        except ValueError as exc:
            self._reader.close()
            raise InrFormatError(f"SHDR: arch_params {h.arch_params} invalid: {exc}") from None
        except BaseException:
            self._reader.close()
            raise
        self._device = torch.device(device)
        self._model.to(self._device).eval()
        self._specs = self._model.tensor_specs()
        self._has_blob = any(spec.blob for spec in self._specs)  # a residual BLOB per GOP (spec/models.md §3b)
        self._theta_init: list[np.ndarray] | None = None
        self._cache: tuple[int, list[np.ndarray]] | None = None  # (gop index, frames Y/U/V)
        self._state: tuple[int, list[np.ndarray]] | None = None  # last decoded model's weights
        self.n_decoded_goms = 0  # how many GOMs were read from the file (seek cost, for tests)

    # -- container facts ---------------------------------------------------------------------
    @property
    def reader(self) -> ContainerReader:
        """The container reader (index, chunks, byte counts)."""
        return self._reader

    @property
    def n_frames(self) -> int:
        """Frames this file can deliver (fewer than the header's when salvaging a cut file)."""
        if self._reader.salvage_note is None:
            return self.header.n_frames
        n_goms = self._reader.n_complete_goms
        if n_goms == 0:
            return 0
        last_gop = self.header.gops_of_gom(n_goms - 1)[-1]
        first, n = self.header.gop_range(last_gop)
        return first + n

    def __len__(self) -> int:
        return self.n_frames

    def close(self) -> None:
        """Close the underlying file."""
        self._reader.close()

    def __enter__(self) -> "InrFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- model decoding ----------------------------------------------------------------------
    def _init(self) -> list[np.ndarray]:
        if self._theta_init is None:
            self._theta_init = init_arrays(self._specs, self.header.seed)
        return self._theta_init

    def _weights(self, qm: QuantizedModel, prev: list[np.ndarray] | None, gop_index: int) -> list[np.ndarray]:
        if qm.kind == KIND_I:
            return dequantize(qm, None, self._specs)
        if prev is None:
            raise InrFormatError(f"GOP {gop_index}: P-model without a decoded predecessor")
        keep = [s.blob for s in self._specs] if qm.blob_tag == BLOB_TAG_FLOAT else None
        return dequantize(qm, p_reference(self._init(), prev, qm.eps_code, keep), self._specs)

    def _decode(self, chunk: ModelChunk, blobs: list[BlobChunk]) -> QuantizedModel:
        qm = decode_body(chunk.body, self._specs, int(chunk.kind), self.header.coder_id)
        if self._has_blob:
            mine = [b for b in blobs if b.gop_index == chunk.gop_index and b.tag in BLOB_TAGS]
            if len(mine) != 1:
                raise InrFormatError(f"GOP {chunk.gop_index}: {len(mine)} residual BLOBs, the architecture needs 1")
            blob = mine[0]
            need = blob_raw_size(blob.tag, self._specs)
            if blob.raw_size != need:  # checked before anything is decompressed
                raise InrFormatError(f"GOP {chunk.gop_index}: residual BLOB of {blob.raw_size} bytes, "
                                     f"the architecture needs {need}")
            # raises only InrFormatError (bad data) or InrUnsupportedError (unknown method)
            attach_blob(qm, self._specs, blob.tag, decompress_blob(blob.data, blob.method, blob.raw_size))
        return qm

    def decode_gom_models(self, gom_index: int, last_gop: int | None = None
                          ) -> Iterator[tuple[int, QuantizedModel, list[np.ndarray]]]:
        """Yield (gop index, integers, float32 weights) for the GOM's models up to ``last_gop``."""
        all_chunks = self._reader.read_gom(gom_index)
        chunks = [c for c in all_chunks if isinstance(c, ModelChunk) and c.layer == 0]
        blobs = [c for c in all_chunks if isinstance(c, BlobChunk)]
        self.n_decoded_goms += 1
        prev: list[np.ndarray] | None = None
        for chunk in chunks:
            if last_gop is not None and chunk.gop_index > last_gop:
                break
            qm = self._decode(chunk, blobs)
            prev = self._weights(qm, prev, chunk.gop_index)
            yield chunk.gop_index, qm, prev

    def _gop_weights(self, gop_index: int) -> list[np.ndarray]:
        h = self.header
        if self._state is not None and self._state[0] == gop_index - 1 and gop_index % h.gom_size != 0:
            # sequential playback: the predecessor is at hand, decode just this GOP's model
            if self._has_blob:  # the GOP's BLOB too: read the GOM's chunks
                gop_chunks = [c for c in self._reader.read_gom(h.gom_of_gop(gop_index)) if c.gop_index == gop_index]
            else:
                gop_chunks = self._reader.read_models(gop_index)
            chunks = [c for c in gop_chunks if isinstance(c, ModelChunk) and c.layer == 0]
            if not chunks:
                raise InrFormatError(f"GOP {gop_index}: no model in the file")
            blobs = [c for c in gop_chunks if isinstance(c, BlobChunk)]
            weights = self._weights(self._decode(chunks[0], blobs), self._state[1], gop_index)
        else:
            weights = None
            for g, _qm, w in self.decode_gom_models(h.gom_of_gop(gop_index), gop_index):
                weights = w if g == gop_index else None
            if weights is None:
                raise InrFormatError(f"GOP {gop_index}: no model in the file")
        self._state = (gop_index, weights)
        return weights

    def _gop_frames(self, gop_index: int) -> list[np.ndarray]:
        if self._cache is not None and self._cache[0] == gop_index:
            return self._cache[1]
        self._model.load_arrays(self._gop_weights(gop_index))
        first, n = self.header.gop_range(gop_index)
        t_pos = torch.arange(n, dtype=torch.float32, device=self._device) / self.header.gop_size
        frames = render_frames(self._model, t_pos)
        self._cache = (gop_index, frames)
        return frames

    # -- frames ------------------------------------------------------------------------------
    def __getitem__(self, n: int) -> Frame:
        if not isinstance(n, (int, np.integer)):
            raise TypeError("frame index must be an integer")
        if n < 0:
            n += len(self)
        if not 0 <= n < len(self):
            raise IndexError(f"frame {n} outside 0..{len(self) - 1}")
        g = self.header.gop_of_frame(int(n))
        first, _ = self.header.gop_range(g)
        planes = self._gop_frames(g)
        return tuple(p[n - first] for p in planes)  # type: ignore[return-value]

    def frames(self, start: int = 0, count: int | None = None) -> Iterator[Frame]:
        """Frames start .. start+count-1 (to the end when count is None), decoded as they go."""
        total = len(self)
        if not 0 <= start < max(total, 1) or total == 0:
            raise InrInputError(f"--start {start} outside 0..{total - 1}")
        end = total if count is None else min(total, start + count)
        for n in range(start, end):
            yield self[n]

    def __iter__(self) -> Iterator[Frame]:
        return self.frames(0)
