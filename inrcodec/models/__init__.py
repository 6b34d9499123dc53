"""What the torch networks the encoder trains share: ``InrModel``, the program's time operations (``ops``) and
``ARCHITECTURES``, each architecture's network by name or wire id; an architecture's own network is in its
module of ``inrcodec.archs``."""

from ..archs import ARCHITECTURES as _ARCHS
from .base import ArchOption, InrModel, TensorSpec

__all__ = ["ARCHITECTURES", "ArchOption", "InrModel", "TensorSpec", "arch_options"]


class _Networks:
    """Each registered architecture's torch network, by name or wire id: a view of the one registry,
    ``inrcodec.archs.ARCHITECTURES``, so a plug-in registered there is found here too."""

    kind = "architecture"

    def get(self, name: str) -> type[InrModel]:
        return _ARCHS.get(name).network_class()

    def by_id(self, wire_id: int) -> type[InrModel]:
        return _ARCHS.by_id(wire_id).network_class()

    def id_of(self, name: str) -> int:
        return _ARCHS.id_of(name)

    def name_of(self, wire_id: int) -> str:
        return _ARCHS.name_of(wire_id)

    def names(self) -> list[str]:
        return _ARCHS.names()

    def __contains__(self, name: object) -> bool:
        return name in _ARCHS

    def __iter__(self):
        return iter(_ARCHS)


ARCHITECTURES = _Networks()


def arch_options() -> dict[str, tuple[ArchOption, list[str]]]:
    """Every registered architecture's options by name: (the option, the architectures that take it)."""
    out: dict[str, tuple[ArchOption, list[str]]] = {}
    for name in _ARCHS.names():
        for opt in _ARCHS.get(name).OPTIONS:
            out.setdefault(opt.name, (opt, []))[1].append(name)
    return out
