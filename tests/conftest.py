"""Shared fixtures: the named personas every test speaks of, and the PostgreSQL-only marker."""

from pathlib import Path

import pytest
from django.db import connection

from tests.factories import AgencyFactory

ROSTER_FIXTURES = Path(__file__).parent / "fixtures" / "roster"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked `postgres` run in the PostgreSQL pass of `make test` and say so when skipped."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test`")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


@pytest.fixture
def agency(db):
    return AgencyFactory(code="VA", name="Department of Veterans Affairs")


@pytest.fixture
def other_agency(db):
    return AgencyFactory(code="DHS", name="Department of Homeland Security")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis (TEST_REDIS_URL, default database 15 on 127.0.0.1). Skipped with the reason when
    none answers, except under CI=true, where a missing Redis fails the run."""
    import os

    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {url} ({exc}), and CI must test on it.")
        pytest.skip(f"needs Redis: nothing answers at {url} (set TEST_REDIS_URL)")
    return url


@pytest.fixture
def mail_sink(settings):
    """A real SMTP server on loopback that keeps what it receives; EMAIL_HOST and EMAIL_PORT point at it."""
    from tests.mail_sink import MailSink

    with MailSink() as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        yield sink
