"""The .inr file format (spec/bitstream.md): chunks, a strict/salvaging reader, an atomic writer.

Standard library only, so a file can be inspected or repaired without numpy or torch.
"""

from .chunks import (
    AncillaryChunk,
    BlobChunk,
    LayerHeader,
    LayerSpec,
    ModelChunk,
    SequenceHeader,
    header_fields,
)
from .reader import ChunkInfo, ContainerReader, IndexEntry
from .spec import ChunkType, ModelKind
from .writer import ContainerWriter, serialize

__all__ = [
    "AncillaryChunk",
    "BlobChunk",
    "ChunkInfo",
    "ChunkType",
    "ContainerReader",
    "ContainerWriter",
    "IndexEntry",
    "LayerHeader",
    "LayerSpec",
    "ModelChunk",
    "ModelKind",
    "SequenceHeader",
    "header_fields",
    "serialize",
]
