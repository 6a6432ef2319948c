"""Probes in the stack's containers (module_utils/stack/probes.py): nginx -t naming the upstream it cannot resolve."""

from __future__ import annotations

from ansible_collections.ods.fix.plugins.module_utils.stack import probes


class NginxContainer:
    def __init__(self, code: int, output: str) -> None:
        self.code, self.output = code, output

    def exec_run(self, cmd: list[str], environment: dict[str, str] | None = None) -> tuple[int, bytes]:
        return self.code, self.output.encode()


def test_nginx_t_names_the_upstream_it_cannot_resolve() -> None:
    output = (
        '2026/12/02 06:00:22 [emerg] 1#1: host not found in upstream "data-api:8001" in '
        "/etc/nginx/conf.d/default.conf:2\nnginx: configuration file /etc/nginx/nginx.conf test failed\n"
    )
    result = probes.probe_nginx(NginxContainer(1, output))
    assert not result["ok"] and result["unresolved"] == "data-api"
    assert result["output"].startswith('host not found in upstream "data-api:8001" in /etc/nginx/conf.d/default.conf:2')
