"""One vocabulary of phases: of a board (what its last event says), of a referendum's key
ceremony, of a referendum and of each of its regions.

Each is a string enumeration (its values are the words of the public record and of the API),
with the transitions a phase allows, so every module names a phase and tests a transition the
same way instead of keeping its own sets of strings.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AFTER_EVENT", "BoardPhase", "CeremonyStep", "ReferendumPhase", "RegionPhase"]


class BoardPhase(StrEnum):
    """The phase of an election's board, from its last event (section 3 of the
    specification): ``EMPTY`` before the Setup event."""

    EMPTY = "empty"
    SETUP = "setup"  # an archive's header read, no event yet
    OPEN = "open"  # Setup, Ballot
    CLOSED = "closed"  # EndBallots
    TALLIED = "tallied"  # EncryptedTally
    SHUFFLING = "shuffling"  # Shuffle
    SHUFFLED = "shuffled"  # EndShuffles
    DECRYPTING = "decrypting"  # PartialDecryption
    DONE = "done"  # Result

    @property
    def takes_ballots(self) -> bool:
        return self in (BoardPhase.SETUP, BoardPhase.OPEN)

    @property
    def untallied(self) -> bool:
        """Still taking ballots, or closed without its encrypted tally yet."""
        return self in (BoardPhase.SETUP, BoardPhase.OPEN, BoardPhase.CLOSED)

    @property
    def takes_shuffles(self) -> bool:
        return self in (BoardPhase.TALLIED, BoardPhase.SHUFFLING)

    @property
    def takes_decryptions(self) -> bool:
        """A tally waiting for partial decryptions (after the shuffles, if any)."""
        return self in (BoardPhase.TALLIED, BoardPhase.SHUFFLED, BoardPhase.DECRYPTING)

    @property
    def shuffles_over(self) -> bool:
        return self in (BoardPhase.SHUFFLED, BoardPhase.DECRYPTING, BoardPhase.DONE)


#: the phase each event type puts its board in
AFTER_EVENT: dict[str, BoardPhase] = {
    "Setup": BoardPhase.OPEN,
    "Ballot": BoardPhase.OPEN,
    "EndBallots": BoardPhase.CLOSED,
    "EncryptedTally": BoardPhase.TALLIED,
    "Shuffle": BoardPhase.SHUFFLING,
    "EndShuffles": BoardPhase.SHUFFLED,
    "PartialDecryption": BoardPhase.DECRYPTING,
    "Result": BoardPhase.DONE,
}


class CeremonyStep(StrEnum):
    """Where a referendum's threshold key ceremony is: what it waits for next."""

    CERTIFICATES = "certificates"
    POLYNOMIALS = "polynomials"
    VOUTPUTS = "voutputs"
    DONE = "done"

    @property
    def next(self) -> CeremonyStep:
        """The step once every trustee sent what this one waits for."""
        order = list(CeremonyStep)
        return order[min(order.index(self) + 1, len(order) - 1)]


class ReferendumPhase(StrEnum):
    """A referendum as a whole: its ceremony, ready to open, open, from the close to the last
    result (shuffles included), done."""

    CEREMONY = "ceremony"
    READY = "ready"
    OPEN = "open"
    DECRYPTING = "decrypting"
    DONE = "done"

    @classmethod
    def of(cls, ceremony: CeremonyStep, opened: bool, regions: set[BoardPhase]) -> ReferendumPhase:
        """The phase of a referendum whose ceremony is at ``ceremony``, open or not, whose
        regions' boards are in ``regions``."""
        if ceremony is not CeremonyStep.DONE:
            return cls.CEREMONY
        if not opened:
            return cls.READY
        if regions == {BoardPhase.DONE}:
            return cls.DONE
        if any(p.takes_ballots for p in regions):
            return cls.OPEN
        return cls.DECRYPTING


class RegionPhase(StrEnum):
    """A region before its board exists (after, its board's phase)."""

    NOT_OPENED = "not-opened"
