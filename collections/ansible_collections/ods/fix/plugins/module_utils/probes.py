# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Probes run inside the stack's containers, the way the manual runs its checks.

Each probe is one `docker exec`; an API probe checks reachability of the
API's dependencies and its /api/v1/health in a single Python run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

API_PROBE = r"""
import json, socket, sys, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor
targets, url = json.loads(sys.argv[1]), (sys.argv[2:] or [""])[0]
def reach(item):
    name, port = item
    start = time.monotonic()
    try:
        with socket.create_connection((name, int(port)), timeout=3):
            return name, {"ok": True, "ms": round((time.monotonic() - start) * 1000, 1)}
    except OSError as exc:
        return name, {"ok": False, "error": "%s:%s %s" % (name, port, exc)}
def health():
    if not url:
        return None, "", None
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=8) as response:
            code, body = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        code, body = exc.code, exc.read().decode()
    except Exception as exc:
        code, body = None, str(exc)
    return code, body, round((time.monotonic() - start) * 1000, 1)
with ThreadPoolExecutor(8) as pool:
    pending = pool.submit(health)
    network = dict(pool.map(reach, targets.items()))
code, body, ms = pending.result()
print(json.dumps({"network": network, "code": code, "body": body, "ms": ms}))
"""

# The manual's check (诊断命令: 检查数据库连接), plus engine.dispose(): without it the
# pooled connection is dropped at exit and MySQL logs "Aborted connection",
# an error line the next diagnosis would count.
MANUAL_DB_CHECK = (
    "from database import engine\nwith engine.connect() as conn:\n    print(conn.execute('SELECT 1').scalar())\n"
    "engine.dispose()\n"
)
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*")


def exec_in(container, cmd, environment=None):
    code, output = container.exec_run(cmd, environment=environment or {})
    return code, output.decode("utf-8", "replace").strip()


def last_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def exception_line(text):
    """The exception a Python traceback ended with (SQLAlchemy adds a "Background" line after it)."""
    matches = [line.strip() for line in text.splitlines() if EXCEPTION_LINE.match(line.strip())]
    return matches[-1] if matches else last_line(text)


def probe_api(container, targets, url):
    """{network: {target: {ok, ms|error}}, code, body, ms} from inside an API container."""
    code, output = exec_in(container, ["python", "-c", API_PROBE, json.dumps(targets), url])
    if code != 0:
        raise RuntimeError(last_line(output) or "probe exited %s" % code)
    return json.loads(last_line(output))


def probe_reach(container, targets):
    """{target: {ok, ms|error}}: can this container resolve and connect to each service:port?"""
    code, output = exec_in(container, ["python", "-c", API_PROBE, json.dumps(targets)])
    if code != 0:
        raise RuntimeError(last_line(output) or "probe exited %s" % code)
    return json.loads(last_line(output))["network"]


def health_summary(result):
    """{code, status, checks, ms} from probe_api's result."""
    try:
        body = json.loads(result["body"])
    except (TypeError, ValueError):
        body = {}
    return {
        "code": result["code"],
        "status": body.get("status"),
        "checks": body.get("checks", {}),
        "ms": result.get("ms"),
    }


def probe_manual_db_check(container):
    code, output = exec_in(container, ["python", "-c", MANUAL_DB_CHECK], {"SQLALCHEMY_SILENCE_UBER_WARNING": "1"})
    if code == 0 and last_line(output) == "1":
        return {"ok": True, "output": "1"}
    return {"ok": False, "error": exception_line(output) or "exit code %s" % code}


def probe_mysql(container):
    code, output = exec_in(container, ["mysql", "-N", "-e", "SELECT 1"])
    if code == 0 and last_line(output) == "1":
        return {"ok": True, "output": "1"}
    return {"ok": False, "error": last_line(output) or "exit code %s" % code}


def probe_nginx(container):
    code, output = exec_in(container, ["nginx", "-t"])
    return {"ok": code == 0, "output": output.splitlines()[-1] if output else ""}


def probe_dist(container):
    code, output = exec_in(container, ["sh", "-c", "ls -A /app/dist && test -f /app/dist/index.html"])
    if code == 0:
        return {"ok": True, "files": output.split()}
    return {"ok": False, "error": last_line(output) or "no index.html"}


# curl -X OPTIONS -H "Origin: ..." -H "Access-Control-Request-Method: GET", in Python (the API image has no curl).
PREFLIGHT = r"""
import json, sys, urllib.error, urllib.request
url, origins = sys.argv[1], json.loads(sys.argv[2])
out = {}
for origin in origins:
    request = urllib.request.Request(url, method="OPTIONS", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            code, headers = response.status, response.headers
    except urllib.error.HTTPError as exc:
        code, headers = exc.code, exc.headers
    except Exception as exc:
        out[origin] = {"code": None, "error": str(exc)}
        continue
    out[origin] = {"code": code, "allow_origin": headers.get("Access-Control-Allow-Origin")}
print(json.dumps(out))
"""


def probe_preflight(container, url, origins):
    """{origin: {code, allow_origin} or {code: None, error}}: the manual's CORS preflight, from inside an API."""
    code, output = exec_in(container, ["python", "-c", PREFLIGHT, url, json.dumps(origins)])
    if code != 0:
        return dict((origin, {"code": None, "error": exception_line(output)}) for origin in origins)
    return json.loads(last_line(output))
