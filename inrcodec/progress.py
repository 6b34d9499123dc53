"""A small progress bar on stderr (no dependency): redrawn in place on a terminal, sparse lines otherwise."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """Call ``update(label, done, total, values)``; ``close()`` ends the line."""

    def __init__(self, stream=None, min_interval_s: float = 0.2, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        # off a terminal (CI logs, pipes) print a line every few seconds instead of redrawing
        self.min_interval_s = min_interval_s if self.is_tty else 10.0
        self._last = 0.0
        self._label = None
        self._t0 = time.monotonic()
        self._done0 = 0

    def update(self, label: str, done: int, total: int, values: dict | None = None) -> None:
        """Show ``done``/``total`` for ``label`` with optional values (numbers: loss, PSNR, bits;
        strings: a status shown as it is). The ETA comes from the rate since the label began."""
        if not self.enabled:
            return
        now = time.monotonic()
        if label != self._label:
            if self._label is not None and self.is_tty:
                self.stream.write("\n")
            self._label, self._t0, self._last, self._done0 = label, now, 0.0, done
        if done < total and now - self._last < self.min_interval_s:
            return
        self._last = now
        frac = done / total if total else 1.0
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        rate = (done - self._done0) / max(now - self._t0, 1e-9)
        eta = (total - done) / rate if rate > 0 else 0.0
        extra = " ".join(f"{k} {v:.2f}" if isinstance(v, (int, float)) else str(v) for k, v in (values or {}).items())
        line = f"{label} [{bar}] {done}/{total} {extra} eta {eta:.0f}s"
        self.stream.write(("\r" + line + "\x1b[K") if self.is_tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Finish the current line."""
        if self.enabled and self._label is not None and self.is_tty:
            self.stream.write("\n")
            self.stream.flush()
        self._label = None
