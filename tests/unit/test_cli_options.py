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
