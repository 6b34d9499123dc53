"""tools/bench_codec.py end to end on the tiny sample: it runs, and its results files hold sane numbers."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

import bench_codec  # tools/, on the path through pyproject.toml

from .conftest import REPO, SAMPLE_48

pytestmark = pytest.mark.slow  # real encodes and benchmarks: seconds each


def test_bench_codec_writes_results(tmp_path):
    cmd = [sys.executable, os.path.join(REPO, "tools", "bench_codec.py"), SAMPLE_48, "--qualities", "1,2",
           "--gop", "4", "--gom", "2", "--iters", "20", "--p-iters", "10", "--threads", "1", "--out", str(tmp_path)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "vs x265" in done.stdout and "skipped" in done.stdout  # not the anchor's clip

    with open(tmp_path / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    results = json.loads((tmp_path / "results.json").read_text())
    assert [int(r["quality"]) for r in rows] == [1, 2]
    assert len(results["rows"]) == 2
    for row, full in zip(rows, results["rows"]):
        assert float(row["bpp"]) > 0
        assert float(row["psnr_yuv"]) > 10
        assert float(row["decode_fps"]) > 0 and float(row["decode_fps_no_startup"]) > 0
        assert int(row["enc_rss_kb"]) > 0 and int(row["dec_rss_kb"]) > 0
        # bpp is the real file size over 8 frames of 48x32.
        assert float(row["bpp"]) == 8 * (tmp_path / f"q{row['quality']}.inr").stat().st_size / (48 * 32 * 8)
        assert [m["kind"] for m in full["model_bytes"]] == ["I", "P"]
        assert full["p_over_i_bytes"] == full["model_bytes"][1]["bytes"] / full["model_bytes"][0]["bytes"]


def test_x265_comparison_reports_no_overlap_or_a_number():
    far = [{"n_frames": 60, "bpp": 11.0, "psnr_yuv": 23.0}, {"n_frames": 60, "bpp": 12.0, "psnr_yuv": 24.0}]
    result = bench_codec.compare_x265(bench_codec.DEFAULT_CLIP, far)
    assert result["bd_rate_percent"] is None and result["bd_rate_reason"].startswith("no overlap")
    assert "no overlap" in result["text"]
    # Twice x265's rate at every x265 quality: +100 %.
    doubled = [{"n_frames": 60, "bpp": 2 * r, "psnr_yuv": q} for r, q in bench_codec.ANCHOR_X265_CARPHONE]
    assert bench_codec.compare_x265(bench_codec.DEFAULT_CLIP, doubled)["bd_rate_percent"] == pytest.approx(100.0)
    assert "skipped" in bench_codec.compare_x265(bench_codec.DEFAULT_CLIP, [{**row, "n_frames": 8} for row in doubled])
    assert "skipped" in bench_codec.compare_x265(bench_codec.DEFAULT_CLIP.with_name("other.y4m"), doubled)
