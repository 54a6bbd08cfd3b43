"""Lists questions (specification 4.9.3, 4.11.3, 4.14, 4.15): choose one list and at least one
of its candidates. The answer holds a ciphertext of 0 or 1 for each list and each candidate,
with individual proofs, an overall proof that exactly one list is chosen, for each list a proof
that it is chosen or none of its candidates is, and a proof that some candidate is chosen. The
tally and the result have the shape of ``answers``: one row per list, the list first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Group
from plebiscite.crypto.proofs import (
    NonzeroProof,
    Proof,
    prove_iproof,
    prove_list_proof,
    prove_nonzero_proof,
    verify_iproof,
    verify_list_proof,
    verify_nonzero_proof,
)
from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import EncodingError, MembershipError, ProofError
from plebiscite.protocol.jsonvalues import (
    LIMITS,
    Ciphertext,
    arr,
    ciphertext,
    items,
    obj,
    proof,
    proofs,
)
from plebiscite.protocol.questions.common import (
    ciphertext_json,
    ciphertexts_text,
    ordered,
    product,
    proof_json,
    proof_of_json,
)

if TYPE_CHECKING:
    from typing import Any

__all__ = ["AnswerL", "QuestionL"]


TYPE = "Lists"  # the type of its question_gen


class AnswerL(NamedTuple):
    choices: tuple[tuple[Ciphertext, ...], ...]
    individual_proofs: tuple[tuple[tuple[Proof, ...], ...], ...]
    overall_proof: Proof
    list_proofs: tuple[tuple[Proof, ...], ...]
    nonzero_proof: NonzeroProof

    @property
    def ciphertexts(self) -> tuple[Ciphertext, ...]:
        """Every ciphertext, list by list (the order of the tally)."""
        return tuple(c for row in self.choices for c in row)


class QuestionL(NamedTuple):
    question: str
    answers: tuple[tuple[str, ...], ...]  # each list: its name, then its candidates

    @staticmethod
    def parse(o: dict[str, Any], where: str, text: Callable[[Any, str], str]) -> QuestionL:
        w = f"{where}.value"
        v = obj(o["value"], w, ("answers", "question"))
        wa = f"{w}.answers"
        rows = arr(v["answers"], wa, LIMITS.answers)
        if not rows:
            raise EncodingError("a Lists question needs at least one list", where=wa)
        answers = tuple(
            items(arr(row, f"{wa}[{i}]", LIMITS.answers), f"{wa}[{i}]", text)
            for i, row in enumerate(rows)
        )
        for i, row in enumerate(answers):
            if len(row) < 2:
                raise EncodingError(
                    "a list needs its name and at least one candidate", where=f"{wa}[{i}]"
                )
        if sum(len(r) for r in answers) > LIMITS.answers:
            raise EncodingError(f"more than {LIMITS.answers} lists and candidates", where=wa)
        return QuestionL(text(v["question"], f"{w}.question"), answers)

    @property
    def homomorphic(self) -> bool:
        return True

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(row) for row in self.answers)

    @property
    def size(self) -> int:
        return sum(self.shape)

    def describe(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answers": [list(row) for row in self.answers],
            "homomorphic": True,
            "type": "Lists",
        }

    # -- the tally's shape -------------------------------------------------------------------
    def items(self, v: Any, where: str, ballots: int) -> list[tuple[Any, str]]:
        shape = self.shape
        out: list[tuple[Any, str]] = []
        for i, (row, n) in enumerate(
            zip(arr(v, where, len(shape), len(shape)), shape, strict=True)
        ):
            wi = f"{where}[{i}]"
            out.extend((x, f"{wi}[{j}]") for j, x in enumerate(arr(row, wi, n, n)))
        return out

    def nest(self, flat: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        k = 0
        for n in self.shape:
            out.append(list(flat[k : k + n]))
            k += n
        return out

    # -- the voter's choices -----------------------------------------------------------------
    def choice_problem(self, vote: Any, group: Group) -> str | None:
        shape = self.shape
        if (
            not isinstance(vote, list)
            or len(vote) != len(shape)
            or any(
                not isinstance(row, list) or len(row) != n
                for row, n in zip(vote, shape, strict=True)
            )
            or any(type(m) is not int or m not in (0, 1) for row in vote for m in row)
        ):
            return f"expected {len(shape)} lists of 0 or 1, of lengths {list(shape)}"
        chosen = [i for i, row in enumerate(vote) if row[0] == 1]
        if len(chosen) != 1:
            return "choose exactly one list"
        if any(sum(row[1:]) for i, row in enumerate(vote) if i != chosen[0]):
            return "candidates can be chosen only on the chosen list"
        if not sum(vote[chosen[0]][1:]):
            return "choose at least one candidate of the chosen list"
        return None

    # -- answers -----------------------------------------------------------------------------
    def parse_answer(self, group: Group, a: Any, w: str) -> tuple[AnswerL, dict[str, Any]]:
        shape = self.shape
        ao = obj(
            a, w, ("choices", "individual_proofs", "overall_proof", "list_proofs", "nonzero_proof")
        )
        nl = len(shape)
        cj = arr(ao["choices"], f"{w}.choices", nl, nl)
        ipj = arr(ao["individual_proofs"], f"{w}.individual_proofs", nl, nl)
        choices: list[tuple[Ciphertext, ...]] = []
        ips: list[tuple[tuple[Proof, ...], ...]] = []
        for i, n in enumerate(shape):
            wc, wp = f"{w}.choices[{i}]", f"{w}.individual_proofs[{i}]"
            row = arr(cj[i], wc, n, n)
            choices.append(
                tuple(
                    ciphertext(group, c, f"{wc}[{j}]", ballot=True, defer_membership=True)
                    for j, c in enumerate(row)
                )
            )
            prow = arr(ipj[i], wp, n, n)
            ips.append(tuple(proofs(group, x, f"{wp}[{j}]", 2, 2) for j, x in enumerate(prow)))
        ov = proof(group, ao["overall_proof"], f"{w}.overall_proof")
        lpj = arr(ao["list_proofs"], f"{w}.list_proofs", nl, nl)
        lps = tuple(proofs(group, x, f"{w}.list_proofs[{i}]", 2, 2) for i, x in enumerate(lpj))
        wn = f"{w}.nonzero_proof"
        nz = obj(ao["nonzero_proof"], wn, ("commitment", "challenge", "response"))
        t = arr(nz["response"], f"{wn}.response", 2, 2)
        nonzero = NonzeroProof(
            group.element(nz["commitment"], where=f"{wn}.commitment"),
            group.scalar(nz["challenge"], where=f"{wn}.challenge"),
            (
                group.scalar(t[0], where=f"{wn}.response[0]"),
                group.scalar(t[1], where=f"{wn}.response[1]"),
            ),
        )
        signed: dict[str, Any] = {
            "choices": [[ciphertext_json(c) for c in row] for row in cj],
            "individual_proofs": [[[proof_of_json(p) for p in x] for x in row] for row in ipj],
            "overall_proof": proof_of_json(ao["overall_proof"]),
            "list_proofs": [[proof_of_json(p) for p in x] for x in lpj],
            "nonzero_proof": ordered(ao["nonzero_proof"], ("commitment", "challenge", "response")),
        }
        return AnswerL(tuple(choices), tuple(ips), ov, lps, nonzero), signed

    def verify_answer(self, ctx: Context, S0: str, a: Any) -> None:
        assert isinstance(a, AnswerL)
        group = ctx.group
        for i, (row, prow) in enumerate(zip(a.choices, a.individual_proofs, strict=True)):
            for j, ((alpha, beta), ip) in enumerate(zip(row, prow, strict=True)):
                try:
                    verify_iproof(ctx, S0, alpha, beta, ip, (0, 1), check_membership=True)
                except (ProofError, MembershipError) as e:
                    what = "list" if j == 0 else f"candidate {j}"
                    raise e.at(f"individual proof of list {i + 1}, {what}") from None
        S = f"{S0}|{ciphertexts_text(a.ciphertexts)}"
        heads = product([row[0] for row in a.choices], group)
        try:
            verify_iproof(ctx, S, heads[0], heads[1], (a.overall_proof,), (1,))
        except ProofError:
            raise ProofError("overall proof (exactly one list) does not verify") from None
        for i, (row, lp) in enumerate(zip(a.choices, a.list_proofs, strict=True)):
            try:
                verify_list_proof(ctx, S, row[0], product(row[1:], group), lp)
            except ProofError as e:
                raise e.at(f"list proof of list {i + 1}") from None
        candidates = product([c for row in a.choices for c in row[1:]], group)
        verify_nonzero_proof(ctx, S, candidates[0], candidates[1], a.nonzero_proof)

    def make_answer(
        self, ctx: Context, S0: str, vote: Sequence[Sequence[int]], rng: RandomSource, where: str
    ) -> dict[str, Any]:
        problem = self.choice_problem([list(row) for row in vote], ctx.group)
        if problem is not None:
            raise ValueError(f"{where}: {problem}")
        group = ctx.group
        q = group.q

        def rand() -> int:
            return rng.below(q)

        rs = [[rand() for _ in row] for row in vote]
        cts = [
            [
                (ctx.gpow(r), ctx.mul(ctx.ypow(r), ctx.gpow(m)))
                for r, m in zip(rrow, mrow, strict=True)
            ]
            for rrow, mrow in zip(rs, vote, strict=True)
        ]
        ips = [
            [
                prove_iproof(ctx, S0, a, b, r, m, (0, 1), rand(), [Proof(rand(), rand())])
                for (a, b), r, m in zip(crow, rrow, mrow, strict=True)
            ]
            for crow, rrow, mrow in zip(cts, rs, vote, strict=True)
        ]
        flat = [c for row in cts for c in row]
        S = f"{S0}|{ciphertexts_text(flat)}"
        heads = product([row[0] for row in cts], group)
        (ov,) = prove_iproof(
            ctx, S, heads[0], heads[1], sum(r[0] for r in rs) % q, 0, (1,), rand(), []
        )
        lps = []
        for crow, rrow, mrow in zip(cts, rs, vote, strict=True):
            selected = mrow[0] == 1
            secret = rrow[0] if selected else sum(rrow[1:]) % q
            lps.append(
                prove_list_proof(
                    ctx,
                    S,
                    crow[0],
                    product(crow[1:], group),
                    selected,
                    secret,
                    rand(),
                    Proof(rand(), rand()),
                )
            )
        cand = product([c for row in cts for c in row[1:]], group)
        r_cand = sum(r for row in rs for r in row[1:]) % q
        s = 1 + rng.below(q - 1)
        nz = prove_nonzero_proof(ctx, S, cand[0], cand[1], r_cand, s, rand(), rand())
        return {
            "choices": [[{"alpha": str(a), "beta": str(b)} for a, b in row] for row in cts],
            "individual_proofs": [[[proof_json(x) for x in ip] for ip in row] for row in ips],
            "overall_proof": proof_json(ov),
            "list_proofs": [[proof_json(x) for x in lp] for lp in lps],
            "nonzero_proof": {
                "commitment": str(nz.commitment),
                "challenge": str(nz.challenge),
                "response": [str(nz.response[0]), str(nz.response[1])],
            },
        }
