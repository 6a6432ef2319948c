"""The manual's faults, injected into the sandbox for real.

The demo (`ods-fix sandbox break FAULT`) and the Molecule prepare steps both
call these, so what the tests repair is what a user sees. Each fault records
itself in the instance, and `heal` puts the sandbox back as it was made.
"""

from __future__ import annotations

import io
import secrets
import shutil
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docker import errors as docker_errors

from pyrunner.errors import OdsFixError
from pyrunner.sandbox import compose as compose_mod
from pyrunner.sandbox import stack

Log = Callable[[str], None]
HEALTHZ = "http://127.0.0.1:9091/healthz"
# milvus-etcd-outage: etcd stays down this long at least (over Milvus's session TTL), and at most.
ETCD_OUTAGE_MIN_S = 65
ETCD_OUTAGE_MAX_S = 180


@dataclass(frozen=True)
class Fault:
    name: str
    service: str
    section: str  # the manual's section it reproduces
    description: str
    inject: Callable[[Any], str]  # container -> what was done


def _stop(container: Any) -> str:
    container.stop(timeout=30)
    return f"stopped {container.name}"


def _kill(container: Any) -> str:
    container.kill()
    return f"killed {container.name} (SIGKILL: it exits with code 137, as after a crash)"


def _remove_dist(container: Any) -> str:
    code, output = container.exec_run(["sh", "-c", "rm -rf /app/dist/* /app/dist/.[!.]*"])
    if code != 0:
        raise OdsFixError(f"could not empty /app/dist in {container.name}: {output.decode(errors='replace')}")
    return f"emptied /app/dist in {container.name}"


def _break_nginx_config(container: Any) -> str:
    """A typo in nginx.conf, then a restart: nginx refuses to start and web exits (页面加载失败)."""
    stream, _ = container.get_archive("/etc/nginx/nginx.conf")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        member = archive.extractfile("nginx.conf")
        text = member.read() if member else b""
    broken = text.replace(b"server_name _;", b"servr_name _;", 1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("nginx.conf")
        info.size = len(broken)
        archive.addfile(info, io.BytesIO(broken))
    container.put_archive("/etc/nginx", buffer.getvalue())
    container.restart(timeout=10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and container.status != "exited":
        time.sleep(0.5)
        container.reload()
    return f"wrote 'servr_name' into /etc/nginx/nginx.conf in {container.name} and restarted it (nginx exits)"


def _remove_cors_origin(container: Any) -> str:
    """The Vite dev server's origin dropped from CORS_ALLOWED_ORIGINS; the API restarted to read it."""
    instance = stack.require_instance()
    text = instance.env_file.read_text()
    instance.env_file.write_text(text.replace("CORS_ALLOWED_ORIGINS=http://localhost:3000,", "CORS_ALLOWED_ORIGINS="))
    container.restart(timeout=10)
    return f"removed http://localhost:3000 from CORS_ALLOWED_ORIGINS in {instance.env_file}, restarted {container.name}"


def _break_proxy_route(container: Any) -> str:
    """web's `location /api/` renamed and nginx reloaded: /api falls through to the front end's index.html."""
    script = "sed -i 's#location /api/ {#location /api-v0/ {#' /etc/nginx/nginx.conf && nginx -s reload"
    code, output = container.exec_run(["sh", "-c", script])
    if code != 0:
        raise OdsFixError(f"could not change nginx.conf in {container.name}: {output.decode(errors='replace')}")
    return f"renamed location /api/ to /api-v0/ in {container.name}'s nginx.conf and reloaded nginx"


def _disconnect(container: Any) -> str:
    networks = list((container.attrs.get("NetworkSettings") or {}).get("Networks") or {})
    for name in networks:
        container.client.networks.get(name).disconnect(container)
    return f"disconnected {container.name} from {', '.join(networks)}"


def run_sql_file(container: Any, sql: str) -> None:
    """Run SQL as root in the mysql container from a file, so no value is on a command line."""
    data = sql.encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("ods-fix-sandbox.sql")
        info.size, info.mode = len(data), 0o600
        tar.addfile(info, io.BytesIO(data))
    container.put_archive("/tmp", archive.getvalue())
    code, output = container.exec_run(
        ["sh", "-c", "mysql < /tmp/ods-fix-sandbox.sql; s=$?; rm -f /tmp/ods-fix-sandbox.sql; exit $s"]
    )
    if code != 0:
        raise OdsFixError(f"SQL in {container.name} failed: {output.decode(errors='replace').strip()}")


def _change_db_password(container: Any) -> str:
    run_sql_file(container, f"ALTER USER 'ods'@'%' IDENTIFIED BY '{secrets.token_hex(12)}';\n")
    return f"changed the server's password for 'ods'@'%' in {container.name}; deploy/.env keeps the old one"


def _drop_setting(container: Any) -> str:
    """Remove a required setting from deploy/.env (as a careless edit would), then restart the API."""
    instance = stack.require_instance()
    lines = instance.env_file.read_text().splitlines(keepends=True)
    instance.env_file.write_text("".join(line for line in lines if not line.startswith("ALLDATA_SECRET_KEY=")))
    container.restart(timeout=10)
    return f"removed ALLDATA_SECRET_KEY from {instance.env_file} and restarted {container.name}: it cannot start"


def _slow_query(container: Any) -> str:
    """A long read-only query from the app's own connection, as a missing index would cause."""
    script = (
        "from database import engine\nwith engine.connect() as c:\n"
        "    c.exec_driver_sql('SELECT SLEEP(600) AS slow_report')\n"
    )
    container.exec_run(["python", "-c", script], detach=True)
    return f"started SELECT SLEEP(600) from {container.name} (user ods)"


def _slow_write(container: Any) -> str:
    """A long write holding a row lock: busy for long, but not read-only, so not to be killed blindly."""
    script = (
        "from database import engine\nwith engine.begin() as c:\n"
        "    c.exec_driver_sql('UPDATE job_log SET status = status WHERE id = 1 AND SLEEP(600) = 0')\n"
    )
    container.exec_run(["python", "-c", script], detach=True)
    return f"started a 600 s UPDATE on job_log from {container.name} (user ods)"


def _fill_disk(container: Any) -> str:
    """Insert year-old rows into job_log until MySQL answers ERROR 1114 (The table is full)."""
    insert = (
        "INSERT INTO one_data_alldata.job_log (job, status, detail, create_time) "
        "SELECT 'backfill', 'success', REPEAT(MD5(seq), 250), NOW() - INTERVAL 400 DAY FROM seq_1_to_500"
    )
    for batch in range(1, 400):
        code, output = container.exec_run(["mysql", "-D", "one_data_alldata", "-e", insert])
        text = output.decode(errors="replace")
        if code != 0:
            if "1114" in text or "is full" in text:
                return f"filled mysql's disk: ERROR 1114 after {batch - 1} batches of 500 year-old job_log rows"
            raise OdsFixError(f"filling the disk failed: {text.strip()}")
    raise OdsFixError("the disk never filled up: start the sandbox with --mysql-disk-mb")


def _cpu_burner(container: Any) -> str:
    container.exec_run(["python", "-c", "while True: pass  # ods-fix sandbox cpu-burner"], detach=True)
    return f"started a busy loop in {container.name}"


def _memory_hog(container: Any) -> str:
    script = "import time\nhog = b'x' * (450 * 1024 * 1024)  # ods-fix sandbox memory-hog\ntime.sleep(3600)\n"
    container.exec_run(["python", "-c", script], detach=True)
    return f"started a process holding 450 MB in {container.name}"


def _write_load(container: Any) -> str:
    """Single-row autocommit inserts for two minutes: with innodb_flush_log_at_trx_commit=1, one fsync each."""
    script = r"""end=$((SECONDS + 120)); while [ $SECONDS -lt $end ]; do
  echo "INSERT INTO one_data_alldata.job_log (job, status) VALUES ('load', 'ok');"
done | mysql >/dev/null 2>&1"""
    container.exec_run(["bash", "-c", script], detach=True)
    return f"started 120 s of single-row autocommit inserts in {container.name}"


def _debug_logging(container: Any) -> str:
    instance = stack.require_instance()
    text = instance.env_file.read_text()
    instance.env_file.write_text(text.replace("LOG_LEVEL=INFO", "LOG_LEVEL=DEBUG"))
    for api in ("alldata-api", "bisheng-api"):
        found = stack.project_containers(container.client, instance.project).get(api)
        if found is not None:
            found.restart(timeout=10)
    return f"set LOG_LEVEL=DEBUG in {instance.env_file} and restarted the APIs"


def _etcd_outage(container: Any) -> str:
    """etcd down for over a minute and until Milvus's own health check fails, then back: Milvus stays broken.

    Both conditions: a health probe can also fail for a moment on a busy machine, and a Milvus that lost
    etcd for less than its session TTL (about a minute) reconnects by itself, which is no fault at all.
    """
    instance = stack.require_instance()
    milvus = stack.project_containers(container.client, instance.project).get("milvus-standalone")
    if milvus is None:
        raise OdsFixError("milvus-etcd-outage needs milvus-standalone in the sandbox")
    container.stop(timeout=10)
    started = time.monotonic()
    while time.monotonic() - started < ETCD_OUTAGE_MAX_S:
        milvus.reload()
        broken = milvus.status != "running" or milvus.exec_run(["curl", "-fsS", "-m", "3", HEALTHZ])[0] != 0
        if broken and time.monotonic() - started >= ETCD_OUTAGE_MIN_S:
            break
        time.sleep(3)
    else:
        container.start()
        raise OdsFixError(f"Milvus stayed healthy for {ETCD_OUTAGE_MAX_S} s without etcd")
    waited = round(time.monotonic() - started)
    container.start()
    return f"stopped {container.name} for {waited} s, until Milvus's health check failed, then started it again"


def _milvus_wrong_host(container: Any) -> str:
    """A typo in MILVUS_HOST and a wrong MILVUS_PORT in deploy/.env, read by bisheng-api at its next start."""
    instance = stack.require_instance()
    text = instance.env_file.read_text()
    text = text.replace("MILVUS_HOST=milvus-standalone", "MILVUS_HOST=milvus-standlone")
    instance.env_file.write_text(text.replace("MILVUS_PORT=19530", "MILVUS_PORT=19531"))
    container.restart(timeout=10)
    return f"set MILVUS_HOST=milvus-standlone and MILVUS_PORT=19531 in {instance.env_file}, restarted {container.name}"


FAULTS: tuple[Fault, ...] = (
    Fault("mysql-stopped", "mysql", "数据库连接失败", "mysql is stopped: the APIs answer 500", _stop),
    Fault("redis-stopped", "redis", "API 响应缓慢", "redis is stopped: no cache", _stop),
    Fault("milvus-etcd-stopped", "milvus-etcd", "Milvus 连接失败", "milvus-etcd is stopped", _stop),
    Fault(
        "milvus-etcd-outage",
        "milvus-etcd",
        "Milvus 连接失败",
        "milvus-etcd stopped until Milvus fails its health check, then started: Milvus stays down",
        _etcd_outage,
    ),
    Fault("milvus-minio-stopped", "milvus-minio", "Milvus 连接失败", "milvus-minio is stopped", _stop),
    Fault("milvus-killed", "milvus-standalone", "Milvus 连接失败", "milvus-standalone killed (exit 137)", _kill),
    Fault(
        "milvus-wrong-host",
        "bisheng-api",
        "Milvus 连接失败",
        "MILVUS_HOST misspelt and MILVUS_PORT wrong in deploy/.env",
        _milvus_wrong_host,
    ),
    Fault("api-exited", "alldata-api", "API 返回 500 错误", "alldata-api crashed (killed, exit 137)", _kill),
    Fault("web-dist-removed", "web", "页面加载失败", "the built front end in /app/dist is gone", _remove_dist),
    Fault(
        "web-config-broken",
        "web",
        "页面加载失败",
        "a typo in nginx.conf; web restarted and exited",
        _break_nginx_config,
    ),
    Fault("web-stopped", "web", "页面加载失败", "web is stopped", _stop),
    Fault(
        "cors-origin-removed",
        "alldata-api",
        "API 跨域错误",
        "http://localhost:3000 dropped from CORS_ALLOWED_ORIGINS",
        _remove_cors_origin,
    ),
    Fault(
        "proxy-route-broken", "web", "API 跨域错误", "web's /api route no longer proxies to the API", _break_proxy_route
    ),
    Fault("mysql-disconnected", "mysql", "数据库连接失败", "mysql is cut off its compose network", _disconnect),
    Fault(
        "db-password-mismatch",
        "mysql",
        "数据库连接失败",
        "the server's password for the app user differs from deploy/.env",
        _change_db_password,
    ),
    Fault("slow-query", "alldata-api", "API 响应缓慢", "a 600 s SELECT from the app's connection", _slow_query),
    Fault("slow-write", "alldata-api", "API 响应缓慢", "a 600 s UPDATE holding a row lock", _slow_write),
    Fault("mysql-disk-full", "mysql", "数据库磁盘空间不足", "job_log filled until ERROR 1114", _fill_disk),
    Fault("cpu-burner", "alldata-api", "高 CPU 使用", "a busy loop in alldata-api", _cpu_burner),
    Fault("memory-hog", "bisheng-api", "高内存使用", "a process holding 450 MB in bisheng-api", _memory_hog),
    Fault("write-load", "mysql", "磁盘 I/O 高", "120 s of single-row autocommit inserts", _write_load),
    Fault("debug-logging", "alldata-api", "高 CPU 使用 (日志处理)", "LOG_LEVEL=DEBUG in deploy/.env", _debug_logging),
    Fault(
        "api-setting-missing",
        "alldata-api",
        "API 返回 500 错误",
        "ALLDATA_SECRET_KEY removed from deploy/.env; alldata-api restarted and crashed",
        _drop_setting,
    ),
)


def get(name: str) -> Fault:
    for fault in FAULTS:
        if fault.name == name:
            return fault
    raise OdsFixError(f"unknown fault {name!r}; known: {', '.join(f.name for f in FAULTS)}")


def inject(names: list[str], log: Log = lambda _: None) -> list[str]:
    faults = [get(name) for name in names]  # all names checked before anything changes
    instance = stack.require_instance()
    client = stack.docker_client()
    containers = stack.project_containers(client, instance.project)
    done = []
    for fault in faults:
        container = containers.get(fault.service)
        if container is None:
            raise OdsFixError(
                f"{fault.name}: the sandbox has no {fault.service} container (start it with "
                f"`ods-fix sandbox up --services {fault.service}`)"
            )
        try:
            done.append(f"{fault.name}: {fault.inject(container)}")
        except docker_errors.APIError as exc:
            raise OdsFixError(f"{fault.name}: {exc.explanation or exc}") from exc
        log(done[-1])
    return done


def heal(log: Log = lambda _: None) -> list[str]:
    """Undo every fault: the generated deploy/.env back, every service recreated from its image (volumes kept)."""
    instance = stack.require_instance()
    pristine = instance.directory / stack.PRISTINE_ENV
    if pristine.exists():
        shutil.copyfile(pristine, instance.env_file)
        instance.env_file.chmod(0o600)
    stack.render_instance(instance)
    cli = compose_mod.detect(instance.compose)
    result = cli.run(instance.directory, "up", "-d", "--no-build", "--force-recreate", *instance.services)
    if result.returncode != 0:
        raise OdsFixError(f"compose up failed: {result.stderr.strip().splitlines()[-1:]}")
    client = stack.docker_client()
    done = [f"recreated {', '.join(instance.services)}"]
    mysql = stack.project_containers(client, instance.project).get("mysql")
    if mysql is not None:  # the data volume outlives the container: the passwords, before the APIs need them
        stack.wait_healthy(client, instance.project, ["mysql"], 240, log)
        env = dict(line.split("=", 1) for line in instance.env_file.read_text().splitlines() if "=" in line)
        app, root = (
            env[key].replace("\\", "\\\\").replace("'", "''") for key in ("MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD")
        )
        # SET PASSWORD keeps root@localhost's unix_socket authentication (a rotate-keys may have changed both).
        run_sql_file(
            mysql,
            f"ALTER USER 'ods'@'%' IDENTIFIED BY '{app}';\n"
            f"SET PASSWORD FOR 'root'@'localhost' = PASSWORD('{root}');\n"
            f"SET PASSWORD FOR 'root'@'%' = PASSWORD('{root}');\n",
        )
        done.append("reset the app user's and root's passwords to the ones in deploy/.env")
    stack.wait_healthy(client, instance.project, instance.services, 240, log)
    return done
