"""tools/probe_aggregate.py (issue 28's probes a and b1). The tool registers a plug-in architecture on
import, so everything runs in subprocesses and the registry of this test session stays as it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "samples", "carphone_48x32_8f.y4m")
TOOL = os.path.join(ROOT, "tools", "probe_aggregate.py")


def _python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "tools") + os.pathsep + ROOT)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_blend_is_the_own_output_when_its_logit_dominates_and_the_warp_when_a_reference_does():
    out = _python("""
        import torch, probe_aggregate as pa
        pa.SETTINGS.update(mode="neighbours", offsets=(-1, 1), gop=8, n_frames=8)
        net = pa.aggregate_network()(48, 32, "420", (1, 4, 8, 8, 8, 8))
        t = torch.arange(8) / 8.0
        with torch.no_grad():
            own = [torch.cat(c) for c in zip(*[net.own(t[i:i + 1])[0] for i in range(8)])]
            net.head_f.weight.zero_(); net.head_f.bias.zero_(); net.head_f.bias[4] = 50.0  # own logit
            a = net(t)
            net.head_f.bias[4] = -50.0 - pa.SELF_BIAS; net.head_f.bias[5] = -50.0; net.head_f.bias[6] = 50.0
            b = net(t)
        print(max(float((x - y).abs().max()) for x, y in zip(a, own)))
        # frame i shows frame i+1's own output; the last frame has no i+1 (masked out), so it blends its
        # own output and frame i-1's at equal logits
        print(max(float((x[:-1] - y[1:]).abs().max()) for x, y in zip(b, own)))
        print(max(float((x[-1] - (y[-1] + y[-2]) / 2).abs().max()) for x, y in zip(b, own)))
    """)
    own_err, next_err, last_err = (float(v) for v in out.split())
    assert own_err < 1e-5 and next_err < 1e-5 and last_err < 1e-5


def test_decoded_mode_renders_rounded_samples_in_decode_order():
    out = _python("""
        import torch, probe_aggregate as pa
        pa.SETTINGS.update(mode="decoded", offsets=(1,), gop=8, n_frames=8)
        net = pa.aggregate_network()(48, 32, "420", (1, 4, 8, 8, 8, 8))
        t = torch.arange(8) / 8.0
        with torch.no_grad():
            net.head_f.weight.zero_(); net.head_f.bias.zero_(); net.head_f.bias[2] = -50.0; net.head_f.bias[3] = 50.0
            frames = net(t)
            first = net.own(t[:1])[0]
        # every frame is what the decoder holds: 8-bit samples; with the reference's weight dominant,
        # each frame repeats the decoded frame 0, which is its own output rounded
        print(max(float(((p * 255) - (p * 255).round()).abs().max()) for p in frames))
        print(max(float((p - (f * 255).round().clamp(0, 255) / 255).abs().max()) for p, f in zip(frames, first)))
    """)
    frac, repeat = (float(v) for v in out.split())
    assert frac < 1e-4 and repeat < 1e-5


@pytest.mark.parametrize("mode,offsets", [("neighbours", "--offsets=-1,1"), ("decoded", "--offsets=1")])
def test_a_tiny_real_run_writes_its_file_and_reports_it(tmp_path, mode, offsets):
    out = tmp_path / "a.inr"
    r = subprocess.run([sys.executable, TOOL, SAMPLE, "-o", str(out), "--mode", mode, offsets, "--frames", "8", "--",
                        "--iters", "20", "--threads", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    d = json.loads(r.stdout)
    assert d["file_bytes"] == out.stat().st_size and 10 < d["psnr_yuv"] < 60
