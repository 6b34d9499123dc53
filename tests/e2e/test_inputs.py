"""Sources other than a video file (issue 22 items 5, 6): image sequences, standard input, numpy frames;
and slices of a decoded file."""

from __future__ import annotations

import subprocess
import sys

import av
import numpy as np
import pytest

import inrcodec
from inrcodec.container.reader import ContainerReader
from inrcodec.errors import InrInputError

from .conftest import FAST, REPO, SAMPLE_48, decode_all, read_source

CLI_FAST = ["--quality", "1", "--channels", "8,8,8", "--iters", "10", "--p-iters", "5", "--device", "cpu",
            "--threads", "1", "--quiet"]


def cli(*args, stdin=None):
    """Run ``python -m inrcodec.cli ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "inrcodec.cli", *map(str, args)], cwd=REPO, stdin=stdin,
                          capture_output=True, timeout=300)


class TestCommandLineSources:
    def test_image_sequence_pattern(self, tmp_path):
        for i in range(3):
            rgb = np.full((32, 48, 3), 40 * i, np.uint8)
            av.VideoFrame.from_ndarray(rgb, format="rgb24").to_image().save(tmp_path / f"frame_{i + 1:03d}.png")
        enc = cli("enc", tmp_path / "frame_%03d.png", "-o", tmp_path / "a.inr", "--gop", "3", "--gom", "1",
                  *CLI_FAST)
        assert enc.returncode == 0, enc.stderr
        with ContainerReader(tmp_path / "a.inr") as r:
            assert (r.header.n_frames, r.header.width, r.header.height) == (3, 48, 32)

    def test_missing_image_sequence_is_one_line(self, tmp_path):
        enc = cli("enc", tmp_path / "none_%03d.png", "-o", tmp_path / "a.inr", *CLI_FAST)
        assert enc.returncode == 7
        assert enc.stderr.decode().startswith("inrcodec: error: cannot read ") and enc.stderr.count(b"\n") == 1

    def test_y4m_on_standard_input(self, tmp_path):
        with open(SAMPLE_48, "rb") as f:
            enc = cli("enc", "-", "-o", tmp_path / "a.inr", "--frames", "4", "--gop", "4", "--gom", "1",
                      *CLI_FAST, stdin=f)
        assert enc.returncode == 0, enc.stderr
        with ContainerReader(tmp_path / "a.inr") as r:
            assert (r.header.n_frames, r.header.width) == (4, 48)

    def test_empty_standard_input_is_refused(self, tmp_path):
        enc = cli("enc", "-", "-o", tmp_path / "a.inr", *CLI_FAST, stdin=subprocess.DEVNULL)
        assert enc.returncode == 7 and b"standard input is empty" in enc.stderr


class TestNumpyFrames:
    def test_yuv_tuples_encode_like_the_file(self, tmp_path):
        frames = read_source(SAMPLE_48)[:4]
        a = inrcodec.encode(SAMPLE_48, tmp_path / "file.inr", frames=4, gop=2, gom=2, **FAST)
        b = inrcodec.encode(iter(frames), tmp_path / "arr.inr", fps=25, gop=2, gom=2, **FAST)
        assert a.psnr_yuv == b.psnr_yuv and a.file_bytes == b.file_bytes
        with ContainerReader(tmp_path / "file.inr") as fr, ContainerReader(tmp_path / "arr.inr") as ar:
            # the same networks; only the y4m file says where its chroma samples sit
            assert fr.header.chroma_siting == 2 and ar.header.chroma_siting == 0
            assert fr.read_gom(0) == ar.read_gom(0)

    def test_gray_and_rgb_arrays(self, tmp_path):
        gray = np.stack([np.full((32, 48), 30 * i, np.uint8) for i in range(2)])
        inrcodec.encode(gray, tmp_path / "g.inr", fps=(30000, 1001), gop=2, gom=1, **FAST)
        with inrcodec.open(tmp_path / "g.inr") as f:
            assert (f.header.fps_num, f.header.fps_den, f.chroma) == (30000, 1001, "420")
        rgb = np.zeros((2, 32, 48, 3), np.uint8)
        rgb[..., 0] = 200
        inrcodec.encode(rgb, tmp_path / "c.inr", gop=2, gom=1, **FAST)
        with inrcodec.open(tmp_path / "c.inr") as f:
            assert (f.chroma, f.header.matrix, f.header.fps_num) == ("444", 6, 25)

    def test_ten_bit_planes_need_a_depth(self, tmp_path):
        y = np.full((2, 32, 48), 1000, np.uint16)
        uv = np.full((2, 16, 24), 512, np.uint16)
        with pytest.raises(InrInputError, match="bit_depth=10 or 12"):
            inrcodec.encode(zip(y, uv, uv), tmp_path / "a.inr", **FAST)
        inrcodec.encode(zip(y, uv, uv), tmp_path / "a.inr", bit_depth=10, gop=2, gom=1, **FAST)
        with inrcodec.open(tmp_path / "a.inr") as f:
            assert f.header.bit_depth == 10

    @pytest.mark.parametrize("bad", [np.zeros((2, 8), np.uint8), np.zeros((2, 8, 8, 4), np.uint8), 5])
    def test_unusable_frames_are_refused(self, tmp_path, bad):
        with pytest.raises(InrInputError):
            inrcodec.encode(bad, tmp_path / "a.inr", **FAST)

    def test_fps_is_for_arrays_only(self, tmp_path):
        with pytest.raises(InrInputError, match="fps"):
            inrcodec.encode(SAMPLE_48, tmp_path / "a.inr", fps=30, **FAST)


class TestSlices:
    def test_slice_is_a_list_of_frames(self, carphone):
        every = decode_all(carphone.path)
        with inrcodec.open(carphone.path) as f:
            for sl in (slice(2, 5), slice(None, None, 3), slice(-2, None), slice(5, 2)):
                got = f[sl]
                want = every[sl]
                assert len(got) == len(want)
                for g, w in zip(got, want):
                    assert all(np.array_equal(a, b) for a, b in zip(g, w))
