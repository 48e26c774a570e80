"""Removing what follows the answer itself: the "-- " signature, mobile sign-offs, legal disclaimers, a
sign-off with the federal signature block under it (name, title, office, agency, phone). Pure functions."""

from __future__ import annotations

import re

# Everything from the first of these lines (below the first line) down is not the answer: RFC 3676's
# "-- " and the mobile clients' lines, or the first line of a legal disclaimer or notice paragraph. One
# expression, so each line costs one call. Case matters after "Sent from": clients name a device ("Sent
# from my iPhone", "Sent from Outlook"), while "Sent from the field office, 12 reports" is an answer.
_CUT_LINE = re.compile(
    r"""^\s*(?:
      (?:
        --\s*
      | (?i:sent|envoyé|enviado)\ (?i:from|via|with|de|desde)
          \ (?:(?i:my|mi|mon)\ [^\n]{1,50}|i?[A-Z][^\n]{0,50})
      | (?i:get\ outlook\ for)\ [^\n]{0,40}
      | (?i:this\ (?:message|email|e-mail)\ was\ sent\ from)\ [^\n]{0,60}
      )$
    | \**(?i:
        (?:confidentiality|privacy|legal|important|email)\ (?:notice|statement|warning)
      | disclaimer\b
      | notice:
      | caution:
      | this\ (?:e-?mail|message|communication|transmission)\b[^\n]{0,120}
          \b(?:is\ intended|are\ intended|intended\ (?:only|solely|for)|is\ confidential|privileged
            |may\ contain|contains?\ (?:confidential|sensitive|privileged|pii|personally|controlled))
      | the\ information\ (?:contained\ )?in\ this\ (?:e-?mail|message)
      | if\ you\ (?:are\ not\ the\ intended|have\ received\ this)
      )
    )""",
    re.VERBOSE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:thanks?(?: you)?(?: all| again)?|many thanks|best(?: regards| wishes)?|regards|kind regards|"
    r"warm regards|respectfully|very respectfully|v/r|vr|r/s|cheers|sincerely|cordially|take care|"
    r"thx|tia|all the best)\s*[,.!-]*\s*$",
    re.IGNORECASE,
)
# Lines a signature block is made of, whatever the agency's template.
_SIGNATURE_LINE = re.compile(
    r"""(?:
        \(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b                      # a phone number
      | \b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b                           # an address
      | \b(?:www\.|https?://)\S+ | \b\S+\.(?:gov|mil)\b            # the agency's site
      | ^\s*(?:office|desk|cell|mobile|phone|tel|fax|main|direct|o|c|m|p|t|f)\s*[:.]\s*\S
      | \b(?:director|deputy|chief|specialist|analyst|officer|manager|coordinator|administrator|
          assistant|associate|secretary|counsel|engineer|scientist|advisor|adviser|lead|supervisor|
          technician|inspector|attorney|economist|program|branch|division|bureau|directorate|
          department\ of|office\ of|u\.s\.|united\ states|agency|administration|service|center)\b
      | \b(?:gs|ses|ge)-?\d{1,2}\b
      | \bpronouns?:
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_NAME_SUFFIXES = {"jr.", "sr.", "ph.d.", "m.d.", "esq."}
_NAME_PARTICLES = {"de", "da", "del", "la", "le", "van", "von", "der", "den", "di", "du", "bin", "al"}
_BULLET = re.compile(r"^\s*(?:[-*•◦▪·‣–+]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)])\s")
_MAX_BLOCK_LINES = 10


def strip_signature(text: str) -> str:
    """The text without its signature, mobile sign-off, trailing disclaimer, sign-off line with the signature
    block under it, or a lone name at the end."""
    lines = text.split("\n")
    lines = _cut_at_marker(lines)
    lines = _cut_sign_off(lines)
    lines = _cut_signature_block(lines)
    return "\n".join(lines).strip()


def _cut_at_marker(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if index and _CUT_LINE.match(line):
            return lines[:index]
    return lines


def _cut_sign_off(lines: list[str]) -> list[str]:
    """Cut at the last sign-off line when at most a signature block follows it."""
    for index in range(len(lines) - 1, 0, -1):
        if _SIGN_OFF.match(lines[index]):
            rest = [line for line in lines[index + 1 :] if line.strip()]
            if len(rest) <= _MAX_BLOCK_LINES and not any(_BULLET.match(line) for line in rest):
                return lines[:index]
            return lines
    return lines


def _cut_signature_block(lines: list[str]) -> list[str]:
    """Cut the last paragraph when it reads as a signature block: short lines, a name or a phone, an
    address, a title or an office, and no bullets."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip():
        start -= 1
    block = lines[start:end]
    if not start or not block or len(block) > _MAX_BLOCK_LINES:
        return lines
    if any(_BULLET.match(line) or len(line) > 90 for line in block):
        return lines
    if not _is_name(block[0]):  # the cheap test first: most last paragraphs are no signature
        return lines
    if len(block) == 1 or sum(1 for line in block if _SIGNATURE_LINE.search(line)) >= max(1, len(block) - 2):
        return lines[:start]
    return lines


def _is_name(line: str) -> bool:
    """One to five words that read as a person's name: each capitalised (any alphabet, "Álvarez"),
    or a particle ("de la Cruz"), with only letters, dots, apostrophes and hyphens in them."""
    parts = line.split()
    if not 1 <= len(parts) <= 5:
        return False
    for part in parts:
        if part.lower() in _NAME_PARTICLES:
            continue
        if not part[0].isupper() or not all(c.isalpha() or c in ".'’-" for c in part):
            return False
    return not line.rstrip().endswith(".") or parts[-1].lower() in _NAME_SUFFIXES  # "Jr." not a sentence
