"""Bounded byte cursors: every read is checked against the bytes left before it happens.

Parsers never index a buffer directly; they read through ``ByteReader``, whose errors name the
field and its absolute file offset, so a malformed file fails with a precise InrError instead of
an IndexError or a silent short read. ``ByteWriter`` is the mirror image used by the writer.
"""

from __future__ import annotations

from . import spec
from ..errors import InrFormatError, InrTruncatedError


class ByteReader:
    """Cursor over a byte buffer; ``base`` is the file offset of the buffer's first byte."""

    def __init__(self, data: bytes | bytearray | memoryview, base: int = 0) -> None:
        self._buf = memoryview(data).cast("B")
        self._pos = 0
        self._base = base

    @property
    def pos(self) -> int:
        """Absolute file offset of the next byte to read."""
        return self._base + self._pos

    @property
    def remaining(self) -> int:
        """Bytes left in this reader."""
        return len(self._buf) - self._pos

    def _take(self, n: int, what: str) -> memoryview:
        if n < 0:
            raise InrFormatError(f"{what} at offset {self.pos}: negative length {n}")
        if n > self.remaining:
            raise InrTruncatedError(
                f"{what} at offset {self.pos}: needs {n} bytes, only {self.remaining} left"
            )
        view = self._buf[self._pos : self._pos + n]
        self._pos += n
        return view

    def _uint(self, n: int, what: str) -> int:
        return int.from_bytes(self._take(n, what), "big")

    def u8(self, what: str) -> int:
        """Read an unsigned byte."""
        return self._uint(1, what)

    def u16(self, what: str) -> int:
        """Read a big-endian u16."""
        return self._uint(2, what)

    def u32(self, what: str) -> int:
        """Read a big-endian u32."""
        return self._uint(4, what)

    def u64(self, what: str) -> int:
        """Read a big-endian u64."""
        return self._uint(8, what)

    def uvarint(self, what: str) -> int:
        """Read a minimal LEB128 unsigned varint of at most 10 bytes (spec §2.2)."""
        start = self.pos
        value = 0
        for i in range(spec.MAX_UVARINT_BYTES):
            if self.remaining == 0:
                raise InrTruncatedError(f"{what} at offset {start}: varint cut off after {i} bytes")
            byte = self._buf[self._pos]
            self._pos += 1
            value |= (byte & 0x7F) << (7 * i)
            if byte & 0x80 == 0:
                # a zero final byte would be a second spelling of a shorter varint (two files, one content)
                if byte == 0 and i > 0:
                    raise InrFormatError(f"{what} at offset {start}: over-long varint encoding")
                if value > spec.MAX_UVARINT:
                    raise InrFormatError(f"{what} at offset {start}: varint exceeds 64 bits")
                return value
        raise InrFormatError(
            f"{what} at offset {start}: varint longer than {spec.MAX_UVARINT_BYTES} bytes"
        )

    def bytes(self, n: int, what: str) -> bytes:
        """Read ``n`` bytes."""
        return bytes(self._take(n, what))

    def sub(self, n: int, what: str) -> ByteReader:
        """Split off a reader over the next ``n`` bytes and skip them here."""
        start = self.pos
        return ByteReader(self._take(n, what), base=start)

    def rest(self, what: str) -> bytes:
        """Read every byte left."""
        return self.bytes(self.remaining, what)

    def expect_end(self, what: str) -> None:
        """Fail if any byte is left unread."""
        if self.remaining:
            raise InrFormatError(
                f"{what}: {self.remaining} unexpected trailing bytes at offset {self.pos}"
            )


def uvarint_bytes(value: int) -> bytes:
    """The minimal LEB128 encoding of ``value`` (spec §2.2)."""
    if not 0 <= value <= spec.MAX_UVARINT:
        raise InrFormatError(f"varint value {value} outside 0..2**64-1")
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


class ByteWriter:
    """Append-only buffer with the same field vocabulary as ``ByteReader``."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def __len__(self) -> int:
        return len(self._buf)

    def _uint(self, value: int, n: int, what: str) -> None:
        if not 0 <= value < 1 << (8 * n):
            raise InrFormatError(f"{what} = {value} does not fit in u{8 * n}")
        self._buf += value.to_bytes(n, "big")

    def u8(self, value: int, what: str) -> None:
        """Append an unsigned byte."""
        self._uint(value, 1, what)

    def u16(self, value: int, what: str) -> None:
        """Append a big-endian u16."""
        self._uint(value, 2, what)

    def u32(self, value: int, what: str) -> None:
        """Append a big-endian u32."""
        self._uint(value, 4, what)

    def u64(self, value: int, what: str) -> None:
        """Append a big-endian u64."""
        self._uint(value, 8, what)

    def uvarint(self, value: int, what: str) -> None:
        """Append a minimal LEB128 varint."""
        if not 0 <= value <= spec.MAX_UVARINT:
            raise InrFormatError(f"{what} = {value} outside 0..2**64-1")
        self._buf += uvarint_bytes(value)

    def bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Append raw bytes."""
        self._buf += data

    def getvalue(self) -> bytes:
        """Everything written so far."""
        return bytes(self._buf)
