"""The one Registry: names typed by a user are input errors (exit 7), ids read from a file are
unsupported (exit 6); every registry stamps name and wire id the same way."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from inrcodec.cli import main
from inrcodec.train.losses import LOSSES
from inrcodec.coders import BLOB_CODECS, CODERS
from inrcodec.errors import InrInputError, InrUnsupportedError
from inrcodec.models import ARCHITECTURES
from inrcodec.registry import Registry

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "carphone_48x32_8f.y4m")


def test_unknown_name_is_an_input_error_and_unknown_id_unsupported():
    reg: Registry[type] = Registry("widget")
    with pytest.raises(InrInputError, match="known: "):
        reg.get("nope")
    with pytest.raises(InrUnsupportedError):
        reg.by_id(3)


def test_register_stamps_name_and_wire_id_and_refuses_duplicates():
    reg: Registry[type] = Registry("widget")

    @reg.register("a", wire_id=7)
    class A:
        pass

    assert (A.name, A.wire_id, reg.by_id(7), reg.id_of("a")) == ("a", 7, A, 7)
    with pytest.raises(ValueError):
        reg.register("a", wire_id=8)(type("B", (), {}))
    with pytest.raises(ValueError):
        reg.register("b", wire_id=7)(type("B", (), {}))
    reg.unregister("a")
    assert "a" not in reg


def test_every_registry_stamps_its_classes():
    for registry in (CODERS, BLOB_CODECS, ARCHITECTURES, LOSSES):
        for name in registry.names():
            assert registry.get(name).name == name


def test_losses_have_no_wire_ids():
    # no loss is written to a file
    assert all(LOSSES.get(n).wire_id is None for n in LOSSES.names())
    with pytest.raises(ValueError):
        LOSSES.id_of("mse")


@pytest.mark.parametrize("flag, value", [("--coder", "huffman"), ("--model", "nerf"), ("--loss", "lpips2")])
def test_cli_unknown_registry_name_exits_7(tmp_path, flag, value):
    result = CliRunner().invoke(main, ["enc", SAMPLE, "-o", str(tmp_path / "x.inr"), "--quiet", flag, value])
    assert result.exit_code == InrInputError.exit_code == 7, result.output
    assert value in result.output


@pytest.mark.parametrize("args", [["--channels", "8,x"], ["--layers", "2", "--layer-quality", "3,,y"]])
def test_cli_integer_lists_share_one_parser_and_exit_7(tmp_path, args):
    result = CliRunner().invoke(main, ["enc", SAMPLE, "-o", str(tmp_path / "x.inr"), "--quiet", *args])
    assert result.exit_code == 7, result.output
    assert "expected comma-separated integers" in result.output


def test_cli_model_options_come_from_the_architectures():
    for command in ("enc", "bench"):
        text = CliRunner().invoke(main, [command, "--help"]).output
        assert "--patch-size" in text and "nirvana: patch side" in text and "--channels" in text


def test_importing_the_cli_imports_no_torch():
    import subprocess
    import sys
    code = "import sys, inrcodec.cli; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
