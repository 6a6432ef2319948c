"""ods-fix: the ONE-DATA-STUDIO troubleshooting manual as idempotent Ansible roles."""

__version__ = "0.1.0"
