"""Structure-aware mutations of .inr files for fuzzing (the hypothesis test and tools/fuzz).

Random bytes mostly die at the signature or a CRC. To reach the header, model-body and
arithmetic-decoder code, these mutations keep the framing intact where it matters: a payload bit
flipped *with its CRC recomputed*, a chunk duplicated, a length field set to a huge value, a cut.
"""

from __future__ import annotations

import zlib

from . import spec
from .bitio import uvarint_bytes
from .reader import ContainerReader

MUTATIONS = ("flip", "flip_fix_crc", "truncate", "duplicate", "huge_length", "drop")


def chunk_spans(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, payload offset, total size) of every chunk of a valid file."""
    spans = []
    with ContainerReader(data) as r:
        for c in r.chunks():
            head = spec.CHUNK_TYPE_BYTES + len(uvarint_bytes(c.payload_size))
            spans.append((c.offset, c.offset + head, c.total_size))
    return spans


def _crc(data: bytes | bytearray, offset: int, payload_at: int, total: int) -> int:
    code = bytes(data[offset:offset + spec.CHUNK_TYPE_BYTES])
    payload = bytes(data[payload_at:offset + total - spec.CRC_BYTES])
    return zlib.crc32(payload, zlib.crc32(bytes(data[offset + spec.CHUNK_TYPE_BYTES:payload_at]), zlib.crc32(code)))


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
            out[offset + total - spec.CRC_BYTES:offset + total] = _crc(out, offset, payload_at, total).to_bytes(4, "big")
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
