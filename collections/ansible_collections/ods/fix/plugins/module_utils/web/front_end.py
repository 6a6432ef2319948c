# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""The web front end, nginx or a Vite dev server: its config tested, its pages fetched, its good config kept.

nginx's config and document root are read from nginx itself (nginx_conf.py). A config is tested with
`nginx -t` inside web when it runs; otherwise in a throwaway container of web's image attached to web's
networks, so that upstreams named by host name resolve as they would for web (an upstream that does not
resolve is said so). Pages are fetched with whatever the container has (curl, Python, wget, node), else
through the port web publishes on 127.0.0.1, else from an API's container on the same network.
"""

import json
import re

from ansible_collections.ods.fix.plugins.module_utils.stack import container_files, probes
from ansible_collections.ods.fix.plugins.module_utils.web import nginx_conf

FAILING_LINE = re.compile(r"\[emerg\] (?:\d+#\d+: )?(.*? in (\S+:\d+))")
UNRESOLVED = re.compile(r"host not found in upstream \"?([^\"\s:]+)")
# One GET, with whatever the image has; prints "<status>\n<body>".
FETCH = r"""
url="$1"
if command -v curl >/dev/null 2>&1; then exec curl -sS -m 5 -w '\n%{http_code}' "$url"; fi
for py in python3 python; do
  if command -v $py >/dev/null 2>&1; then
    exec $py -c 'import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5); code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
sys.stdout.write(body.decode("utf-8", "replace") + "\n" + str(code))' "$url"
  fi
done
if command -v node >/dev/null 2>&1; then
  exec node -e 'require("http").get(process.argv[1], r => { let b = ""; r.on("data", d => b += d);
    r.on("end", () => { process.stdout.write(b + "\n" + r.statusCode) }) })
    .on("error", e => { console.log(e.message); process.exit(1) })' "$url"
fi
exit 127
"""


def fetch_inside(container, url):
    """(code, body) fetched inside a container; (None, why) when it cannot; (None, "no-tool") with no fetcher in it."""
    code, output = container.exec_run(["sh", "-c", FETCH, "sh", url])
    text = output.decode("utf-8", "replace")
    if code == 127 or (code != 0 and "not found" in text and "sh:" in text):
        return None, "no-tool"
    body, _unused, status = text.rpartition("\n")
    if code != 0 or not status.strip().isdigit():
        return None, text.strip()
    return int(status.strip()), body


def fetch_published(entry, path):
    """(code, body) through the port the service publishes on 127.0.0.1, or (None, why)."""
    from urllib.error import HTTPError, URLError  # noqa: PLC0415

    from ansible.module_utils.urls import open_url  # noqa: PLC0415

    published = [p for p in entry.get("published") or [] if p["target"] == entry.get("port") and p.get("published")]
    if not published or published[0].get("host_ip") not in (None, "", "127.0.0.1", "0.0.0.0"):
        return None, "no port published on 127.0.0.1"
    try:
        url = "http://127.0.0.1:{}{}".format(published[0]["published"], path)
        with open_url(url, timeout=5, validate_certs=False, use_proxy=False) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (URLError, OSError) as exc:
        return None, str(exc)


def fetch(profile, containers, service, path):
    """(code, body, how) of GET path from the front end: inside it, through its published port, or from an API."""
    entry = profile["services"][service]
    container = containers.get(service)
    code, body = fetch_inside(container, "http://127.0.0.1:{}{}".format(entry["port"], path))
    if code is not None or body != "no-tool":
        return code, body, f"inside {service}"
    code, body = fetch_published(entry, path)
    if code is not None:
        return code, body, "through its published port"
    for api in profile["roles"].get("apis") or []:
        sibling = containers.get(api)
        if sibling is not None and sibling.status == "running":
            code, body = fetch_inside(sibling, "http://{}:{}{}".format(service, entry["port"], path))
            if code is not None or body != "no-tool":
                return code, body, f"from {api}"
    return (
        None,
        f"nothing can fetch a page from {service} (no curl, Python, wget or node in it, no published port)",
        "",
    )


def proxied(code, body):
    """The API answered through the route: its JSON, or a 502/503/504 (the route exists, the API is down)."""
    if code in (502, 503, 504):
        return True
    try:
        return code is not None and isinstance(json.loads(body), dict)
    except ValueError:
        return False


def nginx_test(api, container, files):
    """(passes, output) of `nginx -t`: in web when it runs (with its own files), else in a throwaway container of
    web's image on web's networks with `files` ({path: bytes}) put in."""
    if container.status == "running" and files is None:
        code, output = container.exec_run(["nginx", "-t"])
        return code == 0, output.decode("utf-8", "replace").strip()
    networks = list(((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}).keys())
    probe = api.containers.create(
        container.image.id,
        entrypoint=["nginx"],
        command=["-t"],
        network=networks[0] if networks else None,
        network_disabled=not networks,
    )
    try:
        for network in networks[1:]:
            api.networks.get(network).connect(probe)
        if files:
            probe.put_archive("/", container_files.tar_files(files))
        probe.start()
        code = probe.wait(timeout=60).get("StatusCode")
        return code == 0, probe.logs().decode("utf-8", "replace").strip()
    finally:
        probe.remove(force=True)


def stale_upstream(profile, containers, code):
    """The API behind /api when the front end answered `code` (502/504) for it while the API answers directly.

    nginx resolves its upstreams' host names when it starts: an API recreated at another address since then
    gets none of its traffic, though both run.
    """
    if code not in (502, 504):
        return None
    api = profile["roles"].get("data_api") or (profile["roles"].get("apis") or [None])[0]
    container = containers.get(api)
    if container is None or container.status != "running":
        return None
    answer, _body = fetch_inside(container, profile["services"][api]["health_url"])
    return api if answer is not None else None


def failing_line(output):
    match = FAILING_LINE.search(output or "")
    return match.group(1) if match else ""


def unresolved_upstream(output):
    match = UNRESOLVED.search(output or "")
    return match.group(1) if match else None


def read_layout(container):
    return nginx_conf.read(container, probes.exec_in)


def config_bytes(container, layout):
    """{path: bytes} of the config files nginx loads (mime.types and the like left out), as they are on disk."""
    files = container_files.read_files(container, layout["files"])
    return dict((path, data) for path, data in files.items() if data is not None)
