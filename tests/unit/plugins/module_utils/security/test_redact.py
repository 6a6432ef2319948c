from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest
from ansible_collections.ods.fix.plugins.module_utils.mysql import root_access
from ansible_collections.ods.fix.plugins.module_utils.security import (
    redact,
)
from ansible_collections.ods.fix.plugins.module_utils.security.redact import (
    Redactor,
    command_secrets,
    evidence_redactor,
    forms,
    is_secret_name,
)
from ansible_collections.ods.fix.plugins.module_utils.stack import dotenv

ENV = """# comment
MYSQL_HOST=mysql
MYSQL_PASSWORD="s3cr3t-pw"
export OPENAI_API_KEY=sk-abcdef123456
LOG_LEVEL=INFO # inline comment
EMPTY=
"""


def test_dotenv_parses_quotes_export_and_comments() -> None:
    values = dotenv.parse(ENV)
    assert values == {
        "MYSQL_HOST": "mysql",
        "MYSQL_PASSWORD": "s3cr3t-pw",
        "OPENAI_API_KEY": "sk-abcdef123456",
        "LOG_LEVEL": "INFO",
        "EMPTY": "",
    }


def test_only_secret_names_are_redacted_by_value() -> None:
    redactor = Redactor()
    redactor.add_env(dotenv.parse(ENV))
    text = "connect mysql with s3cr3t-pw and key sk-abcdef123456"
    assert redactor.redact(text) == ("connect mysql with [REDACTED:MYSQL_PASSWORD] and key [REDACTED:OPENAI_API_KEY]")


def test_credentials_in_urls_and_pairs_are_redacted_without_being_declared() -> None:
    redactor = Redactor()
    assert redactor.redact("mysql+pymysql://ods:hunter22@mysql/db") == "mysql+pymysql://ods:[REDACTED]@mysql/db"
    assert redactor.redact("login password=hunter22 ok") == "login password=[REDACTED] ok"


def test_redact_obj_walks_nested_data() -> None:
    redactor = Redactor({"TOKEN": "tok-123456"})
    assert redactor.redact_obj({"a": ["x tok-123456"], "n": 3}) == {"a": ["x [REDACTED:TOKEN]"], "n": 3}


def test_short_values_of_secret_names_are_redacted_as_whole_words_only() -> None:
    redactor = Redactor({"DB_PASSWORD": "a", "LOG_LEVEL": "x"})
    assert redactor.redact("a cat, x") == "[REDACTED:DB_PASSWORD] cat, x"


def test_secret_names() -> None:
    assert all(is_secret_name(n) for n in ("MYSQL_PASSWORD", "OPENAI_API_KEY", "BISHENG_JWT_SECRET", "GH_TOKEN"))
    assert not any(is_secret_name(n) for n in ("MYSQL_HOST", "LOG_LEVEL", "REDIS_PORT"))


CANARIES = ["пароль-2024 ü", 'ab"cd\\ef', "pw with $dollar #hash", "tab\tand 'quote'"]


def every_form(value: str) -> list[str]:
    """How a value leaves a program: raw, JSON (both ways), URL-encoded, base64, and inside a Basic header."""
    basic = base64.b64encode(("admin:" + value).encode()).decode()
    return [
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
        base64.b64encode(value.encode()).decode(),
        basic,
    ]


def test_a_secret_is_redacted_in_every_form_it_takes() -> None:
    redactor = Redactor()
    for number, value in enumerate(CANARIES):
        redactor.add(f"SECRET_{number}", value)
    for value in CANARIES:
        for shown in every_form(value):
            text = redactor.redact(f"before {shown} after")
            assert shown not in text and "[REDACTED:" in text, (value, shown, text)


def test_structured_data_is_redacted_before_it_is_serialised() -> None:
    redactor = Redactor({"SECRET": 'ab"cd\\ef'})
    data = {"env": ['PW=ab"cd\\ef'], 'ab"cd\\ef': 1}
    dumped = json.dumps(redactor.redact_obj(data))
    assert "ab" not in dumped.replace("[REDACTED:SECRET]", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redis://:hunter22@redis:6379/0", "redis://:[REDACTED]@redis:6379/0"),
        ('password="two words"', 'password="[REDACTED]"'),
        ("'password': 'x1'", "'password': '[REDACTED]'"),
        ('{"db_password": "x1", "user": "u"}', '{"db_password": "[REDACTED]", "user": "u"}'),
        ("api_key: sk-1234", "api_key: [REDACTED]"),
        ("token=abc&next=1", "token=[REDACTED]&next=1"),
    ],
)
def test_undeclared_credentials_in_urls_and_pairs(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


def test_a_password_name_redacts_a_value_that_looks_like_a_word() -> None:
    redactor = evidence_redactor({"DB_PW": "hunterpass", "MYSQL_USER": "onedata"}, [], hosts=("mysql",))
    assert redactor.redact("onedata logs in with hunterpass") == "onedata logs in with [REDACTED:DB_PW]"


@pytest.mark.parametrize(
    ("argv", "found"),
    [
        (["redis-server", "--appendonly", "yes", "--requirepass", "s3cr3t pw"], ["s3cr3t pw"]),
        (["/usr/bin/app", "--password=hunter22", "--port", "80"], ["hunter22"]),
        (["redis-cli -a 'pw with #' ping"], ["pw with #"]),
        (["sh", "-c", "mysqladmin ping -pTopSecret9"], ["TopSecret9"]),
        (["mysqladmin", "ping", "-pTopSecret9"], ["TopSecret9"]),
        (["redis-cli", "-a", "$REDIS_PASSWORD", "ping"], []),  # a variable, not a value
        (["nginx", "-g", "daemon off;"], []),
    ],
)
def test_secrets_on_command_lines_and_in_health_checks(argv: list[str], found: list[str]) -> None:
    assert command_secrets(argv) == found


def test_a_secret_flag_in_text_is_redacted_even_undeclared() -> None:
    text = "root 1 redis-server *:6379 --requirepass hunter22 --appendonly yes"
    assert Redactor().redact(text) == "root 1 redis-server *:6379 --requirepass [REDACTED] --appendonly yes"


def test_a_password_is_also_masked_as_the_sql_literal_a_server_error_quotes() -> None:
    password = "it's a \\ pw"
    error = f"ERROR 1064 (42000): near 'IDENTIFIED BY {root_access.quote(password)}' at line 1"
    masked = error
    for form in sorted(forms(password, sql=True), key=len, reverse=True):
        masked = masked.replace(form, "********")
    assert "it''s" not in masked and "\\\\ pw" not in masked


def test_a_user_name_is_no_secret_and_a_service_named_like_it_is_passed_on_as_it_is() -> None:
    """The public deploy/local layout: KEYCLOAK_ADMIN=admin beside a service admin-api (issue 25)."""
    assert not is_secret_name("KEYCLOAK_ADMIN") and not is_secret_name("KEYCLOAK_URL")
    assert all(is_secret_name(n) for n in ("KEYCLOAK_ADMIN_PASSWORD", "OPENAI_API_KEY", "APIKEY", "KEY", "SECRET_KEY"))
    redactor = Redactor(names={"admin-api", "one-data-admin-api"})
    redactor.add_env({"KEYCLOAK_ADMIN": "admin", "KEYCLOAK_ADMIN_PASSWORD": "admin-pw-1"})
    result = {"apis": {"admin-api": {"container": "one-data-admin-api", "body": "login admin-pw-1 refused"}}}
    assert redactor.redact_obj(result) == {
        "apis": {
            "admin-api": {"container": "one-data-admin-api", "body": "login [REDACTED:KEYCLOAK_ADMIN_PASSWORD] refused"}
        }
    }


def test_even_a_password_that_is_a_service_name_leaves_the_names_that_flow_on_alone() -> None:
    redactor = Redactor({"REDIS_PASSWORD": "redis"}, names={"redis"})
    assert redactor.redact_obj({"services": ["redis"], "redis": "log: auth redis failed"}) == {
        "services": ["redis"],
        "redis": "log: auth [REDACTED:REDIS_PASSWORD] failed",
    }


def test_every_line_of_a_multi_line_secret_is_redacted_wherever_it_is_shown() -> None:
    pem = (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
    )
    redactor = Redactor({"JWT_PRIVATE_KEY": pem})
    yaml_block = "JWT_PRIVATE_KEY: |-\n      " + pem.replace("\n", "\n      ")  # docker compose config
    shown = redactor.redact(yaml_block)
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in shown and "BKcwggSjAgEAAoIBAQC7" not in shown
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" in pem  # the canary was in the input


@pytest.mark.parametrize(
    ("name", "value", "public"),
    [
        ("MYSQL_HOST", "mysql", True),
        ("ANYTHING", "mysql", True),  # one of the stack's own services
        ("MYSQL_PORT", "3306", True),
        ("LOG_LEVEL", "INFO", True),
        ("MYSQL_DATABASE", "one_data_alldata", True),
        ("CORS_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000", True),
        ("PATH", "/usr/local/bin:/usr/bin", True),
        ("DB_PW", "hunterpass", False),  # a word, but held by a password's name
        ("SESSION_SEED", "hunterpass", False),  # a word held by a name that says nothing
        ("ODS_CANARY", "canary-5e1f9c0a", False),
        ("ANY", "3f9a0c9d8e7f6a5b", False),
        ("ANY", "sk-AbCdEf", False),
        ("DATABASE_URL", "mysql://ods:pw@mysql/db", False),
    ],
)
def test_public_values_are_judged_by_where_they_come_from(name: str, value: str, public: bool) -> None:
    assert redact.is_public_value(value, name, hosts=("mysql", "redis")) is public


def test_evidence_redaction_takes_every_value_whatever_its_name() -> None:
    redactor = redact.evidence_redactor(
        {"MYSQL_HOST": "mysql", "SESSION_SEED": "a9f3c2e1d0b8", "MYSQL_PASSWORD": "abcd"},
        [{"ODS_CANARY": "canary-0042x", "PATH": "/usr/bin:/bin"}],
    )
    text = redactor.redact("mysql up; seed a9f3c2e1d0b8; pw abcd; canary-0042x; PATH /usr/bin:/bin")
    assert text == (
        "mysql up; seed [REDACTED:SESSION_SEED]; pw [REDACTED:MYSQL_PASSWORD]; [REDACTED:ODS_CANARY]; "
        "PATH /usr/bin:/bin"
    )
