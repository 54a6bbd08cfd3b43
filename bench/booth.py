#!/usr/bin/env python3
"""Benchmark: the voting booth's ballot, built in the browser (headless Debian Chromium).

Times ``makeBallot`` of ``static/js/belenios/booth-core.js`` in the page (``performance.now()``
around the call: parsing the election, deriving the credential with PBKDF2, encrypting, every
proof, the signature, the tracker) for a two-question ballot (yes/no and one of three) in the
Ed25519 group (the group of the server's referendums; tests/vectors/belenios3/ed25519.bel, a
belenios-tool 3.0 election) and in BELENIOS-2048 (a belenios-tool 2.0 election), several runs
in one page, and reports the median (target: under one second), the first run (cold: modules
just compiled) and the extremes; then the same for a three-question ballot on RFC-3526-2048
with blank, approval and a non-homomorphic question, and Python's make_ballot on the same
elections for comparison (the ratio of the medians); the last browser ballot of each case is
checked by plebiscite's verifier. The load average is printed. Last, the size of the booth's
JavaScript (every file the booth page loads that this benchmark can find), in bytes.

    ./dev bench booth [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "src" / "plebiscite" / "server" / "static"
ORIGIN = "https://booth.test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--headless=new",
]

TWO_QUESTIONS = [[1, 0], [0, 1, 0]]
THREE_KINDS = [[0, 1, 0], [1, 0, 1], [2, 1, 3]]


def _election(name: str) -> tuple[bytes, str]:
    sys.path.insert(0, str(ROOT / "tests"))
    from plebiscite.protocol.archive import iter_members

    if name == "plebiscite":
        d = ROOT / "tests" / "vectors" / "plebiscite"
        cred = (d / "private_creds.txt").read_text().split()[1]
        return (d / "election.json").read_bytes().strip(), cred
    # a belenios-tool 2.0 vector (tests/vectors/belenios) or, "belenios3/NAME", a 3.0 one
    where, _, name = name.rpartition("/")
    vectors = ROOT / "tests" / "vectors" / (where or "belenios")
    meta = json.loads((vectors / f"{name}.json").read_text())
    with (vectors / f"{name}.bel").open("rb") as f:
        data = {m.hash: m.content for m in iter_members(f) if m.kind == "data"}
    setup = next(json.loads(c) for c in data.values() if c.startswith(b'{"election":'))
    return data[setup["election"]], meta["private_credentials"][0]


def _serve(route) -> None:  # type: ignore[no-untyped-def]
    path = route.request.url[len(ORIGIN) :].split("?")[0]
    if path.startswith("/static/"):
        f = STATIC / path[len("/static/") :]
        if f.is_file():
            route.fulfill(body=f.read_bytes(), headers={"content-type": "text/javascript"})
            return
        route.fulfill(status=404, body="")
        return
    route.fulfill(body="<!doctype html><title>bench</title>", content_type="text/html")


RUN = """async ([election, credential, choices, runs]) => {
  const core = await import("/static/js/belenios/booth-core.js");
  const times = [];
  let ballot = "";
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await core.makeBallot(election, credential, choices);
    times.push(performance.now() - t0);
    ballot = r.ballot;
  }
  return {times, ballot};
}"""


def _browser_times(page, election: bytes, cred: str, choices, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    """The seconds of each run; the last run's ballot is checked by plebiscite's verifier."""
    from plebiscite.crypto.context import Context
    from plebiscite.protocol.ballot import parse_ballot, verify_ballot
    from plebiscite.protocol.messages import parse_election

    out = page.evaluate(RUN, [election.decode(), cred, choices, runs])
    e = parse_election(election)
    verify_ballot(parse_ballot(out["ballot"].encode(), e), e, Context(e.group, e.public_key))
    return [t / 1000 for t in out["times"]]


def _python_times(election_raw: bytes, cred: str, choices, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    from plebiscite.crypto.rand import SystemRandom
    from plebiscite.protocol.ballot import make_ballot
    from plebiscite.protocol.messages import parse_election

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        make_ballot(parse_election(election_raw), cred, choices, SystemRandom())
        times.append(time.perf_counter() - t0)
    return times


def _report(label: str, times: list[float]) -> float:
    """Print the figures of ``times``; return their median."""
    print(
        f"{label:<52} median {statistics.median(times) * 1000:7.1f} ms   first "
        f"{times[0] * 1000:7.1f} ms   min {min(times) * 1000:7.1f}   max {max(times) * 1000:7.1f}"
    )
    return statistics.median(times)


def js_size() -> dict[str, int]:
    """Bytes of the booth page's JavaScript: every module booth.js imports, transitively (the
    crypto modules, the booth's and the audit page's, the pages' shared ones)."""
    import re

    seen: dict[str, int] = {}
    todo = [STATIC / "js" / "booth.js"]
    if not todo[0].is_file():
        todo = sorted((STATIC / "js" / "belenios").glob("*.js"))
    while todo:
        f = Path(os.path.normpath(todo.pop()))  # not resolved: static/vendor may be a link
        name = str(f.relative_to(STATIC))
        if name in seen or not f.is_file():
            continue
        text = f.read_text()
        seen[name] = len(text.encode())
        for m in re.finditer(
            r"""^(?:import|export)[^"';]*?from\s+["'](\.[^"']+)["']""", text, re.M
        ):
            todo.append(f.parent / m[1])
    return dict(sorted(seen.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="ballots per measurement (default 9)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    cases = [
        ("two questions, Ed25519", "belenios3/ed25519", TWO_QUESTIONS),
        ("two questions, BELENIOS-2048", "single", TWO_QUESTIONS),
        ("blank + approval + ranking, RFC-3526-2048", "plebiscite", THREE_KINDS),
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.route(f"{ORIGIN}/**", _serve)
        page.goto(f"{ORIGIN}/")
        print(
            f"Chromium {browser.version}, {args.runs} ballots each; load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)"
        )
        browser_median = {}
        for label, name, choices in cases:
            raw, cred = _election(name)
            times = _browser_times(page, raw, cred, choices, args.runs)
            browser_median[label] = _report(f"browser: {label}", times)
        browser.close()
    python_median = {}
    for label, name, choices in cases:
        raw, cred = _election(name)
        python_median[label] = _report(
            f"python:  {label}", _python_times(raw, cred, choices, args.runs)
        )
    for label, _, _ in cases:
        print(f"browser / python:  {label:<41} {browser_median[label] / python_median[label]:5.2f}")
    print("(the last browser ballot of each case verified by plebiscite's verifier)")
    sizes = js_size()
    for f, n in sizes.items():
        print(f"  {n:8d}  {f}")
    crypto = sum(n for f, n in sizes.items() if f.startswith("js/belenios/"))
    vendor = sum(n for f, n in sizes.items() if f.startswith("vendor/"))
    print(
        f"booth page JavaScript: {sum(sizes.values())} bytes in {len(sizes)} modules, "
        f"of which the cryptography (js/belenios/) {crypto} bytes and the vendored libraries "
        f"(vendor/: the Ed25519 curve, SHA-2) {vendor} bytes (not minified)"
    )


if __name__ == "__main__":
    main()
