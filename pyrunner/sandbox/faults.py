"""The manual's faults, injected into the sandbox for real, in either layout.

The demo (`ods-fix sandbox break FAULT`) and the Molecule prepare steps both
call these, so what the tests repair is what a user sees. A fault names the
role it breaks (the database, the data API, ...); each layout has its own
service for it, and where a fault touches settings it does so where that
layout keeps them (deploy/.env read at start, or deploy/local/.env and compose
files, fixed when a container is created). `heal` puts the sandbox back.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import secrets
import shutil
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
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
    role: str  # the role it breaks (layouts.Layout.roles)
    section: str  # the manual's section it reproduces
    description: str
    inject: Callable[[Any], str]  # container -> what was done


def recreate(instance: stack.Instance, *services: str) -> None:
    """`compose up -d --no-deps --force-recreate`: how a container picks up a changed environment."""
    cli = compose_mod.detect(instance.compose)
    result = instance.run_compose(cli, "up", "-d", "--no-deps", "--no-build", "--force-recreate", *services)
    if result.returncode != 0:
        raise OdsFixError(f"compose up failed: {stack._last_line(result.stderr)}")


CACHE_ANCHOR = "  redis:\n    image: ods-sandbox/redis:latest\n"  # both layouts' redis service


def edit_cache(instance: stack.Instance, fault: str, lines: str) -> tuple[Path, Any]:
    """A user's own edit: `lines` added to the redis service in the compose file, redis recreated with them.
    (The compose file, the new redis container.)"""
    compose = instance.compose_dir / "docker-compose.yml"
    text = compose.read_text()
    if CACHE_ANCHOR not in text:
        raise OdsFixError(f"{fault}: {compose} has not the redis lines this fault edits")
    compose.write_text(text.replace(CACHE_ANCHOR, CACHE_ANCHOR + lines, 1))
    service = instance.spec.service("cache")
    recreate(instance, service)
    return compose, stack.project_containers(stack.docker_client(), instance.project)[service]


def set_setting(instance: stack.Instance, key: str, value: str | None) -> None:
    """Set (or, with None, remove) KEY in the layout's settings file, as a person editing it would."""
    lines = instance.env_file.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"{key}=")]
    if value is not None:
        kept.append(f"{key}={value}\n")
    instance.env_file.write_text("".join(kept))


def root_env(instance: stack.Instance) -> dict[str, str]:
    """MYSQL_PWD for root where root needs its password (the second layout), else nothing (the socket)."""
    if not instance.spec.root_password_only:
        return {}
    values = dict(line.split("=", 1) for line in instance.env_file.read_text().splitlines() if "=" in line)
    return {"MYSQL_PWD": values.get("MYSQL_ROOT_PASSWORD", "")}


def mysql_cmd(container: Any, sql_args: list[str]) -> tuple[int, bytes]:
    code, output = container.exec_run(["mysql", *sql_args], environment=root_env(stack.require_instance()))
    return int(code), bytes(output)


# The manual's `from database import engine`, wherever the API keeps it (the second layout: /app/src, db_manager).
ENGINE = (
    "import sys\nsys.path.insert(0, '/app/src')\nimport database\n"
    "engine = getattr(database, 'engine', None) or database.db_manager.engine\n"
)


def _stop(container: Any) -> str:
    container.stop(timeout=30)
    return f"stopped {container.name}"


def _kill(container: Any) -> str:
    container.kill()
    return f"killed {container.name} (SIGKILL: it exits with code 137, as after a crash)"


def _remove_dist(container: Any) -> str:
    root = stack.require_instance().spec.web_root
    code, output = container.exec_run(["sh", "-c", f"rm -rf {root}/* {root}/.[!.]*"])
    if code != 0:
        raise OdsFixError(f"could not empty {root} in {container.name}: {output.decode(errors='replace')}")
    return f"emptied {root} in {container.name}"


def _break_nginx_config(container: Any) -> str:
    """A typo in the nginx config, then a restart: nginx refuses to start and web exits (页面加载失败)."""
    path = stack.require_instance().spec.web_config
    directory, name = path.rsplit("/", 1)
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        member = archive.extractfile(name)
        text = member.read() if member else b""
    broken = text.replace(b"server_name _;", b"servr_name _;", 1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(broken)
        archive.addfile(info, io.BytesIO(broken))
    container.put_archive(directory, buffer.getvalue())
    container.restart(timeout=10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and container.status != "exited":
        time.sleep(0.5)
        container.reload()
    return f"wrote 'servr_name' into {path} in {container.name} and restarted it (nginx exits)"


def _remove_cors_origin(container: Any) -> str:
    """The Vite dev server's origin dropped from CORS_ALLOWED_ORIGINS; the API restarted to read it."""
    instance = stack.require_instance()
    if instance.spec.name != "manual":
        return f"nothing to remove: the {instance.layout} layout's APIs read no CORS origin setting"
    text = instance.env_file.read_text()
    instance.env_file.write_text(text.replace("CORS_ALLOWED_ORIGINS=http://localhost:3000,", "CORS_ALLOWED_ORIGINS="))
    container.restart(timeout=10)
    return f"removed http://localhost:3000 from CORS_ALLOWED_ORIGINS in {instance.env_file}, restarted {container.name}"


def _break_proxy_route(container: Any) -> str:
    """web's `location /api/` renamed and nginx reloaded: /api falls through to the front end's index.html."""
    path = stack.require_instance().spec.web_config
    script = f"sed -i 's#location /api/ {{#location /api-v0/ {{#' {path} && nginx -s reload"
    code, output = container.exec_run(["sh", "-c", script])
    if code != 0:
        raise OdsFixError(f"could not change {path} in {container.name}: {output.decode(errors='replace')}")
    return f"renamed location /api/ to /api-v0/ in {container.name}'s {path} and reloaded nginx"


def _disconnect(container: Any) -> str:
    networks = list((container.attrs.get("NetworkSettings") or {}).get("Networks") or {})
    for name in networks:
        container.client.networks.get(name).disconnect(container)
    return f"disconnected {container.name} from {', '.join(networks)}"


def run_sql_file(container: Any, sql: str, password: str | None = None) -> None:
    """Run SQL as root in the mysql container from a file, so no value is on a command line."""
    data = sql.encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("ods-fix-sandbox.sql")
        info.size, info.mode = len(data), 0o600
        tar.addfile(info, io.BytesIO(data))
    container.put_archive("/tmp", archive.getvalue())
    env = root_env(stack.require_instance()) if password is None else {"MYSQL_PWD": password}
    code, output = container.exec_run(
        ["sh", "-c", "mysql < /tmp/ods-fix-sandbox.sql; s=$?; rm -f /tmp/ods-fix-sandbox.sql; exit $s"],
        environment=env,
    )
    if code != 0:
        raise OdsFixError(f"SQL in {container.name} failed: {output.decode(errors='replace').strip()}")


def _change_db_password(container: Any) -> str:
    user = stack.require_instance().spec.app_user
    run_sql_file(container, f"ALTER USER '{user}'@'%' IDENTIFIED BY '{secrets.token_hex(12)}';\n")
    return f"changed the server's password for '{user}'@'%' in {container.name}; the settings keep the old one"


def _drop_setting(container: Any) -> str:
    """A required setting lost (as a careless edit would), and the API started again without it: it crashes.

    The manual's layout: the key removed from deploy/.env, the API restarted (it reads the file at start).
    The second layout: the variable blanked in deploy/local/.env (`${VAR:?}` would stop Compose itself)
    and the API recreated by hand with its setting empty, as `docker run -e SECRET_KEY=` would.
    """
    instance = stack.require_instance()
    if instance.spec.name == "manual":
        set_setting(instance, "ALLDATA_SECRET_KEY", None)
        container.restart(timeout=10)
        return f"removed ALLDATA_SECRET_KEY from {instance.env_file} and restarted {container.name}: it cannot start"
    set_setting(instance, "DATA_API_SECRET_KEY", "")
    compose = instance.compose_dir / "docker-compose.yml"
    compose.write_text(
        compose.read_text().replace(
            "SECRET_KEY: ${DATA_API_SECRET_KEY:?DATA_API_SECRET_KEY must be set}",
            "SECRET_KEY: ${DATA_API_SECRET_KEY:-}",
        )
    )
    recreate(instance, container.labels["com.docker.compose.service"])
    return f"blanked DATA_API_SECRET_KEY in {instance.env_file} (and its :? check) and recreated {container.name}"


def _slow_query(container: Any) -> str:
    """A long read-only query from the app's own connection, as a missing index would cause."""
    script = ENGINE + "with engine.connect() as c:\n    c.exec_driver_sql('SELECT SLEEP(600) AS slow_report')\n"
    container.exec_run(["python", "-c", script], detach=True)
    return f"started SELECT SLEEP(600) from {container.name} (the app's user)"


def _slow_write(container: Any) -> str:
    """A long write holding a row lock: busy for long, but not read-only, so not to be killed blindly."""
    script = ENGINE + (
        "with engine.begin() as c:\n"
        "    c.exec_driver_sql('UPDATE job_log SET status = status WHERE id = 1 AND SLEEP(600) = 0')\n"
    )
    container.exec_run(["python", "-c", script], detach=True)
    return f"started a 600 s UPDATE on job_log from {container.name} (the app's user)"


def _fill_disk(container: Any) -> str:
    """Insert year-old rows into job_log until MySQL answers ERROR 1114 (The table is full)."""
    database = stack.require_instance().spec.databases[0]
    insert = (
        f"INSERT INTO {database}.job_log (job, status, detail, create_time) "
        "SELECT 'backfill', 'success', REPEAT(MD5(seq), 250), NOW() - INTERVAL 400 DAY FROM seq_1_to_500"
    )
    for batch in range(1, 400):
        code, output = mysql_cmd(container, ["-D", database, "-e", insert])
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


def _api_moved(container: Any) -> str:
    """The data API stopped and started again at another address (another container took its old one), as
    after a recreate on a busy network: a front end that resolved it once, when it started, keeps the old."""
    networks = list((container.attrs.get("NetworkSettings") or {}).get("Networks") or {})
    if not networks:
        raise OdsFixError(f"{container.name} is on no network")
    old = _address(container)
    container.stop(timeout=10)
    squatter = container.client.containers.run(
        container.image.id, entrypoint=["sleep", "600"], network=networks[0], detach=True, auto_remove=True
    )
    try:
        container.start()
    finally:
        squatter.remove(force=True)
    return f"{container.name} is back at {_address(container)} (it was at {old})"


def _address(container: Any) -> str:
    container.reload()
    networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    return ", ".join(v.get("IPAddress") or "?" for v in networks.values())


def _write_load(container: Any) -> str:
    """Single-row autocommit inserts for two minutes: with innodb_flush_log_at_trx_commit=1, one fsync each."""
    instance = stack.require_instance()
    script = r"""end=$((SECONDS + 120)); while [ $SECONDS -lt $end ]; do
  echo "INSERT INTO DB.job_log (job, status) VALUES ('load', 'ok');"
done | mysql >/dev/null 2>&1""".replace("DB", instance.spec.databases[0])
    container.exec_run(["bash", "-c", script], detach=True, environment=root_env(instance))
    return f"started 120 s of single-row autocommit inserts in {container.name}"


def _debug_logging(container: Any) -> str:
    """LOG_LEVEL=DEBUG in the settings file, picked up the way the layout's APIs pick up settings."""
    instance = stack.require_instance()
    set_setting(instance, "LOG_LEVEL", "DEBUG")
    running = stack.project_containers(container.client, instance.project)
    apis = [instance.spec.roles[role] for role in ("data_api", "agent_api") if instance.spec.roles[role] in running]
    if instance.spec.name == "manual":
        for api in apis:
            running[api].restart(timeout=10)
        return f"set LOG_LEVEL=DEBUG in {instance.env_file} and restarted the APIs"
    recreate(instance, *apis)
    return f"set LOG_LEVEL=DEBUG in {instance.env_file} and recreated the APIs"


def _etcd_outage(container: Any) -> str:
    """etcd down for over a minute and until Milvus's own health check fails, then back: Milvus stays broken.

    Both conditions: a health probe can also fail for a moment on a busy machine, and a Milvus that lost
    etcd for less than its session TTL (about a minute) reconnects by itself, which is no fault at all.
    """
    instance = stack.require_instance()
    milvus = stack.project_containers(container.client, instance.project).get(instance.spec.roles["vector_store"])
    if milvus is None:
        raise OdsFixError("milvus-etcd-outage needs the vector store in the sandbox")
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
    """A typo in MILVUS_HOST and a wrong MILVUS_PORT where the agent API's settings are, picked up by it.

    The manual's layout: deploy/.env, read at the API's next start. The second layout: the literal values
    in the overlay compose file, picked up when the container is recreated.
    """
    instance = stack.require_instance()
    if instance.spec.name == "manual":
        text = instance.env_file.read_text()
        text = text.replace("MILVUS_HOST=milvus-standalone", "MILVUS_HOST=milvus-standlone")
        instance.env_file.write_text(text.replace("MILVUS_PORT=19530", "MILVUS_PORT=19531"))
        container.restart(timeout=10)
        return (
            f"set MILVUS_HOST=milvus-standlone and MILVUS_PORT=19531 in {instance.env_file}, restarted {container.name}"
        )
    overlay = instance.compose_dir / "docker-compose.llmops.yml"
    text = overlay.read_text().replace("MILVUS_HOST: milvus\n", "MILVUS_HOST: milvus-standlone\n")
    overlay.write_text(text.replace("MILVUS_PORT: 19530\n", "MILVUS_PORT: 19531\n"))
    recreate(instance, container.labels["com.docker.compose.service"])
    return f"set MILVUS_HOST: milvus-standlone and MILVUS_PORT: 19531 in {overlay}, recreated {container.name}"


FAULTS: tuple[Fault, ...] = (
    Fault("mysql-stopped", "database", "数据库连接失败", "the database is stopped: the APIs answer 500", _stop),
    Fault("redis-stopped", "cache", "API 响应缓慢", "the cache (redis) is stopped", _stop),
    Fault("milvus-etcd-stopped", "vector_meta", "Milvus 连接失败", "Milvus's etcd is stopped", _stop),
    Fault(
        "milvus-etcd-outage",
        "vector_meta",
        "Milvus 连接失败",
        "Milvus's etcd stopped until Milvus fails its health check, then started: Milvus stays down",
        _etcd_outage,
    ),
    Fault("milvus-minio-stopped", "vector_object", "Milvus 连接失败", "Milvus's minio is stopped", _stop),
    Fault("milvus-killed", "vector_store", "Milvus 连接失败", "Milvus killed (exit 137)", _kill),
    Fault(
        "milvus-wrong-host",
        "agent_api",
        "Milvus 连接失败",
        "MILVUS_HOST misspelt and MILVUS_PORT wrong where the agent API's settings are",
        _milvus_wrong_host,
    ),
    Fault("api-exited", "data_api", "API 返回 500 错误", "the data API crashed (killed, exit 137)", _kill),
    Fault(
        "web-dist-removed", "web", "页面加载失败", "the built front end is gone from web's document root", _remove_dist
    ),
    Fault(
        "web-config-broken",
        "web",
        "页面加载失败",
        "a typo in web's nginx config; web restarted and exited",
        _break_nginx_config,
    ),
    Fault("web-stopped", "web", "页面加载失败", "web is stopped", _stop),
    Fault(
        "cors-origin-removed",
        "data_api",
        "API 跨域错误",
        "http://localhost:3000 dropped from CORS_ALLOWED_ORIGINS (where the APIs read one)",
        _remove_cors_origin,
    ),
    Fault(
        "proxy-route-broken", "web", "API 跨域错误", "web's /api route no longer proxies to the API", _break_proxy_route
    ),
    Fault(
        "mysql-disconnected", "database", "数据库连接失败", "the database is cut off its compose network", _disconnect
    ),
    Fault(
        "db-password-mismatch",
        "database",
        "数据库连接失败",
        "the server's password for the app user differs from the settings",
        _change_db_password,
    ),
    Fault("slow-query", "data_api", "API 响应缓慢", "a 600 s SELECT from the app's connection", _slow_query),
    Fault("slow-write", "data_api", "API 响应缓慢", "a 600 s UPDATE holding a row lock", _slow_write),
    Fault("mysql-disk-full", "database", "数据库磁盘空间不足", "job_log filled until ERROR 1114", _fill_disk),
    Fault(
        "api-moved",
        "data_api",
        "页面加载失败",
        "the data API back at another address (what nginx resolved is stale)",
        _api_moved,
    ),
    Fault("cpu-burner", "data_api", "高 CPU 使用", "a busy loop in the data API", _cpu_burner),
    Fault("memory-hog", "agent_api", "高内存使用", "a process holding 450 MB in the agent API", _memory_hog),
    Fault("write-load", "database", "磁盘 I/O 高", "120 s of single-row autocommit inserts", _write_load),
    Fault("debug-logging", "data_api", "高 CPU 使用 (日志处理)", "LOG_LEVEL=DEBUG in the settings", _debug_logging),
    Fault(
        "api-setting-missing",
        "data_api",
        "API 返回 500 错误",
        "the data API's signing key lost from the settings; the API started again and crashed",
        _drop_setting,
    ),
)


def _faults_of_new_fixes() -> tuple[Fault, ...]:
    """The faults of fixes in the making, each in a file of its own, pyrunner/sandbox/fault_<role>.py (written
    by scripts/new-fix): NAME, ROLE, SECTION, DESCRIPTION and inject(container)."""
    found = []
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("fault_"):
            fault = importlib.import_module(f"pyrunner.sandbox.{module.name}")
            found.append(Fault(fault.NAME, fault.ROLE, fault.SECTION, fault.DESCRIPTION, fault.inject))
    return tuple(found)


FAULTS += _faults_of_new_fixes()


def get(name: str) -> Fault:
    for fault in FAULTS:
        if fault.name == name:
            return fault
    raise OdsFixError(f"unknown fault {name!r}; known: {', '.join(f.name for f in FAULTS)}")


def inject(names: list[str], log: Log = lambda _: None) -> list[str]:
    faults = [get(name) for name in names]  # all names checked before anything changes
    instance = stack.require_instance()
    client = stack.docker_client()
    done = []
    for fault in faults:
        service = instance.spec.service(fault.role)
        # Looked up for each fault: an earlier one may have recreated it (debug-logging in the local layout).
        container = stack.project_containers(client, instance.project).get(service)
        if container is None:
            raise OdsFixError(
                f"{fault.name}: the sandbox has no {service} container (start it with "
                f"`ods-fix sandbox up --services {service}`)"
            )
        try:
            done.append(f"{fault.name}: {fault.inject(container)}")
        except docker_errors.APIError as exc:
            raise OdsFixError(f"{fault.name}: {exc.explanation or exc}") from exc
        log(done[-1])
    return done


def heal(log: Log = lambda _: None) -> list[str]:
    """Undo every fault: the generated settings back, every service recreated from its image (volumes kept)."""
    instance = stack.require_instance()
    pristine = instance.directory / stack.PRISTINE_ENV
    current = _values(instance.env_file)
    if pristine.exists():
        shutil.copyfile(pristine, instance.env_file)
        instance.env_file.chmod(0o600)
    stack.render_instance(instance)
    cli = compose_mod.detect(instance.compose)
    result = instance.run_compose(cli, "up", "-d", "--no-build", "--force-recreate", *instance.services)
    if result.returncode != 0:
        raise OdsFixError(f"compose up failed: {result.stderr.strip().splitlines()[-1:]}")
    client = stack.docker_client()
    done = [f"recreated {', '.join(instance.services)}"]
    database = instance.spec.roles["database"]
    mysql = stack.project_containers(client, instance.project).get(database)
    if mysql is not None:  # the data volume outlives the container: the passwords, before the APIs need them
        stack.wait_healthy(client, instance, [database], 240, log)
        env = _values(instance.env_file)
        app, root = (
            env[key].replace("\\", "\\\\").replace("'", "''") for key in ("MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD")
        )
        # SET PASSWORD keeps root@localhost's unix_socket authentication (a rotate-keys may have changed both).
        sql = (
            f"ALTER USER '{instance.spec.app_user}'@'%' IDENTIFIED BY '{app}';\n"
            f"SET PASSWORD FOR 'root'@'localhost' = PASSWORD('{root}');\n"
            f"SET PASSWORD FOR 'root'@'%' = PASSWORD('{root}');\n"
        )
        # Where root needs its password, it may be a rotated one: the settings' before heal, else the pristine one.
        for candidate in dict.fromkeys([current.get("MYSQL_ROOT_PASSWORD", ""), env["MYSQL_ROOT_PASSWORD"]]):
            try:
                run_sql_file(mysql, sql, password=candidate)
                break
            except OdsFixError:
                if not instance.spec.root_password_only:
                    raise
        done.append("reset the app user's and root's passwords to the ones in the settings")
    stack.wait_healthy(client, instance, instance.services, 240, log)
    return done


def _values(path: Any) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")
    )
