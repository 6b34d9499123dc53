"""The CUDA path: encode on the GPU, decode on GPU and CPU. Runs only where CUDA is present.

The file's integers come from the stream, so they are the same whatever device decodes them;
frames may differ by float rounding (spec/conformance.md: max abs difference <= 1).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrcodec.api import open as open_inr

from .conftest import SAMPLE_48, fast_encode, read_source

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def cuda_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cuda") / "cuda.inr"
    summary = fast_encode(SAMPLE_48, path, gop=4, gom=2, device="cuda")
    return path, summary


def frames_on(path, device):
    """The torch backend's frames on ``device``: the reference decoder on the CPU and on the GPU."""
    with open_inr(path, device=device, backend="torch") as f:
        return [tuple(np.array(p) for p in frame) for frame in f]


def test_auto_device_picks_cuda(tmp_path):
    from inrcodec.decode.device import pick_device
    assert pick_device("auto").type == "cuda"


def test_cuda_encode_decodes_on_cpu_and_cuda_within_one_code_value(cuda_file):
    path, summary = cuda_file
    cpu, gpu = frames_on(path, "cpu"), frames_on(path, "cuda")
    assert len(cpu) == len(gpu) == summary.n_frames == 8
    for a, b in zip(cpu, gpu):
        for pa, pb in zip(a, b):
            assert pa.shape == pb.shape
            assert np.max(np.abs(pa.astype(int) - pb.astype(int))) <= 1


def test_cuda_encode_reports_the_quality_the_cpu_decoder_sees(cuda_file):
    path, summary = cuda_file
    from inrcodec.metrics import psnr_yuv
    measured = psnr_yuv(read_source(SAMPLE_48), frames_on(path, "cpu"))["psnr_yuv"]
    assert abs(measured - summary.psnr_yuv) < 0.05
    assert summary.psnr_yuv > 15


def test_cuda_encode_is_repeatable_on_the_same_gpu(cuda_file, tmp_path):
    path, _ = cuda_file
    again = tmp_path / "again.inr"
    fast_encode(SAMPLE_48, again, gop=4, gom=2, device="cuda")
    assert again.read_bytes() == path.read_bytes()


def test_cuda_workers_give_the_same_bytes(tmp_path):
    # 4 GOMs; the worker processes must switch on the deterministic kernels themselves
    one, two = tmp_path / "one.inr", tmp_path / "two.inr"
    fast_encode(SAMPLE_48, one, gop=2, gom=1, device="cuda", workers=1)
    fast_encode(SAMPLE_48, two, gop=2, gom=1, device="cuda", workers=2)
    assert two.read_bytes() == one.read_bytes()


def test_nirvana_cuda_encode_decodes_on_cpu_within_one_code_value(tmp_path):
    # the patch-wise model and its conv-layer BLOB on the GPU: integers come from the stream, so
    # the CPU decoder sees what the GPU encoder measured, frames within float rounding
    from inrcodec.metrics import psnr_yuv
    path = tmp_path / "nirvana.inr"
    summary = fast_encode(SAMPLE_48, path, gop=4, gom=2, device="cuda", model="nirvana", quality=1,
                          channels=None, iters=60, p_iters=20)
    cpu, gpu = frames_on(path, "cpu"), frames_on(path, "cuda")
    for a, b in zip(cpu, gpu):
        for pa, pb in zip(a, b):
            assert np.max(np.abs(pa.astype(int) - pb.astype(int))) <= 1
    assert abs(psnr_yuv(read_source(SAMPLE_48), cpu)["psnr_yuv"] - summary.psnr_yuv) < 0.05


def test_layers_and_ms_ssim_loss_on_cuda_decode_on_cpu_within_one_code_value(tmp_path):
    # progressive layers trained with an SSIM-family loss on the GPU: the CPU decoder sees the
    # encoder's per-layer quality, frames within float rounding of the GPU decoder's
    from inrcodec.metrics import psnr_yuv
    path = tmp_path / "layers.inr"
    summary = fast_encode(SAMPLE_48, path, gop=4, gom=2, device="cuda", layers=2, layer_quality=(3,),
                          loss="ms-ssim", iters=60, p_iters=20)
    cpu, gpu = frames_on(path, "cpu"), frames_on(path, "cuda")
    for a, b in zip(cpu, gpu):
        for pa, pb in zip(a, b):
            assert np.max(np.abs(pa.astype(int) - pb.astype(int))) <= 1
    assert abs(psnr_yuv(read_source(SAMPLE_48), cpu)["psnr_yuv"] - summary.layer_psnr_yuv[-1]) < 0.05
