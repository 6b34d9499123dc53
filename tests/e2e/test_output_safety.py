"""Writing output never destroys anything (issue 18 §1): devices, pipes, links, existing, read-only
and input files as outputs; long names; SIGTERM; a closed, full or vanished stdout."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from inrcodec.cli import main
from inrcodec.train.journal import journal_path
from inrcodec.container.writer import partial_path
from inrcodec.errors import InrInputError, InrIOError

from .conftest import REPO, SAMPLE_48, fast_encode

SMALL = os.path.join(REPO, "tests", "conformance", "MULTIGOM_A", "stream.inr")  # 32x24, 12 frames
LAYERED = os.path.join(REPO, "tests", "conformance", "LAYERS_A", "stream.inr")  # 3 layers
FAST_ARGS = ["--quality", "1", "--channels", "8,8,8", "--iters", "10", "--p-iters", "5", "--device", "cpu",
             "--threads", "1", "--quiet"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
LONG_NAME = "n" * 250 + ".y4m"  # 254 bytes


def run(*args):
    """Invoke the CLI in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def cli(*args) -> list[str]:
    """The command line of a real CLI process."""
    return [sys.executable, "-m", "inrcodec.cli", *map(str, args)]


def assert_one_line_error(result, code, *needles):
    """Exit ``code``; stderr is exactly one 'inrcodec: error:' line holding every needle."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrcodec: error: "), result.stderr
    for needle in needles:
        assert str(needle) in lines[0]


def assert_proc_one_line_error(proc, code, *needles):
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrcodec: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="module")
def decoded(tmp_path_factory) -> bytes:
    """SMALL decoded to a plain new file: the bytes every other output must receive."""
    out = tmp_path_factory.mktemp("ref") / "ref.y4m"
    assert run("dec", SMALL, "-o", out, "--quiet").exit_code == 0
    return out.read_bytes()


class TestDevicesAndPipes:
    def test_fifo_reader_gets_every_byte(self, tmp_path, decoded):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        got = []
        reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
        reader.start()
        result = run("dec", SMALL, "-o", fifo, "--quiet")
        reader.join(10)
        assert result.exit_code == 0, result.stderr
        assert got == [decoded]
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe"]

    @pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
    def test_character_device_stays_a_device(self, tmp_path):
        node = tmp_path / "null"
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
        result = run("dec", SMALL, "-o", node, "--quiet")
        assert result.exit_code == 0, result.stderr
        assert stat.S_ISCHR(os.lstat(node).st_mode) and os.listdir(tmp_path) == ["null"]

    def test_null_device_in_a_folder_that_takes_no_new_files(self, tmp_path):
        # an unprivileged user cannot create files in /dev: writing /dev/null must not need to
        if not IS_ROOT:
            result = run("dec", SMALL, "-o", os.devnull, "--quiet")
            assert result.exit_code == 0, result.stderr
            return
        folder = tmp_path / "dev"
        folder.mkdir()
        node = folder / "null"
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", folder]).returncode != 0:
            pytest.skip("needs chattr +i to make a folder root cannot add to")
        try:
            result = run("dec", SMALL, "-o", node, "--quiet")
        finally:
            subprocess.run(["chattr", "-i", folder], check=True)
        assert result.exit_code == 0, result.stderr
        assert stat.S_ISCHR(os.lstat(node).st_mode)


class TestFiles:
    def test_symlink_is_written_through(self, tmp_path, decoded):
        target = tmp_path / "target.y4m"
        target.write_bytes(b"")
        link = tmp_path / "link.y4m"
        link.symlink_to(target)
        result = run("dec", SMALL, "-o", link, "--quiet", "-y")
        assert result.exit_code == 0, result.stderr
        assert link.is_symlink() and target.read_bytes() == decoded
        assert sorted(os.listdir(tmp_path)) == ["link.y4m", "target.y4m"]

    def test_read_only_file_is_refused_even_with_y(self, tmp_path):
        path = tmp_path / "ro.y4m"
        path.write_bytes(b"keep")
        os.chmod(path, 0o444)
        result = run("dec", SMALL, "-o", path, "--quiet", "-y")
        assert_one_line_error(result, InrIOError.exit_code, "read-only")
        assert path.read_bytes() == b"keep" and stat.S_IMODE(path.stat().st_mode) == 0o444
        assert os.listdir(tmp_path) == ["ro.y4m"]

    @pytest.mark.parametrize("command", ["dec", "extract"])
    def test_existing_file_needs_y_and_keeps_its_mode(self, tmp_path, command):
        path = tmp_path / "old.out"
        path.write_bytes(b"keep")
        os.chmod(path, 0o640)
        args = ["dec", SMALL, "-o", path, "--quiet"] if command == "dec" else \
            ["extract", LAYERED, "-o", path, "--layers", "1"]
        assert_one_line_error(run(*args), InrIOError.exit_code, path, "-y")
        assert path.read_bytes() == b"keep"
        result = run(*args, "-y")
        assert result.exit_code == 0, result.stderr
        assert path.read_bytes() != b"keep" and stat.S_IMODE(path.stat().st_mode) == 0o640
        assert os.listdir(tmp_path) == ["old.out"]

    def test_existing_file_needs_y_for_enc(self, tmp_path):
        path = tmp_path / "old.inr"
        path.write_bytes(b"keep")
        args = ["enc", SAMPLE_48, "-o", path, "--frames", "1", "--gop", "1", *FAST_ARGS]
        assert_one_line_error(run(*args), InrIOError.exit_code, path)
        assert path.read_bytes() == b"keep"
        result = run(*args, "--overwrite")
        assert result.exit_code == 0, result.stderr
        assert path.read_bytes()[:4] != b"keep" and os.listdir(tmp_path) == ["old.inr"]

    @pytest.mark.parametrize("command", ["dec", "extract"])
    def test_name_of_254_bytes(self, tmp_path, command):
        path = tmp_path / LONG_NAME
        args = ["dec", SMALL, "-o", path, "--quiet"] if command == "dec" else \
            ["extract", LAYERED, "-o", path, "--layers", "2"]
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        assert os.listdir(tmp_path) == [LONG_NAME] and path.stat().st_size > 0


class TestInputAsOutput:
    @pytest.fixture(params=["same", "symlink", "hardlink"])
    def alias(self, request, tmp_path):
        """(a copy of an input in tmp_path, a factory naming it as ``how`` asks)."""
        def name(src):
            if request.param == "same":
                return src
            other = src.with_name("alias" + src.suffix)
            if request.param == "symlink":
                other.symlink_to(src)
            else:
                os.link(src, other)
            return other
        return name

    @pytest.mark.parametrize("command", ["dec", "extract"])
    def test_inr_input_is_refused(self, tmp_path, alias, command):
        src = tmp_path / "a.inr"
        shutil.copy(LAYERED, src)
        data = src.read_bytes()
        out = alias(src)
        extra = ["--quiet"] if command == "dec" else ["--layers", "1"]
        result = run(command, src, "-o", out, "-y", *extra)
        assert_one_line_error(result, InrInputError.exit_code, src, out)
        assert src.read_bytes() == data

    def test_enc_source_is_refused(self, tmp_path, alias):
        src = tmp_path / "s.y4m"
        shutil.copy(SAMPLE_48, src)
        data = src.read_bytes()
        out = alias(src)
        result = run("enc", src, "-o", out, "-y", "--frames", "1", "--gop", "1", *FAST_ARGS)
        assert_one_line_error(result, InrInputError.exit_code, src, out)
        assert src.read_bytes() == data
        assert not any(n.endswith((".part", ".journal", ".tmp")) for n in os.listdir(tmp_path))


class TestEncodeToStdout:
    @pytest.mark.parametrize("resume", [[], ["--resume"]])
    def test_dash_is_refused_and_creates_nothing(self, tmp_path, monkeypatch, resume):
        monkeypatch.chdir(tmp_path)
        result = run("enc", SAMPLE_48, "-o", "-", "--frames", "1", "--gop", "1", *FAST_ARGS, *resume)
        assert_one_line_error(result, InrInputError.exit_code, "standard output")
        assert os.listdir(tmp_path) == []

    def test_extract_dash_is_refused(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        assert_one_line_error(run("extract", LAYERED, "-o", "-", "--layers", "1"), InrInputError.exit_code)
        assert os.listdir(tmp_path) == []


def test_enc_long_name_keeps_resumable_files_that_fit(tmp_path):
    dst = tmp_path / ("e" * 250 + ".inr")
    opts = {"gop": 2, "gom": 1, "iters": 30}
    part, journal = partial_path(dst), journal_path(dst)
    assert all(len(os.path.basename(p)) <= 255 for p in (part, journal))

    def stop_after_one_gom(label, it, total, values):
        if os.path.exists(journal) and len(open(journal).read().splitlines()) >= 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        fast_encode(SAMPLE_48, dst, progress=stop_after_one_gom, **opts)
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in (part, journal))
    summary = fast_encode(SAMPLE_48, dst, resume=True, **opts)
    assert summary.resumed_goms >= 1 and os.listdir(tmp_path) == [dst.name]


# -- real processes: signals and standard output ------------------------------------------------

SLOW_DEC = ("import sys, time\n"
            "from inrcodec import progress\n"
            "def update(self, label, done, total, values=None):\n"
            "    time.sleep(1.0)\n"
            "progress.ProgressBar.update = update\n"
            "from inrcodec.cli import main\n"
            "sys.argv[0] = 'inrcodec'\n"
            "main()\n")


def wait_for(condition, proc, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the process ended first ({proc.returncode}): {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("timed out")
        time.sleep(0.02)


def test_sigterm_during_dec_removes_the_temp_file_and_exits_143(tmp_path):
    out = tmp_path / "out.y4m"
    # one second per decoded frame: the decode is still running when the signal comes
    proc = subprocess.Popen([sys.executable, "-c", SLOW_DEC, "dec", SMALL, "-o", str(out)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: any(n.endswith(".tmp") for n in os.listdir(tmp_path)), proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert err.decode().strip().splitlines() == ["inrcodec: error: terminated"]
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_sigterm_during_enc_keeps_the_finished_goms_and_says_so(tmp_path):
    dst = tmp_path / "out.inr"
    proc = subprocess.Popen(cli("enc", SAMPLE_48, "-o", dst, "--gop", "2", "--gom", "1", "--quality", "1",
                                "--channels", "8,8,8", "--iters", "150", "--p-iters", "10", "--threads", "1",
                                "--device", "cpu", "--quiet"), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = journal_path(dst)
    try:
        wait_for(lambda: os.path.exists(journal) and len(open(journal).read().splitlines()) >= 2, proc, 120)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    lines = err.decode().strip().splitlines()
    assert lines[0] == "inrcodec: error: terminated" and "--resume" in lines[1] and len(lines) == 2
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in (partial_path(dst), journal))


def test_dec_to_closed_stdout_is_one_line_exit_8():
    proc = subprocess.run(cli("dec", SMALL, "-o", "-"), cwd=REPO, stderr=subprocess.PIPE,
                          preexec_fn=lambda: os.close(1), timeout=120)
    assert_proc_one_line_error(proc, InrIOError.exit_code, "standard output is closed")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["info", "info --json", "extract"])
def test_printing_to_a_full_stdout_is_one_line_exit_8(tmp_path, command):
    args = ["extract", LAYERED, "-o", tmp_path / "x.inr", "--layers", "1"] if command == "extract" else \
        [*command.split(), SMALL]
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(cli(*args), cwd=REPO, stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert_proc_one_line_error(proc, InrIOError.exit_code, "No space left")


def test_dec_into_a_closed_pipe_stops_quietly():
    proc = subprocess.Popen(cli("dec", SMALL, "-o", "-"), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first frame: every write is EPIPE
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert proc.returncode == 141 and err == b""


def test_dec_piped_into_head_is_quiet():
    shell = f"{shlex.join(cli('dec', SMALL, '-o', '-'))} | head -c 100 | wc -c; echo \"${{PIPESTATUS[0]}}\""
    proc = subprocess.run(["bash", "-c", shell], cwd=REPO, capture_output=True, text=True, timeout=120)
    count, status = proc.stdout.split()
    assert count == "100" and status in ("0", "141") and proc.stderr == ""
