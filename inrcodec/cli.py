"""The command line: parse, call the API, print, map errors to exit codes (no codec logic here)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

import click

from .codec.presets import RESIDUAL_SCALE
from .errors import InrError, InrInputError, InrIOError
from .metrics import sample_peak
from .outfile import STDOUT_NAME

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a filter whose reader went away


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that writers unwind and clean up as on Ctrl-C."""


def _on_sigterm(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the clean-up short
    raise Terminated("terminated")


def _fail(exc: BaseException, code: int) -> None:
    click.echo(f"inrcodec: error: {exc}", err=True)
    sys.exit(code)


def _silence_stdout() -> None:
    # Python flushes stdout once more at exit: pointed at /dev/null, that flush cannot fail and
    # print "Exception ignored ..." (docs.python.org/3/library/signal.html, "Note on SIGPIPE").
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # no real descriptor (closed, or a test harness): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _broken_pipe() -> None:
    """The reader of stdout went away (``dec -o - | head``): stop quietly, as a Unix filter does."""
    _silence_stdout()
    sys.exit(EXIT_BROKEN_PIPE)


def _run(fn, *args, **kwargs):
    is_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if is_main else None
    try:
        return fn(*args, **kwargs)
    except InrError as exc:
        _fail(exc, exc.exit_code)
    except Terminated:
        _fail(KeyboardInterrupt("terminated"), EXIT_TERMINATED)
    except KeyboardInterrupt:
        _fail(KeyboardInterrupt("interrupted"), EXIT_INTERRUPTED)
    except BrokenPipeError:
        _broken_pipe()
    finally:
        if is_main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _echo(message: str) -> None:
    """Print a line on stdout; a stdout that cannot take it is one error line and exit 8."""
    if sys.stdout is None:
        _fail(InrIOError(f"cannot write {STDOUT_NAME}: standard output is closed"), InrIOError.exit_code)
    try:
        click.echo(message)
    except BrokenPipeError:
        _broken_pipe()
    except OSError as exc:
        _silence_stdout()
        _fail(InrIOError(f"cannot write {STDOUT_NAME}: {exc.strerror or exc}"), InrIOError.exit_code)


def _ints(value: str | None, flag: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        return tuple(int(v) for v in value.split(","))
    except ValueError:
        _fail(InrInputError(f"{flag}: expected comma-separated integers, got {value!r}"), InrInputError.exit_code)


def _channels(value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        out = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("expected comma-separated integers, e.g. 16,24,16,12") from None
    if len(out) < 2 or any(c <= 0 for c in out):
        raise click.BadParameter("need at least two positive channel counts")
    return out


def _limit_options(command):
    """One option per decoder limit (spec/levels.md), named as the refusal names it: --max-pixels ..."""
    from dataclasses import fields

    from .levels import LEVEL, Limits, option_name

    for f in reversed(fields(Limits)):
        command = click.option(option_name(f.name), f.name, type=click.IntRange(min=1), default=None,
                               help=f"raise or lower the decoder limit {f.name} "
                                    f"[default: the level's {getattr(LEVEL, f.name)}]")(command)
    return command


def _limits(options: dict):
    """The Limits the user raised or lowered (popped from ``options``), or None for the level."""
    from dataclasses import fields

    from .levels import Limits

    given = {f.name: options.pop(f.name) for f in fields(Limits)}
    given = {k: v for k, v in given.items() if v is not None}
    return Limits(**given) if given else None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inrcodec")
def main() -> None:
    """inrcodec: a video codec whose bitstream holds neural networks."""


@main.command("enc")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False), help="the .inr file to write")
@click.option("--gop", type=int, default=None, help="frames per GOP, one network each [default: 30, or the whole video if shorter]")
@click.option("--gom", type=int, default=None, help="GOPs per group of models, I-model + P-models [default: 5, or all GOPs if fewer]")
@click.option("--quality", "-q", default=5, show_default=True, help="1..9: network width and lambda preset")
@click.option("--preset", default="medium", show_default=True, type=click.Choice(["fast", "medium", "slow"]))
@click.option("--lambda", "lam", type=float, default=None, help="weight of the 6:1:1 MSE against bits/pixel")
@click.option("--channels", default=None, help="override the network channels, e.g. 16,24,16,12")
@click.option("--iters", type=int, default=None, help="iterations for the I-model of each GOM")
@click.option("--p-iters", type=int, default=None, help="iterations for each P-model")
@click.option("--frames", type=int, default=None, help="encode only the first K frames")
@click.option("--seed", type=int, default=1, show_default=True, help="seed of the I-model initialisation")
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--coder", default="range", show_default=True, help="entropy coder (range, ans, raw)")
@click.option("--model", default="gnerv", show_default=True, help="architecture")
@click.option("--patch-size", type=int, default=None, help="nirvana: patch side, 8..128, a power of two [default: 32]")
@click.option("--mlp-width", type=int, default=None, help="nirvana: SIREN MLP width [default: by --quality]")
@click.option("--mlp-depth", type=int, default=None, help="nirvana: SIREN MLP layers [default: by --quality]")
@click.option("--threads", type=int, default=None,
              help="torch CPU threads per worker; give it for identical bytes [default: cores / workers]")
@click.option("--workers", type=int, default=None,
              help="GOMs encoded at once in local processes [default: one per GPU with --device cuda, else 1]")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="encode the GOMs as Ray tasks on the cluster at ADDRESS (alone: start a local Ray); "
                   "needs pip install 'inrcodec[ray]'")
@click.option("--resume", is_flag=True, help="continue an interrupted encode of the same source and options")
@click.option("-y", "--overwrite", is_flag=True, help="replace the output file if it exists")
@click.option("--layers", type=int, default=1, show_default=True,
              help="progressive layers: a base network and LAYERS-1 residual networks per GOP")
@click.option("--layer-quality", default=None,
              help="quality of each residual layer, comma-separated (one value: all) [default: by layer, above --quality]")
@click.option("--residual-scale", type=int, default=RESIDUAL_SCALE, show_default=True,
              help="residual layers fit the residual times this")
@click.option("--loss", default="mse", show_default=True,
              help="training distortion: mse, l1, l1-ssim, ms-ssim, perceptual (NAME[:key=value,...] sets its weights)")
@click.option("--perceptual-weights", type=click.Path(), default=None,
              help="--loss perceptual: folder holding torchvision state dicts alexnet.pth and/or vgg16.pth")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
@click.option("--quiet", is_flag=True, help="no progress bar")
def enc_cmd(src, dst, gop, gom, quality, preset, lam, channels, iters, p_iters, frames, seed, device,
            coder, model, patch_size, mlp_width, mlp_depth, threads, workers, ray_address, resume, overwrite, layers,
            layer_quality, residual_scale, loss, perceptual_weights, as_json, quiet) -> None:
    """Encode SRC (any video PyAV reads) into an .inr file.

    Finished GOMs are journalled beside the output (.NAME.part, .NAME.journal): after an
    interruption, the same command with --resume continues from the last finished GOM and
    writes the same bytes as an uninterrupted encode.
    """
    from .api import encode
    from .codec.journal import journal_path
    from .progress import ProgressBar

    bar = ProgressBar(enabled=not quiet)
    try:
        summary = _run(encode, src, dst, progress=bar.update, gop=gop, gom=gom, quality=quality, preset=preset,
                       lam=lam, channels=_channels(channels), iters=iters, p_iters=p_iters, frames=frames,
                       seed=seed, device=device, coder=coder, model=model, patch_size=patch_size, mlp_width=mlp_width,
                       mlp_depth=mlp_depth, threads=threads, workers=workers,
                       ray=ray_address, resume=resume, overwrite=overwrite, layers=layers,
                       layer_quality=_ints(layer_quality, "--layer-quality"), residual_scale=residual_scale,
                       loss=loss, perceptual_weights=perceptual_weights)
    except SystemExit as stop:
        if stop.code in (EXIT_INTERRUPTED, EXIT_TERMINATED) and os.path.exists(journal_path(dst)):
            click.echo("inrcodec: finished GOMs are kept; run the same command with --resume to continue",
                       err=True)
        raise
    bar.close()
    if as_json:
        _echo(json.dumps(summary.to_dict(), indent=2))
    else:
        depth = "" if summary.bit_depth == 8 else f" {summary.bit_depth}-bit"
        peak = "" if summary.bit_depth == 8 else f", peak {sample_peak(summary.bit_depth)}"
        _echo(f"{summary.path}: {summary.n_frames} frames {summary.width}x{summary.height}{depth}, "
                   f"{summary.file_bytes} bytes, {summary.bpp:.4f} bpp, {summary.kbps:.1f} kbit/s, "
                   f"PSNR-YUV {summary.psnr_yuv:.2f} dB (Y {summary.psnr_y:.2f}, RGB {summary.psnr_rgb:.2f}{peak})"
                   + ("" if summary.ms_ssim_y is None else
                      f", SSIM-Y {summary.ssim_y:.4f}, MS-SSIM-Y {summary.ms_ssim_y:.4f}")
                   + ("" if summary.deep_distance is None else f", deep distance {summary.deep_distance:.4f}")
                   + f", {summary.seconds:.1f} s")
        n_pixels = summary.width * summary.height * summary.n_frames
        for k, (psnr, n_bytes) in enumerate(zip(summary.layer_psnr_yuv, summary.layer_bytes)):
            total = sum(summary.layer_bytes[:k + 1])
            _echo(f"  layers 0..{k}: {total * 8 / n_pixels:.4f} bpp (models), PSNR-YUV {psnr:.2f} dB; "
                       f"layer {k}: {n_bytes} bytes")


@main.command("dec")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "dst", required=True, help="the .y4m to write, or - for stdout")
@click.option("--start", type=int, default=0, show_default=True, help="first frame to output")
@click.option("--frames", "count", type=int, default=None, help="number of frames to output")
@click.option("--salvage", is_flag=True, help="decode the complete GOMs of a damaged or cut file")
@click.option("--device", default="cpu", show_default=True, type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--layers", type=int, default=None, help="decode only the first K progressive layers [default: all]")
@click.option("-y", "--overwrite", is_flag=True, help="replace the output file if it exists")
@click.option("--quiet", is_flag=True, help="no progress bar")
@_limit_options
def dec_cmd(src, dst, start, count, salvage, device, layers, overwrite, quiet, **limits) -> None:
    """Decode an .inr file to YUV4MPEG2 (frames are written as they are decoded).

    A file above the decoder's level (spec/levels.md) is refused before anything is built; the
    --max-* option its message names raises that limit.
    """
    from .api import decode_to_y4m
    from .progress import ProgressBar

    if count is not None and count <= 0:
        _fail(InrInputError(f"--frames must be >= 1 (got {count})"), InrInputError.exit_code)
    bar = ProgressBar(enabled=not quiet and dst != "-")
    note = _run(decode_to_y4m, src, dst, start=start, count=count, salvage=salvage, device=device,
                layers=layers, progress=bar.update, overwrite=overwrite, limits=_limits(limits))
    bar.close()
    if note:
        click.echo(f"inrcodec: warning: {note}", err=True)


@main.command("extract")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False), help="the .inr file to write")
@click.option("--layers", type=int, required=True, help="keep the first K progressive layers")
@click.option("-y", "--overwrite", is_flag=True, help="replace the output file if it exists")
def extract_cmd(src, dst, layers, overwrite) -> None:
    """Write a smaller .inr holding only the first K layers of SRC, without re-encoding.

    The kept chunks are copied byte for byte; only the header, the index and the trailer are
    new. With --layers 1 the result is a plain one-layer (version 1) file.
    """
    from .api import extract

    n_bytes, total = _run(extract, src, dst, layers, overwrite=overwrite)
    _echo(f"{dst}: {layers} layer{'s' if layers > 1 else ''}, {n_bytes} bytes "
               f"({100 * n_bytes / total:.1f} % of {total})")


@main.command("info")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print as JSON")
@click.option("--salvage", is_flag=True, help="rebuild the index by scanning a damaged or cut file")
@_limit_options
def info_cmd(src, as_json, salvage, **limits) -> None:
    """Show what is inside an .inr file: header, index, bytes per GOM, model and chunk, and
    whether a decoder at the level (or at the limits given) decodes it."""
    from .describe import describe, format_description

    desc = _run(describe, src, salvage=salvage, limits=_limits(limits))
    _echo(json.dumps(desc, indent=2) if as_json else format_description(desc))


@main.command("bench")
@click.argument("clips", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--codecs", default=None, help="subset of inrcodec,x264,x265,svt-av1 (default: all)")
@click.option("--qualities", default=None, help="inrcodec qualities, comma-separated [default: 2,4,6,8]")
@click.option("--preset", default=None, help="inrcodec preset (fast, medium, slow) [default: medium]")
@click.option("--gop", type=int, default=None, help="frames per GOP, and the anchors' keyframe interval [default: 30]")
@click.option("--gom", type=int, default=None, help="GOPs per group of models [default: 2]")
@click.option("--iters", type=int, default=None, help="inrcodec I-model iterations (default: the preset's)")
@click.option("--p-iters", type=int, default=None, help="inrcodec P-model iterations (default: the preset's)")
@click.option("--qps-x264", default=None, help="x264 QPs [default: 22,27,32,37,42]")
@click.option("--qps-x265", default=None, help="x265 QPs [default: 22,27,32,37,42]")
@click.option("--qps-av1", default=None, help="SVT-AV1 QPs [default: 30,38,46,54,63]")
@click.option("--av1-preset", default=None, help="SVT-AV1 preset 0..13 [default: 0]")
@click.option("--frames", type=int, default=None, help="use only the first K frames")
@click.option("--model", default=None, help="inrcodec architecture [default: gnerv]")
@click.option("--patch-size", type=int, default=None, help="nirvana: patch side, 8..128, a power of two [default: 32]")
@click.option("--mlp-width", type=int, default=None, help="nirvana: SIREN MLP width [default: by --quality]")
@click.option("--mlp-depth", type=int, default=None, help="nirvana: SIREN MLP layers [default: by --quality]")
@click.option("--loss", default=None, help="inrcodec training distortion [default: mse]")
@click.option("--perceptual-weights", type=click.Path(), default=None,
              help="backbone weights folder: --loss perceptual, and the LPIPS-style distance of every row")
@click.option("--threads", type=int, default=None, help="CPU threads of every encode and decode process")
@click.option("--device", default=None, help="inrcodec encoder device: auto, cpu, cuda [default: cpu]")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="results go to OUT/<clip name>/ [default: out/benchmark]")
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
@click.option("--quiet", is_flag=True, help="no progress lines")
def bench_cmd(clips, as_json, **options) -> None:
    """Rate-distortion, speed and memory of inrcodec against x264, x265 and SVT-AV1 on CLIPS."""
    from pathlib import Path

    from .bench import BenchOptions, format_report, run_benchmark

    if options["out"] is not None:
        options["out"] = Path(options["out"])
    opts = _run(BenchOptions.from_strings, **options)
    results = _run(run_benchmark, clips, opts)
    if as_json:
        _echo(json.dumps({"clips": results}, indent=2))
        return
    for result in results:
        _echo(format_report(result, opts))
        _echo(f"wrote results.json, results.csv, rd.png and summary.md in {result['out_dir']}")


if __name__ == "__main__":  # pragma: no cover
    main()
