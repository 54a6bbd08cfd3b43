"""The peer that checks an archive: belenios-tool 3.0 for Belenios 3.x records (the Ed25519
group), Debian bookworm's belenios-tool 2.0 for the finite-field groups.

``peer_verifies(directory)`` asserts that the peer for the group of the election in
``directory`` accepts it; ``peer_shuffle(directory, owner)`` runs the peer's shuffle. Both
fail the test when the peer is missing (``./dev test`` installs both)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import peer3  # noqa: E402

__all__ = ["archive_group", "peer_shuffle", "peer_verifies"]


def archive_group(directory: Path) -> str:
    """The group of the election of the one archive in ``directory``."""
    (archive,) = directory.glob("*.bel")
    events, data = peer3.archive_events(archive)
    setup = next(e for e in events if e["type"] == "Setup")
    setup_v = json.loads(data[setup["payload"]])
    election = json.loads(data[setup_v["election"]])
    return str(election["group"])


def _belenios2() -> str:
    exe = shutil.which("belenios-tool")
    assert exe is not None, "belenios-tool 2.0 is not installed (./dev test installs it)"
    return exe


def peer_verifies(directory: Path) -> None:
    """The peer of the archive's record accepts it (``election verify``)."""
    if archive_group(directory) == "Ed25519":
        assert peer3.belenios3_tool() is not None, "belenios-tool 3.0: run scripts/belenios3-setup"
        p = peer3.belenios3_verify(directory)
    else:
        p = subprocess.run(
            [_belenios2(), "election", "verify", "--dir", str(directory)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert p.returncode == 0, p.stderr


def peer_shuffle(directory: Path, owner: int) -> bytes:
    """The peer's ``election shuffle --trustee-id=OWNER``: the lines it prints."""
    if archive_group(directory) == "Ed25519":
        return peer3._tool(
            ["election", "shuffle", "--dir", directory, f"--trustee-id={owner}"], directory
        ).encode()
    p = subprocess.run(
        [_belenios2(), "election", "shuffle", "--dir", str(directory), f"--trustee-id={owner}"],
        capture_output=True,
        timeout=300,
        env={"BELENIOS_USE_URANDOM": "1", "PATH": "/usr/bin:/bin"},
    )
    assert p.returncode == 0, p.stderr
    return p.stdout
