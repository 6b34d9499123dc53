"""inrcodec.io.y4m: headers and bytes as FFmpeg writes them at 8, 10 and 12 bits, PyAV round trips, atomic output."""

from __future__ import annotations

import io
import os
import sys
import warnings
from fractions import Fraction

import av
import numpy as np
import pytest

from inrcodec.errors import InrIOError
from inrcodec.io.video import chroma_shape, open_video
from inrcodec.io.y4m import Y4MWriter, y4m_header


def random_frames(width, height, chroma, n_frames, seed=0, bit_depth=8):
    """n_frames of random (Y, U, V) planes: uint8 at 8 bits, uint16 below 2**bit_depth above."""
    rng = np.random.default_rng(seed)
    ch, cw = chroma_shape(width, height, chroma)
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    top = 1 << bit_depth
    return [
        (
            rng.integers(0, top, (height, width), dtype=dtype),
            rng.integers(0, top, (ch, cw), dtype=dtype),
            rng.integers(0, top, (ch, cw), dtype=dtype),
        )
        for _ in range(n_frames)
    ]


def ffmpeg_y4m(frames, width, height, pix_fmt, rate, color_range=None):
    """The bytes FFmpeg's yuv4mpegpipe muxer (through PyAV) writes for these frames."""
    out = io.BytesIO()
    # The muxer refuses formats above 8 bits unless strict compliance is lowered to -1 ("unofficial").
    options = {} if av.VideoFormat(pix_fmt).components[0].bits == 8 else {"strict": "-1"}
    with av.open(out, "w", format="yuv4mpegpipe", options=options) as container:
        stream = container.add_stream("rawvideo", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if color_range is not None:
            stream.codec_context.color_range = color_range
        for i, planes in enumerate(frames):
            frame = av.VideoFrame(width, height, pix_fmt)
            for plane, data in zip(frame.planes, planes):
                # The high-bit-depth formats used here are all little-endian ("...le").
                sample = np.dtype(np.uint8) if data.dtype == np.uint8 else np.dtype("<u2")
                rows = np.frombuffer(plane, dtype=sample).reshape(-1, plane.line_size // sample.itemsize)
                rows[: data.shape[0], : data.shape[1]] = data
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def write_bytes(frames, width, height, chroma, fps=(25, 1), **kw):
    """The bytes Y4MWriter writes for these frames."""
    out = io.BytesIO()
    with Y4MWriter(out, width, height, *fps, chroma, **kw) as writer:
        for frame in frames:
            writer.write_frame(frame)
    return out.getvalue()


class TestHeader:
    @pytest.mark.parametrize(
        "args, expected",
        [
            ((176, 144, 25, 1, "420"), b"YUV4MPEG2 W176 H144 F25:1 Ip A0:0 C420jpeg XYSCSS=420JPEG\n"),
            ((37, 29, 30000, 1001, "420", "limited", "center"),
             b"YUV4MPEG2 W37 H29 F30000:1001 Ip A0:0 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED\n"),
            ((64, 48, 50, 2, "444", "full", "left"),
             b"YUV4MPEG2 W64 H48 F25:1 Ip A0:0 C444 XYSCSS=444 XCOLORRANGE=FULL\n"),
            ((720, 576, 25, 1, "420", "limited", "left"),
             b"YUV4MPEG2 W720 H576 F25:1 Ip A0:0 C420mpeg2 XYSCSS=420MPEG2 XCOLORRANGE=LIMITED\n"),
            ((720, 576, 25, 1, "420", "unknown", "topleft"),
             b"YUV4MPEG2 W720 H576 F25:1 Ip A0:0 C420paldv XYSCSS=420PALDV\n"),
        ],
    )
    def test_header_is_byte_exact(self, args, expected):
        assert y4m_header(*args) == expected

    @pytest.mark.parametrize(
        "args, kw, expected",
        [
            ((37, 29, 25, 1, "420"), {"bit_depth": 10}, b"YUV4MPEG2 W37 H29 F25:1 Ip A0:0 C420p10 XYSCSS=420P10\n"),
            ((37, 29, 25, 1, "444", "limited"), {"bit_depth": 10},
             b"YUV4MPEG2 W37 H29 F25:1 Ip A0:0 C444p10 XYSCSS=444P10 XCOLORRANGE=LIMITED\n"),
            ((37, 29, 30000, 1001, "420", "full"), {"bit_depth": 12},
             b"YUV4MPEG2 W37 H29 F30000:1001 Ip A0:0 C420p12 XYSCSS=420P12 XCOLORRANGE=FULL\n"),
            ((37, 29, 25, 1, "444"), {"bit_depth": 12}, b"YUV4MPEG2 W37 H29 F25:1 Ip A0:0 C444p12 XYSCSS=444P12\n"),
            # FFmpeg has no siting variants above 8 bits.
            ((37, 29, 25, 1, "420", "unknown", "left"), {"bit_depth": 10},
             b"YUV4MPEG2 W37 H29 F25:1 Ip A0:0 C420p10 XYSCSS=420P10\n"),
        ],
    )
    def test_high_bit_depth_header_is_byte_exact(self, args, kw, expected):
        assert y4m_header(*args, **kw) == expected

    def test_sample_aspect_is_written_when_known(self):
        assert b" A16:11 " in y4m_header(720, 576, 25, 1, "420", sample_aspect=(16, 11))

    def test_header_rejects_bad_values(self):
        with pytest.raises(ValueError):
            y4m_header(0, 10, 25, 1, "420")
        with pytest.raises(ValueError):
            y4m_header(10, 10, 25, 0, "420")
        with pytest.raises(ValueError):
            y4m_header(10, 10, 25, 1, "422")
        with pytest.raises(ValueError):
            y4m_header(10, 10, 25, 1, "420", color_range="tv")
        for depth in (9, 16, True, 10.0):
            with pytest.raises(ValueError, match="bit depth"):
                y4m_header(10, 10, 25, 1, "420", bit_depth=depth)


class TestMatchesFFmpeg:
    @pytest.mark.parametrize(
        "width, height, chroma, pix_fmt, rate, color_range, av_range",
        [
            (16, 8, "420", "yuv420p", (25, 1), "unknown", None),
            (37, 29, "420", "yuv420p", (30000, 1001), "limited", 1),
            (5, 3, "444", "yuv444p", (24, 1), "full", 2),
        ],
    )
    def test_whole_file_equals_ffmpeg_muxer(self, width, height, chroma, pix_fmt, rate, color_range, av_range):
        frames = random_frames(width, height, chroma, 3)
        ours = write_bytes(frames, width, height, chroma, rate, color_range=color_range)
        theirs = ffmpeg_y4m(frames, width, height, pix_fmt, Fraction(*rate), av_range)
        assert ours == theirs

    @pytest.mark.parametrize(
        "chroma, depth, pix_fmt, color_range, av_range",
        [
            ("420", 10, "yuv420p10le", "unknown", None),
            ("444", 10, "yuv444p10le", "limited", 1),
            ("420", 12, "yuv420p12le", "full", 2),
            ("444", 12, "yuv444p12le", "unknown", None),
        ],
    )
    def test_high_bit_depth_file_equals_ffmpeg_muxer(self, chroma, depth, pix_fmt, color_range, av_range):
        frames = random_frames(37, 29, chroma, 3, seed=depth, bit_depth=depth)
        ours = write_bytes(frames, 37, 29, chroma, (30000, 1001), color_range=color_range, bit_depth=depth)
        theirs = ffmpeg_y4m(frames, 37, 29, pix_fmt, Fraction(30000, 1001), av_range)
        assert ours.split(b"\n", 1)[0] == theirs.split(b"\n", 1)[0]
        assert ours == theirs
        # Little-endian 16-bit samples, no padding: header, then per frame FRAME\n and every sample.
        ch, cw = chroma_shape(37, 29, chroma)
        assert len(ours) == len(ours.split(b"\n", 1)[0]) + 1 + 3 * (6 + 2 * (37 * 29 + 2 * ch * cw))


class TestRoundTrip:
    @pytest.mark.parametrize("width, height, chroma", [(16, 8, "420"), (37, 29, "420"), (13, 7, "444")])
    def test_pyav_reads_back_same_planes(self, tmp_path, width, height, chroma):
        frames = random_frames(width, height, chroma, 4, seed=width)
        path = tmp_path / "out.y4m"
        with Y4MWriter(path, width, height, 30000, 1001, chroma) as writer:
            for frame in frames:
                writer.write_frame(frame)
        with av.open(str(path), format="yuv4mpegpipe") as container:
            assert container.streams.video[0].codec_context.pix_fmt == ("yuv420p" if chroma == "420" else "yuv444p")
        with open_video(path) as src:
            assert (src.info.width, src.info.height, src.info.n_frames) == (width, height, 4)
            assert (src.info.fps_num, src.info.fps_den, src.info.chroma) == (30000, 1001, chroma)
            back = list(src)
        for got, want in zip(back, frames):
            assert all(np.array_equal(g, w) for g, w in zip(got, want))

    @pytest.mark.parametrize("chroma, depth", [("420", 10), ("444", 10), ("420", 12), ("444", 12)])
    def test_high_bit_depth_reads_back_through_open_video(self, tmp_path, chroma, depth):
        frames = random_frames(37, 29, chroma, 3, seed=depth, bit_depth=depth)
        path = tmp_path / "deep.y4m"
        with Y4MWriter(path, 37, 29, 25, 1, chroma, color_range="limited", bit_depth=depth) as writer:
            for frame in frames:
                writer.write_frame(frame)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            src = open_video(path)
        with src:
            info = src.info
            back = list(src)
        assert (info.width, info.height, info.n_frames, info.chroma) == (37, 29, 3, chroma)
        assert (info.bit_depth, info.source_pix_fmt, info.color_range) == (depth, f"yuv{chroma}p{depth}le", "limited")
        # FFmpeg's high-bit-depth tags carry no siting.
        assert info.chroma_siting == "unknown"
        for got, want in zip(back, frames):
            assert all(g.dtype == np.uint16 and np.array_equal(g, w) for g, w in zip(got, want))

    @pytest.mark.parametrize("color_range", ["limited", "full"])
    @pytest.mark.parametrize("siting", ["left", "center", "topleft"])
    def test_range_and_siting_are_carried(self, tmp_path, color_range, siting):
        path = tmp_path / "tagged.y4m"
        with Y4MWriter(path, 6, 4, 25, 1, "420", color_range=color_range, chroma_siting=siting) as writer:
            writer.write_frame(random_frames(6, 4, "420", 1)[0])
        with open_video(path) as src:
            assert (src.info.color_range, src.info.chroma_siting) == (color_range, siting)


class TestTargets:
    def test_dash_writes_to_stdout(self, monkeypatch):
        class FakeStdout:
            buffer = io.BytesIO()

        monkeypatch.setattr(sys, "stdout", FakeStdout())
        frames = random_frames(4, 2, "420", 2)
        with Y4MWriter("-", 4, 2, 25, 1, "420") as writer:
            for frame in frames:
                writer.write_frame(frame)
        assert FakeStdout.buffer.getvalue() == write_bytes(frames, 4, 2, "420")
        assert not FakeStdout.buffer.closed

    def test_file_object_is_left_open(self):
        out = io.BytesIO()
        with Y4MWriter(out, 2, 2, 25, 1, "444") as writer:
            writer.write_frame(random_frames(2, 2, "444", 1)[0])
        header = b"YUV4MPEG2 W2 H2 F25:1 Ip A0:0 C444 XYSCSS=444\n"
        assert not out.closed and len(out.getvalue()) == len(header) + len(b"FRAME\n") + 12

    def test_path_appears_only_on_close(self, tmp_path):
        path = tmp_path / "out.y4m"
        writer = Y4MWriter(path, 4, 2, 25, 1, "420")
        writer.write_frame(random_frames(4, 2, "420", 1)[0])
        assert not path.exists()
        writer.close()
        assert path.exists() and os.listdir(tmp_path) == ["out.y4m"]

    def test_exception_leaves_no_file(self, tmp_path):
        path = tmp_path / "out.y4m"
        with pytest.raises(RuntimeError):
            with Y4MWriter(path, 4, 2, 25, 1, "420") as writer:
                writer.write_frame(random_frames(4, 2, "420", 1)[0])
                raise RuntimeError("decoder failed")
        assert os.listdir(tmp_path) == []

    def test_failed_overwrite_keeps_old_file(self, tmp_path):
        path = tmp_path / "out.y4m"
        path.write_bytes(b"previous")
        with pytest.raises(RuntimeError):
            with Y4MWriter(path, 4, 2, 25, 1, "420", overwrite=True):
                raise RuntimeError("decoder failed")
        assert path.read_bytes() == b"previous" and os.listdir(tmp_path) == ["out.y4m"]


class TestErrors:
    def test_missing_directory(self, tmp_path):
        with pytest.raises(InrIOError, match="cannot write") as e:
            Y4MWriter(tmp_path / "no" / "out.y4m", 4, 2, 25, 1, "420")
        assert "\n" not in str(e.value)

    def test_directory_target(self, tmp_path):
        with pytest.raises(InrIOError, match="directory"):
            Y4MWriter(tmp_path, 4, 2, 25, 1, "420")

    @pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to simulate a full disk")
    def test_full_disk(self):
        with open("/dev/full", "wb", buffering=0) as full:
            with pytest.raises(InrIOError, match="No space"):
                with Y4MWriter(full, 4, 2, 25, 1, "420") as writer:
                    writer.write_frame(random_frames(4, 2, "420", 1)[0])

    def test_write_frame_rejects_bad_planes(self, tmp_path):
        with Y4MWriter(io.BytesIO(), 5, 3, 25, 1, "420") as writer:
            y, u, v = random_frames(5, 3, "420", 1)[0]
            with pytest.raises(ValueError, match="plane U"):
                writer.write_frame((y, u[:, :2], v))
            with pytest.raises(TypeError, match="plane Y"):
                writer.write_frame((y.astype(np.int16), u, v))
            with pytest.raises(ValueError, match="3 planes"):
                writer.write_frame((y, u))
            assert writer.n_frames == 0
            writer.write_frame((y, u, v))
            assert writer.n_frames == 1
            with pytest.raises(TypeError, match="uint8"):
                writer.write_frame((y.astype(np.uint16), u, v))

    @pytest.mark.parametrize("depth", [10, 12])
    def test_high_bit_depth_write_frame_rejects_bad_planes(self, depth):
        top = (1 << depth) - 1
        with Y4MWriter(io.BytesIO(), 5, 3, 25, 1, "444", bit_depth=depth) as writer:
            y, u, v = random_frames(5, 3, "444", 1, bit_depth=depth)[0]
            with pytest.raises(TypeError, match="plane U must be a uint16"):
                writer.write_frame((y, u.astype(np.uint8), v))
            with pytest.raises(TypeError, match="uint16"):
                writer.write_frame((y.astype(np.int32), u, v))
            with pytest.raises(ValueError, match="plane V"):
                writer.write_frame((y, u, v[:2]))
            too_big = v.copy()
            too_big[2, 4] = top + 1
            with pytest.raises(ValueError, match=f"plane V has sample {top + 1}, above {top}"):
                writer.write_frame((y, u, too_big))
            assert writer.n_frames == 0
            v[0, 0] = top
            writer.write_frame((y, u, v))
            assert writer.n_frames == 1

    def test_big_endian_planes_are_written_little_endian(self):
        frame = random_frames(5, 3, "420", 1, bit_depth=10)[0]
        swapped = tuple(p.astype(">u2") for p in frame)
        assert write_bytes([swapped], 5, 3, "420", bit_depth=10) == write_bytes([frame], 5, 3, "420", bit_depth=10)
        body = write_bytes([frame], 5, 3, "420", bit_depth=10).split(b"FRAME\n", 1)[1]
        assert body[:2] == int(frame[0][0, 0]).to_bytes(2, "little")

    def test_writer_rejects_unknown_depth(self):
        with pytest.raises(ValueError, match="bit depth"):
            Y4MWriter(io.BytesIO(), 4, 2, 25, 1, "420", bit_depth=16)


def test_docstring_examples_run():
    import doctest

    import inrcodec.io.y4m

    result = doctest.testmod(inrcodec.io.y4m)
    assert result.failed == 0 and result.attempted > 0
