"""The hostile-input audit (issue 18 §2): valid files whose headers declare ruinous decodes are
decoded in bounded time and memory, or refused from the header before anything is allocated.

Each file is crafted here with valid CRCs (``inrcodec.fuzz.synthetic``); time and peak memory are
measured in a fresh process, since a process's peak RSS only grows.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from inrcodec.cli import main
from inrcodec.archs.gnerv import Gnerv
from inrcodec.archs.nirvana import Nirvana
from inrcodec.fuzz.synthetic import synthetic_file
from inrcodec.container.chunks import LayerHeader, LayerSpec, SequenceHeader
from inrcodec.errors import InrFormatError, InrUnsupportedError
from inrcodec.models import ARCHITECTURES

MIB = 1 << 20
# Runs ACTION on the file argv[1] after every import, and prints what it cost: RSS growth is the
# peak after minus the peak before (VmHWM, in KiB: a child's ru_maxrss would start at pytest's peak,
# which Linux keeps across fork and exec).
MEASURE = """
import json, resource, sys, time
import torch
from inrcodec.decode.decoder import InrFile
from inrcodec.errors import InrError
from inrcodec.describe import describe
torch.set_num_threads(1)
path, action = sys.argv[1], sys.argv[2]
hwm = lambda: int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])  # KiB, this process only
before = hwm()
start = time.perf_counter()
result = {"error": None}
try:
    if action == "first":
        with InrFile(path) as f:
            frame = next(f.frames(0, 1))
            result["shape"] = list(frame[0].shape)
            last = f[len(f) - 1]
            result["last_shape"] = list(last[0].shape)
    elif action == "open":
        InrFile(path).close()
    else:
        result["limits"] = describe(path)["limits"]
except InrError as exc:
    result["error"] = [type(exc).__name__, str(exc)]
result["seconds"] = time.perf_counter() - start
result["rss_growth"] = (hwm() - before) * 1024
print(json.dumps(result))
"""


def measure(path, action: str, timeout: float = 60.0) -> dict:
    """What ``action`` ("first": the first and last frames, "open": InrFile, "info": describe)
    costs on the file at ``path``, measured in a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path), action], capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def header(width, height, arch_id, arch_params, n_frames=1, gop_size=None) -> SequenceHeader:
    return SequenceHeader(
        width=width, height=height, n_frames=n_frames, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8,
        color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0,
        gop_size=gop_size or n_frames, gom_size=1, arch_id=arch_id, arch_params=arch_params, coder_id=1, seed=1)


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_refused_cheaply(path, error: str, match: str) -> None:
    """Opening and info on ``path``: a quick refusal, and info describes it (exit 0) as such."""
    for action in ("open", "info"):
        cost = measure(path, action)
        assert cost["seconds"] < 5 and cost["rss_growth"] < 100 * MIB, (action, cost)
        reported = cost["error"][1] if action == "open" else (cost["limits"]["exceeds"] or cost["limits"]["invalid"])
        assert match in reported, (action, cost)
        if action == "open":
            assert cost["error"][0] == error
        else:
            assert cost["limits"]["within"] is False and cost["error"] is None


def test_a_200000_frame_gop_gives_its_first_frame_after_one_batch(tmp_path):
    """Was: the whole GOP rendered before the first frame (past 240 s at 3.5 GB and rising)."""
    h = header(64, 48, 1, Gnerv.QUALITY[1], n_frames=200_000)
    path = write(tmp_path, "long_gop.inr", synthetic_file(h, rng=np.random.default_rng(0)))
    assert path.stat().st_size < 10_000
    cost = measure(path, "first")
    assert cost["error"] is None and cost["shape"] == cost["last_shape"] == [48, 64]
    assert cost["seconds"] < 20 and cost["rss_growth"] < 500 * MIB, cost


@pytest.mark.parametrize("n_frames", [1, 4])
def test_a_16384_square_frame_is_refused_before_allocation(tmp_path, n_frames):
    """Was: 50 s and 4.1 GB for one frame, a RuntimeError traceback for four."""
    h = header(16384, 16384, 2, Nirvana.QUALITY[1], n_frames=n_frames)
    path = write(tmp_path, "big_frame.inr", synthetic_file(h, bodies=False))
    assert path.stat().st_size < 200
    assert_refused_cheaply(path, "InrUnsupportedError",
                           "frame 16384x16384 has 268435456 samples, above the limit 33554432 (--max-pixels raises it)")


def test_millions_of_macs_per_pixel_are_refused(tmp_path):
    """Was: a 160-byte file declaring 2.83 M MACs/pixel, ~10 s for one 256x256 frame."""
    h = header(256, 256, 1, (0, 1, 1, 512, 512))
    path = write(tmp_path, "macs.inr", synthetic_file(h, bodies=False))
    assert_refused_cheaply(path, "InrUnsupportedError", "MACs per pixel of its padded frame, above the limit 524288")


def test_eight_layers_of_large_networks_are_refused(tmp_path):
    """Was: 8 layers of 19 M-parameter networks, 3.0 GB in 14 s. Now a 19 M network is invalid
    (the cap counts the shift tensors), and 8 networks just under the cap are above the level."""
    big = (2, (8, 1024, 16, 8, 8))  # 15.8 M parameters each
    h = header(176, 144, *big)
    path = write(tmp_path, "layers.inr", synthetic_file(h, LayerHeader((LayerSpec(*big, 100, 1),) * 7),
                                                        bodies=False))
    assert_refused_cheaply(path, "InrUnsupportedError", "the 8 layers have 126261168 parameters together")
    h = header(16, 16, 1, (1, 64, 1024, 1024, 1024, 512, 1, 1, 1, 1, 1))
    path = write(tmp_path, "19m.inr", synthetic_file(h, LayerHeader((LayerSpec(1, (1, 4, 8, 6, 8), 100, 1),) * 7),
                                                     bodies=False))
    assert_refused_cheaply(path, "InrFormatError", "exceeds 16777216")


def test_nirvana_checks_its_cap_before_building(tmp_path):
    """Was: a 133-byte header reached 3.3 GB, in ``info`` too (which exited 0); a larger one was an
    allocation traceback."""
    params = (8, 2048, 16, 1024, 1024)
    with pytest.raises(ValueError, match="exceeds 16777216"):
        ARCHITECTURES.get("nirvana")(1920, 1080, "420", params)
    path = write(tmp_path, "nirvana.inr", synthetic_file(header(1920, 1080, 2, params), bodies=False))
    assert path.stat().st_size < 200
    assert_refused_cheaply(path, "InrFormatError", "nirvana network of")


class TestCommandLine:
    def test_info_describes_a_file_above_the_level_and_exits_0(self, tmp_path):
        h = header(16384, 16384, 2, Nirvana.QUALITY[1])
        path = write(tmp_path, "big.inr", synthetic_file(h, bodies=False))
        result = CliRunner().invoke(main, ["info", str(path)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "exceeds decoder limit: frame 16384x16384 has 268435456 samples" in result.stdout
        result = CliRunner().invoke(main, ["info", str(path), "--json"], catch_exceptions=False)
        limits = json.loads(result.stdout)["limits"]
        assert limits["within"] is False and limits["level"]["max_pixels"] == 2**25

    def test_dec_refuses_with_the_unsupported_exit_code(self, tmp_path):
        h = header(16384, 16384, 2, Nirvana.QUALITY[1])
        path = write(tmp_path, "big.inr", synthetic_file(h, bodies=False))
        result = CliRunner().invoke(main, ["dec", str(path), "-o", str(tmp_path / "out.y4m"), "--quiet"],
                                    catch_exceptions=False)
        assert result.exit_code == InrUnsupportedError.exit_code == 6
        assert "--max-pixels raises it" in result.stderr
        assert not (tmp_path / "out.y4m").exists()

    def test_info_on_a_file_within_the_level(self, tmp_path):
        path = write(tmp_path, "ok.inr", synthetic_file(header(48, 32, 1, Gnerv.QUALITY[1], n_frames=2)))
        result = CliRunner().invoke(main, ["info", str(path)], catch_exceptions=False)
        assert "within decoder limits" in result.stdout


def test_api_open_takes_limits(tmp_path):
    from inrcodec.api import decode_to_y4m, open as open_inr
    from inrcodec.decode.options import DecodeOptions
    from inrcodec.levels import Limits

    path = write(tmp_path, "ok.inr", synthetic_file(header(48, 32, 1, Gnerv.QUALITY[1], n_frames=2)))
    with pytest.raises(InrUnsupportedError, match=r"frame 48x32 has 1536 samples, above the limit 1000"):
        open_inr(path, limits=Limits(max_pixels=1000))
    with pytest.raises(InrUnsupportedError, match="max-pixels"):
        decode_to_y4m(path, tmp_path / "out.y4m", DecodeOptions(limits=Limits(max_pixels=1000)))
    with open_inr(path, limits=Limits(max_pixels=1536)) as f:
        assert len(list(f)) == 2
    with pytest.raises(InrFormatError):
        open_inr(write(tmp_path, "bad.inr", synthetic_file(header(48, 32, 1, (1, 4, 8, 6)), bodies=False)))
