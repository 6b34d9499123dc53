"""--model hinerv through the codec: round trip at an odd size and 4:4:4, bit-exact weights, P-models
that code grid residuals, and seeking."""

from __future__ import annotations

import pytest

from inrcodec.api import open as open_inr
from inrcodec.metrics import psnr_yuv
from inrcodec.models import ARCHITECTURES

from .conftest import SAMPLE_37, assert_frames_equal, decode_all, fast_encode, read_source

HINERV = {"model": "hinerv", "iters": 80, "p_iters": 20}


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    path = tmp_path_factory.mktemp("hinerv") / "odd.inr"
    return path, fast_encode(SAMPLE_37, path, gop=3, gom=2, **HINERV)


def test_round_trip_keeps_size_and_count_and_resembles_the_source(odd):
    path, summary = odd
    frames = decode_all(path)
    src = read_source(SAMPLE_37)
    assert len(frames) == summary.n_frames == len(src) == 6
    assert [p.shape for p in frames[0]] == [p.shape for p in src[0]]
    measured = psnr_yuv(src, frames)["psnr_yuv"]
    assert measured == pytest.approx(summary.psnr_yuv, abs=1e-6)
    assert measured > 15


def test_decoded_integer_weights_are_the_encoders_and_the_p_model_is_a_residual(odd):
    path, summary = odd
    with open_inr(path) as f:
        assert ARCHITECTURES.name_of(f.header.arch_id) == "hinerv"
        assert f.header.arch_params == ARCHITECTURES.get("hinerv").from_quality(1, channels=(8, 8, 8))
        decoded = [(gop, qm.digest(), qm.kind) for gom in range(f.header.n_goms)
                   for gop, (qm,), _ in f.decode_gom(gom)]
    assert [(g, d) for g, d, _ in decoded] == [(g.gop_index, g.digest) for g in summary.gops]
    assert [k for _, _, k in decoded] == [0, 1]  # KIND_I then KIND_P


def test_seek_decodes_one_gom_and_matches_full_decode(odd):
    path, _ = odd
    full = decode_all(path)
    for n in (0, 4, 5):
        with open_inr(path) as f:
            frame = f[n]
            assert f.n_decoded_goms == 1
        assert_frames_equal([frame], [full[n]])
