"""Commands tell a new user what to do instead of printing tracebacks."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("command", [["import-roster", "roster.csv"], ["export-roster"]])
def test_a_command_on_an_unmigrated_database_says_to_migrate(tmp_path, command):
    env = {**os.environ, "LASTWEEK_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    (tmp_path / "roster.csv").write_text("employee_number\n")
    run = subprocess.run(
        [sys.executable, "-m", "lastweek", *command], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert run.returncode == 1
    assert "run `lastweek migrate` and try again" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_missing_roster_file_is_named(tmp_path):
    env = {**os.environ, "LASTWEEK_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    subprocess.run([sys.executable, "-m", "lastweek", "migrate", "-v0"], check=True, env=env)
    run = subprocess.run(
        [sys.executable, "-m", "lastweek", "import-roster", "nowhere.csv"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 1
    assert "nowhere.csv does not exist" in run.stderr
