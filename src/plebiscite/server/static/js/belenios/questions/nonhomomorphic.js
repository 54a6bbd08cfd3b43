// Non-homomorphic questions (specification 4.9.2, 4.11.2), as
// src/plebiscite/protocol/questions/nonhomomorphic.py: the whole answer, a vector of small
// integers (a ranking, grades), embedded in one group element and encrypted with a proof of
// knowledge of the randomness. The interface: see common.js.

import {
  answersOf,
  ctJson,
  expectKeys,
  fail,
  integers,
  literal,
  message,
  onlyKeys,
  parseCiphertext,
  parseProof,
  proofJson,
  questionText,
  randomnessProblem,
} from "./common.js";
import { proveRaweg, verifyRaweg } from "../proofs.js";

export class NonHomomorphicQuestion {
  static TYPE = "NonHomomorphic"; // the type of its question_gen

  constructor(question, answers, extra) {
    this.kind = NonHomomorphicQuestion.TYPE;
    this.homomorphic = false;
    this.question = question;
    this.answers = answers;
    this.extra = extra; // a hint on the counting method (3.x; any JSON value, not interpreted)
  }

  /** From the question_gen object `v` (its type already read). */
  static parse(v, where) {
    onlyKeys(v.value, where, ["answers", "question"]);
    const question = questionText(v.value.question, where);
    return new NonHomomorphicQuestion(question, answersOf(v.value.answers, where), v.extra);
  }

  get size() {
    return 1;
  }

  checkGroup(group, where) {
    if (!group.embedding) {
      fail(`group ${group.name} has no embedding, needed by non-homomorphic questions`);
    }
    if (this.answers.length > group.maxInts) {
      fail(`${where}: more answers than one element of ${group.name} embeds (${group.maxInts})`);
    }
  }

  describe() {
    return { question: this.question, answers: [...this.answers], homomorphic: false };
  }

  // -- the booth ---------------------------------------------------------------------------

  form() {
    const n = this.answers.length;
    return {
      widget: "rank",
      hint: [message("booth.hint-rank", { count: n })],
      answers: this.answers.map(literal),
      min: 1,
      max: n,
    };
  }

  choiceProblem(vote, group) {
    const n = this.answers.length;
    if (!integers(vote, n)) return { code: "shape", message: `expected ${n} integers` };
    const bits = group.embedding.bitsPerInt;
    if (vote.some((m) => m < 0 || m >= 2 ** bits)) {
      return { code: "range", message: `values must fit in ${bits} bits` };
    }
    return null;
  }

  voterMessage(p) {
    return p.code === "range" || p.code === "shape" ? message("booth.rank-range") : null;
  }

  review(vote) {
    return this.answers.map((a, j) => message("audit.ranked", { text: a, value: vote[j] ?? "" }));
  }

  // -- answers -----------------------------------------------------------------------------

  parseAnswer(group, a, where) {
    expectKeys(a, where, ["choices", "proof"]);
    const choices = parseCiphertext(group, a.choices, `${where}.choices`);
    return { choices, ciphertexts: [choices], proof: parseProof(group, a.proof, `${where}.proof`) };
  }

  async verifyAnswer(ctx, S0, a) {
    const ok = await verifyRaweg(ctx, S0, a.choices[0], a.choices[1], a.proof);
    return ok ? [] : ["the proof does not verify"];
  }

  /** group_encode (4.11.2), then the encryption and its proof; the randomness in the order of
   * nonhomomorphic.py's make_answer (the padding first, in the groups that draw it). */
  async makeAnswer(ctx, S0, vote, rng) {
    const { group } = ctx;
    if (!group.embedding) throw new Error(`group ${group.name} has no embedding`);
    const [xi, eps] = await group.ofInts(vote, rng);
    const r = await rng.below(group.q);
    const a = ctx.gpow(r);
    const b = ctx.mul(ctx.ypow(r), xi);
    const pr = await proveRaweg(ctx, S0, a, b, r, await rng.below(group.q));
    return {
      answer: { choices: ctJson(group, [a, b]), proof: proofJson(pr) },
      audit: { choices: [...vote], randomness: [String(r)], epsilon: Number(eps) },
    };
  }

  // -- audits ------------------------------------------------------------------------------

  auditShape(group, a) {
    const bad = randomnessProblem(group, a.randomness, 1);
    if (bad) return bad;
    const bits = group.embedding.padding;
    if (!Number.isInteger(a.epsilon) || a.epsilon < 0 || a.epsilon >= 2 ** bits) {
      return `expected the padding epsilon, an integer of ${bits} bits`;
    }
    return null;
  }

  auditAnswer(ctx, a, parsed) {
    const [alpha, beta] = parsed.choices;
    const r = BigInt(a.randomness[0]);
    const at = { answer: null, label: null };
    if (!ctx.equals(ctx.gpow(r), alpha)) {
      return [
        { ...at, code: "randomness", detail: "the revealed randomness does not give this ciphertext" },
      ];
    }
    const { group } = ctx;
    const emb = group.embedding;
    const fits = (v) => Number.isInteger(v) && v >= 0 && v < 2 ** emb.bitsPerInt;
    if (a.choices.length !== this.answers.length || !a.choices.every(fits)) return [];
    const xi = group.embed(a.choices, a.epsilon);
    if (xi === null || !ctx.equals(ctx.mul(ctx.ypow(r), xi), beta)) {
      return [{ ...at, code: "plaintext", detail: "the ballot does not encrypt the audit's values" }];
    }
    return [];
  }

  auditLabel() {
    return literal("");
  }
}
