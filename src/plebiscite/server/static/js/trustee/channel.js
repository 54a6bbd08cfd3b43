// The trustees' private channels of threshold key establishment (section 4.6.1 to 4.6.3), as
// src/plebiscite/crypto/channel.py, byte for byte for the same randomness:
//
// - a seed: 22 characters of the Base58 alphabet; sk = SHA256(sk|seed) mod q (verification key
//   g^sk) and dk = SHA256(dk|seed) mod q (encryption key g^dk);
// - signed_msg {"message": M, "signature": {challenge, response}}: a Schnorr proof with the
//   challenge SHA256(sigmsg|M|A);
// - encrypted_msg {"alpha": g^r, "beta": ek^r g^s, "data": hex}: AES-256-CCM (ccm.js) of the
//   UTF-8 message, key SHA256(key|g^s), nonce the first 15 - L bytes of SHA256(iv|alpha);
// - send(sk, recipient, M): {"recipient", "message"} serialised, signed, encrypted.
//
// JSON is written compactly with the fields in this order (as Python's json.dumps with
// separators (",", ":") writes it) and read with exactly the expected fields. Randomised
// functions take a random source (static/js/belenios/random.js) and draw from it in the order
// the Python code does. Errors are Error objects whose message names where the problem is.

import { parseNatural } from "../belenios/bigint.js";
import { sha256, sha256Int, utf8 } from "../belenios/hash.js";
import { proveSchnorr, verifySchnorr } from "../belenios/proofs.js";
import { TAG_BYTES, ccmDecrypt, ccmEncrypt, fromHex, lengthBytes, toHex } from "./ccm.js";

export const SEED_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
export const SEED_LENGTH = 22;
export const MAX_MESSAGE_BYTES = 1 << 24;
const SEED = new RegExp(`^[${SEED_ALPHABET}]{${SEED_LENGTH}}$`);

export function fail(message, where = "") {
  return new Error(where ? `${where}: ${message}` : message);
}

/** Compact JSON, fields in insertion order (Python's json.dumps(separators=(",", ":"))). */
export const dumps = (value) => JSON.stringify(value);

/** A parsed JSON object with exactly `fields`. */
export function fields(v, names, where, optional = []) {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw fail("expected a JSON object", where);
  }
  for (const k of names) if (!Object.hasOwn(v, k)) throw fail(`missing field "${k}"`, where);
  for (const k of Object.keys(v)) {
    if (!names.includes(k) && !optional.includes(k)) throw fail(`unknown field "${k}"`, where);
  }
  return v;
}

/** Parse `text` (a JSON document in a string) as an object with exactly `names` (and maybe
 * some of `optional`). */
export function strictObject(text, names, where, maxSize = MAX_MESSAGE_BYTES, optional = []) {
  if (typeof text !== "string") throw fail("expected a JSON document in a string", where);
  if (text.length > maxSize) throw fail(`more than ${maxSize} characters`, where);
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw fail(`invalid JSON: ${e.message}`, where);
  }
  return fields(v, names, where, optional);
}

export function string(v, where) {
  if (typeof v !== "string") throw fail("expected a JSON string", where);
  return v;
}

export function array(v, where, min = 0, max = 256) {
  if (!Array.isArray(v)) throw fail("expected a JSON array", where);
  if (v.length < min || v.length > max) {
    throw fail(`${v.length} items, expected ${min === max ? min : `${min} to ${max}`}`, where);
  }
  return v;
}

export const proofJson = (p) => ({ challenge: String(p.challenge), response: String(p.response) });

export function parseProof(group, v, where) {
  const o = fields(v, ["challenge", "response"], where);
  return {
    challenge: group.scalar(o.challenge, `${where}.challenge`),
    response: group.scalar(o.response, `${where}.response`),
  };
}

// -- keys -----------------------------------------------------------------------------------------

/** A fresh seed: 22 characters drawn uniformly from the Base58 alphabet. */
export async function generateSeed(rng) {
  let seed = "";
  for (let i = 0; i < SEED_LENGTH; i++) seed += SEED_ALPHABET[Number(await rng.below(58n))];
  return seed;
}

/** The seed of a .key file (surrounding whitespace, such as the final newline, ignored). */
export function checkSeed(text, where = "seed") {
  const s = typeof text === "string" ? text.trim() : "";
  if (!SEED.test(s)) {
    throw fail(`a seed is ${SEED_LENGTH} characters of the Base58 alphabet`, where);
  }
  return s;
}

/** {sk, vk, dk, ek} derived from a seed. */
export async function deriveKeys(ctx, seed) {
  const s = checkSeed(seed);
  const sk = (await sha256Int(`sk|${s}`)) % ctx.q;
  const dk = (await sha256Int(`dk|${s}`)) % ctx.q;
  return { sk, vk: ctx.gpow(sk), dk, ek: ctx.gpow(dk) };
}

// -- signed messages ------------------------------------------------------------------------------

const sigPrefix = (message) => `sigmsg|${message}|`;

/** {message, signature}: the Schnorr signature of `message` with `sk`. */
export async function sign(ctx, sk, message, rng) {
  const w = await rng.below(ctx.q);
  return { message, signature: await proveSchnorr(ctx, sk, w, sigPrefix(message)) };
}

export const signedJson = (signed) => ({
  message: signed.message,
  signature: proofJson(signed.signature),
});

/** A signed_msg given as a parsed JSON value (its signature not checked yet). */
export function parseSigned(group, v, where) {
  const o = fields(v, ["message", "signature"], where);
  return {
    message: string(o.message, `${where}.message`),
    signature: parseProof(group, o.signature, `${where}.signature`),
  };
}

/** Check the signature of `signed` with `vk`; returns the message. */
export async function verifySigned(ctx, vk, signed, where = "") {
  if (!(await verifySchnorr(ctx, vk, signed.signature, sigPrefix(signed.message)))) {
    throw fail("signature does not verify", where);
  }
  return signed.message;
}

// -- encrypted messages ---------------------------------------------------------------------------

async function symmetric(gs, alpha, length) {
  const key = await sha256(`key|${gs}`);
  const iv = await sha256(`iv|${alpha}`);
  return [key, iv.slice(0, 15 - lengthBytes(length))];
}

/** encrypted_msg of `message` for the encryption key `ek`, serialised. */
export async function encrypt(ctx, ek, message, rng) {
  const plaintext = utf8(message);
  const r = await rng.below(ctx.q);
  const s = await rng.below(ctx.q);
  const alpha = ctx.gpow(r);
  const gs = ctx.gpow(s);
  const beta = ctx.mul(ctx.pow(ek, r), gs);
  const [key, nonce] = await symmetric(gs, alpha, plaintext.length);
  const data = await ccmEncrypt(key, nonce, plaintext);
  return dumps({ alpha: String(alpha), beta: String(beta), data: toHex(data) });
}

/** Decrypt a serialised encrypted_msg with the decryption key `dk`. */
export async function decrypt(ctx, dk, text, where = "encrypted message") {
  const o = strictObject(text, ["alpha", "beta", "data"], where);
  const alpha = ctx.group.element(o.alpha, `${where}.alpha`);
  const beta = ctx.group.element(o.beta, `${where}.beta`);
  const hex = string(o.data, `${where}.data`);
  let data;
  try {
    data = fromHex(hex);
  } catch {
    throw fail("data is not lowercase hexadecimal", `${where}.data`);
  }
  if (data.length < TAG_BYTES) throw fail("data is shorter than its tag", `${where}.data`);
  const gs = ctx.div(beta, ctx.pow(alpha, dk));
  const [key, nonce] = await symmetric(gs, alpha, data.length - TAG_BYTES);
  let plaintext;
  try {
    plaintext = await ccmDecrypt(key, nonce, data);
  } catch (e) {
    throw fail(e.message, where);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch {
    throw fail("decrypted message is not UTF-8", where);
  }
}

// -- channels -------------------------------------------------------------------------------------

/** send(sk, recipient, message) of section 4.6.3, serialised. */
export async function send(ctx, sk, recipient, message, rng) {
  const channel = dumps({ recipient: String(recipient), message });
  const signed = dumps(signedJson(await sign(ctx, sk, channel, rng)));
  return encrypt(ctx, recipient, signed, rng);
}

/** Open a message sent to the owner of `keys` by the owner of `senderVk`: decrypt it, check
 * the sender's signature and that the recipient is `keys.ek`; returns the message. */
export async function receive(ctx, keys, senderVk, text, where = "channel message") {
  const signedText = await decrypt(ctx, keys.dk, text, where);
  const signed = parseSigned(
    ctx.group,
    strictObject(signedText, ["message", "signature"], where),
    where,
  );
  await verifySigned(ctx, senderVk, signed, where);
  const o = strictObject(signed.message, ["recipient", "message"], where);
  const recipient = ctx.group.element(o.recipient, `${where}.recipient`);
  if (recipient !== keys.ek) throw fail("message was sent to another recipient", where);
  return string(o.message, `${where}.message`);
}

/** A natural number written by a trustee (possibly not reduced), reduced modulo q. */
export function share(group, v, where) {
  return parseNatural(v, group.qDigits + 6, where) % group.q;
}
