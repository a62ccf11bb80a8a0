"""One worker process of the two-process race (tests/booking/test_two_processes.py).

Reads the database URL and its citizens' ids from argv, waits for "go" on stdin (so both
processes start together), books them all at once for the same 20 seats and prints the
outcome counts as JSON. Run as ``python -m tests.booking.race_worker URL ID,ID,...``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

from bot.booking import store
from bot.storage.db import make_engine, sessions
from tests.booking.test_store import NOW, QUEUE, TUESDAY


async def main(url: str, users: list[int]) -> None:
    engine = make_engine(url)
    factory = sessions(engine)
    async with factory() as warm:  # connect before the start signal
        await warm.connection()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    results = await asyncio.gather(
        *(
            store.book(
                factory,
                user_id=user,
                queue=QUEUE,
                day=TUESDAY,
                session_key="08:00-10:00",
                now=NOW,
                holidays=frozenset(),
            )
            for user in users
        )
    )
    await engine.dispose()
    print(json.dumps(Counter(r.outcome.value for r in results)), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], [int(x) for x in sys.argv[2].split(",")]))
