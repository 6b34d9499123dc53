"""Atomic, resumable encoding: an interrupted encode leaves nothing under the output name, and
``--resume`` continues from the last journalled GOM to the same bytes as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from inrcodec.train.journal import journal_path
from inrcodec.container.writer import partial_path
from inrcodec.errors import InrInputError

from .conftest import SAMPLE_48, fast_encode

# 4 GOMs of one 2-frame GOP each; enough iterations that a GOM takes a noticeable moment
OPTS = {"gop": 2, "gom": 1, "iters": 150}


def interrupt_after(n_goms: int, dst):
    """A progress callback that raises KeyboardInterrupt once ``n_goms`` GOMs are journalled."""
    def progress(label, it, total, d):
        with open(journal_path(dst)) as f:
            if len(f.read().splitlines()) - 1 >= n_goms:
                raise KeyboardInterrupt
    return progress


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("resume") / "ref.inr"
    fast_encode(SAMPLE_48, path, **OPTS)
    return path.read_bytes()


def test_interrupt_keeps_the_journal_and_no_output(tmp_path):
    dst = tmp_path / "out.inr"
    with pytest.raises(KeyboardInterrupt):
        fast_encode(SAMPLE_48, dst, progress=interrupt_after(2, dst), **OPTS)
    assert not dst.exists()
    assert os.path.exists(partial_path(dst)) and os.path.exists(journal_path(dst))


def test_resume_gives_the_bytes_of_an_uninterrupted_encode(tmp_path, reference):
    dst = tmp_path / "out.inr"
    with pytest.raises(KeyboardInterrupt):
        fast_encode(SAMPLE_48, dst, progress=interrupt_after(2, dst), **OPTS)
    summary = fast_encode(SAMPLE_48, dst, resume=True, **OPTS)
    assert summary.resumed_goms == 2
    assert dst.read_bytes() == reference
    assert not os.path.exists(partial_path(dst)) and not os.path.exists(journal_path(dst))
    assert [g.gop_index for g in summary.gops] == [0, 1, 2, 3]


def test_resume_of_a_layered_encode_gives_the_same_bytes(tmp_path):
    layered = {**OPTS, "iters": 60, "layers": 2, "layer_quality": (2,)}
    ref = tmp_path / "ref.inr"
    fast_encode(SAMPLE_48, ref, **layered)
    dst = tmp_path / "out.inr"
    with pytest.raises(KeyboardInterrupt):
        fast_encode(SAMPLE_48, dst, progress=interrupt_after(2, dst), **layered)
    summary = fast_encode(SAMPLE_48, dst, resume=True, **layered)
    assert summary.resumed_goms == 2 and dst.read_bytes() == ref.read_bytes()
    assert len(summary.layer_psnr_yuv) == 2 and summary.layer_psnr_yuv[1] == pytest.approx(summary.psnr_yuv)


def test_resume_with_other_options_is_refused(tmp_path):
    dst = tmp_path / "out.inr"
    with pytest.raises(KeyboardInterrupt):
        fast_encode(SAMPLE_48, dst, progress=interrupt_after(1, dst), **OPTS)
    with pytest.raises(InrInputError, match="other options"):
        fast_encode(SAMPLE_48, dst, resume=True, **{**OPTS, "seed": 9})


def test_resume_without_a_journal_encodes_from_the_start(tmp_path, reference):
    dst = tmp_path / "out.inr"
    summary = fast_encode(SAMPLE_48, dst, resume=True, **OPTS)
    assert summary.resumed_goms == 0 and dst.read_bytes() == reference


def test_a_damaged_partial_file_is_refused(tmp_path):
    dst = tmp_path / "out.inr"
    with pytest.raises(KeyboardInterrupt):
        fast_encode(SAMPLE_48, dst, progress=interrupt_after(2, dst), **OPTS)
    part = partial_path(dst)
    data = bytearray(open(part, "rb").read())
    data[60] ^= 0x10
    open(part, "wb").write(bytes(data))
    with pytest.raises(InrInputError, match="damaged|does not hold"):
        fast_encode(SAMPLE_48, dst, resume=True, **OPTS)


@pytest.mark.slow
def test_killed_encode_process_resumes_to_identical_bytes(tmp_path, reference):
    dst = tmp_path / "killed.inr"
    cmd = [sys.executable, "-m", "inrcodec.cli", "enc", SAMPLE_48, "-o", str(dst), "--gop", "2", "--gom", "1",
           "--quality", "1", "--channels", "8,8,8", "--iters", "150", "--p-iters", "10", "--threads", "1",
           "--device", "cpu", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:  # wait for the first GOM's journal line
            if os.path.exists(journal_path(dst)) and len(open(journal_path(dst)).read().splitlines()) >= 2:
                break
            if proc.poll() is not None:
                pytest.fail("the encode finished before it could be killed")
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert not dst.exists()
    done = subprocess.run(cmd + ["--resume", "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["resumed_goms"] >= 1
    assert dst.read_bytes() == reference
