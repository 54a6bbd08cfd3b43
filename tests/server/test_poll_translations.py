"""A poll's texts in several languages over the API, in process (real SQLite board): the
request's ``language`` and ``translations`` go into the poll's record, which checks them; the
status, the referendum's status, the record board and the booth's ``voting`` answer carry them;
they are part of the fingerprint while the shards' elections keep the original texts; the
result card and the link previews are in their language; bad ones are refused naming the
request's field, and nothing is made."""

from __future__ import annotations

import io
import json

import pytest

from plebiscite.cli.demo_server import demo_record
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.record import read_record
from plebiscite.protocol.referendum import Referendum
from plebiscite.render.card import card_of_status
from plebiscite.server.cards import catalogue, in_language

from .test_polls import ADMIN, client, create, poll

__all__ = ["client"]

UK = {
    "title": "Де поїмо?",
    "questions": [{"question": "Де поїмо?", "answers": ["Піца", "Суші"]}],
}
RU = {
    "title": "Где поедим?",
    "questions": [{"question": "Где поедим?", "answers": ["Пицца", "Суши"]}],
}


def test_translations_in_the_record_the_status_and_the_fingerprint(client):
    created = create(client, poll(language="en", translations={"uk": UK, "ru": RU}))
    pid = created["id"]
    st = client.get(f"/api/polls/{pid}").json()
    assert created["poll"]["translations"] == st["translations"] == {"ru": RU, "uk": UK}
    assert st["language"] == "en"
    # the referendum's status: the record as it is, with its fingerprint
    ref = client.get(f"/api/referendums/{pid}").json()
    assert ref["record"]["language"] == "en"
    assert ref["record"]["translations"] == {"ru": RU, "uk": UK}
    record = Referendum.from_json(json.dumps(ref["record"]))
    assert record.texts("uk") is not None and record.texts("uk").title == "Де поїмо?"
    assert record.fingerprint == ref["fingerprint"] == st["fingerprint"]
    # the translations are part of it: without them, another fingerprint
    bare = {k: v for k, v in ref["record"].items() if k not in ("translations", "language")}
    assert Referendum.from_json(json.dumps(bare)).fingerprint != ref["fingerprint"]
    # the record board holds them, signed
    raw = client.get(f"/api/referendums/{pid}/record").content
    board = read_record(iter_members(io.BytesIO(raw)))
    assert board.record.translations == record.translations
    assert board.record.fingerprint == st["fingerprint"]
    # the shard's election keeps the original texts; its booth learns the translations
    (shard,) = st["shards"]
    election = client.get(f"/api/elections/{shard['election']}/election").json()
    assert election["questions"][0]["question"] == "Where shall we eat?"
    assert election["questions"][0]["answers"] == ["Pizza", "Sushi"]
    voting = client.get(f"/api/elections/{shard['election']}/voting").json()
    assert voting["referendum"]["language"] == "en"
    assert voting["referendum"]["translations"] == {"ru": RU, "uk": UK}


def test_a_poll_without_translations_says_so(client):
    st = create(client, poll())["poll"]
    assert st["language"] is None and st["translations"] == {}
    ref = client.get(f"/api/referendums/{st['id']}").json()
    assert "translations" not in ref["record"] and "language" not in ref["record"]
    voting = client.get(f"/api/elections/{st['shards'][0]['election']}/voting").json()
    assert voting["referendum"]["translations"] == {}


def test_a_lists_question_translated_row_by_row(client):
    lists = {
        "type": "Lists",
        "value": {
            "question": "Vote for a list",
            "answers": [["Greens", "Ann", "Bob"], ["Blues", "Cy"]],
        },
    }
    uk = {
        "title": "Виберіть список",
        "questions": [
            {
                "question": "Голосуйте за список",
                "answers": [["Зелені", "Анна", "Боб"], ["Сині", "Сай"]],
            }
        ],
    }
    st = create(client, poll(questions=[lists], title="Lists", translations={"uk": uk}))["poll"]
    assert st["translations"] == {"uk": uk} and st["language"] is None


def _uk(**changes):
    out = json.loads(json.dumps(UK))
    for k, v in changes.items():
        if k == "answers":
            out["questions"][0]["answers"] = v
        else:
            out[k] = v
    return out


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            {"translations": {"uk": _uk(answers=["Піца", 3])}},
            "request.translations.uk.questions[0].answers[1]",
            "",
        ),
        (
            {"translations": {"uk": _uk(answers=["Піца"])}},
            "request.translations.uk.questions[0].answers",
            "",
        ),
        (
            {"translations": {"uk": _uk(answers=["Піца", ""])}},
            "request.translations.uk.questions[0].answers[1]",
            "",
        ),
        (
            {"translations": {"uk": {**UK, "questions": UK["questions"] * 2}}},
            "request.translations.uk.questions",
            "",
        ),
        ({"translations": {"uk": {"questions": UK["questions"]}}}, "request.translations.uk", ""),
        ({"translations": {"UK": UK}}, "request.translations", "not a language tag"),
        ({"translations": {}}, "request.translations", "at least one"),
        ({"translations": ["uk"]}, "request.translations", "JSON object"),
        ({"language": "English"}, "request.language", "not a language tag"),
        (
            {"language": "uk", "translations": {"uk": UK}},
            "request.translations.uk",
            "original texts are in 'uk'",
        ),
    ],
)
def test_bad_translations_are_refused_naming_the_field(client, change, where, message):
    r = client.post("/api/polls", json=poll(**change), headers=ADMIN)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["where"] == where and error["message"].startswith(where), error
    assert message in error["message"]
    assert client.get("/api/polls").json() == []  # nothing made
    assert client.get("/api/referendums").json() == []


def test_the_demo_referendum_has_ukrainian_and_russian_texts():
    for ranking in (False, True):
        rec = demo_record("demo-x", ["North", "South"], ranking=ranking)
        rec["regions"] = [{**r, "election": f"{i + 1:z>14}"} for i, r in enumerate(rec["regions"])]
        record = Referendum.from_json(json.dumps(rec))
        assert record.language == "en" and sorted(record.translations) == ["ru", "uk"]
        uk, ru = record.translations["uk"], record.translations["ru"]
        assert uk.questions[0] == ("Чи схвалюєте ви пропозицію?", ("Так", "Ні"))
        assert ru.questions[0] == ("Вы одобряете предложение?", ("Да", "Нет"))
        assert len(uk.questions) == len(record.questions) == (3 if ranking else 2)


def test_a_board_not_made_yet_tells_the_booth_the_translations(client):
    """A poll waiting for its trustees has no board yet: the booth's voting answer says when
    it opens, with the record's texts in other languages."""
    st = create(client, poll(trustees={"names": ["Alice"]}, translations={"uk": UK}))["poll"]
    assert st["state"] == "ceremony"
    voting = client.get(f"/api/elections/{st['shards'][0]['election']}/voting").json()
    assert voting["status"] == "scheduled" and voting["accepting"] is False
    assert voting["referendum"]["translations"] == {"uk": UK}


def test_the_card_and_the_link_preview_in_their_language(client):
    pid = create(client, poll(language="en", translations={"uk": UK, "ru": RU}))["id"]
    status = client.get(f"/api/referendums/{pid}").json()
    for lang, title, question in (
        ("en", "Where shall we eat?", "Where shall we eat?"),
        ("uk", "Де поїмо?", "Де поїмо?"),
        ("ru", "Где поедим?", "Где поедим?"),
    ):
        card = card_of_status(in_language(status, lang), catalogue(lang), lang)
        assert (card.title, card.question) == (title, question)
        page = client.get(f"/poll/{pid}", headers={"accept-language": lang}).text
        assert question in page.split("</title>", 1)[0], lang
    assert in_language(status, "de") is status  # no German: the original texts
    r = client.get(f"/api/polls/{pid}/card.png?lang=uk")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content != client.get(f"/api/polls/{pid}/card.png?lang=en").content
    # after the close, the counts are the answers' by position, named in the language
    client.post(f"/api/polls/{pid}/close", headers=ADMIN)
    closed = in_language(client.get(f"/api/referendums/{pid}").json(), "uk")
    card = card_of_status(closed, catalogue("uk"), "uk")
    assert [r.label for r in card.charts[0].rows][:2] == ["Піца", "Суші"]


def test_a_translation_of_a_regional_tag_is_chosen_by_its_primary_subtag(client):
    pid = create(client, poll(translations={"uk-UA": UK}))["id"]
    status = client.get(f"/api/referendums/{pid}").json()
    assert in_language(status, "uk")["title"] == "Де поїмо?"
    assert in_language(status, "ru") is status
