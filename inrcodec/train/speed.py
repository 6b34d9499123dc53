"""How long one training iteration takes, from the network's size alone: the model behind the
presets' time budgets (``--preset``) and the first guess of ``--time``.

A preset is a promise of time per frame-pixel, not a count of iterations: a large network then
trains fewer iterations than a small one in the same time. The iteration count must not depend on
the machine (the bytes of an encode depend on it), so it comes from this model, fitted on the
reference machine (2-core x86, torch CPU, one thread, SOAP, batch 2; ``tools/bench_speed.py``,
docs/encoder-notes.md),
not from a clock. ``--time`` measures the clock instead (train/timing.py).

    seconds per iteration = a + b * batch * MACs of one frame + c * parameters

``a`` is the per-operation overhead that bounds small networks on small frames, ``b`` the
forward and backward arithmetic, ``c`` the optimiser (SOAP's per-tensor preconditioners).
"""

from __future__ import annotations

from ..archs import ARCHITECTURES

# architecture -> (a seconds, b seconds per MAC of the batch, c seconds per parameter), fitted (least
# squares in relative error) to tools/bench_speed.py on carphone, one thread, qualities 1..9 at 88x72,
# 176x144 and 352x288 (docs/encoder-notes.md): rms error 23 % (gnerv), 16 % (hinerv), 9 % (nirvana)
SPEED: dict[str, tuple[float, float, float]] = {
    "gnerv": (0.0054, 1.48e-10, 1.04e-7),
    "hinerv": (0.0069, 0.83e-10, 1.59e-7),
    "nirvana": (0.0087, 1.12e-10, 0.69e-7),
}
# an architecture the table does not know (a plug-in) is timed as gnerv
DEFAULT_SPEED = SPEED["gnerv"]


def iteration_seconds(model: str, arch_params: tuple[int, ...], width: int, height: int,
                      chroma: str = "420", batch: int = 2) -> float:
    """Modelled seconds of one training iteration of ``model`` at ``arch_params`` on frames of
    ``width`` x ``height`` (on the reference machine)."""
    a, b, c = SPEED.get(model, DEFAULT_SPEED)
    cost = ARCHITECTURES.get(model).cost(width, height, chroma, tuple(arch_params))
    return a + b * batch * cost.macs + c * cost.params
