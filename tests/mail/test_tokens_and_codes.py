"""Reply tokens name an assignment and cannot be forged; verification codes survive human typing."""

import base64
import re

import pytest
from django.utils.crypto import salted_hmac

from lastweek.codes import CROCKFORD, format_verify_code, new_verify_code, normalize_verify_code
from lastweek.mail import assignment_id_from_token, reply_address, reply_token


@pytest.mark.parametrize("assignment_id", [1, 35, 36, 1_000_000, 2_300_000_017, 36**12 - 1])
def test_a_token_names_its_assignment(assignment_id):
    token = reply_token(assignment_id)
    assert re.fullmatch(r"[a-z0-9]{9,20}", token)
    assert assignment_id_from_token(token) == assignment_id


@pytest.mark.parametrize("assignment_id", [1, 36, 123_456_789])
def test_a_token_is_the_documented_salted_hmac_of_its_id(assignment_id, settings):
    """Tokens already sent must keep working: the MAC is Django's salted_hmac, whatever computes it."""
    digest = salted_hmac(
        "lastweek.directives.reply-token", str(assignment_id), secret=settings.SECRET_KEY, algorithm="sha256"
    ).digest()
    mac = base64.b32encode(digest[:5]).decode("ascii").lower()
    assert reply_token(assignment_id).endswith(mac)


def test_tokens_are_unique_over_a_hundred_thousand_assignments():
    tokens = {reply_token(assignment_id) for assignment_id in range(1, 100_001)}
    assert len(tokens) == 100_000


def test_a_token_survives_a_mail_server_that_changes_case():
    assert assignment_id_from_token(reply_token(4242).upper()) == 4242


def test_a_token_with_another_assignments_id_is_refused():
    token = reply_token(1234)
    forged = reply_token(1235)[:-8] + token[-8:]
    assert assignment_id_from_token(forged) is None


@pytest.mark.parametrize("position", [0, 3, -1])
def test_a_token_with_any_character_changed_is_refused(position):
    token = list(reply_token(987_654))
    token[position] = "x" if token[position] != "x" else "y"
    assert assignment_id_from_token("".join(token)) is None


@pytest.mark.parametrize("text", ["", "abc", "reply+abc", "0" + reply_token(77), "a" * 21, "ab_cdefghij"])
def test_malformed_tokens_are_refused(text):
    assert assignment_id_from_token(text) is None


def test_a_token_from_before_a_key_rotation_still_works(settings):
    token = reply_token(55)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a brand new key " * 4
    assert assignment_id_from_token(token) == 55
    settings.SECRET_KEY_FALLBACKS = []
    assert assignment_id_from_token(token) is None


def test_the_reply_address_uses_the_mail_domain(settings):
    settings.MAIL_DOMAIN = "reports.example.gov"
    assert reply_address(9) == f"reply+{reply_token(9)}@reports.example.gov"


def test_a_verification_code_is_ten_crockford_characters():
    codes = {new_verify_code() for _ in range(10_000)}
    assert len(codes) == 10_000
    assert all(len(code) == 10 and set(code) <= set(CROCKFORD) for code in codes)


def test_a_code_is_printed_in_two_groups_of_five():
    assert format_verify_code("ABCDE12345") == "ABCDE-12345"


@pytest.mark.parametrize(
    "typed", ["ABCDE-12345", "abcde-12345", " abcde 12345 ", "ABCDE12345", "abcde-i2345", "abcde-l2345"]
)
def test_a_typed_code_is_read_the_way_it_was_meant(typed):
    assert normalize_verify_code(typed) == "ABCDE12345"


def test_the_letter_o_is_read_as_zero():
    assert normalize_verify_code("o0O00-11111") == "00000" + "11111"
