"""Model weights <-> integer tensors <-> the body of a MODL chunk (spec/models.md, "Model body").

This is the one module that sees both the architectures' tensor lists and the container's bytes.
Everything here is integer or exact binary32 arithmetic, so encoder and decoder agree bit for bit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..coders import get_coder
from ..container.bitio import ByteReader, ByteWriter, uvarint_bytes
from ..errors import InrFormatError
from ..models.base import TensorSpec
from ..quant.quantizer import MAX_STEP_CODE, MIN_STEP_CODE, step_from_code
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
    blob: bytes = b""  # the BLOB payload of the blob tensors' residuals (pack_blob), empty if none

    def digest(self) -> str:
        """MD5 of the decoded integers (step codes then symbols, little-endian int32; then the blob
        tensors' residual bytes, if any), for conformance."""
        h = hashlib.md5()
        h.update(np.asarray([self.kind, self.eps_code, *self.step_codes], "<i4").tobytes())
        for s in self.symbols:
            h.update(np.ascontiguousarray(s, "<i4").tobytes())
        h.update(self.blob)
        return h.hexdigest()


BLOB_TAG_RESIDUALS = 1  # BLOB tag: binary32 residuals of the architecture's blob tensors


def pack_blob(residuals: list[np.ndarray]) -> bytes:
    """Blob tensors' binary32 residuals, in wire order, byte-plane shuffled (spec/models.md §3b):
    every value's least significant byte first, then the second bytes... (zstd and LZMA find the
    sign/exponent planes very compressible, the raw interleaved floats much less)."""
    if not residuals:
        return b""
    flat = np.concatenate([np.ascontiguousarray(r, "<f4").ravel() for r in residuals])
    return flat.view(np.uint8).reshape(-1, 4).T.tobytes()


def unpack_blob(data: bytes, specs: list[TensorSpec]) -> list[np.ndarray]:
    """Inverse of ``pack_blob`` for the blob tensors among ``specs``; the size must match exactly."""
    shapes = [s.shape for s in specs if s.blob]
    n = sum(s.numel for s in specs if s.blob)
    if len(data) != 4 * n:
        raise InrFormatError(f"BLOB of residuals has {len(data)} bytes, the architecture needs {4 * n}")
    flat = np.frombuffer(data, np.uint8).reshape(4, n).T.copy().view("<f4").ravel()
    out, pos = [], 0
    for shape in shapes:
        k = int(np.prod(shape))
        out.append(flat[pos:pos + k].astype(np.float32).reshape(shape))
        pos += k
    return out


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


def encode_body(qm: QuantizedModel, coder_id: int) -> bytes:
    """Serialise a quantized model: per-tensor side information, then one coded stream."""
    w = ByteWriter()
    if qm.kind == KIND_P:
        w.u8(qm.eps_code, "eps_code")
    segments = []
    for code, sym in zip(qm.step_codes, qm.symbols):
        flat = np.ascontiguousarray(sym, np.int32).ravel()
        max_abs = int(np.abs(flat).max()) if flat.size else 0
        if max_abs > MAX_ABS_SYMBOL:
            raise ValueError(f"symbol magnitude {max_abs} exceeds {MAX_ABS_SYMBOL}")
        w.uvarint(_zigzag(code), "step_code")
        w.uvarint(max_abs, "max_abs")
        if max_abs > 0:
            lap = fit_laplace_code(flat)
            w.u16(lap, "laplace_code")
            segments.append((flat, laplace_table(lap, max_abs)))
    w.bytes(get_coder(coder_id).encode(segments))
    return w.getvalue()


def decode_body(body: bytes, specs: list[TensorSpec], kind: int, coder_id: int) -> QuantizedModel:
    """Parse a model body written by ``encode_body`` for the tensors ``specs``."""
    r = ByteReader(body)
    eps_code = r.u8("model body eps_code") if kind == KIND_P else 0
    step_codes: list[int] = []
    plan: list[tuple[TensorSpec, int]] = []
    segments = []
    for spec in specs:
        code = _unzigzag(r.uvarint(f"{spec.name} step_code"))
        if not MIN_STEP_CODE <= code <= MAX_STEP_CODE:
            raise InrFormatError(f"model body: step code {code} of {spec.name} out of range")
        max_abs = r.uvarint(f"{spec.name} max_abs")
        if max_abs > MAX_ABS_SYMBOL:
            raise InrFormatError(f"model body: max_abs {max_abs} of {spec.name} exceeds {MAX_ABS_SYMBOL}")
        step_codes.append(code)
        plan.append((spec, max_abs))
        if max_abs > 0:
            lap = r.u16(f"{spec.name} laplace_code")
            if lap == 0:
                raise InrFormatError(f"model body: Laplace code 0 of {spec.name}")
            segments.append((spec.numel, laplace_table(lap, max_abs)))
    stream = r.rest("model body stream")
    decoded = iter(get_coder(coder_id).decode(stream, segments))
    symbols = []
    for spec, max_abs in plan:
        if max_abs == 0:
            symbols.append(np.zeros(spec.shape, np.int32))
        else:
            symbols.append(np.asarray(next(decoded), np.int32).reshape(spec.shape))
    return QuantizedModel(kind, eps_code, step_codes, symbols)


def dequantize(qm: QuantizedModel, reference: list[np.ndarray] | None,
               specs: list[TensorSpec] | None = None) -> list[np.ndarray]:
    """Weights in binary32: q * step (exact) or, for blob tensors, the blob's residual; plus the
    reference for P-models (one rounded add)."""
    blobs = iter(unpack_blob(qm.blob, specs)) if specs is not None and any(s.blob for s in specs) else None
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
