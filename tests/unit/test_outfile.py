"""inrcodec.outfile: how an output is opened decides whether writing it can destroy anything."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading

import pytest

from inrcodec.errors import InrInputError, InrIOError
from inrcodec.outfile import NAME_MAX_BYTES, beside, check_output, open_output

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
LONG_NAME = "n" * 250 + ".y4m"  # 254 bytes: fits a file name, not '.NAME.XXXXXXXX.tmp'


def write_all(path, data: bytes, **kw) -> None:
    out = open_output(path, **kw)
    out.write(data)
    out.close()


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class TestNewFile:
    def test_appears_only_on_close_with_the_umask_mode(self, tmp_path):
        path = tmp_path / "out.bin"
        out = open_output(path)
        out.write(b"abc")
        assert not path.exists() and len(os.listdir(tmp_path)) == 1
        out.close()
        assert path.read_bytes() == b"abc" and os.listdir(tmp_path) == ["out.bin"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask()

    def test_abort_leaves_nothing(self, tmp_path):
        out = open_output(tmp_path / "out.bin")
        out.write(b"abc")
        out.abort()
        assert os.listdir(tmp_path) == []

    def test_name_of_254_bytes_is_written(self, tmp_path):
        write_all(tmp_path / LONG_NAME, b"abc")
        assert os.listdir(tmp_path) == [LONG_NAME]

    def test_missing_folder_is_io_error(self, tmp_path):
        with pytest.raises(InrIOError, match="cannot write"):
            open_output(tmp_path / "no" / "out.bin")

    def test_folder_is_refused(self, tmp_path):
        with pytest.raises(InrIOError, match="directory"):
            open_output(tmp_path)


class TestExistingFile:
    def test_refused_without_overwrite_and_left_alone(self, tmp_path):
        path = tmp_path / "old.bin"
        path.write_bytes(b"keep")
        with pytest.raises(InrIOError, match="exists"):
            open_output(path)
        assert path.read_bytes() == b"keep" and os.listdir(tmp_path) == ["old.bin"]

    def test_replaced_with_overwrite_keeping_its_mode(self, tmp_path):
        path = tmp_path / "old.bin"
        path.write_bytes(b"old")
        os.chmod(path, 0o640)
        write_all(path, b"new", overwrite=True)
        assert path.read_bytes() == b"new"
        assert stat.S_IMODE(path.stat().st_mode) == 0o640

    @pytest.mark.skipif(not IS_ROOT, reason="only root may give a file to another owner")
    def test_replaced_file_keeps_its_owner(self, tmp_path):
        path = tmp_path / "old.bin"
        path.write_bytes(b"old")
        os.chown(path, 65534, 65534)
        write_all(path, b"new", overwrite=True)
        assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)

    @pytest.mark.parametrize("mode", [0o444, 0o400, 0o000])
    def test_read_only_is_refused_even_with_overwrite(self, tmp_path, mode):
        path = tmp_path / "ro.bin"
        path.write_bytes(b"keep")
        os.chmod(path, mode)
        with pytest.raises(InrIOError, match="read-only"):
            open_output(path, overwrite=True)
        assert stat.S_IMODE(path.stat().st_mode) == mode
        os.chmod(path, 0o644)
        assert path.read_bytes() == b"keep" and os.listdir(tmp_path) == ["ro.bin"]

    def test_created_meanwhile_is_not_replaced(self, tmp_path):
        path = tmp_path / "out.bin"
        out = open_output(path)
        out.write(b"mine")
        path.write_bytes(b"theirs")
        with pytest.raises(InrIOError, match="appeared"):
            out.close()
        assert path.read_bytes() == b"theirs" and os.listdir(tmp_path) == ["out.bin"]


class TestSymlink:
    def test_target_is_replaced_and_the_link_kept(self, tmp_path):
        (tmp_path / "sub").mkdir()
        target = tmp_path / "sub" / "target.bin"
        target.write_bytes(b"old")
        link = tmp_path / "link.bin"
        link.symlink_to(target)
        write_all(link, b"new", overwrite=True)
        assert link.is_symlink() and os.readlink(link) == str(target)
        assert target.read_bytes() == b"new"
        # the temporary file lived beside the target, not beside the link
        assert sorted(os.listdir(tmp_path)) == ["link.bin", "sub"] and os.listdir(tmp_path / "sub") == ["target.bin"]

    def test_dangling_link_creates_its_target(self, tmp_path):
        link = tmp_path / "link.bin"
        link.symlink_to(tmp_path / "target.bin")
        write_all(link, b"new")
        assert link.is_symlink() and (tmp_path / "target.bin").read_bytes() == b"new"

    def test_link_to_an_existing_file_needs_overwrite(self, tmp_path):
        (tmp_path / "target.bin").write_bytes(b"keep")
        (tmp_path / "link.bin").symlink_to(tmp_path / "target.bin")
        with pytest.raises(InrIOError, match="exists"):
            open_output(tmp_path / "link.bin")
        assert (tmp_path / "target.bin").read_bytes() == b"keep"


class TestInputs:
    @pytest.mark.parametrize("how", ["same", "symlink", "hardlink"])
    def test_output_that_is_an_input_is_refused(self, tmp_path, how):
        src = tmp_path / "in.inr"
        src.write_bytes(b"input")
        out = {"same": src, "symlink": tmp_path / "sym.inr", "hardlink": tmp_path / "hard.inr"}[how]
        if how == "symlink":
            out.symlink_to(src)
        elif how == "hardlink":
            os.link(src, out)
        with pytest.raises(InrInputError, match="is the input") as e:
            open_output(out, overwrite=True, inputs=[str(src)])
        assert str(out) in str(e.value) and str(src) in str(e.value) and "\n" not in str(e.value)
        assert src.read_bytes() == b"input"

    def test_an_input_that_is_not_a_file_is_ignored(self, tmp_path):
        write_all(tmp_path / "out.bin", b"x", inputs=["rtsp://camera/stream", tmp_path / "missing"])
        assert (tmp_path / "out.bin").read_bytes() == b"x"


class TestStreams:
    def test_fifo_is_written_through(self, tmp_path):
        path = tmp_path / "pipe"
        os.mkfifo(path)
        got = []
        reader = threading.Thread(target=lambda: got.append(open(path, "rb").read()))
        reader.start()
        data = bytes(range(256)) * 1000  # more than a pipe's buffer
        write_all(path, data)
        reader.join(10)
        assert got == [data]
        assert stat.S_ISFIFO(os.lstat(path).st_mode) and os.listdir(tmp_path) == ["pipe"]

    def test_check_output_does_not_open_a_fifo(self, tmp_path):
        path = tmp_path / "pipe"
        os.mkfifo(path)
        assert check_output(path) is False  # no reader: opening it would block here

    def test_null_device_is_written_through(self):
        write_all(os.devnull, b"x" * 1000)
        assert stat.S_ISCHR(os.stat(os.devnull).st_mode)

    @pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
    def test_character_device_is_not_replaced(self, tmp_path):
        node = tmp_path / "null"
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        write_all(node, b"x" * 1000)
        assert stat.S_ISCHR(os.lstat(node).st_mode) and os.listdir(tmp_path) == ["null"]

    @pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
    def test_block_device_is_refused(self, tmp_path):
        node = tmp_path / "disk"
        os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 255))
        with pytest.raises(InrIOError, match="block device"):
            open_output(node, overwrite=True)
        assert stat.S_ISBLK(os.lstat(node).st_mode)

    def test_unix_socket_is_connected_and_written(self, tmp_path):
        path = str(tmp_path / "sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        got = []

        def serve():
            conn, _ = server.accept()
            with conn:
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
                got.append(b"".join(chunks))
        t = threading.Thread(target=serve)
        t.start()
        data = b"frames" * 50000
        write_all(path, data)
        t.join(10)
        server.close()
        assert got == [data] and stat.S_ISSOCK(os.lstat(path).st_mode)


class TestStdout:
    def test_closed_stdout_is_io_error(self, monkeypatch):
        monkeypatch.setattr(sys, "stdout", None)
        with pytest.raises(InrIOError, match="standard output is closed"):
            open_output("-")

    def test_dash_is_refused_where_stdout_is_not_allowed(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(InrInputError, match="standard output"):
            open_output("-", allow_stdout=False)
        assert os.listdir(tmp_path) == []


class TestPartial:
    def test_fixed_name_is_kept_and_resumed(self, tmp_path):
        path = tmp_path / "out.inr"
        out = open_output(path, partial_suffix=".part")
        out.write(b"0123456789")
        out.sync()
        out.abort(keep_partial=True)
        assert os.listdir(tmp_path) == [".out.inr.part"]
        out = open_output(path, partial_suffix=".part", resume_offset=4)
        out.write(b"ab")
        out.close()
        assert path.read_bytes() == b"0123ab" and os.listdir(tmp_path) == ["out.inr"]

    def test_beside_fits_a_long_name_and_is_deterministic(self, tmp_path):
        path = tmp_path / LONG_NAME
        part, journal = beside(path, ".part"), beside(path, ".journal")
        for name in (part, journal):
            assert os.path.dirname(name) == str(tmp_path)
            assert len(os.fsencode(os.path.basename(name))) <= NAME_MAX_BYTES
        assert part == beside(path, ".part") and part != beside(tmp_path / ("m" * 250 + ".y4m"), ".part")
        assert beside(tmp_path / "short.inr", ".part") == str(tmp_path / ".short.inr.part")


def test_outfile_needs_neither_torch_nor_numpy():
    code = ("import sys; sys.modules['torch'] = None; sys.modules['numpy'] = None; sys.modules['av'] = None\n"
            "import inrcodec.outfile\nprint('ok')")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": REPO})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
