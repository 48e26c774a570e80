"""parse_message's envelope fields: identifiers without brackets, every recipient header, aware dates,
the gateway's authentication verdict, and text safe to store."""

import datetime as dt
from email.utils import format_datetime, parsedate_to_datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from lastweek.intake.parse import Kind, parse_message

REPLY = "reply+2n9c4kq7x3@lastweek.example.gov"


def message(*headers: str, body: str = "- Closed 4 tickets\n") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("utf-8")


def test_identifiers_lose_their_angle_brackets_and_references_follow_in_reply_to():
    parsed = parse_message(
        message(
            "From: jane@nasa.gov",
            "Message-ID: <abc@nasa.gov>",
            "In-Reply-To: <request.1@lastweek.example.gov>",
            "References: <thread.0@x.gov> <request.1@lastweek.example.gov>",
        )
    )

    assert parsed.message_id == "abc@nasa.gov"
    assert parsed.in_reply_to == ("request.1@lastweek.example.gov", "thread.0@x.gov")


def test_recipients_come_from_to_cc_delivered_to_and_x_original_to_lower_cased_once_each():
    parsed = parse_message(
        message(
            'From: "Doe, Jane" <Jane.Doe@NASA.gov>',
            'To: "Lastweek, Replies" <Reply+ABC@lastweek.example.gov>, bob@nasa.gov (Bob)',
            "Cc: bob@nasa.gov",
            f"Delivered-To: {REPLY}",
            "X-Original-To: reply+abc@lastweek.example.gov",
        )
    )

    assert parsed.from_address == "jane.doe@nasa.gov"
    assert parsed.to_addresses == ("reply+abc@lastweek.example.gov", "bob@nasa.gov", REPLY)


def test_an_address_like_display_name_is_not_taken_for_the_address():
    parsed = parse_message(message('From: "boss@agency.gov" <spoofer@example.net>'))

    assert parsed.from_address == "spoofer@example.net"


def test_dates_are_aware_and_an_unknown_zone_is_utc():
    assert parse_message(
        message("From: a@b.gov", "Date: Mon, 30 Nov 2026 09:12:00 -0500")
    ).date == dt.datetime(2026, 11, 30, 14, 12, tzinfo=dt.UTC)
    unknown = parse_message(message("From: a@b.gov", "Date: Mon, 30 Nov 2026 09:12:00 -0000")).date
    assert unknown == dt.datetime(2026, 11, 30, 9, 12, tzinfo=dt.UTC)


def test_an_unreadable_date_is_none_and_noted():
    parsed = parse_message(message("From: a@b.gov", "Date: last Tuesday"))

    assert parsed.date is None
    assert "unreadable Date" in parsed.defects


def test_only_the_topmost_authentication_results_counts():
    forged_pass_below = parse_message(
        message(
            "Authentication-Results: mx.lastweek.example.gov; spf=fail smtp.mailfrom=irs.gov",
            "Authentication-Results: relay.example.net; dmarc=pass",
            "From: a@irs.gov",
        )
    )
    forged_fail_below = parse_message(
        message(
            "Authentication-Results: mx.lastweek.example.gov; dmarc=pass header.from=irs.gov",
            "Authentication-Results: relay.example.net; dmarc=fail",
            "From: a@irs.gov",
        )
    )

    assert forged_pass_below.authentication_failed == "spf=fail"
    assert forged_fail_below.authentication_failed is None


def test_nul_and_control_characters_never_reach_the_text():
    parsed = parse_message(
        message("From: a@b.gov", "Subject: week\x00ly", body="- Closed\x00 4 tickets\x07\n")
    )

    assert parsed.subject == "weekly"
    assert parsed.bullets == ("Closed 4 tickets",)


def test_the_stock_answer_is_one_bullet():
    parsed = parse_message(message("From: a@b.gov", body="All of my activities are sensitive.\n"))

    assert (parsed.kind, parsed.bullets) == (Kind.ANSWER, ("All of my activities are sensitive.",))


def test_an_automatic_reply_has_its_text_but_no_bullets():
    parsed = parse_message(
        message("From: a@b.gov", "Auto-Submitted: auto-replied", body="Out until Monday.\n")
    )

    assert (parsed.kind, parsed.text, parsed.bullets) == (Kind.AUTO_REPLY, "Out until Monday.", ())


def test_headers_only_garbage_is_unreadable_with_the_reason():
    parsed = parse_message(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    assert parsed.kind is Kind.UNREADABLE
    assert parsed.reason == "no mail headers"


def test_a_persons_own_subject_about_leave_is_no_automatic_reply_signal():
    parsed = parse_message(message("From: a@b.gov", "Subject: On leave most of last week", body="- Did A\n"))

    assert parsed.kind is Kind.ANSWER


def test_an_exchange_automatic_reply_subject_is_recognised():
    parsed = parse_message(message("From: a@b.gov", "Subject: Automatic reply: What did you get done?"))

    assert (parsed.kind, parsed.reason) == (Kind.AUTO_REPLY, "automatic reply subject")


@given(
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
@settings(max_examples=200, deadline=None)
def test_dates_read_the_same_as_the_stdlib_reads_them(moment, offset_minutes):
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    header = format_datetime(moment.replace(microsecond=0, tzinfo=zone))

    assert parse_message(message("From: a@b.gov", f"Date: {header}")).date == parsedate_to_datetime(header)


def test_a_delivery_receipt_is_an_automatic_reply_not_a_bounce():
    raw = message(
        "From: postmaster@agency.gov",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        body="--r\r\n\r\nDelivered.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.agency.gov\r\n\r\nFinal-Recipient: rfc822; jane@agency.gov\r\n"
        "Action: delivered\r\nStatus: 2.0.0\r\n\r\n--r--\r\n",
    )
    parsed = parse_message(raw)

    assert (parsed.kind, parsed.reason, parsed.bounce_recipients) == (
        Kind.AUTO_REPLY,
        "delivery receipt (DSN)",
        (),
    )
