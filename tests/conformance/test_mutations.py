"""The suite tells wrong decoders from right ones (issue 30 deliverable 1): every misreading of
tools/mutate_decoder.py applied to the numpy backend fails at least one golden stream."""

from __future__ import annotations

import os

import mutate_decoder as tool  # tools/, on the path through pyproject.toml

FEATURES = sorted(d for d in os.listdir(tool.SUITE) if d.isupper())
# misreadings no golden stream catches (each would need a stream that makes it matter): none
KNOWN_SURVIVORS: set[str] = set()


def test_the_unmutated_decoder_passes():
    assert all(j["passed"] for j in tool.run([""], FEATURES)[""].values())


def test_every_misreading_fails_a_stream():
    results = tool.run(list(tool.MUTATIONS), FEATURES)
    survivors = {name for name, judged in results.items()
                 if name not in tool.ROUNDING_ONLY and all(j["passed"] for j in judged.values())}
    assert survivors == KNOWN_SURVIVORS
    assert len(tool.MUTATIONS) - len(tool.ROUNDING_ONLY) >= 30
