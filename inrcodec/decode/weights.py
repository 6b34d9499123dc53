"""Model weights <-> integer tensors <-> the body of a MODL chunk (spec/models.md, "Model body").

This is the one module that sees both the architectures' tensor lists and the container's bytes.
Everything here is integer or exact binary32 arithmetic, so encoder and decoder agree bit for bit.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field

import numpy as np

from ..coders import get_coder
from ..container.bitio import ByteReader, ByteWriter, uvarint_bytes
from ..errors import InrFormatError
from ..tensors import TensorSpec
from ..quant.steps import MAX_STEP_CODE, MIN_STEP_CODE, step_from_code
from ..quant.tables import fit_laplace_code, laplace_table

KIND_I = 0
KIND_P = 1
MAX_ABS_SYMBOL = 32767


@dataclass
class QuantizedModel:
    """The integers of one model: per-tensor step codes and symbols (weights or residuals)."""

    kind: int
    eps_code: int  # P-models: interpolation factor eps = eps_code / 256; 0 for I-models
    step_codes: list[int]
    symbols: list[np.ndarray]  # int32, shaped like the tensors
    blob: bytes = b""  # the blob tensors' residual BLOB payload (raw, as its tag defines), empty if none
    blob_tag: int = 0  # that BLOB's tag (BlobTag.SYMBOLS or the legacy BlobTag.FLOAT), 0 if none
    blob_bounds: list[int] = field(default_factory=list)  # decoded bodies: the blob tensors' max_abs

    def digest(self) -> str:
        """MD5 of the decoded integers (step codes then symbols, little-endian int32; then the blob
        tensors' residual bytes, if any), for conformance."""
        h = hashlib.md5()
        h.update(np.asarray([self.kind, self.eps_code, *self.step_codes], "<i4").tobytes())
        for s in self.symbols:
            h.update(np.ascontiguousarray(s, "<i4").tobytes())
        h.update(self.blob)
        return h.hexdigest()


class BlobTag(enum.IntEnum):
    """What a residual BLOB holds (spec/models.md §3b); the value is its wire tag."""

    FLOAT = 1  # legacy: binary32 residuals, byte-plane shuffled (read, no longer written)
    SYMBOLS = 2  # the blob tensors' integer symbols, zig-zag uint16, byte-plane shuffled

    @property
    def value_bytes(self) -> int:
        """Bytes per stored value."""
        return 4 if self is BlobTag.FLOAT else 2


BLOB_TAGS = frozenset(BlobTag)  # membership of a tag read from a file (an int)


def blob_raw_size(tag: int, specs: list[TensorSpec]) -> int:
    """The exact decompressed size a residual BLOB of ``tag`` must have for these tensors."""
    return BlobTag(tag).value_bytes * sum(s.numel for s in specs if s.blob)


def _check_blob_size(tag: int, data: bytes, specs: list[TensorSpec]) -> None:
    need = blob_raw_size(tag, specs)
    if len(data) != need:
        what = "residuals" if tag == BlobTag.FLOAT else "symbols"
        raise InrFormatError(f"BLOB of {what} has {len(data)} bytes, the architecture needs {need}")


def _shuffle(values: np.ndarray) -> bytes:
    """Byte-plane shuffle: every value's least significant byte first, then the second bytes...
    (zstd and LZMA find the high planes, mostly zeros, very compressible; interleaved, much less)."""
    return values.view(np.uint8).reshape(-1, values.itemsize).T.tobytes()


def _unshuffle(data: bytes, dtype: str) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    return np.frombuffer(data, np.uint8).reshape(size, -1).T.copy().view(dtype).ravel()


def pack_blob(residuals: list[np.ndarray]) -> bytes:
    """Legacy BlobTag.FLOAT payload: binary32 residuals in wire order, byte-plane shuffled."""
    if not residuals:
        return b""
    return _shuffle(np.concatenate([np.ascontiguousarray(r, "<f4").ravel() for r in residuals]))


def unpack_blob(data: bytes, specs: list[TensorSpec]) -> list[np.ndarray]:
    """Inverse of ``pack_blob`` for the blob tensors among ``specs``; the size must match exactly."""
    _check_blob_size(BlobTag.FLOAT, data, specs)
    return _split(_unshuffle(data, "<f4").astype(np.float32), specs)


def pack_symbol_blob(symbols: list[np.ndarray]) -> bytes:
    """BlobTag.SYMBOLS payload: the blob tensors' symbols in wire order, zig-zag mapped to
    uint16 little-endian and byte-plane shuffled (|symbol| < 128 leaves the high plane all zeros)."""
    if not symbols:
        return b""
    flat = np.concatenate([np.asarray(s, np.int64).ravel() for s in symbols])
    return _shuffle(np.where(flat >= 0, 2 * flat, -2 * flat - 1).astype("<u2"))


def unpack_symbol_blob(data: bytes, specs: list[TensorSpec], bounds: list[int]) -> list[np.ndarray]:
    """Inverse of ``pack_symbol_blob``; each tensor's symbols must stay within its body's max_abs."""
    _check_blob_size(BlobTag.SYMBOLS, data, specs)
    u = _unshuffle(data, "<u2").astype(np.int32)
    out = _split(np.where(u % 2 == 0, u // 2, -(u + 1) // 2).astype(np.int32), specs)
    for spec, sym, bound in zip([s for s in specs if s.blob], out, bounds):
        if sym.size and int(np.abs(sym).max()) > bound:
            raise InrFormatError(f"BLOB: a symbol of {spec.name} exceeds its max_abs {bound}")
    return out


def _split(flat: np.ndarray, specs: list[TensorSpec]) -> list[np.ndarray]:
    out, pos = [], 0
    for spec in (s for s in specs if s.blob):
        out.append(flat[pos:pos + spec.numel].reshape(spec.shape))
        pos += spec.numel
    return out


def attach_blob(qm: QuantizedModel, specs: list[TensorSpec], tag: int, raw: bytes) -> None:
    """Put a decompressed residual BLOB into a model parsed by ``decode_body``: symbols go to the
    blob tensors' places; legacy float residuals stay in ``qm.blob`` for ``dequantize``."""
    if tag == BlobTag.SYMBOLS:
        parts = iter(unpack_symbol_blob(raw, specs, qm.blob_bounds))
        qm.symbols = [next(parts) if spec.blob else sym for spec, sym in zip(specs, qm.symbols)]
    elif tag == BlobTag.FLOAT:
        if any(qm.blob_bounds) or any(c for c, spec in zip(qm.step_codes, specs) if spec.blob):
            raise InrFormatError("model body: blob tensors with symbols beside a binary32 residual BLOB")
        _check_blob_size(tag, raw, specs)  # dequantize unpacks it
    else:
        raise InrFormatError(f"unknown residual BLOB tag {tag}")
    qm.blob, qm.blob_tag = raw, tag


def _zigzag(v: int) -> int:
    return 2 * v if v >= 0 else -2 * v - 1


def _unzigzag(u: int) -> int:
    return u // 2 if u % 2 == 0 else -(u + 1) // 2


def side_info_bytes(qm: QuantizedModel) -> int:
    """Bytes of the body before the coded stream (eps code and per-tensor fields)."""
    n = 1 if qm.kind == KIND_P else 0
    for code, sym in zip(qm.step_codes, qm.symbols):
        max_abs = int(np.abs(sym).max()) if sym.size else 0
        n += len(uvarint_bytes(_zigzag(code))) + len(uvarint_bytes(max_abs)) + (2 if max_abs else 0)
    return n


def encode_body(qm: QuantizedModel, coder_id: int, specs: list[TensorSpec] | None = None) -> bytes:
    """Serialise a quantized model: per-tensor side information, then one coded stream. Blob
    tensors among ``specs`` get their step code and max_abs here; their symbols go to the BLOB."""
    w = ByteWriter()
    if qm.kind == KIND_P:
        w.u8(qm.eps_code, "eps_code")
    segments = []
    blob = [s.blob for s in specs] if specs is not None else [False] * len(qm.symbols)
    for code, sym, is_blob in zip(qm.step_codes, qm.symbols, blob):
        flat = np.ascontiguousarray(sym, np.int32).ravel()
        max_abs = int(np.abs(flat).max()) if flat.size else 0
        if max_abs > MAX_ABS_SYMBOL:
            raise ValueError(f"symbol magnitude {max_abs} exceeds {MAX_ABS_SYMBOL}")
        w.uvarint(_zigzag(code), "step_code")
        w.uvarint(max_abs, "max_abs")
        if max_abs > 0 and not is_blob:
            lap = fit_laplace_code(flat)
            w.u16(lap, "laplace_code")
            segments.append((flat, laplace_table(lap, max_abs)))
    w.bytes(get_coder(coder_id).encode(segments))
    return w.getvalue()


def decode_body(body: bytes, specs: list[TensorSpec], kind: int, coder_id: int, base: int = 0) -> QuantizedModel:
    """Parse a model body written by ``encode_body`` for the tensors ``specs``; errors name file
    offsets counted from ``base``, the body's offset in the file (``ModelChunk.body_offset``)."""
    r = ByteReader(body, base=base)
    eps_code = r.u8("model body eps_code") if kind == KIND_P else 0
    step_codes: list[int] = []
    plan: list[tuple[TensorSpec, int]] = []
    segments = []
    bounds = []
    for spec in specs:
        at = r.pos
        code = _unzigzag(r.uvarint(f"{spec.name} step_code"))
        if not MIN_STEP_CODE <= code <= MAX_STEP_CODE:
            raise InrFormatError(f"model body at offset {at}: step code {code} of {spec.name} out of range")
        at = r.pos
        max_abs = r.uvarint(f"{spec.name} max_abs")
        if max_abs > MAX_ABS_SYMBOL:
            raise InrFormatError(f"model body at offset {at}: max_abs {max_abs} of {spec.name} "
                                 f"exceeds {MAX_ABS_SYMBOL}")
        step_codes.append(code)
        if spec.blob:  # symbols in the residual BLOB (§3b)
            bounds.append(max_abs)
            max_abs = 0
        plan.append((spec, max_abs))
        if max_abs > 0:
            at = r.pos
            lap = r.u16(f"{spec.name} laplace_code")
            if lap == 0:
                raise InrFormatError(f"model body at offset {at}: Laplace code 0 of {spec.name}")
            segments.append((spec.numel, laplace_table(lap, max_abs)))
    stream = r.rest("model body stream")
    decoded = iter(get_coder(coder_id).decode(stream, segments))
    symbols = []
    for spec, max_abs in plan:
        if max_abs == 0:
            symbols.append(np.zeros(spec.shape, np.int32))
        else:
            symbols.append(np.asarray(next(decoded), np.int32).reshape(spec.shape))
    return QuantizedModel(kind, eps_code, step_codes, symbols, blob_bounds=bounds)


def dequantize(qm: QuantizedModel, reference: list[np.ndarray] | None,
               specs: list[TensorSpec] | None = None) -> list[np.ndarray]:
    """Weights in binary32: q * step (exact) or, for blob tensors of a legacy float BLOB, the
    blob's residual; plus the reference for P-models (one rounded add)."""
    blobs = iter(unpack_blob(qm.blob, specs)) if qm.blob_tag == BlobTag.FLOAT else None
    out = []
    for i, (code, sym) in enumerate(zip(qm.step_codes, qm.symbols)):
        if blobs is not None and specs[i].blob:
            w = next(blobs)
        else:
            w = np.multiply(sym.astype(np.float32), np.float32(step_from_code(code)), dtype=np.float32)
        if reference is not None:
            w = np.add(reference[i], w, dtype=np.float32)
        out.append(w)
    return out
