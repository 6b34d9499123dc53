"""The streaming decoder: one model at a time, frames out as they are made, frame-exact seek.

Before it builds a network, the decoder checks the header against the level (``inrcodec.levels``,
spec/levels.md), so the memory and work of one frame are bounded whatever the file claims. Memory
then holds one GOM's previous model and one batch of frames (``render.RENDER_BATCH``), whatever the
video or GOP length: the first frame of a GOP of any length is out after one batch. Seeking to
frame N reads only the GOM that holds N (through the index), decodes its models from the I-model
up to the GOP of N and renders the batch holding N.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from ..container.chunks import BlobChunk, ModelChunk
from ..container.reader import ContainerReader
from ..container.spec import ChromaFormat
from ..errors import InrFormatError, InrInputError, InrTruncatedError
from ..levels import check_limits
from .model_io import decode_model, model_weights, plan_layers
from .bands import check_memory, plan_pieces
from .batch import render_batch
from .options import DecodeOptions, check_threads
from .synthesis import choose_backend, make_synthesis
from .weight_range import check_weight_range
from .weights import QuantizedModel

Frame = tuple[np.ndarray, np.ndarray, np.ndarray]


class InrFile:
    """An open .inr file: ``len()``, ``f[n]`` (Y, U, V planes), iteration, ``frames(start, count)``,
    decoded as ``options`` (``DecodeOptions``) say.

    The header is checked against ``options.limits`` (default: the level, ``inrcodec.levels.LEVEL``)
    before anything is built; a file above one raises InrUnsupportedError naming it.
    """

    def __init__(self, path: str | os.PathLike | bytes, options: DecodeOptions = DecodeOptions()) -> None:
        self.options = options
        self._reader = ContainerReader(path, salvage=options.salvage)
        self.header = h = self._reader.header
        try:
            self.chroma = ChromaFormat.from_code(h.chroma_format).label
            n_file = self._reader.n_layers
            layers = options.layers
            check_threads(options.threads)
            if layers is not None and not 1 <= layers <= n_file:
                raise InrInputError(f"--layers {layers}: the file has {n_file} layer{'s' if n_file > 1 else ''}")
            self.n_layers = n_file if layers is None else layers
            # by arithmetic on SHDR + LHDR, before any network exists (spec/levels.md)
            costs = check_limits(h, self._reader.layers, limits=options.limits, n_layers=self.n_layers)
            self._layers = plan_layers(h, self._reader.layers, self.n_layers)
            # frames per network call: RENDER_BATCH within the level; fewer above it (a raised max_activation)
            self._batch = render_batch(max(c.activation for c in costs))
            # whole frames, or bands of rows when a batch's values would pass PIECE_BYTES (spec/levels.md §4b);
            # refused in one line when even that does not fit the memory this process has
            batch = min(self._batch, h.gop_size)  # the frames of a network call
            backend = choose_backend(options.backend, options.device)[0]
            self.pieces = plan_pieces(h, self._reader.layers, self.n_layers, costs, batch, backend=backend)
            if self.pieces.band is not None and batch > 1 and backend == "ort":
                # ort, in bands: one frame a call, so its bands are `batch` times taller and recompute
                # their halo rows over fewer rows (issue 32: a 4-frame 16384x2048 gnerv took 193 s on ort
                # in bands one row tall, 12 s so). Its banded samples were already within the ±1 of
                # spec/conformance.md of whole frames, and stay so; numpy and torch keep their batch, so
                # that their bands stay bit-exact to their whole frames
                batch = self._batch = 1
                self.pieces = plan_pieces(h, self._reader.layers, self.n_layers, costs, batch, backend=backend)
            check_memory(self.pieces, h, batch)
            self._synth = make_synthesis(options.backend, options.device, h, self._reader.layers, self._layers,
                                         options.threads, self.pieces.band)
        except BaseException:
            self._reader.close()
            raise
        self._cache: tuple[int, int, list[np.ndarray]] | None = None  # (gop, first offset, Y/U/V of a batch)
        self._loaded: int | None = None  # the GOP whose weights the networks hold
        self._state: tuple[int, list[list[np.ndarray]]] | None = None  # last GOP's weights, per layer
        self.n_decoded_goms = 0  # how many GOMs were read from the file (seek cost, for tests)

    def _use_band(self, band: int | None) -> None:
        """Render ``band`` heads rows a piece (None: whole frames) from now on (tests)."""
        o = self.options
        self._synth = make_synthesis(o.backend, o.device, self.header, self._reader.layers, self._layers, o.threads, band)
        self._cache = self._loaded = None

    # -- container facts ---------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """The synthesis backend in use: ``ort``, ``numpy`` or ``torch``."""
        return self._synth.name

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
    @staticmethod
    def _by_gop(chunks: list) -> dict[int, list[tuple[ModelChunk, list[BlobChunk]]]]:
        """GOP -> [(MODL, the BLOBs after it)] in layer order (the reader has checked the order)."""
        out: dict[int, list[tuple[ModelChunk, list[BlobChunk]]]] = {}
        for c in chunks:
            if isinstance(c, ModelChunk):
                out.setdefault(c.gop_index, []).append((c, []))
            elif isinstance(c, BlobChunk) and c.gop_index in out:
                out[c.gop_index][-1][1].append(c)
        return out

    def decode_gom(self, gom_index: int, last_gop: int | None = None
                    ) -> Iterator[tuple[int, list[QuantizedModel], list[list[np.ndarray]]]]:
        """Yield (gop index, integers per layer, float32 weights per layer) up to ``last_gop``."""
        grouped = self._by_gop(self._reader.read_gom(gom_index))
        self.n_decoded_goms += 1
        prev: list | None = None
        for g in sorted(grouped):
            if last_gop is not None and g > last_gop:
                break
            qms = [decode_model(layer, self.header, *grouped[g][layer.index]) for layer in self._layers]
            prev = [self._weights(layer, qm, None if prev is None else prev[layer.index], g)
                    for layer, qm in zip(self._layers, qms)]
            yield g, qms, prev

    @staticmethod
    def _weights(layer, qm: QuantizedModel, prev: list[np.ndarray] | None, gop_index: int) -> list[np.ndarray]:
        """A model's binary32 weights, refused (exit 6) outside the range every decoder renders alike
        (spec/models.md §4b), before a frame of its GOP is rendered."""
        weights = model_weights(layer, qm, prev, gop_index)
        check_weight_range(layer.specs, weights, gop_index, layer.index)
        return weights

    def _gop_weights(self, gop_index: int) -> list[list[np.ndarray]]:
        h = self.header
        if self._state is not None and self._state[0] == gop_index - 1 and gop_index % h.gom_size != 0:
            # sequential playback: the predecessors are at hand (read_gop checks every layer's MODL is there)
            grouped = self._by_gop(self._reader.read_gop(gop_index))[gop_index]
            weights = [self._weights(layer, decode_model(layer, h, *grouped[layer.index]),
                                     self._state[1][layer.index], gop_index) for layer in self._layers]
        else:
            weights = None
            for g, _qms, w in self.decode_gom(h.gom_of_gop(gop_index), gop_index):
                weights = w if g == gop_index else None
            if weights is None:
                raise InrFormatError(f"GOP {gop_index}: no model in the file")
        self._state = (gop_index, weights)
        return weights

    def _load(self, gop_index: int) -> None:
        """Put GOP ``gop_index``'s weights into the networks (a no-op when they hold them)."""
        if self._loaded == gop_index:
            return
        self._loaded = None
        self._synth.load(self._gop_weights(gop_index))
        self._loaded = gop_index

    def _batch_frames(self, gop_index: int, offset: int) -> tuple[int, list[np.ndarray]]:
        """(first offset, Y/U/V samples) of the batch of GOP ``gop_index``'s frames holding ``offset``.

        Batches start at the GOP's first frame, ``self._batch`` frames each, as the encoder renders
        them: a frame's samples do not depend on which frame was asked for first."""
        first = offset - offset % self._batch
        if self._cache is not None and self._cache[:2] == (gop_index, first):
            return first, self._cache[2]
        self._cache = None
        self._load(gop_index)
        _, n = self.header.gop_range(gop_index)
        # i / gop_size, one binary32 division (spec/models.md §1b.1)
        t_pos = np.divide(np.arange(first, min(n, first + self._batch), dtype=np.float32),
                          np.float32(self.header.gop_size), dtype=np.float32)
        frames = self._synth.render(t_pos, self.header.bit_depth)
        self._cache = (gop_index, first, frames)
        return first, frames

    # -- frames ------------------------------------------------------------------------------
    def __getitem__(self, n: int | slice) -> Frame | list[Frame]:
        """Frame ``n`` (negative counts from the end), or a list of the frames of a slice ``f[a:b:step]``."""
        if isinstance(n, slice):
            return list(self.frames_of(range(*n.indices(len(self)))))
        if not isinstance(n, (int, np.integer)):
            raise TypeError("frame index must be an integer or a slice")
        if n < 0:
            n += len(self)
        if not 0 <= n < len(self):
            raise IndexError(f"frame {n} outside 0..{len(self) - 1}")
        g = self.header.gop_of_frame(int(n))
        offset = int(n) - self.header.gop_range(g)[0]
        first, planes = self._batch_frames(g, offset)
        return tuple(p[offset - first] for p in planes)  # type: ignore[return-value]

    def frames(self, start: int = 0, count: int | None = None) -> Iterator[Frame]:
        """Frames start .. start+count-1 (to the end when count is None), decoded as they go."""
        total = len(self)
        if total == 0 and self._reader.salvage_note is not None:
            raise InrTruncatedError(f"nothing was recovered: {self._reader.salvage_note}")
        if not 0 <= start < max(total, 1) or total == 0:
            raise InrInputError(f"--start {start} outside 0..{total - 1}")
        end = total if count is None else min(total, start + count)
        for n in range(start, end):
            yield self[n]

    def frames_of(self, indices) -> Iterator[Frame]:
        """The frames of ``indices`` (any iterable of frame numbers), decoded as they go."""
        for n in indices:
            yield self[n]

    def __iter__(self) -> Iterator[Frame]:
        return self.frames(0)
