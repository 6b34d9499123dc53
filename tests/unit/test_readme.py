"""The README's two commands are exactly what CI runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = text.split("```")[1::2]
    return [b.strip() for b in blocks[:2]]


def test_ci_runs_exactly_the_readme_commands():
    """First the README's two commands, as they are; then only scripts of .ci/ (the player-only install)."""
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines()
          if ln.strip() and not ln.startswith("#") and not ln.startswith(("set ", "cd "))]
    assert ci[:2] == _readme_commands()
    assert all(ln.startswith(".ci/") and (ROOT / ln).is_file() for ln in ci[2:])


def test_setup_command_pins_cpu_torch_and_runs_the_codec():
    setup, tests = _readme_commands()
    assert "torch==2.13.0" in setup and "inrcodec enc samples/" in setup and "inrcodec dec" in setup
    assert tests == "pytest"


def test_readme_reads_in_a_newcomers_order():
    """What it is, the two commands, Use, then where it stands; measurement tables live in docs/ (issue 27)."""
    text = (ROOT / "README.md").read_text()
    heads = [ln[3:] for ln in text.splitlines() if ln.startswith("## ")]
    order = [next(i for i, h in enumerate(heads) if h.startswith(name))
             for name in ("Set-up and first run", "Use", "Where it stands")]
    assert order == sorted(order) and order[0] == 0
    assert "|---" not in text.split("\n## Use\n", 1)[0], "no table before Use"
    assert (ROOT / "docs" / "measurements.md").is_file() and "docs/measurements.md" in text
