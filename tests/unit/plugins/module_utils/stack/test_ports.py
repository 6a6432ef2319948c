"""Who holds a host port a stopped service publishes (module_utils/stack/ports.py): another container, or a
process found through a /proc tree as `ss -ltnp` reads it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ansible_collections.ods.fix.plugins.module_utils.stack import ports

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def fake_proc(tmp_path: Path, port: int, inode: str = "12345", pid: int = 4242, name: str = "python3") -> Path:
    (tmp_path / "net").mkdir()
    listen = (
        f"   0: 0100007F:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 {inode}\n"
    )
    other = "   1: 0100007F:0CEA 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 999\n"
    (tmp_path / "net" / "tcp").write_text(HEADER + other + listen)
    (tmp_path / "net" / "tcp6").write_text(HEADER)
    fd = tmp_path / str(pid) / "fd"
    fd.mkdir(parents=True)
    os.symlink(f"socket:[{inode}]", fd / "3")
    os.symlink("/dev/null", fd / "0")
    (tmp_path / str(pid) / "comm").write_text(name + "\n")
    return tmp_path


class FakeContainer:
    def __init__(
        self, name: str, bindings: dict[str, list[dict[str, str]]], project: str = "", error: str = ""
    ) -> None:
        self.id = name
        self.name = name
        self.status = "running"
        self.labels = {"com.docker.compose.project": project} if project else {}
        self.attrs: dict[str, Any] = {"HostConfig": {"PortBindings": bindings}, "State": {"Error": error}}


def test_a_process_listening_on_the_port_is_named_with_its_pid(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 8080)
    assert ports.process_holder(8080, str(proc)) == {"kind": "process", "pid": 4242, "name": "python3"}
    assert ports.process_holder(3306, str(proc)) is None  # nobody listens there (3306 is a connection's, not LISTEN)


def test_another_container_binding_the_port_comes_first_with_its_project(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 8080, name="docker-proxy")
    other = FakeContainer("keycloak-1", {"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}, project="auth")
    own = FakeContainer("ods-alldata-api-1", {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]})
    found = ports.holder([own, other], 8080, "127.0.0.1", own.id, str(proc))
    assert found == {"kind": "container", "name": "keycloak-1", "project": "auth"}
    elsewhere = FakeContainer("x", {"8080/tcp": [{"HostIp": "127.0.0.2", "HostPort": "8080"}]})
    assert ports.container_holder([elsewhere], 8080, "127.0.0.1", None) is None  # another address: no clash


def test_a_stopped_service_whose_port_is_taken_says_by_whom_and_which_line_to_change(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 18001)
    stopped = FakeContainer("one-data-api", {}, error="Bind for 127.0.0.1:18001 failed: port is already allocated")
    published = [{"target": 8001, "published": 18001, "host_ip": "127.0.0.1"}, {"target": 9, "published": None}]
    [item] = ports.taken("data-api", stopped, published, [stopped], "docker-compose.yml:127", str(proc))
    assert item["confirmed"] and item["holder"]["pid"] == 4242
    assert item["summary"] == (
        "data-api cannot start: host port 127.0.0.1:18001, which it publishes (docker-compose.yml:127), is held by "
        "process 4242 (python3): stop that, or change the line"
    )
    assert ports.taken("data-api", None, [{"published": 18002, "host_ip": ""}], [], "x", str(proc)) == []
