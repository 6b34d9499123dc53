"""Certify any .inr decoder against the conformance suite (spec/conformance.md): a pass/fail table.

The decoder is a command line with ``{in}`` and ``{out}`` in it. It must write the frames of
``{in}`` to ``{out}`` as YUV4MPEG2 (samples above 8 bits as 16-bit little-endian words, as FFmpeg
does) and exit 0, or refuse an invalid stream with the exit status of its error class (3 format,
4 truncated, 5 checksum, 6 unsupported or above the level). Every golden stream must decode to its
recorded frames (MD5, or every sample within ``max_abs_diff`` of frames.npz and at most 1 in 1000
differing), every invalid stream
must be refused with its status, and, with ``--salvage-decoder``, the damaged streams that say so
must give back exactly the frames of the GOMs before the damage. Exit status 0 only when every
stream that ran passed. Needs Python and NumPy only, not inrcodec.

    python tools/conformance.py --decoder 'inrcodec dec {in} -o {out} -y --backend numpy' \\
        --salvage-decoder 'inrcodec dec --salvage {in} -o {out} -y --backend numpy'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SUITE = os.path.join(REPO, "tests", "conformance")
INVALID_DIR = "invalid"
INVALID_MANIFEST = "invalid.json"
# spec/conformance.md rule 2: where a frame's MD5 differs, at most this share of the stream's samples
# (those decoded) may differ from frames.npz, each by at most max_abs_diff
MAX_DIFFERING_SHARE = 1 / 1000

# decode(src, dst, salvage) -> exit status; the runner's one view of a decoder
Decode = Callable[[str, str, bool], int]


@dataclass
class Row:
    """One line of the table."""

    stream: str
    kind: str  # "golden", "invalid" or "salvage"
    expected: str
    got: str
    passed: bool | None  # None: not run
    seconds: float = 0.0


def command_decoder(template: str, salvage_template: str | None, timeout_s: float) -> Decode:
    """A Decode running ``template`` (or ``salvage_template``) with {in} and {out} filled in."""
    def decode(src: str, dst: str, salvage: bool) -> int:
        words = shlex.split(salvage_template if salvage else template)
        argv = [w.replace("{in}", src).replace("{out}", dst) for w in words]
        try:
            return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=timeout_s).returncode
        except subprocess.TimeoutExpired:
            return -1
    return decode


def read_y4m(path: str) -> tuple[dict, list[bytes]]:
    """(header tags, each frame's raw bytes) of a YUV4MPEG2 file."""
    with open(path, "rb") as f:
        data = f.read()
    end = data.find(b"\n")
    if not data.startswith(b"YUV4MPEG2 ") or end < 0:
        raise ValueError("not a YUV4MPEG2 file")
    tags = {w[:1].decode(): w[1:].decode() for w in data[10:end].split()}
    width, height = int(tags["W"]), int(tags["H"])
    colour = tags.get("C", "420")
    match = re.fullmatch(r"(?:420|444)p(\d+)", colour)  # 420p10, 444p12; 420jpeg, 420paldv... are 8-bit
    depth = int(match.group(1)) if match else 8
    size = 2 if depth > 8 else 1
    chroma = (width * height) if colour.startswith("444") else ((width + 1) // 2) * ((height + 1) // 2)
    frame_bytes = (width * height + 2 * chroma) * size
    frames, pos = [], end + 1
    while pos < len(data):
        line_end = data.find(b"\n", pos)
        if line_end < 0 or not data.startswith(b"FRAME", pos):
            raise ValueError(f"no FRAME line at byte {pos}")
        frame = data[line_end + 1:line_end + 1 + frame_bytes]
        if len(frame) != frame_bytes:
            raise ValueError(f"frame {len(frames)} cut short")
        frames.append(frame)
        pos = line_end + 1 + frame_bytes
    tags.update(width=width, height=height, depth=depth)
    return tags, frames


def _planes(frame: bytes, shapes: list[list[int]], depth: int) -> list[np.ndarray]:
    dtype = np.dtype("<u2") if depth > 8 else np.dtype(np.uint8)
    out, pos = [], 0
    for h, w in shapes:
        n = h * w * dtype.itemsize
        out.append(np.frombuffer(frame[pos:pos + n], dtype).reshape(h, w).astype(np.int64))
        pos += n
    return out


def check_frames(y4m: str, folder: str, expected: dict, n_frames: int) -> str | None:
    """None when ``y4m`` holds exactly the first ``n_frames`` frames of the golden ``folder``, within
    the tolerance; else what is wrong."""
    try:
        tags, frames = read_y4m(y4m)
    except (OSError, ValueError, KeyError) as err:
        return f"output unreadable: {err}"
    shapes = expected["plane_shapes"]
    if (tags["width"], tags["height"]) != (expected["width"], expected["height"]):
        return f"frame {tags['width']}x{tags['height']}, expected {expected['width']}x{expected['height']}"
    if len(frames) != n_frames:
        return f"{len(frames)} frames, expected {n_frames}"
    size = sum(h * w for h, w in shapes) * (2 if tags["depth"] > 8 else 1)
    if any(len(f) != size for f in frames):
        return f"planes {shapes} do not match the output's chroma/depth ({tags.get('C', '420')})"
    reference = None
    tolerance = expected["max_abs_diff"]
    differing = 0
    for i, frame in enumerate(frames):
        if hashlib.md5(frame).hexdigest() == expected["frames"][i]["md5"]:
            continue
        if reference is None:
            reference = np.load(os.path.join(folder, expected["frame_planes"]))
        for name, plane in zip("yuv", _planes(frame, shapes, tags["depth"])):
            diff = np.abs(plane - reference[f"{i}_{name}"].astype(np.int64))
            if int(diff.max()) > tolerance:
                return f"frame {i} plane {name}: off by {int(diff.max())} (tolerance {tolerance})"
            differing += int((diff > 0).sum())
    samples = n_frames * sum(h * w for h, w in shapes)
    if differing > MAX_DIFFERING_SHARE * samples:
        return f"{differing} of {samples} samples differ (at most 1 in 1000 may)"
    return None


def goldens(suite: str) -> list[str]:
    """The golden feature folders of the suite."""
    return sorted(d for d in os.listdir(suite) if d.isupper() and os.path.isfile(os.path.join(suite, d, "expected.json")))


def _load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def run_suite(decode: Decode, suite: str = DEFAULT_SUITE, *, salvage: bool = True,
              only: list[str] | None = None, progress: Callable[[Row], None] | None = None) -> list[Row]:
    """Decode every golden and invalid stream of ``suite`` with ``decode``; one Row each (and one per
    salvage case, not run when ``salvage`` is False)."""
    rows: list[Row] = []

    def add(row: Row) -> None:
        rows.append(row)
        if progress is not None:
            progress(row)

    def wanted(name: str) -> bool:
        return not only or any(o in name for o in only)

    manifest = _load(os.path.join(suite, INVALID_DIR, INVALID_MANIFEST))["streams"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.y4m")
        for feature in goldens(suite):
            if not wanted(feature):
                continue
            folder = os.path.join(suite, feature)
            expected = _load(os.path.join(folder, "expected.json"))
            t0 = time.perf_counter()
            status = decode(os.path.join(folder, "stream.inr"), out, False)
            problem = f"exit {status}" if status != 0 else check_frames(out, folder, expected, expected["n_frames"])
            add(Row(feature, "golden", f"exit 0, {expected['n_frames']} frames", problem or "as expected",
                    problem is None, time.perf_counter() - t0))
            if os.path.exists(out):
                os.remove(out)
        for entry in manifest:
            if not wanted(entry["name"]):
                continue
            src = os.path.join(suite, INVALID_DIR, entry["stream"])
            t0 = time.perf_counter()
            status = decode(src, out, False)
            add(Row(entry["name"], "invalid", f"exit {entry['exit']} ({entry['error']})", f"exit {status}",
                    status == entry["exit"], time.perf_counter() - t0))
            if os.path.exists(out):
                os.remove(out)
            if "salvage_frames" not in entry:
                continue
            n = entry["salvage_frames"]
            if not salvage:
                add(Row(entry["name"], "salvage", f"exit 0, {n} frames", "not run", None))
                continue
            folder = os.path.join(suite, entry["golden"])
            t0 = time.perf_counter()
            status = decode(src, out, True)
            problem = (f"exit {status}" if status != 0
                       else check_frames(out, folder, _load(os.path.join(folder, "expected.json")), n))
            add(Row(entry["name"], "salvage", f"exit 0, {n} frames", problem or "as expected",
                    problem is None, time.perf_counter() - t0))
            if os.path.exists(out):
                os.remove(out)
    return rows


def format_row(row: Row) -> str:
    verdict = {True: "pass", False: "FAIL", None: "----"}[row.passed]
    return f"{verdict}  {row.kind:<8} {row.stream:<20} {row.expected:<32} {row.got}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decoder", required=True, help="command with {in} and {out}, e.g. 'mydec {in} {out}'")
    parser.add_argument("--salvage-decoder", help="the same in salvage mode (spec/bitstream.md §7.3); "
                                                  "without it the salvage cases are listed as not run")
    parser.add_argument("--suite", default=DEFAULT_SUITE, help="the suite's folder (default: tests/conformance)")
    parser.add_argument("--only", nargs="*", help="run only the streams whose name contains one of these")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per decode (default 300)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    for name, template in (("--decoder", args.decoder), ("--salvage-decoder", args.salvage_decoder)):
        if template is not None and not ("{in}" in template and "{out}" in template):
            parser.error(f"{name} must contain {{in}} and {{out}}")
    decode = command_decoder(args.decoder, args.salvage_decoder, args.timeout)
    print(f"{'':4}  {'kind':<8} {'stream':<20} {'expected':<32} got")
    rows = run_suite(decode, args.suite, salvage=args.salvage_decoder is not None, only=args.only,
                     progress=lambda row: print(format_row(row), flush=True))
    ran = [r for r in rows if r.passed is not None]
    failed = [r for r in ran if not r.passed]
    print(f"{len(ran) - len(failed)} of {len(ran)} passed" + (f", {len(rows) - len(ran)} not run" if len(ran) < len(rows) else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.__dict__ for r in rows], f, indent=2)
    return 0 if ran and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
