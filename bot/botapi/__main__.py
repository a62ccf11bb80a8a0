"""``python -m bot.botapi``: run the local Bot API server alone, for manual use."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.botapi.limits import BotApiLimits
from bot.botapi.server import DEFAULT_TOKEN, LocalBotApi


async def _serve(port: int, limited: bool) -> None:
    api = LocalBotApi(BotApiLimits() if limited else BotApiLimits.unlimited())
    url = await api.start("127.0.0.1", port)
    print(f"Local Bot API server: {url}")
    print(f"  token:         {DEFAULT_TOKEN}")
    print(f"  base_url:      {url}/bot")
    print(f"  base_file_url: {url}/file/bot")
    print(f"  web chat:      {url}/")
    print("Press Ctrl+C to stop.", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Loket's local Telegram Bot API server.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--rate-limits", action="store_true", help="enforce flood control")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.rate_limits))


if __name__ == "__main__":
    main()
