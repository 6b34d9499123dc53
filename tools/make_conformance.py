"""Regenerate the conformance suite in tests/conformance/: one small .inr stream per feature, with its digests.

A decoder proves conformance by decoding these streams to the exact integer weights and (within the
tolerance spec/conformance.md states) the frames recorded here. Each stream comes from a fixed encode
command on a fixed source (a file in samples/ or a clip this script synthesises with integer numpy
arithmetic), so running the script again on the reference configuration gives the same bytes.
Regenerating is a deliberate act: commit the new files together with the format change that needed them.

Usage: python tools/make_conformance.py [--out tests/conformance] [FEATURE ...]
       python tools/make_conformance.py --invalid     # the invalid streams, from the golden ones
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from inrcodec.io.y4m import Y4MWriter  # noqa: E402

DEFAULT_OUT = os.path.join(REPO, "tests", "conformance")
STREAM_NAME = "stream.inr"
EXPECTED_NAME = "expected.json"
FRAMES_NAME = "frames.npz"
# Largest decoded difference (in 8-bit code values) allowed off the reference configuration (FATE's "oneoff").
MAX_ABS_DIFF = 1
# ... and the share of a stream's samples that may differ at all where a frame's MD5 does not match
# (spec/conformance.md rule 2): the reference backends differ in at most 2 of 9858 samples (0.02 %)
MAX_DIFFERING_SHARE = 1 / 1000
# Size limits that keep the suite small enough to live in the repository (bytes).
MAX_STREAM_BYTES = 40_000
MAX_FRAMES_BYTES = 100_000
# Options every feature shares: small networks, few iterations, CPU with one pinned thread (the
# reduction order of a single thread is the simplest configuration to reproduce).
# the golden streams were made with Adam, before SOAP became --optimizer's default: they keep it
BASE_OPTIONS = {"quality": 1, "channels": [8, 8, 8], "iters": 30, "p_iters": 15, "seed": 1,
                "device": "cpu", "threads": 1, "optimizer": "adam"}

# name -> (description, source, encode options beyond BASE_OPTIONS). A source "synthetic:<clip>"
# names an entry of SYNTHETIC_CLIPS; anything else is a path relative to the repository root.
FEATURES: dict[str, tuple[str, str, dict]] = {
    "ODDSIZE_A": ("odd luma size 37x29 (4:2:0 chroma 19x15), one GOM of an I- and a P-model",
                  "samples/carphone_37x29_6f.y4m", {"gop": 3, "gom": 2}),
    "CHROMA444_A": ("4:4:4 chroma at 24x16, one GOM of an I- and a P-model",
                    "synthetic:square444_24x16_4f", {"gop": 2, "gom": 2}),
    "MULTIGOM_A": ("three GOMs of an I- and a P-model each, 12 frames",
                   "synthetic:square420_32x24_12f", {"gop": 2, "gom": 2}),
    "SINGLEFRAME_A": ("a one-frame file: one GOP of one frame, one I-model",
                      "samples/carphone_48x32_8f.y4m", {"gop": 1, "gom": 1, "frames": 1}),
    "SHORTGOP_A": ("7 frames with GOPs of 3: the last GOP holds one frame (a P-model)",
                   "samples/carphone_48x32_8f.y4m", {"gop": 3, "gom": 3, "frames": 7}),
    "STATIC_P_A": ("a static clip: the P-model's interpolation factor is 0 (its reference is the I-model)",
                   "synthetic:static420_32x24_8f", {"gop": 4, "gom": 2}),
    "NIRVANA_A": ("the patch-wise nirvana architecture (arch_id 2) at 37x29: 32x32 patches padded and "
                  "cropped, GOPs of 3 frames as the paper's groups, one I- and one P-model",
                  "samples/carphone_37x29_6f.y4m", {"gop": 3, "gom": 2, "model": "nirvana"}),
    "LAYERS_A": ("progressive layers (version 2, LHDR): a base and two residual layers of different "
                 "sizes at 48x32, 4 frames: one GOM of an I- and a P-model per layer",
                 "samples/carphone_48x32_8f.y4m", {"gop": 2, "gom": 2, "frames": 4, "layers": 3,
                                                   "layer_quality": [1, 2]}),
    "NIRVANA_B": ("nirvana at 37x29 with the conv layers quantized and their symbols in a zstd/LZMA BLOB "
                  "(tag 2), one I- and one P-model whose conv residual is sparse",
                  "samples/carphone_37x29_6f.y4m", {"gop": 3, "gom": 2, "model": "nirvana"}),
    "DEPTH10_A": ("10-bit 4:2:0 at the odd size 33x19 (version 3, bit_depth 10): samples 0..1023, "
                  "one GOM of an I- and a P-model",
                  "synthetic:square420p10_33x19_4f", {"gop": 2, "gom": 2}),
    "DEPTH12_A": ("12-bit 4:4:4 at 24x16 (version 3, bit_depth 12): samples 0..4095, one GOM of an I- "
                  "and a P-model", "synthetic:square444p12_24x16_4f", {"gop": 2, "gom": 2}),
    "HINERV_A": ("the grid architecture hinerv (arch_id 3) at 37x29: two temporal grid levels (2 and 4 "
                 "nodes), local and modulation grids, one I- and one P-model coding the grids' residuals",
                 "samples/carphone_37x29_6f.y4m", {"gop": 3, "gom": 2, "model": "hinerv", "grid_t": [2, 2, 2, 4]}),
    "CODERANS_A": ("the rANS coder (coder_id 2) at 37x29: one GOM of an I- and a P-model",
                   "samples/carphone_37x29_6f.y4m", {"gop": 3, "gom": 2, "coder": "ans"}),
    "CODERRAW_A": ("the raw coder (coder_id 0: fixed-width symbols, no entropy model) at 37x29: one GOM "
                   "of an I- and a P-model", "samples/carphone_37x29_6f.y4m", {"gop": 3, "gom": 2, "coder": "raw"}),
    "BLOBLZMA_A": ("nirvana at 37x29 with 16-channel conv layers: the I-model's symbol BLOB in zstd, the "
                   "P-model's in LZMA (the encoder keeps the smaller; LZMA wins on this larger, sparse one)",
                   "samples/carphone_37x29_6f.y4m", {"gop": 3, "gom": 2, "model": "nirvana",
                                                     "channels": [16, 16, 16], "p_iters": 12}),
    "UPMODE0_A": ("gnerv with up_mode 0 (conv3x3 to 4x the channels, then PixelShuffle) at 48x32, 4 frames: "
                  "one GOM of an I- and a P-model", "samples/carphone_48x32_8f.y4m",
                  {"gop": 2, "gom": 2, "frames": 4, "up_mode": 0}),
    "NIRVANA444_A": ("nirvana at 4:4:4 and the odd size 37x29: two 32x32 patches padded and cropped in "
                     "every plane, one I- and one P-model with their symbol BLOBs",
                     "synthetic:square444_37x29_4f", {"gop": 2, "gom": 2, "model": "nirvana"}),
    "SHORTGOP_B": ("8 frames with GOPs of 3: the last GOP holds two frames (a P-model)",
                   "samples/carphone_48x32_8f.y4m", {"gop": 3, "gom": 3}),
    "HINERV_B": ("hinerv at 37x29 as HINERV_A, with drawn weights (symbols -3..3, step 1/16): local and "
                 "modulation grids far from 0, so their tiling and order of operations move samples by tens",
                 "drawn:HINERV_B", {}),
    "NIRVANA_C": ("nirvana at 40x36 with drawn weights: a 2x2 grid of 32x32 patches (rows and columns of "
                  "patches both matter), symbols -3..3 at step 1/16, one I- and one P-model",
                  "drawn:NIRVANA_C", {}),
    "HINERV_C": ("hinerv at 4:4:4 and 29x23 with three grid levels, no local grids (lt 0), the ANS coder, "
                 "a seed above 2^32 and full range; drawn weights, an I- and a P-model", "drawn:HINERV_C", {}),
    "HINERV_D": ("hinerv at 12 bits, 4:2:0, 29x23: one grid level, one stage, no modulation (mt 0), the raw "
                 "coder, top-left siting, limited range; drawn weights, an I- and a P-model", "drawn:HINERV_D", {}),
    "LAYERS_B": ("three layers at 10-bit 4:4:4, 32x24: a gnerv base, hinerv and nirvana residual layers "
                 "(the nirvana layer's BLOBs follow its MODL), the ANS coder, a layer seed above 2^32; drawn",
                 "drawn:LAYERS_B", {}),
    "NIRVANA_D": ("nirvana with the raw coder and a stored BLOB (method 0: symbols up to 32767 do not "
                  "compress), a disp chunk (sar 4:3, rotation 90, top field first, re-timed), left siting; drawn",
                  "drawn:NIRVANA_D", {}),
    "NIRVANA_E": ("nirvana in the legacy layout (BLOB tag 1, binary32 residuals) in LZMA (I-model) and stored "
                  "(method 0, P-model), with an unknown ancillary chunk inside the GOM; drawn",
                  "drawn:NIRVANA_E", {}),
    "TINY_A": ("gnerv at 5x3, smaller than its 16x16 grid (chroma 3x2), left siting, seed 2^63 + 5; drawn "
               "weights, an I- and a P-model", "drawn:TINY_A", {}),
    "HINERV_E": ("hinerv as the base network at 10 bits, 4:2:0, 29x23: two grid levels, local and modulation "
                 "grids (samples 0..1023); drawn weights, an I- and a P-model", "drawn:HINERV_E", {}),
    "LAYERS_C": ("three layers at 8-bit 4:2:0, 29x23: a gnerv base, gnerv and hinerv residual layers of "
                 "residual_scale 1 (added undivided); drawn at step 1/32, so few samples clip", "drawn:LAYERS_C", {}),
}

# Streams whose weights are drawn, not trained (issue 30): a trained network at these sizes leaves
# some of its parts near zero (hinerv's local and modulation grids start at 0), so a decoder that
# misreads them still lands within ±1. Drawn symbols make every tensor matter. name -> (header
# fields beyond DRAWN_HEADER, seed of numpy's default_rng, largest |symbol|, step code); the file is
# inrcodec.fuzz.synthetic's, made from the header alone (no encoder, no source).
DRAWN: dict[str, dict] = {
    "HINERV_B": {"width": 37, "height": 29, "n_frames": 6, "gop_size": 3, "gom_size": 2, "arch_id": 3,
                 "arch_params": [2, 2, 2, 4, 8, 8, 8], "rng_seed": 7, "max_symbol": 3, "step_code": -64},
    "NIRVANA_C": {"width": 40, "height": 36, "n_frames": 4, "gop_size": 2, "gom_size": 2, "arch_id": 2,
                  "arch_params": [32, 32, 2, 8, 8, 8], "rng_seed": 7, "max_symbol": 3, "step_code": -64},
    "HINERV_C": {"width": 29, "height": 23, "n_frames": 4, "gop_size": 2, "gom_size": 2, "chroma_format": 1,
                 "coder_id": 2, "seed": 2**40 + 3, "color_range": 2, "arch_id": 3, "arch_params": [2, 3, 0, 2, 8, 8, 8],
                 "rng_seed": 11, "max_symbol": 3, "step_code": -64},
    "HINERV_D": {"width": 29, "height": 23, "n_frames": 4, "gop_size": 2, "gom_size": 2, "bit_depth": 12,
                 "coder_id": 0, "chroma_siting": 3, "color_range": 1, "arch_id": 3, "arch_params": [1, 1, 3, 0, 8, 8],
                 "rng_seed": 12, "max_symbol": 3, "step_code": -64},
    "LAYERS_B": {"width": 32, "height": 24, "n_frames": 4, "gop_size": 2, "gom_size": 2, "chroma_format": 1,
                 "bit_depth": 10, "coder_id": 2, "arch_id": 1, "arch_params": [1, 8, 8, 8, 8, 8],
                 "layers": [[3, [2, 2, 2, 2, 8, 8, 8], 4, 5], [2, [16, 16, 2, 8, 8, 8], 16, 2**33]],
                 "rng_seed": 13, "max_symbol": 3, "step_code": -64},
    "NIRVANA_D": {"width": 37, "height": 29, "n_frames": 4, "gop_size": 2, "gom_size": 2, "coder_id": 0,
                  "chroma_siting": 1, "arch_id": 2, "arch_params": [32, 16, 2, 4, 4, 4],
                  "display": {"sar_num": 4, "sar_den": 3, "rotation": 90, "field_order": 1, "timing": 1},
                  "rng_seed": 14, "max_symbol": 32767, "step_code": -280},
    "NIRVANA_E": {"width": 37, "height": 29, "n_frames": 4, "gop_size": 2, "gom_size": 2, "arch_id": 2,
                  "arch_params": [32, 16, 2, 4, 4, 4], "tag1_methods": ["lzma", "none"], "rng_seed": 16,
                  "max_symbol": 3, "step_code": -64},
    "TINY_A": {"width": 5, "height": 3, "n_frames": 4, "gop_size": 2, "gom_size": 2, "chroma_siting": 1,
               "seed": 2**63 + 5, "arch_id": 1, "arch_params": [1, 8, 8, 8, 8, 8], "rng_seed": 15, "max_symbol": 3,
               "step_code": -64},
    "HINERV_E": {"width": 29, "height": 23, "n_frames": 4, "gop_size": 2, "gom_size": 2, "bit_depth": 10,
                 "arch_id": 3, "arch_params": [2, 2, 2, 4, 8, 8, 8], "rng_seed": 17, "max_symbol": 3, "step_code": -64},
    "LAYERS_C": {"width": 29, "height": 23, "n_frames": 4, "gop_size": 2, "gom_size": 2, "arch_id": 1,
                 "arch_params": [1, 8, 8, 8, 8, 8], "layers": [[1, [1, 8, 8, 8, 8, 8], 1, 6], [3, [2, 2, 2, 2, 8, 8, 8], 1, 7]],
                 "rng_seed": 18, "max_symbol": 3, "step_code": -80},
}
DRAWN_HEADER = {"fps_num": 25, "fps_den": 1, "chroma_format": 0, "bit_depth": 8, "color_range": 0,
                "color_primaries": 2, "transfer": 2, "matrix": 2, "chroma_siting": 0, "coder_id": 1, "seed": 1}

# What a feature's stream must show to exercise its feature (keys of ``stream_facts``): checked when
# the tool writes it and by the suite, so that an encoder change that stops exercising it (LZMA no
# longer the smaller BLOB, say) fails instead of quietly losing coverage.
EXERCISES: dict[str, dict] = {
    "CODERANS_A": {"coder": "ans"},
    "CODERRAW_A": {"coder": "raw"},
    "BLOBLZMA_A": {"arch": "nirvana", "blob_methods": ["lzma", "zstd"]},
    "UPMODE0_A": {"arch": "gnerv", "up_mode": 0},
    "NIRVANA444_A": {"arch": "nirvana", "chroma": "444"},
    "SHORTGOP_B": {"gop_frames": [3, 3, 2]},
    "HINERV_B": {"arch": "hinerv"},
    "NIRVANA_C": {"arch": "nirvana"},
    "HINERV_C": {"arch": "hinerv", "coder": "ans", "chroma": "444"},
    "HINERV_D": {"arch": "hinerv", "coder": "raw", "bit_depth": 12},
    "LAYERS_B": {"layer_archs": ["gnerv", "hinerv", "nirvana"], "coder": "ans", "chroma": "444", "bit_depth": 10},
    "NIRVANA_D": {"arch": "nirvana", "coder": "raw", "blob_methods": ["none"], "display": True},
    "NIRVANA_E": {"arch": "nirvana", "blob_methods": ["lzma", "none"]},
    "TINY_A": {"arch": "gnerv"},
    "HINERV_E": {"arch": "hinerv", "bit_depth": 10, "layer_archs": ["hinerv"]},
    "LAYERS_C": {"layer_archs": ["gnerv", "gnerv", "hinerv"], "residual_scales": [1, 1]},
}

# Streams kept as an older encoder wrote them: the decoder must go on reading their layout, but
# today's encoder writes another, so the tool refuses to regenerate them (their recipe stays listed).
FROZEN: dict[str, str] = {
    "NIRVANA_A": "BLOB tag 1 (binary32 conv residuals, P-models keeping the conv layers), written by "
                 "commit 061c1c1; the encoder now writes tag 2 (NIRVANA_B)",
}

# clip -> (width, height, frames, chroma, moving[, bit depth]); frame rate 25/1, 8 bits unless given.
SYNTHETIC_CLIPS: dict[str, tuple] = {
    "square444_24x16_4f": (24, 16, 4, "444", True),
    "square420_32x24_12f": (32, 24, 12, "420", True),
    "static420_32x24_8f": (32, 24, 8, "420", False),
    "square420p10_33x19_4f": (33, 19, 4, "420", True, 10),
    "square444p12_24x16_4f": (24, 16, 4, "444", True, 12),
    "square444_37x29_4f": (37, 29, 4, "444", True),
}
# The feature whose encode the test suite repeats to check that the encoder reproduces the bytes.
DETERMINISM_FEATURE = "CHROMA444_A"


def synthetic_frames(width: int, height: int, n_frames: int, chroma: str, moving: bool = True,
                     bit_depth: int = 8):
    """(Y, U, V) frames: diagonal gradients and a bright square that moves 2 pixels a frame; uint8
    at 8 bits, uint16 above, the levels scaled by 2^(depth - 8) and the gradients as fine as the
    depth allows (they use the low bits)."""
    from inrcodec.io.video import chroma_shape  # PyAV: only where streams are made, not checked

    k = 1 << (bit_depth - 8)
    ch, cw = chroma_shape(width, height, chroma)
    yy, xx = np.mgrid[0:height, 0:width]
    cy, cx = np.mgrid[0:ch, 0:cw]
    side = max(2, min(width, height) // 3)
    frames = []
    for t in range(n_frames):
        shift = 2 * t if moving else 0
        y = (16 * k + (xx * 160 * k) // max(1, width - 1) + (yy * 40 * k) // max(1, height - 1)).astype(np.int64)
        x0, y0 = shift % max(1, width - side), (shift // 2) % max(1, height - side)
        y[y0:y0 + side, x0:x0 + side] = 235 * k
        u = 128 * k + (cx * 60 * k) // max(1, cw - 1) - 30 * k
        v = 128 * k - (cy * 60 * k) // max(1, ch - 1) + 30 * k
        frames.append(tuple(p.astype(np.uint8 if bit_depth == 8 else np.uint16) for p in (y, u, v)))
    return frames


def write_clip(path: str, frames, fps: tuple[int, int] = (25, 1), chroma: str = "420", bit_depth: int = 8) -> str:
    """Write frames as a YUV4MPEG2 file and return its path."""
    height, width = frames[0][0].shape
    with Y4MWriter(path, width, height, fps[0], fps[1], chroma, bit_depth=bit_depth, overwrite=True) as out:
        for frame in frames:
            out.write_frame(frame)
    return path


def resolve_source(source: str, workdir: str) -> str:
    """The path of a feature's source, synthesising it into ``workdir`` when it is synthetic."""
    if not source.startswith("synthetic:"):
        return os.path.join(REPO, source)
    name = source.split(":", 1)[1]
    if name not in SYNTHETIC_CLIPS:
        raise ValueError(f"unknown synthetic clip {name!r}; known: {', '.join(SYNTHETIC_CLIPS)}")
    width, height, n_frames, chroma, moving, *depth = SYNTHETIC_CLIPS[name]
    bit_depth = depth[0] if depth else 8
    return write_clip(os.path.join(workdir, f"{name}.y4m"),
                      synthetic_frames(width, height, n_frames, chroma, moving, bit_depth), chroma=chroma,
                      bit_depth=bit_depth)


def drawn_file(feature: str) -> bytes:
    """The bytes of a DRAWN feature: its header, every model's symbols drawn by its seed."""
    from inrcodec.container.chunks import SequenceHeader
    from inrcodec.fuzz.synthetic import synthetic_file

    from inrcodec.container.chunks import DisplayInfo, LayerHeader, LayerSpec
    from inrcodec.container.writer import serialize
    from inrcodec.fuzz.synthetic import model_chunks

    d = dict(DRAWN[feature])
    rng = np.random.default_rng(d.pop("rng_seed"))
    max_symbol, step_code = d.pop("max_symbol"), d.pop("step_code")
    # residual layers: [arch_id, arch_params, residual_scale, seed] each; the disp chunk's fields
    residual = [LayerSpec(a, tuple(p), scale, seed) for a, p, scale, seed in d.pop("layers", [])]
    display = d.pop("display", None)
    layers = LayerHeader(tuple(residual)) if residual else None
    tag1 = d.pop("tag1_methods", None)
    header = SequenceHeader(**{**DRAWN_HEADER, **d, "arch_params": tuple(d["arch_params"])})
    if tag1 is not None:
        chunks = _tag1_chunks(header, rng, max_symbol, step_code, tag1)
    elif layers is None and display is None:
        return synthetic_file(header, rng=rng, max_symbol=max_symbol, step_code=step_code)
    else:
        chunks = model_chunks(header, layers, rng, max_symbol=max_symbol, step_code=step_code)
    return serialize(header, chunks, layers=layers, display=None if display is None else DisplayInfo(**display))


def _tag1_chunks(header, rng, max_symbol: int, step_code: int, methods: list[str]) -> list:
    """A one-layer nirvana file's chunks in the legacy layout (spec/models.md §3b tag 1): blob tensors
    as binary32 residuals drawn on (-1/8, 1/8) in a BLOB of GOP g's method ``methods[g]``, their
    step codes and max_abs 0; the other tensors drawn as ``model_chunks`` draws them. After the first
    BLOB comes an unknown ancillary chunk, ``note``, which a decoder skips (spec/bitstream.md §4.2)."""
    from inrcodec.coders.blob import BLOB_CODECS, compress_blob
    from inrcodec.container.chunks import AncillaryChunk, BlobChunk, ModelChunk
    from inrcodec.decode.model_io import plan_layers
    from inrcodec.decode.weights import KIND_I, KIND_P, BlobTag, QuantizedModel, encode_body, pack_blob

    specs = plan_layers(header, None)[0].specs
    out: list = []
    for g in range(header.n_gops):
        kind = KIND_I if g % header.gom_size == 0 else KIND_P
        symbols = [np.zeros(s.shape, np.int32) if s.blob else
                   rng.integers(-max_symbol, max_symbol + 1, s.shape, dtype=np.int32) for s in specs]
        steps = [0 if s.blob else step_code for s in specs]
        eps = int(rng.integers(0, 256)) if kind == KIND_P else 0
        out.append(ModelChunk(gop_index=g, kind=kind, body=encode_body(QuantizedModel(kind, eps, steps, symbols),
                                                                       header.coder_id, specs)))
        raw = pack_blob([rng.uniform(-0.125, 0.125, s.shape).astype(np.float32) for s in specs if s.blob])
        method = methods[g]
        out.append(BlobChunk(g, BlobTag.FLOAT, BLOB_CODECS.id_of(method), len(raw), compress_blob(raw, method)))
        if g == 0:
            out.append(AncillaryChunk(b"note", b"an ancillary chunk no reader knows: skipped"))
    return out


def encode_options(feature: str) -> dict:
    """The full keyword options of ``inrcodec.encode`` for ``feature`` (a DRAWN feature: how it is drawn)."""
    if feature in DRAWN:
        return dict(DRAWN[feature])
    options = dict(BASE_OPTIONS)
    options.update(FEATURES[feature][2])
    return options


def encode_feature(feature: str, dst: str):
    """Encode ``feature``'s source to ``dst`` with its fixed options; returns the EncodeSummary."""
    from inrcodec.api import encode

    options = encode_options(feature)
    with tempfile.TemporaryDirectory() as workdir:
        src = resolve_source(FEATURES[feature][1], workdir)
        return encode(src, dst, overwrite=True, **{k: tuple(v) if k in ("channels", "layer_quality") else v for k, v in options.items()})


def frame_md5(planes) -> str:
    """MD5 of one decoded frame as dav1d's md5 muxer computes it: visible rows of Y, then U, then V;
    8-bit samples as bytes, 10- and 12-bit samples as little-endian 16-bit words."""
    h = hashlib.md5()
    for plane in planes:
        plane = np.asarray(plane)
        plane = plane.astype(np.uint8 if plane.dtype == np.uint8 else "<u2")
        for row in plane:
            h.update(row.tobytes())
    return h.hexdigest()


def file_md5(path: str) -> str:
    """MD5 of a file's bytes."""
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def decoded_models(path: str) -> list[dict]:
    """Per model in file order: GOP index, kind (I or P), the MD5 of its decoded integer weights
    (and its layer, in a file of progressive layers)."""
    from inrcodec.api import open as open_inr

    out = []
    with open_inr(path) as f:
        for gom in range(f.header.n_goms):
            for gop, qms, _weights in f.decode_gom(gom):
                for layer, qm in enumerate(qms):  # a layered file: each GOP's models in layer order
                    entry = {"gop": gop, "kind": "IP"[qm.kind], "weights_md5": qm.digest()}
                    out.append(entry if f.n_layers == 1 else {**entry, "layer": layer})
    return out


def decoded_frames(path: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every frame of the file, decoded in order by the reference decoder (the torch backend)."""
    from inrcodec.api import open as open_inr

    with open_inr(path, backend="torch") as f:
        return [tuple(np.array(p) for p in frame) for frame in f]


def stream_facts(path: str) -> dict:
    """What a stream exercises, read from its headers and chunks: coder and architecture names,
    chroma, gnerv's up_mode (None for another architecture), the BLOB methods used (sorted names),
    the frames of each GOP, and the residual layers' architectures and residual_scale."""
    from inrcodec.api import open as open_inr
    from inrcodec.coders import BLOB_CODECS
    from inrcodec.coders.base import CODERS
    from inrcodec.container.chunks import BlobChunk
    from inrcodec.costs import NETWORK_COSTS

    with open_inr(path) as f:
        h = f.header
        arch = NETWORK_COSTS.name_of(h.arch_id)
        methods = {BLOB_CODECS.name_of(c.method) for g in range(h.n_goms) for c in f.reader.read_gom(g)
                   if isinstance(c, BlobChunk)}
        residual = () if f.reader.layers is None else f.reader.layers.residual
        layers = [NETWORK_COSTS.name_of(ls.arch_id) for ls in residual]
        return {"coder": CODERS.name_of(h.coder_id), "arch": arch, "chroma": f.chroma,
                "up_mode": h.arch_params[0] if arch == "gnerv" else None, "blob_methods": sorted(methods),
                "gop_frames": [h.gop_range(g)[1] for g in range(h.n_gops)], "bit_depth": h.bit_depth,
                "layer_archs": [arch] + layers, "residual_scales": [ls.residual_scale for ls in residual],
                "display": not f.reader.display.is_default}


def check_exercises(feature: str, path: str) -> None:
    """ValueError when the stream at ``path`` does not show what ``EXERCISES`` says ``feature`` needs."""
    facts = stream_facts(path)
    wrong = {k: facts[k] for k, v in EXERCISES.get(feature, {}).items() if facts[k] != v}
    if wrong:
        raise ValueError(f"{feature} no longer exercises its feature: the stream has {wrong}, "
                         f"needs {{{', '.join(f'{k!r}: {EXERCISES[feature][k]!r}' for k in wrong)}}}")


def reference_config() -> dict:
    """What decides whether this machine's floating-point results are the reference ones."""
    import torch

    return {"machine": platform.machine(), "system": platform.system(), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": BASE_OPTIONS["threads"]}


def regenerate(feature: str, out_root: str = DEFAULT_OUT) -> dict:
    """Encode one feature into ``out_root/feature``, decode it, write expected.json and frames.npz."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; known: {', '.join(FEATURES)}")
    if feature in FROZEN:
        raise ValueError(f"{feature} is frozen ({FROZEN[feature]}): it is not regenerated")
    description, source, _ = FEATURES[feature]
    folder = os.path.join(out_root, feature)
    os.makedirs(folder, exist_ok=True)
    stream = os.path.join(folder, STREAM_NAME)
    t0 = time.perf_counter()
    if feature in DRAWN:
        with open(stream, "wb") as f:
            f.write(drawn_file(feature))
    else:
        encode_feature(feature, stream)
    seconds = time.perf_counter() - t0
    check_exercises(feature, stream)
    frames = decoded_frames(stream)
    arrays = {}
    for i, planes in enumerate(frames):
        for name, plane in zip("yuv", planes):
            arrays[f"{i}_{name}"] = plane
    np.savez_compressed(os.path.join(folder, FRAMES_NAME), **arrays)
    expected = {
        "feature": feature,
        "description": description,
        "encode": {"source": source, "options": encode_options(feature)},
        "reference_config": reference_config(),
        "file_md5": file_md5(stream),
        "file_bytes": os.path.getsize(stream),
        "n_frames": len(frames),
        "width": int(frames[0][0].shape[1]),
        "height": int(frames[0][0].shape[0]),
        "plane_shapes": [list(p.shape) for p in frames[0]],
        "models": decoded_models(stream),
        "frames": [{"index": i, "md5": frame_md5(planes)} for i, planes in enumerate(frames)],
        "max_abs_diff": MAX_ABS_DIFF,
        "frame_planes": FRAMES_NAME,
    }
    with open(os.path.join(folder, EXPECTED_NAME), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    for name, limit in ((STREAM_NAME, MAX_STREAM_BYTES), (FRAMES_NAME, MAX_FRAMES_BYTES)):
        size = os.path.getsize(os.path.join(folder, name))
        if size > limit:
            raise ValueError(f"{feature}/{name} is {size} bytes, over the suite's limit of {limit}")
    expected["encode_seconds"] = seconds
    return expected


# ---------------------------------------------------------------------------------------------
# Invalid streams: what a conforming decoder must refuse, and with which class (spec/conformance.md
# "Invalid streams"). Each is cut from a golden stream by byte surgery, with no encoder: the same
# goldens give the same bytes on every machine. The surgery below is written from spec/bitstream.md
# alone (framing, CRC, index), so that it cannot share a bug with the reader it tests.

INVALID_DIR = "invalid"
INVALID_MANIFEST = "invalid.json"
EXIT_CODES = {"InrFormatError": 3, "InrTruncatedError": 4, "InrChecksumError": 5, "InrUnsupportedError": 6}


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def _frame(code: bytes, payload: bytes) -> bytes:
    """One chunk (spec/bitstream.md §4.1) with its correct CRC."""
    import zlib

    length = _uvarint(len(payload))
    return code + length + payload + zlib.crc32(code + length + payload).to_bytes(4, "big")


def _chunks(data: bytes) -> list[list]:
    """[type, payload] of every chunk after the preamble, as lists so that a case can edit them."""
    out, pos = [], 12
    while pos < len(data):
        length, at = _read_uvarint(data, pos + 4)
        out.append([data[pos:pos + 4], data[at:at + length]])
        pos = at + length + 4
    return out


def _assemble(preamble: bytes, chunks: list[list]) -> bytes:
    """A file from its chunks before GIDX, with a fresh index and trailer (spec/bitstream.md §5.4, §5.5)."""
    out = bytearray(preamble)
    entries = []
    for code, payload in chunks:
        if code in (b"GIDX", b"IEND"):
            continue
        if code in (b"MODL", b"BLOB"):
            entries.append((0 if code == b"MODL" else 1, _read_uvarint(payload, 0)[0], len(out)))
        out += _frame(code, payload)
    index, previous = bytearray(_uvarint(len(entries))), 0
    for kind, gop, offset in entries:
        index += bytes([kind]) + _uvarint(gop) + _uvarint(offset - previous)
        previous = offset
    at = len(out)
    out += _frame(b"GIDX", bytes(index))
    return bytes(out + _frame(b"IEND", at.to_bytes(8, "big")))


def _rebuild(golden: bytes, edit) -> bytes:
    """``golden`` with ``edit`` applied to its list of chunks (the index and trailer rebuilt)."""
    chunks = _chunks(golden)
    edit(chunks)
    return _assemble(golden[:12], chunks)


def _set_byte(at: int, value: int):
    def edit(data: bytes) -> bytes:
        return data[:at] + bytes([value]) + data[at + 1:]
    return edit


def _shdr_field(offset: int, value: int, width: int = 1):
    """Edit: SHDR's fixed field at payload ``offset`` (spec/bitstream.md §5.1) set to ``value``."""
    def edit(chunks):
        p = chunks[0][1]
        chunks[0][1] = p[:offset] + value.to_bytes(width, "big") + p[offset + width:]
    return edit


def _shdr_coder(value: int):
    """Edit: SHDR's coder_id, after the arch_params varints."""
    def edit(chunks):
        p = chunks[0][1]
        n, pos = _read_uvarint(p, 30)
        for _ in range(n):
            pos = _read_uvarint(p, pos)[1]
        chunks[0][1] = p[:pos] + bytes([value]) + p[pos + 1:]
    return edit


def _nth(chunks, code: bytes, n: int) -> int:
    return [i for i, c in enumerate(chunks) if c[0] == code][n]


def _blob_field(n: int, field: str, delta: int):
    """Edit: BLOB n's ``method`` (u8) set to ``delta``, or its ``raw_size`` (uvarint) changed by it."""
    def edit(chunks):
        i = _nth(chunks, b"BLOB", n)
        p = chunks[i][1]
        pos = _read_uvarint(p, _read_uvarint(p, 0)[1])[1]  # past gop_index and tag
        if field == "method":
            chunks[i][1] = p[:pos] + bytes([delta]) + p[pos + 1:]
        else:
            raw, end = _read_uvarint(p, pos + 1)
            chunks[i][1] = p[:pos + 1] + _uvarint(raw + delta) + p[end:]
    return edit


def _insert(after_code: bytes, n: int, chunk: list):
    """Edit: ``chunk`` inserted after the n-th chunk of type ``after_code``."""
    def edit(chunks):
        chunks.insert(_nth(chunks, after_code, n) + 1, chunk)
    return edit


DISP_PAYLOAD = (1).to_bytes(4, "big") * 2 + bytes(4)  # sar 1:1, the other fields their defaults


def _after_shdr(*new: list):
    """Edit: ``new`` chunks right after SHDR, before the first payload chunk."""
    def edit(chunks):
        chunks[1:1] = [list(c) for c in new]
    return edit


def _drop(code: bytes, n: int):
    def edit(chunks):
        del chunks[_nth(chunks, code, n)]
    return edit


def _modl_tail(n: int, tail: bytes = b"", cut: int = 0):
    """Edit: MODL n's payload (its body's coded stream ends it, spec/models.md §3) cut by ``cut``
    bytes and ``tail`` appended."""
    def edit(chunks):
        i = _nth(chunks, b"MODL", n)
        chunks[i][1] = chunks[i][1][:len(chunks[i][1]) - cut] + tail
    return edit


def _modl_kind(n: int, kind: int):
    def edit(chunks):
        i = _nth(chunks, b"MODL", n)
        p = chunks[i][1]
        at = _read_uvarint(p, 0)[1]
        chunks[i][1] = p[:at] + bytes([kind]) + p[at + 1:]
    return edit


def _flip_in(code: bytes, n: int, at: int):
    """Bytes: one bit flipped ``at`` bytes into the payload of the n-th chunk of type ``code``, its
    CRC left as it was."""
    def edit(data: bytes) -> bytes:
        pos, k = 12, 0
        while True:
            length, payload_at = _read_uvarint(data, pos + 4)
            if data[pos:pos + 4] == code:
                if k == n:
                    i = payload_at + at
                    return data[:i] + bytes([data[i] ^ 0x04]) + data[i + 1:]
                k += 1
            pos = payload_at + length + 4
    return edit


def _cut_inside(code: bytes, n: int):
    """Bytes: the file cut in the middle of the n-th chunk of type ``code``."""
    def edit(data: bytes) -> bytes:
        pos, k = 12, 0
        while True:
            length, payload_at = _read_uvarint(data, pos + 4)
            if data[pos:pos + 4] == code:
                if k == n:
                    return data[:payload_at + length // 2]
                k += 1
            pos = payload_at + length + 4
    return edit


def _level_file(width: int, height: int, arch_id: int, arch_params: tuple) -> bytes:
    """A valid file (every weight 0) whose one network is above the level (spec/levels.md §2)."""
    from inrcodec.container.chunks import SequenceHeader
    from inrcodec.fuzz.synthetic import synthetic_file

    return synthetic_file(SequenceHeader(
        width=width, height=height, n_frames=1, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8,
        color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=1, gom_size=1,
        arch_id=arch_id, arch_params=arch_params, coder_id=1, seed=1))


def _weight_file() -> bytes:
    """A valid one-frame gnerv file whose I-model has one weight of 32767 x step(64) = 524272, every
    other weight 0: above the range a decoder renders (spec/models.md §4b)."""
    from inrcodec.container.chunks import ModelChunk, SequenceHeader
    from inrcodec.container.writer import serialize
    from inrcodec.decode.model_io import plan_layers
    from inrcodec.decode.weights import KIND_I, QuantizedModel, encode_body

    header = SequenceHeader(
        width=16, height=16, n_frames=1, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8, color_range=0,
        color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=1, gom_size=1, arch_id=1,
        arch_params=(1, 2, 4, 4, 4), coder_id=1, seed=1)
    specs = plan_layers(header, None)[0].specs
    symbols = [np.zeros(s.shape, np.int32) for s in specs]
    codes = [0] * len(specs)
    symbols[3].flat[0], codes[3] = 32767, 64  # shift.0.weight
    body = encode_body(QuantizedModel(KIND_I, 0, codes, symbols), header.coder_id, specs)
    return serialize(header, [ModelChunk(0, KIND_I, body)])


def _nirvana_q1() -> tuple:
    from inrcodec.archs.nirvana import Nirvana

    return tuple(Nirvana.QUALITY[1])


# name -> (golden it is cut from or None, how: ("bytes", f) on the file or ("chunks", f) on its chunk
# list, the rule that makes it invalid, the class a decoder reports, salvage: frames a salvaging
# decoder recovers (None: not a salvage case)). Names: what is wrong, in capitals.
INVALID: dict[str, tuple] = {
    "SIGNATURE": ("ODDSIZE_A", ("bytes", _set_byte(1, ord("J"))), "bitstream.md §3.1: bad signature",
                  "InrFormatError", None),
    "VERSION_ZERO": ("ODDSIZE_A", ("bytes", _set_byte(11, 0)), "bitstream.md §3.2: min_reader_version 0",
                     "InrFormatError", None),
    "SHDR_FIELD": ("ODDSIZE_A", ("chunks", _shdr_field(18, 3)), "bitstream.md §5.1: color_range 3",
                   "InrFormatError", None),
    "SHDR_SECOND": ("ODDSIZE_A", ("chunks", lambda c: _after_shdr(list(c[0]))(c)),
                    "bitstream.md §4.3 rule 1, §7.1 step 7: a second SHDR", "InrFormatError", None),
    "DISP_TWICE": ("ODDSIZE_A", ("chunks", _after_shdr([b"disp", DISP_PAYLOAD], [b"disp", DISP_PAYLOAD])),
                   "bitstream.md §5.7, §7.1 step 7: a second disp", "InrFormatError", None),
    "DISP_SIZE": ("ODDSIZE_A", ("chunks", _after_shdr([b"disp", DISP_PAYLOAD[:11]])),
                  "bitstream.md §5.7, §4.1: an 11-byte disp payload, read past its end", "InrTruncatedError", None),
    "DISP_DAMAGED": ("ODDSIZE_A", ("bytes", lambda d: _flip_in(b"disp", 0, 3)(_rebuild(d, _after_shdr(
                     [b"disp", DISP_PAYLOAD])))), "bitstream.md §4.1 step 3, §5.7: a bit of the disp chunk "
                     "(salvage ignores it)", "InrChecksumError", 6),
    "DISP_IN_GOM": ("MULTIGOM_A", ("chunks", _insert(b"MODL", 2, [b"disp", DISP_PAYLOAD])),
                    "bitstream.md §5.7, §7.2: a disp inside GOM 1", "InrFormatError", None),
    "MODL_KIND": ("ODDSIZE_A", ("chunks", _modl_kind(1, 0)), "bitstream.md §5.2: GOP 1 (a P-model's place) "
                  "marked I", "InrFormatError", None),
    "INDEX_OFFSET": ("ODDSIZE_A", ("bytes", lambda d: d[:-17] + _frame(b"IEND", (12).to_bytes(8, "big"))),
                     "bitstream.md §7.1 step 4: IEND's index_offset 12, before the end of SHDR",
                     "InrFormatError", None),
    "CRC_IEND": ("ODDSIZE_A", ("bytes", lambda d: d[:-1] + bytes([d[-1] ^ 1])),
                 "bitstream.md §7.1 step 4, §4.1 step 3: a bit of IEND's CRC", "InrChecksumError", None),
    "AFTER_IEND": ("ODDSIZE_A", ("bytes", lambda d: d + b"\x00"), "bitstream.md §7.1 step 3: a byte after IEND",
                   "InrFormatError", None),
    "RANGE_END": ("ODDSIZE_A", ("chunks", _modl_tail(0, cut=4)), "entropy-coding.md §2.3 end rule: the "
                  "I-model's range stream one word short", "InrFormatError", None),
    "RANGE_NOT_CANONICAL": ("ODDSIZE_A", ("chunks", _modl_tail(1, tail=bytes(4))),
                            "entropy-coding.md §2.5: one zero word after the P-model's one-word flush (the "
                            "end rule of §2.3 passes it)", "InrFormatError", None),
    "BLOB_SIZE": ("NIRVANA_B", ("chunks", _blob_field(0, "raw_size", 2)), "models.md §3b: the residual "
                  "BLOB's raw_size is not 2 x its tensors' elements", "InrFormatError", None),
    "BLOB_MISSING": ("NIRVANA_B", ("chunks", _drop(b"BLOB", 1)), "models.md §3b: the P-model's residual BLOB "
                     "missing", "InrFormatError", None),
    "CUT_PREAMBLE": ("ODDSIZE_A", ("bytes", lambda d: d[:10]), "bitstream.md §3.1: 10 bytes of the signature",
                     "InrTruncatedError", None),
    "CUT_LAST_BYTE": ("MULTIGOM_A", ("bytes", lambda d: d[:-1]), "bitstream.md §7.1 step 3: no trailer",
                      "InrTruncatedError", 12),
    "CUT_GOM": ("MULTIGOM_A", ("bytes", _cut_inside(b"MODL", 3)), "bitstream.md §7.1 step 3: cut inside "
                "GOM 1's P-model", "InrTruncatedError", 4),
    "CRC_SHDR": ("ODDSIZE_A", ("bytes", _flip_in(b"SHDR", 0, 9)), "bitstream.md §4.1 step 3: a bit of SHDR",
                 "InrChecksumError", None),
    "CRC_MODL": ("MULTIGOM_A", ("bytes", _flip_in(b"MODL", 4, 5)), "bitstream.md §4.1 step 3, §7.2: a bit "
                 "of GOM 2's I-model", "InrChecksumError", 8),
    "NEWER_VERSION": ("ODDSIZE_A", ("bytes", lambda d: d[:8] + bytes([0, 4, 0, 4]) + d[12:]),
                      "bitstream.md §3.2: min_reader_version 4", "InrUnsupportedError", None),
    "CRITICAL_CHUNK": ("ODDSIZE_A", ("chunks", _after_shdr([b"XXXX", b"future"])),
                       "bitstream.md §4.2, §7.1 step 7: an unknown critical chunk before the payload",
                       "InrUnsupportedError", None),
    "CRITICAL_IN_GOM": ("MULTIGOM_A", ("chunks", _insert(b"MODL", 3, [b"XXXX", b"future"])),
                        "bitstream.md §4.2, §7.2: an unknown critical chunk inside GOM 1",
                        "InrUnsupportedError", 4),
    "CHROMA_FORMAT": ("ODDSIZE_A", ("chunks", _shdr_field(16, 2)), "bitstream.md §5.1: chroma_format 2",
                      "InrUnsupportedError", None),
    "BIT_DEPTH": ("ODDSIZE_A", ("chunks", _shdr_field(17, 9)), "bitstream.md §5.1: bit_depth 9",
                  "InrUnsupportedError", None),
    "ARCH_ID": ("ODDSIZE_A", ("chunks", _shdr_field(29, 200)), "bitstream.md §5.1, models.md: arch_id 200",
                "InrUnsupportedError", None),
    "CODER_ID": ("ODDSIZE_A", ("chunks", _shdr_coder(200)), "bitstream.md §5.1, entropy-coding.md §1: "
                 "coder_id 200", "InrUnsupportedError", None),
    "BLOB_METHOD": ("NIRVANA_B", ("chunks", _blob_field(0, "method", 200)), "bitstream.md §5.3, "
                    "entropy-coding.md §6: blob method 200", "InrUnsupportedError", None),
    "LEVEL_PIXELS": (None, ("file", lambda: _level_file(16384, 16384, 2, _nirvana_q1())),
                     "levels.md §2 max_pixels: a valid 16384x16384 nirvana file", "InrUnsupportedError", None),
    "LEVEL_MACS": (None, ("file", lambda: _level_file(256, 256, 1, (0, 1, 1, 512, 512))),
                   "levels.md §2 max_macs_per_pixel: a valid gnerv file of 596 737 MACs per pixel",
                   "InrUnsupportedError", None),    "WEIGHT_RANGE": (None, ("file", _weight_file), "models.md §4b: a gnerv I-model with one weight of "
                     "32767 x 16 = 524272 (step code 64)", "InrUnsupportedError", None),
}


def invalid_bytes(name: str, root: str = DEFAULT_OUT) -> bytes:
    """The bytes of invalid stream ``name``, made from its golden stream under ``root``."""
    golden, (how, edit), *_ = INVALID[name]
    if how == "file":
        return edit()
    with open(os.path.join(root, golden, STREAM_NAME), "rb") as f:
        data = f.read()
    return edit(data) if how == "bytes" else _rebuild(data, edit)


def reference_outcome(path: str, salvage: bool = False) -> tuple[str | None, int]:
    """(the class the reference decoder raises or None, frames decoded) decoding every frame of ``path``."""
    from inrcodec.api import open as open_inr
    from inrcodec.errors import InrError

    n = 0
    try:
        with open_inr(path, salvage=salvage, backend="numpy") as f:
            for _frame_planes in f:
                n += 1
    except InrError as err:
        return type(err).__name__, n
    return None, n


def make_invalid(root: str = DEFAULT_OUT) -> list[dict]:
    """Write every invalid stream and the manifest under ``root/invalid``; the reference decoder must
    refuse each with its class (and salvage what it says), else nothing is written."""
    folder = os.path.join(root, INVALID_DIR)
    os.makedirs(folder, exist_ok=True)
    manifest = []
    for name, (golden, _how, rule, error, salvage) in INVALID.items():
        data = invalid_bytes(name, root)
        path = os.path.join(folder, f"{name}.inr")
        with open(path, "wb") as f:
            f.write(data)
        got, _ = reference_outcome(path)
        if got != error:
            raise ValueError(f"{name}: the reference decoder reports {got}, the suite says {error}")
        entry = {"name": name, "stream": f"{name}.inr", "golden": golden, "rule": rule, "error": error,
                 "exit": EXIT_CODES[error], "file_md5": hashlib.md5(data).hexdigest()}
        if salvage is not None:
            got, n = reference_outcome(path, salvage=True)
            if got is not None or n != salvage:
                raise ValueError(f"{name}: salvage gives {n} frames ({got}), the suite says {salvage}")
            entry["salvage_frames"] = salvage
        manifest.append(entry)
    with open(os.path.join(folder, INVALID_MANIFEST), "w") as f:
        json.dump({"exit_codes": EXIT_CODES, "streams": manifest}, f, indent=2)
        f.write("\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Regenerate the named features (all when none are named)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="the suite's folder (default: tests/conformance)")
    parser.add_argument("features", nargs="*", help="features to regenerate (default: all but the frozen ones)")
    parser.add_argument("--invalid", action="store_true",
                        help="only rebuild the invalid streams (invalid/) from the golden streams under --out")
    args = parser.parse_args(argv)
    if args.invalid:
        for e in make_invalid(args.out):
            print(f"{e['name']}: {e['error']} (exit {e['exit']}), {e['rule']}")
        return 0
    for feature in args.features or [f for f in FEATURES if f not in FROZEN]:
        e = regenerate(feature, args.out)
        print(f"{feature}: {e['file_bytes']} bytes, {e['n_frames']} frames {e['width']}x{e['height']}, "
              f"{len(e['models'])} models, encoded in {e['encode_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
