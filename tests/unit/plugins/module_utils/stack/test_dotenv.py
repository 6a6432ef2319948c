"""The .env reader and writer (module_utils/stack/dotenv.py): comments, order and export kept, idempotent, and
against what Compose v2 itself reads from the same text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ansible_collections.ods.fix.plugins.module_utils.stack import dotenv

from tests import ROOT

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
# Each line, and what Compose 2.40.3's `config` read from it (scripts: /tmp check, kept here as the spec).
FILE = """# comment
PLAIN=abc
export EXPORTED=exp
SPACED = spaced value   \n\
INLINE=value # a comment
HASHNOSPACE=val#ue
EQUALS=a=b=c
SQ='single # not comment'
DQ="double # not comment"
DQESC="a\\nb\\tc\\\\d\\"e\\$f"
SQESC='a\\nb\\'c'
MULTI="-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
BKcwggSjAgEAAoIBAQC7
-----END PRIVATE KEY-----"
AFTERMULTI=after
SQMULTI='first
second'
YAML: yamlstyle
TRAIL="quoted" # comment after
EMPTY=
LEADINGHASH= #y
"""
COMPOSE_READS = {
    "PLAIN": "abc",
    "EXPORTED": "exp",
    "SPACED": "spaced value",
    "INLINE": "value",
    "HASHNOSPACE": "val#ue",
    "EQUALS": "a=b=c",
    "SQ": "single # not comment",
    "DQ": "double # not comment",
    "DQESC": 'a\nb\tc\\d"e$f',
    "SQESC": "a\\nb'c",
    "MULTI": PEM,
    "AFTERMULTI": "after",
    "SQMULTI": "first\nsecond",
    "YAML": "yamlstyle",
    "TRAIL": "quoted",
    "EMPTY": "",
    "LEADINGHASH": "#y",
}


def test_a_file_is_read_as_compose_reads_it() -> None:
    assert dotenv.parse(FILE) == COMPOSE_READS


def test_an_unclosed_quote_is_refused_naming_its_line_as_compose_refuses_the_file() -> None:
    with pytest.raises(dotenv.DotenvError, match=r"line 3: the value of KEY opens a \" quote that is never closed"):
        dotenv.parse('A=1\nB=2\nKEY="-----BEGIN KEY-----\nbody\nC=3\n')


def test_the_line_of_every_entry_is_where_its_key_is() -> None:
    lines = {e.key: e.line for e in dotenv.entries(FILE)}
    assert lines["MULTI"] == 12 and lines["AFTERMULTI"] == 16 and lines["YAML"] == 19


@pytest.mark.parametrize(
    ("key", "value", "written"),
    [
        ("PLAIN", "new", "PLAIN=new\n"),
        ("SQ", "it's new", "SQ='it\\'s new'\n"),
        ("DQ", 'say "hi" $HOME', 'DQ="say \\"hi\\" \\$HOME"\n'),
        ("INLINE", "changed", "INLINE=changed # a comment\n"),
        ("PLAIN", "two words # not a comment", 'PLAIN="two words # not a comment"\n'),
        ("MULTI", PEM.replace("BKcw", "ZZzz"), 'MULTI="' + PEM.replace("BKcw", "ZZzz") + '"\n'),
    ],
)
def test_a_value_is_rewritten_in_place_in_its_quoting_and_nothing_else_moves(
    key: str, value: str, written: str
) -> None:
    new, changed = dotenv.set_values(FILE, {key: value})
    assert changed == [key] and dotenv.parse(new) == dict(COMPOSE_READS, **{key: value})
    entry = next(e for e in dotenv.entries(FILE) if e.key == key)
    assert new[: entry.start] == FILE[: entry.start]  # every byte before it
    assert new[entry.start :].startswith(written)
    assert new.endswith(FILE[entry.end :])  # and every byte after it


def test_a_single_line_value_never_becomes_a_new_line_of_the_file() -> None:
    with pytest.raises(ValueError, match="control characters"):
        dotenv.set_values(FILE, {"PLAIN": "x\nMYSQL_HOST=evil"})
    assert dotenv.multiline_keys(FILE) == ["DQESC", "MULTI", "SQMULTI"]  # DQESC by its \\n escape


def compose_binary() -> Path | None:
    """The Compose v2 plugin scripts/test installs (.cache/docker), or the user's."""
    for config in (os.environ.get("DOCKER_CONFIG"), str(ROOT / ".cache" / "docker")):
        if config and (Path(config) / "cli-plugins" / "docker-compose").is_file():
            return Path(config) / "cli-plugins" / "docker-compose"
    return None


@pytest.mark.skipif(compose_binary() is None, reason="no Compose v2 binary here (scripts/test installs one)")
def test_compose_itself_reads_what_set_values_wrote(tmp_path: Path) -> None:
    """The spec is Compose: after a rewrite, `docker compose config` reads every value as parse() does."""
    new_values = {"DQ": 'q"uote $NOT_A_VAR \\ end', "SQ": "single's", "MULTI": PEM.replace("C7", "D8"), "PLAIN": "#x"}
    text, _ = dotenv.set_values(FILE, new_values)
    (tmp_path / ".env").write_text(text)
    services = {"s": {"image": "busybox", "environment": {k: "${" + k + "}" for k in COMPOSE_READS}}}
    (tmp_path / "docker-compose.yml").write_text(json.dumps({"services": services}))
    binary = compose_binary()
    assert binary is not None
    shutil.copy(binary, tmp_path / "docker-compose")
    out = subprocess.run(
        [str(tmp_path / "docker-compose"), "config", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
    )
    read = json.loads(out.stdout)["services"]["s"]["environment"]
    assert {k: v.replace("$$", "$") for k, v in read.items()} == dotenv.parse(text)


def test_a_project_env_compose_would_refuse_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    from ansible_collections.ods.fix.plugins.module_utils.stack import compose_files  # noqa: PLC0415

    env = tmp_path / ".env"
    env.write_text('MYSQL_PASSWORD=x\nJWT_KEY="-----BEGIN KEY-----\nbody\n')
    with pytest.raises(compose_files.ComposeFileError, match=r"\.env cannot be read, by Compose either: line 2: the "):
        compose_files.project_dotenv(str(tmp_path))


ENV = "# comment\nA=1\n\nexport B='two words'\n# trailing\n"


def test_set_values_keeps_comments_order_and_export() -> None:
    text, changed = dotenv.set_values(ENV, {"B": "three", "C": "new value", "A": "1"})
    assert changed == ["B", "C"]
    assert text == "# comment\nA=1\n\nexport B='three'\n# trailing\nC=\"new value\"\n"  # B keeps its quotes
    assert dotenv.parse(text) == {"A": "1", "B": "three", "C": "new value"}


def test_set_values_is_idempotent() -> None:
    assert dotenv.set_values(ENV, {"A": "1"}) == (ENV, [])


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ('KEY="v" # note', "v"),
        ("KEY='v w' # note", "v w"),
        ('KEY="a\\"b\\\\c"', 'a"b\\c'),
        ("KEY=plain # note", "plain"),
        ("KEY=pa#ss", "pa#ss"),
        ("KEY=back\\slash", "back\\slash"),
        ("export KEY = spaced ", "spaced"),
    ],
)
def test_dotenv_reads_values_as_compose_does(line: str, value: str) -> None:
    assert dotenv.parse(line + "\n") == {"KEY": value}


@pytest.mark.parametrize(
    "value",
    ["plain", "two words", 'a"b', "a\\b", 'q"\\"q', "it's", "#hash", "пароль-2024", "x # y", "$HOME", ""],
)
def test_dotenv_round_trips_every_value_exactly(value: str) -> None:
    text, _ = dotenv.set_values("A=1\n", {"K": value})
    assert dotenv.parse(text)["K"] == value
    assert dotenv.set_values(text, {"K": value}) == (text, [])


@pytest.mark.parametrize("bad", ["http://x\nMYSQL_HOST=evil", "a\rb", "a\tb", "a\x00b"])
def test_dotenv_refuses_a_value_with_a_control_character(bad: str) -> None:
    with pytest.raises(ValueError, match="control characters"):
        dotenv.set_values("A=1\n", {"CORS_ORIGINS": bad})
