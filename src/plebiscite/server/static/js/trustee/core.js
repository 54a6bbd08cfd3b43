// A threshold trustee's cryptography in the browser: the public API of the trustee page
// (static/js/trustee-page.js). Every message made here is byte for byte what
// src/plebiscite/protocol/ceremony.py (steps 1, 3 and 5) and protocol/tally.py (the partial
// decryption) make from the same randomness (tests/web/test_trustee_crypto.py checks it), so
// the server, plebiscite trustee-threshold and belenios-tool accept them.
//
// The secret is the seed, the content of the ID.key file (the seed and a newline, as
// trustee-threshold --step 1 writes it): it is an argument of these functions and never
// leaves them but in that file.
//
// Randomness: crypto.getRandomValues by default; `options.seed` (a string) uses the
// deterministic twin of Python's DeterministicRandom (known-answer tests only, never for a
// real election); `options.random` any object with `async below(n)`.

import { sha256Hex } from "../belenios/hash.js";
import { groupByName } from "../belenios/groups.js";
import { Context } from "../belenios/proofs.js";
import { DeterministicRandom, SystemRandom } from "../belenios/random.js";
import {
  checkCertificates,
  makeCertificate,
  makePolynomial,
  makeVoutput,
  thresholdDecryptionKey,
} from "./ceremony.js";
import { checkSeed, deriveKeys, dumps } from "./channel.js";
import { parseTally, partialDecryption } from "./tally.js";

export { checkCertificates, checkSeed };

function randomSource(options) {
  if (options.random) return options.random;
  if (options.seed !== undefined) return new DeterministicRandom(options.seed);
  return new SystemRandom();
}

/** Step 1: {id, cert, keyFile, keyFileName}: the certificate to send and the key file to
 * keep (its name is ID.key, as trustee-threshold --step 1 names it). With
 * `options.context = [index, threshold, size]`, a Belenios 3.x certificate. */
export async function generateKey(groupName, options = {}) {
  const group = groupByName(groupName);
  const made = await makeCertificate(group, randomSource(options), options.context ?? null);
  const { seed, cert, id } = made;
  return { id, cert, keyFile: `${seed}\n`, keyFileName: `${id}.key` };
}

/** The certificate ID (SHA256 of the certificate's message) of the keys of a key file: the
 * ID the server shows for the trustee who generated it. */
export async function keyId(groupName, keyFile, context = null) {
  const group = groupByName(groupName);
  const ctx = new Context(group);
  const keys = await deriveKeys(ctx, checkSeed(keyFile, "key file"));
  const head = context
    ? { context: { group: group.name, size: context[2], threshold: context[1], index: context[0] } }
    : {};
  return sha256Hex(dumps({ ...head, verification: String(keys.vk), encryption: String(keys.ek) }));
}

/** Step 3: the polynomial (certs: the certificates, one per line, in trustee order). */
export async function polynomial(groupName, certs, keyFile, threshold, options = {}) {
  const seed = checkSeed(keyFile, "key file");
  return makePolynomial(groupByName(groupName), certs, seed, threshold, randomSource(options));
}

/** Step 5: the voutput, after checking every share of the vinput. */
export async function voutput(groupName, certs, keyFile, vinput, options = {}) {
  const seed = checkSeed(keyFile, "key file");
  return makeVoutput(groupByName(groupName), certs, seed, vinput, randomSource(options));
}

/** The trustee's decryption key from its key file and its .dkey, checked against its
 * verification key (decimal text) when given. */
export async function decryptionKey(groupName, keyFile, dkey, verificationKey = null) {
  const group = groupByName(groupName);
  const vk = verificationKey === null ? null : group.element(verificationKey, "verification key");
  return thresholdDecryptionKey(group, checkSeed(keyFile, "key file"), dkey, vk);
}

/** The partial decryption (its exact JSON text) of an encrypted tally, given as the API's
 * GET .../regions/NAME/tally answers it ({fingerprint, encrypted_tally}), with the decryption
 * key x (from decryptionKey). */
export async function decryptTally(groupName, x, tally, options = {}) {
  const group = groupByName(groupName);
  const cts = parseTally(group, tally.encrypted_tally);
  const ctx = new Context(group);
  return partialDecryption(ctx, tally.fingerprint, x, cts, randomSource(options));
}
