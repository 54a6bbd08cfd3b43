"""Homomorphic questions (specification 4.9.1, 4.11.1, 4.12, 4.13): select between ``min`` and
``max`` answers, optionally blank; each answer a ciphertext of 0 or 1 with its proof, an overall
proof of the count, and the blank proof when blank is allowed. The tally is the product of the
ciphertexts; the result a count per answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Group
from plebiscite.crypto.proofs import (
    Proof,
    prove_blank_proof,
    prove_iproof,
    prove_overall_blank_proof,
    verify_blank_proof,
    verify_iproof,
    verify_overall_blank_proof,
)
from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import EncodingError, MembershipError, ProofError
from plebiscite.protocol.jsonvalues import (
    Ciphertext,
    arr,
    ciphertext,
    obj,
    proofs,
    small_int,
)
from plebiscite.protocol.questions.common import (
    answers_of,
    ciphertext_json,
    ciphertexts_text,
    product,
    proof_json,
    proof_of_json,
)

if TYPE_CHECKING:
    from typing import Any

__all__ = ["AnswerH", "QuestionH"]


class AnswerH(NamedTuple):
    choices: tuple[Ciphertext, ...]
    individual_proofs: tuple[tuple[Proof, ...], ...]
    overall_proof: tuple[Proof, ...]
    blank_proof: tuple[Proof, ...] | None

    @property
    def ciphertexts(self) -> tuple[Ciphertext, ...]:
        return self.choices


class QuestionH(NamedTuple):
    question: str
    answers: tuple[str, ...]
    min: int
    max: int
    blank: bool

    # -- the question ------------------------------------------------------------------------
    @staticmethod
    def parse(v: Any, where: str, text: Callable[[Any, str], str]) -> QuestionH:
        o = obj(v, where, ("answers", "min", "max", "question"), ("blank",))
        answers = answers_of(o["answers"], where, text)
        qmin = small_int(o["min"], f"{where}.min", 0, len(answers))
        qmax = small_int(o["max"], f"{where}.max", 0, len(answers))
        if qmin > qmax:
            raise EncodingError(f"min {qmin} is greater than max {qmax}", where=where)
        blank = o.get("blank", False)
        if not isinstance(blank, bool):
            raise EncodingError("blank must be true or false", where=f"{where}.blank")
        return QuestionH(text(o["question"], f"{where}.question"), answers, qmin, qmax, blank)

    @property
    def homomorphic(self) -> bool:
        return True

    @property
    def size(self) -> int:
        """Ciphertexts in an answer (and in the tally): one per answer, and one for blank."""
        return len(self.answers) + (1 if self.blank else 0)

    @property
    def fixed_choices(self) -> int | None:
        """The number of answers every ballot chooses, when the question fixes it (``min`` is
        ``max`` and there is no blank vote): the counts of a tally then add up to it times the
        total weight."""
        return self.min if self.min == self.max and not self.blank else None

    def describe(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answers": list(self.answers),
            "homomorphic": True,
            "min": self.min,
            "max": self.max,
            "blank": self.blank,
        }

    # -- the tally's shape -------------------------------------------------------------------
    def items(self, v: Any, where: str, ballots: int) -> list[tuple[Any, str]]:
        """The values of this question's part of a tally, a decryption or a result."""
        n = self.size
        return [(x, f"{where}[{j}]") for j, x in enumerate(arr(v, where, n, n))]

    def nest(self, flat: Sequence[Any]) -> list[Any]:
        return list(flat)

    # -- the voter's choices -----------------------------------------------------------------
    def choice_problem(self, vote: Any, group: Group) -> str | None:
        n = self.size
        if not isinstance(vote, list) or len(vote) != n or any(type(m) is not int for m in vote):
            return f"expected {n} integers"
        if any(m not in (0, 1) for m in vote):
            return "values must be 0 or 1"
        count = sum(vote[1:] if self.blank else vote)
        if self.blank and vote[0] == 1:
            return "a blank vote selects nothing" if count else None
        if not self.min <= count <= self.max:
            blank = ", or blank" if self.blank else ""
            return f"between {self.min} and {self.max} answers{blank}, not {count}"
        return None

    # -- answers -----------------------------------------------------------------------------
    def parse_answer(self, group: Group, a: Any, w: str) -> tuple[AnswerH, dict[str, Any]]:
        """The answer and its JSON in the spec's field order (what the signature covers)."""
        n = self.size
        keys = ("choices", "individual_proofs", "overall_proof") + (
            ("blank_proof",) if self.blank else ()
        )
        ao = obj(a, w, keys)
        cj = arr(ao["choices"], f"{w}.choices", n, n)
        choices = tuple(
            ciphertext(group, c, f"{w}.choices[{j}]", ballot=True, defer_membership=True)
            for j, c in enumerate(cj)
        )
        ipj = arr(ao["individual_proofs"], f"{w}.individual_proofs", n, n)
        ips = tuple(
            proofs(group, x, f"{w}.individual_proofs[{j}]", 2, 2) for j, x in enumerate(ipj)
        )
        k = self.max - self.min + 1 + (1 if self.blank else 0)
        ov = proofs(group, ao["overall_proof"], f"{w}.overall_proof", k, k)
        bp = proofs(group, ao["blank_proof"], f"{w}.blank_proof", 2, 2) if self.blank else None
        signed: dict[str, Any] = {
            "choices": [ciphertext_json(c) for c in cj],
            "individual_proofs": [[proof_of_json(p) for p in x] for x in ipj],
            "overall_proof": [proof_of_json(p) for p in ao["overall_proof"]],
        }
        if self.blank:
            signed["blank_proof"] = [proof_of_json(p) for p in ao["blank_proof"]]
        return AnswerH(choices, ips, ov, bp), signed

    def verify_answer(self, ctx: Context, S0: str, a: Any) -> None:
        assert isinstance(a, AnswerH)
        group = ctx.group
        for j, ((alpha, beta), ip) in enumerate(zip(a.choices, a.individual_proofs, strict=True)):
            try:
                verify_iproof(ctx, S0, alpha, beta, ip, (0, 1), check_membership=True)
            except (ProofError, MembershipError) as e:
                raise e.at(f"individual proof of choice {j + 1}") from None
        S = f"{S0}|{ciphertexts_text(a.choices)}"
        Ms = range(self.min, self.max + 1)
        if self.blank:
            assert a.blank_proof is not None
            a0, b0 = a.choices[0]
            a_s, b_s = product(a.choices[1:], group)
            verify_blank_proof(ctx, S, a0, b0, a_s, b_s, a.blank_proof)
            verify_overall_blank_proof(ctx, S, a0, b0, a_s, b_s, a.overall_proof, Ms)
        else:
            a_s, b_s = product(a.choices, group)
            verify_iproof(ctx, S, a_s, b_s, a.overall_proof, Ms)

    def make_answer(
        self, ctx: Context, S0: str, vote: Sequence[int], rng: RandomSource, where: str
    ) -> dict[str, Any]:
        group = ctx.group
        q = group.q

        def rand() -> int:
            return rng.below(q)

        def sims(n: int) -> list[Proof]:
            return [Proof(rand(), rand()) for _ in range(n)]

        n = self.size
        if len(vote) != n or any(m not in (0, 1) for m in vote):
            raise ValueError(f"{where}: expected {n} values 0 or 1")
        rs = [rand() for _ in vote]
        cts = [
            (ctx.gpow(r), ctx.mul(ctx.ypow(r), ctx.gpow(m))) for r, m in zip(rs, vote, strict=True)
        ]
        ips = [
            prove_iproof(ctx, S0, a, b, r, m, (0, 1), rand(), sims(1))
            for (a, b), r, m in zip(cts, rs, vote, strict=True)
        ]
        S = f"{S0}|{ciphertexts_text(cts)}"
        Ms = list(range(self.min, self.max + 1))
        answer: dict[str, Any] = {
            "choices": [{"alpha": str(a), "beta": str(b)} for a, b in cts],
            "individual_proofs": [[proof_json(x) for x in ip] for ip in ips],
        }
        if self.blank:
            m0, rest = vote[0], vote[1:]
            r0, rsum = rs[0], sum(rs[1:]) % q
            msum = sum(rest)
            ct_s = product(cts[1:], group)
            if m0 == 1 and msum != 0:
                raise ValueError(f"{where}: a blank vote selects nothing")
            if m0 == 0 and msum not in Ms:
                raise ValueError(f"{where}: between {self.min} and {self.max} answers, or blank")
            bp = prove_blank_proof(
                ctx, S, cts[0], ct_s, m0 == 1, rsum if m0 else r0, rand(), Proof(rand(), rand())
            )
            real = 0 if m0 else Ms.index(msum) + 1
            ov = prove_overall_blank_proof(
                ctx, S, cts[0], ct_s, Ms, real, r0 if m0 else rsum, rand(), sims(len(Ms))
            )
            answer["overall_proof"] = [proof_json(x) for x in ov]
            answer["blank_proof"] = [proof_json(x) for x in bp]
        else:
            msum = sum(vote)
            if msum not in Ms:
                raise ValueError(f"{where}: between {self.min} and {self.max} answers")
            a_s, b_s = product(cts, group)
            ov = prove_iproof(
                ctx, S, a_s, b_s, sum(rs) % q, Ms.index(msum), Ms, rand(), sims(len(Ms) - 1)
            )
            answer["overall_proof"] = [proof_json(x) for x in ov]
        return answer
