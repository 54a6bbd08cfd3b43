// A trustee's partial decryption of an encrypted tally (sections 4.18 and 4.19), as
// src/plebiscite/protocol/tally.py's partial_decryption_json, byte for byte for the same
// randomness: for every ciphertext (alpha, beta) of the tally, the decryption factor alpha^x
// and a proof {challenge, response} with A = g^w, B = alpha^w and
// challenge = SHA256(decrypt|fingerprint|g^x|A,B) mod q. In any group, through its interface
// (see belenios/groups.js).

import { mod } from "../belenios/bigint.js";
import { sha256Int } from "../belenios/hash.js";
import { array, fail, fields } from "./channel.js";

/** The encrypted tally as the API gives it ([[{alpha, beta}, ...], ...], one list per
 * question), every element checked: [[[alpha, beta], ...], ...], elements of `group`. */
export function parseTally(group, value, where = "encrypted tally") {
  return array(value, where, 0, 256).map((col, i) =>
    array(col, `${where}[${i}]`, 0, 1 << 16).map((ct, j) => {
      const w = `${where}[${i}][${j}]`;
      const o = fields(ct, ["alpha", "beta"], w);
      return [group.element(o.alpha, `${w}.alpha`), group.element(o.beta, `${w}.beta`)];
    }),
  );
}

/** The decryption factor alpha^x and its proof, with the randomness w. */
export async function proveDecryption(ctx, fingerprint, x, alpha, w) {
  const X = ctx.gpow(x);
  const A = ctx.gpow(w);
  const B = ctx.pow(alpha, w);
  const input = `decrypt|${fingerprint}|${ctx.encode(X)}|${ctx.encode(A)},${ctx.encode(B)}`;
  const c = (await sha256Int(input)) % ctx.q;
  return [ctx.pow(alpha, x), { challenge: c, response: mod(w - x * c, ctx.q) }];
}

/** The partial_decryption JSON text of `tally` (parsed by parseTally) with the decryption
 * key `x`: decryption factors and proofs for every ciphertext, in order. */
export async function partialDecryption(ctx, fingerprint, x, tally, rng) {
  if (typeof fingerprint !== "string" || !fingerprint) throw fail("no election fingerprint");
  const factors = [];
  const proofs = [];
  for (const col of tally) {
    const frow = [];
    const prow = [];
    for (const [alpha] of col) {
      const [f, pr] = await proveDecryption(ctx, fingerprint, x, alpha, await rng.below(ctx.q));
      frow.push(ctx.encode(f));
      prow.push({ challenge: pr.challenge.toString(), response: pr.response.toString() });
    }
    factors.push(frow);
    proofs.push(prow);
  }
  return JSON.stringify({ decryption_factors: factors, decryption_proofs: proofs });
}
