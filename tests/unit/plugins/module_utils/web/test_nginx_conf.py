"""nginx's configuration as nginx loads it (module_utils/web/nginx_conf.py): nginx:alpine's layout from `nginx -T`."""

from __future__ import annotations

from typing import Any

from ansible_collections.ods.fix.plugins.module_utils.stack import probes
from ansible_collections.ods.fix.plugins.module_utils.web import nginx_conf

from tests import ROOT


class NginxAlpineContainer:
    """nginx:alpine's layout; `nginx -T` prints the dump on stdout and "syntax is ok" on stderr."""

    status = "running"
    name = "one-data-web"
    IMAGE = ROOT / "sandbox" / "images" / "web-frontend"

    def exec_run(self, cmd: list[str], environment: Any = None, demux: bool = False) -> tuple[int, Any]:
        assert cmd == ["nginx", "-T"] and demux, "the dump is read from stdout alone"
        files = {
            "/etc/nginx/nginx.conf": (self.IMAGE / "nginx.conf").read_text(),
            "/etc/nginx/conf.d/default.conf": (self.IMAGE / "default.conf").read_text(),
        }
        out = "".join(f"# configuration file {path}:\n{text}\n" for path, text in files.items())
        err = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
        return 0, (out.encode(), err.encode())


def test_nginx_alpine_layout_comes_from_nginx_t() -> None:
    layout = nginx_conf.read(NginxAlpineContainer(), probes.exec_in)
    assert layout["source"] == "nginx -T"
    assert layout["site"] == "/etc/nginx/conf.d/default.conf" and layout["root"] == "/usr/share/nginx/html"
    assert layout["files"] == ["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/default.conf"]
