"""The GNeRV architecture: output planes at native resolution for any size, MACs accounting."""

import pytest
import torch

from inrcodec.models import ARCHITECTURES


@pytest.mark.parametrize("up_mode", [0, 1])
@pytest.mark.parametrize("w,h,chroma", [(176, 144, "420"), (37, 29, "420"), (320, 180, "420"), (37, 29, "444")])
def test_planes_have_native_sizes(w, h, chroma, up_mode):
    m = ARCHITECTURES.get("gnerv")(w, h, chroma, (up_mode, 4, 8, 6, 8, 4))
    y, u, v = m(torch.tensor([0.0, 0.5]))
    ch, cw = ((h + 1) // 2, (w + 1) // 2) if chroma == "420" else (h, w)
    assert y.shape == (2, h, w) and u.shape == (2, ch, cw) and v.shape == (2, ch, cw)


def test_tensor_specs_cover_every_parameter_once():
    m = ARCHITECTURES.get("gnerv")(48, 32, "420", (1, 4, 8, 6, 8, 4))
    names = [s.name for s in m.tensor_specs()]
    assert sorted(names) == sorted(n for n, _ in m.named_parameters())
    assert names[0] == "embedding"


def test_time_changes_the_output():
    torch.manual_seed(0)
    m = ARCHITECTURES.get("gnerv")(48, 32, "420", (1, 4, 8, 6, 8, 4))
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.3)
        y = m(torch.tensor([0.0, 0.5]))[0]
    assert (y[0] - y[1]).abs().max() > 1e-3


def test_macs_per_pixel_counts_the_convolutions():
    m = ARCHITECTURES.get("gnerv")(64, 32, "420", (0, 2, 4, 8, 4))  # one block: grid 4, emb 8x16
    conv = 9 * 8 * 16 * (8 * 16)  # block at 8x16
    heads = 9 * 4 * (4 + 2) * (16 * 32)  # heads at half resolution
    mlp = 4 * 4 + 4 * 16
    assert m.macs_per_pixel() == pytest.approx((conv + heads + mlp) / (64 * 32))


@pytest.mark.parametrize("bad", [(1, 4, 8, 6), (1, 0, 8, 6, 8), (1, 4, 8, 6, 0), (2, 4, 8, 6, 8)])
def test_rejects_bad_arch_params(bad):
    with pytest.raises(ValueError):
        ARCHITECTURES.get("gnerv")(48, 32, "420", bad)


def test_both_up_modes_cost_the_same_macs_and_bilinear_a_quarter_of_the_conv_parameters():
    ps = ARCHITECTURES.get("gnerv")(64, 32, "420", (0, 2, 4, 8, 4))
    up = ARCHITECTURES.get("gnerv")(64, 32, "420", (1, 2, 4, 8, 4))
    assert ps.macs_per_pixel() == up.macs_per_pixel()
    assert ps.convs[0].weight.numel() == 4 * up.convs[0].weight.numel()
