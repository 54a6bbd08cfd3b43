// The booth's forms, one per widget a question's form() names (static/js/belenios/questions/):
//   render(fs, form, {id, index, old})  draw the inputs into the question's fieldset `fs`
//                                       (`id` "q1"..., `index` the question from 0, `old` the
//                                       vote to show again, or undefined)
//   read(fs, form)                      the vote the inputs say, in the question's shape
//   focus(fs, problem)                  the input to fix for a problem of choiceProblem
// A new kind of question names one of these widgets, or brings its own here.

import { $, $all, el } from "./dom.js";
import { t } from "./i18n.js";

/** A text of a question's description: {text} shown as it is, {key, params} translated. */
export function textOf(d) {
  return d.key ? t(d.key, d.params) : d.text;
}

// -- "choose": tick between min and max answers (homomorphic questions) ------------------------

const choose = {
  render(fs, form, { id, index, old }) {
    const { single, offset } = form;
    const option = (j, label, checked) => {
      const inputId = `${id}-a${j}`;
      return el(
        "div",
        { class: "field inline" },
        el("input", {
          type: single ? "radio" : "checkbox",
          name: id,
          id: inputId,
          checked,
          dataset: { question: index, answer: j },
        }),
        el("label", { for: inputId, text: label }),
      );
    };
    form.answers.forEach((a, j) =>
      fs.append(option(j + 1, textOf(a), old ? old[j + offset] === 1 : false)),
    );
    if (form.none) {
      const none = old && !old.slice(offset).includes(1) && !(form.blank && old[0] === 1);
      const node = option("none", t("booth.no-answer"), none);
      node.querySelector("label").dataset.i18n = "booth.no-answer";
      fs.append(node);
    }
    if (form.blank) {
      const node = option(0, t("booth.blank"), old ? old[0] === 1 : false);
      node.querySelector("label").dataset.i18n = "booth.blank";
      if (!single) {
        // a blank vote clears the answers, an answer clears the blank vote
        node.querySelector("input").addEventListener("change", (e) => {
          if (e.target.checked) {
            for (const x of $all('input[data-answer]:not([data-answer="0"])', fs)) x.checked = false;
          }
        });
      }
      fs.append(node);
      if (!single) {
        for (const x of $all('input[data-answer]:not([data-answer="0"])', fs)) {
          x.addEventListener("change", () => {
            if (x.checked) fs.querySelector('input[data-answer="0"]').checked = false;
          });
        }
      }
    }
  },

  read(fs, form) {
    const vote = new Array(form.answers.length + form.offset).fill(0);
    for (const x of $all("input", fs)) {
      if (!x.checked || x.dataset.answer === "none") continue;
      const j = Number(x.dataset.answer);
      vote[j === 0 ? 0 : j - 1 + form.offset] = 1;
    }
    return vote;
  },

  focus(fs) {
    return $("input", fs);
  },
};

// -- "rank": a number for each answer (non-homomorphic questions) ------------------------------

const rank = {
  render(fs, form, { id, index, old }) {
    form.answers.forEach((a, j) => {
      const inputId = `${id}-a${j + 1}`;
      fs.append(
        el(
          "div",
          { class: "field inline" },
          el("input", {
            type: "number",
            id: inputId,
            min: form.min,
            max: form.max,
            value: old ? old[j] : "",
            dataset: { question: index, answer: j },
          }),
          el("label", { for: inputId, text: textOf(a) }),
        ),
      );
    });
  },

  read(fs) {
    return $all("input", fs).map((x) => (x.value === "" ? -1 : Number(x.value)));
  },

  focus(fs) {
    return $("input", fs);
  },
};

// -- "lists": one list, then candidates of that list (Lists questions) --------------------------

// Each list is a fieldset of its own: a radio button choosing the list (one name for the whole
// question), then a checkbox per candidate. The inputs carry data-list (from 0) and data-entry
// (0 for the list itself, j for its candidate j), the place of their 0/1 in the vote.
const lists = {
  render(fs, form, { id, index, old }) {
    form.lists.forEach((list, i) => {
      const lid = `${id}-l${i + 1}`;
      const name = textOf(list.name);
      const entry = (j, type, inputId, label) =>
        el(
          "div",
          { class: "field inline" },
          el("input", {
            type,
            name: type === "radio" ? `${id}-list` : undefined,
            id: inputId,
            checked: old?.[i]?.[j] === 1,
            dataset: { question: index, list: i, entry: j },
          }),
          el("label", { for: inputId, text: label }),
        );
      const box = el(
        "fieldset",
        { class: "list", id: lid },
        el("legend", { text: name }),
        entry(0, "radio", `${lid}-list`, t("booth.lists-pick", { list: name })),
      );
      list.candidates.forEach((c, j) =>
        box.append(entry(j + 1, "checkbox", `${lid}-c${j + 1}`, textOf(c))),
      );
      fs.append(box);
    });
  },

  read(fs, form) {
    const vote = form.lists.map((list) => new Array(list.candidates.length + 1).fill(0));
    for (const x of $all("input[data-entry]", fs)) {
      if (x.checked) vote[Number(x.dataset.list)][Number(x.dataset.entry)] = 1;
    }
    return vote;
  },

  focus(fs, p) {
    const list = p.list === undefined ? null : p.list - 1;
    if (p.code === "other_list") return $(`input[data-list="${list}"]:checked`, fs);
    if (p.code === "no_candidate") return $(`input[data-list="${list}"][data-entry="1"]`, fs);
    return $('input[data-entry="0"]', fs);
  },
};

export const WIDGETS = { choose, rank, lists };

/** The rendering of a question's form (throws for a widget the booth does not know). */
export function widgetOf(form) {
  const w = Object.hasOwn(WIDGETS, form.widget) ? WIDGETS[form.widget] : undefined;
  if (!w) throw new Error(`the booth cannot show a question of the form ${form.widget}`);
  return w;
}
