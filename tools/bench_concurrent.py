"""Run one command alone, then N copies of it at once, and print each copy's wall time and its ratio
to the time alone: how an encode shares a machine with another (issue 29: two copies of the
README's first command took 33x the time of one, where sharing two cores predicts about 2x).

A benchmark, not a test: the figures depend on what else the machine runs, which it prints (the
load average before each phase). ``{i}`` in the command becomes the copy's index (0 alone), so that
copies write different outputs; ``--md5 PATTERN`` prints each output's MD5 to show the bytes are
the same whatever ran beside them.

    python tools/bench_concurrent.py -n 2 --md5 /tmp/c{i}.inr -- \\
        inrcodec enc samples/carphone_qcif_16f.mp4 -o /tmp/c{i}.inr -y --preset fast --quiet
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import subprocess
import sys
import time


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _md5(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.md5(fh.read()).hexdigest()
    except OSError as err:
        return f"({err.strerror})"


def run_copies(command: list[str], indices: list[int], env: dict[str, str], timeout_s: float) -> list[float | None]:
    """Start one process per index at once; each one's wall time in seconds (None: killed at ``timeout_s``)."""
    start = time.perf_counter()
    procs = {i: subprocess.Popen([a.replace("{i}", str(i)) for a in command], env=env) for i in indices}
    times: dict[int, float | None] = {}
    while len(times) < len(procs):
        for i, p in procs.items():
            if i not in times and p.poll() is not None:
                if p.returncode != 0:
                    print(f"copy {i} exited with {p.returncode}", file=sys.stderr)
                times[i] = time.perf_counter() - start
        if time.perf_counter() - start > timeout_s:
            for i, p in procs.items():
                if i not in times:
                    p.kill()
                    p.wait()
                    times[i] = None
        time.sleep(0.05)
    return [times[i] for i in indices]


def _seconds(t: float | None, timeout_s: float) -> str:
    return f"{t:7.1f} s" if t is not None else f"> {timeout_s:.0f} s (killed)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--copies", type=int, default=2, help="copies run at once (default 2)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="set in every copy's environment (repeatable); NAME= removes it")
    parser.add_argument("--timeout", type=float, default=900.0, help="kill copies still running after this (s)")
    parser.add_argument("--skip-alone", type=float, metavar="SECONDS",
                        help="do not run the copy alone; take this as its time")
    parser.add_argument("--md5", metavar="PATTERN", help="an output to fingerprint after each run, with {i}")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or args.copies < 1:
        parser.error("give a command after -- and at least one copy")
    env = dict(os.environ)
    for item in args.env:
        name, _, value = item.partition("=")
        if value:
            env[name] = value
        else:
            env.pop(name, None)

    print(f"command: {shlex.join(command)}")
    print(f"environment: {' '.join(args.env) or '(as inherited)'}; {os.cpu_count()} CPUs")
    if args.skip_alone is None:
        print(f"alone ({_load()})", flush=True)
        alone = run_copies(command, [0], env, args.timeout)[0]
        md5 = f"  md5 {_md5(args.md5.replace('{i}', '0'))}" if args.md5 else ""
        print(f"  copy 0: {_seconds(alone, args.timeout)}{md5}", flush=True)
    else:
        alone = args.skip_alone
    indices = list(range(1, args.copies + 1))
    print(f"{args.copies} at once ({_load()})", flush=True)
    times = run_copies(command, indices, env, args.timeout)
    for i, t in zip(indices, times):
        ratio = f"  {t / alone:5.2f}x alone" if t is not None and alone else ""
        md5 = f"  md5 {_md5(args.md5.replace('{i}', str(i)))}" if args.md5 and t is not None else ""
        print(f"  copy {i}: {_seconds(t, args.timeout)}{ratio}{md5}")
    done = [t for t in times if t is not None]
    if alone and len(done) == len(times):
        print(f"all {args.copies} done after {max(done):.1f} s: {max(done) / alone:.2f}x one copy alone "
              f"({args.copies:.0f}x would be a fair share of the machine for work that fills it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
