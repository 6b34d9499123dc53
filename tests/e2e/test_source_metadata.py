"""What a source says beside its samples (issue 22 items 1, 2, 4): chroma siting, sample aspect ratio,
rotation, field order, variable timing, and frame counts that are only hints.

Sources are made here with PyAV's libx264 (and by hand for y4m); CLI behaviour runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest

from inrcodec.api import decode_to_y4m
from inrcodec.container.reader import ContainerReader
from inrcodec.errors import InrNotice
from inrcodec.io.video import open_video

from .conftest import REPO, fast_encode

CLI_FAST = ["--quality", "1", "--channels", "8,8,8", "--iters", "10", "--p-iters", "5", "--device", "cpu",
            "--threads", "1"]


def cli(*args, stdin=None):
    """Run ``python -m inrcodec.cli ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "inrcodec.cli", *map(str, args)], cwd=REPO, input=stdin,
                          capture_output=True, timeout=300)


def make_h264(path, n=8, w=48, h=32, *, x264_params="", rotation=None, sar=None, pts=None, audio=False):
    """An MP4 of ``n`` moving gray frames coded by libx264 (every frame a keyframe, no B-frames)."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.time_base = Fraction(1, 1000)
        s.options = {"g": "1", "bf": "0", **({"x264-params": x264_params} if x264_params else {})}
        if rotation is not None:
            s.set_display_rotation(rotation)
        if sar is not None:
            s.sample_aspect_ratio = Fraction(*sar)
        a = c.add_stream("aac", rate=8000) if audio else None
        for i in range(n):
            y = np.full((h * 3 // 2, w), 16 + 20 * i, np.uint8)
            f = av.VideoFrame.from_ndarray(y, format="yuv420p")
            f.pts = 40 * i if pts is None else pts[i]
            f.time_base = Fraction(1, 1000)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
        if a is not None:
            samples = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            samples.sample_rate, samples.pts = 8000, 0
            for p in [*a.encode(samples), *a.encode(None)]:
                c.mux(p)
    return str(path)


def cut_copy(src, dst, skip_frames):
    """What ``ffmpeg -ss T -i src -c copy dst`` makes: the packets before T get negative timestamps, and
    the MP4 muxer writes an edit list, so the file's frame count (all samples) exceeds what decodes."""
    with av.open(str(src)) as i, av.open(str(dst), "w") as o:
        si = i.streams.video[0]
        so = o.add_stream_from_template(si)
        shift = int(skip_frames / si.average_rate / si.time_base)
        for p in i.demux(si):
            if p.size:
                p.pts, p.dts = p.pts - shift, p.dts - shift
                p.stream = so
                o.mux(p)
    return str(dst)


def y4m_header_of(path) -> dict[str, str]:
    with open(path, "rb") as f:
        tokens = f.readline().decode("ascii").split()
    return {t[0]: t[1:] for t in tokens[1:]}


class TestSiting:
    """Item 1: H.264 4:2:0 is left-sited unless it says otherwise, as FFmpeg's decoder reports it."""

    @pytest.mark.parametrize("params, siting", [("", "left"), ("chromaloc=0", "left"), ("chromaloc=1", "center"),
                                                ("chromaloc=2", "topleft")])
    def test_h264_siting_is_read(self, tmp_path, params, siting):
        with open_video(make_h264(tmp_path / "a.mp4", n=2, x264_params=params)) as v:
            assert v.info.chroma_siting == siting

    def test_y4m_c_tag_decides(self, tmp_path):
        src = tmp_path / "a.y4m"
        frame = b"FRAME\n" + bytes(48 * 32 + 2 * 24 * 16)
        src.write_bytes(b"YUV4MPEG2 W48 H32 F25:1 Ip A0:0 C420mpeg2 XYSCSS=420MPEG2\n" + frame * 2)
        with open_video(src) as v:
            assert v.info.chroma_siting == "left"


class TestCarried:
    """Items 1 and 2 through the command line: enc, info --json, dec."""

    @pytest.fixture(scope="class")
    def rich(self, tmp_path_factory):
        """An H.264 MP4 with a 4:3 sample aspect, a 90° display rotation, variable frame durations and
        an audio stream, encoded once by the CLI."""
        d = tmp_path_factory.mktemp("rich")
        src = make_h264(d / "rich.mp4", n=6, sar=(4, 3), rotation=90, pts=[0, 40, 80, 200, 240, 280], audio=True)
        out = d / "rich.inr"
        enc = cli("enc", src, "-o", out, "--gop", "3", "--gom", "2", *CLI_FAST)
        return src, out, enc

    def test_enc_notes_what_is_not_carried(self, rich):
        _, _, enc = rich
        assert enc.returncode == 0, enc.stderr
        err = enc.stderr.decode()
        assert "inrcodec: note: the source's frame durations vary; its 6 frames are re-timed to a constant" in err
        assert "inrcodec: note: audio streams not carried" in err
        assert "Warning" not in err and ".py:" not in err  # plain lines, no Python warning format

    def test_info_json_shows_siting_and_display(self, rich):
        _, out, _ = rich
        info = cli("info", out, "--json")
        assert info.returncode == 0, info.stderr
        d = json.loads(info.stdout)
        assert d["header"]["chroma_siting"] == "left"
        assert d["display"] == {"sample_aspect": "4:3", "rotation": 90, "field_order": "progressive",
                                "timing": "retimed"}

    def test_dec_writes_siting_and_aspect_and_says_what_y4m_drops(self, rich, tmp_path):
        _, out, _ = rich
        dec = cli("dec", out, "-o", tmp_path / "a.y4m")
        assert dec.returncode == 0, dec.stderr
        tags = y4m_header_of(tmp_path / "a.y4m")
        assert (tags["C"], tags["A"], tags["I"]) == ("420mpeg2", "4:3", "p")
        err = dec.stderr.decode()
        assert "turned 90 degrees counterclockwise" in err and "transpose=2" in err


class TestFieldOrder:
    def test_y4m_field_order_and_aspect_round_trip(self, tmp_path):
        src = tmp_path / "tff.y4m"
        frames = b"".join(b"FRAME\n" + bytes([16 + 30 * i]) * (48 * 32) + bytes([128]) * (2 * 24 * 16)
                          for i in range(2))
        src.write_bytes(b"YUV4MPEG2 W48 H32 F25:1 It A16:15 C420mpeg2 XYSCSS=420MPEG2\n" + frames)
        fast_encode(str(src), str(tmp_path / "a.inr"), gop=2, gom=1, iters=5)
        with ContainerReader(tmp_path / "a.inr") as r:
            assert (r.display.field_order, r.display.sar_num, r.display.sar_den) == (1, 16, 15)
        decode_to_y4m(tmp_path / "a.inr", tmp_path / "b.y4m")
        tags = y4m_header_of(tmp_path / "b.y4m")
        assert (tags["I"], tags["A"], tags["C"]) == ("t", "16:15", "420mpeg2")

    def test_plain_y4m_writes_no_disp_chunk(self, carphone):
        with ContainerReader(carphone.path) as r:
            assert [c.type for c in r.chunks()][:2] == ["SHDR", "MODL"]


class TestFrameCountIsAHint:
    """Item 4: a cut MP4 says 12 frames and decodes 7; the encoder encodes the 7."""

    def test_cut_mp4_encodes_what_decodes(self, tmp_path):
        full = make_h264(tmp_path / "full.mp4", n=12)
        cut = cut_copy(full, tmp_path / "cut.mp4", skip_frames=5)
        with av.open(cut) as c:
            assert c.streams.video[0].frames == 12  # the container's hint
        enc = cli("enc", cut, "-o", tmp_path / "x.inr", "--gop", "4", "--gom", "1", *CLI_FAST, "--quiet")
        assert enc.returncode == 0, enc.stderr
        with ContainerReader(tmp_path / "x.inr") as r:
            assert r.header.n_frames == 7

    def test_notes_are_warnings_of_their_own_class(self, tmp_path):
        src = make_h264(tmp_path / "vfr.mp4", n=4, pts=[0, 40, 120, 160])
        with pytest.warns(InrNotice, match="re-timed"):
            open_video(src).close()
        assert os.path.exists(src)
