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


def test_fixture_is_the_reference_decoders():
    """web/test/format/fixtures/reference.json is what tools/export_web_fixtures.py writes now: a golden
    stream regenerated, or a change to the reference decoder's weights, shows here, not as a JavaScript
    failure far from its cause."""
    import json

    import export_web_fixtures as tool  # tools/, on the path through pyproject.toml

    with open(os.path.join(WEB, "test", "format", "fixtures", "reference.json")) as f:
        fixture = json.load(f)
    streams = {d.name: tool.stream_weights(d / "stream.inr") for d in sorted(tool.ROOT.iterdir())
               if (d / "stream.inr").is_file()}
    assert fixture["weights"] == streams, "regenerate: python tools/export_web_fixtures.py > " \
                                          "web/test/format/fixtures/reference.json"
    assert fixture["coders"] == tool.coder_cases()
