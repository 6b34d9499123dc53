"""`inrcodec enc` takes its options from EncodeOptions and the architectures: nothing hand-forwarded."""

from __future__ import annotations

from dataclasses import fields

import click

from inrcodec.cli import main
from inrcodec.train.options import EncodeOptions, option_args
from inrcodec.models import arch_options


def enc_params() -> dict[str, click.Parameter]:
    command = main.commands["enc"]
    with click.Context(command) as ctx:
        return {p.name: p for p in command.get_params(ctx)}


def test_every_option_field_and_architecture_option_is_on_the_command_line():
    params = enc_params()
    cli_fields = [f.name for f in fields(EncodeOptions) if "cli" in f.metadata]
    assert set(cli_fields) | set(arch_options()) <= set(params)
    assert {"batch", "arch"}.isdisjoint(params)  # not user options
    for f in fields(EncodeOptions):
        if f.name in params and not params[f.name].is_flag:
            assert params[f.name].default == f.default, f.name


def test_option_args_spell_a_field_as_enc_takes_it():
    assert option_args("lam", 300.0) == ["--lambda", "300.0"]
    assert option_args("channels", (8, 8, 8)) == ["--channels", "8,8,8"]
    assert option_args("layer_quality", (3, 5)) == ["--layer-quality", "3,5"]


def test_dec_hands_the_decoder_one_frozen_options_object(monkeypatch, tmp_path):
    import dataclasses

    import pytest
    from click.testing import CliRunner

    from inrcodec import api
    from inrcodec.decode.options import DecodeOptions
    from inrcodec.levels import Limits

    seen = {}
    monkeypatch.setattr(api, "decode_to_y4m", lambda src, dst, options, **kw: seen.update(options=options, kw=kw))
    args = ["dec", "x.inr", "-o", str(tmp_path / "x.y4m"), "--backend", "numpy", "--threads", "3", "--layers", "2",
            "--salvage", "--max-pixels", "99"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen["options"] == DecodeOptions(backend="numpy", device="cpu", threads=3, layers=2,
                                            limits=Limits(max_pixels=99), salvage=True)
    assert set(seen["kw"]) == {"start", "count", "progress", "overwrite"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        seen["options"].layers = 1


def test_open_keeps_its_options():
    import inrcodec
    from inrcodec.decode.options import DecodeOptions

    with inrcodec.open("tests/conformance/MULTIGOM_A/stream.inr", backend="numpy", layers=1) as f:
        assert f.options == DecodeOptions(backend="numpy", layers=1) and f.backend == "numpy"
