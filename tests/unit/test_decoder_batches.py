"""The decoder renders a GOP batch by batch (spec/levels.md §4): the same samples as rendering the
whole GOP at once, whatever order the frames are asked for in, holding one batch at a time. At 12
bits, so that the rounding shows the float differences another batching would make."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from inrcodec.decode.decoder import InrFile
from inrcodec.decode.options import DecodeOptions
from inrcodec.decode.render import ACTIVATION_BUDGET, RENDER_BATCH, render_batch, render_layers
from inrcodec.fuzz.synthetic import synthetic_file
from inrcodec.container.chunks import LayerHeader, LayerSpec, SequenceHeader
from inrcodec.levels import LEVEL, Limits


def _header(arch_id: int, arch_params: tuple[int, ...], gop: int, n_frames: int, width=37, height=29,
            chroma=0) -> SequenceHeader:
    return SequenceHeader(
        width=width, height=height, n_frames=n_frames, fps_num=25, fps_den=1, chroma_format=chroma, bit_depth=12,
        color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=gop, gom_size=2,
        arch_id=arch_id, arch_params=arch_params, coder_id=1, seed=7)


CASES = {
    "gnerv, GOPs of 11": (_header(1, (1, 4, 8, 6, 8, 4), 11, 20), None),
    "gnerv 4:4:4, GOPs of 6": (_header(1, (0, 4, 8, 6, 8, 4), 6, 12, 24, 16, 1), None),
    "nirvana, GOPs of 9": (_header(2, (16, 16, 2, 4, 6, 4), 9, 17), None),
    "two layers, GOPs of 5": (_header(1, (1, 4, 8, 6, 8, 4), 5, 10),
                              LayerHeader((LayerSpec(2, (8, 8, 1, 4, 4), 100, 3),))),
}


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _whole_gops(data: bytes) -> list[tuple[np.ndarray, ...]]:
    """Every frame as the decoder made them before batches: each GOP's frames from one call of
    render_layers over the whole GOP."""
    out = []
    with InrFile(data, DecodeOptions(backend="torch")) as f:
        h = f.header
        nets = f._synth.nets
        for m in range(h.n_goms):
            for g, _qms, weights in f.decode_gom(m):
                for (net, _), w in zip(nets, weights):
                    net.load_arrays(w)
                _, n = h.gop_range(g)
                planes = render_layers(nets, torch.arange(n, dtype=torch.float32) / h.gop_size, h.bit_depth)
                out += [tuple(p[i] for p in planes) for i in range(n)]
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_frames_equal_whole_gop_rendering_in_any_order(name):
    header, layers = CASES[name]
    data = synthetic_file(header, layers, np.random.default_rng(1))
    expected = _whole_gops(data)
    assert len(expected) == header.n_frames
    order = list(range(header.n_frames))
    random.Random(name).shuffle(order)
    with InrFile(data, DecodeOptions(backend="torch")) as f:
        sequential = [tuple(np.array(p) for p in frame) for frame in f]
        shuffled = {n: tuple(np.array(p) for p in f[n]) for n in order}
        assert len(f._cache[2][0]) <= RENDER_BATCH  # one batch held, not a GOP
    for n in range(header.n_frames):
        for got in (sequential[n], shuffled[n]):
            assert all(np.array_equal(a, b) for a, b in zip(got, expected[n])), f"{name}: frame {n}"
    assert len({frame[0].tobytes() for frame in expected}) > header.n_frames // 2  # frames differ


@pytest.mark.parametrize("backend", ["numpy", "ort"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_free_backends_batch_alike_in_any_order(name, backend):
    """The same frames whatever order they are asked in, within one sample of the torch reference's."""
    if backend == "ort":
        pytest.importorskip("onnxruntime")
    header, layers = CASES[name]
    data = synthetic_file(header, layers, np.random.default_rng(1))
    expected = _whole_gops(data)
    order = list(range(header.n_frames))
    random.Random(name).shuffle(order)
    with InrFile(data, DecodeOptions(backend=backend)) as f:
        assert f.backend == backend
        sequential = [tuple(np.array(p) for p in frame) for frame in f]
        shuffled = {n: tuple(np.array(p) for p in f[n]) for n in order}
    for n in range(header.n_frames):
        assert all(np.array_equal(a, b) for a, b in zip(shuffled[n], sequential[n])), f"{name}: frame {n}"
        for a, b in zip(sequential[n], expected[n]):
            assert np.abs(a.astype(np.int32) - b.astype(np.int32)).max() <= 1, f"{name}: frame {n}"


def test_render_batch_is_four_within_the_level_and_shrinks_above_it():
    assert ACTIVATION_BUDGET == RENDER_BATCH * LEVEL.max_activation
    assert render_batch(1) == render_batch(LEVEL.max_activation) == RENDER_BATCH
    assert render_batch(LEVEL.max_activation + 1) == 2
    assert render_batch(2 * LEVEL.max_activation) == 2
    assert render_batch(2 * LEVEL.max_activation + 1) == 1
    assert render_batch(100 * LEVEL.max_activation) == 1


def test_a_network_above_the_level_activation_renders_smaller_batches(monkeypatch):
    """With max_activation raised, the decoder keeps a batch under the level's budget."""
    import inrcodec.decode.batch as batch
    from inrcodec.archs import ARCHITECTURES

    header = _header(1, (1, 4, 8, 6, 8, 4), 7, 7)
    data = synthetic_file(header, None, np.random.default_rng(2))
    activation = ARCHITECTURES.get("gnerv").cost(header.width, header.height, "420", header.arch_params).activation
    monkeypatch.setattr(batch, "ACTIVATION_BUDGET", 2 * activation)  # as if the level allowed 1/2 frame
    with InrFile(data, DecodeOptions(limits=Limits(max_activation=activation))) as f:
        assert f._batch == 2
        frames = list(f)
        assert len(frames) == 7 and len(f._cache[2][0]) == 1  # the last batch: frame 6 alone
