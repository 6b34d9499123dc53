"""How long torch's OpenMP threads spin before they sleep, chosen before torch loads (issue 29).

torch's CPU build runs its parallel loops on GNU OpenMP (libgomp). A thread that reaches a barrier
first spins, by default 300 000 rounds (milliseconds), waiting for the others. When another
process holds a core, the thread it waits for is not running: each barrier then burns a whole
time slice, and two encodes on two cores took 33x the time of one (an encode beside a busy
single-threaded torch job, 20x). Sleeping soon (``OMP_WAIT_POLICY=PASSIVE``, or a short spin) ends
that, but on a quiet machine two threads that sleep at every barrier are slower than one: gnerv q5
on QCIF, 42.5 ms an iteration with a spin of 1000 against 20.8 ms with libgomp's default and 22.1 ms
on one thread (docs/encoder-notes.md).

So the encoder trains on one thread by default (train/runners.py ``default_threads``): it has no
barrier to wait at, and encodes side by side keep a core each. This module matters where more
threads are asked for (``--threads N``): started on a machine where other work already runs, they
sleep at once (``GOMP_SPINCOUNT=0``); on a quiet one libgomp keeps its default, the fastest while the
machine stays quiet (work that arrives later slows them, as it did before issue 29).

libgomp reads its settings once, when it is loaded: ``configure_openmp`` must run before the first
``import torch``, so the package's ``__init__`` calls it, and processes started from one that made
the choice (``--workers``, Ray on this machine, ``bench``'s encodes) inherit it through the
environment. The thread count is not touched here: the bytes of an encode depend on it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

# Settings a user (or a parent process) may have made; any of them leaves the choice to them.
USER_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
# Spin rounds (libgomp's GOMP_SPINCOUNT) when no other process is running: None, libgomp's default
# (300 000), the fastest for threads that keep their cores
SPIN_QUIET = None
# ... and when other processes already run: sleep at once, as OMP_WAIT_POLICY=PASSIVE.
SPIN_BUSY = 0
N_SAMPLES = 3  # looks at the run queue, SAMPLE_GAP_S apart: a task runnable in all of them is busy
SAMPLE_GAP_S = 0.002


def spin_count(n_cpus: int, n_threads: int, n_others_running: int) -> int | None:
    """The spin rounds for ``n_threads`` OpenMP threads on ``n_cpus`` cores while ``n_others_running``
    tasks of other processes are running: none if the cores cannot hold them all at once, else
    libgomp's default (None)."""
    return SPIN_BUSY if n_others_running + n_threads > n_cpus else SPIN_QUIET


def others_running(samples: int = N_SAMPLES, gap_s: float = SAMPLE_GAP_S) -> int:
    """Tasks running or runnable besides this one, the fewest in ``samples`` looks at the kernel's
    run queue (``procs_running`` in /proc/stat); 0 where it cannot be read."""
    counts = []
    for k in range(samples):
        if k:
            time.sleep(gap_s)
        try:
            with open("/proc/stat", "rb") as fh:
                line = next((ln for ln in fh if ln.startswith(b"procs_running ")), None)
        except OSError:
            return 0
        if line is None:
            return 0
        counts.append(int(line.split()[1]) - 1)  # this process is one of them
        if counts[-1] <= 0:  # the fewest cannot go lower: no more looks (a quiet start costs one read)
            break
    return max(0, min(counts))


def _n_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _n_threads(environ, n_cpus: int) -> int:
    """The OpenMP threads torch will start: OMP_NUM_THREADS's first value, else one per core."""
    try:
        return max(1, int(environ.get("OMP_NUM_THREADS", "").split(",")[0]))
    except ValueError:
        return n_cpus


def _torch_installed() -> bool:
    """Whether torch can be imported here: a player-only install (no torch) has no libgomp to set,
    and skips the looks at the run queue on every ``import inrcodec``."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


_chosen: str | None = None  # the value configure_openmp set in this process, if it set one


def configure_openmp(environ=os.environ, *, measure=others_running, modules=sys.modules,
                     has_torch=_torch_installed) -> str | None:
    """Set ``GOMP_SPINCOUNT`` in ``environ`` to 0 when the machine is busy now; the value set, or None
    where none is (a quiet machine or a single thread: libgomp's default; a setting in USER_SETTINGS
    already there; torch, its libgomp, already loaded; no torch)."""
    global _chosen
    if any(name in environ for name in USER_SETTINGS) or "torch" in modules or not has_torch():
        return None
    n_cpus = _n_cpus()
    n_threads = _n_threads(environ, n_cpus)
    spin = spin_count(n_cpus, n_threads, measure()) if n_threads > 1 else SPIN_QUIET
    if spin is None:
        return None
    value = str(spin)
    environ["GOMP_SPINCOUNT"] = value
    if environ is os.environ:
        _chosen = value
    return value


def own_choice_removed(env: dict[str, str]) -> dict[str, str]:
    """``env`` (a copy of this process's environment) without the spin count configure_openmp chose
    here, so that a child started much later (``bench``'s encodes, one after another) looks at the
    machine itself; a user's setting stays. Workers of one encode inherit the choice instead."""
    if _chosen is not None and env.get("GOMP_SPINCOUNT") == _chosen:
        env = dict(env)
        del env["GOMP_SPINCOUNT"]
    return env
