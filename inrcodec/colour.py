"""Names of the H.273 colour code points SHDR stores, as FFmpeg spells them.

SHDR keeps ``color_primaries``, ``transfer`` and ``matrix`` as bare H.273 numbers (spec/bitstream.md
§5.1). People know them by FFmpeg's names (``bt2020``, ``smpte2084``, ``arib-std-b67``): ``inrcodec
info`` prints those, and ``dec --verbose`` prints the ``ffmpeg`` options that put them back on a
y4m stream, which cannot carry them. The tables follow libavutil's ``av_color_*_name`` (FFmpeg 8).
"""

from __future__ import annotations

# H.273 ColourPrimaries -> FFmpeg's name (-color_primaries).
PRIMARIES = {
    1: "bt709", 2: "unknown", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film",
    9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213",
}
# H.273 TransferCharacteristics -> FFmpeg's name (-color_trc).
TRANSFER = {
    1: "bt709", 2: "unknown", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
    9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1", 14: "bt2020-10",
    15: "bt2020-12", 16: "smpte2084", 17: "smpte428", 18: "arib-std-b67",
}
# H.273 MatrixCoefficients -> FFmpeg's name (-colorspace).
MATRIX = {
    0: "gbr", 1: "bt709", 2: "unknown", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco",
    9: "bt2020nc", 10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp",
    15: "ipt-c2", 16: "ycgco-re", 17: "ycgco-ro",
}
# SHDR color_range labels -> FFmpeg's name (-color_range).
RANGE = {"unknown": "unknown", "limited": "tv", "full": "pc"}
UNSPECIFIED = "unknown"


def colour_name(table: dict[int, str], code: int) -> str:
    """FFmpeg's name of an H.273 ``code`` in ``table``; ``reserved (N)`` for a number it does not name.

    >>> colour_name(TRANSFER, 16), colour_name(PRIMARIES, 3)
    ('smpte2084', 'reserved (3)')
    """
    return table.get(code, f"reserved ({code})")


def ffmpeg_tag_options(primaries: int, transfer: int, matrix: int, color_range: str) -> list[str]:
    """The ``ffmpeg`` options that tag a stream with this colour description (unspecified ones left out).

    >>> " ".join(ffmpeg_tag_options(9, 16, 9, "limited"))
    '-color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -color_range tv'
    """
    out = []
    for flag, table, code in (("-color_primaries", PRIMARIES, primaries), ("-color_trc", TRANSFER, transfer),
                              ("-colorspace", MATRIX, matrix)):
        if code in table and table[code] != UNSPECIFIED:
            out += [flag, table[code]]
    if RANGE.get(color_range, UNSPECIFIED) != UNSPECIFIED:
        out += ["-color_range", RANGE[color_range]]
    return out
