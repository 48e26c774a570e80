"""Shared fixtures: the named personas every test speaks of, and the PostgreSQL-only marker."""

import pytest
from django.db import connection

from lastweek.access.models import Role, Scope
from tests.factories import AgencyFactory, EmployeeFactory, RoleGrantFactory, UnitFactory, UserFactory


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


# The VA's unit tree: VBA, above Compensation Service, above the Boston Regional Office; beside them
# VHA and Public Affairs.


@pytest.fixture
def vba(agency):
    return UnitFactory(agency=agency, name="Veterans Benefits Administration")


@pytest.fixture
def compensation(vba):
    return UnitFactory(parent=vba, name="Compensation Service")


@pytest.fixture
def boston(compensation):
    return UnitFactory(parent=compensation, name="Boston Regional Office")


@pytest.fixture
def vha(agency):
    return UnitFactory(agency=agency, name="Veterans Health Administration")


@pytest.fixture
def public_affairs(agency):
    return UnitFactory(agency=agency, name="Office of Public Affairs")


# The people who look at others' work: an agency administrator, an organization-wide auditor, a manager
# in another agency who must see nothing of the VA, and an account linked to no one.


@pytest.fixture
def va_admin(agency):
    grant = RoleGrantFactory(
        user=UserFactory(username="va-admin"), role=Role.AGENCY_ADMIN, scope=Scope.AGENCY, agency=agency
    )
    return grant.user


@pytest.fixture
def auditor(db):
    return RoleGrantFactory(
        user=UserFactory(username="auditor"), role=Role.AUDITOR, scope=Scope.ORGANIZATION
    ).user


@pytest.fixture
def outsider(other_agency):
    """A manager in another agency, with one report of their own."""
    user = UserFactory(username="outsider")
    boss = EmployeeFactory(unit=UnitFactory(agency=other_agency, name="Coast Guard"), user=user)
    EmployeeFactory(unit=boss.unit, manager=boss)
    return user


@pytest.fixture
def nobody(db):
    return UserFactory(username="nobody")


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
