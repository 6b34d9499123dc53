"""The decode path (``inrcodec dec``, ``inrcodec.open``, ``info``) runs without PyAV and the training code.

Each decode runs in a fresh interpreter whose import system refuses ``av``, ``inrcodec.io.video`` and
the encoder's modules; torch imports its optimisers itself, so those are replaced by modules that
raise on use. The outputs must equal those of an ordinary process.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from inrcodec.api import decode_to_y4m, open as open_inr
from inrcodec.describe import describe

HERE = os.path.dirname(os.path.abspath(__file__))
CONFORMANCE = os.path.join(os.path.dirname(HERE), "conformance")

BLOCKED = ("av", "inrcodec.io.video", "inrcodec.train.fit", "inrcodec.train.losses", "inrcodec.train.perceptual",
           "inrcodec.train.gom", "inrcodec.train.encoder", "inrcodec.train.runners")

SCRIPT = r"""
import contextlib, hashlib, importlib.abc, io, json, sys, types

import torch  # imports torch.optim itself: poisoned below rather than refused

BLOCKED = tuple(sys.argv[1].split(","))


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "av" or name.startswith("torch.optim") or any(
                name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{name} imported on the decode path")
        return None


class Poisoned(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise ImportError(f"{self.__name__}.{attr} used on the decode path")


for name in [m for m in sys.modules if m == "torch.optim" or m.startswith("torch.optim.")]:
    sys.modules[name] = Poisoned(name)
torch.optim = sys.modules["torch.optim"]
sys.meta_path.insert(0, Blocker())

from inrcodec.cli import main
import inrcodec

stream, y4m = sys.argv[2], sys.argv[3]
main(["dec", stream, "-o", y4m, "--quiet"], standalone_mode=False)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(["info", "--json", stream], standalone_mode=False)
with inrcodec.open(stream) as f:
    frames = [hashlib.md5(b"".join(p.tobytes() for p in frame)).hexdigest() for frame in f]
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "av" or m in BLOCKED)
print(json.dumps({"info": json.loads(out.getvalue()), "frames": frames, "loaded": loaded}))
"""


@pytest.mark.parametrize("feature", ["LAYERS_A", "NIRVANA_A"])
def test_decode_runs_without_pyav_and_training_code(feature, tmp_path):
    stream = os.path.join(CONFORMANCE, feature, "stream.inr")
    y4m = tmp_path / "blocked.y4m"
    run = subprocess.run([sys.executable, "-c", SCRIPT, ",".join(BLOCKED), stream, str(y4m)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["loaded"] == []
    decode_to_y4m(stream, tmp_path / "plain.y4m")
    assert y4m.read_bytes() == (tmp_path / "plain.y4m").read_bytes()
    assert got["info"] == describe(stream)
    with open_inr(stream) as f:
        assert got["frames"] == [hashlib.md5(b"".join(p.tobytes() for p in frame)).hexdigest() for frame in f]
