"""The public page where anyone can check that a request email came from this system, by its code."""

import datetime as dt

import pytest
from django.core.cache import cache

from lastweek.audit.models import AuditEvent
from lastweek.directives.actions import open_cycle
from lastweek.directives.models import Assignment, RequestMail
from lastweek.directives.views import VERIFY_LOOKUPS
from tests.factories import DirectiveFactory, EmployeeFactory, UnitFactory

pytestmark = pytest.mark.django_db

CODE = "0A1B2C3D4E"  # stored form; printed as 0A1B2-C3D4E


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def request_mail(agency):
    jane = EmployeeFactory(unit=UnitFactory(agency=agency), email="jane.doe@va.gov")
    directive = DirectiveFactory(
        title="What did you get done last week?", sender_name="Office of the Secretary"
    )
    cycle = open_cycle(directive, "2026-W48")
    return RequestMail.objects.create(
        assignment=Assignment.objects.get(cycle=cycle, employee=jane),
        cycle=cycle,
        message_id="<request-1@lastweek.example.gov>",
        verify_code=CODE,
        to_address=jane.email,
        state=RequestMail.State.SENT,
        claimed_at=dt.datetime(2026, 11, 27, 14, 0, tzinfo=dt.UTC),
        sent_at=dt.datetime(2026, 11, 27, 14, 1, tzinfo=dt.UTC),
    )


def check(client, code: str, address: str = "192.0.2.10"):
    return client.post("/verify/", {"code": code}, REMOTE_ADDR=address)


def test_the_page_needs_no_sign_in(client):
    page = client.get("/verify/")
    assert page.status_code == 200 and b"Code from the email" in page.content


def test_a_genuine_code_shows_what_was_sent_to_whom_with_the_address_masked(client, request_mail):
    page = check(client, "0A1B2-C3D4E").content.decode()
    assert "This is a genuine request" in page
    for shown in [
        "What did you get done last week?",
        "Office of the Secretary",
        "2026-W48",
        "27 November 2026",
    ]:
        assert shown in page
    assert "j•••@va.gov" in page and "Department of Veterans Affairs" in page
    assert "jane.doe" not in page


def test_an_unknown_code_is_not_a_message_from_this_system(client, request_mail):
    page = check(client, "ZZZZZ-ZZZZZ").content.decode()
    assert "This is not a message from this system" in page
    assert "report it to your agency&#x27;s security office" in page or "security office" in page


@pytest.mark.parametrize("state", [RequestMail.State.CLAIMED, RequestMail.State.FAILED])
def test_a_mail_that_never_went_out_is_not_genuine(client, request_mail, state):
    RequestMail.objects.filter(pk=request_mail.pk).update(state=state)
    assert b"This is not a message from this system" in check(client, CODE).content


def test_a_handed_over_mail_is_genuine(client, request_mail):
    RequestMail.objects.filter(pk=request_mail.pk).update(state=RequestMail.State.HANDED, sent_at=None)
    assert b"This is a genuine request" in check(client, CODE).content


@pytest.mark.parametrize(
    "typed",
    ["0a1b2-c3d4e", " 0A1B2 C3D4E ", "OA1B2-C3D4E", "0AIB2C3D4E", "0alb2c3d4e", "0A1B2\u2013C3D4E"],
    ids=["lower case", "spaces", "O for zero", "I for one", "l for one", "en dash"],
)
def test_codes_are_read_the_way_people_type_them(client, request_mail, typed):
    assert b"This is a genuine request" in check(client, typed).content


def test_something_that_is_not_a_code_is_explained_without_a_lookup(client, request_mail):
    page = check(client, "hello")
    assert b"codes have ten letters and digits" in page.content
    assert "checked" not in page.context


def test_lookups_are_limited_per_client_address(client, request_mail):
    for _ in range(VERIFY_LOOKUPS):
        assert check(client, "ZZZZZZZZZZ").status_code == 200
    limited = check(client, CODE)
    assert limited.status_code == 429
    assert b"Too many codes were checked" in limited.content
    assert b"This is a genuine request" not in limited.content
    assert b"This is a genuine request" in check(client, CODE, address="198.51.100.7").content


def test_checking_a_code_records_nothing_about_anyone(client, request_mail):
    before = AuditEvent.objects.count()
    check(client, CODE)
    check(client, "ZZZZZZZZZZ")
    assert AuditEvent.objects.count() == before


def test_behind_a_proxy_each_client_is_counted_by_the_address_the_proxy_saw(client, request_mail, settings):
    settings.TRUSTED_PROXIES = 1

    def via_proxy(forwarded_for: str):
        return client.post(
            "/verify/", {"code": CODE}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for
        )

    for _ in range(VERIFY_LOOKUPS):
        assert via_proxy("192.0.2.10").status_code == 200
    assert via_proxy("192.0.2.10").status_code == 429
    # What the client itself wrote into the header (the left part) does not make it someone else.
    assert via_proxy("203.0.113.99, 192.0.2.10").status_code == 429
    assert via_proxy("198.51.100.7").status_code == 200


def test_without_trusted_proxies_a_forwarded_for_header_is_ignored(client, request_mail, settings):
    settings.TRUSTED_PROXIES = 0
    for n in range(VERIFY_LOOKUPS):
        check_forged = client.post(
            "/verify/", {"code": CODE}, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        )
        assert check_forged.status_code == 200
    assert check(client, CODE).status_code == 429


def test_the_limit_holds_across_web_processes_through_redis(client, request_mail, settings, redis_url):
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "lastweek-test-verify",
        }
    }
    caches["default"].clear()
    for _ in range(VERIFY_LOOKUPS):
        assert check(client, "ZZZZZZZZZZ").status_code == 200
    # Another process sees the same counter: here, a second client of the same Redis.
    other = caches.create_connection("default")
    assert other.get(next(iter(_verify_keys(redis_url)))) == VERIFY_LOOKUPS
    assert check(client, CODE).status_code == 429
    caches["default"].clear()


def _verify_keys(redis_url: str) -> list[str]:
    import redis

    keys = redis.Redis.from_url(redis_url).keys("lastweek-test-verify:*lastweek:verify:*")
    return [key.decode().split(":", 2)[2] for key in keys]
