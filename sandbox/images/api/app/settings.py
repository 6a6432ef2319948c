"""Settings of the sandbox APIs, from one of two places, as real ODS services have had them.

ODS_SETTINGS=file (the manual's layout): deploy/.env, read once at start-up, so a changed file takes
effect on restart, which is what the manual's `docker-compose restart alldata-api` relies on.
ODS_SETTINGS=environment (the second layout): only the container's environment, fixed when the
container is created: editing a file and restarting changes nothing; the container must be recreated.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stdout)

ENV_FILE = Path(os.environ.get("ODS_ENV_FILE", "/app/deploy/.env"))
SOURCE = os.environ.get("ODS_SETTINGS", "file")
SERVICE = os.environ.get("ODS_SERVICE") or os.environ.get("APP_NAME") or "alldata-api"

COMMON = [
    "MYSQL_HOST",
    "MYSQL_PORT",
    "MYSQL_USER",
    "MYSQL_PASSWORD",
    "REDIS_HOST",
    "REDIS_PORT",
    "MILVUS_HOST",
    "MILVUS_PORT",
]
# Signing keys shorter than this are refused at start-up, as HS256 JWT libraries refuse them (PyJWT 2.10+).
MIN_SECRET_LENGTH = {"ALLDATA_SECRET_KEY": 32, "BISHENG_JWT_SECRET": 32}
MIN_SECRET_LENGTH.update({"SECRET_KEY": 32, "JWT_SECRET_KEY": 32})
REQUIRED = {
    "alldata-api": COMMON + ["ALLDATA_DB_NAME", "ALLDATA_SECRET_KEY"],
    "bisheng-api": COMMON + ["BISHENG_DB_NAME", "BISHENG_JWT_SECRET", "OPENAI_API_KEY"],
    "data-api": [
        "MYSQL_HOST",
        "MYSQL_PORT",
        "MYSQL_USER",
        "MYSQL_PASSWORD",
        "MYSQL_DATABASE",
        "REDIS_URL",
        "SECRET_KEY",
    ],
    "agent-api": ["DATABASE_URL", "REDIS_URL", "MILVUS_HOST", "MILVUS_PORT", "JWT_SECRET_KEY"],
}


def parse_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


@dataclass(frozen=True)
class Settings:
    service: str
    values: dict[str, str]

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    @property
    def db_name(self) -> str:
        if SOURCE == "environment":
            return self.get("MYSQL_DATABASE")
        return self.get("ALLDATA_DB_NAME" if self.service == "alldata-api" else "BISHENG_DB_NAME")

    @property
    def db_url(self) -> str:
        if self.get("DATABASE_URL"):
            url = self.get("DATABASE_URL")
            return url + ("&" if "?" in url else "?") + "charset=utf8mb4"
        return "mysql+pymysql://{}:{}@{}:{}/{}?charset=utf8mb4".format(
            quote_plus(self.get("MYSQL_USER")),
            quote_plus(self.get("MYSQL_PASSWORD")),
            self.get("MYSQL_HOST"),
            self.get("MYSQL_PORT"),
            self.db_name,
        )

    @property
    def redis_url(self) -> str:
        if self.get("REDIS_URL"):
            return self.get("REDIS_URL")
        return "redis://{}:{}/0".format(self.get("REDIS_HOST"), self.get("REDIS_PORT", "6379"))

    @property
    def cors_origins(self) -> list[str]:
        """The origins allowed to call the API; the second layout's APIs read no such setting."""
        return [o.strip() for o in self.get("CORS_ALLOWED_ORIGINS").split(",") if o.strip()]

    @property
    def port(self) -> int:
        return int(self.get("PORT") or 8080)

    @property
    def log_level(self) -> str:
        return self.get("LOG_LEVEL", "INFO").upper()


def load(service: str = SERVICE) -> Settings:
    log = logging.getLogger(service)
    if SOURCE == "environment":
        values, where = dict(os.environ), "the environment"
    elif not ENV_FILE.is_file():
        log.error("config: %s not found; cannot start", ENV_FILE)
        sys.exit(1)
    else:
        values, where = parse_env_file(ENV_FILE), str(ENV_FILE)
    missing = [key for key in REQUIRED[service] if not values.get(key)]
    if missing:
        for key in missing:
            log.error("config: required setting %s is missing from %s", key, where)
        sys.exit(1)
    short = [key for key in REQUIRED[service] if len(values[key]) < MIN_SECRET_LENGTH.get(key, 0)]
    if short:
        for key in short:
            log.error(
                "config: %s is too short (%d characters, at least %d): refusing to sign with it",
                key,
                len(values[key]),
                MIN_SECRET_LENGTH[key],
            )
        sys.exit(1)
    return Settings(service, values)


settings = load()
