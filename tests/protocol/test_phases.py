"""The one vocabulary of phases: the words of the record and the API, and the transitions."""

from __future__ import annotations

import json

from plebiscite.protocol.messages import EVENT_TYPES
from plebiscite.protocol.phases import (
    AFTER_EVENT,
    BoardPhase,
    CeremonyStep,
    ReferendumPhase,
)


def test_every_event_type_has_a_phase_and_phases_are_their_words():
    assert set(AFTER_EVENT) == set(EVENT_TYPES)
    assert json.dumps([BoardPhase.TALLIED, CeremonyStep.DONE]) == '["tallied", "done"]'
    assert f"{ReferendumPhase.DECRYPTING}" == "decrypting"


def test_board_phases_say_what_each_takes():
    takes = {p: (p.takes_ballots, p.takes_shuffles, p.takes_decryptions) for p in BoardPhase}
    assert takes[BoardPhase.OPEN] == (True, False, False)
    assert takes[BoardPhase.CLOSED] == (False, False, False)
    assert takes[BoardPhase.TALLIED] == (False, True, True)  # shuffles first where needed
    assert takes[BoardPhase.SHUFFLING] == (False, True, False)
    assert takes[BoardPhase.SHUFFLED] == (False, False, True)
    assert takes[BoardPhase.DECRYPTING] == (False, False, True)
    assert takes[BoardPhase.DONE] == (False, False, False)
    assert {p for p in BoardPhase if p.untallied} == {
        BoardPhase.SETUP,
        BoardPhase.OPEN,
        BoardPhase.CLOSED,
    }


def test_the_ceremony_goes_step_by_step_and_stays_done():
    steps = [CeremonyStep.CERTIFICATES]
    while steps[-1] is not CeremonyStep.DONE:
        steps.append(steps[-1].next)
    assert steps == list(CeremonyStep)
    assert CeremonyStep.DONE.next is CeremonyStep.DONE


def test_a_referendum_phase_from_its_ceremony_opening_and_regions():
    done, of = CeremonyStep.DONE, ReferendumPhase.of
    assert of(CeremonyStep.VOUTPUTS, False, set()) is ReferendumPhase.CEREMONY
    assert of(done, False, set()) is ReferendumPhase.READY
    assert of(done, True, {BoardPhase.OPEN, BoardPhase.CLOSED}) is ReferendumPhase.OPEN
    assert of(done, True, {BoardPhase.TALLIED, BoardPhase.DONE}) is ReferendumPhase.DECRYPTING
    assert of(done, True, {BoardPhase.DONE}) is ReferendumPhase.DONE
