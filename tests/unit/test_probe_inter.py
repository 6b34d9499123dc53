"""tools/probe_inter.py (issue 28's (b2) probe): its motion search, warp, rate and a tiny real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import probe_inter as tool  # noqa: E402  (tools/, on the path through pyproject.toml)

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "carphone_48x32_8f.y4m")
TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "probe_inter.py")


def test_block_flow_finds_a_known_shift():
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 256, (32, 48)).astype(np.uint8)
    cur = np.roll(ref, (2, -3), axis=(0, 1))  # cur[y, x] = ref[y - 2, x + 3]
    flow = tool.block_flow(cur, ref)
    inner = flow[:, 1:-1, 1:-1]  # blocks away from the wrapped edges
    assert np.all(inner[0] == 3) and np.all(inner[1] == -2)


def test_warp_with_zero_flow_is_the_identity_and_integer_flow_shifts():
    img = torch.rand(1, 1, 8, 10)
    assert torch.allclose(tool.warp(img, torch.zeros(1, 2, 8, 10)), img, atol=1e-6)
    shifted = tool.warp(img, torch.stack([torch.ones(8, 10), torch.zeros(8, 10)])[None])
    assert torch.allclose(shifted[..., :-1], img[..., 1:], atol=1e-6)


def test_latent_bits_vanish_for_zero_latents_and_grow_with_magnitude():
    zeros = torch.zeros(100)
    assert float(tool.latent_bits(zeros, torch.tensor(-3.0))) < 0.01
    small = float(tool.latent_bits(torch.full((100,), 2.0), torch.tensor(0.0)))
    large = float(tool.latent_bits(torch.full((100,), 8.0), torch.tensor(0.0)))
    assert 0 < small < large


def test_a_tiny_run_reports_real_bytes_and_decoded_psnr(tmp_path):
    out = tmp_path / "row.json"
    run = subprocess.run([sys.executable, TOOL, SAMPLE, "--start", "0", "--frames", "3", "--iters", "30",
                          "--loop-iters", "5", "--shared", "--context", "--unroll", "3", "--exact-copy", "alpha",
                          "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    row = json.loads(out.read_text())
    assert row["bytes"] == row["latent_bytes"] + row["net_bytes"] > 0
    assert len(row["per_frame_psnr"]) == 3 and all(10 < p < 60 for p in row["per_frame_psnr"])
    assert row["bpp"] == pytest.approx(row["bytes"] * 8 / (3 * 48 * 32), abs=1e-4)
