"""Settings of the sandbox APIs, read from deploy/.env like the real services.

The file is read once at start-up: a changed .env takes effect on restart,
which is what the manual's `docker-compose restart alldata-api` relies on.
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
SERVICE = os.environ.get("ODS_SERVICE", "alldata-api")

COMMON = [
    "MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PASSWORD",
    "REDIS_HOST", "REDIS_PORT", "MILVUS_HOST", "MILVUS_PORT",
]
# Signing keys shorter than this are refused at start-up, as HS256 JWT libraries refuse them (PyJWT 2.10+).
MIN_SECRET_LENGTH = {"ALLDATA_SECRET_KEY": 32, "BISHENG_JWT_SECRET": 32}
REQUIRED = {
    "alldata-api": COMMON + ["ALLDATA_DB_NAME", "ALLDATA_SECRET_KEY"],
    "bisheng-api": COMMON + ["BISHENG_DB_NAME", "BISHENG_JWT_SECRET", "OPENAI_API_KEY"],
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
        return self.get("ALLDATA_DB_NAME" if self.service == "alldata-api" else "BISHENG_DB_NAME")

    @property
    def db_url(self) -> str:
        return "mysql+pymysql://{}:{}@{}:{}/{}?charset=utf8mb4".format(
            quote_plus(self.get("MYSQL_USER")), quote_plus(self.get("MYSQL_PASSWORD")),
            self.get("MYSQL_HOST"), self.get("MYSQL_PORT"), self.db_name,
        )

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.get("CORS_ALLOWED_ORIGINS").split(",") if o.strip()]

    @property
    def log_level(self) -> str:
        return self.get("LOG_LEVEL", "INFO").upper()


def load(service: str = SERVICE) -> Settings:
    log = logging.getLogger(service)
    if not ENV_FILE.is_file():
        log.error("config: %s not found; cannot start", ENV_FILE)
        sys.exit(1)
    values = parse_env_file(ENV_FILE)
    missing = [key for key in REQUIRED[service] if not values.get(key)]
    if missing:
        for key in missing:
            log.error("config: required setting %s is missing from %s", key, ENV_FILE)
        sys.exit(1)
    short = [key for key in REQUIRED[service] if len(values[key]) < MIN_SECRET_LENGTH.get(key, 0)]
    if short:
        for key in short:
            log.error("config: %s is too short (%d characters, at least %d): refusing to sign with it",
                      key, len(values[key]), MIN_SECRET_LENGTH[key])
        sys.exit(1)
    return Settings(service, values)


settings = load()
