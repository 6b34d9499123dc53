"""tools/entropy_probe.py prices symbols the way the coder codes them: its per-tensor figure is the
file's body size, and the alternatives are priced on the same symbols."""

from __future__ import annotations

import os

import numpy as np
import pytest

import entropy_probe as tool  # tools/, on the path through pyproject.toml

CONFORMANCE = os.path.join(os.path.dirname(__file__), "..", "conformance")


@pytest.mark.parametrize("feature", ["MULTIGOM_A", "LAYERS_A", "HINERV_A"])
def test_per_tensor_pricing_is_the_files_body_size(feature):
    rows = tool.probe(os.path.join(CONFORMANCE, feature, "stream.inr"))
    assert rows
    for r in rows:
        # the body also holds the P-model's eps byte and the coder's final word (up to 4 bytes)
        overhead = r["coded"] - r["tensor"] / 8 - (r["kind"] == "P")
        assert -1 <= overhead <= 5, r
        assert r["entropy"] <= r["tensor"]  # no side information, the empirical law: the floor


def test_per_channel_tables_pay_only_where_channels_differ():
    rng = np.random.default_rng(0)
    same = rng.laplace(0, 3, (8, 200)).round().astype(np.int64)
    scaled = (same * np.geomspace(0.2, 20, 8)[:, None]).round().astype(np.int64)
    assert sum(tool.table_bits(ch) for ch in same) > tool.table_bits(same)  # side info, nothing gained
    assert sum(tool.table_bits(ch) for ch in scaled) < 0.9 * tool.table_bits(scaled)


def test_the_context_model_gains_on_clustered_zeros():
    runs = np.repeat(np.array([0, 5, 0, -4, 0, 6] * 50), 20)
    assert tool.context_bits(runs) < 0.8 * tool.table_bits(runs)
