"""The benchmarks' PostgreSQL database: a synthetic organization generated and imported once, kept
between runs (`--reuse`), in a database of its own per benchmark."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console


def loaded(url: str, employees: int = 1) -> bool:
    """Whether the database at `url` holds an imported organization of at least `employees` people."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            return connection.execute("SELECT count(*) FROM org_employee").fetchone()[0] >= employees
    except Exception:
        return False


def load(console: Console, admin_url: str, url: str, employees: int, *, quiet: bool = False) -> None:
    """Create the database at `url` afresh (through `admin_url`'s server), migrate it, and import a
    synthetic roster of `employees` people; `quiet` keeps the commands' own output off the console."""
    import psycopg

    database = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {database}")
        connection.execute(f"CREATE DATABASE {database}")
    work = Path(tempfile.mkdtemp(prefix="lastweek-bench-"))
    env = {**os.environ, "DATABASE_URL": url}
    output = subprocess.DEVNULL if quiet else None
    console.print(f"Generating and importing a {employees:,}-employee roster (once; --reuse keeps it) …")
    lastweek = [sys.executable, "-m", "lastweek"]
    subprocess.run([*lastweek, "migrate", "-v0"], check=True, env=env)
    roster = work / "roster.csv"
    synth = [*lastweek, "synth", "workforce", "--employees", str(employees), "--out", str(roster)]
    subprocess.run(synth, check=True, env=env, stdout=output)
    subprocess.run([*lastweek, "import-roster", str(roster)], check=True, env=env, stdout=output)
    roster.unlink()
