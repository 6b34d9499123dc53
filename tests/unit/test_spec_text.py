"""spec/ stands alone (issue 21 §4): what the spec text says, written out here, against the code.

Each check implements a rule of spec/ from its text, with Python integers and NumPy binary32 /
binary64 arithmetic only, and holds it against the reference implementation or the golden streams:

- the weight digest of spec/conformance.md, against every ``weights_md5`` of tests/conformance/;
- the θ₀ word stream (PCG64 seeded by SeedSequence) and bounds of spec/models.md §5;
- the exact binary32 steps of spec/models.md §1b and §2–§2c (time position, encodings, centroids,
  temporal interpolation, heads and crop) and the tolerance claimed for bilinear up-sampling;
- the ANS coder of spec/entropy-coding.md §2.4;
- that normative text names no code an outsider cannot see.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inrcodec.coders import FreqTable, fixed_point_pmf, get_coder
from inrcodec.coders.blob import decompress_blob
from inrcodec.container.chunks import BlobChunk, ModelChunk
from inrcodec.container.reader import ContainerReader
from inrcodec.decode.init import init_arrays
from inrcodec.decode.model_io import build_layers
from inrcodec.decode.weights import decode_body
from inrcodec.errors import InrFormatError
from inrcodec.models import ARCHITECTURES
from inrcodec.models.ops import fourier, sinusoid, temporal_lerp
from inrcodec.quant.tables import laplace_table

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(REPO, "spec")
SUITE = os.path.join(REPO, "tests", "conformance")
FEATURES = sorted(d for d in os.listdir(SUITE) if d.isupper() and os.path.isdir(os.path.join(SUITE, d)))
f32 = np.float32


# ---------------------------------------------------------------------------------------------
# spec/conformance.md, "Weight digest" (with spec/models.md §3b for the BLOB)


def int32(values) -> bytes:
    return np.asarray(values, dtype="<i4").tobytes()


def spec_blob_symbols(raw: bytes, n: int) -> np.ndarray:
    """models.md §3b tag 2: 2·n bytes, the low bytes of every value, then the high bytes; zig-zag."""
    u = np.frombuffer(raw[:n], np.uint8).astype(np.int64) + 256 * np.frombuffer(raw[n:], np.uint8).astype(np.int64)
    return np.where(u % 2 == 0, u // 2, -(u + 1) // 2)


def spec_digest(kind: int, body: bytes, specs, coder_id: int, blob: BlobChunk | None) -> str:
    qm = decode_body(body, specs, kind, coder_id)  # the body's step codes and stream symbols
    eps_code = body[0] if kind == 1 else 0  # item 2: a P-model's first body byte; 0 for an I-model
    h = hashlib.md5(int32([kind, eps_code, *qm.step_codes]))
    raw = b"" if blob is None else decompress_blob(blob.data, blob.method, blob.raw_size)
    from_blob = iter([])
    if blob is not None and blob.tag == 2:
        n = sum(s.numel for s in specs if s.blob)
        flat, pos = spec_blob_symbols(raw, n), 0
        parts = []
        for s in (s for s in specs if s.blob):
            parts.append(flat[pos:pos + s.numel])
            pos += s.numel
        from_blob = iter(parts)
    for spec, sym in zip(specs, qm.symbols):
        if spec.blob:
            assert not sym.any()  # not in the stream
            if blob is not None and blob.tag == 2:
                sym = next(from_blob)
            else:
                assert qm.step_codes[specs.index(spec)] == 0  # tag 1: step code 0, symbols zeros
        h.update(int32(np.ravel(sym)))
    h.update(raw)  # item 5: the decompressed residual BLOB, as stored
    return h.hexdigest()


@pytest.mark.parametrize("feature", FEATURES)
def test_weight_digest_as_the_spec_defines_it(feature):
    with open(os.path.join(SUITE, feature, "expected.json")) as f:
        expected = json.load(f)["models"]
    reader = ContainerReader(os.path.join(SUITE, feature, "stream.inr"))
    try:
        header = reader.header
        layers = build_layers(header, reader.layers, "cpu")
        got = []
        for gom in range(header.n_goms):
            chunks = reader.read_gom(gom)
            for i, chunk in enumerate(chunks):
                if not isinstance(chunk, ModelChunk):
                    continue
                after = []
                for c in chunks[i + 1:]:
                    if isinstance(c, ModelChunk):
                        break
                    after.append(c)
                specs = layers[chunk.layer].specs
                residual = [b for b in after if isinstance(b, BlobChunk) and b.tag in (1, 2)]
                blob = residual[0] if any(s.blob for s in specs) else None
                entry = {"gop": chunk.gop_index, "kind": "IP"[int(chunk.kind)],
                         "weights_md5": spec_digest(int(chunk.kind), chunk.body, specs, header.coder_id, blob)}
                got.append(entry if len(layers) == 1 else {**entry, "layer": chunk.layer})
    finally:
        reader.close()
    assert got == expected


def test_weight_digest_example_of_the_spec():
    text = open(os.path.join(SPEC, "conformance.md"), encoding="utf-8").read()
    assert "6816530dcea2ebd80392f3015bb11570" in text
    assert hashlib.md5(int32([0, 0, -40, 3, 1, -2, 0])).hexdigest() == "6816530dcea2ebd80392f3015bb11570"


# ---------------------------------------------------------------------------------------------
# spec/models.md §5: θ₀

M32, M64, M128 = (1 << 32) - 1, (1 << 64) - 1, (1 << 128) - 1
PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645


def spec_words(seed: int):
    """§5.1: the 64-bit word stream of a seed."""
    e = []
    while True:
        e.append(seed & M32)
        seed >>= 32
        if seed == 0:
            break
    h = 0x43B0D7E5

    def hashmix(v: int) -> int:
        nonlocal h
        v ^= h
        h = (h * 0x931E8875) & M32
        v = (v * h) & M32
        return v ^ (v >> 16)

    def mix(x: int, y: int) -> int:
        r = (0xCA01F9DD * x - 0x4973F715 * y) & M32
        return r ^ (r >> 16)

    pool = [hashmix(e[i] if i < len(e) else 0) for i in range(4)]
    for src in range(4):
        for dst in range(4):
            if dst != src:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    g, o = 0x8B51F9DD, []
    for j in range(8):
        v = pool[j % 4] ^ g
        g = (g * 0x58F38DED) & M32
        v = (v * g) & M32
        o.append(v ^ (v >> 16))
    s = [o[2 * m] + (o[2 * m + 1] << 32) for m in range(4)]
    init_state, init_seq = (s[0] << 64) + s[1], (s[2] << 64) + s[3]
    c = (2 * init_seq + 1) & M128
    x = c  # one step from 0
    x = (x + init_state) & M128
    x = (PCG_MULT * x + c) & M128
    while True:
        x = (PCG_MULT * x + c) & M128
        v, rot = ((x >> 64) ^ x) & M64, x >> 122
        yield ((v >> rot) | (v << (64 - rot))) & M64


@pytest.mark.parametrize("seed", [0, 1, 2, 12345, 2**32 - 1, 2**32, 2**63 + 5, 2**64 - 1])
def test_word_stream_is_numpys_pcg64(seed):
    words = spec_words(seed)
    assert [next(words) for _ in range(16)] == [int(w) for w in np.random.PCG64(seed).random_raw(16)]


def test_word_stream_check_values_are_in_the_spec():
    text = open(os.path.join(SPEC, "models.md"), encoding="utf-8").read()
    for seed in (0, 1, 2**64 - 1):
        words = spec_words(seed)
        for _ in range(2):
            assert f"0x{next(words):016X}" in text


def spec_bounds(arch: str, p: tuple[int, ...]) -> list[float]:
    """The init bounds of the tables of §2, §2b, §2c, in binary64 as §5 says (1/√n = 1 / fl64(√n))."""
    def inv(n: int) -> float:
        return 1.0 / math.sqrt(n)

    if arch == "gnerv":
        _, pe, td, *ch = p
        out = [1.0, inv(2 * pe), 0.0]
        for j in range(len(ch) - 1):
            out += [inv(td), 0.0, inv(9 * ch[j]), 0.0]
    elif arch == "nirvana":
        _, m, depth, *ch = p
        out = []
        for j in range(depth):
            out += [0.5 if j == 0 else math.sqrt(6.0 / m) / 30.0, 0.0]
        out += [inv(m), 0.0]
        for j in range(len(ch) - 1):
            out += [inv(9 * ch[j]), 0.0]
    else:
        _, levels, lt, mt, *ch = p
        out = [1.0 if level == 0 else 0.0 for level in range(levels)]
        for j in range(len(ch) - 1):
            out += [0.0] * (lt > 0) + [0.0] * (mt > 0) + [inv(9 * ch[j]), 0.0]
    return out + [inv(9 * ch[-1]), 0.0, inv(9 * ch[-1]), 0.0]


@pytest.mark.parametrize("arch,params,chroma", [
    ("gnerv", (1, 3, 5, 4, 3, 2), "420"), ("gnerv", (0, 2, 3, 3, 2), "444"),
    ("nirvana", (8, 6, 3, 2, 3, 2), "420"), ("hinerv", (1, 2, 2, 3, 3, 2, 2), "420")])
def test_theta0_as_the_spec_defines_it(arch, params, chroma):
    model = ARCHITECTURES.get(arch)(12, 10, chroma, params)
    specs = model.tensor_specs()
    assert [s.init_bound for s in specs] == spec_bounds(arch, params)
    seed = 987654321987
    words = spec_words(seed)
    for spec, got in zip(specs, init_arrays(specs, seed)):
        if spec.init_bound == 0.0:
            assert not got.any()
            continue
        want = []
        for _ in range(spec.numel):
            u = (next(words) >> 11) * 2.0**-53
            want.append((2.0 * u - 1.0) * spec.init_bound)  # binary64: Python floats
        assert np.array_equal(np.asarray(want, np.float64).astype(f32).reshape(spec.shape), got), spec.name


# ---------------------------------------------------------------------------------------------
# spec/models.md §1b and §2–§2c: the exact binary32 steps


def test_time_position_is_one_binary32_division():
    for gop in (1, 3, 7, 10, 30, 1000, 4097, 10**7):
        n = min(gop, 3000)
        got = (torch.arange(n, dtype=torch.float32) / gop).numpy()  # what decoder.py and gom.py compute
        assert np.array_equal(got, np.arange(n, dtype=f32) / f32(gop))


def correctly_rounded32(q: Fraction) -> np.float32:
    """The binary32 nearest to the rational q (ties to even)."""
    near = f32(float(q))
    cands = [np.nextafter(near, f32(-np.inf)), near, np.nextafter(near, f32(np.inf))]
    return min(cands, key=lambda v: (abs(Fraction(float(v)) - q), int(np.array(v).view(np.int32)) & 1))


def test_gnerv_positional_encoding_angles():
    t = torch.tensor([0.0, 1 / 3, 0.5, 0.99], dtype=torch.float32)
    c = np.array([correctly_rounded32(Fraction(5, 4) ** k) for k in range(64)], f32)
    assert c[45] == f32(22958.875)  # the spec's noted exception: the reference gives 22958.873 at pe_levels 64
    for levels in range(1, 64):
        f = c[:levels] * f32(math.pi)
        a = torch.from_numpy(t.numpy()[:, None] * f[None, :])
        want = torch.stack([a.sin(), a.cos()], dim=-1).flatten(1)
        assert torch.equal(fourier(t, 1.25, levels), want), levels


def test_nirvana_centroids_and_embedding_angles():
    model = ARCHITECTURES.get("nirvana")(37, 29, "420", (8, 4, 1, 2, 2))
    xs = f32(2) * ((np.arange(5, dtype=f32) + f32(0.5)) * f32(8) / f32(37)) - f32(1)
    ys = f32(2) * ((np.arange(4, dtype=f32) + f32(0.5)) * f32(8) / f32(29)) - f32(1)
    want = np.stack([np.tile(xs, 4), np.repeat(ys, 5)], 1)
    assert np.array_equal(model.centroids(torch.device("cpu")).numpy(), want)
    for dim in (1, 7, 32, 1000):
        t = np.array([0.0, 0.25, 2 / 3], f32)
        u = f32(32) * t
        e = (f32(2) * np.arange(dim // 2, dtype=f32)) / f32(dim)
        d = (10000.0 ** torch.from_numpy(e)).numpy()  # the reference's binary32 power function
        assert np.all(np.abs(d.astype(np.float64) - 10000.0 ** e.astype(np.float64))
                      <= np.spacing(np.float64(d).astype(f32)).astype(np.float64) * 1.0)  # within 1 ulp
        a = torch.from_numpy(u[:, None] / d[None, :])
        tau = torch.stack([a.sin(), a.cos()], dim=-1).flatten(1)
        tau = F.pad(tau, (0, dim - tau.shape[1]))
        assert torch.equal(sinusoid(torch.from_numpy(u), 10000.0, dim), tau)


def test_hinerv_lerp_is_the_spec_formula():
    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 16):
        grid = rng.standard_normal((n, 3)).astype(f32)
        for t in np.arange(7, dtype=f32) / f32(7):
            p = min(max(f32(t * f32(n)) - f32(0.5), f32(0)), f32(n - 1))
            i0 = int(np.floor(p))
            i1, fr = min(i0 + 1, n - 1), f32(p - f32(i0))
            want = grid[i0] * (f32(1) - fr) + grid[i1] * fr
            got = temporal_lerp(torch.from_numpy(grid), torch.tensor([t]))[0].numpy()
            assert np.array_equal(got, want)


def spec_up2(x: np.ndarray) -> np.ndarray:
    """§1b.6: separable, columns first, then rows, binary32."""
    def axis(n):
        o = np.arange(2 * n)
        s = np.maximum(0.0, (o + 0.5) / 2 - 0.5)
        i0 = np.minimum(np.floor(s).astype(int), n - 1)
        return i0, np.minimum(i0 + 1, n - 1), (s - i0).astype(f32)
    r0, r1, wr = axis(x.shape[-2])
    c0, c1, wc = axis(x.shape[-1])
    h = x[..., c0] * (f32(1) - wc) + x[..., c1] * wc
    return h[..., r0, :] * (f32(1) - wr)[:, None] + h[..., r1, :] * wr[:, None]


@pytest.mark.parametrize("c,h,w,channels_last", [(2, 5, 7, False), (8, 5, 7, True), (16, 9, 10, True),
                                                  (3, 40, 45, False), (24, 1, 1, True)])
def test_bilinear_is_the_spec_value_up_to_rounding(c, h, w, channels_last):
    x = np.random.default_rng(c).standard_normal((1, c, h, w)).astype(f32) * f32(10)
    t = torch.from_numpy(x)
    if channels_last:
        t = t.contiguous(memory_format=torch.channels_last)
    got = F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False).contiguous().numpy()
    want = spec_up2(x)
    assert got.shape == want.shape
    assert np.abs(got.astype(np.float64) - want).max() <= 2.0**-22 * np.abs(x).max()


@pytest.mark.parametrize("chroma", ["420", "444"])
def test_heads_crop_the_top_left_corner(chroma):
    model = ARCHITECTURES.get("gnerv")(7, 5, chroma, (1, 2, 2, 2, 2))  # padded 8 x 8: heads 4 x 4
    k = 2 if chroma == "420" else 8
    heads = torch.arange((4 + k) * 16, dtype=torch.float32).reshape(1, 4 + k, 4, 4)
    y, u, v = (p[0].numpy() for p in model.planes(heads))
    hv = heads[0].numpy()
    want_y = np.empty((8, 8), f32)
    for dy in (0, 1):
        for dx in (0, 1):
            want_y[dy::2, dx::2] = hv[2 * dy + dx]
    assert np.array_equal(y, want_y[:5, :7] + f32(0.5))
    if chroma == "420":
        assert np.array_equal(u, hv[4][:3, :4] + f32(0.5)) and np.array_equal(v, hv[5][:3, :4] + f32(0.5))
    else:
        for plane, first in ((u, 4), (v, 8)):
            want = np.empty((8, 8), f32)
            for dy in (0, 1):
                for dx in (0, 1):
                    want[dy::2, dx::2] = hv[first + 2 * dy + dx]
            assert np.array_equal(plane, want[:5, :7] + f32(0.5))


# ---------------------------------------------------------------------------------------------
# spec/entropy-coding.md §2.4: the ANS coder


def spec_model(table: FreqTable):
    p = [int(v) for v in fixed_point_pmf(table)]
    left = [0]
    for v in p:
        left.append(left[-1] + v)
    return left, p


def spec_ans_encode(segments) -> list[int]:
    work = [(list(idx), spec_model(t)) for idx, t in segments if t.n_symbols > 1 and len(idx)]
    if not work:
        return []
    x, bulk = 1 << 24, []
    for idx, (left, p) in reversed(work):
        for i in reversed(idx):
            if (x >> 40) >= p[i]:
                bulk.append(x & M32)
                x >>= 32
            x = (x // p[i]) * (1 << 24) + left[i] + x % p[i]
    while x:
        bulk.append(x & M32)
        x >>= 32
    return bulk


def spec_ans_decode(words: list[int], segments) -> list[list[int]] | None:
    """None: the stream is invalid."""
    words = list(words)
    if not words or words[-1] == 0:
        return None
    x = words.pop()
    while x < 1 << 32 and words:
        x = (x << 32) | words.pop()
    out = []
    for count, table in segments:
        left, p = spec_model(table)
        got = []
        for _ in range(count):
            q = x % (1 << 24)
            i = next(j for j in range(len(p)) if left[j] <= q < left[j] + p[j])
            x = (x >> 24) * p[i] + (q - left[i])
            if x < 1 << 32 and words:
                x = (x << 32) | words.pop()
            got.append(i)
        out.append(got)
    return out if x == 1 << 24 and not words else None


def test_ans_coder_is_the_spec_algorithm():
    rng = random.Random(21)
    coder = get_coder(2)
    for trial in range(6):
        segments = []
        for _ in range(rng.randint(1, 3)):
            table = laplace_table(rng.randint(20000, 60000), rng.randint(1, 12))
            n = rng.randint(0, 300)
            sym = np.array([rng.choice(range(table.offset, table.offset + table.n_symbols)) if rng.random() < 0.2
                            else rng.randint(-1, 1) for _ in range(n)], np.int64)
            segments.append((sym, table))
        data = coder.encode(segments)
        words = [int(w) for w in np.frombuffer(data, "<u4")]
        indices = [(list(s - t.offset), t) for s, t in segments]
        assert words == spec_ans_encode(indices), trial
        live = [(len(s), t) for s, t in segments if t.n_symbols > 1 and len(s)]
        if not live:
            continue
        want = [list(s - t.offset) for s, t in segments if t.n_symbols > 1 and len(s)]
        assert spec_ans_decode(words, live) == want
        all_segments = [(len(s), t) for s, t in segments]
        for cut in range(0, len(words)):  # §2.5: valid iff it decodes and re-encodes to itself
            decoded = spec_ans_decode(words[:cut], live)
            spec_ok = decoded is not None and spec_ans_encode(
                [(i, t) for i, (_, t) in zip(decoded, live)]) == words[:cut]
            try:
                coder.decode(data[:4 * cut], all_segments)
                lib_ok = True
            except InrFormatError:
                lib_ok = False
            assert spec_ok == lib_ok, (trial, cut)


# ---------------------------------------------------------------------------------------------
# No normative dependence on code an outsider cannot see

# NumPy's `.npy` is the frames' file format (spec/conformance.md), not code
CODE_WORDS = re.compile(r"\.py\b|inrcodec/|\.rs\b|\bPyTorch\b|\btorch\b|\bnumpy\b(?! `\.npy`)|constriction|\bour\b|\bthis reader\b",
                        re.IGNORECASE)


@pytest.mark.parametrize("name", ["bitstream.md", "models.md", "entropy-coding.md", "levels.md", "conformance.md"])
def test_code_is_named_only_in_informative_text(name):
    text = open(os.path.join(SPEC, name), encoding="utf-8").read()
    section = ""
    offenders = []
    for para in re.split(r"\n\s*\n", text):
        heading = re.match(r"#+ (.*)", para)
        if heading:
            section = heading.group(1)
        if "informative" in section.lower() or "informative" in para.lower():
            continue
        for line in para.splitlines():
            if CODE_WORDS.search(line):
                offenders.append(f"{section}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
