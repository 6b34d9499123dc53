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
        assert choose_backend("auto", "cpu", ["gnerv", "nirvana", "hinerv"]) == (want, "cpu")

    def test_auto_takes_torch_for_a_plugin_architecture(self):
        pytest.importorskip("torch")
        assert choose_backend("auto", "cpu", ["gnerv", None])[0] == "torch"

    def test_cuda_needs_the_torch_backend(self):
        for backend in ("ort", "numpy"):
            with pytest.raises(InrInputError, match="--device cuda needs --backend torch"):
                choose_backend(backend, "cuda", ["gnerv"])

    def test_unknown_backend_rejected(self):
        with pytest.raises(InrInputError, match="expected one of auto, ort, numpy, torch"):
            choose_backend("tensorrt", "cpu", ["gnerv"])

    def test_a_plugin_architecture_has_no_torch_free_backend(self):
        with pytest.raises(InrInputError, match="plug-in"):
            choose_backend("numpy", "cpu", [None])
