"""The benchmark's figures: machine facts, the targets (reported, never asserted), JSON and a
table a person reads."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from bench.operations import MUTATING

MB = 1024 * 1024

# The targets, checked against the figures and reported as met or missed.
TARGET_VS_BOLT_P50 = 0.5
TARGET_VS_RAW_P50 = 5.0
TARGET_P99_MUTATING_MS = 300.0
TARGET_SCALING = 1.2
TARGET_RSS_MB = 200.0
TARGET_IMPORT_SECONDS = 30.0
SLACK_DEADLINE_MS = 3000.0


def machine_facts() -> dict[str, Any]:
    model = None
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                None,
            )
    except OSError:
        pass
    memory = None
    try:
        with open("/proc/meminfo") as meminfo:
            first = meminfo.readline().split()
            memory = int(first[1]) * 1024 if first and first[0] == "MemTotal:" else None
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_bytes": memory,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


# -- targets ------------------------------------------------------------------------------------


def _target(name: str, where: str, value: float | None, limit: float, unit: str = "") -> dict:
    met = value is not None and value <= limit
    return {
        "target": name,
        "where": where,
        "value": None if value is None else round(value, 3),
        "limit": limit,
        "unit": unit,
        "met": met,
        # How far off: value / limit (>1 means missed by that factor).
        "factor_of_limit": None if value is None or not limit else round(value / limit, 2),
    }


def evaluate_targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    runs = doc["runs"]
    dialect = doc["database"]
    out: list[dict[str, Any]] = []
    for run in runs:
        size = f"{run['size']:,} members"
        c1 = run["latency"].get("1", {})
        for op, r in c1.items():
            out.append(
                _target(
                    "c=1 p50 / bolt p50",
                    f"{dialect} {size} {op}",
                    r["ratios"]["p50_vs_bolt"],
                    TARGET_VS_BOLT_P50,
                    "x",
                )
            )
            out.append(
                _target(
                    "c=1 p50 / raw p50",
                    f"{dialect} {size} {op}",
                    r["ratios"]["p50_vs_raw"],
                    TARGET_VS_RAW_P50,
                    "x",
                )
            )
        c32 = run["latency"].get("32", {})
        for op, r in c32.items():
            if op in MUTATING:
                out.append(
                    _target(
                        "c=32 p99 of a mutating command",
                        f"{dialect} {size} {op}",
                        r["bot"]["p99"],
                        TARGET_P99_MUTATING_MS,
                        "ms",
                    )
                )
        worst = max(
            (r["bot"]["max"] for at in run["latency"].values() for r in at.values()), default=None
        )
        out.append(
            _target(
                "slowest answer (Slack's deadline)",
                f"{dialect} {size}",
                worst,
                SLACK_DEADLINE_MS,
                "ms",
            )
        )
        if run.get("sql"):
            scans = sum(len(c.get("full_scans", [])) for c in run["sql"].values())
            out.append(
                _target("whole-table scans in the operations' plans", f"{dialect} {size}", scans, 0)
            )
        if run["size"] >= 100_000 and run.get("bot_peak_rss_bytes"):
            out.append(
                _target(
                    "bot peak RSS",
                    f"{dialect} {size}",
                    run["bot_peak_rss_bytes"] / MB,
                    TARGET_RSS_MB,
                    "MB",
                )
            )
        if run["size"] >= 100_000 and dialect == "sqlite":
            out.append(
                _target(
                    "bulk import of the big organization",
                    f"{dialect} {size}",
                    run["seeding"]["big_import_seconds"],
                    TARGET_IMPORT_SECONDS,
                    "s",
                )
            )
    for row in doc.get("scaling", []):
        out.append(
            _target(
                f"p50 at {row['large']:,} / at {row['small']:,}",
                f"{dialect} c={row['concurrency']} {row['operation']}",
                row["p50_ratio"],
                TARGET_SCALING,
                "x",
            )
        )
    return out


def scaling(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """p50 and p99 of every operation at the largest size over the smallest, per concurrency."""
    if len(runs) < 2:
        return []
    small, large = min(runs, key=lambda r: r["size"]), max(runs, key=lambda r: r["size"])
    rows = []
    for concurrency, at in large["latency"].items():
        for op, r in at.items():
            base = small["latency"].get(concurrency, {}).get(op)
            if base is None:
                continue
            rows.append(
                {
                    "concurrency": int(concurrency),
                    "operation": op,
                    "small": small["size"],
                    "large": large["size"],
                    "p50_small": base["bot"]["p50"],
                    "p50_large": r["bot"]["p50"],
                    "p50_ratio": round(r["bot"]["p50"] / base["bot"]["p50"], 3),
                    "p99_ratio": round(r["bot"]["p99"] / base["bot"]["p99"], 3),
                    "sql_small": small.get("sql", {}).get(op, {}).get("statements"),
                    "sql_large": large.get("sql", {}).get(op, {}).get("statements"),
                }
            )
    return rows


# -- output -------------------------------------------------------------------------------------


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _missed(target: dict[str, Any]) -> str:
    if target["factor_of_limit"] is None:
        return "MISSED"
    return f"MISSED ({_f(target['factor_of_limit'])}x the limit)"


def render(doc: dict[str, Any]) -> str:
    out: list[str] = []
    m = doc["machine"]
    out.append("MineSync Admin Bot benchmark")
    out.append(
        f"machine: {m['nproc']} CPU(s), {m['cpu_model']}, "
        f"{_f((m['memory_bytes'] or 0) / 2**30, 1)} GiB, Linux {m['kernel']}, Python {m['python']}"
    )
    out.append(
        f"load average: {doc['load_before']} before, {doc['load_after']} after; "
        f"database: {doc['database']} ({doc['runs'][0].get('database_version', '?')})"
        if doc["runs"]
        else ""
    )
    out.append(
        "latency = from sending the signed request until the answer reaches Slack (the HTTP "
        "answer, or the response_url post); ms"
    )
    for run in doc["runs"]:
        out.append("")
        out.append(f"== {run['size']:,} members in the big organization ({run['database']}) ==")
        s = run["seeding"]
        out.append(
            "seeding (bulk import): "
            + ", ".join(f"{k} {v:.2f}s" for k, v in s["seconds"].items())
            + f"; total {s['total_seconds']:.1f}s"
        )
        for concurrency, at in run["latency"].items():
            out.append("")
            out.append(f"concurrency {concurrency}")
            headers = [
                "operation",
                "answer",
                "req/s",
                "p50",
                "p95",
                "p99",
                "max",
                "err",
                "bolt p50",
                "bolt p99",
                "raw p50",
                "raw p99",
                "p50/bolt",
                "p99/bolt",
                "p50/raw",
                "p99/raw",
            ]
            rows = []
            for op, r in at.items():
                b, y, w, q = r["bot"], r["bolt"], r["raw"], r["ratios"]
                rows.append(
                    [
                        op,
                        r["answer"],
                        _f(b["rps"], 0),
                        _f(b["p50"]),
                        _f(b["p95"]),
                        _f(b["p99"]),
                        _f(b["max"], 1),
                        str(b["errors"]),
                        _f(y["p50"]),
                        _f(y["p99"]),
                        _f(w["p50"]),
                        _f(w["p99"]),
                        _f(q["p50_vs_bolt"]),
                        _f(q["p99_vs_bolt"]),
                        _f(q["p50_vs_raw"]),
                        _f(q["p99_vs_raw"]),
                    ]
                )
            out.extend(_table(headers, rows))
            yard = [
                f"{op}: bolt {r['bolt']['rps']:.0f} req/s, raw {r['raw']['rps']:.0f} req/s"
                for op, r in at.items()
            ]
            out.append("yardsticks' throughput: " + "; ".join(yard))
            errors = [
                f"{op} on {name}: {r[name]['first_error']}"
                for op, r in at.items()
                for name in ("bot", "bolt", "raw")
                if r[name]["errors"]
            ]
            if errors:
                out.append("errors: " + "; ".join(errors))
        if run.get("sql"):
            out.append("")
            out.append(
                "SQL statements per operation (caller resolution + the use case), and scans of "
                "a whole members, accounts or audit table in their plans (EXPLAIN):"
            )
            rows = [
                [
                    op,
                    str(c["statements"]),
                    str(c["transactions"]),
                    ", ".join(f"{k} {v}" for k, v in sorted(c["kinds"].items())),
                    str(len(c.get("full_scans", []))),
                ]
                for op, c in run["sql"].items()
            ]
            headers = ["operation", "statements", "transactions", "kinds", "whole-table scans"]
            out.extend(_table(headers, rows))
            out.extend(
                f"  scan: {op}: {line}"
                for op, c in run["sql"].items()
                for line in c.get("full_scans", [])
            )
        if run.get("bot_peak_rss_bytes"):
            out.append("")
            out.append(
                f"bot process peak RSS (VmHWM): {run['bot_peak_rss_bytes'] / MB:.1f} MB "
                f"(RSS at the end {run['bot_rss_bytes'] / MB:.1f} MB)"
            )
        d = run.get("dispatcher")
        if d:
            out.append("")
            out.append(
                f"audit dispatcher: {d['delivered']:,} of {d['summaries']:,} summaries over "
                f"{d['channels']} channels delivered in {_f(d['seconds_first_post_to_last'], 1)}s "
                f"from the first post ({_f(d['seconds_from_process_start'], 1)}s from process "
                f"start) with 429 + Retry-After: 1 on every 3rd chat.postMessage; "
                f"{d['rate_limited_answers']} answers were 429, {d['duplicates']} duplicates; "
                "per channel: "
                + ", ".join(f"{c} {v}/s" for c, v in d["per_channel_per_second"].items())
            )
    if doc.get("scaling"):
        out.append("")
        out.append("flat cost as the organization grows (bot, largest size / smallest):")
        rows = [
            [
                f"c={r['concurrency']} {r['operation']}",
                _f(r["p50_small"]),
                _f(r["p50_large"]),
                _f(r["p50_ratio"]),
                _f(r["p99_ratio"]),
                f"{r['sql_small']} / {r['sql_large']}",
            ]
            for r in doc["scaling"]
        ]
        small, large = doc["scaling"][0]["small"], doc["scaling"][0]["large"]
        out.extend(
            _table(
                [
                    "operation",
                    f"p50 @{small:,}",
                    f"p50 @{large:,}",
                    "p50 ratio",
                    "p99 ratio",
                    "SQL stmts",
                ],
                rows,
            )
        )
    out.append("")
    out.append("targets (reported, not asserted):")
    rows = [
        [
            t["target"],
            t["where"],
            f"{_f(t['value'])} {t['unit']}",
            f"{t['limit']:g} {t['unit']}",
            "met" if t["met"] else _missed(t),
        ]
        for t in doc["targets"]
    ]
    out.extend(_table(["target", "where", "value", "limit", "outcome"], rows))
    return "\n".join(out)
