"""Serve a FakeSlack standalone: `python -m slackfake --port 8099 --token xoxb-...`.

Used by the benchmark and the local sandbox; prints its URLs and runs until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence

from slackfake.server import DEFAULT_TOKEN, FakeSlack


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="slackfake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="bot token to accept")
    parser.add_argument("--team-id", default="T0MINESYNC")
    parser.add_argument(
        "--strict-channels",
        action="store_true",
        help="answer channel_not_found for unregistered channels (default: accept any)",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeSlack(
        token=args.token,
        team_id=args.team_id,
        host=args.host,
        port=args.port,
        # Nobody registers channels in a sandbox, so accept any id unless asked otherwise.
        auto_channels=not args.strict_channels,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not available on Windows
            loop.add_signal_handler(sig, stop.set)
    async with fake:
        print(f"FakeSlack listening on {fake.base_url} (api_base_url {fake.api_base_url})")
        print(f"bot token: {fake.token}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(_serve(_parse(argv)))


if __name__ == "__main__":
    main()
