"""The encoder: cut the video into GOPs and GOMs, fit one network per GOP, write the .inr.

Closed loop (uar-nvc §III-B..E): every P-model starts from theta'_k, the interpolation of the
GOM's seeded initialisation and the *decoded* previous model, and codes its residual against it.
After writing a model the encoder parses its own chunk and continues from those integers, so it
predicts from exactly what the decoder will have.
"""

from __future__ import annotations

import itertools
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Iterator

import torch

from ..coders import CODERS
from ..decode.device import pick_device
from ..decode.options import check_threads
from ..container import spec
from ..container.chunks import BlobChunk, DisplayInfo, IndexRecord, LayerHeader, SequenceHeader, target_payload
from ..container.reader import ContainerReader
from ..container.spec import ChromaFormat
from ..container.writer import ContainerWriter, partial_path
from ..costs import network_cost
from ..errors import InrError, InrInputError, InrNotice, InrUnsupportedError
from ..io.video import open_video, pattern_files
from ..levels import layer_costs
from ..metrics import SSIM_WINDOW, sample_peak
from ..models import ARCHITECTURES
from ..outfile import check_output
from .gom import GomJob, GomResult, deterministic_cuda
from .journal import GomEntry, Journal, fingerprint
from .losses import build_loss, parse_loss
from .options import TARGET_OPTIONS, EncodeOptions, option_flag
from .plan import MIN_ITERS, EncodePlan, Resolved, arch_class, build_plan, resolve
from .presets import PRESET
from .probe import check_reachable
from .runners import default_threads, default_workers, run_pool, run_ray, run_serial
from .stats import GopReport, QualityStats
from .target import allocate
from .timing import END_RESERVE_S, GomClock, after_fit_seconds, check_budget, gom_ends, parse_duration

__all__ = ["EncodeSummary", "encode"]


@dataclass
class EncodeSummary:
    """The numbers the CLI prints at the end."""

    path: str
    n_frames: int
    width: int
    height: int
    file_bytes: int
    bpp: float
    kbps: float
    psnr_y: float
    psnr_u: float
    psnr_v: float
    psnr_yuv: float
    psnr_rgb: float
    seconds: float
    macs_per_pixel: float
    bit_depth: int = 8  # of the source and the decoded frames; every PSNR/SSIM is at peak 2^depth - 1
    gops: list[GopReport] = field(default_factory=list)
    resumed_goms: int = 0  # GOMs taken from an interrupted encode's partial file (--resume)
    ssim_y: float | None = None  # mean luma SSIM over frames (None below 11x11)
    ms_ssim_y: float | None = None  # mean luma MS-SSIM over frames
    deep_distance: float | None = None  # mean LPIPS-style distance (with --perceptual-weights)
    layer_psnr_yuv: list[float] = field(default_factory=list)  # --layers: PSNR-YUV of layers 0..k, per k
    layer_bytes: list[int] = field(default_factory=list)  # --layers: coded bytes of each layer
    # encoding to a target: what was asked and what was reached, e.g. {"asked": "--size 20k",
    # "target_bytes": 20000, "file_bytes": 19480, "off_percent": -2.6, "quality": 3, "lambda": [...]}
    target: dict | None = None
    # --time: {"asked": "--time 2m", "budget_s": 120, "seconds": 118.2, "off_percent": -1.5}
    time: dict | None = None

    def to_dict(self) -> dict:
        """JSON-ready view."""
        return asdict(self)


def _resolve_checked(opts: EncodeOptions) -> Resolved:
    """``opts`` resolved (the encode's one ``resolve``); InrInputError on the first unusable option."""
    if opts.gop is not None and opts.gop <= 0:
        raise InrInputError(f"--gop must be >= 1 (got {opts.gop})")
    if opts.gom is not None and opts.gom <= 0:
        raise InrInputError(f"--gom must be >= 1 (got {opts.gom})")
    cls = arch_class(opts)
    ladder = f"{min(cls.QUALITY)}..{max(cls.QUALITY)}"
    targets = [option_flag(name) for name in TARGET_OPTIONS if getattr(opts, name) is not None]
    if len(targets) > 1:  # one line, exit 7, like the other conflicts
        raise InrInputError(f"{targets[0]} and {targets[1]} cannot be used together: one target at a time")
    for flag, given in (("--quality", opts.quality is not None), ("--lambda", opts.lam is not None)):
        if targets and given:
            raise InrInputError(f"{targets[0]} and {flag} cannot be used together: the target picks the network "
                                f"and lambda")
    if targets and opts.layers > 1:
        raise InrInputError(f"{targets[0]} applies to one-layer encodes (got --layers {opts.layers})")
    if opts.quality is not None and opts.quality not in cls.QUALITY:
        raise InrInputError(f"--quality must be {ladder} (got {opts.quality})")
    if opts.preset not in PRESET:
        raise InrInputError(f"--preset must be one of {', '.join(PRESET)} (got {opts.preset!r})")
    if opts.frames is not None and opts.frames <= 0:
        raise InrInputError(f"--frames must be >= 1 (got {opts.frames})")
    if opts.workers is not None and opts.workers <= 0:
        raise InrInputError(f"--workers must be >= 1 (got {opts.workers})")
    check_threads(opts.threads)
    if opts.seed < 0 or opts.seed >= 2**64:
        raise InrInputError("--seed must be in 0..2**64-1")
    if opts.lam is not None and not (math.isfinite(opts.lam) and opts.lam > 0):
        raise InrInputError(f"--lambda must be a positive finite number (got {opts.lam})")
    for flag, value in (("--iters", opts.iters), ("--p-iters", opts.p_iters)):
        if value is not None and value < 1:
            raise InrInputError(f"{flag} must be >= 1 (got {value})")
        if value is not None and opts.time is not None:
            raise InrInputError(f"--time and {flag} cannot be used together: the time sets the iterations")
    if opts.time is not None:
        parse_duration(opts.time)
    if not 1 <= opts.layers <= spec.MAX_LAYERS:
        raise InrInputError(f"--layers must be 1..{spec.MAX_LAYERS} (got {opts.layers})")
    if opts.layer_quality is not None:
        if opts.layers == 1:
            raise InrInputError("--layer-quality needs --layers 2 or more")
        if len(opts.layer_quality) not in (1, opts.layers - 1):
            raise InrInputError(f"--layer-quality needs 1 or {opts.layers - 1} values (one per residual layer), "
                                f"got {len(opts.layer_quality)}")
        if any(q not in cls.QUALITY for q in opts.layer_quality):
            raise InrInputError(f"--layer-quality values must be {ladder} (got {list(opts.layer_quality)})")
    if not 1 <= opts.residual_scale <= spec.MAX_RESIDUAL_SCALE:
        raise InrInputError(f"--residual-scale must be 1..{spec.MAX_RESIDUAL_SCALE} (got {opts.residual_scale})")
    parse_loss(opts.loss)
    CODERS.get(opts.coder)
    own = {o.name for o in cls.OPTIONS}
    for name in opts.arch:
        if name not in own:
            takers = [n for n in ARCHITECTURES.names() if name in {o.name for o in ARCHITECTURES.get(n).OPTIONS}]
            flag = "--" + name.replace("_", "-")
            raise InrInputError(f"{flag} applies to --model {' or '.join(takers) or 'none'} only")
    res = resolve(opts)
    try:  # by arithmetic: no network is built to check its arch_params
        network_cost(ARCHITECTURES.id_of(opts.model), 64, 64, ChromaFormat.YUV420.label, res.arch_params)
    except ValueError as exc:
        raise InrInputError(f"--model {opts.model}: {exc}") from None
    return res


def encode(src: str | os.PathLike, dst: str | os.PathLike, opts: EncodeOptions,
           progress: Callable[[str, int, int, dict], None] | None = None, *,
           overwrite: bool = False, started: float | None = None) -> EncodeSummary:
    """Encode ``src`` to ``dst`` (a file written atomically; an existing one replaced only with
    ``overwrite``) and return the summary. ``started`` (``time.time()`` seconds, not later than now):
    when --time's clock started, e.g. the process's start on the command line; default: now."""
    res = _resolve_checked(opts)
    # refused before any work: -, the source itself, an existing file without overwrite, a read-only one;
    # a device or pipe is written through, with no partial file or journal to resume from
    is_path = isinstance(src, (str, os.PathLike))
    inputs = (src,) if is_path and os.fspath(src) != "-" else ()
    # an image sequence's pattern names no file: each file it may read is an input (issue 32)
    inputs += tuple(p for _, p in pattern_files(src)) if is_path else ()
    resumable = check_output(dst, overwrite=overwrite, inputs=inputs, allow_stdout=False)
    t_start, wall_start = time.perf_counter(), time.time()
    if started is not None:
        wall_start = min(wall_start, started)
    device = pick_device(opts.device)
    if device.type == "cuda":
        deterministic_cuda()
    # how the GOMs run, fixed before the plan: after it, only the plan is read
    workers = opts.workers or default_workers(device)
    threads = opts.threads or default_threads(workers, device.type)
    torch.set_num_threads(threads)  # serial GOMs run in this process
    runner = _Runner(workers, threads, opts.ray, 1.0 if device.type == "cuda" else 0.0)
    resume, iters_text = opts.resume and resumable, _iters_text(opts)
    with (open_video(src, max_frames=opts.frames) if is_path else src) as video:
        info = video.info
        plan = build_plan(opts, res, info, device, workers)
        header, layers, n_layers = plan.header, plan.layers, plan.n_layers
        if plan.time_budget is not None:  # refused before any training: too little time for the fewest iterations
            check_budget(plan.time_budget, MIN_ITERS, [plan.iter_seconds] * (header.n_gops * n_layers),
                         sum(_after_fit(plan, g) for g in range(header.n_gops)) * n_layers)
        # this process's one copy (run_serial's GOMs reuse it); missing perceptual weights are refused here
        loss = build_loss(plan.loss, str(device))
        if plan.judge is not None:
            build_loss(plan.judge, str(device))
        loss.check_size([(info.height, info.width), info.chroma_shape])
        macs = sum(cost.macs_per_pixel for cost in layer_costs(header, layers))
        # standard input (a temporary copy) and numpy frames are fingerprinted by their content
        by_content = not is_path or os.fspath(src) == "-"
        journal = Journal(dst, _fingerprint(video if by_content else src, plan, threads)) if resumable else None
        display = info.display_info()
        entries, records = _resume_point(journal, dst, header, layers, display) if resume else ([], [])
        resumed = len(entries)
        frames = iter(video)
        if plan.target is not None and plan.target.kind == "psnr" and not resumed:
            # a PSNR out of reach is refused before training (train/probe.py): the first GOP is read
            # ahead for two short fits of the largest network, then handed to the encode as it was
            first = [next(frames) for _ in range(header.gop_range(0)[1])]
            check_reachable(plan, arch_class(opts), opts.model, first, progress)
            frames = itertools.chain(first, frames)
        if entries:
            stats = _journal_state(journal, entries[-1], n_layers)
            writer = ContainerWriter.resume(dst, header, records, entries[-1].offset, layers,
                                            overwrite=overwrite, inputs=inputs)
        else:
            stats = QualityStats(n_layers)
            writer = ContainerWriter(dst, header, layers=layers, display=display, resumable=resumable,
                                     overwrite=overwrite, inputs=inputs)
        tracker = _Progress(progress, plan, resumed, iters_text, wall_start)
        clocks = _clocks(plan, resumed, wall_start, workers) if plan.time_budget is not None else None
        # GOM k's share of a target is read off the reports of GOMs 0..k-lag when its job is built
        jobs = _jobs(frames, plan, skip=resumed, reports=stats.reports, clocks=clocks)
        keep = False
        try:
            if journal is not None:
                journal.start(entries)
            for result in runner.results(jobs, tracker.update if progress else None):
                for chunk in result.chunks:
                    if isinstance(chunk, BlobChunk):
                        writer.write_blob(chunk)
                    else:
                        writer.write_model(chunk)
                stats.add(result.stats)
                tracker.finished(result.gom_index)
                # a GOM is finished: its bytes on disk first, then the journal line that counts them
                writer.sync()
                entries.append(GomEntry(len(entries), writer.size_bytes, stats.to_json()))
                if journal is not None:
                    journal.append(entries[-1])
            quality = stats.summary(sample_peak(info.bit_depth), info.n_frames,
                                    ssim=min(info.width, info.height) >= SSIM_WINDOW, deep=plan.judge is not None)
            if plan.target is not None or plan.time_budget is not None:  # what was asked, for info (§5.8)
                writer.write_ancillary(spec.TARG, target_payload(_target_record(plan, opts, quality, wall_start)))
            file_bytes = writer.close()
        except BaseException as exc:
            # Ctrl-C, a kill signal turned into an exception, a full disk, a failed worker...: keep
            # what a later --resume can use, never anything under the output name. Not after an
            # unusable source (a frame of another size, a sample out of range): a resume would read
            # the same frame and fail the same way, so the partial file and journal go (issue 32)
            keep = bool(entries) and writer.is_resumable and not isinstance(exc, InrInputError)
            writer.abort(keep_partial=keep)
            raise
        finally:
            if journal is not None:
                journal.close(remove=not keep)
    fps = info.fps_num / info.fps_den
    return EncodeSummary(
        path=str(dst), n_frames=info.n_frames, width=info.width, height=info.height,
        file_bytes=file_bytes, bpp=file_bytes * 8 / (info.width * info.height * info.n_frames),
        kbps=file_bytes * 8 / (info.n_frames / fps) / 1000, bit_depth=info.bit_depth,
        seconds=time.perf_counter() - t_start, macs_per_pixel=macs, gops=stats.reports, resumed_goms=resumed,
        target=_reached(plan, file_bytes, quality), **quality,
        time=None if plan.time_budget is None else _in_time(opts.time, plan.time_budget, time.time() - wall_start),
    )


def _target_record(plan: EncodePlan, opts: EncodeOptions, quality: dict, wall_start: float) -> dict:
    """The targ chunk's record (spec/bitstream.md §5.8): the target and the time asked, and what the
    models reached (``quality``: the summary's quality fields; a size is read off the file itself)."""
    record = {}
    t = plan.target
    if t is not None:
        aimed = {"asked": t.asked, "kind": t.kind, "value": round(t.value, 6), "quality": plan.quality}
        if t.kind != "bytes":
            key = "psnr_yuv" if t.kind == "psnr" else "ms_ssim_y"
            aimed[key] = round(quality[key], 4 if key == "psnr_yuv" else 6)
        record["target"] = aimed
    if plan.time_budget is not None:
        record["time"] = {"asked": f"--time {opts.time}", "budget_s": plan.time_budget,
                          "seconds": round(time.time() - wall_start, 1)}
    return record


def _in_time(asked: str, budget: float, seconds: float) -> dict:
    """What --time asked and what the encode took (from the clock's start)."""
    return {"asked": f"--time {asked}", "budget_s": budget, "seconds": seconds,
            "off_percent": 100 * (seconds / budget - 1)}


def _reached(plan: EncodePlan, file_bytes: int, quality: dict) -> dict | None:
    """What a target asked and what the encode reached (None without a target)."""
    t = plan.target
    if t is None:
        return None
    out = {"asked": t.asked, "quality": plan.quality}
    if t.kind == "bytes":
        out.update(target_bytes=round(t.value), file_bytes=file_bytes, off_percent=100 * (file_bytes / t.value - 1))
    elif t.kind == "psnr":
        out.update(target_psnr=t.value, psnr_yuv=quality["psnr_yuv"], off_db=quality["psnr_yuv"] - t.value)
    else:
        out.update(target_ms_ssim=t.value, ms_ssim_y=quality["ms_ssim_y"], off=quality["ms_ssim_y"] - t.value)
    return out


@dataclass(frozen=True)
class _Runner:
    """Where the GOMs run; of all this, only the thread count changes the bytes."""

    workers: int  # GOMs in flight at once
    threads: int  # torch threads per worker
    ray: str | None  # a Ray cluster's address, "local" to start one, None for local processes
    gpus_per_task: float  # what a Ray task asks for

    def results(self, jobs, progress) -> Iterator[GomResult]:
        """The GomResults of ``jobs``, in GOM order."""
        if self.ray is not None:
            address = None if self.ray == "local" else self.ray
            return run_ray(jobs, address, self.workers, self.threads, self.gpus_per_task, progress)
        if self.workers > 1:
            return run_pool(jobs, self.workers, self.threads, progress)
        return run_serial(jobs, progress)


def _journal_state(journal: Journal, entry: GomEntry, n_layers: int) -> QualityStats:
    """The running statistics a journal line carries, checked like file data: InrInputError,
    naming the journal, for anything an encoder did not write."""
    try:
        return QualityStats.from_json(entry.state, n_layers)
    except (KeyError, TypeError, ValueError) as err:
        raise InrInputError(f"cannot resume: {journal.path} is damaged (GOM {entry.gom}: {err}); "
                            f"run without --resume to start again") from None


def _after_fit(plan: EncodePlan, g: int) -> float:
    h = plan.header
    return after_fit_seconds(h.gop_range(g)[1], h.width, h.height)


def _clocks(plan: EncodePlan, skip: int, wall_start: float, workers: int) -> dict[int, GomClock]:
    """--time: each GOM's end and its models' planned seconds; GOMs before ``skip`` are done (--resume)."""
    h = plan.header
    goms = range(skip, h.n_goms)
    planned = {k: [plan.gop_iters[g] * plan.iter_seconds for g in h.gops_of_gom(k) for _ in range(plan.n_layers)]
               for k in goms}
    after = {k: [_after_fit(plan, g) for g in h.gops_of_gom(k) for _ in range(plan.n_layers)] for k in goms}
    now = time.time()
    left = plan.time_budget - (now - wall_start) - END_RESERVE_S
    ends = gom_ends([sum(planned[k]) + sum(after[k]) for k in goms], now, left, workers)
    return {k: GomClock(end, tuple(planned[k]), tuple(after[k])) for k, end in zip(goms, ends)}


def _jobs(frames, plan: EncodePlan, skip: int, reports: list | None = None, clocks: dict | None = None):
    """GomJobs in order, each built when its frames have been read (GOMs before ``skip`` are read past);
    with a target, each takes its share from ``reports`` (the list the encoder appends to: a runner
    builds job k once GOM k - workers is written, and ``allocate`` reads no later GOM)."""
    header = plan.header
    for k in range(header.n_goms):
        n = sum(header.gop_range(g)[1] for g in header.gops_of_gom(k))
        gom_frames = [next(frames) for _ in range(n)]
        if k < skip:
            continue  # finished before the interruption: its chunks are in the partial file
        share = allocate(plan.target, header, reports or [], k) if plan.target is not None else None
        yield GomJob(plan, k, gom_frames, share, clocks[k] if clocks else None)


class _Progress:
    """One bar for the whole encode: iterations done over all GOPs (so the ETA covers the whole
    video), and what each GOM in flight is doing (one per worker); with --time, seconds against the
    budget instead, so the bar counts down to it."""

    def __init__(self, progress, plan: EncodePlan, resumed: int, iters_text: str = "",
                 wall_start: float | None = None) -> None:
        self.progress = progress
        self.header = header = plan.header
        self.iters_text = iters_text
        self.budget = plan.time_budget
        self.wall_start = time.time() if wall_start is None else wall_start
        self._first: tuple[float, int] | None = None  # (time, iterations) at the first report
        self._estimated = False
        # iterations of each GOM, every layer's
        self.gom_iters = [sum(plan.gop_iters[g] * plan.n_layers for g in header.gops_of_gom(k))
                          for k in range(header.n_goms)]
        self.total = sum(self.gom_iters)
        self.done_goms = resumed
        self.base = sum(self.gom_iters[:resumed])  # iterations of finished GOMs
        self.active: dict[int, list] = {}  # GOM -> [GOP label, iterations of its finished GOPs, done, total]

    def update(self, gom_index: int, label: str, done: int, total: int, values: dict) -> None:
        state = self.active.setdefault(gom_index, [label, 0, 0, total])
        if label != state[0]:  # the GOM moved on to its next GOP
            state[:] = [label, state[1] + state[3], 0, total]
        state[2], state[3] = done, total
        running = sum(s[1] + s[2] for s in self.active.values())
        status = ", ".join(s[0] for _, s in sorted(self.active.items()))
        if self.header.n_goms > 1:
            status = f"GOM {self.done_goms}/{self.header.n_goms} done; {status}"
        if self.budget is not None:
            spent = time.time() - self.wall_start
            left = max(0.0, self.budget - spent)
            self.progress("encode", min(round(spent), round(self.budget)), round(self.budget),
                          {**values, "at": status, "left": f"{left:.0f}s"})
            return
        self.progress("encode", self.base + running, self.total, {**values, "at": status})
        self._estimate(self.base + running)

    def _estimate(self, done: int) -> None:
        """Once, after the first few iterations: the expected time of the whole encode, as a notice."""
        now = time.perf_counter()
        if self._first is None:
            self._first = (now, done)
            return
        t0, d0 = self._first
        measured = done - d0
        if self._estimated or measured < max(3, self.total // 50) and now - t0 < 5.0 or measured <= 0:
            return
        self._estimated = True
        seconds = (now - t0) / measured * (self.total - d0)
        warnings.warn(InrNotice(f"about {_duration(seconds)} for {self.header.n_frames} frames at "
                                f"{self.iters_text} (measured on the first {measured} of {self.total} iterations)"),
                      stacklevel=2)

    def finished(self, gom_index: int) -> None:
        self.done_goms += 1
        self.base += self.gom_iters[gom_index]
        self.active.pop(gom_index, None)


def _iters_text(opts: EncodeOptions) -> str:
    """How the iterations were chosen: "preset fast", with the explicit --iters / --p-iters."""
    given = [f"--{name} {value}" for name, value in (("iters", opts.iters), ("p-iters", opts.p_iters))
             if value is not None]
    return ", ".join([f"preset {opts.preset}", *given])


def _duration(seconds: float) -> str:
    """A rough duration in words: "40 s", "12 min", "3.5 h".

    >>> _duration(40.2), _duration(700), _duration(12600)
    ('40 s', '12 min', '3.5 h')
    """
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _fingerprint(src, plan: EncodePlan, threads: int) -> str:
    """Everything the output bytes depend on, hashed: a journal only resumes the same encode. The
    plan holds every option that changes the bytes, resolved; the thread count is the one outside it."""
    if hasattr(src, "fingerprint"):  # an opened source: its content
        source = [src.fingerprint()]
    else:
        source = _file_fingerprint(src)
    return fingerprint({"source": source, "plan": asdict(replace(plan, n_gpus=0)), "threads": threads,
                        "torch": torch.__version__})


def _file_fingerprint(src) -> list:
    """A source file's path, size and modification time (its path alone where it cannot be read)."""
    try:
        st = os.stat(src)
        return [os.path.abspath(src), st.st_size, st.st_mtime_ns]
    except OSError:
        return [os.path.abspath(src)]


def _resume_point(journal: Journal, dst, header: SequenceHeader, layers: LayerHeader | None,
                  display: DisplayInfo) -> tuple[list[GomEntry], list[IndexRecord]]:
    """The journalled GOMs and the index records of their chunks, read once from the partial file:
    every chunk's CRC checked, and the chunks must end exactly where the journal says."""
    entries = journal.load()
    if not entries:
        return [], []
    part, offset = partial_path(dst), entries[-1].offset
    try:
        with open(part, "rb") as f:
            # sized by the file, not the journal: an edited offset must not size the read
            if not 0 < offset <= os.fstat(f.fileno()).st_size:
                raise InrInputError(f"cannot resume: {part} is shorter than its journal says")
            prefix = f.read(offset)
    except OSError as err:
        raise InrInputError(f"cannot resume: {part}: {err.strerror or err}") from err
    if len(prefix) != offset:
        raise InrInputError(f"cannot resume: {part} is shorter than its journal says")
    try:
        reader = ContainerReader(prefix, salvage=True)
        chunks = reader.chunks()
    except InrError as err:
        raise InrInputError(f"cannot resume: the partial file is damaged ({err})") from err
    end = spec.PREAMBLE_BYTES + sum(c.total_size for c in chunks)  # SHDR, LHDR and the payload
    if reader.header != header or reader.layers != layers or reader.display != display or end != offset:
        raise InrInputError("cannot resume: the partial file does not hold the journalled GOMs")
    records = [IndexRecord(spec.IndexCode[c.type], c.gop_index, c.offset) for c in chunks if c.type in ("MODL", "BLOB")]
    return entries, records
