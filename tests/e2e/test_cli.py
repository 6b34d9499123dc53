"""The command line: enc -> info -> dec on tiny clips, its output formats, and its errors and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from inrcodec.cli import main
from inrcodec.errors import InrChecksumError, InrFormatError, InrInputError, InrIOError, InrTruncatedError
from inrcodec.describe import describe

from .conftest import REPO, SAMPLE_48, assert_frames_equal, decode_all, parse_y4m

FAST_ARGS = ["--quality", "1", "--channels", "8,8,8", "--iters", "10", "--p-iters", "5", "--device", "cpu", "--quiet"]
FORMAT_CODES = {InrFormatError.exit_code, InrTruncatedError.exit_code, InrChecksumError.exit_code}


def run(*args):
    """Invoke the CLI in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_one_line_error(result, code):
    """Exit ``code``, and stderr is exactly one 'inrcodec: error:' line."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrcodec: error: "), result.stderr


@pytest.fixture
def workdir(tmp_path):
    """An empty folder; tests check it holds only what they expect afterwards."""
    return tmp_path


class TestEncode:
    def test_prints_a_summary_line_with_bpp_and_psnr(self, workdir):
        out = workdir / "a.inr"
        result = run("enc", SAMPLE_48, "-o", out, "--frames", "2", "--gop", "2", "--gom", "1", *FAST_ARGS)
        assert result.exit_code == 0, result.output
        line = result.stdout.strip()
        assert "\n" not in line
        assert re.search(r"2 frames 48x32, (\d+) bytes, [\d.]+ bpp, .*PSNR-YUV [\d.]+ dB", line), line
        assert int(re.search(r"(\d+) bytes", line).group(1)) == out.stat().st_size

    def test_json_summary_parses_and_matches_the_file(self, workdir):
        out = workdir / "a.inr"
        result = run("enc", SAMPLE_48, "-o", out, "--frames", "2", "--gop", "1", "--gom", "2", "--json", *FAST_ARGS)
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["file_bytes"] == out.stat().st_size
        assert (summary["n_frames"], summary["width"], summary["height"]) == (2, 48, 32)
        assert [g["kind"] for g in summary["gops"]] == ["I", "P"]
        for key in ("bpp", "kbps", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "macs_per_pixel"):
            assert isinstance(summary[key], float), key


class TestInfo:
    def test_json_has_the_fields_and_agrees_with_the_file(self, carphone):
        result = run("info", carphone.path, "--json")
        assert result.exit_code == 0, result.output
        info = json.loads(result.stdout)
        for key in ("file_bytes", "writer_version", "header", "architecture", "parameters_per_model",
                    "macs_per_pixel", "bpp", "overhead_bytes", "goms", "chunks"):
            assert key in info, key
        header = info["header"]
        assert (header["width"], header["height"], header["n_frames"]) == (48, 32, 8)
        assert (header["gop_size"], header["gom_size"]) == (4, 2)
        assert info["file_bytes"] == os.path.getsize(carphone.path)
        assert [m["gop"] for g in info["goms"] for m in g["models"]] == [0, 1]

    def test_text_names_the_header_index_and_overhead(self, carphone):
        result = run("info", carphone.path)
        assert result.exit_code == 0, result.output
        for needle in ("width", "gop_size", "container overhead", "GOM 0", "I-model", "P-model"):
            assert needle in result.stdout, needle


class TestDecode:
    def test_stdout_output_is_the_y4m_of_the_range(self, carphone_gop2):
        result = run("dec", carphone_gop2.path, "-o", "-", "--start", "3", "--frames", "4")
        assert result.exit_code == 0, result.stderr
        fields, frames = parse_y4m(result.stdout_bytes)
        assert (fields["W"], fields["H"], fields["F"]) == ("48", "32", "25:1")
        assert_frames_equal(frames, decode_all(carphone_gop2.path)[3:7])

    @pytest.mark.parametrize("start,count", [(0, 8), (1, 3), (3, 2), (4, 4), (5, 1), (6, 10), (7, 1)])
    def test_range_is_a_slice_of_the_full_decode(self, workdir, carphone_gop2, start, count):
        out = workdir / "part.y4m"
        result = run("dec", carphone_gop2.path, "-o", out, "--start", start, "--frames", count, "--quiet")
        assert result.exit_code == 0, result.stderr
        fields, frames = parse_y4m(out.read_bytes())
        assert (fields["W"], fields["H"]) == ("48", "32")
        assert_frames_equal(frames, decode_all(carphone_gop2.path)[start:start + count])
        assert os.listdir(workdir) == ["part.y4m"]

    def test_a_range_past_the_end_says_how_many_frames_it_wrote(self, workdir, carphone_gop2):
        """issue 22 item 9: --start 6 --frames 5 on an 8-frame file writes 2 frames and says so."""
        out = workdir / "tail.y4m"
        proc = subprocess.run([sys.executable, "-m", "inrcodec.cli", "dec", carphone_gop2.path, "-o", str(out),
                               "--start", "6", "--frames", "5", "--quiet"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert len(parse_y4m(out.read_bytes())[1]) == 2
        assert proc.stderr.strip().splitlines() == [
            "inrcodec: warning: --frames 5 from frame 6 runs past the end of the file (8 frames): wrote 2"]
        within = subprocess.run([sys.executable, "-m", "inrcodec.cli", "dec", carphone_gop2.path, "-o", "-",
                                 "--start", "6", "--frames", "2"], capture_output=True)
        assert within.returncode == 0 and within.stderr == b""

    def test_file_output_then_a_real_process_writing_stdout_agree(self, workdir, oddsize):
        out = workdir / "all.y4m"
        assert run("dec", oddsize.path, "-o", out, "--quiet").exit_code == 0
        proc = subprocess.run([sys.executable, "-m", "inrcodec.cli", "dec", oddsize.path, "-o", "-"],
                              cwd=REPO, capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == out.read_bytes()
        fields, frames = parse_y4m(proc.stdout)
        assert (fields["W"], fields["H"], len(frames)) == ("37", "29", 6)


class TestEncodeErrors:
    @pytest.mark.parametrize("args", [
        ["--gop", "0"],
        ["--gom", "0"],
        ["--patch-size", "16"],  # gnerv has no patches
        ["--model", "nirvana", "--patch-size", "12"],
        ["--model", "nirvana", "--mlp-depth", "0"],
        ["--frames", "0"],
        ["--quality", "12"],
    ])
    def test_bad_option_is_an_input_error_and_writes_nothing(self, workdir, args):
        result = run("enc", SAMPLE_48, "-o", workdir / "a.inr", *FAST_ARGS, *args)
        assert_one_line_error(result, InrInputError.exit_code)
        assert os.listdir(workdir) == []

    def test_missing_source_is_an_input_error(self, workdir):
        result = run("enc", workdir / "nope.y4m", "-o", workdir / "a.inr", *FAST_ARGS)
        assert_one_line_error(result, InrInputError.exit_code)
        assert "nope.y4m" in result.stderr
        assert os.listdir(workdir) == []

    def test_source_that_is_not_a_video_is_an_input_error(self, workdir):
        src = workdir / "noise.y4m"
        src.write_bytes(b"this is not a video\n" * 10)
        result = run("enc", src, "-o", workdir / "a.inr", *FAST_ARGS)
        assert_one_line_error(result, InrInputError.exit_code)
        assert os.listdir(workdir) == ["noise.y4m"]

    def test_unwritable_output_is_an_io_error(self, workdir):
        result = run("enc", SAMPLE_48, "-o", workdir / "missing" / "a.inr", "--frames", "1", "--gop", "1", *FAST_ARGS)
        assert_one_line_error(result, InrIOError.exit_code)
        assert os.listdir(workdir) == []


    def test_full_disk_is_an_io_error_and_leaves_nothing(self, workdir):
        # the partial file beside the output points at /dev/full: every write fails with ENOSPC
        if not os.path.exists("/dev/full"):
            pytest.skip("needs /dev/full")
        os.symlink("/dev/full", workdir / ".a.inr.part")
        result = run("enc", SAMPLE_48, "-o", workdir / "a.inr", "--frames", "2", "--gop", "1", *FAST_ARGS)
        assert_one_line_error(result, InrIOError.exit_code)
        assert "space" in result.stderr.lower()
        assert not (workdir / "a.inr").exists()

    def test_defaults_shrink_to_a_short_video(self, workdir):
        result = run("enc", SAMPLE_48, "-o", workdir / "a.inr", "--json", *FAST_ARGS)
        assert result.exit_code == 0, result.output
        header = describe(workdir / "a.inr")["header"]
        assert (header["gop_size"], header["gom_size"]) == (8, 1)


class TestDecodeErrors:
    @pytest.mark.parametrize("command", ["dec", "info"])
    def test_missing_file_fails_with_one_line(self, workdir, command):
        extra = ["-o", workdir / "out.y4m"] if command == "dec" else []
        result = run(command, workdir / "nope.inr", *extra)
        assert result.exit_code != 0
        assert_one_line_error(result, result.exit_code)
        assert os.listdir(workdir) == []

    @pytest.mark.parametrize("command", ["dec", "info"])
    def test_garbage_is_a_format_error(self, workdir, command):
        bad = workdir / "garbage.inr"
        bad.write_bytes(bytes(range(256)) * 4)
        extra = ["-o", workdir / "out.y4m"] if command == "dec" else []
        result = run(command, bad, *extra)
        assert result.exit_code in FORMAT_CODES
        assert_one_line_error(result, result.exit_code)
        assert os.listdir(workdir) == ["garbage.inr"]

    @pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
    def test_truncated_file_is_a_format_error_and_leaves_no_output(self, workdir, carphone_gop2, keep):
        data = open(carphone_gop2.path, "rb").read()
        cut = workdir / "cut.inr"
        cut.write_bytes(data[:int(len(data) * keep)])
        result = run("dec", cut, "-o", workdir / "out.y4m", "--quiet")
        assert result.exit_code in FORMAT_CODES
        assert_one_line_error(result, result.exit_code)
        assert os.listdir(workdir) == ["cut.inr"]

    def test_truncated_file_raises_truncated_error_from_the_api(self, workdir, carphone_gop2):
        from inrcodec.api import open as open_inr

        data = open(carphone_gop2.path, "rb").read()
        cut = workdir / "cut.inr"
        cut.write_bytes(data[:len(data) // 2])
        with pytest.raises(InrTruncatedError):
            open_inr(cut)

    def test_damaged_last_gom_fails_mid_decode_and_leaves_no_output(self, workdir, carphone_gop2):
        # GOM 0 decodes and is written before GOM 1's bad CRC is found: the partial y4m must vanish
        last = [c for c in describe(carphone_gop2.path)["chunks"] if c["gop"] == 3][0]
        data = bytearray(open(carphone_gop2.path, "rb").read())
        data[last["offset"] + last["bytes"] // 2] ^= 0x40
        bad = workdir / "bad.inr"
        bad.write_bytes(bytes(data))
        result = run("dec", bad, "-o", workdir / "out.y4m", "--quiet")
        assert_one_line_error(result, InrChecksumError.exit_code)
        assert os.listdir(workdir) == ["bad.inr"]

    @pytest.mark.parametrize("args", [["--start", "8"], ["--start", "-1"], ["--frames", "0"]])
    def test_bad_range_is_an_input_error(self, workdir, carphone, args):
        result = run("dec", carphone.path, "-o", workdir / "out.y4m", *args)
        assert_one_line_error(result, InrInputError.exit_code)
        assert os.listdir(workdir) == []
