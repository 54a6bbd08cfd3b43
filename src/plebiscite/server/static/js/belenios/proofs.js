// Zero-knowledge proofs of the Belenios specification, as src/plebiscite/crypto/proofs.py:
// interval proofs (4.12), proofs of possibly-blank votes (4.13), the proof of a
// non-homomorphic answer (4.11.2), the list proofs and non-zero proofs of Lists answers (4.14,
// 4.15) and Schnorr signatures; generation and verification.
// Every prove* function takes its randomness as arguments (w, simulated challenges and
// responses), drawn by the caller in the order the Python code draws them.

import { mod } from "./bigint.js";
import { sha256Int } from "./hash.js";

/** A group (any: see groups.js) with the election public key y, through the group's
 * interface only: exponentiations of g on the group's table, of y on a fixed-base table built
 * on first use; products, quotients, g^-M for small M (cached), equality and encoding. */
export class Context {
  constructor(group, y = null) {
    this.group = group;
    this.q = group.q;
    this.g = group.g;
    this.one = group.identity;
    this.identity = group.identity;
    this.y = y;
    this.yBase = null;
    this.gInvSmall = new Map();
  }

  gpow(e) {
    return this.group.gpow(e);
  }

  ypow(e) {
    if (this.y === null) throw new Error("this context has no election public key");
    if (!this.yBase) this.yBase = this.group.fixedBase(this.y);
    return this.yBase.pow(e);
  }

  pow(base, e) {
    return this.group.pow(base, e);
  }

  mul(a, b) {
    return this.group.mul(a, b);
  }

  div(a, b) {
    return this.group.div(a, b);
  }

  inv(a) {
    return this.group.inv(a);
  }

  equals(a, b) {
    return this.group.equals(a, b);
  }

  encode(x) {
    return this.group.encode(x);
  }

  /** beta / g^M (g^-M cached per M). */
  shifted(beta, M) {
    if (!M) return beta;
    let inv = this.gInvSmall.get(M);
    if (inv === undefined) {
      inv = this.group.inv(this.gpow(BigInt(M)));
      this.gInvSmall.set(M, inv);
    }
    return this.mul(beta, inv);
  }
}

/** The specification's strings of elements, joined by `sep` (hash inputs). */
export const joinElements = (group, values, sep = ",") =>
  values.map((x) => group.encode(x)).join(sep);

/** "alpha,beta" of a ciphertext, as hash inputs write it. */
export const ciphertextText = (group, [alpha, beta]) =>
  `${group.encode(alpha)},${group.encode(beta)}`;

/** The product of ciphertexts [[alpha, beta], ...] in the context's group. */
export function product(cts, ctx) {
  let a = ctx.one;
  let b = ctx.one;
  for (const [x, y] of cts) {
    a = ctx.mul(a, x);
    b = ctx.mul(b, y);
  }
  return [a, b];
}

/** A disjunctive Chaum-Pedersen proof that one of `statements` [a_j, b_j] has the form
 * (g^x, y^x), x = `secret`, for branch `real`; the others simulated with `simulated`
 * ({challenge, response} each, in branch order); challenge of the real branch:
 * SHA256(hashInput(A0, B0, ..., Ak, Bk)) mod q minus the others. */
export async function proveOr(ctx, hashInput, statements, real, secret, w, simulated) {
  const { q } = ctx;
  if (simulated.length !== statements.length - 1 || real < 0 || real >= statements.length) {
    throw new Error("one simulated proof per branch other than the real one");
  }
  const proofs = [];
  const commitments = [];
  let k = 0;
  statements.forEach(([a, b], j) => {
    if (j === real) {
      proofs.push(null);
      commitments.push(ctx.gpow(w), ctx.ypow(w));
    } else {
      const pj = simulated[k++];
      proofs.push(pj);
      commitments.push(ctx.mul(ctx.gpow(pj.response), ctx.pow(a, pj.challenge)));
      commitments.push(ctx.mul(ctx.ypow(pj.response), ctx.pow(b, pj.challenge)));
    }
  });
  const h = (await sha256Int(hashInput(commitments))) % q;
  let others = 0n;
  for (const pr of proofs) if (pr) others += pr.challenge;
  const cReal = mod(h - others, q);
  proofs[real] = { challenge: cReal, response: mod(w - secret * cReal, q) };
  return proofs;
}

/** iprove(S, r, i, M0..Mk) (4.12): (alpha, beta) encrypts Ms[i] with randomness r. */
export function proveIproof(ctx, S, alpha, beta, r, i, Ms, w, simulated) {
  return proveOr(
    ctx,
    (cm) => `prove|${S}|${ciphertextText(ctx.group, [alpha, beta])}|${joinElements(ctx.group, cm)}`,
    Ms.map((M) => [alpha, ctx.shifted(beta, M)]),
    i,
    r,
    w,
    simulated,
  );
}

const blankHashInput = (ctx, prefix, S, cm) => `${prefix}|${S}|${joinElements(ctx.group, cm)}`;

/** blank_proof (4.13): m0 = 0 (not blank, secret r0) or mSigma = 0 (blank, secret rSigma). */
export function proveBlankProof(ctx, S, ct0, ctS, blank, secret, w, simulated) {
  return proveOr(
    ctx,
    (cm) => blankHashInput(ctx, "bproof0", S, cm),
    [ct0, ctS],
    blank ? 1 : 0,
    secret,
    w,
    [simulated],
  );
}

/** overall_proof of a question allowing blank (4.13): branch 0 is m0 = 1 (secret r0), branch
 * i > 0 is mSigma = Ms[i - 1] (secret rSigma). */
export function proveOverallBlankProof(ctx, S, ct0, ctS, Ms, real, secret, w, simulated) {
  const statements = [[ct0[0], ctx.shifted(ct0[1], 1)]];
  for (const M of Ms) statements.push([ctS[0], ctx.shifted(ctS[1], M)]);
  return proveOr(
    ctx,
    (cm) => blankHashInput(ctx, "bproof1", S, cm),
    statements,
    real,
    secret,
    w,
    simulated,
  );
}

/** raweg|S|y,alpha,beta|A, the hash input of the proof of a non-homomorphic answer. */
const rawegInput = (ctx, S, alpha, beta, A) =>
  `raweg|${S}|${joinElements(ctx.group, [ctx.y, alpha, beta])}|${ctx.encode(A)}`;

/** The proof of a non-homomorphic answer (4.11.2). */
export async function proveRaweg(ctx, S, alpha, beta, r, w) {
  const A = ctx.gpow(w);
  const c = (await sha256Int(rawegInput(ctx, S, alpha, beta, A))) % ctx.q;
  return { challenge: c, response: mod(w - r * c, ctx.q) };
}

/** The list proof (4.14) that L_i = 1 or sum_j C_ij = 0: `head` encrypts L_i, `rest` the sum
 * of the list's candidates; the real branch is L_i = 1 (secret r_i0) when the list is
 * `selected`, the sum is 0 (secret: the sum of the candidates' randomness) when not. */
export function proveListProof(ctx, S, head, rest, selected, secret, w, simulated) {
  return proveOr(
    ctx,
    (cm) => `lproof|${S}|${joinElements(ctx.group, cm)}`,
    [[head[0], ctx.shifted(head[1], 1)], rest],
    selected ? 0 : 1,
    secret,
    w,
    [simulated],
  );
}

const nonzeroInput = (ctx, S, A0, A1, A2) => `nonzero|${S}|${joinElements(ctx.group, [A0, A1, A2])}`;

/** The proof (4.15) that (alpha, beta), encrypted with randomness r, holds a value other than
 * 0; s (not 0 mod q), w1 and w2 its randomness. -> {commitment, challenge, response: [t1, t2]} */
export async function proveNonzeroProof(ctx, S, alpha, beta, r, s, w1, w2) {
  const { q } = ctx;
  if (mod(s, q) === 0n) throw new Error("s must not be 0");
  const A0 = ctx.mul(ctx.pow(beta, s), ctx.ypow(mod(-s * r, q)));
  if (ctx.equals(A0, ctx.identity)) throw new Error("the ciphertext encrypts 0");
  const A1 = ctx.mul(ctx.pow(alpha, w1), ctx.gpow(w2));
  const A2 = ctx.mul(ctx.pow(beta, w1), ctx.ypow(w2));
  const c = (await sha256Int(nonzeroInput(ctx, S, A0, A1, A2))) % q;
  return { commitment: A0, challenge: c, response: [mod(w1 - s * c, q), mod(w2 + s * r * c, q)] };
}

/** A Schnorr proof: challenge = SHA256(prefix A suffix) mod q, A = g^w. */
export async function proveSchnorr(ctx, x, w, prefix, suffix = "") {
  const A = ctx.gpow(w);
  const c = (await sha256Int(`${prefix}${ctx.encode(A)}${suffix}`)) % ctx.q;
  return { challenge: c, response: mod(w - x * c, ctx.q) };
}

// -- verification ---------------------------------------------------------------------------

function commitments(ctx, alpha, beta, proof, M) {
  const A = ctx.mul(ctx.gpow(proof.response), ctx.pow(alpha, proof.challenge));
  const B = ctx.mul(ctx.ypow(proof.response), ctx.pow(ctx.shifted(beta, M), proof.challenge));
  return [A, B];
}

const sumChallenges = (proofs, q) => proofs.reduce((s, pr) => s + pr.challenge, 0n) % q;

/** True iff `proofs` prove that (alpha, beta) encrypts one of Ms. */
export async function verifyIproof(ctx, S, alpha, beta, proofs, Ms) {
  if (proofs.length !== Ms.length) return false;
  const cm = [];
  proofs.forEach((pr, j) => cm.push(...commitments(ctx, alpha, beta, pr, Ms[j])));
  const input = `prove|${S}|${ciphertextText(ctx.group, [alpha, beta])}|${joinElements(ctx.group, cm)}`;
  const h = (await sha256Int(input)) % ctx.q;
  return h === sumChallenges(proofs, ctx.q);
}

export async function verifyBlankProof(ctx, S, ct0, ctS, proofs) {
  if (proofs.length !== 2) return false;
  const cm = [
    ...commitments(ctx, ct0[0], ct0[1], proofs[0], 0),
    ...commitments(ctx, ctS[0], ctS[1], proofs[1], 0),
  ];
  const h = (await sha256Int(blankHashInput(ctx, "bproof0", S, cm))) % ctx.q;
  return h === sumChallenges(proofs, ctx.q);
}

export async function verifyOverallBlankProof(ctx, S, ct0, ctS, proofs, Ms) {
  if (proofs.length !== Ms.length + 1) return false;
  const cm = [...commitments(ctx, ct0[0], ct0[1], proofs[0], 1)];
  Ms.forEach((M, j) => cm.push(...commitments(ctx, ctS[0], ctS[1], proofs[j + 1], M)));
  const h = (await sha256Int(blankHashInput(ctx, "bproof1", S, cm))) % ctx.q;
  return h === sumChallenges(proofs, ctx.q);
}

export async function verifyListProof(ctx, S, head, rest, proofs) {
  if (proofs.length !== 2) return false;
  const cm = [
    ...commitments(ctx, head[0], head[1], proofs[0], 1),
    ...commitments(ctx, rest[0], rest[1], proofs[1], 0),
  ];
  const h = (await sha256Int(`lproof|${S}|${joinElements(ctx.group, cm)}`)) % ctx.q;
  return h === sumChallenges(proofs, ctx.q);
}

/** False when the commitment is the identity, or the proof does not verify. */
export async function verifyNonzeroProof(ctx, S, alpha, beta, proof) {
  const { commitment: A0, challenge: c } = proof;
  const [t1, t2] = proof.response;
  if (ctx.equals(A0, ctx.identity)) return false;
  const A1 = ctx.mul(ctx.pow(alpha, t1), ctx.gpow(t2));
  const A2 = ctx.mul(ctx.mul(ctx.pow(beta, t1), ctx.ypow(t2)), ctx.pow(A0, c));
  return (await sha256Int(nonzeroInput(ctx, S, A0, A1, A2))) % ctx.q === c;
}

export async function verifyRaweg(ctx, S, alpha, beta, proof) {
  const A = ctx.mul(ctx.gpow(proof.response), ctx.pow(alpha, proof.challenge));
  const c = (await sha256Int(rawegInput(ctx, S, alpha, beta, A))) % ctx.q;
  return c === proof.challenge;
}

export async function verifySchnorr(ctx, X, proof, prefix, suffix = "") {
  const A = ctx.mul(ctx.gpow(proof.response), ctx.pow(X, proof.challenge));
  return (await sha256Int(`${prefix}${ctx.encode(A)}${suffix}`)) % ctx.q === proof.challenge;
}
