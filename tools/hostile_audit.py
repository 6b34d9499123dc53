"""Run the CLI on crafted hostile files and outputs; print exit code, seconds and peak RSS per case.

Each case crafts its input (valid CRCs: the files are made with the container writer), runs
``python -m inrcodec.cli ...`` in a child process under an address-space cap and a timeout, and
reports what happened. ``--tree DIR`` runs the CLI of another checkout (e.g. a ``git worktree`` of
an older commit) on the same cases, so a change can be reported as before -> after:

    git worktree add /tmp/before <commit>
    python tools/hostile_audit.py --tree /tmp/before --json before.json
    python tools/hostile_audit.py --json after.json

The crafted files are built with *this* checkout's container code; the format they use has not
changed, so any reader of format versions 1..3 takes them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from inrcodec.decode.weights import QuantizedModel, encode_body  # noqa: E402
from inrcodec.container.chunks import LayerHeader, LayerSpec, ModelChunk, chunk_crc, header_fields  # noqa: E402
from inrcodec.fuzz.mutate import chunk_spans  # noqa: E402
from inrcodec.container.reader import ContainerReader  # noqa: E402
from inrcodec.container.writer import serialize  # noqa: E402

SMALL = os.path.join(REPO, "tests", "conformance", "MULTIGOM_A", "stream.inr")
SAMPLE = os.path.join(REPO, "samples", "carphone_48x32_8f.y4m")
GNERV, NIRVANA, HINERV = 1, 2, 3
BACKENDS = ("ort", "numpy", "torch")
TREE = [REPO]  # the checkout under test (--tree)


def _n_tensors(arch_id: int, params: tuple[int, ...]) -> int:
    """Coded tensors of a network (spec/models.md wire order): what an all-zero body must list."""
    if arch_id == GNERV:
        return 7 + 4 * (len(params) - 4)
    return 2 * params[2] + 6 + 2 * (len(params) - 4)


def zero_body(arch_id: int, params: tuple[int, ...], kind: int = 0) -> bytes:
    """A model body whose every tensor is zero (step code 0, max_abs 0): valid for any shapes."""
    n = _n_tensors(arch_id, params)
    qm = QuantizedModel(kind, 0, [0] * n, [np.zeros(1, np.int32)] * n)
    return encode_body(qm, 0)


def craft(path: str, *, width: int, height: int, n_frames: int, gop: int, arch_id: int = GNERV,
          params: tuple[int, ...] = (1, 4, 8, 8, 8, 8), layers: int = 1, gom: int | None = None,
          models: bool = True) -> int:
    """Write a valid file with the given header, all-zero models (one per GOP and layer); its size."""
    with ContainerReader(SMALL) as r:
        base = r.header
    n_gops = -(-n_frames // gop)
    header = dataclasses.replace(base, width=width, height=height, n_frames=n_frames, gop_size=gop,
                                 gom_size=gom or n_gops, arch_id=arch_id, arch_params=params, coder_id=0)
    lhdr = None if layers == 1 else LayerHeader(tuple(LayerSpec(arch_id, params, 1, k) for k in range(1, layers)))
    chunks = []
    if models:
        for g in range(n_gops):
            kind = 0 if g % header.gom_size == 0 else 1
            body = zero_body(arch_id, params, kind)
            chunks += [ModelChunk(g, kind, body, layer=k) for k in range(layers)]
    data = serialize(header, chunks, layers=lhdr)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def synthetic(path: str, width: int, height: int, n_frames: int, arch_id: int, params: tuple[int, ...],
              n_layers: int = 1, *, chroma: int = 0, rng=None, max_symbol: int = 3, step_code: int = -64) -> int:
    """Write a valid one-GOP file with the codec's own weight coder (inrcodec.fuzz.synthetic): all-zero
    weights, or ``rng``'s symbols; its size."""
    from inrcodec.container.chunks import SequenceHeader
    from inrcodec.fuzz.synthetic import synthetic_file

    header = SequenceHeader(width=width, height=height, n_frames=n_frames, fps_num=25, fps_den=1,
                            chroma_format=chroma, bit_depth=8, color_range=0, color_primaries=2, transfer=2, matrix=2,
                            chroma_siting=0, gop_size=n_frames, gom_size=1, arch_id=arch_id, arch_params=params,
                            coder_id=1, seed=1)
    layers = None if n_layers == 1 else LayerHeader(tuple(LayerSpec(arch_id, params, 1, k) for k in range(1, n_layers)))
    data = synthetic_file(header, layers, rng, max_symbol=max_symbol, step_code=step_code)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def _frames_of(path: str) -> int:
    """n_frames of an .inr file's header."""
    with ContainerReader(path) as r:
        return r.header.n_frames


@dataclasses.dataclass
class Outcome:
    case: str
    exit: int | None
    seconds: float
    peak_rss_mb: float
    timed_out: bool
    stderr: str
    check: str = ""


def run(argv: list[str], tree: str, timeout: float, cap_gb: float, *, cwd: str, stdin=None, stdout=None,
        env_extra: dict | None = None, on_start=None, close_stdout: bool = False,
        grep: str | None = None) -> tuple[int | None, float, float, bool, str]:
    """Run the CLI; (exit code or None, seconds, peak RSS MiB polled from /proc every 20 ms, timed out,
    last stderr line, or with ``grep`` the first line holding it)."""
    env = {**os.environ, "PYTHONPATH": tree, **(env_extra or {})}
    cap = int(cap_gb * 2**30)

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.setsid()
        if close_stdout:
            os.close(1)

    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    # cwd is not this checkout: ``python -m`` puts the working folder first on sys.path
    cmd = [sys.executable, *argv] if argv[:1] == ["-c"] else [sys.executable, "-m", "inrcodec.cli", *argv]
    p = subprocess.Popen(cmd, env=env, preexec_fn=limits, cwd=cwd,
                         stdin=stdin if stdin is not None else subprocess.DEVNULL,
                         stdout=stdout if stdout is not None else subprocess.DEVNULL, stderr=err)
    if on_start is not None:
        on_start(p)
    timed_out = False
    hwm_kib = 0  # the child's own peak: its ru_maxrss would start at this process's (kept across fork+exec)
    while True:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                hwm_kib = max(hwm_kib, next((int(ln.split()[1]) for ln in f if ln.startswith("VmHWM")), 0))
        except OSError:
            pass
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > timeout:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(p.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    lines = err.read().decode(errors="replace").strip().splitlines()
    tail = lines[-1] if lines else ""
    if grep is not None:
        tail = next((ln for ln in lines if grep in ln), f"no line with {grep!r}")
    if lines and "Traceback" in "\n".join(lines):
        tail = "TRACEBACK: " + tail
    return (None if timed_out else p.returncode), seconds, hwm_kib / 1024, timed_out, tail[:160]


def null_device(folder: str) -> str:
    """A private character device like /dev/null in ``folder``: an old CLI replaces the node it
    writes to with a regular file, which must never be the system's /dev/null."""
    node = os.path.join(folder, "null")
    if not os.path.exists(node):
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return node


def cases(work: str):
    """(name, setup) pairs; setup(tmp) returns (argv, options for run, check() -> str)."""
    small = SMALL

    def char_device(tmp):
        node = null_device(tmp)
        return ["dec", small, "-o", node, "--quiet"], {}, lambda: (
            "still a char device" if stat.S_ISCHR(os.lstat(node).st_mode) else "REPLACED by a regular file")

    def fifo(tmp):
        path = os.path.join(tmp, "pipe")
        os.mkfifo(path)
        got = []

        def reader():
            with open(path, "rb") as f:
                got.append(len(f.read()))
        t = threading.Thread(target=reader, daemon=True)
        t.start()

        def check():
            if os.path.exists(path) and not stat.S_ISFIFO(os.lstat(path).st_mode):
                with open(path, "wb"):
                    pass  # the FIFO was replaced; let the reader thread end
                t.join(2)
                return f"REPLACED by a regular file; reader got {got[0] if got else 0} bytes"
            t.join(5)
            return f"still a FIFO; reader got {got[0] if got else 'nothing'} bytes"
        return ["dec", small, "-o", path, "--quiet"], {}, check

    def symlink(tmp):
        target = os.path.join(tmp, "target.y4m")
        open(target, "wb").close()
        link = os.path.join(tmp, "link.y4m")
        os.symlink(target, link)
        return ["dec", small, "-o", link, "--quiet", "-y"], {}, lambda: (
            ("link kept" if os.path.islink(link) else "LINK REPLACED") + f", target {os.path.getsize(target)} bytes")

    def readonly(tmp):
        path = os.path.join(tmp, "ro.y4m")
        with open(path, "wb") as f:
            f.write(b"keep")
        os.chmod(path, 0o444)
        return ["dec", small, "-o", path, "--quiet", "-y"], {}, lambda: (
            f"mode {oct(os.stat(path).st_mode & 0o777)}, "
            + ("content kept" if open(path, "rb").read() == b"keep" else "OVERWRITTEN"))

    def existing(tmp):
        path = os.path.join(tmp, "old.y4m")
        with open(path, "wb") as f:
            f.write(b"keep")
        return ["dec", small, "-o", path, "--quiet"], {}, lambda: (
            "content kept" if open(path, "rb").read() == b"keep" else "OVERWRITTEN without -y")

    def dec_self(tmp):
        path = os.path.join(tmp, "a.inr")
        data = open(small, "rb").read()
        with open(path, "wb") as f:
            f.write(data)
        return ["dec", path, "-o", path, "--quiet", "-y"], {}, lambda: (
            "input intact" if open(path, "rb").read() == data else "INPUT DESTROYED")

    def enc_self(tmp):
        path = os.path.join(tmp, "s.y4m")
        data = open(SAMPLE, "rb").read()
        with open(path, "wb") as f:
            f.write(data)
        return ["enc", path, "-o", path, "--quiet", "-y", "--iters", "5", "--p-iters", "5", "-q", "1"], {}, \
            lambda: "input intact" if open(path, "rb").read() == data else "INPUT DESTROYED"

    def long_name(tmp):
        path = os.path.join(tmp, "n" * 250 + ".y4m")
        return ["dec", small, "-o", path, "--quiet"], {}, lambda: (
            f"written, {os.path.getsize(path)} bytes" if os.path.exists(path) else "not written")

    def sigterm(tmp):
        big = os.path.join(tmp, "long.inr")
        craft(big, width=176, height=144, n_frames=30000, gop=30)
        out = os.path.join(tmp, "out.y4m")

        def kill_later(p):
            threading.Timer(4.0, lambda: p.poll() is None and os.kill(p.pid, signal.SIGTERM)).start()
        return ["dec", big, "-o", out, "--quiet"], {"on_start": kill_later}, lambda: (
            "left: " + (", ".join(sorted(os.listdir(tmp))) or "nothing"))

    def enc_stdout(tmp):
        return ["enc", SAMPLE, "-o", "-", "--quiet", "--iters", "5", "--p-iters", "5", "-q", "1",
                "--gop", "8"], {"cwd": tmp}, lambda: ("a file named '-' was CREATED" if os.path.exists(
                    os.path.join(tmp, "-")) else "no file named '-'")

    def long_gop(tmp):
        path = os.path.join(tmp, "longgop.inr")
        n = craft(path, width=176, height=144, n_frames=200_000, gop=200_000)
        return ["dec", path, "-o", null_device(tmp), "--frames", "1", "--quiet"], {}, lambda: f"{n}-byte file"

    def huge_frame(n_frames):
        def setup(tmp):
            path = os.path.join(tmp, "huge.inr")
            n = craft(path, width=16384, height=16384, n_frames=n_frames, gop=n_frames, params=(1, 4, 8) + (8,) * 8)
            return ["dec", path, "-o", null_device(tmp), "--quiet"], {}, lambda: f"{n}-byte file"
        return setup

    def huge_macs(tmp):
        path = os.path.join(tmp, "macs.inr")
        n = craft(path, width=256, height=256, n_frames=1, gop=1, params=(1, 4, 8, 1024, 1024, 600))
        return ["dec", path, "-o", null_device(tmp), "--quiet"], {}, lambda: f"{n}-byte file"

    def huge_layers(tmp):
        path = os.path.join(tmp, "layers.inr")
        n = craft(path, width=1024, height=1024, n_frames=1, gop=1, params=(1, 4, 8, 64, 1024, 1024),
                  layers=8)
        return ["dec", path, "-o", null_device(tmp), "--quiet"], {}, lambda: f"{n}-byte file"

    def nirvana_header(cmd):
        def setup(tmp):
            path = os.path.join(tmp, "nirvana.inr")
            n = craft(path, width=64, height=64, n_frames=1, gop=1, arch_id=NIRVANA,
                      params=(128, 2048, 16, 1024, 1024, 1024))
            argv = ["info", path] if cmd == "info" else ["dec", path, "-o", null_device(tmp), "--quiet"]
            return argv, {}, lambda: f"{n}-byte file"
        return setup

    def big_source(side, cap_gb=None):
        def setup(tmp):
            import av
            path = os.path.join(tmp, f"big{side}.mp4")
            with av.open(path, "w") as out:
                s = out.add_stream("libx264", rate=25)
                s.width = s.height = side
                s.pix_fmt = "yuv420p"
                s.options = {"preset": "ultrafast", "crf": "35"}
                rng = np.random.default_rng(0)
                base = rng.integers(0, 255, (side // 64, side // 64), dtype=np.uint8)
                for i in range(4):
                    img = np.kron(np.roll(base, i, axis=1), np.ones((64, 64), np.uint8))
                    frame = av.VideoFrame.from_ndarray(np.stack([img] * 3, -1), format="rgb24")
                    for pkt in s.encode(frame):
                        out.mux(pkt)
                for pkt in s.encode():
                    out.mux(pkt)
            return ["enc", path, "-o", os.path.join(tmp, "big.inr"), "--quiet", "-q", "1", "--iters", "5",
                    "--p-iters", "5"], {} if cap_gb is None else {"cap_gb": cap_gb}, \
                lambda: f"{os.path.getsize(path)}-byte source"
        return setup

    def bad_option(*flags):
        def setup(tmp):
            return ["enc", SAMPLE, "-o", os.path.join(tmp, "x.inr"), "--quiet", "--iters", "5", "--p-iters", "5",
                    *flags], {}, lambda: ""
        return setup

    def salvage(kind):
        def setup(tmp):
            # a whole one-GOM file whose SHDR then promises two GOMs (n_frames doubled, CRC fixed):
            # its index follows GOM 0; with kind "none" the file has one frame and no model at all
            path = os.path.join(tmp, "cut.inr")
            with ContainerReader(SMALL) as r:
                h = r.header
            one = h.gop_size * h.gom_size
            header = dataclasses.replace(h, coder_id=0, n_frames=one)
            chunks = [ModelChunk(g, int(g > 0), zero_body(h.arch_id, h.arch_params, int(g > 0)))
                      for g in range(h.gom_size)]
            data = bytearray(serialize(header, chunks))
            offset, payload_at, total = chunk_spans(bytes(data))[0]
            at = payload_at + next(off for name, off, _w, _v in header_fields(header) if name == "n_frames")
            data[at:at + 4] = (2 * one).to_bytes(4, "big")
            if kind == "none":  # cut the file right after the header chunk
                data = data[:offset + total]
            payload = bytes(data[payload_at:offset + total - 4])
            crc = chunk_crc(bytes(data[offset:offset + 4]), len(payload), payload)
            data[offset + total - 4:offset + total] = crc.to_bytes(4, "big")
            with open(path, "wb") as f:
                f.write(data)
            return ["dec", path, "-o", os.path.join(tmp, "out.y4m"), "--salvage", "--quiet"], {}, lambda: ""
        return setup

    def closed_stdout(tmp):
        return ["dec", small, "-o", "-", "--quiet"], {"close_stdout": True}, lambda: ""

    def dev_full(argv):
        def setup(tmp):
            full = open("/dev/full", "wb")
            args = [a.replace("TMP", tmp) for a in argv]
            return args, {"stdout": full}, lambda: ""
        return setup

    def resume_journal(edit):
        def setup(tmp):
            src = os.path.join(tmp, "src.y4m")
            with open(src, "wb") as f:
                f.write(open(SAMPLE, "rb").read())
            out = os.path.join(tmp, "out.inr")
            argv = ["enc", src, "-o", out, "--quiet", "-q", "1", "--gop", "4", "--gom", "1", "--iters", "400",
                    "--p-iters", "50", "--threads", "1"]
            journal = os.path.join(tmp, ".out.inr.journal")
            env = {**os.environ, "PYTHONPATH": TREE[0]}
            p = subprocess.Popen([sys.executable, "-m", "inrcodec.cli", *argv], env=env, cwd=tmp,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t0 = time.time()
            while time.time() - t0 < 120:
                if os.path.exists(journal) and open(journal, "rb").read().count(b"\n") >= 2:
                    break
                time.sleep(0.1)
            p.send_signal(signal.SIGINT)
            p.wait()
            lines = open(journal, "rb").read().split(b"\n")
            entry = json.loads(lines[1])
            if edit == "state":
                entry["state"] = {"sse": "x"}
            elif edit == "type":
                entry["state"]["reports"] = [{"nonsense": 1}]
            else:
                entry["offset"] = 10**12
            lines[1] = json.dumps(entry).encode()
            with open(journal, "wb") as f:
                f.write(b"\n".join(lines))
            return [*argv, "--resume"], {}, lambda: ""
        return setup

    def zstd_window(tmp):
        path = os.path.join(tmp, "window.inr")
        with ContainerReader(os.path.join(REPO, "tests", "conformance", "NIRVANA_A", "stream.inr")) as r:
            header, layers = r.header, r.layers
            chunks = [c for m in range(header.n_goms) for c in r.read_gom(m)]
        out = []
        for c in chunks:
            if hasattr(c, "method") and c.method == 1:  # zstd: declare a 2 GiB window
                d = c.data
                fhd = d[4]
                assert fhd & 0x20, "expected a single-segment frame"
                fcs_len = {0: 1, 1: 2, 2: 4, 3: 8}[fhd >> 6]
                body = d[5 + fcs_len:]
                new_fhd = (2 << 6) | (fhd & 0x04)  # 4-byte content size, not single segment
                frame = d[:4] + bytes([new_fhd, 21 << 3]) + c.raw_size.to_bytes(4, "little") + body
                c = dataclasses.replace(c, data=frame)
            out.append(c)
        with open(path, "wb") as f:
            f.write(serialize(header, out, layers=layers))
        return ["dec", path, "-o", null_device(tmp), "--quiet"], {}, lambda: ""

    def level_file(width, height, n_frames, arch_id, params, n_layers=1, backend="ort", chroma=0):
        """Issue 32 items 1-2: a tiny file within the level whose frames cost gigabytes (all-zero weights)."""
        def setup(tmp):
            path = os.path.join(tmp, "level.inr")
            n = synthetic(path, width, height, n_frames, arch_id, params, n_layers, chroma=chroma)
            return ["dec", path, "-o", null_device(tmp), "--quiet", "--backend", backend], {}, \
                lambda: f"{n}-byte file"
        return setup

    def extreme_weights(arch_id, params, backend, max_symbol=32767, step_code=64):
        """Issue 32 item 5: legal weights at the largest step and symbols (|w| up to 524272, refused
        since spec/models.md §4b), or at the edge of the range (max_symbol 1024 at step 1/16: |w| <= 64);
        four frames of one GOP, compared with --backend torch."""
        def setup(tmp):
            path = os.path.join(tmp, "extreme.inr")
            synthetic(path, 32, 32, 4, arch_id, params, rng=np.random.default_rng(5), max_symbol=max_symbol,
                      step_code=step_code)
            out, ref = os.path.join(tmp, "out.y4m"), os.path.join(tmp, "ref.y4m")

            def check():
                if not os.path.exists(out):
                    return "no output"
                r = run(["dec", path, "-o", ref, "--quiet", "--backend", "torch"], TREE[0], 60, 6.0, cwd=tmp)
                if r[0] != 0 or not os.path.exists(ref):
                    return f"torch: exit {r[0]}"
                a, b = (np.frombuffer(open(f, "rb").read(), np.uint8).astype(int) for f in (out, ref))
                if a.size != b.size:
                    return "sizes differ"
                d = np.abs(a - b)
                return f"vs torch: {int((d > 1).sum())} bytes differ by >1, max {int(d.max())}"
            return ["dec", path, "-o", out, "--quiet", "--backend", backend], {}, check
        return setup

    def endless_stdin(tmp):
        """Issue 32 item 6: ``enc - --frames 1`` fed an endless y4m stream at about 30 MiB/s."""
        w, h = 640, 480
        frame = b"FRAME\n" + bytes(w * h * 3 // 2)
        r_fd, w_fd = os.pipe()
        spool = [0]

        def feed():
            t0 = time.time()
            try:
                os.write(w_fd, f"YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg\n".encode())
                sent = 0
                while time.time() - t0 < 70:
                    os.write(w_fd, frame)
                    sent += len(frame)
                    spool[0] = max([spool[0]] + [os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp)
                                                 if f.startswith("inrcodec-stdin")])
                    time.sleep(max(0.0, sent / (30 << 20) - (time.time() - t0)))
            except OSError:
                pass
            finally:
                os.close(w_fd)
        threading.Thread(target=feed, daemon=True).start()
        argv = ["enc", "-", "-o", os.path.join(tmp, "s.inr"), "--quiet", "--frames", "1", "-q", "1",
                "--iters", "3", "--p-iters", "3"]
        return argv, {"stdin": r_fd, "env_extra": {"TMPDIR": tmp}}, lambda: f"spool peaked at {spool[0] >> 20} MiB"

    def before_payload(kind, cmd):
        """Issue 32 item 3: a chunk between SHDR and the first payload chunk of ODDSIZE_A (index rebuilt,
        CRCs valid unless ``kind`` says otherwise); ``cmd``: dec, info or extract."""
        def setup(tmp):
            import make_conformance as mc  # the conformance suite's chunk surgery, written from spec/

            golden = open(os.path.join(REPO, "tests", "conformance", "ODDSIZE_A", "stream.inr"), "rb").read()
            disp = mc.DISP_PAYLOAD
            rotated = disp[:8] + (999).to_bytes(2, "big") + disp[10:]
            chunk = {"XXXX": [[b"XXXX", b"future"]], "DISP": [[b"DISP", disp]], "crc": [[b"XXXX", b"future"]],
                     "garbage": [[b"ZZZZ", b"Z" * 26]], "SHDR": None, "GIDX": [[b"GIDX", bytes(8)]],
                     "IEND": [[b"IEND", bytes(8)]], "LHDR": [[b"LHDR", bytes(2)]],
                     "disp twice": [[b"disp", disp], [b"disp", rotated]]}[kind]
            if chunk is None:
                data = mc._rebuild(golden, lambda c: mc._after_shdr(list(c[0]))(c))
            elif kind in ("GIDX", "IEND"):  # the rebuild drops these: insert a stand-in and rename it
                data = mc._rebuild(golden, mc._after_shdr([b"QQQQ", chunk[0][1]]))
                data = data.replace(mc._frame(b"QQQQ", chunk[0][1]), mc._frame(*chunk[0]))
            else:
                data = mc._rebuild(golden, mc._after_shdr(*chunk))
            if kind == "crc":
                data = mc._flip_in(b"XXXX", 0, 2)(data)
            elif kind == "garbage":  # its length byte becomes 'Z' too: 90 bytes of payload read across SHDR's neighbours
                at = data.index(b"ZZZZ") + 4
                data = data[:at] + b"Z" + data[at + 1:]
            path = os.path.join(tmp, "chunks.inr")
            with open(path, "wb") as f:
                f.write(data)
            out = os.path.join(tmp, "out.inr" if cmd == "extract" else "out.y4m")
            argv = {"dec": ["dec", path, "-o", out, "--quiet"], "info": ["info", path],
                    "extract": ["extract", path, "-o", out, "--layers", "1"]}[cmd]
            return argv, {}, lambda: "output written" if os.path.exists(out) else ""
        return setup

    def threads(n):
        """Issue 32 item 4: dec --threads far above the cores."""
        def setup(tmp):
            return ["dec", small, "-o", null_device(tmp), "--quiet", "--threads", str(n)], {}, lambda: ""
        return setup

    def ppm_sequence(folder, n, skip=(), odd=None):
        """``n`` binary PPM frames f_001.ppm .. in ``folder`` (numbers in ``skip`` left out, frame ``odd``
        of another size); the pattern."""
        os.makedirs(folder, exist_ok=True)
        for i in range(1, n + 1):
            if i in skip:
                continue
            h, w = (16, 24) if i == odd else (24, 32)
            pixels = np.random.default_rng(i).integers(0, 256, (h, w, 3), dtype=np.uint8)
            with open(os.path.join(folder, f"f_{i:03d}.ppm"), "wb") as f:
                f.write(b"P6\n%d %d\n255\n" % (w, h) + pixels.tobytes())
        return os.path.join(folder, "f_%03d.ppm")

    quick = ["--quiet", "-q", "1", "--iters", "5", "--p-iters", "5", "--threads", "1"]

    def sequence_self(tmp):
        """Issue 32 item 7: an image-sequence pattern whose output is one of its own frames."""
        pattern = ppm_sequence(os.path.join(tmp, "seq"), 9)
        frame = os.path.join(tmp, "seq", "f_001.ppm")
        data = open(frame, "rb").read()
        return ["enc", pattern, "-o", frame, "-y", *quick], {}, lambda: (
            "input intact" if open(frame, "rb").read() == data else "INPUT FRAME OVERWRITTEN")

    def numpy_frames(what):
        """Issue 32 item 8: inrcodec.encode on numpy frames it cannot use; prints the class, exits with its code."""
        frames = {"zero-size array": "np.zeros((2, 0, 16), np.uint8)",
                  "V (9,8) beside U (8,8)": "[(np.zeros((16, 16), np.uint8), np.zeros((8, 8), np.uint8), "
                                            "np.zeros((9, 8), np.uint8))] * 2",
                  "1-D Y plane": "[(np.zeros(16, np.uint8), np.zeros(8, np.uint8), np.zeros(8, np.uint8))]",
                  "3-D Y plane": "[(np.zeros((2, 16, 16), np.uint8), np.zeros((8, 8), np.uint8), "
                                 "np.zeros((8, 8), np.uint8))]",
                  "fps=inf": "np.zeros((2, 16, 16), np.uint8)"}[what]
        fps = "float('inf')" if what == "fps=inf" else "25"

        def setup(tmp):
            code = ("import sys, numpy as np, inrcodec\nfrom inrcodec.errors import InrError\ntry:\n"
                    f"    inrcodec.encode({frames}, {os.path.join(tmp, 'x.inr')!r}, fps={fps}, iters=5, p_iters=5)\n"
                    "except InrError as e:\n    print(type(e).__name__ + ': ' + str(e), file=sys.stderr)\n"
                    "    sys.exit(e.exit_code)\n")
            return ["-c", code], {}, lambda: ""
        return setup

    def y4m_stdin_w0(tmp):
        """Issue 32 item 8: a y4m header with W0 on standard input."""
        path = os.path.join(tmp, "w0.y4m")
        with open(path, "wb") as f:
            f.write(b"YUV4MPEG2 W0 H16 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(384))
        return ["enc", "-", "-o", os.path.join(tmp, "x.inr"), *quick], {"stdin": open(path, "rb")}, lambda: ""

    def sequence_gap(tmp):
        """Issue 32 item 9: an image sequence of 9 files missing f_005 (FFmpeg stops at the gap)."""
        pattern = ppm_sequence(os.path.join(tmp, "seq"), 9, skip=(5,))
        out = os.path.join(tmp, "x.inr")
        return ["enc", pattern, "-o", out, *quick[1:]], {"grep": "stops after"}, lambda: (
            f"{_frames_of(out)} frames encoded" if os.path.exists(out) else "no output")

    def y4m_cut(tmp):
        """Issue 32 item 9: a y4m that ends inside its third frame."""
        data = open(SAMPLE, "rb").read()
        first = data.index(b"FRAME")
        frame = data.index(b"FRAME", first + 1) - first
        path = os.path.join(tmp, "cut.y4m")
        with open(path, "wb") as f:
            f.write(data[:first + 2 * frame + frame // 2])
        out = os.path.join(tmp, "x.inr")
        return ["enc", path, "-o", out, *quick[1:]], {"grep": "ends inside"}, lambda: (
            f"{_frames_of(out)} frames encoded" if os.path.exists(out) else "no output")

    def sequence_odd_frame(tmp):
        """Issue 32 item 10: frame 5 of a sequence has another size: nothing may be left behind."""
        pattern = ppm_sequence(os.path.join(tmp, "seq"), 9, odd=5)
        out = os.path.join(tmp, "x.inr")
        return ["enc", pattern, "-o", out, *quick, "--gop", "2", "--gom", "1"], {}, lambda: (
            "left: " + (", ".join(sorted(f for f in os.listdir(tmp) if f != "seq")) or "nothing"))

    def missing_folder(tmp):
        """Issue 32 item 11: -o names a folder (trailing /) that does not exist."""
        return ["dec", small, "-o", os.path.join(tmp, "nodir") + "/", "--quiet"], {}, lambda: (
            "a FILE nodir was created" if os.path.isfile(os.path.join(tmp, "nodir")) else "no nodir")

    def body_offset(tmp):
        path = os.path.join(tmp, "body.inr")
        with ContainerReader(SMALL) as r:
            header = dataclasses.replace(r.header, coder_id=0, n_frames=r.header.gop_size, gom_size=1)
        body = zero_body(header.arch_id, header.arch_params)[:5]  # cut inside the per-tensor fields
        with open(path, "wb") as f:
            f.write(serialize(header, [ModelChunk(0, 0, body)], layers=None))
        return ["dec", path, "-o", null_device(tmp), "--quiet"], {}, lambda: ""

    return [
        ("1 dec -o <char device>", char_device),
        ("1 dec -o <fifo>", fifo),
        ("1 dec -o <symlink> -y", symlink),
        ("1 dec -o <mode 444 file> -y", readonly),
        ("1 dec -o <existing file>", existing),
        ("1 dec a.inr -o a.inr -y", dec_self),
        ("1 enc s.y4m -o s.y4m -y", enc_self),
        ("1 dec -o <254-char name>", long_name),
        ("1 SIGTERM during dec", sigterm),
        ("1 enc -o -", enc_stdout),
        ("2 dec --frames 1, one 200000-frame GOP", long_gop),
        ("2 dec one 16384^2 frame", huge_frame(1)),
        ("2 dec four 16384^2 frames", huge_frame(4)),
        ("2 dec huge MACs/pixel at 256^2", huge_macs),
        ("2 dec 8 layers of huge networks", huge_layers),
        ("2 info nirvana huge header", nirvana_header("info")),
        ("2 dec nirvana huge header", nirvana_header("dec")),
        ("3 enc 4096^2 H.264", big_source(4096)),
        ("3 enc 8192^2 H.264", big_source(8192)),
        ("3 enc 4096^2 H.264 under a 3 GiB cap", big_source(4096, cap_gb=3.0)),
        ("3 enc --lambda nan", bad_option("--lambda", "nan")),
        ("3 enc --lambda inf", bad_option("--lambda", "inf")),
        ("3 enc --lambda -1", bad_option("--lambda", "-1")),
        ("3 enc --iters -5", bad_option("--iters", "-5")),
        ("4 dec --salvage, index after GOM 0 of 2+", salvage("index")),
        ("4 dec --salvage, nothing recovered", salvage("none")),
        ("4 dec -o - >&-", closed_stdout),
        ("4 info > /dev/full", dev_full(["info", SMALL])),
        ("4 extract > /dev/full", dev_full(["extract", os.path.join(REPO, "tests", "conformance", "LAYERS_A",
                                                                      "stream.inr"), "-o", "TMP/x.inr", "--layers", "1"])),
        ("4 enc --resume, journal state edited", resume_journal("state")),
        ("4 enc --resume, journal reports edited", resume_journal("type")),
        ("4 enc --resume, journal offset 10^12", resume_journal("offset")),
        ("4 dec zstd BLOB declaring a 2 GiB window", zstd_window),
        ("4 dec model body cut short (error offset)", body_offset),
    ] + [
        (f"32.1 {backend} gnerv (1,1,1,1,64) 16384x2048, 4 frames", level_file(16384, 2048, 4, GNERV, (1, 1, 1, 1, 64),
                                                                       backend=backend)) for backend in BACKENDS
    ] + [
        (f"32.1 {backend} hinerv (1,1,0,0,1,64) 16384x2048, 4 frames",
         level_file(16384, 2048, 4, HINERV, (1, 1, 0, 0, 1, 64), backend=backend)) for backend in BACKENDS
    ] + [
        (f"32.1 {backend} nirvana (8,1024,1,1,1) 16384x2048", level_file(16384, 2048, 1, NIRVANA, (8, 1024, 1, 1, 1),
                                                                   backend=backend)) for backend in BACKENDS
    ] + [
        (f"32.2 {backend} gnerv (1,1,1,1,64) 16384x2048, 1 frame", level_file(16384, 2048, 1, GNERV, (1, 1, 1, 1, 64),
                                                                      backend=backend)) for backend in BACKENDS
    ] + [
        (f"32.2 {backend} nirvana (8,1,1,256,1) 16384x2048", level_file(16384, 2048, 1, NIRVANA, (8, 1, 1, 256, 1),
                                                                  backend=backend)) for backend in BACKENDS
    ] + [
        (f"32.2 {backend} 4 gnerv layers (1,1,1,255,1) 1024^2", level_file(1024, 1024, 1, GNERV, (1, 1, 1, 255, 1), 4,
                                                                     backend=backend)) for backend in BACKENDS
    ] + [
        (f"32.3 {cmd} {kind} between SHDR and the payload", before_payload(kind, cmd))
        for kind in ("XXXX", "DISP", "crc", "garbage", "SHDR", "GIDX", "IEND", "LHDR", "disp twice")
        for cmd in ("dec", "info", "extract")
    ] + [
        (f"32.4 dec --threads {n}", threads(n)) for n in (1000, 100000, 2147483648)
    ] + [
        (f"32.5 {backend} {name} 32x32, step code {code}, symbols +-{sym}",
         extreme_weights(arch, params, backend, sym, code))
        for name, arch, params in (("hinerv", HINERV, (1, 1, 0, 0, 16, 16, 16, 16, 16)),
                                   ("gnerv", GNERV, (1, 16, 16, 16, 16, 16)), ("nirvana", NIRVANA, (16, 16, 2, 16, 16)))
        for sym, code in ((32767, 64), (1024, -64))
        for backend in ("ort", "numpy")
    ] + [
        ("32.6 enc - --frames 1, endless y4m on stdin", endless_stdin),
        ("32.7 enc seq/f_%03d.ppm -o seq/f_001.ppm -y", sequence_self),
    ] + [
        (f"32.8 encode(numpy frames): {what}", numpy_frames(what))
        for what in ("zero-size array", "V (9,8) beside U (8,8)", "1-D Y plane", "3-D Y plane", "fps=inf")
    ] + [
        ("32.8 enc - with y4m header W0 on stdin", y4m_stdin_w0),
        ("32.9 enc image sequence missing f_005", sequence_gap),
        ("32.9 enc y4m cut inside frame 3", y4m_cut),
        ("32.10 enc sequence, frame 5 of another size", sequence_odd_frame),
        ("32.11 dec -o nodir/", missing_folder),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=REPO, help="checkout whose CLI runs the cases [default: this one]")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    ap.add_argument("--cap-gb", type=float, default=6.0, help="address-space cap per case (GiB)")
    ap.add_argument("--only", default=None, help="run only cases whose name contains this")
    ap.add_argument("--json", default=None, help="also write the outcomes here")
    args = ap.parse_args()
    # an older CLI has no -y (it overwrote without asking): run its cases without the flag
    TREE[0] = args.tree
    takes_y = "--overwrite" in open(os.path.join(args.tree, "inrcodec", "cli.py")).read()
    results = []
    with tempfile.TemporaryDirectory() as work:
        for name, setup in cases(work):
            if args.only and args.only not in name:
                continue
            tmp = tempfile.mkdtemp(dir=work)
            argv, opts, check = setup(tmp)
            opts.setdefault("cwd", tmp)
            if not takes_y:
                argv = [a for a in argv if a != "-y"]
            cap = opts.pop("cap_gb", args.cap_gb)
            code, secs, rss, timed_out, err = run(argv, args.tree, args.timeout, cap, **opts)
            o = Outcome(name, code, secs, rss, timed_out, err, check())
            results.append(o)
            status = f"killed at {args.timeout:.0f} s" if timed_out else f"exit {code}"
            print(f"{name:<42} {status:>16} {secs:7.1f} s {rss:8.0f} MiB  {o.check}  | {err}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dataclasses.asdict(o) for o in results], f, indent=1)


if __name__ == "__main__":
    main()
