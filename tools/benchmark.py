"""Rate–distortion benchmark of inrcodec against x264, x265 and SVT-AV1: the same as ``inrcodec bench``.

Kept as a script so the benchmark runs from a checkout without installing the package; every option
and all the logic are those of ``inrcodec bench`` (``inrcodec/bench/run.py``). For example, the 60
carphone frames at four qualities, results in out/benchmark/carphone_qcif_60f/:

    python tools/benchmark.py ../shared/data/carphone_qcif_60f.y4m --gop 30 --gom 2 --threads 2
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inrcodec.cli import bench_cmd  # noqa: E402

if __name__ == "__main__":
    bench_cmd(prog_name="tools/benchmark.py")
