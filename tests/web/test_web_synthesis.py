"""The player's synthesis (web/src/synth on onnxruntime-web's wasm backend, under node) renders every
golden stream within spec/conformance.md's rule: every sample within max_abs_diff of frames.npz, and
at most 1 sample in 1000 differing.

The weights are inrcodec's own decoder's (tests/web/export_weights.py), so this tests synthesis
alone; the browser test (test_web_browser.py) runs the whole player, decoder core included.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from conftest import CONFORMANCE, WEB, golden_features
from export_weights import export


def reference_frames(feature: str) -> tuple[dict, list[list[np.ndarray]]]:
    with open(os.path.join(CONFORMANCE, feature, "expected.json")) as f:
        expected = json.load(f)
    with np.load(os.path.join(CONFORMANCE, feature, expected["frame_planes"])) as z:
        frames = [[z[f"{i}_{p}"] for p in "yuv"] for i in range(expected["n_frames"])]
    return expected, frames


def split_frames(raw: bytes, frames: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """frames.bin cut into planes shaped like the reference's."""
    out, at = [], 0
    for ref in frames:
        planes = []
        for p in ref:
            n = p.size * p.itemsize
            planes.append(np.frombuffer(raw[at:at + n], "<u2" if p.itemsize == 2 else np.uint8).reshape(p.shape))
            at += n
        out.append(planes)
    assert at == len(raw), f"frames.bin holds {len(raw)} bytes, the reference frames {at}"
    return out


def conformance_report(got: list[list[np.ndarray]], want: list[list[np.ndarray]], max_abs: int) -> tuple[int, int, int]:
    """(largest |difference|, samples that differ, samples) over every frame and plane."""
    worst = differ = total = 0
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            d = np.abs(a.astype(np.int32) - b.astype(np.int32))
            worst, differ, total = max(worst, int(d.max())), differ + int((d > 0).sum()), total + d.size
    return worst, differ, total


@pytest.fixture(scope="module")
def rendered(node_modules, node, tmp_path_factory) -> dict[str, tuple[bytes, bytes]]:
    """Every golden stream rendered by one node process (one wasm start for all): in batches of
    RENDER_BATCH frames as every inrcodec decoder, and one frame at a time as the player does."""
    root = tmp_path_factory.mktemp("web_synthesis")
    dirs = []
    for feature in golden_features():
        export(os.path.join(CONFORMANCE, feature, "stream.inr"), str(root / feature))
        dirs.append(str(root / feature))
    script = os.path.join(WEB, "test", "synthesis", "render.mjs")
    for extra in ([], ["--batch", "1"]):
        subprocess.run([node, script, *extra, *dirs], cwd=WEB, check=True, capture_output=True, text=True, timeout=900)
    return {os.path.basename(d): (open(os.path.join(d, "frames.bin"), "rb").read(),
                                  open(os.path.join(d, "frames_b1.bin"), "rb").read()) for d in dirs}


@pytest.mark.parametrize("feature", golden_features())
def test_golden_stream_frames_conform(rendered, feature):
    expected, want = reference_frames(feature)
    got = split_frames(rendered[feature][0], want)
    worst, differ, total = conformance_report(got, want, expected["max_abs_diff"])
    assert worst <= expected["max_abs_diff"], f"{feature}: a sample differs by {worst}"
    assert differ * 1000 <= total, f"{feature}: {differ} of {total} samples differ (more than 1 in 1000)"


@pytest.mark.parametrize("feature", golden_features())
def test_one_frame_at_a_time_gives_the_same_samples(rendered, feature):
    """The player renders a frame alone (a first frame or a seek costs one frame, not four): with
    onnxruntime-web every frame's samples are the same whichever batch it is rendered in. Should an
    upgrade change that, this fails and the player goes back to RENDER_BATCH (web/src/player/player.js)."""
    batched, alone = rendered[feature]
    assert alone == batched


def test_the_rule_sees_a_wrong_frame():
    """The comparison itself: one sample off by 2, or many off by 1, fails it."""
    want = [[np.full((4, 4), 100, np.uint8)] * 3]
    off2 = [[want[0][0].copy(), want[0][1], want[0][2]]]
    off2[0][0][0, 0] = 102
    assert conformance_report(off2, want, 1)[0] == 2
    many = [[p + 1 for p in want[0]]]
    worst, differ, total = conformance_report(many, want, 1)
    assert worst == 1 and differ * 1000 > total
