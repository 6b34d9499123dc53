"""enc - (standard input) reads no more of a pipe than it needs and never spools without bound (issue 32 item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}


def _enc(tmp_path, extra_env=None):
    return subprocess.Popen([sys.executable, "-m", "inrcodec.cli", "enc", "-", "-o", str(tmp_path / "s.inr"), "--quiet",
                             "--frames", "1", "-q", "1", "--iters", "2", "--p-iters", "2", "--threads", "1"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**ENV, "TMPDIR": str(tmp_path), **(extra_env or {})})


def _feed_forever(p, first: bytes, block: bytes):
    def run():
        try:
            p.stdin.write(first)
            while p.poll() is None:
                p.stdin.write(block)
        except (BrokenPipeError, ValueError, OSError):
            pass
    threading.Thread(target=run, daemon=True).start()


def test_endless_y4m_stream_with_frames_1_is_read_one_frame_far(tmp_path):
    p = _enc(tmp_path)
    _feed_forever(p, b"YUV4MPEG2 W16 H16 F25:1 Ip A1:1 C420jpeg\n", b"FRAME\n" + bytes(range(256)) + bytes(128))
    try:
        p.wait(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 0, p.stderr.read().decode()
    assert (tmp_path / "s.inr").exists()
    assert not [f for f in os.listdir(tmp_path) if f.startswith("inrcodec-stdin")]


def test_a_stream_past_the_spool_limit_is_refused_in_one_line(tmp_path):
    p = _enc(tmp_path, {"INRCODEC_STDIN_LIMIT": str(1 << 20)})
    _feed_forever(p, b"\x00\x00\x00\x18ftypisom", bytes(1 << 16))
    try:
        p.wait(timeout=60)
    finally:
        p.kill()
    err = p.stderr.read().decode().strip().splitlines()
    assert p.returncode == 7 and len(err) == 1 and "more than 1048576 bytes" in err[0], err
    assert not [f for f in os.listdir(tmp_path) if f.startswith("inrcodec-stdin")]
