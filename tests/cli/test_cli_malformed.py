"""Malformed input to the command line: a report or a usage error that names what is wrong,
never "internal error" (exit status 3).

``plebiscite verify`` reports an archive with a lone surrogate, a value of the wrong type or
nesting far too deep in any member as INVALID (exit status 1), naming the check and the
event; the options and files that hold JSON (``ballot --choices``, ``method --input`` and
``--answers``, a trustee's private key file) are refused as usage errors (exit status 2) or
invalid input (1).
"""

from __future__ import annotations

import json

import pytest

from conftest import peer_vector
from mutations import DEEP_ARRAY, VERY_DEEP
from plebiscite.cli.common import CommandError
from plebiscite.cli.main import main
from plebiscite.cli.trustee import _private_key
from tamper import Archive


def _damaged(tmp_path, how: str):
    """The 'open' vector with one member damaged (its hash, and those after it, updated)."""
    a = Archive.load(peer_vector("open")[0])
    if how == "surrogate in the election":
        i = a.index_of_hash(a.data(a.payload_index("Setup"))["election"])
        a.replace_content(i, a.entries[i].content.replace(b'"name":"', b'"name":"\\ud800', 1))
        return a.write(tmp_path / "bad.bel"), i
    i = a.payload_index("Ballot", 1)
    if how == "deep ballot":
        content = a.entries[i].content.replace(
            b'"answers":', b'"answers":' + DEEP_ARRAY.encode() + b',"x":', 1
        )
    elif how == "very deep ballot":
        content = VERY_DEEP.encode()
    elif how == "ballot proof of the wrong type":
        b = a.data(i)
        b["signature"]["proof"] = [b["signature"]["proof"]]
        content = json.dumps(b, separators=(",", ":")).encode()
    else:  # an event's height of the wrong type
        events = [k for k, e in enumerate(a.entries) if e.kind == "event"]
        i = events[2]
        e = json.loads(a.entries[i].content)
        e["height"] = str(e["height"])
        content = json.dumps(e, separators=(",", ":")).encode()
    a.replace_content(i, content)
    return a.write(tmp_path / "bad.bel"), i


@pytest.mark.parametrize(
    "how",
    [
        "surrogate in the election",
        "deep ballot",
        "very deep ballot",
        "ballot proof of the wrong type",
        "event height of the wrong type",
    ],
)
def test_verify_reports_a_malformed_member_as_invalid(tmp_path, capsys, how):
    bad, _ = _damaged(tmp_path, how)
    assert main(["verify", "--jobs", "1", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert "INVALID" in out and "internal error" not in err, out + err
    assert main(["verify", "--json", "--jobs", "1", str(bad)]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert findings and findings[0]["check"] and findings[0]["message"]
    assert findings[0]["height"] is not None or findings[0]["where"], findings[0]


@pytest.mark.parametrize(
    "choices",
    [
        DEEP_ARRAY,
        VERY_DEEP,
        '[["\\ud800"]]',
        "[[[1, 0]]]",
        "[[[1, 0]], [[0, 1, 0]]]",
        "[[1, 0], [0, 1, 0, 0, 0]]",
        "[[1, 0], [true, false, false]]",
        '[[1, "0"]]',
        "[[1, 0]",
        '{"a": 1}',
        "7",
    ],
)
def test_ballot_choices_malformed_are_a_usage_error(capsys, choices):
    archive, meta = peer_vector("open")
    argv = ["ballot", "--archive", str(archive), "--credential", meta["private_credentials"][0]]
    assert main([*argv, "--choices", choices]) == 2
    err = capsys.readouterr().err
    assert err.startswith("plebiscite ballot: ") and "internal error" not in err, err


@pytest.mark.parametrize("text", [DEEP_ARRAY, VERY_DEEP, '"\\udc00"', "[1, 2] x"])
def test_method_input_and_answers_malformed_are_refused(tmp_path, capsys, text):
    path = tmp_path / "ballots.json"
    path.write_text(text)
    assert main(["method", "schulze", "--blank-allowed", "false", "--input", str(path)]) in (1, 2)
    assert "internal error" not in capsys.readouterr().err
    path.write_text("[[1, 2], [2, 1]]")
    argv = ["method", "schulze", "--blank-allowed", "false", "--input", str(path), "--summary"]
    argv += ["--answers", text]
    assert main(argv) == 2
    assert "--answers" in capsys.readouterr().err


@pytest.mark.parametrize("text", [DEEP_ARRAY, VERY_DEEP, '"\\ud800"', "[]", "true", "1.5", ""])
def test_a_malformed_private_key_file_is_a_usage_error(tmp_path, text):
    path = tmp_path / "key"
    path.write_text(text)
    with pytest.raises(CommandError, match="not a private key file") as e:
        _private_key(str(path))
    assert e.value.status == 2
