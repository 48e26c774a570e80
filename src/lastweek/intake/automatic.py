"""Recognising mail that no person wrote as an answer: automatic replies (RFC 3834 and the headers and
subjects the common servers use) and bounces (RFC 3464 delivery status reports, MAILER-DAEMON and Exchange
non-delivery reports in plain text). Pure functions over a parsed message."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lastweek.intake.mime import payload_bytes
from lastweek.intake.structure import MAX_HEADER, Headers, Leaf, Part

# Only subjects that servers write: a person's own subject ("On leave last week") is no signal.
_AUTO_SUBJECT = re.compile(
    r"^\s*\[?(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply|"
    r"out of (?:the )?office\b|ooo\b|abwesenheitsnotiz|réponse automatique|respuesta automática)",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "auto-reply"}
_DAEMON_SENDER = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounces?)@", re.IGNORECASE
)
_DAEMON_WORDS = ("daemon", "postmaster", "bounce")
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered mail|delivery (?:status notification|failure|has failed|failed)|"
    r"mail delivery (?:failed|failure|system)|returned mail|failure notice|delivery notification|"
    r"non[- ]?delivery|could not be delivered|message not delivered|unzustellbar|non remis)",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"<?([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>?")
_FOLD = re.compile(r"\r?\n[ \t]+")
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_CODE = re.compile(r"\b(?:smtp;|[45]\d\d[ -])", re.IGNORECASE)
_MESSAGE_ID_HEADER = re.compile(r"^message-id:\s*<?([^<>\s]+)>?", re.IGNORECASE | re.MULTILINE)
# Where a plain-text bounce starts quoting the original message: addresses below it are not failures.
_ORIGINAL_COPY = re.compile(
    r"^.*(?:below this line is a copy|this is a copy of the message|original message|"
    r"undelivered message|returned message|original message headers|message headers follow).*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class Bounce:
    reason: str
    recipients: tuple[str, ...]
    message_ids: tuple[str, ...]
    status: str


def auto_reply_reason(headers: Headers, subject: str) -> str | None:
    """Why this message is an automatic reply, or None when nothing says so."""
    submitted = (headers.get("auto-submitted") or "").strip().lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted.split(';')[0][:40]}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponse"):
        if headers.get(name) is not None:
            return f"{name.title()} header"
    precedence = (headers.get("precedence") or "").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if (headers.get("x-auto-response-suppress") or "").strip() and _AUTO_SUBJECT.match(subject):
        return "Out of office subject"
    if _AUTO_SUBJECT.match(subject):
        return "automatic reply subject"
    return None


def bounce(
    message: Part, headers: Headers, leaves: Iterable[Leaf], body: str, subject: str, own: set[str]
) -> Bounce | None:
    """The bounce this message is, or None. `own` holds the addresses the bounce was sent to (the reply
    address), which are never the failed recipient."""
    leaves = list(leaves)
    defects: list[str] = []
    content_type = message.content_type
    report_type = (message.param("report-type") or "").lower()
    if content_type == "multipart/report" and report_type in {"delivery-status", ""}:
        status_leaf = next((leaf for leaf in leaves if leaf.content_type == "message/delivery-status"), None)
        if status_leaf is not None or report_type == "delivery-status":
            return _from_dsn(status_leaf, leaves, body, own, defects)
    sender = headers.get("from") or ""
    failed = headers.get("x-failed-recipients")
    lowered = sender.lower()
    # Every daemon name holds one of these words: most senders skip the address search.
    from_daemon = any(word in lowered for word in _DAEMON_WORDS) and any(
        _DAEMON_SENDER.match(address) for address in _addresses(sender)
    )
    if from_daemon or failed is not None or (_BOUNCE_SUBJECT.match(subject) and _STATUS.search(body)):
        reason = "MAILER-DAEMON bounce" if from_daemon else "non-delivery report"
        return _from_text(reason, failed, leaves, body, own, defects)
    return None


def _from_dsn(
    status_leaf: Leaf | None, leaves: list[Leaf], body: str, own: set[str], defects: list[str]
) -> Bounce | None:
    recipients: list[str] = []
    statuses: list[str] = []
    diagnostics: list[str] = []
    blocks = _status_blocks(status_leaf, defects)
    if any("action" in fields for fields in blocks) and not any(_failed(fields) for fields in blocks):
        return None  # a delivery receipt or a delay warning: the address is not failing
    for fields in blocks:
        if not _failed(fields):
            continue
        for key in ("final-recipient", "original-recipient"):
            address = _recipient_field(fields.get(key, ""))
            if address and address not in own and address not in recipients:
                recipients.append(address)
                break
        if "status" in fields:
            statuses.append(fields["status"].split()[0] if fields["status"].split() else "")
        if "diagnostic-code" in fields:
            diagnostics.append(fields["diagnostic-code"].split(";", 1)[-1].strip())
    if not recipients:
        recipients = _text_recipients(body, own)
    status = _status_text(statuses[0] if statuses else "", diagnostics[0] if diagnostics else body)
    return Bounce("multipart/report DSN", tuple(recipients), _original_ids(leaves, body, defects), status)


def _failed(fields: dict[str, str]) -> bool:
    """A per-recipient block that reports a failure; one without an Action (or with only the
    per-message fields) counts as failed, the conservative reading."""
    action = fields.get("action", "failed" if "final-recipient" in fields else "").lower()
    return action.startswith("failed")


def report_notice(message: Part, leaves: Iterable[Leaf], subject: str) -> str | None:
    """Why this machine-written report is an automatic reply rather than a bounce or an answer: a read
    receipt (MDN), a delivery receipt, a delay warning. None when it is none of these."""
    report_type = (message.param("report-type") or "").lower()
    if message.content_type == "multipart/report" and report_type == "disposition-notification":
        return "read receipt (MDN)"
    if message.content_type != "multipart/report":
        return None
    blocks = [
        fields
        for leaf in leaves
        if leaf.content_type == "message/delivery-status"
        for fields in _status_blocks(leaf, [])
    ]
    actions = {fields.get("action", "").lower().split()[0] for fields in blocks if fields.get("action")}
    if "delayed" in actions:
        return "delivery delayed (DSN)"
    if actions & {"delivered", "relayed", "expanded"}:
        return "delivery receipt (DSN)"
    return None


def _from_text(
    reason: str, failed: object, leaves: list[Leaf], body: str, own: set[str], defects: list[str]
) -> Bounce:
    recipients = [address for address in _addresses(str(failed or "")) if address not in own]
    if not recipients:
        recipients = _text_recipients(body, own)
    found = _STATUS.search(body)
    return Bounce(
        reason,
        tuple(recipients),
        _original_ids(leaves, body, defects),
        _status_text(found.group(1) if found else "", body),
    )


def _status_blocks(leaf: Leaf | None, defects: list[str]) -> list[dict[str, str]]:
    """The per-recipient field blocks of a message/delivery-status part, as lower-cased field names."""
    if leaf is None:
        return []
    text = payload_bytes(leaf.part, defects).decode("utf-8", errors="replace")
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in _FOLD.sub(" ", chunk).splitlines())
            if value
        )
        if fields:
            blocks.append(fields)
    return blocks


def _recipient_field(value: str) -> str | None:
    address = value.split(";", 1)[-1].strip().strip("<>").lower()
    return address if "@" in address else None


def _text_recipients(body: str, own: set[str]) -> list[str]:
    """Failed addresses named in a plain-text bounce, above the copy of the original message."""
    copy = _ORIGINAL_COPY.search(body)
    head = body[: copy.start()] if copy else body
    found: list[str] = []
    for address in _addresses(head):
        if address not in own and address not in found and not _DAEMON_SENDER.match(address):
            found.append(address)
    return found[:10]


def _original_ids(leaves: list[Leaf], body: str, defects: list[str]) -> tuple[str, ...]:
    ids: list[str] = []
    for leaf in leaves:
        if leaf.content_type in {"message/rfc822", "text/rfc822-headers"}:
            # Only the returned message's own header block: a Message-ID quoted in its body is not it.
            text = payload_bytes(leaf.part, defects)[: MAX_HEADER * 4].decode("utf-8", errors="replace")
            head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
            ids.extend(_MESSAGE_ID_HEADER.findall(head))
    if not ids:
        ids.extend(_MESSAGE_ID_HEADER.findall(body))
    return tuple(dict.fromkeys(identifier for identifier in ids if "@" in identifier))


def _status_text(status: str, diagnostic: str) -> str:
    """ "5.1.1 user unknown": the status code and the words of the diagnostic line it is on, without SMTP
    codes, addresses or punctuation around them."""
    found = _STATUS.search(diagnostic)
    code = status or (found.group(1) if found else "")
    if found is None:
        return code
    start = diagnostic.rfind("\n", 0, found.start()) + 1
    end = diagnostic.find("\n", found.end())
    line = diagnostic[start : end if end >= 0 else len(diagnostic)]
    words = _SMTP_CODE.sub(" ", _ADDRESS.sub(" ", _STATUS.sub(" ", line))).replace("(#", " ")
    words = " ".join(words.split()[:10]).strip(" .;:-'\"()[]#")
    return f"{code} {words}".strip()[:200]


def _addresses(text: str) -> list[str]:
    return [match.lower() for match in _ADDRESS.findall(text[: MAX_HEADER * 4])]
