"""The MIME splitter: headers, parameters and parts as RFC 5322, 2045, 2046 and 2231 define them, and the
repairs it makes when a message breaks them."""

from lastweek.intake.mime import decode_text, payload_bytes
from lastweek.intake.structure import leaves, parameters, read_message


def test_folded_header_lines_are_joined():
    message = read_message(b"Subject: a long\r\n  subject line\r\nTo: x@y.gov\r\n\r\nbody", [])

    assert message.headers.get("subject") == "a long  subject line"
    assert message.body == b"body"


def test_repeated_headers_are_kept_in_order_and_get_returns_the_topmost():
    message = read_message(b"Received: one\nReceived: two\n\nbody", [])

    assert message.headers.all("received") == ["one", "two"]
    assert message.headers.get("received") == "one"


def test_a_header_block_without_a_blank_line_ends_at_the_first_line_that_is_not_a_field():
    defects: list[str] = []
    message = read_message(b"From: a@b.gov\nSubject: hi\nthis is the body\nmore", defects)

    assert message.headers.get("subject") == "hi"
    assert message.body == b"this is the body\nmore"
    assert defects == ["header block ended without a blank line"]


def test_parts_exclude_the_line_break_before_each_delimiter_and_the_preamble_and_epilogue():
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\npreamble\r\n--b\r\n\r\nfirst\r\n'
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--b--\r\nepilogue\r\n"
    )
    parts = [leaf.part for leaf in leaves(read_message(raw, []), [])]

    assert [(part.content_type, part.body) for part in parts] == [
        ("text/plain", b"first"),
        ("text/html", b"<p>second</p>"),
    ]


def test_a_line_that_only_starts_with_the_boundary_is_not_a_delimiter():
    raw = b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n\none\n--bb not a delimiter\n--b--\n'
    parts = [leaf.part for leaf in leaves(read_message(raw, []), [])]

    assert [part.body for part in parts] == [b"one\n--bb not a delimiter"]


def test_a_missing_close_delimiter_ends_the_last_part_at_the_end():
    raw = b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n\none\n--b\n\ntwo\n'
    parts = [leaf.part for leaf in leaves(read_message(raw, []), [])]

    assert [part.body for part in parts] == [b"one", b"two\n"]


def test_nesting_deeper_than_the_limit_is_cut_and_noted():
    inner = b"Content-Type: text/plain\n\ndeep"
    for level in range(20):
        inner = b'Content-Type: multipart/mixed; boundary="l%d"\n\n--l%d\n' % (level, level) + inner
        inner += b"\n--l%d--\n" % level
    defects: list[str] = []
    list(leaves(read_message(inner, defects), defects))

    assert "multipart nested deeper than 12; the rest ignored" in defects


def test_quoted_parameters_keep_semicolons_and_escaped_quotes():
    params = parameters('attachment; filename="a;b \\"c\\".pdf"; size=12')

    assert params == {"filename": 'a;b "c".pdf', "size": "12"}


def test_rfc2231_encoded_and_continued_parameters_are_decoded():
    params = parameters(
        "attachment; filename*0*=utf-8''Memo%20%E2%80%93; filename*1=\" 100%.doc\"; title*=''plain%20text"
    )

    assert params["filename"] == "Memo – 100%.doc"  # the continuation without * is literal
    assert params["title"] == "plain text"


def test_an_rfc2231_charset_that_is_not_a_charset_does_not_raise():
    assert parameters("attachment; filename*=\x00tf-8''a%20b")["filename"] == "a b"


def test_base64_with_junk_is_repaired_and_noted():
    message = read_message(b"Content-Transfer-Encoding: base64\n\naGVs!!bG8=\n", [])
    defects: list[str] = []

    assert payload_bytes(message, defects) == b"hello"
    assert defects == ["bad base64"]


def test_a_stateful_seven_bit_charset_is_decoded_not_read_as_ascii():
    data = "会議".encode("iso-2022-jp")

    assert data.isascii()
    assert decode_text(data, "ISO-2022-JP", []) == "会議"


def test_an_rfc_2231_value_with_a_raw_8_bit_byte_is_read_not_refused():
    # The charset's quote is missing and a raw byte stands in the value (seen in mangled mail).
    value = "attachment; filename*=utf-8\udc80'Memo%20%E2%80%93%20lenders.doc"
    assert parameters(value)["filename"].endswith("Memo – lenders.doc")
