"""The synthesis backends (inrcodec.decode.synthesis): every golden stream of tests/conformance through
ort, numpy and torch, frames within the suite's tolerance of the reference frames; and the choice."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from inrcodec.api import open as open_inr
from inrcodec.decode.synthesis import choose_backend
from inrcodec.errors import InrInputError
from inrcodec.extras import is_installed

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFORMANCE = os.path.join(REPO, "tests", "conformance")
FEATURES = sorted(d for d in os.listdir(CONFORMANCE) if d.isupper() and os.path.isdir(os.path.join(CONFORMANCE, d)))
NEEDS = {"ort": "onnxruntime", "torch": "torch", "numpy": "numpy"}


@pytest.mark.parametrize("backend", ["ort", "numpy", "torch"])
@pytest.mark.parametrize("feature", FEATURES)
def test_golden_streams_within_tolerance(feature, backend):
    pytest.importorskip(NEEDS[backend])
    folder = os.path.join(CONFORMANCE, feature)
    with open(os.path.join(folder, "expected.json")) as fh:
        expected = json.load(fh)
    with open_inr(os.path.join(folder, "stream.inr"), backend=backend) as f:
        assert f.backend == backend
        frames = [tuple(np.array(p) for p in frame) for frame in f]
    assert len(frames) == expected["n_frames"]
    with np.load(os.path.join(folder, expected["frame_planes"])) as ref:
        for record, planes in zip(expected["frames"], frames):
            i = record["index"]
            for name, plane in zip("yuv", planes):
                r = ref[f"{i}_{name}"]
                assert plane.dtype == r.dtype and plane.shape == r.shape, f"frame {i} plane {name}"
                diff = int(np.abs(plane.astype(np.int32) - r.astype(np.int32)).max())
                assert diff <= expected["max_abs_diff"], f"frame {i} plane {name}: max abs diff {diff}"


class TestChooseBackend:
    def test_auto_takes_ort_when_installed_else_numpy(self):
        want = "ort" if is_installed("onnxruntime") else "numpy"
        assert choose_backend("auto", "cpu") == (want, "cpu")

    def test_cuda_needs_the_torch_backend(self):
        for backend in ("ort", "numpy"):
            with pytest.raises(InrInputError, match="--device cuda needs --backend torch"):
                choose_backend(backend, "cuda")

    def test_unknown_backend_rejected(self):
        with pytest.raises(InrInputError, match="expected one of auto, ort, numpy, torch"):
            choose_backend("tensorrt", "cpu")


CASES = [("gnerv", (1, 16, 16, 8, 12, 8, 6)), ("gnerv", (0, 8, 12, 6, 8, 6)), ("hinerv", (1, 2, 2, 4, 6, 8, 6, 5)),
         ("hinerv", (3, 3, 0, 5, 4, 6)), ("nirvana", (16, 24, 2, 6, 8, 6)), ("nirvana", (8, 16, 2, 3, 4, 5))]


@pytest.mark.parametrize("chroma", ["420", "444"])
@pytest.mark.parametrize("arch,params", CASES)
def test_the_torch_backend_runs_what_the_encoder_trained(arch, params, chroma):
    """The decoder's torch backend runs the architecture's program; the encoder trains its torch network:
    on the same weights they give the same planes."""
    torch = pytest.importorskip("torch")
    from inrcodec.archs import ARCHITECTURES
    from inrcodec.decode.render import TorchNetwork

    cls = ARCHITECTURES.get(arch)
    width, height = 37, 29
    rng = np.random.default_rng(len(params))
    weights = [rng.uniform(-(s.init_bound or 0.1), s.init_bound or 0.1, s.shape).astype(np.float32)
               for s in cls.tensors(width, height, chroma, params)]
    model = cls.network_class()(width, height, chroma, params).eval()
    model.load_arrays(weights)
    net = TorchNetwork(cls, width, height, chroma, params, model.output_offset, torch.device("cpu"))
    net.load_arrays(weights)
    t = torch.tensor([0.0, 0.25, 0.5], dtype=torch.float32)
    with torch.no_grad():
        for got, want in zip(net(t), model(t)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-5)
