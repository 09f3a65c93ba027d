"""The two yardsticks the bot is measured against, each served like the bot: aiohttp on loopback.

- `bolt`: a bare slack-bolt AsyncApp with default settings (so process_before_response=False:
  Bolt runs the listener in a task and polls every 10 ms for its ack) whose listeners only
  ack. Served through the same aiohttp adapter calls as `minesync-bot serve`.
- `raw`: an aiohttp endpoint that only verifies the Slack signature (slack_sdk's
  SignatureVerifier, as Bolt uses) and answers 200 — the floor of the stack.

Run as `python -m bench.yardsticks bolt|raw --port N [--api-base-url URL]`; it prints one
"listening" line once it accepts requests, and stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
from typing import Any

from aiohttp import web

SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET"
BOT_TOKEN_ENV = "SLACK_BOT_TOKEN"


def bolt_web_app(signing_secret: str, token: str, api_base_url: str) -> web.Application:
    """A default AsyncApp whose listeners only ack, behind POST /slack/events."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    # Only the client is given (so Bolt's one auth.test reaches the fake Slack, not slack.com);
    # everything else is Bolt's default.
    app = AsyncApp(
        signing_secret=signing_secret,
        client=AsyncWebClient(token=token, base_url=api_base_url),
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    app.command("/minesync")(only_ack)
    app.action(re.compile(".*"))(only_ack)
    app.view(re.compile(".*"))(only_ack)

    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    return web_app


def raw_web_app(signing_secret: str) -> web.Application:
    """Verify the signature of the exact bytes received, answer 200 (401 if forged)."""
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        body = await request.read()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401)
        return web.Response(status=200)

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    return web_app


def build(kind: str, env: dict[str, Any]) -> web.Application:
    secret = env[SIGNING_SECRET_ENV]
    if kind == "bolt":
        return bolt_web_app(secret, env[BOT_TOKEN_ENV], env["SLACK_API_BASE_URL"])
    if kind == "raw":
        return raw_web_app(secret)
    raise ValueError(f"unknown yardstick {kind!r}: bolt or raw")


async def serve(kind: str, host: str, port: int) -> None:
    runner = web.AppRunner(build(kind, dict(os.environ)), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"{kind} yardstick listening on http://{host}:{port}/slack/events", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.yardsticks")
    parser.add_argument("kind", choices=("bolt", "raw"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.kind, args.host, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
