#!/usr/bin/env python3
"""Benchmark: the result card (``GET /api/referendums/ID/card.png``, plebiscite.render.card).

The drawing alone (the card of a status: PNG bytes) for three results (two answers and a blank;
twelve answers; a yes/no question beside a Lists question), in Cyrillic; then over HTTP, in
process (FastAPI's TestClient, a SQLite board, the demo referendum played to its outcome): the
first request of a card (the status, the drawing in a worker thread) and the next ones (the
status, the card from the cache). Median and best of ``--runs`` (default 20), the PNG's size and
the load average.

    ./dev bench card [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import play_referendum
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.render.card import card_of_status, draw
from plebiscite.server.app import create_app
from plebiscite.server.cards import CardCache

I18N = Path(__file__).resolve().parents[1] / "src" / "plebiscite" / "server" / "static" / "i18n"
TOKEN = "bench-admin-token"


def _status(questions: list[dict], result: list) -> dict:
    return {
        "id": "bench",
        "title": "Референдум про бюджет громади на наступний рік",
        "phase": "done",
        "record": {"questions": questions},
        "regions": [{"name": "N", "roll": 100, "voted": 80, "result": result}],
        "outcome": {"verdict": "passed"},
    }


CASES = {
    "two answers and blank": _status(
        [{"question": "Так чи ні?", "answers": ["Так", "Ні"], "blank": True}], [[3, 50, 27]]
    ),
    "twelve answers": _status(
        [{"question": "Який колір?", "answers": [f"Колір {i}" for i in range(12)]}],
        [list(range(12))],
    ),
    "yes/no and Lists": _status(
        [
            {"question": "Так чи ні?", "answers": ["Так", "Ні"]},
            {
                "type": "Lists",
                "value": {
                    "question": "Рада",
                    "answers": [["Зелені", "Ада", "Бен"], ["Сині", "Сай", "Ді", "Ед"]],
                },
            },
        ],
        [[50, 30], [[50, 40, 20], [30, 10, 25, 5]]],
    ),
}


def _times(f, runs: int) -> tuple[float, float]:
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), min(ts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args(argv)
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    messages = json.loads((I18N / "uk.json").read_text())
    print(f"{'drawing':<28} {'median':>9} {'best':>9} {'PNG':>9}")
    for name, status in CASES.items():
        card = card_of_status(status, messages, "uk")
        png = draw(card)
        med, best = _times(lambda card=card: draw(card), args.runs)
        print(f"{name:<28} {med * 1e3:7.1f}ms {best * 1e3:7.1f}ms {len(png) / 1024:6.1f}KiB")

    with tempfile.TemporaryDirectory() as d:
        board = SQLiteBoard(Path(d) / "board.db")
        app = create_app(board, admin_token=TOKEN, key=SigningKey.from_seed(b"\x05" * 32))
        with TestClient(app) as c:
            final = play_referendum(
                c, TOKEN, voters=8, regions=2, rng=DeterministicRandom("bench"), log=lambda _: None
            )
            url = f"/api/referendums/{final['id']}/card.png"

            def first() -> None:
                app.state.cards = CardCache()
                assert c.get(url).status_code == 200

            def cached() -> None:
                assert c.get(url).status_code == 200

            print(f"{'over HTTP (in process)':<28} {'median':>9} {'best':>9}")
            for name, f in (("first request (drawn)", first), ("next requests (cached)", cached)):
                med, best = _times(f, args.runs)
                print(f"{name:<28} {med * 1e3:7.1f}ms {best * 1e3:7.1f}ms")
        board.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
