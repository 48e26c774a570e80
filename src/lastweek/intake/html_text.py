"""HTML mail bodies as plain text, with a real HTML parser (selectolax's Lexbor engine). Pure functions."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

# A break marker that no mail text contains, put next to the elements that start lines.
_BREAK = "\x1e"

_BLOCKS = "p,div,tr,h1,h2,h3,h4,h5,h6,table,ul,ol,dl,dt,dd,section,article,header,footer,address,pre"
# Quoted history the clients mark in their HTML: Gmail, Apple Mail / Thunderbird (blockquote type=cite),
# Yahoo. Outlook marks nothing reliable; its "From:/Sent:" header block is cut later from the text.
_QUOTED = "div.gmail_quote,blockquote,div.yahoo_quoted,div.moz-cite-prefix"
# Signatures the clients mark: Gmail, Outlook on the web and desktop, Thunderbird, Apple Mail.
_SIGNATURES = (
    "div.gmail_signature,[data-smartmail=gmail_signature],div#Signature,div#signature,"
    "div.moz-signature,div#AppleMailSignature"
)
_INVISIBLE = "head,script,style,title,template,noscript"
_LINE_ELEMENTS = f"li,br,hr,{_BLOCKS}"
# What goes before and after each element: list items as "- " bullets, a line break after <br>, and
# Outlook's rule between the reply and the quoted message as the line of underscores clients write.
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
    for node in tree.css(f"{_INVISIBLE},{_QUOTED},{_SIGNATURES}"):
        node.decompose()
    # One walk for every element that makes lines (each is only ever marked by its own kind, so the
    # order they are marked in does not change the text).
    for node in tree.css(_LINE_ELEMENTS):
        before, after = _MARKS.get(node.tag, _BLOCK_MARKS)
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
