"""The chunks of an .inr file: one frozen dataclass per chunk type and its read/write pair.

Each ``read_<chunk>`` parses a payload from a ``ByteReader`` limited to that payload and checks
every field against spec/bitstream.md before it is used; each ``write_<chunk>`` is its exact
inverse. Framing (type, length, CRC) and the GOP order rule live here too, so the reader, the
writer and the salvage scan all apply the same checks.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field, fields
from typing import Callable, Iterator

from . import spec
from .bitio import ByteReader, ByteWriter, uvarint_bytes
from ..errors import (
    InrChecksumError,
    InrError,
    InrFormatError,
    InrInputError,
    InrTruncatedError,
    InrUnsupportedError,
)

# ---------------------------------------------------------------------------------------------
# §4.1 framing


@dataclass(frozen=True)
class RawChunk:
    """A framed chunk whose CRC has been verified; ``payload`` is not yet interpreted."""

    code: bytes
    offset: int
    payload: bytes
    total_size: int

    @property
    def name(self) -> str:
        """The type as text, for messages."""
        return chunk_name(self.code)

    @property
    def payload_offset(self) -> int:
        """File offset of the payload's first byte."""
        return self.offset + self.total_size - spec.CRC_BYTES - len(self.payload)

    def reader(self) -> ByteReader:
        """A reader over the payload that reports file offsets."""
        return ByteReader(self.payload, base=self.payload_offset)


def chunk_name(code: bytes) -> str:
    """``code`` as text when it is 4 ASCII letters, else as hex (for error messages)."""
    return code.decode("ascii") if is_valid_type(code) else "0x" + code.hex()


def is_valid_type(code: bytes) -> bool:
    """True when ``code`` is 4 ASCII letters (§4.2)."""
    return len(code) == spec.CHUNK_TYPE_BYTES and all(
        0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A for b in code
    )


def is_critical(code: bytes) -> bool:
    """True for a critical chunk type: first letter uppercase (§4.2)."""
    return 0x41 <= code[0] <= 0x5A


def chunk_crc(code: bytes, length: int, payload: bytes | memoryview) -> int:
    """CRC-32 over type, length varint and payload (§2.3, §4.1)."""
    return zlib.crc32(payload, zlib.crc32(uvarint_bytes(length), zlib.crc32(code)))


def read_chunk_head(r: ByteReader, available: int) -> tuple[bytes, int, int]:
    """Read type and length (§4.1); check length against the limit and ``available`` bytes.

    ``available`` is the number of bytes from the chunk's first byte to the end of the region it
    must fit in. Returns (type, payload length, total chunk size).
    """
    offset = r.pos
    code = r.bytes(spec.CHUNK_TYPE_BYTES, "chunk type")
    length = r.uvarint(f"length of chunk {chunk_name(code)} at offset {offset}")
    if length > spec.MAX_CHUNK_BYTES:
        raise InrFormatError(
            f"chunk {chunk_name(code)} at offset {offset}: length {length} exceeds the limit "
            f"of {spec.MAX_CHUNK_BYTES} bytes"
        )
    total = (r.pos - offset) + length + spec.CRC_BYTES
    if total > available:
        raise InrTruncatedError(
            f"chunk {chunk_name(code)} at offset {offset}: {length}-byte payload and CRC run "
            f"past the end ({available - (r.pos - offset)} bytes left)"
        )
    return code, length, total


def read_chunk(r: ByteReader) -> RawChunk:
    """Read one framed chunk and verify its CRC and type letters (§4.1, §4.2)."""
    offset = r.pos
    code, length, total = read_chunk_head(r, r.remaining)
    payload = r.bytes(length, f"payload of chunk {chunk_name(code)}")
    stored = r.u32(f"CRC of chunk {chunk_name(code)}")
    if stored != chunk_crc(code, length, payload):
        raise InrChecksumError(
            f"chunk {chunk_name(code)} at offset {offset}: CRC mismatch (damaged bytes)"
        )
    # Checked after the CRC so that a damaged type byte is reported as damage.
    if not is_valid_type(code):
        raise InrFormatError(f"chunk at offset {offset}: type {code!r} is not 4 ASCII letters")
    return RawChunk(code=code, offset=offset, payload=payload, total_size=total)


def write_chunk(w: ByteWriter, code: bytes, payload: bytes | bytearray | memoryview) -> None:
    """Frame ``payload`` as a chunk of type ``code`` (§4.1)."""
    if not is_valid_type(code):
        raise InrFormatError(f"chunk type {code!r} is not 4 ASCII letters")
    if len(payload) > spec.MAX_CHUNK_BYTES:
        raise InrFormatError(
            f"chunk {chunk_name(code)}: payload of {len(payload)} bytes exceeds the limit of "
            f"{spec.MAX_CHUNK_BYTES}"
        )
    w.bytes(code)
    w.uvarint(len(payload), "chunk length")
    w.bytes(payload)
    w.u32(chunk_crc(code, len(payload), payload), "chunk CRC")


# ---------------------------------------------------------------------------------------------
# §5.1 SHDR


@dataclass(frozen=True)
class _Field:
    """One SHDR field: name, wire width (bytes or "varint"), allowed values, error class."""

    name: str
    width: int | str
    allowed: Callable[[int], bool]
    allowed_text: str
    error: type[InrError] = InrFormatError


def _between(lo: int, hi: int) -> Callable[[int], bool]:
    return lambda v: lo <= v <= hi


_U8, _U16, _U32, _U64 = 0xFF, 0xFFFF, 0xFFFF_FFFF, 2**64 - 1
_CHROMA_FORMATS = frozenset(spec.ChromaFormat)
_COLOR_RANGES = frozenset(spec.ColorRange)
_CHROMA_SITINGS = frozenset(spec.ChromaSiting)
_MODEL_KINDS = frozenset(spec.ModelKind)
_INDEX_CODES = frozenset(spec.IndexCode)

# Declared as data so read, write, validation and `inrcodec info` walk one table (§5.1).
_ARCH_PARAMS = "arch_params"
_HEADER_FIELDS: tuple[_Field, ...] = (
    _Field("width", 2, _between(spec.MIN_DIMENSION, spec.MAX_DIMENSION), "1..16384"),
    _Field("height", 2, _between(spec.MIN_DIMENSION, spec.MAX_DIMENSION), "1..16384"),
    _Field("n_frames", 4, _between(1, spec.MAX_FRAMES), f"1..{spec.MAX_FRAMES}"),
    _Field("fps_num", 4, _between(1, _U32), ">= 1"),
    _Field("fps_den", 4, _between(1, _U32), ">= 1"),
    _Field(
        "chroma_format",
        1,
        lambda v: v in _CHROMA_FORMATS,
        "0 (4:2:0) or 1 (4:4:4)",
        InrUnsupportedError,
    ),
    _Field("bit_depth", 1, lambda v: v in spec.ALLOWED_BIT_DEPTHS, "8, 10, 12", InrUnsupportedError),
    _Field("color_range", 1, lambda v: v in _COLOR_RANGES, "0..2"),
    _Field("color_primaries", 1, _between(0, _U8), "0..255"),
    _Field("transfer", 1, _between(0, _U8), "0..255"),
    _Field("matrix", 1, _between(0, _U8), "0..255"),
    _Field("chroma_siting", 1, lambda v: v in _CHROMA_SITINGS, "0..3"),
    _Field("gop_size", 4, _between(1, spec.MAX_FRAMES), f"1..{spec.MAX_FRAMES}"),
    _Field("gom_size", 2, _between(1, _U16), "1..65535"),
    _Field("arch_id", 1, _between(0, _U8), "0..255"),
    _Field(_ARCH_PARAMS, "varint", _between(0, spec.MAX_UVARINT), "0..2**64-1"),
    _Field("coder_id", 1, _between(0, _U8), "0..255"),
    _Field("seed", 8, _between(0, _U64), "0..2**64-1"),
)

_ANY_VARINT = _Field("value", "varint", _between(0, spec.MAX_UVARINT), "0..2**64-1")
_ANY_U8 = _Field("value", 1, _between(0, _U8), "0..255")
_BLOB_RAW_SIZE = _Field(
    "value", "varint", _between(0, spec.MAX_BLOB_RAW_BYTES), f"0..{spec.MAX_BLOB_RAW_BYTES}"
)
_ANY_U64 = _Field("value", 8, _between(0, _U64), "0..2**64-1")
_RESIDUAL_SCALE = _Field("residual_scale", 4, _between(1, spec.MAX_RESIDUAL_SCALE), f"1..{spec.MAX_RESIDUAL_SCALE}")
_N_ARCH_PARAMS = _Field(
    "n_arch_params", "varint", _between(0, spec.MAX_ARCH_PARAMS), f"0..{spec.MAX_ARCH_PARAMS}"
)


def _check_field(f: _Field, value: object, where: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InrFormatError(f"{where}{f.name} = {value!r} is not an integer")
    if not f.allowed(value):
        raise f.error(f"{where}{f.name} = {value} not allowed (allowed: {f.allowed_text})")


def _label(codes: type[spec._HeaderCode], value: int) -> str:
    """A coded SHDR value's name, or ``reserved (N)`` for a number the enumeration lacks."""
    return codes(value).label if value in set(codes) else f"reserved ({value})"


@dataclass(frozen=True, repr=False)
class SequenceHeader:
    """SHDR: the sequence's picture format, GOP/GOM layout and model family (§5.1).

    The fields are the numbers the file stores; ``repr`` adds the names of the coded ones
    (FFmpeg's for the H.273 colour code points):

    >>> h = SequenceHeader(176, 144, 60, 30, 1, 1, 10, 1, 9, 16, 9, 1, 30, 2, 1, (1, 4, 8, 8), 1, 1)
    >>> print(repr(h).split("bit_depth")[1])
    =10, color_range=1 (limited), color_primaries=9 (bt2020), transfer=16 (smpte2084), matrix=9 (bt2020nc), chroma_siting=1 (left), gop_size=30, gom_size=2, arch_id=1, arch_params=(1, 4, 8, 8), coder_id=1, seed=1)
    """

    width: int
    height: int
    n_frames: int
    fps_num: int
    fps_den: int
    chroma_format: int
    bit_depth: int
    color_range: int
    color_primaries: int
    transfer: int
    matrix: int
    chroma_siting: int
    gop_size: int
    gom_size: int
    arch_id: int
    arch_params: tuple[int, ...]
    coder_id: int
    seed: int

    def __repr__(self) -> str:
        from ..colour import MATRIX, PRIMARIES, TRANSFER, colour_name

        named = {"chroma_format": lambda v: _label(spec.ChromaFormat, v),
                 "color_range": lambda v: _label(spec.ColorRange, v),
                 "color_primaries": lambda v: colour_name(PRIMARIES, v),
                 "transfer": lambda v: colour_name(TRANSFER, v), "matrix": lambda v: colour_name(MATRIX, v),
                 "chroma_siting": lambda v: _label(spec.ChromaSiting, v)}
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            parts.append(f"{f.name}={v}" + (f" ({named[f.name](v)})" if f.name in named else ""))
        return f"SequenceHeader({', '.join(parts)})"

    def __post_init__(self) -> None:
        object.__setattr__(self, "arch_params", tuple(self.arch_params))
        if len(self.arch_params) > spec.MAX_ARCH_PARAMS:
            raise InrFormatError(
                f"SHDR: {len(self.arch_params)} arch_params, at most {spec.MAX_ARCH_PARAMS}"
            )
        for f in _HEADER_FIELDS:
            if f.name == _ARCH_PARAMS:
                for v in self.arch_params:
                    _check_field(f, v, "SHDR: ")
            else:
                _check_field(f, getattr(self, f.name), "SHDR: ")

    @property
    def n_gops(self) -> int:
        """Number of GOPs; the last one may be shorter than gop_size (§6)."""
        return -(-self.n_frames // self.gop_size)

    @property
    def n_goms(self) -> int:
        """Number of GOMs (groups of models sharing one I-model, §6)."""
        return -(-self.n_gops // self.gom_size)

    def gop_range(self, gop_index: int) -> tuple[int, int]:
        """(first frame, number of frames) of GOP ``gop_index``."""
        _check_index("GOP", gop_index, self.n_gops)
        first = gop_index * self.gop_size
        return first, min(self.gop_size, self.n_frames - first)

    def gom_of_gop(self, gop_index: int) -> int:
        """The GOM holding GOP ``gop_index``."""
        _check_index("GOP", gop_index, self.n_gops)
        return gop_index // self.gom_size

    def gops_of_gom(self, gom_index: int) -> range:
        """The GOP indices of GOM ``gom_index``."""
        _check_index("GOM", gom_index, self.n_goms)
        first = gom_index * self.gom_size
        return range(first, min(first + self.gom_size, self.n_gops))

    def gop_of_frame(self, frame_index: int) -> int:
        """The GOP holding frame ``frame_index``."""
        _check_index("frame", frame_index, self.n_frames)
        return frame_index // self.gop_size

    def gom_of_frame(self, frame_index: int) -> int:
        """The GOM holding frame ``frame_index``."""
        return self.gom_of_gop(self.gop_of_frame(frame_index))


def _check_index(what: str, index: int, count: int) -> None:
    if not 0 <= index < count:
        raise InrInputError(f"{what} {index} outside 0..{count - 1}")


def _header_values(h: SequenceHeader) -> Iterator[tuple[str, _Field, int]]:
    """(display name, field, value) in wire order, with n_arch_params and each param."""
    for f in _HEADER_FIELDS:
        if f.name == _ARCH_PARAMS:
            yield "n_arch_params", _N_ARCH_PARAMS, len(h.arch_params)
            for i, v in enumerate(h.arch_params):
                yield f"arch_params[{i}]", f, v
        else:
            yield f.name, f, getattr(h, f.name)


def header_fields(header: SequenceHeader) -> list[tuple[str, int, int | str, int]]:
    """(name, offset in SHDR payload, width in bytes or "varint", value) for every field."""
    out = []
    offset = 0
    for name, f, value in _header_values(header):
        out.append((name, offset, f.width, value))
        offset += len(uvarint_bytes(value)) if f.width == "varint" else f.width
    return out


def _read_field(r: ByteReader, f: _Field, what: str) -> int:
    if f.width == "varint":
        return r.uvarint(what)
    return {1: r.u8, 2: r.u16, 4: r.u32, 8: r.u64}[f.width](what)


def read_header(r: ByteReader) -> SequenceHeader:
    """Parse an SHDR payload (§5.1)."""
    values: dict[str, object] = {}
    for f in _HEADER_FIELDS:
        if f.name == _ARCH_PARAMS:
            at = r.pos
            n = _read_field(r, _N_ARCH_PARAMS, "SHDR n_arch_params")
            _check_field(_N_ARCH_PARAMS, n, f"SHDR at offset {at}: ")
            values[f.name] = tuple(r.uvarint(f"SHDR arch_params[{i}]") for i in range(n))
            continue
        at = r.pos
        value = _read_field(r, f, f"SHDR {f.name}")
        _check_field(f, value, f"SHDR at offset {at}: ")
        values[f.name] = value
    r.expect_end("SHDR")
    return SequenceHeader(**values)


def write_header(w: ByteWriter, header: SequenceHeader) -> None:
    """Write an SHDR payload (§5.1)."""
    for name, f, value in _header_values(header):
        if f.width == "varint":
            w.uvarint(value, name)
        else:
            {1: w.u8, 2: w.u16, 4: w.u32, 8: w.u64}[f.width](value, name)


# ---------------------------------------------------------------------------------------------
# §5.6 LHDR


@dataclass(frozen=True)
class LayerSpec:
    """One layer's network, the scale of its residual target and its seed: an LHDR entry for a
    residual layer k >= 1 (§5.6); ``layer_specs`` builds the base layer's from SHDR (scale 1)."""

    arch_id: int
    arch_params: tuple[int, ...]
    residual_scale: int
    seed: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "arch_params", tuple(self.arch_params))
        _check_field(_ANY_U8, self.arch_id, "LHDR arch_id: ")
        if len(self.arch_params) > spec.MAX_ARCH_PARAMS:
            raise InrFormatError(f"LHDR: {len(self.arch_params)} arch_params, at most {spec.MAX_ARCH_PARAMS}")
        for v in self.arch_params:
            _check_field(_ANY_VARINT, v, "LHDR arch_params: ")
        _check_field(_RESIDUAL_SCALE, self.residual_scale, "LHDR residual_scale: ")
        _check_field(_ANY_U64, self.seed, "LHDR seed: ")


@dataclass(frozen=True)
class LayerHeader:
    """LHDR: the residual layers 1..n_layers-1 that follow the base layer of SHDR (§5.6)."""

    residual: tuple[LayerSpec, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "residual", tuple(self.residual))
        if not spec.MIN_LAYERS <= self.n_layers <= spec.MAX_LAYERS:
            raise InrFormatError(
                f"LHDR: n_layers {self.n_layers} not allowed (allowed: {spec.MIN_LAYERS}..{spec.MAX_LAYERS})"
            )

    @property
    def n_layers(self) -> int:
        """All layers, the base layer included."""
        return 1 + len(self.residual)


def layer_specs(header: SequenceHeader, layers: LayerHeader | None) -> list[LayerSpec]:
    """Every layer of a file in order: the base layer from SHDR (residual_scale 1), then LHDR's."""
    base = LayerSpec(header.arch_id, header.arch_params, 1, header.seed)
    return [base] + ([] if layers is None else list(layers.residual))


def read_layer_header(r: ByteReader) -> LayerHeader:
    """Parse an LHDR payload (§5.6)."""
    at = r.pos
    n = r.u8("LHDR n_layers")
    if not spec.MIN_LAYERS <= n <= spec.MAX_LAYERS:
        raise InrFormatError(
            f"LHDR at offset {at}: n_layers {n} not allowed (allowed: {spec.MIN_LAYERS}..{spec.MAX_LAYERS})"
        )
    layers = []
    for k in range(1, n):
        arch_id = r.u8(f"LHDR layer {k} arch_id")
        n_params = r.uvarint(f"LHDR layer {k} n_arch_params")
        _check_field(_N_ARCH_PARAMS, n_params, f"LHDR layer {k}: ")
        params = tuple(r.uvarint(f"LHDR layer {k} arch_params[{i}]") for i in range(n_params))
        scale = r.u32(f"LHDR layer {k} residual_scale")
        _check_field(_RESIDUAL_SCALE, scale, f"LHDR layer {k}: ")
        layers.append(LayerSpec(arch_id, params, scale, r.u64(f"LHDR layer {k} seed")))
    r.expect_end("LHDR")
    return LayerHeader(tuple(layers))


def write_layer_header(w: ByteWriter, lh: LayerHeader) -> None:
    """Write an LHDR payload (§5.6)."""
    w.u8(lh.n_layers, "LHDR n_layers")
    for layer in lh.residual:
        w.u8(layer.arch_id, "LHDR arch_id")
        w.uvarint(len(layer.arch_params), "LHDR n_arch_params")
        for v in layer.arch_params:
            w.uvarint(v, "LHDR arch_params")
        w.u32(layer.residual_scale, "LHDR residual_scale")
        w.u64(layer.seed, "LHDR seed")


# ---------------------------------------------------------------------------------------------
# §5.2 MODL


@dataclass(frozen=True)
class ModelChunk:
    """MODL: the network of one GOP; ``body`` is defined by spec/models.md (§5.2)."""

    gop_index: int
    kind: spec.ModelKind
    body: bytes
    layer: int = 0
    # file offset of the body's first byte, for error messages (0 for a chunk not read from a file)
    body_offset: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in _MODEL_KINDS:
            raise InrFormatError(f"MODL kind {self.kind!r} is not 0 (I) or 1 (P)")
        object.__setattr__(self, "kind", spec.ModelKind(self.kind))
        object.__setattr__(self, "body", bytes(self.body))
        _check_field(_ANY_VARINT, self.gop_index, "MODL gop_index: ")
        _check_field(_ANY_U8, self.layer, "MODL layer: ")


def _check_gop_in_sequence(gop_index: int, header: SequenceHeader, where: str) -> None:
    """A payload chunk's GOP must exist in the sequence (§5.2, §5.3)."""
    if gop_index >= header.n_gops:
        raise InrFormatError(f"{where}: gop_index {gop_index} outside 0..{header.n_gops - 1}")


def _located(at: int, cls: type, *args, **kwargs):
    """Build a chunk dataclass, whose checks are the only ones; a refusal names the payload offset."""
    try:
        return cls(*args, **kwargs)
    except InrFormatError as exc:
        raise type(exc)(f"at offset {at}: {exc}") from None


def check_model(chunk: ModelChunk, header: SequenceHeader, where: str, n_layers: int = 1) -> None:
    """Check a MODL against the header: GOP in range, a layer the file has (LHDR), I-model
    exactly at GOM starts (§5.2)."""
    _check_gop_in_sequence(chunk.gop_index, header, where)
    if chunk.layer >= n_layers:
        raise InrFormatError(
            f"{where}: model layer {chunk.layer}, but the file has {n_layers} layer"
            f"{'s' if n_layers > 1 else ' (no LHDR)'}"
        )
    starts_gom = chunk.gop_index % header.gom_size == 0
    if starts_gom != (chunk.kind == spec.ModelKind.I):
        want = "an I-model" if starts_gom else "a P-model"
        raise InrFormatError(
            f"{where}: GOP {chunk.gop_index} needs {want} (gom_size {header.gom_size}), "
            f"found a {chunk.kind.name}-model"
        )


def read_model(r: ByteReader, header: SequenceHeader, n_layers: int = 1) -> ModelChunk:
    """Parse a MODL payload and check it against the header and layer count (§5.2)."""
    at = r.pos
    gop_index = r.uvarint("MODL gop_index")
    kind = r.u8("MODL kind")
    layer = r.u8("MODL layer")
    body_offset = r.pos
    body = r.rest("MODL body")
    chunk = _located(at, ModelChunk, gop_index=gop_index, kind=kind, body=body, layer=layer,
                     body_offset=body_offset)
    check_model(chunk, header, f"MODL at offset {at}", n_layers)
    return chunk


def write_model(w: ByteWriter, chunk: ModelChunk) -> None:
    """Write a MODL payload (§5.2)."""
    w.uvarint(chunk.gop_index, "MODL gop_index")
    w.u8(int(chunk.kind), "MODL kind")
    w.u8(chunk.layer, "MODL layer")
    w.bytes(chunk.body)


# ---------------------------------------------------------------------------------------------
# §5.3 BLOB


@dataclass(frozen=True)
class BlobChunk:
    """BLOB: compressed side data of one GOP; ``method`` names a blob codec (§5.3)."""

    gop_index: int
    tag: int
    method: int
    raw_size: int
    data: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", bytes(self.data))
        _check_field(_ANY_VARINT, self.gop_index, "BLOB gop_index: ")
        _check_field(_ANY_VARINT, self.tag, "BLOB tag: ")
        _check_field(_ANY_U8, self.method, "BLOB method: ")
        _check_field(_BLOB_RAW_SIZE, self.raw_size, "BLOB raw_size: ")


def check_blob(chunk: BlobChunk, header: SequenceHeader, where: str) -> None:
    """Check a BLOB against the header: GOP in range (§5.3)."""
    _check_gop_in_sequence(chunk.gop_index, header, where)


def read_blob(r: ByteReader, header: SequenceHeader) -> BlobChunk:
    """Parse a BLOB payload and check it against the header (§5.3)."""
    at = r.pos
    gop_index = r.uvarint("BLOB gop_index")
    tag = r.uvarint("BLOB tag")
    method = r.u8("BLOB method")
    raw_size = r.uvarint("BLOB raw_size")
    chunk = _located(at, BlobChunk, gop_index, tag, method, raw_size, r.rest("BLOB data"))
    check_blob(chunk, header, f"BLOB at offset {at}")
    return chunk


def write_blob(w: ByteWriter, chunk: BlobChunk) -> None:
    """Write a BLOB payload (§5.3)."""
    w.uvarint(chunk.gop_index, "BLOB gop_index")
    w.uvarint(chunk.tag, "BLOB tag")
    w.u8(chunk.method, "BLOB method")
    w.uvarint(chunk.raw_size, "BLOB raw_size")
    w.bytes(chunk.data)


# ---------------------------------------------------------------------------------------------
# §5.4 GIDX


@dataclass(frozen=True)
class IndexRecord:
    """One GIDX entry: which payload chunk, of which GOP, at which file offset (§5.4)."""

    code: spec.IndexCode
    gop_index: int
    offset: int


@dataclass(frozen=True)
class IndexChunk:
    """GIDX: every MODL and BLOB chunk of the file, in file order (§5.4)."""

    records: tuple[IndexRecord, ...] = field(default_factory=tuple)


def read_index(r: ByteReader, header: SequenceHeader) -> IndexChunk:
    """Parse a GIDX payload: counts checked before looping, offsets strictly increasing (§5.4)."""
    at = r.pos
    n = r.uvarint("GIDX n_entries")
    if n > r.remaining // spec.MIN_INDEX_ENTRY_BYTES:
        raise InrFormatError(
            f"GIDX at offset {at}: {n} entries cannot fit in the {r.remaining} bytes left"
        )
    records = []
    offset = 0
    for i in range(n):
        entry_at = r.pos
        code = r.u8(f"GIDX entry {i} type code")
        if code not in _INDEX_CODES:
            raise InrFormatError(
                f"GIDX entry {i} at offset {entry_at}: type code {code} is not 0 (MODL) or 1 (BLOB)"
            )
        gop_index = r.uvarint(f"GIDX entry {i} gop_index")
        if gop_index >= header.n_gops:
            raise InrFormatError(
                f"GIDX entry {i} at offset {entry_at}: gop_index {gop_index} outside "
                f"0..{header.n_gops - 1}"
            )
        delta = r.uvarint(f"GIDX entry {i} offset delta")
        if i > 0 and delta == 0:
            raise InrFormatError(
                f"GIDX entry {i} at offset {entry_at}: offset not greater than the previous entry's"
            )
        offset += delta
        records.append(IndexRecord(spec.IndexCode(code), gop_index, offset))
    r.expect_end("GIDX")
    return IndexChunk(tuple(records))


def write_index(w: ByteWriter, index: IndexChunk) -> None:
    """Write a GIDX payload (§5.4)."""
    w.uvarint(len(index.records), "GIDX n_entries")
    previous = 0
    for i, rec in enumerate(index.records):
        if i > 0 and rec.offset <= previous:
            raise InrFormatError(f"GIDX entry {i}: offsets must increase")
        w.u8(int(rec.code), "GIDX type code")
        w.uvarint(rec.gop_index, "GIDX gop_index")
        w.uvarint(rec.offset - previous, "GIDX offset delta")
        previous = rec.offset


# ---------------------------------------------------------------------------------------------
# §5.5 IEND


@dataclass(frozen=True)
class Trailer:
    """IEND: the file offset of the GIDX chunk (§5.5)."""

    index_offset: int


def read_trailer(r: ByteReader) -> Trailer:
    """Parse an IEND payload (§5.5)."""
    at = r.pos
    index_offset = r.u64("IEND index_offset")
    r.expect_end("IEND")
    if index_offset < spec.PREAMBLE_BYTES:
        raise InrFormatError(
            f"IEND at offset {at}: index_offset {index_offset} points inside the file preamble"
        )
    return Trailer(index_offset)


def write_trailer(w: ByteWriter, trailer: Trailer) -> None:
    """Write an IEND payload (§5.5)."""
    w.u64(trailer.index_offset, "IEND index_offset")


# ---------------------------------------------------------------------------------------------
# §4.2 ancillary chunks


@dataclass(frozen=True)
class AncillaryChunk:
    """Any chunk whose type starts with a lowercase letter; readers may skip it (§4.2)."""

    code: bytes
    payload: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", bytes(self.payload))
        if not is_valid_type(self.code) or is_critical(self.code):
            raise InrFormatError(
                f"ancillary chunk type {self.code!r} must be 4 ASCII letters, the first lowercase"
            )


def target_payload(record: dict) -> bytes:
    """A targ payload (§5.8): ``record`` as compact UTF-8 JSON, keys sorted; ValueError above the limit."""
    data = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) > spec.MAX_TARG_PAYLOAD_BYTES:
        raise ValueError(f"targ: {len(data)} bytes, above {spec.MAX_TARG_PAYLOAD_BYTES}")
    return data


def read_target_record(payload: bytes) -> dict | None:
    """A targ payload's record (§5.8), or None where it is not one (too long, not UTF-8, not a JSON
    object): the chunk is informative, so a reader ignores a bad one instead of refusing the file."""
    if len(payload) > spec.MAX_TARG_PAYLOAD_BYTES:
        return None
    try:
        record = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


# ---------------------------------------------------------------------------------------------
# §5.7 disp (ancillary)


@dataclass(frozen=True)
class DisplayInfo:
    """disp: how the frames are shown and timed, beyond SHDR (§5.7); the defaults mean "nothing to say"."""

    sar_num: int = 0  # sample (pixel) aspect ratio; 0:0 unknown
    sar_den: int = 0
    rotation: int = 0  # degrees counterclockwise, 0..359
    field_order: int = spec.FieldOrder.PROGRESSIVE  # spec.FieldOrder
    timing: int = spec.Timing.CONSTANT  # spec.Timing

    def __post_init__(self) -> None:
        for name in ("sar_num", "sar_den"):
            _check_field(_Field(name, 4, _between(0, _U32), "0..2**32-1"), getattr(self, name), "disp: ")
        if (self.sar_num == 0) != (self.sar_den == 0):
            raise InrFormatError(f"disp: sample aspect {self.sar_num}:{self.sar_den} (both 0, or both >= 1)")
        _check_field(_Field("rotation", 2, _between(0, 359), "0..359"), self.rotation, "disp: ")
        _check_field(_Field("field_order", 1, lambda v: v in _FIELD_ORDERS, f"0..{len(_FIELD_ORDERS) - 1}"),
                     self.field_order, "disp: ")
        _check_field(_Field("timing", 1, lambda v: v in _TIMINGS, f"0..{len(_TIMINGS) - 1}"), self.timing, "disp: ")

    @property
    def is_default(self) -> bool:
        """True when the chunk would say nothing (a writer then leaves it out)."""
        return self == DisplayInfo()


_FIELD_ORDERS = frozenset(spec.FieldOrder)
_TIMINGS = frozenset(spec.Timing)


def read_display(r: ByteReader) -> DisplayInfo:
    """Parse a disp payload (§5.7)."""
    at = r.pos
    values = dict(sar_num=r.u32("disp sar_num"), sar_den=r.u32("disp sar_den"), rotation=r.u16("disp rotation"),
                  field_order=r.u8("disp field_order"), timing=r.u8("disp timing"))
    r.expect_end("disp")
    try:
        return DisplayInfo(**values)
    except InrFormatError as err:
        raise InrFormatError(f"{err} (chunk payload at offset {at})") from None


def write_display(w: ByteWriter, info: DisplayInfo) -> None:
    """Write a disp payload (§5.7)."""
    w.u32(info.sar_num, "disp sar_num")
    w.u32(info.sar_den, "disp sar_den")
    w.u16(info.rotation, "disp rotation")
    w.u8(info.field_order, "disp field_order")
    w.u8(info.timing, "disp timing")


# ---------------------------------------------------------------------------------------------
# §6 order of payload chunks


class GopOrder:
    """Checks that payload chunks come GOP after GOP, each GOP opened by its MODLs of layers
    0, 1, ... n_layers-1 in turn, each followed by its BLOBs (§4.3, §6)."""

    def __init__(self, header: SequenceHeader, first_gop: int = 0, n_layers: int = 1) -> None:
        self.n_gops = header.n_gops
        self.n_layers = n_layers
        self.next_gop = first_gop
        self.open_gop: int | None = None
        self.next_layer = n_layers  # the open GOP's next layer; n_layers when it has them all

    def model(self, gop_index: int, where: str, layer: int | None = None) -> None:
        """Accept the next MODL, of ``gop_index`` (and ``layer``, when known; index entries do not
        carry it, so for them it is the one expected) or raise."""
        if self.next_layer < self.n_layers:
            want_gop, want_layer = self.open_gop, self.next_layer
        else:
            want_gop, want_layer = self.next_gop, 0
        got = want_layer if layer is None else layer
        if (gop_index, got) != (want_gop, want_layer):
            layers = f" layer {got}" if self.n_layers > 1 else ""
            wanted = f" layer {want_layer}" if self.n_layers > 1 else ""
            raise InrFormatError(
                f"{where}: MODL of GOP {gop_index}{layers} where the MODL of GOP {want_gop}{wanted} "
                f"was expected (payload chunks go in GOP order, one MODL per GOP and layer)"
            )
        if got == 0:
            self.open_gop = gop_index
            self.next_gop += 1
        self.next_layer = got + 1

    def blob(self, gop_index: int, where: str) -> None:
        """Accept a BLOB of ``gop_index`` (it belongs to the MODL before it) or raise."""
        if gop_index != self.open_gop:
            raise InrFormatError(
                f"{where}: BLOB of GOP {gop_index} outside that GOP's run of chunks "
                f"(current GOP: {self.open_gop}); a GOP's BLOBs follow its MODL"
            )

    @property
    def gop_done(self) -> bool:
        """True when the open GOP (if any) has had the MODLs of all its layers."""
        return self.next_layer == self.n_layers

    def expect_through(self, last_gop: int, where: str) -> None:
        """Raise unless every GOP up to ``last_gop`` has had its MODLs (every layer)."""
        if self.next_gop != last_gop + 1:
            raise InrFormatError(f"{where}: no MODL for GOP {self.next_gop}")
        if not self.gop_done:
            raise InrFormatError(f"{where}: no MODL of layer {self.next_layer} for GOP {self.open_gop}")
