"""inrcodec.io.video: reading real samples, odd sizes, 10/12-bit video, pixel-format conversion and bad inputs."""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from inrcodec.errors import InrInputError
from inrcodec.io.video import (
    ALLOWED_BIT_DEPTHS,
    VideoInfo,
    plane_array,
    open_video,
    sample_dtype,
)

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def mux(path, fmt, codec, pix_fmt, width, height, frames, rate=Fraction(25, 1)):
    """Encode and mux PyAV ``frames`` into ``path``; returns the path."""
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for i, frame in enumerate(frames):
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_video(path, fmt, codec, pix_fmt, width=8, height=6, n_frames=3, fill=None, rate=Fraction(25, 1)):
    """Write a tiny clip with PyAV: random planes (seeded per frame), or every byte ``fill``."""
    def frames():
        for i in range(n_frames):
            frame = av.VideoFrame(width, height, pix_fmt)
            for plane in frame.planes:
                if fill is None:
                    data = np.random.default_rng(i).integers(0, 256, plane.buffer_size, dtype=np.uint8).tobytes()
                else:
                    data = bytes([fill]) * plane.buffer_size
                memoryview(plane)[:] = data
            yield frame
    return mux(path, fmt, codec, pix_fmt, width, height, frames(), rate)


def deep_planes(width, height, chroma, bit_depth, seed):
    """Random (Y, U, V) native uint16 planes holding 0 .. 2**bit_depth - 1."""
    rng = np.random.default_rng(seed)
    ch, cw = ((height + 1) // 2, (width + 1) // 2) if chroma == "420" else (height, width)
    top = 1 << bit_depth
    return (
        rng.integers(0, top, (height, width), dtype=np.uint16),
        rng.integers(0, top, (ch, cw), dtype=np.uint16),
        rng.integers(0, top, (ch, cw), dtype=np.uint16),
    )


def deep_frame(pix_fmt, frame_planes):
    """A PyAV frame of a planar 16-bit-sample format holding ``frame_planes``."""
    height, width = frame_planes[0].shape
    frame = av.VideoFrame(width, height, pix_fmt)
    order = ">" if av.VideoFormat(pix_fmt).is_big_endian else "<"
    for plane, data in zip(frame.planes, frame_planes):
        rows = np.frombuffer(plane, dtype=order + "u2").reshape(-1, plane.line_size // 2)
        rows[: data.shape[0], : data.shape[1]] = data
    return frame


def make_deep_video(path, fmt, codec, pix_fmt, frames):
    """Write ``frames`` (lists of 16-bit planes) with PyAV in ``pix_fmt``; returns the path."""
    height, width = frames[0][0].shape
    return mux(path, fmt, codec, pix_fmt, width, height, (deep_frame(pix_fmt, f) for f in frames))


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
    def test_info_gives_the_enums_numbers(self):
        info = VideoInfo(4, 4, 1, 25, 1, chroma="444", color_range="full", chroma_siting="left")
        assert info.to_header_codes() == {"chroma": 1, "color_range": 2, "chroma_siting": 1}

    def test_info_rejects_unknown_names(self):
        with pytest.raises(InrInputError):
            VideoInfo(4, 4, 1, 25, 1, chroma="422")
        with pytest.raises(InrInputError):
            VideoInfo(4, 4, 1, 25, 1, color_range="tv")


def open_warned(path):
    """open_video(path) and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        src = open_video(path)
    return src, [str(w.message) for w in caught]


class TestConversion:
    def test_rgb24_becomes_yuv444_with_warning(self, tmp_path):
        path = make_video(tmp_path / "rgb.nut", "nut", "rawvideo", "rgb24", fill=255)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert len(messages) == 1 and "rgb24" in messages[0] and "yuv444p" in messages[0]
        assert (src.info.chroma, src.info.color_range, src.info.matrix) == ("444", "limited", 6)
        # White through BT.601 limited range: Y 235, neutral chroma.
        assert np.all(frames[0][0] == 235) and np.all(frames[0][1] == 128) and np.all(frames[0][2] == 128)

    def test_yuv422p_becomes_yuv420_keeping_luma(self, tmp_path):
        path = make_video(tmp_path / "s.y4m", "yuv4mpegpipe", "rawvideo", "yuv422p", width=7, height=5)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert len(messages) == 1 and "yuv422p" in messages[0] and "yuv420p" in messages[0]
        assert src.info.chroma == "420" and src.info.source_pix_fmt == "yuv422p"
        assert [p.shape for p in frames[0]] == [(5, 7), (3, 4), (3, 4)]
        raw = make_raw_luma(7, 5, seed=0)
        assert np.array_equal(frames[0][0], raw)

    def test_ten_bit_ffv1_is_read_natively(self, tmp_path):
        written = [deep_planes(9, 7, "420", 10, seed=i) for i in range(2)]
        path = make_deep_video(tmp_path / "t.mkv", "matroska", "ffv1", "yuv420p10le", written)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert messages == [] and src.info.bit_depth == 10 and src.info.source_pix_fmt == "yuv420p10le"
        assert len(frames) == 2 and frames[0][0].dtype == np.uint16
        for got, want in zip(frames, written):
            assert all(np.array_equal(g, w) for g, w in zip(got, want))

    def test_native_full_range_is_not_converted(self, tmp_path):
        path = make_video(tmp_path / "j.y4m", "yuv4mpegpipe", "rawvideo", "yuvj420p", fill=3)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert messages == [] and src.info.color_range == "full"
        # Full range keeps code values below 16 as they are.
        assert np.all(frames[0][0] == 3)


NATIVE_DEEP = [
    (f"yuv{c}p{d}{e}", c, d) for d in (10, 12) for c in ("420", "444") for e in ("le", "be")
]


class TestHighBitDepth:
    @pytest.mark.parametrize("pix_fmt, chroma, depth", NATIVE_DEEP)
    def test_native_format_is_read_untouched(self, tmp_path, pix_fmt, chroma, depth):
        written = [deep_planes(37, 29, chroma, depth, seed=i) for i in range(3)]
        path = make_deep_video(tmp_path / "d.nut", "nut", "rawvideo", pix_fmt, written)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert messages == []
        info = src.info
        assert (info.width, info.height, info.n_frames, info.chroma) == (37, 29, 3, chroma)
        assert (info.bit_depth, info.source_pix_fmt) == (depth, pix_fmt)
        assert len(frames) == 3
        for got, want in zip(frames, written):
            for g, w in zip(got, want):
                # Native byte order whatever the file's, values not shifted to the high bits.
                assert g.dtype == np.dtype(np.uint16) and g.dtype.isnative
                assert np.array_equal(g, w)
        assert int(max(p.max() for p in frames[0])) < 1 << depth

    @pytest.mark.parametrize("pix_fmt", ["yuv420p10be", "yuv444p12be"])
    def test_big_endian_helper_agrees_with_swscale(self, pix_fmt):
        # Guards the test helper: swscale must read the same values from what deep_frame wrote.
        chroma, depth = pix_fmt[3:6], int(pix_fmt[7:9])
        written = deep_planes(37, 29, chroma, depth, seed=5)
        twin = deep_frame(pix_fmt, written).reformat(format=pix_fmt[:-2] + "le")
        for plane, want in zip(twin.planes, written):
            rows = np.frombuffer(plane, dtype="<u2").reshape(-1, plane.line_size // 2)
            assert np.array_equal(rows[: plane.height, : plane.width], want)

    def test_yuv422p10le_keeps_ten_bits_with_warning(self, tmp_path):
        written = [deep_planes(37, 29, "444", 10, seed=i) for i in range(3)]
        # 4:2:2 planes: full-height, half-width chroma.
        written = [(y, u[:, :19], v[:, :19]) for y, u, v in written]
        path = make_deep_video(tmp_path / "s.nut", "nut", "rawvideo", "yuv422p10le", written)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert len(messages) == 1 and "yuv422p10le" in messages[0] and "yuv420p10le" in messages[0]
        assert (src.info.bit_depth, src.info.chroma, src.info.source_pix_fmt) == (10, "420", "yuv422p10le")
        assert [p.shape for p in frames[0]] == [(29, 37), (15, 19), (15, 19)]
        assert all(p.dtype == np.uint16 for p in frames[0])
        assert np.array_equal(frames[2][0], written[2][0])

    def test_gray12le_keeps_twelve_bits_with_neutral_chroma(self, tmp_path):
        # (p010le would be the obvious semi-planar case, but nut and avi store it as rgb555le.)
        luma = np.full((29, 37), 3000, np.uint16)
        path = make_deep_video(tmp_path / "g.nut", "nut", "rawvideo", "gray12le", [(luma,)] * 2)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert len(messages) == 1 and "gray12le" in messages[0] and "yuv420p12le" in messages[0]
        assert (src.info.bit_depth, src.info.chroma) == (12, "420")
        assert frames[0][0].dtype == np.uint16 and np.all(frames[0][0] == 3000)  # levels copied, not rescaled
        assert np.all(frames[0][1] == 2048) and np.all(frames[0][2] == 2048)

    @pytest.mark.parametrize(
        "pix_fmt, target, depth, chroma, shift",
        [
            ("yuv420p9le", "yuv420p10le", 10, "420", 1),
            ("yuv444p14le", "yuv444p12le", 12, "444", -2),
            ("yuv420p16le", "yuv420p12le", 12, "420", -4),
        ],
    )
    def test_other_depths_round_to_ten_or_twelve(self, tmp_path, pix_fmt, target, depth, chroma, shift):
        src_depth = int(pix_fmt[7:9].rstrip("l"))
        written = [deep_planes(37, 29, chroma, src_depth, seed=i) for i in range(3)]
        path = make_deep_video(tmp_path / "o.nut", "nut", "rawvideo", pix_fmt, written)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert len(messages) == 1 and pix_fmt in messages[0] and target in messages[0]
        assert (src.info.bit_depth, src.info.chroma) == (depth, chroma)
        luma = written[0][0].astype(np.int64)
        want = luma << shift if shift > 0 else luma >> -shift
        # swscale dithers when it drops bits, so a sample may land one code above.
        assert np.abs(frames[0][0].astype(np.int64) - want).max() <= 1
        assert int(frames[0][0].max()) < 1 << depth

    def test_gbrp10le_becomes_yuv444p10le_bt601_limited(self, tmp_path):
        white = np.full((29, 37), 1023, np.uint16)
        path = make_deep_video(tmp_path / "g.nut", "nut", "rawvideo", "gbrp10le", [(white,) * 3] * 2)
        src, messages = open_warned(path)
        with src:
            frames = list(src)
        assert len(messages) == 1 and "gbrp10le" in messages[0] and "yuv444p10le" in messages[0]
        assert (src.info.chroma, src.info.bit_depth, src.info.color_range, src.info.matrix) == ("444", 10, "limited", 6)
        y, u, v = frames[0]
        # Limited-range white is 940 at 10 bits; swscale's >8-bit RGB input path lands a few codes above (943).
        assert y.dtype == np.uint16 and np.all(np.abs(y.astype(int) - 940) <= 4)
        assert np.all(u == 512) and np.all(v == 512)

    def test_out_of_range_samples_are_refused(self, tmp_path):
        y, u, v = deep_planes(9, 7, "420", 10, seed=0)
        y[3, 4] = 1024
        path = make_deep_video(tmp_path / "bad.nut", "nut", "rawvideo", "yuv420p10le", [(y, u, v)])
        with open_video(path) as src:
            with pytest.raises(InrInputError, match="plane Y has sample 1024, above 1023"):
                list(src)

    def test_plane_array_reads_each_byte_order(self):
        planes = deep_planes(37, 29, "444", 12, seed=3)
        for pix_fmt, dtype in (("yuv444p12le", "<u2"), ("yuv444p12be", ">u2")):
            frame = deep_frame(pix_fmt, planes)
            got = plane_array(frame.planes[1], np.dtype(dtype))
            assert got.dtype == np.dtype(np.uint16) and got.flags.c_contiguous
            assert np.array_equal(got, planes[1])
        frame = av.VideoFrame(37, 29, "yuv420p")
        assert plane_array(frame.planes[1]).shape == (15, 19) and plane_array(frame.planes[1]).dtype == np.uint8
        with pytest.raises(ValueError):
            plane_array(frame.planes[0], np.float32)

    def test_sample_dtype_and_info_validate_depth(self):
        assert ALLOWED_BIT_DEPTHS == (8, 10, 12)
        assert [sample_dtype(d) for d in ALLOWED_BIT_DEPTHS] == [np.uint8, np.uint16, np.uint16]
        for bad in (9, 16, 0, True, 10.0):
            with pytest.raises(InrInputError, match="8, 10, 12"):
                sample_dtype(bad)
        assert VideoInfo(4, 4, 1, 25, 1, bit_depth=12).bit_depth == 12
        with pytest.raises(InrInputError, match="bit depth"):
            VideoInfo(4, 4, 1, 25, 1, bit_depth=16)


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
