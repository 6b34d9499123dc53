"""Named parameter tables for ``--preset`` and the layers (data, not code paths); each architecture
owns its ``--quality`` ladder."""

from __future__ import annotations

# --quality levels, which every architecture's ladder covers (InrModel.QUALITY, .LAMBDAS);
# kept for api.QUALITY_LEVELS
QUALITY = tuple(range(1, 10))

# preset -> (iterations of a GOM's I-model, iterations of each P-model), for a 30-frame GOP;
# shorter GOPs scale the counts with their number of frames. Iterations are at batch 2, which on
# two cores beat batch 4 at equal wall time (carphone GOP 0, q4: 33.47 dB at 0.129 bpp after 6000
# iterations in 175 s, against 33.17 dB at 0.130 bpp after 4000 at batch 4 in 157 s); batch 1
# runs 1.5x the iterations per second and ended level with batch 2 at equal time (33.91 dB at
# 0.128 bpp against 33.75 / 34.00 dB for two batch-2 runs: run-to-run spread is about 0.25 dB).
# "medium" fills the 10-minute budget of 60 QCIF frames (GOP 30, GOM 2) on two cores with the q4
# network (~75 iterations/s): most of it goes to the I-model, since in a 14-run sweep moving
# iterations from the P- to the I-model gave a better point (16000/4000: 34.16 dB at 0.113 bpp;
# 14000/7000: 34.04 dB at 0.115). Larger networks (q6 and up) run proportionally longer.
PRESET: dict[str, tuple[int, int]] = {
    "fast": (2000, 1000),
    "medium": (28000, 10000),
    "slow": (80000, 30000),
}

# P-models start next to a good solution: Adam's first updates move every weight by about the
# learning rate whatever its gradient, which on a static clip scatters non-zero residuals over the
# whole network (a quarter of the rate kept a static clip's P-model under 25 % of its I-model).
# On carphone's moving GOPs a larger rate paid: at 2500 P iterations, factors 0.25 / 0.5 / 1.0 gave
# 8606 B / 33.82 dB, 8950 B / 34.01 dB, 9606 B / 34.20 dB, each step above the file's RD slope.
# Half the rate keeps the static clip cheap and takes most of that gain.
P_LR_FACTOR = 0.5

# --layers: a residual layer fits (source - what the layers below give) times this factor, stored
# per layer in the file. gnerv §4.3 found 100 best on its first residual level, and it is on
# carphone too (GOP 0, 30 frames, q2 base 8298 bytes at 31.61 dB, one residual layer, 3000
# iterations): q4 layer +0.24 dB for 1010 bytes at scale 100 against +0.21 dB for 1464 at scale 1;
# q8 layer +2.67 dB for 19952 bytes against +0.80 for 10191 (12.7 against 7.3 dB per bpp). (On the
# 48x32 test clip at 600 iterations scale 1 learned faster: small clips and short fits may want it.)
RESIDUAL_SCALE = 100
# --layers without --layer-quality: each residual layer this many quality steps above the last
LAYER_QUALITY_STEP = 2
