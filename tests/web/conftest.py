"""The web player's tests: what they need from the machine, each a skip with its reason when missing.

node (for web/src's modules), web/node_modules (``npm ci`` in web/: onnxruntime-web, esbuild,
playwright-core) and the distribution's Chromium (``apt-get install chromium``; never a browser
download). CI installs all three (README, "The web player").
"""

from __future__ import annotations

import os
import shutil

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(REPO, "web")
CONFORMANCE = os.path.join(REPO, "tests", "conformance")
CHROMIUM = os.environ.get("INRCODEC_CHROMIUM", "/usr/bin/chromium")


def golden_features() -> list[str]:
    """The golden streams' folders (tests/conformance/<FEATURE>/stream.inr)."""
    return sorted(d for d in os.listdir(CONFORMANCE)
                  if d.isupper() and os.path.exists(os.path.join(CONFORMANCE, d, "stream.inr")))


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed (apt-get install nodejs)")
    return path


@pytest.fixture(scope="session")
def node_modules(node) -> str:
    path = os.path.join(WEB, "node_modules", "onnxruntime-web")
    if not os.path.isdir(path):
        pytest.skip("web/node_modules is missing (cd web && npm ci)")
    return os.path.join(WEB, "node_modules")


@pytest.fixture(scope="session")
def chromium(node_modules) -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set INRCODEC_CHROMIUM)")
    if not os.path.isdir(os.path.join(node_modules, "playwright-core")):
        pytest.skip("web/node_modules has no playwright-core (cd web && npm ci)")
    return CHROMIUM
