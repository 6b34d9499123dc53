"""The encoder never writes a model the decoder refuses (spec/models.md §4b): a fit whose weights leave
the range every decoder renders is an error, and nothing is left under the output name."""

from __future__ import annotations

import numpy as np
import pytest

from inrcodec.api import encode
from inrcodec.decode import weight_range
from inrcodec.errors import InrUnsupportedError


def test_a_model_outside_the_rendered_range_is_not_written(tmp_path, monkeypatch):
    y = np.zeros((2, 32, 48), np.uint8)
    uv = np.full((2, 16, 24), 128, np.uint8)
    dst = tmp_path / "a.inr"
    encode(zip(y, uv, uv), dst, quality=1, channels=(8, 8, 8), iters=2, threads=1)
    assert dst.exists()  # within the range: written
    monkeypatch.setattr(weight_range, "MAX_WEIGHT", 1e-9)  # any trained weight is now out of range
    dst2 = tmp_path / "b.inr"
    with pytest.raises(InrUnsupportedError, match=r"GOP 0: .* outside the ±1e-09 a decoder renders"):
        encode(zip(y, uv, uv), dst2, quality=1, channels=(8, 8, 8), iters=2, threads=1)
    assert not dst2.exists() and list(tmp_path.iterdir()) == [dst]
