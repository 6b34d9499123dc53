"""inrcodec.archs: each architecture's module (parsed arch_params, tensors, program), torch-free."""

from __future__ import annotations

import subprocess
import sys

import pytest

from inrcodec.archs import ARCHITECTURES, Builder, Op, output_offset


def _read_tensors(program) -> set[str]:
    """The coded tensors a program reads (heads: both heads' weights and biases)."""
    out = set()
    for op in program.ops:
        a = op.attrs
        if op.kind == "tensor":
            out.add(a["name"])
        elif op.kind == "lerp":
            out.add(a["grid"])
        elif op.kind in ("linear", "conv3x3"):
            out |= {a["prefix"] + ".weight", a["prefix"] + ".bias"}
        elif op.kind == "heads":
            out |= {"head_y.weight", "head_y.bias", "head_c.weight", "head_c.bias"}
    return out


@pytest.mark.parametrize("name", ["gnerv", "nirvana", "hinerv"])
@pytest.mark.parametrize("chroma", ["420", "444"])
def test_every_program_reads_exactly_the_coded_tensors(name, chroma):
    cls = ARCHITECTURES.get(name)
    for q, params in cls.QUALITY.items():
        names = {s.name for s in cls.tensors(37, 29, chroma, params)}
        assert _read_tensors(cls.program(37, 29, chroma, params)) == names, q


def test_programs_refuse_invalid_arch_params_and_kinds():
    with pytest.raises(ValueError):
        ARCHITECTURES.get("gnerv").program(176, 144, "420", (2, 16, 16, 8, 8))  # up_mode 2
    with pytest.raises(ValueError):
        ARCHITECTURES.get("hinerv").program(176, 144, "422", (1, 2, 0, 16, 8, 8))
    with pytest.raises(ValueError, match="unknown operation"):
        Op("softmax", "v0")
    b = Builder()
    assert b.heads(b.tensor("embedding")) == "v1" and len(b.program("v1").ops) == 2


def test_only_the_base_layer_has_an_output_offset():
    assert [output_offset(k) for k in range(3)] == [0.5, 0.0, 0.0]


def test_imports_neither_torch_nor_numpy():
    code = ("import sys; sys.modules['torch'] = None; sys.modules['numpy'] = None\n"
            "from inrcodec.archs import ARCHITECTURES\n"
            "print(len(ARCHITECTURES.get('nirvana').program(64, 48, '420', (16, 32, 2, 8, 8, 8)).ops))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) > 0
