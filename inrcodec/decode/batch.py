"""How many frames one network call renders (torch-free: every synthesis backend batches alike).

The batch size changes float results (docs/decoder-notes.md), so the encoder and every decoder
backend render a GOP's frames in the same batches, starting at its first frame.
"""

from __future__ import annotations

from ..levels import LEVEL

# frames per network call from a GOP's first: the batch size changes float results (docs/decoder-notes.md)
RENDER_BATCH = 4
# a batch's largest tensor: only a network above the level's max_activation renders fewer frames
ACTIVATION_BUDGET = RENDER_BATCH * LEVEL.max_activation


def render_batch(activation: int) -> int:
    """Frames per network call for a network whose largest tensor of one frame has ``activation``
    values: RENDER_BATCH within the level, halved (down to 1) while a batch exceeds the budget. Each
    value divides RENDER_BATCH, so a batch's frames are the same whichever frame was asked for."""
    batch = RENDER_BATCH
    while batch > 1 and batch * activation > ACTIVATION_BUDGET:
        batch //= 2
    return batch
