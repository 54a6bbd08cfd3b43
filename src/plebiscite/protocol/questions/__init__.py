"""The kinds of question: one module each, with the same interface.

Every question class parses itself (:meth:`parse`), says whether its tally is a product
(``homomorphic``) and how many ciphertexts an answer holds (``size``), reads and rebuilds its
part of a tally, a decryption or a result (:meth:`items`, :meth:`nest`), checks a voter's
choices (:meth:`choice_problem`), and parses, verifies and makes answers (:meth:`parse_answer`,
:meth:`verify_answer`, :meth:`make_answer`). A new kind of question is one more module here and
its entry in :data:`KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable

from plebiscite._records import TYPE_CHECKING
from plebiscite.errors import EncodingError
from plebiscite.protocol.jsonvalues import obj
from plebiscite.protocol.questions import lists, nonhomomorphic
from plebiscite.protocol.questions.homomorphic import AnswerH, QuestionH
from plebiscite.protocol.questions.lists import AnswerL, QuestionL
from plebiscite.protocol.questions.nonhomomorphic import AnswerNH, QuestionNH

if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "KINDS",
    "Answer",
    "AnswerH",
    "AnswerL",
    "AnswerNH",
    "Question",
    "QuestionH",
    "QuestionL",
    "QuestionNH",
    "parse_question",
]

Question = QuestionH | QuestionNH | QuestionL
Answer = AnswerH | AnswerNH | AnswerL

#: the kinds written as ``{"type": ..., "value": ..., "extra"?: ...}`` (``question_gen``)
KINDS: dict[str, Callable[[dict[str, Any], str, Callable[[Any, str], str]], Question]] = {
    nonhomomorphic.TYPE: QuestionNH.parse,
    lists.TYPE: QuestionL.parse,
}


def parse_question(v: Any, where: str, text: Callable[[Any, str], str]) -> Question:
    """A question of an election (section 4.9): homomorphic ones are written directly, the
    other kinds inside ``question_gen``. ``text`` checks the question and every answer."""
    if isinstance(v, dict) and "type" in v:
        o = obj(v, where, ("type", "value"), ("extra",))
        parse = KINDS.get(o["type"]) if isinstance(o["type"], str) else None
        if parse is None:
            raise EncodingError(f"unknown question type {o['type']!r}", where=f"{where}.type")
        return parse(o, where, text)
    return QuestionH.parse(v, where, text)
