"""--workers: GOMs encoded at once in local processes give the same bytes, and a failing worker
fails the whole encode cleanly."""

from __future__ import annotations

import dataclasses
import os

import pytest

import inrcodec.train.encoder as encoder_module
from inrcodec.train.gom import GomJob
from inrcodec.train.runners import WorkerError, run_pool, run_serial
from inrcodec.container.writer import partial_path
from inrcodec.train.journal import journal_path

from .conftest import SAMPLE_48, fast_encode

pytestmark = pytest.mark.slow  # real encodes and benchmarks: seconds each

# 6 frames in GOPs of 2, one GOP per GOM: 3 GOMs
OPTS = {"frames": 6, "gop": 2, "gom": 1, "iters": 40, "threads": 1}


@pytest.fixture(scope="module")
def serial_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("par") / "w1.inr"
    fast_encode(SAMPLE_48, path, workers=1, **OPTS)
    return path.read_bytes()


def test_two_workers_give_the_bytes_of_one(tmp_path, serial_bytes):
    path = tmp_path / "w2.inr"
    summary = fast_encode(SAMPLE_48, path, workers=2, **OPTS)
    assert path.read_bytes() == serial_bytes
    assert [g.gop_index for g in summary.gops] == [0, 1, 2]


def test_parallel_progress_reports_the_whole_encode(tmp_path):
    seen = []
    fast_encode(SAMPLE_48, tmp_path / "p.inr", workers=2, progress=lambda *a: seen.append(a), **OPTS)
    labels = {a[0] for a in seen}
    totals = {a[2] for a in seen}
    assert labels == {"encode"} and len(totals) == 1
    done = [a[1] for a in seen]
    assert max(done) <= totals.pop()
    assert any("GOM" in a[3]["at"] for a in seen)


def _broken(jobs):
    for job in jobs:
        yield dataclasses.replace(job, frames=[]) if job.gom_index == 1 else job


def test_a_failing_worker_fails_the_encode_and_leaves_nothing(tmp_path, monkeypatch):
    real = encoder_module.run_pool
    monkeypatch.setattr(encoder_module, "run_pool", lambda jobs, *a, **k: real(_broken(jobs), *a, **k))
    dst = tmp_path / "bad.inr"
    with pytest.raises(WorkerError, match="GOM 1"):
        fast_encode(SAMPLE_48, dst, workers=2, **OPTS)
    assert not dst.exists()
    # GOM 0 may have finished first and be kept for --resume; nothing else is left
    assert set(os.listdir(tmp_path)) <= {os.path.basename(partial_path(dst)), os.path.basename(journal_path(dst))}


def test_pool_and_serial_runners_agree_on_a_job(tmp_path):
    # one GomJob through both runners: same chunks
    captured = []
    real = encoder_module.run_serial

    def capture(jobs, progress=None):
        for job in jobs:
            captured.append(job)
            yield from real([job], progress)
    mp = pytest.MonkeyPatch()
    mp.setattr(encoder_module, "run_serial", capture)
    try:
        fast_encode(SAMPLE_48, tmp_path / "s.inr", workers=1, **OPTS)
    finally:
        mp.undo()
    job: GomJob = captured[1]
    a = [c.body for r in run_serial([job]) for c in r.chunks]
    b = [c.body for r in run_pool([job], workers=1, threads=1) for c in r.chunks]
    assert a == b


def test_local_ray_gives_the_same_bytes(tmp_path, serial_bytes):
    pytest.importorskip("ray", reason="pip install 'inrcodec[ray]'")
    path = tmp_path / "ray.inr"
    fast_encode(SAMPLE_48, path, ray="local", workers=2, **OPTS)
    assert path.read_bytes() == serial_bytes
