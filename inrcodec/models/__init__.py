"""Network architectures (torch). Importing this package fills ARCHITECTURES."""

from .base import ARCHITECTURES, InrModel, TensorSpec
from . import gnerv  # noqa: F401  (registers "gnerv")
from . import nirvana  # noqa: F401  (registers "nirvana")

__all__ = ["ARCHITECTURES", "InrModel", "TensorSpec"]
