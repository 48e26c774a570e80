"""Reminders before the deadline, managers' digests after it, and escalation of missing answers.

Who gets what:
- Reminder: REMINDER_HOURS before their own deadline, each required assignee who has not answered;
  never anyone paused, exempt or voluntary, on leave (frozen in the assignment or on the roster now),
  separated, or whose request mail bounced.
- Digest: once the cycle's deadline has passed, each manager gets one message listing their direct
  reports (as frozen in the assignments) with each one's status. Names and statuses only, never text.
- Escalation (only where the agency's EscalationPolicy is enabled; off by default): a required answer
  still missing `grace_hours` after the person's deadline goes to their manager (level 1), after twice
  that to the manager's manager (level 2), and so on up to `max_levels`. It stops at the top of the
  reporting line: nobody above the last person, and never a shared mailbox (only people on the roster
  are ever written to).

Exactly once, like request mail: each message is first claimed as a Notice row (one per kind, cycle
and assignment/level, or per kind, cycle and manager for digests); its hand-over is committed just
before the final dot of SMTP DATA (directives.pipeline); a rerun resends only claims that never reached
that point. One run per cycle at a time (the cycle's sending lock, shared with request mail).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone

from lastweek.compliance.models import EscalationPolicy, Notice
from lastweek.compliance.status import NOT_ANSWERED, Status, status_table
from lastweek.directives.models import Assignment, Cycle, Mode
from lastweek.mail import (
    Outbox,
    Outcome,
    SmtpBackend,
    TokenBucket,
    compose,
    reply_address,
    sendable,
    sending_lock,
)
from lastweek.mail import Outgoing as PreparedMessage
from lastweek.org.models import Employee
from lastweek.reports.models import Report

log = logging.getLogger(__name__)


class MailServerDown(Exception):
    """The mail server stopped answering; claims not handed over are sent by the next run."""


@dataclass
class NoticeResult:
    sent: int = 0
    failed: int = 0
    already: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.failed} refused by the server, {self.already} sent before"


@dataclass(frozen=True)
class Outgoing:
    """One message to claim and send."""

    kind: str
    recipient: Employee
    subject: str
    body: str
    assignment_id: int | None = None
    level: int = 0
    reply_to: str = ""


def _answered() -> Exists:
    return Exists(Report.objects.filter(assignment=OuterRef("pk"), is_current=True))


def reminder_recipients(cycle: Cycle, now: dt.datetime, hours: int) -> list[Assignment]:
    """Required assignees without an answer whose own deadline falls within the next `hours`."""
    return list(
        Assignment.objects.filter(
            cycle=cycle,
            mode=Mode.REQUIRED,
            on_leave=False,
            bounced_at=None,
            due_at__gt=now,
            due_at__lte=now + dt.timedelta(hours=hours),
            employee__status=Employee.Status.ACTIVE,
        )
        .exclude(_answered())
        .select_related("employee", "cycle__directive")
        .order_by("id")
    )


def send_reminders(
    cycle: Cycle, *, now: dt.datetime | None = None, hours: int | None = None, connection=None
) -> NoticeResult:
    """Remind who has not answered, REMINDER_HOURS (or `hours`) before their deadline."""
    now = now or timezone.now()
    hours = settings.REMINDER_HOURS if hours is None else hours
    outgoing = [_reminder(assignment) for assignment in reminder_recipients(cycle, now, hours)]
    return _send(cycle, outgoing, connection)


def _reminder(assignment: Assignment) -> Outgoing:
    cycle, employee = assignment.cycle, assignment.employee
    context = {
        "employee": employee,
        "cycle": cycle,
        "directive": cycle.directive,
        "due_at": assignment.due_at,
    }
    context["site_url"] = settings.SITE_URL.rstrip("/") + "/"
    return Outgoing(
        kind=Notice.Kind.REMINDER,
        recipient=employee,
        assignment_id=assignment.pk,
        subject=f"Reminder: what did you get done last week? (week {cycle.week})",
        body=render_to_string("compliance/reminder_email.txt", context),
        reply_to=reply_address(assignment.pk),
    )


def digest_lines(cycle: Cycle, now: dt.datetime) -> dict[int, list]:
    """Each manager's direct reports (from the frozen assignments) with their statuses, by manager id."""
    lines: dict[int, list] = defaultdict(list)
    for row in status_table(cycle, now=now, where=_with_manager()):
        lines[row.manager_id].append(row)
    return lines


def _with_manager() -> Q:
    return Q(manager__isnull=False)


def send_digests(cycle: Cycle, *, now: dt.datetime | None = None, connection=None) -> NoticeResult:
    """After the cycle's deadline, one digest per manager of their direct reports' statuses."""
    now = now or timezone.now()
    if now < cycle.deadline:
        return NoticeResult()
    lines = digest_lines(cycle, now)
    managers = Employee.objects.filter(pk__in=list(lines), status__in=_HUMAN_STATUSES).in_bulk()
    outgoing = []
    for manager_id, rows in sorted(lines.items()):
        manager = managers.get(manager_id)
        if manager is None:
            continue
        rows.sort(key=lambda row: (row.last_name, row.first_name, row.employee_number))
        context = {"manager": manager, "cycle": cycle, "rows": rows, "summary": _tally(rows)}
        context["site_url"] = settings.SITE_URL.rstrip("/") + "/"
        outgoing.append(
            Outgoing(
                kind=Notice.Kind.DIGEST,
                recipient=manager,
                subject=f"Your team's answers for week {cycle.week}",
                body=render_to_string("compliance/digest_email.txt", context),
            )
        )
    return _send(cycle, outgoing, connection)


# Managers who can be written to: people on the roster who have not left.
_HUMAN_STATUSES = (Employee.Status.ACTIVE, Employee.Status.ON_LEAVE)


def _tally(rows: list) -> list[tuple[str, int]]:
    counts: dict[Status, int] = defaultdict(int)
    for row in rows:
        counts[row.status] += 1
    return [(status.label, counts[status]) for status in Status if counts[status]]


def escalation_targets(cycle: Cycle, now: dt.datetime) -> list[tuple[object, int, Employee]]:
    """(status row, level, manager) for every escalation due at `now` under the agencies' policies."""
    policies = {p.agency_id: p for p in EscalationPolicy.objects.filter(enabled=True, max_levels__gt=0)}
    if not policies:
        return []
    where = _missing_in(list(policies))
    rows = [row for row in status_table(cycle, now=now, where=where) if row.status in NOT_ANSWERED]
    chains = _manager_chains({row.manager_id for row in rows if row.manager_id})
    agency_of = dict(
        Assignment.objects.filter(pk__in=[r.assignment_id for r in rows]).values_list("id", "agency_id")
    )
    targets = []
    for row in rows:
        policy = policies[agency_of[row.assignment_id]]
        overdue = now - row.due_at
        levels = min(policy.max_levels, int(overdue / dt.timedelta(hours=policy.grace_hours)))
        chain = chains.get(row.manager_id, [])
        for level in range(1, levels + 1):
            if level > len(chain):
                break  # the top of the reporting line: nobody above to write to
            targets.append((row, level, chain[level - 1]))
    return targets


def _missing_in(agency_ids: list[int]) -> Q:
    return Q(agency_id__in=agency_ids, mode=Mode.REQUIRED, on_leave=False, manager__isnull=False)


def _manager_chains(first_managers: set[int]) -> dict[int, list[Employee]]:
    """For each manager id, that manager and everyone above them, nearest first (current roster)."""
    people: dict[int, Employee] = {}
    wanted = set(first_managers)
    while wanted:
        found = Employee.objects.filter(pk__in=wanted).in_bulk()
        people.update(found)
        wanted = {e.manager_id for e in found.values() if e.manager_id and e.manager_id not in people}
    chains = {}
    for manager_id in first_managers:
        chain, seen, current = [], set(), people.get(manager_id)
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            if current.status in _HUMAN_STATUSES:
                chain.append(current)
            current = people.get(current.manager_id) if current.manager_id else None
        chains[manager_id] = chain
    return chains


def send_escalations(cycle: Cycle, *, now: dt.datetime | None = None, connection=None) -> NoticeResult:
    """Escalate still-missing answers one level up per grace period, where the agency turned it on."""
    now = now or timezone.now()
    outgoing = []
    for row, level, manager in escalation_targets(cycle, now):
        context = {"manager": manager, "row": row, "cycle": cycle, "level": level}
        context["site_url"] = settings.SITE_URL.rstrip("/") + "/"
        outgoing.append(
            Outgoing(
                kind=Notice.Kind.ESCALATION,
                recipient=manager,
                assignment_id=row.assignment_id,
                level=level,
                subject=f"No answer yet from {row.full_name} for week {cycle.week}",
                body=render_to_string("compliance/escalation_email.txt", context),
            )
        )
    return _send(cycle, outgoing, connection)


def _send(cycle: Cycle, outgoing: list[Outgoing], connection) -> NoticeResult:
    result = NoticeResult()
    if not outgoing:
        return result
    backends = [connection or SmtpBackend()]
    bucket = TokenBucket(settings.SEND_RATE)
    with sending_lock(cycle.pk), Outbox(backends, bucket, _mark_handed, lambda: False) as sender:
        for message in outgoing:
            notice = _claim(cycle, message)
            if notice is None:
                result.already += 1
                continue
            _deliver(sender, notice, message, result)
    log.info("Cycle %s %s: %s", cycle.pk, outgoing[0].kind, result)
    return result


def _mark_handed(notice_ids: list[int]) -> None:
    """Just before the final dot: from here on the notice is never sent again."""
    Notice.objects.filter(pk__in=notice_ids).update(state=Notice.State.HANDED)


def _claim(cycle: Cycle, message: Outgoing) -> Notice | None:
    """A new claim, or the claim an interrupted run left unsent; None when it was handed over before."""
    lookup = {"kind": message.kind, "cycle": cycle, "level": message.level}
    if message.assignment_id is None:
        lookup |= {"assignment_id": None, "recipient": message.recipient}
    else:
        lookup |= {"assignment_id": message.assignment_id}
    existing = Notice.objects.filter(**lookup).first()
    if existing is not None:
        return existing if existing.state == Notice.State.CLAIMED else None
    try:
        with transaction.atomic():
            return Notice.objects.create(
                **{**lookup, "recipient": message.recipient},
                claimed_at=timezone.now(),
                state=Notice.State.CLAIMED,
            )
    except IntegrityError:  # another run claimed it meanwhile
        return None


def _deliver(sender: Outbox, notice: Notice, message: Outgoing, result: NoticeResult) -> None:
    notices = Notice.objects.filter(pk=notice.pk)
    address = message.recipient.email
    if not sendable(address):
        notices.update(state=Notice.State.FAILED, last_error="not a plain ASCII address; not sent")
        result.failed += 1
        return
    payload = compose(
        message.subject,
        message.body,
        address,
        headers={"X-Lastweek-Cycle": str(notice.cycle_id)},
        reply_to=message.reply_to,
    )
    prepared = PreparedMessage(notice.pk, address, settings.DEFAULT_FROM_EMAIL, payload)
    for report in sender.send([prepared]):
        if report.outcome is Outcome.SENT:
            notices.update(state=Notice.State.SENT, sent_at=report.at)
            result.sent += 1
        elif report.outcome is Outcome.REFUSED:
            notices.update(state=Notice.State.FAILED, last_error=report.detail[:500])
            result.failed += 1
            log.warning("%s %s refused by the mail server: %s", message.kind, notice.pk, report.detail[:3])
        elif report.outcome is Outcome.UNCONFIRMED:
            # Handed over, then the connection went: perhaps delivered, never sent again.
            log.warning("%s %s: no reply after the final dot (%s)", message.kind, notice.pk, report.detail)
        else:
            raise MailServerDown(
                f"The mail server at {settings.EMAIL_HOST}:{settings.EMAIL_PORT} failed: {report.detail}"
            )
