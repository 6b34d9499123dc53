"""The API examples people copy (api.py's docstring, the README's Python block) run as written."""

from __future__ import annotations

import doctest
import os
import re
from pathlib import Path

import numpy as np
import pytest

import inrcodec
from inrcodec import api

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "carphone_48x32_8f.y4m"


def test_api_docstring_example_runs(monkeypatch):
    monkeypatch.chdir(ROOT)  # the example names a golden stream by its path in the repository
    result = doctest.testmod(api, raise_on_error=False)
    assert result.attempted >= 2 and result.failed == 0


def _readme_python() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README has one Python example"
    return blocks[0]


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's block, run as written on the 48x32 sample (its preset and quality as given)."""
    code = _readme_python()
    assert '"in.mp4"' in code and '"out.inr"' in code
    os.symlink(SAMPLE, tmp_path / "in.mp4")  # PyAV probes the content, not the name
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code.replace(": ...", ": frames.append(y)"), "README.md", "exec"),  # noqa: S102
         {"frames": (frames := [])}, scope)
    summary = scope["summary"]
    assert summary.n_frames == 8 and (tmp_path / "out.inr").stat().st_size == summary.file_bytes
    assert len(frames) == 8 and all(isinstance(y, np.ndarray) and y.shape == (32, 48) for y in frames)
    assert scope["y"].dtype == np.uint8
    assert inrcodec.open  # the example's entry points are the package's
