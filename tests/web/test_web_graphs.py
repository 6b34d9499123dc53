"""The player's programs and ONNX graphs are the Python ort backend's, byte for byte.

The browser cannot run Python, so web/src/synth writes each architecture's program and the graph of
its map operations in JavaScript (program.js, onnx.js, network.js). This test is what keeps the two
from drifting: for every layer of every golden stream, and every quality of every architecture at
carphone's size and at 1280x720 in 4:2:0 and 4:4:4, node prints the JavaScript program and graph and
they must equal inrcodec.archs' program and onnx_graph's graph exactly. A new architecture, or any
change to a program or to the graph writer, fails here until both sides agree.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess

import numpy as np
import pytest

from inrcodec.archs import ARCHITECTURES
from inrcodec.container.chunks import layer_specs
from inrcodec.container.reader import ContainerReader
from inrcodec.container.spec import ChromaFormat

from conftest import CONFORMANCE, WEB, golden_features

og = pytest.importorskip("inrcodec.decode.onnx_graph")
pytest.importorskip("onnxruntime")


def golden_networks() -> list[dict]:
    """Every layer of every golden stream: (arch_id, arch_params, width, height, chroma)."""
    out = []
    for feature in golden_features():
        with ContainerReader(os.path.join(CONFORMANCE, feature, "stream.inr")) as r:
            h = r.header
            chroma = ChromaFormat.from_code(h.chroma_format).label
            for ls in layer_specs(h, r.layers):
                out.append({"feature": feature, "arch_id": ls.arch_id, "arch_params": list(ls.arch_params),
                            "width": h.width, "height": h.height, "chroma": chroma})
    return out


def ladder_networks() -> list[dict]:
    """Every quality of every architecture at 176x144 4:2:0, 1280x720 4:2:0 and 64x48 4:4:4."""
    out = []
    for name in ARCHITECTURES.names():
        arch = ARCHITECTURES.get(name)
        for q, params in sorted(arch.QUALITY.items()):
            for width, height, chroma in ((176, 144, "420"), (1280, 720, "420"), (64, 48, "444")):
                out.append({"feature": f"{name} q{q}", "arch_id": arch.wire_id, "arch_params": list(params),
                            "width": width, "height": height, "chroma": chroma})
    return out


def python_side(n: dict) -> tuple[dict, bytes]:
    """inrcodec's program (as JSON data) and the ort backend's graph for network ``n`` (zero weights:
    the graph depends on the shapes only)."""
    arch = ARCHITECTURES.by_id(n["arch_id"])
    args = (n["width"], n["height"], n["chroma"], tuple(n["arch_params"]))
    prog = arch.program(*args)
    program = {"ops": [{"kind": op.kind, "out": op.out, "args": list(op.args), "attrs": dict(op.attrs)}
                       for op in prog.ops], "output": prog.output}
    net = og.OrtNetwork(arch, *args, 0.5, og.session_options(1))
    net._make_session = lambda: None  # shapes only: no session needed
    net.load_arrays([np.zeros(s.shape, np.float32) for s in arch.tensors(*args)])
    return program, net.graph()


def javascript_side(node: str, networks: list[dict]) -> list[dict]:
    out = subprocess.run([node, os.path.join(WEB, "test", "synthesis", "graphs.mjs")], input=json.dumps(networks),
                         capture_output=True, text=True, timeout=600, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("which", ["golden", "ladder"])
def test_javascript_programs_and_graphs_are_pythons(node, which):
    networks = golden_networks() if which == "golden" else ladder_networks()
    assert len(networks) >= (30 if which == "golden" else 27)
    got = javascript_side(node, networks)
    assert len(got) == len(networks)
    for n, js in zip(networks, got):
        program, graph = python_side(n)
        assert js["program"] == program, f"{n['feature']}: the JavaScript program differs from inrcodec's"
        assert base64.b64decode(js["graph"]) == graph, f"{n['feature']}: the JavaScript graph differs from onnx_graph's"


def test_the_comparison_sees_a_difference(node):
    """Other channels give the same program but another graph (weight shapes): the comparison sees it."""
    a = {"arch_id": 1, "arch_params": [1, 16, 16, 24, 32, 24, 16], "width": 176, "height": 144, "chroma": "420"}
    b = dict(a, arch_params=[1, 16, 16, 24, 32, 24, 12])
    js = javascript_side(node, [b])[0]
    program, graph = python_side(a)
    assert js["program"] == program
    assert base64.b64decode(js["graph"]) != graph


def test_javascript_folds_the_weights_as_python(node):
    """The folded kernels of up2 + conv3x3 the player feeds are onnx_graph's, bit for bit (the graph test
    uses zero weights): weights over a wide range of magnitudes, where a sum taken in another order
    would round differently."""
    rng = np.random.default_rng(31)
    c, cin = 3, 4
    weight = (rng.standard_normal((c, cin, 3, 3)) * np.exp(rng.uniform(-30, 30, (c, cin, 3, 3)))).astype(np.float32)
    script = (f"import {{ foldUp2Conv }} from {json.dumps(os.path.join(WEB, 'src', 'synth', 'network.js'))};\n"
              f"const w = Float32Array.from({json.dumps(weight.ravel().tolist())});\n"
              f"for (const [place, k] of foldUp2Conv(w, {c}, {cin})) "
              "console.log(JSON.stringify([place, Buffer.from(k.buffer).toString('base64')]));\n")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    got = dict(json.loads(line) for line in out.splitlines())
    want = og.fold_up2_conv(weight)
    assert set(got) == {f"{r}.{col}" for r, col in want}
    for (r, col), kernel in want.items():
        assert base64.b64decode(got[f"{r}.{col}"]) == kernel.astype("<f4").tobytes(), f"{r}.{col} differs"
