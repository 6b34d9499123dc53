"""inrcodec.play: the player's folder and one file on a local static server (stdlib, 127.0.0.1 only)."""

from __future__ import annotations

import io
import threading
import urllib.error
import urllib.request

import pytest

from inrcodec.errors import InrInputError
from inrcodec.play import make_server, play


@pytest.fixture
def dist(tmp_path):
    d = tmp_path / "dist"
    d.mkdir()
    (d / "index.html").write_text("<!doctype html><title>player</title>")
    (d / "worker.js").write_text("// worker")
    return str(d)


def test_play_prints_the_url_and_serves_the_player_and_the_file(dist, tmp_path):
    f = tmp_path / "my clip.inr"
    f.write_bytes(b"\x8bINR" + bytes(range(200)))
    out, ready, stop = io.StringIO(), threading.Event(), threading.Event()
    t = threading.Thread(target=play, args=(f,), kwargs={"dist": dist, "out": out, "ready": ready, "stop": stop})
    t.start()
    try:
        assert ready.wait(10)
        url = out.getvalue().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/?src=/my%20clip.inr")
        root = url.split("?")[0]
        with urllib.request.urlopen(root) as r:
            assert b"<title>player</title>" in r.read()
            # cross-origin isolation, so that onnxruntime-web may use threads
            assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        with urllib.request.urlopen(root + "my%20clip.inr") as r:
            assert r.read() == f.read_bytes()
            assert r.headers["Content-Length"] == str(f.stat().st_size)
        with urllib.request.urlopen(root + "worker.js") as r:
            assert r.headers["Content-Type"].startswith("text/javascript")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(root + "other.inr")
        assert e.value.code == 404
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()


def test_the_server_listens_on_loopback_only(dist, tmp_path):
    f = tmp_path / "a.inr"
    f.write_bytes(b"x")
    srv = make_server({"/a.inr": str(f)}, dist)
    try:
        assert srv.server_address[0] == "127.0.0.1"
    finally:
        srv.server_close()


def test_play_refuses_a_missing_file_or_an_unbuilt_player(dist, tmp_path):
    with pytest.raises(InrInputError, match="no such file"):
        play(tmp_path / "nope.inr", dist=dist)
    f = tmp_path / "a.inr"
    f.write_bytes(b"x")
    with pytest.raises(InrInputError, match="npm ci && npm run build"):
        play(f, dist=str(tmp_path / "empty"))


def test_the_play_command_serves_until_interrupted(dist, tmp_path):
    """``inrcodec play FILE`` as a user runs it: the URL on stdout, the file behind it, Ctrl-C ends it (0)."""
    import os
    import signal
    import subprocess
    import sys

    f = tmp_path / "a.inr"
    f.write_bytes(b"\x8bINR" + bytes(50))
    proc = subprocess.Popen([sys.executable, "-m", "inrcodec.cli", "play", str(f)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "INRCODEC_WEB_DIST": dist})
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/?src=/a.inr")
        with urllib.request.urlopen(url.split("?")[0] + "a.inr") as r:
            assert r.read() == f.read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and err == ""


def test_the_play_command_refuses_a_missing_file_in_one_line(dist, tmp_path):
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "inrcodec.cli", "play", str(tmp_path / "no.inr")],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "INRCODEC_WEB_DIST": dist})
    assert proc.returncode == 7 and proc.stderr.count("\n") == 1 and "no.inr" in proc.stderr
