"""The independent audit page (/audit) in Chromium: the voter pastes or loads the election, the
audited ballot and the audit data and sees the verdict, in their language."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

CHOICES = [[0, 0, 1, 0], [0, 1, 1], [1, 0]]


def _audited(js, vector_election):
    raw, creds = vector_election("blank")
    made = js(
        "return await core.makeBallot(args[0], args[1], args[2]);", raw.decode(), creds[0], CHOICES
    )
    return raw.decode(), made


def _axe(page) -> list[str]:
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate("async () => (await axe.run()).violations.map((v) => v.id)")
    return list(result)


def test_a_true_audit_is_confirmed_with_the_choices(page, js, shots, vector_election):
    election, made = _audited(js, vector_election)
    page.goto("https://booth.test/audit")
    page.wait_for_selector("#check")
    page.fill("#election", election)
    page.fill("#ballot", made["ballot"])
    page.fill("#audit", json.dumps(made["audit"]))
    page.click("#check")
    page.wait_for_selector("#status.ok")
    shots.take(page, "ok")
    assert "encrypts exactly the choices" in page.text_content("#status")
    assert page.text_content("#tracker") == made["tracker"]
    assert page.locator("#problems li").count() == 0
    choices = page.text_content("#choices")
    assert "Green" in choices and "Tea" in choices and "Coffee" in choices and "Yes" in choices
    assert page.evaluate("document.activeElement.id") == "result-heading"
    if page.evaluate("fetch('/static/vendor/axe-core/axe.min.js').then((r) => r.ok)"):
        assert _axe(page) == []
    assert page.js_errors == []


def test_a_changed_choice_is_caught_and_named(page, js, shots, vector_election):
    election, made = _audited(js, vector_election)
    audit = json.loads(json.dumps(made["audit"]))
    audit["answers"][0]["choices"] = [0, 1, 0, 0]  # "Red" instead of "Green"
    page.goto("https://booth.test/audit")
    page.wait_for_selector("#check")
    page.fill("#election", election)
    page.fill("#ballot", made["ballot"])
    page.fill("#audit", json.dumps(audit))
    page.click("#check")
    page.wait_for_selector("#status.error")
    shots.take(page, "caught")
    problems = page.locator("#problems li").all_text_contents()
    assert problems == [
        "Question 1, “Red”: the ballot does not encrypt what the audit says.",
        "Question 1, “Green”: the ballot does not encrypt what the audit says.",
    ]
    assert page.text_content("#choices") == ""  # no choices shown for a failed audit
    page.select_option("[data-lang-select]", "uk")
    page.locator("html[lang=uk]").wait_for(state="attached")  # (a CSP page: no eval'd predicate)
    shots.take(page, "uk")
    assert "Перевірка не пройдена: 2 проблеми." in page.text_content("#status")
    assert page.locator("#problems li").first.text_content().startswith("Питання 1, «Red»")


def test_the_booths_audit_file_fills_the_form(page, js, shots, vector_election, tmp_path):
    election, made = _audited(js, vector_election)
    bundle = tmp_path / "audit.json"
    bundle.write_text(
        json.dumps({"election": election, "ballot": made["ballot"], "audit": made["audit"]})
    )
    page.goto("https://booth.test/audit")
    page.wait_for_selector("#check")
    page.set_input_files("#bundle", str(bundle))
    page.locator("#status", has_text="audit file is loaded").wait_for()
    page.click("#check")
    page.wait_for_selector("#status.ok")
    # empty fields are named, not checked
    page.fill("#ballot", "")
    page.click("#check")
    page.wait_for_selector("#status.error")
    assert page.get_attribute("#ballot", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "ballot"
