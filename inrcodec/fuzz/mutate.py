"""Structure-aware mutations of .inr files for fuzzing (the hypothesis test and tools/fuzz).

Random bytes mostly die at the signature or a CRC. To reach the header, model-body and
arithmetic-decoder code, these mutations keep the framing intact where it matters: a payload bit
flipped *with its CRC recomputed*, a chunk duplicated, a length field set to a huge value, a cut.

``extreme_header`` goes the other way: a *valid* header (SHDR, LHDR) with extreme but legal frame
sizes, GOP lengths, layers and arch_params, for a file a decoder must decode within bounded time
and memory or refuse as above its limits (spec/levels.md); ``inrcodec.fuzz.synthetic`` gives it
model bodies.
"""

from __future__ import annotations

import random

from ..container import spec
from ..container.bitio import uvarint_bytes
from ..container.chunks import LayerHeader, LayerSpec, SequenceHeader, chunk_crc
from ..container.reader import ContainerReader

MUTATIONS = ("flip", "flip_fix_crc", "truncate", "duplicate", "huge_length", "drop")


def chunk_spans(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, payload offset, total size) of every chunk of a valid file."""
    spans = []
    with ContainerReader(data) as r:
        for c in r.chunks():
            head = spec.CHUNK_TYPE_BYTES + len(uvarint_bytes(c.payload_size))
            spans.append((c.offset, c.offset + head, c.total_size))
    return spans


def mutate(data: bytes, spans: list[tuple[int, int, int]], kind: str, a: int, b: int) -> bytes:
    """Apply mutation ``kind`` chosen by the integers ``a`` (which chunk / byte) and ``b`` (which bit / value)."""
    out = bytearray(data)
    if not out or not spans:
        return bytes(out)
    offset, payload_at, total = spans[a % len(spans)]
    if kind == "flip":
        i = a % len(out)
        out[i] ^= 1 << (b % 8)
    elif kind == "flip_fix_crc":
        n_payload = total - (payload_at - offset) - spec.CRC_BYTES
        if n_payload > 0:
            i = payload_at + b % n_payload
            out[i] ^= 1 << (b // max(1, n_payload) % 8)
            crc = chunk_crc(bytes(out[offset:offset + spec.CHUNK_TYPE_BYTES]), n_payload,
                            bytes(out[payload_at:payload_at + n_payload]))
            out[offset + total - spec.CRC_BYTES:offset + total] = crc.to_bytes(spec.CRC_BYTES, "big")
    elif kind == "truncate":
        del out[a % len(out):]
    elif kind == "duplicate":
        out[offset + total:offset + total] = data[offset:offset + total]
    elif kind == "huge_length":
        huge = uvarint_bytes(spec.MAX_CHUNK_BYTES + 1 + b % 1000 if b % 2 else 2**63 - 1 - b)
        out[offset + spec.CHUNK_TYPE_BYTES:payload_at] = huge
    elif kind == "drop":
        del out[offset:offset + total]
    return bytes(out)


# values at and next to the edges of the format's ranges, picked about half the time
_DIMENSIONS = (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127, 255, 256, 1023, 2047, 4096, 8191, 16383,
               spec.MAX_DIMENSION)
_GOP_SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 31, 1000, 200_000, spec.MAX_FRAMES)
_CHANNELS = (1, 2, 3, 4, 8, 16, 64, 255, 512, 1024)


def _pick(rng: random.Random, edges: tuple[int, ...], lo: int, hi: int) -> int:
    return rng.choice(edges) if rng.random() < 0.5 else rng.randint(lo, hi)


def extreme_arch(rng: random.Random, small: bool = False) -> tuple[int, tuple[int, ...]]:
    """(arch_id, arch_params): gnerv, nirvana or hinerv (spec/models.md §2, §2b, §2c) with every
    parameter anywhere in its allowed range (``small``: channels up to 16, MLPs up to 64 wide, grids
    up to 8 time nodes), now and then an unknown architecture or a parameter out of range."""
    top = 16 if small else 1024
    channel_edges = tuple(c for c in _CHANNELS if c <= top)
    roll = rng.random()
    if roll < 0.3:
        channels = tuple(_pick(rng, channel_edges, 1, top) for _ in range(rng.randint(2, 8)))
        params = (rng.randint(0, 1), _pick(rng, (1, 64), 1, 64), _pick(rng, (1, top), 1, top), *channels)
        arch_id = 1
    elif roll < 0.6:
        channels = tuple(_pick(rng, channel_edges, 1, top) for _ in range(rng.randint(2, 6)))
        patch = rng.choice([p for p in (8, 16, 32, 64, 128) if p >= 2 ** len(channels)] or [128])
        width = 64 if small else 2048
        params = (patch, _pick(rng, (1, width), 1, width), _pick(rng, (1, 16), 1, 16), *channels)
        arch_id = 2
    elif roll < 0.9:
        channels = tuple(_pick(rng, channel_edges, 1, top) for _ in range(rng.randint(2, 8)))
        nodes = 8 if small else 256
        params = (_pick(rng, (1, nodes), 1, nodes), rng.randint(1, 4), _pick(rng, (0, 1, nodes), 0, nodes),
                  _pick(rng, (0, 1, nodes), 0, nodes), *channels)
        arch_id = 3
    else:
        arch_id = rng.choice((0, 1, 2, 3, 4, 255))
        params = tuple(rng.choice((0, 1, 2, 9, 1025, 2**64 - 1)) for _ in range(rng.randint(0, 9)))
    return arch_id, params


def extreme_header(rng: random.Random, max_gops: int = 3) -> tuple[SequenceHeader, LayerHeader | None]:
    """A valid SHDR (and, a third of the time, an LHDR of 2..MAX_LAYERS layers) with extreme legal
    values; at most ``max_gops`` GOPs, so that a file of them stays small whatever the GOP length.
    Half the headers are small (frames up to 64 x 64, narrow networks) so that many decode."""
    small = rng.random() < 0.5
    gop = _pick(rng, _GOP_SIZES, 1, spec.MAX_FRAMES)
    n_frames = min(spec.MAX_FRAMES, gop * rng.randint(1, max_gops) - rng.randint(0, gop - 1))
    arch_id, arch_params = extreme_arch(rng, small)
    side = 64 if small else spec.MAX_DIMENSION
    dimensions = tuple(d for d in _DIMENSIONS if d <= side)
    header = SequenceHeader(
        width=_pick(rng, dimensions, 1, side), height=_pick(rng, dimensions, 1, side),
        n_frames=n_frames, fps_num=rng.randint(1, 2**32 - 1), fps_den=rng.randint(1, 2**32 - 1),
        chroma_format=rng.choice(list(spec.ChromaFormat)), bit_depth=rng.choice(spec.ALLOWED_BIT_DEPTHS),
        color_range=rng.choice(list(spec.ColorRange)), color_primaries=2, transfer=2, matrix=2,
        chroma_siting=rng.choice(list(spec.ChromaSiting)), gop_size=gop, gom_size=_pick(rng, (1, 2, 65535), 1, 65535),
        arch_id=arch_id, arch_params=arch_params, coder_id=rng.choice((0, 1, 2)), seed=rng.randint(0, 2**64 - 1))
    layers = None
    if rng.random() < 1 / 3:
        layers = LayerHeader(tuple(
            LayerSpec(*extreme_arch(rng, small), _pick(rng, (1, spec.MAX_RESIDUAL_SCALE), 1, spec.MAX_RESIDUAL_SCALE),
                      rng.randint(0, 2**64 - 1))
            for _ in range(rng.randint(spec.MIN_LAYERS, spec.MAX_LAYERS) - 1)))
    return header, layers
