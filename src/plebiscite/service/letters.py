"""Letters: messages that hold a secret (a voter's credential), sent by a durable, resumable
job through the server's outbox (:mod:`plebiscite.service.mail`).

:meth:`Letters.enqueue` stores a job's letters in the server's private store
(:mod:`plebiscite.board.private`), each letter's subject and body **sealed** (AES-256-GCM under
a key derived with HKDF-SHA256 from the seed of the server's signing key, bound to the letter's
key and its recipient: reading the database is not enough to read a credential, and a letter
moved to another address no longer opens). Enqueueing a job again does nothing (its id names
its letters). :meth:`Letters.run`, started by the server for its lifetime, sends the letters
due, at most :attr:`Policy.rate` a second, and records each one's state:

- ``pending``: not sent yet (``attempts`` made so far, the last failure's kind in ``error``,
  the next try at ``next``); while one process sends it, it is claimed (``sending``, shown to
  the organiser as ``pending``) until the claim expires;
- ``sent``: handed over to the outbox (the SMTP server accepted it) at ``sent``; its sealed
  body is removed once no letter of its job is pending (at once for the whole job if none
  failed): the server keeps no credential it has delivered;
- ``failed``: refused for good by the SMTP server (a 5xx answer: not tried again), or
  :attr:`Policy.attempts` temporary failures (a 4xx answer, a connection refused: each retried
  after :attr:`Policy.backoff` seconds, doubled at each attempt);
  :meth:`Letters.resend_failed` makes them pending again;
- ``cancelled``: replaced by another letter before it was sent (a credential reissued).

Durability and several processes: every change of a letter is one durable write of its record,
made by compare-and-put on the version read (:meth:`PrivateStore.replace`). A letter is claimed
(attempts counted, the claim's holder and end written) before it is handed to the outbox, and
its outcome written after (:attr:`Policy.parallel` letters in flight at once, each paced by
the rate): a letter being sent when its process died is sent again once its
claim expires (:attr:`Policy.claim`, longer than a send may take), and of the processes sharing
one database only the one holding the letters' lease sends (as the referendums' closer does),
the claim by compare-and-put making sure no two of them ever take one letter at once. What no
outbox can tell: a process killed after the SMTP server accepted a letter and before the
``sent`` was written sends it again at the next start (at least once, never twice otherwise).

Logs name a job and the kind of a failure, never a recipient, a subject or a body.

Records (kinds of the private store): ``letters-job`` (job id -> how many letters, whether some
may be due), ``letters`` (``JOB#NNNNNN`` -> the letter's state and recipient) and
``letters-body`` (the same key -> the sealed subject and body).
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from plebiscite.board.private import PrivateStore
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import PlebisciteError
from plebiscite.service.errors import Invalid
from plebiscite.service.mail import Message, Outbox, OutboxError

__all__ = [
    "KIND_BODY",
    "KIND_JOB",
    "KIND_LETTER",
    "STATES",
    "Letter",
    "Letters",
    "Policy",
]

log = logging.getLogger(__name__)

KIND_JOB = "letters-job"
KIND_LETTER = "letters"
KIND_BODY = "letters-body"
# the states a letter never leaves: its body is then forgotten
_ENDED = frozenset({"sent", "cancelled"})
#: the lease of the process that sends (kind ``lease``, as the closer's)
LEASE_KIND, LEASE_KEY = "lease", "letters"
LEASE_SECONDS = 10.0
#: the states a letter is shown in (``sending`` is shown as ``pending``)
STATES = ("pending", "sent", "failed", "cancelled")
MAX_JOB = 256
MAX_PAGE = 1000
#: letters stored in one transaction when a job is enqueued
ENQUEUE_BATCH = 2000
#: letters' states read at once by the sender
SCAN_PAGE = 1000


@dataclass
class _Scan:
    """The sender's pass over a job's letters: the last key read (None: from the start),
    whether a letter not yet sent or a failed one was seen in this pass, and the job record's
    version when the pass began."""

    version: int
    after: str | None = None
    waiting: bool = False
    failed: bool = False


@dataclass(frozen=True)
class Letter:
    """One letter to one address; ``body`` holds a secret (left out of the ``repr``).
    ``label``: shown to the organiser beside the address (a region's name)."""

    to: str
    subject: str
    body: str = field(repr=False)
    label: str = ""


@dataclass(frozen=True)
class Policy:
    """How the letters are sent: ``rate`` letters a second at most (all processes together,
    one sending at a time), ``attempts`` tries at most of a letter the outbox fails to send for
    a while, the first retry ``backoff`` seconds after a failure (then twice as long at each),
    a letter claimed by its sender for ``claim`` seconds (longer than a send may take: the
    outbox's time-out), the queue looked at every ``interval`` seconds when nothing is due."""

    rate: float = 20.0
    attempts: int = 5
    backoff: float = 30.0
    claim: float = 60.0
    interval: float = 1.0
    #: letters handed to the outbox at once (their SMTP exchanges and writes overlap)
    parallel: int = 4

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError("the mail rate must be above 0 letters a second")
        if self.attempts < 1:
            raise ValueError("the mail attempts must be at least 1")
        if self.parallel < 1:
            raise ValueError("at least one letter is sent at a time")
        if self.backoff < 0 or self.claim <= 0 or self.interval <= 0:
            raise ValueError("the mail back-off, claim and interval are positive durations")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _job_id(job: str) -> str:
    if not isinstance(job, str) or not 1 <= len(job) <= MAX_JOB or "#" in job or "\x00" in job:
        raise Invalid("bad_request", f"a letter job's id is 1 to {MAX_JOB} characters, no '#'")
    return job


def _loads(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    assert isinstance(value, dict)
    return value


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


class Letters:
    """The letter jobs of one database, sent through ``outbox`` (see the module).

    ``store``: the server's private records; ``key``: the server's signing key (the letters
    are sealed under a key derived from it); ``clock``: seconds since the epoch."""

    def __init__(
        self,
        store: PrivateStore,
        key: SigningKey,
        outbox: Outbox,
        policy: Policy | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.outbox = store, outbox
        self.policy = policy or Policy()
        self.clock = clock
        self._aead = AESGCM(
            HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=b"plebiscite: the server's sealed letters, version 1",
            ).derive(key.seed)
        )
        #: this process's name in the lease and the claims
        self.ident = secrets.token_hex(8)
        #: called with a letter's key once its claim is stored, before it is sent (a seam for
        #: the tests of a crash mid-job: ``plebiscite serve`` sets it from
        #: ``PLEBISCITE_TEST_CRASH``)
        self.claimed: Callable[[str], None] | None = None
        self._next_send = 0.0
        self._failure: str | None = None
        #: where the sender's pass over each active job is (:meth:`_scan`)
        self._scans: dict[str, _Scan] = {}

    def __repr__(self) -> str:
        return f"Letters({self.outbox!r}, {self.policy!r})"

    # -- sealing --

    def _aad(self, key: str, to: str) -> bytes:
        return f"letter {key} to {to}".encode()

    def _seal(self, key: str, letter: Letter) -> bytes:
        nonce = secrets.token_bytes(12)
        plain = _dumps({"subject": letter.subject, "body": letter.body})
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plain, self._aad(key, letter.to)))

    def _unseal(self, key: str, to: str, sealed: bytes) -> tuple[str, str]:
        raw = base64.b64decode(sealed, validate=True)
        d = _loads(self._aead.decrypt(raw[:12], raw[12:], self._aad(key, to)))
        return str(d["subject"]), str(d["body"])

    # -- jobs --

    def exists(self, job: str) -> bool:
        """Whether the job ``job`` was enqueued."""
        return self.store.get(KIND_JOB, _job_id(job)) is not None

    def enqueue(self, job: str, letters: Sequence[Letter]) -> bool:
        """Store the letters of ``job`` to be sent (each durable before this returns): False,
        and nothing written, if the job was enqueued already. The letters are written first,
        the job's record last: a job is sent only once every letter of it is stored."""
        _job_id(job)
        if self.store.get(KIND_JOB, job) is not None:
            return False
        self.enqueue_part(job, 0, letters)
        return self.finish(job, len(letters))

    def enqueue_part(self, job: str, first: int, letters: Sequence[Letter]) -> None:
        """Store letters ``first``, ``first + 1``, ... of ``job``, not yet to be sent: a job
        too large to be held at once is stored a part at a time, then :meth:`finish` makes
        it one to send (until then nothing of it is sent, and :meth:`discard` removes it)."""
        _job_id(job)
        now = self.clock()
        for start in range(0, len(letters), ENQUEUE_BATCH):
            # a batch a transaction: the job is sent only once its record, written last, is
            bodies, states = [], []
            for i in range(start, min(start + ENQUEUE_BATCH, len(letters))):
                letter = letters[i]
                key = f"{job}#{first + i:07d}"
                bodies.append((key, self._seal(key, letter)))
                state = {
                    "to": letter.to,
                    "label": letter.label,
                    "state": "pending",
                    "attempts": 0,
                    "error": None,
                    "sent": None,
                    "next": now,
                    "holder": None,
                    "until": 0.0,
                }
                states.append((key, _dumps(state)))
            self.store.insert_many(KIND_BODY, bodies)
            self.store.insert_many(KIND_LETTER, states)

    def finish(self, job: str, count: int) -> bool:
        """Make the ``count`` letters stored of ``job`` a job to send: its record, written
        last. False (nothing written) if the job exists already."""
        _job_id(job)
        record = {"version": 1, "letters": count, "active": True, "created": _iso(self.clock())}
        return self.store.insert(KIND_JOB, job, _dumps(record))

    def discard(self, job: str) -> None:
        """Remove the letters of ``job`` (a job whose request did not complete: nothing of it
        was answered)."""
        _job_id(job)
        self.store.delete(KIND_JOB, job)
        self.store.delete_prefix(KIND_LETTER, f"{job}#")
        self.store.delete_prefix(KIND_BODY, f"{job}#")

    def _activate(self, job: str) -> None:
        got = self.store.versioned(KIND_JOB, job)
        if got is not None:
            record = _loads(got[0]) | {"active": True}
            self.store.put(KIND_JOB, job, _dumps(record))

    # -- the organiser's view --

    def summary(
        self, prefix: str, state: str | None = None, after: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """The letters of every job whose id starts with ``prefix``: how many in each state,
        and a page of ``limit`` of them (of ``state`` if given) after the letter ``after``, in
        the order they were enqueued; ``next``: the ``after`` of the next page, or None."""
        if state is not None and state not in STATES:
            raise Invalid("bad_parameter", f"state: expected one of {', '.join(STATES)}")
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid("bad_parameter", f"limit: 1 to {MAX_PAGE}")
        counts = dict.fromkeys(STATES, 0)
        page: list[dict[str, Any]] = []
        more = False
        for key, raw in self.store.items(KIND_LETTER, prefix):
            st = _loads(raw)
            shown = "pending" if st["state"] == "sending" else str(st["state"])
            counts[shown] += 1
            if (state is not None and shown != state) or (after is not None and key <= after):
                continue
            if len(page) == limit:
                more = True
                continue
            page.append(
                {
                    "id": key,
                    "to": st["to"],
                    "label": st["label"],
                    "state": shown,
                    "attempts": st["attempts"],
                    "error": st["error"],
                    "sent": st["sent"],
                }
            )
        return {
            "counts": counts,
            "letters": page,
            "next": page[-1]["id"] if more and page else None,
        }

    def resend_failed(self, prefix: str) -> int:
        """Make every failed letter of the jobs of ``prefix`` pending again (attempts from
        zero): how many."""
        now = self.clock()
        jobs: set[str] = set()
        count = 0
        for key, raw in self.store.items(KIND_LETTER, prefix):
            if _loads(raw)["state"] != "failed":
                continue
            got = self.store.versioned(KIND_LETTER, key)
            if got is None:
                continue
            st = _loads(got[0])
            if st["state"] != "failed" or self.store.get(KIND_BODY, key) is None:
                continue
            st |= {"state": "pending", "attempts": 0, "next": now, "holder": None}
            if self.store.replace(KIND_LETTER, key, _dumps(st), got[1]) is not None:
                count += 1
                jobs.add(key.rpartition("#")[0])
        for job in sorted(jobs):  # the letters first, then their job: the sender looks again
            self._activate(job)
        return count

    def cancel(self, prefix: str, to: str, label: str = "") -> int:
        """Cancel the letters to ``to`` (with ``label``) of the jobs of ``prefix`` that are
        not sent nor being sent (they are replaced by another): how many."""
        count = 0
        for key, raw in self.store.items(KIND_LETTER, prefix):
            st = _loads(raw)
            if st["to"] != to or st["label"] != label or st["state"] not in ("pending", "failed"):
                continue
            got = self.store.versioned(KIND_LETTER, key)
            if got is None:
                continue
            st = _loads(got[0])
            if st["state"] not in ("pending", "failed"):
                continue
            st |= {"state": "cancelled", "holder": None}
            if self.store.replace(KIND_LETTER, key, _dumps(st), got[1]) is not None:
                self.store.delete(KIND_BODY, key)
                count += 1
        return count

    # -- the lease --

    def take_lease(self, now: float | None = None) -> bool:
        """Take or renew the letters' lease: True if this process holds it (then it alone
        sends); another process takes it over once it expires."""
        now = self.clock() if now is None else now
        mine = _dumps({"holder": self.ident, "until": now + LEASE_SECONDS})
        got = self.store.versioned(LEASE_KIND, LEASE_KEY)
        if got is None:
            return self.store.insert(LEASE_KIND, LEASE_KEY, mine)
        try:
            held = _loads(got[0])
            holder, until = str(held["holder"]), float(held["until"])
        except (ValueError, KeyError, TypeError, AssertionError):
            holder, until = "", 0.0
        if holder != self.ident and until > now:
            return False
        return self.store.replace(LEASE_KIND, LEASE_KEY, mine, got[1]) is not None

    def release_lease(self) -> None:
        """Give the lease up if this process holds it (when it stops)."""
        got = self.store.versioned(LEASE_KIND, LEASE_KEY)
        if got is not None and _loads(got[0]).get("holder") == self.ident:
            self.store.replace(LEASE_KIND, LEASE_KEY, _dumps({"holder": "", "until": 0}), got[1])

    # -- sending --

    async def run(self) -> None:
        """Send the letters due for the server's lifetime (see the module); a failing
        database is logged once until the looks succeed again."""
        while True:
            try:
                wait = await self.step()
                self._failure = None
            except Exception as e:  # the database failed (or a bug): the next look will do
                what = str(e) if isinstance(e, PlebisciteError) else type(e).__name__
                if what != self._failure:
                    log.warning("letters: the queue could not be read or written: %s", what)
                self._failure = what
                wait = self.policy.interval
            await anyio.sleep(min(max(wait, 0.0), self.policy.interval))

    async def step(self) -> float:
        """Send what is due now if this process holds the lease: the seconds until the next
        letter is due (at most :attr:`Policy.interval`)."""
        policy = self.policy
        if not await anyio.to_thread.run_sync(self.take_lease):
            return policy.interval
        renewed = self.clock()
        wake = policy.interval
        for job, raw in await anyio.to_thread.run_sync(self.store.items, KIND_JOB):
            if not _loads(raw).get("active"):
                self._scans.pop(job, None)
                continue
            got = await anyio.to_thread.run_sync(self.store.versioned, KIND_JOB, job)
            if got is None:
                continue
            batch = max(policy.parallel, int(policy.rate * 5))
            due, rests, soonest = await anyio.to_thread.run_sync(self._scan, job, got[1], batch)
            wake = min(wake, soonest)
            if rests is not None:  # every letter sent, failed or cancelled: the job rests
                record = _dumps(_loads(got[0]) | {"active": False})
                if await anyio.to_thread.run_sync(self.store.replace, KIND_JOB, job, record, rests):
                    await anyio.to_thread.run_sync(self._forget, job)
                    log.info("letters: job %s done", job)
                continue
            if len(due) >= batch:
                wake = 0.0
            limiter = anyio.Semaphore(policy.parallel)
            async with anyio.create_task_group() as tg:
                for key in due:
                    if self.clock() - renewed > LEASE_SECONDS / 3:
                        if not await anyio.to_thread.run_sync(self.take_lease):
                            break
                        renewed = self.clock()
                    await limiter.acquire()
                    await self._pace()
                    tg.start_soon(self._deliver_one, limiter, job, key)
        return wake

    def _scan(self, job: str, version: int, batch: int) -> tuple[list[str], int | None, float]:
        """The next letters of ``job`` due now (at most ``batch``), read a page at a time from
        where the last step stopped (so a step costs the same whatever the job's size), the
        seconds until the next one is due, and, when a whole pass over the job found nothing
        left to send while the job's record stayed at the version it had when the pass began
        (no letter made pending again meanwhile), that version: the job then rests."""
        scan = self._scans.get(job)
        if scan is None:
            scan = self._scans[job] = _Scan(version)
        now = self.clock()
        due: list[str] = []
        soonest = self.policy.interval
        wrapped = False
        while len(due) < batch:
            page = self.store.page(KIND_LETTER, f"{job}#", scan.after, SCAN_PAGE)
            for key, sraw in page:
                scan.after = key
                st = _loads(sraw)
                if st["state"] == "failed":
                    scan.failed = True
                elif st["state"] in ("pending", "sending"):
                    scan.waiting = True
                    at = st["next"] if st["state"] == "pending" else st["until"]
                    if at > now:
                        soonest = min(soonest, at - now)
                        continue
                    due.append(key)
                    if len(due) >= batch:
                        break
            if len(due) >= batch:
                break
            if len(page) == SCAN_PAGE:
                continue  # more of the job to read
            # the end of the job: a pass is complete
            if not scan.waiting and scan.version == version:
                self._scans.pop(job, None)
                return [], version, soonest
            self._scans[job] = scan = _Scan(version)
            if wrapped:  # once round a step at most (what waits is not due yet)
                break
            wrapped = True
        return due, None, soonest

    def _forget(self, job: str) -> None:
        """Remove the sealed bodies of a job's letters sent or cancelled (those of the failed
        ones stay, to be sent again on request, and those of any letter not yet ended: one
        failed a moment ago may be pending again by now): the server keeps no credential it
        delivered."""
        after: str | None = None
        open_: list[str] = []
        while page := self.store.page(KIND_LETTER, f"{job}#", after, SCAN_PAGE):
            open_ += [key for key, raw in page if _loads(raw)["state"] not in _ENDED]
            after = page[-1][0]
        if not open_:
            self.store.delete_prefix(KIND_BODY, f"{job}#")
            return
        keep = set(open_)
        after = None
        while page := self.store.page(KIND_BODY, f"{job}#", after, SCAN_PAGE):
            for key, _ in page:
                if key not in keep:
                    self.store.delete(KIND_BODY, key)
            after = page[-1][0]

    async def _deliver_one(self, limiter: anyio.Semaphore, job: str, key: str) -> None:
        try:
            await self._deliver(job, key)
        except PlebisciteError as e:  # the database: the letter is claimed, tried later
            log.warning("letters: a letter of job %s could not be recorded: %s", job, e)
        finally:
            limiter.release()

    async def _pace(self) -> None:
        """Wait for this letter's turn: one every ``1 / rate`` seconds."""
        now = self.clock()
        self._next_send = max(self._next_send, now)
        wait = self._next_send - now
        self._next_send += 1.0 / self.policy.rate
        if wait > 0:
            await anyio.sleep(wait)

    def _claim(self, key: str) -> tuple[dict[str, Any], int] | None:
        """Claim the letter ``key`` if it is due (its attempt counted): its state and version,
        or None (not due, or another process claimed it first)."""
        got = self.store.versioned(KIND_LETTER, key)
        if got is None:
            return None
        st, version = _loads(got[0]), got[1]
        now = self.clock()
        if st["state"] == "pending" and st["next"] <= now:
            pass
        elif st["state"] == "sending" and st["until"] <= now:  # its sender stopped mid-send
            if st["attempts"] >= self.policy.attempts:
                st |= {"state": "failed", "error": "interrupted", "holder": None}
                self.store.replace(KIND_LETTER, key, _dumps(st), version)
                return None
        else:
            return None
        st |= {
            "state": "sending",
            "attempts": st["attempts"] + 1,
            "holder": self.ident,
            "until": now + self.policy.claim,
        }
        new = self.store.replace(KIND_LETTER, key, _dumps(st), version)
        return None if new is None else (st, new)

    async def _deliver(self, job: str, key: str) -> None:
        claimed = await anyio.to_thread.run_sync(self._claim, key)
        if claimed is None:
            return
        st, version = claimed
        if self.claimed is not None:
            self.claimed(key)
        error: str | None = None
        permanent = False
        sealed = await anyio.to_thread.run_sync(self.store.get, KIND_BODY, key)
        try:
            if sealed is None:
                raise OutboxError("the letter's body is gone", kind="no body", permanent=True)
            try:
                subject, body = self._unseal(key, st["to"], sealed)
            except (InvalidTag, ValueError, KeyError, AssertionError):
                raise OutboxError(
                    "the sealed letter does not open with this server's key",
                    kind="sealed",
                    permanent=True,
                ) from None
            await self.outbox.send(Message(st["to"], subject, body))
        except OutboxError as e:
            error, permanent = e.kind, e.permanent
        except Exception as e:  # an outbox's bug: a kind to show, never its message
            error = type(e).__name__
        now = self.clock()
        if error is None:
            st |= {"state": "sent", "sent": _iso(now), "error": None, "holder": None}
        elif permanent or st["attempts"] >= self.policy.attempts:
            st |= {"state": "failed", "error": error, "holder": None}
            log.warning(
                "letters: a letter of job %s failed (%s) after %d attempt(s)",
                job,
                error,
                st["attempts"],
            )
        else:
            delay = self.policy.backoff * 2 ** (st["attempts"] - 1)
            st |= {"state": "pending", "error": error, "next": now + delay, "holder": None}
            log.info(
                "letters: a letter of job %s not sent (%s), attempt %d of %d: again in %.0f s",
                job,
                error,
                st["attempts"],
                self.policy.attempts,
                delay,
            )
        written = await anyio.to_thread.run_sync(
            self.store.replace, KIND_LETTER, key, _dumps(st), version
        )
        if written is None:
            log.warning("letters: a letter of job %s was changed while it was sent", job)
