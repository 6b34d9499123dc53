#!/usr/bin/env python3
"""Coverage-guided fuzz target for the decoder (atheris / libFuzzer).

    pip install -e ".[fuzz]"
    python tools/fuzz/fuzz_decoder.py -max_total_time=600 -rss_limit_mb=4096 -timeout=60 out/fuzz-corpus

Each input is either used as a file as it is, or (first byte odd) taken as a recipe that applies
one structure-aware mutation (inrcodec/fuzz/mutate.py) to a golden conformance stream, or
(first byte 2 mod 4) as the seed of a *valid* file with an extreme header (any legal frame size,
GOP length, layers and arch_params: ``inrcodec.fuzz.synthetic.extreme_file``), so that
libFuzzer's byte mutations, the CRC-preserving ones and legal-but-ruinous headers all reach the
decoder. Any exception outside the InrError family is a finding: atheris prints it and writes the
input as crash-*; reproduce with ``python tools/fuzz/fuzz_decoder.py crash-...``.

Every input is decoded under ``FUZZ_LIMITS`` (spec/levels.md: a decoder's limits, set small here)
and only up to MAX_FRAMES frames plus the last one, so that each input's time and memory are
bounded: a slow input (-timeout) or one over -rss_limit_mb is a finding too.
"""

from __future__ import annotations

import glob
import importlib
import os
import sys

import atheris
importlib.import_module("numpy")  # loaded before instrumentation: only inrcodec is instrumented
import torch

with atheris.instrument_imports(include=["inrcodec"]):
    from inrcodec.decode.decoder import InrFile
    from inrcodec.decode.options import DecodeOptions
    from inrcodec.fuzz.synthetic import FUZZ_LIMITS, extreme_file
    from inrcodec.fuzz.mutate import MUTATIONS, chunk_spans, mutate
    from inrcodec.errors import InrError
    from inrcodec.describe import describe

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(HERE, "..", "..", "tests", "conformance",
                                                                         "*", "stream.inr")))]
SPANS = [chunk_spans(d) for d in GOLDEN]
MAX_FRAMES = 64  # frames decoded from the start of a file (then the last one): time bounded per input


def decode(data: bytes) -> None:
    try:
        describe(data, limits=FUZZ_LIMITS)
        with InrFile(data, DecodeOptions(limits=FUZZ_LIMITS)) as f:
            for n, _ in enumerate(f):
                if n + 1 == MAX_FRAMES:
                    f[len(f) - 1]
                    break
    except InrError:
        pass


def test_one_input(raw: bytes) -> None:
    if raw and raw[0] % 4 == 2 and len(raw) >= 5:
        data, _ = extreme_file(int.from_bytes(raw[1:5], "big"))
        decode(data)
    elif raw and raw[0] & 1 and len(raw) >= 8:
        fdp = atheris.FuzzedDataProvider(raw[1:])
        k = fdp.ConsumeIntInRange(0, len(GOLDEN) - 1)
        kind = MUTATIONS[fdp.ConsumeIntInRange(0, len(MUTATIONS) - 1)]
        data = GOLDEN[k]
        for _ in range(fdp.ConsumeIntInRange(1, 3)):
            data = mutate(data, SPANS[k], kind, fdp.ConsumeIntInRange(0, 2**20), fdp.ConsumeIntInRange(0, 2**20))
        decode(data)
    else:
        decode(raw)


def seed_corpus(argv: list[str]) -> None:
    """An empty corpus folder (the first non-flag argument) starts with the golden streams."""
    dirs = [a for a in argv[1:] if not a.startswith("-")]
    if dirs and os.path.isdir(dirs[0]) and not os.listdir(dirs[0]):
        for i, data in enumerate(GOLDEN):
            with open(os.path.join(dirs[0], f"golden-{i}.inr"), "wb") as f:
                f.write(data)


def main() -> None:
    torch.set_num_threads(1)
    seed_corpus(sys.argv)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
