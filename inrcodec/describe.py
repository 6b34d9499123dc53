"""What ``inrcodec info`` shows: header fields with offsets, the index, bytes per GOM/model/chunk.

It never builds a network: parameters and MACs come from ``inrcodec.costs`` by arithmetic, and the
file is compared with the decoder's limits (spec/levels.md) as a decoder would, without refusing.
"""

from __future__ import annotations

import math
import os

from .colour import MATRIX, PRIMARIES, TRANSFER, colour_name
from .container.chunks import DisplayInfo, header_fields, layer_specs
from .container.reader import ContainerReader
from .container.spec import ChromaFormat, ChromaSiting, ColorRange, FieldOrder, Timing
from .costs import NETWORK_COSTS, network_cost
from .errors import InrError
from .levels import LEVEL, Limits, exceeded
from .metrics import sample_peak


def describe(path: str | os.PathLike, *, salvage: bool = False, limits: Limits | None = None) -> dict:
    """Everything inside an .inr file as a JSON-ready dict; ``limits`` (default: the level) are the
    decoder limits the file is compared with (``"limits"``: a file above one is still described)."""
    with ContainerReader(path, salvage=salvage) as r:
        h = r.header
        fields = [{"name": n, "offset": off, "width": w, "value": v, **_meaning(n, v)}
                  for n, off, w, v in header_fields(h)]
        chunks = [{"type": c.type, "offset": c.offset, "payload_bytes": c.payload_size, "bytes": c.total_size,
                   "gop": c.gop_index, "kind": None if c.kind is None else "IP"[int(c.kind)], "layer": c.layer}
                  for c in r.chunks()]
        # what the encode aimed at (targ, §5.8: informative, the first one that reads)
        aimed = next((c.record for c in r.chunks() if c.record is not None), None)
        goms = []
        n_goms = r.n_complete_goms if r.salvage_note is not None else h.n_goms
        for m in range(n_goms):
            entries = r.gom_entries(m)
            models, layer = [], 0
            for i, e in enumerate(entries):
                # the i-th MODL entry of a GOP is layer i; a BLOB belongs to the MODL before it
                if e.kind == "MODL":
                    layer = layer + 1 if i and entries[i - 1].gop_index == e.gop_index else 0
                models.append({"gop": e.gop_index, "type": e.kind, "layer": layer, "offset": e.offset,
                               "bytes": e.size_bytes})
            goms.append({"gom": m, "gops": list(h.gops_of_gom(m)), "offset": entries[0].offset if entries else None,
                         "bytes": sum(e.size_bytes for e in entries), "models": models})
        chroma = ChromaFormat.from_code(h.chroma_format).label
        layers = []
        for k, ls in enumerate(layer_specs(h, r.layers)):
            name, n_params, macs = _network(h.width, h.height, chroma, ls.arch_id, ls.arch_params)
            layers.append({"layer": k, "architecture": name, "arch_params": list(ls.arch_params),
                           "residual_scale": ls.residual_scale, "seed": ls.seed, "parameters_per_model": n_params,
                           "macs_per_pixel": macs, "bytes": sum(c["bytes"] for c in chunks if c["layer"] == k)})
        arch_name, n_params, macs = layers[0]["architecture"], layers[0]["parameters_per_model"], None
        if all(layer["macs_per_pixel"] is not None for layer in layers):
            macs = sum(layer["macs_per_pixel"] for layer in layers)
        size = r.file_size
        header = header_values(h)
        display = display_labels(r.display)
        return {
            "file": os.fspath(path) if not isinstance(path, (bytes, bytearray)) else "<bytes>",
            "summary": summary_line(h),
            "file_bytes": size,
            "writer_version": r.writer_version,
            "min_reader_version": r.min_reader_version,
            "header": header,
            "display": {**display, "sample_aspect": "{}:{}".format(*display["sample_aspect"])},
            "header_fields": fields,
            "architecture": arch_name,
            "parameters_per_model": n_params,
            "macs_per_pixel": macs,
            "bpp": size * 8 / (h.width * h.height * h.n_frames),
            "picture": {"width": h.width, "height": h.height, "chroma": chroma,
                        "bit_depth": h.bit_depth, "psnr_peak": sample_peak(h.bit_depth)},
            "overhead_bytes": r.overhead_bytes(),
            "layers": layers,
            "goms": goms,
            "chunks": chunks,
            "limits": _limits(h, r.layers, LEVEL if limits is None else limits),
            "salvage_note": r.salvage_note,
            "encode_target": None if aimed is None else _reached(aimed, size),
        }


def _reached(record: dict, file_bytes: int) -> dict:
    """A targ record with what this file shows of it: for a size, the file's own bytes."""
    out = dict(record)
    target = record.get("target")
    if isinstance(target, dict) and target.get("kind") == "bytes" and _number(target.get("value")) \
            and target["value"] > 0:
        out["target"] = {**target, "file_bytes": file_bytes, "off_percent": 100 * (file_bytes / target["value"] - 1)}
    return out


def _number(v) -> bool:
    """A targ member is shown only where it is a finite number: the chunk is the file's, unchecked."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def target_lines(aimed: dict) -> list[str]:
    """``info``'s lines for a targ record: what was asked, what was reached."""
    lines = []
    t = aimed.get("target")
    if isinstance(t, dict):
        value = t.get("value")
        if "file_bytes" in t:
            reached = f"{t['file_bytes']} bytes for {value:.0f} ({t['off_percent']:+.1f} %)"
        elif t.get("kind") == "psnr" and _number(t.get("psnr_yuv")) and _number(value):
            reached = f"PSNR-YUV {t['psnr_yuv']:.2f} dB for {value:g} ({t['psnr_yuv'] - value:+.2f} dB)"
        elif t.get("kind") == "ms-ssim" and _number(t.get("ms_ssim_y")) and _number(value):
            reached = f"MS-SSIM-Y {t['ms_ssim_y']:.4f} for {value:g}"
        else:
            reached = "not recorded"
        rung = f", quality {t['quality']}" if "quality" in t else ""
        lines.append(f"encoded to a target: {t.get('asked', '?')}: {reached}{rung}")
    tm = aimed.get("time")
    if isinstance(tm, dict) and _number(tm.get("budget_s")) and _number(tm.get("seconds")):
        lines.append(f"encoded in a time budget: {tm.get('asked', '?')}: {tm['seconds']:.1f} s for "
                     f"{tm['budget_s']:g} s")
    return lines


_NAMED = {"color_primaries": PRIMARIES, "transfer": TRANSFER, "matrix": MATRIX}
_LABELLED = {"chroma_format": ChromaFormat, "color_range": ColorRange, "chroma_siting": ChromaSiting}


def _meaning(name: str, value: int) -> dict:
    """``{"meaning": ...}`` for a header field whose number stands for a name, else {}."""
    if name in _NAMED:
        return {"meaning": colour_name(_NAMED[name], value)}
    if name in _LABELLED:
        return {"meaning": _LABELLED[name](value).label}
    return {}


def header_values(h) -> dict:
    """SHDR as a plain ``{field: value}`` dict, coded fields by name (FFmpeg's for the colour ones).

    >>> with ContainerReader("tests/conformance/MULTIGOM_A/stream.inr") as r:
    ...     v = header_values(r.header)
    >>> v["width"], v["chroma_format"], v["color_primaries"], v["chroma_siting"]
    (32, '420', 'unknown', 'center')
    """
    out = {}
    for name, _, _, value in header_fields(h):
        if not name.startswith(("n_arch_params", "arch_params[")):
            out[name] = _meaning(name, value).get("meaning", value)
    out["arch_params"] = list(h.arch_params)
    return out


def summary_line(h) -> str:
    """One line: size, frames, rate, duration, depth, chroma."""
    fps = h.fps_num / h.fps_den
    chroma = ChromaFormat(h.chroma_format).label
    return (f"{h.width}x{h.height}, {h.n_frames} frames at {fps:.6g} fps ({h.n_frames / fps:.2f} s), "
            f"{h.bit_depth}-bit {chroma[0]}:{chroma[1]}:{chroma[2]}")


def display_labels(d: DisplayInfo) -> dict:
    """The disp chunk (spec/bitstream.md §5.7) by name: sample_aspect (num, den), rotation, and the
    FieldOrder and Timing labels of field_order and timing."""
    return {"sample_aspect": (d.sar_num, d.sar_den), "rotation": d.rotation,
            "field_order": FieldOrder.from_code(d.field_order).label, "timing": Timing.from_code(d.timing).label}


def y4m_notes(d: DisplayInfo) -> list[str]:
    """What a y4m output cannot say of the disp chunk, one sentence each."""
    notes = []
    if d.rotation:
        filters = {90: "transpose=2", 180: "hflip,vflip", 270: "transpose=1"}
        turn = f" (ffmpeg -vf {filters[d.rotation]})" if d.rotation in filters else ""
        notes.append(f"the source is shown turned {d.rotation} degrees counterclockwise; y4m cannot say so, "
                     f"the frames are written as stored{turn}")
    if d.timing == Timing.RETIMED:
        notes.append("the source's frame durations varied; the frames come out at the constant rate of the file")
    return notes


def retag_hint(path, y4m_name: str = "OUT.y4m") -> str | None:
    """The ffmpeg command that puts back the colour description a y4m stream cannot carry; None when
    the file has none (everything unspecified)."""
    from .colour import ffmpeg_tag_options

    with ContainerReader(path) as r:
        h = r.header
    options = ffmpeg_tag_options(h.color_primaries, h.transfer, h.matrix, ColorRange(h.color_range).label)
    if not options:
        return None
    name = "-" if y4m_name == "-" else os.fspath(y4m_name)
    return (f"y4m cannot carry the colour description; to tag the stream again: "
            f"ffmpeg -i {name} {' '.join(options)} ...")


def library_versions() -> list[tuple[str, str]]:
    """(name, version) of inrcodec and the libraries it runs on; "not installed" for a missing one."""
    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    out = [("inrcodec", version("inrcodec")), ("torch", version("torch"))]
    pyav = version("av")
    if pyav != "not installed":
        try:
            import av

            pyav += f" (FFmpeg {av.ffmpeg_version_info})"
        except ImportError:
            pyav = "not installed"
    out += [("PyAV", pyav), ("constriction", version("constriction")), ("numpy", version("numpy")),
            ("onnxruntime", version("onnxruntime"))]  # the default synthesis backend's (inrcodec.decode.synthesis)
    return out


def _network(width: int, height: int, chroma: str, arch_id: int,
             params: tuple[int, ...]) -> tuple[str, int | None, float | None]:
    """(architecture name, parameters per model, MACs per pixel) of a layer's network, by arithmetic."""
    try:
        name = NETWORK_COSTS.name_of(arch_id)
    except InrError:
        return f"unknown ({arch_id})", None, None
    try:
        cost = network_cost(arch_id, width, height, chroma, params)
    except ValueError:  # invalid arch_params: info still lists the bytes of the file
        return name, None, None
    return name, cost.params, cost.macs_per_pixel


def _limits(header, layers, limits: Limits) -> dict:
    """The decoder limits and whether the file (all its layers) is within them: ``exceeds``, the
    first limit it exceeds; ``invalid``, why a decoder cannot build its networks at all."""
    out = {"level": limits.as_dict(), "within": False, "exceeds": None, "invalid": None}
    try:
        out["exceeds"] = exceeded(header, layers, limits=limits)[1]
    except InrError as exc:  # invalid arch_params, unknown architecture
        out["invalid"] = str(exc)
    out["within"] = out["exceeds"] is None and out["invalid"] is None
    return out


def format_description(d: dict) -> str:
    """The human-readable form of ``describe``'s dict."""
    lines = [f"{d['file']}: {d['file_bytes']} bytes, format v{d['writer_version']} "
             f"(needs reader v{d['min_reader_version']}), {d['bpp']:.4f} bpp"]
    pic = d["picture"]
    lines.append(f"picture: {pic['width']}x{pic['height']} {pic['chroma'][0]}:{pic['chroma'][1]}:{pic['chroma'][2]}, "
                 f"{pic['bit_depth']}-bit samples 0..{pic['psnr_peak']} (PSNR peak {pic['psnr_peak']})")
    lines.append(d["summary"])
    lines.append("sequence header (SHDR payload offsets):")
    for f in d["header_fields"]:
        meaning = f" ({f['meaning']})" if "meaning" in f else ""
        lines.append(f"  {f['offset']:>4}  {f['name']:<16} {str(f['width']):>6}  {f['value']}{meaning}")
    disp = d["display"]
    if (disp["sample_aspect"], disp["rotation"], disp["field_order"], disp["timing"]) != (
            "0:0", 0, FieldOrder.PROGRESSIVE.label, Timing.CONSTANT.label):
        lines.append(f"display (disp): sample aspect {disp['sample_aspect']}, rotation {disp['rotation']}, "
                     f"field order {disp['field_order']}, timing {disp['timing']}")
    macs = "?" if d["macs_per_pixel"] is None else f"{d['macs_per_pixel']:.0f}"
    lines.append(f"architecture {d['architecture']}: {d['parameters_per_model']} parameters per model, "
                 f"{macs} MACs/pixel")
    lim = d["limits"]
    if lim["within"]:
        lines.append("within decoder limits")
    elif lim["exceeds"]:
        lines.append(f"exceeds decoder limit: {lim['exceeds']}")
    else:
        lines.append(f"not decodable: {lim['invalid']}")
    if len(d["layers"]) > 1:
        n_pixels = d["file_bytes"] * 8 / d["bpp"]
        lines.append(f"progressive layers (LHDR): {len(d['layers'])}")
        for layer in d["layers"]:
            lmacs = "?" if layer["macs_per_pixel"] is None else f"{layer['macs_per_pixel']:.0f}"
            lines.append(f"  layer {layer['layer']}: {layer['architecture']} {tuple(layer['arch_params'])}, "
                         f"scale {layer['residual_scale']}, {lmacs} MACs/pixel, {layer['bytes']} bytes "
                         f"({layer['bytes'] * 8 / n_pixels:.4f} bpp)")
    if d.get("encode_target"):
        lines += target_lines(d["encode_target"])
    lines.append(f"container overhead: {d['overhead_bytes']} bytes "
                 f"({100 * d['overhead_bytes'] / max(1, d['file_bytes']):.2f} % of the file)")
    lines.append("index:")
    for g in d["goms"]:
        lines.append(f"  GOM {g['gom']} (GOPs {g['gops'][0]}..{g['gops'][-1]}): {g['bytes']} bytes at {g['offset']}")
        for m in g["models"]:
            layer = f" layer {m['layer']}" if len(d["layers"]) > 1 else ""
            lines.append(f"    GOP {m['gop']:>4} {m['type']}{layer}  {m['bytes']:>8} bytes at {m['offset']}")
    lines.append("chunks:")
    for c in d["chunks"]:
        extra = "" if c["gop"] is None else f" GOP {c['gop']}" + ("" if c["kind"] is None else f" {c['kind']}-model")
        if c["layer"] is not None and len(d["layers"]) > 1:
            extra += f" layer {c['layer']}"
        lines.append(f"  {c['offset']:>8}  {c['type']}  {c['bytes']:>8} bytes (payload {c['payload_bytes']}){extra}")
    if d["salvage_note"]:
        lines.append(f"salvage: {d['salvage_note']}")
    return "\n".join(lines)
