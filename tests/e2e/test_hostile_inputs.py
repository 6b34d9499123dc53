"""Hostile inputs, second round (issue 32): options and outputs the CLI must refuse in one line,
inputs it must not overwrite, sources it must not cut short without a word."""

from __future__ import annotations

import os

import numpy as np
import pytest
from click.testing import CliRunner

from inrcodec.cli import main
from inrcodec.decode.options import MAX_THREADS

from .conftest import REPO

SMALL = os.path.join(REPO, "tests", "conformance", "MULTIGOM_A", "stream.inr")  # 32x24, 12 frames
FAST_ARGS = ["--quality", "1", "--channels", "8,8,8", "--iters", "2", "--p-iters", "1", "--device", "cpu",
             "--threads", "1", "--quiet"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_one_line_error(result, code, *needles):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrcodec: error: "), result.stderr
    for needle in needles:
        assert str(needle) in lines[0], lines[0]


def write_sequence(folder, n, size=(24, 32), skip=()):
    """``n`` binary PPM frames f_001.ppm .. (numbers in ``skip`` left out); the pattern."""
    folder.mkdir(exist_ok=True)
    for i in range(1, n + 1):
        if i in skip:
            continue
        pixels = np.random.default_rng(i).integers(0, 256, (*size, 3), dtype=np.uint8)
        (folder / f"f_{i:03d}.ppm").write_bytes(b"P6\n%d %d\n255\n" % (size[1], size[0]) + pixels.tobytes())
    return str(folder / "f_%03d.ppm")


# item 4: --threads has an upper bound on every command that takes it
@pytest.mark.parametrize("threads", [MAX_THREADS + 1, 2**31])
def test_dec_refuses_threads_above_the_cap(tmp_path, threads):
    result = run("dec", SMALL, "-o", tmp_path / "a.y4m", "--quiet", "--threads", threads)
    assert result.exit_code == 2  # a click usage error, as --threads 0
    assert f"1<=x<={MAX_THREADS}" in result.stderr
    assert not (tmp_path / "a.y4m").exists()


def test_dec_takes_threads_at_the_cap(tmp_path):
    assert run("dec", SMALL, "-o", tmp_path / "a.y4m", "--quiet", "--threads", 4, "--frames", 1).exit_code == 0


def test_enc_refuses_threads_above_the_cap(tmp_path):
    src = write_sequence(tmp_path / "seq", 2)
    result = run("enc", src, "-o", tmp_path / "a.inr", "--threads", 2**31, "--quiet")
    assert_one_line_error(result, 7, f"--threads must be 1..{MAX_THREADS}", 2**31)


def test_bench_refuses_threads_above_the_cap(tmp_path):
    src = write_sequence(tmp_path / "seq", 2)
    result = run("bench", src, "--threads", 1000, "--out", tmp_path / "b", "--quiet")
    assert_one_line_error(result, 7, f"--threads must be 1..{MAX_THREADS}", 1000)


def test_the_python_decoder_refuses_threads_above_the_cap():
    import inrcodec
    from inrcodec.errors import InrInputError

    with pytest.raises(InrInputError, match=f"1..{MAX_THREADS}"):
        inrcodec.open(SMALL, threads=MAX_THREADS + 1)


# item 7: an image sequence's files are inputs
def test_enc_refuses_to_overwrite_a_file_of_its_image_sequence(tmp_path):
    src = write_sequence(tmp_path / "seq", 3)
    frame = tmp_path / "seq" / "f_002.ppm"
    before = frame.read_bytes()
    result = run("enc", src, "-o", frame, "-y", *FAST_ARGS)
    assert_one_line_error(result, 7, "is the input", "refusing to overwrite it")
    assert frame.read_bytes() == before


def test_pattern_files_match_what_the_pattern_names(tmp_path):
    from inrcodec.io.video import pattern_files

    for name in ("f_001.ppm", "f_0002.ppm", "f_01.ppm", "g_001.ppm", "f_001.ppm.bak"):
        (tmp_path / name).write_bytes(b"")
    assert pattern_files(str(tmp_path / "f_%03d.ppm")) == [(1, str(tmp_path / "f_001.ppm")),
                                                            (2, str(tmp_path / "f_0002.ppm"))]
    assert [n for n, _ in pattern_files(str(tmp_path / "f_%d.ppm"))] == [1, 1, 2]
    assert pattern_files(str(tmp_path / "f_001.ppm")) == []


# item 11: an output name that ends with a slash names a folder
@pytest.mark.parametrize("command", ["dec", "enc"])
def test_an_output_in_a_missing_folder_with_a_trailing_slash_is_refused(tmp_path, command):
    src = SMALL if command == "dec" else write_sequence(tmp_path / "seq", 2)
    extra = ["--quiet"] if command == "dec" else FAST_ARGS
    result = run(command, src, "-o", f"{tmp_path / 'nodir'}/", *extra)
    assert_one_line_error(result, 8, "nodir/", "no such folder")
    assert not (tmp_path / "nodir").exists()


# item 8: numpy frames and y4m headers the encoder cannot use are InrInputErrors naming the problem
def _planes(y=(16, 16), u=(8, 8), v=(8, 8)):
    return [tuple(np.zeros(s, np.uint8) for s in (y, u, v))] * 2


@pytest.mark.parametrize("frames, fps, needle", [
    (np.zeros((2, 0, 8), np.uint8), 25, "unsupported dimensions 8x0"),
    (np.zeros((2, 16, 0, 3), np.uint8), 25, "unsupported dimensions 0x16"),
    (_planes(y=(0, 16), u=(0, 8), v=(0, 8)), 25, "unsupported dimensions 16x0"),
    (_planes(v=(9, 8)), 25, "the V plane's shape (9, 8) differs from the U plane's (8, 8)"),
    (_planes(y=(16,)), 25, "the Y plane must be 2-D"),
    (_planes(y=(16, 16, 2)), 25, "the Y plane must be 2-D"),
    (np.zeros((2, 16, 16), np.uint8), float("inf"), "fps must be a positive number"),
])
def test_encode_refuses_unusable_numpy_frames(tmp_path, frames, fps, needle):
    import inrcodec
    from inrcodec.errors import InrInputError

    with pytest.raises(InrInputError) as caught:
        inrcodec.encode(frames, tmp_path / "a.inr", fps=fps, iters=1, p_iters=1, threads=1, device="cpu")
    assert needle in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "a.inr").exists()


def test_enc_names_a_zero_width_in_a_y4m_header_on_stdin(tmp_path):
    import subprocess
    import sys

    data = b"YUV4MPEG2 W0 H16 F25:1 C420jpeg\nFRAME\n" + bytes(500)
    proc = subprocess.run([sys.executable, "-m", "inrcodec.cli", "enc", "-", "-o", str(tmp_path / "a.inr"),
                           "--quiet"], input=data, capture_output=True)
    assert proc.returncode == 7, proc.stderr
    lines = proc.stderr.decode().strip().splitlines()
    assert lines == ["inrcodec: error: cannot read standard input as a media file: its YUV4MPEG2 header has W0: "
                     "the width must be 1..16384"]


# item 9: a source cut short says so in one note (as FFmpeg warns and goes on with what it has)
def notes_of(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("inrcodec: note: ")]


def test_enc_notes_an_image_sequence_with_a_missing_frame(tmp_path):
    src = write_sequence(tmp_path / "seq", 9, skip=(5,))
    result = run("enc", src, "-o", tmp_path / "a.inr", *[a for a in FAST_ARGS if a != "--quiet"], "--json")
    assert result.exit_code == 0, result.output
    assert '"n_frames": 4' in result.stdout
    assert [n for n in notes_of(result) if "stops" in n] == [
        f"inrcodec: note: the image sequence {src} stops after 4 frames: f_005.ppm is missing; "
        "4 later files from f_006.ppm on are not encoded"]


def test_enc_says_nothing_of_a_whole_sequence_or_one_cut_by_frames(tmp_path):
    src = write_sequence(tmp_path / "seq", 4)
    assert not [n for n in notes_of(run("enc", src, "-o", tmp_path / "a.inr", *FAST_ARGS[:-1])) if "stops" in n]
    src = write_sequence(tmp_path / "gap", 4, skip=(3,))
    result = run("enc", src, "-o", tmp_path / "b.inr", *FAST_ARGS[:-1], "--frames", 2)
    assert result.exit_code == 0 and not [n for n in notes_of(result) if "stops" in n]


def test_enc_notes_a_y4m_cut_inside_a_frame(tmp_path):
    whole = open(os.path.join(REPO, "samples", "carphone_48x32_8f.y4m"), "rb").read()
    cut = tmp_path / "cut.y4m"
    cut.write_bytes(whole[:-1000])  # 8 frames of 2304 bytes: the last loses 1000
    result = run("enc", cut, "-o", tmp_path / "a.inr", *FAST_ARGS[:-1], "--json")
    assert result.exit_code == 0, result.output
    assert '"n_frames": 7' in result.stdout
    assert [n for n in notes_of(result) if "ends inside" in n] == [
        f"inrcodec: note: {cut} ends inside frame 7 (1304 of its 2304 bytes): that partial frame is not encoded, "
        "the 7 complete ones are"]
    whole_copy = tmp_path / "whole.y4m"
    whole_copy.write_bytes(whole)
    assert not [n for n in notes_of(run("enc", whole_copy, "-o", tmp_path / "b.inr", *FAST_ARGS[:-1]))
                if "ends inside" in n]


# item 10: an encode that fails on its source leaves no partial file or journal behind
def test_a_frame_of_another_size_mid_encode_leaves_nothing_to_resume(tmp_path):
    from inrcodec.container.writer import partial_path
    from inrcodec.train.journal import journal_path

    src = write_sequence(tmp_path / "seq", 8)
    odd = np.random.default_rng(5).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    (tmp_path / "seq" / "f_005.ppm").write_bytes(b"P6\n32 32\n255\n" + odd.tobytes())
    dst = tmp_path / "out.inr"
    args = ("enc", src, "-o", dst, "--gop", 2, "--gom", 1, *FAST_ARGS)
    for extra in ((), ("--resume",)):  # a resume starts afresh and stops at the same frame, as it should
        result = run(*args, *extra)
        assert_one_line_error(result, 7, "frame 4 of", "is 32x32, stream is 32x24")
        assert not os.path.exists(partial_path(dst)) and not os.path.exists(journal_path(dst))
        assert not dst.exists()


# item 3: dec checks the chunks between the headers and the first payload chunk, as info does
def _file_with_leading(tmp_path, code: bytes, payload: bytes, *, crc_delta: int = 0, garbage: bool = False,
                       extra: bytes = b"") -> str:
    """A decodable 2-frame file whose first chunk after SHDR is ``code`` (critical types included:
    written as an ancillary placeholder, then renamed and its CRC redone), ``extra`` right after it."""
    import zlib

    from inrcodec.container.chunks import AncillaryChunk, SequenceHeader
    from inrcodec.container.writer import serialize
    from inrcodec.fuzz.synthetic import model_chunks

    header = SequenceHeader(width=32, height=16, n_frames=2, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8,
                            color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=2,
                            gom_size=1, arch_id=1, arch_params=(1, 4, 8, 8, 8), coder_id=1, seed=1)
    placeholders = [AncillaryChunk(b"qqqq", payload)] + ([AncillaryChunk(b"qqqr", extra)] if extra else [])
    data = bytearray(serialize(header, placeholders + model_chunks(header)))
    for mark, new in ((b"qqqq", code), (b"qqqr", b"disp")):
        if mark not in data:
            continue
        at = data.index(mark)
        total = 4 + 1 + len(payload if mark == b"qqqq" else extra)  # payloads here are < 128 bytes: 1-byte length
        data[at:at + 4] = new
        crc = (zlib.crc32(bytes(data[at:at + total])) + (crc_delta if mark == b"qqqq" else 0)) & 0xFFFFFFFF
        data[at + total:at + total + 4] = crc.to_bytes(4, "big")
        if garbage and mark == b"qqqq":
            data[at:at + total + 4] = b"Z" * (total + 4)
    path = tmp_path / f"lead_{code.decode()}_{crc_delta}_{int(garbage)}_{len(extra)}.inr"
    path.write_bytes(bytes(data))
    return str(path)


_DISP = (1).to_bytes(4, "big") * 2 + (90).to_bytes(2, "big") + bytes(2)
_BAD_DISP = (1).to_bytes(4, "big") * 2 + (999).to_bytes(2, "big") + bytes(2)


@pytest.mark.parametrize("code, payload, kwargs, exit_code, needle", [
    (b"XXXX", b"future", {}, 6, "XXXX at offset"),
    (b"DISP", _DISP, {}, 6, "DISP at offset"),
    (b"XXXX", b"future", {"crc_delta": 1}, 5, "CRC"),
    (b"XXXX", b"future", {"garbage": True}, 4, ""),
    (b"GIDX", b"\x00", {}, 3, "GIDX at offset"),
    (b"IEND", bytes(8), {}, 3, "IEND at offset"),
    (b"disp", _DISP, {"extra": _BAD_DISP}, 3, "second disp"),
])
def test_dec_refuses_what_info_refuses_before_the_first_payload_chunk(tmp_path, code, payload, kwargs,
                                                                       exit_code, needle):
    src = _file_with_leading(tmp_path, code, payload, **kwargs)
    for command in (("dec", src, "-o", tmp_path / "a.y4m", "--quiet"), ("info", src)):
        result = run(*command)
        assert_one_line_error(result, exit_code, needle)
    assert not (tmp_path / "a.y4m").exists()


def test_dec_reads_an_unknown_ancillary_chunk_and_one_disp_there(tmp_path):
    src = _file_with_leading(tmp_path, b"abcd", b"anything")
    assert run("dec", src, "-o", tmp_path / "a.y4m", "--quiet").exit_code == 0
    src = _file_with_leading(tmp_path, b"disp", _DISP)
    assert run("dec", src, "-o", tmp_path / "b.y4m", "--quiet").exit_code == 0
