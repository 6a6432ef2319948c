# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""An nginx front end's configuration as nginx itself loads it, from `nginx -T` or from the container's files.

Where the config and the built front end are is read, not assumed: nginx:alpine keeps the site in
/etc/nginx/conf.d/default.conf and the files in /usr/share/nginx/html, the manual's image in
/etc/nginx/nginx.conf and /app/dist. A running nginx says itself (`nginx -T`: every file it loaded, in
order); a stopped one, or one whose config no longer passes, is read from its files: the main config
(nginx's --conf-path) and the files its `include`s name.
"""

import fnmatch
import io
import os
import re
import tarfile

DUMP_FILE = re.compile(r"^# configuration file (\S+):\s*$", re.MULTILINE)
CONF_PATH = re.compile(r"--conf-path=(\S+)")
INCLUDE = re.compile(r"^\s*include\s+([^;#\s]+)\s*;", re.MULTILINE)
ROOT = re.compile(r"^\s*root\s+([^;#\s]+)\s*;", re.MULTILINE)
LOCATION_API = re.compile(r"^\s*location\s+(?:\^~\s+)?/api/?\s*\{", re.MULTILINE)
DEFAULT_MAIN = "/etc/nginx/nginx.conf"  # nginx's own default --conf-path (Debian's and nginx:alpine's builds)
NOT_CONFIG = (
    "mime.types",
    "fastcgi_params",
    "fastcgi.conf",
    "scgi_params",
    "uwsgi_params",
    "koi-utf",
    "koi-win",
    "win-utf",
)


def parse_dump(text):
    """{path: text} of `nginx -T`'s output, in the order nginx loaded the files."""
    files = {}
    marks = list(DUMP_FILE.finditer(text))
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        files[mark.group(1)] = text[mark.end() : end].lstrip("\n")
    return files


def strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def loaded(files, main):
    """[path] nginx loads, from the main config through its includes (relative to the main's directory)."""
    order, pending = [], [main]
    base = os.path.dirname(main)
    while pending:
        path = pending.pop(0)
        if path in order or path not in files:
            continue
        order.append(path)
        for include in INCLUDE.findall(strip_comments(files[path])):
            pattern = include if include.startswith("/") else os.path.join(base, include)
            pending.extend(sorted(p for p in files if fnmatch.fnmatch(p, pattern)))
    return order


def describe(files, main):
    """{main, files (config files, in load order), site (the file holding the server's root), root, api_route}."""
    order = loaded(files, main) if main in files else list(files)
    config = [p for p in order if os.path.basename(p) not in NOT_CONFIG]
    root = site = api_file = None
    for path in config:
        text = strip_comments(files[path])
        found = ROOT.findall(text)
        if found and root is None:
            root, site = found[0], path
        if api_file is None and LOCATION_API.search(text):
            api_file = path
    return {
        "main": main,
        "files": config,
        "site": site or (config[-1] if config else main),
        "root": root,
        "api_route": api_file,
    }


def from_tar(data, directory):
    """{absolute path: text} of a tar of a container directory (get_archive of /etc/nginx)."""
    files = {}
    parent = os.path.dirname(directory.rstrip("/"))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            if member.isfile():
                handle = archive.extractfile(member)
                if handle is not None:
                    files[os.path.join(parent, member.name)] = handle.read().decode("utf-8", "replace")
    return files


def dump(container):
    """(exit code, stdout) of `nginx -T`. Its stdout only: nginx writes "syntax is ok" to stderr, and merged
    streams interleave at random, cutting a "# configuration file" line in two now and then."""
    code, (out, _err) = container.exec_run(["nginx", "-T"], demux=True)
    return code, (out or b"").decode("utf-8", "replace")


def read(container, exec_in):
    """The config as nginx loads it; exec_in(container, argv) -> (code, text). Works for a stopped container too."""
    main = DEFAULT_MAIN
    if container.status == "running":
        code, output = dump(container)
        if code == 0:
            files = parse_dump(output)
            if files:
                layout = describe(files, next(iter(files)))
                layout.update(source="nginx -T", texts=files)
                return layout
        code, version = exec_in(container, ["nginx", "-V"])
        match = CONF_PATH.search(version or "")
        main = match.group(1) if match else main
    directory = os.path.dirname(main)
    try:
        stream, _stat = container.get_archive(directory)
    except Exception as exc:  # no such directory: not an nginx container
        return {
            "main": main,
            "files": [],
            "site": None,
            "root": None,
            "api_route": None,
            "texts": {},
            "source": f"none ({type(exc).__name__}: {exc})",
        }
    files = from_tar(b"".join(stream), directory)
    layout = describe(files, main)
    layout.update(source=f"the container's {directory}", texts=files)
    return layout
