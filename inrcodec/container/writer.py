"""Writes .inr files so that a reader never sees a half-written one under the target name.

A path target is written to a temporary file in the same directory, synced, then renamed over
the target in one step; any failure removes the temporary file. The writer applies the same
chunk and GOP-order checks as the reader, so it cannot produce a file the reader refuses.

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
    write_header,
    write_index,
    write_layer_header,
    write_model,
    write_trailer,
)
from ..errors import InrFormatError, InrIOError


def _io_error(path: str, err: OSError) -> InrIOError:
    return InrIOError(f"cannot write {path}: {err.strerror or err}")


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
        writer_version: int | None = None,
        min_reader_version: int | None = None,
        resumable: bool = False,
    ) -> None:
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
        self._path: str | None = None
        self._tmp: str | None = None
        if isinstance(target, (str, os.PathLike)):
            self._path = os.fspath(target)
            self._tmp = partial_path(self._path) if resumable else _temp_path(self._path)
            try:
                self._fh: BinaryIO = open(self._tmp, "wb")
            except OSError as err:
                self._closed = True
                raise _io_error(self._path, err) from err
        else:
            self._fh = target
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

    @classmethod
    def resume(cls, target: str | os.PathLike[str], header: SequenceHeader,
               records: Iterable[IndexRecord], offset: int, layers: LayerHeader | None = None) -> ContainerWriter:
        """Continue the resumable write of ``target`` from its partial file's first ``offset`` bytes.

        ``records`` are the index records of the payload chunks in those bytes, whole GOMs only;
        the caller has checked them (the encoder re-reads the prefix in salvage mode). Whatever
        follows ``offset`` (a GOM cut short) is cut off.
        """
        self = cls.__new__(cls)
        self.header = header
        self.layers = layers
        self.n_layers = 1 if layers is None else layers.n_layers
        self._path = os.fspath(target)
        self._tmp = partial_path(self._path)
        self._records = list(records)
        next_gop = 1 + max((r.gop_index for r in self._records), default=-1)
        self._order = GopOrder(header, first_gop=next_gop, n_layers=self.n_layers)
        self._offset = offset
        self._closed = False
        try:
            self._fh = open(self._tmp, "r+b")
            self._fh.truncate(offset)
            self._fh.seek(offset)
        except OSError as err:
            self._closed = True
            raise _io_error(self._path, err) from err
        return self

    @property
    def records(self) -> tuple[IndexRecord, ...]:
        """Index records of the payload chunks written so far."""
        return tuple(self._records)

    def sync(self) -> None:
        """Flush and fsync what has been written (a resumable encode's GOM boundary)."""
        try:
            self._fh.flush()
            if self._tmp is not None:
                os.fsync(self._fh.fileno())
        except OSError as err:
            self.abort()
            raise _io_error(self._path or "output", err) from err

    @property
    def size_bytes(self) -> int:
        """Bytes written so far."""
        return self._offset

    def _write(self, data: bytes) -> None:
        try:
            self._fh.write(data)
        except OSError as err:
            self.abort()
            raise _io_error(self._path or "output", err) from err
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
        """Write GIDX and IEND, then sync and rename a path target; returns the file size."""
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
        if self._path is None:
            self._closed = True
            try:
                self._fh.flush()
            except OSError as err:
                raise _io_error("output", err) from err
            return self._offset
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self._tmp, self._path)
        except OSError as err:
            self.abort()
            raise _io_error(self._path, err) from err
        self._closed = True
        self._sync_folder()
        return self._offset

    def _sync_folder(self) -> None:
        # The rename is durable only once the directory entry is on disk (POSIX only).
        if os.name != "posix":
            return
        fd = os.open(os.path.dirname(os.path.abspath(self._path)), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def abort(self, keep_partial: bool = False) -> None:
        """Stop writing; a path target is left untouched and the temporary file removed
        (kept, with ``keep_partial``, for a later ``resume``)."""
        if self._closed:
            return
        self._closed = True
        if self._tmp is None:
            return
        try:
            self._fh.close()
        except OSError:
            pass  # the file is being discarded; a failed flush of it changes nothing
        if keep_partial:
            return
        try:
            os.remove(self._tmp)
        except FileNotFoundError:
            pass

    def __enter__(self) -> ContainerWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _temp_path(path: str) -> str:
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.tmp-{os.getpid()}")


def partial_path(path: str | os.PathLike[str]) -> str:
    """Where a resumable write of ``path`` keeps its bytes until it is renamed into place."""
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    return os.path.join(folder, f".{name}.part")


def serialize(
    header: SequenceHeader,
    chunks: Iterable[ModelChunk | BlobChunk | AncillaryChunk],
    *,
    layers: LayerHeader | None = None,
    writer_version: int | None = None,
    min_reader_version: int | None = None,
) -> bytes:
    """A whole .inr file as bytes, chunks written in the order given."""
    out = io.BytesIO()
    writer = ContainerWriter(
        out, header, layers=layers, writer_version=writer_version, min_reader_version=min_reader_version
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
