"""Benaloh's challenge ("audit this ballot"): checking a ballot that reveals its randomness.

Before casting, the voting booth commits to a ballot by showing its smart ballot tracker. The
voter may then cast it, or audit it: the booth reveals the randomness of every ciphertext, the
ballot is *not* cast, and anyone re-encrypts the stated choices with that randomness and
compares with the ballot's ciphertexts. A booth that encrypted other choices than the voter's
is caught with probability one half each time it is audited. The booth then encrypts again
with fresh randomness.

The audit object (JSON) is what the browser booth's ``makeBallot`` returns as ``audit``
(``static/js/belenios/booth-core.js``)::

    {
      "election_uuid": "<uuid of the election>",
      "election_hash": "<fingerprint of the election, H_JSON of its text>",
      "tracker": "<smart ballot tracker of the audited ballot>",
      "answers": [                      # one per question, in order
        {"choices": [0, 1, 0],          # homomorphic question: one 0/1 per answer, with blank
         "randomness": ["r1", "r2", "r3"]},  # allowed a leading 0/1 for blank; one r per
                                             # ciphertext, decimal strings below q
        {"choices": [2, 1, 3],          # non-homomorphic question: the small integers
         "randomness": ["r"],           # the one ciphertext's r
         "epsilon": 5},                 # and the padding of group_encode (section 4.11.2)
        {"choices": [[0, 0, 0], [1, 1, 0, 1]],   # Lists question: the vote's rows (each
         "randomness": [["r", "r", "r"],          # list's 0/1 first, then its candidates'),
                        ["r", "r", "r", "r"]]}    # one r per ciphertext in the same shape
      ]
    }

A homomorphic ciphertext ``(alpha, beta)`` is checked as ``alpha = g^r`` and
``beta = y^r g^m``; a non-homomorphic one as ``alpha = g^r`` and
``beta = y^r (encode(choices) * 2^padding + epsilon)``. With the right ``r``, ``beta / y^r``
decrypts the ciphertext, so a mismatch says what the ballot really encrypts.

The audit reveals nothing of the credential: the randomness of the signature is never
revealed. But the audited ballot is still signed with the voter's credential: whoever gets it
could cast it later in the voter's name, replacing the voter's real ballot (a revote). So the
audit data stays with the voter (this module, ``plebiscite voter-audit`` and ``/audit`` all
run on the voter's own machine), and a voter who shared it casts again at the end.

:func:`check_audit` returns every problem found, each with the question (1-based), the answer
(1-based answer number, 0 for the blank slot, ``None`` for the whole question; for a Lists
question also ``list``, the 1-based list, and ``answer`` 0 for the list itself, j for its
candidate j) and a code:

``audit_format``, ``tracker``, ``election_mismatch``, ``ballot`` (the ballot does not parse),
``choices`` (the audit's choices are not a valid vote), ``randomness`` (``g^r`` is not the
ballot's ``alpha``), ``plaintext`` (the ballot encrypts something else), ``proof`` (a proof or
the signature of the ballot does not verify). The browser's ``checkAudit`` gives the same
codes and numbering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from plebiscite.crypto.context import Context
from plebiscite.crypto.hashing import h_json
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.ballot import AnswerH, AnswerL, parse_ballot, verify_ballot
from plebiscite.protocol.messages import Election, QuestionL

__all__ = ["AuditProblem", "AuditReport", "check_audit", "choice_problems"]

_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")


@dataclass(frozen=True)
class AuditProblem:
    question: int | None  # 1-based
    answer: int | None  # 1-based answer number, 0 for the blank slot (Lists: see list)
    code: str
    message: str
    list: int | None = None  # Lists: the 1-based list; answer 0 the list, j its candidate j

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "code": self.code,
            "message": self.message,
        }
        if self.list is not None:
            out["list"] = self.list
        return out


@dataclass
class AuditReport:
    tracker: str
    problems: list[AuditProblem] = field(default_factory=list)
    ciphertexts: int = 0  # how many ciphertexts were recomputed

    @property
    def ok(self) -> bool:
        return not self.problems


def choice_problems(election: Election, choices: Any) -> list[tuple[int | None, str]]:
    """Why ``choices`` (belenios-tool's shape) are not a valid vote: (question, message) pairs,
    as the browser's ``checkChoices``."""
    qs = election.questions
    if not isinstance(choices, list) or len(choices) != len(qs):
        return [(None, f"expected answers to {len(qs)} questions")]
    out: list[tuple[int | None, str]] = []
    for i, (q, vote) in enumerate(zip(qs, choices, strict=True)):
        problem = q.choice_problem(vote, election.group)
        if problem is not None:
            out.append((i + 1, f"question {i + 1}: {problem}"))
    return out


def _flat(q: Any, v: Any) -> list[Any] | None:
    """An answer's values in the order of its ciphertexts (a Lists question's rows joined), or
    None when they do not have the question's shape."""
    if not isinstance(q, QuestionL):
        return v if isinstance(v, list) else None
    if not isinstance(v, list) or len(v) != len(q.shape):
        return None
    if any(not isinstance(row, list) or len(row) != n for row, n in zip(v, q.shape, strict=True)):
        return None
    return [x for row in v for x in row]


def _label(q: Any, j: int) -> tuple[int | None, int, str]:
    """The list (Lists questions, else None), the answer number and the label of the
    ``j``-th ciphertext of an answer to ``q``."""
    if isinstance(q, QuestionL):
        for i, n in enumerate(q.shape):
            if j < n:
                return i + 1, j, f"list {i + 1}" if j == 0 else f"list {i + 1}, candidate {j}"
            j -= n
    answer = j if q.blank else j + 1
    return None, answer, "blank" if q.blank and j == 0 else f"answer {answer}"


def _shape(election: Election, audit: Any) -> str | None:
    """What is wrong with the shape of the audit object, or None."""
    if not isinstance(audit, dict):
        return "expected a JSON object"
    for k in ("election_uuid", "election_hash", "tracker", "answers"):
        if k not in audit:
            return f"missing field {k!r}"
    answers = audit["answers"]
    if not isinstance(answers, list) or len(answers) != len(election.questions):
        return f"expected {len(election.questions)} answers"
    group = election.group
    for i, (a, q) in enumerate(zip(answers, election.questions, strict=True)):
        where = f"question {i + 1}"
        if (
            not isinstance(a, dict)
            or not isinstance(a.get("choices"), list)
            or not isinstance(a.get("randomness"), list)
        ):
            return f"{where}: expected {{choices, randomness}}"
        n = q.size
        randomness = _flat(q, a["randomness"])
        if randomness is None or len(randomness) != n:
            return f"{where}: expected {n} random numbers"
        for r in randomness:
            if not isinstance(r, str) or len(r) > group.scalar_digits or not _DECIMAL.match(r):
                return f"{where}: randomness must be decimal numbers in strings"
            if int(r) >= group.q:
                return f"{where}: randomness must be below q"
        if not q.homomorphic:
            bits = group.embedding.padding if group.embedding else 0
            eps = a.get("epsilon")
            if type(eps) is not int or not 0 <= eps < 1 << bits:
                return f"{where}: expected the padding epsilon, an integer of {bits} bits"
    return None


def check_audit(election: Election, ballot_raw: bytes, audit: Any) -> AuditReport:
    """Check an audited ballot (see the module's documentation); never raises on bad input."""
    raw = ballot_raw.strip()
    report = AuditReport(tracker=h_json(raw))
    problems = report.problems

    def add(
        question: int | None, answer: int | None, code: str, message: str, lst: int | None = None
    ) -> None:
        problems.append(AuditProblem(question, answer, code, message, lst))

    shape = _shape(election, audit)
    if shape is not None:
        add(None, None, "audit_format", f"audit: {shape}")
        return report
    if audit["tracker"] != report.tracker:
        add(
            None,
            None,
            "tracker",
            f"the ballot's tracker is {report.tracker}, the audit names {audit['tracker']}",
        )
    if audit["election_uuid"] != election.uuid or audit["election_hash"] != election.fingerprint:
        add(None, None, "election_mismatch", "the audit is for another election")
    try:
        ballot = parse_ballot(raw, election)
    except PlebisciteError as e:
        add(None, None, "ballot", str(e))
        return report
    answers: list[dict[str, Any]] = audit["answers"]
    for question, message in choice_problems(election, [a["choices"] for a in answers]):
        add(question, None, "choices", f"the audit's choices are not valid: {message}")

    group = election.group
    ctx = Context(group, election.public_key)
    for i, (q, a, ans) in enumerate(zip(election.questions, answers, ballot.answers, strict=True)):
        question = i + 1
        if isinstance(ans, AnswerH | AnswerL):
            choices = _flat(q, a["choices"])
            randomness = _flat(q, a["randomness"])
            if choices is None or randomness is None or len(choices) != len(ans.ciphertexts):
                continue  # reported by choice_problems
            for j, (alpha, beta) in enumerate(ans.ciphertexts):
                report.ciphertexts += 1
                lst, answer, label = _label(q, j)
                r = int(randomness[j])
                if ctx.gpow(r) != alpha:
                    add(
                        question,
                        answer,
                        "randomness",
                        f"question {question}, {label}: the revealed randomness does not give "
                        "this ciphertext",
                        lst,
                    )
                    continue
                gm = ctx.div(beta, ctx.ypow(r))
                m = 0 if gm == group.one else 1 if gm == group.g else None
                if m != choices[j]:
                    what = "neither 0 nor 1" if m is None else str(m)
                    add(
                        question,
                        answer,
                        "plaintext",
                        f"question {question}, {label}: the ballot encrypts {what}, "
                        f"the audit says {choices[j]}",
                        lst,
                    )
        else:
            report.ciphertexts += 1
            alpha, beta = ans.choices
            r = int(a["randomness"][0])
            if ctx.gpow(r) != alpha:
                add(
                    question,
                    None,
                    "randomness",
                    f"question {question}: the revealed randomness does not give this ciphertext",
                )
                continue
            emb = group.embedding
            assert emb is not None
            if len(a["choices"]) != len(q.answers) or any(
                type(v) is not int or not 0 <= v < 1 << emb.bits_per_int for v in a["choices"]
            ):
                continue  # reported by choice_problems
            xi = group.embed([int(v) for v in a["choices"]], a["epsilon"])
            if xi is None or ctx.mul(ctx.ypow(r), xi) != beta:
                add(
                    question,
                    None,
                    "plaintext",
                    f"question {question}: the ballot does not encrypt the audit's values",
                )
    try:
        verify_ballot(ballot, election, ctx)
    except PlebisciteError as e:
        add(_question_of(e.where), None, "proof", f"the ballot is not valid: {e}")
    return report


def _question_of(where: str) -> int | None:
    m = re.search(r"question (\d+)", where)
    return int(m.group(1)) if m else None
