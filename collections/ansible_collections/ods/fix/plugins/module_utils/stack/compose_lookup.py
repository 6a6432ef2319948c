# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""A compose project's containers and which Compose made them: the one lookup and the one version rule.

Compose v1 and v2 both label their containers with the project and the service, so the lookup needs neither
CLI. The standard library only: the modules import it, and the CLI's sandbox loads it from its file.
"""

import shutil
import subprocess

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
VERSION_LABEL = "com.docker.compose.version"
ONEOFF_LABEL = "com.docker.compose.oneoff"


def project_containers(api, name):
    """service -> container for the project's service containers (one-off `run` containers excluded).

    Where a service has several containers (a scaled service, a stopped one beside its replacement), a
    running one is kept.
    """
    found = {}
    label = f"{PROJECT_LABEL}={name}"
    for container in api.containers.list(all=True, filters={"label": label}, ignore_removed=True):
        labels = container.labels or {}
        if labels.get(ONEOFF_LABEL, "False") == "True":
            continue
        service = labels.get(SERVICE_LABEL)
        if service and (service not in found or container.status == "running"):
            found[service] = container
    return found


def flavor(version):
    """'v1' for a Compose 1.x version, 'v2' for any later one, None for none."""
    if not version:
        return None
    return "v1" if version.lstrip("v").startswith("1.") else "v2"


def project_flavor(containers):
    """'v1' or 'v2' from the containers' labels; None for an empty project."""
    for container in containers.values():
        found = flavor((container.labels or {}).get(VERSION_LABEL, ""))
        if found:
            return found
    return None


CANDIDATES = (("docker", "compose"), ("docker-compose",))


def cli_version(argv):
    """The version a Compose CLI says it is, or "" when it is not installed or does not answer."""
    if shutil.which(argv[0]) is None:
        return ""
    try:
        out = subprocess.run([*argv, "version", "--short"], check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip().lstrip("v") if out.returncode == 0 else ""


def installed_clis():
    """The Compose CLIs on this machine, {flavor: (argv, version)}: the v2 plugin first, then docker-compose
    (which is v2 too on some machines)."""
    found = {}
    for argv in CANDIDATES:
        version = cli_version(argv)
        if version:
            found.setdefault(flavor(version), (list(argv), version))
    return found


def cli_for(wanted):
    """The argv of an installed Compose CLI of this flavor, or None; asks no other (Compose v1 takes a second)."""
    for argv in CANDIDATES if wanted == "v2" else reversed(CANDIDATES):
        if flavor(cli_version(argv)) == wanted:
            return list(argv)
    return None
