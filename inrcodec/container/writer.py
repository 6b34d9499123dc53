"""Writes .inr files so that a reader never sees a half-written one under the target name.

The output is opened by ``inrcodec.outfile`` (the rules for files, links, devices, pipes and
existing files live there): a file target is written to a temporary file beside it, synced, then
renamed over it in one step; any failure removes the temporary file. The writer applies the same
chunk and GOP-order checks as the reader, so it cannot produce a file the reader refuses. It never
seeks: the index comes last.

A *resumable* writer uses a fixed temporary name (``.NAME.part``) and may keep it when aborted, so
that an interrupted encode can continue it later (``ContainerWriter.resume``): the encoder's
journal records how many bytes of it are complete.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO, Iterable

from . import spec
from .bitio import ByteWriter
from .chunks import (
    AncillaryChunk,
    BlobChunk,
    DisplayInfo,
    GopOrder,
    IndexChunk,
    IndexRecord,
    LayerHeader,
    ModelChunk,
    SequenceHeader,
    Trailer,
    check_blob,
    check_model,
    write_blob,
    write_chunk,
    write_display,
    write_header,
    write_index,
    write_layer_header,
    write_model,
    write_trailer,
)
from ..errors import InrFormatError, InrInputError
from ..outfile import OutputFile, beside, open_output, wrap_stream

PARTIAL_SUFFIX = ".part"


def file_version(header: SequenceHeader, layers: LayerHeader | None) -> int:
    """§3.2: the oldest version whose rules the file obeys: 1 for an 8-bit file of one layer,
    2 with progressive layers (LHDR), 3 with bit_depth 10 or 12."""
    version = spec.WRITER_VERSION if layers is None else spec.LAYERED_VERSION
    return spec.HIGH_DEPTH_VERSION if header.bit_depth > 8 else version


class ContainerWriter:
    """Streams an .inr file: preamble and SHDR now, payload chunks in GOP order, index on close."""

    def __init__(
        self,
        target: str | os.PathLike[str] | BinaryIO,
        header: SequenceHeader,
        *,
        layers: LayerHeader | None = None,
        display: DisplayInfo | None = None,
        writer_version: int | None = None,
        min_reader_version: int | None = None,
        resumable: bool = False,
        overwrite: bool = False,
        inputs: Iterable = (),
    ) -> None:
        """``target``: a path (``inrcodec.outfile`` rules; ``-`` is refused) or a binary file object;
        ``overwrite`` replaces an existing file; ``inputs``: paths the output must not be; ``display``:
        written as a disp chunk right after the headers unless it says nothing (§5.7)."""
        version = file_version(header, layers)
        writer_version = version if writer_version is None else writer_version
        min_reader_version = version if min_reader_version is None else min_reader_version
        if not 1 <= min_reader_version <= writer_version <= spec.MAX_VERSION:
            raise InrFormatError(
                f"versions must satisfy 1 <= min_reader_version ({min_reader_version}) <= "
                f"writer_version ({writer_version}) <= {spec.MAX_VERSION}"
            )
        self.header = header
        self.layers = layers
        self.n_layers = 1 if layers is None else layers.n_layers
        self._order = GopOrder(header, n_layers=self.n_layers)
        self._records: list[IndexRecord] = []
        self._offset = 0
        self._closed = False
        if isinstance(target, (str, os.PathLike)):
            self._out: OutputFile = open_output(
                target, overwrite=overwrite, inputs=inputs, allow_stdout=False,
                partial_suffix=PARTIAL_SUFFIX if resumable else None)
        else:
            self._out = wrap_stream(target, "output")
        w = ByteWriter()
        w.bytes(spec.MAGIC)
        w.u16(writer_version, "writer_version")
        w.u16(min_reader_version, "min_reader_version")
        self._write(w.getvalue())
        w = ByteWriter()
        write_header(w, header)
        self._emit(spec.ChunkType.SHDR.code, w.getvalue())
        if layers is not None:
            w = ByteWriter()
            write_layer_header(w, layers)
            self._emit(spec.ChunkType.LHDR.code, w.getvalue())
        if display is not None and not display.is_default:
            w = ByteWriter()
            write_display(w, display)
            self._emit(spec.DISP, w.getvalue())

    @classmethod
    def resume(cls, target: str | os.PathLike[str], header: SequenceHeader,
               records: Iterable[IndexRecord], offset: int, layers: LayerHeader | None = None, *,
               overwrite: bool = False, inputs: Iterable = ()) -> ContainerWriter:
        """Continue the resumable write of ``target`` from its partial file's first ``offset`` bytes.

        ``records`` are the index records of the payload chunks in those bytes, whole GOMs only;
        the caller has checked them (the encoder re-reads the prefix in salvage mode). Whatever
        follows ``offset`` (a GOM cut short) is cut off.
        """
        self = cls.__new__(cls)
        self.header = header
        self.layers = layers
        self.n_layers = 1 if layers is None else layers.n_layers
        self._records = list(records)
        next_gop = 1 + max((r.gop_index for r in self._records), default=-1)
        self._order = GopOrder(header, first_gop=next_gop, n_layers=self.n_layers)
        self._offset = offset
        self._out = open_output(target, overwrite=overwrite, inputs=inputs, allow_stdout=False,
                                partial_suffix=PARTIAL_SUFFIX, resume_offset=offset)
        self._closed = False
        if not self._out.is_resumable:
            self.abort()
            raise InrInputError(f"cannot resume: {os.fspath(target)} is not a file")
        return self

    @property
    def records(self) -> tuple[IndexRecord, ...]:
        """Index records of the payload chunks written so far."""
        return tuple(self._records)

    @property
    def is_resumable(self) -> bool:
        """Whether an abort can keep the bytes for ``resume`` (a file target of a resumable writer)."""
        return self._out.is_resumable

    def sync(self) -> None:
        """Flush, and fsync a file, what has been written (a resumable encode's GOM boundary)."""
        try:
            self._out.sync()
        except BaseException:
            self.abort()
            raise

    @property
    def size_bytes(self) -> int:
        """Bytes written so far."""
        return self._offset

    def _write(self, data: bytes) -> None:
        try:
            self._out.write(data)
        except BaseException:
            self.abort()
            raise
        self._offset += len(data)

    def _emit(self, code: bytes, payload: bytes) -> int:
        if self._closed:
            raise InrFormatError("ContainerWriter is closed")
        w = ByteWriter()
        write_chunk(w, code, payload)
        offset = self._offset
        self._write(w.getvalue())
        return offset

    def write_model(self, chunk: ModelChunk) -> int:
        """Append a MODL chunk; returns its file offset."""
        where = f"write_model(GOP {chunk.gop_index})"
        check_model(chunk, self.header, where, self.n_layers)
        self._order.model(chunk.gop_index, where, chunk.layer)
        w = ByteWriter()
        write_model(w, chunk)
        offset = self._emit(spec.ChunkType.MODL.code, w.getvalue())
        self._records.append(IndexRecord(spec.IndexCode.MODL, chunk.gop_index, offset))
        return offset

    def write_blob(self, chunk: BlobChunk) -> int:
        """Append a BLOB chunk; returns its file offset."""
        where = f"write_blob(GOP {chunk.gop_index})"
        check_blob(chunk, self.header, where)
        self._order.blob(chunk.gop_index, where)
        w = ByteWriter()
        write_blob(w, chunk)
        offset = self._emit(spec.ChunkType.BLOB.code, w.getvalue())
        self._records.append(IndexRecord(spec.IndexCode.BLOB, chunk.gop_index, offset))
        return offset

    def write_ancillary(self, type4: str | bytes, payload: bytes) -> int:
        """Append an ancillary chunk (4 ASCII letters, first lowercase); returns its offset."""
        code = type4.encode("ascii", "replace") if isinstance(type4, str) else bytes(type4)
        chunk = AncillaryChunk(code, payload)
        return self._emit(chunk.code, chunk.payload)

    def close(self) -> int:
        """Write GIDX and IEND, then commit the output (sync and rename a file); returns the file size."""
        if self._closed:
            return self._offset
        try:
            self._order.expect_through(self.header.n_gops - 1, "ContainerWriter.close")
        except InrFormatError:
            self.abort()
            raise
        w = ByteWriter()
        write_index(w, IndexChunk(tuple(self._records)))
        index_offset = self._emit(spec.ChunkType.GIDX.code, w.getvalue())
        w = ByteWriter()
        write_trailer(w, Trailer(index_offset))
        self._emit(spec.ChunkType.IEND.code, w.getvalue())
        self._closed = True
        self._out.close()
        return self._offset

    def abort(self, keep_partial: bool = False) -> None:
        """Stop writing; a file target is left untouched and the temporary file removed
        (kept, with ``keep_partial``, for a later ``resume``)."""
        if self._closed:
            return
        self._closed = True
        self._out.abort(keep_partial)

    def __enter__(self) -> ContainerWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def partial_path(path: str | os.PathLike[str]) -> str:
    """Where a resumable write of ``path`` keeps its bytes until it is renamed into place."""
    return beside(path, PARTIAL_SUFFIX)


def serialize(
    header: SequenceHeader,
    chunks: Iterable[ModelChunk | BlobChunk | AncillaryChunk],
    *,
    layers: LayerHeader | None = None,
    display: DisplayInfo | None = None,
    writer_version: int | None = None,
    min_reader_version: int | None = None,
) -> bytes:
    """A whole .inr file as bytes, chunks written in the order given."""
    out = io.BytesIO()
    writer = ContainerWriter(
        out, header, layers=layers, display=display, writer_version=writer_version,
        min_reader_version=min_reader_version,
    )
    for chunk in chunks:
        if isinstance(chunk, ModelChunk):
            writer.write_model(chunk)
        elif isinstance(chunk, BlobChunk):
            writer.write_blob(chunk)
        elif isinstance(chunk, AncillaryChunk):
            writer.write_ancillary(chunk.code, chunk.payload)
        else:
            raise InrFormatError(f"serialize: cannot write a {type(chunk).__name__}")
    writer.close()
    return out.getvalue()
