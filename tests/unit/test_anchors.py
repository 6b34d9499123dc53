"""inrcodec.anchors: reference encodes at fixed QP and GOP, the bytes they count, and decoding them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from inrcodec.anchors import (
    ANCHORS,
    SEI_USER_DATA_UNREGISTERED,
    check_preset,
    check_qps,
    decode_anchor,
    display_name,
    encode_anchor,
    get_anchor,
    split_annexb,
    strip_info_sei,
    unsupported_reason,
)
from inrcodec.errors import InrInputError
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

    def test_svtav1_takes_420_only(self):
        assert unsupported_reason(ANCHORS["svt-av1"], "420") is None
        assert "420 chroma only" in unsupported_reason(ANCHORS["svt-av1"], "444")
        assert unsupported_reason(ANCHORS["x264"], "444") is None


@pytest.mark.parametrize("name", list(ANCHORS))
def test_round_trip_of_an_odd_sized_clip(name, tmp_path):
    # 37x29 is padded to 38x30 for the encoder and cropped back; a keyframe every 2 frames.
    stream, y4m = tmp_path / f"a{ANCHORS[name].suffix}", tmp_path / "a.y4m"
    # SVT-AV1's default preset 0 takes seconds even here; 8 is enough to test the plumbing.
    enc = encode_anchor(ODD, stream, name, 20, 2, threads=1, preset="8" if name == "svt-av1" else None)
    assert enc["keyframes"] == [0, 2, 4]
    assert enc["n_frames"] == 6 and (enc["coded_width"], enc["coded_height"]) == (38, 30)
    assert enc["file_bytes"] == os.path.getsize(stream) > 0
    dec = decode_anchor(stream, y4m, name, 37, 29, fps=Fraction(25), threads=1)
    assert dec["n_frames"] == 6
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
    cmd = [sys.executable, "-m", "inrcodec.anchors", "encode", str(ODD), str(tmp_path / "a.h264"), "--codec", "x264",
           "--qp", "30", "--gop", "6", "--threads", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["keyframes"] == [0]
    missing = subprocess.run(cmd[:4] + [str(tmp_path / "none.y4m")] + cmd[5:], capture_output=True, text=True,
                             env=env, timeout=60)
    assert missing.returncode == InrInputError.exit_code
    assert missing.stderr.count("\n") == 1 and "input not found" in missing.stderr
