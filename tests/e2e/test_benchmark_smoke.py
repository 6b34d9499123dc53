"""tools/benchmark.py (= inrcodec bench) end to end on the tiny sample, 2 points per codec, and its CLI errors."""

from __future__ import annotations

import pytest
import csv
import json
import os
import re
import subprocess
import sys

from click.testing import CliRunner

from inrcodec.bench.anchors import ANCHORS
from inrcodec.bench.run import BenchOptions
from inrcodec.cli import main

from .conftest import REPO, SAMPLE_48

pytestmark = pytest.mark.slow  # real encodes and benchmarks: seconds each

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_benchmark_writes_json_csv_png_and_summary(tmp_path):
    cmd = [sys.executable, os.path.join(REPO, "tools", "benchmark.py"), SAMPLE_48, "--qualities", "1,2",
           "--gop", "2", "--gom", "2", "--iters", "20", "--p-iters", "10", "--threads", "1",
           "--qps-x264", "30,40", "--qps-x265", "30,40", "--qps-av1", "40,55", "--out", str(tmp_path)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert "[8/8] SVT-AV1 preset 0 qp55" in done.stderr  # progress on stderr
    assert "inrcodec vs x265 veryslow: BD-rate" in done.stdout

    out = tmp_path / "carphone_48x32_8f"
    result = json.loads((out / "results.json").read_text())
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert (out / "rd.png").read_bytes()[:8] == PNG_MAGIC
    assert (out / "summary.md").read_text().startswith(f"`{result['command']}`")

    settings = [(r["codec"], r["setting"]) for r in rows]
    assert settings == [("inrcodec", "q1"), ("inrcodec", "q2"), ("x264", "qp30"), ("x264", "qp40"),
                        ("x265", "qp30"), ("x265", "qp40"), ("svt-av1", "qp40"), ("svt-av1", "qp55")]
    assert len(result["points"]) == 8 and result["video"]["pix_fmt"] == "yuv420p"
    for row, full in zip(rows, result["points"]):
        payload = out / (f"{row['setting']}.inr" if row["codec"] == "inrcodec"
                         else f"{row['codec']}_{row['setting']}{ANCHORS[row['codec']].suffix}")
        # bpp is the payload over 8 frames of 48x32.
        assert float(row["bpp"]) == 8 * payload.stat().st_size / (48 * 32 * 8)
        assert float(row["psnr_yuv"]) > 10 and 0 < float(row["ms_ssim_y"]) <= 1
        assert float(row["enc_seconds"]) > 0 and float(row["decode_fps"]) > 0
        assert int(row["enc_rss_kb"]) > 0 and int(row["dec_rss_kb"]) > 0
        if row["codec"] != "inrcodec":
            # the file's random-access period, GOP 2 x GOM 2, not a key frame every GOP (issue 28)
            assert full["keyint"] == 4 and full["keyframes"] == [0, 4]
    # Quality is 6:1:1 PSNR, which lies between the planes' PSNRs.
    assert all(min(float(r["psnr_y"]), float(r["psnr_u"])) <= float(r["psnr_yuv"]) for r in rows)
    for name in ANCHORS:
        for key in ("psnr_yuv", "ms_ssim_y"):
            entry = result["bd_rate"][name][key]
            # 20 iterations cannot reach the anchors' quality: no overlap is the honest answer.
            assert entry["value"] is not None or entry["reason"].startswith("no overlap")

    # The recorded command parses back to the same options.
    words = result["command"].split()
    pairs = dict(zip(words[3::2], words[4::2]))
    assert pairs["--qps-av1"] == "40,55" and pairs["--av1-preset"] == "0" and pairs["--threads"] == "1"


def run_cli(args):
    return CliRunner().invoke(main, ["bench", *args])


def test_bad_input_is_one_line_and_non_zero(tmp_path):
    for args, message in (([str(tmp_path / "none.y4m")], "clip not found"),
                          ([SAMPLE_48, "--codecs", "x264,vp9"], "unknown codec 'vp9'"),
                          ([SAMPLE_48, "--qps-x265", "20,99"], "QP 99 outside 0..51"),
                          ([SAMPLE_48, "--qualities", "4,4"], "named twice"),
                          ([SAMPLE_48, "--gop", "0"], "--gop must be >= 1")):
        res = run_cli(args + ["--out", str(tmp_path)])
        assert res.exit_code == 7, (args, res.output)
        assert res.output.count("\n") == 1 and message in res.output, res.output
    assert not any(tmp_path.iterdir())  # nothing encoded, nothing written


def test_help_states_the_real_defaults():
    # cli.py spells the defaults out (it does not import the benchmark to start); keep them true.
    text = re.sub(r"\s+", " ", run_cli(["--help"]).output)
    opts = BenchOptions()
    for flag, value in (("--qualities", opts.qualities), ("--qps-x264", ANCHORS["x264"].default_qps),
                        ("--qps-x265", ANCHORS["x265"].default_qps), ("--qps-av1", ANCHORS["svt-av1"].default_qps)):
        assert re.search(re.escape(flag) + r" TEXT [^\[]*\[default: " + ",".join(map(str, value)) + r"\]", text), flag
    for flag, value in (("--preset", opts.preset), ("--gop", opts.gop), ("--gom", opts.gom),
                        ("--device", opts.device), ("--av1-preset", ANCHORS["svt-av1"].preset), ("--out", opts.out)):
        assert re.search(re.escape(flag) + r" \S+ [^\[]*\[default: " + re.escape(str(value)) + r"\]", text), flag


def test_benchmark_at_10_bits_measures_at_peak_1023(tmp_path):
    """A 10-bit clip against x265 main10 and SVT-AV1 at 10 bits: same frames, PSNR at peak 1023."""
    import make_conformance as tool  # tools/, on the path through pyproject.toml
    import numpy as np

    from inrcodec.io.video import open_video
    from inrcodec.metrics import psnr_yuv

    clip = tool.write_clip(str(tmp_path / "grad10.y4m"), tool.synthetic_frames(34, 18, 4, "420", True, 10),
                           bit_depth=10)
    cmd = [sys.executable, os.path.join(REPO, "tools", "benchmark.py"), clip, "--codecs", "inrcodec,x265,svt-av1",
           "--qualities", "1", "--gop", "4", "--gom", "1", "--iters", "20", "--threads", "1",
           "--qps-x265", "20", "--qps-av1", "30", "--out", str(tmp_path / "out")]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert "peak 1023" in done.stdout
    out = tmp_path / "out" / "grad10"
    result = json.loads((out / "results.json").read_text())
    assert result["video"]["pix_fmt"] == "yuv420p10le" and result["video"]["bit_depth"] == 10
    assert [p["codec"] for p in result["points"]] == ["inrcodec", "x265", "svt-av1"] and not result["skipped"]
    assert "peak 1023" in (out / "summary.md").read_text()
    # the x265 row's PSNR is that of its decoded 10-bit frames at peak 1023, recomputed here
    stream = out / f"x265_qp20{ANCHORS['x265'].suffix}"
    dec = tmp_path / "x265.y4m"
    subprocess.run([sys.executable, "-m", "inrcodec.bench.anchors", "decode", str(stream), str(dec), "--codec", "x265",
                    "--size", "34x18", "--fps", "25/1", "--chroma", "420", "--bit-depth", "10"],
                   cwd=REPO, check=True, capture_output=True)
    with open_video(clip) as a, open_video(dec) as b:
        source, decoded = list(a), list(b)
    assert decoded[0][0].dtype == np.uint16 and b.info.bit_depth == 10
    x265 = result["points"][1]
    assert x265["psnr_yuv"] == psnr_yuv(source, decoded, 1023)["psnr_yuv"] > 40
