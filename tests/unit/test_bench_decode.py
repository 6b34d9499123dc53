"""tools/bench_decode.py: its copy of the quality ladders, and one small run end to end."""

from __future__ import annotations

import json

import pytest

import bench_decode as tool  # tools/, on the path through pyproject.toml


def test_quality_ladders_are_the_encoders():
    pytest.importorskip("torch")
    from inrcodec.models import ARCHITECTURES

    for arch, ladder in tool.QUALITY.items():
        for q, params in ladder.items():
            assert ARCHITECTURES.get(arch).QUALITY[q] == params, (arch, q)


@pytest.mark.slow
def test_a_small_run_writes_its_table(tmp_path):
    tool.main(["--archs", "gnerv", "--qualities", "2", "--sizes", "40x24", "--frames", "3", "--gop", "2",
               "--backends", "ort,numpy", "--threads", "1", "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [(r["backend"], r["frames"]) for r in rows] == [("ort", 3), ("numpy", 3)]
    assert all(r["process_fps"] > 0 and r["loop_fps"] > 0 and r["first_frame_s"] > 0 for r in rows)
    table = (tmp_path / "table.md").read_text()
    assert "| gnerv | 2 | ort |" in table and "40x24 fps (process / loop)" in table
