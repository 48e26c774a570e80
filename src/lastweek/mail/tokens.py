"""Reply tokens for outbound mail.

A reply goes to `reply+TOKEN@MAIL_DOMAIN`; the token names the assignment and carries a truncated HMAC
of its id, so intake can attribute a reply without a database lookup and nobody can forge a reply on
someone else's behalf by guessing ids. Tokens use lower-case letters and digits only: some mail
servers lower-case (or upper-case) local parts, so the check is case-insensitive.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from django.conf import settings

from lastweek.codes import pairs

_SALT = "lastweek.directives.reply-token"
# 8 base32 characters: 40 bits of MAC. A forger gets one guess per message sent to our SMTP server,
# so 2**40 guesses per assignment is out of reach; the id stays readable in logs and bounces.
_MAC_LENGTH = 8
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TOKEN_CHARACTERS = frozenset(_DIGITS36)


def _base36(number: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_DIGITS36[digit])
    return "".join(reversed(digits)) or "0"


def _mac(assignment_id: int, secret: str) -> str:
    # salted_hmac(_SALT, str(assignment_id), secret=secret, algorithm="sha256"), with the key it derives
    # from the salt and secret computed once: the intake checks thousands of tokens a second.
    digest = hmac.digest(_mac_key(secret), str(assignment_id).encode(), "sha256")
    # base64.b32encode(digest[:5]), lower-cased: 40 bits as four 10-bit pairs of characters (the
    # module's encoder is pure Python, and costs more than the HMAC).
    bits = int.from_bytes(digest[:5])
    return (
        _B32_PAIRS[bits >> 30]
        + _B32_PAIRS[bits >> 20 & 1023]
        + _B32_PAIRS[bits >> 10 & 1023]
        + _B32_PAIRS[bits & 1023]
    )


_B32_PAIRS = pairs("abcdefghijklmnopqrstuvwxyz234567")  # RFC 4648's alphabet, lower case


@functools.lru_cache(maxsize=8)
def _mac_key(secret: str) -> bytes:
    return hashlib.sha256((_SALT + secret).encode()).digest()


def reply_token(assignment_id: int) -> str:
    """The token for one assignment: its id in base 36 followed by 8 MAC characters.

    At most 20 characters for any id below 36**12 (about 4.7 * 10**18).
    """
    if assignment_id <= 0:
        raise ValueError(f"assignment ids are positive, not {assignment_id}")
    return _base36(assignment_id) + _mac(assignment_id, settings.SECRET_KEY)


def assignment_id_from_token(token: str) -> int | None:
    """The assignment id a token names, or None when it is malformed or its MAC does not match.

    Tokens made with a key listed in SECRET_KEY_FALLBACKS are still accepted, so replies to requests
    sent before a key rotation keep arriving.
    """
    token = token.strip().lower()
    if not _MAC_LENGTH < len(token) <= 20 or not _TOKEN_CHARACTERS.issuperset(token):
        return None
    id_part, mac = token[:-_MAC_LENGTH], token[-_MAC_LENGTH:]
    if id_part.startswith("0"):  # only the canonical spelling of an id is ever issued
        return None
    assignment_id = int(id_part, 36)
    # hmac.compare_digest takes the two ASCII strings as they are (Django's constant_time_compare
    # encodes both first): the intake checks thousands of tokens a second.
    if hmac.compare_digest(mac, _mac(assignment_id, settings.SECRET_KEY)):
        return assignment_id
    for secret in getattr(settings, "SECRET_KEY_FALLBACKS", ()):
        if hmac.compare_digest(mac, _mac(assignment_id, secret)):
            return assignment_id
    return None


def reply_address(assignment_id: int) -> str:
    """`reply+TOKEN@MAIL_DOMAIN`: where the answer to one request goes."""
    return f"reply+{reply_token(assignment_id)}@{settings.MAIL_DOMAIN}"
