"""``plebiscite verify`` on archives that declare or hold far more than they should: sparse files
of several GiB (made by seeking, so they take no disk). Each is INVALID with its reason and
offset, within the memory the README documents, reading about what a valid archive reads.

The peak resident memory (VmHWM) and the bytes read (rchar) are those the verifying process
reports of itself as it exits (``/proc/self``): a child's rusage also counts the memory of the
process that forked it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import peer_vector
from plebiscite.protocol.archive import BLOCK, DEFAULT_MAX_MEMBER, MAX_TRAILER, member_bytes
from tamper import Archive, member_header

GiB = 1 << 30
MiB = 1 << 20

# plebiscite verify, reporting its peak memory and the bytes it read as it exits
VERIFY = """
import atexit, sys

def _report() -> None:
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    io = dict(line.split(":", 1) for line in open("/proc/self/io"))
    sys.stderr.write(f"\\nVmHWM {status['VmHWM'].split()[0]} rchar {io['rchar'].strip()}\\n")

atexit.register(_report)
from plebiscite.cli.main import main
sys.exit(main(["verify", "--jobs", "1", *sys.argv[1:]]))
"""


class Run(NamedTuple):
    status: int
    stdout: str
    stderr: str
    peak: int  # bytes
    read: int  # bytes


def verify(path: Path) -> Run:
    p = subprocess.run(
        [sys.executable, "-c", VERIFY, str(path)], capture_output=True, text=True, timeout=300
    )
    last = p.stderr.strip().splitlines()[-1].split()
    assert last[0] == "VmHWM" and last[2] == "rchar", p.stderr
    return Run(p.returncode, p.stdout, p.stderr, int(last[1]) * 1024, int(last[3]))


def sparse(path: Path, head: bytes, hole: int = 0, tail: bytes = b"") -> Path:
    """A file of ``head``, then ``hole`` bytes of zeros that take no disk, then ``tail``."""
    with path.open("wb") as f:
        f.write(head)
        f.seek(hole, 1)
        f.write(tail)
        f.truncate()
    return path


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int, Run]:
    """A small valid archive, its timestamp, and what verifying it takes."""
    archive = Archive.load(peer_vector("single")[0])
    data = archive.to_bytes()
    path = tmp_path_factory.mktemp("valid") / "valid.bel"
    path.write_bytes(data)
    run = verify(path)
    assert run.status == 0 and run.stdout.endswith("VALID\n"), run.stdout + run.stderr
    return data, archive.entries[0].mtime, run


def data_member(content: bytes, mtime: int) -> bytes:
    return member_bytes(f"{hashlib.sha256(content).hexdigest()}.data.json", content, mtime)


def cases(data: bytes, mtime: int, tmp: Path) -> dict[str, tuple[Path, str]]:
    """Each archive, and what its report must say."""
    end = len(data)
    big = member_header(f"{'a' * 64}.data.json", 8**11 - 1, mtime)  # 8 GiB, the most tar says
    stray = b"".join(data_member(b'{"stray":%d}' % i, mtime) for i in range(20_000))
    return {
        "a member declaring 8 GiB, 6 GiB present": (
            sparse(tmp / "declared.bel", data + big, 6 * GiB),
            f"declares {8**11 - 1} bytes, more than the limit of {DEFAULT_MAX_MEMBER} for a data "
            f"member at event 11 ({{event}}); archive byte {end}",
        ),
        "20,000 data members that no event refers to": (
            sparse(tmp / "stray.bel", data + stray),
            f"follows 8 data members with no event between them: no event refers to more than 5 "
            f"(at most 8 in a row are read) at event 11 ({{event}}); archive byte {end + 8 * 1024}",
        ),
        "6 GiB of zeros after the last member": (
            sparse(tmp / "zeros.bel", data, 6 * GiB),
            f"more than {MAX_TRAILER} bytes of zero padding follow the last member, which ends at "
            f"byte {end}",
        ),
        "6 GiB of zeros, then other bytes": (
            sparse(tmp / "zeros-then.bel", data, 6 * GiB, b"\xff" * MiB),
            f"more than {MAX_TRAILER} bytes of zero padding follow the last member, which ends at "
            f"byte {end}",
        ),
        "16 MiB of other bytes, then 6 GiB of zeros": (
            sparse(tmp / "junk.bel", data + b"\xff" * (16 * MiB), 6 * GiB),
            f"tar checksum field is not octal at event 11 ({{event}}); archive byte {end}",
        ),
        "end-of-archive blocks, then 16 MiB of other bytes, then 6 GiB of zeros": (
            sparse(tmp / "eoa-junk.bel", data + b"\0" * 2 * BLOCK + b"\x01" * (16 * MiB), 6 * GiB),
            f"byte {end + 2 * BLOCK} is 0x01, not zero: only zero padding may follow the last "
            f"member, which ends at byte {end} at event 11 ({{event}}); archive byte "
            f"{end + 2 * BLOCK}",
        ),
    }


def check_invalid(run: Run, reason: str) -> None:
    assert run.status == 1, run.stdout + run.stderr
    assert run.stdout.endswith("INVALID\n"), run.stdout
    assert "ERROR: [archive] " in run.stdout and reason in run.stdout, run.stdout
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_huge_declarations_and_trailers_take_no_more_than_a_valid_archive(
    valid: tuple[bytes, int, Run], tmp_path: Path
) -> None:
    data, mtime, ok = valid
    event = Archive.load(peer_vector("single")[0]).entries[-1].hash
    for what, (path, reason) in cases(data, mtime, tmp_path).items():
        run = verify(path)
        check_invalid(run, reason.replace("{event}", event))
        # the documented bound: what the interpreter and a small valid archive take, and the
        # reader's pieces (a 64 KiB trailer piece, a member header)
        assert run.peak <= ok.peak + 16 * MiB, (what, run.peak, ok.peak)
        # time proportional to the bytes read, and those no more than the valid archive's and
        # the 1 MiB of zeros allowed after it, with what the other cases hold before the error
        assert run.read <= ok.read + 2 * MiB + 8 * 1024, (what, run.read, ok.read)
        assert path.stat().st_blocks * 512 < 20 * MiB  # sparse: the zeros take no disk


def test_a_member_of_the_largest_size_allowed_takes_that_size_once(
    valid: tuple[bytes, int, Run], tmp_path: Path
) -> None:
    """The worst an archive can make the reader hold: one member of the limit's size (its name
    a hash it does not have: read and hashed, then refused)."""
    data, mtime, ok = valid
    head = data + member_header(f"{'a' * 64}.data.json", DEFAULT_MAX_MEMBER, mtime)
    run = verify(sparse(tmp_path / "limit.bel", head, DEFAULT_MAX_MEMBER))
    check_invalid(run, "content hashes to")
    assert f"archive byte {len(data)}" in run.stdout
    assert run.peak <= ok.peak + DEFAULT_MAX_MEMBER + 16 * MiB, (run.peak, ok.peak)
    assert run.read <= ok.read + DEFAULT_MAX_MEMBER + 2 * MiB


def test_data_members_waiting_for_an_event_take_the_limit_at_most(
    valid: tuple[bytes, int, Run], tmp_path: Path
) -> None:
    """Members each within the limit, their names right, but more than the limit together
    before any event: the one that goes over is refused before it is read."""
    data, mtime, ok = valid
    size = 160 * MiB
    h = hashlib.sha256()
    zeros = bytes(MiB)
    for _ in range(size // MiB):
        h.update(zeros)
    header = member_header(f"{h.hexdigest()}.data.json", size, mtime)
    path = tmp_path / "waiting.bel"
    with path.open("wb") as f:
        f.write(data)
        for _ in range(40):  # 6.25 GiB declared and present, as zeros that take no disk
            f.write(header)
            f.seek(size, 1)
        f.truncate()
    run = verify(path)
    check_invalid(
        run,
        f"({size} bytes) brings the data waiting for the next event to {2 * size} bytes, more "
        f"than the limit of {DEFAULT_MAX_MEMBER}",
    )
    assert f"archive byte {len(data) + BLOCK + size}" in run.stdout
    assert run.peak <= ok.peak + DEFAULT_MAX_MEMBER + 16 * MiB, (run.peak, ok.peak)
    assert run.read <= ok.read + size + 2 * MiB


def test_a_member_whose_parse_would_take_25_times_its_size_is_refused_before_parsing(
    valid: tuple[bytes, int, Run], tmp_path: Path
) -> None:
    """An encrypted tally the events refer to, within the size limit, of nested empty lists:
    CPython's json would take about 1.9 GiB for it (26 times its size); the estimate refuses it
    first."""
    archive = Archive.load(peer_vector("single")[0])
    i = archive.index_of_hash(
        archive.data(archive.payload_index("EncryptedTally"))["encrypted_tally"]
    )
    n = 24 * MiB
    archive.replace_content(i, b"[" + b"[]," * (n - 1) + b"[]]")
    path = archive.write(tmp_path / "bomb.bel")
    del archive
    run = verify(path)
    assert run.status == 1 and run.stdout.endswith("INVALID\n"), run.stdout + run.stderr
    assert (
        "ERROR: [tally] " in run.stdout and "bytes of memory, more than the limit of" in run.stdout
    )
    assert "encrypted_tally" in run.stdout
    _, _, ok = valid
    assert run.peak <= ok.peak + 4 * n + 16 * MiB, (run.peak, ok.peak)
