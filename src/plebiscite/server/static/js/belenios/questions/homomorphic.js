// Homomorphic questions (specification 4.9.1, 4.11.1, 4.12, 4.13), as
// src/plebiscite/protocol/questions/homomorphic.py: select between `min` and `max` answers,
// optionally blank; each answer a ciphertext of 0 or 1 with its proof, an overall proof of the
// count, and the blank proof when blank is allowed. The vote: one 0/1 per answer, with blank
// allowed a leading 0/1 for "blank". The interface: see common.js.

import {
  answersOf,
  auditBits,
  ctJson,
  encryptBit,
  expectArray,
  expectKeys,
  fail,
  integers,
  literal,
  message,
  onlyKeys,
  parseCiphertext,
  parseProofs,
  proofJson,
  questionText,
  randomnessProblem,
  range,
  simulated,
  smallInt,
  statement,
  sumMod,
} from "./common.js";
import {
  product,
  proveBlankProof,
  proveIproof,
  proveOverallBlankProof,
  verifyBlankProof,
  verifyIproof,
  verifyOverallBlankProof,
} from "../proofs.js";

export class HomomorphicQuestion {
  constructor(question, answers, min, max, blank) {
    this.kind = "homomorphic";
    this.homomorphic = true;
    this.question = question;
    this.answers = answers;
    this.min = min;
    this.max = max;
    this.blank = blank;
  }

  // -- the question ------------------------------------------------------------------------

  static parse(v, where) {
    onlyKeys(v, where, ["answers", "min", "max", "question"], ["blank"]);
    const answers = answersOf(v.answers, where);
    const min = smallInt(v.min, `${where}.min`, 0, answers.length);
    const max = smallInt(v.max, `${where}.max`, 0, answers.length);
    if (min > max) fail(`${where}: min ${min} is greater than max ${max}`);
    const blank = v.blank ?? false;
    if (typeof blank !== "boolean") fail(`${where}: blank must be a boolean`);
    return new HomomorphicQuestion(questionText(v.question, where), answers, min, max, blank);
  }

  /** Ciphertexts in an answer: one per answer, and one for blank. */
  get size() {
    return this.answers.length + (this.blank ? 1 : 0);
  }

  checkGroup() {}

  describe() {
    const { question, answers, min, max, blank } = this;
    return { question, answers: [...answers], homomorphic: true, min, max, blank };
  }

  // -- the booth ---------------------------------------------------------------------------

  form() {
    const { min, max, blank } = this;
    let key;
    if (min === max) key = max === 1 ? "booth.hint-one" : "booth.hint-exactly";
    else key = min === 0 ? "booth.hint-up-to" : "booth.hint-between";
    const hint = [message(key, { min, max, count: max })];
    if (blank) hint.push(message("booth.hint-blank"));
    const single = max === 1;
    return {
      widget: "choose",
      hint,
      answers: this.answers.map(literal),
      single, // one answer at most: radio buttons
      none: single && min === 0, // "no answer" is a choice of its own
      blank,
      offset: blank ? 1 : 0, // where the answers start in the vote
    };
  }

  choiceProblem(vote) {
    const n = this.size;
    if (!integers(vote, n)) return { code: "shape", message: `expected ${n} integers` };
    if (vote.some((m) => m !== 0 && m !== 1)) return { code: "shape", message: "values must be 0 or 1" };
    const rest = this.blank ? vote.slice(1) : vote;
    const count = rest.reduce((s, m) => s + m, 0);
    if (this.blank && vote[0] === 1) {
      return count === 0
        ? null
        : { code: "blank_and_answers", message: "a blank vote selects nothing" };
    }
    if (count < this.min || count > this.max) {
      return {
        code: count < this.min ? "too_few" : "too_many",
        min: this.min,
        max: this.max,
        count,
        message: `between ${this.min} and ${this.max} answers${this.blank ? ", or blank" : ""}, not ${count}`,
      };
    }
    return null;
  }

  voterMessage(p) {
    switch (p.code) {
      case "too_few":
      case "too_many":
        if (p.min === 1 && p.max === 1) return message("booth.hint-one");
        return message("booth.choose-between", { min: p.min, max: p.max, count: p.count });
      case "blank_and_answers":
        return message("booth.blank-alone");
      case "shape":
        return message("booth.rank-range");
      default:
        return null;
    }
  }

  review(vote) {
    if (this.blank && vote[0] === 1) return [message("audit.blank-vote")];
    const values = this.blank ? vote.slice(1) : vote;
    const picked = this.answers.filter((_, j) => values[j] === 1).map(literal);
    return picked.length ? picked : [message("audit.nothing")];
  }

  // -- answers -----------------------------------------------------------------------------

  parseAnswer(group, a, where) {
    const n = this.size;
    const keys = ["choices", "individual_proofs", "overall_proof"];
    if (this.blank) keys.push("blank_proof");
    expectKeys(a, where, keys);
    const k = this.max - this.min + 1 + (this.blank ? 1 : 0);
    const choices = expectArray(a.choices, `${where}.choices`, n).map((c, j) =>
      parseCiphertext(group, c, `${where}.choices[${j}]`),
    );
    return {
      choices,
      ciphertexts: choices,
      individualProofs: expectArray(a.individual_proofs, `${where}.individual_proofs`, n).map(
        (x, j) => parseProofs(group, x, `${where}.individual_proofs[${j}]`, 2),
      ),
      overallProof: parseProofs(group, a.overall_proof, `${where}.overall_proof`, k),
      blankProof: this.blank ? parseProofs(group, a.blank_proof, `${where}.blank_proof`, 2) : null,
    };
  }

  async verifyAnswer(ctx, S0, a) {
    const out = [];
    for (let j = 0; j < a.choices.length; j++) {
      const [alpha, beta] = a.choices[j];
      if (!(await verifyIproof(ctx, S0, alpha, beta, a.individualProofs[j], [0, 1]))) {
        out.push(`the individual proof of choice ${j + 1} does not verify`);
      }
    }
    const S = statement(S0, ctx.group, a.choices);
    const Ms = range(this.min, this.max);
    let ok;
    if (this.blank) {
      const ctS = product(a.choices.slice(1), ctx);
      ok =
        (await verifyBlankProof(ctx, S, a.choices[0], ctS, a.blankProof)) &&
        (await verifyOverallBlankProof(ctx, S, a.choices[0], ctS, a.overallProof, Ms));
    } else {
      const [aS, bS] = product(a.choices, ctx);
      ok = await verifyIproof(ctx, S, aS, bS, a.overallProof, Ms);
    }
    if (!ok) out.push("the overall proof does not verify");
    return out;
  }

  /** The answer to `vote`, with the randomness drawn from `rng` in the order of
   * homomorphic.py's make_answer. */
  async makeAnswer(ctx, S0, vote, rng) {
    const { group } = ctx;
    const { q } = group;
    const rand = () => rng.below(q);
    const rs = [];
    for (let j = 0; j < vote.length; j++) rs.push(await rand());
    const cts = vote.map((m, j) => encryptBit(ctx, rs[j], m));
    const ips = [];
    for (let j = 0; j < vote.length; j++) {
      const w = await rand();
      const sim = await simulated(rand, 1);
      ips.push(await proveIproof(ctx, S0, cts[j][0], cts[j][1], rs[j], vote[j], [0, 1], w, sim));
    }
    const S = statement(S0, group, cts);
    const Ms = range(this.min, this.max);
    const answer = {
      choices: cts.map((ct) => ctJson(group, ct)),
      individual_proofs: ips.map((ip) => ip.map(proofJson)),
    };
    if (this.blank) {
      const m0 = vote[0];
      const r0 = rs[0];
      const rsum = sumMod(rs.slice(1), q);
      const msum = vote.slice(1).reduce((a, b) => a + b, 0);
      const ctS = product(cts.slice(1), ctx);
      let w = await rand();
      const bsim = { challenge: await rand(), response: await rand() };
      const bp = await proveBlankProof(ctx, S, cts[0], ctS, m0 === 1, m0 ? rsum : r0, w, bsim);
      const real = m0 ? 0 : Ms.indexOf(msum) + 1;
      w = await rand();
      const osim = await simulated(rand, Ms.length);
      const ov = await proveOverallBlankProof(ctx, S, cts[0], ctS, Ms, real, m0 ? r0 : rsum, w, osim);
      answer.overall_proof = ov.map(proofJson);
      answer.blank_proof = bp.map(proofJson);
    } else {
      const msum = vote.reduce((a, b) => a + b, 0);
      const [aS, bS] = product(cts, ctx);
      const w = await rand();
      const sim = await simulated(rand, Ms.length - 1);
      const ov = await proveIproof(ctx, S, aS, bS, sumMod(rs, q), Ms.indexOf(msum), Ms, w, sim);
      answer.overall_proof = ov.map(proofJson);
    }
    return { answer, audit: { choices: [...vote], randomness: rs.map(String) } };
  }

  // -- audits ------------------------------------------------------------------------------

  auditShape(group, a) {
    return randomnessProblem(group, a.randomness, this.size);
  }

  auditAnswer(ctx, a, parsed) {
    if (a.choices.length !== parsed.choices.length) return []; // reported by choiceProblem
    return auditBits(ctx, parsed.choices, a.choices, a.randomness, (j) => {
      const answer = this.blank ? j : j + 1;
      return { answer, label: this.blank && j === 0 ? "blank" : `answer ${answer}` };
    });
  }

  auditLabel(p) {
    if (p.answer === 0) return message("audit.blank-slot");
    const text = this.answers[p.answer - 1];
    return text === undefined ? literal(String(p.answer)) : message("audit.quoted", { text });
  }
}
