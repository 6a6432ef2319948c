#!/usr/bin/python
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)


DOCUMENTATION = r"""
module: cors_check
short_description: The manual's CORS preflight (API 跨域错误), per API and per origin
version_added: 0.1.0
description:
  - Sends the manual's preflight, C(OPTIONS) of the API's health URL with C(Origin) and
    C(Access-Control-Request-Method GET), from inside each API container, for each origin.
  - Passes when the API answers 2xx with C(Access-Control-Allow-Origin) equal to the origin (or C(*)).
  - Reads the allowed origins where the API gets them (its CORS setting, e.g. C(CORS_ALLOWED_ORIGINS), in a
    settings file or its environment), to tell an origin that is missing from it from an API that has not
    read it yet.
  - An API that reads no CORS origin setting answers no cross-origin request at all; a browser reaches it
    through the front end's same-origin proxy (the manual's remedies 1 and 3, the Vite proxy or nginx's
    C(location /api/)). It is reported so (C(proxy_only)), not as a failure; the route itself is what
    M(ods.fix.web_health) checks with O(ods.fix.web_health#module:require_proxy).
  - Read-only.
extends_documentation_fragment:
  - ods.fix.attributes
  - ods.fix.attributes.full
  - ods.fix.project
options:
  services:
    description: The API services. Empty means the data API (the manual curls alldata-api).
    type: list
    elements: str
    default: []
  origins:
    description: The front-end origins that must be allowed.
    type: list
    elements: str
    default: ["http://localhost:3000"]
  setting:
    description: The setting listing the allowed origins, comma-separated. Empty means the API's own setting with CORS in its name.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The manual's preflight | 检查 API 响应头
  ods.fix.cors_check:
    project_dir: /home/dev/one-data-studio
    origins: ["http://localhost:3000", "http://localhost:5173"]
  register: cors
"""

RETURN = r"""
ok:
  description: Every API allows every origin.
  returned: always
  type: bool
setting:
  description: The CORS setting the APIs read, or empty when none does.
  returned: always
  type: str
proxy_only:
  description: The APIs that read no CORS origin setting (reached through the front end's proxy).
  returned: always
  type: list
  elements: str
allowed_in_settings:
  description: The origins the settings allow.
  returned: always
  type: list
  elements: str
missing_from_settings:
  description: The wanted origins the settings lack.
  returned: always
  type: list
  elements: str
apis:
  description: Per API, per origin, C(code), C(allow_origin), C(ok), or C(error).
  returned: always
  type: dict
failing_services:
  description: The APIs whose preflight fails for some origin.
  returned: always
  type: list
  elements: str
problems:
  description: One line per problem.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.ods.fix.plugins.module_utils.stack import compose, credentials, probes, settings


def cors_setting(profile, service, explicit):
    """The setting an API reads its allowed origins from, or None when it reads none."""
    keys = settings.origins(profile, service)
    if explicit:
        return explicit if explicit in keys else None
    found = sorted(k for k in keys if "CORS" in k and "ORIGIN" in k) or sorted(k for k in keys if "CORS" in k)
    return found[0] if found else None


def inspect(api, profile, params, names):
    containers = compose.project_containers(api, profile["project"])
    result = {
        "setting": "",
        "proxy_only": [],
        "allowed_in_settings": [],
        "missing_from_settings": [],
        "apis": {},
        "failing_services": [],
        "problems": [],
    }
    problems = result["problems"]
    for service in names:
        key = cors_setting(profile, service, params["setting"])
        if key is None:
            result["proxy_only"].append(service)
            result["apis"][service] = {
                "note": f"{service} reads no CORS origin setting: a browser reaches it through the "
                "front end's same-origin proxy"
            }
            continue
        result["setting"] = key
        allowed = [o.strip() for o in (settings.configured(profile, service).get(key) or "").split(",") if o.strip()]
        missing = [o for o in params["origins"] if o not in allowed and "*" not in allowed]
        result["allowed_in_settings"] = allowed
        result["missing_from_settings"] = sorted(set(result["missing_from_settings"]) | set(missing))
        problems.extend(
            f"{service} does not list {origin} in {key} ({settings_where(profile, service, key)}) (检查 API CORS 设置)"
            for origin in missing
        )
        container = containers.get(service)
        if container is None or container.status != "running":
            result["apis"][service] = {"error": f"{service} is not running"}
            problems.append(f"{service} is not running: no preflight answer")
            result["failing_services"].append(service)
            continue
        answers = probes.probe_preflight(container, profile["services"][service]["health_url"], params["origins"])
        for origin, answer in answers.items():
            answer["ok"] = bool(
                answer.get("code") and 200 <= answer["code"] < 300 and answer.get("allow_origin") in (origin, "*")
            )
            if not answer["ok"]:
                problems.append(
                    "{}: the preflight from {} answers {} with Access-Control-Allow-Origin {}".format(
                        service,
                        origin,
                        answer.get("code") or answer.get("error"),
                        answer.get("allow_origin") or "missing",
                    )
                )
        result["apis"][service] = answers
        if not all(a["ok"] for a in answers.values()):
            result["failing_services"].append(service)
    result["ok"] = not problems
    return result, containers


def settings_where(profile, service, key):
    from ansible_collections.ods.fix.plugins.module_utils.stack import discovery  # noqa: PLC0415

    return discovery.describe_setting(profile, service, key) or "its environment"


def main():
    argument_spec = dict(
        services=dict(type="list", elements="str", default=[]),
        origins=dict(type="list", elements="str", default=["http://localhost:3000"]),
        setting=dict(type="str", default=""),
    )
    module = compose.stack_module(argument_spec)
    compose.require_docker(module)
    params = module.params
    bad = [
        o
        for o in params["origins"]
        if not o.startswith(("http://", "https://")) or "," in o or " " in o or settings.CONTROL.search(o)
    ]
    if bad:
        module.fail_json(
            msg="not an origin (scheme://host[:port]): {}".format(", ".join(repr(o) for o in bad)), ods_failure="input"
        )
    api, project = compose.open_project(module)
    profile = project["profile"]
    compose.check_services(module, profile, params["services"])
    names = params["services"] or [
        compose.role_service(module, profile, "data_api", False) or compose.role_apis(module, profile)[0]
    ]
    result, containers = inspect(api, profile, params, names)
    module.exit_json(
        ansible_facts=compose.profile_facts(module),
        changed=False,
        **credentials.redactor(profile, containers).redact_obj(result),
    )


if __name__ == "__main__":
    main()
