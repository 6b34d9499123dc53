"""The invalid streams and the runner that certifies a decoder (tools/conformance.py, issue 30).

Our decoder must pass the whole suite — golden streams, invalid streams refused with their exit
status, salvage recovering what the manifest says — on every synthesis backend; decoders that are
wrong in the ways an outsider's might be (frames off by 2, every error exit 1, nothing refused)
must fail it.
"""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import conformance as runner  # tools/, on the path through pyproject.toml
import make_conformance as tool
from inrcodec.cli import main as cli

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = runner._load(os.path.join(HERE, runner.INVALID_DIR, runner.INVALID_MANIFEST))["streams"]


def cli_decoder(backend: str) -> runner.Decode:
    """``inrcodec dec`` run in this process (the same code as the command, without a start-up per stream)."""
    def decode(src: str, dst: str, salvage: bool) -> int:
        args = ["dec", src, "-o", dst, "-y", "--quiet", "--backend", backend] + (["--salvage"] if salvage else [])
        return CliRunner().invoke(cli, args).exit_code
    return decode


def failures(rows: list[runner.Row]) -> list[str]:
    return [runner.format_row(r) for r in rows if r.passed is False]


class TestInvalidStreams:
    def test_the_manifest_lists_every_invalid_stream_of_the_tool(self):
        assert [e["name"] for e in MANIFEST] == list(tool.INVALID)
        files = sorted(f for f in os.listdir(os.path.join(HERE, runner.INVALID_DIR)) if f.endswith(".inr"))
        assert files == sorted(e["stream"] for e in MANIFEST)

    @pytest.mark.parametrize("name", list(tool.INVALID))
    def test_each_stream_is_what_the_tool_makes_from_the_goldens(self, name):
        entry = next(e for e in MANIFEST if e["name"] == name)
        data = tool.invalid_bytes(name, HERE)
        assert hashlib.md5(data).hexdigest() == entry["file_md5"]
        with open(os.path.join(HERE, runner.INVALID_DIR, entry["stream"]), "rb") as f:
            assert f.read() == data
        assert entry["exit"] == tool.EXIT_CODES[entry["error"]] and entry["rule"].split(":")[0]

    def test_every_class_of_the_readme_has_streams(self):
        assert {e["exit"] for e in MANIFEST} == {3, 4, 5, 6}
        assert len([e for e in MANIFEST if "salvage_frames" in e]) >= 3


@pytest.mark.parametrize("backend", ["numpy", "ort", "torch"])
def test_our_decoder_passes_the_suite(backend):
    if backend == "torch":
        pytest.importorskip("torch")  # a player-only install has numpy and ort
    rows = runner.run_suite(cli_decoder(backend), HERE)
    assert len(rows) == len(tool.FEATURES) + len(MANIFEST) + len([e for e in MANIFEST if "salvage_frames" in e])
    assert not failures(rows), "\n".join(failures(rows))


def test_the_command_line_runner_certifies_our_decoder(tmp_path):
    """The third-party path: a command template, a table, exit 0 (a few streams of each kind)."""
    dec = f"{sys.executable} -m inrcodec.cli dec {{in}} -o {{out}} -y --quiet --backend numpy"
    salvage = f"{sys.executable} -m inrcodec.cli dec --salvage {{in}} -o {{out}} -y --quiet --backend numpy"
    assert runner.main(["--decoder", dec, "--salvage-decoder", salvage, "--only", "DEPTH10_A", "CUT_GOM",
                        "RANGE_NOT", "LEVEL_MACS", "--json", str(tmp_path / "rows.json")]) == 0
    assert runner.main(["--decoder", f"{sys.executable} -c pass {{in}} {{out}}", "--only", "ODDSIZE_A"]) == 1


def off_by_two(decode: runner.Decode) -> runner.Decode:
    """A decoder whose last luma sample of every frame is 2 too high (or low): beyond the ±1 rule."""
    def wrong(src: str, dst: str, salvage: bool) -> int:
        status = decode(src, dst, salvage)
        if status == 0 and os.path.exists(dst):
            tags, frames = runner.read_y4m(dst)
            with open(dst, "rb") as f:
                data = bytearray(f.read())
            size = 2 if tags["depth"] > 8 else 1
            luma = tags["width"] * tags["height"] * size
            pos = data.index(b"FRAME")
            for frame in frames:
                start = data.index(b"\n", pos) + 1
                at = start + luma - size
                data[at] = data[at] - 2 if data[at] >= 2 else data[at] + 2
                pos = start + len(frame)
            with open(dst, "wb") as f:
                f.write(data)
        return status
    return wrong


@pytest.mark.parametrize("wrong, kinds", [
    (lambda d: off_by_two(d), {"golden", "salvage"}),
    (lambda d: (lambda s, o, v: min(d(s, o, v), 1)), {"invalid"}),  # every error reported as exit 1
    (lambda d: (lambda s, o, v: 0 if d(s, o, v) in (3, 4, 5, 6) else d(s, o, v)), {"invalid"}),  # refuses nothing
])
def test_a_wrong_decoder_fails_the_suite(wrong, kinds):
    only = ["ODDSIZE_A", "DEPTH12_A", "CRC_MODL", "CUT_PREAMBLE", "NEWER_VERSION", "RANGE_NOT"]
    rows = runner.run_suite(wrong(cli_decoder("numpy")), HERE, only=only)
    assert {r.kind for r in rows if r.passed is False} == kinds, [runner.format_row(r) for r in rows]


def test_y4m_reading_follows_ffmpeg_for_high_depths(tmp_path):
    path = tmp_path / "a.y4m"
    planes = [np.full((2, 4), 1000, "<u2"), np.full((1, 2), 3, "<u2"), np.full((1, 2), 4, "<u2")]
    path.write_bytes(b"YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420p10\nFRAME\n" + b"".join(p.tobytes() for p in planes))
    tags, frames = runner.read_y4m(str(path))
    assert tags["depth"] == 10 and len(frames) == 1
    assert [int(p[0, 0]) for p in runner._planes(frames[0], [[2, 4], [1, 2], [1, 2]], 10)] == [1000, 3, 4]


def test_spec_lists_every_invalid_stream_with_its_rule_and_class():
    with open(os.path.join(HERE, "..", "..", "spec", "conformance.md"), encoding="utf-8") as f:
        spec = f.read()
    for e in MANIFEST:
        assert f"| `{e['name']}` | {e['golden'] or '—'} | {e['rule']} | `{e['error']}` | {e['exit']} |" in spec, e["name"]
