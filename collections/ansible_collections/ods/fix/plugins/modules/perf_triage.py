#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: perf_triage
short_description: The manual's 性能问题 triage, which container, which process, and the likely cause
version_added: 0.1.0
description:
  - V(cpu), the manual's C(docker stats --no-stream | sort -k3 -hr) and C(top -b -n 1) in the busiest
    containers; names the container and its busiest processes with their CPU share.
  - V(memory), C(docker stats) sorted by memory and each big container's largest processes (RSS).
  - V(io), block writes per container over a sampling interval, the processes writing (from
    C(/proc/<pid>/io), what C(iotop -o) shows), and MySQL's C(innodb_flush_log_at_trx_commit) (the manual's
    query) with the fsyncs and commits per second it costs.
  - Then the manual's likely causes, each with its evidence, vector search (Milvus's CPU), LLM calls without
    streaming (the streaming setting in the env file), the log level (LOG_LEVEL and the log lines per
    second), the connection pool and cache sizes, and the flush policy.
  - Read-only. O(restart_above_mb) only lists the containers above it, for the role to restart.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
  - ods.fix.mysql
options:
  focus:
    description: What to look at.
    type: list
    elements: str
    choices: [cpu, memory, io]
    default: [cpu, memory, io]
  cpu_percent:
    description: A container is busy from this CPU percentage (of one core) on.
    type: float
    default: 50
  memory_mb:
    description: A container is big from this many MB on.
    type: float
    default: 300
  restart_above_mb:
    description: List the containers using more than this many MB in C(over_memory); 0 lists none.
    type: int
    default: 0
  sample_seconds:
    description: Sampling interval for I/O rates.
    type: int
    default: 3
  write_mb_s:
    description: A container writes a lot from this many MB/s on.
    type: float
    default: 0.5
attributes:
  check_mode:
    support: full
    details: Reports the triage and what it would change; changes nothing.
  idempotent:
    support: partial
    details: What it changes (a log level, a restart) follows what the containers use at the time it runs.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Which container and process use the CPU | 高 CPU 使用
  ods.fix.perf_triage:
    project_dir: /home/dev/one-data-studio
    focus: [cpu]
"""

RETURN = r"""
stats:
  description: Per running service, C(cpu_percent), C(mem_mb), C(mem_percent), and C(write_mb_s) for heavy writers.
  returned: always
  type: dict
hot:
  description: The busy or big containers with their top processes, C({service, kind, figure, processes}).
  returned: always
  type: list
  elements: dict
causes:
  description: The manual's likely causes that apply, C({cause, evidence, remedy}).
  returned: always
  type: list
  elements: dict
found:
  description: One line per finding, with figures.
  returned: always
  type: list
  elements: str
log_level:
  description: LOG_LEVEL in the env file.
  returned: always
  type: str
over_memory:
  description: Services above O(restart_above_mb).
  returned: always
  type: list
  elements: str
"""

import time

from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.stack import (
    compose,
    credentials,
    diagnosis,
    discovery,
    perf,
    settings,
)


def exec_text(container, cmd):
    code, output = container.exec_run(cmd)
    return code, output.decode("utf-8", "replace")


def sample_stats(running):
    """docker stats --no-stream for every running container, in parallel: CPU % and memory."""
    samples = compose.run_parallel(dict((s, lambda c=c: c.stats(stream=False)) for s, c in running.items()), 30)
    stats = {}
    for service, (ok, sample) in samples.items():
        if ok:
            entry = {"cpu_percent": diagnosis.cpu_percent(sample)}
            entry.update(diagnosis.memory(sample))
            stats[service] = entry
    return stats


def processes(container, key):
    """(code, procs, how): the manual's `top` or `ps` in the container, else the engine's `docker top`."""
    argv = (
        ["top", "-b", "-c", "-n", "2", "-d", "1", "-w", "200"]
        if key == "cpu"
        else ["ps", "-eo", "pid,rss,args", "--sort=-rss"]
    )
    code, text = exec_text(container, argv)
    if code == 0:
        return (perf.parse_top(text) if key == "cpu" else perf.parse_ps_rss(text)), argv[0]
    return perf.engine_processes(container, key), f"docker top (the image has no {argv[0]})"


def mysql_status(api, db, root, seconds):
    def status():
        rows = root_access.run_sql(
            api,
            db,
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_os_log_fsyncs', "
            "'Com_commit', 'Com_insert', 'Com_update', 'Com_delete', 'Innodb_data_written', "
            "'Innodb_log_writes');",
            root=root,
        )
        return dict((r[0], int(r[1])) for r in rows)

    flush = root_access.run_sql(api, db, "SHOW VARIABLES LIKE 'innodb_flush_log_at_trx_commit';", root=root)[0][1]
    before = status()
    time.sleep(seconds)
    after = status()
    rate = dict((k, round((after[k] - before.get(k, 0)) / float(seconds), 1)) for k in after)
    writes = rate.get("Com_insert", 0) + rate.get("Com_update", 0) + rate.get("Com_delete", 0)
    return {
        "innodb_flush_log_at_trx_commit": flush,
        "fsyncs_s": rate.get("Innodb_os_log_fsyncs", 0),
        "log_writes_s": rate.get("Innodb_log_writes", 0),
        "writes_s": writes,
        "written_mb_s": round(rate.get("Innodb_data_written", 0) / 1048576.0, 2),
    }


def log_rate(container, seconds=10):
    since = int(time.time()) - seconds
    lines = container.logs(since=since).decode("utf-8", "replace").count("\n")
    return round(lines / float(seconds), 1)


def measure(api, running, stack, params, stats):
    """The slow probes, all at once: top in busy containers, ps in big ones, the I/O and MySQL samples."""
    focus = params["focus"]
    busy = [s for s, e in stats.items() if "cpu" in focus and e["cpu_percent"] >= params["cpu_percent"]]
    big = [s for s, e in stats.items() if "memory" in focus and e["mem_mb"] >= params["memory_mb"]]
    tasks = {}
    for service in busy:
        tasks["top:" + service] = lambda c=running[service]: processes(c, "cpu")
    for service in big:
        tasks["ps:" + service] = lambda c=running[service]: processes(c, "rss")
    if "io" in focus:

        def io():
            pids = {}
            for service, container in running.items():
                try:
                    pids[service] = perf.container_pids(container)
                except Exception:  # a container that just stopped has no processes to read
                    pids[service] = []
            return perf.io_rates(pids, params["sample_seconds"])

        tasks["io"] = io
        db = running.get(stack["database"])
        if db is not None:
            tasks["db"] = lambda: mysql_status(api, db, stack["root"], params["sample_seconds"])
    return busy, big, compose.run_parallel(tasks, params["sample_seconds"] + 60)


def triage(api, running, stack, params, stats):
    hot, causes, found = [], [], []
    env, where = stack["env"], stack["where"]
    busy_list, big_list, seen = measure(api, running, stack, params, stats)
    for service in sorted(busy_list, key=lambda s: -stats[s]["cpu_percent"]):
        ok, value = seen["top:" + service]
        procs, _how = value if ok else ([], "")
        hot.append({"service": service, "kind": "cpu", "figure": stats[service]["cpu_percent"], "processes": procs})
        top = procs[0] if procs else None
        found.append(
            "高 CPU: {} uses {:.1f}% CPU{}".format(
                service,
                stats[service]["cpu_percent"],
                "; busiest process pid %d (%.1f%%): %s" % (top["pid"], top["cpu"], top["command"]) if top else "",
            )
        )
    for service in sorted(big_list, key=lambda s: -stats[s]["mem_mb"]):
        ok, value = seen["ps:" + service]
        procs, _how = value if ok else ([], "")
        entry = stats[service]
        hot.append({"service": service, "kind": "memory", "figure": entry["mem_mb"], "processes": procs})
        top = procs[0] if procs else None
        found.append(
            "高内存: {} uses {:.0f} MB ({:.1f}% of its limit){}".format(
                service,
                entry["mem_mb"],
                entry["mem_percent"],
                "; largest process pid %d (%.0f MB): %s" % (top["pid"], top["rss_mb"], top["command"]) if top else "",
            )
        )
    rates = seen.get("io", (False, {}))[1] if seen.get("io", (False,))[0] else {}
    for service, rate in sorted(rates.items(), key=lambda item: -(item[1] or {}).get("write_mb_s", 0)):
        if rate is None or rate["write_mb_s"] < params["write_mb_s"]:
            continue
        stats.setdefault(service, {})["write_mb_s"] = rate["write_mb_s"]
        hot.append({"service": service, "kind": "io", "figure": rate["write_mb_s"], "processes": rate["writers"]})
        top = rate["writers"][0] if rate["writers"] else None
        found.append(
            "磁盘 I/O: {} writes {:.2f} MB/s{}".format(
                service,
                rate["write_mb_s"],
                "; top writer pid %d (%.2f MB/s): %s" % (top["pid"], top["write_mb_s"], top["command"]) if top else "",
            )
        )
    if rates and all(rate is None for rate in rates.values()):
        found.append("磁盘 I/O: per-process writes need root on the target (/proc/<pid>/io); not measured")
    db_io = None
    if "db" in seen:
        ok, value = seen["db"]
        db_io = value if ok else {"error": value}
        if db_io.get("innodb_flush_log_at_trx_commit") == "1" and db_io.get("writes_s", 0) > 0:
            causes.append(
                {
                    "cause": "数据库刷盘策略 (flush policy)",
                    "evidence": "innodb_flush_log_at_trx_commit = 1 (the manual's query): {:.0f} row writes/s, each "
                    "commit flushed to disk on its own ({:.0f} redo log writes/s)".format(
                        db_io["writes_s"], db_io["log_writes_s"]
                    ),
                    "remedy": "调整数据库刷盘策略: SET GLOBAL innodb_flush_log_at_trx_commit = 2 (one fsync a second; "
                    "up to a second of commits lost if the OS crashes), and in my.cnf to keep it; "
                    "or batch the writes in transactions; 使用 SSD / 分离日志存储",
                }
            )
    focus = params["focus"]
    busy = set(h["service"] for h in hot if h["kind"] == "cpu")
    big = set(h["service"] for h in hot if h["kind"] == "memory")
    level = env.get("LOG_LEVEL", "")
    if busy or "io" in focus:
        rates = dict((s, log_rate(running[s])) for s in running if s in stack["apis"])
        if level.upper() == "DEBUG" or any(rate > 20 for rate in rates.values()):
            causes.append(
                {
                    "cause": "日志处理 (log processing)",
                    "evidence": "LOG_LEVEL={} ({}); log lines/s: {}".format(
                        level or "(unset)",
                        where("LOG_LEVEL"),
                        ", ".join("{} {:.1f}".format(*item) for item in sorted(rates.items())),
                    ),
                    "remedy": "降低日志级别: LOG_LEVEL=INFO and restart the APIs (ods-fix perf --lower-log-level)",
                }
            )
    milvus, agent = stack["vector_store"], stack["agent_api"]
    if milvus in busy:
        causes.append(
            {
                "cause": "向量检索 (vector search)",
                "evidence": "{} uses {:.1f}% CPU".format(milvus, stats[milvus]["cpu_percent"]),
                "remedy": "调整 Milvus 索引参数: a lower nprobe/ef at search time, or an IVF/HNSW index instead of FLAT",
            }
        )
    if agent in busy:
        streaming = dict((k, v) for k, v in env.items() if "STREAM" in k.upper())
        causes.append(
            {
                "cause": "LLM 调用 (LLM calls)",
                "evidence": "{} uses {:.1f}% CPU; streaming setting in its settings: {}".format(
                    agent,
                    stats[agent]["cpu_percent"],
                    ", ".join("{}={}".format(*item) for item in sorted(streaming.items())) or "none",
                ),
                "remedy": "启用流式响应 (enable streaming responses)",
            }
        )
    if big:
        pools = dict((k, v) for k, v in env.items() if "POOL" in k.upper() or "CACHE" in k.upper())
        causes.append(
            {
                "cause": "内存 (memory)",
                "evidence": "{} above {:.0f} MB; pool/cache settings in the APIs' settings: {}".format(
                    ", ".join(sorted(big)),
                    params["memory_mb"],
                    ", ".join("{}={}".format(*item) for item in sorted(pools.items())) or "none",
                ),
                "remedy": "调整数据库连接池大小 / 配置适当的缓存大小; 重启服务释放内存 (ods-fix perf --restart-above-mb N)",
            }
        )
    for cause in causes:
        found.append("likely cause, {}: {}".format(cause["cause"], cause["evidence"]))
    return hot, causes, found, db_io


def stack_facts(api, profile, containers, params):
    """What the triage needs of the stack: its roles, the APIs' settings (the data API's first), root's login."""
    roles = profile["roles"]
    env = {}
    for service in reversed(roles["apis"]):
        env.update(dict((k, v) for k, v in settings.current(profile, service, containers.get(service)).items() if v))
    first = roles["apis"][0] if roles["apis"] else None
    database = roles.get("database")
    return {
        "env": env,
        "apis": roles["apis"],
        "database": database,
        "vector_store": roles.get("vector_store"),
        "agent_api": roles.get("agent_api"),
        "root": root_access.for_service(
            api, profile, database, containers.get(database), params["db_root_password_file"]
        )
        if database
        else None,
        "where": lambda key: (discovery.describe_setting(profile, first, key) if first else None) or "not set",
    }


def main():
    argument_spec = dict(
        focus=dict(type="list", elements="str", choices=["cpu", "memory", "io"], default=["cpu", "memory", "io"]),
        cpu_percent=dict(type="float", default=50.0),
        memory_mb=dict(type="float", default=300.0),
        restart_above_mb=dict(type="int", default=0),
        sample_seconds=dict(type="int", default=3),
        write_mb_s=dict(type="float", default=0.5),
    )
    module = compose.stack_module(argument_spec)
    params = module.params
    api, project = compose.open_project(module)
    profile = project["profile"]
    containers = compose.project_containers(api, profile["project"])
    running = dict((s, c) for s, c in containers.items() if c.status == "running")
    stack = stack_facts(api, profile, containers, params)
    env = stack["env"]
    redactor = credentials.redactor(profile, containers)
    stats = sample_stats(running)
    hot, causes, found, db_io = triage(api, running, stack, params, stats)
    over = sorted(
        s for s, e in stats.items() if params["restart_above_mb"] and e["mem_mb"] > params["restart_above_mb"]
    )
    result = {
        "stats": stats,
        "hot": hot,
        "causes": causes,
        "found": found,
        "mysql_io": db_io,
        "log_level": env.get("LOG_LEVEL", ""),
        "over_memory": over,
    }
    module.exit_json(ansible_facts=compose.profile_facts(module), changed=False, **redactor.redact_obj(result))


if __name__ == "__main__":
    main()
