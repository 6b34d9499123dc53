"""Rate–distortion benchmark of inrcodec against x264, x265 and SVT-AV1 (``inrcodec bench``).

Every encode and every decode runs in a process of its own, so that its wall time and peak resident
memory (``os.wait4``'s ``ru_maxrss``, kB on Linux) belong to that one run and not to this one; the
reference codecs run through ``python -m inrcodec.bench.anchors`` (see that module for how they are set up
and which bytes count). This process only reads the source, measures the decoded frames and writes:

* ``results.json``: settings, every point, Bjøntegaard deltas; ``results.csv``: one row per point;
* ``rd.png``: bpp against PSNR-YUV, one curve per codec; ``summary.md``: the command that made it,
  the points and the BD-rate table, ready for a README.

Per point: bpp from the payload (the .inr file; the anchors' elementary stream), PSNR-Y/U/V and
6:1:1 PSNR-YUV over the sequence, RGB PSNR, mean luma MS-SSIM over frames (``inrcodec.metrics``),
encode wall seconds of the process, decode frames/s of the process (start-up and y4m writing
included) and of the frame loop alone, and the peak RSS of encode and decode. BD-rate is inrcodec
against each anchor, on PSNR-YUV and on MS-SSIM (Y), over the quality interval both curves cover;
when they do not overlap the table says so instead of extrapolating.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from . import anchors
from ..decode.options import check_threads
from ..train.options import BENCH_PASS_THROUGH, option_args, parse_ints
from ..train.presets import PRESET
from ..errors import InrError, InrInputError
from ..io.video import open_video
from ..threads import own_choice_removed
from ..metrics import bd_psnr_result, bd_rate_result, BDResult, bpp, ms_ssim, psnr_rgb, psnr_yuv, sample_peak, ssim

# The package's parent directory: children import this very copy of inrcodec.
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]
# The luma plane must hold one 11x11 SSIM window for MS-SSIM.
MIN_SSIM_SIDE = 11
INRCODEC = "inrcodec"
ALLOWED_CODECS = (INRCODEC, *anchors.ANCHORS)
ALLOWED_DEVICES = ("auto", "cpu", "cuda")

CSV_COLUMNS = [
    "codec", "preset", "setting", "n_frames", "width", "height", "file_bytes", "bpp", "psnr_y", "psnr_u",
    "psnr_v", "psnr_yuv", "psnr_rgb", "ssim_y", "ms_ssim_y", "enc_seconds", "enc_seconds_inner", "enc_rss_kb",
    "dec_seconds", "decode_fps", "decode_fps_no_startup", "dec_rss_kb",
]
# The quality axes BD-rate is computed on: row key, name in tables.
BD_QUALITIES = (("psnr_yuv", "PSNR-YUV"), ("ms_ssim_y", "MS-SSIM (Y)"))

# Run in a child: open an .inr file and time only the loop over its frames.
TIMED_DECODE = """
import json, sys, time
threads = int(sys.argv[2])
if threads > 0:
    import torch
    torch.set_num_threads(threads)
from inrcodec.api import open as open_inr
with open_inr(sys.argv[1]) as f:
    start = time.perf_counter()
    n = sum(1 for _ in f)
    seconds = time.perf_counter() - start
print(json.dumps({"frames": n, "seconds": seconds}))
"""


@dataclass(frozen=True)
class ChildRun:
    """Wall time, peak resident memory and standard output of one child process that succeeded."""

    seconds: float
    rss_kb: int
    stdout: str


def run_child(cmd: list[str], log_stem: Path, threads: int | None) -> ChildRun:
    """Run ``cmd``; its stdout and stderr go to ``log_stem``.stdout / .stderr; a failure raises InrError."""
    env = own_choice_removed(dict(os.environ))  # each encode looks at the machine when it starts
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
    if threads is not None:
        # The decoder has no --threads option; torch reads this at start-up.
        env["OMP_NUM_THREADS"] = str(threads)
    out_path, err_path = (log_stem.with_name(f"{log_stem.name}.{ext}") for ext in ("stdout", "stderr"))
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    # The child is reaped; tell Popen so it does not wait for it again.
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        lines = err_path.read_text(errors="replace").strip().splitlines()
        last = lines[-1] if lines else "no message"
        raise InrError(f"{' '.join(cmd[1:4])} ... exited {proc.returncode}: {last} (log: {err_path})")
    return ChildRun(seconds, int(usage.ru_maxrss), out_path.read_text())


def encode_cmd(src: Path, dst: Path, quality: int | None, settings, size: str | None = None) -> list[str]:
    """The ``inrcodec enc`` command line for one quality, or for one ``--size`` (``quality`` None).

    ``settings`` has the attributes gop, gom, preset, device, iters, p_iters, frames and threads
    (an argparse namespace or :class:`BenchOptions`), optionally ``encoder``: further ``enc``
    options by name (EncodeOptions fields or architecture options).
    """
    cmd = [sys.executable, "-m", "inrcodec.cli", "enc", str(src), "-o", str(dst), "-y", "--gop", str(settings.gop),
           "--gom", str(settings.gom), *(["--size", size] if size else ["--quality", str(quality)]),
           "--preset", settings.preset, "--device",
           settings.device, "--json", "--quiet"]
    for flag, value in (("--iters", settings.iters), ("--p-iters", settings.p_iters),
                        ("--frames", settings.frames), ("--threads", settings.threads)):
        if value is not None:
            cmd += [flag, str(value)]
    for name, value in (getattr(settings, "encoder", None) or {}).items():
        if value is not None:
            cmd += option_args(name, value)
    return cmd


def decode_cmd(src: Path, dst: Path) -> list[str]:
    """The ``inrcodec dec`` command line."""
    return [sys.executable, "-m", "inrcodec.cli", "dec", str(src), "-o", str(dst), "-y", "--quiet"]


def timed_decode_cmd(src: Path, threads: int | None) -> list[str]:
    """A child that opens an .inr file and times its frame loop alone (no imports, no output)."""
    return [sys.executable, "-c", TIMED_DECODE, str(src), str(threads or 0)]


def read_frames(path: Path, max_frames: int | None = None):
    """Video info and every frame of a video file."""
    with open_video(path, max_frames=max_frames) as video:
        return video.info, list(video)


def quality_metrics(source: list, decoded: list, info, perceptual_weights: str | None = None) -> dict:
    """PSNR-Y/U/V/YUV, RGB PSNR and mean luma SSIM and MS-SSIM (None below 11x11) of decoded frames
    against the source, at the peak of the source's bit depth (255, 1023, 4095)."""
    if len(decoded) != len(source):
        raise InrError(f"decoded {len(decoded)} frames, the source has {len(source)}")
    peak = sample_peak(info.bit_depth)
    out = psnr_yuv(source, decoded, peak)
    out["psnr_rgb"] = psnr_rgb(source, decoded, info.matrix, info.color_range, info.bit_depth)
    if min(info.width, info.height) >= MIN_SSIM_SIDE:
        out["ssim_y"] = sum(ssim(s[0], d[0], peak) for s, d in zip(source, decoded)) / len(source)
        out["ms_ssim_y"] = sum(ms_ssim(s[0], d[0], peak) for s, d in zip(source, decoded)) / len(source)
    else:
        out["ssim_y"] = out["ms_ssim_y"] = None
    if perceptual_weights is not None:
        out["deep_distance"] = deep_distance(source, decoded, info, perceptual_weights)
    return out


def deep_distance(source: list, decoded: list, info, perceptual_weights: str) -> float:
    """Mean LPIPS-style distance (inrcodec/train/perceptual.py) of decoded frames against the source."""
    import torch

    from ..train.losses import make_loss
    from ..decode.render import samples_to_unit

    judge = make_loss("perceptual", perceptual_weights=perceptual_weights, matrix=info.matrix,
                      color_range=info.color_range, bit_depth=info.bit_depth)
    total = 0.0
    with torch.no_grad():
        for s, d in zip(source, decoded):
            a, b = ([samples_to_unit(p, "cpu", info.bit_depth)[None] for p in f] for f in (s, d))
            total += float(judge.deep(b, a))
    return total / len(source)


def measure_inrcodec(src: Path, source: list, info, quality: int | None, settings, work_dir: Path,
                     log_dir: Path | None = None, size: str | None = None) -> tuple[dict, Path]:
    """Encode and decode at one quality (or to one ``--size``, ``quality`` None), each in a child;
    the row of measures and the .inr path.

    The decoded y4m is left in ``work_dir`` as ``q<quality>.y4m`` (``size<size>.y4m``).
    """
    log_dir = log_dir or work_dir
    stem = f"size{size}" if size else f"q{quality}"
    inr, y4m = work_dir / f"{stem}.inr", work_dir / f"{stem}.y4m"
    enc = run_child(encode_cmd(src, inr, quality, settings, size), log_dir / f"{stem}.enc", settings.threads)
    summary = json.loads(enc.stdout)
    n_frames = summary["n_frames"]
    dec = run_child(decode_cmd(inr, y4m), log_dir / f"{stem}.dec", settings.threads)
    loop = json.loads(run_child(timed_decode_cmd(inr, settings.threads), log_dir / f"{stem}.timed",
                                settings.threads).stdout)
    _, decoded = read_frames(y4m)
    file_bytes = inr.stat().st_size
    row = {
        "n_frames": n_frames, "width": info.width, "height": info.height, "file_bytes": file_bytes,
        "bpp": bpp(file_bytes, info.width, info.height, n_frames),
        **quality_metrics(source[:n_frames], decoded, info, getattr(settings, "perceptual_weights", None)),
        "enc_seconds": enc.seconds, "enc_seconds_inner": summary.get("seconds"), "enc_rss_kb": enc.rss_kb,
        "dec_seconds": dec.seconds, "decode_fps": n_frames / dec.seconds,
        "decode_fps_no_startup": loop["frames"] / loop["seconds"] if loop["seconds"] > 0 else None,
        "dec_rss_kb": dec.rss_kb,
    }
    if summary.get("target"):  # --size: what was asked, and the rung it chose
        row.update(target=summary["target"]["asked"], target_bytes=summary["target"].get("target_bytes"),
                   target_quality=summary["target"]["quality"])
    return row, inr


def _arch_option_names() -> list[str]:
    from ..models import arch_options
    return list(arch_options())


@dataclass(frozen=True)
class BenchOptions:
    """What one benchmark run does; ``check()`` raises InrInputError on anything unusable."""

    qualities: tuple[int, ...] = (2, 4, 6, 8)
    sizes: tuple[str, ...] = ()  # --sizes: inrcodec encodes to these file sizes too (--size each)
    gop: int = 30
    gom: int = 2
    preset: str = "medium"
    iters: int | None = None
    p_iters: int | None = None
    frames: int | None = None
    threads: int | None = None
    device: str = "cpu"
    codecs: tuple[str, ...] = ALLOWED_CODECS
    # QPs per anchor; an anchor missing here uses its default set.
    qps: dict[str, tuple[int, ...]] = field(default_factory=dict)
    av1_preset: str | None = None
    out: Path = Path("out/benchmark")
    quiet: bool = False
    # further `inrcodec enc` options by name (BENCH_PASS_THROUGH, architecture options); absent: enc's default
    encoder: dict = field(default_factory=dict)

    @property
    def perceptual_weights(self) -> str | None:
        """Backbone weights: for --loss perceptual, and the LPIPS-style distance of every row."""
        return self.encoder.get("perceptual_weights")

    @classmethod
    def from_strings(cls, *, qualities: str | None = None, sizes: str | None = None, codecs: str | None = None,
                     qps_x264: str | None = None, qps_x265: str | None = None, qps_av1: str | None = None,
                     **rest) -> "BenchOptions":
        """Options from the command line's comma-separated lists; the other fields pass through."""
        qps = {name: parse_ints(text, f"--qps-{flag}") for name, flag, text in
               (("x264", "x264", qps_x264), ("x265", "x265", qps_x265), ("svt-av1", "av1", qps_av1))
               if text is not None}
        extra = {}
        if qualities is not None:
            extra["qualities"] = parse_ints(qualities, "--qualities")
        if sizes is not None:
            extra["sizes"] = tuple(v.strip() for v in sizes.split(",") if v.strip())
        if codecs is not None:
            extra["codecs"] = tuple(c.strip() for c in codecs.split(",") if c.strip())
        own = {f.name for f in fields(cls)}
        encoder = {k: rest.pop(k) for k in list(rest) if k not in own}
        unknown = set(encoder) - set(BENCH_PASS_THROUGH) - set(_arch_option_names())
        if unknown:
            raise TypeError(f"unknown benchmark option {sorted(unknown)[0]!r}")
        return cls(qps=qps, **extra, encoder={k: v for k, v in encoder.items() if v is not None},
                   **{k: v for k, v in rest.items() if v is not None}).check()

    def check(self) -> "BenchOptions":
        """Self, after checking every field; raises InrInputError naming the first bad one."""
        unknown = [c for c in self.codecs if c not in ALLOWED_CODECS]
        if unknown or not self.codecs:
            raise InrInputError(f"--codecs: unknown codec {unknown[0]!r}; known: {', '.join(ALLOWED_CODECS)}"
                                if unknown else "--codecs: name at least one codec")
        if len(set(self.codecs)) != len(self.codecs):
            raise InrInputError(f"--codecs: a codec is named twice: {','.join(self.codecs)}")
        from ..models import ARCHITECTURES
        ladder = ARCHITECTURES.get(self.encoder.get("model", "gnerv")).QUALITY
        bad = [q for q in self.qualities if q not in ladder]
        if bad:
            raise InrInputError(f"--qualities: {bad[0]} is not one of {min(ladder)}..{max(ladder)}")
        if len(set(self.qualities)) != len(self.qualities):
            raise InrInputError("--qualities: a quality is named twice")
        from ..train.target import parse_amount
        for size in self.sizes:
            parse_amount(size, "--sizes")
        if self.preset not in PRESET:
            raise InrInputError(f"--preset: expected one of {', '.join(PRESET)}, got {self.preset!r}")
        if self.device not in ALLOWED_DEVICES:
            raise InrInputError(f"--device: expected one of {', '.join(ALLOWED_DEVICES)}, got {self.device!r}")
        for name, value in (("--gop", self.gop), ("--gom", self.gom), ("--iters", self.iters),
                            ("--p-iters", self.p_iters), ("--frames", self.frames), ("--threads", self.threads)):
            if value is not None and value < 1:
                raise InrInputError(f"{name} must be >= 1, got {value}")
        check_threads(self.threads)
        for name, qps in self.qps.items():
            anchors.check_qps(anchors.get_anchor(name), qps)
        anchors.check_preset(anchors.ANCHORS["svt-av1"], self.av1_preset)
        return self

    @property
    def keyint(self) -> int:
        """Frames between the anchors' key frames: the .inr file's random-access period, GOP × GOM
        (a file is entered only at a GOM's start), so no codec pays for more random access than another."""
        return self.gop * self.gom

    def anchor_qps(self, name: str) -> tuple[int, ...]:
        """The QPs of one anchor: given ones, else the anchor's defaults."""
        return self.qps.get(name, anchors.ANCHORS[name].default_qps)

    def anchor_preset(self, name: str) -> str:
        """The preset of one anchor."""
        return self.av1_preset if name == "svt-av1" and self.av1_preset is not None else anchors.ANCHORS[name].preset

    def command(self, clips) -> str:
        """The ``inrcodec bench`` command line that repeats this run on ``clips``, every option spelled out."""
        parts = ["inrcodec", "bench", *(str(c) for c in clips), "--codecs", ",".join(self.codecs)]
        if INRCODEC in self.codecs:
            parts += ["--qualities", ",".join(map(str, self.qualities)), *(["--sizes", ",".join(self.sizes)]
                                                                           if self.sizes else []),
                      "--preset", self.preset,
                      "--device", self.device]
            for flag, value in (("--iters", self.iters), ("--p-iters", self.p_iters)):
                if value is not None:
                    parts += [flag, str(value)]
            for name, value in self.encoder.items():
                parts += option_args(name, value)
        parts += ["--gop", str(self.gop), "--gom", str(self.gom)]
        for name, flag in (("x264", "--qps-x264"), ("x265", "--qps-x265"), ("svt-av1", "--qps-av1")):
            if name in self.codecs:
                parts += [flag, ",".join(map(str, self.anchor_qps(name)))]
        if "svt-av1" in self.codecs:
            parts += ["--av1-preset", self.anchor_preset("svt-av1")]
        for flag, value in (("--frames", self.frames), ("--threads", self.threads)):
            if value is not None:
                parts += [flag, str(value)]
        parts += ["--out", str(self.out)]
        return shlex.join(parts)


@dataclass(frozen=True)
class Point:
    """One encode to make: a codec at one setting (inrcodec quality or anchor QP)."""

    codec: str
    value: int
    size: str | None = None  # inrcodec --size (value unused)

    @property
    def setting(self) -> str:
        """'q4' for an inrcodec quality, 'size20k' for a --size, 'qp32' for an anchor QP."""
        if self.size:
            return f"size{self.size}"
        return f"q{self.value}" if self.codec == INRCODEC else f"qp{self.value}"


def _say(opts: BenchOptions, text: str) -> None:
    """One progress line on stderr unless quiet."""
    if not opts.quiet:
        print(text, file=sys.stderr, flush=True)


def anchor_encode_cmd(src: Path, stream: Path, point: Point, opts: BenchOptions) -> list[str]:
    """The ``python -m inrcodec.bench.anchors encode`` command line of one anchor point (key frames every
    ``opts.keyint`` frames)."""
    cmd = [sys.executable, "-m", "inrcodec.bench.anchors", "encode", str(src), str(stream), "--codec", point.codec,
           "--qp", str(point.value), "--keyint", str(opts.keyint), "--preset", opts.anchor_preset(point.codec)]
    for flag, value in (("--threads", opts.threads), ("--frames", opts.frames)):
        if value is not None:
            cmd += [flag, str(value)]
    return cmd


def measure_anchor(src: Path, source: list, info, point: Point, opts: BenchOptions, work_dir: Path,
                   log_dir: Path) -> dict:
    """Encode and decode one anchor point, each in a child; the row of measures."""
    anchor = anchors.ANCHORS[point.codec]
    stem = f"{point.codec}_{point.setting}"
    stream, y4m = work_dir / f"{stem}{anchor.suffix}", work_dir / f"{stem}.dec.y4m"
    threads = [] if opts.threads is None else ["--threads", str(opts.threads)]
    enc = run_child(anchor_encode_cmd(src, stream, point, opts), log_dir / f"{stem}.enc", opts.threads)
    summary = json.loads(enc.stdout)
    n_frames = summary["n_frames"]
    if stream.stat().st_size != summary["file_bytes"]:
        raise InrError(f"{stream}: {stream.stat().st_size} bytes on disk, {summary['file_bytes']} in packets")
    dec_cmd = [sys.executable, "-m", "inrcodec.bench.anchors", "decode", str(stream), str(y4m), "--codec", point.codec,
               "--size", f"{info.width}x{info.height}", "--fps", f"{info.fps_num}/{info.fps_den}", "--chroma",
               info.chroma, "--range", info.color_range, "--siting", info.chroma_siting, "--bit-depth",
               str(info.bit_depth), *threads]
    dec = run_child(dec_cmd, log_dir / f"{stem}.dec", opts.threads)
    loop = json.loads(dec.stdout)
    _, decoded = read_frames(y4m)
    row = {
        "n_frames": n_frames, "width": info.width, "height": info.height, "file_bytes": summary["file_bytes"],
        "bpp": bpp(summary["file_bytes"], info.width, info.height, n_frames),
        **quality_metrics(source[:n_frames], decoded, info, opts.perceptual_weights),
        "enc_seconds": enc.seconds, "enc_seconds_inner": summary["seconds"], "enc_rss_kb": enc.rss_kb,
        "dec_seconds": dec.seconds, "decode_fps": n_frames / dec.seconds,
        "decode_fps_no_startup": loop["n_frames"] / loop["seconds"] if loop["seconds"] > 0 else None,
        "dec_rss_kb": dec.rss_kb, "keyint": summary["keyint"], "keyframes": summary["keyframes"],
        "decoder": loop["decoder"],
    }
    y4m.unlink()
    return row


def _bd_entry(result: BDResult) -> dict:
    """A BDResult as JSON."""
    return {"value": result.value, "unit": result.unit, "range": [result.low, result.high], "reason": result.reason,
            "text": str(result)}


def _bd_or_reason(fn, anchor_pts, test_pts, unit: str) -> BDResult:
    """``fn(anchor, test)``, or a BDResult carrying the reason the delta is undefined."""
    if len(anchor_pts) < 2 or len(test_pts) < 2:
        return BDResult(None, unit, reason="needs at least 2 points per curve")
    if any(q is None for _, q in anchor_pts + test_pts):
        return BDResult(None, unit, reason=f"MS-SSIM needs frames of at least {MIN_SSIM_SIDE}x{MIN_SSIM_SIDE}")
    try:
        return fn(anchor_pts, test_pts)
    except ValueError as exc:  # repeated or infinite qualities leave the curve undefined
        return BDResult(None, unit, reason=str(exc))


def bd_table(rows: list[dict]) -> dict:
    """BD-rate of inrcodec against each anchor on PSNR-YUV and MS-SSIM (Y), and BD-PSNR on PSNR-YUV."""
    test = [r for r in rows if r["codec"] == INRCODEC and not r.get("target")]  # the --quality curve
    table = {}
    if not test:
        return table
    for name in anchors.ANCHORS:
        anchor = [r for r in rows if r["codec"] == name]
        if not anchor:
            continue
        entry = {}
        for key, _ in BD_QUALITIES:
            entry[key] = _bd_entry(_bd_or_reason(bd_rate_result, [(r["bpp"], r[key]) for r in anchor],
                                                 [(r["bpp"], r[key]) for r in test], "%"))
        entry["bd_psnr_yuv"] = _bd_entry(_bd_or_reason(bd_psnr_result, [(r["bpp"], r["psnr_yuv"]) for r in anchor],
                                                       [(r["bpp"], r["psnr_yuv"]) for r in test], "dB"))
        table[name] = entry
    return table


def _require_matplotlib():
    """matplotlib's pyplot on the file-only Agg backend, or InrError saying how to get it."""
    try:
        import matplotlib
    except ImportError:
        raise InrError("the RD plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def codec_label(name: str, opts: BenchOptions) -> str:
    """Codec and preset as tables and the plot show them."""
    if name == INRCODEC:
        return f"inrcodec {opts.preset}"
    return anchors.display_name(anchors.ANCHORS[name], opts.anchor_preset(name))


def plot_rd(result: dict, opts: BenchOptions, dst: Path) -> None:
    """bpp against PSNR-YUV, one curve per codec, legend with inrcodec's BD-rate against each anchor."""
    plt = _require_matplotlib()
    fig, ax = plt.subplots(figsize=(7, 5))
    for name in result["codecs"]:
        rows = sorted((r for r in result["points"] if r["codec"] == name), key=lambda r: r["bpp"])
        if not rows:
            continue
        label = codec_label(name, opts)
        bd = result["bd_rate"].get(name, {}).get("psnr_yuv")
        if bd is not None:
            label += (f" (inrcodec BD-rate {bd['value']:+.1f} %)" if bd["value"] is not None
                      else " (BD-rate n/a: " + bd["reason"].split(":")[0] + ")")
        ax.plot([r["bpp"] for r in rows], [r["psnr_yuv"] for r in rows], marker="o", label=label)
    video = result["video"]
    ax.set_title(f"{Path(result['clip']).name}: {video['width']}x{video['height']}, {video['n_frames']} frames,\n"
                 f"GOP {opts.gop}, GOM {opts.gom}, key frames every {opts.keyint}", fontsize="medium")
    ax.set_xlabel("bits per pixel")
    ax.set_ylabel(f"PSNR-YUV 6:1:1 (dB, peak {sample_peak(video.get('bit_depth', 8))})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    fig.savefig(dst, dpi=120)
    plt.close(fig)


def _fmt(value, spec: str) -> str:
    """A number in a table cell; '-' when absent."""
    return "-" if value is None else format(value, spec)


def summary_markdown(result: dict, opts: BenchOptions) -> str:
    """The command, a table of every point and the BD-rate table, as Markdown."""
    video = result["video"]
    lines = [f"`{result['command']}`", "",
             f"{Path(result['clip']).name}: {video['width']}x{video['height']} {video['pix_fmt']}, "
             f"{video['n_frames']} frames, GOP {opts.gop}, GOM {opts.gom}: {_random_access(opts)}; "
             f"PSNR and SSIM at peak {sample_peak(video.get('bit_depth', 8))}; every encode and decode in its own "
             "process.", "",
             "| codec | setting | bpp | PSNR-Y | PSNR-YUV | MS-SSIM (Y) | encode s | encode MiB | "
             "decode fps (process / loop) | decode MiB |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in result["points"]:
        lines.append(f"| {codec_label(r['codec'], opts)} | {r['setting']} | {r['bpp']:.4f} | {r['psnr_y']:.2f} | "
                     f"{r['psnr_yuv']:.2f} | {_fmt(r['ms_ssim_y'], '.4f')} | {r['enc_seconds']:.1f} | "
                     f"{r['enc_rss_kb'] / 1024:.0f} | {r['decode_fps']:.1f} / {_fmt(r['decode_fps_no_startup'], '.0f')}"
                     f" | {r['dec_rss_kb'] / 1024:.0f} |")
    if result["bd_rate"]:
        lines += ["", "BD-rate of inrcodec against each anchor (negative: inrcodec needs fewer bits):", "",
                  "| anchor | BD-rate (PSNR-YUV) | BD-rate (MS-SSIM Y) | BD-PSNR-YUV |", "|---|--:|--:|--:|"]
        for name, entry in result["bd_rate"].items():
            lines.append(f"| {codec_label(name, opts)} | {entry['psnr_yuv']['text']} | {entry['ms_ssim_y']['text']} | "
                         f"{entry['bd_psnr_yuv']['text']} |")
    for name, reason in result["skipped"].items():
        lines.append(f"\n{codec_label(name, opts)}: skipped ({reason})")
    return "\n".join(lines) + "\n"


def _random_access(opts: BenchOptions) -> str:
    """The random-access period every codec of the run gets, in words."""
    return (f"random access every {opts.keyint} frames (GOP × GOM) for inrcodec, "
            f"and a key frame every {opts.keyint} frames for the anchors")


def write_results(result: dict, opts: BenchOptions, out_dir: Path) -> None:
    """results.json, results.csv, rd.png and summary.md in ``out_dir``."""
    (out_dir / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    with open(out_dir / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(result["points"])
    plot_rd(result, opts, out_dir / "rd.png")
    (out_dir / "summary.md").write_text(summary_markdown(result, opts))


def _points(opts: BenchOptions, chroma: str, bit_depth: int = 8) -> tuple[list[Point], dict[str, str]]:
    """The encodes to make for a source of this chroma format and depth, and the anchors that cannot take it."""
    points, skipped = [], {}
    for name in opts.codecs:
        if name == INRCODEC:
            points += [Point(name, q) for q in opts.qualities] + [Point(name, 0, s) for s in opts.sizes]
            continue
        reason = anchors.unsupported_reason(anchors.ANCHORS[name], chroma, bit_depth)
        if reason:
            skipped[name] = reason
        else:
            points += [Point(name, qp) for qp in opts.anchor_qps(name)]
    return points, skipped


def bench_clip(src: Path, opts: BenchOptions, out_dir: Path, command: str) -> dict:
    """Every point of one clip, its BD-rates and its result files in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log_dir = out_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    info, source = read_frames(src, opts.frames)
    points, skipped = _points(opts, info.chroma, info.bit_depth)
    _say(opts, f"bench {src.name}: {_random_access(opts)}")
    rows = []
    for i, point in enumerate(points, 1):
        _say(opts, f"bench {src.name}: [{i}/{len(points)}] {codec_label(point.codec, opts)} {point.setting} ...")
        if point.codec == INRCODEC:
            row, _ = measure_inrcodec(src, source, info, None if point.size else point.value, opts, out_dir,
                                      log_dir, size=point.size)
            (out_dir / f"{point.setting}.y4m").unlink()
        else:
            row = measure_anchor(src, source, info, point, opts, out_dir, log_dir)
        rows.append({"codec": point.codec, "preset": opts.preset if point.codec == INRCODEC
                     else opts.anchor_preset(point.codec), "setting": point.setting, **row})
        _say(opts, f"bench {src.name}: [{i}/{len(points)}] {row['bpp']:.4f} bpp, PSNR-YUV {row['psnr_yuv']:.2f} dB, "
                   f"encode {row['enc_seconds']:.1f} s")
    for name, reason in skipped.items():
        _say(opts, f"bench {src.name}: {name} skipped: {reason}")
    result = {
        "clip": str(src), "command": command, "out_dir": str(out_dir),
        "video": {"width": info.width, "height": info.height, "n_frames": len(source), "fps": [info.fps_num,
                  info.fps_den], "pix_fmt": anchors.pix_fmt_of(info.chroma, info.bit_depth), "bit_depth": info.bit_depth,
                  "source_pix_fmt": info.source_pix_fmt},
        "settings": {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items()},
                     "anchor_qps": {n: list(opts.anchor_qps(n)) for n in anchors.ANCHORS if n in opts.codecs},
                     "anchor_presets": {n: opts.anchor_preset(n) for n in anchors.ANCHORS if n in opts.codecs},
                     "random_access_frames": opts.keyint},
        "codecs": [c for c in opts.codecs if c not in skipped], "skipped": skipped,
        "points": rows, "bd_rate": bd_table(rows),
    }
    write_results(result, opts, out_dir)
    return result


def clip_dirs(clips, out: Path) -> list[tuple[Path, Path]]:
    """Each clip (checked to exist) with its output folder ``out/<clip stem>``; stems must differ."""
    pairs = []
    for clip in clips:
        path = Path(clip).resolve()
        if not path.is_file():
            raise InrInputError(f"clip not found: {clip}")
        pairs.append((path, Path(out).resolve() / path.stem))
    stems = [p.stem for p, _ in pairs]
    if len(set(stems)) != len(stems):
        raise InrInputError(f"two clips share the name {next(s for s in stems if stems.count(s) > 1)!r}; "
                            "their results would share a folder")
    return pairs


def run_benchmark(clips, opts: BenchOptions) -> list[dict]:
    """Benchmark every clip; returns one result per clip (as results.json holds it)."""
    opts = opts.check()
    if not clips:
        raise InrInputError("name at least one clip")
    pairs = clip_dirs(clips, opts.out)
    _require_matplotlib()  # fail before the first encode rather than after the last
    command = opts.command(clips)
    return [bench_clip(src, opts, out_dir, command) for src, out_dir in pairs]


def format_report(result: dict, opts: BenchOptions) -> str:
    """A plain-text table of the points and the BD-rates of one clip."""
    head = (f"{'codec':<20} {'set':>5} {'bpp':>7} {'PSNR-Y':>6} {'YUV':>6} {'MS-SSIM':>7} {'enc s':>7} "
            f"{'encMB':>6} {'dec fps':>8} {'loop fps':>8} {'decMB':>6}")
    lines = [f"{Path(result['clip']).name} (PSNR at peak {sample_peak(result['video'].get('bit_depth', 8))}; "
             f"{_random_access(opts)})", head, "-" * len(head)]
    for r in result["points"]:
        lines.append(f"{codec_label(r['codec'], opts):<20} {r['setting']:>5} {r['bpp']:>7.4f} {r['psnr_y']:>6.2f} "
                     f"{r['psnr_yuv']:>6.2f} {_fmt(r['ms_ssim_y'], '>7.4f')} {r['enc_seconds']:>7.1f} "
                     f"{r['enc_rss_kb'] / 1024:>6.0f} {r['decode_fps']:>8.1f} "
                     f"{_fmt(r['decode_fps_no_startup'], '>8.1f')} {r['dec_rss_kb'] / 1024:>6.0f}")
    for name, entry in result["bd_rate"].items():
        lines.append(f"inrcodec vs {codec_label(name, opts)}: BD-rate {entry['psnr_yuv']['text']} (PSNR-YUV), "
                     f"{entry['ms_ssim_y']['text']} (MS-SSIM Y); BD-PSNR-YUV {entry['bd_psnr_yuv']['text']}")
    for name, reason in result["skipped"].items():
        lines.append(f"{name}: skipped ({reason})")
    return "\n".join(lines)
