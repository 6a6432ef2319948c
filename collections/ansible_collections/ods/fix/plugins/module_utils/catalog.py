# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The catalog of fixes: the single source of truth for ods-fix.

One entry per fix: its CLI name, role, manual section, options, whether it
changes things and needs --yes, and the diagnose findings it fixes
(``symptoms``, ``code:role`` patterns: the role a service plays in the stack,
see stackprofile.ROLES, never a service's name). The CLI subcommands, ``ods-fix
list``, the README table, the test matrix and diagnose's triage all read it.
Plain data and the standard library only: pyrunner loads this file directly,
and Ansible ships it to targets with the diagnose module.
"""

import fnmatch

READY = "ready"
PLANNED = "planned"

# What each role needs in order to work; diagnose uses it to tell a root
# cause (the database stopped) from its consequences (the APIs answering 500).
DEPENDS_ON = {
    "api": ["database", "cache", "vector_store"],
    "vector_store": ["vector_meta", "vector_object"],
    "web": ["api"],
}

FIXES = [
    {
        "name": "diagnose",
        "section": "诊断流程 (diagnosis)",
        "summary": "Report service status, resources, error logs, reachability and DB connectivity; name the fix.",
        "changes": False,
        "needs_yes": False,
        "status": READY,
        "issue": 2,
        "symptoms": [],
        "manual_remedy": "docker-compose ps; docker stats; docker-compose logs --tail=100 | grep -i error",
        "options": [
            {
                "flag": "log-lines",
                "var": "diagnose_log_lines",
                "type": "int",
                "minimum": 1,
                "default": 100,
                "help": "Lines of each service's log to scan for errors (the manual's --tail=100).",
            },
        ],
    },
    {
        "name": "mysql-connect",
        "section": "数据库连接失败 (database connection failure)",
        "summary": "Start MySQL, reconnect it to the compose network, diagnose Access denied.",
        "changes": True,
        "needs_yes": False,
        "status": READY,
        "issue": 4,
        "symptoms": ["stopped:database", "missing:database", "unhealthy:database", "unreachable:database", "db_auth:*"],
        "manual_remedy": "docker-compose start mysql (or restart mysql)",
        "options": [
            {
                "flag": "reset-db-password",
                "var": "mysql_connect_reset_db_password",
                "type": "bool",
                "default": False,
                "help": "On Access denied, set the server's password for the app user to the one in the APIs' "
                "settings.",
            },
        ],
    },
    {
        "name": "api-slow",
        "section": "API 响应缓慢 (slow API)",
        "summary": "List slow queries (kill only with --kill-after), start Redis, check health latency.",
        "changes": True,
        "needs_yes": False,
        "status": READY,
        "issue": 4,
        "symptoms": ["stopped:cache", "missing:cache", "unhealthy:cache", "unreachable:cache", "slow_query:*"],
        "manual_remedy": "docker-compose start redis; KILL the slow query from SHOW PROCESSLIST",
        "options": [
            {
                "flag": "kill-after",
                "var": "api_slow_kill_after",
                "type": "int",
                "minimum": 0,
                "default": 0,
                "help": "Kill queries busy at least this many seconds AND read-only (SELECT/SHOW...); 0 kills nothing.",
            },
            {
                "flag": "slow-after",
                "var": "api_slow_slow_after",
                "type": "int",
                "minimum": 0,
                "default": 10,
                "help": "Report queries busy at least this many seconds as slow.",
            },
            {
                "flag": "latency-threshold-ms",
                "var": "api_slow_threshold_ms",
                "type": "int",
                "minimum": 1,
                "default": 1000,
                "help": "The APIs' /api/v1/health must answer within this many milliseconds.",
            },
        ],
    },
    {
        "name": "milvus-restart",
        "section": "Milvus 连接失败 (Milvus connection failure)",
        "summary": "Bring Milvus's etcd and MinIO up first, then restart Milvus only if it is unhealthy.",
        "changes": True,
        "needs_yes": False,
        "status": READY,
        "issue": 5,
        "symptoms": [
            "*:vector_meta",
            "*:vector_object",
            "stopped:vector_store",
            "missing:vector_store",
            "unhealthy:vector_store",
            "unreachable:vector_store",
            "milvus_config:*",
        ],
        "manual_remedy": "docker-compose restart milvus-standalone",
        "options": [
            {
                "flag": "fix-config",
                "var": "milvus_restart_fix_config",
                "type": "bool",
                "default": False,
                "help": "When the agent API's MILVUS_HOST/MILVUS_PORT do not name the Milvus service, set them where "
                "they are written (backup kept) and restart or recreate the APIs; without it the mismatch is "
                "reported (exit 5).",
            },
            {
                "flag": "edit-compose",
                "var": "milvus_restart_edit_compose",
                "type": "bool",
                "default": False,
                "help": "With --fix-config, also edit a value written literally in a compose file (checked with "
                "`docker compose config`, backup kept); without it its file and line are reported.",
            },
        ],
    },
    {
        "name": "mysql-disk",
        "section": "数据库磁盘空间不足 (ERROR 1114, disk full)",
        "summary": "Report disk and schema sizes; purge old binlogs or archive old rows, by policy.",
        "changes": True,
        "needs_yes": False,
        "status": READY,
        "issue": 4,
        "symptoms": ["disk_full:*"],
        "manual_remedy": "清理旧数据 / 扩容磁盘 (clean old data or grow the disk)",
        "options": [
            {
                "flag": "purge-binlogs-days",
                "var": "mysql_disk_purge_binlogs_days",
                "type": "int",
                "minimum": -1,
                "default": -1,
                "help": "Purge binary logs older than N days (0: all but the current one); -1 purges none.",
            },
            {
                "flag": "archive",
                "var": "mysql_disk_archive",
                "type": "list",
                "default": [],
                "help": "SCHEMA.TABLE:DATE_COLUMN:DAYS: archive rows older than DAYS to a verified gzip file on "
                "the target, then delete them. Repeatable.",
            },
            {
                "flag": "archive-dir",
                "var": "mysql_disk_archive_dir",
                "type": "str",
                "default": None,
                "help": "Where the archives go on the target [default: ods_state_dir/archive, outside the project].",
            },
        ],
    },
    {
        "name": "api-500",
        "section": "API 返回 500 错误 (API returns 500)",
        "summary": "Fix what makes an API answer 500: its database, its container, its settings.",
        "changes": True,
        "needs_yes": False,
        "status": READY,
        "issue": 4,
        "symptoms": [
            "stopped:api",
            "missing:api",
            "unhealthy:api",
            "restarting:api",
            "api_error:*",
            "db_unreachable:*",
            "config_missing:*",
        ],
        "manual_remedy": "docker-compose restart alldata-api",
        "options": [
            {
                "flag": "services",
                "var": "api_500_services",
                "type": "list",
                "default": None,
                "help": "Only these API services (repeatable) [default: every API of the stack].",
            },
        ],
    },
    {
        "name": "web-recover",
        "section": "页面加载失败 (page fails to load)",
        "summary": "Check nginx -t and the built front end; restore the last good config or rebuild web.",
        "changes": True,
        "needs_yes": False,
        "status": READY,
        "issue": 5,
        "symptoms": ["*:web"],
        "manual_remedy": "docker-compose build web && docker-compose restart web",
        "options": [],
    },
    {
        "name": "cors",
        "section": "API 跨域错误 (CORS error)",
        "summary": "Send the manual's preflight; allow the origin where the API reads it, or check the same-origin "
        "proxy.",
        "changes": True,
        "needs_yes": False,
        "status": READY,
        "issue": 5,
        "symptoms": ["cors:*"],
        "manual_remedy": "add the origin to CORS_ALLOWED_ORIGINS in deploy/.env; docker-compose restart alldata-api",
        "options": [
            {
                "flag": "origin",
                "var": "cors_origins",
                "type": "list",
                "default": ["http://localhost:3000"],
                "help": "A front-end origin that must be allowed (repeatable) [default: http://localhost:3000].",
            },
            {
                "flag": "services",
                "var": "cors_services",
                "type": "list",
                "default": None,
                "help": "The APIs that must answer the preflight (repeatable) [default: the data API].",
            },
            {
                "flag": "add-route",
                "var": "cors_add_route",
                "type": "bool",
                "default": False,
                "help": "When web's same-origin /api route is broken and no known-good config was kept, add a "
                "location /api/ proxying to the data API (backup, nginx -t in a throwaway container, reload, "
                "verified).",
            },
            {
                "flag": "edit-compose",
                "var": "cors_edit_compose",
                "type": "bool",
                "default": False,
                "help": "Also edit an allowed-origins value written literally in a compose file; otherwise its file "
                "and line are reported.",
            },
        ],
    },
    {
        "name": "perf",
        "section": "性能问题 (high CPU / memory / disk I/O)",
        "summary": "Name the container and process using CPU, memory or I/O, with the manual's likely causes.",
        "changes": True,
        "needs_yes": False,
        "status": READY,
        "issue": 4,
        "symptoms": ["high_cpu:*", "high_memory:*"],
        "manual_remedy": "lower LOG_LEVEL; docker-compose restart the container",
        "options": [
            {
                "flag": "focus",
                "var": "perf_focus",
                "type": "list",
                "choices": ["cpu", "memory", "io"],
                "default": ["cpu", "memory", "io"],
                "help": "What to look at: cpu, memory, io (repeatable).",
            },
            {
                "flag": "lower-log-level",
                "var": "perf_lower_log_level",
                "type": "bool",
                "default": False,
                "help": "When LOG_LEVEL is DEBUG, set it to INFO where it is written (backed up) and restart or "
                "recreate the APIs.",
            },
            {
                "flag": "edit-compose",
                "var": "perf_edit_compose",
                "type": "bool",
                "default": False,
                "help": "With --lower-log-level, also edit a LOG_LEVEL written literally in a compose file; "
                "otherwise its file and line are reported.",
            },
            {
                "flag": "restart-above-mb",
                "var": "perf_restart_above_mb",
                "type": "int",
                "minimum": 0,
                "default": 0,
                "help": "Restart containers using more than this many MB; 0 restarts none.",
            },
            {
                "flag": "cpu-percent",
                "var": "perf_cpu_percent",
                "type": "float",
                "minimum": 1,
                "default": 50,
                "help": "A container is busy from this CPU percentage (of one core) on.",
            },
            {
                "flag": "memory-mb",
                "var": "perf_memory_mb",
                "type": "float",
                "minimum": 1,
                "default": 300,
                "help": "A container is big from this many MB on.",
            },
        ],
    },
    {
        "name": "mysql-backup",
        "section": "数据恢复 (MySQL backup)",
        "summary": "A consistent, compressed dump with a manifest, fetched to the controller.",
        "changes": False,
        "needs_yes": False,
        "status": READY,
        "issue": 3,
        "symptoms": [],
        "manual_remedy": "mysqldump --single-transaction",
        "options": [
            {
                "flag": "database",
                "var": "mysql_backup_database",
                "type": "str",
                "default": None,
                "help": "The database to back up [default: the one the APIs use; each of them when they use several].",
            },
            {
                "flag": "output",
                "var": "mysql_backup_output",
                "type": "path",
                "default": None,
                "help": "Controller directory for the backup and its manifest, one subdirectory per host "
                "[default: ./backups].",
            },
        ],
    },
    {
        "name": "mysql-restore",
        "section": "MySQL 数据恢复 (MySQL restore)",
        "summary": "Validate a dump, restore it atomically, keep what it replaced, verify.",
        "changes": True,
        "needs_yes": True,
        "status": READY,
        "issue": 3,
        "symptoms": [],
        "manual_remedy": "docker-compose exec -T mysql mysql -u root -p < backup.sql",
        "options": [
            {
                "flag": "backup",
                "var": "mysql_restore_backup",
                "type": "path",
                "default": None,
                "help": "The dump on this machine (.sql or .sql.gz); it is checked here, copied, and checked again.",
            },
            {
                "flag": "remote-backup",
                "var": "mysql_restore_remote_backup",
                "type": "str",
                "default": None,
                "help": "A dump already on the target machine.",
            },
            {
                "flag": "database",
                "var": "mysql_restore_database",
                "type": "str",
                "default": None,
                "help": "The database to restore into [default: the dump's own, if it is one of the stack's].",
            },
            {
                "flag": "allow-incomplete",
                "var": "mysql_restore_allow_incomplete",
                "type": "bool",
                "default": False,
                "help": "Restore a dump that lacks the '-- Dump completed' trailer.",
            },
            {
                "flag": "rollback",
                "var": "mysql_restore_rollback",
                "type": "bool",
                "default": False,
                "help": "Put back the data the last restore replaced.",
            },
            {
                "flag": "keep",
                "var": "mysql_restore_keep",
                "type": "int",
                "minimum": 1,
                "default": 3,
                "help": "How many replaced copies to keep.",
            },
            {
                "flag": "workers",
                "var": "mysql_restore_workers",
                "type": "int",
                "minimum": 1,
                "default": 2,
                "help": "Parallel load sessions.",
            },
        ],
    },
    {
        "name": "milvus-backup",
        "section": "向量数据恢复 (vector data backup)",
        "summary": "Export collections: schema, rows, manifest with counts and checksums.",
        "changes": False,
        "needs_yes": False,
        "status": READY,
        "issue": 5,
        "symptoms": [],
        "manual_remedy": "",
        "options": [
            {
                "flag": "collection",
                "var": "milvus_backup_collections",
                "type": "list",
                "default": [],
                "help": "A collection to export (repeatable) [default: every collection].",
            },
            {
                "flag": "output",
                "var": "milvus_backup_output",
                "type": "path",
                "default": None,
                "help": "Controller directory for the backup, one subdirectory per host [default: ./backups].",
            },
        ],
    },
    {
        "name": "milvus-restore",
        "section": "向量数据恢复 (vector data restore)",
        "summary": "Recreate collections and indexes from a backup, in batches, verified.",
        "changes": True,
        "needs_yes": True,
        "status": READY,
        "issue": 5,
        "symptoms": [],
        "manual_remedy": "vs.insert('collection_name', texts, embeddings, metadata_list)",
        "options": [
            {
                "flag": "backup",
                "var": "milvus_restore_backup",
                "type": "path",
                "default": None,
                "help": "The backup on this machine (made by milvus-backup); checked here, copied, checked again.",
            },
            {
                "flag": "collection",
                "var": "milvus_restore_collections",
                "type": "list",
                "default": [],
                "help": "A collection to restore (repeatable) [default: every collection in the backup].",
            },
            {
                "flag": "replace",
                "var": "milvus_restore_replace",
                "type": "bool",
                "default": False,
                "help": "Replace a collection whose content or dimension differs; the old one is kept under a dated "
                "name.",
            },
            {
                "flag": "rollback",
                "var": "milvus_restore_rollback",
                "type": "bool",
                "default": False,
                "help": "Swap each collection with the copy the last restore kept.",
            },
            {
                "flag": "confirm",
                "var": "milvus_restore_confirm",
                "type": "bool",
                "default": False,
                "help": "Drop the copies earlier restores kept (the restore is confirmed).",
            },
            {
                "flag": "workers",
                "var": "milvus_restore_workers",
                "type": "int",
                "minimum": 1,
                "default": 2,
                "help": "Insert threads.",
            },
        ],
    },
    {
        "name": "rotate-keys",
        "section": "密钥轮换 (key rotation)",
        "summary": "Rotate secrets where the stack keeps them (and the DB password), verify, roll back on failure.",
        "changes": True,
        "needs_yes": True,
        "status": READY,
        "issue": 6,
        "symptoms": [],
        "manual_remedy": "NEW_KEY=$(openssl rand -hex 32); edit deploy/.env; "
        "docker-compose restart alldata-api bisheng-api",
        "options": [
            {
                "flag": "key",
                "var": "rotate_keys_keys",
                "type": "list",
                "default": [],
                "help": "A secret setting to rotate (repeatable) [default: every generated key and database "
                "password of the secrets catalog; provider keys such as OPENAI_API_KEY only when named].",
            },
            {
                "flag": "value-from-file",
                "var": "rotate_keys_value_files",
                "type": "path",
                "secret_source": "file",
                "default": None,
                "help": "The new value of the one --key named, read from this file (one trailing newline dropped). "
                "For provider-issued keys, which cannot be generated.",
            },
            {
                "flag": "value-from-env",
                "var": "rotate_keys_value_files",
                "type": "str",
                "secret_source": "env",
                "default": None,
                "help": "The new value of the one --key named, read from this environment variable (give its name).",
            },
            {
                "flag": "rollback",
                "var": "rotate_keys_rollback",
                "type": "bool",
                "default": False,
                "help": "Put back what the last rotation replaced (settings and DB passwords), from its "
                "backup, and restart what reads them.",
            },
        ],
    },
    {
        "name": "incident",
        "section": "疑似入侵 (suspected intrusion)",
        "summary": "Capture volatile state and logs into a verified evidence bundle, then isolate.",
        "changes": True,
        "needs_yes": True,
        "status": READY,
        "issue": 6,
        "symptoms": [],
        "manual_remedy": "docker-compose stop; docker-compose logs > incident.log",
        "subcommands": ["verify"],
        "options": [
            {
                "flag": "isolate",
                "var": "incident_isolate",
                "type": "str",
                "choices": ["stop", "disconnect", "none"],
                "default": "stop",
                "help": "Once the state is captured: stop the stack (the manual's), disconnect every container from "
                "its networks (processes kept for forensics), or none.",
            },
            {
                "flag": "bundle",
                "var": "incident_bundle",
                "type": "path",
                "default": None,
                "help": "The evidence bundle on this machine; {host} and {time} are filled in; never overwritten "
                "[default: ./evidence/{host}/incident-{time}.tar.gz].",
            },
        ],
    },
    {
        "name": "data-leak",
        "section": "数据泄露 (data leak)",
        "summary": "Pause services, rotate keys, audit access logs, fill the notification checklist.",
        "changes": True,
        "needs_yes": True,
        "status": READY,
        "issue": 6,
        "symptoms": [],
        "manual_remedy": "暂停受影响服务; 更改所有密钥密码; 审计访问日志; 通知相关方",
        "options": [
            {
                "flag": "services",
                "var": "data_leak_services",
                "type": "list",
                "default": None,
                "help": "A service to pause (repeatable) [default: the APIs].",
            },
            {
                "flag": "window-hours",
                "var": "data_leak_window_hours",
                "type": "int",
                "minimum": 1,
                "default": 24,
                "help": "How far back the access-log audit looks.",
            },
            {
                "flag": "resume",
                "var": "data_leak_resume",
                "type": "bool",
                "default": False,
                "help": "Leave the paused services running once their keys are rotated (default: paused again).",
            },
            {
                "flag": "bundle",
                "var": "data_leak_bundle",
                "type": "path",
                "default": None,
                "help": "The evidence bundle on this machine; {host} and {time} are filled in; never overwritten "
                "[default: ./evidence/{host}/data-leak-{time}.tar.gz]. The checklist is written beside it.",
            },
        ],
    },
]


def by_name(name):
    for fix in FIXES:
        if fix["name"] == name:
            return fix
    return None


def fix_for(code, role):
    """The catalog entry that fixes a finding ``code`` on a service playing ``role`` (first match), or None."""
    key = f"{code}:{role}"
    for fix in FIXES:
        for pattern in fix["symptoms"]:
            if fnmatch.fnmatchcase(key, pattern):
                return fix
    return None
