"""Constants of the .inr container, one name per number in spec/bitstream.md.

Code never writes a magic number inline: it names it here, next to the spec section that fixes
it, so the spec and the code can be compared line by line.
"""

from __future__ import annotations

import enum

from ..errors import InrFormatError, InrInputError

# §3: PNG-style signature. 0x89 catches 7-bit channels, CR LF / LF catch newline conversion,
# 0x1A stops a DOS `type`, so damage in transfer shows up as a bad signature.
MAGIC = b"\x89INR\r\n\x1a\n"
MAGIC_BYTES = len(MAGIC)
# §3: signature + writer_version u16 + min_reader_version u16.
PREAMBLE_BYTES = MAGIC_BYTES + 2 + 2  # 12

READER_VERSION = 3  # §3.2: the highest min_reader_version this reader accepts
WRITER_VERSION = 1  # §3.2: the version this writer writes by default (8-bit files of one layer)
LAYERED_VERSION = 2  # §3.2, §5.6: the version of files with progressive layers (an LHDR chunk)
HIGH_DEPTH_VERSION = 3  # §3.2, §5.1: the version of files with bit_depth 10 or 12
MAX_VERSION = 0xFFFF  # u16

# §2.2: LEB128 unsigned varint: at most 10 bytes, value < 2**64.
MAX_UVARINT_BYTES = 10
MAX_UVARINT = 2**64 - 1

# §4.1 chunk framing.
CHUNK_TYPE_BYTES = 4
CRC_BYTES = 4
MAX_CHUNK_BYTES = 2**30  # payload bytes, inclusive

# §5.1 SHDR limits (inclusive ranges).
MIN_DIMENSION = 1
MAX_DIMENSION = 16384  # pixels, width and height
MAX_FRAMES = 10**7  # n_frames and gop_size
MAX_ARCH_PARAMS = 64  # n_arch_params

# §5.6 LHDR: progressive layers.
MIN_LAYERS = 2  # an LHDR is present only for two layers or more
MAX_LAYERS = 8  # n_layers, inclusive
MAX_RESIDUAL_SCALE = 2**24  # residual_scale, inclusive (>= 1)

# §5.3 BLOB.
MAX_BLOB_RAW_BYTES = 2**28  # raw_size, inclusive

# §5.4 GIDX: the smallest entry is 1 + 1 + 1 bytes (code u8, gop_index and delta 1-byte varints).
MIN_INDEX_ENTRY_BYTES = 3

# §5.5 IEND: type (4) + length varint 0x08 (1) + index_offset u64 (8) + CRC (4).
IEND_PAYLOAD_BYTES = 8
IEND_BYTES = CHUNK_TYPE_BYTES + 1 + IEND_PAYLOAD_BYTES + CRC_BYTES  # 17


class ChunkType(enum.IntEnum):
    """Chunk types of §4.2; the value is the 4 ASCII letters read as a big-endian u32."""

    SHDR = int.from_bytes(b"SHDR", "big")
    LHDR = int.from_bytes(b"LHDR", "big")
    MODL = int.from_bytes(b"MODL", "big")
    BLOB = int.from_bytes(b"BLOB", "big")
    GIDX = int.from_bytes(b"GIDX", "big")
    IEND = int.from_bytes(b"IEND", "big")

    @property
    def code(self) -> bytes:
        """The 4 bytes written in the file."""
        return self.value.to_bytes(CHUNK_TYPE_BYTES, "big")


class ModelKind(enum.IntEnum):
    """MODL kind byte, §5.2."""

    I = 0  # noqa: E741 (the codec's name for an intra model)
    P = 1


class IndexCode(enum.IntEnum):
    """GIDX entry chunk-type code, §5.4."""

    MODL = 0
    BLOB = 1


class _HeaderCode(enum.IntEnum):
    """An SHDR field's values: the number the file stores and the name io, y4m and the models use."""

    @property
    def label(self) -> str:
        """The name outside the file ("limited", "topleft")."""
        return self.name.lower().replace("_", "")

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        """Every name, in code order."""
        return tuple(m.label for m in cls)

    @classmethod
    def from_label(cls, label: str) -> "_HeaderCode":
        """The member named ``label``; InrInputError (a user's value) names the allowed ones."""
        for m in cls:
            if m.label == label:
                return m
        raise InrInputError(f"unknown {_WHAT[cls.__name__]} {label!r}; expected one of {', '.join(cls.labels())}")

    @classmethod
    def of(cls, value: "str | _HeaderCode") -> "_HeaderCode":
        """``value`` itself if it is a member, else the member it labels (``from_label``)."""
        return value if isinstance(value, cls) else cls.from_label(value)

    @classmethod
    def from_code(cls, code: int) -> "_HeaderCode":
        """The member of a stored number; InrFormatError (a file's value) outside the table."""
        if isinstance(code, bool) or not isinstance(code, int) or code not in cls._value2member_map_:
            raise InrFormatError(f"unknown {_WHAT[cls.__name__]} code {code!r}; expected 0..{len(cls) - 1}")
        return cls(code)


class ChromaFormat(_HeaderCode):
    """SHDR chroma_format, §5.1; other values are unsupported in v1."""

    YUV420 = 0
    YUV444 = 1

    @property
    def label(self) -> str:
        """The sampling ratio's digits: "420" or "444"."""
        return self.name[3:]

    def chroma_shape(self, width: int, height: int) -> tuple[int, int]:
        """(height, width) of each chroma plane: rounded up halves for 4:2:0, full size for 4:4:4."""
        if self is ChromaFormat.YUV420:
            return (height + 1) // 2, (width + 1) // 2
        return height, width


class ColorRange(_HeaderCode):
    """SHDR color_range, §5.1."""

    UNKNOWN = 0
    LIMITED = 1
    FULL = 2


class ChromaSiting(_HeaderCode):
    """SHDR chroma_siting, §5.1."""

    UNKNOWN = 0
    LEFT = 1  # MPEG-2
    CENTER = 2  # JPEG
    TOP_LEFT = 3


class FieldOrder(_HeaderCode):
    """disp field_order, §5.7; labelled as FFmpeg names field orders ("progressive", "tff", "bff")."""

    PROGRESSIVE = 0  # or unknown
    TFF = 1  # top field first
    BFF = 2  # bottom field first

    @property
    def letter(self) -> str:
        """The y4m I tag's letter, "p", "t" or "b" (FFmpeg's showinfo prints it upper-case)."""
        return self.label[0]

    @classmethod
    def from_letter(cls, letter: str) -> "FieldOrder":
        """The member of a y4m I tag or showinfo ``i:`` letter, either case; progressive for any other."""
        return next((m for m in cls if m.letter == letter.lower()), cls.PROGRESSIVE)


class Timing(_HeaderCode):
    """disp timing, §5.7."""

    CONSTANT = 0
    RETIMED = 1  # the source's frames had varying durations; stored at the constant rate of SHDR


DISP = b"disp"  # §5.7: the ancillary display chunk's type
TARG = b"targ"  # §5.8: the ancillary chunk of what an encode aimed at (informative)
MAX_TARG_PAYLOAD_BYTES = 4096  # a targ longer than this is not read (§5.8)

_WHAT = {"ChromaFormat": "chroma format", "ColorRange": "colour range", "ChromaSiting": "chroma siting",
         "FieldOrder": "field order", "Timing": "timing"}

ALLOWED_BIT_DEPTHS = (8, 10, 12)  # §5.1: 10 and 12 from version 3 on; other values are reserved
H273_UNSPECIFIED = 2  # §5.1: colour_primaries / transfer / matrix "unspecified" code point
