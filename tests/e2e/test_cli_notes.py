"""What the command line tells people beside its results (issue 22 items 3, 7, 11): plain notes that
--quiet silences and -v/--verbose adds to, colour names, the time an encode will take, --version."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from inrcodec.describe import library_versions

from .conftest import REPO, fast_encode
from .test_source_metadata import make_h264

CLI_FAST = ["--quality", "1", "--channels", "8,8,8", "--iters", "10", "--p-iters", "5", "--device", "cpu",
            "--threads", "1"]


def cli(*args):
    """Run ``python -m inrcodec.cli ARGS`` in a fresh process; (returncode, stdout, stderr) as text."""
    p = subprocess.run([sys.executable, "-m", "inrcodec.cli", *map(str, args)], cwd=REPO, capture_output=True,
                       timeout=300, text=True)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(scope="module")
def yuv422(tmp_path_factory):
    """A 4:2:2 y4m of 4 frames: the encoder converts it to 4:2:0."""
    path = tmp_path_factory.mktemp("notes") / "a422.y4m"
    frame = b"FRAME\n" + bytes([90]) * (48 * 32) + bytes([128]) * (2 * 24 * 32)
    path.write_bytes(b"YUV4MPEG2 W48 H32 F25:1 Ip A0:0 C422 XYSCSS=422\n" + frame * 4)
    return path


@pytest.fixture(scope="module")
def hdr(tmp_path_factory):
    """An .inr of an H.264 source tagged BT.2020 / PQ, limited range."""
    d = tmp_path_factory.mktemp("hdr")
    src = make_h264(d / "hdr.mp4", n=2, x264_params="colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc")
    out = str(d / "hdr.inr")
    fast_encode(src, out, gop=2, gom=1, iters=5)
    return out


class TestNotes:
    def test_conversion_is_one_plain_note(self, yuv422, tmp_path):
        code, _, err = cli("enc", yuv422, "-o", tmp_path / "a.inr", "--gop", "4", "--gom", "1", *CLI_FAST)
        assert code == 0, err
        assert "inrcodec: note: converting yuv422p to yuv420p (4:2:2 is not carried)" in err.splitlines()
        assert "UserWarning" not in err and "InrNotice" not in err and ".py:" not in err

    def test_quiet_prints_nothing(self, yuv422, tmp_path):
        code, _, err = cli("enc", yuv422, "-o", tmp_path / "a.inr", "--gop", "4", "--gom", "1", *CLI_FAST, "--quiet")
        assert code == 0 and err == ""

    def test_verbose_describes_the_source(self, yuv422, tmp_path):
        code, _, err = cli("enc", yuv422, "-o", tmp_path / "a.inr", "--gop", "4", "--gom", "1", *CLI_FAST, "-v")
        assert code == 0, err
        assert re.search(r"inrcodec: note: .*a422\.y4m: yuv422p 48x32, 4 frames at 25 fps, chroma siting", err)

    def test_a_structure_larger_than_the_video_shrinks_to_it_with_one_note(self, tmp_path):
        # the README's --gop 30 --gom 5 on a clip of 8 frames: encoded as one GOP of 8, as x265 takes
        # --keyint 250 on a short clip (issue 29 item 4)
        out = tmp_path / "a.inr"
        code, _, err = cli("enc", "samples/carphone_48x32_8f.y4m", "-o", out, "--gop", "30", "--gom", "5", *CLI_FAST)
        assert code == 0, err
        notes = [line for line in err.splitlines() if "larger than the video" in line]
        assert notes == ["inrcodec: note: --gop 30 --gom 5 is larger than the video (8 frames): "
                         "encoding --gop 8 --gom 1"], err
        code, out_json, err = cli("info", out, "--json")
        assert code == 0, err
        header = json.loads(out_json)["header"]
        assert (header["n_frames"], header["gop_size"], header["gom_size"]) == (8, 8, 1)

    def test_expected_time_before_the_encode(self, tmp_path):
        code, _, err = cli("enc", "samples/carphone_48x32_8f.y4m", "-o", tmp_path / "a.inr", "--gop", "4",
                           "--gom", "2", *CLI_FAST)
        assert code == 0, err
        assert re.search(r"inrcodec: note: about \d+ (s|min|h) for 8 frames at preset medium, --iters 10, "
                         r"--p-iters 5 \(measured on the first \d+ of 15 iterations\)", err), err


class TestColourNames:
    def test_info_names_the_colour_description(self, hdr):
        code, out, err = cli("info", hdr)
        assert code == 0, err
        assert re.search(r"color_primaries +1 +9 \(bt2020\)", out)
        assert re.search(r"transfer +1 +16 \(smpte2084\)", out)
        assert re.search(r"matrix +1 +9 \(bt2020nc\)", out)
        assert "48x32, 2 frames at 25 fps (0.08 s), 8-bit 4:2:0" in out

    def test_info_json_header_is_a_plain_object(self, hdr):
        code, out, err = cli("info", hdr, "--json")
        d = json.loads(out)
        assert d["header"]["color_primaries"] == "bt2020" and d["header"]["transfer"] == "smpte2084"
        assert d["header"]["width"] == 48 and d["header"]["chroma_siting"] == "left"
        assert d["summary"] == "48x32, 2 frames at 25 fps (0.08 s), 8-bit 4:2:0"
        assert {"name": "transfer", "offset": 20, "width": 1, "value": 16, "meaning": "smpte2084"} in d["header_fields"]

    def test_dec_verbose_prints_the_ffmpeg_retag_options(self, hdr, tmp_path):
        out = tmp_path / "a.y4m"
        code, _, err = cli("dec", hdr, "-o", out, "--quiet")
        assert code == 0 and err == ""
        code, _, err = cli("dec", hdr, "-o", out, "-y", "-v")
        assert code == 0, err
        assert (f"inrcodec: note: y4m cannot carry the colour description; to tag the stream again: ffmpeg -i {out} "
                "-color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc") in err


class TestVersion:
    def test_lists_the_libraries(self):
        code, out, _ = cli("--version")
        assert code == 0
        names = [line.split()[0] for line in out.splitlines()]
        assert names[:4] == ["inrcodec", "torch", "PyAV", "constriction"]
        assert re.search(r"^PyAV [\d.]+ \(FFmpeg [\w.-]+\)$", out, re.M)

    def test_missing_library_says_not_installed(self, monkeypatch):
        from importlib import metadata

        real = metadata.version

        def version(dist):
            if dist in ("torch", "av"):
                raise metadata.PackageNotFoundError(dist)
            return real(dist)

        monkeypatch.setattr(metadata, "version", version)
        got = dict(library_versions())
        assert got["torch"] == got["PyAV"] == "not installed" and got["constriction"] != "not installed"
