# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Replace known secret values in text with [REDACTED:NAME].

Redaction knows the real values (from the settings files and the containers'
environment) instead of guessing from patterns, and knows them in every form
they take on the way out: as they are, JSON-escaped (with and without
ensure_ascii), YAML-quoted, URL-encoded and base64-encoded (also inside a
longer base64 text, such as an HTTP Basic header). A pattern pass catches what
was never declared: credentials in URLs, and password/secret/token/key pairs,
quoted or not, in JSON, YAML and shell forms.

Structured data is redacted before it is serialised (redact_obj), so that a
serialiser's escaping cannot hide a value from the text pass.
"""

import base64
import json
import os
import re
import shlex
from urllib.parse import quote, quote_plus

# A secret by its name: what the value is for. PW, PASS and KEY as words (DB_PW, REDIS_PASS, API_KEY, APIKEY),
# not inside others: KEYCLOAK_ADMIN names a user, and its value (admin) is no secret.
SECRET_NAME = re.compile(
    r"PASSW|PWD|(?:^|_)PW(?:_|$)|(?:^|_)PASS(?:_|$)|SECRET|TOKEN|(?:^|_)(?:API)?KEYS?(?:_|$)|CREDENTIAL|PRIVATE|AUTH"
    r"|SALT|DSN|SIGNATURE",
    re.IGNORECASE,
)
# redis://:password@redis (no user) as well as mysql+pymysql://user:password@mysql
URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)
PAIR_KEY = r"(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)"
# password=x, password: x, password="x y", 'password': 'x', "password": "x", --password x is not a pair.
PASSWORD_PAIR = re.compile(
    r"(?P<key>(?P<kq>[\"']?)[\w.-]*" + PAIR_KEY + r"[\w.-]*(?P=kq)\s*[=:]\s*)"
    r"(?:(?P<q>[\"'])(?P<quoted>(?:\\.|(?!(?P=q)).)*)(?P=q)|(?P<value>[^\s,;&'\"}\]]+))",
    re.IGNORECASE,
)
# A secret given on a command line: redis-server --requirepass X, --password=X, a token flag; undeclared ones too.
SECRET_FLAG = r"--?(?:requirepass|masterauth|password|passwd|pass|pwd|token|secret|api[-_]?key|auth|access[-_]?key)"
FLAG_VALUE = re.compile(
    r"(?P<flag>(?<![\w-])" + SECRET_FLAG + r"(?:=|\s+))(?P<value>(?!\[REDACTED)[^\s'\"]+)", re.IGNORECASE
)
MIN_LINE = 8  # a line of a multi-line secret as short as this is no secret by itself (a PEM's last line may be)
MIN_LENGTH = 4  # shorter values are redacted only as whole words, and only when their name marks a secret
# Values plainly not secret: booleans and log levels, numbers and versions, paths, URLs without credentials.
# Used only for values whose name says nothing (a secret name always redacts; see add_every).
PUBLIC_WORDS = frozenset(["true", "false", "yes", "no", "on", "off", "debug", "info", "warn", "warning", "error"])
NUMBER = re.compile(r"^[0-9][0-9.:_]*$")
PATH_LIST = re.compile(r"^/[^\s:]*(?::/[^\s:]*)*$")
URL_LIST = re.compile(
    r"^[a-z][a-z0-9+.-]*://[^/@\s:,]+(?::[0-9]+)?(?:/[^\s@,]*)?(?:,[a-z][a-z0-9+.-]*://[^/@\s:,]+(?::[0-9]+)?(?:/[^\s@,]*)?)*$"
)
# Names whose value is a name, not a secret: a host, a port, a user, a database, a level... A lowercase word is
# public only as the value of one of these (or as one of the stack's own service names): DB_PW=hunterpass is not.
PUBLIC_NAME = re.compile(
    r"(?:^|_)(?:HOST|HOSTNAME|SERVER|PORT|USER|USERNAME|DATABASE|DB|SCHEMA|NAME|LEVEL|ENV|MODE|DIR|PATH|URL|URI"
    r"|ENDPOINT|ADDR|ADDRESS|TZ|LANG|LOCALE|VERSION|TIMEOUT|WORKERS|SIZE|LIMIT|REGION|BUCKET|COLLECTION|MODEL)$",
    re.IGNORECASE,
)
WORD = re.compile(r"^[a-z][a-z0-9_.-]{0,62}$")


def is_secret_name(name):
    return bool(SECRET_NAME.search(name or ""))


def is_public_value(value, name="", hosts=()):
    """True for a value nobody keeps secret, judged by where it comes from: a boolean or log level, a number,
    a path, a URL without credentials, one of the stack's own service names, or a word that a name such as
    MYSQL_HOST, MYSQL_USER or LOG_LEVEL holds. Any other value, however it looks, may be a secret."""
    text = (value or "").strip()
    if not text or text.lower() in PUBLIC_WORDS or text in hosts:
        return True
    if any(pattern.match(text) for pattern in (NUMBER, PATH_LIST, URL_LIST)):
        return True
    return bool(PUBLIC_NAME.search(name or "")) and bool(WORD.match(text))


def forms(value, sql=False):
    """The forms a value takes once serialised or encoded, the value itself first; with sql, also as the inside
    of a SQL string literal (a server error quotes the statement it refused)."""
    found = [value]
    if sql:
        found.append(value.replace("\\", "\\\\").replace("'", "''"))
    for dumped in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        found.append(dumped[1:-1])  # inside a JSON string
    found.append(value.replace("'", "''"))  # inside a single-quoted YAML string
    found.append(quote(value, safe=""))
    found.append(quote_plus(value, safe=""))
    raw = value.encode("utf-8")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        found.extend([whole, whole.rstrip("=")])
        # Inside a longer base64 text the value starts at one of three alignments; the characters that only
        # its own bytes make are the same whatever comes before and after.
        for shift in (1, 2):
            core = encode(b"\0" * shift + raw).decode("ascii")[(shift * 4 + 2) // 3 + 1 : -4]
            if len(core) >= 8:
                found.append(core)
    core = whole[: len(raw) * 4 // 3 - 4] if len(raw) >= 9 else ""
    if len(core) >= 8:
        found.append(core)
    if "\n" in value:  # a key or a certificate: shown line by line (YAML blocks, logs), each line is the secret too
        for line in value.splitlines():
            if len(line.strip()) >= MIN_LINE:
                found.extend(forms(line.strip(), sql))
    out = []
    for item in found:
        if item and item not in out:
            out.append(item)
    return out


class Redactor:
    def __init__(self, secrets=None, names=()):
        self._secrets = {}  # form -> name
        self._short = {}  # short value of a secret name -> name, redacted as a whole word
        self._pattern = None
        # The project's own names (services, containers): data that flows on to other steps, never rewritten as a
        # whole value by redact_obj (a service admin-api beside a password admin stays admin-api).
        self.names_kept = frozenset(names)
        for name, value in (secrets or {}).items():
            self.add(name, value)

    def add(self, name, value):
        if not value:
            return
        if len(value) < MIN_LENGTH:
            if is_secret_name(name):
                self._short.setdefault(value, name)
                self._pattern = None
            return
        for form in forms(value):
            if len(form) >= MIN_LENGTH:
                self._secrets.setdefault(form, name)
        self._pattern = None

    def add_env(self, values, only_secret_names=True):
        for name, value in values.items():
            if not only_secret_names or is_secret_name(name):
                self.add(name, value)
        self.add_urls(values)

    def add_every(self, values, hosts=()):
        """Evidence: every value, whatever its name, unless it is plainly public; secret names always."""
        for name, value in values.items():
            if is_secret_name(name) or not is_public_value(value, name, hosts):
                self.add(name, value)
        self.add_urls(values)

    def add_urls(self, values):
        """The passwords of URLs in any value (DATABASE_URL=mysql://u:pw@h): secrets by where they are."""
        for name, value in values.items():
            for match in URL_CREDENTIALS.finditer(value or ""):
                password = match.group("pw")
                self.add(name, password)
                if "%" in password:
                    from urllib.parse import unquote  # noqa: PLC0415

                    self.add(name, unquote(password))

    def name_of(self, found):
        return self._secrets.get(found) or self._short.get(found)

    def add_commands(self, lines, name="COMMAND_LINE_SECRET"):
        """The values secret flags are given on command lines (argv lists, or a shell string as one item)."""
        for argv in lines:
            for value in command_secrets(argv):
                self.add(name, value)

    @property
    def names(self):
        return sorted(set(self._secrets.values()) | set(self._short.values()))

    def _compiled(self):
        if self._pattern is None:
            longest = sorted(self._secrets, key=len, reverse=True)
            parts = [re.escape(value) for value in longest]
            parts += [rf"(?<![\w]){re.escape(value)}(?![\w])" for value in sorted(self._short, key=len, reverse=True)]
            self._pattern = re.compile("|".join(parts)) if parts else False
        return self._pattern

    def redact(self, text):
        if not text:
            return text
        pattern = self._compiled()
        if pattern:
            text = pattern.sub(lambda m: f"[REDACTED:{self.name_of(m.group(0))}]", text)
        text = URL_CREDENTIALS.sub(
            lambda m: (
                m.group(0)
                if m.group("pw").startswith("[REDACTED")
                else "{}{}:[REDACTED]@".format(m.group("scheme"), m.group("user"))
            ),
            text,
        )
        text = FLAG_VALUE.sub(lambda m: m.group("flag") + "[REDACTED]", text)
        return PASSWORD_PAIR.sub(_redact_pair, text)

    def redact_obj(self, obj):
        """Structured data with every string redacted, keys too, but the project's own names (services,
        containers): later steps take those as they are."""
        if isinstance(obj, dict):
            return dict((self.redact_obj(k), self.redact_obj(v)) for k, v in obj.items())
        if isinstance(obj, (list, tuple)):
            return [self.redact_obj(v) for v in obj]
        if isinstance(obj, str):
            return obj if obj in self.names_kept else self.redact(obj)
        return obj


def command_secrets(argv):
    """The values of a command line's secret flags: --requirepass X, --password=X, redis-cli -a X, mysql -pX.

    An argv list is taken word for word; a shell command (one string, a health check's CMD-SHELL, sh -c's
    argument) is split as the shell would, roughly."""
    argv = list(argv or [])
    if len(argv) == 1:
        argv = _shell_words(argv[0])
    if len(argv) >= 3 and os.path.basename(argv[0]) in ("sh", "bash", "ash", "dash") and argv[1] == "-c":
        return command_secrets(_shell_words(argv[2]))
    program = os.path.basename(argv[0]) if argv else ""
    found = []
    for i, word in enumerate(argv):
        flag, _unused, attached = word.partition("=")
        secret_flag = re.match("^" + SECRET_FLAG + "$", flag, re.IGNORECASE) is not None
        short = word == "-a" and "redis" in program
        if secret_flag and attached:
            found.append(attached)
        elif (secret_flag or short) and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            found.append(argv[i + 1])
        elif word.startswith("-p") and len(word) > 2 and any(p in program for p in ("mysql", "mariadb")):
            found.append(word[2:])
    return [value for value in found if value and not value.startswith("$")]


def _shell_words(text):
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _redact_pair(match):
    value = match.group("quoted") if match.group("q") else match.group("value")
    if not value or value.startswith("[REDACTED"):
        return match.group(0)
    quote_char = match.group("q") or ""
    return f"{match.group('key')}{quote_char}[REDACTED]{quote_char}"


def evidence_redactor(env_file_values, container_envs, hosts=(), commands=()):
    """For evidence and audits: every value of the env file and of each container's environment (add_every), and
    what the containers' command lines and health checks give their secret flags."""
    redactor = Redactor()
    redactor.add_every(env_file_values, hosts)
    for env in container_envs:
        redactor.add_every(env, hosts)
    redactor.add_commands(commands)
    return redactor
