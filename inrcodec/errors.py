"""One exception family for everything a bad file, a bad input or a failed run can cause.

The CLI maps each class to its exit code (``exit_code``); any other exception escaping a
reader is a bug (the fuzzers and property tests look for exactly that).
"""

from __future__ import annotations


class InrError(Exception):
    """Base of every error inrcodec raises on purpose."""

    exit_code = 1


class InrFormatError(InrError, ValueError):
    """The file is not a valid .inr stream (bad magic, bad field, bad structure)."""

    exit_code = 3


class InrTruncatedError(InrFormatError):
    """The file ends before a structure it promises."""

    exit_code = 4


class InrChecksumError(InrFormatError):
    """A chunk's CRC-32 does not match its bytes."""

    exit_code = 5


class InrUnsupportedError(InrError):
    """Valid but not decodable by this reader (newer version, unknown critical chunk, unknown id)."""

    exit_code = 6


class InrInputError(InrError, ValueError):
    """The source video or an option is unusable (missing file, no video stream, bad --gop ...)."""

    exit_code = 7


class InrIOError(InrError, OSError):
    """The output cannot be written (unwritable directory, full disk)."""

    exit_code = 8


class InrNotice(UserWarning):
    """Something the user should know that is not an error: a format conversion, metadata that is
    not carried. Raised with ``warnings.warn``; the CLI prints each once as ``inrcodec: note: ...``
    (silenced by ``--quiet``), Python callers filter it as any warning."""


class InrDetail(InrNotice):
    """A notice given only when asked for (``-v``/``--verbose``; ``inrcodec.io.video.describing_sources``):
    what was read from a source."""
