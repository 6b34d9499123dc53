"""The chunks between the headers and the first payload chunk (spec/bitstream.md §4, §5.7): a strict
open checks each as `info` does, so `dec` refuses what `info` refuses there (issue 32 item 3)."""

from __future__ import annotations

import pytest

from inrcodec.container.reader import ContainerReader
from inrcodec.container.chunks import DisplayInfo
from inrcodec.errors import InrChecksumError, InrFormatError, InrTruncatedError, InrUnsupportedError
from test_container import HEADER, assemble, gop_chunks, header_payload, make_chunk

DISP = (1).to_bytes(4, "big") * 2 + (90).to_bytes(2, "big") + bytes(2)  # sar 1:1, rotation 90
BAD_DISP = (1).to_bytes(4, "big") * 2 + (999).to_bytes(2, "big") + bytes(2)  # rotation 999


def with_leading(*chunks: bytes) -> bytes:
    return assemble(HEADER, [("x", 0, c) for c in chunks] + gop_chunks(HEADER))


@pytest.mark.parametrize("chunk, error, needle", [
    (make_chunk(b"XXXX", b"future"), InrUnsupportedError, "XXXX at offset"),
    (make_chunk(b"DISP", DISP), InrUnsupportedError, "DISP at offset"),
    (make_chunk(b"XXXX", b"future", crc=1), InrChecksumError, "CRC"),
    (b"ZZZZ" * 8, InrTruncatedError, "ZZZZ"),
    (make_chunk(b"SHDR", header_payload(HEADER)), InrFormatError, "SHDR at offset"),
    (make_chunk(b"GIDX", b"\x00"), InrFormatError, "GIDX at offset"),
    (make_chunk(b"IEND", bytes(8)), InrFormatError, "IEND at offset"),
    (make_chunk(b"abcd", b"x") + make_chunk(b"LHDR", b"\x01"), InrFormatError, "LHDR at offset"),
    (make_chunk(b"disp", DISP) + make_chunk(b"disp", BAD_DISP), InrFormatError, "second disp"),
])
def test_strict_open_checks_the_chunks_before_the_payload(chunk, error, needle):
    data = with_leading(chunk)
    with pytest.raises(error, match=needle):
        ContainerReader(data)


def test_one_disp_and_unknown_ancillary_chunks_are_read_there():
    with ContainerReader(with_leading(make_chunk(b"abcd", b"x"), make_chunk(b"disp", DISP))) as r:
        assert r.display == DisplayInfo(sar_num=1, sar_den=1, rotation=90)


def test_salvage_ignores_what_it_cannot_use_there():
    with ContainerReader(with_leading(make_chunk(b"disp", DISP[:4] + b"\xff" * 8, crc=7)), salvage=True) as r:
        assert r.display == DisplayInfo()


def with_disp_inside(gop: int) -> bytes:
    """A valid file with a disp chunk right after GOP ``gop``'s MODL, inside that GOP's GOM."""
    chunks = gop_chunks(HEADER)
    chunks.insert(2 * gop + 1, ("x", gop, make_chunk(b"disp", DISP)))
    return assemble(HEADER, chunks)


def test_a_disp_inside_a_gom_is_refused_when_that_gom_is_read():
    """§5.7, §7.2: a disp's one place is before the first payload chunk; in a GOM's range it makes
    the file invalid, found when that GOM is read (a strict open reads no GOM)."""
    with ContainerReader(with_disp_inside(2)) as r:  # GOP 2 opens GOM 1
        assert r.display == DisplayInfo()
        r.read_gom(0)
        with pytest.raises(InrFormatError, match="disp chunk inside a GOM"):
            r.read_gom(1)
        r.read_gom(2)


def test_info_walk_refuses_a_disp_inside_a_gom_as_dec_does():
    with ContainerReader(with_disp_inside(2)) as r:
        with pytest.raises(InrFormatError, match="disp chunk inside a GOM"):
            r.chunks()


def test_salvage_stops_at_a_disp_inside_a_gom():
    with ContainerReader(with_disp_inside(2), salvage=True) as r:
        assert r.n_complete_goms == 1
        assert "disp chunk inside a GOM" in r.salvage_note


def test_salvage_steps_over_a_damaged_ancillary_chunk():
    """§7.3: only the CRC of a chunk that reads as ancillary failed: metadata, so no GOM is lost."""
    data = with_leading(make_chunk(b"disp", DISP, crc=7), make_chunk(b"abcd", b"x", crc=9))
    with ContainerReader(data, salvage=True) as r:
        assert r.n_complete_goms == HEADER.n_goms
        assert len(r.salvage_skipped) == 2 and "recovered 3 of 3 GOMs" in r.salvage_note


def test_salvage_stops_where_a_damaged_ancillary_length_leads():
    data = with_leading(make_chunk(b"disp", DISP, length=b"\x05", crc=7))
    with ContainerReader(data, salvage=True) as r:
        assert r.n_complete_goms == 0
