# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Probes run inside the stack's containers, the way the manual runs its checks.

Each probe is one `docker exec`; an API probe checks reachability of the
API's dependencies and its health URL in a single Python run (the API images
have Python; slim ones have no curl). Health is what the service answers:
200 is healthy; a 500 or 503 body is read for which dependency is down, in
the shapes real services use (``checks.<dep>.ok``, ``checks.<dep>.status``
up/down, a top-level ``status``, or no ``checks`` at all).
"""

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
# When the manual's check cannot run as written (the module under /app/src, no `engine` but a
# `db_manager.engine`, SQLAlchemy 2 refusing a raw string): the same SELECT 1 through the app's own engine.
APP_DB_CHECK = r"""
import sys
sys.path[:0] = ["/app/src", "/app"]
try:
    import database
    engine = getattr(database, "engine", None) or getattr(getattr(database, "db_manager", None), "engine", None)
    from sqlalchemy import text
except Exception as exc:
    print("ODS-FIX-NO-PROBE %s: %s" % (type(exc).__name__, exc))
    sys.exit(3)
if engine is None:
    print("ODS-FIX-NO-PROBE the database module has neither engine nor db_manager.engine")
    sys.exit(3)
with engine.connect() as conn:
    print(conn.execute(text("SELECT 1")).scalar())
engine.dispose()
"""
# Exceptions that say the probe itself cannot run here, not that the database is down.
PROBE_PROBLEM = re.compile(r"ModuleNotFoundError|ImportError|AttributeError|ObjectNotExecutableError|ArgumentError")
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
        raise RuntimeError(last_line(output) or f"probe exited {code}")
    return json.loads(last_line(output))


def probe_reach(container, targets):
    """{target: {ok, ms|error}}: can this container resolve and connect to each service:port?"""
    code, output = exec_in(container, ["python", "-c", API_PROBE, json.dumps(targets)])
    if code != 0:
        raise RuntimeError(last_line(output) or f"probe exited {code}")
    return json.loads(last_line(output))["network"]


DOWN_WORDS = ("down", "fail", "failed", "error", "unhealthy", "unavailable", "false")


def health_checks(body):
    """{dependency: {"ok": bool}} from a health body, whichever shape it has; {} when it names none."""
    checks = body.get("checks") if isinstance(body, dict) else None
    found = {}
    if isinstance(checks, dict):
        for name, check in checks.items():
            if isinstance(check, dict):
                if "ok" in check:
                    found[name] = {"ok": bool(check["ok"])}
                elif "status" in check:
                    found[name] = {"ok": str(check["status"]).lower() not in DOWN_WORDS}
            elif isinstance(check, (str, bool)):
                found[name] = {"ok": check is True or str(check).lower() not in DOWN_WORDS}
    return found


def health_summary(result, path=None):
    """{code, status, checks, ms, path} from probe_api's result."""
    try:
        body = json.loads(result["body"])
    except (TypeError, ValueError):
        body = {}
    body = body if isinstance(body, dict) else {}
    return {
        "code": result["code"],
        "status": body.get("status"),
        "checks": health_checks(body),
        "ms": result.get("ms"),
        "path": path,
    }


DEPENDENCY_ROLES = (
    (re.compile(r"^(db|database|mysql|mariadb|sql)", re.IGNORECASE), "database"),
    (re.compile(r"^(redis|cache)", re.IGNORECASE), "cache"),
    (re.compile(r"^(milvus|vector)", re.IGNORECASE), "vector_store"),
)


def dependency_role(name):
    """The role a health check's dependency names (db, database, mysql -> database; redis -> cache; ...)."""
    return next((role for pattern, role in DEPENDENCY_ROLES if pattern.match(name)), name)


def failing_dependencies(health):
    """The roles of the dependencies a health answer says are down (database, cache, vector_store, ...)."""
    return sorted(
        set(dependency_role(name) for name, check in (health.get("checks") or {}).items() if not check.get("ok"))
    )


def probe_manual_db_check(container):
    """The manual's SELECT 1 through the app's engine: as the manual writes it, else through the app's own engine.

    {ok, output|error, probe}; ok is None when neither can run in this container (say so, and probe the
    database directly instead): a module without `engine`, under /app/src, or SQLAlchemy 2 refusing
    a raw string is not a database failure.
    """
    env = {"SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    code, output = exec_in(container, ["python", "-c", MANUAL_DB_CHECK], env)
    if code == 0 and last_line(output) == "1":
        return {"ok": True, "output": "1", "probe": "the manual's `from database import engine`"}
    manual_error = exception_line(output) or f"exit code {code}"
    if not PROBE_PROBLEM.search(manual_error):
        return {"ok": False, "error": manual_error, "probe": "the manual's `from database import engine`"}
    code, output = exec_in(container, ["python", "-c", APP_DB_CHECK], env)
    probe = f"the app's engine with text('SELECT 1') (the manual's check cannot run here: {manual_error})"
    if code == 0 and last_line(output) == "1":
        return {"ok": True, "output": "1", "probe": probe}
    if code == 3 or "ODS-FIX-NO-PROBE" in output:
        reason = last_line(output).replace("ODS-FIX-NO-PROBE ", "")
        return {"ok": None, "error": f"no SELECT 1 through the app can run here ({reason})", "probe": "none"}
    return {"ok": False, "error": exception_line(output) or f"exit code {code}", "probe": probe}


def probe_redis(api, container, password):
    """The manual's `redis-cli ping`, authenticated through REDISCLI_AUTH (never -a) when Redis has a password."""
    from ansible_collections.ods.fix.plugins.module_utils.stack.docker_exec import exec_stdin  # noqa: PLC0415

    env = {"REDISCLI_AUTH": password} if password else {}
    result = exec_stdin(api, container, ["redis-cli", "ping"], environment=env, timeout=15)
    answer = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
    if result.code == 0 and answer.splitlines()[-1:] == ["PONG"]:
        return {"ok": True, "output": "PONG"}
    return {"ok": False, "error": last_line(answer) or f"exit code {result.code}"}


NGINX_EMERG = re.compile(r"\[emerg\] (?:\d+#\d+: )?(.*)")
NGINX_UNRESOLVED = re.compile(r"host not found in upstream \"?([^\"\s:]+)")


def probe_nginx(container):
    """nginx -t: ok, the line that says why not (its [emerg], else the last), and an upstream it cannot resolve."""
    code, output = exec_in(container, ["nginx", "-t"])
    emerg = NGINX_EMERG.search(output or "")
    unresolved = NGINX_UNRESOLVED.search(output or "")
    return {
        "ok": code == 0,
        "output": emerg.group(1).strip() if emerg else (output.splitlines()[-1] if output else ""),
        "unresolved": unresolved.group(1) if unresolved else None,
    }


def probe_dist(container, root):
    """The document root holds an index.html (the manual's `ls -la /app/dist/`)."""
    code, output = exec_in(container, ["sh", "-c", 'ls -A "$1" && test -f "$1/index.html"', "sh", root])
    if code == 0:
        return {"ok": True, "files": output.split(), "root": root}
    return {"ok": False, "error": last_line(output) or "no index.html", "root": root}


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
