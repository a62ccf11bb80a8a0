"""``python -m integrations.sandbox --port 8089``: serve the sandbox OPDs on one port."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from integrations.sandbox.app import run_sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description="Loket OPD sandbox (synthetic data)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_sandbox(args.host, args.port, args.seed))


if __name__ == "__main__":
    main()
