# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""数据泄露's 审计访问日志: read combined-format access lines (nginx's, the APIs'), sum them up. Pure logic.

What a responder asks of access logs after a leak: who asked most (top client
IPs), for what nobody should ask (probes, traversal, injection), with which
methods, when the errors came in bursts, and which answers were unusually big
(what left).
"""

import collections
import datetime
import re

# The combined log format, found anywhere in a line (docker's timestamp and the API logger's prefix come first).
COMBINED = re.compile(
    r'(?P<ip>[0-9a-fA-F.:]+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+)(?: [^"]*)?" '
    r'(?P<status>\d{3}) (?P<size>\d+|-)(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?'
)
TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
SUSPICIOUS = [
    ("path traversal", re.compile(r"\.\./|\.\.%2f|%2e%2e", re.I)),
    ("secrets or VCS files", re.compile(r"/\.env\b|/\.git\b|/\.aws|/\.ssh|id_rsa|/etc/(passwd|shadow)", re.I)),
    (
        "SQL injection",
        re.compile(r"union(\s|%20|\+)+select|(\s|%20|\+|')or(\s|%20|\+)+1=1|sleep\(|information_schema", re.I),
    ),
    ("script injection", re.compile(r"<script|%3cscript|javascript:", re.I)),
    ("scanner paths", re.compile(r"wp-(admin|login)|phpmyadmin|/cgi-bin/|/actuator|/server-status|\.php\b", re.I)),
]
COMMON_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])


def parse(line, source=""):
    match = COMBINED.search(line)
    if not match:
        return None
    try:
        when = datetime.datetime.strptime(match.group("time"), TIME_FORMAT)
    except ValueError:
        return None
    size = match.group("size")
    return {
        "source": source,
        "ip": match.group("ip"),
        "time": when,
        "method": match.group("method"),
        "path": match.group("path"),
        "status": int(match.group("status")),
        "size": 0 if size == "-" else int(size),
        "agent": match.group("agent") or "",
    }


def _median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


def audit(requests, since=None, until=None, top=10, burst_per_minute=20, large_bytes=1 << 20, large_factor=10):
    """The summary of the requests in [since, until] (aware datetimes; None: unbounded)."""
    kept = [r for r in requests if (since is None or r["time"] >= since) and (until is None or r["time"] <= until)]
    by_ip = collections.defaultdict(lambda: {"requests": 0, "errors": 0, "bytes": 0})
    for request in kept:
        entry = by_ip[request["ip"]]
        entry["requests"] += 1
        entry["errors"] += 1 if request["status"] >= 400 else 0
        entry["bytes"] += request["size"]
    top_ips = sorted(by_ip.items(), key=lambda item: (-item[1]["requests"], item[0]))[:top]
    suspicious = []
    for request in kept:
        for label, pattern in SUSPICIOUS:
            if pattern.search(request["path"]):
                suspicious.append(_brief(request, reason=label))
                break
    not_found = collections.Counter(r["path"] for r in kept if r["status"] == 404)
    methods = collections.Counter(r["method"] for r in kept)
    bursts = error_bursts([r for r in kept if r["status"] >= 400], burst_per_minute)
    sizes = collections.defaultdict(list)
    for request in kept:
        sizes[(request["method"], request["path"].split("?")[0])].append(request["size"])
    large = []
    for request in kept:
        usual = sizes[(request["method"], request["path"].split("?")[0])]
        outlier = (
            len(usual) >= 5 and request["size"] >= 10240 and request["size"] >= large_factor * max(_median(usual), 1)
        )
        if request["size"] >= large_bytes or outlier:
            large.append(
                _brief(
                    request,
                    reason="over %d bytes" % large_bytes
                    if request["size"] >= large_bytes
                    else "%dx the usual size of that path" % large_factor,
                )
            )
    large.sort(key=lambda r: -r["size"])
    times = [r["time"] for r in kept]
    return {
        "requests": len(kept),
        "clients": len(by_ip),
        "first": min(times).isoformat() if times else None,
        "last": max(times).isoformat() if times else None,
        "by_source": dict(collections.Counter(r["source"] for r in kept)),
        "top_ips": [dict(ip=ip, **entry) for ip, entry in top_ips],
        "methods": dict(methods),
        "unusual_methods": dict((m, n) for m, n in methods.items() if m not in COMMON_METHODS),
        "suspicious": suspicious[:50],
        "suspicious_total": len(suspicious),
        "not_found": [{"path": p, "count": n} for p, n in not_found.most_common(top)],
        "error_bursts": bursts,
        "large_responses": large[:top],
    }


def error_bursts(errors, threshold, window=datetime.timedelta(seconds=60)):
    """Stretches in which at least `threshold` 4xx/5xx answers fall within any 60 seconds (a sliding window, so
    that a burst across a minute's boundary counts once and whole)."""
    errors = sorted(errors, key=lambda r: r["time"])
    spans, first = [], 0
    for last in range(len(errors)):
        while errors[last]["time"] - errors[first]["time"] > window:
            first += 1
        if last - first + 1 >= threshold:
            start, end = errors[first]["time"], errors[last]["time"]
            if spans and start <= spans[-1][1]:
                spans[-1][1] = end
            else:
                spans.append([start, end])
    bursts = []
    for start, end in spans:
        inside = [r for r in errors if start <= r["time"] <= end]
        ips = collections.Counter(r["ip"] for r in inside)
        bursts.append(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "errors": len(inside),
                "4xx": sum(1 for r in inside if r["status"] < 500),
                "5xx": sum(1 for r in inside if r["status"] >= 500),
                "top_ip": ips.most_common(1)[0][0],
            }
        )
    return bursts


def _brief(request, reason=""):
    brief = {
        "time": request["time"].isoformat(),
        "source": request["source"],
        "ip": request["ip"],
        "method": request["method"],
        "path": request["path"][:300],
        "status": request["status"],
        "size": request["size"],
    }
    if reason:
        brief["reason"] = reason
    return brief


def highlights(summary):
    """What the report puts first, one line each."""
    lines = [
        "%d requests from %d clients between %s and %s"
        % (summary["requests"], summary["clients"], summary["first"], summary["last"])
    ]
    if summary["top_ips"]:
        lines.append(
            "top clients: "
            + ", ".join(
                "%s (%d requests, %d errors)" % (e["ip"], e["requests"], e["errors"]) for e in summary["top_ips"][:5]
            )
        )
    if summary["suspicious_total"]:
        kinds = collections.Counter(s["reason"] for s in summary["suspicious"])
        lines.append(
            "%d suspicious requests (%s), e.g. %s %s from %s"
            % (
                summary["suspicious_total"],
                ", ".join("%s %d" % kv for kv in kinds.most_common()),
                summary["suspicious"][0]["method"],
                summary["suspicious"][0]["path"],
                summary["suspicious"][0]["ip"],
            )
        )
    if summary["unusual_methods"]:
        lines.append("unusual methods: " + ", ".join("%s %d" % kv for kv in sorted(summary["unusual_methods"].items())))
    for burst in summary["error_bursts"][:3]:
        lines.append(
            "error burst from %s to %s: %d errors (%d 4xx, %d 5xx), mostly from %s"
            % (burst["start"], burst["end"], burst["errors"], burst["4xx"], burst["5xx"], burst["top_ip"])
        )
    for item in summary["large_responses"][:3]:
        lines.append(
            "large response: %s %s -> %d bytes to %s at %s (%s)"
            % (item["method"], item["path"], item["size"], item["ip"], item["time"], item["reason"])
        )
    return lines


def render_markdown(summary, window):
    out = [
        "# Access-log audit (数据泄露: 审计访问日志)",
        "",
        f"Window: {window}",
        "",
        "Requests: %d from %d clients (%s)"
        % (
            summary["requests"],
            summary["clients"],
            ", ".join("%s %d" % kv for kv in sorted(summary["by_source"].items())),
        ),
        "",
    ]
    out += ["## Top clients", "", "| ip | requests | errors | bytes |", "|---|---|---|---|"]
    out += ["| %s | %d | %d | %d |" % (e["ip"], e["requests"], e["errors"], e["bytes"]) for e in summary["top_ips"]]
    out += ["", "## Methods", ""] + ["- %s: %d" % kv for kv in sorted(summary["methods"].items())]
    for title, key in (("Suspicious requests", "suspicious"), ("Large responses", "large_responses")):
        out += [
            "",
            f"## {title}",
            "",
            "| time | source | ip | method | path | status | bytes | why |",
            "|---|---|---|---|---|---|---|---|",
        ]
        out += [
            "| %s | %s | %s | %s | `%s` | %d | %d | %s |"
            % (
                r["time"],
                r["source"],
                r["ip"],
                r["method"],
                r["path"].replace("|", "%7C"),
                r["status"],
                r["size"],
                r.get("reason", ""),
            )
            for r in summary[key]
        ]
    out += ["", "## 404s (probing)", ""] + ["- `%s`: %d" % (n["path"], n["count"]) for n in summary["not_found"]]
    out += ["", "## Error bursts (at least the threshold within 60 s)", ""] + [
        "- %s to %s: %d errors (%d 4xx, %d 5xx), mostly from %s"
        % (b["start"], b["end"], b["errors"], b["4xx"], b["5xx"], b["top_ip"])
        for b in summary["error_bursts"]
    ]
    return "\n".join(out) + "\n"
