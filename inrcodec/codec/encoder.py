"""The encoder: cut the video into GOPs and GOMs, fit one network per GOP, write the .inr.

Closed loop (uar-nvc §III-B..E): every P-model starts from theta'_k, the interpolation of the
GOM's seeded initialisation and the *decoded* previous model, and codes its residual against it.
After writing a model the encoder parses its own chunk and continues from those integers, so it
predicts from exactly what the decoder will have.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch

from ..coders import CODERS
from ..container import spec
from ..container.chunks import IndexRecord, ModelChunk, SequenceHeader
from ..container.reader import ContainerReader
from ..container.writer import ContainerWriter, partial_path
from ..errors import InrError, InrInputError
from ..io.video import open_video
from ..metrics import psnr_from_mse, psnr_yuv_from_sse, yuv_to_rgb
from ..models import ARCHITECTURES
from .fit import FitConfig, fit_gop
from .init import eps_code_from_mse, init_arrays, interpolate_init
from .journal import GomEntry, Journal, fingerprint
from .presets import P_LR_FACTOR, PRESET, QUALITY
from .render import planes_to_tensors, render_frames
from .weights import KIND_I, KIND_P, decode_body, dequantize, encode_body

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

    def resolved(self) -> dict:
        """The options with presets applied, as stored nowhere but reported in the summary."""
        arch, lam = QUALITY[self.quality]
        if self.channels is not None:
            arch = arch[:3] + tuple(self.channels)
        i_it, p_it = PRESET[self.preset]
        return {"arch_params": arch, "lam": self.lam if self.lam is not None else lam,
                "iters": self.iters if self.iters is not None else i_it,
                "p_iters": self.p_iters if self.p_iters is not None else p_it}


@dataclass
class GopReport:
    """What one fitted GOP cost and achieved."""

    gop_index: int
    kind: str
    n_frames: int
    bytes: int
    est_bits: float
    eps_code: int
    digest: str
    seconds: float


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
    gops: list[GopReport] = field(default_factory=list)
    resumed_goms: int = 0  # GOMs taken from an interrupted encode's partial file (--resume)

    def to_dict(self) -> dict:
        """JSON-ready view."""
        return asdict(self)


def pick_device(name: str) -> torch.device:
    """'auto' is CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InrInputError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise InrInputError(f"--device {name!r}: expected auto, cpu or cuda")
    return torch.device(name)


def _deterministic_cuda() -> None:
    """Same options, same GPU, same bytes: cuDNN/cuBLAS and scatter-adds in their deterministic modes.

    Atomic float adds (cuDNN weight gradients, index_add) sum in a different order each run; the
    deterministic kernels fix the order. Bytes still differ between GPU models and from the CPU.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)


def _validate(opts: EncodeOptions) -> None:
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
    if opts.seed < 0 or opts.seed >= 2**64:
        raise InrInputError("--seed must be in 0..2**64-1")
    CODERS.get(opts.coder)
    ARCHITECTURES.get(opts.model)


def _scaled(iters: int, n_frames: int) -> int:
    """Preset iteration counts are for 30-frame GOPs; shorter GOPs need proportionally fewer."""
    return max(50, round(iters * min(n_frames, 30) / 30))


def encode(src: str | os.PathLike, dst: str | os.PathLike, opts: EncodeOptions,
           progress: Callable[[str, int, int, dict], None] | None = None) -> EncodeSummary:
    """Encode ``src`` to ``dst`` (written atomically) and return the summary."""
    _validate(opts)
    t_start = time.perf_counter()
    device = pick_device(opts.device)
    if device.type == "cuda":
        _deterministic_cuda()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    res = opts.resolved()
    with open_video(src, max_frames=opts.frames) as video:
        info = video.info
        gop, gom = _structure(opts, info.n_frames)
        codes = info.to_header_codes()
        arch_cls = ARCHITECTURES.get(opts.model)
        header = SequenceHeader(
            width=info.width, height=info.height, n_frames=info.n_frames,
            fps_num=info.fps_num, fps_den=info.fps_den, chroma_format=codes["chroma"],
            bit_depth=8, color_range=codes["color_range"], color_primaries=info.color_primaries,
            transfer=info.transfer, matrix=info.matrix, chroma_siting=codes["chroma_siting"],
            gop_size=gop, gom_size=gom, arch_id=ARCHITECTURES.id_of(opts.model),
            arch_params=tuple(res["arch_params"]), coder_id=CODERS.id_of(opts.coder), seed=opts.seed,
        )
        model = arch_cls(info.width, info.height, info.chroma, header.arch_params).to(device)
        specs = model.tensor_specs()
        theta_init = init_arrays(specs, header.seed)
        journal = Journal(dst, _fingerprint(src, header, opts, res, device))
        entries = _resumable(journal, dst, header) if opts.resume else []
        resumed = len(entries)
        if entries:
            state = entries[-1].state
            sse, counts, sse_rgb = (np.array(state[k], dtype=np.float64) for k in ("sse", "counts", "sse_rgb"))
            reports = [GopReport(**r) for r in state["reports"]]
            writer = ContainerWriter.resume(dst, header, _records_before(dst, header, entries[-1].offset),
                                            entries[-1].offset)
        else:
            sse, counts, sse_rgb = np.zeros(3), np.zeros(3), np.zeros(2)
            reports: list[GopReport] = []
            writer = ContainerWriter(dst, header, resumable=True)
        frames_iter = iter(video)
        keep = False
        try:
            journal.start(entries)
            prev_frames = None
            prev_decoded: list[np.ndarray] | None = None
            prev_steps: list[int] | None = None
            for g in range(header.n_gops):
                first, n = header.gop_range(g)
                frames = [next(frames_iter) for _ in range(n)]
                if header.gom_of_gop(g) < len(entries):
                    continue  # finished before the interruption: its chunks are in the partial file
                t0 = time.perf_counter()
                planes = planes_to_tensors(frames, device)
                t_pos = torch.arange(n, dtype=torch.float32, device=device) / header.gop_size
                is_i = g % header.gom_size == 0
                if is_i:
                    kind, eps_code, start, ref, steps0 = KIND_I, 0, theta_init, None, None
                    iters = res["iters"] if opts.iters is not None else _scaled(res["iters"], n)
                else:
                    m = min(n, len(prev_frames))
                    mse = float(np.mean([np.mean((a[0].astype(np.float64) - b[0]) ** 2)
                                         for a, b in zip(frames[:m], prev_frames[:m])])) / 255.0**2
                    kind, eps_code = KIND_P, eps_code_from_mse(mse)
                    ref = interpolate_init(theta_init, prev_decoded, eps_code)
                    start, steps0 = ref, prev_steps
                    iters = res["p_iters"] if opts.p_iters is not None else _scaled(res["p_iters"], n)
                cb = _gop_progress(progress, f"GOP {g + 1}/{header.n_gops} {'IP'[kind]}", iters)
                lr = FitConfig.lr * (1.0 if is_i else P_LR_FACTOR)
                cfg = FitConfig(iters=iters, lam=res["lam"], batch=opts.batch, lr=lr,
                                seed=(header.seed * 1_000_003 + g) % 2**63, progress=cb)
                fit = fit_gop(model, planes, t_pos, start, ref, steps0, cfg)
                fit.qmodel.kind, fit.qmodel.eps_code = kind, eps_code
                body = encode_body(fit.qmodel, header.coder_id)
                writer.write_model(ModelChunk(gop_index=g, kind=kind, body=body))
                decoded_q = decode_body(body, specs, kind, header.coder_id)  # closed loop
                if decoded_q.digest() != fit.qmodel.digest():
                    raise RuntimeError(f"GOP {g}: the model body does not decode to what was coded")
                decoded = dequantize(decoded_q, ref)
                model.load_arrays(decoded)
                recon = render_frames(model, t_pos)
                for p in range(3):
                    src_p = np.stack([f[p] for f in frames]).astype(np.float64)
                    sse[p] += float(np.sum((recon[p].astype(np.float64) - src_p) ** 2))
                    counts[p] += src_p.size
                for i, f in enumerate(frames):
                    rgb_src = yuv_to_rgb(f, info.matrix, info.color_range).astype(np.float64)
                    rgb_dec = yuv_to_rgb([recon[p][i] for p in range(3)], info.matrix, info.color_range)
                    sse_rgb[0] += float(np.sum((rgb_dec - rgb_src) ** 2))
                    sse_rgb[1] += rgb_src.size
                reports.append(GopReport(g, "IP"[kind], n, len(body), fit.est_bits, eps_code,
                                         decoded_q.digest(), time.perf_counter() - t0))
                prev_frames, prev_decoded, prev_steps = frames, decoded, decoded_q.step_codes
                if g == header.gops_of_gom(header.gom_of_gop(g))[-1]:
                    # a GOM is finished: its bytes on disk first, then the journal line that counts them
                    writer.sync()
                    entries.append(GomEntry(len(entries), writer.size_bytes, {
                        "sse": sse.tolist(), "counts": counts.tolist(), "sse_rgb": sse_rgb.tolist(),
                        "reports": [asdict(r) for r in reports]}))
                    journal.append(entries[-1])
            writer.close()
        except BaseException:
            # Ctrl-C, a kill signal turned into an exception, a full disk...: keep what a later
            # --resume can use, never anything under the output name
            keep = bool(entries)
            writer.abort(keep_partial=keep)
            raise
        finally:
            journal.close(remove=not keep)
    file_bytes = os.path.getsize(dst)
    psnrs = psnr_yuv_from_sse(sse, counts)
    fps = info.fps_num / info.fps_den
    return EncodeSummary(
        path=str(dst), n_frames=info.n_frames, width=info.width, height=info.height,
        file_bytes=file_bytes, bpp=file_bytes * 8 / (info.width * info.height * info.n_frames),
        kbps=file_bytes * 8 / (info.n_frames / fps) / 1000, **psnrs,
        psnr_rgb=psnr_from_mse(sse_rgb[0] / sse_rgb[1]),
        seconds=time.perf_counter() - t_start, macs_per_pixel=model.macs_per_pixel(), gops=reports,
        resumed_goms=resumed,
    )


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


def _gop_progress(progress, label: str, iters: int):
    """fit_gop's per-iteration callback reporting to ``progress`` under ``label`` (None: no reporting)."""
    if progress is None:
        return None
    return lambda it, d: progress(label, it + 1, iters, d)


def _fingerprint(src, header: SequenceHeader, opts: EncodeOptions, res: dict, device: torch.device) -> str:
    """Everything the output bytes depend on, hashed: a journal only resumes the same encode."""
    try:
        st = os.stat(src)
        source = [os.path.abspath(src), st.st_size, st.st_mtime_ns]
    except OSError:
        source = [os.path.abspath(src)]
    options = {k: v for k, v in asdict(opts).items() if k not in ("resume", "device", "threads")}
    return fingerprint({"source": source, "header": asdict(header), "options": options, "resolved": res,
                        "threads": torch.get_num_threads(), "device": device.type, "torch": torch.__version__})


def _resumable(journal: Journal, dst, header: SequenceHeader) -> list[GomEntry]:
    """The journalled GOMs whose bytes are intact in the partial file (all of them, or an error)."""
    entries = journal.load()
    if not entries:
        return []
    part = partial_path(dst)
    try:
        with open(part, "rb") as f:
            prefix = f.read(entries[-1].offset)
    except OSError as err:
        raise InrInputError(f"cannot resume: {part}: {err.strerror or err}") from err
    if len(prefix) != entries[-1].offset:
        raise InrInputError(f"cannot resume: {part} is shorter than its journal says")
    return entries


def _records_before(dst, header: SequenceHeader, offset: int) -> list[IndexRecord]:
    """Index records of the partial file's first ``offset`` bytes, every chunk's CRC checked."""
    with open(partial_path(dst), "rb") as f:
        prefix = f.read(offset)
    try:
        reader = ContainerReader(prefix, salvage=True)
        chunks = reader.chunks()
    except InrError as err:
        raise InrInputError(f"cannot resume: the partial file is damaged ({err})") from err
    end = spec.PREAMBLE_BYTES + sum(c.total_size for c in chunks)
    if reader.header != header or end != offset:
        raise InrInputError("cannot resume: the partial file does not hold the journalled GOMs")
    return [IndexRecord(spec.IndexCode[c.type], c.gop_index, c.offset) for c in chunks if c.type in ("MODL", "BLOB")]
