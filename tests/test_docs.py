"""The documentation keeps up with the code: a setting or command nobody documented fails here."""

import re
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = (ROOT / "src/lastweek/settings.py").read_text()
PROJECT_COMMANDS = sorted(name for name, app in get_commands().items() if app.startswith("lastweek"))


@pytest.mark.parametrize("variable", sorted(set(re.findall(r'env_\w+\("([A-Z_]+)"', SETTINGS))))
def test_every_setting_is_in_env_example_and_the_docs(variable):
    assert re.search(rf"^{variable}=", (ROOT / ".env.example").read_text(), re.M), (
        f"{variable} not in .env.example"
    )
    assert f"`{variable}`" in (ROOT / "docs/configuration.md").read_text(), (
        f"{variable} not in configuration.md"
    )


@pytest.mark.parametrize("command", PROJECT_COMMANDS)
def test_every_command_is_documented(command):
    assert f"`lastweek {command.replace('_', '-')}" in (ROOT / "docs/commands.md").read_text()


def test_the_readme_starts_with_the_two_commands():
    first_lines = (ROOT / "README.md").read_text().splitlines()[:12]
    assert any(line.strip().startswith("make demo") for line in first_lines)
    assert any(line.strip().startswith("make test") for line in first_lines)


def test_ci_runs_the_readme_test_command():
    steps = [
        line for line in (ROOT / ".ci/run").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert "make test" in steps


def test_every_api_error_code_is_in_the_table_of_the_web_docs():
    from lastweek.api.errors import CODES

    rows = re.findall(r"^\| (\d{3}) \| `(\w+)` \| (.+) \|$", (ROOT / "docs/web.md").read_text(), re.M)
    assert {code: (int(status), meaning) for status, code, meaning in rows} == CODES
