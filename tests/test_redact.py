from __future__ import annotations

from ansible_collections.ods.fix.plugins.module_utils import dotenv
from ansible_collections.ods.fix.plugins.module_utils.redact import Redactor, is_secret_name

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


def test_short_values_are_not_redacted_everywhere() -> None:
    redactor = Redactor({"DB_PASSWORD": "a"})
    assert redactor.redact("a cat") == "a cat"


def test_secret_names() -> None:
    assert all(is_secret_name(n) for n in ("MYSQL_PASSWORD", "OPENAI_API_KEY", "BISHENG_JWT_SECRET", "GH_TOKEN"))
    assert not any(is_secret_name(n) for n in ("MYSQL_HOST", "LOG_LEVEL", "REDIS_PORT"))
