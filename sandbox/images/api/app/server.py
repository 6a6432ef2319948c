"""HTTP server of the sandbox APIs: alldata-api and bisheng-api on :8080, data-api and agent-api on $PORT.

GET /api/v1/health reports DB, Redis and Milvus. The manual's APIs answer 500 when the database is
unreachable; the second layout's answer 503, data-api with {"status": "unhealthy", "checks":
{"database": {"status": "down"}, ...}}, agent-api with a body without checks, as the real ones do.
CORS follows CORS_ALLOWED_ORIGINS in deploy/.env (Starlette's behaviour: a preflight from an origin not
on the list gets 400); the second layout's APIs have no CORS at all (a preflight gets 405).
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import urlopen

from settings import SERVICE, SOURCE, settings

logging.getLogger().setLevel(getattr(logging, settings.log_level, logging.INFO))
log = logging.getLogger(SERVICE)
access = logging.getLogger(f"{SERVICE}.access")

import database  # noqa: E402  (needs logging configured first)

engine = getattr(database, "engine", None) or database.db_manager.engine
ENV_LAYOUT = SOURCE == "environment"

try:
    import redis
except ImportError:  # pragma: no cover
    redis = None

CHECK_POOL = ThreadPoolExecutor(max_workers=6)
ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS"


def error_line(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return f"{name}: {str(exc).splitlines()[0]}"


def timed(check):
    def run():
        start = time.monotonic()
        try:
            detail = check()
            result = {"ok": True}
            if detail:
                result.update(detail)
        except Exception as exc:  # a dependency is down: report, do not crash
            result = {"ok": False, "error": error_line(exc)}
        result["latency_ms"] = round((time.monotonic() - start) * 1000, 1)
        return result

    return run


def check_db():
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1").scalar()


def check_redis():
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
    client.ping()


def check_milvus():
    host, port = settings.get("MILVUS_HOST"), int(settings.get("MILVUS_PORT", "19530"))
    with socket.create_connection((host, port), timeout=1):
        pass
    with urlopen(f"http://{host}:9091/healthz", timeout=1) as response:
        return {"healthz": response.read().decode().strip()}


CHECKS = {"db": check_db, "redis": check_redis}
if settings.get("MILVUS_HOST"):
    CHECKS["milvus"] = check_milvus


def health() -> tuple[int, dict]:
    futures = {name: CHECK_POOL.submit(timed(fn)) for name, fn in CHECKS.items()}
    checks = {name: future.result() for name, future in futures.items()}
    for name, result in checks.items():
        if not result["ok"]:
            log.error("health: %s check failed: %s", name, result["error"])
        else:
            log.debug("health: %s ok in %.1f ms", name, result["latency_ms"])
    if ENV_LAYOUT:
        return env_layout_health(checks)
    status = "ok" if all(c["ok"] for c in checks.values()) else "degraded"
    code = 200
    if not checks["db"]["ok"]:
        status, code = "error", 500
    return code, {"service": SERVICE, "status": status, "checks": checks}


def env_layout_health(checks: dict) -> tuple[int, dict]:
    """The real services' shape: 503 when the database is down; data-api names each check up or down."""
    code = 200 if checks["db"]["ok"] else 503
    status = "healthy" if code == 200 else "unhealthy"
    if SERVICE == "agent-api":
        return code, {"status": status, "version": "1.0"}
    names = {"db": "database", "redis": "redis", "milvus": "milvus"}
    shown = {
        names[k]: {"status": "up" if v["ok"] else "down", "latency_ms": v["latency_ms"]} for k, v in checks.items()
    }
    return code, {"status": status, "checks": shown}


def list_rows(table: str) -> tuple[int, dict]:
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(f"SELECT id, name FROM {table} ORDER BY id LIMIT 100").fetchall()
    except Exception as exc:
        log.error("%s", error_line(exc))
        return 500, {"detail": "Internal Server Error"}
    return 200, {"items": [{"id": r[0], "name": r[1]} for r in rows]}


def collections() -> tuple[int, dict]:
    try:
        from services import VectorStore

        return 200, {"collections": VectorStore(timeout=5).list_collections()}
    except Exception as exc:
        log.error("%s", error_line(exc))
        return 503, {"detail": "vector store unavailable"}


ROUTES = {
    "/api/v1/health": health,
    "/api/v1/datasources": lambda: list_rows("datasource"),
    "/api/v1/flows": lambda: list_rows("flow"),
    "/api/v1/collections": collections,
}


class Handler(BaseHTTPRequestHandler):
    server_version = f"{SERVICE}/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002  (stdlib signature)
        pass

    def _access(self, code: int, size: int) -> None:
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        access.info(
            '%s - - [%s] "%s" %d %d "%s" "%s"',
            self.client_address[0],
            stamp,
            self.requestline,
            code,
            size,
            self.headers.get("Referer", "-"),
            self.headers.get("User-Agent", "-"),
        )

    def _cors_headers(self) -> dict[str, str]:
        origin = self.headers.get("Origin")
        allowed = settings.cors_origins
        if origin and ("*" in allowed or origin in allowed):
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Allow-Credentials": "true"}
        return {}

    def _send(self, code: int, body: dict | str, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        payload = data.encode()
        self.send_response(code)
        content_type = "text/plain; charset=utf-8" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self._access(code, len(payload))

    def do_OPTIONS(self):  # noqa: N802
        if ENV_LAYOUT:  # no CORS middleware: the front end reaches it through its proxy
            self._send(405, {"detail": "Method Not Allowed"}, {"Allow": "GET, HEAD"})
            return
        origin = self.headers.get("Origin")
        if not origin or not self.headers.get("Access-Control-Request-Method"):
            self._send(200, "OK", {"Allow": ALLOWED_METHODS})
            return
        cors = self._cors_headers()
        if not cors:
            log.warning("cors: preflight from disallowed origin %s", origin)
            self._send(400, "Disallowed CORS origin")
            return
        cors.update(
            {
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": self.headers.get("Access-Control-Request-Headers")
                or "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            }
        )
        self._send(200, "OK", cors)

    def do_GET(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        route = ROUTES.get(path)
        if route is None:
            self._send(404, {"detail": "Not Found"}, self._cors_headers())
            return
        code, body = route()
        self._send(code, body, self._cors_headers())

    do_HEAD = do_GET


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 ignores SIGTERM without a handler
    server = ThreadingHTTPServer(("0.0.0.0", settings.port), Handler)
    server.daemon_threads = True
    log.info(
        "%s listening on 0.0.0.0:%d (log level %s, %d CORS origins)",
        SERVICE,
        settings.port,
        settings.log_level,
        len(settings.cors_origins),
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
