"""Personal API tokens: only a hash is kept, the token is shown once, they expire, record their last use,
are revoked by their owner alone, and every creation and revocation is audited."""

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.models import User
from django.forms.models import model_to_dict
from django.utils import timezone

from lastweek.access.models import ApiToken
from lastweek.access.tokens import TokenError, authenticate_token, create_token, revoke_token
from lastweek.audit.models import AuditEvent
from lastweek.org.models import Employee
from tests.factories import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


def test_only_a_hash_of_the_token_is_stored(alice):
    token, value = create_token(alice, "weekly script")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(value.encode()).hexdigest()
    assert value not in {stored.key_hash, stored.prefix, stored.name} and value.startswith(stored.prefix)


def test_a_token_lasts_the_configured_number_of_days_by_default(alice, settings):
    settings.API_TOKEN_DAYS = 30
    now = timezone.now()
    token, _ = create_token(alice, "script", now=now)
    assert token.expires_at == now + dt.timedelta(days=30)


def test_a_token_cannot_outlast_the_configured_limit(alice, settings):
    settings.API_TOKEN_DAYS = 30
    with pytest.raises(TokenError, match="1 to 30 days"):
        create_token(alice, "script", days=31)


def test_a_token_signs_in_as_its_owner(alice):
    _, value = create_token(alice, "script")
    assert authenticate_token(value).user == alice


def test_signing_in_loads_the_token_its_user_and_their_roster_entry_in_one_query(
    alice, django_assert_num_queries
):
    employee = EmployeeFactory(user=alice)
    token, value = create_token(alice, "script")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())  # no last-use write
    with django_assert_num_queries(1):
        found = authenticate_token(value)
        loaded = (found.user.employee.unit_id, found.user.employee.user.username, found.expires_at)
    assert loaded == (employee.unit_id, "alice", token.expires_at)
    # The same instances the ORM would load, field for field (datetimes aware, booleans booleans).
    assert model_to_dict(found) == model_to_dict(ApiToken.objects.get(pk=token.pk))
    assert model_to_dict(found.user, exclude=["groups", "user_permissions"]) == model_to_dict(
        User.objects.get(pk=alice.pk), exclude=["groups", "user_permissions"]
    )
    assert found.user.is_active is True and found.user.date_joined.tzinfo is not None
    assert model_to_dict(found.user.employee) == model_to_dict(Employee.objects.get(pk=employee.pk))
    assert found.user.employee.created_at.tzinfo is not None


def test_signing_in_without_a_roster_entry_knows_there_is_none(alice, django_assert_num_queries):
    _, value = create_token(alice, "script")
    found = authenticate_token(value)
    with django_assert_num_queries(0):
        assert not hasattr(found.user, "employee")


def test_an_expired_or_revoked_token_does_not_sign_in(alice):
    _, expired_value = create_token(alice, "old", days=1, now=timezone.now() - dt.timedelta(days=2))
    revoked, revoked_value = create_token(alice, "revoked")
    revoke_token(revoked, alice)
    assert authenticate_token(expired_value) is None and authenticate_token(revoked_value) is None
    assert authenticate_token("lw_not-a-token") is None


def test_the_last_use_is_recorded_at_most_once_a_minute(alice):
    token, value = create_token(alice, "script")
    start = timezone.now()
    authenticate_token(value, now=start)
    authenticate_token(value, now=start + dt.timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + dt.timedelta(minutes=2)
    authenticate_token(value, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later


def test_creating_and_revoking_are_audited_without_the_token(alice):
    token, value = create_token(alice, "script")
    revoke_token(token, alice)
    events = AuditEvent.objects.filter(object_type="access.apitoken", object_id=str(token.pk))
    assert sorted(events.values_list("action", flat=True)) == ["token.create", "token.revoke"]
    assert all(value not in str(event.detail) for event in events)


def test_revoking_twice_records_one_revocation(alice):
    token, _ = create_token(alice, "script")
    assert revoke_token(token, alice) and not revoke_token(token, alice)
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_the_page_shows_a_new_token_once(client, alice):
    client.force_login(alice)
    response = client.post("/tokens/", {"name": "my laptop", "days": 7})
    value = response.context["created"]["value"]
    assert value in response.content.decode() and "no-store" in response["Cache-Control"]
    assert authenticate_token(value).user == alice
    assert value not in client.get("/tokens/").content.decode()


def test_the_page_refuses_a_token_longer_than_the_limit_next_to_the_field(client, alice, settings):
    settings.API_TOKEN_DAYS = 30
    client.force_login(alice)
    response = client.post("/tokens/", {"name": "my laptop", "days": 31})
    assert "days" in response.context["form"].errors and not ApiToken.objects.exists()


def test_the_page_lists_only_ones_own_tokens(client, alice, bob):
    create_token(alice, "alice's script")
    create_token(bob, "bob's script")
    client.force_login(alice)
    page = client.get("/tokens/").content.decode()
    assert "alice&#x27;s script" in page and "bob" not in page.split("Your tokens", 1)[1]


def test_the_owner_revokes_a_token_from_the_page(client, alice):
    token, value = create_token(alice, "script")
    client.force_login(alice)
    client.post(f"/tokens/{token.pk}/revoke/")
    assert authenticate_token(value) is None
    assert "revoked" in client.get("/tokens/").content.decode()


def test_nobody_revokes_someone_elses_token(client, alice, bob):
    token, value = create_token(alice, "script")
    client.force_login(bob)
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    assert authenticate_token(value) is not None


def test_operators_cannot_create_tokens_in_the_admin(client, django_user_model):
    operator = django_user_model.objects.create_superuser("operator", "op@example.gov", "pw")
    client.force_login(operator)
    assert client.get("/admin/access/apitoken/add/").status_code == 403
    assert client.get("/admin/access/apitoken/").status_code == 200
