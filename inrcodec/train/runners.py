"""Where GOMs are encoded: in this process, or in a pool of local worker processes.

Both runners take an iterator of ``GomJob`` (the encoder reads the source once, in order, and
builds each job as its frames arrive) and yield ``GomResult`` in GOM order, so the writer appends
GOMs as they complete and the file streams. The pool keeps at most ``workers`` jobs in flight:
memory holds the frames of that many GOMs, not the whole video. Workers get the frames with
their job (nothing else of the video), run with a fixed torch thread count, and ignore SIGINT so
that Ctrl-C reaches only the encoder, which then stops them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
from collections import deque
from typing import Iterable, Iterator

import torch

from ..errors import InrError
from .gom import GomJob, GomProgress, GomResult, encode_gom

POLL_S = 0.2


class WorkerError(InrError):
    """A worker failed on a GOM for a reason outside the InrError family."""


def run_serial(jobs: Iterable[GomJob], progress: GomProgress | None = None) -> Iterator[GomResult]:
    """Encode each GOM here, one after the other."""
    for job in jobs:
        yield encode_gom(job, progress)


# -- the pool -------------------------------------------------------------------------------------

_progress_queue = None


def _worker_init(threads: int, progress_queue) -> None:
    global _progress_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    _progress_queue = progress_queue


def _encode_job(job: GomJob, progress_queue) -> GomResult:
    """One GOM in a worker, pool or Ray: progress goes to ``progress_queue`` (best effort, never
    slowing the worker down), and a failure outside the InrError family becomes one WorkerError
    line naming the GOM (the CLI prints it as it is)."""
    def report(*event) -> None:
        try:
            progress_queue.put_nowait(event)
        except Exception:
            pass
    try:
        return encode_gom(job, report if progress_queue is not None else None)
    except InrError:
        raise
    except Exception as exc:
        raise WorkerError(f"worker failed on GOM {job.gom_index}: {type(exc).__name__}: {exc}") from None


def _worker_encode(job: GomJob) -> GomResult:
    return _encode_job(job, _progress_queue)


def run_pool(jobs: Iterable[GomJob], workers: int, threads: int,
             progress: GomProgress | None = None) -> Iterator[GomResult]:
    """Encode GOMs in ``workers`` processes, ``threads`` torch threads each; results in GOM order."""
    ctx = mp.get_context("spawn")  # fork would copy torch's thread pools and locks
    progress_queue = ctx.Queue(maxsize=1000) if progress is not None else None
    pool = ctx.Pool(workers, initializer=_worker_init, initargs=(threads, progress_queue))
    pending: deque = deque()
    try:
        for head in _in_order(jobs, workers, lambda job: pool.apply_async(_worker_encode, (job,)), pending):
            while not head.ready():
                head.wait(POLL_S)
                _drain(progress_queue, progress)
            _drain(progress_queue, progress)
            yield head.get()  # re-raises a worker's exception here
        pool.close()
        pool.join()
    finally:
        pool.terminate()  # on any failure or interruption, stop the other workers at once
        if progress_queue is not None:
            progress_queue.close()
            progress_queue.cancel_join_thread()


def _in_order(jobs: Iterable[GomJob], limit: int, submit, pending: deque) -> Iterator:
    """Submit jobs keeping at most ``limit`` in flight; yield their handles in submission order.

    ``pending`` holds the handles submitted and not yet yielded, for the caller to cancel on failure.
    """
    for job in jobs:
        pending.append(submit(job))
        if len(pending) >= limit:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


def _drain(progress_queue, progress: GomProgress | None) -> None:
    """Pass on every progress event waiting in the queue (multiprocessing or Ray: both raise a
    subclass of queue.Empty when there is none)."""
    if progress_queue is None:
        return
    while True:
        try:
            event = progress_queue.get_nowait()
        except queue.Empty:
            return
        progress(*event)


def default_workers(device: torch.device) -> int:
    """One worker per visible GPU when encoding on CUDA, else one."""
    if device.type == "cuda":
        return max(1, torch.cuda.device_count())
    return 1


def default_threads(workers: int, device_type: str = "cpu") -> int:
    """Torch threads per worker: one on the CPU, whatever the core count; on a GPU, the cores shared out.

    The networks are small: one training iteration is hundreds of short operations, and a second
    thread buys little while it waits at each one's barrier. Measured on the 2-core reference
    machine (tools/bench_speed.py, docs/encoder-notes.md): gnerv q5 on QCIF takes 22.1 ms an iteration
    on one thread, 20.8 ms on two spinning at their barriers (libgomp's default) and 42.5 ms on two
    that sleep soon (as they must beside another process, or two encodes collapse 33x, issue 29).
    One thread has no barrier to wait at, so encodes side by side each keep a core, and the bytes
    are the same on every machine (they depend on the thread count)."""
    if device_type != "cuda":
        return 1
    return max(1, (os.cpu_count() or 1) // workers)


# -- Ray ------------------------------------------------------------------------------------------

def _ray_encode(job: GomJob, threads: int, progress_queue) -> GomResult:
    """A Ray task: one GOM, with the thread count the bytes depend on."""
    torch.set_num_threads(threads)
    return _encode_job(job, progress_queue)


def run_ray(jobs: Iterable[GomJob], address: str | None, workers: int, threads: int, gpus_per_task: float,
            progress: GomProgress | None = None) -> Iterator[GomResult]:
    """Encode GOMs as Ray tasks on the cluster at ``address`` (None: start a local Ray).

    The driver reads the source and ships each GOM's frames with its task (through Ray's object
    store), so workers on other machines need no access to the source. At most ``workers`` tasks
    are in flight; each asks for ``threads`` CPUs and ``gpus_per_task`` GPUs.
    """
    try:
        import ray
        from ray.util.queue import Queue
    except ImportError:
        raise InrError("--ray needs Ray: pip install 'inrcodec[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        if address is None:
            ray.init(num_cpus=max(workers * threads, os.cpu_count() or 1), include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    task = ray.remote(num_cpus=threads, num_gpus=gpus_per_task, max_retries=0)(_ray_encode)
    progress_queue = Queue(maxsize=1000) if progress is not None else None
    pending: deque = deque()
    try:
        for head in _in_order(jobs, workers, lambda job: task.remote(job, threads, progress_queue), pending):
            while not ray.wait([head], timeout=POLL_S)[0]:
                _drain(progress_queue, progress)
            _drain(progress_queue, progress)
            try:
                yield ray.get(head)
            except ray.exceptions.RayTaskError as err:
                cause = getattr(err, "cause", None)  # the task's own exception, without Ray's traceback
                if isinstance(cause, InrError):
                    raise cause from None
                raise WorkerError(f"a Ray task failed: {cause!r}") from None
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if progress_queue is not None:
            progress_queue.shutdown()
        if started_here:
            ray.shutdown()

