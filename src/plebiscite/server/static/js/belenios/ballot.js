// Ballots (sections 4.11 to 4.15): making one exactly as src/plebiscite/protocol/ballot.py's
// make_ballot does (same randomness in the same order, same canonical JSON), checking the
// choices against the questions, and parsing and verifying a ballot.

import { mod } from "./bigint.js";
import { credentialSecret, parseCredential } from "./credentials.js";
import { hJson } from "./hash.js";
import {
  Context,
  ciphertextText,
  product,
  proveBlankProof,
  proveIproof,
  proveOverallBlankProof,
  proveRaweg,
  proveSchnorr,
  verifyBlankProof,
  verifyIproof,
  verifyOverallBlankProof,
  verifyRaweg,
  verifySchnorr,
} from "./proofs.js";

const range = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/** The length of a question's choice vector: one per answer, plus the leading blank slot. */
export function choiceLength(q) {
  return q.answers.length + (q.homomorphic && q.blank ? 1 : 0);
}

/** Problems with `choices` (belenios-tool's shape: one list per question; with blank allowed a
 * leading 0/1 for "blank"; for a non-homomorphic question, small integers such as ranks).
 * Each problem is {question (1-based, null for the whole ballot), code, message, ...}. */
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
    const vote = choices[i];
    const question = i + 1;
    const n = choiceLength(q);
    if (!Array.isArray(vote) || vote.length !== n || vote.some((m) => !Number.isInteger(m))) {
      out.push({ question, code: "shape", message: `question ${question}: expected ${n} integers` });
      return;
    }
    if (!q.homomorphic) {
      const bits = election.group.embedding.bitsPerInt;
      if (vote.some((m) => m < 0 || m >= 2 ** bits)) {
        out.push({
          question,
          code: "range",
          message: `question ${question}: values must fit in ${bits} bits`,
        });
      }
      return;
    }
    if (vote.some((m) => m !== 0 && m !== 1)) {
      out.push({ question, code: "shape", message: `question ${question}: values must be 0 or 1` });
      return;
    }
    const rest = q.blank ? vote.slice(1) : vote;
    const count = rest.reduce((s, m) => s + m, 0);
    if (q.blank && vote[0] === 1) {
      if (count !== 0) {
        out.push({
          question,
          code: "blank_and_answers",
          message: `question ${question}: a blank vote selects nothing`,
        });
      }
      return;
    }
    if (count < q.min || count > q.max) {
      out.push({
        question,
        code: count < q.min ? "too_few" : "too_many",
        min: q.min,
        max: q.max,
        count,
        message:
          `question ${question}: between ${q.min} and ${q.max} answers` +
          (q.blank ? ", or blank" : "") +
          `, not ${count}`,
      });
    }
  });
  return out;
}

/** group_encode (4.11.2): the group's of_ints (in finite fields the padding epsilon drawn
 * from `rng`, in Ed25519 the smallest). Returns [xi, epsilon]. */
export async function groupEncode(group, values, rng) {
  if (!group.embedding) throw new Error(`group ${group.name} has no embedding`);
  return group.ofInts(values, rng);
}

// scalars are BigInts in every group, written in base 10; elements are the group's strings
const proofJson = (pr) => ({ challenge: pr.challenge.toString(), response: pr.response.toString() });
const ctJson = (group, [a, b]) => ({ alpha: group.encode(a), beta: group.encode(b) });

/** Build a complete ballot: the exact JSON text (compact, fields in the spec's order), its
 * tracker and the audit data (the randomness of every ciphertext, for Benaloh's challenge).
 * `election` from loadElection; `rng` a random source (async below(n)). */
export async function buildBallot(election, credential, choices, rng, ctx = null) {
  const problems = choiceProblems(election, choices);
  if (problems.length) throw new Error(problems.map((p) => p.message).join("; "));
  const { group } = election;
  const { q } = group;
  ctx = ctx || new Context(group, election.publicKey);
  const cred = parseCredential(credential);
  const s = await credentialSecret(cred, election.uuid, group);
  const credText = group.encode(ctx.gpow(s));
  const S0 = `${election.fingerprint}|${credText}`;
  const rand = () => rng.below(q);
  const sims = async (n) => {
    const out = [];
    for (let i = 0; i < n; i++) {
      const challenge = await rand();
      const response = await rand();
      out.push({ challenge, response });
    }
    return out;
  };

  const answers = [];
  const auditAnswers = [];
  for (let qi = 0; qi < election.questions.length; qi++) {
    const question = election.questions[qi];
    const vote = choices[qi];
    if (question.homomorphic) {
      const rs = [];
      for (let j = 0; j < vote.length; j++) rs.push(await rand());
      const cts = vote.map((m, j) => [
        ctx.gpow(rs[j]),
        m ? ctx.mul(ctx.ypow(rs[j]), ctx.g) : ctx.ypow(rs[j]),
      ]);
      const ips = [];
      for (let j = 0; j < vote.length; j++) {
        const w = await rand();
        const sim = await sims(1);
        ips.push(await proveIproof(ctx, S0, cts[j][0], cts[j][1], rs[j], vote[j], [0, 1], w, sim));
      }
      const S = `${S0}|${cts.map((ct) => ciphertextText(group, ct)).join(",")}`;
      const Ms = range(question.min, question.max);
      const answer = {
        choices: cts.map((ct) => ctJson(group, ct)),
        individual_proofs: ips.map((ip) => ip.map(proofJson)),
      };
      if (question.blank) {
        const m0 = vote[0];
        const r0 = rs[0];
        const rsum = mod(
          rs.slice(1).reduce((a, b) => a + b, 0n),
          q,
        );
        const msum = vote.slice(1).reduce((a, b) => a + b, 0);
        const ctS = product(cts.slice(1), ctx);
        let w = await rand();
        const bsim = { challenge: await rand(), response: await rand() };
        const bp = await proveBlankProof(ctx, S, cts[0], ctS, m0 === 1, m0 ? rsum : r0, w, bsim);
        const real = m0 ? 0 : Ms.indexOf(msum) + 1;
        w = await rand();
        const osim = await sims(Ms.length);
        const ov = await proveOverallBlankProof(
          ctx,
          S,
          cts[0],
          ctS,
          Ms,
          real,
          m0 ? r0 : rsum,
          w,
          osim,
        );
        answer.overall_proof = ov.map(proofJson);
        answer.blank_proof = bp.map(proofJson);
      } else {
        const msum = vote.reduce((a, b) => a + b, 0);
        const [aS, bS] = product(cts, ctx);
        const rsum = mod(
          rs.reduce((a, b) => a + b, 0n),
          q,
        );
        const w = await rand();
        const sim = await sims(Ms.length - 1);
        const ov = await proveIproof(ctx, S, aS, bS, rsum, Ms.indexOf(msum), Ms, w, sim);
        answer.overall_proof = ov.map(proofJson);
      }
      answers.push(answer);
      auditAnswers.push({ choices: [...vote], randomness: rs.map(String) });
    } else {
      const [xi, eps] = await groupEncode(group, vote, rng);
      const r = await rand();
      const a = ctx.gpow(r);
      const b = ctx.mul(ctx.ypow(r), xi);
      const pr = await proveRaweg(ctx, S0, a, b, r, await rand());
      answers.push({ choices: ctJson(group, [a, b]), proof: proofJson(pr) });
      auditAnswers.push({ choices: [...vote], randomness: [String(r)], epsilon: Number(eps) });
    }
  }
  const unsigned = {
    election_uuid: election.uuid,
    election_hash: election.fingerprint,
    credential: credText,
    answers,
  };
  const h = await hJson(JSON.stringify(unsigned));
  const sig = await proveSchnorr(ctx, s, await rand(), `sig|${h}|`);
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

function expectKeys(o, where, keys) {
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new Error(`${where}: expected a JSON object`);
  }
  const got = Object.keys(o);
  if (got.length !== keys.length || keys.some((k, i) => got[i] !== k)) {
    throw new Error(`${where}: expected the fields ${keys.join(", ")} in this order`);
  }
}

function expectArray(v, where, n) {
  if (!Array.isArray(v) || v.length !== n) throw new Error(`${where}: expected ${n} items`);
  return v;
}

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
  const ct = (c, where) => {
    expectKeys(c, where, ["alpha", "beta"]);
    return [group.element(c.alpha, `${where}.alpha`), group.element(c.beta, `${where}.beta`)];
  };
  const pr = (x, where) => {
    expectKeys(x, where, ["challenge", "response"]);
    return {
      challenge: group.scalar(x.challenge, `${where}.challenge`),
      response: group.scalar(x.response, `${where}.response`),
    };
  };
  const prs = (xs, where, n) => expectArray(xs, where, n).map((x, i) => pr(x, `${where}[${i}]`));
  const answers = expectArray(v.answers, "ballot.answers", election.questions.length).map(
    (a, i) => {
      const q = election.questions[i];
      const where = `question ${i + 1}`;
      if (!q.homomorphic) {
        expectKeys(a, where, ["choices", "proof"]);
        return { choices: ct(a.choices, `${where}.choices`), proof: pr(a.proof, `${where}.proof`) };
      }
      const n = choiceLength(q);
      const keys = ["choices", "individual_proofs", "overall_proof"];
      if (q.blank) keys.push("blank_proof");
      expectKeys(a, where, keys);
      const k = q.max - q.min + 1 + (q.blank ? 1 : 0);
      return {
        choices: expectArray(a.choices, `${where}.choices`, n).map((c, j) =>
          ct(c, `${where}.choices[${j}]`),
        ),
        individualProofs: expectArray(a.individual_proofs, `${where}.individual_proofs`, n).map(
          (x, j) => prs(x, `${where}.individual_proofs[${j}]`, 2),
        ),
        overallProof: prs(a.overall_proof, `${where}.overall_proof`, k),
        blankProof: q.blank ? prs(a.blank_proof, `${where}.blank_proof`, 2) : null,
      };
    },
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
    signature: pr(v.signature.proof, "ballot.signature.proof"),
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
    const q = election.questions[i];
    const a = ballot.answers[i];
    const question = i + 1;
    if (!q.homomorphic) {
      if (!(await verifyRaweg(ctx, S0, a.choices[0], a.choices[1], a.proof))) {
        out.push({ question, message: `question ${question}: the proof does not verify` });
      }
      continue;
    }
    for (let j = 0; j < a.choices.length; j++) {
      const [alpha, beta] = a.choices[j];
      if (!(await verifyIproof(ctx, S0, alpha, beta, a.individualProofs[j], [0, 1]))) {
        out.push({
          question,
          message: `question ${question}: the individual proof of choice ${j + 1} does not verify`,
        });
      }
    }
    const S = `${S0}|${a.choices.map((ct) => ciphertextText(ctx.group, ct)).join(",")}`;
    const Ms = range(q.min, q.max);
    let ok;
    if (q.blank) {
      const ctS = product(a.choices.slice(1), ctx);
      ok =
        (await verifyBlankProof(ctx, S, a.choices[0], ctS, a.blankProof)) &&
        (await verifyOverallBlankProof(ctx, S, a.choices[0], ctS, a.overallProof, Ms));
    } else {
      const [aS, bS] = product(a.choices, ctx);
      ok = await verifyIproof(ctx, S, aS, bS, a.overallProof, Ms);
    }
    if (!ok) out.push({ question, message: `question ${question}: the overall proof does not verify` });
  }
  return out;
}
