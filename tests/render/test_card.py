"""The result card (plebiscite.render.card) and the counts and shares it draws
(plebiscite.render.results): PNGs of the right size, Cyrillic text, few and many answers, a
Lists question, long titles, the same bytes for the same input."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from plebiscite.render import card as card_module
from plebiscite.render.card import (
    HEIGHT,
    WIDTH,
    card_of_status,
    draw,
    draw_with_layout,
    ellipsis,
    font,
    wrap,
)
from plebiscite.render.results import (
    Row,
    charts_of_status,
    format_count,
    format_percent,
    percent_tenths,
)

I18N = Path(__file__).resolve().parents[2] / "src" / "plebiscite" / "server" / "static" / "i18n"
MESSAGES = {lang: json.loads((I18N / f"{lang}.json").read_text()) for lang in ("en", "uk", "ru")}

YES_NO = {
    "answers": ["Так", "Ні"],
    "blank": True,
    "min": 1,
    "max": 1,
    "question": "Чи схвалюєте ви новий статут громади?",
}
LISTS = {
    "type": "Lists",
    "value": {
        "question": "Elect the council",
        "answers": [["Greens", "Ada", "Ben"], ["Blues", "Cy", "Di", "Ed"]],
    },
}
TWELVE = {
    "answers": [f"Відповідь номер {i + 1}" for i in range(12)],
    "min": 1,
    "max": 1,
    "question": "Which of twelve?",
}
RANKING = {"type": "NonHomomorphic", "value": {"question": "Rank", "answers": ["a", "b"]}}


def status(questions, results, *, phase="done", title="Референдум про статут", verdict="passed"):
    """A public status in the API's shape, one region per entry of ``results``."""
    regions = [
        {
            "name": f"R{k}",
            "roll": 10,
            "voted": 7,
            "status": "result",
            "height": 20 + k,
            "result": result,
        }
        for k, result in enumerate(results)
    ]
    return {
        "id": "statute",
        "title": title,
        "phase": phase,
        "record": {
            "questions": questions,
            "opening": "2026-12-03T08:00:00Z",
            "closing": "2026-12-04T10:00:00Z",
        },
        "regions": regions,
        "outcome": {"verdict": verdict} if verdict else None,
    }


def image(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def test_a_result_with_cyrillic_text_and_two_answers():
    s = status([YES_NO], [[[1, 4, 2]], [["1073741824", 3, 0]]])
    card = card_of_status(s, MESSAGES["uk"], "uk")
    assert card.verdict == "passed" and card.verdict_text == "Ухвалено"
    png = draw(card)
    img = image(png)
    assert img.format == "PNG" and img.size == (WIDTH, HEIGHT) == (1200, 630)
    # set in DejaVu Sans, which has the Cyrillic glyphs
    assert font(20).getname()[0] == "DejaVu Sans"
    (chart,) = card.charts
    assert [r.label for r in chart.rows] == ["Так", "Ні", "Порожні"]
    assert [r.count for r in chart.rows] == [7, 2, 1073741825]
    assert chart.rows[0].share == Fraction(7, 9) and chart.rows[2].share is None


def test_the_same_input_gives_the_same_bytes():
    s = status([YES_NO, LISTS], [[[1, 4, 2], [[2, 2, 1], [1, 0, 1, 1]]]])
    one = draw(card_of_status(s, MESSAGES["ru"], "ru"))
    two = draw(card_of_status(json.loads(json.dumps(s)), MESSAGES["ru"], "ru"))
    assert one == two
    assert draw(card_of_status(s, MESSAGES["en"], "en")) != one


def test_twelve_answers_fit_or_the_most_chosen_are_shown():
    s = status([TWELVE], [[list(range(12))]], verdict=None, title="Long " * 40)
    card = card_of_status(s, MESSAGES["en"], "en")
    assert card.verdict is None
    assert card.charts[0].rows[11].share == Fraction(11, 66)
    png, layout = draw_with_layout(card)
    assert image(png).size == (WIDTH, HEIGHT)
    assert layout == {0: (TWELVE["answers"], 0)}  # all twelve (the title on one line)
    # a question after them: counted in the last line
    s = status([TWELVE, YES_NO], [[list(range(12)), [0, 5, 5]]], verdict=None)
    assert list(draw_with_layout(card_of_status(s, MESSAGES["en"], "en"))[1]) == [0]
    # more answers than fit: the most chosen, in their order, and how many did not fit
    many = {**TWELVE, "answers": [f"Answer {i}" for i in range(30)]}
    s = status([many], [[[30 - i for i in range(30)]]], verdict=None)
    labels, left = draw_with_layout(card_of_status(s, MESSAGES["en"], "en"))[1][0]
    assert labels == many["answers"][: len(labels)] and left == 30 - len(labels) > 0
    s["regions"][0]["result"][0].reverse()
    labels, left = draw_with_layout(card_of_status(s, MESSAGES["en"], "en"))[1][0]
    assert labels == many["answers"][-len(labels) :]


def test_two_answers_and_a_lists_question_are_drawn_whole():
    s = status([YES_NO, LISTS], [[[1, 4, 2], [[2, 2, 1], [1, 0, 1, 1]]]])
    layout = draw_with_layout(card_of_status(s, MESSAGES["uk"], "uk"))[1]
    assert layout[0] == (["Так", "Ні", "Порожні"], 0)
    assert layout[1] == (["Список «Greens»", "Ada", "Ben", "Список «Blues»", "Cy", "Di", "Ed"], 0)


def test_a_lists_question_has_its_lists_and_candidates():
    s = status([YES_NO, LISTS, RANKING], [[[0, 2, 1], [[2, 2, 1], [1, 0, 1, 1]], [[1, 2]]]])
    charts = charts_of_status(s, MESSAGES["en"])
    assert [c.index for c in charts] == [0, 1]  # the ranking has no counts
    rows = charts[1].rows
    assert rows == (
        Row("List “Greens”", 2, Fraction(2, 3), "list"),
        Row("Ada", 2, Fraction(1), "candidate"),
        Row("Ben", 1, Fraction(1, 2), "candidate"),
        Row("List “Blues”", 1, Fraction(1, 3), "list"),
        Row("Cy", 0, Fraction(0), "candidate"),
        Row("Di", 1, Fraction(1), "candidate"),
        Row("Ed", 1, Fraction(1), "candidate"),
    )
    assert image(draw(card_of_status(s, MESSAGES["ru"], "ru"))).size == (WIDTH, HEIGHT)


def test_pooled_and_per_region_counts():
    s = status([YES_NO], [[[1, 4, 2]], [[0, 3, 0]]])
    assert [r.count for r in charts_of_status(s, {})[0].rows] == [7, 2, 1]
    assert [r.count for r in charts_of_status(s, {}, region="R1")[0].rows] == [3, 0, 0]
    assert charts_of_status(s, {}, region="nowhere") == []
    s["regions"][1]["result"] = None  # not decrypted yet: the regions with a result
    assert [r.count for r in charts_of_status(s, {})[0].rows] == [4, 2, 1]


def test_before_the_close_the_card_shows_the_state_and_turnout():
    s = status([YES_NO], [None, None], phase="open", verdict=None)
    card = card_of_status(s, MESSAGES["en"], "en")
    assert card.charts == ()
    assert card.state == "Voting open until 2026-12-04 10:00 UTC"
    assert card.turnout == (14, 20) and card.turnout_text == "Turnout 70.0% (14 of 20)"
    assert card.question == YES_NO["question"]
    assert card.note == "The result stays encrypted until voting closes."
    assert image(draw(card)).size == (WIDTH, HEIGHT)
    s["phase"] = "ceremony"
    assert card_of_status(s, MESSAGES["uk"], "uk").state.startswith("Голосування відкривається")
    s["phase"] = "decrypting"
    assert "decrypting" in card_of_status(s, MESSAGES["en"], "en").state


def test_long_titles_are_wrapped_and_cut():
    title = "Референдум " + "дуже " * 60 + "довгий"
    f = font(46, True)
    lines = wrap(title, f, 1088, 2)
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(f.getlength(line) <= 1088 for line in lines)
    word = "Ш" * 200  # one word wider than a line
    lines = wrap(word, f, 500, 2)
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(f.getlength(line) <= 500 for line in lines)
    assert ellipsis("short", f, 500) == "short"
    s = status([YES_NO], [[[1, 4, 2]]], title=title)
    assert image(draw(card_of_status(s, MESSAGES["uk"], "uk"))).size == (WIDTH, HEIGHT)


def test_without_dejavu_the_default_font_is_used_with_a_warning(monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(card_module, "FONT_DIRS", (tmp_path,))
    card_module._font_file.cache_clear()
    card_module.font.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="plebiscite.render"):
            png = draw(card_of_status(status([YES_NO], [[[1, 4, 2]]]), MESSAGES["en"], "en"))
        assert image(png).size == (WIDTH, HEIGHT)
        assert "fonts-dejavu-core" in caplog.text
    finally:
        card_module._font_file.cache_clear()
        card_module.font.cache_clear()


@pytest.mark.parametrize(
    ("share", "tenths", "en", "uk"),
    [
        (Fraction(1, 3), 333, "33.3%", "33,3%"),
        (Fraction(2, 3), 667, "66.7%", "66,7%"),
        (Fraction(1, 2000), 1, "0.1%", "0,1%"),  # half a tenth: up
        (Fraction(0), 0, "0.0%", "0,0%"),
        (Fraction(1), 1000, "100.0%", "100,0%"),
    ],
)
def test_percentages_have_one_decimal_rounded_half_up(share, tenths, en, uk):
    assert percent_tenths(share) == tenths
    assert format_percent(share, "en") == en
    assert format_percent(share, "uk") == uk


def test_counts_have_the_thousands_separator_of_the_language():
    assert format_count(1234567, "en") == "1,234,567"
    assert format_count(1234567, "ru") == "1\u00a0234\u00a0567"


@given(st.integers(0, 10**12), st.integers(1, 10**12))
def test_the_rounding_is_exact(n, d):
    tenths = percent_tenths(Fraction(n, d))
    assert Fraction(2 * tenths - 1, 2000) <= Fraction(n, d) < Fraction(2 * tenths + 1, 2000)
