# -*- coding: utf-8 -*-
# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Replace known secret values in text with [REDACTED:NAME].

Redaction knows the real values (from deploy/.env and the containers'
environment) instead of guessing from patterns; a pattern pass for
credentials in URLs and ``password=`` pairs catches what was never declared.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SECRET_NAME = re.compile(r"PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH", re.IGNORECASE)
# redis://:password@redis (no user) as well as mysql+pymysql://user:password@mysql
URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)
PASSWORD_PAIR = re.compile(
    r"(?P<key>(?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)(?P<value>[^\s,;&'\"]+)", re.IGNORECASE
)
MIN_LENGTH = 4
# Values that are plainly not secret, for evidence redaction (which otherwise takes every value it is given):
# booleans and log levels, numbers and versions, a lowercase word or name (a service, a database), paths and
# path lists, URLs without credentials.
PUBLIC_WORDS = frozenset(["true", "false", "yes", "no", "on", "off", "debug", "info", "warn", "warning", "error"])
NUMBER = re.compile(r"^[0-9][0-9.:_]*$")
LOWER_WORD = re.compile(r"^[a-z][a-z_.-]{0,31}$")
PATH_LIST = re.compile(r"^/[^\s:]*(?::/[^\s:]*)*$")
URL_LIST = re.compile(
    r"^[a-z][a-z0-9+.-]*://[^/@\s:,]+(?::[0-9]+)?(?:/[^\s@,]*)?(?:,[a-z][a-z0-9+.-]*://[^/@\s:,]+(?::[0-9]+)?(?:/[^\s@,]*)?)*$"
)


def is_secret_name(name):
    return bool(SECRET_NAME.search(name or ""))


def is_public_value(value):
    """True for a value nobody would keep secret (see PUBLIC_WORDS and the patterns beside it)."""
    text = (value or "").strip()
    if len(text) < MIN_LENGTH or text.lower() in PUBLIC_WORDS:
        return True
    return any(pattern.match(text) for pattern in (NUMBER, LOWER_WORD, PATH_LIST, URL_LIST))


class Redactor:
    def __init__(self, secrets=None):
        self._secrets = {}
        for name, value in (secrets or {}).items():
            self.add(name, value)

    def add(self, name, value):
        if value and len(value) >= MIN_LENGTH:
            self._secrets.setdefault(value, name)

    def add_env(self, values, only_secret_names=True):
        for name, value in values.items():
            if not only_secret_names or is_secret_name(name):
                self.add(name, value)

    def add_every(self, values):
        """Evidence: every value, whatever its name, unless it is plainly public; secret names always."""
        for name, value in values.items():
            if is_secret_name(name) or not is_public_value(value):
                self.add(name, value)

    @property
    def names(self):
        return sorted(set(self._secrets.values()))

    def redact(self, text):
        if not text:
            return text
        for value in sorted(self._secrets, key=len, reverse=True):
            if value in text:
                text = text.replace(value, "[REDACTED:%s]" % self._secrets[value])
        text = URL_CREDENTIALS.sub(lambda m: "%s%s:[REDACTED]@" % (m.group("scheme"), m.group("user")), text)
        return PASSWORD_PAIR.sub(
            lambda m: m.group("key") + "[REDACTED]" if not m.group("value").startswith("[REDACTED") else m.group(0),
            text,
        )

    def redact_obj(self, obj):
        if isinstance(obj, dict):
            return dict((k, self.redact_obj(v)) for k, v in obj.items())
        if isinstance(obj, list):
            return [self.redact_obj(v) for v in obj]
        if isinstance(obj, str):
            return self.redact(obj)
        return obj


def evidence_redactor(env_file_values, container_envs):
    """For evidence and audits: every value of the env file and of each container's environment (add_every)."""
    redactor = Redactor()
    redactor.add_every(env_file_values)
    for env in container_envs:
        redactor.add_every(env)
    return redactor
