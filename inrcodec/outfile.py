"""Opening an output so that writing it never destroys anything: the one way both writers open theirs.

What the output path names decides how it is written:

- a regular file, or nothing yet: a temporary file beside it (beside the link's target for a
  symlink, so the link stays) is written, fsynced and renamed over it, so no reader ever sees a
  half file under the name; an existing file is replaced only when asked (``overwrite``), keeps its
  permission bits (and owner and group where the process may set them), and is never replaced when
  it is read-only;
- a character device, FIFO or Unix socket: written straight through, never replaced (decoding to
  /dev/null or into a pipe needs no permission on /dev and no ``overwrite``);
- ``-``: standard output, written straight through;
- a block device or a folder: refused (writing a video over a disk is never what was meant).

Whatever it is, an output that is one of the inputs is refused before anything is written.
Standard library only: the container layer uses it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import socket
import stat
import sys
from typing import BinaryIO, Iterable

from .errors import InrInputError, InrIOError

NAME_MAX_BYTES = 255  # a file name's limit in bytes where the file system does not say (ext4, XFS, APFS)
STDOUT_NAME = "<stdout>"


class OutputFile:
    """Where a writer's bytes go: ``write``, ``sync`` (a resumable encode's checkpoint), then
    ``close`` (commit) or ``abort``."""

    name: str  # the output as the user named it, for messages
    is_replacing = False  # written to a temporary file and renamed over the target on close
    is_resumable = False  # the temporary file has a fixed name and may be kept for a later resume

    def __init__(self, file: BinaryIO, name: str, *, owns_file: bool) -> None:
        self._file = file
        self.name = name
        self._owns_file = owns_file
        self._closed = False

    def write(self, data: bytes) -> None:
        """Write ``data``; a reader that went away raises BrokenPipeError, any other failure InrIOError."""
        try:
            self._file.write(data)
        except BrokenPipeError:
            raise
        except OSError as err:
            raise io_error(self.name, err) from None

    def sync(self) -> None:
        """Push what was written out of this process (and onto the disk for a file)."""
        try:
            self._file.flush()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise io_error(self.name, err) from None

    def close(self) -> None:
        """Finish: flush, and close what this object opened."""
        if self._closed:
            return
        self._closed = True
        try:
            self._file.flush()
            if self._owns_file:
                self._file.close()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise io_error(self.name, err) from None

    def abort(self, keep_partial: bool = False) -> None:
        """Stop writing; what already went into a device or pipe cannot be taken back."""
        if self._closed:
            return
        self._closed = True
        if self._owns_file:
            try:
                self._file.close()
            except OSError:
                pass  # the reader is gone or the device failed: nothing more to say to it


class _ReplacingFile(OutputFile):
    """A temporary file beside the target, renamed over it by ``close``."""

    is_replacing = True

    def __init__(self, file: BinaryIO, name: str, target: str, tmp: str, old: os.stat_result | None,
                 *, is_resumable: bool, overwrite: bool) -> None:
        super().__init__(file, name, owns_file=True)
        self.target = target
        self.tmp = tmp
        self.is_resumable = is_resumable
        self._old = old
        self._overwrite = overwrite

    def sync(self) -> None:
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as err:
            raise io_error(self.name, err) from None

    def close(self) -> None:
        """fsync the temporary file, give it the old file's owner and mode, rename it over the target."""
        if self._closed:
            return
        if self._old is None and not self._overwrite and os.path.lexists(self.target):
            # something else created the target while this was being written: leave it alone
            self.abort()
            raise InrIOError(f"cannot write {self.name}: it appeared while being written (-y replaces it)")
        try:
            self._file.flush()
            fd = self._file.fileno()
            if self._old is not None:
                _copy_owner_and_mode(fd, self.tmp, self._old)
            os.fsync(fd)
            self._file.close()
            os.replace(self.tmp, self.target)
        except OSError as err:
            self.abort()
            raise io_error(self.name, err) from None
        self._closed = True
        _sync_folder(os.path.dirname(self.target))

    def abort(self, keep_partial: bool = False) -> None:
        """Stop; the target is left as it was and the temporary file removed (kept with
        ``keep_partial`` when it is resumable)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._file.close()
        except OSError:
            pass  # the file is being discarded; a failed flush of it changes nothing
        if keep_partial and self.is_resumable:
            return
        try:
            os.remove(self.tmp)
        except FileNotFoundError:
            pass


class _SocketFile(OutputFile):
    """A connected Unix socket: its file object and the socket both close."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        super().__init__(sock.makefile("wb"), name, owns_file=True)
        self._sock = sock

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._sock.close()

    def abort(self, keep_partial: bool = False) -> None:
        super().abort(keep_partial)
        self._sock.close()


def io_error(name: str, err: OSError) -> InrIOError:
    """The one-line InrIOError for a failed write of ``name``."""
    return InrIOError(f"cannot write {name}: {err.strerror or err}")


def wrap_stream(file: BinaryIO, name: str) -> OutputFile:
    """An open binary file object as an OutputFile that flushes it but never closes it."""
    return OutputFile(file, name, owns_file=False)


def beside(path: str | os.PathLike[str], suffix: str) -> str:
    """The hidden file ``.NAME<suffix>`` next to the file ``path`` names (its target, for a symlink).

    A name that would pass the file system's length limit becomes ``.<hash of NAME><suffix>``;
    either way the same path always gives the same name (``enc --resume`` finds its files by it).
    """
    folder, name = os.path.split(os.path.realpath(os.fspath(path)))
    return os.path.join(folder, _fitted(folder, name, suffix))


def _fitted(folder: str, name: str, suffix: str) -> str:
    candidate = f".{name}{suffix}"
    if len(os.fsencode(candidate)) <= _name_max(folder):
        return candidate
    return f".{hashlib.sha256(os.fsencode(name)).hexdigest()[:32]}{suffix}"


def _name_max(folder: str) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return NAME_MAX_BYTES


def check_output(path: str | os.PathLike[str], *, overwrite: bool = False, inputs: Iterable = (),
                 allow_stdout: bool = True) -> bool:
    """Apply every refusal of ``open_output`` without opening anything (a FIFO's reader would see
    an empty stream); True when ``path`` would be written as a file (temporary file and rename)."""
    return _plan(path, overwrite, inputs, allow_stdout)[0] == "file"


def open_output(path: str | os.PathLike[str], *, overwrite: bool = False, inputs: Iterable = (),
                allow_stdout: bool = True, partial_suffix: str | None = None,
                resume_offset: int | None = None) -> OutputFile:
    """Open ``path`` for writing by the rules of this module; ``inputs`` are the paths being read.

    ``partial_suffix``: a file target is written to the fixed name ``beside(path, partial_suffix)``
    instead of a random one, so that an interrupted write can be continued; ``resume_offset``
    continues that file after its first ``resume_offset`` bytes. Refusals raise InrInputError
    (the output is an input; ``-`` where standard output is not allowed) or InrIOError.
    """
    kind, st = _plan(path, overwrite, inputs, allow_stdout)
    name = os.fspath(path)
    if kind == "stdout":
        return wrap_stream(sys.stdout.buffer, STDOUT_NAME)
    if kind == "file":
        return _open_replacing(name, st, overwrite, partial_suffix, resume_offset)
    if kind == "socket":
        return _open_socket(name)
    return _open_stream(name, st)


def _plan(path, overwrite: bool, inputs: Iterable, allow_stdout: bool) -> tuple[str, os.stat_result | None]:
    """How ``path`` is written: "stdout", "file", "socket" or "stream" (device, FIFO), and its stat."""
    name = os.fspath(path)
    if name == "-":
        if not allow_stdout:
            raise InrInputError("this output cannot go to standard output (-o -); name a file "
                                "(./- for a file called '-')")
        _check_stdout(inputs)
        return "stdout", None
    try:
        st = os.stat(name)
    except FileNotFoundError:
        if name.endswith(("/", os.sep)):  # realpath would drop the slash and make a file of the folder's name
            raise InrIOError(f"cannot write {name}: no such folder (name a file, not a folder)") from None
        return "file", None  # nothing there, or a dangling symlink: its target is created
    except OSError as err:
        raise io_error(name, err) from None
    _refuse_input(name, st, inputs)
    if allow_stdout and _is_stdout(st):
        return "stdout", st  # /dev/stdout and the like: write where standard output goes
    if stat.S_ISREG(st.st_mode):
        # root may write anything: the mode bits say what the owner meant
        if st.st_mode & 0o222 == 0 or not os.access(name, os.W_OK):
            raise InrIOError(f"cannot write {name}: the file is read-only (not replaced, even with -y)")
        if not overwrite:
            raise InrIOError(f"cannot write {name}: the file exists (-y / --overwrite replaces it)")
        return "file", st
    if stat.S_ISDIR(st.st_mode):
        raise InrIOError(f"cannot write {name}: is a directory")
    if stat.S_ISBLK(st.st_mode):
        raise InrIOError(f"cannot write {name}: is a block device (refusing to write a video over a disk)")
    if stat.S_ISSOCK(st.st_mode):
        return "socket", st
    return "stream", st


def _check_stdout(inputs: Iterable) -> None:
    out = sys.stdout
    if out is None or getattr(out, "buffer", None) is None:
        raise InrIOError(f"cannot write {STDOUT_NAME}: standard output is closed")
    try:
        st = os.fstat(out.fileno())
    except (OSError, ValueError, AttributeError):
        return  # not a real descriptor (a test harness): nothing on disk to compare with
    _refuse_input(STDOUT_NAME, st, inputs)


def _is_stdout(st: os.stat_result) -> bool:
    try:
        own = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (own.st_dev, own.st_ino) == (st.st_dev, st.st_ino)


def _refuse_input(name: str, st: os.stat_result, inputs: Iterable) -> None:
    for source in inputs:
        try:
            src = os.stat(source)
        except (OSError, TypeError, ValueError):
            continue  # not a local file (a URL, a file object): it cannot be the output
        if (src.st_dev, src.st_ino) == (st.st_dev, st.st_ino):
            raise InrInputError(f"the output {name} is the input {os.fspath(source)}: refusing to overwrite it")


def _open_replacing(name: str, st: os.stat_result | None, overwrite: bool, partial_suffix: str | None,
                    resume_offset: int | None) -> OutputFile:
    target = os.path.realpath(name)
    folder, base = os.path.split(target)
    try:
        if partial_suffix is not None:
            tmp = os.path.join(folder, _fitted(folder, base, partial_suffix))
            # a new file gets 0o666 less the umask, as any file the user creates
            file = open(tmp, "wb") if resume_offset is None else _reopen(tmp, resume_offset)
        else:
            tmp, file = _create_temp(folder, base)
    except OSError as err:
        raise io_error(name, err) from None
    return _ReplacingFile(file, name, target, tmp, st, is_resumable=partial_suffix is not None,
                          overwrite=overwrite)


def _reopen(tmp: str, offset: int) -> BinaryIO:
    file = open(tmp, "r+b")
    try:
        file.truncate(offset)
        file.seek(offset)
    except OSError:
        file.close()
        raise
    return file


def _create_temp(folder: str, base: str) -> tuple[str, BinaryIO]:
    for _ in range(100):
        tmp = os.path.join(folder, _fitted(folder, base, f".{secrets.token_hex(4)}.tmp"))
        try:
            # 0o666 lets the umask decide, as for any file the user creates; O_EXCL: never someone else's
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:
            continue
        return tmp, os.fdopen(fd, "wb")
    raise OSError(errno.EEXIST, "no free temporary name")


def _copy_owner_and_mode(fd: int, tmp: str, old: os.stat_result) -> None:
    if hasattr(os, "fchown"):
        new = os.fstat(fd)
        if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
            try:
                os.fchown(fd, old.st_uid, old.st_gid)  # before the mode: a chown may clear set-id bits
            except PermissionError:
                pass  # only root may give a file away; the group too, unless the user is in it
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))
    else:
        os.chmod(tmp, stat.S_IMODE(old.st_mode))


def _sync_folder(folder: str) -> None:
    # The rename is durable only once the directory entry is on disk (POSIX only).
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the file itself is synced
    finally:
        os.close(fd)


def _open_stream(name: str, st: os.stat_result) -> OutputFile:
    # No O_CREAT, no O_TRUNC: a device or FIFO is written, never made or emptied. A FIFO blocks here
    # until its reader opens it, as it would for any writer.
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags)
    except OSError as err:
        raise io_error(name, err) from None
    now = os.fstat(fd)
    if stat.S_IFMT(now.st_mode) != stat.S_IFMT(st.st_mode):
        os.close(fd)  # replaced since it was looked at: writing through a new regular file would clobber it
        raise InrIOError(f"cannot write {name}: it changed while being opened")
    return OutputFile(os.fdopen(fd, "wb"), name, owns_file=True)


def _open_socket(name: str) -> OutputFile:
    if not hasattr(socket, "AF_UNIX"):
        raise InrIOError(f"cannot write {name}: is a socket")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(name)
    except OSError as err:
        sock.close()
        raise io_error(name, err) from None
    return _SocketFile(sock, name)
