"""A poll's texts in the voter's language (Debian's Chromium against a real server): a poll
with Ukrainian and Russian texts; its page and its booth in Ukrainian show the Ukrainian title,
question and answers, and switching the page's language switches them; the vote cast in
Ukrainian selects the answer at the same position (checked on the result, counted by the
server from the election's original texts), the charts name it in the page's language and the
observer dashboard too; a Lists question row by row; the demo referendum's dashboard and booth
in Ukrainian and Russian; every state axe-clean."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx
import pytest

from .live import LiveServer, demo_server
from .test_a11y import _serious, _watch

__all__ = ["demo_server"]

pytestmark = pytest.mark.browser

ANSWERS = ["Pizza", "Sushi", "Noodles"]
TEXTS = {
    "uk": {
        "title": "Обід у п'ятницю",
        "questions": [{"question": "Де поїмо?", "answers": ["Піца", "Суші", "Локшина"]}],
    },
    "ru": {
        "title": "Обед в пятницу",
        "questions": [{"question": "Где поедим?", "answers": ["Пицца", "Суши", "Лапша"]}],
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A server that cannot send mail: the poll's credentials go to its organiser (here)."""
    s = LiveServer(tmp_path_factory.mktemp("poll-translations"), demo=False, mail=False)
    try:
        yield s
    finally:
        s.stop()


def _create(server: LiveServer) -> dict:
    closing = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    r = httpx.post(
        f"{server.base}/api/polls",
        json={
            "title": "Friday lunch",
            "question": "Where shall we eat?",
            "answers": ANSWERS,
            "closing": closing,
            "voters": {"emails": ["ann@example.org", "bob@example.org"]},
            "language": "en",
            "translations": TEXTS,
        },
        headers={"authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _language(page, lang: str) -> None:
    page.select_option("[data-lang-select]", lang)
    page.locator(f"html[lang={lang}]").wait_for(state="attached")


def _labels(page) -> list[str]:
    return [page.text_content(f"label[for='q1-a{j}']") for j in (1, 2, 3)]


def test_the_poll_page_and_the_booth_in_the_voters_language(page, shots, server: LiveServer):
    created = _create(server)
    pid = created["id"]
    foreign, no_csp = _watch(page, server.base)

    # the poll's page: in English the original texts, in Ukrainian and Russian theirs
    page.goto(f"{server.base}/poll/{pid}")
    page.wait_for_selector("#poll:not([hidden])")
    assert page.text_content("#title") == "Friday lunch"
    assert page.text_content("#questions h3") == "Where shall we eat?"
    _language(page, "uk")
    page.wait_for_selector('#title:text-is("Обід у п\'ятницю")')
    assert page.text_content("#questions h3") == "Де поїмо?"
    items = page.locator("#questions li").all_text_contents()
    assert items == ["Піца", "Суші", "Локшина"]
    assert page.get_attribute("#title", "lang") is None  # in the page's own language
    shots.take(page, "poll-uk")
    assert _serious(page) == []
    _language(page, "ru")
    page.wait_for_selector("#title:text-is('Обед в пятницу')")
    assert page.locator("#questions li").all_text_contents() == ["Пицца", "Суши", "Лапша"]
    assert _serious(page) == []

    # the booth, in Ukrainian (the language chosen stays chosen)
    _language(page, "uk")
    first = created["credentials"][0]
    page.goto(
        f"{server.base}/booth/{first['election']}#credential={quote(first['credential'], safe='')}"
    )
    page.wait_for_selector("#credential-next:focus")
    page.wait_for_selector('#election-name:text-is("Обід у п\'ятницю (shard-1)")')
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-questions:not([hidden])")
    assert page.text_content("#q1 legend") == "Де поїмо?"
    assert _labels(page) == ["Піца", "Суші", "Локшина"]
    shots.take(page, "booth-uk")
    assert _serious(page) == []
    # switching the language switches the texts, and keeps what was ticked
    page.click("label[for='q1-a3']")  # Локшина: the third answer
    _language(page, "ru")
    page.wait_for_selector("#q1 legend:text-is('Где поедим?')")
    assert _labels(page) == ["Пицца", "Суши", "Лапша"]
    assert page.is_checked("#q1-a3")
    _language(page, "en")
    page.wait_for_selector("#q1 legend:text-is('Where shall we eat?')")
    assert _labels(page) == ANSWERS
    assert page.text_content("#election-name") == "Friday lunch (shard-1)"
    _language(page, "uk")
    page.wait_for_selector("#q1 legend:text-is('Де поїмо?')")
    assert page.is_checked("#q1-a3")
    page.click("#encrypt")
    page.wait_for_selector("#step-review:not([hidden])", timeout=30_000)
    assert "Локшина" in page.text_content("#review-choices")
    assert "Де поїмо?" in page.text_content("#review-choices")
    assert _serious(page) == []
    page.click("#cast")
    page.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    assert page.js_errors == []

    # the result: the third answer, as the election counts it, named in the page's language
    r = httpx.post(
        f"{server.base}/api/polls/{pid}/close",
        headers={"authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.json()["result"]["pooled"]["result"] == [[0, 0, 1]]
    page.goto(f"{server.base}/poll/{pid}")
    page.wait_for_selector("#result table.chart-table")
    rows = page.locator("#result table.chart-table tbody tr")
    assert [rows.nth(i).locator("th").text_content() for i in range(3)] == [
        "Піца",
        "Суші",
        "Локшина",
    ]
    counts = page.locator("#result td[data-count]")
    assert counts.evaluate_all("c => c.map(x => x.dataset.count)") == ["0", "0", "1"]
    assert page.text_content("#result figure h4") == "Де поїмо?"
    assert _serious(page) == []
    _language(page, "ru")
    page.wait_for_selector("#result figure h4:text-is('Где поедим?')")
    assert rows.nth(2).locator("th").text_content() == "Лапша"

    # the observer dashboard: the title, the questions and the counts in the page's language
    page.goto(f"{server.base}/observe/{pid}")
    page.wait_for_selector("#title:text-is('Обед в пятницу')")
    page.wait_for_selector("#questions .card")
    assert "Где поедим?" in page.text_content("#questions")
    assert "Лапша" in page.text_content("#questions")
    page.wait_for_selector("#result-tables table")
    assert "Лапша" in page.text_content("#result-tables")
    assert _serious(page) == []
    _language(page, "en")
    page.wait_for_selector("#title:text-is('Friday lunch')")
    assert "Noodles" in page.text_content("#result-tables")
    assert page.js_errors == []
    assert foreign == [] and no_csp == []


def test_the_demo_referendum_in_ukrainian_and_russian(page, shots, demo_server: LiveServer):
    server = demo_server
    page.goto(f"{server.base}/observe/{server.rid}")
    page.wait_for_selector("#questions .card")
    assert "Do you approve the proposal?" in page.text_content("#questions")
    _language(page, "uk")
    page.wait_for_selector("#title:text-is('Демонстраційний референдум plebiscite')")
    text = page.text_content("#questions")
    assert "Чи схвалюєте ви пропозицію?" in text and "Варіант Б" in text
    assert "Так" in page.text_content("#rule")  # the decision rule names the answer
    shots.take(page, "demo-dashboard-uk")
    assert _serious(page) == []
    _language(page, "ru")
    page.wait_for_selector("#title:text-is('Демонстрационный референдум plebiscite')")
    assert "Какой вариант вы предпочитаете?" in page.text_content("#questions")

    region, _login, credential = server.credentials()[-6]
    election = httpx.get(
        f"{server.base}/api/referendums/{server.rid}/regions/{region}/election", timeout=30
    ).json()
    page.goto(f"{server.base}/booth/{election['uuid']}#credential={quote(credential, safe='')}")
    page.wait_for_selector("#credential-next:focus")
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-questions:not([hidden])")
    assert page.text_content("#q1 legend") == "Вы одобряете предложение?"
    assert page.text_content("#q2 legend") == "Какой вариант вы предпочитаете?"
    assert [page.text_content(f"label[for='q1-a{j}']") for j in (1, 2)] == ["Да", "Нет"]
    assert page.text_content("#election-name") == (
        f"Демонстрационный референдум plebiscite ({region})"
    )
    assert _serious(page) == []
    assert page.js_errors == []


def test_a_lists_question_in_the_booth_in_ukrainian(page, shots, server: LiveServer):
    """A Lists question's translation, row by row: each list and candidate in Ukrainian, the
    ballot's 0/1 at the list's and the candidate's own places."""
    closing = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    lists = [["Greens", "Ann", "Bob"], ["Blues", "Cy", "Dee"]]
    uk = [["Зелені", "Анна", "Боб"], ["Сині", "Сай", "Ді"]]
    r = httpx.post(
        f"{server.base}/api/polls",
        json={
            "title": "Council",
            "questions": [
                {"type": "Lists", "value": {"question": "Vote for a list", "answers": lists}}
            ],
            "closing": closing,
            "voters": {"emails": ["ann@example.org"]},
            "translations": {
                "uk": {
                    "title": "Рада",
                    "questions": [{"question": "Голосуйте за список", "answers": uk}],
                }
            },
        },
        headers={"authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    (cred,) = created["credentials"]
    page.goto(f"{server.base}/poll/{created['id']}")
    page.wait_for_selector("#poll:not([hidden])")
    _language(page, "uk")
    page.goto(
        f"{server.base}/booth/{cred['election']}#credential={quote(cred['credential'], safe='')}"
    )
    page.wait_for_selector("#credential-next:focus")
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-questions:not([hidden])")
    assert page.text_content("#q1 > legend") == "Голосуйте за список"
    assert page.locator("#q1 fieldset.list > legend").all_text_contents() == ["Зелені", "Сині"]
    assert page.text_content("label[for='q1-l2-c2']") == "Ді"
    assert "Сині" in page.text_content("label[for='q1-l2-list']")
    shots.take(page, "booth-lists-uk")
    assert _serious(page) == []
    page.click("label[for='q1-l2-list']")
    page.click("label[for='q1-l2-c2']")  # Ді: the second candidate of the second list
    page.click("#encrypt")
    page.wait_for_selector("#step-review:not([hidden])", timeout=30_000)
    review = page.text_content("#review-choices")
    assert "Сині" in review and "Ді" in review and "Dee" not in review
    page.click("#cast")
    page.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    r = httpx.post(
        f"{server.base}/api/polls/{created['id']}/close",
        headers={"authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.json()["result"]["pooled"]["result"] == [[[0, 0, 0], [1, 0, 1]]]
    assert page.js_errors == []
