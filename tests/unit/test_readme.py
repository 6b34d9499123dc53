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
