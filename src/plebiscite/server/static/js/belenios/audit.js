// Benaloh's challenge ("audit this ballot"): a ballot that will not be cast reveals the
// randomness of every ciphertext, and anyone re-encrypts the stated choices with it and
// compares. The audit object and the problems are those of src/plebiscite/protocol/audit.py
// (same codes, same numbering: `question` 1-based, `answer` the 1-based answer number, 0 for
// the blank slot, null when a problem is about the whole question or ballot).

import { choiceLength, choiceProblems, parseBallot, verifyBallot } from "./ballot.js";
import { hJson, utf8 } from "./hash.js";
import { trimBytes } from "./election.js";
import { Context } from "./proofs.js";

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function problem(question, answer, code, message) {
  return { question, answer, code, message };
}

function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Check the shape of an audit object; returns a list of problems. */
function auditShape(election, audit) {
  const bad = (m) => [problem(null, null, "audit_format", `audit: ${m}`)];
  if (!isObject(audit)) return bad("expected a JSON object");
  for (const k of ["election_uuid", "election_hash", "tracker", "answers"]) {
    if (!(k in audit)) return bad(`missing field ${JSON.stringify(k)}`);
  }
  if (!Array.isArray(audit.answers) || audit.answers.length !== election.questions.length) {
    return bad(`expected ${election.questions.length} answers`);
  }
  for (let i = 0; i < audit.answers.length; i++) {
    const a = audit.answers[i];
    const q = election.questions[i];
    const where = `question ${i + 1}`;
    if (!isObject(a) || !Array.isArray(a.choices) || !Array.isArray(a.randomness)) {
      return bad(`${where}: expected {choices, randomness}`);
    }
    const n = q.homomorphic ? choiceLength(q) : 1;
    if (a.randomness.length !== n) return bad(`${where}: expected ${n} random numbers`);
    for (const r of a.randomness) {
      if (typeof r !== "string" || r.length > election.group.qDigits || !DECIMAL.test(r)) {
        return bad(`${where}: randomness must be decimal numbers in strings`);
      }
      if (BigInt(r) >= election.group.q) return bad(`${where}: randomness must be below q`);
    }
    if (!q.homomorphic) {
      const bits = election.group.embedding.padding;
      if (!Number.isInteger(a.epsilon) || a.epsilon < 0 || a.epsilon >= 2 ** bits) {
        return bad(`${where}: expected the padding epsilon, an integer of ${bits} bits`);
      }
    }
  }
  return [];
}

/** Check an audited ballot: `election` from loadElection, `ballotText` the ballot's exact
 * text, `audit` the object makeBallot returned. Returns {ok, problems}. */
export async function auditBallot(election, ballotText, audit) {
  const problems = auditShape(election, audit);
  if (problems.length) return { ok: false, problems };
  const raw = trimBytes(utf8(ballotText));
  const tracker = await hJson(raw);
  if (audit.tracker !== tracker) {
    problems.push(
      problem(null, null, "tracker", `the ballot's tracker is ${tracker}, the audit names ${audit.tracker}`),
    );
  }
  if (audit.election_uuid !== election.uuid || audit.election_hash !== election.fingerprint) {
    problems.push(problem(null, null, "election_mismatch", "the audit is for another election"));
  }
  let ballot;
  try {
    ballot = parseBallot(new TextDecoder().decode(raw), election);
  } catch (e) {
    problems.push(problem(null, null, "ballot", e.message));
    return { ok: false, problems };
  }
  for (const p of choiceProblems(
    election,
    audit.answers.map((a) => a.choices),
  )) {
    problems.push(problem(p.question, null, "choices", `the audit's choices are not valid: ${p.message}`));
  }
  const ctx = new Context(election.group, election.publicKey);
  election.questions.forEach((q, i) => {
    const question = i + 1;
    const a = audit.answers[i];
    const ans = ballot.answers[i];
    if (q.homomorphic) {
      if (a.choices.length !== ans.choices.length) return; // reported by choiceProblems
      ans.choices.forEach(([alpha, beta], j) => {
        const answer = q.blank ? j : j + 1;
        const label = q.blank && j === 0 ? "blank" : `answer ${answer}`;
        const r = BigInt(a.randomness[j]);
        if (!ctx.equals(ctx.gpow(r), alpha)) {
          problems.push(
            problem(question, answer, "randomness", `question ${question}, ${label}: the revealed randomness does not give this ciphertext`),
          );
          return;
        }
        const gm = ctx.div(beta, ctx.ypow(r));
        const m = ctx.equals(gm, ctx.identity) ? 0 : ctx.equals(gm, ctx.g) ? 1 : null;
        if (m !== a.choices[j]) {
          const what = m === null ? "neither 0 nor 1" : String(m);
          problems.push(
            problem(question, answer, "plaintext", `question ${question}, ${label}: the ballot encrypts ${what}, the audit says ${a.choices[j]}`),
          );
        }
      });
      return;
    }
    const [alpha, beta] = ans.choices;
    const r = BigInt(a.randomness[0]);
    if (!ctx.equals(ctx.gpow(r), alpha)) {
      problems.push(
        problem(question, null, "randomness", `question ${question}: the revealed randomness does not give this ciphertext`),
      );
      return;
    }
    const emb = election.group.embedding;
    const fits = (v) => Number.isInteger(v) && v >= 0 && v < 2 ** emb.bitsPerInt;
    if (a.choices.length !== q.answers.length || !a.choices.every(fits)) return;
    const xi = election.group.embed(a.choices, a.epsilon);
    if (xi === null || !ctx.equals(ctx.mul(ctx.ypow(r), xi), beta)) {
      problems.push(
        problem(question, null, "plaintext", `question ${question}: the ballot does not encrypt the audit's values`),
      );
    }
  });
  for (const v of await verifyBallot(ballot, election, ctx)) {
    problems.push(problem(v.question, null, "proof", `the ballot is not valid: ${v.message}`));
  }
  return { ok: problems.length === 0, problems };
}
