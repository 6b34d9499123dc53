"""The encoder's options: one dataclass, from which the CLI makes its ``enc`` options (stdlib only,
so that importing the CLI imports neither torch nor PyAV).

Each field's metadata is its command-line form; architecture-specific options (``--channels``,
``--patch-size`` ...) are not fields: each architecture declares them (``InrModel.OPTIONS``) and
they travel in ``arch``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import InrInputError
from .presets import OPTIMIZERS, PRESET, RESIDUAL_SCALE

DEFAULT_SEED = 1
DEFAULT_QUALITY = 5
# the encode's target: at most one of these, never with --quality or --lambda (train/target.py)
TARGET_OPTIONS = ("size", "bitrate", "psnr", "ms_ssim")


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    """Comma-separated integers ("16,24,16"); InrInputError naming ``what`` otherwise."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InrInputError(f"{what}: expected comma-separated integers, got {text!r}") from None
    if not values:
        raise InrInputError(f"{what}: need at least one value")
    return values


def cli(help: str, *decls: str, **click_kwargs: Any) -> dict:
    """Field metadata: the option's help, its declarations (default ``--name-with-dashes``) and
    further click arguments; ``type="ints"`` is a comma-separated list (``parse_ints``)."""
    return {"cli": {"help": help, "decls": decls, **click_kwargs}}


@dataclass
class EncodeOptions:
    """Every encoder knob; None means "from --quality / --preset"."""

    gop: int | None = field(default=None, metadata=cli(
        "frames per GOP, one network each [default: 30, or the whole video if shorter]", type=int))
    gom: int | None = field(default=None, metadata=cli(
        "GOPs per group of models, I-model + P-models [default: 5, or all GOPs if fewer]", type=int))
    quality: int | None = field(default=None, metadata=cli("1..9: network width and lambda preset [default: 5]",
                                                           "--quality", "-q", type=int))
    preset: str = field(default="medium", metadata=cli(
        "time per frame-pixel: fast 35 us, medium 350 us (60 QCIF frames in about 10 min on one core), slow 4x "
        "medium; "
        "iterations follow each network's speed", show_default=True, choices=tuple(PRESET)))
    time: str | None = field(default=None, metadata=cli(
        "finish the encode in DURATION (90, 90s, 5m, 1.5h), within 15 %: iterations follow the measured speed "
        "(so the bytes depend on the machine; give --iters/--p-iters for identical bytes)", metavar="DURATION"))
    lam: float | None = field(default=None, metadata=cli("weight of the 6:1:1 MSE against bits/pixel", "--lambda",
                                                         type=float))
    size: str | None = field(default=None, metadata=cli(
        "encode to a file of SIZE bytes (k = 1000, M = 1000000: 20k, 1.5M), within 10 % (5 % from 4 GOPs); "
        "picks the network and lambda", metavar="SIZE"))
    bitrate: str | None = field(default=None, metadata=cli(
        "encode to RATE over the clip's duration: a bare number is kbit/s, with k or M bit/s (500 = 500k; "
        "1.5M = 1500 kbit/s); as --size",
        metavar="RATE"))
    psnr: float | None = field(default=None, metadata=cli(
        "encode to the smallest file whose PSNR-YUV over the clip (its average) is DB, within 0.3 dB",
        metavar="DB", type=float))
    ms_ssim: float | None = field(default=None, metadata=cli(
        "as --psnr for the mean MS-SSIM of luma over the clip's frames (e.g. 0.97)", "--ms-ssim", type=float))
    iters: int | None = field(default=None, metadata=cli("iterations for the I-model of each GOM", type=int))
    p_iters: int | None = field(default=None, metadata=cli("iterations for each P-model", type=int))
    frames: int | None = field(default=None, metadata=cli("encode only the first K frames", type=int))
    seed: int = field(default=DEFAULT_SEED, metadata=cli("seed of the I-model initialisation", show_default=True,
                                                         type=int))
    device: str = field(default="auto", metadata=cli("training device", show_default=True,
                                                     choices=("auto", "cpu", "cuda")))
    coder: str = field(default="range", metadata=cli("entropy coder (range, ans, raw)", show_default=True))
    model: str = field(default="gnerv", metadata=cli("architecture", show_default=True))
    optimizer: str = field(default="soap", metadata=cli("the weights' optimiser (adam, soap)", show_default=True,
                                                        choices=OPTIMIZERS))
    threads: int | None = field(default=None, metadata=cli(
        "torch CPU threads per worker; the bytes depend on it [default: 1 on the CPU (these small networks gain "
        "little from more, and encodes side by side keep a core each); cores / workers with --device cuda]",
        type=int))
    batch: int = 2  # frames per training step (lowered to 1 when two do not fit; not on the command line)
    resume: bool = field(default=False, metadata=cli("continue an interrupted encode of the same source and options",
                                                     is_flag=True))
    workers: int | None = field(default=None, metadata=cli(
        "GOMs encoded at once in local processes [default: one per GPU with --device cuda, else 1]", type=int))
    ray: str | None = field(default=None, metadata=cli(
        "encode the GOMs as Ray tasks on the cluster at ADDRESS (alone: start a local Ray); "
        "needs pip install 'inrcodec[ray]'", is_flag=False, flag_value="local", metavar="[ADDRESS]"))
    layers: int = field(default=1, metadata=cli(
        "progressive layers: a base network and LAYERS-1 residual networks per GOP", show_default=True, type=int))
    layer_quality: tuple[int, ...] | None = field(default=None, metadata=cli(
        "quality of each residual layer, comma-separated (one value: all) [default: by layer, above --quality]",
        type="ints"))
    residual_scale: int = field(default=RESIDUAL_SCALE, metadata=cli("residual layers fit the residual times this",
                                                                     show_default=True, type=int))
    loss: str = field(default="mse", metadata=cli(
        "training distortion: mse, l1, l1-ssim, ms-ssim, perceptual (NAME[:key=value,...] sets its weights)",
        show_default=True))
    perceptual_weights: str | None = field(default=None, metadata=cli(
        "--loss perceptual: folder holding torchvision state dicts alexnet.pth and/or vgg16.pth", path=True))
    # the architecture's own options (its OPTIONS: --channels, --patch-size ...), None-valued ones left out
    arch: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, **options: Any) -> "EncodeOptions":
        """Options from keyword arguments: the fields, and any architecture's option names (which go
        to ``arch``); a list option may come as its command-line string. TypeError for anything else."""
        from ..models import arch_options

        names = {f.name for f in fields(cls)}
        arch = dict(options.pop("arch", None) or {})
        known = arch_options()
        for name in [k for k in options if k not in names]:
            if name not in known:
                raise TypeError(f"unknown encoder option {name!r}")
            arch[name] = options.pop(name)
        for name, value in list(arch.items()):
            if value is None:
                del arch[name]
            elif isinstance(value, str) and known.get(name, (None,))[0] and known[name][0].kind == "ints":
                arch[name] = parse_ints(value, known[name][0].flag)
        for f in fields(cls):
            if isinstance(options.get(f.name), str) and f.metadata.get("cli", {}).get("type") == "ints":
                options[f.name] = parse_ints(options[f.name], option_flag(f.name))
        return cls(**options, arch=arch)


# EncodeOptions fields `inrcodec bench` passes through to every `inrcodec enc` it runs
BENCH_PASS_THROUGH = ("model", "loss", "perceptual_weights")


def option_flag(name: str) -> str:
    """The command-line flag of an EncodeOptions field or an architecture option (``--name-with-dashes``)."""
    f = next((f for f in fields(EncodeOptions) if f.name == name), None)
    decls = (f.metadata.get("cli", {}).get("decls") if f is not None else None) or ("--" + name.replace("_", "-"),)
    return decls[0]


def option_args(name: str, value: Any) -> list[str]:
    """``[flag, value]`` that give ``name`` the value ``value`` on ``inrcodec enc``'s command line."""
    text = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
    return [option_flag(name), text]
