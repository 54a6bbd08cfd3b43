"""A referendum with a Lists question (Belenios 3.x) beside a yes/no one, over two regions,
for the client and browser tests: its record, roll, each voter's choices and the result they
make in each region."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["LISTS", "RESULTS", "ROLL", "VOTES", "YES_NO", "record"]

LISTS = {
    "type": "Lists",
    "value": {
        "question": "Elect the council",
        "answers": [["Greens", "Ada", "Ben"], ["Blues", "Cy", "Di", "Ed"]],
    },
}
YES_NO = {"question": "Approve the budget?", "answers": ["Yes", "No"], "min": 1, "max": 1}
YES, NO = [1, 0], [0, 1]
GREENS_ADA = [[1, 1, 0], [0, 0, 0, 0]]
GREENS_BOTH = [[1, 1, 1], [0, 0, 0, 0]]
BLUES_DI_ED = [[0, 0, 0], [1, 0, 1, 1]]

ROLL = {"North": ["n1", "n2", "n3"], "South": ["s1", "s2"]}
#: each region's voters' choices, in roll order
VOTES = {
    "North": [[YES, GREENS_ADA], [NO, BLUES_DI_ED], [YES, GREENS_BOTH]],
    "South": [[NO, BLUES_DI_ED], [NO, BLUES_DI_ED]],
}
RESULTS = {
    "North": [[2, 1], [[2, 2, 1], [1, 0, 1, 1]]],
    "South": [[0, 2], [[0, 0, 0], [2, 0, 2, 2]]],
}


def record(rid: str, rule: dict[str, Any] | None = None) -> dict[str, Any]:
    """The referendum record (uuids left to the server), open for a day from now; by default
    a majority for "Yes" to the yes/no question, all regions pooled."""
    now = time.time()
    return {
        "version": 1,
        "id": rid,
        "title": "Council and budget",
        "questions": [YES_NO, LISTS],
        "regions": [{"name": name} for name in ROLL],
        "trustees": {"names": ["Alice", "Bob", "Carol"], "threshold": 2},
        "opening": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "closing": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 86400)),
        "rule": rule or {"type": "majority", "question": 0, "answer": 0},
    }
