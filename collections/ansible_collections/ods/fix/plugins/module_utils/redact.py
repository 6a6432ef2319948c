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
URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):(?P<pw>[^@/\s]+)@", re.I)
PASSWORD_PAIR = re.compile(
    r"(?P<key>(?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)(?P<value>[^\s,;&'\"]+)", re.IGNORECASE
)
MIN_LENGTH = 4


def is_secret_name(name):
    return bool(SECRET_NAME.search(name or ""))


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
