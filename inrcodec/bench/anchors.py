"""The reference codecs a benchmark compares inrcodec with: x264, x265 and SVT-AV1, run through PyAV.

A BD-rate against an anchor means something only if the anchor saw the same frames under settings
a reader can name, so this module is the one place that fixes them:

* the frames the inrcodec encoder reads (``inrcodec.io.video``: 4:2:0 or 4:4:4 at 8, 10 or 12 bits, the
  source's own pixel format when it is one of those), in that pixel format at that depth (``yuv420p10le``
  for 10-bit 4:2:0, and so on); SVT-AV1 takes 4:2:0 at 8 or 10 bits only, x264 8 or 10 bits, x265 all
  three. Above 8 bits the profile is named, so a wrong one fails instead of coding something else:
  x265 ``main10``, ``main12``, ``main444-10``, ``main444-12``; x264 ``high10``, ``high444``; SVT-AV1
  codes 10-bit 4:2:0 in its Main profile without being told;
* a fixed QP per point, a key frame every ``keyint`` frames with scene-cut detection off and closed
  GOPs, and each encoder's slowest practical preset. A benchmark passes the .inr file's random-access
  period, GOP × GOM frames (a file is entered only at GOM boundaries), so that an anchor buys random
  access as often as inrcodec does and no more often:
  ``veryslow`` for x264 and x265 (``placebo`` gains little for much time), preset 0 for SVT-AV1
  (seconds per point at QCIF, far less than inrcodec spends; pass a higher one for large clips);
* 4:2:0 encoders need even sizes: an odd last column or row is repeated for the encoder and cropped
  off after decoding; rates count the source's pixels only.

The counted bytes are the elementary stream written to disk, which is exactly what the decoder is
given: every packet, minus the SEI message in which x264 stores its version and option string
(user data unregistered, several hundred bytes that no decoder needs; x265 is told not to write its
own with ``info=0``). Each anchor file therefore holds exactly its payload.

Encode and decode also run as ``python -m inrcodec.bench.anchors encode|decode ...`` so that a benchmark
measures each in a process of its own; both print one JSON object on stdout. The encoder takes the
bit depth from the source; the decoder from the stream, unless ``--bit-depth`` insists on one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import av
import numpy as np

from ..container.spec import ChromaFormat
from ..errors import InrError, InrInputError
from ..io.video import plane_array, chroma_shape, open_video
from ..io.y4m import Y4MWriter

# H.264 / HEVC SEI payload type "user data unregistered", where x264 writes its version and options.
SEI_USER_DATA_UNREGISTERED = 5
# NAL unit types of an SEI: H.264 (5-bit type), HEVC prefix SEI (6-bit type).
H264_NAL_SEI = 6
HEVC_NAL_PREFIX_SEI = 39
_420, _444 = ChromaFormat.YUV420, ChromaFormat.YUV444
# PyAV pixel format of each chroma format the encoder reads, at 8 bits (see pix_fmt_of for more).
PIX_FMT = {_420: "yuv420p", _444: "yuv444p"}
# Bit depths of the frames the encoder reads: 8-bit ones are uint8 planes, the others uint16.
BIT_DEPTHS = (8, 10, 12)
_X26X_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                 "placebo")


def _x264_options(qp: int, keyint: int, preset: str, threads: int | None) -> dict[str, str]:
    """libx264: constant QP, key frame every ``keyint`` frames, no scene cuts."""
    return {"preset": preset, "qp": str(qp), "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0"}


def _x265_options(qp: int, keyint: int, preset: str, threads: int | None) -> dict[str, str]:
    """libx265: constant QP, closed GOPs of ``keyint`` frames, no scene cuts, no version SEI."""
    params = f"qp={qp}:keyint={keyint}:min-keyint={keyint}:scenecut=0:open-gop=0:info=0:log-level=error"
    if threads is not None:
        # x265 sizes its own thread pool; FFmpeg's thread count does not reach it.
        params += f":pools={threads}"
    return {"preset": preset, "x265-params": params}


def _svtav1_options(qp: int, keyint: int, preset: str, threads: int | None) -> dict[str, str]:
    """libsvtav1: constant QP (rc=0), key frame every ``keyint`` frames, no scene-change detection."""
    params = f"rc=0:keyint={keyint}:scd=0"
    if threads is not None:
        params += f":lp={threads}"
    return {"preset": preset, "qp": str(qp), "svtav1-params": params}


@dataclass(frozen=True)
class Anchor:
    """One reference codec: how to encode, which raw stream it writes, how to decode it back."""

    name: str                      # lowercase key, as --codecs takes it
    label: str                     # for tables and plots, followed by the preset
    encoder: str                   # FFmpeg encoder name
    decoder: str                   # FFmpeg decoder name
    raw_format: str                # FFmpeg demuxer of the elementary stream
    suffix: str                    # file name suffix of that stream
    options: Callable[[int, int, str, int | None], dict[str, str]]  # (qp, keyint, preset, threads)
    preset: str                    # the slowest practical one
    allowed_presets: tuple[str, ...]
    qp_range: tuple[int, int]      # allowed QPs, inclusive
    default_qps: tuple[int, ...]   # bracket about 30..42 dB PSNR-YUV on carphone QCIF
    chroma: tuple[ChromaFormat, ...] = (_420, _444)
    sei_nal_type: Callable[[bytes], int | None] | None = field(default=None, repr=False)
    bit_depths: tuple[int, ...] = (8,)
    # The encoder's profile option per (chroma, bit depth) above 8 bits; none named leaves it to the encoder.
    profiles: dict[tuple[ChromaFormat, int], str] = field(default_factory=dict, repr=False, hash=False, compare=False)


def _h264_sei_payload_type(nal: bytes) -> int | None:
    """Payload type of the first message of an H.264 SEI NAL unit; None for other NAL units."""
    if not nal or nal[0] & 0x1F != H264_NAL_SEI:
        return None
    return _sei_payload_type(nal, 1)


def _hevc_sei_payload_type(nal: bytes) -> int | None:
    """Payload type of the first message of an HEVC prefix SEI NAL unit; None for other NAL units."""
    if len(nal) < 2 or (nal[0] >> 1) & 0x3F != HEVC_NAL_PREFIX_SEI:
        return None
    return _sei_payload_type(nal, 2)


def _sei_payload_type(nal: bytes, pos: int) -> int | None:
    """SEI payload type coded from ``pos`` on: 0xFF bytes add 255 each, the next byte ends it."""
    value = 0
    while pos < len(nal) and nal[pos] == 0xFF:
        value += 255
        pos += 1
    return value + nal[pos] if pos < len(nal) else None


ANCHORS: dict[str, Anchor] = {a.name: a for a in (
    # QPs 22..42 (the JCT-VC set) give 31.6..42.7 dB (x264) and 31.8..43.3 dB (x265) on carphone QCIF.
    Anchor("x264", "x264", "libx264", "h264", "h264", ".h264", _x264_options, "veryslow", _X26X_PRESETS,
           (0, 51), (22, 27, 32, 37, 42), sei_nal_type=_h264_sei_payload_type, bit_depths=(8, 10),
           profiles={(_420, 10): "high10", (_444, 10): "high444"}),
    Anchor("x265", "x265", "libx265", "hevc", "hevc", ".hevc", _x265_options, "veryslow", _X26X_PRESETS,
           (0, 51), (22, 27, 32, 37, 42), sei_nal_type=_hevc_sei_payload_type, bit_depths=(8, 10, 12),
           profiles={(_420, 10): "main10", (_420, 12): "main12", (_444, 10): "main444-10",
                     (_444, 12): "main444-12"}),
    # QPs 30..63 give about 32..42 dB; 63 is the coarsest SVT-AV1 allows.
    Anchor("svt-av1", "SVT-AV1", "libsvtav1", "libdav1d", "obu", ".obu", _svtav1_options, "0",
           tuple(str(p) for p in range(14)), (1, 63), (30, 38, 46, 54, 63), chroma=(_420,), bit_depths=(8, 10)),
)}


def get_anchor(name: str) -> Anchor:
    """The anchor registered under ``name``; an unknown name raises listing the known ones."""
    if name not in ANCHORS:
        raise InrInputError(f"unknown anchor codec {name!r}; known: {', '.join(ANCHORS)}")
    return ANCHORS[name]


def check_qps(anchor: Anchor, qps) -> tuple[int, ...]:
    """The QPs as a tuple, after checking they are distinct and inside the anchor's range."""
    qps = tuple(qps)
    low, high = anchor.qp_range
    if not qps:
        raise InrInputError(f"{anchor.name}: need at least one QP")
    bad = [q for q in qps if not low <= q <= high]
    if bad:
        raise InrInputError(f"{anchor.name}: QP {bad[0]} outside {low}..{high}")
    if len(set(qps)) != len(qps):
        raise InrInputError(f"{anchor.name}: QPs repeat: {','.join(map(str, qps))}")
    return qps


def check_preset(anchor: Anchor, preset: str | None) -> str:
    """The preset to use: ``preset`` after checking the encoder knows it, else the anchor's default."""
    if preset is None:
        return anchor.preset
    if preset not in anchor.allowed_presets:
        raise InrInputError(f"{anchor.name}: unknown preset {preset!r}; expected one of "
                            f"{', '.join(anchor.allowed_presets)}")
    return preset


def display_name(anchor: Anchor, preset: str | None = None) -> str:
    """Codec and preset as tables and plots show them, e.g. 'x265 veryslow' or 'SVT-AV1 preset 0'."""
    preset = check_preset(anchor, preset)
    return f"{anchor.label} preset {preset}" if preset.isdigit() else f"{anchor.label} {preset}"


def pix_fmt_of(chroma: str | ChromaFormat, bit_depth: int = 8) -> str:
    """The pixel format of frames of this chroma format and depth, e.g. 'yuv420p' or 'yuv444p10le'.

    >>> pix_fmt_of("420", 10)
    'yuv420p10le'
    """
    chroma = ChromaFormat.of(chroma)
    if bit_depth not in BIT_DEPTHS:
        raise InrInputError(f"unsupported bit depth {bit_depth!r}; expected one of {', '.join(map(str, BIT_DEPTHS))}")
    return PIX_FMT[chroma] if bit_depth == 8 else f"{PIX_FMT[chroma]}{bit_depth}le"


def _format_depth(pix_fmt: str) -> int:
    """Bits per sample of a pixel format's first component (8 for 'yuv420p', 10 for 'p010le')."""
    return av.VideoFormat(pix_fmt).components[0].bits


def unsupported_reason(anchor: Anchor, chroma: str | ChromaFormat, bit_depth: int = 8) -> str | None:
    """Why ``anchor`` cannot encode frames of this chroma format and bit depth, or None when it can."""
    chroma = ChromaFormat.of(chroma)
    if chroma not in anchor.chroma:
        return (f"{anchor.encoder} encodes {'/'.join(c.label for c in anchor.chroma)} chroma only, "
                f"the source is {chroma.label}")
    if bit_depth not in anchor.bit_depths:
        depths = "/".join(map(str, anchor.bit_depths))
        return f"{anchor.encoder} encodes {depths}-bit video only, the source is {bit_depth}-bit"
    if bit_depth != 8:
        # Another FFmpeg build may hold an encoder library built for 8 bits only.
        pix_fmt = pix_fmt_of(chroma, bit_depth)
        try:
            formats = av.Codec(anchor.encoder, "w").video_formats or ()
        except av.FFmpegError:
            return f"this PyAV build has no {anchor.encoder} encoder"
        if pix_fmt not in {f.name for f in formats}:
            return f"this PyAV build's {anchor.encoder} does not take {pix_fmt}"
    return None


def split_annexb(data: bytes) -> list[tuple[bytes, bytes]]:
    """An Annex B byte stream as (start code with its leading zeros, NAL unit) pairs, in order.

    >>> split_annexb(b"\\x00\\x00\\x00\\x01\\x67\\xaa\\x00\\x00\\x01\\x06\\x05")
    [(b'\\x00\\x00\\x00\\x01', b'g\\xaa'), (b'\\x00\\x00\\x01', b'\\x06\\x05')]
    """
    units = []
    pos = data.find(b"\x00\x00\x01")
    if pos < 0:
        raise ValueError("no Annex B start code in the packet")
    if data[:pos].strip(b"\x00"):
        raise ValueError("bytes before the first Annex B start code")
    prefix_start = 0
    while pos >= 0:
        nal_start = pos + 3
        nxt = data.find(b"\x00\x00\x01", nal_start)
        end = len(data) if nxt < 0 else nxt
        # Zeros before the next start code belong to it (zero_byte / trailing_zero_8bits).
        nal_end = end
        while nxt >= 0 and nal_end > nal_start and data[nal_end - 1] == 0:
            nal_end -= 1
        units.append((data[prefix_start:nal_start], data[nal_start:nal_end]))
        prefix_start, pos = nal_end, nxt
    return units


def strip_info_sei(anchor: Anchor, packet: bytes) -> bytes:
    """The packet without SEI NAL units whose message is user data unregistered (the encoder's banner)."""
    if anchor.sei_nal_type is None:
        return packet
    kept = [prefix + nal for prefix, nal in split_annexb(packet)
            if anchor.sei_nal_type(nal) != SEI_USER_DATA_UNREGISTERED]
    return b"".join(kept)


def _even(n: int) -> int:
    """``n`` rounded up to an even number."""
    return n + (n & 1)


def _pad_plane(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """The plane grown to ``height`` x ``width`` by repeating its last row and column."""
    return np.pad(plane, ((0, height - plane.shape[0]), (0, width - plane.shape[1])), mode="edge")


def _video_frame(planes, pix_fmt: str, width: int, height: int, pts: int, bit_depth: int = 8) -> av.VideoFrame:
    """A PyAV frame of ``width`` x ``height`` holding the planes, padded by edge repetition.

    8-bit planes are uint8; deeper ones uint16 holding 0 .. 2**bit_depth - 1, written little-endian
    (``pix_fmt`` is then one of the ``...le`` formats).
    """
    dtype = np.dtype(np.uint8) if bit_depth == 8 else np.dtype("<u2")
    frame = av.VideoFrame(width, height, pix_fmt)
    for dst, src in zip(frame.planes, planes):
        if bit_depth != 8:
            if src.dtype.kind != "u" or src.dtype.itemsize != 2:
                raise InrInputError(f"{bit_depth}-bit frames must hold uint16 planes, got {src.dtype}")
            peak = int(src.max()) if src.size else 0
            if peak >> bit_depth:
                raise InrInputError(f"sample {peak} exceeds the {bit_depth}-bit maximum {(1 << bit_depth) - 1}")
        padded = _pad_plane(src, dst.height, dst.width)
        rows = np.zeros((dst.height, dst.line_size // dtype.itemsize), dtype)
        rows[:, : dst.width] = padded
        dst.update(rows.tobytes())
    frame.pts = pts
    return frame


def encode_anchor(src, dst, name: str, qp: int, keyint: int, *, preset: str | None = None,
                  max_frames: int | None = None, threads: int | None = None) -> dict:
    """Encode the source's frames with one anchor at one QP, a key frame every ``keyint`` frames, into
    the elementary stream ``dst``."""
    anchor = get_anchor(name)
    check_qps(anchor, [qp])
    preset = check_preset(anchor, preset)
    if keyint < 1:
        raise InrInputError(f"keyint must be >= 1, got {keyint}")
    start = time.perf_counter()
    with open_video(src, max_frames=max_frames) as video:
        info = video.info
        depth = info.bit_depth
        reason = unsupported_reason(anchor, info.chroma_format, depth)
        if reason:
            raise InrInputError(reason)
        pix_fmt = pix_fmt_of(info.chroma_format, depth)
        profile = anchor.profiles.get((info.chroma_format, depth))
        width, height = _even(info.width), _even(info.height)
        ctx = av.CodecContext.create(anchor.encoder, "w")
        ctx.width, ctx.height, ctx.pix_fmt = width, height, pix_fmt
        ctx.time_base = Fraction(info.fps_den, info.fps_num)
        ctx.framerate = Fraction(info.fps_num, info.fps_den)
        ctx.gop_size = keyint
        if info.color_range == "full":
            ctx.color_range = 2
        if threads is not None:
            ctx.thread_count = threads
        options = anchor.options(qp, keyint, preset, threads)
        if profile is not None:
            options["profile"] = profile
        ctx.options = options
        n_bytes = n_frames = 0
        keyframes: list[int] = []
        with open(dst, "wb") as out:
            def write(packets) -> None:
                nonlocal n_bytes
                for packet in packets:
                    data = strip_info_sei(anchor, bytes(packet))
                    if packet.is_keyframe:
                        keyframes.append(int(packet.pts))
                    out.write(data)
                    n_bytes += len(data)

            for planes in video:
                write(ctx.encode(_video_frame(planes, pix_fmt, width, height, n_frames, depth)))
                n_frames += 1
            write(ctx.encode(None))
    return {"codec": name, "preset": preset, "qp": qp, "file_bytes": n_bytes, "n_frames": n_frames, "width": info.width,
            "height": info.height, "coded_width": width, "coded_height": height, "pix_fmt": pix_fmt,
            "bit_depth": depth, "profile": profile, "keyint": keyint, "keyframes": sorted(keyframes),
            "seconds": time.perf_counter() - start}


def _decoded_planes(frame: av.VideoFrame, expected: str, bit_depth: int, decoder: str) -> list[np.ndarray]:
    """The planes of a decoded frame in the ``expected`` pixel format: uint8, or native uint16 above 8 bits.

    Above 8 bits, a big-endian twin of ``expected`` is read as such, and another layout of the same
    depth and chroma (semi-planar ``p010le`` and the like) is reformatted to ``expected``; any other
    format, and any other format at all for 8 bits, is an error.
    """
    name = frame.format.name
    if bit_depth == 8:
        if name.replace("yuvj", "yuv") != expected:
            raise InrError(f"{decoder} gave {name} frames, expected {expected}")
        return [plane_array(p) for p in frame.planes]
    if name == expected:
        dtype = np.dtype("<u2")
    elif name == expected[:-2] + "be":
        dtype = np.dtype(">u2")
    else:
        fmt, want = frame.format, av.VideoFormat(expected)
        same_chroma = (not fmt.is_rgb and len(fmt.components) == 3
                       and fmt.chroma_width(frame.width) == want.chroma_width(frame.width)
                       and fmt.chroma_height(frame.height) == want.chroma_height(frame.height))
        if not same_chroma or _format_depth(name) != bit_depth:
            raise InrError(f"{decoder} gave {name} frames, expected {expected}")
        # One thread: swscale's automatic slice threads were seen (FFmpeg in PyAV 18.1) to corrupt
        # a few samples now and then in such conversions of small frames.
        frame, dtype = frame.reformat(format=expected, threads=1), np.dtype("<u2")
    return [plane_array(p, dtype) for p in frame.planes]


def decode_anchor(src, dst, name: str, width: int, height: int, *, fps: Fraction = Fraction(25),
                  chroma: str = _420.label, color_range: str = "unknown", chroma_siting: str = "unknown",
                  threads: int | None = None, bit_depth: int | None = None) -> dict:
    """Decode an anchor's elementary stream to a y4m of ``width`` x ``height`` (coding padding cropped off).

    ``bit_depth`` None takes the stream's own (from its pixel format as the demuxer reads it, 8 when
    it reads none); a number makes a stream of any other depth an error. The y4m has that depth:
    ``C420p10``-style tags and uint16 samples above 8 bits.
    ``seconds`` is the time spent in the decoder and in copying planes out, without y4m writing.
    """
    anchor = get_anchor(name)
    ChromaFormat.of(chroma)  # an unknown one fails before the decoder starts
    ctx = av.CodecContext.create(anchor.decoder, "r")
    if threads is not None:
        ctx.thread_count = threads
    busy = 0.0
    n_frames = 0
    with av.open(os.fspath(src), "r", format=anchor.raw_format) as container:
        stream = container.streams.video[0]
        if bit_depth is None:
            probed = stream.codec_context.pix_fmt
            bit_depth = _format_depth(probed) if probed else 8
        expected = pix_fmt_of(chroma, bit_depth)
        # The 8-bit writer is called as before high-bit-depth y4m existed.
        depth_arg = {} if bit_depth == 8 else {"bit_depth": bit_depth}
        # a benchmark re-run replaces its own decoded anchors in its --out folder
        with Y4MWriter(dst, width, height, fps.numerator, fps.denominator, chroma, color_range,
                       chroma_siting, overwrite=True, **depth_arg) as out:
            # The demuxer ends with an empty packet; None drains the decoder instead.
            packets = itertools.chain((p for p in container.demux(stream) if p.size), [None])
            for packet in packets:
                t0 = time.perf_counter()
                frames = [_decoded_planes(frame, expected, bit_depth, anchor.decoder)
                          for frame in ctx.decode(packet)]
                busy += time.perf_counter() - t0
                for y, u, v in frames:
                    ch, cw = chroma_shape(width, height, chroma)
                    out.write_frame((y[:height, :width], u[:ch, :cw], v[:ch, :cw]))
                    n_frames += 1
    return {"codec": name, "decoder": anchor.decoder, "n_frames": n_frames, "bit_depth": bit_depth, "seconds": busy}


def _parse_args(argv):
    """Options of the two child commands."""
    p = argparse.ArgumentParser(prog="python -m inrcodec.bench.anchors", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    enc = sub.add_parser("encode", help="encode a source with one anchor at one QP")
    enc.add_argument("src")
    enc.add_argument("dst")
    enc.add_argument("--codec", required=True, choices=list(ANCHORS))
    enc.add_argument("--qp", type=int, required=True)
    enc.add_argument("--keyint", type=int, required=True, help="frames from one key frame to the next")
    enc.add_argument("--preset", default=None)
    enc.add_argument("--frames", type=int, default=None)
    enc.add_argument("--threads", type=int, default=None)
    dec = sub.add_parser("decode", help="decode an anchor stream to y4m")
    dec.add_argument("src")
    dec.add_argument("dst")
    dec.add_argument("--codec", required=True, choices=list(ANCHORS))
    dec.add_argument("--size", required=True, help="WxH of the source, e.g. 176x144")
    dec.add_argument("--fps", default="25/1")
    dec.add_argument("--chroma", default=_420.label, choices=ChromaFormat.labels())
    dec.add_argument("--range", dest="color_range", default="unknown")
    dec.add_argument("--siting", default="unknown")
    dec.add_argument("--bit-depth", type=int, default=None, choices=BIT_DEPTHS,
                     help="depth of the source; default: the stream's own")
    dec.add_argument("--threads", type=int, default=None)
    return p.parse_args(argv)


def main(argv=None) -> int:
    """Child entry point: run one encode or decode and print its JSON summary."""
    args = _parse_args(argv)
    try:
        if args.command == "encode":
            result = encode_anchor(args.src, args.dst, args.codec, args.qp, args.keyint, preset=args.preset,
                                   max_frames=args.frames, threads=args.threads)
        else:
            width, height = (int(v) for v in args.size.lower().split("x"))
            result = decode_anchor(args.src, args.dst, args.codec, width, height, fps=Fraction(args.fps),
                                   chroma=args.chroma, color_range=args.color_range,
                                   chroma_siting=args.siting, threads=args.threads, bit_depth=args.bit_depth)
    except (InrError, av.FFmpegError, ValueError, OSError) as exc:
        print(f"inrcodec.bench.anchors: error: {exc}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, InrError) else 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
