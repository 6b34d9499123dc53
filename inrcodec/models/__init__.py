"""Network architectures (torch). Importing this package fills ARCHITECTURES."""

from .base import ARCHITECTURES, ArchOption, InrModel, TensorSpec
from . import gnerv  # noqa: F401  (registers "gnerv")
from . import nirvana  # noqa: F401  (registers "nirvana")
from . import hinerv  # noqa: F401  (registers "hinerv")

__all__ = ["ARCHITECTURES", "ArchOption", "InrModel", "TensorSpec", "arch_options"]


def arch_options() -> dict[str, tuple[ArchOption, list[str]]]:
    """Every registered architecture's options by name: (the option, the architectures that take it)."""
    out: dict[str, tuple[ArchOption, list[str]]] = {}
    for name in ARCHITECTURES.names():
        for opt in ARCHITECTURES.get(name).OPTIONS:
            out.setdefault(opt.name, (opt, []))[1].append(name)
    return out
