"""The encoder: cut the video into GOPs and GOMs, fit one network per GOP, write the .inr.

Closed loop (uar-nvc §III-B..E): every P-model starts from theta'_k, the interpolation of the
GOM's seeded initialisation and the *decoded* previous model, and codes its residual against it.
After writing a model the encoder parses its own chunk and continues from those integers, so it
predicts from exactly what the decoder will have.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Callable

import numpy as np
import torch

from ..coders import CODERS
from ..container import spec
from ..container.chunks import BlobChunk, IndexRecord, LayerHeader, LayerSpec, SequenceHeader, layer_specs
from ..container.reader import ContainerReader
from ..container.writer import ContainerWriter, partial_path
from ..errors import InrError, InrInputError, InrUnsupportedError
from ..io.video import open_video
from ..levels import check_limits
from ..metrics import SSIM_WINDOW, psnr_from_mse, psnr_yuv_from_sse, sample_peak
from ..models import ARCHITECTURES
from ..outfile import check_output
from .device import pick_device
from .gom import GomJob, GopReport, deterministic_cuda, gop_iterations
from .journal import GomEntry, Journal, fingerprint
from .losses import Loss, make_loss
from .memory import fit_batch
from .presets import LAYER_QUALITY_STEP, NIRVANA_QUALITY, PRESET, QUALITY, RESIDUAL_SCALE
from .runners import default_threads, default_workers, run_pool, run_ray, run_serial

DEFAULT_SEED = 1
DEFAULT_GOP = 30
DEFAULT_GOM = 5


@dataclass
class EncodeOptions:
    """Every encoder knob; None means "from --quality / --preset"."""

    gop: int | None = None  # None: DEFAULT_GOP, or the whole video when it is shorter
    gom: int | None = None  # None: DEFAULT_GOM, or every GOP when there are fewer
    quality: int = 5
    preset: str = "medium"
    lam: float | None = None
    channels: tuple[int, ...] | None = None
    iters: int | None = None
    p_iters: int | None = None
    frames: int | None = None
    seed: int = DEFAULT_SEED
    device: str = "auto"
    coder: str = "range"
    model: str = "gnerv"
    threads: int | None = None
    batch: int = 2
    resume: bool = False
    patch_size: int | None = None  # nirvana: patch side (None: the quality preset's, 32)
    mlp_width: int | None = None  # nirvana: SIREN MLP width
    mlp_depth: int | None = None  # nirvana: SIREN MLP layers
    workers: int | None = None  # GOMs encoded at once in local processes (None: one per GPU, else 1)
    ray: str | None = None  # run the GOMs as Ray tasks: "local" starts a local Ray, else a cluster address
    layers: int = 1  # progressive layers: the base network and layers - 1 residual networks per GOP
    layer_quality: tuple[int, ...] | None = None  # quality of each residual layer (None: --quality)
    residual_scale: int = RESIDUAL_SCALE  # residual layers fit (source - layers below) * this
    loss: str = "mse"  # training distortion, NAME[:key=value,...] (losses.py)
    perceptual_weights: str | None = None  # --loss perceptual: folder with alexnet.pth / vgg16.pth

    def resolved(self) -> dict:
        """The options with presets applied, as stored nowhere but reported in the summary."""
        arch, lam = QUALITY[self.quality]
        if self.model == "nirvana":
            arch = NIRVANA_QUALITY[self.quality]
            prefix = (self.patch_size, self.mlp_width, self.mlp_depth)
            arch = tuple(v if v is not None else a for v, a in zip(prefix, arch[:3])) + arch[3:]
        if self.channels is not None:
            arch = arch[:3] + tuple(self.channels)
        i_it, p_it = PRESET[self.preset]
        residual = [(NIRVANA_QUALITY[q] if self.model == "nirvana" else QUALITY[q][0], QUALITY[q][1])
                    for q in self.residual_qualities()]
        return {"arch_params": arch, "lam": self.lam if self.lam is not None else lam,
                "iters": self.iters if self.iters is not None else i_it,
                "p_iters": self.p_iters if self.p_iters is not None else p_it,
                "layers": [{"arch_params": a, "lam": lam_k} for a, lam_k in residual]}

    def residual_qualities(self) -> list[int]:
        """The quality of each residual layer: --layer-quality (one value: every layer), else
        LAYER_QUALITY_STEP above the layer below. At the base layer's lambda a residual layer
        finds almost nothing worth its bits: the base already sits at that lambda's optimum."""
        if self.layer_quality:
            q = self.layer_quality
            return list(q) * (self.layers - 1) if len(q) == 1 else list(q)
        return [min(max(QUALITY), self.quality + LAYER_QUALITY_STEP * k) for k in range(1, self.layers)]


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

    def to_dict(self) -> dict:
        """JSON-ready view."""
        return asdict(self)


def _validate(opts: EncodeOptions) -> Loss:
    """Raise InrInputError on the first unusable option; returns the training loss it built."""
    if opts.gop is not None and opts.gop <= 0:
        raise InrInputError(f"--gop must be >= 1 (got {opts.gop})")
    if opts.gom is not None and opts.gom <= 0:
        raise InrInputError(f"--gom must be >= 1 (got {opts.gom})")
    if opts.quality not in QUALITY:
        raise InrInputError(f"--quality must be 1..9 (got {opts.quality})")
    if opts.preset not in PRESET:
        raise InrInputError(f"--preset must be one of {', '.join(PRESET)} (got {opts.preset!r})")
    if opts.frames is not None and opts.frames <= 0:
        raise InrInputError(f"--frames must be >= 1 (got {opts.frames})")
    if opts.workers is not None and opts.workers <= 0:
        raise InrInputError(f"--workers must be >= 1 (got {opts.workers})")
    if opts.threads is not None and opts.threads <= 0:
        raise InrInputError(f"--threads must be >= 1 (got {opts.threads})")
    if opts.seed < 0 or opts.seed >= 2**64:
        raise InrInputError("--seed must be in 0..2**64-1")
    if opts.lam is not None and not (math.isfinite(opts.lam) and opts.lam > 0):
        raise InrInputError(f"--lambda must be a positive finite number (got {opts.lam})")
    for flag, value in (("--iters", opts.iters), ("--p-iters", opts.p_iters)):
        if value is not None and value < 1:
            raise InrInputError(f"{flag} must be >= 1 (got {value})")
    if not 1 <= opts.layers <= spec.MAX_LAYERS:
        raise InrInputError(f"--layers must be 1..{spec.MAX_LAYERS} (got {opts.layers})")
    if opts.layer_quality is not None:
        if opts.layers == 1:
            raise InrInputError("--layer-quality needs --layers 2 or more")
        if len(opts.layer_quality) not in (1, opts.layers - 1):
            raise InrInputError(f"--layer-quality needs 1 or {opts.layers - 1} values (one per residual layer), "
                                f"got {len(opts.layer_quality)}")
        if any(q not in QUALITY for q in opts.layer_quality):
            raise InrInputError(f"--layer-quality values must be 1..9 (got {list(opts.layer_quality)})")
    if not 1 <= opts.residual_scale <= spec.MAX_RESIDUAL_SCALE:
        raise InrInputError(f"--residual-scale must be 1..{spec.MAX_RESIDUAL_SCALE} (got {opts.residual_scale})")
    loss = make_loss(opts.loss, weights_dir=opts.perceptual_weights)  # a bad spec or missing weights fail here
    CODERS.get(opts.coder)
    ARCHITECTURES.get(opts.model)
    nirvana_only = {"--patch-size": opts.patch_size, "--mlp-width": opts.mlp_width, "--mlp-depth": opts.mlp_depth}
    for flag, value in nirvana_only.items():
        if value is not None and opts.model != "nirvana":
            raise InrInputError(f"{flag} applies to --model nirvana only")
    try:
        res = opts.resolved()
        ARCHITECTURES.get(opts.model)(64, 64, "420", res["arch_params"])
    except ValueError as exc:
        raise InrInputError(f"--model {opts.model}: {exc}") from None
    return loss


def encode(src: str | os.PathLike, dst: str | os.PathLike, opts: EncodeOptions,
           progress: Callable[[str, int, int, dict], None] | None = None, *,
           overwrite: bool = False) -> EncodeSummary:
    """Encode ``src`` to ``dst`` (a file written atomically; an existing one replaced only with
    ``overwrite``) and return the summary."""
    loss = _validate(opts)
    # refused before any work: -, the source itself, an existing file without overwrite, a read-only one;
    # a device or pipe is written through, with no partial file or journal to resume from
    resumable = check_output(dst, overwrite=overwrite, inputs=(src,), allow_stdout=False)
    t_start = time.perf_counter()
    device = pick_device(opts.device)
    if device.type == "cuda":
        deterministic_cuda()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    res = opts.resolved()
    with open_video(src, max_frames=opts.frames) as video:
        info = video.info
        gop, gom = _structure(opts, info.n_frames)
        loss.check_size([(info.height, info.width), info.chroma_shape])
        codes = info.to_header_codes()
        arch_cls = ARCHITECTURES.get(opts.model)
        header = SequenceHeader(
            width=info.width, height=info.height, n_frames=info.n_frames,
            fps_num=info.fps_num, fps_den=info.fps_den, chroma_format=codes["chroma"],
            bit_depth=info.bit_depth, color_range=codes["color_range"], color_primaries=info.color_primaries,
            transfer=info.transfer, matrix=info.matrix, chroma_siting=codes["chroma_siting"],
            gop_size=gop, gom_size=gom, arch_id=ARCHITECTURES.id_of(opts.model),
            arch_params=tuple(res["arch_params"]), coder_id=CODERS.id_of(opts.coder), seed=opts.seed,
        )
        layers = None if opts.layers == 1 else LayerHeader(tuple(
            LayerSpec(header.arch_id, tuple(r["arch_params"]), opts.residual_scale, (opts.seed + k) % 2**64)
            for k, r in enumerate(res["layers"], start=1)))
        macs = sum(arch_cls(info.width, info.height, info.chroma, ls.arch_params).macs_per_pixel()
                   for ls in layer_specs(header, layers))
        workers = opts.workers or default_workers(device)
        threads = opts.threads or (default_threads(workers) if workers > 1 or opts.ray else torch.get_num_threads())
        try:  # a file the default decoder would refuse is not worth the encode
            check_limits(header, layers)
        except InrUnsupportedError as err:
            raise InrInputError(f"these settings make a file above the decoder's level: {err}") from None
        # refuse, before any frame is read past the first GOM, an encode this machine cannot hold;
        # a batch of one frame a step where two would not fit (it changes the bytes, so it is
        # part of the fingerprint)
        batch = fit_batch(header, layers, opts.batch, workers if opts.ray is None else 1, device)
        opts = replace(opts, batch=batch)
        journal = Journal(dst, _fingerprint(src, header, opts, res, device, threads)) if resumable else None
        entries, records = _resume_point(journal, dst, header, layers) if opts.resume and resumable else ([], [])
        resumed = len(entries)
        if entries:
            sse, counts, sse_rgb, layer_sse, ssim_sums, deep_sum, reports = _journal_state(journal, entries[-1],
                                                                                           opts.layers)
            writer = ContainerWriter.resume(dst, header, records, entries[-1].offset, layers,
                                            overwrite=overwrite, inputs=(src,))
        else:
            sse, counts, sse_rgb, layer_sse = np.zeros(3), np.zeros(3), np.zeros(2), np.zeros((opts.layers, 3))
            ssim_sums, deep_sum = np.zeros(2), 0.0
            reports: list[GopReport] = []
            writer = ContainerWriter(dst, header, layers=layers, resumable=resumable, overwrite=overwrite,
                                     inputs=(src,))
        gop_iters = [gop_iterations(header, g, res["iters"], res["p_iters"],
                                    scaled=(opts.iters if g % header.gom_size == 0 else opts.p_iters) is None)
                     for g in range(header.n_gops)]
        tracker = _Progress(progress, header, [i * opts.layers for i in gop_iters], resumed)
        jobs = _jobs(iter(video), header, res["lam"], gop_iters, opts.batch, device, workers, skip=resumed,
                     layers=layers, layer_lams=[r["lam"] for r in res["layers"]], loss=opts.loss,
                     perceptual_weights=opts.perceptual_weights)
        keep = False
        try:
            if journal is not None:
                journal.start(entries)
            if opts.ray is not None:
                results = run_ray(jobs, None if opts.ray == "local" else opts.ray, workers, threads,
                                  1.0 if device.type == "cuda" else 0.0, tracker.update if progress else None)
            elif workers > 1:
                results = run_pool(jobs, workers, threads, tracker.update if progress else None)
            else:
                results = run_serial(jobs, tracker.update if progress else None)
            for result in results:
                for chunk in result.chunks:
                    if isinstance(chunk, BlobChunk):
                        writer.write_blob(chunk)
                    else:
                        writer.write_model(chunk)
                sse += result.sse
                counts += result.counts
                sse_rgb += result.sse_rgb
                layer_sse += np.array(result.layer_sse)
                ssim_sums += result.ssim_sums
                deep_sum += result.deep_sum
                reports.extend(result.reports)
                tracker.finished(result.gom_index)
                # a GOM is finished: its bytes on disk first, then the journal line that counts them
                writer.sync()
                entries.append(GomEntry(len(entries), writer.size_bytes, {
                    "sse": sse.tolist(), "counts": counts.tolist(), "sse_rgb": sse_rgb.tolist(),
                    "layer_sse": layer_sse.tolist(), "ssim_sums": ssim_sums.tolist(), "deep_sum": deep_sum,
                    "reports": [asdict(r) for r in reports]}))
                if journal is not None:
                    journal.append(entries[-1])
            file_bytes = writer.close()
        except BaseException:
            # Ctrl-C, a kill signal turned into an exception, a full disk, a failed worker...: keep
            # what a later --resume can use, never anything under the output name
            keep = bool(entries) and writer.is_resumable
            writer.abort(keep_partial=keep)
            raise
        finally:
            if journal is not None:
                journal.close(remove=not keep)
    peak = sample_peak(info.bit_depth)
    psnrs = psnr_yuv_from_sse(sse, counts, peak)
    fps = info.fps_num / info.fps_den
    return EncodeSummary(
        path=str(dst), n_frames=info.n_frames, width=info.width, height=info.height,
        file_bytes=file_bytes, bpp=file_bytes * 8 / (info.width * info.height * info.n_frames),
        kbps=file_bytes * 8 / (info.n_frames / fps) / 1000, **psnrs,
        psnr_rgb=psnr_from_mse(sse_rgb[0] / sse_rgb[1], peak), bit_depth=info.bit_depth,
        seconds=time.perf_counter() - t_start, macs_per_pixel=macs, gops=reports,
        resumed_goms=resumed,
        **({"ssim_y": ssim_sums[0] / info.n_frames, "ms_ssim_y": ssim_sums[1] / info.n_frames}
           if min(info.width, info.height) >= SSIM_WINDOW else {}),
        deep_distance=deep_sum / info.n_frames if opts.perceptual_weights is not None else None,
        layer_psnr_yuv=[psnr_yuv_from_sse(s, counts, peak)["psnr_yuv"] for s in layer_sse] if opts.layers > 1 else [],
        layer_bytes=[sum(r.bytes for r in reports if r.layer == k) for k in range(opts.layers)] if opts.layers > 1 else [],
    )


_STATE_SHAPES = {"sse": (3,), "counts": (3,), "sse_rgb": (2,), "ssim_sums": (2,)}


def _journal_state(journal: Journal, entry: GomEntry, n_layers: int):
    """The running sums and reports a journal line carries, checked like file data: InrInputError,
    naming the journal, for anything an encoder did not write."""
    state = entry.state
    try:
        sums = []
        for key, shape in {**_STATE_SHAPES, "layer_sse": (n_layers, 3)}.items():
            a = np.array(state[key], dtype=np.float64)
            if a.shape != shape or not np.all(np.isfinite(a)) or np.any(a < 0):
                raise ValueError(f"{key} is not {shape} non-negative numbers")
            sums.append(a)
        deep_sum = float(state["deep_sum"])
        if not math.isfinite(deep_sum):
            raise ValueError("deep_sum is not finite")
        if not isinstance(state["reports"], list):
            raise ValueError("reports is not a list")
        reports = [GopReport(**r) for r in state["reports"]]
        kinds = {"int": int, "str": str, "float": (int, float)}  # GopReport's annotations
        if any(not isinstance(getattr(r, f.name), kinds[f.type]) or isinstance(getattr(r, f.name), bool)
               for r in reports for f in fields(GopReport)):
            raise ValueError("a report has a field of the wrong type")
    except (KeyError, TypeError, ValueError) as err:
        raise InrInputError(f"cannot resume: {journal.path} is damaged (GOM {entry.gom}: {err}); "
                            f"run without --resume to start again") from None
    sse, counts, sse_rgb, ssim_sums, layer_sse = sums
    return sse, counts, sse_rgb, layer_sse, ssim_sums, deep_sum, reports


def _structure(opts: EncodeOptions, n_frames: int) -> tuple[int, int]:
    """GOP and GOM sizes: explicit values must fit the video, defaults shrink to fit it."""
    if opts.gop is None:
        gop = min(DEFAULT_GOP, n_frames)
    elif opts.gop > n_frames:
        raise InrInputError(f"--gop {opts.gop} is larger than the video ({n_frames} frames)")
    else:
        gop = opts.gop
    n_gops = -(-n_frames // gop)
    if opts.gom is None:
        return gop, min(DEFAULT_GOM, n_gops)
    if opts.gom > n_gops:
        raise InrInputError(f"--gom {opts.gom} is larger than the video ({n_gops} GOPs of {gop} frames)")
    return gop, opts.gom


def _jobs(frames, header: SequenceHeader, lam: float, gop_iters: list[int], batch: int, device: torch.device,
          workers: int, skip: int, layers: LayerHeader | None = None, layer_lams: list[float] | None = None,
          loss: str = "mse", perceptual_weights: str | None = None):
    """GomJobs in order, each built when its frames have been read (GOMs before ``skip`` are read past)."""
    n_gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    for k in range(header.n_goms):
        gops = header.gops_of_gom(k)
        n = sum(header.gop_range(g)[1] for g in gops)
        gom_frames = [next(frames) for _ in range(n)]
        if k < skip:
            continue  # finished before the interruption: its chunks are in the partial file
        dev = f"cuda:{k % n_gpus}" if n_gpus > 1 and workers > 1 else str(device)
        yield GomJob(header, k, gom_frames, lam, [gop_iters[g] for g in gops], batch, dev, layers, layer_lams or [],
                     loss, perceptual_weights)


class _Progress:
    """One bar for the whole encode: iterations done over all GOPs (so the ETA covers the whole
    video), and what each GOM in flight is doing (one per worker)."""

    def __init__(self, progress, header: SequenceHeader, gop_iters: list[int], resumed: int) -> None:
        self.progress = progress
        self.header = header
        self.gom_iters = [sum(gop_iters[g] for g in header.gops_of_gom(k)) for k in range(header.n_goms)]
        self.total = sum(self.gom_iters)
        self.done_goms = resumed
        self.base = sum(self.gom_iters[:resumed])  # iterations of finished GOMs
        self.active: dict[int, list] = {}  # GOM -> [GOP label, iterations of its finished GOPs, done, total]

    def update(self, gom_index: int, label: str, done: int, total: int, values: dict) -> None:
        state = self.active.setdefault(gom_index, [label, 0, 0, total])
        if label != state[0]:  # the GOM moved on to its next GOP
            state[:] = [label, state[1] + state[3], 0, total]
        state[2] = done
        running = sum(s[1] + s[2] for s in self.active.values())
        status = ", ".join(s[0] for _, s in sorted(self.active.items()))
        if self.header.n_goms > 1:
            status = f"GOM {self.done_goms}/{self.header.n_goms} done; {status}"
        self.progress("encode", self.base + running, self.total, {**values, "at": status})

    def finished(self, gom_index: int) -> None:
        self.done_goms += 1
        self.base += self.gom_iters[gom_index]
        self.active.pop(gom_index, None)


def _fingerprint(src, header: SequenceHeader, opts: EncodeOptions, res: dict, device: torch.device,
                 threads: int) -> str:
    """Everything the output bytes depend on, hashed: a journal only resumes the same encode."""
    try:
        st = os.stat(src)
        source = [os.path.abspath(src), st.st_size, st.st_mtime_ns]
    except OSError:
        source = [os.path.abspath(src)]
    options = {k: v for k, v in asdict(opts).items() if k not in ("resume", "device", "threads", "workers", "ray")}
    return fingerprint({"source": source, "header": asdict(header), "options": options, "resolved": res,
                        "threads": threads, "device": device.type, "torch": torch.__version__})


def _resume_point(journal: Journal, dst, header: SequenceHeader,
                  layers: LayerHeader | None) -> tuple[list[GomEntry], list[IndexRecord]]:
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
    if reader.header != header or reader.layers != layers or end != offset:
        raise InrInputError("cannot resume: the partial file does not hold the journalled GOMs")
    records = [IndexRecord(spec.IndexCode[c.type], c.gop_index, c.offset) for c in chunks if c.type in ("MODL", "BLOB")]
    return entries, records
