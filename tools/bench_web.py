#!/usr/bin/env python3
"""The web player's speed in headless Chromium (issue 31's bar), beside the Python player's.

For each file: the built player (web/, ``npm run build`` into a temporary folder) is served by
inrcodec.play's server and opened in the distribution's Chromium through playwright-core
(web/test/browser/run.mjs, job ``speed``), ``--repeat`` times, each a fresh page:

- first frame: from the page's open() (the file asked for) to frame 0 drawn on the canvas, and from
  navigation start (the page itself loading too);
- playback fps: frames 1..N-1 decoded, converted to RGB and drawn, as fast as they come (no pacing to
  the file's frame rate): the rate the player can sustain;

and inrcodec's own player on the same file (tools/bench_decode.py's measure, ``--backend ort``,
``--threads`` threads): process fps (``inrcodec dec FILE -o /dev/null``), frame-loop fps, first frame.

    python tools/bench_web.py --inr carphone_default.inr              # + a 1280x720 file of random weights
    python tools/bench_web.py --inr a.inr --size 1280x720 --frames 30 --repeat 3

The page runs its default pool of workers (2 on a 2-core machine: main.js), each with threads/workers
wasm threads; ``--workers N`` sets the pool (``?workers=N``). ``--dist DIR`` plays a build made before
(``node web/build.mjs --out DIR`` at another commit) instead of building the working tree: old and new
players measured alternately on the same machine state.

The 1280x720 file is gnerv at the default quality (the encoder's ladder, --quality 5; or --quality) with random
weights (inrcodec.fuzz.synthetic): a decoder's speed does not depend on the values. Run it on a quiet
machine: it waits while /tmp/TIMING exists, holds it while it measures, and prints the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

TIMING = "/tmp/TIMING"


def build(node: str, out: str) -> None:
    subprocess.run([node, str(REPO / "web" / "build.mjs"), "--out", out], cwd=REPO / "web", check=True,
                   capture_output=True)


def browser_runs(node: str, chromium: str, base: str, src: str, repeat: int, query: str) -> list[dict]:
    jobs = [{"kind": "speed", "src": src} for _ in range(repeat)]
    out = subprocess.run([node, str(REPO / "web" / "test" / "browser" / "run.mjs")], cwd=REPO / "web", check=True,
                         capture_output=True, text=True,
                         input=json.dumps({"chromium": chromium, "base": base, "jobs": jobs, "query": query,
                                           "timeoutMs": 600000}))
    runs = [json.loads(line) for line in out.stdout.splitlines()]
    for r in runs:
        if "failed" in r or r.get("error"):
            raise SystemExit(f"{src}: {r.get('failed') or r.get('status')}")
    return runs


def summarise(runs: list[dict], n_frames: int) -> dict:
    first_open = [r["timing"]["firstFrame"] - r["timing"]["open"] for r in runs]
    first_nav = [r["timing"]["firstFrame"] for r in runs]
    fps = [r["frames"] * 1000 / r["ms"] for r in runs]
    wasm = [r["timing"].get("wasm", float("nan")) - r["timing"]["open"] for r in runs]
    return {"first_frame_ms": statistics.median(first_open), "first_frame_ms_best": min(first_open),
            "first_frame_from_navigation_ms": statistics.median(first_nav),
            "wasm_ready_ms": statistics.median(wasm), "fps": statistics.median(fps), "fps_best": max(fps),
            "frames": n_frames, "runs": len(runs)}


def make_random(path: str, width: int, height: int, n_frames: int, quality: int) -> None:
    from bench_decode import make_file

    make_file("gnerv", quality, width, height, n_frames, min(30, n_frames), path)


def n_frames_of(path: str) -> int:
    from inrcodec.container.reader import ContainerReader

    with ContainerReader(path) as r:
        return r.header.n_frames


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inr", action="append", default=[], help="a file to play (repeatable)")
    ap.add_argument("--size", default="1280x720", help="also a gnerv file of random weights this size ('': none)")
    ap.add_argument("--quality", type=int, default=5, help="that file's quality (the encoder's gnerv ladder)")
    ap.add_argument("--frames", type=int, default=30, help="frames of that file")
    ap.add_argument("--repeat", type=int, default=3, help="fresh pages per file (median and best reported)")
    ap.add_argument("--threads", type=int, default=2, help="wasm threads in the browser, ort threads in Python")
    ap.add_argument("--workers", type=int, default=None,
                    help="the page's pool of workers, threads/workers wasm threads each (default: the page's)")
    ap.add_argument("--dist", default=None, help="serve this built player instead of building web/")
    ap.add_argument("--chromium", default=os.environ.get("INRCODEC_CHROMIUM", "/usr/bin/chromium"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--no-python", action="store_true", help="skip the Python player's figures")
    ap.add_argument("--screenshot", default=None, help="save a screenshot of the first file playing here")
    ap.add_argument("--json", default=None, help="write the figures here")
    ap.add_argument("--trial", action="store_true", help="a dry run: neither waits for nor holds /tmp/TIMING")
    a = ap.parse_args(argv)
    from bench_decode import measure
    from inrcodec.play import make_server

    while os.path.exists(TIMING) and not a.trial:
        time.sleep(20)
    with tempfile.TemporaryDirectory() as tmp:
        files = list(a.inr)
        if a.size:
            w, h = (int(v) for v in a.size.split("x"))
            files.append(os.path.join(tmp, f"gnerv_q{a.quality}_{w}x{h}_random.inr"))
            make_random(files[-1], w, h, a.frames, a.quality)
        dist = a.dist or os.path.join(tmp, "dist")
        if not a.dist:
            build(a.node, dist)
        srv = make_server({f"/f{i}/{os.path.basename(p)}": p for i, p in enumerate(files)}, dist)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        if not a.trial:
            Path(TIMING).write_text(f"bench_web.py pid {os.getpid()}\n")
        rows = []
        try:
            print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
            for i, path in enumerate(files):
                n = n_frames_of(path)
                src = f"/f{i}/{os.path.basename(path)}"
                query = f"threads={a.threads}" + (f"&workers={a.workers}" if a.workers else "")
                runs = browser_runs(a.node, a.chromium, base, src, a.repeat, query)
                web = summarise(runs, n)
                web["pool"] = runs[-1].get("pool")  # absent from a player before the pool
                row = {"file": os.path.basename(path), "bytes": os.path.getsize(path), "web": web}
                if not a.no_python:
                    row["python"] = measure(path, "ort", a.threads, n, a.repeat)
                rows.append(row)
                print(json.dumps(row), flush=True)
            if a.screenshot and files:
                subprocess.run([a.node, str(REPO / "web" / "test" / "browser" / "run.mjs")], cwd=REPO / "web",
                               check=True, capture_output=True, text=True,
                               input=json.dumps({"chromium": a.chromium, "base": base, "jobs": [
                                   {"kind": "open", "src": f"/f0/{os.path.basename(files[0])}", "playMs": 1500,
                                    "screenshot": os.path.abspath(a.screenshot)}]}))
            print(f"load average after: {os.getloadavg()[0]:.2f}")
        finally:
            if not a.trial:
                os.unlink(TIMING)
            srv.shutdown()
    print(table(rows, a.threads, a.workers))
    if a.json:
        Path(a.json).write_text(json.dumps({"threads": a.threads, "workers": a.workers, "dist": a.dist, "rows": rows},
                                           indent=2))


def table(rows: list[dict], threads: int, workers: int | None = None) -> str:
    lines = [f"| file | frames | web fps (median / best) | web first frame ms (from open / from navigation) "
             f"| Python ort fps (process / loop) | Python first frame s |",
             "|---|--:|--:|--:|--:|--:|"]
    for r in rows:
        w, p = r["web"], r.get("python")
        py = "—" if p is None else f"{p['process_fps']:.1f} / {p['loop_fps']:.1f}"
        pf = "—" if p is None else f"{p['first_frame_s']:.2f}"
        lines.append(f"| {r['file']} | {w['frames']} | {w['fps']:.1f} / {w['fps_best']:.1f} | "
                     f"{w['first_frame_ms']:.0f} / {w['first_frame_from_navigation_ms']:.0f} | {py} | {pf} |")
    pool = next((r["web"].get("pool") for r in rows if r["web"].get("pool")), None)
    how = (f"{pool['workers']} workers of {pool['threads']} wasm threads" if pool
           else f"{threads} threads" + (f", ?workers={workers}" if workers else ""))
    lines.append(f"(headless Chromium, wasm backend, {how}; Python: inrcodec dec --backend ort "
                 f"--threads {threads})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
