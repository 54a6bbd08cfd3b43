// The trustee's side of the "Pedersen" key establishment protocol (sections 4.6 and 4.7), as
// src/plebiscite/protocol/ceremony.py, byte for byte for the same randomness (the formats of
// belenios-tool's setup generate-trustee-key-threshold, which plebiscite trustee-threshold
// also reads and writes):
//
//   step 1  makeCertificate: a secret seed (the ID.key file) and the certificate
//   step 3  makePolynomial: the trustee's polynomial, its coefficients sent to itself, its
//           value at j sent to trustee j, its coefficient commitments signed
//   step 5  makeVoutput: checks the vinput (every share against its dealer's commitments),
//           returns the voutput (the decryption key S_j sent to itself, g^S_j and a proof)
//   after   thresholdDecryptionKey: S_j recovered from the seed and the .dkey
//
// Steps 2, 4 and 6 are the server's. Trustee z is the z-th certificate (from 1); ID is the
// SHA256 of its certificate's message in hexadecimal. Every function returns JSON text
// without a final newline.

import { sha256Hex } from "../belenios/hash.js";
import { Context, proveSchnorr } from "../belenios/proofs.js";
import {
  array,
  deriveKeys,
  dumps,
  fail,
  fields,
  generateSeed,
  parseProof,
  parseSigned,
  proofJson,
  receive,
  send,
  share,
  sign,
  signedJson,
  strictObject,
  string,
  verifySigned,
} from "./channel.js";

const MAX_TRUSTEES = 256;

/** The JSON values of a .jsons text (one per line, as both tools write them). */
export function splitJsons(text, where) {
  if (typeof text !== "string") throw fail("expected text", where);
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  if (lines.length > MAX_TRUSTEES) throw fail(`more than ${MAX_TRUSTEES} values`, where);
  return lines.map((line, i) => {
    try {
      return JSON.parse(line);
    } catch (e) {
      throw fail(`invalid JSON: ${e.message}`, `${where}, value ${i + 1}`);
    }
  });
}

function oneJson(text, where) {
  try {
    return JSON.parse(String(text).trim());
  } catch (e) {
    throw fail(`expected one JSON value: ${e.message}`, where);
  }
}

// -- certificates ------------------------------------------------------------------------------

/** Step 1: {seed, cert, id}: a fresh seed (the secret, the .key file holds it followed by a
 * newline) and the certificate of the keys derived from it. */
export async function makeCertificate(group, rng, context = null) {
  const ctx = new Context(group);
  const seed = await generateSeed(rng);
  const keys = await deriveKeys(ctx, seed);
  // a Belenios 3.x certificate carries its context: [index, threshold, size]
  const head = context
    ? { context: { group: group.name, size: context[2], threshold: context[1], index: context[0] } }
    : {};
  const message = dumps({ ...head, verification: String(keys.vk), encryption: String(keys.ek) });
  const cert = dumps(signedJson(await sign(ctx, keys.sk, message, rng)));
  return { seed, cert, id: await sha256Hex(message) };
}

/** The certificates of certs.jsons (one per line), each checked: its signature, keys
 * distinct from the others'. -> [{index, id, who, verification, encryption}] */
export async function checkCertificates(group, certs) {
  const ctx = new Context(group);
  const values = splitJsons(certs, "certificates");
  if (!values.length) throw fail("no certificate", "certificates");
  const out = [];
  const seen = new Set();
  for (const [i, v] of values.entries()) {
    const index = i + 1;
    const signed = parseSigned(group, v, `trustee ${index}, certificate`);
    const id = await sha256Hex(signed.message);
    const who = `trustee ${index} (certificate ${id})`;
    const keys = strictObject(signed.message, ["verification", "encryption"], `${who}, message`, 8192, [
      "context",
    ]);
    const verification = group.element(keys.verification, `${who}, verification key`);
    const encryption = group.element(keys.encryption, `${who}, encryption key`);
    await verifySigned(ctx, verification, signed, `${who}, certificate`);
    if (seen.has(verification) || seen.has(encryption)) {
      throw fail("a key of this certificate is already used", who);
    }
    seen.add(verification).add(encryption);
    let threshold = null;
    if ("context" in keys) {
      const c = fields(keys.context, ["group", "size", "threshold", "index"], `${who}, context`);
      if (c.group !== group.name) throw fail(`the certificate is for the group ${c.group}`, who);
      if (c.index !== index) throw fail(`the certificate's context gives index ${c.index}`, who);
      if (c.size !== values.length) throw fail(`the certificate's context gives size ${c.size}`, who);
      threshold = c.threshold;
    }
    const json = { message: signed.message, signature: proofJson(signed.signature) };
    out.push({ index, id, who, verification, encryption, threshold, json });
  }
  const withContext = out.filter((c) => c.threshold !== null);
  if (withContext.length && withContext.length !== out.length) {
    throw fail("some certificates have a context and others not", "certificates");
  }
  if (withContext.some((c) => c.threshold !== out[0].threshold)) {
    throw fail("the certificates' contexts give different thresholds", "certificates");
  }
  return out;
}

/** What a 3.x dealer signs: certs_sig| and the certificates with its commitments. */
function certsSig(cs, coefexps) {
  return `certs_sig|${dumps({ certs: cs.map((c) => c.json), coefexps })}`;
}

async function checkCertsSig(ctx, cs, dealer, commitments, v, where) {
  const message = certsSig(cs, commitments.map(String));
  await verifySigned(ctx, dealer.verification, { message, signature: parseProof(ctx.group, v, where) }, where);
}

/** {cert, keys}: the certificate of `seed` among `certs`, and the keys derived from it. */
export async function ownCertificate(ctx, certs, seed) {
  const keys = await deriveKeys(ctx, seed);
  for (const cert of certs) {
    if (cert.verification === keys.vk) {
      if (cert.encryption !== keys.ek) {
        throw fail("the encryption key of this certificate is not derived from the seed", cert.who);
      }
      return { cert, keys };
    }
  }
  throw fail("the certificate of this seed is not among the certificates");
}

// -- polynomials (step 3) -------------------------------------------------------------------------

/** Step 3: a random polynomial of degree threshold - 1, its coefficients sent to oneself,
 * its value at j sent to trustee j, its commitments signed. */
export async function makePolynomial(group, certs, seed, threshold, rng) {
  const ctx = new Context(group);
  const cs = await checkCertificates(group, certs);
  const { cert: me, keys } = await ownCertificate(ctx, cs, seed);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > cs.length) {
    throw fail(`the threshold must be between 1 and the number of trustees (${cs.length})`);
  }
  if (me.threshold !== null && me.threshold !== threshold) {
    throw fail(`the certificates' context has the threshold ${me.threshold}, not ${threshold}`);
  }
  const q = ctx.q;
  const coefficients = [];
  for (let k = 0; k < threshold; k++) coefficients.push(await rng.below(q));
  const f = (j) => {
    let r = 0n;
    for (let k = coefficients.length - 1; k >= 0; k--) r = (r * BigInt(j) + coefficients[k]) % q;
    return r;
  };
  const raw = dumps({ polynomial: coefficients.map(String) });
  const commitments = coefficients.map((a) => String(ctx.gpow(a)));
  const coefexps = dumps({ coefexps: commitments });
  const polynomial = await send(ctx, keys.sk, me.encryption, raw, rng);
  const secrets = [];
  for (const c of cs) {
    secrets.push(await send(ctx, keys.sk, c.encryption, dumps({ secret: String(f(c.index)) }), rng));
  }
  const signed = signedJson(await sign(ctx, keys.sk, coefexps, rng));
  const out = { polynomial, secrets, coefexps: signed };
  if (me.threshold !== null) {
    out.signature = proofJson((await sign(ctx, keys.sk, certsSig(cs, commitments), rng)).signature);
  }
  return dumps(out);
}

// -- voutputs (step 5) --------------------------------------------------------------------------

/** prod_k A_k^(j^k): g^f(j) from the commitments A_k = g^a_k. */
export function commitmentEval(ctx, commitments, j) {
  let r = ctx.one;
  let jk = 1n;
  for (const A of commitments) {
    r = ctx.mul(r, ctx.pow(A, jk));
    jk = (jk * BigInt(j)) % ctx.q;
  }
  return r;
}

async function dealerCommitments(ctx, cert, v, where) {
  const signed = parseSigned(ctx.group, v, where);
  await verifySigned(ctx, cert.verification, signed, where);
  const o = strictObject(signed.message, ["coefexps"], where);
  const a = array(o.coefexps, `${where}.coefexps`, 1, MAX_TRUSTEES);
  return a.map((x, k) => ctx.group.element(x, `${where}.coefexps[${k}]`));
}

async function received(ctx, keys, sender, text, what) {
  return receive(ctx, keys, sender.verification, text, `${sender.who}, ${what}`);
}

const tpkJson = (publicKey, pok) => ({ pok: proofJson(pok), public_key: String(publicKey) });

/** Proof of knowledge of a trustee's private key x (4.5): challenge SHA256(pok|G|X|A). */
export function provePok(ctx, x, w) {
  return proveSchnorr(ctx, x, w, `pok|${ctx.group.name}|${ctx.gpow(x)}|`);
}

/** Step 5 (trustee j): check the vinput -- the commitments signed by their dealers, one's own
 * polynomial behind one's own commitments, every share s_ij against its dealer's commitments
 * -- and return the voutput: S_j = sum_i s_ij sent to oneself, g^S_j and its proof. */
export async function makeVoutput(group, certs, seed, vinput, rng) {
  const ctx = new Context(group);
  const { q } = ctx;
  const cs = await checkCertificates(group, certs);
  const { cert: me, keys } = await ownCertificate(ctx, cs, seed);
  const j = me.index;
  const n = cs.length;
  const signedCeremony = me.threshold !== null;
  const names = ["polynomial", "secrets", "coefexps", ...(signedCeremony ? ["signatures"] : [])];
  const o = fields(oneJson(vinput, "vinput"), names, "vinput");
  const secrets = array(o.secrets, "vinput.secrets", n, n);
  const coefexps = array(o.coefexps, "vinput.coefexps", n, n);
  const commitments = [];
  for (const [i, cert] of cs.entries()) {
    commitments.push(await dealerCommitments(ctx, cert, coefexps[i], `${cert.who}, coefexps`));
  }
  if (signedCeremony) {
    const sigs = array(o.signatures, "vinput.signatures", n, n);
    for (const [i, cert] of cs.entries()) {
      await checkCertsSig(ctx, cs, cert, commitments[i], sigs[i], `${cert.who}, signature`);
    }
  }
  const threshold = commitments[0].length;
  for (const [i, cert] of cs.entries()) {
    if (commitments[i].length !== threshold) {
      throw fail(
        `${commitments[i].length} coefficient commitments where trustee 1 has ${threshold}: ` +
          "every trustee must use the same threshold",
        cert.who,
      );
    }
  }
  if (threshold > n) {
    throw fail(`threshold ${threshold} is larger than the number of trustees (${n})`, "polynomials");
  }

  const own = await received(ctx, keys, me, string(o.polynomial, "vinput.polynomial"), "polynomial");
  const coefficients = array(
    strictObject(own, ["polynomial"], `${me.who}, polynomial`).polynomial,
    `${me.who}, polynomial`,
    threshold,
    threshold,
  );
  coefficients.forEach((a, k) => {
    if (ctx.gpow(share(group, a, `${me.who}, polynomial[${k}]`)) !== commitments[j - 1][k]) {
      throw fail(
        "this trustee's polynomial does not match its published coefficient commitments",
        me.who,
      );
    }
  });

  let total = 0n;
  for (const [i, dealer] of cs.entries()) {
    const w = `${dealer.who}, secret for trustee ${j}`;
    const message = await received(
      ctx,
      keys,
      dealer,
      string(secrets[i], w),
      `secret for trustee ${j}`,
    );
    const s = share(group, strictObject(message, ["secret"], w).secret, `${w}.secret`);
    if (ctx.gpow(s) !== commitmentEval(ctx, commitments[i], j)) {
      throw fail(
        `the share sent to trustee ${j} does not match the dealer's coefficient commitments`,
        dealer.who,
      );
    }
    total = (total + s) % q;
  }
  const pok = await provePok(ctx, total, await rng.below(q));
  const priv = await send(ctx, keys.sk, keys.ek, dumps({ decryption_key: String(total) }), rng);
  const pub = tpkJson(ctx.gpow(total), pok);
  if (signedCeremony) pub.signature = proofJson((await sign(ctx, keys.sk, pub.public_key, rng)).signature);
  return dumps({ private_key: priv, public_key: pub });
}

// -- after the ceremony ---------------------------------------------------------------------------

/** The trustee's decryption key S_j, recovered with its seed from its .dkey (the private_key
 * of its voutput, a message it sent to itself); with `verificationKey` (its entry in the
 * threshold parameters, a BigInt), also check g^S_j against it. */
export async function thresholdDecryptionKey(group, seed, dkey, verificationKey = null) {
  const ctx = new Context(group);
  const keys = await deriveKeys(ctx, seed);
  const message = await receive(ctx, keys, keys.vk, String(dkey).trim(), "decryption key");
  const x = share(
    group,
    strictObject(message, ["decryption_key"], "decryption key").decryption_key,
    "decryption key",
  );
  if (verificationKey !== null && ctx.gpow(x) !== verificationKey) {
    throw fail("the decryption key does not match the verification key", "decryption key");
  }
  return x;
}
