"""tools/bench_decode.py: its files carry the encoder's quality ladder, and one small run end to end."""

from __future__ import annotations

import json

import pytest

import bench_decode as tool  # tools/, on the path through pyproject.toml


def test_files_carry_the_architectures_quality_ladder(tmp_path):
    from inrcodec.archs import ARCHITECTURES
    from inrcodec.container.reader import ContainerReader

    for arch in ("gnerv", "hinerv", "nirvana"):
        path = str(tmp_path / f"{arch}.inr")
        tool.make_file(arch, 2, 40, 24, 2, 2, path)
        with ContainerReader(path) as reader:
            header = reader.header
        assert (header.arch_id, header.arch_params) == (ARCHITECTURES.id_of(arch), ARCHITECTURES.get(arch).QUALITY[2])


@pytest.mark.slow
def test_a_small_run_writes_its_table(tmp_path):
    tool.main(["--archs", "gnerv", "--qualities", "2", "--sizes", "40x24", "--frames", "3", "--gop", "2",
               "--backends", "ort,numpy", "--threads", "1", "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [(r["backend"], r["frames"]) for r in rows] == [("ort", 3), ("numpy", 3)]
    assert all(r["process_fps"] > 0 and r["loop_fps"] > 0 and r["first_frame_s"] > 0 for r in rows)
    table = (tmp_path / "table.md").read_text()
    assert "| gnerv | 2 | ort |" in table and "40x24 fps (process / loop)" in table
