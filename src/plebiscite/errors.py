"""The exception tree of plebiscite.

Every error says what is wrong and where (``where``: which event, ballot, question, field)::

    PlebisciteError
    ├── EncodingError       malformed or non-canonical input (JSON, numbers, archive layout)
    ├── SizeError           input larger than the limits allow, refused before parsing
    ├── MembershipError     a group element outside the order-q subgroup, a scalar outside [0, q)
    ├── ProofError          a zero-knowledge proof or a signature that does not verify
    ├── ConsistencyError    data that parses and proves but contradicts other data
    │                       (unknown credential, wrong tally, wrong result, bad chain)
    ├── StateError          an event or operation not allowed at this point of the election
    └── BoardError          the public board refused or failed an operation
        └── ConflictError   an append expected another last event (someone appended first)
"""

from __future__ import annotations


class PlebisciteError(Exception):
    """Base class of every error raised by plebiscite on bad input."""

    code = "error"

    def __init__(self, message: str, *, where: str = "") -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)

    def at(self, where: str) -> PlebisciteError:
        """Return the same error with ``where`` prefixed (outermost context first)."""
        new_where = f"{where}, {self.where}" if self.where else where
        err = type(self)(self.message, where=new_where)
        return err


class EncodingError(PlebisciteError):
    code = "encoding"


class SizeError(PlebisciteError):
    code = "size"


class MembershipError(PlebisciteError):
    code = "membership"


class ProofError(PlebisciteError):
    code = "proof"


class ConsistencyError(PlebisciteError):
    code = "consistency"


class StateError(PlebisciteError):
    code = "state"


class BoardError(PlebisciteError):
    code = "board"


class ConflictError(BoardError):
    code = "conflict"
