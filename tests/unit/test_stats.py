"""QualityStats: one object for the running quality sums (add, JSON round trip, summary)."""

from __future__ import annotations

import numpy as np
import pytest

from inrcodec.train.options import EncodeOptions, parse_ints
from inrcodec.train.stats import GopReport, QualityStats
from inrcodec.errors import InrInputError


def gom(sse: float, layers: int = 2) -> QualityStats:
    s = QualityStats(layers)
    s.layer_sse += sse
    s.sse = s.layer_sse[-1].copy()
    s.counts += 100
    s.sse_rgb += [3 * sse, 300]
    s.ssim_sums += [0.9, 0.95]
    s.deep_sum = 0.1
    s.reports.append(GopReport(0, "I", 2, 123, 900.0, 0, "ab", 1.5, 1))
    return s


def test_add_and_json_round_trip():
    total = QualityStats(2)
    total.add(gom(1.0))
    total.add(gom(2.0))
    assert total.sse.tolist() == [3.0] * 3 and total.counts.tolist() == [200.0] * 3
    assert len(total.reports) == 2 and total.deep_sum == pytest.approx(0.2)
    back = QualityStats.from_json(total.to_json(), 2)
    assert back.to_json() == total.to_json()


def test_from_json_refuses_what_an_encoder_did_not_write():
    state = gom(1.0).to_json()
    with pytest.raises(ValueError):
        QualityStats.from_json({**state, "sse": [1, 2]}, 2)
    with pytest.raises(ValueError):
        QualityStats.from_json(state, 3)  # layer_sse has 2 rows
    with pytest.raises(ValueError):
        QualityStats.from_json({**state, "reports": [{**state["reports"][0], "bytes": "x"}]}, 2)


def test_summary_names_every_metric():
    s = gom(1.0)
    out = s.summary(255, 2, ssim=True, deep=True)
    assert out["psnr_yuv"] == pytest.approx(10 * np.log10(255**2 / 0.01))
    assert out["ssim_y"] == pytest.approx(0.45) and out["deep_distance"] == pytest.approx(0.05)
    assert out["layer_bytes"] == [0, 123] and len(out["layer_psnr_yuv"]) == 2
    assert "ssim_y" not in s.summary(255, 2, ssim=False, deep=False)


def test_options_route_architecture_options_and_parse_lists():
    opts = EncodeOptions.build(model="nirvana", patch_size=16, channels="8,8", layer_quality="3", mlp_width=None)
    assert opts.arch == {"patch_size": 16, "channels": (8, 8)} and opts.layer_quality == (3,)
    with pytest.raises(TypeError):
        EncodeOptions.build(no_such_option=1)
    with pytest.raises(InrInputError, match="--layer-quality"):
        EncodeOptions.build(layer_quality="3,x")
    assert parse_ints("16, 24", "--x") == (16, 24)
