"""Which optional parts are installed: a player needs only the base install, encoding the ``encode`` extra.

``pip install inrcodec`` installs what decoding needs (numpy, constriction, zstandard, click,
onnxruntime); ``pip install "inrcodec[encode]"`` adds torch and PyAV for the encoder, the benchmark
and the torch synthesis backend. Checked without importing anything (stdlib only).
"""

from __future__ import annotations

import importlib.util

ENCODE_EXTRA = 'pip install "inrcodec[encode]"'
ENCODE_MODULES = ("torch", "av", "pytorch_optimizer")  # the encode extra's packages, by import name


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it (an import refused by an
    import hook, or a module set to None in ``sys.modules``, counts as missing)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_encode_modules() -> list[str]:
    """The encode extra's packages that are not installed ([] when it is complete)."""
    return [m for m in ENCODE_MODULES if not is_installed(m)]
