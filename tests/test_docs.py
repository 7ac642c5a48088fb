"""The README is part of the product: every command, option and setting is documented there."""

from __future__ import annotations

import re
from pathlib import Path

import click

from tension.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}".strip()
        if isinstance(cmd, click.Group):
            out += _commands(cmd, full)
        else:
            out.append((full, cmd))
    return out


def test_every_command_and_option_is_in_the_readme() -> None:
    missing = []
    for name, cmd in _commands(main):
        if f"`{name}" not in README and f" {name} " not in README:
            missing.append(name)
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("--") and opt not in README:
                    missing.append(f"{name} {opt}")
    assert not missing, f"undocumented in README.md: {missing}"


def test_app_options_and_settings_are_in_the_readme() -> None:
    app_py = (ROOT / "app.py").read_text(encoding="utf-8")
    for opt in re.findall(r'add_argument\("(--[a-z-]+)"', app_py):
        assert opt in README, f"app.py {opt} is not in README.md"
    code = "\n".join(p.read_text(encoding="utf-8") for p in
                     [*ROOT.glob("tension/**/*.py"), ROOT / "tests" / "conftest.py", ROOT / "app.py"])
    for env in sorted(set(re.findall(r"\b(TENSION_[A-Z_]+)\b", code))):
        assert env in README, f"setting {env} is not in README.md"


def test_readme_quick_start_is_two_commands_that_exist() -> None:
    block = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert len(commands) == 2
    for c in commands:
        assert (ROOT / c.split()[0]).exists(), c
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci
