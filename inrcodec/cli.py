"""The command line: parse, call the API, print, map errors to exit codes (no codec logic here)."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
import warnings
from contextlib import contextmanager

import click

from .decode.options import MAX_THREADS, DecodeOptions
from .train.options import BENCH_PASS_THROUGH
from .errors import InrDetail, InrError, InrInputError, InrIOError, InrNotice
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


@contextmanager
def _notices(quiet: bool = False, verbose: bool = False):
    """Print each InrNotice once as one plain ``inrcodec: note:`` line on stderr (none with ``quiet``;
    InrDetail ones only with ``verbose``); other warnings keep Python's format."""
    seen: set[str] = set()
    python_show = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, InrNotice):
            python_show(message, category, filename, lineno, file, line)
            return
        text = str(message)
        if quiet or text in seen or (issubclass(category, InrDetail) and not verbose):
            return
        seen.add(text)
        click.echo(f"inrcodec: note: {text}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", InrNotice)
        warnings.showwarning = show
        yield


@contextmanager
def _describing(verbose: bool):
    """With ``verbose``: the encoder's source notes what it read (an InrDetail)."""
    if not verbose:
        yield
        return
    from .io.video import describing_sources

    with describing_sources():
        yield


def _versions(ctx, param, value) -> None:
    """--version: inrcodec and the libraries that decide what it can read and how it computes."""
    if not value or ctx.resilient_parsing:
        return
    from .describe import library_versions

    for name, version in library_versions():
        click.echo(f"{name} {version}")
    ctx.exit()


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


def _field_options(command=None, *, names=None, defaults: bool = True):
    """One option per EncodeOptions field that has a command-line form (``names``: only those),
    made from the field's metadata; a list field is a string the options' parse_ints reads."""
    if command is None:
        return lambda c: _field_options(c, names=names, defaults=defaults)
    from dataclasses import MISSING, fields

    from .train.options import EncodeOptions

    for f in reversed(fields(EncodeOptions)):
        meta = dict(f.metadata.get("cli") or {})
        if not meta or (names is not None and f.name not in names):
            continue
        decls = meta.pop("decls") or ("--" + f.name.replace("_", "-"),)
        kind = meta.pop("type", str)
        kwargs: dict = {"help": meta.pop("help")}
        if meta.pop("path", False):
            kind = click.Path()
        if "choices" in meta:
            kind = click.Choice(list(meta.pop("choices")))
        if not meta.get("is_flag", False) or meta.get("flag_value") is not None:
            kwargs["type"] = str if kind == "ints" else kind
        kwargs["default"] = f.default if defaults and f.default is not MISSING else None
        if not defaults:  # passed through to another command: None leaves that command's default
            meta.pop("show_default", None)
        command = click.option(*decls, f.name, **kwargs, **meta)(command)
    return command


class _ArchOptionsCommand(click.Command):
    """A command that also takes every registered architecture's options (``InrModel.OPTIONS``),
    looked up when parsed or shown (so that importing the CLI imports no torch, and an
    architecture registered later, a plug-in's or a test's, gets its options too)."""

    def parse_args(self, ctx, args):
        from .extras import ENCODE_EXTRA, missing_encode_modules

        missing = missing_encode_modules()
        asks_help = any(a in ctx.help_option_names for a in args)
        if missing and not asks_help:  # a player-only install: one line saying what to install
            _fail(InrInputError(f"{self.name} needs the encode extra ({', '.join(missing)} not installed): "
                                f"{ENCODE_EXTRA}"), InrInputError.exit_code)
        return super().parse_args(ctx, args)

    def get_params(self, ctx):
        from .extras import missing_encode_modules

        if missing_encode_modules():  # no architectures without torch; parse_args says what to install
            return super().get_params(ctx)
        from .models import arch_options

        options = arch_options()
        key = tuple((name, tuple(archs)) for name, (_, archs) in options.items())
        if getattr(self, "_arch_key", None) != key:
            taken = {p.name for p in self.params}
            self._arch_key, self._arch_params = key, [
                click.Option([opt.flag, name], type=int if opt.kind == "int" else str, default=None,
                             help=f"{'/'.join(archs)}: {opt.help} [default: {opt.default}]")
                for name, (opt, archs) in options.items() if name not in taken]
        params = super().get_params(ctx)  # the command's own, then --help
        return params[:-1] + self._arch_params + params[-1:]


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
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_versions,
              help="show the versions of inrcodec, torch, PyAV/FFmpeg and constriction, and exit")
def main() -> None:
    """inrcodec: a video codec whose bitstream holds neural networks."""


@main.command("enc", cls=_ArchOptionsCommand)
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False), help="the .inr file to write")
@_field_options
@click.option("-y", "--overwrite", is_flag=True, help="replace the output file if it exists")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
@click.option("--quiet", is_flag=True, help="no progress bar, no notes")
@click.option("-v", "--verbose", is_flag=True, help="also note what is read from the source")
def enc_cmd(src, dst, overwrite, as_json, quiet, verbose, **options) -> None:
    """Encode SRC (any video PyAV reads; an image sequence such as frame_%03d.png; - for standard
    input) into an .inr file.

    Finished GOMs are journalled beside the output (.NAME.part, .NAME.journal): after an
    interruption, the same command with --resume continues from the last finished GOM and
    writes the same bytes as an uninterrupted encode.
    """
    from .api import encode
    from .train.journal import journal_path
    from .train.timing import process_start
    from .progress import ProgressBar

    bar = ProgressBar(enabled=not quiet)
    try:
        with _notices(quiet, verbose), _describing(verbose):
            # --time counts from the process's start: loading Python and torch is part of the wait
            summary = _run(encode, src, dst, progress=bar.update, overwrite=overwrite, started=process_start(),
                           **options)
    except SystemExit as stop:
        # an interrupt, a full disk, a failed worker keep the finished GOMs; an unusable input (7)
        # keeps none (a journal there is an earlier encode's, not this one's)
        if stop.code not in (0, None, InrInputError.exit_code) and os.path.exists(journal_path(dst)):
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
        if summary.target is not None:
            _echo(f"  target {_target_line(summary.target)}")
        if summary.time is not None:
            t = summary.time
            _echo(f"  time {t['asked']}: {t['seconds']:.1f} s for {t['budget_s']:g} s ({t['off_percent']:+.1f} %)")
        n_pixels = summary.width * summary.height * summary.n_frames
        for k, (psnr, n_bytes) in enumerate(zip(summary.layer_psnr_yuv, summary.layer_bytes)):
            total = sum(summary.layer_bytes[:k + 1])
            _echo(f"  layers 0..{k}: {total * 8 / n_pixels:.4f} bpp (models), PSNR-YUV {psnr:.2f} dB; "
                       f"layer {k}: {n_bytes} bytes")


def _target_line(t: dict) -> str:
    """What a target asked and what the encode reached, in one line."""
    if "target_bytes" in t:
        reached = f"{t['file_bytes']} bytes for {t['target_bytes']} ({t['off_percent']:+.1f} %)"
    elif "target_psnr" in t:
        reached = f"PSNR-YUV {t['psnr_yuv']:.2f} dB for {t['target_psnr']:g} ({t['off_db']:+.2f} dB)"
    else:
        reached = f"MS-SSIM-Y {t['ms_ssim_y']:.4f} for {t['target_ms_ssim']:g} ({t['off']:+.4f})"
    return f"{t['asked']}: {reached}, quality {t['quality']}"


def _decode_options(command):
    """The decoder's settings, limits included, as options handed to ``command`` as one DecodeOptions."""
    @functools.wraps(command)
    def with_options(*, salvage, device, backend, threads, layers, **kwargs):
        options = DecodeOptions(backend=backend, device=device, threads=threads, layers=layers,
                                limits=_limits(kwargs), salvage=salvage)
        return command(options=options, **kwargs)

    with_options = _limit_options(with_options)  # shown after the options above them
    for option in reversed((
        click.option("--salvage", is_flag=True, help="decode the complete GOMs of a damaged or cut file"),
        click.option("--device", default="cpu", show_default=True, type=click.Choice(["auto", "cpu", "cuda"]),
                     help="cuda runs the torch backend on the GPU"),
        click.option("--backend", default="auto", show_default=True, envvar="INRCODEC_BACKEND", show_envvar=True,
                     type=click.Choice(["auto", "ort", "numpy", "torch"]),
                     help="what runs the networks: auto takes ort (onnxruntime), else numpy; torch for --device cuda"),
        click.option("--threads", type=click.IntRange(1, MAX_THREADS), default=None,
                     help=f"CPU threads of the ort backend, 1..{MAX_THREADS} "
                          "[default: the cores this process may use]"),
        click.option("--layers", type=int, default=None,
                     help="decode only the first K progressive layers [default: all]"),
    )):
        with_options = option(with_options)
    return with_options


@main.command("dec")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "dst", required=True, help="the .y4m to write, or - for stdout")
@click.option("--start", type=int, default=0, show_default=True, help="first frame to output")
@click.option("--frames", "count", type=int, default=None, help="number of frames to output")
@_decode_options
@click.option("-y", "--overwrite", is_flag=True, help="replace the output file if it exists")
@click.option("--quiet", is_flag=True, help="no progress bar, no notes")
@click.option("-v", "--verbose", is_flag=True, help="also print the ffmpeg options that restore the colour tags")
def dec_cmd(src, dst, start, count, options, overwrite, quiet, verbose) -> None:
    """Decode an .inr file to YUV4MPEG2 (frames are written as they are decoded).

    A file above the decoder's level (spec/levels.md) is refused before anything is built; the
    --max-* option its message names raises that limit.
    """
    from .api import decode_to_y4m
    from .progress import ProgressBar

    if count is not None and count <= 0:
        _fail(InrInputError(f"--frames must be >= 1 (got {count})"), InrInputError.exit_code)
    bar = ProgressBar(enabled=not quiet and dst != "-")
    note = _run(decode_to_y4m, src, dst, options, start=start, count=count, progress=bar.update,
                overwrite=overwrite)
    bar.close()
    if note:
        click.echo(f"inrcodec: warning: {note}", err=True)
    if verbose and not quiet:
        from .describe import retag_hint

        hint = _run(retag_hint, src, dst)
        if hint:
            click.echo(f"inrcodec: note: {hint}", err=True)


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


@main.command("play")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="port on 127.0.0.1 (0: a free one)")
def play_cmd(src, port) -> None:
    """Watch SRC in a web browser: serve the web player (web/dist: cd web && npm ci && npm run build)
    and SRC on 127.0.0.1, print the URL that plays it, and serve until Ctrl-C."""
    from .play import play

    _run(play, src, port=port)


@main.command("bench", cls=_ArchOptionsCommand)
@click.argument("clips", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--codecs", default=None, help="subset of inrcodec,x264,x265,svt-av1 (default: all)")
@click.option("--qualities", default=None, help="inrcodec qualities, comma-separated [default: 2,4,6,8]")
@click.option("--sizes", default=None,
              help="inrcodec also encodes to these file sizes (enc --size), comma-separated: 20k,40k")
@click.option("--preset", default=None, help="inrcodec preset (fast, medium, slow) [default: medium]")
@click.option("--gop", type=int, default=None, help="frames per GOP [default: 30]")
@click.option("--gom", type=int, default=None,
              help="GOPs per group of models; the anchors get a key frame every GOP x GOM frames [default: 2]")
@click.option("--iters", type=int, default=None, help="inrcodec I-model iterations (default: the preset's)")
@click.option("--p-iters", type=int, default=None, help="inrcodec P-model iterations (default: the preset's)")
@click.option("--qps-x264", default=None, help="x264 QPs [default: 22,27,32,37,42]")
@click.option("--qps-x265", default=None, help="x265 QPs [default: 22,27,32,37,42]")
@click.option("--qps-av1", default=None, help="SVT-AV1 QPs [default: 30,38,46,54,63]")
@click.option("--av1-preset", default=None, help="SVT-AV1 preset 0..13 [default: 0]")
@click.option("--frames", type=int, default=None, help="use only the first K frames")
@_field_options(names=BENCH_PASS_THROUGH, defaults=False)
@click.option("--threads", type=int, default=None,
              help=f"CPU threads of every encode and decode process, 1..{MAX_THREADS}")
@click.option("--device", default=None, help="inrcodec encoder device: auto, cpu, cuda [default: cpu]")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="results go to OUT/<clip name>/ [default: out/benchmark]")
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
@click.option("--quiet", is_flag=True, help="no progress lines")
def bench_cmd(clips, as_json, **options) -> None:
    """Rate-distortion, speed and memory of inrcodec against x264, x265 and SVT-AV1 on CLIPS."""
    from pathlib import Path

    from .bench.run import BenchOptions, format_report, run_benchmark

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
