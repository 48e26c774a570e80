"""The schedule runs on huey: an embedded SQLite queue by default, Redis when REDIS_URL is set."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROUND_TRIP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from huey.contrib.djhuey import HUEY
from lastweek.directives.tasks import schedule_tick
HUEY.flush()
schedule_tick()                      # enqueued, as the periodic scheduler does
task = HUEY.dequeue()                # taken from the queue, as a worker does
print(type(HUEY).__name__, task.name, HUEY.execute(task))
"""


def run_round_trip(tmp_path, **env) -> str:
    environment = {**os.environ, "LASTWEEK_DATA_DIR": str(tmp_path), "DATABASE_URL": "", **env}
    result = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP], capture_output=True, text=True, env=environment, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_without_redis_the_queue_is_an_sqlite_file_in_the_data_dir(tmp_path):
    output = run_round_trip(tmp_path, REDIS_URL="")
    assert output.startswith("SqliteHuey schedule_tick")
    assert (tmp_path / "huey.sqlite3").exists()


def test_with_redis_url_the_schedule_goes_through_redis(tmp_path, redis_url):
    output = run_round_trip(tmp_path, REDIS_URL=redis_url)
    assert output == "RedisHuey schedule_tick {'opened': 0, 'closed': 0, 'policies': 0}"


def test_the_schedule_tick_is_periodic_every_minute():
    import datetime as dt
    import importlib

    from huey.contrib.djhuey import HUEY

    importlib.import_module("lastweek.directives.tasks")  # registers the task, as the worker does
    periodic = {task.name: task for task in HUEY._registry.periodic_tasks}
    minutes = [dt.datetime(2026, 11, 27, 9, m) for m in (0, 1, 17, 59)]
    assert all(periodic["schedule_tick"].validate_datetime(minute) for minute in minutes)
