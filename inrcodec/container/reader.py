"""Reads .inr files: header, GOM index, and the chunks of one GOM without touching the rest.

Strict mode trusts nothing: it locates the trailer at the end of the file, validates the index
against the file size and the GOP order, and verifies each chunk's CRC and type when that chunk
is read. Salvage mode ignores trailer and index, scans chunks from the start and keeps the GOMs
that were complete before the first damaged byte. Either way, only InrError subclasses escape.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import spec
from .bitio import ByteReader
from .chunks import (
    BlobChunk,
    DisplayInfo,
    GopOrder,
    IndexRecord,
    LayerHeader,
    ModelChunk,
    RawChunk,
    SequenceHeader,
    is_critical,
    read_blob,
    read_chunk,
    read_chunk_head,
    read_display,
    read_header,
    read_index,
    read_layer_header,
    read_model,
    read_target_record,
    read_trailer,
)
from ..errors import (
    InrChecksumError,
    InrFormatError,
    InrInputError,
    InrIOError,
    InrTruncatedError,
    InrUnsupportedError,
)

_SALVAGE_HINT = " (--salvage may recover the complete GOMs before the damage)"
# Type (4) + the longest length varint (10): enough to learn any chunk's size.
_MAX_CHUNK_HEAD_BYTES = spec.CHUNK_TYPE_BYTES + spec.MAX_UVARINT_BYTES
_MODL = spec.ChunkType.MODL.code
_BLOB = spec.ChunkType.BLOB.code
_SHDR = spec.ChunkType.SHDR.code
_LHDR = spec.ChunkType.LHDR.code
_GIDX = spec.ChunkType.GIDX.code
_IEND = spec.ChunkType.IEND.code
_STRUCTURE = (_SHDR, _LHDR, _GIDX, _IEND)


def _unknown_critical(raw: RawChunk) -> InrUnsupportedError:
    """The error for a critical chunk type this reader does not know (§4: it must not decode on)."""
    return InrUnsupportedError(f"{raw.name} at offset {raw.offset}: unknown critical chunk type; this reader "
                               f"(version {spec.READER_VERSION}) cannot decode the file")


@dataclass(frozen=True)
class IndexEntry:
    """One payload chunk as the index (or the salvage scan) places it.

    ``size_bytes`` runs from the chunk's first byte to the next entry (or the end of its GOM), so
    it includes the chunk's framing and any ancillary chunks that follow it.
    """

    kind: str  # "MODL" or "BLOB"
    gop_index: int
    offset: int
    size_bytes: int


@dataclass(frozen=True)
class ChunkInfo:
    """One chunk of the file as ``inrcodec info`` lists it."""

    type: str
    offset: int
    payload_size: int
    total_size: int
    gop_index: int | None = None
    kind: spec.ModelKind | None = None
    layer: int | None = None  # MODL: its layer; BLOB: the layer of the MODL before it
    record: dict | None = None  # targ: what the encode aimed at (§5.8), when it reads as one


class _Source:
    """Random access to a file or an in-memory buffer, with short reads turned into errors."""

    def __init__(self, source: object) -> None:
        self._view: memoryview | None = None
        self._file = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._view = memoryview(source).cast("B")
            self.size = len(self._view)
            self.name = "<memory>"
        elif isinstance(source, (str, os.PathLike)):
            self.name = os.fspath(source)
            try:
                self._file = open(source, "rb")
                self.size = os.fstat(self._file.fileno()).st_size
            except OSError as err:
                self.close()
                raise InrInputError(f"cannot open {self.name}: {err.strerror or err}") from err
        else:
            raise InrInputError(
                f"cannot read an .inr stream from a {type(source).__name__}: give a path or bytes"
            )

    def read_at(self, offset: int, n: int) -> bytes:
        """Exactly ``n`` bytes from ``offset``."""
        if self._view is not None:
            data = bytes(self._view[offset : offset + n])
        else:
            try:
                self._file.seek(offset)
                data = self._file.read(n)
            except OSError as err:
                raise InrIOError(f"cannot read {self.name}: {err.strerror or err}") from err
        if len(data) != n:
            raise InrTruncatedError(
                f"{self.name}: {n} bytes wanted at offset {offset}, got {len(data)} "
                "(did the file shrink while being read?)"
            )
        return data

    def close(self) -> None:
        """Release the file, if any."""
        if self._file is not None:
            self._file.close()
            self._file = None


class ContainerReader:
    """An open .inr stream: header and index at once, GOMs on demand.

    >>> from inrcodec.container.chunks import ModelChunk, SequenceHeader
    >>> from inrcodec.container.spec import ModelKind
    >>> from inrcodec.container.writer import serialize
    >>> h = SequenceHeader(width=64, height=48, n_frames=8, fps_num=25, fps_den=1,
    ...     chroma_format=0, bit_depth=8, color_range=1, color_primaries=2, transfer=2,
    ...     matrix=2, chroma_siting=1, gop_size=4, gom_size=2, arch_id=0, arch_params=(),
    ...     coder_id=0, seed=7)
    >>> models = [ModelChunk(0, ModelKind.I, b"net0"), ModelChunk(1, ModelKind.P, b"net1")]
    >>> data = serialize(h, models)
    >>> with ContainerReader(data) as r:
    ...     [(m.kind.name, m.body) for m in r.read_gom(0)]
    [('I', b'net0'), ('P', b'net1')]
    """

    def __init__(self, source: object, *, salvage: bool = False) -> None:
        self._src = _Source(source)
        self.file_size = self._src.size
        self.salvage = salvage
        self.salvage_note: str | None = None
        self.salvage_skipped: list[str] = []  # damaged ancillary chunks salvage stepped over
        self._walked: tuple[list[ChunkInfo], int] | None = None
        try:
            self._open()
        except BaseException:
            self._src.close()
            raise

    def __enter__(self) -> ContainerReader:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying file."""
        self._src.close()

    # -- opening -------------------------------------------------------------------------------

    def _open(self) -> None:
        pre = self._src.read_at(0, min(spec.PREAMBLE_BYTES, self.file_size))
        if pre[: spec.MAGIC_BYTES] != spec.MAGIC[: len(pre)]:
            raise InrFormatError(f"{self._src.name}: not an .inr file (bad signature)")
        if len(pre) < spec.PREAMBLE_BYTES:
            raise InrTruncatedError(
                f"{self._src.name}: {len(pre)} bytes, shorter than the "
                f"{spec.PREAMBLE_BYTES}-byte signature and versions"
            )
        r = ByteReader(pre)
        r.bytes(spec.MAGIC_BYTES, "signature")
        self.writer_version = r.u16("writer_version")
        self.min_reader_version = r.u16("min_reader_version")
        if not 1 <= self.min_reader_version <= self.writer_version:
            raise InrFormatError(
                f"min_reader_version {self.min_reader_version} must be in "
                f"1..writer_version ({self.writer_version})"
            )
        if self.min_reader_version > spec.READER_VERSION:
            raise InrUnsupportedError(
                f"file needs reader version {self.min_reader_version}; this reader is version "
                f"{spec.READER_VERSION}"
            )
        shdr = self._chunk_at(spec.PREAMBLE_BYTES, self.file_size)
        if shdr.code != _SHDR:
            raise InrFormatError(
                f"first chunk at offset {spec.PREAMBLE_BYTES} is {shdr.name}, must be SHDR"
            )
        self.header: SequenceHeader = read_header(shdr.reader())
        if self.header.bit_depth > 8 and self.min_reader_version < spec.HIGH_DEPTH_VERSION:
            raise InrFormatError(
                f"SHDR bit_depth {self.header.bit_depth} in a file whose min_reader_version is "
                f"{self.min_reader_version}; bit depths above 8 need {spec.HIGH_DEPTH_VERSION}"
            )
        self._header_end = spec.PREAMBLE_BYTES + shdr.total_size
        self.layers: LayerHeader | None = self._read_layer_header()
        self.n_layers = 1 if self.layers is None else self.layers.n_layers
        if self.salvage:
            self._salvage()
        else:
            try:
                self._load_index()
            except InrFormatError as err:
                raise type(err)(f"{err}{_SALVAGE_HINT}") from err
        self.display: DisplayInfo = self._read_display()

    def _read_display(self) -> DisplayInfo:
        """The disp chunk among the ancillary chunks between the headers and the first payload chunk
        (§5.7), or the defaults when there is none. Strict mode checks every chunk there as §4 says
        (CRC, framing, no critical chunk, at most one disp: issue 32, as ``info`` does); salvage mode
        ignores a damaged one and stops at the first critical chunk."""
        if self.salvage:
            return self._salvage_display()
        end = self.entries[0].offset if self.entries else self.file_size
        pos, display = self._header_end, None
        while pos < end:
            raw = self._chunk_at(pos, end)
            if raw.code in _STRUCTURE or raw.code in (_MODL, _BLOB):
                raise InrFormatError(f"{raw.name} at offset {pos}: a {raw.name} chunk may not come between "
                                     "the headers and the first indexed payload chunk")
            if is_critical(raw.code):
                raise _unknown_critical(raw)
            if raw.code == spec.DISP:
                if display is not None:
                    raise InrFormatError(f"disp at offset {pos}: a second disp chunk (a file has at most one)")
                display = read_display(raw.reader())
            pos += raw.total_size
        return DisplayInfo() if display is None else display

    def _salvage_display(self) -> DisplayInfo:
        end = self.entries[0].offset if self.entries else self.file_size
        pos = self._header_end
        while pos < end and end - pos >= spec.CHUNK_TYPE_BYTES:
            code = self._src.read_at(pos, spec.CHUNK_TYPE_BYTES)
            if is_critical(code):
                break
            try:
                raw = self._chunk_at(pos, end)
                if raw.code == spec.DISP:
                    return read_display(raw.reader())
            except InrFormatError:
                break
            pos += raw.total_size
        return DisplayInfo()

    def _read_layer_header(self) -> LayerHeader | None:
        """The LHDR chunk right after SHDR, if the file has one (§5.6); moves the chunk area on."""
        at = self._header_end
        if self.file_size - at < spec.CHUNK_TYPE_BYTES or self._src.read_at(at, spec.CHUNK_TYPE_BYTES) != _LHDR:
            return None
        raw = self._chunk_at(at, self.file_size)
        layers = read_layer_header(raw.reader())
        if self.min_reader_version < spec.LAYERED_VERSION:
            raise InrFormatError(
                f"LHDR at offset {at} in a file whose min_reader_version is {self.min_reader_version}; "
                f"progressive layers need {spec.LAYERED_VERSION}"
            )
        self._header_end = at + raw.total_size
        return layers

    def _order(self, first_gop: int = 0) -> GopOrder:
        return GopOrder(self.header, first_gop, self.n_layers)

    def _chunk_at(self, offset: int, end: int) -> RawChunk:
        """Read and verify the chunk at ``offset``; it must end by ``end``."""
        head = self._src.read_at(offset, min(_MAX_CHUNK_HEAD_BYTES, end - offset))
        _, _, total = read_chunk_head(ByteReader(head, base=offset), end - offset)
        return read_chunk(ByteReader(self._src.read_at(offset, total), base=offset))

    def _load_index(self) -> None:
        """Strict mode: locate IEND at the end, GIDX before it, and validate both (§7.1)."""
        size = self.file_size
        iend_at = size - spec.IEND_BYTES
        if iend_at < self._header_end:
            self._diagnose_end(f"file ends at offset {size}, leaving no room for GIDX and IEND")
        tail = self._src.read_at(iend_at, spec.IEND_BYTES)
        if tail[: spec.CHUNK_TYPE_BYTES] != _IEND or tail[4] != spec.IEND_PAYLOAD_BYTES:
            self._diagnose_end(f"the last {spec.IEND_BYTES} bytes are not an IEND chunk")
        trailer = read_trailer(read_chunk(ByteReader(tail, base=iend_at)).reader())
        index_at = trailer.index_offset
        if not self._header_end <= index_at < iend_at:
            raise InrFormatError(
                f"IEND at offset {iend_at}: index_offset {index_at} outside the chunk area "
                f"{self._header_end}..{iend_at - 1}"
            )
        gidx = self._chunk_at(index_at, iend_at)
        if gidx.code != _GIDX:
            raise InrFormatError(
                f"IEND points at offset {index_at}, where {gidx.name} is, not GIDX"
            )
        if index_at + gidx.total_size != iend_at:
            raise InrFormatError(
                f"GIDX at offset {index_at} ends at {index_at + gidx.total_size}, "
                f"but IEND begins at {iend_at}"
            )
        records = read_index(gidx.reader(), self.header).records
        order = self._order()
        for i, rec in enumerate(records):
            where = f"GIDX entry {i}"
            if not self._header_end <= rec.offset < index_at:
                raise InrFormatError(
                    f"{where}: offset {rec.offset} outside the chunk area "
                    f"{self._header_end}..{index_at - 1}"
                )
            if rec.code == spec.IndexCode.MODL:
                order.model(rec.gop_index, where)
            else:
                order.blob(rec.gop_index, where)
        order.expect_through(self.header.n_gops - 1, "GIDX")
        self._set_index(list(records), index_at)

    def _diagnose_end(self, problem: str) -> None:
        """The trailer is missing: scan the chunks to say why (cut, damage, bytes after IEND)."""
        pos = self._header_end
        while pos < self.file_size:
            raw = self._chunk_at(pos, self.file_size)
            pos += raw.total_size
            if raw.code == _IEND:
                if pos != self.file_size:
                    raise InrFormatError(
                        f"{self.file_size - pos} bytes after the IEND chunk at offset {raw.offset}"
                    )
                raise InrFormatError(
                    f"IEND at offset {raw.offset} is {raw.total_size} bytes, "
                    f"must be {spec.IEND_BYTES}"
                )
        raise InrTruncatedError(
            f"{problem}: the file stops after the chunk ending at offset {pos} without its "
            "IEND trailer (truncated or unfinished)"
        )

    def _set_index(self, records: list[IndexRecord], area_end: int) -> None:
        """Entries and GOM byte ranges from the records of whole GOMs ending at ``area_end``."""
        gom_size = self.header.gom_size
        # a GOM starts at its I-model: layer 0's MODL of a GOP whose index is a multiple of gom_size
        starts = [
            i
            for i, rec in enumerate(records)
            if rec.code == spec.IndexCode.MODL and rec.gop_index % gom_size == 0
            and (i == 0 or records[i - 1].gop_index != rec.gop_index)
        ]
        ends = [rec.offset for rec in records[1:]] + [area_end]
        self.entries: list[IndexEntry] = [
            IndexEntry(rec.code.name, rec.gop_index, rec.offset, end - rec.offset)
            for rec, end in zip(records, ends)
        ]
        bounds = starts + [len(records)]
        self._gom_slices = [(bounds[m], bounds[m + 1]) for m in range(len(starts))]
        self._gom_ranges = [(records[i0].offset, ends[i1 - 1]) for i0, i1 in self._gom_slices]
        self.n_complete_goms = len(starts)

    def _salvage(self) -> None:
        """Salvage mode: scan from SHDR, keep the GOMs completed before the first damage (§7.3)."""
        order = self._order()
        records: list[IndexRecord] = []
        n_whole = 0  # records belonging to GOMs known to be complete
        area_end = self._header_end
        pos = self._header_end
        note = None
        while True:
            if pos >= self.file_size:
                note = f"file ends at offset {pos} before the index (GIDX)"
                break
            try:
                raw = self._chunk_at(pos, self.file_size)
                if raw.code == _GIDX:
                    if self._open_gom_complete(order):
                        n_whole, area_end = len(records), pos
                    else:
                        note = (
                            f"the index at offset {pos} precedes the MODL of GOP {order.next_gop}"
                        )
                    break
                chunk = self._payload(raw, order)
            except InrChecksumError as err:
                skip = self._damaged_ancillary(pos)
                if skip:  # metadata, not video: a bad CRC there loses no GOM (§7.3)
                    self.salvage_skipped.append(f"skipped at offset {pos}: {err}")
                    pos += skip
                    continue
                note = f"stopped at offset {pos}: {err}"
                if self._gom_boundary(pos, order):
                    n_whole, area_end = len(records), pos
                break
            except (InrFormatError, InrUnsupportedError) as err:
                note = f"stopped at offset {pos}: {err}"
                if self._gom_boundary(pos, order):
                    n_whole, area_end = len(records), pos
                break
            if isinstance(chunk, ModelChunk) and chunk.gop_index % self.header.gom_size == 0 and chunk.layer == 0:
                # Reaching the next GOM's I-model proves the previous GOM lost nothing at its end.
                n_whole, area_end = len(records), pos
            if chunk is not None:
                code = spec.IndexCode.MODL if isinstance(chunk, ModelChunk) else spec.IndexCode.BLOB
                records.append(IndexRecord(code, chunk.gop_index, pos))
            pos += raw.total_size
        self._set_index(records[:n_whole], area_end)
        if note is None and self.n_complete_goms < self.header.n_goms:
            # a whole GOM, then the index: the file's end came before the GOMs SHDR promises
            note = (f"the index at offset {pos} follows GOM {self.n_complete_goms - 1}, "
                    f"but SHDR promises {self.header.n_goms} GOMs")
        if self.salvage_skipped:
            note = "; ".join(self.salvage_skipped + ([note] if note is not None else []))
        if note is not None:
            self.salvage_note = (
                f"{note}; recovered {self.n_complete_goms} of {self.header.n_goms} GOMs"
            )

    def _damaged_ancillary(self, pos: int) -> int:
        """The size of the chunk at ``pos`` when it reads as ancillary (first type letter lowercase)
        and only its CRC failed, so that salvage can step over it; 0 otherwise."""
        head = self._src.read_at(pos, min(_MAX_CHUNK_HEAD_BYTES, self.file_size - pos))
        if not head[:1].isalpha() or not head[:1].islower():
            return 0
        try:
            return read_chunk_head(ByteReader(head, base=pos), self.file_size - pos)[2]
        except InrFormatError:
            return 0

    def _open_gom_complete(self, order: GopOrder) -> bool:
        """True when every GOP of the GOM in progress has had its MODLs (every layer)."""
        gops_done = order.next_gop % self.header.gom_size == 0 or order.next_gop == self.header.n_gops
        return gops_done and order.gop_done

    def _gom_boundary(self, pos: int, order: GopOrder) -> bool:
        """True when the damaged chunk at ``pos`` still reads as GIDX or MODL at a GOM's end.

        Once the GOM in progress has all its MODLs, the next chunk is a BLOB of its last GOP, an
        ancillary chunk, the next GOM's MODL or GIDX; only the last two prove the GOM lost nothing.
        """
        if not self._open_gom_complete(order) or self.file_size - pos < spec.CHUNK_TYPE_BYTES:
            return False
        return self._src.read_at(pos, spec.CHUNK_TYPE_BYTES) in (_GIDX, _MODL)

    def _payload(self, raw: RawChunk, order: GopOrder) -> ModelChunk | BlobChunk | None:
        """Parse a chunk of the payload area: payload checked for order, ancillary skipped, disp refused."""
        where = f"{raw.name} at offset {raw.offset}"
        if raw.code == _MODL:
            chunk = read_model(raw.reader(), self.header, self.n_layers)
            order.model(chunk.gop_index, where, chunk.layer)
            return chunk
        if raw.code == _BLOB:
            chunk = read_blob(raw.reader(), self.header)
            order.blob(chunk.gop_index, where)
            return chunk
        if raw.code == spec.DISP:  # §5.7: its one place is before the first payload chunk
            raise InrFormatError(f"{where}: a disp chunk inside a GOM (its place is before the first "
                                 "payload chunk)")
        if not is_critical(raw.code):
            return None
        if raw.code in _STRUCTURE:
            raise InrFormatError(f"{where}: {raw.name} chunk out of place")
        raise _unknown_critical(raw)

    # -- access --------------------------------------------------------------------------------

    def _check_gom(self, gom_index: int) -> None:
        if not 0 <= gom_index < self.header.n_goms:
            raise InrInputError(f"GOM {gom_index} outside 0..{self.header.n_goms - 1}")
        if gom_index >= self.n_complete_goms:
            raise InrTruncatedError(f"GOM {gom_index} was not recovered: {self.salvage_note}")

    def gom_entries(self, gom_index: int) -> list[IndexEntry]:
        """The index entries of GOM ``gom_index``, in file order."""
        self._check_gom(gom_index)
        i0, i1 = self._gom_slices[gom_index]
        return self.entries[i0:i1]

    def read_gom(self, gom_index: int) -> list[ModelChunk | BlobChunk]:
        """The MODL and BLOB chunks of one GOM, reading only that GOM's byte range."""
        entries = self.gom_entries(gom_index)
        start, end = self._gom_ranges[gom_index]
        r = ByteReader(self._src.read_at(start, end - start), base=start)
        gops = self.header.gops_of_gom(gom_index)
        order = self._order(first_gop=gops[0])
        out: list[ModelChunk | BlobChunk] = []
        pending = iter(entries)
        while r.remaining:
            raw = read_chunk(r)
            chunk = self._payload(raw, order)
            if chunk is None:
                continue
            entry = next(pending, None)
            found = (raw.offset, raw.name, chunk.gop_index)
            if entry is None or (entry.offset, entry.kind, entry.gop_index) != found:
                expected = "no entry" if entry is None else f"entry {entry}"
                raise InrFormatError(
                    f"{raw.name} of GOP {chunk.gop_index} at offset {raw.offset} does not match "
                    f"the index ({expected})"
                )
            out.append(chunk)
        missing = next(pending, None)
        if missing is not None:
            raise InrFormatError(f"index entry {missing} does not point at a chunk")
        order.expect_through(gops[-1], f"GOM {gom_index}")
        return out

    def read_gop(self, gop_index: int) -> list[ModelChunk | BlobChunk]:
        """The MODL and BLOB chunks of GOP ``gop_index`` in file order (each layer's MODL, then its
        BLOBs), reading only those chunks: sequential playback decodes one GOP at a time."""
        order = self._order(first_gop=gop_index)
        out: list[ModelChunk | BlobChunk] = []
        for entry in self.gom_entries(self.header.gom_of_gop(gop_index)):
            if entry.gop_index != gop_index:
                continue
            raw = self._chunk_at(entry.offset, entry.offset + entry.size_bytes)
            if raw.name != entry.kind:
                raise InrFormatError(f"index entry {entry} points at a {raw.name} chunk, not {entry.kind}")
            out.append(self._payload(raw, order))  # MODL or BLOB: raises unless of this GOP, in order
        order.expect_through(gop_index, f"GOP {gop_index}")
        return out

    def chunks(self) -> list[ChunkInfo]:
        """Every chunk in file order (salvage mode: up to the first damaged one)."""
        return list(self._walk()[0])

    def overhead_bytes(self) -> int:
        """Bytes of the file that are neither MODL bodies nor BLOB data."""
        return self.file_size - self._walk()[1]

    def _walk(self) -> tuple[list[ChunkInfo], int]:
        """Read every chunk from SHDR on: (infos, payload bytes proper); cached."""
        if self._walked is not None:
            return self._walked
        infos: list[ChunkInfo] = []
        coded = 0
        layer = 0  # a BLOB belongs to the layer of the MODL before it
        pos = spec.PREAMBLE_BYTES
        in_goms = False  # past the first payload chunk, where a disp may not be (§5.7)
        while pos < self.file_size:
            try:
                raw = self._chunk_at(pos, self.file_size)
                in_goms = in_goms or raw.code in (_MODL, _BLOB)
                if in_goms and raw.code == spec.DISP:
                    raise InrFormatError(f"disp at offset {pos}: a disp chunk inside a GOM (its place is before "
                                         "the first payload chunk)")
                info, n_coded = self._describe(raw, layer)
            except (InrFormatError, InrUnsupportedError):
                if self.salvage:
                    break
                raise
            layer = info.layer if info.layer is not None else layer
            infos.append(info)
            coded += n_coded
            pos += raw.total_size
        self._walked = (infos, coded)
        return self._walked

    def _describe(self, raw: RawChunk, layer: int) -> tuple[ChunkInfo, int]:
        """A chunk's listing and its coded bytes (MODL body or BLOB data; 0 otherwise)."""
        sizes = (raw.name, raw.offset, len(raw.payload), raw.total_size)
        if raw.code == _MODL:
            m = read_model(raw.reader(), self.header, self.n_layers)
            return ChunkInfo(*sizes, gop_index=m.gop_index, kind=m.kind, layer=m.layer), len(m.body)
        if raw.code == _BLOB:
            b = read_blob(raw.reader(), self.header)
            return ChunkInfo(*sizes, gop_index=b.gop_index, layer=layer), len(b.data)
        if is_critical(raw.code) and raw.code not in _STRUCTURE:
            raise _unknown_critical(raw)
        if raw.code == spec.TARG:
            return ChunkInfo(*sizes, record=read_target_record(raw.payload)), 0
        return ChunkInfo(*sizes), 0
