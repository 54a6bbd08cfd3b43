"""The result card: a 1200×630 PNG of a referendum's public status, for link previews
(``og:image``) and for sharing.

:func:`card_of_status` turns the status (``GET /api/referendums/ID``) into a :class:`Card`, its
texts from the message catalogue of one of the site's languages; :func:`draw` draws it with
Pillow. Before the close the card shows the title, the first question, the state (``open until
...``) and the turnout, and says that the result stays encrypted; after the close the bars of
each question with their counts and shares (:mod:`.results`, all regions pooled) and, if the
referendum has a decision rule, its verdict. Long titles and labels are wrapped and cut with an
ellipsis; answers or questions that do not fit are counted in a last line. The drawing depends
on its input alone (no time, no randomness): the same card gives the same bytes.

The text is set in DejaVu Sans (Debian's ``fonts-dejavu-core``, with Cyrillic glyphs), found
in :data:`FONT_DIRS`; without it Pillow's own font, with a warning (Latin letters only).
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from plebiscite.render.results import (
    Chart,
    Row,
    charts_of_status,
    format_count,
    format_percent,
    message,
)

__all__ = ["FONT_DIRS", "HEIGHT", "WIDTH", "Card", "card_of_status", "draw", "draw_with_layout"]

log = logging.getLogger("plebiscite.render")

WIDTH, HEIGHT = 1200, 630
#: where the fonts are looked for, in this order
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"

# the site.css palette (contrast >= 4.5:1 on white for the text)
INK, MUTED, RULE_LINE, TRACK = "#1b1f24", "#4a5560", "#d0d7de", "#eef1f4"
COLOURS = {"answer": "#0b57a4", "blank": "#6b7280", "list": "#7b3fa0", "candidate": "#3b7dd8"}
VERDICT_COLOURS = {"passed": "#146c36", "failed": "#b3261e", "quorum-not-met": "#b3261e"}
MARGIN = 56
_HEADING, _ROW_MIN, _GAP = 36, 26, 6  # a question's heading, the least row of a bar, the gap after


@dataclass(frozen=True)
class Card:
    """What a card shows; every text already in the card's language."""

    lang: str
    title: str
    state: str  # the line under the title
    verdict: str | None = None  # the verdict's code (passed, failed, ...), if there is a rule
    verdict_text: str | None = None
    question: str | None = None  # before the close: the first question
    turnout: tuple[int, int] | None = None  # before the close: (voted, roll)
    turnout_text: str | None = None
    note: str | None = None  # before the close: the result stays encrypted
    charts: tuple[Chart, ...] = ()
    more_rows: str = "+{count}"  # with {count}: the rows that did not fit
    more_questions: str = "+{count}"
    footer: str = ""


def _time(iso: str) -> str:
    """``2026-12-04T10:00:00Z`` as ``2026-12-04 10:00 UTC`` (the same in every language)."""
    if len(iso) >= 16 and iso[10] == "T":
        return f"{iso[:10]} {iso[11:16]} UTC"
    return iso


def card_of_status(status: Mapping[str, Any], messages: Mapping[str, Any], lang: str) -> Card:
    """The card of a referendum's public status, its texts from ``messages`` (the catalogue
    ``static/i18n/LANG.json`` of ``lang``)."""
    record = status["record"]
    phase = str(status.get("phase", ""))
    regions = list(status.get("regions", []))
    voted = sum(int(r.get("voted") or 0) for r in regions)
    roll = sum(int(r.get("roll") or 0) for r in regions)

    def m(key: str, **params: object) -> str:
        return message(messages, key, **params)

    footer = m("charts.card-footer")
    more_rows, more_questions = m("charts.card-more-rows"), m("charts.card-more-questions")
    outcome = status.get("outcome")
    # a poll's outcome (no decision rule) has a null verdict: no verdict on its card
    raw = outcome.get("verdict") if isinstance(outcome, dict) else None
    verdict = None if raw is None else str(raw)
    verdict_text = m(f"verdict.{verdict}") if verdict else None
    turnout = {
        "percent": format_percent(_fraction(voted, roll), lang),
        "voted": format_count(voted, lang),
        "roll": format_count(roll, lang),
    }
    charts = charts_of_status(status, messages) if phase == "done" else []
    if charts:
        state = m("charts.card-done", **turnout)
        return Card(
            lang,
            str(status["title"]),
            state,
            verdict,
            verdict_text,
            charts=tuple(charts),
            more_rows=more_rows,
            more_questions=more_questions,
            footer=footer,
        )
    if phase in ("ceremony", "ready"):
        state = m("charts.card-opens", time=_time(str(record.get("opening", ""))))
    elif phase == "open":
        state = m("charts.card-open-until", time=_time(str(record.get("closing", ""))))
    else:
        state = m("charts.card-counting")
    turnout_text = m("charts.card-turnout", **turnout)
    questions = record.get("questions") or [{}]
    first = questions[0]
    question = str(first.get("question") or first.get("value", {}).get("question") or "")
    return Card(
        lang,
        str(status["title"]),
        state,
        question=question or None,
        turnout=(voted, roll),
        turnout_text=turnout_text,
        note=m("charts.card-encrypted"),
        footer=footer,
    )


def _fraction(n: int, d: int) -> Fraction:
    return Fraction(n, d) if d > 0 else Fraction(0)


# -- fonts ---------------------------------------------------------------------------------------

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def _font_file(bold: bool) -> Path | None:
    for d in FONT_DIRS:
        f = d / (_BOLD if bold else _REGULAR)
        if f.is_file():
            return f
    log.warning(
        "no %s in %s (Debian's fonts-dejavu-core): the result cards use Pillow's default font, "
        "without Cyrillic letters",
        _BOLD if bold else _REGULAR,
        ", ".join(str(d) for d in FONT_DIRS),
    )
    return None


@functools.cache
def font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans (bold) of ``size`` pixels, or Pillow's default font if it is missing."""
    f = _font_file(bold)
    if f is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(f), size)


def _width(text: str, f: Font) -> float:
    return float(f.getlength(text))


def ellipsis(text: str, f: Font, width: float) -> str:
    """``text`` cut with an ellipsis so that it is at most ``width`` pixels wide."""
    text = " ".join(text.split())
    if _width(text, f) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if _width(text[:mid].rstrip() + "…", f) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def wrap(text: str, f: Font, width: float, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of at most ``width`` pixels, broken between words
    (inside a word too long for a line), the last cut with an ellipsis if the rest does not
    fit."""
    words = text.split()
    out: list[str] = []
    current = ""
    k = 0
    while k < len(words) and len(out) < lines:
        word = words[k]
        trial = f"{current} {word}" if current else word
        if _width(trial, f) <= width:
            current, k = trial, k + 1
            continue
        if not current:  # a word wider than the line: cut it
            cut = max(1, len(ellipsis(word, f, width)) - 1)
            out.append(word[:cut])
            words[k] = word[cut:]
            continue
        out.append(current)
        current = ""
    if len(out) < lines and current:
        out.append(current)
        current = ""
    rest = " ".join(([current] if current else []) + words[k:])
    if rest and out:
        out[-1] = ellipsis(f"{out[-1]} {rest}", f, width)
    return out


# -- drawing -------------------------------------------------------------------------------------


def draw(card: Card) -> bytes:
    """The card as PNG bytes, 1200×630."""
    return draw_with_layout(card)[0]


def draw_with_layout(card: Card) -> tuple[bytes, dict[int, tuple[list[str], int]]]:
    """The card as PNG bytes, and for each question whose bars were drawn (by its index) the
    labels of the rows drawn and how many did not fit."""
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, WIDTH, 8), fill=COLOURS["answer"])
    right = WIDTH - MARGIN
    y = 36
    d.text((MARGIN, y), "plebiscite", font=font(24, True), fill=COLOURS["answer"])
    if card.verdict_text:
        _badge(d, card.verdict_text, card.verdict or "", right, y - 6)
    y += 44
    title_font = font(46, True)
    bottom = HEIGHT - 50  # the footer below
    # the title on two lines, or on one where the bars need the room
    need = sum(_HEADING + _GAP + _ROW_MIN * len(c.rows) for c in card.charts)
    lines = 1 if need > bottom - (y + 2 * 56 + 68) else 2
    for line in wrap(card.title, title_font, right - MARGIN, lines):
        d.text((MARGIN, y), line, font=title_font, fill=INK)
        y += 56
    y += 4
    d.text((MARGIN, y), ellipsis(card.state, font(26), right - MARGIN), font=font(26), fill=MUTED)
    y += 44
    d.line((MARGIN, y, right, y), fill=RULE_LINE, width=2)
    y += 20
    layout: dict[int, tuple[list[str], int]] = {}
    if card.charts:
        _charts(d, card, y, bottom, layout)
    else:
        _before(d, card, y, bottom)
    d.text(
        (MARGIN, HEIGHT - 42),
        ellipsis(card.footer, font(20), right - MARGIN),
        font=font(20),
        fill=MUTED,
    )
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=6)  # optimize=True: 3% smaller, 8 times slower
    return out.getvalue(), layout


def _badge(d: ImageDraw.ImageDraw, text: str, verdict: str, right: int, y: int) -> None:
    f = font(26, True)
    w = _width(text, f)
    box = (right - w - 32, y, right, y + 42)
    d.rounded_rectangle(box, radius=10, fill=VERDICT_COLOURS.get(verdict, "#8a5a00"))
    d.text((box[0] + 16, y + 7), text, font=f, fill="white")


def _before(d: ImageDraw.ImageDraw, card: Card, y: int, bottom: int) -> None:
    width = WIDTH - 2 * MARGIN
    if card.question:
        qf = font(32)
        for line in wrap(card.question, qf, width, 2):
            d.text((MARGIN, y), line, font=qf, fill=INK)
            y += 42
        y += 18
    if card.turnout is not None and card.turnout_text:
        voted, roll = card.turnout
        d.text(
            (MARGIN, y),
            ellipsis(card.turnout_text, font(30, True), width),
            font=font(30, True),
            fill=INK,
        )
        y += 48
        d.rounded_rectangle((MARGIN, y, MARGIN + width, y + 28), radius=8, fill=TRACK)
        filled = round(width * voted / roll) if roll > 0 else 0
        if filled > 0:
            d.rounded_rectangle(
                (MARGIN, y, MARGIN + filled, y + 28), radius=8, fill=COLOURS["answer"]
            )
        y += 52
    if card.note and y + 30 <= bottom:
        d.text((MARGIN, y), ellipsis(card.note, font(24), width), font=font(24), fill=MUTED)


def _charts(
    d: ImageDraw.ImageDraw,
    card: Card,
    top: int,
    bottom: int,
    layout: dict[int, tuple[list[str], int]],
) -> None:
    """The bars of the questions, as many as fit between ``top`` and ``bottom`` (what was
    drawn goes to ``layout``)."""
    charts = [c for c in card.charts if c.rows]
    heading = _HEADING
    rows = sum(len(c.rows) for c in charts)
    room = bottom - top - (heading + _GAP) * len(charts)
    h = max(_ROW_MIN, min(48, room // max(1, rows)))
    y = top
    for k, chart in enumerate(charts):
        if y + heading + h > bottom:
            left = len(charts) - k
            _more(d, card.more_questions.replace("{count}", str(left)), y, bottom)
            return
        hf = font(24, True)
        d.text((MARGIN, y), ellipsis(chart.question, hf, WIDTH - 2 * MARGIN), font=hf, fill=INK)
        y += heading
        fit = (bottom - y) // h
        shown: Sequence[Row] = chart.rows
        if len(shown) > fit:  # the last place says how many rows did not fit
            if all(r.kind in ("answer", "blank") for r in shown):  # the most chosen, in order
                best = sorted(range(len(shown)), key=lambda i: -shown[i].count)[: max(0, fit - 1)]
                shown = [shown[i] for i in sorted(best)]
            else:
                shown = chart.rows[: max(0, fit - 1)]
        top_count = max((r.count for r in chart.rows), default=0)
        for row in shown:
            _bar(d, card.lang, row, y, h, top_count)
            y += h
        layout[chart.index] = ([r.label for r in shown], len(chart.rows) - len(shown))
        if len(shown) < len(chart.rows):
            left = len(chart.rows) - len(shown)
            _more(d, card.more_rows.replace("{count}", str(left)), y, bottom)
            y += h
        y += _GAP


def _more(d: ImageDraw.ImageDraw, text: str, y: int, bottom: int) -> None:
    if y + 22 <= bottom:
        d.text((MARGIN, y), text, font=font(20), fill=MUTED)


def _bar(d: ImageDraw.ImageDraw, lang: str, row: Row, y: int, h: int, top: int) -> None:
    size = max(16, min(24, int(h * 0.5)))
    f = font(size, row.kind == "list")
    indent = 24 if row.kind == "candidate" else 0
    label_x, label_w = MARGIN + indent, 330 - indent
    bar_x, value_right = MARGIN + 350, WIDTH - MARGIN
    value = format_count(row.count, lang)
    if row.share is not None:
        value = f"{value} · {format_percent(row.share, lang)}"
    vf = font(size)
    value_w = _width(value, vf)
    bar_w = value_right - 16 - max(value_w, 150) - bar_x
    text_y = y + (h - size) // 2 - 2
    d.text((label_x, text_y), ellipsis(row.label, f, label_w), font=f, fill=INK)
    thick = max(10, h - 12)
    by = y + (h - thick) // 2
    d.rectangle((bar_x, by, bar_x + bar_w, by + thick), fill=TRACK)
    length = round(bar_w * row.count / top) if top > 0 else 0
    if length > 0:
        d.rectangle((bar_x, by, bar_x + length, by + thick), fill=COLOURS[row.kind])
    d.text((value_right - value_w, text_y), value, font=vf, fill=INK)
