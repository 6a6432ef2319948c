"""data-leak's access-log audit (module_utils/security/access_log.py): combined lines, bursts, probes, the window."""

from __future__ import annotations

import datetime

from ansible_collections.ods.fix.plugins.module_utils.security import (
    access_log,
)

API_LINE = (
    "2026-12-01T20:14:12.374Z 2026-12-01 20:14:12,374 INFO [alldata-api.access] 172.20.0.1 - - "
    '[01/Dec/2026:20:14:12 +0000] "GET /api/v1/flows?id=1%20union%20select%201 HTTP/1.1" 500 35 "-" "curl/8"'
)

NGINX_LINE = '172.20.0.1 - - [01/Dec/2026:20:15:00 +0000] "TRACE /api/v1/health HTTP/1.1" 405 157 "-" "x"'


def request(minute: int, **fields: object) -> dict[str, object]:
    when = datetime.datetime(2026, 12, 1, 20, minute, 5, tzinfo=datetime.UTC)
    base: dict[str, object] = {
        "source": "web",
        "ip": "10.0.0.1",
        "time": when,
        "method": "GET",
        "path": "/api/v1/health",
        "status": 200,
        "size": 100,
        "agent": "",
    }
    return {**base, **fields}


def test_combined_lines_are_found_behind_any_prefix() -> None:
    api, nginx = access_log.parse(API_LINE, "alldata-api"), access_log.parse(NGINX_LINE, "web")
    assert api is not None and nginx is not None
    assert (api["ip"], api["method"], api["status"], api["size"]) == ("172.20.0.1", "GET", 500, 35)
    assert (nginx["method"], nginx["status"]) == ("TRACE", 405)
    assert access_log.parse("2026-12-01 ERROR [x] health: db check failed", "x") is None


def test_the_audit_names_bursts_probes_methods_and_big_answers() -> None:
    requests = [request(0) for _ in range(10)]
    requests += [request(1, path=f"/admin{i}", status=404, ip="203.0.113.7") for i in range(25)]
    requests += [request(2, path="/api/../../etc/passwd", status=400), request(2, path="/.env", status=404)]
    requests += [request(2, method="TRACE", status=405)]
    requests += [request(3, path="/api/v1/datasources", size=200) for _ in range(5)]
    requests += [request(4, path="/api/v1/datasources", size=50_000, ip="203.0.113.7")]
    summary = access_log.audit(requests, large_bytes=1 << 20)
    assert summary["requests"] == len(requests)
    assert summary["top_ips"][0]["ip"] == "203.0.113.7" and summary["top_ips"][0]["errors"] == 25
    assert [b["errors"] for b in summary["error_bursts"]] == [28]  # the 25 probes and, within 60 s, 3 more
    assert {s["reason"] for s in summary["suspicious"]} == {"path traversal", "secrets or VCS files"}
    assert summary["unusual_methods"] == {"TRACE": 1}
    assert [(r["path"], r["size"]) for r in summary["large_responses"]] == [("/api/v1/datasources", 50_000)]
    lines = access_log.highlights(summary)
    assert any(
        line.startswith("error burst from 2026-12-01T20:01:05+00:00 to 2026-12-01T20:02:05+00:00: 28 errors")
        for line in lines
    )
    assert "| 203.0.113.7 | 26 | 25 |" in access_log.render_markdown(summary, "the window")


def test_the_window_keeps_only_its_requests() -> None:
    requests = [request(0), request(10), request(20)]
    since = datetime.datetime(2026, 12, 1, 20, 5, tzinfo=datetime.UTC)
    until = datetime.datetime(2026, 12, 1, 20, 15, tzinfo=datetime.UTC)
    assert access_log.audit(requests, since=since, until=until)["requests"] == 1


def test_a_burst_across_a_minute_boundary_counts_once_and_whole() -> None:
    base = datetime.datetime(2026, 12, 1, 20, 0, 50, tzinfo=datetime.UTC)
    errors = [
        dict(request(0, status=404), time=base + datetime.timedelta(seconds=i)) for i in range(25)
    ]  # 20:00:50-20:01:14
    quiet = [dict(request(0, status=404), time=base + datetime.timedelta(minutes=5))]
    bursts = access_log.error_bursts(errors + quiet, 20)
    assert [(b["start"], b["end"], b["errors"]) for b in bursts] == [
        ("2026-12-01T20:00:50+00:00", "2026-12-01T20:01:14+00:00", 25)
    ]
    assert access_log.error_bursts(errors[:19], 20) == []
