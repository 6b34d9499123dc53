"""The README's tables say what the code does: every exit code row against the code that exits with it."""

import re
from pathlib import Path

import click

from inrcodec import cli, errors

ROOT = Path(__file__).resolve().parents[2]


def _exit_rows() -> dict[int, str]:
    """{code: meaning} of the README's "Exit codes" table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.M)
    assert rows, "no exit-code table under '## Exit codes'"
    return {int(code): meaning for code, meaning in rows}


def test_every_error_class_row_has_its_exit_code():
    rows = _exit_rows()
    named = {}
    for code, meaning in rows.items():
        for name in re.findall(r"`(Inr\w+Error)`", meaning):
            named[name] = code
    classes = {name: cls for name, cls in vars(errors).items()
               if isinstance(cls, type) and issubclass(cls, errors.InrError) and cls is not errors.InrError}
    assert set(named) == set(classes), "the table names exactly the error classes"
    for name, code in named.items():
        assert classes[name].exit_code == code, name
    assert "other inrcodec error" in rows[errors.InrError.exit_code]


def test_signal_and_usage_rows_match_the_cli():
    rows = _exit_rows()
    assert "Ctrl-C" in rows[cli.EXIT_INTERRUPTED]
    assert "SIGTERM" in rows[cli.EXIT_TERMINATED]
    assert "head" in rows[cli.EXIT_BROKEN_PIPE]
    assert "usage" in rows[click.UsageError.exit_code] and rows[0] == "success"
    assert set(rows) == {0, errors.InrError.exit_code, click.UsageError.exit_code, 3, 4, 5, 6, 7, 8,
                         cli.EXIT_INTERRUPTED, cli.EXIT_BROKEN_PIPE, cli.EXIT_TERMINATED}


def test_carried_table_names_every_property_the_issue_asks_about():
    text = (ROOT / "README.md").read_text()
    table = text.split("What is carried from the source", 1)[1].split("\n\n", 2)[1]
    for prop in ("chroma siting", "colour range", "primaries", "sample aspect ratio", "rotation", "field order",
                 "variable frame timing", "audio"):
        assert f"| {prop}" in table, prop
