"""Findings, cause linking and triage from what diagnose saw (pure logic, no Docker)."""

from __future__ import annotations

from typing import Any

from ansible_collections.ods.fix.plugins.module_utils.stack import diagnosis
from ansible_collections.ods.fix.plugins.plugin_utils import catalog

STACK = ["mysql", "redis", "milvus-etcd", "milvus-minio", "milvus-standalone", "alldata-api", "bisheng-api", "web"]
# What discovery maps them to: the findings' roles, which the catalog's symptoms and dependencies name.
SYMPTOMS = catalog.symptom_map()
ROLES = {
    "mysql": "database",
    "redis": "cache",
    "milvus-etcd": "vector_meta",
    "milvus-minio": "vector_object",
    "milvus-standalone": "vector_store",
    "alldata-api": "api",
    "bisheng-api": "api",
    "web": "web",
}


def running(**overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = {name: {"status": "running", "health": "healthy", "exit_code": 0} for name in STACK}
    services.update(overrides)
    return services


def probes_with_mysql_and_redis_down() -> dict[str, Any]:
    unreachable = {"ok": False, "error": "Name or service not known"}
    return {
        "network": {
            api: {"mysql": unreachable, "redis": unreachable, "milvus-standalone": {"ok": True, "ms": 1}}
            for api in ("alldata-api", "bisheng-api")
        },
        "health": {
            api: {"code": 500, "checks": {"db": {"ok": False}, "redis": {"ok": False}}}
            for api in ("alldata-api", "bisheng-api")
        },
        "database": {
            "via_api": {
                "ok": False,
                "service": "alldata-api",
                "error": 'sqlalchemy.exc.OperationalError: (2003, "Can\'t connect to MySQL server")',
            }
        },
        "logs": {"alldata-api": {"scanned": 100, "error_count": 3, "errors": ["ERROR db check failed"]}},
        "resources": {},
        "web": {},
    }


def test_two_stopped_services_are_the_roots_and_the_rest_follows() -> None:
    stopped = {"status": "exited", "exit_code": 0}
    findings, plan = diagnosis.analyse(
        STACK, running(mysql=stopped, redis=stopped), probes_with_mysql_and_redis_down(), roles=ROLES, fixes=SYMPTOMS
    )
    roots = [f for f in findings if "caused_by" not in f and f["severity"] != "info"]
    assert sorted((f["code"], f["service"]) for f in roots) == [("stopped", "mysql"), ("stopped", "redis")]
    assert sorted(p["command"] for p in plan) == ["ods-fix api-slow", "ods-fix mysql-connect"]
    api_errors = [f for f in findings if f["code"] == "api_error"]
    assert api_errors and all(f["caused_by"] == "stopped:mysql" for f in api_errors)


def test_a_deleted_dist_is_its_own_problem_even_with_milvus_down() -> None:
    probes: dict[str, Any] = {"web": {"dist": {"ok": False, "error": "no index.html"}, "config": {"ok": True}}}
    findings, plan = diagnosis.analyse(
        STACK, running(**{"milvus-etcd": {"status": "exited", "exit_code": 0}}), probes, roles=ROLES, fixes=SYMPTOMS
    )
    dist = next(f for f in findings if f["code"] == "dist_missing")
    assert "caused_by" not in dist
    assert {p["command"] for p in plan} == {"ods-fix web-recover", "ods-fix milvus-restart"}


def test_a_crashed_api_is_a_root_cause_not_a_consequence() -> None:
    services = running(
        mysql={"status": "exited", "exit_code": 0}, **{"alldata-api": {"status": "exited", "exit_code": 137}}
    )
    findings, _ = diagnosis.analyse(STACK, services, {}, roles=ROLES, fixes=SYMPTOMS)
    api = next(f for f in findings if f["service"] == "alldata-api")
    assert api["code"] == "stopped" and "caused_by" not in api
    assert "137" in api["summary"]


def test_access_denied_names_user_and_side() -> None:
    probes = {
        "database": {
            "via_api": {
                "ok": False,
                "service": "alldata-api",
                "error": "sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) "
                "(1045, \"Access denied for user 'ods'@'172.18.0.5' (using password: YES)\")",
            }
        }
    }
    findings, plan = diagnosis.analyse(STACK, running(), probes, roles=ROLES, fixes=SYMPTOMS)
    auth = next(f for f in findings if f["code"] == "db_auth")
    assert "'ods'@'172.18.0.5'" in auth["summary"] and "its settings" in auth["summary"]
    assert plan[0]["command"] == "ods-fix mysql-connect"


def test_missing_setting_in_logs_becomes_config_missing() -> None:
    probes = {
        "logs": {
            "bisheng-api": {
                "scanned": 5,
                "error_count": 1,
                "errors": [
                    "2026-01-01 ERROR [bisheng-api] config: "
                    "required setting OPENAI_API_KEY is missing from /app/deploy/.env"
                ],
            }
        }
    }
    services = running(**{"bisheng-api": {"status": "exited", "exit_code": 1}})
    findings, _ = diagnosis.analyse(STACK, services, probes, roles=ROLES, fixes=SYMPTOMS)
    missing = next(f for f in findings if f["code"] == "config_missing")
    assert "OPENAI_API_KEY" in missing["summary"] and "/app/deploy/.env" in missing["summary"]


def test_healthy_stack_has_no_findings() -> None:
    findings, plan = diagnosis.analyse(STACK, running(), {}, roles=ROLES, fixes=SYMPTOMS)
    assert findings == [] and plan == []


def test_a_container_with_old_settings_is_its_own_finding_fixed_by_config_drift() -> None:
    summary = "alldata-api (ods-alldata-api-1) runs with old settings: settings changed since it was created: TZ"
    drift = {"alldata-api": {"container": "ods-alldata-api-1", "settings": ["TZ"], "held": [], "summary": summary}}
    findings, plan = diagnosis.analyse(STACK, running(), {"drift": drift}, roles=ROLES, fixes=SYMPTOMS)
    assert [(f["code"], f["service"], f["summary"]) for f in findings] == [("config_drift", "alldata-api", summary)]
    assert findings[0]["evidence"] == {"container": "ods-alldata-api-1", "settings": ["TZ"]}
    assert [p["command"] for p in plan] == ["ods-fix config-drift"]


def test_an_env_file_short_of_what_the_containers_were_made_with_is_a_finding_fixed_by_env_file() -> None:
    problems = ["Compose reads /src/.env, which is missing", "the containers were made with values ...: ODS_PORT_MYSQL"]
    state = {"file": "/src/.env", "problems": problems, "variables": ["ODS_PORT_MYSQL"]}
    findings, plan = diagnosis.analyse(STACK, running(), {"env_file": state}, roles=ROLES, fixes=SYMPTOMS)
    assert [(f["code"], f["service"]) for f in findings] == [("env_file", ".env")]
    assert findings[0]["summary"] == "; ".join(problems)
    assert findings[0]["evidence"] == {"file": "/src/.env", "variables": ["ODS_PORT_MYSQL"]}
    assert [p["command"] for p in plan] == ["ods-fix env-file"]


def test_a_healthcheck_that_says_nothing_is_reported_but_leaves_the_stack_healthy() -> None:
    item = {"kind": "cannot pass", "where": "docker-compose.yml:128", "docker": "unhealthy", "answer": 200,
            "misleads": True, "summary": "data-api: Docker says it is unhealthy, and it answers 200; ..."}  # fmt: skip
    findings, plan = diagnosis.analyse(STACK, running(), {"healthchecks": {"web": item}}, roles=ROLES, fixes=SYMPTOMS)
    assert [(f["code"], f["service"], f["severity"]) for f in findings] == [("healthcheck", "web", "info")]
    assert findings[0]["evidence"]["where"] == "docker-compose.yml:128" and plan == []


def test_a_service_whose_port_is_taken_is_that_finding_not_a_stopped_one_that_starting_would_fix() -> None:
    summary = "alldata-api cannot start: host port 127.0.0.1:8080, ... is held by container keycloak-1 (project auth)"
    taken = {"port": 8080, "host_ip": "127.0.0.1", "where": "docker-compose.yml:57", "summary": summary,
             "holder": {"kind": "container", "name": "keycloak-1", "project": "auth"}}  # fmt: skip
    services = running(**{"alldata-api": {"status": "created", "exit_code": 128}})
    findings, plan = diagnosis.analyse(
        STACK, services, {"ports": {"alldata-api": [taken]}}, roles=ROLES, fixes=SYMPTOMS
    )
    by_code = {f["code"]: f for f in findings if f["service"] == "alldata-api"}
    assert by_code["port_taken"]["summary"] == summary and "caused_by" not in by_code["port_taken"]
    assert by_code["stopped"]["caused_by"] == "port_taken:alldata-api"
    assert [(p["finding"], p.get("command")) for p in plan] == [("port_taken:alldata-api", None)]


def test_a_service_without_container_is_missing() -> None:
    services = running()
    del services["web"]
    findings, plan = diagnosis.analyse(STACK, services, {}, roles=ROLES, fixes=SYMPTOMS)
    assert findings[0]["code"] == "missing" and plan[0]["command"] == "ods-fix web-recover"


def test_cpu_percent_as_docker_stats_computes_it() -> None:
    stats = {
        "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000}, "system_cpu_usage": 20_000_000, "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000}, "system_cpu_usage": 10_000_000},
    }
    assert diagnosis.cpu_percent(stats) == 40.0
    assert diagnosis.cpu_percent({}) == 0.0


def test_memory_subtracts_page_cache() -> None:
    stats = {
        "memory_stats": {"usage": 300 * 1048576, "limit": 1000 * 1048576, "stats": {"inactive_file": 100 * 1048576}}
    }
    assert diagnosis.memory(stats) == {"mem_mb": 200.0, "mem_limit_mb": 1000.0, "mem_percent": 20.0}


def test_error_lines_is_grep_i_error_without_colours() -> None:
    count, lines = diagnosis.error_lines("ok\n\x1b[31merror\x1b[39m: boom\nAn ERROR here\nfine\n", keep=1)
    assert count == 2 and lines == ["An ERROR here"]


def test_high_cpu_and_memory_are_reported() -> None:
    probes = {"resources": {"alldata-api": {"cpu_percent": 180.0, "mem_percent": 95.0, "mem_mb": 900}}}
    findings, _ = diagnosis.analyse(
        STACK, running(), probes, cpu_threshold=90, memory_threshold=90, roles=ROLES, fixes=SYMPTOMS
    )
    assert {f["code"] for f in findings} == {"high_cpu", "high_memory"}


def test_render_text_has_the_five_parts_and_the_fix() -> None:
    stopped = {"status": "exited", "exit_code": 0}
    services = running(mysql=stopped, redis=stopped)
    probes = probes_with_mysql_and_redis_down()
    findings, plan = diagnosis.analyse(STACK, services, probes, roles=ROLES, fixes=SYMPTOMS)
    details = dict(
        probes,
        project="p",
        project_dir="/p",
        generated_at="now",
        compose_flavor="v2",
        engine_version="x",
        expected_services=STACK,
        services=services,
        findings=findings,
        triage=plan,
        healthy=False,
    )
    text = diagnosis.render_text(details, 100)
    for part in ("服务状态", "资源使用", "最近错误日志", "网络连接状态", "数据库连接状态", "诊断结论"):
        assert part in text
    assert "fix: ods-fix mysql-connect" in text


def test_a_refused_preflight_names_ods_fix_cors() -> None:
    probes = {"cors": {"alldata-api": {"http://localhost:3000": {"code": 400, "allow_origin": None}}}}
    findings, plan = diagnosis.analyse(STACK, running(), probes, roles=ROLES, fixes=SYMPTOMS)
    assert [(f["code"], f["service"]) for f in findings] == [("cors", "alldata-api")]
    assert plan[0]["command"] == "ods-fix cors"


def test_an_allowed_preflight_is_no_finding() -> None:
    allowed = {"http://localhost:3000": {"code": 200, "allow_origin": "http://localhost:3000"}}
    findings, _ = diagnosis.analyse(STACK, running(), {"cors": {"alldata-api": allowed}}, roles=ROLES, fixes=SYMPTOMS)
    assert findings == []


def test_a_down_upstream_is_its_service_not_the_config() -> None:
    down = {"ok": False, "output": "host not found in upstream", "unresolved": "data-api", "upstream_down": "data-api"}
    typo = {"ok": False, "output": 'unknown directive "servr_name" in /etc/nginx/nginx.conf:12', "unresolved": None}
    assert diagnosis.probe_findings({"web": {"config": down}, "web_service": "web-frontend"}, 90, 90) == []
    found = diagnosis.probe_findings({"web": {"config": typo}, "web_service": "web-frontend"}, 90, 90)
    assert [f["code"] for f in found] == ["nginx_config"] and "servr_name" in found[0]["summary"]


def test_a_service_killed_for_memory_is_started_by_its_fix_and_the_limit_to_raise_is_left() -> None:
    item = {"oom_killed": True, "restarts": 0, "exit_code": 137, "policy": "no", "limit_mb": 24.0,
            "where": "docker-compose.yml:31", "summary": "redis was killed for lack of memory (OOM): ..."}  # fmt: skip
    services = running(redis={"status": "exited", "exit_code": 137, "oom_killed": True})
    findings, plan = diagnosis.analyse(STACK, services, {"restarts": {"redis": item}}, roles=ROLES, fixes=SYMPTOMS)
    by_code = {f["code"]: f for f in findings if f["service"] == "redis"}
    assert (
        by_code["stopped"]["summary"] == "redis is not running (exited, exit code 137, killed for lack of memory (OOM))"
    )
    assert by_code["memory_killed"]["severity"] == "info" and by_code["memory_killed"]["summary"] == item["summary"]
    assert by_code["memory_killed"]["evidence"]["where"] == "docker-compose.yml:31"
    assert [(p["finding"], p["command"]) for p in plan] == [("stopped:redis", "ods-fix api-slow")]


def test_a_restart_loop_is_its_own_finding() -> None:
    item = {"oom_killed": False, "restarts": 7, "exit_code": 1, "policy": "always", "limit_mb": 0.0, "where": "",
            "summary": "web keeps exiting (last exit code 1), restarted 7 times: ..."}  # fmt: skip
    findings, _plan = diagnosis.analyse(STACK, running(), {"restarts": {"web": item}}, roles=ROLES, fixes=SYMPTOMS)
    assert [(f["code"], f["service"]) for f in findings] == [("restart_loop", "web")]


def test_a_service_restarting_in_a_loop_has_no_fix_and_its_step_points_at_what_the_user_changes() -> None:
    item = {"oom_killed": False, "restarts": 9, "exit_code": 1, "policy": "unless-stopped", "limit_mb": 0.0,
            "where": "", "last_log": [">>> 'maxmemory-policy \"no-such-policy\"'"],
            "summary": "redis keeps exiting (last exit code 1) ...: its log's last lines: ..."}  # fmt: skip
    services = running(redis={"status": "restarting", "restart_count": 9})
    findings, plan = diagnosis.analyse(STACK, services, {"restarts": {"redis": item}}, roles=ROLES, fixes=SYMPTOMS)
    loop = next(f for f in findings if f["code"] == "restart_loop")
    assert loop["evidence"]["last_log"] == item["last_log"]
    step = next(p for p in plan if p["finding"] == "restarting:redis")
    assert step["fix"] is None and step["note"] == "no automated fix: what keeps it down is for you to change (below)"
    # Without such a finding, a service with no fix is still left to the manual.
    _findings, plain = diagnosis.analyse(STACK, services, {}, roles=ROLES, fixes=SYMPTOMS)
    assert next(p for p in plain if p["finding"] == "restarting:redis")["note"] == "no automated fix: see the manual"


def test_a_missing_external_network_is_the_root_and_the_services_it_keeps_down_follow() -> None:
    item = {"name": "shared", "declared_in": "docker-compose.yml:38", "services": ["mysql", "alldata-api"],
            "summary": "network shared, declared external at docker-compose.yml:38, does not exist: ..."}  # fmt: skip
    services = running(mysql={"status": "exited", "exit_code": 0}, **{"alldata-api": {"status": "exited"}})
    findings, plan = diagnosis.analyse(STACK, services, {"networks": {"shared": item}}, roles=ROLES, fixes=SYMPTOMS)
    roots = [(f["code"], f["service"]) for f in findings if "caused_by" not in f and f["severity"] != "info"]
    assert roots == [("external_network", "shared")]
    assert {f["service"]: f["caused_by"] for f in findings if f["code"] == "stopped"} == {
        "mysql": "external_network:shared",
        "alldata-api": "external_network:shared",
    }
    assert [(p["finding"], p["command"]) for p in plan] == [("external_network:shared", "ods-fix external-network")]


def test_docker_s_disk_low_is_a_warning_whose_step_says_the_prune_commands() -> None:
    disk = {"low": True, "summary": "Docker's disk (/var/lib/docker) has 1.5 GiB free ..."}
    findings, plan = diagnosis.analyse(STACK, running(), {"docker_disk": disk}, roles=ROLES, fixes=SYMPTOMS)
    assert [(f["code"], f["service"], f["severity"]) for f in findings] == [("docker_disk", "docker", "warning")]
    assert plan[0]["fix"] is None and plan[0]["note"] == "no automated fix: " + diagnosis.DISK_REMEDY
    assert diagnosis.analyse(STACK, running(), {"docker_disk": {"low": False}}, roles=ROLES, fixes=SYMPTOMS)[0] == []
