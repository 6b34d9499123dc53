"""A player-only install (``pip install inrcodec``: no torch, no PyAV): ``dec``, ``info``, ``extract`` and
``inrcodec.open`` work; ``enc`` and ``bench`` say in one line what to install and exit 7.

Each run is a fresh interpreter whose import system refuses the encode extra's packages (torch, av,
pytorch-optimizer), as if they were not installed (CI also runs the decode tests in a real virtual
environment without them: .ci/player).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from inrcodec.api import open as open_inr
from inrcodec.describe import describe
from inrcodec.extras import is_installed

HERE = os.path.dirname(os.path.abspath(__file__))
CONFORMANCE = os.path.join(os.path.dirname(HERE), "conformance")

PRELUDE = r"""
import importlib.abc, sys


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "av", "pytorch_optimizer"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


sys.meta_path.insert(0, NotInstalled())
from inrcodec.cli import main
"""

DECODE = PRELUDE + r"""
import contextlib, hashlib, io, json
import inrcodec

stream, y4m, extracted = sys.argv[1:4]
main(["dec", stream, "-o", y4m, "--quiet"], standalone_mode=False)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(["info", "--json", stream], standalone_mode=False)
with contextlib.redirect_stdout(io.StringIO()):
    main(["extract", stream, "--layers", "1", "-o", extracted], standalone_mode=False)
with inrcodec.open(stream) as f:
    backend = f.backend
    frames = [hashlib.md5(b"".join(p.tobytes() for p in frame)).hexdigest() for frame in f]
info = json.loads(out.getvalue())
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "av"))
print(json.dumps({"info": info, "frames": frames, "backend": backend, "loaded": loaded}))
"""


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("feature", ["LAYERS_A", "NIRVANA_A", "HINERV_A"])
def test_decoding_needs_neither_torch_nor_pyav(feature, tmp_path):
    stream = os.path.join(CONFORMANCE, feature, "stream.inr")
    run = _run(DECODE, stream, str(tmp_path / "out.y4m"), str(tmp_path / "base.inr"))
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["loaded"] == []
    assert got["info"] == describe(stream)
    want = "ort" if is_installed("onnxruntime") else "numpy"
    assert got["backend"] == want
    with open_inr(stream, backend=want) as f:
        assert got["frames"] == [hashlib.md5(b"".join(p.tobytes() for p in frame)).hexdigest() for frame in f]
    with open_inr(tmp_path / "base.inr") as f:
        assert f.n_layers == 1 and len(f) > 0 and isinstance(f[0][0], np.ndarray)


@pytest.mark.parametrize("command", [["enc", "in.mp4", "-o", "out.inr"],
                                     ["bench", "clip.y4m", "--qualities", "2", "--channels", "8,8"]])
def test_encoding_says_what_to_install(command):
    run = _run(PRELUDE + "main(sys.argv[1:])", *command)
    assert run.returncode == 7
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert lines == [f"inrcodec: error: {command[0]} needs the encode extra "
                     "(torch, av, pytorch_optimizer not installed): "
                     'pip install "inrcodec[encode]"']


def test_help_still_shows_without_the_encode_extra():
    run = _run(PRELUDE + "main(sys.argv[1:])", "enc", "--help")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Usage: ") and "--quality" in run.stdout


def test_cuda_says_what_to_install():
    stream = os.path.join(CONFORMANCE, "MULTIGOM_A", "stream.inr")
    run = _run(PRELUDE + "main(sys.argv[1:])", "dec", stream, "-o", os.devnull, "--device", "cuda")
    assert run.returncode == 7
    assert run.stderr.strip().splitlines() == [
        'inrcodec: error: --device cuda runs the torch backend, which needs torch: pip install "inrcodec[encode]"']


def test_the_torch_backend_says_what_to_install():
    stream = os.path.join(CONFORMANCE, "MULTIGOM_A", "stream.inr")
    run = _run(PRELUDE + "main(sys.argv[1:])", "dec", stream, "-o", os.devnull, "--backend", "torch")
    assert run.returncode == 7
    assert run.stderr.strip().splitlines() == [
        'inrcodec: error: --backend torch (needed for --device cuda) needs torch: '
        'pip install "inrcodec[encode]"']
