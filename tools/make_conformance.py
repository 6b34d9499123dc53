"""Regenerate the conformance suite in tests/conformance/: one small .inr stream per feature, with its digests.

A decoder proves conformance by decoding these streams to the exact integer weights and (within the
tolerance spec/conformance.md states) the frames recorded here. Each stream comes from a fixed encode
command on a fixed source (a file in samples/ or a clip this script synthesises with integer numpy
arithmetic), so running the script again on the reference configuration gives the same bytes.
Regenerating is a deliberate act: commit the new files together with the format change that needed them.

Usage: python tools/make_conformance.py [--out tests/conformance] [FEATURE ...]
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
}

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


def encode_options(feature: str) -> dict:
    """The full keyword options of ``inrcodec.encode`` for ``feature``."""
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
    chroma, gnerv's up_mode (None for another architecture), the BLOB methods used (sorted names)
    and the frames of each GOP."""
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
        return {"coder": CODERS.name_of(h.coder_id), "arch": arch, "chroma": f.chroma,
                "up_mode": h.arch_params[0] if arch == "gnerv" else None, "blob_methods": sorted(methods),
                "gop_frames": [h.gop_range(g)[1] for g in range(h.n_gops)]}


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


def main(argv: list[str] | None = None) -> int:
    """Regenerate the named features (all when none are named)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="the suite's folder (default: tests/conformance)")
    parser.add_argument("features", nargs="*", help="features to regenerate (default: all but the frozen ones)")
    args = parser.parse_args(argv)
    for feature in args.features or [f for f in FEATURES if f not in FROZEN]:
        e = regenerate(feature, args.out)
        print(f"{feature}: {e['file_bytes']} bytes, {e['n_frames']} frames {e['width']}x{e['height']}, "
              f"{len(e['models'])} models, encoded in {e['encode_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
