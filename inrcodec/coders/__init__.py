"""Entropy coders and blob compressors: integer symbols and bytes in, bytes out; no torch.

Importing this package registers the built-in coders (raw, range, ans) and blob codecs
(none, zstd, lzma).
"""

from . import ans, blob, raw, range  # noqa: F401  (imported to fill the registries)
from .base import CODERS, Coder, FreqTable, estimate_bits, fixed_point_pmf, get_coder
from .blob import BLOB_CODECS, compress_best, compress_blob, decompress_blob

__all__ = [
    "BLOB_CODECS",
    "CODERS",
    "Coder",
    "FreqTable",
    "compress_best",
    "compress_blob",
    "decompress_blob",
    "estimate_bits",
    "fixed_point_pmf",
    "get_coder",
]
