# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""What a restore may run from a dump: an allow-list of what mysqldump and mariadb-dump write for one database.

A dump is a file people pass around, and the restore runs it as root. So every statement other than a table's
INSERT (which dump_reader matches itself, at the speed of the split) is matched here against what the dump tools
write, and anything else stops the restore before it runs (Unsafe, with the reason):

- a table's own statements: CREATE TABLE (of the engines that keep their rows in the data directory), DROP TABLE,
  LOCK/UNLOCK TABLES, ALTER TABLE ... DISABLE/ENABLE KEYS, MySQL 8's ANALYZE TABLE ... UPDATE HISTOGRAM;
- views, triggers, routines and events (CREATE, and DROP ... IF EXISTS), whose bodies name no other schema and
  hold none of the statements below;
- the session's own SETs (the character sets, time zone, checks and SQL mode the dump tools save and put back),
  user variables, COMMIT;
- the database statements, for the database being restored only: CREATE DATABASE and USE (never run: the restore
  chooses the schema), DROP DATABASE IF EXISTS just before its CREATE DATABASE (never run), ALTER DATABASE of its
  character set (run without the name, on the restored database);
- mysqldump 8.0's SET @@GLOBAL.GTID_PURGED, which is read past (the source server's GTID set).

Refused, among everything else: accounts and grants, server-wide settings, plugins, shutdown, replication, files
read or written on the server, the mysql client's own commands, dynamic SQL in bodies, and a name qualified with
another schema. The message never holds a string literal of the statement (an IDENTIFIED BY's password).
"""

import re


class Unsafe(Exception):
    """A statement the restore does not run; the message names it, without its strings, and says why."""


# One pass over a statement: strings and identifiers are kept whole, a versioned comment's markers are dropped
# (its text runs on the server), other comments are dropped.
TOKENS = re.compile(
    rb"'(?:[^'\\]|\\.|'')*(?:'|$)"
    rb'|"(?:[^"\\]|\\.|"")*(?:"|$)'
    rb"|`(?:[^`]|``)*(?:`|$)"
    rb"|/\*M?!\d{0,6}"
    rb"|/\*.*?(?:\*/|$)"
    rb"|\*/"
    rb"|--(?:[ \t\r][^\n]*|$)"
    rb"|#[^\n]*",
    re.S,
)
VERSIONED = re.compile(rb"/\*M?!")
SINGLE_QUOTED = re.compile(rb"'(?:[^'\\]|\\.|'')*'")
QUOTED = re.compile(rb"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`(?:[^`]|``)*`")
SPACE = re.compile(rb"\s+")

IDENT = rb"(?:`((?:[^`]|``)+)`|([A-Za-z0-9_$]+))"
USER = rb"(?:`[^`]*`|'[^']*'|[\w$]+)(?:@(?:`[^`]*`|'[^']*'|[\w$.%-]+))?(?:\(\))?"

CREATE_TABLE = re.compile(rb"^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?" + IDENT + rb"\s*\(", re.I)
DROP_TABLE = re.compile(rb"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?" + IDENT + rb"$", re.I)
LOCK_TABLES = re.compile(rb"^LOCK\s+TABLES\s+" + IDENT + rb"\s+WRITE$", re.I)
UNLOCK_TABLES = re.compile(rb"^UNLOCK\s+TABLES$", re.I)
TABLE_KEYS = re.compile(rb"^ALTER\s+TABLE\s+" + IDENT + rb"\s+(?:DISABLE|ENABLE)\s+KEYS$", re.I)
HISTOGRAM = re.compile(rb"^ANALYZE\s+TABLE\s+" + IDENT + rb"\s+UPDATE\s+HISTOGRAM\s+ON\s+[^;]*$", re.I)
INSERT = re.compile(
    rb"^(?:INSERT(?:\s+IGNORE)?|REPLACE)\s+INTO\s+" + IDENT + rb"\s*(?:\([^()]*\)\s*)?VALUES\s*\(", re.I
)
CREATE_DATABASE = re.compile(
    rb"^CREATE\s+(?:DATABASE|SCHEMA)\s+(?:IF\s+NOT\s+EXISTS\s+)?" + IDENT + rb"(?:\s+[^;]*)?$", re.I
)
DROP_DATABASE = re.compile(rb"^DROP\s+(?:DATABASE|SCHEMA)\s+(?:IF\s+EXISTS\s+)?" + IDENT + rb"$", re.I)
USE = re.compile(rb"^USE\s+" + IDENT + rb"$", re.I)
ALTER_DATABASE = re.compile(
    rb"^ALTER\s+(?:DATABASE|SCHEMA)\s+"
    + IDENT
    + rb"((?:\s+(?:DEFAULT\s+)?(?:CHARACTER\s+SET|CHARSET|COLLATE)\s*=?\s*\w+)+)$",
    re.I,
)
DROP_OBJECT = re.compile(
    rb"^DROP\s+(VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT)\s+(?:IF\s+EXISTS\s+)?" + IDENT + rb"$", re.I
)
CREATE_OBJECT = re.compile(
    rb"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?(?:DEFINER\s*=\s*" + USER + rb"\s+)?"
    rb"(?:SQL\s+SECURITY\s+\w+\s+)?(?:AGGREGATE\s+)?(VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    + IDENT
    + rb"(?!\s*\.)",
    re.I,
)
COMMIT = re.compile(rb"^COMMIT$", re.I)
GTID_PURGED = re.compile(rb"^SET\s+@@GLOBAL\.GTID_PURGED\s*=", re.I)
# mariadb-dump --all-databases --add-drop-database turns the server's table logging off around the mysql schema's
# log tables, then back: a whole server's dump's business, read past with that schema.
LOG_OUTPUT_GUARD = re.compile(
    rb"^EXECUTE\s+IMMEDIATE\s+IF\s*\(\s*@@LOG_OUTPUT\s*=\s*'TABLE'\s+AND\s+\(\s*@@LOG_SLOW_QUERY\s*=\s*1\s+OR\s+"
    rb"@@GENERAL_LOG\s*=\s*1\s*\)\s*,\s*\"SET GLOBAL LOG_OUTPUT='NONE'\"\s*,\s*\"DO 0\"\s*\)$"
    rb"|^SET\s+GLOBAL\s+LOG_OUTPUT\s*=\s*@save_log_output$",
    re.I,
)
SET = re.compile(rb"^SET\s+(.+)$", re.I | re.S)

# The session settings mysqldump and mariadb-dump save, change and put back (names as the server spells them).
SESSION_SETTINGS = frozenset(
    [
        "autocommit",
        "character_set_client",
        "character_set_connection",
        "character_set_results",
        "check_constraint_checks",
        "collation_connection",
        "foreign_key_checks",
        "note_verbosity",
        "sql_log_bin",
        "sql_mode",
        "sql_notes",
        "sql_quote_show_create",
        "system_versioning_insert_history",
        "time_zone",
        "unique_checks",
    ]
)
ASSIGNMENT = re.compile(
    rb"^(?:(SESSION|LOCAL|GLOBAL|PERSIST|PERSIST_ONLY)\s+|@@(?:(SESSION|LOCAL|GLOBAL|PERSIST|PERSIST_ONLY)\.)?)?"
    rb"([A-Za-z_][\w$]*)\s*:?=\s*(.+)$",
    re.I | re.S,
)
USER_VARIABLE = re.compile(rb"^@(?:[\w$.]+|`[^`]*`|'[^']*')\s*:?=\s*(.+)$", re.S)
NAMES = re.compile(rb"^(?:NAMES|CHARACTER\s+SET|CHARSET)\s+(?:\w+|'\w+')(?:\s+COLLATE\s+(?:\w+|'\w+'))?$", re.I)
VALUE = re.compile(
    rb"^(?:@@(?:(?:SESSION|LOCAL|GLOBAL)\.)?[\w$]+|@[\w$]+|'(?:[^'\\]|\\.|'')*'|[-+]?\d+(?:\.\d+)?|[A-Za-z_][\w$]*)$",
    re.I,
)

# Engines whose rows are the server's own files in its data directory. CONNECT, FEDERATED, SPIDER and MERGE reach
# files or servers elsewhere, and are refused.
ENGINES = frozenset(["innodb", "myisam", "aria", "memory", "heap", "archive", "csv", "blackhole", "rocksdb"])
ENGINE = re.compile(rb"\bENGINE\s*=?\s*(\w+)", re.I)
TABLE_REACHES_OUT = re.compile(
    rb"\b(?:DATA|INDEX)\s+DIRECTORY\b|\bCONNECTION\s*=|\bUNION\s*=|\bSELECT\b|\(\s*LIKE\b", re.I
)
QUALIFIED = re.compile(rb"(?:`((?:[^`]|``)+)`|\"((?:[^\"]|\"\")+)\"|\b([A-Za-z_$][\w$]*))\s*\.\s*(?=[`\"A-Za-z_$])")

# What a view, trigger, routine or event must not hold: once created it runs as its DEFINER, often root, and an
# event runs by itself. These reach beyond the database being restored, or build statements at run time.
BODY_DENIED = [
    (re.compile(rb"\b(?:GRANT|REVOKE)\b", re.I), "it changes the server's accounts and privileges"),
    (re.compile(rb"\b(?:CREATE|ALTER|DROP|RENAME)\s+(?:USER|ROLE)\b", re.I), "it changes the server's accounts"),
    (re.compile(rb"\bSET\s+(?:PASSWORD|(?:DEFAULT\s+)?ROLE)\b", re.I), "it changes the server's accounts"),
    (
        re.compile(rb"\bSET\s+(?:GLOBAL|PERSIST|PERSIST_ONLY)\b|@@(?:GLOBAL|PERSIST)\b", re.I),
        "it changes a setting of the whole server",
    ),
    (re.compile(rb"\bFLUSH\b", re.I), "FLUSH acts on the whole server"),
    (re.compile(rb"\b(?:INSTALL|UNINSTALL)\s+(?:PLUGIN|SONAME|COMPONENT)\b", re.I), "it installs code in the server"),
    (re.compile(rb"\b(?:SHUTDOWN|RESTART)\b", re.I), "it stops the server"),
    (
        re.compile(
            rb"\bCHANGE\s+(?:MASTER|REPLICATION)\b|\b(?:START|STOP|RESET)\s+(?:SLAVE|REPLICA|MASTER|ALL)\b", re.I
        ),
        "it changes the server's replication",
    ),
    (re.compile(rb"\bINTO\s+(?:OUTFILE|DUMPFILE)\b", re.I), "it writes a file on the database server"),
    (re.compile(rb"\bLOAD\s+(?:DATA|XML)\b|\bLOAD_FILE\s*\(", re.I), "it reads a file on the database server"),
    (
        re.compile(rb"\b(?:CREATE|DROP|ALTER)\s+(?:DATABASE|SCHEMA|SERVER|TABLESPACE)\b", re.I),
        "it changes other databases",
    ),
    (re.compile(rb"\b(?:PREPARE|EXECUTE|DEALLOCATE)\b", re.I), "it builds statements at run time (dynamic SQL)"),
    (re.compile(rb"\bKILL\b", re.I), "it stops other sessions"),
]
# Statements known to be outside a database's dump, refused with their reason (the rest: "not something the dump
# tools write").
TOP_DENIED = [
    *BODY_DENIED[:-1],
    (re.compile(rb"^(?:SET\s+)?PASSWORD\b", re.I), "it changes the server's accounts"),
    (re.compile(rb"^(?:SYSTEM|SOURCE|CONNECT|TEE|PAGER|\\)", re.I), "it is a command of the mysql client, not SQL"),
]
SYSTEM_SCHEMAS = ("mysql", "sys", "information_schema", "performance_schema", "ods_fix")


def name_of(match, first=1):
    quoted, bare = match.group(first), match.group(first + 1)
    return (
        quoted.replace(b"``", b"`").decode("utf-8", "replace")
        if quoted is not None
        else bare.decode("utf-8", "replace")
    )


def executable(text):
    """What the server runs of a statement: versioned comments opened, other comments gone, strings kept whole."""
    out, last, depth = [], 0, 0
    for match in TOKENS.finditer(text):
        token = match.group()
        out.append(text[last : match.start()])
        last = match.end()
        if VERSIONED.match(token):
            depth += 1
            out.append(b" ")
        elif token == b"*/":
            if depth:
                depth -= 1
                out.append(b" ")
            else:
                out.append(token)
        elif token[:1] in b"'\"`":
            out.append(token)
        else:
            out.append(b" ")
    out.append(text[last:])
    return b"".join(out)


def normalize(lines, delimiter=b";"):
    """A statement (its lines) as the server reads it, on one line, without its delimiter."""
    text = executable(b"".join(lines)).strip()
    if text.endswith(delimiter):
        text = text[: -len(delimiter)].rstrip()
    return text


def shown(statement, limit=90):
    """The statement for a message: one line, every string literal hidden (it may be a password), cut short."""
    text = SINGLE_QUOTED.sub(b"'...'", SPACE.sub(b" ", statement)).decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Policy:
    """The allow-list for one restore: which database it restores, which other schemas a dump must not name."""

    def __init__(self, own=(), server_schemas=()):
        self.own = {name.lower() for name in own if name}
        self.others = {name.lower() for name in server_schemas if name} | set(SYSTEM_SCHEMAS)

    def also_own(self, name):
        if name:
            self.own.add(name.lower())

    def foreign(self, text, dump_databases=()):
        """The other schemas a statement names (schema.name), outside its string literals."""
        others = (self.others | {d.lower() for d in dump_databases}) - self.own
        found = []
        for match in QUALIFIED.finditer(SINGLE_QUOTED.sub(b"''", text)):
            raw = match.group(1) or match.group(2) or match.group(3)
            name = raw.decode("utf-8", "replace").replace("``", "`").lower()
            if name in others and name not in found:
                found.append(name)
        return found

    def check(self, statement, dump_databases=()):
        """None when a normalized statement (not a database statement, not a fast-path INSERT) may run as it is;
        ("skip", why) when it is read past; ("rewrite", statement) when that runs instead. Unsafe otherwise."""
        foreign = self.foreign(statement, dump_databases)
        if foreign:
            raise Unsafe("{} names another schema ({})".format(shown(statement, 60), ", ".join(foreign)))
        if GTID_PURGED.match(statement):
            return "skip", "SET @@GLOBAL.GTID_PURGED (the source server's GTID set)"
        if LOG_OUTPUT_GUARD.match(statement):
            return "skip", "mariadb-dump's switch of the server's log output around the mysql schema (a whole server's)"
        match = SET.match(statement)
        if match:
            self.check_set(statement, match.group(1))
            return None
        if any(p.match(statement) for p in (DROP_TABLE, LOCK_TABLES, UNLOCK_TABLES, TABLE_KEYS, HISTOGRAM, COMMIT)):
            return None
        if DROP_OBJECT.match(statement):
            return None
        if CREATE_TABLE.match(statement):
            self.check_create_table(statement)
            return None
        if INSERT.match(statement):
            values_only(statement)
            return None
        if CREATE_OBJECT.match(statement):
            self.check_body(statement)
            return None
        match = ALTER_DATABASE.match(statement)
        if match:
            if name_of(match).lower() not in self.own:
                raise Unsafe(f"{shown(statement)} changes another database")
            # On the restored database, whatever its name: the objects script runs in it.
            return "rewrite", b"ALTER DATABASE" + match.group(3)
        raise Unsafe(why_not(statement))

    def check_set(self, statement, assignments):
        for part in split_top_level(assignments):
            assignment = part.strip()
            if NAMES.match(assignment):
                continue
            user = USER_VARIABLE.match(assignment)
            if user:
                value = user.group(1).strip()
            else:
                match = ASSIGNMENT.match(assignment)
                if not match:
                    raise Unsafe(why_not(statement))
                scope = (match.group(1) or match.group(2) or b"").upper()
                if scope in (b"GLOBAL", b"PERSIST", b"PERSIST_ONLY"):
                    raise Unsafe(f"{shown(statement)} changes a setting of the whole server")
                setting = match.group(3).decode().lower()
                if setting == "password":
                    raise Unsafe(f"{shown(statement)} changes the server's accounts")
                if setting not in SESSION_SETTINGS:
                    raise Unsafe(
                        f"{shown(statement)} sets {setting}, which is not a session setting the dump tools make"
                    )
                value = match.group(4).strip()
            if not VALUE.match(value):
                raise Unsafe(f"{shown(statement)} sets a value that is not a plain value")

    def check_create_table(self, statement):
        bare = QUOTED.sub(b"''", statement)
        reaching = TABLE_REACHES_OUT.search(bare)
        if reaching:
            what = SPACE.sub(b" ", reaching.group()).decode().upper()
            raise Unsafe(f"{shown(statement, 60)} uses {what}: its rows or files would come from elsewhere")
        for engine in ENGINE.findall(bare):
            if engine.decode().lower() not in ENGINES:
                raise Unsafe(
                    f"{shown(statement, 60)} uses ENGINE={engine.decode()}, which keeps its rows outside the database"
                )

    def check_body(self, statement):
        bare = QUOTED.sub(b"''", statement)
        for pattern, reason in BODY_DENIED:
            if pattern.search(bare):
                raise Unsafe(f"{shown(statement, 70)}: {reason}")


def why_not(statement):
    bare = QUOTED.sub(b"''", statement)
    for pattern, reason in TOP_DENIED:
        if pattern.search(bare):
            return f"{shown(statement)}: {reason}"
    return f"{shown(statement)} is not a statement the dump tools write for a database's tables and objects"


def split_top_level(text):
    """A SET's assignments: split at the commas outside strings and parentheses."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i : i + 1]
        if char in (b"'", b'"', b"`"):
            end = QUOTED.match(text, i)
            i = end.end() if end else len(text)
            continue
        if char == b"(":
            depth += 1
        elif char == b")":
            depth -= 1
        elif char == b"," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def database_statement(statement):
    """("create" | "drop" | "use", name) for CREATE DATABASE, DROP DATABASE and USE, else None."""
    for kind, pattern in (("create", CREATE_DATABASE), ("drop", DROP_DATABASE), ("use", USE)):
        match = pattern.match(statement)
        if match:
            return kind, name_of(match)
    return None


def insert_refusal(statement):
    """Why an INSERT is refused: it names another schema, or is not INSERT INTO `t` [(columns)] VALUES (...)."""
    head = SPACE.sub(b" ", statement[:300])
    match = re.match(rb"^(?:INSERT(?:\s+IGNORE)?|REPLACE)\s+INTO\s+" + IDENT + rb"\s*\.", head, re.I)
    if match:
        return f"{shown(head, 60)} writes into another schema ({name_of(match)})"
    return f"{shown(head, 60)} is not an INSERT of values into one of the dump's tables"


# What may stand between the string literals of an INSERT's VALUES: numbers, NULL, hex and bit literals,
# charset introducers, and the punctuation of the rows. An expression (a subquery, a function) is refused.
LITERALS = re.compile(
    rb"(?:\s+|[(),]|''|NULL\b|_[A-Za-z0-9]+\b|0x[0-9A-Fa-f]+|[xXbB](?='')|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)*",
    re.I,
)
VALUES_WORD = re.compile(rb"\bVALUES\s*", re.I)


def values_only(statement):
    """Unsafe unless the INSERT's VALUES hold literal values only (the INSERTs the restore runs as they are)."""
    match = VALUES_WORD.search(statement)
    if not match:
        raise Unsafe(insert_refusal(statement))
    body = statement[match.end() :].rstrip().rstrip(b";").replace(b"\\\\", b"").replace(b"\\'", b"")
    outside = b"''".join(body.split(b"'")[::2])
    if not LITERALS.fullmatch(outside):
        raise Unsafe(f"{shown(statement[: match.end()] + b'...', 60)} holds an expression where a value should be")
