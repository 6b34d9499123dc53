"""enc --size / --bitrate / --psnr / --ms-ssim end to end on the 48x32 8-frame clip at 30 iterations.

What 8 frames at 30 iterations allow asserting honestly: the lambda controller acts on 4 updates
of one fit, so the outcome is not near the target (the bytes are mostly the random start's); the
tests check that each option encodes, reports what was asked and reached, with file_bytes the
file's size, and that the rung follows the target. The +-10 % bar is tools/bench_targets.py's.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLIP = Path(__file__).resolve().parents[2] / "samples" / "carphone_48x32_8f.y4m"
ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}


def enc(tmp_path, *args):
    dst = tmp_path / "out.inr"
    proc = subprocess.run([sys.executable, "-m", "inrcodec.cli", "enc", str(CLIP), "-o", str(dst), "-y", "--iters",
                           "30", "--gop", "8", "--threads", "1", "--json", "--quiet", *args],
                          capture_output=True, text=True, env=ENV)
    return proc, dst


@pytest.mark.parametrize("args, key", [(("--size", "3k"), "target_bytes"), (("--bitrate", "500"), "target_bytes"),
                                       (("--psnr", "16"), "target_psnr"), (("--ms-ssim", "0.8"), "target_ms_ssim")])
def test_target_encodes_and_reports(tmp_path, args, key):
    proc, dst = enc(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    t = s["target"]
    assert t["asked"] == " ".join(args) and key in t and 1 <= t["quality"] <= 9
    assert s["file_bytes"] == dst.stat().st_size
    if args[0] == "--bitrate":  # 500 kbit/s over 8 frames at 25 fps
        assert t["target_bytes"] == round(500_000 / 8 * 8 / 25)
    if key == "target_bytes":
        assert t["file_bytes"] == s["file_bytes"] and t["quality"] == 9  # a 48x32 clip at kilobytes: the top rung
    assert all(g["lam"] > 0 and g["target"] > 0 for g in s["gops"])
    # and the file says what it aimed at (a targ chunk, spec/bitstream.md §5.8): info shows asked and reached
    info = json.loads(subprocess.run([sys.executable, "-m", "inrcodec.cli", "info", str(dst), "--json"],
                                     capture_output=True, text=True, env=ENV, check=True).stdout)
    aimed = info["encode_target"]["target"]
    assert aimed["asked"] == t["asked"] and aimed["quality"] == t["quality"]
    if key == "target_bytes":
        assert aimed["file_bytes"] == s["file_bytes"] and aimed["value"] == pytest.approx(t["target_bytes"], abs=1)
    elif key == "target_psnr":
        assert aimed["psnr_yuv"] == pytest.approx(t["psnr_yuv"], abs=1e-3)


@pytest.mark.parametrize("args", [("--size", "20k", "--quality", "3"), ("--size", "20k", "--lambda", "100"),
                                  ("--size", "20k", "--psnr", "30"), ("--size", "50"), ("--size", "2x"),
                                  ("--psnr", "30", "--layers", "2")])
def test_conflicts_and_impossible_targets_exit_7(tmp_path, args):
    proc, dst = enc(tmp_path, *args)
    assert proc.returncode == 7 and not dst.exists()
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("inrcodec: error: ")


def test_a_psnr_out_of_reach_is_refused_before_training(tmp_path):
    """Two short probe fits of the largest network on the first GOP (train/probe.py) bound what the
    budget can reach: 60 dB on this clip in 30 iterations is refused in one line, exit 7, no file."""
    proc, dst = enc(tmp_path, "--psnr", "60")
    assert proc.returncode == 7 and not dst.exists() and not list(tmp_path.iterdir())
    assert proc.stderr.count("\n") == 1 and "--psnr 60 is out of reach for this video in this time: q9" in proc.stderr


def enc_timed(tmp_path, *args):
    dst = tmp_path / "out.inr"
    proc = subprocess.run([sys.executable, "-m", "inrcodec.cli", "enc", str(CLIP), "-o", str(dst), "-y",
                           "--gop", "4", "--gom", "2", "--threads", "1", "--json", "--quiet", *args],
                          capture_output=True, text=True, env=ENV)
    return proc, dst


def test_time_budget_encodes_and_reports(tmp_path):
    proc, dst = enc_timed(tmp_path, "--time", "15s", "--quality", "1")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    t = s["time"]
    assert t["asked"] == "--time 15s" and t["budget_s"] == 15.0 and t["seconds"] > 0
    assert t["off_percent"] == pytest.approx(100 * (t["seconds"] / 15.0 - 1))
    # every model trained what its share of the clock allowed, the I-model more than its P-model
    assert [g["kind"] for g in s["gops"]] == ["I", "P"] and all(g["iters"] >= 27 for g in s["gops"])
    assert s["gops"][0]["iters"] > s["gops"][1]["iters"]
    assert s["file_bytes"] == dst.stat().st_size
    text = subprocess.run([sys.executable, "-m", "inrcodec.cli", "info", str(dst)], capture_output=True, text=True,
                          env=ENV, check=True).stdout
    assert "encoded in a time budget: --time 15s:" in text and "targ" in text


def test_an_encode_without_a_target_has_no_targ(tmp_path):
    proc, dst = enc_timed(tmp_path, "--iters", "30", "--quality", "1")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(subprocess.run([sys.executable, "-m", "inrcodec.cli", "info", str(dst), "--json"],
                                     capture_output=True, text=True, env=ENV, check=True).stdout)
    assert info["encode_target"] is None and all(c["type"] != "targ" for c in info["chunks"])


@pytest.mark.parametrize("args, says", [(("--time", "30", "--iters", "100"), "--time and --iters"),
                                        (("--time", "30", "--p-iters", "9"), "--time and --p-iters"),
                                        (("--time", "5x"), "--time: expected a duration"),
                                        (("--time", "0.2"), "too short")])
def test_time_conflicts_and_impossible_budgets_exit_7(tmp_path, args, says):
    proc, dst = enc_timed(tmp_path, *args)
    assert proc.returncode == 7 and not dst.exists()
    assert proc.stderr.count("\n") == 1 and says in proc.stderr
