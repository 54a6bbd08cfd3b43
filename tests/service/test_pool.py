"""The credential pool (:mod:`plebiscite.service.pool`) on both backends: an account gets one
credential and the same again, no credential goes to two accounts, the pool runs out with a
clear refusal; the account is kept only as an HMAC; many threads over two stores of one
database (as two server processes) assigning at once; the same account signing in twice at
the same moment, its second claim given back."""

from __future__ import annotations

import threading

import pytest

from plebiscite.board.private import open_private
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import StateError
from plebiscite.service import pool
from plebiscite.service.errors import NotFound, Refused
from plebiscite.service.pool import Account

KEY = SigningKey.from_seed(b"\x05" * 32)
UUID = "1bhMKtupiiabGf"
ISSUER = "https://id.example"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "board.sqlite")
    else:
        with request.getfixturevalue("pg_server").fresh_database() as dsn:
            yield dsn


@pytest.fixture
def store(url):
    s = open_private(url)
    yield s
    s.close()


def credentials(n: int) -> list[str]:
    return [f"cred-{i:04d}" for i in range(n)]


def test_one_credential_per_account_the_same_again_then_exhausted(store):
    with pytest.raises(NotFound):
        pool.assign(store, KEY, UUID, Account(ISSUER, "a"))
    pool.store_pool(store, KEY, UUID, credentials(300))  # two buckets
    pool.store_pool(store, KEY, UUID, credentials(1))  # once stored, left as it is
    assert pool.assigned(store, UUID) == 0
    given = {}
    for i in range(300):
        a = pool.assign(store, KEY, UUID, Account(ISSUER, f"sub-{i}"))
        assert a.new
        given[f"sub-{i}"] = a.credential
    assert sorted(given.values()) == credentials(300)
    again = pool.assign(store, KEY, UUID, Account(ISSUER, "sub-7"))
    assert (again.credential, again.new) == (given["sub-7"], False)
    # the same subject at another issuer is another account
    with pytest.raises(Refused) as e:
        pool.assign(store, KEY, UUID, Account("https://other.example", "sub-7"))
    assert e.value.code == "pool_exhausted" and "300" in e.value.message
    assert pool.assigned(store, UUID) == 300
    # the store holds the accounts as HMACs, the credentials sealed
    rows = store.items(pool.KIND_ACCOUNT) + store.items(pool.KIND_CREDENTIALS)
    text = repr(rows)
    assert "sub-7" not in text and ISSUER not in text and "cred-0" not in text
    key = pool.account_key(KEY, UUID, Account(ISSUER, "sub-7"))
    assert store.get(pool.KIND_ACCOUNT, f"{UUID}/{key}") is not None
    # bound to the election: the same account elsewhere is another key
    assert pool.account_key(KEY, "other", Account(ISSUER, "sub-7")) != key
    # and the sealed credentials need this server's key
    pool.store_pool(store, KEY, "another", credentials(1))
    with pytest.raises(StateError, match="key file"):
        pool.assign(store, SigningKey.from_seed(b"\x06" * 32), "another", Account(ISSUER, "x"))
    assert pool.assigned(store, "another") == 0  # the failure spent no slot


def test_concurrent_assignments_over_two_stores_of_one_database(url):
    stores = [open_private(url), open_private(url)]
    try:
        pool.store_pool(stores[0], KEY, UUID, credentials(40))
        results: list[tuple[str, str | None]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(16)

        def run(k: int) -> None:
            barrier.wait()
            for j in range(6):  # 16 threads x 6: 48 accounts, each asked for twice
                sub = f"sub-{(k * 6 + j) % 48}"
                try:
                    cred = pool.assign(stores[k % 2], KEY, UUID, Account(ISSUER, sub)).credential
                except Refused:
                    cred = None
                with lock:
                    results.append((sub, cred))

        threads = [threading.Thread(target=run, args=(k,)) for k in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        by_account: dict[str, set[str]] = {}
        for sub, cred in results:
            if cred is not None:
                by_account.setdefault(sub, set()).add(cred)
        assert all(len(c) == 1 for c in by_account.values())
        given = [next(iter(c)) for c in by_account.values()]
        assert len(given) == len(set(given)) <= 40
        assert pool.assigned(stores[1], UUID) == len(given)
        # nothing lost: an account refused while another's claim was being given back leaves
        # that credential to the next account
        for k in range(40 - len(given)):
            given.append(pool.assign(stores[0], KEY, UUID, Account(ISSUER, f"late-{k}")).credential)
        assert sorted(given) == credentials(40)
        with pytest.raises(Refused):
            pool.assign(stores[1], KEY, UUID, Account(ISSUER, "one too many"))
    finally:
        for s in stores:
            s.close()


class _Racing:
    """The store, with another process binding the same account right after this one read
    that it had none (its first read of a stripe)."""

    def __init__(self, store, account: Account) -> None:
        self.store, self.account, self.raced = store, account, False

    def __getattr__(self, name):
        return getattr(self.store, name)

    def versioned(self, kind, key):
        if kind == pool.KIND_STRIPE and not self.raced:
            self.raced = True
            pool.assign(self.store, KEY, UUID, self.account)  # the other process wins
        return self.store.versioned(kind, key)


def test_an_account_signing_in_twice_at_once_gets_one_credential(store):
    pool.store_pool(store, KEY, UUID, credentials(3))
    alice = Account(ISSUER, "alice")
    racing = _Racing(store, alice)
    mine = pool.assign(racing, KEY, UUID, alice)
    assert racing.raced
    first = pool.assign(store, KEY, UUID, alice)
    assert mine.credential == first.credential and not mine.new
    # the slot this request claimed went back: the pool still serves two more accounts
    assert pool.assigned(store, UUID) == 1
    b = pool.assign(store, KEY, UUID, Account(ISSUER, "bob"))
    c = pool.assign(store, KEY, UUID, Account(ISSUER, "carol"))
    assert len({mine.credential, b.credential, c.credential}) == 3
    with pytest.raises(Refused):
        pool.assign(store, KEY, UUID, Account(ISSUER, "dave"))
