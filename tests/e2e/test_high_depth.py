"""10- and 12-bit video end to end: read natively, fitted on normalised samples, written back at the
file's depth (spec/bitstream.md §5.1, spec/models.md §7), measured at peak 2^D - 1."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from inrcodec.cli import main
from inrcodec.container.reader import ContainerReader
from inrcodec.io.video import open_video
from inrcodec.io.y4m import Y4MWriter
from inrcodec.metrics import psnr_yuv

from .conftest import decode_all, fast_encode, read_source

import make_conformance as tool  # tools/, on the path through pyproject.toml


def write_y4m(path, frames, chroma: str, depth: int) -> str:
    height, width = frames[0][0].shape
    with Y4MWriter(path, width, height, 25, 1, chroma, bit_depth=depth) as out:
        for frame in frames:
            out.write_frame(frame)
    return str(path)


@pytest.mark.parametrize("depth, chroma, width, height", [
    (10, "420", 33, 19), (10, "444", 24, 16), (12, "420", 24, 16), (12, "444", 21, 13)])
def test_round_trip_keeps_depth_size_and_frame_count(tmp_path, depth, chroma, width, height):
    src = write_y4m(tmp_path / "src.y4m", tool.synthetic_frames(width, height, 3, chroma, True, depth), chroma, depth)
    inr, out = tmp_path / "a.inr", tmp_path / "a.y4m"
    runner = CliRunner()
    enc = runner.invoke(main, ["enc", src, "-o", str(inr), "--gop", "2", "--gom", "2", "--quality", "1",
                               "--iters", "40", "--p-iters", "10", "--threads", "1"])
    assert enc.exit_code == 0, enc.output
    assert f"{width}x{height} {depth}-bit" in enc.output and f"peak {2**depth - 1}" in enc.output
    with ContainerReader(inr) as r:
        assert r.header.bit_depth == depth and r.min_reader_version == 3
    dec = runner.invoke(main, ["dec", str(inr), "-o", str(out)])
    assert dec.exit_code == 0, dec.output
    with open(out, "rb") as f:
        assert f"C{chroma}p{depth} XYSCSS={chroma}P{depth}".encode() in f.readline()
    with open_video(out) as video:  # PyAV parses our y4m
        info, frames = video.info, list(video)
    assert (info.bit_depth, info.width, info.height, info.chroma, info.n_frames) == (depth, width, height, chroma, 3)
    assert len(frames) == 3
    # what PyAV read from the y4m is exactly what the decoder delivered
    for ours, theirs in zip(decode_all(inr), frames):
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype == np.uint16 and np.array_equal(a, b)
    assert max(int(p.max()) for f in frames for p in f) <= 2**depth - 1
    described = json.loads(runner.invoke(main, ["info", str(inr), "--json"]).output)
    assert described["picture"]["bit_depth"] == depth and described["picture"]["psnr_peak"] == 2**depth - 1


def test_summary_psnr_is_at_the_peak_of_the_depth(tmp_path):
    frames = tool.synthetic_frames(33, 19, 4, "420", True, 10)
    src = write_y4m(tmp_path / "src.y4m", frames, "420", 10)
    summary = fast_encode(src, tmp_path / "a.inr", gop=2, gom=2)
    decoded = decode_all(tmp_path / "a.inr", backend="torch")  # the encoder measures the reference decoder's frames
    assert summary.bit_depth == 10
    assert summary.psnr_yuv == pytest.approx(psnr_yuv(read_source(src), decoded, 1023)["psnr_yuv"], abs=1e-6)
    # the same errors measured at 8-bit's peak would read 12 dB lower: the peak is really 1023
    assert summary.psnr_yuv - psnr_yuv(frames, decoded, 255)["psnr_yuv"] == pytest.approx(
        20 * np.log10(1023 / 255), abs=1e-6)


def test_low_bits_are_not_truncated_to_8_bits(tmp_path):
    """Flat planes at values between two 8-bit levels (514, 518 = 128.5, 129.5 x 4): any 8-bit path
    misses them by 2 at 10 bits; fitted at 10 bits they come much closer."""
    w, h = 32, 16
    src = [(np.full((h, w), 514 + 4 * (t % 2), np.uint16), np.full((h // 2, w // 2), 510, np.uint16),
            np.full((h // 2, w // 2), 518, np.uint16)) for t in range(4)]
    # the standard 8-bit down-conversion (round, shift by 2) and back up (shift)
    src8 = [tuple(np.minimum((p.astype(np.int64) + 2) >> 2, 255).astype(np.uint8) for p in f) for f in src]
    # a lambda high enough that 2 codes of error are worth bits (at q4's the flat mean is RD-optimal)
    options = {"gop": 2, "gom": 2, "quality": 4, "channels": None, "iters": 100, "p_iters": 50, "lam": 1e5}
    fast_encode(write_y4m(tmp_path / "s10.y4m", src, "420", 10), tmp_path / "s10.inr", **options)
    fast_encode(write_y4m(tmp_path / "s8.y4m", src8, "420", 8), tmp_path / "s8.inr", **options)
    dec10 = decode_all(tmp_path / "s10.inr")
    dec8 = [tuple(p.astype(np.uint16) << 2 for p in f) for f in decode_all(tmp_path / "s8.inr")]
    assert dec10[0][0].dtype == np.uint16 and any(int(p.max()) % 4 for f in dec10 for p in f)
    psnr10, psnr8 = psnr_yuv(src, dec10, 1023)["psnr_yuv"], psnr_yuv(src, dec8, 1023)["psnr_yuv"]
    assert psnr10 > psnr8 + 1.0, (psnr10, psnr8)  # measured here: 54.0 against 49.8 dB


def test_an_8_bit_file_stays_a_version_1_file(tmp_path):
    frames = tool.synthetic_frames(24, 16, 2, "420")
    src = write_y4m(tmp_path / "src.y4m", frames, "420", 8)
    fast_encode(src, tmp_path / "a.inr", gop=2, gom=1)
    with ContainerReader(tmp_path / "a.inr") as r:
        assert (r.header.bit_depth, r.writer_version, r.min_reader_version) == (8, 1, 1)
    assert decode_all(tmp_path / "a.inr")[0][0].dtype == np.uint8


def test_layers_and_nirvana_at_12_bits(tmp_path):
    """Progressive layers sum before the one rounding at 12 bits; nirvana's patches too."""
    from inrcodec.api import extract, open as open_inr

    frames = tool.synthetic_frames(37, 29, 4, "420", True, 12)
    src = write_y4m(tmp_path / "src.y4m", frames, "420", 12)
    summary = fast_encode(src, tmp_path / "l.inr", gop=2, gom=2, layers=2, layer_quality=(3,), residual_scale=1)
    with open_inr(tmp_path / "l.inr", layers=1, backend="torch") as f:  # the encoder's reference
        base = [tuple(np.array(p) for p in fr) for fr in f]
    full = decode_all(tmp_path / "l.inr", backend="torch")
    assert [psnr_yuv(frames, d, 4095)["psnr_yuv"] for d in (base, full)] == pytest.approx(summary.layer_psnr_yuv,
                                                                                          abs=1e-6)
    extract(tmp_path / "l.inr", tmp_path / "cut.inr", 1)
    cut = decode_all(tmp_path / "cut.inr", backend="torch")
    assert all(np.array_equal(a, b) for fa, fb in zip(cut, base) for a, b in zip(fa, fb))
    with ContainerReader(tmp_path / "cut.inr") as r:  # a 12-bit cut stays a version-3 file
        assert (r.header.bit_depth, r.min_reader_version) == (12, 3)
    nirvana = fast_encode(src, tmp_path / "n.inr", gop=2, gom=2, model="nirvana", channels=None)
    decoded = decode_all(tmp_path / "n.inr", backend="torch")
    assert decoded[0][0].dtype == np.uint16 and nirvana.bit_depth == 12
    assert nirvana.psnr_yuv == pytest.approx(psnr_yuv(frames, decoded, 4095)["psnr_yuv"], abs=1e-6)
