"""Received messages in the admin (read-only, without their bytes, processed again on request) and the
worker job that processes what `lastweek smtpd --no-process` stored."""

import pytest

from lastweek.intake.actions import store_raw
from lastweek.intake.models import InboundMessage
from lastweek.intake.tasks import process_received_mail
from lastweek.reports.models import Report
from tests.factories import UserFactory
from tests.intake.world import answer_by_token, open_week

State = InboundMessage.State


@pytest.fixture
def cycle(db):
    return open_week()


@pytest.fixture
def operator_client(client, db):
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


def stored(cycle, name: str = "alice") -> InboundMessage:
    store_raw(answer_by_token(cycle, name, f"{name}@admin.x"), envelope_from="", envelope_to=[])
    return InboundMessage.objects.get(message_id=f"{name}@admin.x")


def test_the_worker_job_processes_the_received_backlog(cycle):
    stored(cycle)
    result = process_received_mail.call_local()
    assert result["processed"] == 1
    assert InboundMessage.objects.get().state == State.ATTRIBUTED and Report.objects.count() == 1


def test_the_admin_lists_received_messages_without_their_bytes(operator_client, cycle):
    message = stored(cycle)
    listing = operator_client.get("/admin/intake/inboundmessage/")
    assert listing.status_code == 200 and b"received" in listing.content
    page = operator_client.get(f"/admin/intake/inboundmessage/{message.pk}/change/")
    assert page.status_code == 200
    assert b"Closed 14 benefit claims" not in page.content


def test_process_again_in_the_admin_attributes_the_selected_messages(operator_client, cycle):
    message = stored(cycle, "bob")
    response = operator_client.post(
        "/admin/intake/inboundmessage/",
        {"action": "process_again", "_selected_action": [message.pk]},
        follow=True,
    )
    assert b"Processed 1: 1 attributed" in response.content
    message.refresh_from_db()
    assert message.state == State.ATTRIBUTED
