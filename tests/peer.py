#!/usr/bin/env python3
"""Drive Debian's ``belenios-tool`` (Belenios 2.0) to produce reference election archives.

This module is deliberately self-contained (standard library only, no import of
``plebiscite``): it is the *peer* implementation that our own code is checked
against.  Each scenario runs a small election end to end with ``belenios-tool``
(setup, credentials, trustee keys, ballots, tally, decryption, result) and
finishes with ``belenios-tool election verify``; a failing verification, or a
result that differs from the tally recomputed here from the plaintext votes,
raises :class:`PeerError`.

Usage as a library::

    from peer import run_scenario, belenios_verify
    election = run_scenario("single", tmp_path / "single")
    assert belenios_verify(election.directory).returncode == 0

Usage from the command line (prints the archive path on stdout, timings on
stderr)::

    python tests/peer.py SCENARIO OUTDIR [--voters N] [--jobs J]

``OUTDIR`` (``workdir`` in the API) is the election directory itself: it must
not exist yet or be empty.  The ``.bel`` archive and all the secret material
(``private_creds.txt``, ``*.privkey``, threshold ``*.key``/``*.dkey`` files,
the generated ballots under ``ballots/``) stay there.

Voter choices are a deterministic function of the voter index (and, for
re-votes, of the round), so results are reproducible even though every
ciphertext, key and credential is random.

Set ``BELENIOS_TOOL`` to use another binary than ``belenios-tool`` on PATH, and
``PEER_TRACE=1`` to log every belenios-tool call with its duration on stderr.

Cost model (belenios-tool 2.0): ``generate-ballot`` takes ~60 ms (BELENIOS-2048)
and every ``election`` command (compute-encrypted-tally, decrypt, shuffle,
compute-result, verify) re-checks the whole archive, ~40 ms per ballot. The
"bench" scenario (1000 voters) therefore takes several minutes, mostly in the
tally; generation and partial decryptions run ``jobs`` at a time.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import os
import shutil
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
    "archive_events",
    "belenios_tool",
    "belenios_verify",
    "read_result",
    "run_scenario",
    "sidecar",
]

SCENARIOS: tuple[str, ...] = (
    "single",
    "threshold",
    "threshold-all",
    "blank",
    "approval",
    "weighted",
    "revotes",
    "nh",
    "nh-open",
    "open",
    "bench",
)

#: Scenarios small enough for unit-test-speed runs (everything except "bench").
SMALL_SCENARIOS: tuple[str, ...] = tuple(s for s in SCENARIOS if s != "bench")

DEFAULT_VOTERS: Mapping[str, int] = {name: 5 for name in SMALL_SCENARIOS} | {"bench": 1000}

#: Number of concurrent ``generate-ballot`` processes.
DEFAULT_JOBS = 2

BELENIOS_2048 = "BELENIOS-2048"
RFC_3526_2048 = "RFC-3526-2048"


class PeerError(RuntimeError):
    """belenios-tool failed, or produced something we did not expect."""


@dataclass(frozen=True)
class PeerElection:
    archive: Path  # the .bel file
    directory: Path  # the working dir (privcreds, privkeys, etc. stay there)
    uuid: str
    result: object | None  # "result" field of the Result payload, parsed JSON (None if not tallied)
    private_credentials: list[str]  # the secret credentials, in voter order
    scenario: str
    #: Wall-clock seconds per phase ("setup", "ballots", "tally", "verify", "total").
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)


# --------------------------------------------------------------------------- tool driver


def belenios_tool() -> str | None:
    """Path of the belenios-tool binary, or None if it cannot be found."""
    return shutil.which(os.environ.get("BELENIOS_TOOL", "belenios-tool"))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["BELENIOS_USE_URANDOM"] = "1"
    return env


def _tool(
    args: Sequence[str | os.PathLike[str]],
    cwd: Path,
    *,
    stdin: str | None = None,
) -> str:
    """Run belenios-tool with ``args`` in ``cwd``; return stdout, raise PeerError on failure.

    ``stdin=None`` connects stdin to /dev/null (needed for EndBallots/EndShuffles).
    """
    exe = belenios_tool()
    if exe is None:
        raise PeerError("belenios-tool not found on PATH (apt install belenios-tool)")
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
        print(f"peer: {time.perf_counter() - started:7.3f}s {' '.join(cmd[1:4])}", file=sys.stderr)
    if proc.returncode != 0:
        raise PeerError(
            f"{' '.join(cmd[1:])} (in {cwd}) exited with {proc.returncode}:\n{proc.stderr.strip()}"
        )
    return proc.stdout


def belenios_verify(directory: Path) -> subprocess.CompletedProcess[str]:
    """Run ``belenios-tool election verify --dir DIRECTORY`` (never raises on failure)."""
    exe = belenios_tool()
    if exe is None:
        raise PeerError("belenios-tool not found on PATH (apt install belenios-tool)")
    return subprocess.run(
        [exe, "election", "verify", "--dir", str(directory)],
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def _add_event(directory: Path, event_type: str, payload: str | None = None) -> None:
    """Append an event to the archive in ``directory``.

    ``payload`` is what the producing command printed: JSON lines, where every
    line but the last is stored as an extra data blob (e.g. the encrypted tally
    before the EncryptedTally payload) and the last line is the event payload.
    ``None`` (stdin from /dev/null) is only for EndBallots/EndShuffles.
    """
    if payload is None:
        if event_type not in ("EndBallots", "EndShuffles"):
            raise PeerError(f"refusing to add a {event_type} event without payload")
        _tool(["archive", "add-event", f"--type={event_type}"], directory)
        return
    lines = payload.strip().split("\n")
    if any(not line.strip() for line in lines) or (event_type == "Ballot" and len(lines) != 1):
        # An empty stdin for --type=Ballot corrupts the archive; refuse anything odd.
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


Vote = list[list[int]]


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
    all_decrypt: bool = False  # every threshold trustee decrypts, not just the needed two
    shuffles: int = 0  # number of Shuffle events (by trustees 1..shuffles)
    tally: bool = True


def _onehot(k: int, n: int) -> list[int]:
    return [1 if j == k else 0 for j in range(n)]


YES_NO = {"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Do you agree?"}
ONE_OF_THREE = {
    "answers": ["Red", "Green", "Blue"],
    "min": 1,
    "max": 1,
    "question": "Favourite colour?",
}


def _basic_votes(i: int) -> list[Vote]:
    return [[_onehot(i % 2, 2), _onehot(i % 3, 3)]]


def _blank_votes(i: int) -> list[Vote]:
    # Q1 allows blank: the vector is [blank, a1, a2, a3].
    q1 = _onehot(0, 4) if i % 3 == 0 else [0, *_onehot(i % 3 - 1 + (i // 3) % 2, 3)]
    # Q2 allows blank too (min 1 max 2 over two answers).
    q2 = [[1, 0, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1]][i % 4]
    return [[q1, q2, _onehot((i + 1) % 2, 2)]]


_APPROVAL_PATTERNS = [[0, 0, 0], [1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1], [1, 0, 1]]


def _approval_votes(i: int) -> list[Vote]:
    return [[_APPROVAL_PATTERNS[i % len(_APPROVAL_PATTERNS)], _onehot(i % 2, 2)]]


# 3e9 >= 2**30: belenios serialises such weights and the sums involving them as
# JSON strings (smaller ones as JSON ints), so the vector exercises both forms.
_WEIGHTS = (1, 2, 3, 10, 3_000_000_000, 4)


def _weight(i: int) -> int:
    return _WEIGHTS[i % len(_WEIGHTS)]


def _revotes(i: int) -> list[Vote]:
    # voter i casts 1 + i % 3 ballots, each different from the previous one
    return [[_onehot((i + r) % 2, 2), _onehot((i + r) % 3, 3)] for r in range(1 + i % 3)]


def _open_votes(i: int) -> list[Vote]:
    # only three voters in five have voted so far
    return _basic_votes(i) if i % 5 < 3 else []


_RANKINGS = list(itertools.permutations([1, 2, 3]))


def _nh_votes(i: int) -> list[Vote]:
    return [[_onehot(i % 2, 2), list(_RANKINGS[i % len(_RANKINGS)])]]


def _spec(name: str, voters: int) -> _Spec:
    if name in ("single", "bench"):
        return _Spec(name, BELENIOS_2048, [YES_NO, ONE_OF_THREE], voters, _basic_votes)
    if name in ("threshold", "threshold-all"):
        return _Spec(
            name,
            BELENIOS_2048,
            [YES_NO, ONE_OF_THREE],
            voters,
            _basic_votes,
            threshold=True,
            all_decrypt=name == "threshold-all",
        )
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
        return _Spec(name, BELENIOS_2048, questions, voters, _blank_votes)
    if name == "approval":
        questions = [
            {
                "answers": ["Alice", "Bob", "Carol"],
                "min": 0,
                "max": 2,
                "question": "Approve up to two",
            },
            YES_NO,
        ]
        return _Spec(name, BELENIOS_2048, questions, voters, _approval_votes)
    if name == "weighted":
        return _Spec(
            name, BELENIOS_2048, [YES_NO, ONE_OF_THREE], voters, _basic_votes, weights=_weight
        )
    if name == "revotes":
        return _Spec(name, BELENIOS_2048, [YES_NO, ONE_OF_THREE], voters, _revotes)
    if name in ("nh", "nh-open"):
        questions = [
            YES_NO,
            {
                "type": "NonHomomorphic",
                "value": {"answers": ["First", "Second", "Third"], "question": "Rank them"},
            },
        ]
        if name == "nh-open":  # ballots cast, nothing tallied: for other tools to tally
            return _Spec(name, RFC_3526_2048, questions, voters, _nh_votes, tally=False)
        return _Spec(name, RFC_3526_2048, questions, voters, _nh_votes, shuffles=2)
    if name == "open":
        return _Spec(name, BELENIOS_2048, [YES_NO, ONE_OF_THREE], voters, _open_votes, tally=False)
    raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")


def _expected_result(spec: _Spec, ballots: list[tuple[int, Vote]]) -> list[Any]:
    """Recompute the result belenios-tool should publish from the plaintext votes."""
    last: dict[int, Vote] = {}
    for voter, vote in ballots:
        last[voter] = vote  # the last ballot of each voter counts
    result: list[Any] = []
    for q, question in enumerate(spec.questions):
        if question.get("type") == "NonHomomorphic":
            # one entry per counted ballot, order hidden by the shuffles
            result.append(sorted(last[v][q] for v in sorted(last)))
            continue
        width = len(question["answers"]) + (1 if question.get("blank") else 0)
        counts = [0] * width
        for voter, vote in last.items():
            w = spec.weights(voter) if spec.weights else 1
            for j, x in enumerate(vote[q]):
                counts[j] += w * x
        result.append(counts)
    return result


def _normalise_result(spec: _Spec, result: Any) -> list[Any]:
    """Weights (hence counts) may be serialised as JSON strings: compare as ints."""
    out: list[Any] = []
    for q, question in enumerate(spec.questions):
        if question.get("type") == "NonHomomorphic":
            out.append(sorted([int(x) for x in b] for b in result[q]))
        else:
            out.append([int(x) for x in result[q]])
    return out


# --------------------------------------------------------------------------- the run


def _new_files(directory: Path, suffix: str, before: set[str]) -> list[str]:
    """Basenames (without suffix) of files ending in ``suffix`` that are not in ``before``."""
    now = {p.name for p in directory.glob(f"*{suffix}")}
    return sorted(n.removesuffix(suffix) for n in now - before)


def _names(directory: Path, suffix: str) -> set[str]:
    return {p.name for p in directory.glob(f"*{suffix}")}


def _setup(spec: _Spec, d: Path) -> tuple[str, list[str], list[str], list[str]]:
    """Create the election; return (uuid, private credentials, single keys, threshold keys)."""
    group = ["--group", spec.group]
    uuid = _tool(["setup", "generate-token"], d).strip()

    # Credentials: always from a voter file so that private_creds.txt is in voter order.
    lines = []
    for i in range(spec.voters):
        ident = f"voter{i + 1}@example.com"
        if spec.weights is not None:
            ident += f",voter{i + 1},{spec.weights(i)}"
        lines.append(ident)
    (d / "voters.txt").write_text("\n".join(lines) + "\n")
    before_priv, before_pub = _names(d, ".privcreds"), _names(d, ".pubcreds")
    _tool(["setup", "generate-credentials", "--uuid", uuid, *group, "--file", "voters.txt"], d)
    (priv,) = _new_files(d, ".privcreds", before_priv)
    (pub,) = _new_files(d, ".pubcreds", before_pub)
    (d / f"{priv}.privcreds").rename(d / "private_creds.txt")
    (d / f"{pub}.pubcreds").rename(d / "public_creds.json")
    creds = []
    for line in (d / "private_creds.txt").read_text().splitlines():
        if line.strip():
            # "<voter file line> <credential>" (the voter line may contain commas)
            ident, _, cred = line.rpartition(" ")
            creds.append(cred)
    if len(creds) != spec.voters:
        raise PeerError(f"expected {spec.voters} private credentials, got {len(creds)}")

    # Threshold trustees (Pedersen ceremony, as in demo-threshold.sh). The order
    # in certs.jsons fixes each trustee's index; we keep generation order throughout.
    tkeys: list[str] = []
    if spec.threshold:
        ttkeygen = ["setup", "generate-trustee-key-threshold", *group]
        for _ in range(3):
            before = _names(d, ".cert")
            _tool([*ttkeygen, "--step", "1"], d)
            (new,) = _new_files(d, ".cert", before)
            tkeys.append(new)
        (d / "certs.jsons").write_text("".join((d / f"{k}.cert").read_text() for k in tkeys))
        certs = ["--certs", "certs.jsons"]
        _tool([*ttkeygen, *certs, "--step", "2"], d)
        polys = "".join(
            _tool([*ttkeygen, *certs, "--key", f"{k}.key", "--step", "3", "--threshold", "2"], d)
            for k in tkeys
        )
        (d / "polynomials.jsons").write_text(polys)
        _tool([*ttkeygen, *certs, "--step", "4", "--polynomials", "polynomials.jsons"], d)
        for k in tkeys:
            vout = _tool(
                [*ttkeygen, *certs, "--key", f"{k}.key", "--step", "5"],
                d,
                stdin=(d / f"{k}.vinput").read_text(),
            )
            (d / f"{k}.voutput").write_text(vout)
        threshold = _tool(
            [*ttkeygen, *certs, "--step", "6", "--polynomials", "polynomials.jsons"],
            d,
            stdin="".join((d / f"{k}.voutput").read_text() for k in tkeys),
        )
        (d / "threshold.json").write_text(threshold)

    # Single trustees: three of them, or just the server's mandatory key with threshold.
    skeys: list[str] = []
    for _ in range(1 if spec.threshold else 3):
        before = _names(d, ".pubkey")
        _tool(["setup", "generate-trustee-key", *group], d)
        (new,) = _new_files(d, ".pubkey", before)
        skeys.append(new)
    (d / "public_keys.jsons").write_text("".join((d / f"{k}.pubkey").read_text() for k in skeys))

    _tool(["setup", "make-trustees"], d)  # Single keys first, then the Pedersen group
    (d / "public_keys.jsons").unlink()
    (d / "threshold.json").unlink(missing_ok=True)

    template = {
        "description": f"plebiscite interop scenario {spec.name!r}",
        "name": f"peer-{spec.name}",
        "questions": spec.questions,
        "administrator": "Peer Administrator",
        "credential_authority": "Peer Credential Authority",
    }
    (d / "template.json").write_text(json.dumps(template, indent=1) + "\n")
    _tool(["setup", "make-election", "--uuid", uuid, *group, "--template", "template.json"], d)
    _tool(["archive", "init"], d)
    # As in demo.sh: once in the archive, the loose setup files must go.
    for f in ("election.json", "trustees.json", "public_creds.json"):
        (d / f).unlink()
    return uuid, creds, skeys, tkeys


def _cast_ballots(
    spec: _Spec, d: Path, uuid: str, creds: list[str], jobs: int
) -> list[tuple[int, Vote]]:
    """Generate ballots (``jobs`` processes in parallel) and append them in order."""
    # Casting order: round r holds every voter with more than r ballots.
    per_voter = [spec.votes(i) for i in range(spec.voters)]
    order: list[tuple[int, int, Vote]] = []
    for r in range(max((len(v) for v in per_voter), default=0)):
        order.extend((i, r, v[r]) for i, v in enumerate(per_voter) if r < len(v))

    # generate-ballot reads the election from a frozen copy of the setup archive,
    # so generation can run concurrently with the (sequential) appends.
    gen = d / "ballots"
    gen.mkdir()
    shutil.copy2(d / f"{uuid}.bel", gen / f"{uuid}.bel")

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
                "--ballot",
                f"{stem}.choice.json",
            ],
            gen,
        ).strip()
        if not ballot.startswith("{"):
            raise PeerError(f"generate-ballot for voter {i + 1} printed {ballot[:200]!r}")
        (gen / f"{stem}.ballot.json").write_text(ballot + "\n")
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


def _tally(spec: _Spec, d: Path, skeys: list[str], tkeys: list[str], jobs: int) -> None:
    _add_event(d, "EndBallots")
    _add_event(d, "EncryptedTally", _tool(["election", "compute-encrypted-tally"], d))
    if spec.shuffles:
        for t in range(1, spec.shuffles + 1):
            _add_event(d, "Shuffle", _tool(["election", "shuffle", f"--trustee-id={t}"], d))
        _add_event(d, "EndShuffles")
    # Trustee ids follow trustees.json: the Single keys first (1..len(skeys)),
    # then the Pedersen members (len(skeys)+1 ..).
    decrypts: list[list[str]] = [
        ["election", "decrypt", "--privkey", f"{k}.privkey", f"--trustee-id={t}"]
        for t, k in enumerate(skeys, start=1)
    ]
    if tkeys:
        # 2-of-3: only the first and the last Pedersen trustees take part, or all of them.
        for idx in range(len(tkeys)) if spec.all_decrypt else (0, len(tkeys) - 1):
            k = tkeys[idx]
            decrypts.append(
                [
                    "election",
                    "decrypt-threshold",
                    "--key",
                    f"{k}.key",
                    "--decryption-key",
                    f"{k}.dkey",
                    f"--trustee-id={len(skeys) + 1 + idx}",
                ]
            )
    # Every belenios-tool election command re-checks the whole archive (about
    # 40 ms per ballot), so the independent partial decryptions run concurrently
    # against the same archive state; they are appended afterwards, in order.
    workers = len(decrypts) if jobs > 1 else 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        shares = list(pool.map(lambda args: _tool(args, d), decrypts))
    for pd in shares:
        _add_event(d, "PartialDecryption", pd)
    _add_event(d, "Result", _tool(["election", "compute-result"], d))


def run_scenario(
    name: str, workdir: Path, *, voters: int | None = None, jobs: int = DEFAULT_JOBS
) -> PeerElection:
    """Run scenario ``name`` with belenios-tool in ``workdir`` (created; must be empty).

    Raises PeerError if any belenios-tool step fails, if ``election verify``
    fails, or if the published result differs from the one recomputed here.
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
    uuid, creds, skeys, tkeys = _setup(spec, d)
    t1 = time.perf_counter()
    timings["setup"] = t1 - t0

    cast = _cast_ballots(spec, d, uuid, creds, jobs)
    t2 = time.perf_counter()
    timings["ballots"] = t2 - t1

    if spec.tally:
        _tally(spec, d, skeys, tkeys, jobs)
    t3 = time.perf_counter()
    timings["tally"] = t3 - t2

    proc = belenios_verify(d)
    t4 = time.perf_counter()
    timings["verify"] = t4 - t3
    timings["total"] = t4 - t0
    if proc.returncode != 0:
        raise PeerError(
            f"belenios-tool election verify failed for {name} in {d}:\n{proc.stderr.strip()}"
        )

    archive = d / f"{uuid}.bel"
    result = read_result(archive)
    if spec.tally:
        expected = _expected_result(spec, cast)
        if result is None or _normalise_result(spec, result) != expected:
            raise PeerError(f"{name}: result {result!r} differs from expected {expected!r}")
    elif result is not None:
        raise PeerError(f"{name}: open election has a result {result!r}")

    return PeerElection(
        archive=archive,
        directory=d,
        uuid=uuid,
        result=result,
        private_credentials=creds,
        scenario=name,
        timings=timings,
    )


# --------------------------------------------------------------------------- command line


def sidecar(election: PeerElection) -> dict[str, Any]:
    """The JSON sidecar stored next to checked-in vectors."""
    return {
        "scenario": election.scenario,
        "uuid": election.uuid,
        "result": election.result,
        "ballots": _count_events(election.archive, "Ballot"),
        "voters": _count_credentials(election.archive),
        "private_credentials": election.private_credentials,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
        help="also write the JSON sidecar (uuid, result, counts, credentials)",
    )
    args = parser.parse_args(argv)
    try:
        election = run_scenario(args.scenario, args.outdir, voters=args.voters, jobs=args.jobs)
    except PeerError as e:
        print(f"peer: {e}", file=sys.stderr)
        return 1
    if args.sidecar is not None:
        args.sidecar.write_text(json.dumps(sidecar(election), indent=1) + "\n")
    t = election.timings
    print(
        f"peer: {args.scenario}: {len(election.private_credentials)} voters, "
        + ", ".join(f"{k} {v:.2f}s" for k, v in t.items()),
        file=sys.stderr,
    )
    print(election.archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
