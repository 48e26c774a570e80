"""Codes people read and type: ten Crockford base32 characters (50 random bits).

A verification code is printed in each request so the recipient can check, on a site address they type
in themselves, that the message is genuine; a receipt code is given for each recorded answer. Both are
random (not derived from anything) and written in Crockford's base32, which survives being read aloud or
typed by hand. This module sits on the ground floor: mail, directives and reports all use it.
"""

from __future__ import annotations

import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VERIFY_CODE_LENGTH = 10
# Crockford's decoding rules: letters easily mistaken for digits are read as those digits.
_CROCKFORD_READING = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None})


def pairs(alphabet: str) -> tuple[str, ...]:
    """Every two-character string of a 32-character alphabet, indexed by its 10 bits."""
    return tuple(first + second for first in alphabet for second in alphabet)


def new_verify_code() -> str:
    """Ten random Crockford base32 characters (50 bits), upper case, stored without the dash."""
    return crockford_code()


def crockford_code() -> str:
    """Ten random Crockford characters, uniform over the alphabet (verification codes, and receipt codes
    of a batch, which makes thousands a second): one 50-bit draw read as five 10-bit pairs."""
    number = secrets.randbits(50)
    return (
        _CROCKFORD_PAIRS[number >> 40]
        + _CROCKFORD_PAIRS[number >> 30 & 1023]
        + _CROCKFORD_PAIRS[number >> 20 & 1023]
        + _CROCKFORD_PAIRS[number >> 10 & 1023]
        + _CROCKFORD_PAIRS[number & 1023]
    )


def format_verify_code(code: str) -> str:
    """The code as printed in a message: two groups of five, `XXXXX-XXXXX`."""
    return f"{code[:5]}-{code[5:]}"


def normalize_verify_code(text: str) -> str:
    """What someone typed, read the way Crockford intended: upper case, no dashes or spaces, O as 0,
    I and L as 1. The result can be compared with stored codes."""
    return "".join(text.split()).upper().translate(_CROCKFORD_READING)


_CROCKFORD_PAIRS = pairs(CROCKFORD)
