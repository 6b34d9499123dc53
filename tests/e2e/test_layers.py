"""Progressive layers (--layers, gnerv §3.2): one file, several qualities; dec --layers k and
extract --layers k cut it down without re-encoding (spec/bitstream.md §5.6, spec/models.md §8)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from click.testing import CliRunner

from inrcodec.api import extract, open as open_inr
from inrcodec.cli import main
from inrcodec.container import spec
from inrcodec.container.reader import ContainerReader
from inrcodec.errors import InrInputError
from inrcodec.metrics import psnr_yuv

from .conftest import SAMPLE_48, assert_frames_equal, fast_encode, read_source

# On a 48x32 clip with 150 iterations a residual scale of 1 learns faster than the default 100
# (presets.RESIDUAL_SCALE), so each layer's gain is clear of run-to-run noise.
LAYERED = {"layers": 3, "layer_quality": (4, 7), "iters": 150, "p_iters": 40, "residual_scale": 1}


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    path = tmp_path_factory.mktemp("layers") / "three.inr"
    return path, fast_encode(SAMPLE_48, path, gop=4, gom=2, **LAYERED)


def frames_of(path, layers=None, backend="torch"):
    """The reference decoder's frames by default: what the encoder measured."""
    with open_inr(path, layers=layers, backend=backend) as f:
        return [tuple(np.array(p) for p in frame) for frame in f]


def test_psnr_rises_with_each_layer_as_the_encoder_measured(layered):
    path, summary = layered
    src = read_source(SAMPLE_48)
    measured = [psnr_yuv(src, frames_of(path, k))["psnr_yuv"] for k in (1, 2, 3)]
    assert measured == pytest.approx(summary.layer_psnr_yuv, abs=1e-6)
    assert measured[0] < measured[1] < measured[2]
    assert measured[2] == pytest.approx(summary.psnr_yuv, abs=1e-6)
    assert len(summary.layer_bytes) == 3 and sum(summary.layer_bytes) < summary.file_bytes


def test_decoded_integer_weights_of_every_layer_are_the_encoders(layered):
    path, summary = layered
    with open_inr(path) as f:
        for k in range(3):
            decoded = [(g, qms[k].digest()) for gom in range(f.header.n_goms) for g, qms, _ in f.decode_gom(gom)]
            assert decoded == [(r.gop_index, r.digest) for r in summary.gops if r.layer == k]


def test_extract_one_layer_is_the_base_layer_byte_for_byte(layered, tmp_path):
    path, _ = layered
    out = tmp_path / "one.inr"
    n_bytes, total = extract(path, out, 1)
    assert n_bytes == os.path.getsize(out) < total
    assert_frames_equal(frames_of(out), frames_of(path, 1))
    data, full = out.read_bytes(), path.read_bytes()
    assert data[8:12] == bytes([0, 1, 0, 1])  # a plain version-1 file
    with ContainerReader(str(path)) as r_full, ContainerReader(str(out)) as r_one:
        assert r_one.n_layers == 1 and r_one.header == r_full.header
        base = [c for c in r_full.chunks() if c.layer == 0]
        kept = [c for c in r_one.chunks() if c.type in ("MODL", "BLOB")]
        # every kept chunk is the full file's layer-0 chunk, byte for byte
        assert [full[c.offset:c.offset + c.total_size] for c in base] == \
            [data[c.offset:c.offset + c.total_size] for c in kept]
        framing = {c.type: c.total_size for c in r_one.chunks() if c.type in ("SHDR", "GIDX", "IEND")}
        assert n_bytes == spec.PREAMBLE_BYTES + sum(framing.values()) + sum(c.total_size for c in base)


def test_extract_two_layers_decodes_as_two_layers_of_the_full_file(layered, tmp_path):
    path, _ = layered
    out = tmp_path / "two.inr"
    extract(path, out, 2)
    with open_inr(out) as f:
        assert f.n_layers == 2 and f.reader.writer_version == 2
    assert_frames_equal(frames_of(out), frames_of(path, 2))


def test_seeking_a_layered_file_gives_the_streamed_frames(layered):
    path, _ = layered
    streamed = frames_of(path)
    with open_inr(path) as f:
        for n in (6, 1, 7, 4):
            assert_frames_equal([tuple(np.array(p) for p in f[n])], [streamed[n]])


@pytest.mark.parametrize("k", [0, 4])
def test_asking_for_layers_the_file_lacks_is_an_input_error(layered, tmp_path, k):
    path, _ = layered
    with pytest.raises(InrInputError, match="the file has 3 layers"):
        open_inr(path, layers=k)
    with pytest.raises(InrInputError, match="the file has 3 layers"):
        extract(path, tmp_path / "x.inr", k)
    assert not (tmp_path / "x.inr").exists()


def test_cli_enc_info_dec_extract_with_layers(tmp_path):
    enc = tmp_path / "l.inr"
    runner = CliRunner()
    r = runner.invoke(main, ["enc", SAMPLE_48, "-o", str(enc), "--gop", "4", "--gom", "2", "--quality", "1",
                             "--iters", "20", "--p-iters", "5", "--layers", "2", "--layer-quality", "4",
                             "--device", "cpu", "--threads", "1", "--quiet"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "layers 0..1:" in r.output
    r = runner.invoke(main, ["info", str(enc)])
    assert "progressive layers (LHDR): 2" in r.output and "layer 1" in r.output
    r = runner.invoke(main, ["dec", str(enc), "-o", str(tmp_path / "base.y4m"), "--layers", "1", "--quiet"])
    assert r.exit_code == 0 and (tmp_path / "base.y4m").stat().st_size > 0
    r = runner.invoke(main, ["extract", str(enc), "-o", str(tmp_path / "base.inr"), "--layers", "1"])
    assert r.exit_code == 0 and "1 layer," in r.output
    r = runner.invoke(main, ["dec", str(enc), "-o", str(tmp_path / "x.y4m"), "--layers", "3", "--quiet"])
    assert r.exit_code == InrInputError.exit_code and not (tmp_path / "x.y4m").exists()


@pytest.mark.parametrize("options, message", [
    ({"layers": 9}, "--layers must be 1..8"),
    ({"layers": 1, "layer_quality": (5,)}, "needs --layers 2"),
    ({"layers": 3, "layer_quality": (5, 6, 7)}, "1 or 2 values"),
    ({"layers": 2, "layer_quality": (12,)}, "1..9"),
    ({"layers": 2, "residual_scale": 0}, "--residual-scale"),
])
def test_bad_layer_options_are_refused(tmp_path, options, message):
    with pytest.raises(InrInputError, match=message):
        fast_encode(SAMPLE_48, tmp_path / "bad.inr", **options)
    assert os.listdir(tmp_path) == []
