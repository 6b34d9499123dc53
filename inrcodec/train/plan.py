"""The encode plan: every decision the options and the video fix, made once, frozen, shipped
with each GOM job. A worker needs the plan, its GOM's index and frames, nothing else."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import torch

from ..coders import CODERS
from ..container.chunks import LayerHeader, LayerSpec, SequenceHeader
from ..container.spec import ChromaFormat
from ..errors import InrInputError, InrNotice, InrUnsupportedError
from ..levels import check_limits
from ..metrics import SSIM_WINDOW
from ..models import ARCHITECTURES, InrModel
from .losses import LossSpec
from .memory import fit_batch
from .options import DEFAULT_QUALITY, EncodeOptions
from .presets import LAYER_QUALITY_STEP, PRESET, Preset
from .speed import iteration_seconds
from .timing import parse_duration
from .target import CHUNK_BYTES, FILE_FIXED_BYTES, MIN_MODEL_BYTES, Target, model_budget, parse_amount, pick_quality

DEFAULT_GOP = 30
DEFAULT_GOM = 5
MIN_ITERS = 50  # the fewest iterations a model gets from a preset or a time budget
# --time: the share of the budget the plan's first guess gives to training (the clock decides the rest)
TIME_GUESS_SHARE = 0.85


@dataclass(frozen=True)
class EncodePlan:
    """What every GOM of one encode is fitted and coded with."""

    header: SequenceHeader
    layers: LayerHeader | None  # progressive residual layers (spec/bitstream.md §5.6)
    lams: tuple[float, ...]  # lambda of each layer, the base layer's first
    gop_iters: tuple[int, ...]  # training iterations of each GOP (with --time: the first guess)
    loss: LossSpec  # the training distortion
    judge: LossSpec | None  # the LPIPS-style metric, whenever backbone weights are at hand
    batch: int  # frames per training step
    device: str  # "cpu", "cuda"
    n_gpus: int = 0  # > 1: GOM k runs on cuda:(k % n_gpus)
    optimizer: str = "soap"  # the weights' optimiser (train/optim.py, --optimizer)
    target: Target | None = None  # --size, --bitrate, --psnr, --ms-ssim (train/target.py)
    quality: int | None = None  # with a target: the ladder rung it chose
    time_budget: float | None = None  # --time, seconds: iterations follow the clock (train/timing.py)
    iter_seconds: float = 0.0  # modelled seconds of one training iteration of a layer's model (speed.py)

    @property
    def n_layers(self) -> int:
        """Networks per GOP: the base layer and the residual ones."""
        return len(self.lams)

    def device_of(self, gom_index: int) -> str:
        """The device GOM ``gom_index`` trains on."""
        return f"cuda:{gom_index % self.n_gpus}" if self.n_gpus > 1 else self.device


def arch_class(opts: EncodeOptions) -> type[InrModel]:
    """The architecture ``--model`` names."""
    return ARCHITECTURES.get(opts.model)


def residual_qualities(opts: EncodeOptions, ladder_top: int) -> list[int]:
    """The quality of each residual layer: --layer-quality (one value: every layer), else
    LAYER_QUALITY_STEP above the layer below. At the base layer's lambda a residual layer
    finds almost nothing worth its bits: the base already sits at that lambda's optimum."""
    if opts.layer_quality:
        q = opts.layer_quality
        return list(q) * (opts.layers - 1) if len(q) == 1 else list(q)
    return [min(ladder_top, quality_of(opts) + LAYER_QUALITY_STEP * k) for k in range(1, opts.layers)]


def quality_of(opts: EncodeOptions) -> int:
    """--quality, or its default."""
    return DEFAULT_QUALITY if opts.quality is None else opts.quality


@dataclass(frozen=True)
class Resolved:
    """The options with the architecture's ladder and the preset applied (what needs no video)."""

    arch_params: tuple[int, ...]  # of the base layer
    lam: float  # of the base layer
    iters: int | None  # of an I-model, --iters (None: from the preset's time)
    p_iters: int | None  # of a P-model, --p-iters (None: from the preset's time)
    preset: Preset  # time per frame-pixel, and the P-models' share
    residual: tuple[tuple[tuple[int, ...], float], ...]  # (arch_params, lambda) of each residual layer


def resolve(opts: EncodeOptions) -> Resolved:
    """``opts`` resolved; residual layers take their quality's ladder entry, unoverridden."""
    cls = arch_class(opts)
    return Resolved(cls.from_quality(quality_of(opts), **opts.arch),
                    opts.lam if opts.lam is not None else cls.LAMBDAS[quality_of(opts)],
                    opts.iters, opts.p_iters, PRESET[opts.preset],
                    tuple((cls.from_quality(q), cls.LAMBDAS[q]) for q in residual_qualities(opts, max(cls.QUALITY))))


def modelled_iteration_seconds(header: SequenceHeader, model: str, batch: int = 2) -> float:
    """Seconds of one training iteration of the file's network by the speed model (train/speed.py, by
    arithmetic: the same on every machine)."""
    chroma = ChromaFormat.from_code(header.chroma_format).label
    return iteration_seconds(model, header.arch_params, header.width, header.height, chroma, batch)


def gop_iterations(header: SequenceHeader, per_iter: float, us_per_frame_pixel: float, p_share: float,
                   iters: int | None, p_iters: int | None) -> tuple[int, ...]:
    """Iterations of each GOP: a GOM's time is ``us_per_frame_pixel`` for every pixel of its frames,
    shared by its models as iterations in the ratio 1 : ``p_share`` per frame (the I-model trains from
    a seeded start, a P-model from its predecessor), each turned into iterations at ``per_iter`` seconds
    an iteration. An explicit ``iters`` (I) or ``p_iters`` (P) is taken as it is; at least MIN_ITERS."""
    counts = []
    for k in range(header.n_goms):
        frames = [header.gop_range(g)[1] for g in header.gops_of_gom(k)]
        seconds = us_per_frame_pixel * 1e-6 * sum(frames) * header.width * header.height
        weights = [n * (1.0 if j == 0 else p_share) for j, n in enumerate(frames)]
        for j, w in enumerate(weights):
            given = iters if j == 0 else p_iters
            counts.append(given if given is not None else
                          max(MIN_ITERS, round(seconds * w / sum(weights) / per_iter)))
    return tuple(counts)


def make_plan(opts: EncodeOptions, res: Resolved, header: SequenceHeader, loss: LossSpec, device: str,
              n_gpus: int) -> EncodePlan:
    """The plan of an encode of ``opts`` (``res``: them resolved) whose sequence header is ``header``;
    the batch is ``opts.batch`` until the memory check lowers it (``build_plan``)."""
    layers = None if opts.layers == 1 else LayerHeader(tuple(
        LayerSpec(header.arch_id, tuple(a), opts.residual_scale, (opts.seed + k) % 2**64)
        for k, (a, _) in enumerate(res.residual, start=1)))
    n_layers = 1 + len(res.residual)
    budget = parse_duration(opts.time) if opts.time is not None else None
    if budget is not None:  # the first guess: the budget, less what is not training, as if it were a preset
        us = 1e6 * budget * TIME_GUESS_SHARE / (header.n_frames * header.width * header.height * n_layers)
    else:
        us = res.preset.us_per_frame_pixel
    per_iter = modelled_iteration_seconds(header, opts.model, opts.batch)
    gop_iters = gop_iterations(header, per_iter, us, res.preset.p_share, res.iters, res.p_iters)
    judge = replace(loss, spec="perceptual") if opts.perceptual_weights is not None else None
    return EncodePlan(header, layers, (res.lam, *(lam for _, lam in res.residual)), gop_iters, loss, judge,
                      opts.batch, device, n_gpus, opts.optimizer, time_budget=budget, iter_seconds=per_iter)


def build_plan(opts: EncodeOptions, res: Resolved, info, device: torch.device, workers: int) -> EncodePlan:
    """The frozen plan of an encode of the video ``info`` describes (``res``: ``opts`` resolved):
    header, layers, lambdas, iterations, loss, batch, device; refused if the decoder's level or this
    machine's memory cannot take it."""
    gop, gom = structure(opts, info.n_frames)
    target = encode_target(opts, info, -(-info.n_frames // gop), workers)
    quality = None
    if target is not None:
        cls = arch_class(opts)
        n_pixels = info.width * info.height * info.n_frames
        quality = pick_quality(target, cls.LAMBDAS, model_budget(target, -(-info.n_frames // gop)) * 8 / n_pixels
                               if target.kind == "bytes" else None)
        res = replace(res, arch_params=cls.from_quality(quality, **opts.arch), lam=cls.LAMBDAS[quality])
    codes = info.to_header_codes()
    header = SequenceHeader(
        width=info.width, height=info.height, n_frames=info.n_frames,
        fps_num=info.fps_num, fps_den=info.fps_den, chroma_format=codes["chroma"],
        bit_depth=info.bit_depth, color_range=codes["color_range"], color_primaries=info.color_primaries,
        transfer=info.transfer, matrix=info.matrix, chroma_siting=codes["chroma_siting"],
        gop_size=gop, gom_size=gom, arch_id=ARCHITECTURES.id_of(opts.model),
        arch_params=res.arch_params, coder_id=CODERS.id_of(opts.coder), seed=opts.seed,
    )
    loss = LossSpec(opts.loss, opts.perceptual_weights, info.matrix, info.color_range, info.bit_depth)
    n_gpus = torch.cuda.device_count() if device.type == "cuda" and workers > 1 else 0
    plan = replace(make_plan(opts, res, header, loss, device.type, n_gpus), target=target, quality=quality)
    try:  # a file the default decoder would refuse is not worth the encode
        check_limits(header, plan.layers)
    except InrUnsupportedError as err:
        raise InrInputError(f"these settings make a file above the decoder's level: {err}") from None
    # refuse, before any frame is read past the first GOM, an encode this machine cannot hold;
    # a batch of one frame a step where two would not fit (it changes the bytes, so the plan holds it)
    batch = fit_batch(header, plan.layers, opts.batch, workers if opts.ray is None else 1, device)
    return replace(plan, batch=batch)


def encode_target(opts: EncodeOptions, info, n_gops: int, workers: int) -> Target | None:
    """The target the options ask for (None: none), in bytes, dB or MS-SSIM; InrInputError for one
    this encode cannot reach (refused before any training)."""
    if opts.size is not None or opts.bitrate is not None:
        if opts.size is not None:
            value, asked = parse_amount(opts.size, "--size"), f"--size {opts.size}"
        else:
            seconds = info.n_frames * info.fps_den / info.fps_num
            # a bare number is kbit/s (as x264's --bitrate); with k or M it is bits/s: 500 = 500k, 1.5M = 1500
            bits = parse_amount(opts.bitrate, "--bitrate") * (1 if str(opts.bitrate).strip()[-1:].isalpha() else 1000)
            value, asked = bits / 8 * seconds, f"--bitrate {opts.bitrate}"
        target = Target("bytes", value, asked, lag=workers)
        if model_budget(target, n_gops) < MIN_MODEL_BYTES * n_gops:
            least = FILE_FIXED_BYTES + (CHUNK_BYTES + MIN_MODEL_BYTES) * n_gops
            raise InrInputError(f"{asked} is below what {n_gops} GOP{'s' if n_gops > 1 else ''} can take: "
                                f"at least {least:.0f} bytes ({value:.0f} asked)")
        return target
    if opts.psnr is not None:
        if not 10.0 <= opts.psnr <= 80.0:
            raise InrInputError(f"--psnr must be 10..80 dB (got {opts.psnr})")
        return Target("psnr", float(opts.psnr), f"--psnr {opts.psnr:g}", lag=workers)
    if opts.ms_ssim is not None:
        if not 0.0 < opts.ms_ssim < 1.0:
            raise InrInputError(f"--ms-ssim must be between 0 and 1 (got {opts.ms_ssim})")
        if min(info.width, info.height) < SSIM_WINDOW:
            raise InrInputError(f"--ms-ssim needs frames of at least {SSIM_WINDOW}x{SSIM_WINDOW} "
                                f"(got {info.width}x{info.height})")
        ssim_loss = opts.loss.split(":")[0] in ("ms-ssim", "l1-ssim")
        return Target("ms-ssim", float(opts.ms_ssim), f"--ms-ssim {opts.ms_ssim:g}", lag=workers, loss_ssim=ssim_loss)
    return None


def structure(opts: EncodeOptions, n_frames: int) -> tuple[int, int]:
    """GOP and GOM sizes: each shrinks to fit the video, an explicit value with one note (as x265
    takes --keyint 250 on a 10-frame clip), a default silently."""
    gop = min(opts.gop if opts.gop is not None else DEFAULT_GOP, n_frames)
    n_gops = -(-n_frames // gop)
    gom = min(opts.gom if opts.gom is not None else DEFAULT_GOM, n_gops)
    asked = [f"--{name} {value}" for name, value, used in (("gop", opts.gop, gop), ("gom", opts.gom, gom))
             if value is not None and value != used]
    if asked:
        video = f"{n_frames} frames" if gop != opts.gop else f"{n_gops} GOPs of {gop} frames"
        warnings.warn(InrNotice(f"{' '.join(asked)} is larger than the video ({video}): "
                                f"encoding --gop {gop} --gom {gom}"), stacklevel=2)
    return gop, gom
