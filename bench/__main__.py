"""`python -m bench`: the full Slack round trip at 1,000 and 100,000 members, beside a bare
Bolt app and a raw aiohttp endpoint. See the README's "Benchmark" section."""

from bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
