"""dec and info take the decoder's limits from the command line (spec/levels.md §1.4); the file
has two layers so that --max-layers can refuse it too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from inrcodec.fuzz.synthetic import synthetic_file
from inrcodec.container.chunks import LayerHeader, LayerSpec, SequenceHeader

HEADER = SequenceHeader(width=64, height=48, n_frames=2, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8,
                        color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=2,
                        gom_size=1, arch_id=1, arch_params=(1, 4, 8, 8, 8), coder_id=1, seed=1)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "inrcodec.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("limits") / "small.inr"
    path.write_bytes(synthetic_file(HEADER, LayerHeader((LayerSpec(1, (1, 4, 8, 8, 8), 16, 2),))))
    return path


def test_a_lowered_limit_refuses_a_file_the_level_takes(small, tmp_path):
    assert cli("dec", small, "-o", tmp_path / "a.y4m", "--quiet").returncode == 0
    run = cli("dec", small, "-o", tmp_path / "b.y4m", "--quiet", "--max-pixels", 3000)
    assert run.returncode == 6
    assert run.stderr.strip() == ("inrcodec: error: frame 64x48 has 3072 samples, above the limit 3000 "
                                  "(--max-pixels raises it)")
    assert not (tmp_path / "b.y4m").exists()


def test_every_limit_the_messages_name_is_an_option(small, tmp_path):
    from dataclasses import fields

    from inrcodec.levels import Limits, option_name

    for f in fields(Limits):
        run = cli("dec", small, "-o", tmp_path / f"{f.name}.y4m", "--quiet", option_name(f.name), 1)
        assert run.returncode == 6, (f.name, run.stderr)
        assert option_name(f.name) in run.stderr


def test_info_reports_the_file_against_the_limits_given(small):
    assert "within decoder limits" in cli("info", small).stdout
    run = cli("info", small, "--json", "--max-pixels", 3000)
    assert run.returncode == 0
    limits = json.loads(run.stdout)["limits"]
    assert limits["level"]["max_pixels"] == 3000 and "max-pixels" in limits["exceeds"]


def test_a_limit_must_be_positive(small, tmp_path):
    run = cli("dec", small, "-o", tmp_path / "c.y4m", "--max-pixels", 0)
    assert run.returncode == 2 and "--max-pixels" in run.stderr
