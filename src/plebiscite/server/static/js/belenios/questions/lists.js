// Lists questions (specification 4.9.3, 4.11.3, 4.14, 4.15), as
// src/plebiscite/protocol/questions/lists.py: choose one list and at least one of its
// candidates. `answers` is [[list name, candidate, ...], ...]; the vote has the same shape, a
// 0/1 for each list (first in its row) and each candidate. The answer holds a ciphertext of
// 0 or 1 for each, with individual proofs, an overall proof that exactly one list is chosen
// (one proof object), for each list a proof that it is chosen or none of its candidates is,
// and a proof that some candidate is chosen. The interface: see common.js.

import {
  auditBits,
  ctJson,
  encryptBit,
  expectArray,
  expectKeys,
  fail,
  literal,
  message,
  onlyKeys,
  parseCiphertext,
  parseProof,
  parseProofs,
  proofJson,
  questionText,
  randomnessProblem,
  simulated,
  statement,
  sumMod,
} from "./common.js";
import {
  product,
  proveIproof,
  proveListProof,
  proveNonzeroProof,
  verifyIproof,
  verifyListProof,
  verifyNonzeroProof,
} from "../proofs.js";

const MAX_ANSWERS = 1024; // LIMITS.answers of src/plebiscite/protocol/jsonvalues.py

/** `v` has the shape `shape` (rows of these lengths), or null; its values flattened. */
function flat(v, shape) {
  if (!Array.isArray(v) || v.length !== shape.length) return null;
  if (shape.some((n, i) => !Array.isArray(v[i]) || v[i].length !== n)) return null;
  return v.flat();
}

export class ListsQuestion {
  static TYPE = "Lists"; // the type of its question_gen

  constructor(question, answers) {
    this.kind = ListsQuestion.TYPE;
    this.homomorphic = true;
    this.question = question;
    this.answers = answers; // each list: its name, then its candidates
    this.shape = answers.map((row) => row.length);
  }

  static parse(v, where) {
    onlyKeys(v.value, where, ["answers", "question"]);
    const question = questionText(v.value.question, where);
    const rows = v.value.answers;
    if (!Array.isArray(rows) || rows.length === 0) {
      fail(`${where}: a Lists question needs at least one list`);
    }
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.some((a) => typeof a !== "string")) {
        fail(`${where}.answers[${i}]: expected a list of strings`);
      }
      if (row.length < 2) {
        fail(`${where}.answers[${i}]: a list needs its name and at least one candidate`);
      }
    });
    if (rows.reduce((s, row) => s + row.length, 0) > MAX_ANSWERS) {
      fail(`${where}: more than ${MAX_ANSWERS} lists and candidates`);
    }
    return new ListsQuestion(
      question,
      rows.map((row) => [...row]),
    );
  }

  get size() {
    return this.shape.reduce((s, n) => s + n, 0);
  }

  checkGroup() {}

  describe() {
    return {
      question: this.question,
      answers: this.answers.map((row) => [...row]),
      homomorphic: true,
      type: ListsQuestion.TYPE,
    };
  }

  // -- the booth ---------------------------------------------------------------------------

  form() {
    return {
      widget: "lists",
      hint: [message("booth.hint-lists")],
      lists: this.answers.map(([name, ...candidates]) => ({
        name: literal(name),
        candidates: candidates.map(literal),
      })),
    };
  }

  choiceProblem(vote) {
    const { shape } = this;
    if (
      flat(vote, shape) === null ||
      vote.some((row) => row.some((m) => !Number.isInteger(m) || (m !== 0 && m !== 1)))
    ) {
      return {
        code: "shape",
        message: `expected ${shape.length} lists of 0 or 1, of lengths [${shape.join(", ")}]`,
      };
    }
    const chosen = vote.flatMap((row, i) => (row[0] === 1 ? [i] : []));
    if (chosen.length !== 1) {
      return { code: "list_count", count: chosen.length, message: "choose exactly one list" };
    }
    const [c] = chosen;
    const sum = (row) => row.slice(1).reduce((s, m) => s + m, 0);
    const other = vote.findIndex((row, i) => i !== c && sum(row) > 0);
    if (other >= 0) {
      return {
        code: "other_list",
        list: other + 1,
        chosen: c + 1,
        message: "candidates can be chosen only on the chosen list",
      };
    }
    if (sum(vote[c]) === 0) {
      return {
        code: "no_candidate",
        list: c + 1,
        message: "choose at least one candidate of the chosen list",
      };
    }
    return null;
  }

  voterMessage(p) {
    const name = (i) => this.answers[i - 1]?.[0] ?? String(i);
    switch (p.code) {
      case "list_count":
        return message(p.count === 0 ? "booth.lists-choose-list" : "booth.lists-one-list");
      case "other_list":
        return message("booth.lists-other-list", { list: name(p.list), chosen: name(p.chosen) });
      case "no_candidate":
        return message("booth.lists-no-candidate", { list: name(p.list) });
      case "shape":
        return message("booth.lists-shape");
      default:
        return null;
    }
  }

  review(vote) {
    const i = vote.findIndex((row) => row?.[0] === 1);
    if (i < 0) return [message("audit.nothing")];
    const [name, ...candidates] = this.answers[i];
    return [
      message("audit.list-vote", { list: name }),
      ...candidates.filter((_, j) => vote[i][j + 1] === 1).map(literal),
    ];
  }

  // -- answers -----------------------------------------------------------------------------

  parseAnswer(group, a, where) {
    const { shape } = this;
    const nl = shape.length;
    expectKeys(a, where, [
      "choices",
      "individual_proofs",
      "overall_proof",
      "list_proofs",
      "nonzero_proof",
    ]);
    const cj = expectArray(a.choices, `${where}.choices`, nl);
    const ipj = expectArray(a.individual_proofs, `${where}.individual_proofs`, nl);
    const choices = shape.map((n, i) =>
      expectArray(cj[i], `${where}.choices[${i}]`, n).map((c, j) =>
        parseCiphertext(group, c, `${where}.choices[${i}][${j}]`),
      ),
    );
    const individualProofs = shape.map((n, i) =>
      expectArray(ipj[i], `${where}.individual_proofs[${i}]`, n).map((x, j) =>
        parseProofs(group, x, `${where}.individual_proofs[${i}][${j}]`, 2),
      ),
    );
    const overallProof = parseProof(group, a.overall_proof, `${where}.overall_proof`);
    const listProofs = expectArray(a.list_proofs, `${where}.list_proofs`, nl).map((x, i) =>
      parseProofs(group, x, `${where}.list_proofs[${i}]`, 2),
    );
    const wn = `${where}.nonzero_proof`;
    expectKeys(a.nonzero_proof, wn, ["commitment", "challenge", "response"]);
    const nz = a.nonzero_proof;
    const t = expectArray(nz.response, `${wn}.response`, 2);
    return {
      choices,
      ciphertexts: choices.flat(), // list by list: the order of the tally and of S
      individualProofs,
      overallProof,
      listProofs,
      nonzeroProof: {
        commitment: group.element(nz.commitment, `${wn}.commitment`),
        challenge: group.scalar(nz.challenge, `${wn}.challenge`),
        response: [
          group.scalar(t[0], `${wn}.response[0]`),
          group.scalar(t[1], `${wn}.response[1]`),
        ],
      },
    };
  }

  async verifyAnswer(ctx, S0, a) {
    const out = [];
    for (let i = 0; i < a.choices.length; i++) {
      for (let j = 0; j < a.choices[i].length; j++) {
        const [alpha, beta] = a.choices[i][j];
        if (!(await verifyIproof(ctx, S0, alpha, beta, a.individualProofs[i][j], [0, 1]))) {
          const what = j === 0 ? "list" : `candidate ${j}`;
          out.push(`the individual proof of list ${i + 1}, ${what} does not verify`);
        }
      }
    }
    const S = statement(S0, ctx.group, a.ciphertexts);
    const [hA, hB] = product(
      a.choices.map((row) => row[0]),
      ctx,
    );
    if (!(await verifyIproof(ctx, S, hA, hB, [a.overallProof], [1]))) {
      out.push("the overall proof (exactly one list) does not verify");
    }
    for (let i = 0; i < a.choices.length; i++) {
      const row = a.choices[i];
      if (!(await verifyListProof(ctx, S, row[0], product(row.slice(1), ctx), a.listProofs[i]))) {
        out.push(`the list proof of list ${i + 1} does not verify`);
      }
    }
    const [cA, cB] = product(
      a.choices.flatMap((row) => row.slice(1)),
      ctx,
    );
    if (!(await verifyNonzeroProof(ctx, S, cA, cB, a.nonzeroProof))) {
      out.push("the non-zero proof (some candidate is chosen) does not verify");
    }
    return out;
  }

  /** The answer to `vote`, with the randomness drawn from `rng` in the order of lists.py's
   * make_answer: every r, the individual proofs, the overall proof, the list proofs, then the
   * non-zero proof. */
  async makeAnswer(ctx, S0, vote, rng) {
    const { group } = ctx;
    const { q } = group;
    const rand = () => rng.below(q);
    const rs = [];
    for (const row of vote) {
      const rrow = [];
      for (let j = 0; j < row.length; j++) rrow.push(await rand());
      rs.push(rrow);
    }
    const cts = vote.map((row, i) => row.map((m, j) => encryptBit(ctx, rs[i][j], m)));
    const ips = [];
    for (let i = 0; i < vote.length; i++) {
      const prow = [];
      for (let j = 0; j < vote[i].length; j++) {
        const w = await rand();
        const sim = await simulated(rand, 1);
        const [a, b] = cts[i][j];
        prow.push(await proveIproof(ctx, S0, a, b, rs[i][j], vote[i][j], [0, 1], w, sim));
      }
      ips.push(prow);
    }
    const S = statement(S0, group, cts.flat());
    const [hA, hB] = product(
      cts.map((row) => row[0]),
      ctx,
    );
    const r0 = sumMod(
      rs.map((row) => row[0]),
      q,
    );
    const [overall] = await proveIproof(ctx, S, hA, hB, r0, 0, [1], await rand(), []);
    const lps = [];
    for (let i = 0; i < vote.length; i++) {
      const selected = vote[i][0] === 1;
      const secret = selected ? rs[i][0] : sumMod(rs[i].slice(1), q);
      const w = await rand();
      const [sim] = await simulated(rand, 1);
      const rest = product(cts[i].slice(1), ctx);
      lps.push(await proveListProof(ctx, S, cts[i][0], rest, selected, secret, w, sim));
    }
    const [cA, cB] = product(
      cts.flatMap((row) => row.slice(1)),
      ctx,
    );
    const rCand = sumMod(
      rs.flatMap((row) => row.slice(1)),
      q,
    );
    const s = 1n + (await rng.below(q - 1n));
    const w1 = await rand();
    const w2 = await rand();
    const nz = await proveNonzeroProof(ctx, S, cA, cB, rCand, s, w1, w2);
    return {
      answer: {
        choices: cts.map((row) => row.map((ct) => ctJson(group, ct))),
        individual_proofs: ips.map((row) => row.map((ip) => ip.map(proofJson))),
        overall_proof: proofJson(overall),
        list_proofs: lps.map((lp) => lp.map(proofJson)),
        nonzero_proof: {
          commitment: group.encode(nz.commitment),
          challenge: nz.challenge.toString(),
          response: nz.response.map(String),
        },
      },
      audit: {
        choices: vote.map((row) => [...row]),
        randomness: rs.map((row) => row.map(String)),
      },
    };
  }

  // -- audits ------------------------------------------------------------------------------

  auditShape(group, a) {
    const randomness = flat(a.randomness, this.shape);
    if (randomness === null) return `expected ${this.size} random numbers`;
    return randomnessProblem(group, randomness, this.size);
  }

  auditAnswer(ctx, a, parsed) {
    const choices = flat(a.choices, this.shape);
    if (choices === null) return []; // reported by choiceProblem
    const where = [];
    this.shape.forEach((n, i) => {
      for (let j = 0; j < n; j++) {
        where.push({
          answer: j,
          list: i + 1,
          label: j === 0 ? `list ${i + 1}` : `list ${i + 1}, candidate ${j}`,
        });
      }
    });
    return auditBits(ctx, parsed.ciphertexts, choices, a.randomness.flat(), (k) => where[k]);
  }

  auditLabel(p) {
    const row = this.answers[p.list - 1];
    if (!row) return literal(String(p.answer));
    if (p.answer === 0) return message("audit.list-slot", { list: row[0] });
    return message("audit.candidate-slot", { list: row[0], candidate: row[p.answer] ?? String(p.answer) });
  }
}
