"""The audit log is append-only: the app cannot change or delete an event, nor (on PostgreSQL) can SQL."""

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from lastweek import audit
from lastweek.audit.models import AppendOnlyError, AuditEvent
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return audit.record(
        UserFactory(username="va-admin"),
        "policy.change",
        target=AgencyFactory(code="VA"),
        scope="agency:VA",
        purpose="pause for the shutdown",
        detail={"mode": "paused"},
    )


def test_record_keeps_who_what_which_object_and_why(event):
    stored = AuditEvent.objects.get()
    assert (stored.actor_name, stored.action, stored.object_type, stored.scope) == (
        "va-admin",
        "policy.change",
        "org.agency",
        "agency:VA",
    )
    assert stored.object_id == str(event.object_id)
    assert stored.purpose == "pause for the shutdown"
    assert stored.detail == {"mode": "paused"}


def test_the_system_is_the_actor_when_there_is_no_user(db):
    assert audit.record(None, "roster.import").actor_name == "system"


def test_an_event_cannot_be_saved_again(event):
    event.action = "something.else"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    assert AuditEvent.objects.count() == 1


def test_the_admin_offers_no_add_change_or_delete(event):
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/")
    request.user = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement", ["UPDATE access_auditevent SET action = 'x'", "DELETE FROM access_auditevent"]
)
def test_postgresql_refuses_changes_from_any_client(event, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.get().action == "policy.change"
