#!/usr/bin/env python3
"""Drive Debian trixie's ``belenios-tool`` 3.0 to produce reference election archives.

The 3.x counterpart of ``tests/peer.py`` (which drives bookworm's belenios-tool 2.0). It is
deliberately self-contained (standard library only, no import of ``plebiscite``): it is the
*peer* implementation that our own code is checked against. Each scenario runs a small
election end to end with belenios-tool 3.0 (setup, credentials, trustee keys or the threshold
ceremony, ballots, tally, shuffles, decryption, result) and finishes with
``belenios-tool election verify``; a failing step or verification, a ballot that
``election verify-ballot`` refuses, or a result that differs from the tally recomputed here
from the plaintext votes, raises :class:`PeerError`.

Usage as a library::

    from peer3 import run_scenario, belenios3_verify
    election = run_scenario("ed25519", tmp_path / "ed25519")
    assert belenios3_verify(election.directory).returncode == 0

Usage from the command line (prints the archive path on stdout, timings on stderr)::

    python tests/peer3.py SCENARIO OUTDIR [--voters N] [--jobs J] [--sidecar FILE]

``OUTDIR`` (``workdir`` in the API) is the election directory itself: it must not exist yet
or be empty. The ``.bel`` archive and all the secret material (``private_creds.json``,
``*.privkey``, threshold ``*.key``/``*.dkey`` files, the ballots under ``ballots/``) stay
there.

Voter choices are a deterministic function of the voter index (and, for re-votes, of the
round), so results are reproducible even though every ciphertext, key and credential is
random.

The tool is ``$BELENIOS_TOOL3`` if set, else ``.cache/belenios3/belenios-tool`` of the
repository (``scripts/belenios3-setup`` writes it: trixie's binary on trixie's C library and
loader). ``PEER_TRACE=1`` logs every belenios-tool call with its duration on stderr.

Beware: ``election verify`` of belenios-tool 3.0 does not fail on an invalid ballot, and
``archive add-event`` appends one without complaint. This driver therefore checks every
ballot with ``election verify-ballot`` (against the setup-only archive) before it is cast.

Cost model (belenios-tool 3.0, Ed25519): ``generate-ballot`` and ``verify-ballot`` take some
40 to 90 ms of CPU each, most of it start-up; ``archive add-event`` about 0.1 s; every
``election`` command re-reads the archive, about 8 ms of CPU per ballot (``election verify``
of the 1000-voter "bench" election: 7.8 s CPU). The bench run takes two to three minutes on
2 cores, mostly casting the ballots one ``add-event`` at a time; generation and checking run
``jobs`` at a time.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_VOTERS",
    "SCENARIOS",
    "SMALL_SCENARIOS",
    "PeerElection",
    "PeerError",
    "PeerTrustee",
    "archive_events",
    "belenios3_tool",
    "belenios3_verify",
    "belenios3_verify_ballot",
    "read_result",
    "run_scenario",
    "sidecar",
    "tool_version",
]

REPO = Path(__file__).resolve().parents[1]
WRAPPER = REPO / ".cache" / "belenios3" / "belenios-tool"

SCENARIOS: tuple[str, ...] = (
    "ed25519",
    "ed25519-threshold",
    "lists",
    "nh",
    "ff-2048",
    "revotes-weighted",
    "blank",
    "bench",
)

#: Scenarios small enough for unit-test-speed runs (everything except "bench").
SMALL_SCENARIOS: tuple[str, ...] = tuple(s for s in SCENARIOS if s != "bench")

DEFAULT_VOTERS: Mapping[str, int] = {name: 5 for name in SMALL_SCENARIOS} | {"bench": 1000}

#: Number of concurrent ``generate-ballot`` processes of the command line.
DEFAULT_JOBS = 2

ED25519 = "Ed25519"
BELENIOS_2048 = "BELENIOS-2048"

#: The threshold scenario: THRESHOLD of PEDERSEN_SIZE trustees, decrypted by these indexes.
THRESHOLD = 2
PEDERSEN_SIZE = 3
DECRYPTING = (1, 3)


class PeerError(RuntimeError):
    """belenios-tool failed, or produced something we did not expect."""


@dataclass(frozen=True)
class PeerTrustee:
    """One trustee as the tool knows it, with the paths of its files in the election dir.

    ``trustee_id`` is the ``--trustee-id`` of decrypt/shuffle: the position among the
    trustees, the Single keys first (in ``trustees.json`` order), then the Pedersen members.
    Single: ``files`` has "privkey" and "pubkey". Pedersen: "key" (the private key of the
    ceremony), "cert", "dkey" (the encrypted decryption key), "vinput", "voutput" and
    "polynomial" (this trustee's step-3 output), and ``index`` is its index in the
    certificate context (1..size).
    """

    trustee_id: int
    kind: str  # "Single" or "Pedersen"
    files: Mapping[str, Path]
    index: int | None = None
    decrypted: bool = True  # took part in the decryption


@dataclass(frozen=True)
class PeerElection:
    archive: Path  # the .bel file
    directory: Path  # the working dir (privcreds, privkeys, etc. stay there)
    uuid: str
    result: object | None  # "result" field of the Result payload, parsed JSON
    expected_result: list[Any]  # recomputed here from the plaintext votes (ints)
    private_credentials: list[str]  # the secret credentials, in voter order
    scenario: str
    trustees: list[PeerTrustee]
    group: str
    #: Wall-clock seconds per phase ("setup", "ballots", "tally", "verify", "total").
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)

    @property
    def trustee_files(self) -> dict[int, Mapping[str, Path]]:
        """The private (and public) files of each trustee, by trustee id."""
        return {t.trustee_id: t.files for t in self.trustees}


# --------------------------------------------------------------------------- tool driver


def belenios3_tool() -> str | None:
    """Path of the belenios-tool 3.0 wrapper, or None if it cannot be found."""
    override = os.environ.get("BELENIOS_TOOL3")
    path = Path(override) if override else WRAPPER
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def _exe() -> str:
    exe = belenios3_tool()
    if exe is None:
        raise PeerError(
            f"belenios-tool 3.0 not found at {WRAPPER} (run scripts/belenios3-setup) "
            "and BELENIOS_TOOL3 is not set"
        )
    return exe


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["BELENIOS_USE_URANDOM"] = "1"
    return env


def _run(
    args: Sequence[str | os.PathLike[str]], cwd: Path | None, stdin: str | None
) -> subprocess.CompletedProcess[str]:
    exe = _exe()
    cmd = [exe, *map(str, args)]
    started = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=_env(),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        check=False,
    )
    if os.environ.get("PEER_TRACE"):
        print(f"peer3: {time.perf_counter() - started:7.3f}s {' '.join(cmd[1:4])}", file=sys.stderr)
    return proc


def _tool(
    args: Sequence[str | os.PathLike[str]],
    cwd: Path,
    *,
    stdin: str | None = None,
) -> str:
    """Run belenios-tool with ``args`` in ``cwd``; return stdout, raise PeerError on failure.

    ``stdin=None`` connects stdin to /dev/null (needed for EndBallots/EndShuffles).
    """
    proc = _run(args, cwd, stdin)
    if proc.returncode != 0:
        raise PeerError(
            f"{' '.join(map(str, args))} (in {cwd}) exited with {proc.returncode}:\n"
            f"{proc.stderr.strip()[-2000:]}"
        )
    return proc.stdout


def tool_version() -> str:
    """``belenios-tool --version`` of the 3.0 peer, e.g. "3.0 (3.0+20250220) [debug]"."""
    return _tool(["--version"], REPO).strip()


def belenios3_verify(directory: Path) -> subprocess.CompletedProcess[str]:
    """Run ``belenios-tool election verify --dir DIRECTORY`` (never raises on failure).

    belenios-tool 3.0 does not fail this on an invalid ballot: see the module docstring.
    """
    return _run(["election", "verify", "--dir", str(directory)], None, None)


def belenios3_verify_ballot(directory: Path, ballot: Path) -> subprocess.CompletedProcess[str]:
    """Run ``belenios-tool election verify-ballot --dir DIRECTORY --ballot BALLOT``.

    Exit status 0 and "ballot is valid" on stderr for a valid ballot; otherwise non-zero with
    ``error: "InvalidBallot"`` (or ``"DuplicateBallot"`` for a ballot already in the archive)
    on stderr. Never raises on failure.
    """
    return _run(
        ["election", "verify-ballot", "--dir", str(directory), "--ballot", str(ballot)], None, None
    )


def _add_event(directory: Path, event_type: str, payload: str | None = None) -> None:
    """Append an event to the archive in ``directory``.

    ``payload`` is what the producing command printed: JSON lines, where every line but the
    last is stored as an extra data blob (e.g. the encrypted tally before the EncryptedTally
    payload) and the last line is the event payload. ``None`` (stdin from /dev/null) is only
    for EndBallots/EndShuffles.
    """
    if payload is None:
        if event_type not in ("EndBallots", "EndShuffles"):
            raise PeerError(f"refusing to add a {event_type} event without payload")
        _tool(["archive", "add-event", f"--type={event_type}"], directory)
        return
    lines = payload.strip().split("\n")
    if any(not line.strip() for line in lines) or (event_type == "Ballot" and len(lines) != 1):
        raise PeerError(f"bad {event_type} payload: {payload[:200]!r}")
    _tool(
        ["archive", "add-event", f"--type={event_type}"], directory, stdin="\n".join(lines) + "\n"
    )


# --------------------------------------------------------------------------- archive reading


def archive_events(archive: Path) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Return (events in archive order, payloads by hash) of a .bel file."""
    events: list[dict[str, Any]] = []
    data: dict[str, bytes] = {}
    with tarfile.open(archive, "r:") as tar:
        for member in tar:
            if not member.isfile():
                continue
            f = tar.extractfile(member)
            assert f is not None
            content = f.read()
            if member.name.endswith(".event.json"):
                events.append(json.loads(content))
            elif member.name.endswith(".data.json"):
                data[member.name.removesuffix(".data.json")] = content
    return events, data


def read_result(archive: Path) -> object | None:
    """The ``result`` field of the last Result event's payload, or None."""
    events, data = archive_events(archive)
    results = [e for e in events if e.get("type") == "Result"]
    if not results:
        return None
    return json.loads(data[results[-1]["payload"]])["result"]


def _count_events(archive: Path, event_type: str) -> int:
    events, _ = archive_events(archive)
    return sum(1 for e in events if e.get("type") == event_type)


def _count_credentials(archive: Path) -> int:
    events, data = archive_events(archive)
    setup = next(e for e in events if e.get("type") == "Setup")
    setup_payload = json.loads(data[setup["payload"]])
    return len(json.loads(data[setup_payload["credentials"]]))


# --------------------------------------------------------------------------- election spec


Vote = list[Any]  # one entry per question: list[int], or list[list[int]] for Lists


@dataclass(frozen=True)
class _Spec:
    """What to run: everything a scenario varies."""

    name: str
    group: str
    questions: list[dict[str, Any]]
    voters: int
    #: votes(i) -> list of successive ballots (choice vectors) for voter i; last one counts.
    votes: Callable[[int], list[Vote]]
    weights: Callable[[int], int] | None = None  # None: no weights in the voter file
    threshold: bool = False
    single_trustees: int = 1  # Single keys (with threshold: the server's mandatory key)
    shuffles: int = 0  # number of Shuffle events (by Single trustees 1..shuffles)


def _onehot(k: int, n: int) -> list[int]:
    return [1 if j == k else 0 for j in range(n)]


YES_NO = {"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Do you agree?"}
ONE_OF_THREE = {
    "answers": ["Red", "Green", "Blue"],
    "min": 1,
    "max": 1,
    "question": "Favourite colour?",
}
# Lists question: each inner list is [list name, candidate, ...] (spec 4.9.3)
LISTS = {
    "type": "Lists",
    "value": {
        "answers": [["Party A", "Alice", "Bob"], ["Party B", "Carol", "Dan", "Erin"]],
        "question": "Elect the council",
    },
}
RANKING = {
    "type": "NonHomomorphic",
    "value": {"answers": ["First", "Second", "Third"], "question": "Rank them"},
    # a counting-method hint as the Belenios server writes one; the tool ignores it
    "extra": {"method": "Schulze"},
}


def _basic_votes(i: int) -> list[Vote]:
    return [[_onehot(i % 2, 2), _onehot(i % 3, 3)]]


def _blank_votes(i: int) -> list[Vote]:
    # Q1 allows blank: the vector is [blank, a1, a2, a3].
    q1 = _onehot(0, 4) if i % 3 == 0 else [0, *_onehot(i % 3 - 1 + (i // 3) % 2, 3)]
    # Q2 allows blank too (min 1 max 2 over two answers).
    q2 = [[1, 0, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1]][i % 4]
    return [[q1, q2, _onehot((i + 1) % 2, 2)]]


_PARTY_A = [[1, 0], [0, 1], [1, 1]]
_PARTY_B = [[1, 0, 0], [0, 1, 1], [1, 1, 1], [0, 0, 1]]


def _lists_votes(i: int) -> list[Vote]:
    # one list chosen (alternately), and a non-empty set of its candidates
    if i % 2 == 0:
        lists = [[1, *_PARTY_A[(i // 2) % 3]], [0, 0, 0, 0]]
    else:
        lists = [[0, 0, 0], [1, *_PARTY_B[(i // 2) % 4]]]
    return [[lists, _onehot((i + 1) % 2, 2)]]


# 3e9 >= 2**30: belenios serialises such weights and the sums involving them as JSON strings
# (smaller ones as JSON ints), so the vector exercises both forms.
_WEIGHTS = (1, 2, 3, 10, 3_000_000_000, 4)


def _weight(i: int) -> int:
    return _WEIGHTS[i % len(_WEIGHTS)]


def _revotes(i: int) -> list[Vote]:
    # voter i casts 1 + i % 3 ballots, each different from the previous one
    return [[_onehot((i + r) % 2, 2), _onehot((i + r) % 3, 3)] for r in range(1 + i % 3)]


_RANKINGS = list(itertools.permutations([1, 2, 3]))


def _nh_votes(i: int) -> list[Vote]:
    return [[_onehot(i % 2, 2), list(_RANKINGS[i % len(_RANKINGS)])]]


def _spec(name: str, voters: int) -> _Spec:
    if name in ("ed25519", "bench"):
        return _Spec(name, ED25519, [YES_NO, ONE_OF_THREE], voters, _basic_votes)
    if name == "ed25519-threshold":
        return _Spec(name, ED25519, [YES_NO, ONE_OF_THREE], voters, _basic_votes, threshold=True)
    if name == "lists":
        return _Spec(name, ED25519, [LISTS, YES_NO], voters, _lists_votes)
    if name == "nh":
        return _Spec(
            name, ED25519, [YES_NO, RANKING], voters, _nh_votes, single_trustees=2, shuffles=2
        )
    if name == "ff-2048":
        return _Spec(name, BELENIOS_2048, [YES_NO, ONE_OF_THREE], voters, _basic_votes)
    if name == "revotes-weighted":
        return _Spec(name, ED25519, [YES_NO, ONE_OF_THREE], voters, _revotes, weights=_weight)
    if name == "blank":
        questions = [
            {**ONE_OF_THREE, "blank": True},
            {
                "answers": ["Tea", "Coffee"],
                "blank": True,
                "min": 1,
                "max": 2,
                "question": "Drinks?",
            },
            YES_NO,
        ]
        return _Spec(name, ED25519, questions, voters, _blank_votes)
    raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")


def _expected_result(spec: _Spec, ballots: list[tuple[int, Vote]]) -> list[Any]:
    """Recompute the result belenios-tool should publish from the plaintext votes."""
    last: dict[int, Vote] = {}
    for voter, vote in ballots:
        last[voter] = vote  # the last ballot of each voter counts
    result: list[Any] = []
    for q, question in enumerate(spec.questions):
        kind = question.get("type")
        if kind == "NonHomomorphic":
            # one entry per counted ballot, order hidden by the shuffles
            result.append(sorted(last[v][q] for v in sorted(last)))
            continue
        if kind == "Lists":
            counts2 = [[0] * len(lst) for lst in question["value"]["answers"]]
            for voter, vote in last.items():
                w = spec.weights(voter) if spec.weights else 1
                for k, bits in enumerate(vote[q]):
                    for j, x in enumerate(bits):
                        counts2[k][j] += w * x
            result.append(counts2)
            continue
        width = len(question["answers"]) + (1 if question.get("blank") else 0)
        counts = [0] * width
        for voter, vote in last.items():
            w = spec.weights(voter) if spec.weights else 1
            for j, x in enumerate(vote[q]):
                counts[j] += w * x
        result.append(counts)
    return result


def _ints(value: Any) -> Any:
    """Weights (hence counts) >= 2**30 are serialised as JSON strings: compare as ints."""
    if isinstance(value, list):
        return [_ints(x) for x in value]
    return int(value)


def _normalise_result(spec: _Spec, result: Any) -> list[Any]:
    out: list[Any] = []
    for q, question in enumerate(spec.questions):
        if question.get("type") == "NonHomomorphic":
            out.append(sorted(_ints(b) for b in result[q]))
        else:
            out.append(_ints(result[q]))
    return out


# --------------------------------------------------------------------------- the run


def _names(directory: Path, suffix: str) -> set[str]:
    return {p.name for p in directory.glob(f"*{suffix}")}


def _new_file(directory: Path, suffix: str, before: set[str]) -> Path:
    new = sorted(_names(directory, suffix) - before)
    if len(new) != 1:
        raise PeerError(f"expected one new *{suffix} file in {directory}, found {new}")
    return directory / new[0]


def _credentials(spec: _Spec, d: Path, uuid: str) -> list[str]:
    """Generate the credentials from a voter file; return the private ones in voter order.

    Voter file lines are ``ADDRESS,LOGIN[,WEIGHT]``; belenios-tool 3.0 writes
    ``T.privcreds``, a JSON object LOGIN -> credential, and ``T.pubcreds``, a JSON list of
    ``"PUBLIC,WEIGHT,LOGIN"`` (WEIGHT empty without weights). ``archive init`` stores the
    public credentials without the login (and without the comma when there are no weights).
    """
    lines = []
    for i in range(spec.voters):
        line = f"voter{i + 1}@example.com,voter{i + 1}"
        if spec.weights is not None:
            line += f",{spec.weights(i)}"
        lines.append(line)
    (d / "voters.txt").write_text("\n".join(lines) + "\n")
    before_priv, before_pub = _names(d, ".privcreds"), _names(d, ".pubcreds")
    _tool(
        [
            "setup",
            "generate-credentials",
            "--uuid",
            uuid,
            "--group",
            spec.group,
            "--file",
            "voters.txt",
        ],
        d,
    )
    _new_file(d, ".privcreds", before_priv).rename(d / "private_creds.json")
    _new_file(d, ".pubcreds", before_pub).rename(d / "public_creds.json")
    by_login = json.loads((d / "private_creds.json").read_text())
    try:
        creds = [by_login[f"voter{i + 1}"] for i in range(spec.voters)]
    except KeyError as e:
        raise PeerError(f"no private credential for {e} in private_creds.json") from None
    (d / "private_creds.txt").write_text(
        "".join(f"voter{i + 1} {c}\n" for i, c in enumerate(creds))
    )
    return creds


def _threshold_ceremony(spec: _Spec, d: Path, first_id: int) -> list[PeerTrustee]:
    """The Pedersen ceremony (steps 1 to 6) for PEDERSEN_SIZE trustees; writes threshold.json."""
    tt = ["setup", "generate-trustee-key-threshold", "--group", spec.group]

    def context(index: int) -> list[str]:
        return ["--threshold-context", f"{index}/{THRESHOLD}/{PEDERSEN_SIZE}"]

    ids: list[str] = []
    for index in range(1, PEDERSEN_SIZE + 1):  # step 1: certificate and private key
        ids.append(_tool([*tt, *context(index), "--step", "1"], d).strip())
    for k in ids:
        if not (d / f"{k}.cert").is_file() or not (d / f"{k}.key").is_file():
            raise PeerError(f"step 1 printed {k!r} but wrote no {k}.cert/{k}.key")
    # certs.jsons in index order: the certificate contexts carry the index
    (d / "certs.jsons").write_text("".join((d / f"{k}.cert").read_text() for k in ids))
    certs = ["--certs", "certs.jsons"]
    _tool([*tt, *certs, "--step", "2"], d)  # checks the certificates
    for index, k in enumerate(ids, start=1):  # step 3: each trustee's polynomial
        poly = _tool([*tt, *context(index), *certs, "--key", f"{k}.key", "--step", "3"], d)
        (d / f"{k}.polynomial").write_text(poly)
    (d / "polynomials.jsons").write_text("".join((d / f"{k}.polynomial").read_text() for k in ids))
    _tool([*tt, *certs, "--step", "4", "--polynomials", "polynomials.jsons"], d)  # K.vinput
    for k in ids:  # step 5: each trustee decrypts its shares; K.dkey and stdout (voutput)
        vout = _tool(
            [*tt, *certs, "--key", f"{k}.key", "--step", "5"],
            d,
            stdin=(d / f"{k}.vinput").read_text(),
        )
        (d / f"{k}.voutput").write_text(vout)
    threshold = _tool(
        [*tt, *certs, "--step", "6", "--polynomials", "polynomials.jsons"],
        d,
        stdin="".join((d / f"{k}.voutput").read_text() for k in ids),
    )
    (d / "threshold.json").write_text(threshold)
    return [
        PeerTrustee(
            trustee_id=first_id + index - 1,
            kind="Pedersen",
            index=index,
            decrypted=index in DECRYPTING,
            files={
                ext: d / f"{k}.{ext}"
                for ext in ("key", "cert", "dkey", "vinput", "voutput", "polynomial")
            },
        )
        for index, k in enumerate(ids, start=1)
    ]


def _setup(spec: _Spec, d: Path) -> tuple[str, list[str], list[PeerTrustee]]:
    """Create the election; return (uuid, private credentials, trustees)."""
    group = ["--group", spec.group]
    uuid = _tool(["setup", "generate-token"], d).strip()
    creds = _credentials(spec, d, uuid)

    trustees: list[PeerTrustee] = []
    for t in range(1, spec.single_trustees + 1):
        before = _names(d, ".pubkey")
        _tool(["setup", "generate-trustee-key", *group], d)
        pub = _new_file(d, ".pubkey", before)
        priv = pub.with_suffix(".privkey")
        trustees.append(PeerTrustee(t, "Single", {"privkey": priv, "pubkey": pub}))
    (d / "public_keys.jsons").write_text("".join(t.files["pubkey"].read_text() for t in trustees))
    if spec.threshold:
        trustees += _threshold_ceremony(spec, d, first_id=len(trustees) + 1)

    _tool(["setup", "make-trustees"], d)  # Single keys first, then the Pedersen group
    (d / "public_keys.jsons").unlink()
    (d / "threshold.json").unlink(missing_ok=True)

    template = {
        "description": f"plebiscite interop scenario {spec.name!r} (belenios-tool 3.0)",
        "name": f"peer3-{spec.name}",
        "questions": spec.questions,
        "administrator": "Peer Administrator",
        "credential_authority": "Peer Credential Authority",
    }
    (d / "template.json").write_text(json.dumps(template, indent=1) + "\n")
    _tool(["setup", "make-election", "--uuid", uuid, *group, "--template", "template.json"], d)
    _tool(["archive", "init"], d)
    # As in the tool's demos: once in the archive, the loose setup files must go (the
    # election commands would read them instead of the archive's).
    for f in ("election.json", "trustees.json", "public_creds.json"):
        (d / f).unlink()
    return uuid, creds, trustees


def _cast_ballots(
    spec: _Spec, d: Path, uuid: str, creds: list[str], jobs: int
) -> list[tuple[int, Vote]]:
    """Generate and check ballots (``jobs`` processes in parallel); append them in order."""
    # Casting order: round r holds every voter with more than r ballots.
    per_voter = [spec.votes(i) for i in range(spec.voters)]
    order: list[tuple[int, int, Vote]] = []
    for r in range(max((len(v) for v in per_voter), default=0)):
        order.extend((i, r, v[r]) for i, v in enumerate(per_voter) if r < len(v))

    # generate-ballot and verify-ballot read the election from a frozen copy of the setup
    # archive, so they can run concurrently with the (sequential) appends; verify-ballot
    # against it never sees a ballot as a duplicate.
    gen = d / "ballots"
    gen.mkdir()
    (gen / f"{uuid}.bel").write_bytes((d / f"{uuid}.bel").read_bytes())

    def generate(job: tuple[int, int, Vote]) -> str:
        i, r, vote = job
        stem = f"voter{i + 1:05d}-r{r}"
        (gen / f"{stem}.cred").write_text(creds[i] + "\n")
        (gen / f"{stem}.choice.json").write_text(json.dumps(vote) + "\n")
        ballot = _tool(
            [
                "election",
                "generate-ballot",
                "--dir",
                ".",
                "--privcred",
                f"{stem}.cred",
                "--choice",
                f"{stem}.choice.json",
            ],
            gen,
        ).strip()
        if not ballot.startswith("{"):
            raise PeerError(f"generate-ballot for voter {i + 1} printed {ballot[:200]!r}")
        (gen / f"{stem}.ballot.json").write_text(ballot + "\n")
        proc = belenios3_verify_ballot(gen, gen / f"{stem}.ballot.json")
        if proc.returncode != 0 or "ballot is valid" not in proc.stderr:
            raise PeerError(f"verify-ballot refused voter {i + 1}'s ballot: {proc.stderr[-500:]}")
        return ballot

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(generate, job) for job in order]
        try:
            for fut in futures:  # append in casting order as soon as each is ready
                _add_event(d, "Ballot", fut.result())
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return [(i, vote) for i, _, vote in order]


def _tally(spec: _Spec, d: Path, trustees: list[PeerTrustee], jobs: int) -> None:
    _add_event(d, "EndBallots")
    _add_event(d, "EncryptedTally", _tool(["election", "compute-encrypted-tally"], d))
    if spec.shuffles:
        for t in range(1, spec.shuffles + 1):
            _add_event(d, "Shuffle", _tool(["election", "shuffle", f"--trustee-id={t}"], d))
        _add_event(d, "EndShuffles")
    decrypts: list[list[str]] = []
    for t in trustees:
        if not t.decrypted:
            continue
        if t.kind == "Single":
            decrypts.append(
                [
                    "election",
                    "decrypt",
                    "--privkey",
                    t.files["privkey"].name,
                    f"--trustee-id={t.trustee_id}",
                ]
            )
        else:
            decrypts.append(
                [
                    "election",
                    "decrypt-threshold",
                    "--key",
                    t.files["key"].name,
                    "--decryption-key",
                    t.files["dkey"].name,
                    f"--trustee-id={t.trustee_id}",
                ]
            )
    # The partial decryptions are independent: they run concurrently against the same
    # archive state and are appended afterwards, in trustee order.
    workers = len(decrypts) if jobs > 1 else 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        shares = list(pool.map(lambda args: _tool(args, d), decrypts))
    for pd in shares:
        _add_event(d, "PartialDecryption", pd)
    _add_event(d, "Result", _tool(["election", "compute-result"], d))


def run_scenario(
    name: str, workdir: Path, voters: int | None = None, jobs: int = 1
) -> PeerElection:
    """Run scenario ``name`` with belenios-tool 3.0 in ``workdir`` (created; must be empty).

    Raises PeerError if any belenios-tool step fails, if a ballot fails ``verify-ballot``,
    if ``election verify`` fails, or if the published result differs from the one
    recomputed here.
    """
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    n = DEFAULT_VOTERS[name] if voters is None else voters
    if n < 1:
        raise ValueError("voters must be >= 1")
    spec = _spec(name, n)
    d = Path(workdir).absolute()
    d.mkdir(parents=True, exist_ok=True)
    if any(d.iterdir()):
        raise PeerError(f"{d} is not empty")

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    uuid, creds, trustees = _setup(spec, d)
    t1 = time.perf_counter()
    timings["setup"] = t1 - t0

    cast = _cast_ballots(spec, d, uuid, creds, jobs)
    t2 = time.perf_counter()
    timings["ballots"] = t2 - t1

    _tally(spec, d, trustees, jobs)
    t3 = time.perf_counter()
    timings["tally"] = t3 - t2

    proc = belenios3_verify(d)
    t4 = time.perf_counter()
    timings["verify"] = t4 - t3
    timings["total"] = t4 - t0
    if proc.returncode != 0 or "all checks passed" not in proc.stderr:
        raise PeerError(
            f"belenios-tool election verify failed for {name} in {d}:\n{proc.stderr.strip()}"
        )

    archive = d / f"{uuid}.bel"
    result = read_result(archive)
    expected = _expected_result(spec, cast)
    if result is None or _normalise_result(spec, result) != expected:
        raise PeerError(f"{name}: result {result!r} differs from expected {expected!r}")

    return PeerElection(
        archive=archive,
        directory=d,
        uuid=uuid,
        result=result,
        expected_result=expected,
        private_credentials=creds,
        scenario=name,
        trustees=trustees,
        group=spec.group,
        timings=timings,
    )


# --------------------------------------------------------------------------- command line


#: The trustee files copied into sidecars: what a later test needs to decrypt (or to take
#: part in a ceremony as that trustee); the vinput/voutput/polynomial messages are larger and
#: stay in the election directory.
_SIDECAR_FILES: Mapping[str, tuple[str, ...]] = {
    "Single": ("privkey",),
    "Pedersen": ("key", "cert", "dkey"),
}


def _trustee_record(t: PeerTrustee) -> dict[str, Any]:
    """A trustee's private material for the sidecar (files read as JSON where they are)."""

    def content(path: Path) -> Any:
        text = path.read_text().strip()
        lines = text.split("\n")
        try:
            if len(lines) > 1:
                return [json.loads(line) for line in lines]
            return json.loads(text)
        except ValueError:
            return text

    record: dict[str, Any] = {"trustee_id": t.trustee_id, "kind": t.kind}
    if t.index is not None:
        record["index"] = t.index
    record["decrypted"] = t.decrypted
    for name in _SIDECAR_FILES[t.kind]:
        record[name] = content(t.files[name])
    return record


def sidecar(election: PeerElection, version: str | None = None) -> dict[str, Any]:
    """The JSON sidecar stored next to checked-in vectors."""
    meta: dict[str, Any] = {
        "scenario": election.scenario,
        "uuid": election.uuid,
        "group": election.group,
        "result": election.result,
        "ballots": _count_events(election.archive, "Ballot"),
        "voters": _count_credentials(election.archive),
        "private_credentials": election.private_credentials,
        "tool_version": version if version is not None else tool_version(),
        "trustees": [_trustee_record(t) for t in election.trustees],
    }
    pedersen = [t for t in election.trustees if t.kind == "Pedersen"]
    if pedersen:
        meta["threshold"] = {
            "threshold": THRESHOLD,
            "size": len(pedersen),
            "decrypted_by": [t.trustee_id for t in pedersen if t.decrypted],
        }
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("outdir", type=Path, help="election directory (must be empty or absent)")
    parser.add_argument("--voters", type=int, default=None)
    parser.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help="parallel generate-ballot processes (default %(default)s)",
    )
    parser.add_argument(
        "--sidecar",
        type=Path,
        default=None,
        help="also write the JSON sidecar (uuid, result, counts, credentials, trustee keys)",
    )
    args = parser.parse_args(argv)
    try:
        election = run_scenario(args.scenario, args.outdir, voters=args.voters, jobs=args.jobs)
        if args.sidecar is not None:
            args.sidecar.write_text(json.dumps(sidecar(election), indent=1) + "\n")
    except PeerError as e:
        print(f"peer3: {e}", file=sys.stderr)
        return 1
    t = election.timings
    print(
        f"peer3: {args.scenario}: {len(election.private_credentials)} voters, "
        + ", ".join(f"{k} {v:.2f}s" for k, v in t.items()),
        file=sys.stderr,
    )
    print(election.archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
