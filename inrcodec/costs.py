"""What an architecture's network costs, by arithmetic on the sequence header alone (stdlib only).

A decoder must know before it builds anything how large a network is and how much work one frame
takes (spec/levels.md): these functions compute it from (width, height, chroma, arch_params) with
integer arithmetic, and are also where each architecture's ``arch_params`` are validated. The
torch classes in ``inrcodec.models`` call them first, so validation and the parameter cap happen
before any allocation, and report their figures (one implementation, checked against the built
networks by tests/unit/test_costs.py). ``NETWORK_COSTS`` holds the permanent wire ids that
``ARCHITECTURES`` reuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .container.spec import ChromaFormat
from .registry import Registry

# spec/models.md §2, §2b: the most coded parameters of any network; larger arch_params are invalid
MAX_PARAMS = 1 << 24
# patches nirvana renders at a time without gradients: bounds its activations whatever the frame size
NIRVANA_PATCH_BATCH = 1024


@dataclass(frozen=True)
class NetworkCost:
    """One network's size and the work and memory of one frame, counted without building it."""

    params: int  # coded parameters: the elements of every tensor in wire order
    macs: int  # multiply-accumulates to render one frame (convolutions and linear layers)
    pixels: int  # luma samples of the frame (width x height)
    grid: int  # luma samples of the padded frame the network computes (its output grid)
    activation: int  # elements of the largest intermediate tensor while rendering one frame

    @property
    def macs_per_pixel(self) -> float:
        """Multiply-accumulates per luma pixel of the frame (what ``info`` reports)."""
        return self.macs / self.pixels

    @property
    def macs_per_grid_sample(self) -> float:
        """Multiply-accumulates per luma sample of the padded grid: the level's measure, which does
        not grow without bound for frames smaller than the network's grid (spec/levels.md)."""
        return self.macs / self.grid


CostFunction = Callable[[int, int, str, tuple[int, ...]], NetworkCost]
NETWORK_COSTS: Registry[CostFunction] = Registry("architecture")


def _chroma_channels(chroma: str) -> int:
    """Output channels of the chroma head: 2 at half resolution (4:2:0), 8 PixelShuffled (4:4:4)."""
    if chroma not in ChromaFormat.labels():
        raise ValueError(f"chroma must be one of {', '.join(ChromaFormat.labels())}, not {chroma!r}")
    return 2 if chroma == "420" else 8


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"frame size {width}x{height} must be at least 1x1")


def _heads(channels: int, k: int) -> int:
    """Parameters of head_y (4 outputs) and head_c (k outputs), conv3x3 on ``channels``."""
    return (4 + k) * (9 * channels + 1)


def _check_channels(name: str, channels: list[int], most: int) -> None:
    if any(not 1 <= c <= 1024 for c in channels) or len(channels) > most:
        raise ValueError(f"{name} channels must be 1..1024, at most {most} of them")


def _cap(name: str, params: int) -> None:
    if params > MAX_PARAMS:
        raise ValueError(f"{name} network of {params} parameters exceeds {MAX_PARAMS}")


@NETWORK_COSTS.register("gnerv", wire_id=1)
def gnerv_cost(width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> NetworkCost:
    """spec/models.md §2: arch_params = (up_mode, pe_levels, time_dim, C0, ..., Cn); ValueError if invalid."""
    _check_size(width, height)
    k = _chroma_channels(chroma)
    if len(arch_params) < 5:
        raise ValueError("gnerv needs (up_mode, pe_levels, time_dim, C0, C1, ...) with at least one block")
    up_mode, pe_levels, time_dim, *channels = (int(p) for p in arch_params)
    if up_mode not in (0, 1):
        raise ValueError(f"gnerv up_mode must be 0 or 1, not {up_mode}")
    if not 1 <= pe_levels <= 64 or not 1 <= time_dim <= 1024:
        raise ValueError("gnerv pe_levels must be 1..64 and time_dim 1..1024")
    _check_channels("gnerv", channels, 8)
    grid = 2 ** len(channels)  # 2^(n+1) for n blocks
    eh, ew = -(-height // grid), -(-width // grid)
    expand = 4 if up_mode == 0 else 1
    pairs = list(zip(channels[:-1], channels[1:]))
    params = (channels[0] * eh * ew + time_dim * (2 * pe_levels + 1) + _heads(channels[-1], k)
              + sum((2 * a) * (time_dim + 1) + expand * b * (9 * a + 1) for a, b in pairs))
    _cap("gnerv", params)
    # a block's conv costs the same in mode 0 (input resolution, 4x outputs) and mode 1 (output resolution)
    area = eh * ew
    macs = 2 * pe_levels * time_dim + sum(time_dim * 2 * a for a, _ in pairs)
    activation = channels[0] * area
    for a, b in pairs:
        macs += 9 * a * 4 * b * area
        # normalised input; mode 0: conv output (4b at this size); mode 1: up-sampled input and output
        activation = max(activation, a * area, 4 * b * area, 4 * a * area if up_mode else 0)
        area *= 4
    macs += 9 * channels[-1] * (4 + k) * area
    activation = max(activation, channels[-1] * area, (4 + k) * area)
    return NetworkCost(params, macs, width * height, 4 * area, activation)


@NETWORK_COSTS.register("nirvana", wire_id=2)
def nirvana_cost(width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> NetworkCost:
    """spec/models.md §2b: arch_params = (P, mlp_width, mlp_depth, C0, ..., Cn); ValueError if invalid."""
    _check_size(width, height)
    k = _chroma_channels(chroma)
    if len(arch_params) < 5:
        raise ValueError("nirvana needs (patch, mlp_width, mlp_depth, C0, C1, ...) with at least one block")
    patch, mlp_width, mlp_depth, *channels = (int(p) for p in arch_params)
    n_blocks = len(channels) - 1
    if patch not in (8, 16, 32, 64, 128) or patch < 2 ** (n_blocks + 1):
        raise ValueError(f"nirvana patch must be 8..128, a power of two >= 2^(blocks+1), not {patch}")
    if not 1 <= mlp_width <= 2048 or not 1 <= mlp_depth <= 16:
        raise ValueError("nirvana mlp_width must be 1..2048 and mlp_depth 1..16")
    _check_channels("nirvana", channels, 6)
    h0 = patch // 2 ** (n_blocks + 1)
    feature = channels[0] * h0 * h0
    pairs = list(zip(channels[:-1], channels[1:]))
    mlp_weights = 2 * mlp_width + (mlp_depth - 1) * mlp_width * mlp_width + feature * mlp_width
    params = (mlp_weights + mlp_depth * mlp_width + feature + _heads(channels[-1], k)
              + sum(4 * b * (9 * a + 1) for a, b in pairs))
    _cap("nirvana", params)
    # per patch: the MLP (counted every frame, though a batch shares it), the conv blocks and the heads
    patches = -(-height // patch) * -(-width // patch)
    half = patch // 2
    convs, h, per_patch = 0, h0, 0
    for a, b in pairs:
        convs += 9 * a * 4 * b * h * h
        per_patch = max(per_patch, a * h * h, 4 * b * h * h)
        h *= 2
    convs += 9 * channels[-1] * (4 + k) * h * h
    per_patch = max(per_patch, channels[-1] * h * h, (4 + k) * h * h)
    activation = max(patches * mlp_width, patches * feature, min(patches, NIRVANA_PATCH_BATCH) * per_patch,
                     patches * (4 + k) * half * half)
    return NetworkCost(params, patches * (mlp_weights + convs), width * height, patches * patch * patch, activation)


@NETWORK_COSTS.register("hinerv", wire_id=3)
def hinerv_cost(width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> NetworkCost:
    """spec/models.md §2c: arch_params = (t0, levels, local_t, mod_t, C0, ..., Cn); ValueError if invalid.

    MACs count the convolutions, as for the other architectures; the grids' temporal and bilinear
    interpolations are a few operations per feature and are not counted (spec/levels.md §3)."""
    _check_size(width, height)
    k = _chroma_channels(chroma)
    if len(arch_params) < 6:
        raise ValueError("hinerv needs (t0, levels, local_t, mod_t, C0, C1, ...) with at least one stage")
    t0, levels, local_t, mod_t, *channels = (int(p) for p in arch_params)
    if not 1 <= t0 <= 256 or not 1 <= levels <= 4 or not 0 <= local_t <= 256 or not 0 <= mod_t <= 256:
        raise ValueError("hinerv t0 must be 1..256, levels 1..4, local_t and mod_t 0..256")
    _check_channels("hinerv", channels, 8)
    grid = 2 ** len(channels)  # 2^(n+1) for n stages
    eh, ew = -(-height // grid), -(-width // grid)
    area = eh * ew
    pairs = list(zip(channels[:-1], channels[1:]))
    nodes = sum(t0 << level for level in range(levels))
    params = (nodes * channels[0] * area + (4 * local_t + 2 * mod_t) * sum(a for a, _ in pairs)
              + sum(b * (9 * a + 1) for a, b in pairs) + _heads(channels[-1], k))
    _cap("hinerv", params)
    macs, activation = 0, channels[0] * area
    for a, b in pairs:
        area *= 4
        macs += 9 * a * b * area
        activation = max(activation, a * area, b * area)
    macs += 9 * channels[-1] * (4 + k) * area
    activation = max(activation, (4 + k) * area)
    return NetworkCost(params, macs, width * height, 4 * area, activation)


def network_cost(arch_id: int, width: int, height: int, chroma: str, arch_params: tuple[int, ...]) -> NetworkCost:
    """The cost of architecture ``arch_id``'s network: InrUnsupportedError for an unknown id,
    ValueError for invalid arch_params."""
    return NETWORK_COSTS.by_id(arch_id)(width, height, chroma, tuple(arch_params))
