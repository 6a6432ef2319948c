# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Healthchecks that say nothing: one that cannot fail (`|| true`, `curl -s` without -f), or cannot pass (its
program is not in the image: curl in a slim Python image). Docker's healthy or unhealthy then is no evidence,
and whoever trusts it (depends_on: service_healthy, a dashboard, the person on call) is misled.

Stdlib only: what Docker says and what the service answers come in, a finding's words go out.
"""

import re

# What makes a shell command exit 0 whatever came before it.
ALWAYS_ZERO = re.compile(r"(\|\||;)\s*(true|:|exit\s+0)\s*$")
CURL = re.compile(r"(^|[\s;&|(])curl\s")
CURL_FAILS = re.compile(r"\s(-[a-zA-Z]*f[a-zA-Z]*|--fail(-with-body)?)(\s|$)")
PROGRAM = re.compile(r'exec: "([^"]+)": executable file not found|([^\s:]+): not found')
MISSING_PROGRAM = re.compile(r"executable file not found|not found in \$PATH|: not found|No such file or directory")


def command_of(test):
    """The healthcheck's command as one line ("" for none): CMD-SHELL's string, or CMD's words."""
    if not test or test[0] == "NONE":
        return ""
    return test[1] if test[0] == "CMD-SHELL" and len(test) > 1 else " ".join(test[1:])


def cannot_fail(test):
    """Why this healthcheck passes whatever the service does, or ""."""
    command = command_of(test).strip()
    if not command:
        return ""
    ending = ALWAYS_ZERO.search(command)
    if ending:
        return f"it ends in `{ending.group(0).strip()}`, so it exits 0 whatever came before"
    if CURL.search(command) and not CURL_FAILS.search(command) and "|" not in command.replace("||", ""):
        return "curl without -f exits 0 on any HTTP answer, 500 and 503 included"
    return ""


def cannot_pass(state):
    """Why this healthcheck fails whatever the service does (its program is not in the image), or ""."""
    log = (state.get("Health") or {}).get("Log") or []
    last = log[-1] if log else {}
    output = (last.get("Output") or "").strip()
    if not last or not (last.get("ExitCode") in (126, 127) or MISSING_PROGRAM.search(output)):
        return ""
    program = PROGRAM.search(output)
    name = next((g for g in program.groups() if g), "") if program else ""
    return f"{name or 'its program'} is not in the image"


def judge(service, test, state, answer, where):
    """{service, kind, why, docker, answer, where, misleads} for a healthcheck that says nothing, or None.

    answer: the HTTP code the service gives now on its health URL (None: not probed, or no answer).
    misleads: Docker's word and the service's answer disagree right now.
    """
    docker = (state.get("Health") or {}).get("Status") or ""
    # Its last run says the program is missing: it cannot pass, whether Docker has given up yet or not.
    kind, why = "cannot pass", cannot_pass(state) if docker != "healthy" else ""
    if not why:
        kind, why = "cannot fail", cannot_fail(test)
    if not why:
        return None
    answers_ok = answer is not None and answer < 500
    misleads = (docker == "unhealthy" and answers_ok) or (docker == "healthy" and answer is not None and not answers_ok)
    return {
        "service": service,
        "kind": kind,
        "why": why,
        "docker": docker,
        "answer": answer,
        "where": where,
        "misleads": misleads,
    }


def describe(item):
    """One line: what Docker says, what the service answers, why the check says nothing, and where it is."""
    said = "Docker says it is {}".format(item["docker"] or "starting")
    if item["answer"] is not None:
        said += ", and it answers {}".format(item["answer"])
    return "{}: {}; its healthcheck {}: {} (change it at {})".format(
        item["service"], said, item["kind"], item["why"], item["where"]
    )
