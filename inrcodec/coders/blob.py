"""General-purpose compression for payloads that have no entropy model (headers, side data).

Each method has a permanent wire id (``BLOB_CODECS``); the container stores the id and the
raw size, and decompression never produces more than that size allows, so a small hostile
blob cannot make the reader allocate gigabytes. Formats: spec/entropy-coding.md §6.
"""

from __future__ import annotations

import lzma
import operator
from abc import ABC, abstractmethod

import zstandard

from ..errors import InrFormatError
from ..registry import Registry

ZSTD_LEVEL = 19  # encoder setting only; any conforming frame decodes
ZSTD_MIN_WINDOW_BYTES = 1 << 10  # zstd's smallest window
LZMA_PRESET = 9 | lzma.PRESET_EXTREME  # encoder setting only
LZMA_MIN_DICT_BYTES = 1 << 12  # liblzma's smallest LZMA2 dictionary
LZMA_MAX_DICT_BYTES = 1 << 26  # 64 MiB: preset 9's dictionary, the largest we ask a reader for


def _next_power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def lzma_dict_bytes(raw_size: int) -> int:
    """The LZMA2 dictionary size both sides derive from the raw size (spec §6.3)."""
    return min(LZMA_MAX_DICT_BYTES, max(LZMA_MIN_DICT_BYTES, _next_power_of_two(raw_size)))


class BlobCodec(ABC):
    """A lossless byte compressor whose decompression is bounded by the known raw size."""

    @abstractmethod
    def compress(self, data: bytes) -> bytes:
        """Compress ``data``."""

    @abstractmethod
    def decompress(self, data: bytes, raw_size: int) -> bytes:
        """Exactly ``raw_size`` bytes back, or InrFormatError; never more than raw_size + 1 produced."""


BLOB_CODECS: Registry[type[BlobCodec]] = Registry("blob codec")


@BLOB_CODECS.register("none", wire_id=0)
class StoredBlob(BlobCodec):
    """Bytes stored as they are."""

    def compress(self, data: bytes) -> bytes:
        """Return ``data`` unchanged."""
        return bytes(data)

    def decompress(self, data: bytes, raw_size: int) -> bytes:
        """``data`` itself, if it has exactly ``raw_size`` bytes."""
        if len(data) != raw_size:
            raise InrFormatError(f"stored blob has {len(data)} bytes, expected {raw_size}")
        return bytes(data)


@BLOB_CODECS.register("zstd", wire_id=1)
class ZstdBlob(BlobCodec):
    """One zstd frame that records its content size, level 19 when we write it."""

    def compress(self, data: bytes) -> bytes:
        """One zstd frame with its content size in the header."""
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True).compress(data)

    def decompress(self, data: bytes, raw_size: int) -> bytes:
        """Decode one zstd frame whose header must declare ``raw_size``; bounded by it."""
        try:
            declared = zstandard.frame_content_size(data)
        except zstandard.ZstdError as exc:
            raise InrFormatError(f"zstd blob header: {exc}") from exc
        if declared != raw_size:
            raise InrFormatError(f"zstd blob declares {declared} bytes, expected {raw_size}")
        # With the content size known, python-zstandard allocates exactly that much output and
        # libzstd fails if the frame would write more. Its one-shot decoder ignores
        # max_window_size, so the declared window (§6.2's limit) is checked here, from the header.
        window = max(ZSTD_MIN_WINDOW_BYTES, _next_power_of_two(raw_size))
        try:
            declared_window = zstandard.get_frame_parameters(data).window_size
        except zstandard.ZstdError as exc:
            raise InrFormatError(f"zstd blob header: {exc}") from exc
        if declared_window > window:
            raise InrFormatError(f"zstd blob declares a {declared_window}-byte window, "
                                 f"above the {window} bytes its raw size allows")
        try:
            out = zstandard.ZstdDecompressor(max_window_size=window).decompress(
                data, max_output_size=raw_size, allow_extra_data=False
            )
        except zstandard.ZstdError as exc:
            raise InrFormatError(f"zstd blob: {exc}") from exc
        if len(out) != raw_size:
            raise InrFormatError(f"zstd blob gave {len(out)} bytes, expected {raw_size}")
        return out


@BLOB_CODECS.register("lzma", wire_id=2)
class LzmaBlob(BlobCodec):
    """A raw LZMA2 stream (no .xz container) whose dictionary size follows from the raw size."""

    def compress(self, data: bytes) -> bytes:
        """A raw LZMA2 stream, preset 9e, dictionary sized from ``len(data)``."""
        return lzma.compress(data, format=lzma.FORMAT_RAW, filters=_lzma_filters(len(data), True))

    def decompress(self, data: bytes, raw_size: int) -> bytes:
        """Decode a raw LZMA2 stream to exactly ``raw_size`` bytes, producing at most one more."""
        decompressor = lzma.LZMADecompressor(
            format=lzma.FORMAT_RAW, filters=_lzma_filters(raw_size, False)
        )
        try:
            out = decompressor.decompress(data, max_length=raw_size + 1)
        except lzma.LZMAError as exc:
            raise InrFormatError(f"lzma blob: {exc}") from exc
        if len(out) != raw_size:
            raise InrFormatError(f"lzma blob gives more or fewer than {raw_size} bytes")
        if not decompressor.eof:
            raise InrFormatError("lzma blob ends before its end marker")
        if decompressor.unused_data:
            raise InrFormatError(f"lzma blob has {len(decompressor.unused_data)} bytes after its end")
        return out


def _lzma_filters(raw_size: int, is_encoder: bool) -> list[dict]:
    lzma2 = {"id": lzma.FILTER_LZMA2, "dict_size": lzma_dict_bytes(raw_size)}
    if is_encoder:
        lzma2["preset"] = LZMA_PRESET
    return [lzma2]


def _codec(method: str | int) -> BlobCodec:
    if isinstance(method, str):
        return BLOB_CODECS.get(method)()
    return BLOB_CODECS.by_id(operator.index(method))()


def compress_blob(data: bytes, method: str | int) -> bytes:
    """Compress ``data`` with the blob codec named (or numbered) ``method``."""
    return _codec(method).compress(bytes(data))


def decompress_blob(data: bytes, method: str | int, raw_size: int) -> bytes:
    """Exactly ``raw_size`` decompressed bytes or InrFormatError; never makes more than raw_size + 1."""
    size = operator.index(raw_size)
    if size < 0:
        raise ValueError(f"raw_size {size} is negative")
    return _codec(method).decompress(bytes(data), size)


def compress_best(data: bytes) -> tuple[str, bytes]:
    """The smaller of zstd and lzma (zstd on a tie), or ("none", data) when neither saves a byte."""
    data = bytes(data)
    best_name, best = "none", data
    for name in ("zstd", "lzma"):
        packed = compress_blob(data, name)
        if len(packed) < len(best):
            best_name, best = name, packed
    return best_name, best
