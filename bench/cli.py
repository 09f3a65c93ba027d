"""Command line of the benchmark: options, the run, the table and the JSON file."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import profiles, report
from bench.operations import OPERATION_NAMES
from bench.run import Config, run


def _ints(text: str) -> list[int]:
    try:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("numbers must be positive")
    return values


def _operations(text: str) -> list[str]:
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = set(names) - set(OPERATION_NAMES)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown operation(s) {', '.join(sorted(unknown))}: choose from "
            + ", ".join(OPERATION_NAMES)
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the bot's full Slack round trip beside a bare Bolt app and a raw "
        "aiohttp endpoint, at several organization sizes.",
    )
    p.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql://user@host:port/db); the benchmark creates and "
        "drops a database of its own there. Default: a fresh SQLite file.",
    )
    p.add_argument(
        "--sizes",
        type=_ints,
        default=[1_000, 100_000],
        help="members of the big organization, one run each (default 1000,100000)",
    )
    p.add_argument(
        "--concurrency", type=_ints, default=[1, 32], help="concurrency levels (default 1,32)"
    )
    p.add_argument(
        "--requests",
        type=int,
        default=100,
        help="measured requests per operation and server at concurrency 1 (100)",
    )
    p.add_argument(
        "--requests-per-worker",
        type=int,
        default=10,
        help="above concurrency 1: measured requests per worker (10)",
    )
    p.add_argument("--warmup", type=int, default=10, help="unmeasured requests first (10)")
    p.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="the three servers take turns this many times per phase (2)",
    )
    p.add_argument(
        "--operations",
        type=_operations,
        default=None,
        help="a subset of " + ",".join(OPERATION_NAMES),
    )
    p.add_argument(
        "--dispatch-summaries",
        type=int,
        default=1_000,
        help="audit summaries for the dispatcher measurement; 0 skips it (1000)",
    )
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.add_argument(
        "--log-dir", type=Path, help="where the servers' logs go (default: a temporary directory)"
    )
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run the three servers under cProfile and write DIR/<server>.prof/.txt "
        "(latencies are then inflated by the profiler)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def config_from(args: argparse.Namespace) -> Config:
    requests = {
        c: (args.requests if c == 1 else args.requests_per_worker * c) for c in args.concurrency
    }
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="minesync-bench-logs-"))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    return Config(
        database_url=args.database_url,
        sizes=args.sizes,
        concurrencies=args.concurrency,
        requests=requests,
        warmup=args.warmup,
        rounds=args.rounds,
        operations=args.operations,
        dispatch_summaries=args.dispatch_summaries,
        log_dir=log_dir,
        profile_dir=args.profile.resolve() if args.profile else None,
        progress=(lambda *_: None) if args.quiet else _progress,
    )


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def document(
    config: Config, runs: list[dict[str, Any]], load_before: list[float], seconds: float
) -> dict[str, Any]:
    dialect = (
        "sqlite"
        if config.database_url is None
        else make_url(config.database_url).get_backend_name()
    )
    doc: dict[str, Any] = {
        "machine": report.machine_facts(),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "database": dialect,
        "config": {
            "sizes": config.sizes,
            "concurrency": config.concurrencies,
            "requests": {str(k): v for k, v in config.requests.items()},
            "warmup": config.warmup,
            "rounds": config.rounds,
            "dispatch_summaries": config.dispatch_summaries,
            "profiled": config.profile_dir is not None,
        },
        "seconds": round(seconds, 1),
        "runs": runs,
    }
    doc["scaling"] = report.scaling(runs)
    doc["targets"] = report.evaluate_targets(doc)
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from(args)
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.monotonic()
    runs = asyncio.run(run(config))
    doc = document(config, runs, load_before, time.monotonic() - started)
    print(report.render(doc))
    print(f"\n(total {doc['seconds']:.0f}s; server logs in {config.log_dir})")
    if args.json:
        report.write_json(doc, args.json)
        print(f"figures written to {args.json}")
    if config.profile_dir:
        for name, text in profiles.summarize_all(config.profile_dir, top=15).items():
            print(f"\n--- profile of {name} (full text in {config.profile_dir}/{name}.txt)")
            print(text.split("== ", 2)[1] if "== " in text else text)
    return 0
