"""Unit tests of inrcodec.container: one test per malformation, built byte by byte here.

The builder frames chunks with its own LEB128 and zlib.crc32 calls rather than the module's,
so a framing bug in the package cannot cancel out against the same bug in the test.
"""

from __future__ import annotations

import doctest
import errno
import io
import os
import re
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from inrcodec.container import bitio, chunks, reader, spec
from inrcodec.container.bitio import ByteReader, ByteWriter
from inrcodec.container.chunks import (
    AncillaryChunk,
    BlobChunk,
    ModelChunk,
    SequenceHeader,
    header_fields,
    read_header,
    write_header,
)
from inrcodec.container.reader import ContainerReader
from inrcodec.container.spec import ModelKind
from inrcodec.container.writer import ContainerWriter, serialize
from inrcodec.errors import (
    InrChecksumError,
    InrError,
    InrFormatError,
    InrInputError,
    InrIOError,
    InrTruncatedError,
    InrUnsupportedError,
)

REPO = Path(__file__).resolve().parents[2]


# -- builder ------------------------------------------------------------------------------------


def leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def make_chunk(
    code: bytes, payload: bytes, *, length: bytes | None = None, crc: int | None = None
) -> bytes:
    """Frame a chunk; ``length``/``crc`` override the correct values to build malformations."""
    length = leb128(len(payload)) if length is None else length
    if crc is None:
        crc = zlib.crc32(code + length + payload)
    return code + length + payload + crc.to_bytes(4, "big")


def preamble(writer_version: int = 1, min_reader_version: int = 1) -> bytes:
    versions = writer_version.to_bytes(2, "big") + min_reader_version.to_bytes(2, "big")
    return b"\x89INR\r\n\x1a\n" + versions


def make_header(**overrides) -> SequenceHeader:
    fields = dict(
        width=64, height=48, n_frames=12, fps_num=30000, fps_den=1001, chroma_format=0, bit_depth=8,
        color_range=1, color_primaries=1, transfer=1, matrix=1, chroma_siting=1, gop_size=2,
        gom_size=2, arch_id=3, arch_params=(16, 300, 2**40), coder_id=1, seed=1234567890123,
    )
    fields.update(overrides)
    return SequenceHeader(**fields)


def header_payload(header: SequenceHeader, **patch: int) -> bytes:
    """SHDR payload bytes with fixed-width fields overwritten by raw values (may be invalid)."""
    w = ByteWriter()
    write_header(w, header)
    data = bytearray(w.getvalue())
    layout = {name: (offset, width) for name, offset, width, _ in header_fields(header)}
    for name, value in patch.items():
        offset, width = layout[name]
        data[offset : offset + width] = value.to_bytes(width, "big")
    return bytes(data)


def model_payload(gop: int, kind: int, body: bytes, layer: int = 0) -> bytes:
    return leb128(gop) + bytes([kind, layer]) + body


def blob_payload(
    gop: int, tag: int = 1, method: int = 1, raw_size: int = 9, data: bytes = b"zz"
) -> bytes:
    return leb128(gop) + leb128(tag) + bytes([method]) + leb128(raw_size) + data


def assemble(header: SequenceHeader, body_chunks: list[tuple[str, int, bytes]], *,
             shdr: bytes | None = None, index: bytes | None = None, index_offset: int | None = None,
             pre: bytes | None = None) -> bytes:
    """A file from (kind, gop, chunk bytes) triples; only kinds MODL and BLOB are indexed."""
    out = bytearray(pre if pre is not None else preamble())
    out += shdr if shdr is not None else make_chunk(b"SHDR", header_payload(header))
    entries = []
    for kind, gop, data in body_chunks:
        if kind in ("MODL", "BLOB"):
            entries.append((0 if kind == "MODL" else 1, gop, len(out)))
        out += data
    if index is None:
        index = leb128(len(entries))
        previous = 0
        for code, gop, offset in entries:
            index += bytes([code]) + leb128(gop) + leb128(offset - previous)
            previous = offset
    at = len(out)
    out += make_chunk(b"GIDX", index)
    out += make_chunk(b"IEND", (at if index_offset is None else index_offset).to_bytes(8, "big"))
    return bytes(out)


def gop_chunks(header: SequenceHeader) -> list[tuple[str, int, bytes]]:
    """A valid run of payload chunks: per GOP a MODL and a BLOB."""
    out = []
    for g in range(header.n_gops):
        kind = 0 if g % header.gom_size == 0 else 1
        out.append(("MODL", g, make_chunk(b"MODL", model_payload(g, kind, bytes([g]) * 6))))
        out.append(("BLOB", g, make_chunk(b"BLOB", blob_payload(g, data=bytes([g, 7])))))
    return out


def sample_chunks(header: SequenceHeader) -> list[ModelChunk | BlobChunk]:
    out: list[ModelChunk | BlobChunk] = []
    for g in range(header.n_gops):
        kind = ModelKind.I if g % header.gom_size == 0 else ModelKind.P
        out.append(ModelChunk(g, kind, bytes([g]) * 6))
        out.append(BlobChunk(g, 1, 1, 9, bytes([g, 7])))
    return out


def open_all(data: bytes, salvage: bool = False) -> ContainerReader:
    """Open and read everything, so lazily checked chunks are checked too."""
    r = ContainerReader(data, salvage=salvage)
    r.chunks()
    for m in range(r.n_complete_goms):
        r.read_gom(m)
    return r


HEADER = make_header()  # 12 frames, GOP 2, GOM 2 -> 6 GOPs, 3 GOMs


# -- bitio --------------------------------------------------------------------------------------


class TestByteReader:
    @pytest.mark.parametrize(
        "value, encoded",
        [
            (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"),
            (2**64 - 1, "ff" * 9 + "01"),
        ],
    )
    def test_uvarint_round_trip(self, value, encoded):
        assert bitio.uvarint_bytes(value) == bytes.fromhex(encoded)
        r = ByteReader(bytes.fromhex(encoded))
        assert r.uvarint("v") == value
        r.expect_end("v")

    @pytest.mark.parametrize("encoded", ["8000", "ff00", "808000"])
    def test_uvarint_rejects_overlong(self, encoded):
        with pytest.raises(InrFormatError, match="over-long"):
            ByteReader(bytes.fromhex(encoded)).uvarint("v")

    def test_uvarint_rejects_over_64_bits(self):
        with pytest.raises(InrFormatError, match="64 bits"):
            ByteReader(bytes.fromhex("ff" * 9 + "02")).uvarint("v")
        with pytest.raises(InrFormatError, match="longer than 10"):
            ByteReader(bytes.fromhex("ff" * 10 + "01")).uvarint("v")

    def test_uvarint_rejects_cut(self):
        with pytest.raises(InrTruncatedError):
            ByteReader(b"\x80\x80").uvarint("v")

    def test_read_past_end_names_field_and_offset(self):
        r = ByteReader(b"\x00\x01", base=100)
        r.u8("first")
        with pytest.raises(InrTruncatedError, match="width at offset 101: needs 4 bytes, only 1"):
            r.u32("width")

    def test_sub_reader_keeps_absolute_offsets(self):
        r = ByteReader(b"abcdef", base=10)
        r.u8("a")
        sub = r.sub(3, "part")
        assert (sub.pos, sub.remaining, r.pos) == (11, 3, 14)
        assert sub.bytes(3, "x") == b"bcd"
        with pytest.raises(InrTruncatedError):
            sub.u8("beyond")
        with pytest.raises(InrFormatError, match="2 unexpected trailing bytes at offset 14"):
            r.expect_end("chunk")

    def test_writer_rejects_out_of_range(self):
        w = ByteWriter()
        with pytest.raises(InrFormatError):
            w.u16(65536, "width")
        with pytest.raises(InrFormatError):
            w.uvarint(-1, "n")
        w.u16(0x1234, "x")
        w.u64(1, "y")
        assert w.getvalue() == bytes.fromhex("1234 0000000000000001")


# -- SHDR ---------------------------------------------------------------------------------------


class TestSequenceHeader:
    def test_gop_gom_arithmetic(self):
        h = make_header(n_frames=10, gop_size=3, gom_size=2)
        assert (h.n_gops, h.n_goms) == (4, 2)
        assert h.gop_range(3) == (9, 1)
        assert h.gop_range(0) == (0, 3)
        assert h.gops_of_gom(1) == range(2, 4)
        assert h.gom_of_gop(3) == 1
        assert h.gom_of_frame(9) == 1 and h.gom_of_frame(5) == 0
        assert make_header(n_frames=5, gop_size=8).n_gops == 1

    def test_arithmetic_rejects_outside(self):
        h = make_header(n_frames=10, gop_size=3, gom_size=2)
        with pytest.raises(InrInputError):
            h.gop_range(4)
        with pytest.raises(InrInputError):
            h.gom_of_frame(10)
        with pytest.raises(InrInputError):
            h.gops_of_gom(-1)

    def test_round_trip(self):
        w = ByteWriter()
        write_header(w, HEADER)
        assert read_header(ByteReader(w.getvalue())) == HEADER

    def test_header_fields_offsets_match_bytes(self):
        payload = header_payload(HEADER)
        fields = header_fields(HEADER)
        for name, offset, width, value in fields:
            if width == "varint":
                assert ByteReader(payload[offset:]).uvarint(name) == value
            else:
                assert int.from_bytes(payload[offset : offset + width], "big") == value, name
        names = [f[0] for f in fields]
        assert names[:2] == ["width", "height"] and names[-2:] == ["coder_id", "seed"]
        assert "arch_params[2]" in names and fields[-1][1] + 8 == len(payload)

    @pytest.mark.parametrize(
        "field, value, error",
        [
            ("width", 0, InrFormatError),
            ("height", 16385, InrFormatError),
            ("n_frames", 0, InrFormatError),
            ("fps_den", 0, InrFormatError),
            ("chroma_format", 7, InrUnsupportedError),
            ("bit_depth", 9, InrUnsupportedError),
            ("bit_depth", 16, InrUnsupportedError),
            ("color_range", 3, InrFormatError),
            ("chroma_siting", 4, InrFormatError),
            ("gop_size", 0, InrFormatError),
            ("gom_size", 0, InrFormatError),
        ],
    )
    def test_read_rejects_field_out_of_range(self, field, value, error):
        shdr = make_chunk(b"SHDR", header_payload(HEADER, **{field: value}))
        data = assemble(HEADER, gop_chunks(HEADER), shdr=shdr)
        with pytest.raises(error, match=field):
            ContainerReader(data)
        with pytest.raises(error):
            replace(HEADER, **{field: value})

    def test_h273_code_points_pass_through(self):
        h = make_header(color_primaries=255, transfer=0, matrix=spec.H273_UNSPECIFIED)
        data = serialize(h, sample_chunks(h))
        assert ContainerReader(data).header == h

    def test_read_rejects_too_many_arch_params(self):
        payload = bytearray(header_payload(make_header(arch_params=())))
        fields = header_fields(make_header(arch_params=()))
        at = next(offset for name, offset, _, _ in fields if name == "n_arch_params")
        payload[at : at + 1] = leb128(65) + b"\x00" * 65
        with pytest.raises(InrFormatError, match="n_arch_params"):
            shdr = make_chunk(b"SHDR", bytes(payload))
            ContainerReader(assemble(HEADER, gop_chunks(HEADER), shdr=shdr))

    def test_read_rejects_trailing_bytes(self):
        shdr = make_chunk(b"SHDR", header_payload(HEADER) + b"\x00")
        with pytest.raises(InrFormatError, match="trailing"):
            ContainerReader(assemble(HEADER, gop_chunks(HEADER), shdr=shdr))


# -- opening: preamble, framing, trailer, index ------------------------------------------------


class TestOpen:
    def test_valid_file_reads(self):
        data = assemble(HEADER, gop_chunks(HEADER))
        with ContainerReader(data) as r:
            assert r.header == HEADER
            assert (r.writer_version, r.min_reader_version, r.file_size) == (1, 1, len(data))
            assert r.n_complete_goms == 3 and r.salvage_note is None
            assert [m.gop_index for m in r.read_gop(3) if isinstance(m, ModelChunk)] == [3]
            assert r.read_gom(1) == sample_chunks(HEADER)[4:8]

    def test_builder_matches_writer(self):
        assert assemble(HEADER, gop_chunks(HEADER)) == serialize(HEADER, sample_chunks(HEADER))

    def test_rejects_bad_magic(self):
        data = bytearray(assemble(HEADER, gop_chunks(HEADER)))
        data[1] = ord("P")
        with pytest.raises(InrFormatError, match="signature"):
            ContainerReader(bytes(data))

    def test_rejects_short_file(self):
        with pytest.raises(InrTruncatedError):
            ContainerReader(preamble()[:10])

    def test_rejects_newer_min_reader_version(self):
        data = assemble(HEADER, gop_chunks(HEADER), pre=preamble(4, 4))
        with pytest.raises(InrUnsupportedError, match="reader version 4"):
            ContainerReader(data)

    @pytest.mark.parametrize("depth", [10, 12])
    def test_high_bit_depth_files_are_version_3(self, depth):
        h = replace(HEADER, bit_depth=depth)
        data = serialize(h, sample_chunks(h))
        with ContainerReader(data) as r:
            assert (r.writer_version, r.min_reader_version) == (3, 3)
            assert r.header.bit_depth == depth
        # an 8-bit file of one layer stays a version-1 file
        assert serialize(HEADER, sample_chunks(HEADER))[8:12] == bytes([0, 1, 0, 1])

    def test_high_bit_depth_needs_min_reader_version_3(self):
        h = replace(HEADER, bit_depth=10)
        data = bytearray(serialize(h, sample_chunks(h)))
        data[8:12] = bytes([0, 3, 0, 2])  # a writer claiming version-2 rules for a 10-bit file
        with pytest.raises(InrFormatError, match="bit depths above 8 need 3"):
            ContainerReader(bytes(data))

    def test_accepts_newer_writer_version(self):
        data = assemble(HEADER, gop_chunks(HEADER), pre=preamble(7, 1))
        assert ContainerReader(data).writer_version == 7

    @pytest.mark.parametrize("writer_version, min_reader_version", [(1, 0), (1, 2)])
    def test_rejects_inconsistent_versions(self, writer_version, min_reader_version):
        pre = preamble(writer_version, min_reader_version)
        data = assemble(HEADER, gop_chunks(HEADER), pre=pre)
        with pytest.raises(InrFormatError):
            ContainerReader(data)
        with pytest.raises(InrFormatError):
            ContainerWriter(
                io.BytesIO(), HEADER,
                writer_version=writer_version, min_reader_version=min_reader_version,
            )

    def test_rejects_first_chunk_not_shdr(self):
        shdr = make_chunk(b"SHDX", header_payload(HEADER))
        with pytest.raises(InrFormatError, match="must be SHDR"):
            ContainerReader(assemble(HEADER, gop_chunks(HEADER), shdr=shdr))

    def test_rejects_length_past_eof(self):
        shdr = make_chunk(b"SHDR", header_payload(HEADER), length=leb128(5000))
        with pytest.raises(InrTruncatedError, match="SHDR at offset 12"):
            ContainerReader(preamble() + shdr)

    def test_rejects_length_over_limit(self):
        shdr = make_chunk(b"SHDR", header_payload(HEADER), length=leb128(2**30 + 1))
        with pytest.raises(InrFormatError, match="exceeds the limit"):
            ContainerReader(preamble() + shdr)

    def test_rejects_overlong_length_varint(self):
        payload = header_payload(HEADER)
        shdr = make_chunk(b"SHDR", payload, length=bytes([0x80 | len(payload), 0x00]))
        with pytest.raises(InrFormatError, match="over-long"):
            ContainerReader(assemble(HEADER, gop_chunks(HEADER), shdr=shdr))

    def test_rejects_crc_mismatch(self):
        shdr = make_chunk(b"SHDR", header_payload(HEADER), crc=0)
        with pytest.raises(InrChecksumError, match="SHDR at offset 12"):
            ContainerReader(assemble(HEADER, gop_chunks(HEADER), shdr=shdr))

    def test_rejects_non_letter_type(self):
        body = gop_chunks(HEADER)
        body.insert(2, ("x", 0, make_chunk(b"a1b2", b"")))
        with pytest.raises(InrFormatError, match="4 ASCII letters"):
            ContainerReader(assemble(HEADER, body)).read_gom(0)

    def test_rejects_trailer_missing_and_salvage_recovers(self):
        data = assemble(HEADER, gop_chunks(HEADER))
        cut_in_gom2 = data.index(make_chunk(b"MODL", model_payload(4, 0, bytes([4]) * 6))) + 5
        with pytest.raises(InrTruncatedError, match="--salvage"):
            ContainerReader(data[:cut_in_gom2])
        r = ContainerReader(data[:cut_in_gom2], salvage=True)
        assert r.n_complete_goms == 2
        assert r.read_gom(0) + r.read_gom(1) == sample_chunks(HEADER)[:8]
        assert "stopped at offset" in r.salvage_note and "2 of 3 GOMs" in r.salvage_note
        with pytest.raises(InrTruncatedError, match="GOM 2 was not recovered"):
            r.read_gom(2)

    def test_salvage_keeps_all_goms_when_only_trailer_is_cut(self):
        data = assemble(HEADER, gop_chunks(HEADER))
        r = ContainerReader(data[:-5], salvage=True)
        assert r.n_complete_goms == 3
        assert [c for m in range(3) for c in r.read_gom(m)] == sample_chunks(HEADER)

    def test_salvage_names_the_missing_goms_when_the_index_comes_early(self):
        # a whole file of 2 GOMs whose SHDR promises 3: the index follows GOM 1, nothing is damaged
        short = make_header(n_frames=8)
        data = assemble(make_header(), gop_chunks(short))
        r = ContainerReader(data, salvage=True)
        assert r.n_complete_goms == 2
        assert r.salvage_note is not None
        assert "follows GOM 1" in r.salvage_note and "promises 3 GOMs" in r.salvage_note
        assert "recovered 2 of 3 GOMs" in r.salvage_note
        with pytest.raises(InrTruncatedError, match="GOM 2 was not recovered: the index at offset"):
            r.read_gom(2)

    def test_model_chunks_know_where_their_body_is(self):
        data = assemble(HEADER, gop_chunks(HEADER))
        for chunk in ContainerReader(data).read_gom(1):
            if isinstance(chunk, ModelChunk):
                assert chunk.body_offset > 0
                assert data[chunk.body_offset:chunk.body_offset + len(chunk.body)] == chunk.body

    def test_salvage_stops_at_damaged_chunk(self):
        data = bytearray(assemble(HEADER, gop_chunks(HEADER)))
        data[data.index(bytes([2]) * 6)] ^= 0x01  # body of GOP 2, first GOP of GOM 1
        with pytest.raises(InrChecksumError, match="MODL at offset"):
            ContainerReader(bytes(data)).read_gom(1)
        r = ContainerReader(bytes(data), salvage=True)
        assert r.n_complete_goms == 1 and "CRC mismatch" in r.salvage_note

    def test_rejects_bytes_after_iend(self):
        data = assemble(HEADER, gop_chunks(HEADER)) + b"\x00" * 3
        with pytest.raises(InrFormatError, match="3 bytes after the IEND chunk"):
            ContainerReader(data)

    @pytest.mark.parametrize("index_offset", [0, 11, 40, 10**6])
    def test_rejects_iend_pointing_outside(self, index_offset):
        data = assemble(HEADER, gop_chunks(HEADER), index_offset=index_offset)
        with pytest.raises(InrFormatError):
            ContainerReader(data)

    def test_rejects_iend_pointing_at_other_chunk(self):
        first_modl = len(preamble()) + len(make_chunk(b"SHDR", header_payload(HEADER)))
        data = assemble(HEADER, gop_chunks(HEADER), index_offset=first_modl)
        with pytest.raises(InrFormatError, match="not GIDX"):
            ContainerReader(data)

    def test_rejects_gap_between_gidx_and_iend(self):
        body = gop_chunks(HEADER)
        data = assemble(HEADER, body)
        gidx_at = int.from_bytes(data[-12:-4], "big")
        # An ancillary chunk slipped in between GIDX and IEND.
        extra = make_chunk(b"teXt", b"hi")
        iend = make_chunk(b"IEND", gidx_at.to_bytes(8, "big"))
        bad = data[: -spec.IEND_BYTES] + extra + iend
        with pytest.raises(InrFormatError, match="IEND begins"):
            ContainerReader(bad)

    def test_rejects_index_count_beyond_chunk(self):
        index = leb128(10**9) + b"\x00\x00\x01"
        with pytest.raises(InrFormatError, match="cannot fit"):
            ContainerReader(assemble(HEADER, gop_chunks(HEADER), index=index))

    def test_rejects_index_bad_type_code(self):
        index = leb128(1) + b"\x02\x00\x40"
        with pytest.raises(InrFormatError, match="type code 2"):
            ContainerReader(assemble(HEADER, gop_chunks(HEADER), index=index))

    def test_rejects_index_missing_a_gop(self):
        body = [c for c in gop_chunks(HEADER) if c[1] != 5]
        with pytest.raises(InrFormatError, match="no MODL for GOP 5"):
            ContainerReader(assemble(HEADER, body))

    def test_rejects_index_entry_of_wrong_type(self):
        body = gop_chunks(HEADER)
        # GOP 1's BLOB written before its MODL while the index still claims MODL first.
        body[2], body[3] = ("MODL", 1, body[3][2]), ("BLOB", 1, body[2][2])
        r = ContainerReader(assemble(HEADER, body))
        with pytest.raises(InrFormatError, match="points at a BLOB chunk, not MODL"):
            r.read_gop(1)
        with pytest.raises(InrFormatError):
            r.read_gom(0)

    def test_rejects_index_entry_off_chunk_boundary(self):
        data = assemble(HEADER, gop_chunks(HEADER))
        r = ContainerReader(data)
        gidx_at = int.from_bytes(data[-12:-4], "big")
        index = bytearray(data[gidx_at + 5 : -spec.IEND_BYTES - 4])
        index[3] += 1  # first entry's offset delta: one byte into the first MODL
        bad = assemble(HEADER, gop_chunks(HEADER), index=bytes(index))
        assert r.read_gom(0)
        with pytest.raises(InrFormatError):
            ContainerReader(bad).read_gom(0)

    def test_rejects_p_model_at_gom_start(self):
        body = gop_chunks(HEADER)
        body[4] = ("MODL", 2, make_chunk(b"MODL", model_payload(2, 1, b"x")))
        with pytest.raises(InrFormatError, match="needs an I-model"):
            ContainerReader(assemble(HEADER, body)).read_gom(1)

    def test_rejects_bad_model_kind_and_layer(self):
        body = gop_chunks(HEADER)
        body[0] = ("MODL", 0, make_chunk(b"MODL", model_payload(0, 5, b"x")))
        with pytest.raises(InrFormatError, match="kind 5"):
            ContainerReader(assemble(HEADER, body)).read_gom(0)
        body[0] = ("MODL", 0, make_chunk(b"MODL", model_payload(0, 0, b"x", layer=1)))
        with pytest.raises(InrFormatError, match="layer 1, but the file has 1 layer"):
            ContainerReader(assemble(HEADER, body)).read_gom(0)

    def test_rejects_blob_raw_size_over_limit(self):
        body = gop_chunks(HEADER)
        body[1] = ("BLOB", 0, make_chunk(b"BLOB", blob_payload(0, raw_size=2**28 + 1)))
        with pytest.raises(InrFormatError, match="raw_size"):
            ContainerReader(assemble(HEADER, body)).read_gom(0)

    def test_unknown_critical_chunk_refused(self):
        body = gop_chunks(HEADER)
        body.insert(2, ("x", 0, make_chunk(b"XTRA", b"future")))
        r = ContainerReader(assemble(HEADER, body))
        with pytest.raises(InrUnsupportedError, match="XTRA"):
            r.read_gom(0)
        with pytest.raises(InrUnsupportedError, match="XTRA"):
            r.chunks()

    def test_unknown_ancillary_chunk_skipped(self):
        body = gop_chunks(HEADER)
        body.insert(1, ("x", 0, make_chunk(b"zzZz", b"\xff" * 40)))
        r = ContainerReader(assemble(HEADER, body))
        assert r.read_gom(0) == sample_chunks(HEADER)[:4]
        assert [c.type for c in r.chunks()][:4] == ["SHDR", "MODL", "zzZz", "BLOB"]
        # The entry spans the ancillary chunk that follows its MODL.
        assert r.entries[0].size_bytes == len(body[0][2]) + len(body[1][2])

    def test_shdr_twice_rejected(self):
        body = gop_chunks(HEADER)
        body.insert(1, ("x", 0, make_chunk(b"SHDR", header_payload(HEADER))))
        with pytest.raises(InrFormatError, match="out of place"):
            ContainerReader(assemble(HEADER, body)).read_gom(0)

    def test_read_gom_reads_only_its_range(self, monkeypatch):
        data = bytearray(assemble(HEADER, gop_chunks(HEADER)))
        data[data.index(bytes([3]) * 6)] ^= 0xFF  # damage GOP 3, in GOM 1
        r = ContainerReader(bytes(data))
        reads = []
        original = reader._Source.read_at
        def spy(source, offset, n):
            reads.append((offset, n))
            return original(source, offset, n)

        monkeypatch.setattr(reader._Source, "read_at", spy)
        assert r.read_gom(0) == sample_chunks(HEADER)[:4]
        start, end = r.gom_entries(0)[0].offset, r.gom_entries(1)[0].offset
        assert reads == [(start, end - start)]
        assert r.read_gom(2) == sample_chunks(HEADER)[8:]
        with pytest.raises(InrChecksumError):
            r.read_gom(1)

    def test_read_gom_rejects_unknown_gom(self):
        r = ContainerReader(assemble(HEADER, gop_chunks(HEADER)))
        with pytest.raises(InrInputError):
            r.read_gom(3)

    def test_chunks_and_overhead(self):
        data = serialize(HEADER, sample_chunks(HEADER))
        r = ContainerReader(data)
        infos = r.chunks()
        assert [c.type for c in infos] == ["SHDR"] + ["MODL", "BLOB"] * 6 + ["GIDX", "IEND"]
        assert infos[0].offset == 12 and infos[-1].offset == len(data) - 17
        assert sum(c.total_size for c in infos) + 12 == len(data)
        assert infos[3].kind == ModelKind.P and infos[3].gop_index == 1
        coded = sum(6 + 2 for _ in range(6))  # MODL body + BLOB data per GOP
        assert r.overhead_bytes() == len(data) - coded
        entries = r.entries
        assert [e.kind for e in entries[:2]] == ["MODL", "BLOB"]
        assert entries[0].offset == infos[1].offset and entries[0].size_bytes == infos[1].total_size

    def test_reads_from_path_and_closes(self, tmp_path):
        path = tmp_path / "a.inr"
        path.write_bytes(serialize(HEADER, sample_chunks(HEADER)))
        with ContainerReader(path) as r:
            assert r.read_gom(2) == sample_chunks(HEADER)[8:]
        assert r._src._file is None

    def test_missing_path_is_input_error(self, tmp_path):
        with pytest.raises(InrInputError, match="cannot open"):
            ContainerReader(tmp_path / "nope.inr")


# -- writer -------------------------------------------------------------------------------------


class TestWriter:
    def test_atomic_write_leaves_no_file_on_exception(self, tmp_path):
        target = tmp_path / "out.inr"
        with pytest.raises(RuntimeError):
            with ContainerWriter(target, HEADER) as w:
                w.write_model(ModelChunk(0, ModelKind.I, b"abc"))
                assert [re.fullmatch(r"\.out\.inr\.[0-9a-f]{8}\.tmp", p.name) is not None
                        for p in tmp_path.iterdir()] == [True]
                raise RuntimeError("encoder failed")
        assert list(tmp_path.iterdir()) == []

    def test_atomic_write_keeps_old_target_on_exception(self, tmp_path):
        target = tmp_path / "out.inr"
        target.write_bytes(b"old")
        with pytest.raises(InrFormatError):
            with ContainerWriter(target, HEADER, overwrite=True) as w:
                w.write_model(ModelChunk(1, ModelKind.P, b"abc"))
        assert target.read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1

    def test_close_renames_onto_target(self, tmp_path):
        target = tmp_path / "out.inr"
        with ContainerWriter(target, HEADER) as w:
            offsets = [
                w.write_model(c) if isinstance(c, ModelChunk) else w.write_blob(c)
                for c in sample_chunks(HEADER)
            ]
        assert [p.name for p in tmp_path.iterdir()] == ["out.inr"]
        with ContainerReader(target) as r:
            assert [e.offset for e in r.entries] == offsets

    def test_incomplete_stream_refused_at_close(self, tmp_path):
        target = tmp_path / "out.inr"
        w = ContainerWriter(target, HEADER)
        w.write_model(ModelChunk(0, ModelKind.I, b"abc"))
        with pytest.raises(InrFormatError, match="no MODL for GOP 1"):
            w.close()
        assert list(tmp_path.iterdir()) == []

    def test_unwritable_target_is_io_error(self, tmp_path):
        with pytest.raises(InrIOError, match="cannot write"):
            ContainerWriter(tmp_path / "missing-dir" / "out.inr", HEADER)

    @pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
    def test_full_disk_is_io_error(self):
        with open("/dev/full", "wb", buffering=0) as full:
            with pytest.raises(InrIOError, match="No space left"):
                ContainerWriter(full, HEADER)

    def test_failed_flush_is_io_error(self):
        class FullDisk(io.BytesIO):
            def flush(self):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        w = ContainerWriter(FullDisk(), make_header(n_frames=1))
        w.write_model(ModelChunk(0, ModelKind.I, b"x"))
        with pytest.raises(InrIOError, match="cannot write output"):
            w.close()

    def test_abort_removes_temp(self, tmp_path):
        w = ContainerWriter(tmp_path / "out.inr", HEADER)
        w.abort()
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        "chunks_in, message",
        [
            ([ModelChunk(1, ModelKind.P, b"")], "GOP 0 was expected"),
            ([BlobChunk(0, 0, 0, 0, b"")], "follow its MODL"),
            ([ModelChunk(0, ModelKind.P, b"")], "needs an I-model"),
            ([ModelChunk(0, ModelKind.I, b""), ModelChunk(1, ModelKind.I, b"")], "needs a P-model"),
            (
                [ModelChunk(0, ModelKind.I, b""), ModelChunk(1, ModelKind.P, b""),
                 BlobChunk(0, 0, 0, 0, b"")],
                "outside that GOP",
            ),
            ([ModelChunk(6, ModelKind.I, b"")], "outside 0..5"),
        ],
    )
    def test_writer_validates_order(self, chunks_in, message):
        with pytest.raises(InrFormatError, match=message):
            serialize(HEADER, chunks_in)

    def test_write_ancillary_rejects_critical_type(self):
        w = ContainerWriter(io.BytesIO(), HEADER)
        with pytest.raises(InrFormatError, match="first lowercase"):
            w.write_ancillary("TEXT", b"")
        with pytest.raises(InrFormatError):
            w.write_ancillary("té", b"")

    def test_serialize_with_ancillary(self):
        data = serialize(HEADER, [AncillaryChunk(b"meta", b"{}")] + sample_chunks(HEADER))
        assert ContainerReader(data).chunks()[1].type == "meta"


# -- isolation and docs -------------------------------------------------------------------------


def test_container_needs_neither_torch_nor_numpy():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['numpy'] = None\n"
        "import inrcodec.container, inrcodec.container.reader, inrcodec.container.writer\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_docstring_examples_run():
    for module in (reader, chunks, bitio):
        failed, _ = doctest.testmod(module)
        assert failed == 0


def test_errors_are_one_family():
    assert issubclass(InrChecksumError, InrFormatError) and issubclass(InrFormatError, InrError)


def test_spec_worked_example_bytes():
    """spec/bitstream.md §11 shows these exact bytes; keep the two in step."""
    h = make_header(width=16, height=16, n_frames=1, fps_num=25, fps_den=1, color_primaries=2,
                    transfer=2, matrix=2, gop_size=1, gom_size=1, arch_id=0, arch_params=(300,),
                    coder_id=0, seed=0)
    data = serialize(h, [ModelChunk(0, ModelKind.I, b"AB")])
    text = (REPO / "spec" / "bitstream.md").read_text()
    example = text[text.index("## 11. Worked example") :]
    hex_bytes = ""
    for line in example.splitlines():
        if len(line) > 6 and line[:4].isalnum() and line[4:6] == "  ":
            for token in line[6:].split():
                if len(token) != 2 or not all(c in "0123456789ABCDEF" for c in token):
                    break  # the comment starts
                hex_bytes += token
    assert data.hex().upper() == hex_bytes


def test_header_repr_names_the_coded_fields():
    # issue 22: open(...).header printed bare H.273 numbers (primaries 9, transfer 16)
    h = SequenceHeader(176, 144, 60, 30, 1, 0, 10, 1, 9, 16, 9, 1, 30, 2, 1, (1, 4, 8, 8), 1, 1)
    text = repr(h)
    for part in ("chroma_format=0 (420)", "color_range=1 (limited)", "color_primaries=9 (bt2020)",
                 "transfer=16 (smpte2084)", "matrix=9 (bt2020nc)", "chroma_siting=1 (left)", "width=176"):
        assert part in text
    assert h.color_primaries == 9  # the fields stay the stored numbers
    assert "transfer=3 (reserved (3))" in repr(SequenceHeader(176, 144, 60, 30, 1, 0, 8, 0, 2, 3, 2, 0, 30, 2, 1,
                                                              (1, 4, 8, 8), 1, 1))


class TestTargetRecord:
    """targ (spec/bitstream.md §5.8): informative JSON; a bad one is ignored, never an error."""

    def test_round_trip_compact_and_sorted(self):
        from inrcodec.container.chunks import read_target_record, target_payload

        record = {"time": {"budget_s": 120.0}, "target": {"asked": "--size 20k", "kind": "bytes", "value": 20000}}
        data = target_payload(record)
        assert read_target_record(data) == record and data.startswith(b'{"target":') and b" " not in data.replace(
            b"--size 20k", b"")

    @pytest.mark.parametrize("payload", [b"[1,2]", b"\xff\xfe", b"{", b"7", b'{"a":' * 5000 + b"1" + b"}" * 5000,
                                         b'{"a":"' + b"x" * 5000 + b'"}'])
    def test_what_is_not_a_short_json_object_is_ignored(self, payload):
        from inrcodec.container.chunks import read_target_record

        assert read_target_record(payload) is None

    def test_a_record_above_the_limit_is_not_written(self):
        from inrcodec.container.chunks import target_payload

        with pytest.raises(ValueError, match="targ"):
            target_payload({"a": "x" * 5000})

    def test_the_reader_lists_it_and_decodes_as_without(self, tmp_path):
        from inrcodec.container.chunks import target_payload
        from inrcodec.container.reader import ContainerReader
        from inrcodec.container.writer import ContainerWriter

        src = "tests/conformance/TINY_A/stream.inr"
        with ContainerReader(src) as r:
            header, layers, chunks = r.header, r.layers, [r.read_gom(m) for m in range(r.header.n_goms)]
        dst = tmp_path / "t.inr"
        w = ContainerWriter(dst, header, layers=layers)
        for gom in chunks:
            for c in gom:
                (w.write_blob if type(c).__name__ == "BlobChunk" else w.write_model)(c)
        w.write_ancillary("targ", target_payload({"target": {"asked": "--psnr 30", "kind": "psnr", "value": 30}}))
        w.close()
        with ContainerReader(dst) as r:
            listed = [c for c in r.chunks() if c.type == "targ"]
            assert len(listed) == 1 and listed[0].record["target"]["asked"] == "--psnr 30"
            assert [r.read_gom(m) for m in range(r.header.n_goms)] == chunks


@pytest.mark.parametrize("record", [{"target": {"kind": "psnr", "value": "x", "psnr_yuv": 3}},
                                    {"time": {"asked": "--time 1", "budget_s": "a", "seconds": "b"}},
                                    {"target": {"kind": "ms-ssim", "value": None, "ms_ssim_y": "q"}},
                                    {"target": {"kind": "bytes", "value": True}}, {"target": "s"}, {"time": [1]}])
def test_info_shows_a_targ_of_the_wrong_types_without_failing(record):
    """A targ that reads as JSON but holds strings where numbers go is the file's, unchecked: info shows
    what it can ("not recorded") instead of raising."""
    from inrcodec.describe import _reached, target_lines

    lines = target_lines(_reached(record, 100))
    assert all(isinstance(x, str) for x in lines)
    assert all("not recorded" in x for x in lines if x.startswith("encoded to a target"))
    assert not any(x.startswith("encoded in a time budget") for x in lines)
