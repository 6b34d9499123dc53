"""``dec --salvage`` says what it recovered and why the rest was not, whatever the damage."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from inrcodec.api import open as open_inr
from inrcodec.fuzz.synthetic import synthetic_file
from inrcodec.container.chunks import SequenceHeader, chunk_crc, header_fields
from inrcodec.fuzz.mutate import chunk_spans
from inrcodec.errors import InrTruncatedError

HEADER = SequenceHeader(width=32, height=16, n_frames=4, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8,
                        color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=2,
                        gom_size=2, arch_id=1, arch_params=(1, 4, 8, 8, 8), coder_id=1, seed=1)


def promising_more(n_frames: int, cut_after_header: bool = False) -> bytes:
    """A whole one-GOM file whose SHDR then promises ``n_frames`` (CRC fixed): its index follows
    GOM 0. ``cut_after_header``: only the preamble and SHDR remain."""
    data = bytearray(synthetic_file(HEADER))
    offset, payload_at, total = chunk_spans(bytes(data))[0]
    at = payload_at + next(off for name, off, _w, _v in header_fields(HEADER) if name == "n_frames")
    data[at:at + 4] = n_frames.to_bytes(4, "big")
    payload = bytes(data[payload_at:offset + total - 4])
    data[offset + total - 4:offset + total] = chunk_crc(bytes(data[offset:offset + 4]), len(payload),
                                                        payload).to_bytes(4, "big")
    return bytes(data[:offset + total] if cut_after_header else data)


def test_an_index_before_the_promised_goms_decodes_what_is_there():
    with open_inr(promising_more(8), salvage=True) as f:
        assert len(f) == 4
        frames = list(f)
        assert len(frames) == 4
        note = f.reader.salvage_note
    assert "SHDR promises 2 GOMs" in note and "recovered 1 of 2 GOMs" in note


def test_nothing_recovered_is_said_plainly():
    with open_inr(promising_more(8, cut_after_header=True), salvage=True) as f:
        with pytest.raises(InrTruncatedError, match="nothing was recovered: file ends at offset"):
            next(f.frames())


@pytest.mark.parametrize("cut, code, words", [
    (False, 0, "warning: the index at offset"),
    (True, 4, "error: nothing was recovered"),
])
def test_cli_salvage_messages(tmp_path, cut, code, words):
    src = tmp_path / "cut.inr"
    src.write_bytes(promising_more(8, cut_after_header=cut))
    out = tmp_path / "out.y4m"
    run = subprocess.run([sys.executable, "-m", "inrcodec.cli", "dec", str(src), "-o", str(out), "--salvage",
                          "--quiet"], capture_output=True, text=True)
    assert run.returncode == code, run.stderr
    assert words in run.stderr and "None" not in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert out.exists() == (not cut)
