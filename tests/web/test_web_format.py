"""The player's decoder core (web/src/format, JavaScript) on the conformance suite: runs its node tests
(``npm run test:format`` in web/: every golden stream's weight digests and float weights, every invalid
stream's error class, the coders' edge cases). Skipped, with the reason, where node or web/node_modules
(``cd web && npm ci``) is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import WEB


def test_decoder_core_node_tests(node):
    for package in ("fzstd", "xz-decompress"):
        if not os.path.isdir(os.path.join(WEB, "node_modules", package)):
            pytest.skip(f"web/node_modules has no {package} (cd web && npm ci)")
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (apt-get install npm)")
    run = subprocess.run([npm, "run", "--silent", "test:format"], cwd=WEB, capture_output=True, text=True,
                         timeout=600)
    lines = (run.stdout + run.stderr).splitlines()
    failed = [line for i, line in enumerate(lines) if "not ok" in line or "error:" in line]
    report = "\n".join(failed[:40] + lines[-12:])
    assert run.returncode == 0, f"npm run test:format failed:\n{report}"
    assert "# fail 0" in run.stdout, report
