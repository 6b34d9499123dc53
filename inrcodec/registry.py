"""One generic registry for everything chosen by name on the command line and by id in a file.

Names are what users type; ``wire_id`` is what a file stores and never changes once released (a
registry of things never written to a file, such as losses, registers without one). Duplicates
raise at import time; an unknown name is an input error (exit 7) listing the known ones, an
unknown wire id read from a file is unsupported (exit 6).
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from .errors import InrInputError, InrUnsupportedError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps a lowercase-hyphenated name and a permanent integer wire id to one object."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._by_name: dict[str, T] = {}
        self._by_id: dict[int, T] = {}
        self._id_of: dict[str, int] = {}

    def register(self, name: str, wire_id: int | None = None) -> Callable[[T], T]:
        """Decorator: register ``obj`` under ``name`` (and ``wire_id`` if it is stored in files); a
        class gets both stamped as its ``name`` and ``wire_id`` attributes."""

        def deco(obj: T) -> T:
            if name in self._by_name:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            if wire_id is not None and wire_id in self._by_id:
                raise ValueError(f"{self.kind} wire id {wire_id} registered twice")
            self._by_name[name] = obj
            if wire_id is not None:
                self._by_id[wire_id] = obj
                self._id_of[name] = wire_id
            if isinstance(obj, type):
                obj.name = name
                obj.wire_id = wire_id
            return obj

        return deco

    def unregister(self, name: str) -> None:
        """Remove ``name`` and its wire id (for tests that register a plug-in of their own)."""
        self._by_name.pop(name, None)
        wire_id = self._id_of.pop(name, None)
        if wire_id is not None:
            self._by_id.pop(wire_id, None)

    def get(self, name: str) -> T:
        """The object registered as ``name``; raises listing the known names."""
        try:
            return self._by_name[name]
        except KeyError:
            raise InrInputError(
                f"unknown {self.kind} {name!r} (known: {', '.join(sorted(self._by_name))})"
            ) from None

    def by_id(self, wire_id: int) -> T:
        """The object whose permanent wire id is ``wire_id``."""
        try:
            return self._by_id[wire_id]
        except KeyError:
            raise InrUnsupportedError(f"unknown {self.kind} id {wire_id}") from None

    def id_of(self, name: str) -> int:
        """The wire id of ``name``."""
        self.get(name)
        if name not in self._id_of:
            raise ValueError(f"{self.kind} {name!r} has no wire id: it is never stored in a file")
        return self._id_of[name]

    def name_of(self, wire_id: int) -> str:
        """The name registered with ``wire_id``."""
        self.by_id(wire_id)
        return next(n for n, i in self._id_of.items() if i == wire_id)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
