"""The benchmark's own pieces: percentiles, the report, and a tiny end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import report
from bench.cli import build_parser, config_from, document
from bench.run import Config, run
from bench.sqlcount import _FULL_SCAN
from bench.stats import percentile, ratio, summarize


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 0) == 1
    assert percentile([4, 1, 3, 2], 100) == 4
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.0], 99) == 7.0


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_is_in_milliseconds_with_throughput() -> None:
    s = summarize([0.001, 0.002, 0.003, 0.004], errors=1, seconds=0.5)
    assert (s.requests, s.errors, s.rps) == (4, 1, 8.0)
    assert s.p50 == pytest.approx(2.5)
    assert s.max == pytest.approx(4.0)
    assert ratio(2.0, 4.0) == 0.5
    assert ratio(1.0, 0.0) is None


def _phase(p50: float, p99: float) -> dict:
    return {
        "requests": 10,
        "errors": 0,
        "seconds": 1.0,
        "rps": 10.0,
        "p50": p50,
        "p95": p99,
        "p99": p99,
        "max": p99,
        "first_error": None,
    }


def _op(bot: tuple[float, float], bolt: tuple[float, float], raw: tuple[float, float]) -> dict:
    return {
        "label": "x",
        "mutating": True,
        "answer": "http",
        "bot": _phase(*bot),
        "bolt": _phase(*bolt),
        "raw": _phase(*raw),
        "ratios": {
            "p50_vs_bolt": bot[0] / bolt[0],
            "p99_vs_bolt": bot[1] / bolt[1],
            "p50_vs_raw": bot[0] / raw[0],
            "p99_vs_raw": bot[1] / raw[1],
        },
    }


def _run(size: int, role_p50: float) -> dict:
    return {
        "size": size,
        "database": "sqlite",
        "database_version": "SQLite 3",
        "seeding": {
            "seconds": {"import big": 1.0},
            "total_seconds": 1.0,
            "big_import_seconds": 25.0,
        },
        "latency": {
            "1": {"role": _op((role_p50, 9.0), (12.0, 14.0), (0.5, 1.0))},
            "32": {"role": _op((100.0, 350.0), (15.0, 20.0), (5.0, 9.0))},
        },
        "bot_peak_rss_bytes": 150 * report.MB,
        "bot_rss_bytes": 140 * report.MB,
        "sql": {
            "role": {
                "statements": 13,
                "transactions": 2,
                "kinds": {"SELECT": 9},
                "full_scans": ["SCAN memberships  <- SELECT ..."] if size > 1_000 else [],
            }
        },
    }


def test_targets_report_what_is_met_and_by_how_much_what_is_missed(tmp_path: Path) -> None:
    doc = {
        "machine": report.machine_facts(),
        "load_before": [1.0, 1.0, 1.0],
        "load_after": [1.0, 1.0, 1.0],
        "database": "sqlite",
        "runs": [_run(1_000, 5.0), _run(100_000, 6.5)],
    }
    doc["scaling"] = report.scaling(doc["runs"])
    doc["targets"] = report.evaluate_targets(doc)
    by_key = {(t["target"], t["where"]): t for t in doc["targets"]}

    vs_bolt = by_key[("c=1 p50 / bolt p50", "sqlite 100,000 members role")]
    assert vs_bolt["met"] is False and vs_bolt["factor_of_limit"] == pytest.approx(1.08, abs=0.01)
    assert by_key[("c=1 p50 / bolt p50", "sqlite 1,000 members role")]["met"] is True
    assert by_key[("c=32 p99 of a mutating command", "sqlite 1,000 members role")]["met"] is False
    assert by_key[("bot peak RSS", "sqlite 100,000 members")]["met"] is True
    assert by_key[("bulk import of the big organization", "sqlite 100,000 members")]["met"]
    assert by_key[("whole-table scans in the operations' plans", "sqlite 1,000 members")]["met"]
    scans = by_key[("whole-table scans in the operations' plans", "sqlite 100,000 members")]
    assert scans["met"] is False and scans["value"] == 1
    scaling = by_key[("p50 at 100,000 / at 1,000", "sqlite c=1 role")]
    assert scaling["value"] == pytest.approx(1.3) and scaling["met"] is False

    text = report.render(doc)
    assert "MISSED (1.08x the limit)" in text
    assert "1,000 members in the big organization" in text
    assert "SQL statements per operation" in text
    assert "scan: role: SCAN memberships" in text
    out = tmp_path / "figures.json"
    report.write_json(doc, out)
    assert json.loads(out.read_text())["runs"][1]["size"] == 100_000


def test_command_line_defaults_are_the_issue_s_benchmark(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--log-dir", str(tmp_path)])
    config = config_from(args)
    assert config.sizes == [1_000, 100_000]
    assert config.concurrencies == [1, 32]
    assert config.requests == {1: 100, 32: 320}
    assert config.dispatch_summaries == 1_000 and config.database_url is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--operations", "role,nope"])


async def test_a_tiny_run_measures_every_operation_on_all_three_servers(tmp_path: Path) -> None:
    config = Config(
        sizes=[200],
        concurrencies=[1, 2],
        requests={1: 4, 2: 4},
        warmup=2,
        dispatch_summaries=6,
        dispatch_within=30.0,
        log_dir=tmp_path,
        progress=lambda *_: None,
    )
    runs = await run(config)
    doc = document(config, runs, [0.0, 0.0, 0.0], 1.0)
    (only,) = doc["runs"]
    for concurrency in ("1", "2"):
        ops = only["latency"][concurrency]
        assert set(ops) == {"role", "invite", "members", "members_deep", "remove", "help"}
        for name, op in ops.items():
            for server in ("bot", "bolt", "raw"):
                assert op[server]["requests"] == 4, (name, server)
                assert op[server]["errors"] == 0, (name, server, op[server]["first_error"])
    assert only["bot_peak_rss_bytes"] > 10 * report.MB
    assert only["sql"]["role"]["statements"] > 0
    assert all(not c["full_scans"] for c in only["sql"].values())
    dispatcher = only["dispatcher"]
    assert dispatcher["complete"] and dispatcher["duplicates"] == 0
    assert dispatcher["rate_limited_answers"] >= 1
    assert "targets (reported, not asserted)" in report.render(doc)


@pytest.mark.parametrize(
    ("line", "whole_table"),
    [
        ("SCAN memberships", True),
        ("SCAN users USING COVERING INDEX ix_users_email", True),
        ("  ->  Seq Scan on memberships m  (cost=0.00..2747.30 rows=88017 width=16)", True),
        ("Seq Scan on audit_entries  (cost=0.00..1.1 rows=1 width=8)", True),
        ("SEARCH memberships USING INDEX ix_memberships_org_email (org_id=? AND email>?)", False),
        ("  ->  Index Scan using ix_memberships_org_email on memberships m", False),
        ("  ->  Index Only Scan using pk_users on users u  (cost=0.29..0.37)", False),
        ("  ->  Seq Scan on organizations o  (cost=0.00..2.05 rows=5 width=128)", False),
    ],
)
def test_plans_that_scan_a_whole_growing_table_are_recognized(line: str, whole_table: bool):
    assert bool(_FULL_SCAN.search(line)) is whole_table
