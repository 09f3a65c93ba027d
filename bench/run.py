"""One benchmark run: seed a database per size, start the servers, drive them, measure.

Every size gets its own database and its own bot process, and all of them run side by side
with the two yardsticks: for each operation and concurrency the servers take turns, a slice of
the requests at a time. A machine shared with other work changes speed during a run; taking
turns makes such a change weigh on every server and every size alike, which is what the
comparisons (bot / yardstick, 100,000 / 1,000 members) need.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import databases, dispatch, seeding, servers
from bench.driver import PhaseResult, client_session, run_phase
from bench.fake import TimedFakeSlack
from bench.operations import Operation, Prepared, all_operations
from bench.sqlcount import count_statements
from bench.stats import ratio
from storage.database import Database
from storage.uow import UnitOfWorkFactory, unit_of_work_factory

YARDSTICKS = ("raw", "bolt")
ROLE_POOL = 256


@dataclass
class Config:
    database_url: str | None = None  # None: SQLite
    sizes: list[int] = field(default_factory=lambda: [1_000, 100_000])
    concurrencies: list[int] = field(default_factory=lambda: [1, 32])
    # Measured requests per (operation, server) at each concurrency; the warm-up comes on top.
    requests: dict[int, int] = field(default_factory=lambda: {1: 100, 32: 320})
    warmup: int = 10
    rounds: int = 2  # the servers take turns this many times per operation and concurrency
    operations: list[str] | None = None  # None: all
    dispatch_summaries: int = 1_000  # 0: skip the dispatcher measurement
    dispatch_at: int | None = None  # size to measure the dispatcher at (default: the largest)
    dispatch_within: float = 600.0
    log_dir: Path = Path("bench-logs")
    profile_dir: Path | None = None
    progress: Any = print

    def measured(self, concurrency: int) -> int:
        return self.requests.get(concurrency, 10 * concurrency)


@dataclass
class _Size:
    """One organization size: its database, what was seeded, its bot, its figures."""

    size: int
    bench_db: databases.BenchDatabase
    db: Database
    uow: UnitOfWorkFactory
    seeded: seeding.Seeded | None = None
    bot: servers.ServerProcess | None = None
    operations: dict[str, Operation] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)


async def run(config: Config) -> list[dict[str, Any]]:
    say = config.progress
    fake = TimedFakeSlack(team_id=seeding.TEAM_ID)
    sizes: list[_Size] = []
    started: list[servers.ServerProcess] = []
    try:
        for size in config.sizes:
            sizes.append(await _seed(config, size))
        await fake.start()
        _populate(fake, sizes[0].seeded)
        yardsticks = {
            kind: servers.yardstick(
                kind,
                fake.api_base_url,
                fake.token,
                config.log_dir,
                profile_dir=config.profile_dir,
            )
            for kind in YARDSTICKS
        }
        for s in sizes:
            s.bot = servers.bot(
                s.bench_db.url,
                fake.api_base_url,
                fake.token,
                config.log_dir,
                label=f"bot-{s.size}",
                profile_dir=config.profile_dir,
            )
            assert s.seeded is not None
            s.operations = {
                op.name: op
                for op in all_operations(fake, s.seeded)
                if config.operations is None or op.name in config.operations
            }
        for server in [*yardsticks.values(), *(s.bot for s in sizes if s.bot)]:
            await server.start()
            started.append(server)

        await _drive(config, sizes, yardsticks, fake)
        for s in sizes:
            assert s.bot is not None and s.seeded is not None
            s.result["bot_peak_rss_bytes"] = s.bot.peak_rss_bytes()
            s.result["bot_rss_bytes"] = s.bot.rss_bytes()
            say(f"[{s.size:,}] counting SQL statements per operation, and their plans ...")
            counts = await count_statements(
                s.bench_db.url,
                s.seeded,
                role_member=s.seeded.sql_role_member,
                invitee=s.seeded.spare_accounts[-1],
                removal_index=len(s.seeded.removal_pool) - 1,
            )
            s.result["sql"] = {name: c.as_dict() for name, c in counts.items()}

        if config.dispatch_summaries:
            at = config.dispatch_at or max(config.sizes)
            target = next(s for s in sizes if s.size == at)
            left = await dispatch.wait_until_drained(target.uow)
            for s in sizes:  # only the bot started for the measurement may post meanwhile
                assert s.bot is not None
                await s.bot.stop()
            say(
                f"[{at:,}] dispatcher: {config.dispatch_summaries:,} summaries, 429 on every "
                f"{dispatch.EVERY}rd chat.postMessage ({left} left over from the run) ..."
            )

            def second_bot() -> servers.ServerProcess:
                again = servers.bot(
                    target.bench_db.url,
                    fake.api_base_url,
                    fake.token,
                    config.log_dir,
                    label=f"bot-{at}-dispatch",
                )
                started.append(again)
                return again

            outcome = await dispatch.measure(
                fake,
                target.uow,
                second_bot,
                config.dispatch_summaries,
                within=config.dispatch_within,
            )
            target.result["dispatcher"] = outcome.as_dict()
    finally:
        for server in reversed(started):
            with contextlib.suppress(Exception):
                await server.stop()
        await fake.stop()
        for s in sizes:
            await s.db.dispose()
            await s.bench_db.drop()
    return [s.result for s in sizes]


async def _seed(config: Config, size: int) -> _Size:
    say = config.progress
    bench_db = await databases.create(config.database_url)
    db = Database(bench_db.url)
    s = _Size(size, bench_db, db, unit_of_work_factory(db))
    s.result = {"size": size, "database": bench_db.dialect, "database_version": await _version(db)}
    per_op = sum(config.warmup + config.measured(c) for c in config.concurrencies)
    say(f"[{size:,}] seeding ({bench_db.dialect}) ...")
    s.seeded = await seeding.seed(
        s.uow, size, spare=per_op + 2, role_pool=ROLE_POOL, removals=per_op + 2
    )
    s.result["seeding"] = {
        "seconds": {k: round(v, 3) for k, v in s.seeded.seconds.items()},
        "total_seconds": round(s.seeded.total_seconds, 3),
        "big_import_seconds": round(next(iter(s.seeded.seconds.values())), 3),
    }
    say(f"[{size:,}] seeded in {s.seeded.total_seconds:.1f}s")
    if db.is_postgresql:
        # What autovacuum does shortly after a bulk load: give the planner statistics.
        async with db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    return s


def _populate(fake: TimedFakeSlack, seeded: seeding.Seeded | None) -> None:
    """The workspace every size's bot talks to: the same channels and Admins in each."""
    assert seeded is not None
    fake.add_channel(seeding.COMMAND_CHANNEL, "admins")
    for channel in seeded.audit_channels.values():
        fake.add_channel(channel, f"audit-{channel.lower()}")
    for admin in seeded.admins:
        fake.add_user(admin.slack_id, email=admin.email, name=admin.name)


async def _drive(
    config: Config,
    sizes: list[_Size],
    yardsticks: dict[str, servers.ServerProcess],
    fake: TimedFakeSlack,
) -> None:
    bots = {s.size: s.bot for s in sizes}
    names = [*YARDSTICKS, *(f"bot-{size}" for size in bots)]
    sessions = {name: client_session(max(config.concurrencies)) for name in names}
    for s in sizes:
        s.result["latency"] = {}
    try:
        for concurrency in config.concurrencies:
            count = config.warmup + config.measured(concurrency)
            for op_name in sizes[0].operations:
                # Each size's bot gets its own requests (its own members); the yardsticks get
                # the first size's, the same bytes.
                prepared = {
                    s.size: [s.operations[op_name].prepare() for _ in range(count)] for s in sizes
                }
                turns: list[tuple[str, servers.ServerProcess, list[Prepared], bool]] = [
                    (kind, yardsticks[kind], prepared[sizes[0].size], False) for kind in YARDSTICKS
                ] + [(f"bot-{s.size}", s.bot, prepared[s.size], True) for s in sizes if s.bot]
                op = sizes[0].operations[op_name]
                for name, server, requests, is_bot in turns:
                    warm = requests[: config.warmup]
                    await run_phase(
                        sessions[name],
                        server.url,
                        servers.SIGNING_SECRET,
                        op,
                        warm,
                        min(concurrency, len(warm)) or 1,
                        fake=fake if is_bot else None,
                    )
                phases = {name: PhaseResult() for name, *_ in turns}
                for round_no in range(config.rounds):
                    # The bots alternate their order from round to round.
                    order = turns[:2] + (turns[2:] if round_no % 2 == 0 else turns[:1:-1])
                    for name, server, requests, is_bot in order:
                        await _quiesce(sizes)
                        part = _slice(requests[config.warmup :], round_no, config.rounds)
                        by_size = (
                            next(s for s in sizes if f"bot-{s.size}" == name) if is_bot else None
                        )
                        phase = await run_phase(
                            sessions[name],
                            server.url,
                            servers.SIGNING_SECRET,
                            by_size.operations[op_name] if by_size else op,
                            part,
                            concurrency,
                            fake=fake if is_bot else None,
                        )
                        phases[name].merge(phase)
                for s in sizes:
                    result = _op_result(op, phases["raw"], phases["bolt"], phases[f"bot-{s.size}"])
                    s.result["latency"].setdefault(str(concurrency), {})[op_name] = result
                    bot = result["bot"]
                    config.progress(
                        f"[{s.size:,}] c={concurrency:<2} {op_name:<13} bot p50 {bot['p50']:7.2f} "
                        f"ms p99 {bot['p99']:7.2f} ms | bolt p50 {result['bolt']['p50']:6.2f} | "
                        f"raw p50 {result['raw']['p50']:6.2f}"
                        + (
                            f" | {bot['errors']} errors: {bot['first_error']}"
                            if bot["errors"]
                            else ""
                        )
                    )
    finally:
        await asyncio.gather(*(s.close() for s in sessions.values()))


async def _quiesce(sizes: list[_Size]) -> None:
    """Let every bot's dispatcher post what the previous turn queued, so that no server's turn
    pays for another's audit summaries (during its own turn, a bot's dispatcher runs as usual)."""
    for s in sizes:
        await dispatch.wait_until_drained(s.uow, within=60)


def _slice(items: list[Prepared], index: int, parts: int) -> list[Prepared]:
    size = -(-len(items) // max(1, parts))
    return items[index * size : (index + 1) * size]


def _op_result(
    op: Operation, raw: PhaseResult, bolt: PhaseResult, bot: PhaseResult
) -> dict[str, Any]:
    out: dict[str, Any] = {"label": op.label, "mutating": op.mutating, "answer": op.answered_by}
    for name, phase in (("bot", bot), ("bolt", bolt), ("raw", raw)):
        out[name] = phase.summary().as_dict() | {"first_error": phase.first_error}
    b = out["bot"]
    out["ratios"] = {
        f"{q}_vs_{yard}": _round(ratio(b[q], out[yard][q]))
        for yard in ("bolt", "raw")
        for q in ("p50", "p99")
    }
    return out


async def _version(db: Database) -> str:
    query = "SELECT version()" if db.is_postgresql else "SELECT 'SQLite ' || sqlite_version()"
    async with db.engine.connect() as conn:
        return str(await conn.scalar(text(query)))


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None
