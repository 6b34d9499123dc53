"""tools/recipe_sweep.py: variants parse to FitConfig fields, equal-rate interpolation, one real run."""

from __future__ import annotations

import math
import os

import pytest

import recipe_sweep as tool  # tools/, on the path through pyproject.toml

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "carphone_48x32_8f.y4m")


def test_variants_name_fit_config_fields():
    assert tool.parse_variant("baseline") == {}
    assert tool.parse_variant("ste=0.3+lr=0.01") == {"ste_fraction": 0.3, "lr": 0.01}
    assert tool.parse_variant("model=hinerv+arch=1:2:0:16:8:8") == {"model": "hinerv", "arch": (1, 2, 0, 16, 8, 8)}
    with pytest.raises(KeyError):
        tool.parse_variant("nonsense=1")
    with pytest.raises(KeyError):  # a measured experiment that left the code (docs/encoder-notes.md)
        tool.parse_variant("float=0.3")


def test_psnr_at_a_rate_interpolates_in_log_rate():
    pts = [(0.1, 30.0), (0.4, 34.0)]
    assert tool.at_rate(pts, 0.2) == pytest.approx(30.0 + 4.0 * math.log(2) / math.log(4))
    assert tool.at_rate(pts, 0.1) == pytest.approx(30.0)
    assert tool.at_rate(pts, 0.8) == pytest.approx(36.0)  # extrapolated from the two points


def test_a_run_codes_and_decodes_real_bytes():
    from inrcodec.io.video import open_video

    with open_video(SAMPLE) as video:
        frames = list(video)
    r = tool.run(frames, "gnerv", 1, 100.0, 30, {"ste_fraction": 0.3, "batch": 1}, seed=1)
    assert r["bytes"] > 100 and r["bpp"] == pytest.approx(8 * r["bytes"] / (8 * 48 * 32))
    assert 10 < r["psnr"] < 60
    other = tool.run(frames, "gnerv", 1, 100.0, 30, {"model": "hinerv", "arch": (1, 2, 0, 4, 6, 8, 6)}, seed=1)
    # two stages on a 4x6 grid: conv 6->8 on 8x12, conv 8->6 and the heads (6 outputs) on 16x24
    assert other["macs"] == pytest.approx(9 * (6 * 8 * 96 + 8 * 6 * 384 + 6 * 6 * 384) / (48 * 32))


def test_coding_and_measuring_decodes_blob_tensors_too():
    """nirvana's conv layers travel in the residual BLOB: the measured weights must be the fit's integers."""
    import numpy as np
    import torch

    from inrcodec.decode.init import init_arrays
    from inrcodec.decode.render import planes_to_tensors
    from inrcodec.decode.weights import dequantize
    from inrcodec.io.video import open_video
    from inrcodec.models import ARCHITECTURES
    from inrcodec.train.fit import FitConfig, fit_gop

    with open_video(SAMPLE, max_frames=4) as video:
        frames = list(video)
    model = ARCHITECTURES.get("nirvana")(48, 32, "420", (8, 8, 1, 4, 4))
    specs = model.tensor_specs()
    t_pos = torch.arange(4, dtype=torch.float32) / 4
    fit = fit_gop(model, planes_to_tensors(frames, torch.device("cpu")), t_pos, init_arrays(specs, 1), None, None,
                  FitConfig(iters=20, lam=100.0))
    assert fit.qmodel.blob
    n_bytes, psnr, weights = tool.code_and_measure(model, fit.qmodel, None, frames, t_pos)
    for got, want in zip(weights, dequantize(fit.qmodel, None, specs)):
        np.testing.assert_array_equal(got, want)
    assert n_bytes > len(fit.qmodel.blob) // 4 and 5 < psnr < 60
