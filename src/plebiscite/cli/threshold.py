"""``plebiscite trustee-threshold``: the threshold key ceremony, step by step.

Options, inputs and outputs mirror ``belenios-tool setup generate-trustee-key-threshold`` (same
file names and contents), so a script can use either tool for any step (see
``demo-threshold.sh`` of belenios-tool)::

    step 1  trustee  writes ID.cert and ID.key (the secret seed); with --threshold-context
                     I/K/N, a Belenios 3.x certificate (trustee I of N, threshold K)
    step 2  server   --certs: checks the certificates
    step 3  trustee  --certs --key --threshold: prints the trustee's polynomial
    step 4  server   --certs --polynomials: writes ID.vinput for each trustee
    step 5  trustee  --certs --key, the vinput on stdin: prints the voutput
    step 6  server   --certs --polynomials, the voutputs on stdin: prints the threshold
                     parameters (threshold.json) and writes ID.dkey for each trustee
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from plebiscite.crypto.groups import GROUPS, Group, group_by_name
from plebiscite.crypto.rand import SystemRandom
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.ceremony import (
    check_certificates,
    make_certificate,
    make_polynomial,
    make_threshold_parameters,
    make_vinputs,
    make_voutput,
)

__all__ = ["register"]

_STEPS = """steps:
  1  trustee  writes ID.cert and ID.key (the secret seed, keep it safe)
  2  server   --certs: checks the certificates
  3  trustee  --certs --key --threshold: prints the trustee's polynomial
  4  server   --certs --polynomials: writes ID.vinput for each trustee
  5  trustee  --certs --key, its ID.vinput on stdin: prints its voutput
  6  server   --certs --polynomials, the voutputs on stdin (in trustee order): prints the
              threshold parameters (threshold.json) and writes ID.dkey for each trustee"""

_PROG = "plebiscite trustee-threshold"


class _UsageError(Exception):
    pass


def _need(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        if getattr(args, name) is None:
            raise _UsageError(f"--{name} is mandatory for step {args.step}")


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _write(directory: Path, name: str, content: str, mode: int) -> Path:
    """Write ``name`` atomically (a temporary file renamed into place) with ``mode``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
        os.chmod(tmp, mode)
        os.replace(tmp, directory / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return directory / name


def _info(message: str) -> None:
    print(f"I: {message}", file=sys.stderr)


def _context(text: str | None) -> tuple[int, int, int] | None:
    """``I/K/N`` of ``--threshold-context``: trustee I of N, threshold K."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 3 for p in parts):
        raise _UsageError(
            f"--threshold-context is I/K/N (trustee I of N, threshold K), not {text!r}"
        )
    i, k, n = (int(p) for p in parts)
    if not (1 <= i <= n and 1 <= k <= n):
        raise _UsageError(f"--threshold-context {text}: needs 1 <= I, K <= N")
    return i, k, n


def _step(args: argparse.Namespace, group: Group) -> None:
    out = Path(args.dir)
    rng = SystemRandom()
    step = args.step
    context = _context(args.threshold_context)
    if step == 1:
        secret = make_certificate(group, rng, context)
        _info(f"certificate {secret.id} has been generated")
        cert = _write(out, f"{secret.id}.cert", secret.cert + "\n", 0o444)
        _info(f"certificate saved to {cert}")
        key = _write(out, f"{secret.id}.key", secret.seed + "\n", 0o400)
        _info(f"private key saved to {key}")
        return
    _need(args, "certs")
    certs = _read(args.certs)
    if step == 2:
        check_certificates(group, certs)
        _info("certificates are valid")
    elif step == 3:
        if args.threshold is None and context is not None:
            args.threshold = context[1]
        _need(args, "key", "threshold")
        sys.stdout.write(make_polynomial(group, certs, _read(args.key), args.threshold, rng) + "\n")
    elif step == 4:
        _need(args, "polynomials")
        for cert_id, vinput in make_vinputs(group, certs, _read(args.polynomials)):
            _info(f"wrote {_write(out, f'{cert_id}.vinput', vinput + chr(10), 0o444)}")
    elif step == 5:
        _need(args, "key")
        vinput = sys.stdin.read()
        sys.stdout.write(make_voutput(group, certs, _read(args.key), vinput, rng) + "\n")
    else:
        _need(args, "polynomials")
        result = make_threshold_parameters(group, certs, _read(args.polynomials), sys.stdin.read())
        for cert_id, dkey in result.dkeys:
            _info(f"wrote {_write(out, f'{cert_id}.dkey', dkey + chr(10), 0o400)}")
        sys.stdout.write(result.parameters + "\n")


def _cmd_threshold(args: argparse.Namespace) -> int:
    try:
        if args.protocol_version != 1:
            raise _UsageError(f"unsupported protocol version {args.protocol_version}")
        _step(args, group_by_name(args.group, where="--group"))
    except _UsageError as e:
        print(f"{_PROG}: {e}", file=sys.stderr)
        return 2
    except PlebisciteError as e:
        print(f"{_PROG}: step {args.step}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{_PROG}: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "trustee-threshold",
        help="threshold key ceremony: one step, for a trustee or the server",
        description=textwrap.fill(
            "Run one step of the threshold key ceremony (Pedersen protocol). Steps 1, "
            "3 and 5 are run by each trustee, steps 2, 4 and 6 by the server. Options, inputs and "
            "outputs are those of 'belenios-tool setup generate-trustee-key-threshold'; trustees "
            "are numbered in the order of --certs.",
            width=78,
        ),
        epilog=_STEPS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--step",
        type=int,
        required=True,
        choices=range(1, 7),
        metavar="STEP",
        help="the step to execute, 1 to 6",
    )
    p.add_argument(
        "--group",
        required=True,
        choices=sorted(GROUPS),
        metavar="GROUP",
        help=f"the group of the election: {', '.join(sorted(GROUPS))}",
    )
    p.add_argument(
        "--certs",
        metavar="CERTS",
        help="the certificates of all trustees, one per line, in trustee order (steps 2-6)",
    )
    p.add_argument(
        "--key",
        metavar="KEY",
        help="this trustee's private key file, ID.key, from step 1 (steps 3 and 5)",
    )
    p.add_argument(
        "--threshold",
        type=int,
        metavar="THRESHOLD",
        help="the number of trustees needed to decrypt (step 3)",
    )
    p.add_argument(
        "--threshold-context",
        metavar="I/K/N",
        help="a Belenios 3.x ceremony: this trustee is number I of N, K of whom are needed "
        "to decrypt (steps 1 and 3, as belenios-tool 3.0); without it, the 2.0 ceremony",
    )
    p.add_argument(
        "--polynomials",
        metavar="POLYNOMIALS",
        help="the outputs of step 3, one per line, in trustee order (steps 4 and 6)",
    )
    p.add_argument(
        "--protocol-version",
        type=int,
        default=1,
        metavar="VERSION",
        help="protocol version (only 1, the default, as belenios-tool 2.0)",
    )
    p.add_argument(
        "--dir",
        default=".",
        metavar="DIR",
        help="where steps 1, 4 and 6 write their files (default: the current directory)",
    )
    p.set_defaults(func=_cmd_threshold)
