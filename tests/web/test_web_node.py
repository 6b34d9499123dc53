"""web/test/synthesis/*.test.mjs under node's test runner (npm run test:synthesis): the player's MD5,
and its engine (decoder core + synthesis + onnxruntime-web) on golden streams, streamed and cut."""

from __future__ import annotations

import os
import subprocess

from conftest import WEB


def test_node_synthesis_suite_passes(node, node_modules):
    r = subprocess.run([node, "--test", "test/synthesis/"], cwd=WEB, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout and "# pass 0" not in r.stdout
