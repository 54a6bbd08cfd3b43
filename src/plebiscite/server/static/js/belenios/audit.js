// Benaloh's challenge ("audit this ballot"): a ballot that will not be cast reveals the
// randomness of every ciphertext, and anyone re-encrypts the stated choices with it and
// compares. The audit object and the problems are those of src/plebiscite/protocol/audit.py
// (same codes, same numbering: `question` 1-based, `answer` the 1-based answer number, 0 for
// the blank slot, null when a problem is about the whole question or ballot; for a Lists
// question `list` the 1-based list and `answer` 0 for the list itself, j for its candidate j).
// What an answer's ciphertexts must be is its question's (questions/: auditShape,
// auditAnswer).

import { choiceProblems, parseBallot, verifyBallot } from "./ballot.js";
import { hJson, utf8 } from "./hash.js";
import { trimBytes } from "./election.js";
import { Context } from "./proofs.js";

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
    const where = `question ${i + 1}`;
    if (!isObject(a) || !Array.isArray(a.choices) || !Array.isArray(a.randomness)) {
      return bad(`${where}: expected {choices, randomness}`);
    }
    const wrong = election.questions[i].auditShape(election.group, a);
    if (wrong) return bad(`${where}: ${wrong}`);
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
    for (const p of q.auditAnswer(ctx, audit.answers[i], ballot.answers[i])) {
      const where = p.label ? `question ${question}, ${p.label}` : `question ${question}`;
      const found = problem(question, p.answer, p.code, `${where}: ${p.detail}`);
      if (p.list !== undefined) found.list = p.list; // Lists: the list (1-based) of the answer
      problems.push(found);
    }
  });
  for (const v of await verifyBallot(ballot, election, ctx)) {
    problems.push(problem(v.question, null, "proof", `the ballot is not valid: ${v.message}`));
  }
  return { ok: problems.length === 0, problems };
}
