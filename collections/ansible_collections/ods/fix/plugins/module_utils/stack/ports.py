# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Who holds a host port a service publishes: another container (and its Compose project), or a process.

A service whose port is taken cannot start (`Bind for 127.0.0.1:8080 failed: port is already allocated`, or
`address already in use`), and starting it again changes nothing: the holder must stop, or the compose file's
line must change. The public ODS files publish 8080, 3306, 6379 and 9000, which other stacks on a developer's
machine often hold; some versions publish 5434 and 8180 twice.

A container is found by its port bindings; a process by the host's listening sockets (/proc/net/tcp and tcp6,
whose inode leads to the pid that holds it through /proc/PID/fd), as `ss -ltnp` does.
"""

import os

from ansible_collections.ods.fix.plugins.module_utils.security import forensics

LISTEN = "0A"
ANY = ("", "0.0.0.0", "::")
PORT_ERROR = ("port is already allocated", "address already in use")


def _overlaps(ip, other):
    return ip in ANY or other in ANY or ip == other


def container_holder(containers, port, host_ip, own_id):
    """{kind: container, name, project} of another container that binds this host port, or None."""
    for container in containers:
        if container.id == own_id:
            continue
        bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
        for binds in bindings.values():
            for bind in binds or []:
                if str(bind.get("HostPort") or "") == str(port) and _overlaps(bind.get("HostIp") or "", host_ip or ""):
                    labels = container.labels or {}
                    return {
                        "kind": "container",
                        "name": container.name,
                        "project": labels.get("com.docker.compose.project", ""),
                    }
    return None


def listening_inodes(port, proc="/proc"):
    """The inodes of the host's TCP sockets listening on this port (IPv4 and IPv6)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc, "net", table), encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def process_holder(port, proc="/proc"):
    """{kind: process, pid, name} of the process listening on this host port, or None (also when this user may
    not look into other users' processes: then the port shows as held by "a process")."""
    inodes = listening_inodes(port, proc)
    if not inodes:
        return None
    pids = sorted((p for p in os.listdir(proc) if p.isdigit()), key=int)
    owners = forensics.socket_owners(pids, proc)  # inode -> "pid/name", as the incident capture reads them
    for inode in sorted(inodes):
        if inode in owners:
            pid, _slash, name = owners[inode].partition("/")
            return {"kind": "process", "pid": int(pid), "name": name}
    return {"kind": "process", "pid": None, "name": ""}


def holder(containers, port, host_ip, own_id, proc="/proc"):
    """Who holds the host port: another container first (docker-proxy would hide it), then a process."""
    return container_holder(containers, port, host_ip, own_id) or process_holder(port, proc)


def describe_holder(found):
    if found["kind"] == "container":
        project = " (project {})".format(found["project"]) if found["project"] else " (no Compose project)"
        return f"container {found['name']}{project}"
    if found["pid"] is None:
        return "a process this user cannot see"
    return "process {} ({})".format(found["pid"], found["name"] or "?")


def taken(service, container, published, containers, where, proc="/proc"):
    """[{service, port, host_ip, where, holder, summary}] for each port the service publishes that another holds."""
    own_id = container.id if container is not None else None
    error = ((container.attrs.get("State") or {}).get("Error") or "") if container is not None else ""
    found = []
    for entry in published:
        port = entry.get("published")
        if not port:
            continue  # a random host port cannot be taken
        held_by = holder(containers, port, entry.get("host_ip") or "", own_id, proc)
        if held_by is None:
            continue
        address = "{}:{}".format(entry.get("host_ip"), port) if entry.get("host_ip") else str(port)
        by = describe_holder(held_by)
        found.append(
            {
                "service": service,
                "port": port,
                "host_ip": entry.get("host_ip") or "",
                "where": where,
                "holder": held_by,
                "confirmed": any(words in error for words in PORT_ERROR),
                "summary": f"{service} cannot start: host port {address}, which it publishes ({where}), is held by "
                f"{by}: stop that, or change the line",
            }
        )
    return found
