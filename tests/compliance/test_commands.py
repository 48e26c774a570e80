"""`lastweek remind` and `lastweek digest` against a real SMTP server on loopback."""

import io

import pytest
from django.core.management import CommandError, call_command

from lastweek.directives.models import Cycle

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_digest_sends_each_manager_theirs_and_says_how_many(mail_sink, answered):
    assert "Digests for 2026-W48: 2 sent" in run("digest", str(answered.pk))
    assert "0 sent, 0 refused by the server, 2 sent before" in run("digest", str(answered.pk))


def test_digest_refuses_before_the_deadline(mail_sink, answered):
    Cycle.objects.filter(pk=answered.pk).update(deadline=answered.deadline.replace(year=2099))
    with pytest.raises(CommandError, match="has not passed"):
        run("digest", str(answered.pk))


def test_remind_with_a_window_that_has_passed_sends_nothing(mail_sink, answered):
    output = run("remind", str(answered.pk), "--hours", "24")
    assert "Reminders for 2026-W48: 0 sent" in output
    assert mail_sink.count() == 0


def test_remind_names_an_unknown_cycle(db):
    with pytest.raises(CommandError, match="No cycle 999"):
        run("remind", "999")


def test_a_mail_server_that_does_not_answer_is_reported_with_what_to_do(answered, settings):
    from tests.mail_sink import free_port

    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with pytest.raises(CommandError, match="Rerun when it answers"):
        run("digest", str(answered.pk))
