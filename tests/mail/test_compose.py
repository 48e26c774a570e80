from email import message_from_bytes, policy

from lastweek.mail import compose


def test_a_notice_is_marked_automatic_and_comes_from_the_site(settings):
    settings.DEFAULT_FROM_EMAIL = "lastweek@agency.example"
    payload = compose(
        "Reminder", "Please answer.", "someone@agency.example", reply_to="reply+x@agency.example"
    )
    message = message_from_bytes(payload, policy=policy.default)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == "lastweek@agency.example"
    assert message["To"] == "someone@agency.example"
    assert message["Reply-To"] == "reply+x@agency.example"
    assert message.get_content().strip() == "Please answer."


def test_the_payload_is_ready_for_smtp_data():
    payload = compose("Digest", "line one\n.leading dot\nlast", "someone@agency.example")
    assert b"\r\n..leading dot\r\n" in payload
    assert b"\n" not in payload.replace(b"\r\n", b"")
    assert not payload.endswith(b"\r\n.\r\n")


def test_extra_headers_are_kept():
    payload = compose("Digest", "body", "someone@agency.example", headers={"X-Lastweek-Cycle": "7"})
    assert message_from_bytes(payload)["X-Lastweek-Cycle"] == "7"
