"""The two ways the sandbox lays out an ODS stack: as the manual names it, and as real ODS checkouts do.

`manual`: the manual's service names, one docker-compose.yml at the top, settings in deploy/.env that the
APIs read at start, root over MySQL's socket. `local`: laid out like the public repository's
deploy/local (real-stacks.md): other service names, `container_name: one-data-*`, a base file and an
overlay with a profile, settings inline or interpolated from deploy/local/.env (fixed when a container is
created), root needing its password, Redis with --requirepass, slim API images without curl or ps that
answer 503 when the database is down, nginx laid out as nginx:alpine. ods-fix is told neither: it must
find all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# What each published port is, in the order every layout lists its ports.
PORT_ROLES = ("database", "cache", "vector_store", "vector_health", "data_api", "agent_api", "web")


@dataclass(frozen=True)
class Layout:
    name: str
    services: tuple[str, ...]  # in start order
    roles: dict[str, str]  # ods-fix's role -> this layout's service (what faults and `--services` accept)
    needs: dict[str, tuple[str, ...]]  # a service cannot start (or be healthy) without these
    compose_files: tuple[tuple[str, str], ...]  # (source in sandbox/, destination in the instance)
    settings_file: str  # the file the sandbox generates its secrets into, relative to the instance
    # The settings file's (or project .env's) port variable -> the default host port, in PORT_ROLES order.
    ports: dict[str, int]
    profiles: dict[str, str] = field(default_factory=dict)  # service -> the profile it is under
    # Services whose Docker health says nothing (no healthcheck, or one testing a tool the image lacks):
    # ready when this URL on the published port answers below 500. service -> (port variable, path).
    probe: dict[str, tuple[str, str]] = field(default_factory=dict)
    web_root: str = "/app/dist"
    web_config: str = "/etc/nginx/nginx.conf"
    app_user: str = "ods"
    databases: tuple[str, ...] = ("one_data_alldata", "one_data_bisheng")
    root_password_only: bool = False
    # The data API's signing key: (its setting in the container, the name it is written under in the settings file).
    signing_key: tuple[str, str] = ("ALLDATA_SECRET_KEY", "ALLDATA_SECRET_KEY")
    # The app secrets rotate-keys generates (names in the settings file).
    generated_keys: tuple[str, ...] = ("ALLDATA_SECRET_KEY", "BISHENG_JWT_SECRET")

    @property
    def compose_dir(self) -> str:
        """Where the compose files are, relative to the instance (the project's working directory)."""
        return self.compose_files[0][1].rpartition("/")[0] or "."

    def role_port_names(self) -> dict[str, str]:
        """role -> the variable its host port is set by."""
        return dict(zip(PORT_ROLES, self.ports, strict=True))

    def service(self, name: str) -> str:
        """A service of this layout, from its own name or from a role (database, data_api, ...)."""
        return self.roles.get(name, name)


MANUAL = Layout(
    name="manual",
    services=(
        "mysql",
        "redis",
        "milvus-etcd",
        "milvus-minio",
        "milvus-standalone",
        "alldata-api",
        "bisheng-api",
        "web",
    ),
    roles={
        "database": "mysql",
        "cache": "redis",
        "vector_meta": "milvus-etcd",
        "vector_object": "milvus-minio",
        "vector_store": "milvus-standalone",
        "data_api": "alldata-api",
        "agent_api": "bisheng-api",
        "web": "web",
    },
    needs={"milvus-standalone": ("milvus-etcd", "milvus-minio")},
    compose_files=(("docker-compose.yml", "docker-compose.yml"),),
    settings_file="deploy/.env",
    ports={
        "ODS_PORT_MYSQL": 3306,
        "ODS_PORT_REDIS": 6379,
        "ODS_PORT_MILVUS": 19530,
        "ODS_PORT_MILVUS_HEALTH": 9091,
        "ODS_PORT_ALLDATA_API": 8080,
        "ODS_PORT_BISHENG_API": 8081,
        "ODS_PORT_WEB": 3000,
    },
)

LOCAL = Layout(
    name="local",
    services=("mysql", "redis", "etcd", "minio", "milvus", "data-api", "agent-api", "web-frontend"),
    roles={
        "database": "mysql",
        "cache": "redis",
        "vector_meta": "etcd",
        "vector_object": "minio",
        "vector_store": "milvus",
        "data_api": "data-api",
        "agent_api": "agent-api",
        "web": "web-frontend",
    },
    # nginx resolves its upstreams by host name when it starts: without data-api it does not start at all;
    # and data-api answers 503 until it reaches its database.
    needs={"milvus": ("etcd", "minio"), "web-frontend": ("data-api",), "data-api": ("mysql",)},
    compose_files=(
        ("local/docker-compose.yml", "deploy/local/docker-compose.yml"),
        ("local/docker-compose.llmops.yml", "deploy/local/docker-compose.llmops.yml"),
    ),
    settings_file="deploy/local/.env",
    ports={
        "MYSQL_HOST_PORT": 13306,
        "REDIS_HOST_PORT": 16379,
        "MILVUS_HOST_PORT": 29530,
        "MILVUS_HEALTH_HOST_PORT": 19091,
        "DATA_API_HOST_PORT": 18001,
        "AGENT_API_HOST_PORT": 18000,
        "WEB_HOST_PORT": 13000,
    },
    profiles={"agent-api": "ai"},
    probe={
        "data-api": ("DATA_API_HOST_PORT", "/api/v1/health"),
        "agent-api": ("AGENT_API_HOST_PORT", "/api/v1/health"),
        "web-frontend": ("WEB_HOST_PORT", "/"),
    },
    web_root="/usr/share/nginx/html",
    web_config="/etc/nginx/conf.d/default.conf",
    app_user="onedata",
    databases=("onedata",),
    root_password_only=True,
    signing_key=("SECRET_KEY", "DATA_API_SECRET_KEY"),
    generated_keys=("AGENT_API_JWT_SECRET", "DATA_API_SECRET_KEY"),
)

LAYOUTS = {layout.name: layout for layout in (MANUAL, LOCAL)}
DEFAULT = "manual"


def get(name: str) -> Layout:
    from pyrunner.errors import OdsFixError  # noqa: PLC0415

    if name not in LAYOUTS:
        raise OdsFixError(f"unknown sandbox layout {name!r}: use {' or '.join(LAYOUTS)}")
    return LAYOUTS[name]


def keep_services(text: str, keep: set[str]) -> str:
    """A compose file's text with only these services (their comments too); the rest of the file unchanged.

    A service block is a two-space `name:` line under `services:` and what is indented below it; the
    comment lines just above it belong to it.
    """
    out: list[str] = []
    pending: list[str] = []  # comments (and blank lines) waiting for the block they introduce
    in_services = keeping = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if line[:1] not in (" ", "\n", "#") and stripped:
            in_services, keeping = stripped == "services:", True
            out += [*pending, line]
            pending = []
            continue
        if not in_services:
            out.append(line)
            continue
        header = line.startswith("  ") and not line.startswith("   ") and stripped.endswith(":")
        if header and not stripped.startswith("#"):
            keeping = stripped[:-1] in keep
            out += [*pending, line] if keeping else []
            pending = []
        elif line.startswith("  #") or not stripped:
            pending.append(line)
        elif keeping:
            out += [*pending, line]
            pending = []
    return "".join(out + pending)
