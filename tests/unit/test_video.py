"""inrcodec.io.video: reading real samples, odd sizes, pixel-format conversion and bad inputs."""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from inrcodec.errors import InrFormatError, InrInputError
from inrcodec.io.video import (
    VideoInfo,
    chroma_code,
    chroma_from_code,
    chroma_siting_code,
    chroma_siting_from_code,
    color_range_code,
    color_range_from_code,
    open_video,
)

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def make_video(path, fmt, codec, pix_fmt, width=8, height=6, n_frames=3, fill=None, rate=Fraction(25, 1)):
    """Write a tiny clip with PyAV: random planes (seeded per frame), or every byte ``fill``."""
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for i in range(n_frames):
            frame = av.VideoFrame(width, height, pix_fmt)
            for plane in frame.planes:
                if fill is None:
                    data = np.random.default_rng(i).integers(0, 256, plane.buffer_size, dtype=np.uint8).tobytes()
                else:
                    data = bytes([fill]) * plane.buffer_size
                memoryview(plane)[:] = data
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


class TestSamples:
    def test_y4m_sample_info_and_planes(self):
        with open_video(SAMPLES / "carphone_48x32_8f.y4m") as src:
            info = src.info
            frames = list(src)
        assert (info.width, info.height, info.n_frames) == (48, 32, 8)
        assert (info.fps_num, info.fps_den, info.chroma, info.bit_depth) == (25, 1, "420", 8)
        assert info.chroma_siting == "center" and info.source_pix_fmt == "yuv420p"
        assert len(frames) == 8
        assert [p.shape for p in frames[0]] == [(32, 48), (16, 24), (16, 24)]
        assert all(p.dtype == np.uint8 for p in frames[0])
        # Real video: frames differ and are not flat.
        assert not np.array_equal(frames[0][0], frames[7][0]) and frames[0][0].std() > 10

    def test_mp4_sample_info(self):
        with open_video(SAMPLES / "carphone_qcif_16f.mp4") as src:
            assert (src.info.width, src.info.height, src.info.n_frames) == (176, 144, 16)
            assert src.info.fps == Fraction(25)
            assert sum(1 for _ in src) == 16

    def test_odd_size_has_rounded_up_chroma(self):
        with open_video(SAMPLES / "carphone_37x29_6f.y4m") as src:
            assert src.info.chroma_shape == (15, 19)
            frames = list(src)
        assert len(frames) == 6
        assert [p.shape for p in frames[0]] == [(29, 37), (15, 19), (15, 19)]

    def test_read_range_matches_iteration(self):
        with open_video(SAMPLES / "carphone_qcif_16f.mp4") as src:
            every = list(src)
            part = src.read(13, 3)
            assert src.read(0, 0) == []
        assert len(part) == 3
        for got, want in zip(part, every[13:]):
            assert all(np.array_equal(g, w) for g, w in zip(got, want))

    def test_read_rejects_out_of_range(self):
        with open_video(SAMPLES / "carphone_48x32_8f.y4m") as src:
            with pytest.raises(InrInputError, match="outside"):
                src.read(6, 3)
            with pytest.raises(InrInputError):
                src.read(-1, 1)

    def test_max_frames_limits_count_and_iteration(self):
        with open_video(SAMPLES / "carphone_48x32_8f.y4m", max_frames=3) as src:
            assert src.info.n_frames == 3
            assert len(list(src)) == 3
        with open_video(SAMPLES / "carphone_48x32_8f.y4m", max_frames=100) as src:
            assert src.info.n_frames == 8

    def test_max_frames_rejects_zero(self):
        with pytest.raises(InrInputError, match="max_frames"):
            open_video(SAMPLES / "carphone_48x32_8f.y4m", max_frames=0)

    def test_iterating_twice_gives_same_frames(self):
        with open_video(SAMPLES / "carphone_37x29_6f.y4m") as src:
            first, second = list(src), list(src)
        assert all(np.array_equal(a, b) for fa, fb in zip(first, second) for a, b in zip(fa, fb))

    def test_mkv_counts_frames_by_demuxing(self, tmp_path):
        path = make_video(tmp_path / "a.mkv", "matroska", "ffv1", "yuv420p", width=9, height=7, n_frames=5,
                          rate=Fraction(30000, 1001))
        with open_video(path) as src:
            assert src.info.n_frames == 5 and (src.info.fps_num, src.info.fps_den) == (30000, 1001)
            frames = list(src)
        assert [p.shape for p in frames[4]] == [(7, 9), (4, 5), (4, 5)]


class TestHeaderCodes:
    def test_codes_round_trip(self):
        for name in ("420", "444"):
            assert chroma_from_code(chroma_code(name)) == name
        for name in ("unknown", "limited", "full"):
            assert color_range_from_code(color_range_code(name)) == name
        for name in ("unknown", "left", "center", "topleft"):
            assert chroma_siting_from_code(chroma_siting_code(name)) == name

    def test_codes_are_the_documented_numbers(self):
        assert (chroma_code("420"), chroma_code("444")) == (0, 1)
        assert [color_range_code(r) for r in ("unknown", "limited", "full")] == [0, 1, 2]
        assert [chroma_siting_code(s) for s in ("unknown", "left", "center", "topleft")] == [0, 1, 2, 3]
        info = VideoInfo(4, 4, 1, 25, 1, chroma="444", color_range="full", chroma_siting="left")
        assert info.to_header_codes() == {"chroma": 1, "color_range": 2, "chroma_siting": 1}

    def test_from_code_rejects_unknown_code(self):
        with pytest.raises(InrFormatError):
            color_range_from_code(3)
        with pytest.raises(InrFormatError):
            chroma_siting_from_code(-1)

    def test_info_rejects_unknown_names(self):
        with pytest.raises(InrInputError):
            VideoInfo(4, 4, 1, 25, 1, chroma="422")
        with pytest.raises(InrInputError):
            color_range_code("tv")


class TestConversion:
    def _open_warned(self, path):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            src = open_video(path)
        return src, [str(w.message) for w in caught]

    def test_rgb24_becomes_yuv444_with_warning(self, tmp_path):
        path = make_video(tmp_path / "rgb.nut", "nut", "rawvideo", "rgb24", fill=255)
        src, messages = self._open_warned(path)
        with src:
            frames = list(src)
        assert len(messages) == 1 and "rgb24" in messages[0] and "yuv444p" in messages[0]
        assert (src.info.chroma, src.info.color_range, src.info.matrix) == ("444", "limited", 6)
        # White through BT.601 limited range: Y 235, neutral chroma.
        assert np.all(frames[0][0] == 235) and np.all(frames[0][1] == 128) and np.all(frames[0][2] == 128)

    def test_yuv422p_becomes_yuv420_keeping_luma(self, tmp_path):
        path = make_video(tmp_path / "s.y4m", "yuv4mpegpipe", "rawvideo", "yuv422p", width=7, height=5)
        src, messages = self._open_warned(path)
        with src:
            frames = list(src)
        assert len(messages) == 1 and "yuv422p" in messages[0] and "yuv420p" in messages[0]
        assert src.info.chroma == "420" and src.info.source_pix_fmt == "yuv422p"
        assert [p.shape for p in frames[0]] == [(5, 7), (3, 4), (3, 4)]
        raw = make_raw_luma(7, 5, seed=0)
        assert np.array_equal(frames[0][0], raw)

    def test_ten_bit_becomes_eight_bit(self, tmp_path):
        path = make_video(tmp_path / "t.mkv", "matroska", "ffv1", "yuv420p10le", n_frames=2)
        src, messages = self._open_warned(path)
        with src:
            frames = list(src)
        assert "yuv420p10le" in messages[0] and src.info.bit_depth == 8
        assert len(frames) == 2 and frames[0][0].dtype == np.uint8

    def test_native_full_range_is_not_converted(self, tmp_path):
        path = make_video(tmp_path / "j.y4m", "yuv4mpegpipe", "rawvideo", "yuvj420p", fill=3)
        src, messages = self._open_warned(path)
        with src:
            frames = list(src)
        assert messages == [] and src.info.color_range == "full"
        # Full range keeps code values below 16 as they are.
        assert np.all(frames[0][0] == 3)


def make_raw_luma(width, height, seed):
    """The luma plane make_video writes for frame ``seed`` (the first width*height random bytes, row-major)."""
    frame = av.VideoFrame(width, height, "yuv422p")
    plane = frame.planes[0]
    data = np.random.default_rng(seed).integers(0, 256, plane.buffer_size, dtype=np.uint8)
    return data.reshape(-1, plane.line_size)[:height, :width]


class TestBadInputs:
    def test_missing_file(self, tmp_path):
        with pytest.raises(InrInputError, match="not found") as e:
            open_video(tmp_path / "nope.mp4")
        assert "nope.mp4" in str(e.value)

    def test_garbage_file(self, tmp_path):
        path = tmp_path / "garbage.mp4"
        path.write_bytes(b"this is not a video\n" * 50)
        with pytest.raises(InrInputError, match="garbage.mp4"):
            open_video(path)

    def test_empty_file(self, tmp_path):
        path = tmp_path / "empty.y4m"
        path.write_bytes(b"")
        with pytest.raises(InrInputError):
            open_video(path)

    def test_directory(self, tmp_path):
        with pytest.raises(InrInputError, match="regular file"):
            open_video(tmp_path)

    def test_audio_only(self, tmp_path):
        path = tmp_path / "tone.wav"
        with av.open(str(path), "w") as container:
            stream = container.add_stream("pcm_s16le", rate=8000)
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
            frame.sample_rate = 8000
            for packet in stream.encode(frame):
                container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        with pytest.raises(InrInputError, match="no video stream") as e:
            open_video(path)
        assert str(path) in str(e.value) and "\n" not in str(e.value)

    def test_header_without_frames(self, tmp_path):
        path = tmp_path / "noframes.y4m"
        path.write_bytes(b"YUV4MPEG2 W8 H6 F25:1 Ip A0:0 C420jpeg XYSCSS=420JPEG\n")
        with pytest.raises(InrInputError, match="no frames"):
            open_video(path)

    def test_absurd_dimensions(self, tmp_path):
        path = tmp_path / "huge.y4m"
        path.write_bytes(b"YUV4MPEG2 W20000 H8 F25:1 Ip A0:0 C420jpeg XYSCSS=420JPEG\nFRAME\n")
        with pytest.raises(InrInputError, match="dimensions 20000x8"):
            open_video(path)


def test_docstring_examples_run(monkeypatch):
    import doctest

    import inrcodec.io.video

    # The example names a sample relative to the repository root.
    monkeypatch.chdir(SAMPLES.parent)
    result = doctest.testmod(inrcodec.io.video)
    assert result.failed == 0 and result.attempted > 0
