#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: evidence_capture
short_description: Capture the state of an ODS stack into a redacted evidence bundle (疑似入侵 保存现场数据)
version_added: 0.2.0
description:
  - V(capture) writes into a fresh private directory (C(mkdtemp), 0700) under O(staging_dir), which must be a
    directory of this user that nobody else can write (created 0700 if missing; a link, another owner or a mode
    that lets others write is refused, so that no local user can read or plant evidence). Files are opened
    without following links. It returns the directory (C(staging)) and every file's record (C(files)), which
    V(seal) takes back (the records never go through the directory). In this order, each file with the time it
    was captured. First what is gone once anything stops (the volatile state), per container of the project,
    running or not; its processes (C(docker top)) and its network connections (the container's C(/proc/net) tables read from
    the host, with the process holding each socket, else read inside the container). Then C(docker inspect) with
    every environment value replaced by its name, C(docker diff) (the files an intruder added or changed), the
    logs of every service with timestamps (the manual's C(incident-YYYYMMDD.log)), the auth logs of the containers
    that have one (copied out through the engine, nothing run inside), C(git log --since) and C(git status) of
    the project, and the resolved compose config.
  - Every file is redacted before it is written. The redactor knows the real values, from the env file and from
    every container's environment. Each value, whatever its key's name, becomes C([REDACTED:KEY_NAME]), except
    values plainly not secret by where they come from (numbers, booleans, log levels, paths, URLs without
    credentials, the stack's own service names, and a word held by a name such as C(*_HOST), C(*_USER) or
    C(*_DATABASE)). Values of keys named like secrets are always replaced, in every form (JSON-escaped,
    URL-encoded, base64). Logs are streamed into their files line by line, never held whole.
  - A part that fails (an engine error, a container gone) is recorded in C(notes) and the others go on.
  - V(seal) adds the given extra files (reports, an isolation record), writes the manifest (SHA-256, size and
    capture time of every file) and the tar.gz (mode 0600; an existing file is never overwritten).
  - Reads the stack and changes nothing in it; the bundle is the module's output, not a change (V(changed=false)).
    Nothing that stops, pauses or disconnects a container is here (that is M(ods.fix.compose_service)).
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.project
options:
  action:
    description: V(capture) fills the staging directory; V(seal) writes the bundle from it.
    type: str
    choices: [capture, seal]
    default: capture
  staging_dir:
    description:
      - For V(capture), the directory under which the private staging directory is made (created 0700 if
        missing); keep it outside the project, whose directories are mounted into the containers.
      - For V(seal), the staging directory V(capture) returned.
    type: path
    required: true
  records:
    description: For V(seal), the C(files) V(capture) returned.
    type: list
    elements: dict
    default: []
  parts:
    description: What to capture.
    type: list
    elements: str
    choices: [volatile, inspect, diff, logs, auth, git, config]
    default: [volatile, inspect, diff, logs, auth, git, config]
  log_lines:
    description: The last lines of each service's log to keep; 0 keeps all.
    type: int
    default: 0
  log_since:
    description: Only log lines since this many seconds ago; 0 keeps all.
    type: int
    default: 0
  git_since:
    description: How far back C(git log) goes (the manual's C(--since)).
    type: str
    default: 2 days ago
  auth_logs:
    description: Auth log paths looked for in each container.
    type: list
    elements: str
    default: [/var/log/auth.log, /var/log/secure]
  extra_files:
    description: For V(seal), files to add, path in the bundle to content (text; redacted too).
    type: dict
    default: {}
  bundle:
    description: For V(seal), where the bundle goes on the target.
    type: path
  meta:
    description: For V(seal), what the manifest says about the bundle (kind, host, who, why).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    details: Writes nothing and says what it would capture.
  idempotent:
    support: none
    details: Every capture is a new record of the moment; the stack itself is never changed.
author:
  - ods-fix contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Capture the volatile state first | 保存现场数据
  ods.fix.evidence_capture:
    project_dir: /home/dev/one-data-studio
    staging_dir: /var/tmp/ods-fix-evidence/incident-20261201-020000
  register: capture
"""

RETURN = r"""
staging:
  description: For V(capture), the private directory the evidence is staged in (give it to V(seal)).
  returned: action=capture
  type: str
files:
  description: The files captured (C(path), C(bytes), C(sha256), C(captured_at)).
  returned: always
  type: list
  elements: dict
findings:
  description: Per service, C(foreign_processes), C(changed_files), C(outside_connections), C(auth_log).
  returned: action=capture
  type: dict
highlights:
  description: The findings a responder should look at first, one line each.
  returned: action=capture
  type: list
  elements: str
services:
  description: The project's services that have a container.
  returned: always
  type: list
  elements: str
isolation_order:
  description: Those services in the order to isolate them, the front door first and the data last.
  returned: always
  type: list
  elements: str
redacted:
  description: The names whose values were redacted (never the values).
  returned: always
  type: list
  elements: str
bundle:
  description: For V(seal), C(bundle), C(sha256), C(files), C(bytes).
  returned: action=seal
  type: dict
"""

import io
import json
import os
import subprocess
import tarfile
import time

from ansible_collections.ods.fix.plugins.module_utils.security import evidence, forensics
from ansible_collections.ods.fix.plugins.module_utils.security.redact import evidence_redactor
from ansible_collections.ods.fix.plugins.module_utils.stack import compose, discovery, settings
from ansible_collections.ods.fix.plugins.module_utils.stack.docker_exec import exec_stdin

ALL_PARTS = ["volatile", "inspect", "diff", "logs", "auth", "git", "config"]


def redacted_attrs(container):
    attrs = dict(container.attrs)
    config = dict(attrs.get("Config") or {})
    config["Env"] = [f"{k}=[REDACTED:{k}]" for k in sorted(compose.container_env(container))]
    attrs["Config"] = config
    return attrs


class Capture:
    def __init__(self, module, api, profile, containers, redactor):
        self.module = module
        self.params = module.params
        self.api = api
        self.profile = profile
        self.project = profile["project"]
        self.containers = containers
        self.redactor = redactor
        prefix = "{}-".format(profile["project"])
        self.staging = evidence.Staging.create(self.params["staging_dir"], prefix, redactor.redact)
        self.findings = dict((service, {}) for service in containers)
        self.notes = []

    def write(self, path, content, source=""):
        self.staging.write(path, content, source)

    # --- the volatile state, before anything else -------------------------------------------------------

    def networks(self):
        cidrs = []
        for network in self.api.networks.list(filters={"label": f"{compose.PROJECT_LABEL}={self.project}"}):
            for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
                if config.get("Subnet"):
                    cidrs.append(config["Subnet"])
        return cidrs

    def volatile(self):
        cidrs = self.networks()
        for service, container in sorted(self.containers.items()):
            if container.status not in ("running", "paused"):  # a paused one keeps its processes and sockets
                self.write(
                    f"volatile/{service}/not-running.txt",
                    f"{container.name} was {container.status} at capture time\n",
                )
                continue
            try:
                top = container.top()
            except Exception as exc:  # the container stopped between the listing and now
                self.write(f"volatile/{service}/processes.txt", f"docker top failed: {exc}\n")
                continue
            self.write(f"volatile/{service}/processes.txt", forensics.render_top(top), "docker top")
            state = container.attrs.get("State") or {}
            health = ((container.attrs.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
            foreign = forensics.foreign_processes(top, state.get("Pid"), " ".join(health[1:]))
            sockets, source = self.sockets(container, top)
            self.write(f"volatile/{service}/connections.txt", forensics.render_connections(sockets), source)
            self.findings[service]["foreign_processes"] = foreign
            self.findings[service]["outside_connections"] = [
                s for s in sockets if s["state"] not in ("LISTEN",) and forensics.outside(s["remote_ip"], cidrs)
            ]

    def sockets(self, container, top):
        """The container's sockets: from the host's /proc (nothing run inside), else with cat inside it."""
        pid = (container.attrs.get("State") or {}).get("Pid")
        titles = top.get("Titles") or []
        pids = [row[titles.index("PID")] for row in top.get("Processes") or []] if "PID" in titles else []
        sockets, source = [], f"/proc/{pid}/net on the host"
        for proto in forensics.PROC_NET:
            path = f"/proc/{pid}/net/{proto}"
            try:
                with open(path) as handle:
                    sockets.extend(forensics.parse_proc_net(handle.read(), proto))
            except OSError:
                sockets = None
                break
        if sockets is None:
            source, sockets = "/proc/net inside the container", []
            for proto in forensics.PROC_NET:
                result = exec_stdin(self.api, container, ["cat", f"/proc/net/{proto}"], timeout=20)
                if result.code == 0:
                    sockets.extend(forensics.parse_proc_net(result.stdout.decode("utf-8", "replace"), proto))
        owners = forensics.socket_owners(pids)
        for item in sockets:
            item["owner"] = owners.get(item["inode"], "-")
        return sockets, source

    # --- the rest ----------------------------------------------------------------------------------------

    def inspect(self):
        for service, container in sorted(self.containers.items()):
            # Redacted before it is serialised: JSON escapes quotes, backslashes and non-ASCII letters, and a value
            # escaped is no longer the value the text redaction looks for.
            self.write(
                f"inspect/{service}.json",
                json.dumps(self.redactor.redact_obj(redacted_attrs(container)), indent=2, sort_keys=True),
                "docker inspect, environment values redacted",
            )

    def diff(self):
        # The engine walks each container's writable layer for this (about a second each): in parallel.
        diffs = compose.run_parallel(
            dict((service, container.diff) for service, container in self.containers.items()), timeout=120
        )
        for service, container in sorted(self.containers.items()):
            ok, changes = diffs[service]
            if not ok:
                self.write(f"diff/{service}.txt", f"docker diff failed: {changes}\n")
                continue
            self.write(f"diff/{service}.txt", forensics.render_diff(changes or []), "docker diff")
            mounts = [m.get("Destination") for m in container.attrs.get("Mounts") or [] if m.get("Destination")]
            self.findings[service]["changed_files"] = forensics.notable_changes(changes or [], mounts)

    def logs(self):
        """Each service's log, streamed into its file and the combined one line by line: a flooded log is never
        held whole, and does not stop the capture (nor, after it, the isolation)."""
        kwargs = {"timestamps": True, "stdout": True, "stderr": True, "stream": True, "follow": False}
        if self.params["log_lines"]:
            kwargs["tail"] = self.params["log_lines"]
        if self.params["log_since"]:
            kwargs["since"] = int(time.time()) - self.params["log_since"]
        width = max([len(s) for s in self.containers] or [1])
        combined = "logs/incident-{}.log".format(time.strftime("%Y%m%d"))
        with self.staging.stream(combined, "docker-compose logs --timestamps") as everything:
            for service, container in sorted(self.containers.items()):
                with self.staging.stream(f"logs/{service}.log", "docker logs --timestamps") as own:
                    prefix, pending = "%-*s | " % (width, service), ""
                    try:
                        for chunk in container.logs(**kwargs):
                            text = pending + chunk.decode("utf-8", "replace")
                            cut = text.rfind("\n") + 1
                            pending = text[cut:]
                            own.write(text[:cut])
                            everything.write("".join(prefix + line + "\n" for line in text[:cut].splitlines()))
                    except Exception as exc:
                        pending += f"(docker logs failed: {exc})\n"
                    if pending:
                        own.write(pending)
                        everything.write(prefix + pending.rstrip("\n") + "\n")

    def auth(self):
        for service, container in sorted(self.containers.items()):
            found = []
            for path in self.params["auth_logs"]:
                try:
                    stream, _unused = container.get_archive(path)
                    data = b"".join(stream)
                except Exception:  # no such file: most containers have no auth log
                    continue
                with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                    for member in archive.getmembers():
                        if member.isfile():
                            self.write(
                                f"auth/{service}/{os.path.basename(member.name)}",
                                archive.extractfile(member).read(),
                                f"{path} in {container.name}",
                            )
                            found.append(path)
            self.findings[service]["auth_log"] = found

    def git(self):
        """The manual's `git log --since="2 days ago"`, with the stat, plus what is changed and not committed."""
        directory = self.params["project_dir"]
        commands = [
            ("git/log.txt", ["log", "--since={}".format(self.params["git_since"]), "--stat", "--date=iso"]),
            ("git/status.txt", ["status", "--porcelain=v1", "--untracked-files=all"]),
            ("git/diff-stat.txt", ["diff", "--stat", "HEAD"]),
        ]
        env = forensics.git_env(os.environ)
        try:
            inside = subprocess.run(
                forensics.git_argv(directory, ["rev-parse", "--is-inside-work-tree"]),
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
                env=env,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.write("git/not-available.txt", f"git cannot run on the target: {exc}\n")
            return
        if inside.returncode != 0:
            self.write("git/not-a-repository.txt", f"{directory} is not in a git working tree: no history to capture\n")
            return
        for path, argv in commands:
            result = subprocess.run(
                forensics.git_argv(directory, argv), capture_output=True, text=True, timeout=60, check=False, env=env
            )
            text = result.stdout if result.returncode == 0 else f"(git {argv[0]} failed: {result.stderr.strip()})\n"
            self.write(path, text, "git " + " ".join(argv))

    def config(self):
        clis = compose.compose_clis()
        flavor = compose.compose_flavor(self.containers) or "v2"
        cli = clis.get(flavor) or clis.get("v1") or clis.get("v2")
        directory = self.profile["working_dir"]
        if cli:
            argv = [*compose.compose_argv(self.profile, cli), "config"]
            result = subprocess.run(argv, cwd=directory, capture_output=True, text=True, timeout=60, check=False)
            if result.returncode == 0:
                self.write("compose/config.yml", result.stdout, "{} config (values redacted)".format(" ".join(cli)))
                return
            self.notes.append("`{} config` failed: {}".format(" ".join(cli), result.stderr.strip().splitlines()[-1:]))
        for path in self.profile["config_files"]:
            with open(path, encoding="utf-8") as handle:
                self.write(f"compose/{os.path.basename(path)}", handle.read(), "a compose file (no Compose CLI)")


def highlights(findings):
    """What a responder should look at first, one line each."""
    lines = []
    for service, found in sorted(findings.items()):
        foreign = found.get("foreign_processes") or []
        if foreign:
            lines.append(
                "%s: %d process(es) not of its own program: %s"
                % (
                    service,
                    len(foreign),
                    "; ".join("{} (pid {}, user {})".format(p["command"], p["pid"], p["user"]) for p in foreign[:5]),
                )
            )
        changed = found.get("changed_files") or []
        if changed:
            lines.append(
                "%s: %d file(s) added, changed or deleted since it was created: %s%s"
                % (
                    service,
                    len(changed),
                    ", ".join("{} ({})".format(c["path"], c["kind"]) for c in changed[:8]),
                    ", ..." if len(changed) > 8 else "",
                )
            )
        outside = found.get("outside_connections") or []
        if outside:
            lines.append(
                "%s: %d connection(s) to addresses outside the project: %s"
                % (
                    service,
                    len(outside),
                    "; ".join("{} {} ({})".format(c["remote"], c["state"], c["owner"]) for c in outside[:5]),
                )
            )
        if found.get("auth_log"):
            lines.append("{}: has an auth log ({}), captured".format(service, ", ".join(found["auth_log"])))
    return lines


ISOLATION = ("other", "web", "api", "vector_store", "vector_object", "vector_meta", "cache", "database")


def isolation_order(profile, services):
    """The front door first, the data last: what is not ODS's own, web, the APIs, Milvus, ..., the database."""
    return sorted(services, key=lambda s: (ISOLATION.index(discovery.role_of(profile, s)), s))


def main():
    argument_spec = dict(
        action=dict(type="str", default="capture", choices=["capture", "seal"]),
        staging_dir=dict(type="path", required=True),
        parts=dict(type="list", elements="str", default=list(ALL_PARTS), choices=ALL_PARTS),
        log_lines=dict(type="int", default=0),
        log_since=dict(type="int", default=0),
        git_since=dict(type="str", default="2 days ago"),
        auth_logs=dict(type="list", elements="str", default=["/var/log/auth.log", "/var/log/secure"]),
        extra_files=dict(type="dict", default={}),
        bundle=dict(type="path"),
        meta=dict(type="dict", default={}),
        records=dict(type="list", elements="dict", default=[]),
    )
    module = compose.stack_module(argument_spec, required_if=[("action", "seal", ["bundle"])])
    params = module.params
    api, project = compose.open_project(module, require_running=False)
    profile = project["profile"]
    containers = compose.project_containers(api, profile["project"])
    if not containers:
        module.fail_json(
            msg="compose project {} has no containers: nothing to capture".format(profile["project"]),
            ods_failure="input",
        )
    redactor = evidence_redactor(
        settings.all_values(profile),
        [compose.container_env(c) for c in containers.values()],
        hosts=set(containers) | set(c.name for c in containers.values()),
        commands=[line for c in containers.values() for line in compose.container_commands(c)],
    )
    services = sorted(containers)
    order = isolation_order(profile, services)
    if module.check_mode:
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=False,
            files=[],
            findings={},
            highlights=[],
            redacted=redactor.names,
            services=services,
            isolation_order=order,
            would=["capture {} of {}".format(", ".join(params["parts"]), ", ".join(services))],
        )
    if params["action"] == "seal":
        try:
            staging = evidence.Staging(params["staging_dir"], redactor.redact, params["records"])
            for path, content in sorted(params["extra_files"].items()):
                staging.write(path, str(content), "ods-fix")
        except (evidence.EvidenceError, OSError, ValueError) as exc:
            module.fail_json(msg=f"cannot seal the evidence: {exc}")
        if os.path.exists(params["bundle"]):
            module.fail_json(
                msg="{} already exists: evidence is never overwritten".format(params["bundle"]), ods_failure="input"
            )
        meta = dict(
            params["meta"],
            project=profile["project"],
            project_dir=params["project_dir"],
            engine=project["engine_version"],
            redacted_names=redactor.names,
        )
        sealed = evidence.seal(staging.root, staging.records, params["bundle"], redactor.redact_obj(meta))
        module.exit_json(
            ansible_facts=compose.profile_facts(module),
            changed=False,
            bundle=sealed,
            files=staging.records,
            redacted=redactor.names,
            services=services,
        )
    try:
        capture = Capture(module, api, profile, containers, redactor)
    except (evidence.EvidenceError, OSError) as exc:
        module.fail_json(msg="cannot stage the evidence under {}: {}".format(params["staging_dir"], exc))
    for part in [p for p in ALL_PARTS if p in params["parts"]]:  # the volatile state first, whatever the order given
        try:
            getattr(capture, part)()
        except Exception as exc:  # one part lost is said and the rest still captured: isolation comes next
            capture.notes.append(f"{part}: not captured ({exc})")
    findings = redactor.redact_obj(capture.findings)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=False,
        staging=capture.staging.root,
        files=capture.staging.records,
        findings=findings,
        highlights=highlights(findings),
        redacted=redactor.names,
        notes=redactor.redact_obj(capture.notes),
        services=services,
        isolation_order=order,
    )


if __name__ == "__main__":
    main()
