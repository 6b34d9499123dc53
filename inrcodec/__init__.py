"""inrcodec: a video codec whose bitstream holds neural networks.

The public API (``encode``, ``open``) is loaded lazily: importing ``inrcodec.container`` or
``inrcodec.coders`` (a player, a validator, a fuzzer) must not pull in torch.
"""

from . import threads as _threads

# before anything imports torch: libgomp reads its spin setting once, when torch loads it
_threads.configure_openmp()

from .errors import (  # noqa: E402
    InrChecksumError,
    InrError,
    InrFormatError,
    InrInputError,
    InrIOError,
    InrTruncatedError,
    InrUnsupportedError,
)

__version__ = "0.1.0"

__all__ = [
    "__version__", "encode", "open", "InrError", "InrFormatError", "InrTruncatedError",
    "InrChecksumError", "InrUnsupportedError", "InrInputError", "InrIOError",
]


def __getattr__(name: str):
    if name in ("encode", "open"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'inrcodec' has no attribute {name!r}")
