"""Encoding in a time budget (``--time``): every fit's iteration count follows the clock.

The plan's iteration counts (train/plan.py) are the first guess, from the speed model
(train/speed.py) and the budget. Each GOM gets an end time: the budget shared out in proportion to
its planned seconds, GOMs that run side by side (``--workers``) sharing the same stretch of it.
Inside a GOM, each model gets what is left of the GOM's time in proportion to its planned seconds
(so an I-model keeps its larger share, and a model that ran over takes from the later ones), and
while it trains, its count is revised from its own measured seconds per iteration (fit.py's
``retime``). The bytes then depend on the machine's speed, as the time asked for does.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

from ..errors import InrInputError
from .fit import RETIME_FROM

# seconds kept back from the budget after the last fit: closing the file, the summary, the process's exit
END_RESERVE_S = 1.0
# seconds after each fit (coding, the closed-loop decode and render, quality statistics), per frame-pixel
AFTER_FIT_S_PER_FRAME_PIXEL = 2e-7
AFTER_FIT_MIN_S = 0.1

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|m|min|h)?\s*$", re.IGNORECASE)
_UNIT = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str, flag: str = "--time") -> float:
    """``90``, ``90s``, ``5m``, ``1.5h`` as seconds; InrInputError naming ``flag`` otherwise.

    >>> parse_duration("90"), parse_duration("5m"), parse_duration("1.5h")
    (90.0, 300.0, 5400.0)
    """
    m = _DURATION.match(str(text))
    if not m:
        raise InrInputError(f"{flag}: expected a duration such as 90, 90s, 5m or 1.5h (got {text!r})")
    seconds = float(m.group(1)) * _UNIT[m.group(2).lower() if m.group(2) else None]
    if not 0 < seconds < 1e7:
        raise InrInputError(f"{flag} must be more than 0 and less than 10^7 seconds (got {text!r})")
    return seconds


def process_start() -> float | None:
    """When this process started (``time.time()`` seconds; Linux's /proc), None where unknown: the
    command line counts --time from there, so that starting Python and loading torch count too."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            # the fields after the command name (in parentheses, which may hold spaces): starttime is the 22nd
            start_ticks = int(fh.read().rsplit(b")", 1)[1].split()[19])
        with open("/proc/uptime", "rb") as fh:
            uptime = float(fh.read().split()[0])
        return time.time() - max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def after_fit_seconds(frames: int, width: int, height: int) -> float:
    """Seconds one model costs after its fit (coding, decoding it back, statistics)."""
    return max(AFTER_FIT_MIN_S, AFTER_FIT_S_PER_FRAME_PIXEL * frames * width * height)


def gom_ends(planned: list[float], start: float, budget: float, workers: int) -> list[float]:
    """When each GOM must end (``time.time()`` seconds): GOMs of ``planned`` seconds each, taken in
    order by ``workers`` slots as they free up (the runners' order), the whole stretched onto
    ``budget`` seconds from ``start``.

    >>> gom_ends([2.0, 1.0, 1.0], 100.0, 8.0, 1)
    [104.0, 106.0, 108.0]
    >>> gom_ends([2.0, 2.0, 1.0], 0.0, 6.0, 2)
    [4.0, 4.0, 6.0]
    """
    slots = [0.0] * max(1, workers)
    finish = []
    for seconds in planned:
        k = min(range(len(slots)), key=lambda i: slots[i])
        slots[k] += seconds
        finish.append(slots[k])
    span = max(finish) if finish else 1.0
    return [start + budget * f / span for f in finish]


@dataclass(frozen=True)
class GomClock:
    """One GOM's share of a ``--time`` budget: its end, and the planned seconds of each of its models
    in the order they are fitted (GOP by GOP, layer by layer) with what each costs after its fit."""

    end: float  # time.time() seconds
    planned: tuple[float, ...]
    after: tuple[float, ...]

    def allotment(self, m: int, now: float | None = None) -> float:
        """Seconds of fitting for model ``m`` (the GOM's m-th), starting now: what is left of the
        GOM's time, less every remaining model's after-fit cost, shared by planned seconds."""
        now = time.time() if now is None else now
        left = self.end - now - sum(self.after[m:])
        share = self.planned[m] / max(1e-9, sum(self.planned[m:]))
        return max(0.0, left * share)

    def retimer(self, m: int):
        """fit.py's ``retime`` for model ``m``: from the seconds its iterations took, the count that
        ends its fit at its allotment (allotted when this is called, at the fit's start)."""
        t0 = time.perf_counter()
        allotted = self.allotment(m)

        def retime(n_timed: int, seconds: float) -> int:
            per_iter = seconds / max(1, n_timed)
            done = RETIME_FROM + n_timed
            left = allotted - (time.perf_counter() - t0)
            return done + max(0, int(left / max(per_iter, 1e-6)))

        return retime


def check_budget(budget: float, min_iters: int, per_iter: list[float], after: float, flag: str = "--time") -> None:
    """InrInputError, before any training, for a budget below what ``min_iters`` iterations of every
    model (modelled seconds ``per_iter`` each) and their after-fit costs need."""
    least = sum(min_iters * s for s in per_iter) + after + END_RESERVE_S
    if budget < least:
        raise InrInputError(f"{flag} {budget:g}s is too short for this encode: {len(per_iter)} models need at "
                            f"least {least:.0f} s ({min_iters} iterations each)")
