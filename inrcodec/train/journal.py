"""The encoder's journal of finished GOMs, for ``inrcodec enc --resume``.

A resumable encode writes its bytes to ``.NAME.part`` beside the output (container/writer.py) and,
after each finished GOM, fsyncs that file and appends one line to ``.NAME.journal``:

    {"journal": 1, "fingerprint": "<sha256>"}                  first line: what is being encoded
    {"gom": k, "offset": N, "state": {...}}                    one per finished GOM, in order

``offset`` is the size of the partial file once GOM k is complete (everything before it is on
disk before the line is written), ``state`` whatever the encoder needs to continue as if it had
never stopped (its QualityStats as JSON: running quality sums, per-GOP reports). A line cut
short by a crash is ignored. The fingerprint hashes everything the output bytes depend on
(source identity, the encode plan, options, threads, torch version), so a journal never resumes
a different encode.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from ..errors import InrInputError, InrIOError
from ..outfile import beside

JOURNAL_VERSION = 1


def journal_path(output: str | os.PathLike[str]) -> str:
    """Where the journal of an encode to ``output`` lives: beside the partial file, under a name
    that fits the file system (a hash of a name too long for ``.NAME.journal``)."""
    return beside(output, ".journal")


def fingerprint(parts: dict) -> str:
    """SHA-256 of a JSON-serialisable description of the encode (keys sorted)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class GomEntry:
    """One finished GOM: its index, the partial file's size after it, the encoder's state."""

    gom: int
    offset: int
    state: dict


class Journal:
    """Append-only record of finished GOMs beside the output."""

    def __init__(self, output: str | os.PathLike[str], fp: str) -> None:
        self.path = journal_path(output)
        self.fingerprint = fp
        self._fh = None

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def load(self) -> list[GomEntry]:
        """The finished GOMs, checked against this encode's fingerprint; [] when there is no journal."""
        try:
            with open(self.path, "rb") as f:
                lines = f.read().split(b"\n")
        except FileNotFoundError:
            return []
        except OSError as err:
            raise InrIOError(f"cannot read the journal {self.path}: {err.strerror or err}") from err
        try:
            head = json.loads(lines[0])
        except ValueError:
            raise InrInputError(f"cannot resume: {self.path} is not an inrcodec journal") from None
        if not isinstance(head, dict) or head.get("journal") != JOURNAL_VERSION:
            raise InrInputError(f"cannot resume: {self.path} is not a version {JOURNAL_VERSION} journal")
        if head.get("fingerprint") != self.fingerprint:
            raise InrInputError("cannot resume: the unfinished encode used another source or other options "
                                "(run without --resume to start again)")
        entries: list[GomEntry] = []
        for line in lines[1:]:
            try:
                d = json.loads(line)
                entry = GomEntry(int(d["gom"]), int(d["offset"]), dict(d["state"]))
            except (ValueError, KeyError, TypeError):
                break  # a line cut short by the interruption: everything after it is lost work
            if entry.gom != len(entries):
                break
            entries.append(entry)
        return entries

    def start(self, entries: list[GomEntry] | None = None) -> None:
        """(Re)write the journal: its header and the ``entries`` being kept."""
        try:
            self._fh = open(self.path, "w", encoding="utf-8")
            self._fh.write(json.dumps({"journal": JOURNAL_VERSION, "fingerprint": self.fingerprint}) + "\n")
            for e in entries or []:
                self._fh.write(json.dumps({"gom": e.gom, "offset": e.offset, "state": e.state}) + "\n")
            self._sync()
        except OSError as err:
            raise InrIOError(f"cannot write the journal {self.path}: {err.strerror or err}") from err

    def append(self, entry: GomEntry) -> None:
        """Record a finished GOM (its bytes must already be on disk)."""
        try:
            self._fh.write(json.dumps({"gom": entry.gom, "offset": entry.offset, "state": entry.state}) + "\n")
            self._sync()
        except OSError as err:
            raise InrIOError(f"cannot write the journal {self.path}: {err.strerror or err}") from err

    def _sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self, remove: bool) -> None:
        """Close; ``remove`` deletes the journal (the encode finished or left nothing to resume)."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None
        if remove:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass
