"""Progressive layers in the container (spec/bitstream.md §5.6, §6): the LHDR chunk, one MODL per
GOP and layer in layer order, BLOBs belonging to the MODL before them, version 2 files."""

from __future__ import annotations

import pytest

from inrcodec.container import spec
from inrcodec.container.chunks import BlobChunk, LayerHeader, LayerSpec, ModelChunk
from inrcodec.container.reader import ContainerReader
from inrcodec.container.spec import ModelKind
from inrcodec.container.writer import serialize
from inrcodec.errors import InrFormatError

from test_container import HEADER, make_chunk

LAYERS = LayerHeader((LayerSpec(1, (1, 16, 16, 8, 8), 100, 11), LayerSpec(2, (32, 16, 2, 4, 4), 100, 12)))


def layered_chunks(header=HEADER, n_layers=3, blob_layers=(0, 2)):
    """Per GOP: MODL layer 0, 1, 2 ..., a BLOB after the MODLs of ``blob_layers``."""
    out = []
    for g in range(header.n_gops):
        kind = ModelKind.I if g % header.gom_size == 0 else ModelKind.P
        for k in range(n_layers):
            out.append(ModelChunk(g, kind, bytes([g, k]) * (k + 1), layer=k))
            if k in blob_layers:
                out.append(BlobChunk(g, 2, 0, 1, bytes([k])))
    return out


def test_layered_file_round_trips_with_version_2_and_lhdr_after_shdr():
    data = serialize(HEADER, layered_chunks(), layers=LAYERS)
    assert data[8:12] == bytes([0, 2, 0, 2])
    with ContainerReader(data) as r:
        assert r.layers == LAYERS and r.n_layers == 3
        chunks = r.read_gom(1)
        assert [(c.gop_index, c.layer) for c in chunks if isinstance(c, ModelChunk)] == \
            [(2, 0), (2, 1), (2, 2), (3, 0), (3, 1), (3, 2)]
        models = [c for c in r.read_gop(3) if isinstance(c, ModelChunk)]
        assert [c.body for c in models] == [bytes([3, k]) * (k + 1) for k in range(3)]
        infos = [i for i in r.chunks() if i.type in ("MODL", "BLOB")]
        assert [(i.type, i.layer) for i in infos[:5]] == [("MODL", 0), ("BLOB", 0), ("MODL", 1), ("MODL", 2),
                                                          ("BLOB", 2)]
        assert [i.type for i in r.chunks()[:2]] == ["SHDR", "LHDR"]


def test_one_layer_files_stay_version_1_without_lhdr():
    data = serialize(HEADER, layered_chunks(n_layers=1, blob_layers=(0,)))
    assert data[8:12] == bytes([0, 1, 0, 1])
    with ContainerReader(data) as r:
        assert r.layers is None and r.n_layers == 1
        assert b"LHDR" not in data


@pytest.mark.parametrize("mutate, message", [
    (lambda cs: cs[:1] + cs[2:], "GOP 0 layer 2 where the MODL of GOP 0 layer 1"),  # layer 1 of GOP 0 missing
    (lambda cs: [cs[1], cs[0]] + cs[2:], "GOP 0 layer 1 where the MODL of GOP 0 layer 0"),
    (lambda cs: [c for c in cs if not (isinstance(c, ModelChunk) and c.gop_index == 5 and c.layer == 2)]
     + [], "no MODL of layer 2 for GOP 5"),
])
def test_writer_refuses_layers_out_of_order(mutate, message):
    with pytest.raises(InrFormatError, match=message):
        serialize(HEADER, mutate(layered_chunks(blob_layers=())), layers=LAYERS)


def test_layer_beyond_the_lhdr_is_a_format_error():
    chunks = layered_chunks(n_layers=1, blob_layers=())
    chunks.insert(1, ModelChunk(0, ModelKind.I, b"x", layer=1))
    with pytest.raises(InrFormatError, match="layer 1, but the file has 1 layer"):
        serialize(HEADER, chunks)


def test_lhdr_needs_min_reader_version_2():
    data = bytearray(serialize(HEADER, layered_chunks(), layers=LAYERS))
    data[8:12] = bytes([0, 2, 0, 1])
    with pytest.raises(InrFormatError, match="progressive layers need 2"):
        ContainerReader(bytes(data))


@pytest.mark.parametrize("payload, message", [
    (bytes([1]), "n_layers 1 not allowed"),
    (bytes([9]), "n_layers 9 not allowed"),
    (bytes([2, 1, 0]) + (0).to_bytes(4, "big") + bytes(8), "residual_scale"),
    (bytes([2, 1, 0]) + (100).to_bytes(4, "big") + bytes(8) + b"\x00", "LHDR"),  # trailing byte
    (bytes([3, 1, 0]) + (100).to_bytes(4, "big") + bytes(8), "LHDR"),  # second layer missing
])
def test_bad_lhdr_payloads_are_refused(payload, message):
    data = serialize(HEADER, layered_chunks(), layers=LAYERS)
    with ContainerReader(data) as r:
        start = r.chunks()[1].offset
        end = start + r.chunks()[1].total_size
    bad = data[:start] + make_chunk(b"LHDR", payload) + data[end:]
    with pytest.raises(InrFormatError, match=message):
        ContainerReader(bad, salvage=True)


def test_layer_header_limits():
    with pytest.raises(InrFormatError):
        LayerHeader(())
    with pytest.raises(InrFormatError):
        LayerSpec(1, (), spec.MAX_RESIDUAL_SCALE + 1, 0)


def test_salvage_of_a_layered_file_keeps_the_whole_goms():
    data = serialize(HEADER, layered_chunks(), layers=LAYERS)
    with ContainerReader(data) as r:
        cut_at = [i for i in r.chunks() if i.type == "MODL" and i.gop_index == 3 and i.layer == 2][0].offset
    with ContainerReader(data[:cut_at + 3], salvage=True) as r:
        assert r.n_complete_goms == 1
        assert len([c for c in r.read_gom(0) if isinstance(c, ModelChunk)]) == 6
