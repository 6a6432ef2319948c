# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The catalog of fixes: the single source of truth for ods-fix.

One entry per fix: its CLI name (the role, playbook and scenario are the same
name with underscores), manual section, options, whether it changes things and
needs --yes, the fixes it must run after (``after``: doctor's order), and the
diagnose findings it fixes
(``symptoms``, ``code:role`` patterns: the role a service plays in the stack,
see discovery.ROLES, never a service's name). The CLI subcommands, ``ods-fix
list``, the README table, the test matrix and diagnose's triage all read it.
Plain data and the standard library only: pyrunner loads this file directly.
It stays on the controller (plugin_utils): the diagnose module gets only the
symptom map, from the stack_diagnose action (symptom_map()).
"""

READY = "ready"
PLANNED = "planned"

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
                "minimum": 1,
            },
        ],
    },
    {
        "name": "mysql-connect",
        "after": ["mysql-disk"],
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
            },
        ],
    },
    {
        "name": "api-slow",
        "after": ["mysql-connect"],
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
                "minimum": 0,
            },
            {
                "flag": "slow-after",
                "var": "api_slow_slow_after",
                "minimum": 0,
            },
            {
                "flag": "latency-threshold-ms",
                "var": "api_slow_threshold_ms",
                "minimum": 1,
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
            },
            {
                "flag": "edit-compose",
                "var": "milvus_restart_edit_compose",
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
                "minimum": -1,
            },
            {
                "flag": "archive",
                "var": "mysql_disk_archive",
            },
            {
                "flag": "archive-dir",
                "var": "mysql_disk_archive_dir",
            },
        ],
    },
    {
        "name": "api-500",
        "after": ["mysql-connect", "api-slow", "milvus-restart"],
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
            },
        ],
    },
    {
        "name": "web-recover",
        "after": ["api-500", "cors"],
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
        "after": ["api-500"],
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
            },
            {
                "flag": "services",
                "var": "cors_services",
            },
            {
                "flag": "add-route",
                "var": "cors_add_route",
            },
            {
                "flag": "edit-compose",
                "var": "cors_edit_compose",
            },
        ],
    },
    {
        "name": "perf",
        "after": ["api-500"],
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
            },
            {
                "flag": "lower-log-level",
                "var": "perf_lower_log_level",
            },
            {
                "flag": "edit-compose",
                "var": "perf_edit_compose",
            },
            {
                "flag": "restart-above-mb",
                "var": "perf_restart_above_mb",
                "minimum": 0,
            },
            {
                "flag": "cpu-percent",
                "var": "perf_cpu_percent",
                "minimum": 1,
            },
            {
                "flag": "memory-mb",
                "var": "perf_memory_mb",
                "minimum": 1,
            },
            {
                "flag": "write-mb-s",
                "var": "perf_write_mb_s",
                "minimum": 0,
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
            },
            {
                "flag": "output",
                "var": "mysql_backup_output",
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
            },
            {
                "flag": "remote-backup",
                "var": "mysql_restore_remote_backup",
            },
            {
                "flag": "database",
                "var": "mysql_restore_database",
            },
            {
                "flag": "allow-incomplete",
                "var": "mysql_restore_allow_incomplete",
            },
            {
                "flag": "rollback",
                "var": "mysql_restore_rollback",
            },
            {
                "flag": "keep",
                "var": "mysql_restore_keep",
                "minimum": 1,
            },
            {
                "flag": "workers",
                "var": "mysql_restore_workers",
                "minimum": 1,
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
            },
            {
                "flag": "output",
                "var": "milvus_backup_output",
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
            },
            {
                "flag": "collection",
                "var": "milvus_restore_collections",
            },
            {
                "flag": "replace",
                "var": "milvus_restore_replace",
            },
            {
                "flag": "rollback",
                "var": "milvus_restore_rollback",
            },
            {
                "flag": "confirm",
                "var": "milvus_restore_confirm",
            },
            {
                "flag": "workers",
                "var": "milvus_restore_workers",
                "minimum": 1,
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
            },
            {
                "flag": "bundle",
                "var": "incident_bundle",
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
            },
            {
                "flag": "window-hours",
                "var": "data_leak_window_hours",
                "minimum": 1,
            },
            {
                "flag": "resume",
                "var": "data_leak_resume",
            },
            {
                "flag": "bundle",
                "var": "data_leak_bundle",
            },
        ],
    },
]


def by_name(name):
    for fix in FIXES:
        if fix["name"] == name:
            return fix
    return None


def symptom_map():
    """What diagnose's triage needs of each fix: its name, the findings it fixes, its status and manual remedy."""
    keys = ("name", "symptoms", "status", "section", "manual_remedy")
    return [dict((key, fix[key]) for key in keys) for fix in FIXES if fix["symptoms"]]
