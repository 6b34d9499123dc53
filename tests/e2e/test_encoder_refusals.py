"""The encoder refuses, in one InrInputError and before it works, what it cannot do: options out of
range, an encode larger than the machine's memory, a journal it did not write."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch

from inrcodec.train import memory
from inrcodec.train.journal import journal_path
from inrcodec.archs.gnerv import Gnerv
from inrcodec.container.chunks import SequenceHeader
from inrcodec.errors import InrInputError

from .conftest import SAMPLE_48, fast_encode
from .test_resume import OPTS, interrupt_after

CPU = torch.device("cpu")


@pytest.mark.parametrize("option, value, message", [
    ("lam", math.nan, "--lambda must be a positive finite number"),
    ("lam", math.inf, "--lambda must be a positive finite number"),
    ("lam", -1.0, "--lambda must be a positive finite number"),
    ("lam", 0.0, "--lambda must be a positive finite number"),
    ("iters", -5, "--iters must be >= 1"),
    ("iters", 0, "--iters must be >= 1"),
    ("p_iters", -1, "--p-iters must be >= 1"),
])
def test_bad_numbers_are_refused_before_any_work(tmp_path, option, value, message):
    dst = tmp_path / "x.inr"
    with pytest.raises(InrInputError, match=message):
        fast_encode(SAMPLE_48, dst, **{option: value})
    assert list(tmp_path.iterdir()) == []


def _header(side: int, quality: int = 5, gop: int = 30, gom: int = 2) -> SequenceHeader:
    return SequenceHeader(width=side, height=side, n_frames=gop * gom, fps_num=25, fps_den=1, chroma_format=0,
                          bit_depth=8, color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0,
                          gop_size=gop, gom_size=gom, arch_id=1, arch_params=Gnerv.QUALITY[quality], coder_id=1, seed=1)


def test_estimate_grows_with_the_picture_and_the_batch():
    small, large = memory.estimate(_header(256), None, 2, 1), memory.estimate(_header(1024), None, 2, 1)
    per_picture = lambda e: e.frames + e.host_planes + e.planes + e.training
    assert 12 < per_picture(large) / per_picture(small) < 20  # ~16x the pixels
    assert memory.estimate(_header(1024), None, 1, 1).training < large.training
    assert memory.estimate(_header(1024), None, 2, 3).host(CPU) > 3 * large.host(CPU)


def test_an_encode_that_does_not_fit_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 24 << 30)
    with pytest.raises(InrInputError) as err:
        memory.fit_batch(_header(8192), None, 2, 1, CPU)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("encoding 8192x8192 needs about") and "24.0 GiB is available" in text
    assert "--gop" in text
    assert memory.fit_batch(_header(512), None, 2, 1, CPU) == 2


def test_the_batch_drops_to_one_frame_when_two_do_not_fit(monkeypatch):
    header = _header(2048, quality=9)
    one, two = (memory.estimate(header, None, b, 1).host(CPU) for b in (1, 2))
    assert one < two
    monkeypatch.setattr(memory, "available_bytes", lambda: (one + two) // 2)
    assert memory.fit_batch(header, None, 2, 1, CPU) == 1


def test_encode_checks_memory_before_reading_frames(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 10)  # 1 KiB: nothing fits
    with pytest.raises(InrInputError, match="needs about"):
        fast_encode(SAMPLE_48, tmp_path / "x.inr")
    assert list(tmp_path.iterdir()) == []


def test_the_estimate_is_not_below_what_an_encode_uses(tmp_path):
    """A real encode's peak RSS above an idle process's (both measured in children) stays under the
    estimate, at a size where the frames and activations matter (256x256)."""
    import os
    import subprocess
    import sys

    import numpy as np

    src, dst = tmp_path / "noise.y4m", tmp_path / "x.inr"
    rng = np.random.default_rng(0)
    with open(src, "wb") as f:
        f.write(b"YUV4MPEG2 W256 H256 F25:1 Ip A1:1 C420jpeg\n")
        for _ in range(4):
            f.write(b"FRAME\n" + rng.integers(0, 256, 256 * 256 * 3 // 2, dtype=np.uint8).tobytes())
    code = ("import resource, inrcodec.api as a; "
            f"a.encode({str(src)!r}, {str(dst)!r}, quality=9, iters=3, p_iters=3, threads=1, device='cpu'); "
            "print(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024)")
    base = ("import resource, torch, av, inrcodec.api; "
            "print(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024)")
    run = lambda c: int(subprocess.run([sys.executable, "-c", c], capture_output=True, text=True, check=True,
                                       env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout.split()[-1])
    used = run(code) - run(base)
    header = dataclasses.replace(_header(256, quality=9, gop=4, gom=1), n_frames=4)
    estimate = memory.estimate(header, None, 2, 1).host(CPU)
    assert used <= estimate, (used, estimate)


def _interrupted(tmp_path):
    dst = tmp_path / "out.inr"
    with pytest.raises(KeyboardInterrupt):
        fast_encode(SAMPLE_48, dst, progress=interrupt_after(1, dst), **OPTS)
    return dst


def _edit_first_entry(dst, edit):
    path = journal_path(dst)
    lines = open(path, "rb").read().split(b"\n")
    entry = json.loads(lines[1])
    edit(entry)
    lines[1] = json.dumps(entry).encode()
    with open(path, "wb") as f:
        f.write(b"\n".join(lines))


@pytest.mark.parametrize("edit", [
    lambda e: e.update(state={"sse": "x"}),
    lambda e: e["state"].update(sse=[1, 2]),
    lambda e: e["state"].update(sse=[1, 2, "nan"]),
    lambda e: e["state"].pop("deep_sum"),
    lambda e: e["state"].update(reports=[{"nonsense": 1}]),
    lambda e: e["state"].update(reports="x"),
    lambda e: e["state"]["reports"][0].update(bytes="many"),
    lambda e: e.update(offset=10**12),
    lambda e: e.update(offset=-3),
], ids=["state-not-numbers", "sse-shape", "sse-nan", "no-deep-sum", "report-keys", "reports-not-list",
        "report-type", "offset-huge", "offset-negative"])
def test_an_edited_journal_is_refused_in_one_line(tmp_path, edit):
    dst = _interrupted(tmp_path)
    _edit_first_entry(dst, edit)
    with pytest.raises(InrInputError, match="cannot resume"):
        fast_encode(SAMPLE_48, dst, resume=True, **OPTS)


def test_settings_above_the_decoder_level_are_refused(tmp_path, monkeypatch):
    from inrcodec import levels
    from inrcodec.train import plan

    small = levels.Limits(max_pixels=1000)  # the 48x32 sample has 1536
    monkeypatch.setattr(plan, "check_limits", lambda h, lh: levels.check_limits(h, lh, limits=small))
    with pytest.raises(InrInputError, match="above the decoder's level: frame 48x32 has 1536 samples"):
        fast_encode(SAMPLE_48, tmp_path / "x.inr")
    assert list(tmp_path.iterdir()) == []
