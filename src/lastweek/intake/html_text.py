"""HTML mail bodies as plain text, with a real HTML parser (selectolax's Lexbor engine). Pure functions."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

# A break marker that no mail text contains, put next to the elements that start lines.
_BREAK = "\x1e"

_BLOCKS = "p,div,tr,h1,h2,h3,h4,h5,h6,table,ul,ol,dl,dt,dd,section,article,header,footer,address,pre"
_LINE_TAGS = frozenset(f"li,br,hr,{_BLOCKS}".split(","))
# Never shown: what is not text, and quoted history (blockquote: Apple Mail / Thunderbird type=cite).
_HIDDEN_TAGS = frozenset(("head", "script", "style", "title", "template", "noscript", "blockquote"))
# Quoted history and signatures the clients mark by class or id: Gmail, Yahoo, Thunderbird, Outlook on
# the web and desktop, Apple Mail. Outlook marks no quote reliably; its "From:/Sent:" header block is
# cut later from the text. Each selector is asked for only when the (lower-cased) source holds its
# name: class and id match regardless of case in quirks mode, which most mail is in.
_MARKED = (
    ("gmail_quote", "div.gmail_quote"),
    ("yahoo_quoted", "div.yahoo_quoted"),
    ("moz-cite-prefix", "div.moz-cite-prefix"),
    ("gmail_signature", "div.gmail_signature,[data-smartmail=gmail_signature]"),
    ("signature", "div#Signature,div#signature,div.moz-signature,div#AppleMailSignature"),
)
# Elements chosen by tag alone come from Lexbor's tag index, and only for the tags the source holds:
# a CSS query over every kind costs as much as the parse itself, whatever it finds. A table cell
# implies its row (<table><td> parses with a <tr>), the one element here a parser adds unwritten.
_TAG_NAME = re.compile(r"</?([a-z][a-z0-9]*)")  # in the lower-cased source
_MARKS = {
    "li": (f"{_BREAK}- ", _BREAK),
    "br": ("", _BREAK),
    "hr": ("", f"{_BREAK}________________________________{_BREAK}"),
}
_BLOCK_MARKS = (_BREAK, _BREAK)


def html_to_text(html: str) -> str:
    """The visible text of an HTML body: block elements on their own lines, list items as "- " bullets,
    images and scripts dropped, the quoted history and the signature that the client marked in its
    HTML removed."""
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    lowered = html.lower()
    marked = [selector for name, selector in _MARKED if name in lowered]
    if marked:
        for node in tree.css(",".join(marked)):
            node.decompose()
    tags = set(_TAG_NAME.findall(lowered))
    if "td" in tags or "th" in tags:
        tags.add("tr")
    for tag in _HIDDEN_TAGS & tags:
        for node in tree.tags(tag):
            node.decompose()
    # Each element is only ever marked by its own kind, so the order of the kinds does not change
    # the text.
    for tag in _LINE_TAGS & tags:
        before, after = _MARKS.get(tag, _BLOCK_MARKS)
        for node in tree.tags(tag):
            if before:
                node.insert_before(before)
            node.insert_after(after)
    return _lines(root.text(separator="", strip=False))


def _lines(text: str) -> str:
    """Whitespace in HTML source is not layout: each run of it is one space, and only the markers make
    lines. Two markers in a row (one block after another) mean a new line; more (an empty block between,
    Gmail's <div><br></div>, Outlook's <p>&nbsp;</p>) mean a blank line."""
    out: list[str] = []
    empty = 0  # pieces with no text between two markers: one per marker beyond the first
    for piece in text.split(_BREAK):
        words = piece.split()
        if not words:
            empty += 1
            continue
        if out:
            out.append("\n\n" if empty > 1 else "\n")
        out.append(" ".join(words))
        empty = 0
    return "".join(out)
