// Zero-knowledge proofs of the Belenios specification, as src/plebiscite/crypto/proofs.py:
// interval proofs (4.12), proofs of possibly-blank votes (4.13), the proof of a
// non-homomorphic answer (4.11.2) and Schnorr signatures (4.14); generation and verification.
// Every prove* function takes its randomness as arguments (w, simulated challenges and
// responses), drawn by the caller in the order the Python code draws them.

import { FixedBase, mod, modInv, modPow } from "./bigint.js";
import { sha256Int } from "./hash.js";

/** A group with the election public key y: in the finite-field groups, exponentiations of g
 * and y on fixed-base tables (built on first use); in Ed25519, the group's own operations.
 * Products, quotients, and g^-M for small M. */
export class Context {
  constructor(group, y = null) {
    this.group = group;
    this.p = group.p; // finite fields only
    this.q = group.q;
    this.g = group.g;
    this.one = group.one;
    this.y = y;
    this.gTable = null;
    this.yTable = null;
    this.gInvSmall = new Map();
    this.finiteField = group.p !== undefined;
  }

  gpow(e) {
    if (!this.finiteField) return this.group.gpow(e);
    if (!this.gTable) this.gTable = new FixedBase(this.g, this.p, this.q);
    return this.gTable.pow(e);
  }

  ypow(e) {
    if (this.y === null) throw new Error("this context has no election public key");
    if (!this.finiteField) return this.group.pow(this.y, e);
    if (!this.yTable) this.yTable = new FixedBase(this.y, this.p, this.q);
    return this.yTable.pow(e);
  }

  pow(base, e) {
    if (!this.finiteField) return this.group.pow(base, e);
    return modPow(base, e, this.p);
  }

  mul(a, b) {
    return this.finiteField ? (a * b) % this.p : this.group.mul(a, b);
  }

  div(a, b) {
    return this.finiteField ? (a * modInv(b, this.p)) % this.p : this.group.div(a, b);
  }

  /** beta / g^M (g^-M cached per M). */
  shifted(beta, M) {
    if (!M) return beta;
    let inv = this.gInvSmall.get(M);
    if (inv === undefined) {
      inv = this.group.inv ? this.group.inv(this.gpow(BigInt(M))) : modInv(this.gpow(BigInt(M)), this.p);
      this.gInvSmall.set(M, inv);
    }
    return this.mul(beta, inv);
  }
}

export const joinNumbers = (values, sep = ",") => values.map(String).join(sep);

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
    (cm) => `prove|${S}|${alpha},${beta}|${joinNumbers(cm)}`,
    Ms.map((M) => [alpha, ctx.shifted(beta, M)]),
    i,
    r,
    w,
    simulated,
  );
}

const blankHashInput = (prefix, S, cm) => `${prefix}|${S}|${joinNumbers(cm)}`;

/** blank_proof (4.13): m0 = 0 (not blank, secret r0) or mSigma = 0 (blank, secret rSigma). */
export function proveBlankProof(ctx, S, ct0, ctS, blank, secret, w, simulated) {
  return proveOr(
    ctx,
    (cm) => blankHashInput("bproof0", S, cm),
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
    (cm) => blankHashInput("bproof1", S, cm),
    statements,
    real,
    secret,
    w,
    simulated,
  );
}

/** The proof of a non-homomorphic answer (4.11.2). */
export async function proveRaweg(ctx, S, alpha, beta, r, w) {
  const A = ctx.gpow(w);
  const c = (await sha256Int(`raweg|${S}|${ctx.y},${alpha},${beta}|${A}`)) % ctx.q;
  return { challenge: c, response: mod(w - r * c, ctx.q) };
}

/** A Schnorr proof: challenge = SHA256(prefix A suffix) mod q, A = g^w. */
export async function proveSchnorr(ctx, x, w, prefix, suffix = "") {
  const A = ctx.gpow(w);
  const c = (await sha256Int(`${prefix}${A}${suffix}`)) % ctx.q;
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
  const h = (await sha256Int(`prove|${S}|${alpha},${beta}|${joinNumbers(cm)}`)) % ctx.q;
  return h === sumChallenges(proofs, ctx.q);
}

export async function verifyBlankProof(ctx, S, ct0, ctS, proofs) {
  if (proofs.length !== 2) return false;
  const cm = [
    ...commitments(ctx, ct0[0], ct0[1], proofs[0], 0),
    ...commitments(ctx, ctS[0], ctS[1], proofs[1], 0),
  ];
  const h = (await sha256Int(blankHashInput("bproof0", S, cm))) % ctx.q;
  return h === sumChallenges(proofs, ctx.q);
}

export async function verifyOverallBlankProof(ctx, S, ct0, ctS, proofs, Ms) {
  if (proofs.length !== Ms.length + 1) return false;
  const cm = [...commitments(ctx, ct0[0], ct0[1], proofs[0], 1)];
  Ms.forEach((M, j) => cm.push(...commitments(ctx, ctS[0], ctS[1], proofs[j + 1], M)));
  const h = (await sha256Int(blankHashInput("bproof1", S, cm))) % ctx.q;
  return h === sumChallenges(proofs, ctx.q);
}

export async function verifyRaweg(ctx, S, alpha, beta, proof) {
  const A = ctx.mul(ctx.gpow(proof.response), ctx.pow(alpha, proof.challenge));
  const c = (await sha256Int(`raweg|${S}|${ctx.y},${alpha},${beta}|${A}`)) % ctx.q;
  return c === proof.challenge;
}

export async function verifySchnorr(ctx, X, proof, prefix, suffix = "") {
  const A = ctx.mul(ctx.gpow(proof.response), ctx.pow(X, proof.challenge));
  return (await sha256Int(`${prefix}${A}${suffix}`)) % ctx.q === proof.challenge;
}
