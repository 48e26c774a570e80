"""HTML mail bodies as plain text, with a real HTML parser (selectolax's Lexbor engine). Pure functions."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

# A break marker that no mail text contains: whitespace in HTML source is not layout, so every run of it is
# collapsed first, and only these markers become line breaks.
_BREAK = "\x1e"
_SPACE = re.compile(r"[^\S\x1e]+")
_BREAKS = re.compile(r" *\x1e[\x1e ]*")
_BLANK_LINES = re.compile(r"\n{3,}")

_BLOCKS = "p,div,tr,h1,h2,h3,h4,h5,h6,table,ul,ol,dl,dt,dd,section,article,header,footer,address,pre"
# Quoted history the clients mark in their HTML: Gmail, Apple Mail / Thunderbird (blockquote type=cite),
# Yahoo. Outlook marks nothing reliable; its "From:/Sent:" header block is cut later from the text.
_QUOTED = "div.gmail_quote,blockquote,div.yahoo_quoted,div.moz-cite-prefix"
_INVISIBLE = "head,script,style,title,template,noscript"


def html_to_text(html: str) -> str:
    """The visible text of an HTML body: block elements on their own lines, list items as "- " bullets,
    images and scripts dropped, the quoted history that the client marked in its HTML removed."""
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    for node in tree.css(f"{_INVISIBLE},{_QUOTED}"):
        node.decompose()
    for node in tree.css("li"):
        node.insert_before(f"{_BREAK}- ")
        node.insert_after(_BREAK)
    for node in tree.css("br"):
        node.insert_after(_BREAK)
    for node in tree.css("hr"):
        # Outlook separates the reply from the quoted message with a rule; keep it as the text clients use.
        node.insert_after(f"{_BREAK}________________________________{_BREAK}")
    for node in tree.css(_BLOCKS):
        node.insert_before(_BREAK)
        node.insert_after(_BREAK)
    text = root.text(separator="", strip=False)
    text = _BREAKS.sub(_line_breaks, _SPACE.sub(" ", text))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _line_breaks(match: re.Match[str]) -> str:
    # Two adjacent blocks leave two markers and mean one new line; an empty block between them (Gmail's
    # <div><br></div>, Outlook's <p>&nbsp;</p>) leaves more and means a blank line.
    return "\n\n" if match.group().count(_BREAK) > 2 else "\n"
