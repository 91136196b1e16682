"""CLI: ``python -m omics_emulator [options]``.

Prints the endpoint URL (``http://127.0.0.1:PORT``) as the first stdout line, logs one
line per request to stderr, exits 0 on SIGINT/SIGTERM.

``--profile``: the behaviour where AWS's docs are silent (``default``, ``token-conflict``,
``token-mismatch``, ``token-ignored``, ``paging``, ``lagging``, ``finalizing``, ``eventual``;
the module ``omics_emulator.profiles`` describes each).
``--seed``: a seed JSON file, ``cohort`` (the shipped cohort, store 1234567890; the
default when the flag is absent) or ``none`` (start with no stores).
Credentials: access key ID ``test``, secret ``test`` unless ``--access-key-id`` /
``--secret-access-key`` say otherwise. Clients must turn botocore's host-prefix injection
off (it would send ``control-storage-127.0.0.1``): ``AWS_DISABLE_HOST_PREFIX_INJECTION=true``
for the AWS CLI, ``Config(inject_host_prefix=False)`` for boto3.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import List, Optional

from .core import Emulator
from .exceptions import SeedError
from .profiles import PROFILES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m omics_emulator", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port, 0 = pick a free one (default 0)")
    p.add_argument("--seed", default="cohort", help="seed JSON file, 'cohort' (default) or 'none'")
    p.add_argument("--activation-seconds", type=float, default=60.0, help="emulated seconds per activation (default 60)")
    p.add_argument("--queue-seconds", type=float, default=5.0, help="emulated seconds a job stays SUBMITTED (default 5)")
    p.add_argument("--max-concurrent-jobs", type=int, default=20, help="concurrent job quota (default 20)")
    p.add_argument("--rate-limit", type=float, default=5.0, help="requests per emulated second per family, 0 = unlimited (default 5)")
    p.add_argument("--time-scale", type=float, default=1.0, help="emulated seconds per real second (default 1)")
    p.add_argument("--jitter", type=float, default=0.1, help="+- fraction of activation duration variation (default 0.1)")
    p.add_argument("--random-seed", type=int, default=0, help="seed of IDs, jitter and faults (default 0)")
    p.add_argument("--profile", default="default", choices=list(PROFILES),
                   help="behaviour where AWS's docs are silent (the module omics_emulator.profiles describes each; default 'default')")
    p.add_argument("--access-key-id", default="test")
    p.add_argument("--secret-access-key", default="test")
    p.add_argument("--quiet", action="store_true", help="no per-request log lines")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Run the emulator until SIGINT/SIGTERM; returns the exit code."""
    args = _parser().parse_args(argv)
    seed = None if args.seed.lower() == "none" else args.seed
    try:
        emu = Emulator(
            seed=seed, activation_seconds=args.activation_seconds, queue_seconds=args.queue_seconds,
            max_concurrent_jobs=args.max_concurrent_jobs, rate_limit=args.rate_limit, time_scale=args.time_scale,
            jitter=args.jitter, random_seed=args.random_seed, host=args.host, port=args.port,
            access_key_id=args.access_key_id, secret_access_key=args.secret_access_key,
            log_requests=not args.quiet, profile=args.profile,
        )
        emu.start()
    except (SeedError, ValueError, OSError) as err:
        print(f"omics emulator: {err}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    print(emu.endpoint_url, flush=True)
    print(f"omics emulator listening on {emu.endpoint_url} (stores: {', '.join(emu.store_ids) or 'none'}; "
          f"profile {emu.profile}; credentials {args.access_key_id}/****)", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    emu.stop()
    print("omics emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
