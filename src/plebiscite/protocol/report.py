"""The verification report: what was checked, what was found, the result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Finding", "Report"]


@dataclass(frozen=True)
class Finding:
    """One failed check. ``where`` names the event, ballot, question or field concerned."""

    check: str
    code: str
    message: str
    where: str = ""
    height: int | None = None
    event: str | None = None
    tracker: str | None = None
    severity: str = "error"

    def describe(self) -> str:
        loc = []
        if self.height is not None:
            loc.append(f"event {self.height}" + (f" ({self.event})" if self.event else ""))
        if self.tracker:
            loc.append(f"ballot tracker {self.tracker}")
        if self.where:
            loc.append(self.where)
        return f"[{self.check}] {self.message}" + (f" at {'; '.join(loc)}" if loc else "")


@dataclass
class Report:
    archive: str = ""
    uuid: str | None = None
    name: str | None = None
    group: str | None = None
    # which Belenios record: "2.0" (readable by Belenios 2.0 and 3.x) or "3.x", and the 3.x
    # features it uses
    record: str | None = None
    record_features: list[str] = field(default_factory=list)
    status: str = "empty"  # setup, open, closed, tallied, shuffled, decrypting, done
    events: int = 0
    ballots: int = 0
    voters: int = 0
    voted: int = 0
    tallied: int | None = None
    total_weight: int | None = None
    questions: list[dict[str, Any]] = field(default_factory=list)
    result: list[Any] | None = None
    since: str | None = None
    last_event: str | None = None
    findings: list[Finding] = field(default_factory=list)
    truncated_findings: int = 0

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings) and self.status != "empty"

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["valid"] = self.valid
        return d
