// Ballots (sections 4.11 to 4.15): making one exactly as src/plebiscite/protocol/ballot.py's
// make_ballot does (same randomness in the same order, same canonical JSON), checking the
// choices against the questions, and parsing and verifying a ballot. The answers are made,
// parsed and verified by their questions (questions/); this module holds what every ballot
// shares: the election it is for, the credential, the signature and the canonical form.

import { credentialSecret, parseCredential } from "./credentials.js";
import { hJson } from "./hash.js";
import { Context, proveSchnorr, verifySchnorr } from "./proofs.js";
import { expectKeys, expectArray, parseProof, proofJson } from "./questions/common.js";

/** Problems with `choices` (belenios-tool's shape: one list per question; with blank allowed a
 * leading 0/1 for "blank"; for a non-homomorphic question, small integers such as ranks; for
 * a Lists question one list of 0/1 per list, the list's own first). Each problem is
 * {question (1-based, null for the whole ballot), code, message, ...}: at most one per
 * question, the first its question finds (see the question's choiceProblem). */
export function choiceProblems(election, choices) {
  const out = [];
  const qs = election.questions;
  if (!Array.isArray(choices) || choices.length !== qs.length) {
    out.push({
      question: null,
      code: "count",
      message: `expected answers to ${qs.length} questions`,
    });
    return out;
  }
  qs.forEach((q, i) => {
    const question = i + 1;
    const p = q.choiceProblem(choices[i], election.group);
    if (p) out.push({ question, ...p, message: `question ${question}: ${p.message}` });
  });
  return out;
}

/** group_encode (4.11.2): the group's of_ints (in finite fields the padding epsilon drawn
 * from `rng`, in Ed25519 the smallest). Returns [xi, epsilon]. */
export async function groupEncode(group, values, rng) {
  if (!group.embedding) throw new Error(`group ${group.name} has no embedding`);
  return group.ofInts(values, rng);
}

/** Build a complete ballot: the exact JSON text (compact, fields in the spec's order), its
 * tracker and the audit data (the randomness of every ciphertext, for Benaloh's challenge).
 * `election` from loadElection; `rng` a random source (async below(n)). */
export async function buildBallot(election, credential, choices, rng, ctx = null) {
  const problems = choiceProblems(election, choices);
  if (problems.length) throw new Error(problems.map((p) => p.message).join("; "));
  const { group } = election;
  ctx = ctx || new Context(group, election.publicKey);
  const cred = parseCredential(credential);
  const s = await credentialSecret(cred, election.uuid, group);
  const credText = group.encode(ctx.gpow(s));
  const S0 = `${election.fingerprint}|${credText}`;
  const answers = [];
  const auditAnswers = [];
  for (let qi = 0; qi < election.questions.length; qi++) {
    const made = await election.questions[qi].makeAnswer(ctx, S0, choices[qi], rng);
    answers.push(made.answer);
    auditAnswers.push(made.audit);
  }
  const unsigned = {
    election_uuid: election.uuid,
    election_hash: election.fingerprint,
    credential: credText,
    answers,
  };
  const h = await hJson(JSON.stringify(unsigned));
  const sig = await proveSchnorr(ctx, s, await rng.below(group.q), `sig|${h}|`);
  unsigned.signature = { hash: h, proof: proofJson(sig) };
  const ballot = JSON.stringify(unsigned);
  const tracker = await hJson(ballot);
  const audit = {
    election_uuid: election.uuid,
    election_hash: election.fingerprint,
    tracker,
    answers: auditAnswers,
  };
  return { ballot, tracker, audit };
}

// -- reading a ballot -------------------------------------------------------------------------

/** Parse a ballot's text against the election: shape, canonical form (the text must be the
 * compact serialization with the spec's field order), numbers. Throws an Error naming where. */
export function parseBallot(text, election) {
  const { group } = election;
  const raw = String(text).trim();
  let v;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new Error(`ballot: not JSON (${e.message})`);
  }
  expectKeys(v, "ballot", ["election_uuid", "election_hash", "credential", "answers", "signature"]);
  if (JSON.stringify(v) !== raw) {
    throw new Error("ballot: not in canonical form (compact JSON, fields in the spec's order)");
  }
  if (v.election_uuid !== election.uuid) throw new Error("ballot: for another election (uuid)");
  if (v.election_hash !== election.fingerprint) {
    throw new Error("ballot: for another election (fingerprint)");
  }
  // the credential's membership is not checked here, as on the Python side: a ballot counts
  // only if its credential is on the public list, whose entries were checked at setup
  const credential = group.decode(v.credential, "ballot.credential");
  if (group.equals(credential, group.identity)) throw new Error("ballot.credential: out of range");
  const answers = expectArray(v.answers, "ballot.answers", election.questions.length).map(
    (a, i) => election.questions[i].parseAnswer(group, a, `question ${i + 1}`),
  );
  expectKeys(v.signature, "ballot.signature", ["hash", "proof"]);
  const signed = { ...v };
  delete signed.signature;
  return {
    json: v,
    raw,
    credential,
    credentialText: v.credential,
    answers,
    signatureHash: v.signature.hash,
    signature: parseProof(group, v.signature.proof, "ballot.signature.proof"),
    signedText: JSON.stringify(signed),
  };
}

/** Verify the signature and every proof of a parsed ballot; returns a list of problems
 * ({question, message}), empty when the ballot is valid. */
export async function verifyBallot(ballot, election, ctx = null) {
  ctx = ctx || new Context(election.group, election.publicKey);
  const out = [];
  if ((await hJson(ballot.signedText)) !== ballot.signatureHash) {
    out.push({ question: null, message: "the signature hash does not match the ballot" });
  } else if (!(await verifySchnorr(ctx, ballot.credential, ballot.signature, `sig|${ballot.signatureHash}|`))) {
    out.push({ question: null, message: "the signature does not verify" });
  }
  const S0 = `${election.fingerprint}|${ballot.credentialText}`;
  for (let i = 0; i < election.questions.length; i++) {
    const question = i + 1;
    for (const m of await election.questions[i].verifyAnswer(ctx, S0, ballot.answers[i])) {
      out.push({ question, message: `question ${question}: ${m}` });
    }
  }
  return out;
}
