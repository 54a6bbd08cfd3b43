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
import random
from collections import Counter

import pytest

from cli.test_cli_elections import YES_NO, credentials, setup_election
from cli_run import cli, ok
from conftest import peer_vector
from mutations import DEEP_ARRAY, VERY_DEEP, examples, mutants
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


# -- the files of an election made with the command line, each replaced by malformed variants --

STEPS = {
    # file: the command that reads it (run in the election's directory)
    "template.json": ["admin", "make-election", "--uuid", "{uuid}", "--template", "template.json"],
    "public_keys.jsons": ["admin", "make-trustees"],
    "election.json": ["admin", "init-archive"],
    "trustees.json": ["admin", "init-archive"],
    "public_creds.json": ["admin", "init-archive"],
    "ballot": ["admin", "add-event", "--type", "Ballot"],
}


@pytest.fixture(scope="module")
def election_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-malformed")
    uuid = setup_election(d, "Ed25519", [YES_NO], "a@example.org\nb@example.org\n", 2)
    choices = json.dumps([[1, 0]])
    ballot = ok(["ballot", "--credential", credentials(d)[0], "--choices", choices], cwd=d)
    return d, uuid, ballot.strip().encode()


@pytest.mark.parametrize("name", sorted(STEPS))
def test_every_malformed_setup_file_or_ballot_is_refused_never_an_internal_error(
    election_dir, name
):
    d, uuid, ballot = election_dir
    archive = next(d.glob("*.bel"))
    kept = archive.read_bytes()
    original = ballot if name == "ballot" else (d / name).read_bytes()
    argv = [a.format(uuid=uuid) for a in STEPS[name]]
    failures, answers = [], Counter()
    try:
        for m in mutants(original, random.Random(name), examples(12)):
            if name == "ballot":
                rc, out = cli(argv, stdin=m.body, cwd=d)
            else:
                (d / name).write_bytes(m.body)
                if name != "template.json":
                    archive.unlink(missing_ok=True)  # init-archive writes a new one
                rc, out = cli(argv, cwd=d)
            answers[rc] += 1
            if rc == 3 or "internal error" in out or "Traceback" in out:
                failures.append(f"{name} ({m.kind}: {m.where}): {rc} {out[-300:]}")
    finally:
        if name != "ballot":
            (d / name).write_bytes(original)
        archive.write_bytes(kept)
    assert not failures, "\n".join(failures[:20])
    assert answers[0] < sum(answers.values()), answers  # some were refused


# -- the threshold ceremony's files (trustee-threshold, 3.x in Ed25519) ------------------------


@pytest.fixture(scope="module")
def ceremony_dir(tmp_path_factory):
    from plebiscite.crypto.groups import ED25519
    from plebiscite.crypto.rand import DeterministicRandom
    from plebiscite.protocol import ceremony

    d = tmp_path_factory.mktemp("cli-ceremony")
    rng, g = DeterministicRandom("cli ceremony"), ED25519
    secrets = [ceremony.make_certificate(g, rng, (z, 2, 3)) for z in range(1, 4)]
    certs = "".join(s.cert + "\n" for s in secrets)
    polys = "".join(ceremony.make_polynomial(g, certs, s.seed, 2, rng) + "\n" for s in secrets)
    vinputs = dict(ceremony.make_vinputs(g, certs, polys))
    s = secrets[0]
    voutputs = "".join(
        ceremony.make_voutput(g, certs, t.seed, vinputs[t.id], rng) + "\n" for t in secrets
    )
    files = {
        "certs.jsons": certs,
        "polynomials.jsons": polys,
        "trustee.key": s.seed + "\n",
        "trustee.vinput": vinputs[s.id],
        "voutputs.jsons": voutputs,
    }
    for name, text in files.items():
        (d / name).write_text(text)
    return d


CEREMONY_STEPS = {
    # the file each step reads: its command line (the last file on stdin)
    "certs.jsons": ["--certs", "certs.jsons", "--step", "2"],
    "polynomials.jsons": ["--certs", "certs.jsons", "--polynomials", "polynomials.jsons"],
    "trustee.key": ["--certs", "certs.jsons", "--key", "trustee.key", "--threshold", "2"],
    "trustee.vinput": ["--certs", "certs.jsons", "--key", "trustee.key", "--step", "5"],
    "voutputs.jsons": ["--certs", "certs.jsons", "--polynomials", "polynomials.jsons"],
}
CEREMONY_STEP = {"polynomials.jsons": "4", "trustee.key": "3", "voutputs.jsons": "6"}


@pytest.mark.parametrize("name", sorted(CEREMONY_STEPS))
def test_every_malformed_ceremony_file_is_refused_never_an_internal_error(ceremony_dir, name):
    d = ceremony_dir
    original = (d / name).read_bytes()
    argv = ["trustee-threshold", "--group", "Ed25519", *CEREMONY_STEPS[name]]
    if name in CEREMONY_STEP:
        argv += ["--step", CEREMONY_STEP[name]]
    stdin_file = {"trustee.vinput": "trustee.vinput", "voutputs.jsons": "voutputs.jsons"}
    failures, answers = [], Counter()
    try:
        for m in mutants(original, random.Random(name), examples(10)):
            (d / name).write_bytes(m.body)
            stdin = (d / stdin_file[name]).read_bytes() if name in stdin_file else b""
            rc, out = cli(argv, stdin=stdin, cwd=d)
            answers[rc] += 1
            if rc == 3 or "internal error" in out or "Traceback" in out:
                failures.append(f"{name} ({m.kind}: {m.where}): {rc} {out[-300:]}")
    finally:
        (d / name).write_bytes(original)
    assert not failures, "\n".join(failures[:20])
    assert answers[0] < sum(answers.values()), answers
