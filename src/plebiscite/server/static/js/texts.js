// A poll's or referendum's own texts (its title, each question and its answers) in the page's
// language, when its record has them (plebiscite.protocol.referendum, "Languages": the
// record's "language" and "translations"). Every page that shows question texts takes them
// from here: the booth, the poll's page, the observer dashboard and the result charts.
//
// `source` is a record, or anything with the record's fields (a poll's status: title,
// questions, language, translations; the booth's voting answer: title, language,
// translations). The texts chosen for a language `lang` (i18n.js's language()):
// the original when `lang` is the record's language, else its translation into `lang`, else
// the one of `lang`'s primary subtag (uk-UA: uk), else one whose primary subtag is that; and
// otherwise the original texts. The texts only change what is shown: the answers stay the
// same answers at the same positions (a translation has as many as the original, row by row
// for a Lists question), so what a voter selects is what the ballot counts.

const primary = (tag) => String(tag).toLowerCase().split("-")[0];

// A question of the record's shape: {question, answers} or {type, value: {question, answers}}.
function plain(q) {
  return q?.value && !q.answers ? q.value : q;
}

/** The language tag of the texts shown in `lang`: the record's own language or one of its
 * translations; null for the original texts in a language the record does not state. */
export function textsLanguage(source, lang) {
  const own = source?.language ?? null;
  const translations = source?.translations ?? {};
  const keys = Object.keys(translations).sort();
  const want = String(lang ?? "");
  const base = primary(want);
  if (own === want) return own;
  if (Object.hasOwn(translations, want)) return want;
  if (own !== null && primary(own) === base) return own;
  if (Object.hasOwn(translations, base)) return base;
  return keys.find((k) => primary(k) === base) ?? own;
}

/** The texts of `source` in `lang`: {lang (the tag of the texts, or null), title,
 * questions: [{question, answers}]} (a Lists question's answers are its rows). */
export function textsOf(source, lang) {
  const tag = textsLanguage(source, lang);
  const translated = tag !== null && tag !== source?.language ? source.translations[tag] : null;
  const original = {
    title: source?.title ?? "",
    questions: (source?.questions ?? []).map((q) => {
      const p = plain(q);
      return { question: p?.question ?? "", answers: p?.answers ?? [] };
    }),
  };
  if (!translated) return { lang: tag, ...original };
  return { lang: tag, title: translated.title, questions: translated.questions };
}

// Whether the translated answers `t` have the shape of the original ones `o`.
function sameShape(o, t) {
  if (!Array.isArray(o) || !Array.isArray(t) || o.length !== t.length) return false;
  return o.every((a, i) =>
    Array.isArray(a) ? Array.isArray(t[i]) && a.length === t[i].length : typeof t[i] === "string",
  );
}

/** The record's questions (its shape) with their texts in `lang`: for the pages that draw
 * questions, charts and tables from them. Everything but the texts is the record's own. */
export function localQuestions(source, lang) {
  const questions = source?.questions ?? [];
  const texts = textsOf(source, lang).questions;
  return questions.map((q, i) => {
    const tr = texts[i];
    const p = plain(q);
    if (!tr || !sameShape(p?.answers, tr.answers)) return q;
    const value = { ...p, question: tr.question, answers: tr.answers };
    return p === q ? value : { ...q, value };
  });
}

/** The booth's questions (the election's, static/js/belenios/questions/) shown in `lang`:
 * each a view of its question whose `question` and `answers` are the texts in `lang` (its
 * form() and review() then say them), every other property and method the question's own. A
 * question whose translation does not have its shape is left as it is. The election's own
 * questions still make and check the ballot. */
export function localElectionQuestions(questions, source, lang) {
  const { lang: tag, questions: texts } = textsOf(source, lang);
  if (tag === null || tag === source?.language || texts.length !== questions.length) return questions;
  return questions.map((q, i) => {
    const tr = texts[i];
    if (!sameShape(q.answers, tr.answers)) return q;
    return Object.create(q, {
      question: { value: tr.question, enumerable: true },
      answers: { value: tr.answers, enumerable: true },
    });
  });
}

/** Mark `node` as being in `tag` (the texts' language, textsOf's lang) when that is not the
 * page's language `lang`: screen readers then read it in its own. */
export function markLanguage(node, tag, lang) {
  if (tag && primary(tag) !== primary(lang)) node.setAttribute("lang", tag);
  else node.removeAttribute("lang");
  return node;
}
