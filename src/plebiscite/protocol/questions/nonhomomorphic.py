"""Non-homomorphic questions (specification 4.9.2, 4.11.2): the whole answer, a vector of small
integers (a ranking, grades), embedded in one group element and encrypted with a proof of
knowledge of the randomness. The tally is the list of ciphertexts, shuffled by the trustees
before decryption; the result the list of the decrypted vectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Group
from plebiscite.crypto.proofs import Proof, prove_raweg, verify_raweg
from plebiscite.crypto.rand import RandomSource
from plebiscite.protocol.jsonvalues import Ciphertext, arr, ciphertext, obj, proof
from plebiscite.protocol.questions.common import (
    answers_of,
    ciphertext_json,
    proof_json,
    proof_of_json,
)

if TYPE_CHECKING:
    from typing import Any

__all__ = ["AnswerNH", "QuestionNH"]


TYPE = "NonHomomorphic"  # the type of its question_gen


class AnswerNH(NamedTuple):
    choices: Ciphertext
    proof: Proof

    @property
    def ciphertexts(self) -> tuple[Ciphertext, ...]:
        return (self.choices,)


class QuestionNH(NamedTuple):
    question: str
    answers: tuple[str, ...]
    extra: Any = None  # a hint on the counting method (3.x; any JSON value, not interpreted)

    @staticmethod
    def parse(o: dict[str, Any], where: str, text: Callable[[Any, str], str]) -> QuestionNH:
        """From the ``question_gen`` object ``o`` (its ``type`` already read)."""
        w = f"{where}.value"
        nh = obj(o["value"], w, ("answers", "question"))
        return QuestionNH(
            text(nh["question"], f"{w}.question"),
            answers_of(nh["answers"], w, text),
            o.get("extra"),
        )

    @property
    def homomorphic(self) -> bool:
        return False

    @property
    def size(self) -> int:
        return 1

    def describe(self) -> dict[str, Any]:
        return {"question": self.question, "answers": list(self.answers), "homomorphic": False}

    def items(self, v: Any, where: str, ballots: int) -> list[tuple[Any, str]]:
        """One value per ballot counted (the tally is not a product)."""
        return [(x, f"{where}[{j}]") for j, x in enumerate(arr(v, where, ballots, ballots))]

    def nest(self, flat: Sequence[Any]) -> list[Any]:
        return list(flat)

    def choice_problem(self, vote: Any, group: Group) -> str | None:
        n = len(self.answers)
        if not isinstance(vote, list) or len(vote) != n or any(type(m) is not int for m in vote):
            return f"expected {n} integers"
        emb = group.embedding
        bits = emb.bits_per_int if emb else 0
        if any(not 0 <= m < 1 << bits for m in vote):
            return f"values must fit in {bits} bits"
        return None

    def parse_answer(self, group: Group, a: Any, w: str) -> tuple[AnswerNH, dict[str, Any]]:
        ao = obj(a, w, ("choices", "proof"))
        answer = AnswerNH(
            ciphertext(group, ao["choices"], f"{w}.choices", ballot=True),
            proof(group, ao["proof"], f"{w}.proof"),
        )
        return answer, {
            "choices": ciphertext_json(ao["choices"]),
            "proof": proof_of_json(ao["proof"]),
        }

    def verify_answer(self, ctx: Context, S0: str, a: Any) -> None:
        assert isinstance(a, AnswerNH)
        alpha, beta = a.choices
        verify_raweg(ctx, S0, alpha, beta, a.proof)

    def make_answer(
        self, ctx: Context, S0: str, vote: Sequence[int], rng: RandomSource, where: str
    ) -> dict[str, Any]:
        group = ctx.group
        if len(vote) != len(self.answers):
            raise ValueError(f"{where}: expected {len(self.answers)} values")
        if group.embedding is None:
            raise ValueError(f"group {group.name} has no embedding")
        xi = group.of_ints(vote, rng)
        r = rng.below(group.q)
        a, b = ctx.gpow(r), ctx.mul(ctx.ypow(r), xi)
        pr = prove_raweg(ctx, S0, a, b, r, rng.below(group.q))
        return {"choices": {"alpha": str(a), "beta": str(b)}, "proof": proof_json(pr)}
