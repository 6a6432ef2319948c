"""The api-slow report (plugin_utils/reports/api_slow.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_api_slow_reports_the_cache_the_queries_and_the_latency() -> None:
    redis = {"services": {"redis": {"before": "exited"}}, "actions": ["started redis"]}
    queries = {"slow": ["id 7: SELECT SLEEP(600) (610 s)"], "queries": [{"id": 7}]}
    health = {"problems": ["alldata-api /health took 2300 ms"], "apis": {"alldata-api": {"ms": 2300}}}
    results = {
        "redis": redis,
        "kill": SKIPPED,
        "pong": {"stdout": "PONG\n"},
        "queries_before": queries,
        "queries_after": SKIPPED,
        "health_before": health,
        "health_after": {"problems": [], "apis": {"alldata-api": {"ms": 12}}},
    }
    report = build("api_slow", results, {"kill_after": 0})
    assert report["found"] == [
        "redis is exited: the APIs run without their cache",
        "slow query: id 7: SELECT SLEEP(600) (610 s)",
        "alldata-api /health took 2300 ms",
    ]
    assert report["left"][0] == "still running: id 7: SELECT SLEEP(600) (610 s)" and "--kill-after" in report["left"][1]
    assert not report["failed"] and report["details"]["pong"] == "PONG"

    killed = build(
        "api_slow",
        {**results, "kill": {"killed": ["id 7 (SELECT, 610 s)"]}, "queries_after": {"slow": [], "queries": []}},
        {"kill_after": 60},
    )
    assert killed["done"] == ["started redis", "id 7 (SELECT, 610 s)"] and killed["left"] == []
    no_pong = build("api_slow", {**results, "pong": {"stdout": "NOAUTH"}}, {"kill_after": 0})
    assert no_pong["failed"] and no_pong["left"][0] == "redis-cli ping does not answer PONG"
