"""inrcodec.bench.anchors: reference encodes at fixed QP and GOP, the bytes they count, and decoding them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import av

from inrcodec.bench.anchors import (
    ANCHORS,
    SEI_USER_DATA_UNREGISTERED,
    _decoded_planes,
    _video_frame,
    check_preset,
    check_qps,
    decode_anchor,
    display_name,
    encode_anchor,
    get_anchor,
    main,
    pix_fmt_of,
    split_annexb,
    strip_info_sei,
    unsupported_reason,
)
from inrcodec.errors import InrError, InrInputError
from inrcodec.io.video import open_video
from inrcodec.io.y4m import Y4MWriter
from inrcodec.metrics import psnr_yuv

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ODD = SAMPLES / "carphone_37x29_6f.y4m"


def read(path):
    """Every frame of a video file."""
    with open_video(path) as video:
        return list(video)


class TestAnnexB:
    def test_split_keeps_start_codes_with_their_zeros(self):
        data = b"\x00\x00\x00\x01\x67\x01\x02\x00\x00\x01\x68\x03\x00\x00\x00\x01\x65\x04"
        units = split_annexb(data)
        assert units == [(b"\x00\x00\x00\x01", b"\x67\x01\x02"), (b"\x00\x00\x01", b"\x68\x03"),
                         (b"\x00\x00\x00\x01", b"\x65\x04")]
        assert b"".join(p + n for p, n in units) == data

    def test_split_rejects_data_without_start_code(self):
        with pytest.raises(ValueError, match="start code"):
            split_annexb(b"\x67\x01\x02")

    def test_strip_drops_only_h264_user_data_sei(self):
        sps, banner, recovery, idr = b"\x67\x42", b"\x06\x05\x10x264 banner\x80", b"\x06\x06\x01\x80", b"\x65\x88"
        packet = b"".join(b"\x00\x00\x00\x01" + nal for nal in (sps, banner, recovery, idr))
        kept = [nal for _, nal in split_annexb(strip_info_sei(ANCHORS["x264"], packet))]
        assert kept == [sps, recovery, idr]

    def test_strip_reads_extended_payload_types_and_hevc_headers(self):
        # HEVC prefix SEI: NAL header 0x4E 0x01 (type 39); payload type 255 + 6 = 261 is not user data.
        hevc_banner, hevc_other = b"\x4e\x01\x05\x02ab\x80", b"\x4e\x01\xff\x06\x01\x80"
        packet = b"\x00\x00\x01" + hevc_banner + b"\x00\x00\x01" + hevc_other
        kept = [nal for _, nal in split_annexb(strip_info_sei(ANCHORS["x265"], packet))]
        assert kept == [hevc_other]
        assert ANCHORS["x265"].sei_nal_type(hevc_banner) == SEI_USER_DATA_UNREGISTERED

    def test_av1_packets_pass_untouched(self):
        assert strip_info_sei(ANCHORS["svt-av1"], b"\x12\x00\x0a\x0b") == b"\x12\x00\x0a\x0b"


class TestChecks:
    def test_unknown_codec_lists_the_known_ones(self):
        with pytest.raises(InrInputError, match="x264, x265, svt-av1"):
            get_anchor("vp9")

    def test_qps_outside_the_range_or_repeated(self):
        assert check_qps(ANCHORS["x264"], [22, 42]) == (22, 42)
        with pytest.raises(InrInputError, match="QP 52 outside 0..51"):
            check_qps(ANCHORS["x265"], [30, 52])
        with pytest.raises(InrInputError, match="outside 1..63"):
            check_qps(ANCHORS["svt-av1"], [0])
        with pytest.raises(InrInputError, match="repeat"):
            check_qps(ANCHORS["x264"], [30, 30])

    def test_presets(self):
        assert check_preset(ANCHORS["svt-av1"], None) == "0"
        assert display_name(ANCHORS["svt-av1"], "4") == "SVT-AV1 preset 4"
        assert display_name(ANCHORS["x265"]) == "x265 veryslow"
        with pytest.raises(InrInputError, match="unknown preset"):
            check_preset(ANCHORS["x264"], "glacial")

    @pytest.mark.parametrize("name", list(ANCHORS))
    def test_options_fix_the_key_frame_interval(self, name):
        params = next(v for k, v in ANCHORS[name].options(30, 60, ANCHORS[name].preset, None).items()
                      if k.endswith("-params"))
        assert "keyint=60" in params.split(":")
        assert "scenecut=0" in params.split(":") or "scd=0" in params.split(":")

    def test_svtav1_takes_420_only(self):
        assert unsupported_reason(ANCHORS["svt-av1"], "420") is None
        assert "420 chroma only" in unsupported_reason(ANCHORS["svt-av1"], "444")
        assert unsupported_reason(ANCHORS["x264"], "444") is None


@pytest.mark.parametrize("name", list(ANCHORS))
def test_round_trip_of_an_odd_sized_clip(name, tmp_path):
    # 37x29 is padded to 38x30 for the encoder and cropped back; a key frame every 2 frames (keyint 2).
    stream, y4m = tmp_path / f"a{ANCHORS[name].suffix}", tmp_path / "a.y4m"
    # SVT-AV1's default preset 0 takes seconds even here; 8 is enough to test the plumbing.
    enc = encode_anchor(ODD, stream, name, 20, 2, threads=1, preset="8" if name == "svt-av1" else None)
    assert enc["keyframes"] == [0, 2, 4]
    assert enc["n_frames"] == 6 and (enc["coded_width"], enc["coded_height"]) == (38, 30)
    assert enc["file_bytes"] == os.path.getsize(stream) > 0
    dec = decode_anchor(stream, y4m, name, 37, 29, fps=Fraction(25), threads=1)
    assert dec["n_frames"] == 6
    # a benchmark re-run decodes over its own earlier output
    assert decode_anchor(stream, y4m, name, 37, 29, fps=Fraction(25), threads=1)["n_frames"] == 6
    source, decoded = read(ODD), read(y4m)
    assert decoded[0][0].shape == (29, 37) and decoded[0][1].shape == (15, 19)
    assert psnr_yuv(source, decoded)["psnr_yuv"] > 38


def test_x264_stream_holds_no_banner(tmp_path):
    stream = tmp_path / "a.h264"
    encode_anchor(ODD, stream, "x264", 30, 3, threads=1)
    sei_types = [ANCHORS["x264"].sei_nal_type(nal) for _, nal in split_annexb(stream.read_bytes())]
    assert SEI_USER_DATA_UNREGISTERED not in sei_types
    assert b"x264" not in stream.read_bytes()


def test_444_source_keeps_its_pixel_format(tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "s444.y4m"
    base = rng.integers(60, 200, (16, 24), dtype=np.uint8)
    with Y4MWriter(src, 24, 16, 25, 1, "444") as out:
        for t in range(4):
            out.write_frame(tuple(np.roll(base, t + k, axis=1) for k in range(3)))
    enc = encode_anchor(src, tmp_path / "a.hevc", "x265", 10, 4, threads=1)
    assert enc["pix_fmt"] == "yuv444p" and enc["keyframes"] == [0]
    decode_anchor(tmp_path / "a.hevc", tmp_path / "a.y4m", "x265", 24, 16, chroma="444", threads=1)
    decoded = read(tmp_path / "a.y4m")
    assert decoded[0][1].shape == (16, 24)
    assert psnr_yuv(read(src), decoded)["psnr_yuv"] > 35
    with pytest.raises(InrInputError, match="420"):
        encode_anchor(src, tmp_path / "a.obu", "svt-av1", 30, 4)


def test_child_entry_point_prints_json_and_fails_in_one_line(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "inrcodec.bench.anchors", "encode", str(ODD), str(tmp_path / "a.h264"), "--codec", "x264",
           "--qp", "30", "--keyint", "6", "--threads", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["keyframes"] == [0]
    missing = subprocess.run(cmd[:4] + [str(tmp_path / "none.y4m")] + cmd[5:], capture_output=True, text=True,
                             env=env, timeout=60)
    assert missing.returncode == InrInputError.exit_code
    assert missing.stderr.count("\n") == 1 and "input not found" in missing.stderr


# High bit depth: inputs are written by hand (YUV4MPEG2, little-endian uint16 samples) and outputs parsed
# by hand, so these tests depend on inrcodec.io only through what encode and decode themselves call.

def write_deep_y4m(path, frames, depth, chroma="420"):
    """A y4m of (Y, U, V) uint16 frames at ``depth`` bits, as FFmpeg's yuv4mpegpipe muxer lays it out."""
    height, width = frames[0][0].shape
    tag = f"C{chroma}p{depth} XYSCSS={chroma}P{depth}"
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F25:1 Ip A0:0 {tag}\n".encode())
        for planes in frames:
            f.write(b"FRAME\n" + b"".join(p.astype("<u2").tobytes() for p in planes))


def read_deep_y4m(path):
    """(header tokens, frames of native uint16 planes) of a y4m with 2-byte little-endian samples."""
    data = Path(path).read_bytes()
    end = data.index(b"\n")
    tokens = data[:end].decode().split()
    width = int(next(t for t in tokens if t.startswith("W"))[1:])
    height = int(next(t for t in tokens if t.startswith("H"))[1:])
    chroma = next(t for t in tokens if t.startswith("C"))[1:4]
    ch, cw = ((height + 1) // 2, (width + 1) // 2) if chroma == "420" else (height, width)
    sizes = [(height, width), (ch, cw), (ch, cw)]
    frames, pos = [], end + 1
    while pos < len(data):
        assert data[pos:pos + 6] == b"FRAME\n"
        pos += 6
        planes = []
        for h, w in sizes:
            planes.append(np.frombuffer(data, "<u2", h * w, pos).reshape(h, w).astype(np.uint16))
            pos += 2 * h * w
        frames.append(tuple(planes))
    return tokens, frames


def deep_clip(depth, chroma="420", width=33, height=17, n=3, seed=1):
    """Smooth moving gradients plus fine noise, spanning most of the ``depth``-bit range."""
    rng = np.random.default_rng(seed)
    peak = (1 << depth) - 1
    ch, cw = ((height + 1) // 2, (width + 1) // 2) if chroma == "420" else (height, width)
    frames = []
    for t in range(n):
        planes = []
        for k, (h, w) in enumerate([(height, width), (ch, cw), (ch, cw)]):
            yy, xx = np.mgrid[0:h, 0:w]
            smooth = 0.5 + 0.35 * np.sin(0.25 * xx + 0.4 * yy * (k + 1) + 0.3 * t)
            noise = rng.integers(-(peak >> 8), (peak >> 8) + 1, (h, w))
            planes.append(np.clip(np.round(smooth * peak) + noise, 0, peak).astype(np.uint16))
        frames.append(tuple(planes))
    return frames


def psnr_at(source, decoded, peak):
    """PSNR over every sample of every plane of every frame, at ``peak``."""
    err = [np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2) * a.size
           for fa, fb in zip(source, decoded, strict=True) for a, b in zip(fa, fb, strict=True)]
    n = sum(a.size for f in source for a in f)
    return 10 * np.log10(peak ** 2 / max(sum(err) / n, 1e-12))


def stream_profile(stream, anchor):
    """Profile name the demuxer reads from an elementary stream's headers."""
    with av.open(str(stream), "r", format=anchor.raw_format) as container:
        return container.streams.video[0].codec_context.profile


class TestBitDepthChecks:
    def test_pixel_formats(self):
        assert pix_fmt_of("420") == "yuv420p" and pix_fmt_of("444", 8) == "yuv444p"
        assert pix_fmt_of("420", 10) == "yuv420p10le" and pix_fmt_of("444", 12) == "yuv444p12le"
        with pytest.raises(InrInputError, match="bit depth"):
            pix_fmt_of("420", 9)

    def test_unsupported_depths_have_reasons(self):
        assert unsupported_reason(ANCHORS["x265"], "420", 10) is None
        assert unsupported_reason(ANCHORS["x265"], "444", 12) is None
        assert unsupported_reason(ANCHORS["svt-av1"], "420", bit_depth=10) is None
        assert unsupported_reason(ANCHORS["x264"], "444", 10) is None
        assert "8/10-bit video only" in unsupported_reason(ANCHORS["x264"], "420", 12)
        assert "8/10-bit video only, the source is 12-bit" in unsupported_reason(ANCHORS["svt-av1"], "420", 12)
        # Chroma is named first when both are wrong.
        assert "420 chroma only" in unsupported_reason(ANCHORS["svt-av1"], "444", 10)

    def test_this_build_takes_every_declared_depth(self):
        for anchor in ANCHORS.values():
            formats = {f.name for f in av.Codec(anchor.encoder, "w").video_formats}
            for chroma in anchor.chroma:
                for depth in anchor.bit_depths:
                    assert pix_fmt_of(chroma, depth) in formats, (anchor.name, chroma, depth)

    def test_uint16_planes_are_padded_by_edge_repetition(self):
        y = np.arange(17 * 33, dtype=np.uint16).reshape(17, 33) % 1024
        u = (np.arange(9 * 17, dtype=np.uint16).reshape(9, 17) * 7) % 1024
        frame = _video_frame((y, u, u[::-1].copy()), "yuv420p10le", 34, 18, 5, 10)
        assert frame.pts == 5 and frame.format.name == "yuv420p10le"
        planes = [np.frombuffer(p, "<u2").reshape(p.height, -1)[:, : p.width] for p in frame.planes]
        assert planes[0].shape == (18, 34) and planes[1].shape == (9, 17)
        assert np.array_equal(planes[0][:17, :33], y) and np.array_equal(planes[0][17, :33], y[16])
        assert np.array_equal(planes[0][:, 33], planes[0][:, 32])
        assert np.array_equal(planes[1], u) and np.array_equal(planes[2], u[::-1])

    def test_samples_above_the_depth_are_refused(self):
        y = np.full((2, 2), 1024, np.uint16)
        c = np.zeros((1, 1), np.uint16)
        with pytest.raises(InrInputError, match="exceeds the 10-bit maximum 1023"):
            _video_frame((y, c, c), "yuv420p10le", 2, 2, 0, 10)
        with pytest.raises(InrInputError, match="uint16"):
            _video_frame((y.astype(np.uint8), c, c), "yuv420p10le", 2, 2, 0, 10)

    @pytest.mark.parametrize("layout", ["yuv420p10le", "yuv420p10be", "p010le"])
    def test_decoder_layouts_of_the_same_depth_read_the_same(self, layout):
        planes = deep_clip(10, width=34, height=18, n=1)[0]
        frame = _video_frame(planes, "yuv420p10le", 34, 18, 0, 10)
        if layout != "yuv420p10le":
            frame = frame.reformat(format=layout, threads=1)
        got = _decoded_planes(frame, "yuv420p10le", 10, "test")
        assert all(g.dtype == np.uint16 and np.array_equal(g, p) for g, p in zip(got, planes, strict=True))

    def test_decoder_output_of_another_depth_or_chroma_is_an_error(self):
        planes = deep_clip(10, width=4, height=2, n=1)[0]
        frame = _video_frame(planes, "yuv420p10le", 4, 2, 0, 10)
        with pytest.raises(InrError, match="gave yuv420p10le frames, expected yuv420p12le"):
            _decoded_planes(frame, "yuv420p12le", 12, "test")
        with pytest.raises(InrError, match="gave yuv422p10le frames"):
            _decoded_planes(frame.reformat(format="yuv422p10le", threads=1), "yuv420p10le", 10, "test")
        with pytest.raises(InrError, match="gave yuv420p10le frames, expected yuv420p$"):
            _decoded_planes(frame, "yuv420p", 8, "test")


@pytest.mark.parametrize("name, depth, chroma, profile", [
    ("x265", 10, "420", "Main 10"),
    ("svt-av1", 10, "420", "Main"),
    ("x265", 12, "420", "Rext"),
    ("x265", 10, "444", "Rext"),
    ("x264", 10, "420", "High 10"),
])
def test_deep_round_trip_keeps_the_depth(name, depth, chroma, profile, tmp_path):
    anchor = ANCHORS[name]
    src, stream, y4m = tmp_path / "src.y4m", tmp_path / f"a{anchor.suffix}", tmp_path / "a.y4m"
    source = deep_clip(depth, chroma)
    write_deep_y4m(src, source, depth, chroma)
    qp = 8 if name == "svt-av1" else 4
    enc = encode_anchor(src, stream, name, qp, 2, threads=1, preset="8" if name == "svt-av1" else "medium")
    assert enc["pix_fmt"] == pix_fmt_of(chroma, depth) and enc["bit_depth"] == depth
    assert enc["n_frames"] == 3 and (enc["coded_width"], enc["coded_height"]) == (34, 18)
    assert enc["file_bytes"] == os.path.getsize(stream) > 0
    assert stream_profile(stream, anchor) == profile
    dec = decode_anchor(stream, y4m, name, 33, 17, chroma=chroma, threads=1)
    assert dec["n_frames"] == 3 and dec["bit_depth"] == depth
    tokens, decoded = read_deep_y4m(y4m)
    assert f"C{chroma}p{depth}" in tokens
    assert decoded[0][0].shape == (17, 33) and decoded[0][1].shape == source[0][1].shape
    peak = (1 << depth) - 1
    assert max(int(p.max()) for f in decoded for p in f) <= peak
    assert psnr_at(source, decoded, peak) > 40
    # An 8-bit path in disguise would give back multiples of 2**(depth - 8) only.
    assert any(np.any(p % (1 << (depth - 8))) for f in decoded for p in f)


def test_deep_decode_refuses_another_depth_and_encoders_refuse_depths(tmp_path):
    src, stream = tmp_path / "src.y4m", tmp_path / "a.hevc"
    write_deep_y4m(src, deep_clip(10, n=2), 10)
    encode_anchor(src, stream, "x265", 20, 2, threads=1, preset="ultrafast")
    with pytest.raises(InrError, match="gave yuv420p10le frames, expected yuv420p$"):
        decode_anchor(stream, tmp_path / "a.y4m", "x265", 33, 17, bit_depth=8)
    assert not (tmp_path / "a.y4m").exists()
    write_deep_y4m(tmp_path / "s12.y4m", deep_clip(12, n=1), 12)
    with pytest.raises(InrInputError, match="8/10-bit video only, the source is 12-bit"):
        encode_anchor(tmp_path / "s12.y4m", tmp_path / "a.obu", "svt-av1", 30, 4)


def test_child_entry_point_takes_the_depth(tmp_path, capsys):
    src, stream, y4m = tmp_path / "src.y4m", tmp_path / "a.hevc", tmp_path / "a.y4m"
    write_deep_y4m(src, deep_clip(10, n=2), 10)
    assert main(["encode", str(src), str(stream), "--codec", "x265", "--qp", "10", "--keyint", "2",
                 "--preset", "ultrafast", "--threads", "1"]) == 0
    enc = json.loads(capsys.readouterr().out)
    assert (enc["pix_fmt"], enc["bit_depth"], enc["profile"]) == ("yuv420p10le", 10, "main10")
    assert main(["decode", str(stream), str(y4m), "--codec", "x265", "--size", "33x17", "--bit-depth", "10"]) == 0
    assert json.loads(capsys.readouterr().out)["bit_depth"] == 10
    assert "C420p10" in read_deep_y4m(y4m)[0]


def test_8bit_encode_names_no_profile(tmp_path):
    enc = encode_anchor(ODD, tmp_path / "a.hevc", "x265", 30, 6, threads=1, max_frames=2)
    assert (enc["pix_fmt"], enc["bit_depth"], enc["profile"]) == ("yuv420p", 8, None)
    dec = decode_anchor(tmp_path / "a.hevc", tmp_path / "a.y4m", "x265", 37, 29, threads=1)
    assert dec["bit_depth"] == 8
