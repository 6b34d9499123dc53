"""Property tests of the .inr container: round trips, and damage that must never crash a reader.

Every damaged input (truncation, single bit flip, random bytes) must raise an InrError subclass,
never anything else; damage inside a chunk must be detected; salvage must return only GOMs equal
to the original ones.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrcodec.container import spec
from inrcodec.container.bitio import ByteReader, ByteWriter
from inrcodec.container.chunks import (
    AncillaryChunk,
    BlobChunk,
    ModelChunk,
    SequenceHeader,
    read_header,
    write_header,
)
from inrcodec.container.reader import ContainerReader
from inrcodec.container.writer import serialize
from inrcodec.errors import InrError, InrFormatError, InrTruncatedError

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 255)


@st.composite
def headers(draw, max_frames: int = spec.MAX_FRAMES, max_gop: int = spec.MAX_FRAMES):
    n_frames = draw(st.integers(1, max_frames))
    return SequenceHeader(
        width=draw(st.integers(1, spec.MAX_DIMENSION)),
        height=draw(st.integers(1, spec.MAX_DIMENSION)),
        n_frames=n_frames,
        fps_num=draw(st.integers(1, 2**32 - 1)),
        fps_den=draw(st.integers(1, 2**32 - 1)),
        chroma_format=draw(st.sampled_from(list(spec.ChromaFormat))),
        bit_depth=draw(st.sampled_from(spec.ALLOWED_BIT_DEPTHS)),
        color_range=draw(st.sampled_from(list(spec.ColorRange))),
        color_primaries=draw(u8),
        transfer=draw(u8),
        matrix=draw(u8),
        chroma_siting=draw(st.sampled_from(list(spec.ChromaSiting))),
        gop_size=draw(st.integers(1, max_gop)),
        gom_size=draw(st.integers(1, 4 if max_gop < spec.MAX_FRAMES else 65535)),
        arch_id=draw(u8),
        arch_params=tuple(draw(st.lists(st.integers(0, 2**64 - 1), max_size=spec.MAX_ARCH_PARAMS))),
        coder_id=draw(u8),
        seed=draw(st.integers(0, 2**64 - 1)),
    )


@st.composite
def streams(draw, max_frames: int = 12, max_body: int = 24):
    """A small valid header and payload chunks in a valid order, ancillary chunks sprinkled in."""
    header = draw(headers(max_frames=max_frames, max_gop=4))
    out: list[ModelChunk | BlobChunk | AncillaryChunk] = []
    for g in range(header.n_gops):
        kind = spec.ModelKind.I if g % header.gom_size == 0 else spec.ModelKind.P
        out.append(ModelChunk(g, kind, draw(st.binary(max_size=max_body))))
        for _ in range(draw(st.integers(0, 2))):
            tag = draw(st.integers(0, 2**64 - 1))
            raw_size = draw(st.integers(0, spec.MAX_BLOB_RAW_BYTES))
            out.append(BlobChunk(g, tag, draw(u8), raw_size, draw(st.binary(max_size=max_body))))
        if draw(st.booleans()):
            out.append(AncillaryChunk(b"teXt", draw(st.binary(max_size=8))))
    # a 10- or 12-bit file obeys version 3 at the least (spec/bitstream.md §3.2)
    versions = draw(st.sampled_from([(3, 3), (65535, 3)] if header.bit_depth > 8 else [(1, 1), (2, 1), (65535, 1)]))
    return header, out, versions


def payload_chunks(chunks):
    return [c for c in chunks if not isinstance(c, AncillaryChunk)]


def read_everything(data: bytes, salvage: bool = False) -> tuple[ContainerReader, list]:
    """Open, list every chunk and read every GOM, so every lazily checked byte gets checked."""
    r = ContainerReader(data, salvage=salvage)
    r.chunks()
    goms = [r.read_gom(m) for m in range(r.n_complete_goms)]
    for entry in r.entries:
        if entry.kind == "MODL":
            r.read_gop(entry.gop_index)
    return r, goms


def original_goms(header: SequenceHeader, chunks) -> list[list]:
    goms: list[list] = [[] for _ in range(header.n_goms)]
    for c in payload_chunks(chunks):
        goms[header.gom_of_gop(c.gop_index)].append(c)
    return goms


@SETTINGS
@given(headers())
def test_header_round_trip(header):
    w = ByteWriter()
    write_header(w, header)
    assert read_header(ByteReader(w.getvalue())) == header


@SETTINGS
@given(streams(max_frames=40))
def test_write_read_identity(stream):
    header, chunks, (writer_version, min_reader_version) = stream
    data = serialize(
        header, chunks, writer_version=writer_version, min_reader_version=min_reader_version
    )
    r, goms = read_everything(data)
    assert r.header == header
    assert (r.writer_version, r.min_reader_version) == (writer_version, min_reader_version)
    assert goms == original_goms(header, chunks)
    assert [e.kind for e in r.entries] == [
        "MODL" if isinstance(c, ModelChunk) else "BLOB" for c in payload_chunks(chunks)
    ]
    coded = sum(
        len(c.body) if isinstance(c, ModelChunk) else len(c.data) for c in payload_chunks(chunks)
    )
    assert r.overhead_bytes() == len(data) - coded
    salvaged, salvaged_goms = read_everything(data, salvage=True)
    assert salvaged_goms == goms and salvaged.salvage_note is None


@pytest.mark.slow
@SETTINGS
@given(streams(max_frames=8, max_body=12))
def test_every_truncation_is_detected_and_salvage_returns_only_originals(stream):
    header, chunks, _ = stream
    data = serialize(header, chunks)
    want = original_goms(header, chunks)
    for cut in range(len(data)):
        try:
            ContainerReader(data[:cut])
        except InrTruncatedError:
            pass
        else:
            raise AssertionError(f"truncation to {cut} of {len(data)} bytes not detected")
        try:
            _, goms = read_everything(data[:cut], salvage=True)
        except InrError:
            continue
        assert goms == want[: len(goms)]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(max_frames=4, max_body=6))
def test_every_bit_flip_inside_a_chunk_is_detected(stream):
    header, chunks, _ = stream
    data = serialize(header, chunks)
    want = original_goms(header, chunks)
    for pos in range(len(data)):
        for bit in range(8):
            damaged = bytearray(data)
            damaged[pos] ^= 1 << bit
            damaged = bytes(damaged)
            try:
                read_everything(damaged)
            except InrFormatError:
                pass
            except InrError:
                # Only the version fields, outside any chunk, can turn damage into "unsupported".
                assert pos < spec.PREAMBLE_BYTES, (pos, bit)
            else:
                # writer_version is informational and outside every CRC (spec §10).
                assert 8 <= pos < 10, f"flip of bit {bit} at offset {pos} went unnoticed"
            try:
                _, goms = read_everything(damaged, salvage=True)
            except InrError:
                continue
            assert goms == want[: len(goms)]


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_inr_errors(data):
    for candidate in (data, spec.MAGIC + data, spec.MAGIC + b"\x00\x01\x00\x01" + data):
        for salvage in (False, True):
            try:
                read_everything(candidate, salvage=salvage)
            except InrError:
                pass


@SETTINGS
@given(streams(max_frames=6, max_body=8), st.data())
def test_random_overwrites_raise_only_inr_errors(stream, data):
    header, chunks, _ = stream
    damaged = bytearray(serialize(header, chunks))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(damaged) - 1))
        damaged[pos] = data.draw(u8)
    for salvage in (False, True):
        try:
            read_everything(bytes(damaged), salvage=salvage)
        except InrError:
            pass
