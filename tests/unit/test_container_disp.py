"""The ancillary disp chunk (spec/bitstream.md §5.7): written only when it says something, read from
between the headers and the first payload chunk, skipped by readers that do not know it."""

import pytest

from inrcodec.container import spec
from inrcodec.container.bitio import ByteReader, ByteWriter
from inrcodec.container.chunks import DisplayInfo, ModelChunk, SequenceHeader, read_display, write_display
from inrcodec.container.extract import extract_layers
from inrcodec.container.reader import ContainerReader
from inrcodec.container.writer import serialize
from inrcodec.errors import InrChecksumError, InrFormatError

HEADER = SequenceHeader(width=16, height=16, n_frames=2, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8,
                        color_range=1, color_primaries=2, transfer=2, matrix=2, chroma_siting=1, gop_size=1,
                        gom_size=1, arch_id=0, arch_params=(300,), coder_id=0, seed=0)
MODELS = [ModelChunk(0, spec.ModelKind.I, b"AB"), ModelChunk(1, spec.ModelKind.I, b"CD")]
DISPLAY = DisplayInfo(sar_num=16, sar_den=15, rotation=90, field_order=1, timing=1)


def test_payload_is_the_twelve_bytes_of_the_spec():
    w = ByteWriter()
    write_display(w, DISPLAY)
    assert w.getvalue() == bytes.fromhex("00000010 0000000F 005A 01 01")
    assert read_display(ByteReader(w.getvalue())) == DISPLAY


def test_default_display_writes_the_same_bytes_as_before():
    assert serialize(HEADER, MODELS, display=DisplayInfo()) == serialize(HEADER, MODELS)


def test_round_trip_and_what_an_older_reader_sees():
    data = serialize(HEADER, MODELS, display=DISPLAY)
    plain = serialize(HEADER, MODELS)
    with ContainerReader(data) as r, ContainerReader(plain) as p:
        assert r.display == DISPLAY and p.display == DisplayInfo()
        assert [c.type for c in r.chunks()][:3] == ["SHDR", "disp", "MODL"]
        # a reader that skips ancillary chunks gets the same GOMs: disp is in no GOM's byte range
        assert r.read_gom(0) == p.read_gom(0) and r.read_gom(1) == p.read_gom(1)
        assert r.entries[0].offset == p.entries[0].offset + len(data) - len(plain)


@pytest.mark.parametrize("values", [dict(sar_num=1), dict(rotation=360), dict(field_order=3), dict(timing=2)])
def test_out_of_range_values_are_refused(values):
    with pytest.raises(InrFormatError):
        DisplayInfo(**values)


def test_damaged_disp_fails_strict_and_is_ignored_by_salvage():
    data = bytearray(serialize(HEADER, MODELS, display=DISPLAY))
    at = data.index(b"disp") + 6  # a payload byte
    data[at] ^= 0x01
    with pytest.raises(InrChecksumError):
        ContainerReader(bytes(data))
    with ContainerReader(bytes(data), salvage=True) as r:
        assert r.display == DisplayInfo()


def test_extract_keeps_it(tmp_path):
    src = tmp_path / "a.inr"
    src.write_bytes(serialize(HEADER, MODELS, display=DISPLAY))
    extract_layers(src, tmp_path / "b.inr", 1)
    with ContainerReader(tmp_path / "b.inr") as r:
        assert r.display == DISPLAY
