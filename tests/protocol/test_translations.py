"""Question texts in several languages in a referendum or poll record: the optional
``language`` and ``translations`` fields, strictly checked (errors naming the exact place),
part of the canonical form and fingerprint, and absent from records without them."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from plebiscite.errors import EncodingError
from plebiscite.protocol.referendum import Referendum

UUIDS = ["Ab3dEf5hJk7mNp", "Bc4eFg6iKm8nPq"]
YES_NO = {
    "question": "Do you approve the charter?",
    "answers": ["Yes", "No"],
    "min": 1,
    "max": 1,
    "blank": True,
}
LISTS = {
    "type": "Lists",
    "value": {"question": "Elect the council", "answers": [["Greens", "Ada"], ["Blues", "Cy"]]},
}
NH = {
    "type": "NonHomomorphic",
    "value": {"question": "Rank the options", "answers": ["A", "B", "C"]},
}
UK = {
    "title": "Референдум про хартію",
    "questions": [
        {"question": "Чи схвалюєте ви хартію?", "answers": ["Так", "Ні"]},
        {"question": "Оберіть раду", "answers": [["Зелені", "Ада"], ["Сині", "Сай"]]},
        {"question": "Упорядкуйте варіанти", "answers": ["А", "Б", "В"]},
    ],
}
RU = {
    "title": "Референдум о хартии",
    "questions": [
        {"question": "Одобряете ли вы хартию?", "answers": ["Да", "Нет"]},
        {"question": "Выберите совет", "answers": [["Зелёные", "Ада"], ["Синие", "Сай"]]},
        {"question": "Упорядочьте варианты", "answers": ["А", "Б", "В"]},
    ],
}


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": 1,
        "id": "charter-2030",
        "title": "Charter referendum",
        "questions": [YES_NO, LISTS, NH],
        "regions": [
            {"name": "North", "election": UUIDS[0]},
            {"name": "South", "election": UUIDS[1]},
        ],
        "trustees": {"names": ["Alice", "Bob"]},
        "opening": "2030-05-12T06:00:00Z",
        "closing": "2030-05-12T18:00:00Z",
    }
    base.update(changes)
    return base


def make(**changes: Any) -> Referendum:
    return Referendum.from_json(json.dumps(record(**changes)))


def test_a_record_without_translations_is_unchanged():
    ref = make()
    assert b"translations" not in ref.to_json() and b"language" not in ref.to_json()
    assert ref.language is None and not ref.translations
    assert ref.texts("uk") is None


def test_translations_in_canonical_form_and_round_trip():
    ref = make(language="en", translations={"uk": UK, "ru": RU})
    raw = ref.to_json()
    value = json.loads(raw)
    assert (
        raw == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert list(value["translations"]) == ["ru", "uk"]
    assert value["language"] == "en"
    assert value["translations"]["uk"]["questions"][1]["answers"] == [
        ["Зелені", "Ада"],
        ["Сині", "Сай"],
    ]
    assert "Чи схвалюєте ви хартію?".encode() in raw  # UTF-8, not escaped
    again = Referendum.from_json(raw)
    assert again == ref and again.to_json() == raw
    uk = ref.texts("uk")
    assert uk is not None and uk.title == UK["title"]
    assert uk.questions[0] == ("Чи схвалюєте ви хартію?", ("Так", "Ні"))
    en = ref.texts("en")
    assert en is not None and en.questions[1] == (
        "Elect the council",
        (("Greens", "Ada"), ("Blues", "Cy")),
    )


def test_the_fingerprint_covers_every_translated_text():
    base = make(translations={"uk": UK})
    assert base.fingerprint != make().fingerprint
    changed = copy.deepcopy(UK)
    changed["questions"][0]["answers"][1] = "Так"  # "No" altered into a second "Yes"
    assert make(translations={"uk": changed}).fingerprint != base.fingerprint
    assert make(translations={"uk": UK}, language="en").fingerprint != base.fingerprint
    # the elections keep the original texts: their templates do not depend on translations
    assert base.election_template(base.regions[0]) == make().election_template(make().regions[0])


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    t = copy.deepcopy(UK)
    node: Any = t
    for k in path[:-1]:
        node = node[k]
    if value is DELETE:
        del node[path[-1]]
    elif isinstance(node, list) and path[-1] == len(node):
        node.append(value)
    else:
        node[path[-1]] = value
    return {"uk": t}


DELETE = object()
W = "referendum.translations"

BAD = [
    ({"language": "English"}, "referendum.language", "not a language tag"),
    ({"language": "EN"}, "referendum.language", "not a language tag"),
    ({"translations": {"Ukrainian": UK}}, W, "not a language tag"),
    ({"translations": {"uk-": UK}}, W, "not a language tag"),
    ({"translations": {"en": UK}, "language": "en"}, f"{W}.en", "original texts are in"),
    ({"translations": {}}, W, "at least one translation"),
    ({"translations": []}, W, "expected a JSON object"),
    ({"translations": _with(["title"], "")}, f"{W}.uk.title", "must not be empty"),
    ({"translations": _with(["title"], DELETE)}, f"{W}.uk", "missing field 'title'"),
    ({"translations": _with(["extra"], 1)}, f"{W}.uk", "unknown field 'extra'"),
    ({"translations": _with(["questions", 2], DELETE)}, f"{W}.uk.questions", "expected 3"),
    (
        {"translations": _with(["questions", 0, "answers", 2], "?")},
        f"{W}.uk.questions[0].answers",
        "expected 2",
    ),
    (
        {"translations": _with(["questions", 0, "answers", 1], 3)},
        f"{W}.uk.questions[0].answers[1]",
        "expected a string",
    ),
    (
        {"translations": _with(["questions", 0, "question"], "\ud800")},
        f"{W}.uk.questions[0].question",
        "lone surrogate",
    ),
    (
        {"translations": _with(["questions", 0, "question"], "x" * 10_001)},
        f"{W}.uk.questions[0].question",
        "more than",
    ),
    (
        {"translations": _with(["questions", 1, "answers", 1], ["Сині"])},
        f"{W}.uk.questions[1].answers[1]",
        "expected 2",
    ),
    (
        {"translations": _with(["questions", 1, "answers", 0, 1], "")},
        f"{W}.uk.questions[1].answers[0][1]",
        "must not be empty",
    ),
    (
        {"translations": _with(["questions", 2, "answers", 2], "")},
        f"{W}.uk.questions[2].answers[2]",
        "must not be empty",
    ),
    (
        {"translations": _with(["questions", 0, "blank"], True)},
        f"{W}.uk.questions[0]",
        "unknown field 'blank'",
    ),
]


@pytest.mark.parametrize(("change", "where", "words"), BAD)
def test_malformed_translations_are_refused_naming_the_place(change, where, words):
    with pytest.raises(EncodingError) as e:
        make(**change)
    assert e.value.where == where, str(e.value)
    assert words in str(e.value)


def test_a_poll_record_takes_translations_too():
    poll = record(
        kind="poll",
        assignment="sha256-mod",
        regions=[
            {"name": "shard-1", "election": UUIDS[0]},
            {"name": "shard-2", "election": UUIDS[1]},
        ],
        questions=[YES_NO],
        translations={"uk": {"title": "Опитування", "questions": [UK["questions"][0]]}},
    )
    ref = Referendum.from_json(json.dumps(poll))
    assert ref.is_poll and ref.texts("uk") is not None
    assert Referendum.from_json(ref.to_json()) == ref
