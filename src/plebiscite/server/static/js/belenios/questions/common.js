// What the kinds of question share (as src/plebiscite/protocol/questions/common.py): reading
// the question's JSON inside the election, reading an answer of a ballot (ciphertexts and
// proofs, fields in the spec's order), writing them, the statement string S, and the checks of
// an audit (Benaloh's challenge) common to every ciphertext of a 0/1 choice.
//
// The interface of a kind of question (one module each, registered in index.js; the booth,
// the audit and the ballot code use nothing else):
//   static TYPE                  the `type` of its question_gen (not for homomorphic ones)
//   static parse(v, where)       the question from its JSON (throws "election: ...")
//   kind, homomorphic            its name; whether the tally is a product of ciphertexts
//   question, answers            the texts
//   size                         ciphertexts in an answer (and in the tally)
//   checkGroup(group, where)     what the question needs of the group (throws)
//   describe()                   as Python's describe() (the server's summary of questions)
//   form()                       the form the booth draws: {widget, hint: [text...], ...};
//                                a text is {text} (data of the election) or {key, params}
//                                (a message of the catalogue, static/i18n/)
//   choiceProblem(vote, group)   null, or what the voter must fix: {code, message, ...}
//   voterMessage(problem)        that problem as a text for the voter (or null)
//   review(vote)                 the choices as texts, to show before casting and in audits
//   parseAnswer(group, a, where) the answer of a ballot, every element checked (throws)
//   verifyAnswer(ctx, S0, a)     async: the proofs that do not verify (messages), [] if none
//   makeAnswer(ctx, S0, vote, rng)  async: {answer (its JSON), audit ({choices, randomness})}
//   auditShape(group, a)         null, or what is wrong with the audit object's answer
//   auditAnswer(ctx, a, parsed)  the ciphertexts that are not the audit's choices:
//                                [{answer, list?, code, label, detail}]
//   auditLabel(problem)          the text naming the answer of an audit problem

import { mod } from "../bigint.js";
import { ciphertextText } from "../proofs.js";

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

export function fail(message) {
  throw new Error(`election: ${message}`);
}

export function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Check that `o` is an object with the `required` fields and no others than `optional`. */
export function onlyKeys(o, where, required, optional = []) {
  if (!isObject(o)) fail(`${where}: expected a JSON object`);
  for (const k of required) if (!(k in o)) fail(`${where}: missing field ${JSON.stringify(k)}`);
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) {
      fail(`${where}: unknown field ${JSON.stringify(k)}`);
    }
  }
}

export function answersOf(v, where) {
  if (!Array.isArray(v) || v.length === 0 || v.some((a) => typeof a !== "string")) {
    fail(`${where}: expected a non-empty list of strings`);
  }
  return [...v];
}

export function smallInt(v, where, lo, hi) {
  if (!Number.isInteger(v) || v < lo || v > hi) fail(`${where}: expected an integer in [${lo}, ${hi}]`);
  return v;
}

export function questionText(v, where) {
  if (typeof v !== "string") fail(`${where}: question must be a string`);
  return v;
}

/** lo, lo + 1, ..., hi. */
export const range = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/** The sum of BigInts mod q. */
export const sumMod = (xs, q) =>
  mod(
    xs.reduce((a, b) => a + b, 0n),
    q,
  );

/** A vote of 0/1 values has exactly `n` integers. */
export const integers = (vote, n) =>
  Array.isArray(vote) && vote.length === n && vote.every((m) => Number.isInteger(m));

// -- answers of a ballot ----------------------------------------------------------------------

/** `o` is an object with exactly the fields `keys`, in this order. */
export function expectKeys(o, where, keys) {
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new Error(`${where}: expected a JSON object`);
  }
  const got = Object.keys(o);
  if (got.length !== keys.length || keys.some((k, i) => got[i] !== k)) {
    throw new Error(`${where}: expected the fields ${keys.join(", ")} in this order`);
  }
}

export function expectArray(v, where, n) {
  if (!Array.isArray(v) || v.length !== n) throw new Error(`${where}: expected ${n} items`);
  return v;
}

/** A ciphertext {alpha, beta} of a ballot: [alpha, beta], both checked elements. */
export function parseCiphertext(group, c, where) {
  expectKeys(c, where, ["alpha", "beta"]);
  return [group.element(c.alpha, `${where}.alpha`), group.element(c.beta, `${where}.beta`)];
}

/** A proof {challenge, response}: scalars. */
export function parseProof(group, x, where) {
  expectKeys(x, where, ["challenge", "response"]);
  return {
    challenge: group.scalar(x.challenge, `${where}.challenge`),
    response: group.scalar(x.response, `${where}.response`),
  };
}

export const parseProofs = (group, xs, where, n) =>
  expectArray(xs, where, n).map((x, i) => parseProof(group, x, `${where}[${i}]`));

// scalars are BigInts in every group, written in base 10; elements are the group's strings
export const proofJson = (pr) => ({
  challenge: pr.challenge.toString(),
  response: pr.response.toString(),
});
export const ctJson = (group, [a, b]) => ({ alpha: group.encode(a), beta: group.encode(b) });

/** S = S0|alpha,beta,alpha,beta,... of the ciphertexts (overall, blank and list proofs). */
export const statement = (S0, group, cts) =>
  `${S0}|${cts.map((ct) => ciphertextText(group, ct)).join(",")}`;

/** The encryption of the bit m with randomness r: (g^r, y^r g^m). */
export const encryptBit = (ctx, r, m) => [ctx.gpow(r), m ? ctx.mul(ctx.ypow(r), ctx.g) : ctx.ypow(r)];

/** `n` simulated proofs {challenge, response}, drawn in this order from `rand`. */
export async function simulated(rand, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const challenge = await rand();
    const response = await rand();
    out.push({ challenge, response });
  }
  return out;
}

// -- audits -----------------------------------------------------------------------------------

/** What is wrong with the revealed randomness of an answer (`n` decimal strings below q). */
export function randomnessProblem(group, randomness, n) {
  if (!Array.isArray(randomness) || randomness.length !== n) return `expected ${n} random numbers`;
  for (const r of randomness) {
    if (typeof r !== "string" || r.length > group.qDigits || !DECIMAL.test(r)) {
      return "randomness must be decimal numbers in strings";
    }
    if (BigInt(r) >= group.q) return "randomness must be below q";
  }
  return null;
}

/** The audit of ciphertexts of 0/1 choices: `cts[j]` must be the encryption of `choices[j]`
 * with `randomness[j]`; `where(j)` names it ({answer, list?, label}). */
export function auditBits(ctx, cts, choices, randomness, where) {
  const out = [];
  cts.forEach(([alpha, beta], j) => {
    const at = where(j);
    const r = BigInt(randomness[j]);
    if (!ctx.equals(ctx.gpow(r), alpha)) {
      out.push({
        ...at,
        code: "randomness",
        detail: "the revealed randomness does not give this ciphertext",
      });
      return;
    }
    const gm = ctx.div(beta, ctx.ypow(r));
    const m = ctx.equals(gm, ctx.identity) ? 0 : ctx.equals(gm, ctx.g) ? 1 : null;
    if (m !== choices[j]) {
      const what = m === null ? "neither 0 nor 1" : String(m);
      out.push({
        ...at,
        code: "plaintext",
        detail: `the ballot encrypts ${what}, the audit says ${choices[j]}`,
      });
    }
  });
  return out;
}

// -- texts ------------------------------------------------------------------------------------

/** A text of the election itself (a question, an answer), shown as it is. */
export const literal = (text) => ({ text });

/** A message of the catalogue. */
export const message = (key, params = {}) => ({ key, params });
