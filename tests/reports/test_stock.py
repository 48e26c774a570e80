"""normalize_answer() takes a shortcut for ASCII text and splits on white space instead of a regular
expression: the result must be what the full rule gives for any text."""

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from lastweek.reports.stock import match_stock_answer, normalize_answer

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def full_rule(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = re.sub(r"^(?:[-*•]|\d+[.)])\s+", "", re.sub(r"\s+", " ", text).strip())
    return text.rstrip(" .!").casefold()


awkward = st.text(
    alphabet=st.sampled_from(list(" \t\n\x0b\x0c\x1c\x85\xa0\u2000\u3000ab.!-*•1)’“ＡﬁéE\u0301")), max_size=20
)


@given(st.one_of(awkward, st.text(max_size=60)))
def test_normalize_answer_is_the_full_rule(text):
    assert normalize_answer(text) == full_rule(text)


def test_stock_answer_recognised_however_typed():
    stock = ["All of my activities are sensitive."]
    typed = "  - ALL of my\u00a0activities are “sensitive”!  "
    assert match_stock_answer("  - ALL   of my activities\tare sensitive!! ", stock, key=str) == stock[0]
    assert match_stock_answer(typed, ['All of my activities are "sensitive"'], key=str) is not None
    assert match_stock_answer("All of my activities are sensitive, mostly", stock, key=str) is None


@given(
    st.lists(
        st.sampled_from(
            [
                "All of my activities are sensitive.",
                "all of my activities are SENSITIVE",
                "On leave",
                "",
                " - On leave!",
            ]
        ),
        max_size=5,
    ),
    awkward,
)
def test_the_lookup_table_finds_what_match_stock_answer_finds(answers, text):
    from lastweek.reports.stock import stock_table

    table = stock_table(answers, key=str)
    found = table.get(normalize_answer(text))
    assert found == match_stock_answer(text, answers, key=str)
    for answer in answers:
        assert table.get(normalize_answer(answer)) == match_stock_answer(answer, answers, key=str)
