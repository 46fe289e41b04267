"""Plain-text logs: line dialects detected per file, parsed in bulk in SQL.

A dialect is one row of `DIALECTS`: a regular expression (RE2-compatible, so DuckDB runs it,
and Python-compatible, so detection can try it) whose named groups say where the time,
level, service, ids, HTTP fields and message are. The first named group is non-empty
whenever the line matches: that is how a line is known to start an event. Group names are
roles (`ts`, `level`, `service`, `message`, `session`, `request`, `trace`, `span`, `method`,
`url`, `status`, `duration`); a name with a `__x` suffix is an alternative spelling of the
same role (the first non-empty one wins); any other group lands in `attrs`. Several rows may
share a name (variants of one layout).

Lines that do not match continue the event above them (tracebacks, Java stack traces,
indented continuations), except in single-line dialects (access logs), where they are
events of their own. Header and comment lines a dialect names (`#fields`, `Log file created
at:` …) are never events and never part of a message.

Times are read with the dialect's strptime layouts, then `gc_time` (ISO-8601, epoch
numbers, common layouts). Times written without a year (syslog RFC 3164, glog, logcat,
Proxifier) take the year of the file's modification time, or the year before when that
would put them more than a day after the mtime (a December line in a file last written in
January is from last December); times without a date (logback's console layout) take the
mtime's date, or the day before when that would put them more than an hour after it. Times
without an offset are read in `--tz` (UTC by default).

Some layouts are read through the shared JSON projection (`fields.py`) instead: logfmt /
Go slog text, whose key=value pairs become a JSON object; dialects with a trailing JSON
object or key=value pairs (structlog's console renderer, zap's console encoder, Laravel);
and header-driven tables (Zeek TSV with `#fields`, W3C extended / IIS with `#Fields:`),
whose columns are named by the header in force at each line.

A line prefix can wrap another dialect: `docker compose` (`web-1  | …`: the service, ANSI
colours stripped, each service's lines detected and grouped on their own) and CRI /
Kubernetes container logs (`<RFC3339Nano> stdout F …`: partial `P` lines joined to the line
they continue).

Detection tries every dialect on the first `SAMPLE_LINES` non-blank lines with Python's `re`
and keeps the one whose start group matches most lines (ties go to the earlier, more
specific row; a generic row must beat the best specific one clearly). A file no dialect
recognises still becomes events, one per line (`plain`).

Accounting: every line of a file either starts an event, continues the event above it (a
blank line, a comment line or an unmatched line after an event is part of that event's
span), or — only before the first event — is counted blank (`ctx.blank`). So the events'
spans (from each event's line to the line before the next one) plus `ctx.blank` add up to
the file's lines.

Each chunk is parsed in one SQL statement (three for the JSON-read dialects). The chunk is
cut in Python before its last event's first line, found by trying the start regex on lines
from the end, and the cut-off lines are carried into the next chunk, so continuation lines
are never cut from their event.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from gascorr.engine import SMALL_ROWS, arrow
from gascorr.parsers import Chunk, ParseContext, in_line_order, lines_table, read_chunks, unnest_sql
from gascorr.parsers.fields import Projection, _q
from gascorr.sources import service_from_name

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from gascorr.sources import Source

SAMPLE_LINES = 200
MIN_SHARE = 0.1  # a generic multi-line dialect must start events on this share of the sample (others 1/5 of it)
MAX_CARRY_LINES = 20_000  # how far back from a chunk's end to look for its last event's start
MAX_PY_LINE = 4096  # detection tries Python regexes on at most this much of a line
SERVICE_WINDOW = 200  # with a `docker compose` prefix: tail lines whose services' last events are carried

# -- building blocks of the regexes -------------------------------------------------------------

_ISO = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z| ?[+-]\d\d:?\d\d)?"
_LEVEL = (
    r"(?i:trace|debug\d?|informational|information|info|notice|note|warning|warn|error|err|severe|"
    r"critical|crit|fatal|fine|finer|finest|config|alert|emergency|emerg|panic|verbose)"
)
_SYSLOG_TS = r"[A-Z][a-z]{2} +\d\d? \d\d:\d\d:\d\d"
_PROGRAM = r"(?P<service>[^\s:\[\]()]+)(?:\((?P<facility>[^)\s]*)\))?(?:\[(?P<pid>\d+)\])?(?: \((?P<context>[^)]*)\))?"
_REQUEST_LINE = r"(?P<method>[A-Z][A-Z_-]*) (?P<url>\S+)(?: [^\"]*)?"
_CLF_TS = r"\d\d/[A-Z][a-z]{2}/\d{4}[: ]\d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})?"


@dataclass(frozen=True)
class Dialect:
    """One line layout. See the module docstring for the group-name conventions."""

    name: str
    regex: str
    ts_formats: tuple[str, ...] = ()  # strptime layouts of the ts group, without a zone
    tz_formats: tuple[str, ...] = ()  # ... with a zone (%z / %Z)
    noyear_formats: tuple[str, ...] = ()  # layouts without the year (inferred, see the docstring)
    nodate_formats: tuple[str, ...] = ()  # layouts of a time of day only
    kind: str = "log"
    multiline: bool = True  # unmatched lines continue the event above (else: events of their own)
    comment: str = ""  # regex of header / comment lines: never events, never in a message
    ids: tuple[tuple[str, str], ...] = ()  # (role, regex whose group 1 is an id) tried on the first line
    level_sql: str = ""  # SQL for the level over `f` (the groups), instead of the level group
    duration_sql: str = ""  # SQL for duration_ms over `f`, instead of the duration group
    json: bool = False  # read through the JSON projection: groups become keys, `kv` / `json` merged
    generic: bool = False  # a fallback: wins only when clearly better than every specific row
    special: str = ""  # logfmt, zeek, w3c: parsed by their own code, not `regex` alone
    start: str = ""  # the group that is non-empty on every match, when it is not the first

    @property
    def groups(self) -> list[str]:
        return _groups(self.regex)

    @property
    def lead(self) -> str:
        """The group whose being non-empty tells that a line starts an event."""
        return self.start or self.groups[0]

    @property
    def roles(self) -> set[str]:
        return {_role(g) for g in self.groups}

    @property
    def head_regex(self) -> str | None:
        """For a layout `^HEAD(?P<message>.*)$`: `^(?P<gc_head>HEAD)`, whose groups are the
        same but the message, which is what follows `gc_head` on the line. RE2 extracts a
        struct of groups several times faster when the last one does not span the line."""
        if not self.regex.startswith("^") or not self.regex.endswith(_MESSAGE_TAIL) or self.lead == "message":
            return None
        if [g for g in self.groups if _role(g) == "message"] != ["message"] or self.groups[-1] != "message":
            return None
        return "^(?P<gc_head>" + self.regex[1 : -len(_MESSAGE_TAIL)] + ")"


_MESSAGE_TAIL = "(?P<message>.*)$"


def _role(group: str) -> str:
    return group.split("__")[0]


@cache
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _groups(regex: str) -> list[str]:
    idx = _compiled(regex).groupindex
    return sorted(idx, key=idx.__getitem__)


@dataclass(frozen=True)
class Prefix:
    """A line prefix that wraps lines of another dialect; `rest` is the wrapped line."""

    name: str
    regex: str
    partial: str = ""  # a group whose value `P` marks a line continued by the next (CRI) ...
    join_key: str = ""  # ... of the same value of this group (the stream)
    ansi: bool = False  # strip ANSI escape sequences from the wrapped line
    per_service: bool = False  # detect and group each service's lines on their own
    single_line: bool = False  # every wrapped line is an event (its own time is in the prefix)

    @property
    def groups(self) -> list[str]:
        return _groups(self.regex)


_ANSI = r"\x1b\[[0-9;?]*[A-Za-z]"

PREFIXES: list[Prefix] = [
    Prefix(
        "docker-compose",
        rf"^(?:{_ANSI})*(?P<service>[A-Za-z0-9][\w.-]*?)(?:[-_](?P<replica>\d+))?\s+\|(?P<rest>.*)$",
        ansi=True,
        per_service=True,
    ),
    Prefix(
        "cri",
        r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (?P<stream>stdout|stderr) "
        r"(?P<tag>[PF])(?::\S*)? ?(?P<rest>.*)$",
        partial="tag",
        join_key="stream",
        single_line=True,
    ),
]

LOGFMT_START = r"^[A-Za-z_][\w.@/-]*="

DIALECTS: list[Dialect] = [
    # -- gascorr's own examples and Python logging --------------------------------------------
    Dialect(
        "session-prefix",
        rf"^\[(?P<session>[^\]\s]+)\] - (?P<ts>{_ISO}) - (?P<logger>\S+) - (?P<level>[A-Za-z]+) - (?P<message>.*)$",
    ),
    Dialect("session-prefix-short", r"^\[(?P<session>[^\]\s]+)\] - (?P<level>[A-Z]+) - (?P<message>.*)$"),
    Dialect("python-logging", rf"^(?P<ts>{_ISO}) - (?P<logger>\S+) - (?P<level>[A-Za-z]+) - (?P<message>.*)$"),
    Dialect("python-logging", rf"^(?P<ts>{_ISO}) - (?P<level>{_LEVEL}) - (?P<message>.*)$"),
    Dialect(
        "python-logging",
        r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<logger>[^:\s]*):(?P<message>.*)$",
    ),
    Dialect("python-logging", rf"^(?P<ts>{_ISO}):(?P<level>{_LEVEL}):(?P<logger>[^:\s]*):(?P<message>.*)$"),
    # -- JVM --------------------------------------------------------------------------------
    Dialect(
        "log4j",
        rf"^(?P<ts>{_ISO})\s+(?P<level>{_LEVEL})\s+\[(?P<thread>[^\]]*)\]\s+(?P<logger>[\w.$\[\]-]+)\s*(?::|-)\s"
        r"(?P<message>.*)$",
        ids=(("request", r"\b(attempt_\d+_\d+_[mr]_\d+_\d+)\b"),),
    ),
    Dialect(
        "log4j",
        rf"^(?P<ts>{_ISO})\s+\[(?P<thread>[^\]]*)\]\s+(?P<level>{_LEVEL})\s+(?P<logger>[\w.$-]+)\s*(?::|-)\s"
        r"(?P<message>.*)$",
    ),
    Dialect(
        "spring-boot",
        rf"^(?P<ts>{_ISO})\s+(?P<level>{_LEVEL})\s+(?P<pid>\d+)\s+---\s+(?:\[(?P<app>[^\]]*)\]\s+)?"
        r"\[\s*(?P<thread>[^\]]*)\]\s+(?P<logger>\S+)\s*:\s(?P<message>.*)$",
    ),
    Dialect(
        "zookeeper",
        rf"^(?P<ts>{_ISO}) - (?P<level>{_LEVEL})\s+\[(?P<thread>.*?)\] - (?P<message>.*)$",
        ids=(("session", r"(?i)\b(?:session(?:id)?|client)[:= ]+(0x[0-9a-f]+)"),),
    ),
    Dialect(
        "spark",
        rf"^(?P<ts>\d\d/\d\d/\d\d \d\d:\d\d:\d\d) (?P<level>{_LEVEL}) (?P<logger>[\w.$-]+): (?P<message>.*)$",
        ts_formats=("%y/%m/%d %H:%M:%S",),
    ),
    Dialect(
        "hdfs",
        rf"^(?P<ts>\d{{6}} \d{{6}}) (?P<pid>\d+) (?P<level>{_LEVEL}) (?P<logger>[\w.$-]+): (?P<message>.*)$",
        ts_formats=("%y%m%d %H%M%S",),
        ids=(("request", r"\b(blk_-?\d+)"),),
    ),
    Dialect(
        "logback",
        rf"^(?P<ts>\d\d:\d\d:\d\d\.\d{{3}}) \[(?P<thread>[^\]]*)\] (?P<level>{_LEVEL})\s+(?P<logger>\S+) - "
        r"(?P<message>.*)$",
        nodate_formats=("%H:%M:%S.%f",),
    ),
    Dialect(
        "elasticsearch",
        rf"^\[(?P<ts>{_ISO})\]\[(?P<level>{_LEVEL})\s*\]\[(?P<logger>[^\]]*)\]\s*(?:\[(?P<node>[^\]]*)\] )?"
        r"(?P<message>.*)$",
    ),
    # -- OpenStack (the loghub sample prefixes each line with its file name) -------------------
    Dialect(
        "openstack",
        # the loghub sample prefixes each line with its file name: the service
        r"^(?:(?P<service>[a-z][\w-]*?)\.log[\w.:-]*\s+)?(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) "
        rf"(?P<pid>\d+) (?P<level>{_LEVEL}) (?P<logger>\S+) (?:\[(?P<request>req-[0-9a-f-]+)?[^\]]*\] )?"
        r"(?P<message>(?:(?P<client>[\d.:a-fA-F]+) \"(?P<method>[A-Z]+) (?P<url>\S+)[^\"]*\" status: (?P<status>\d{3}) "
        r"len: (?P<bytes>\d+) time: (?P<took>[\d.]+))?.*)$",
        duration_sql="try_cast(f.took AS DOUBLE) * 1000",
        start="ts",
    ),
    # -- databases -----------------------------------------------------------------------------
    Dialect(
        "mysql",
        r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?) (?P<thread>\d+) "
        r"\[(?P<level>[A-Za-z]+)\] (?:\[(?P<code>MY-\d+)\] )?(?:\[(?P<subsystem>[^\]]+)\] )?(?P<message>.*)$",
    ),
    Dialect(
        "postgres",
        r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Z]{2,5}| ?[+-]\d\d(?::?\d\d)?)?) "
        r"\[(?P<pid>\d+)(?:-(?P<line_num>\d+))?\] (?:(?P<user>[^@\s]*)@(?P<db>\S+) )?"
        r"(?P<level>[A-Z]+\d?):\s+(?P<message>.*)$",
    ),
    Dialect(
        "redis",
        r"^(?P<pid>\d+):(?P<role>[XCSM]) (?P<ts>\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d(?:\.\d+)?) "
        r"(?P<mark>[.*#-]) (?P<message>.*)$",
        ts_formats=("%d %b %Y %H:%M:%S.%f", "%d %b %Y %H:%M:%S"),
        level_sql="CASE f.mark WHEN '.' THEN 'DEBUG' WHEN '-' THEN 'DEBUG' WHEN '*' THEN 'INFO' WHEN '#' THEN 'WARN' END",
    ),
    # -- syslog and what travels in it ------------------------------------------------------------
    Dialect(
        "syslog",
        r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<service>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
        r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?P<message>.*)$",
        level_sql="gc_pri_level(try_cast(f.pri AS INTEGER))",
    ),
    Dialect(
        "haproxy",
        rf"^(?P<ts>{_SYSLOG_TS}) (?P<host>\S+) (?P<service>haproxy)\[(?P<pid>\d+)\]: "
        r"(?P<message>(?:(?P<client>[\d.:a-fA-F]+):(?P<client_port>\d+) \[(?P<accept_ts>[^\]]+)\] "
        r"(?P<frontend>\S+) (?P<backend>\S+) (?P<timers>[-\d]+/[-\d]+/[-\d]+/[-\d]+/(?P<duration>[-+\d]+)) "
        r"(?P<status>-?\d{3}) (?P<bytes>\d+) .*?\"(?:(?P<method>[A-Z][A-Z_-]*) (?P<url>\S+)[^\"]*)?\"?$)?.*)$",
        noyear_formats=("%b %d %H:%M:%S",),
    ),
    Dialect(
        "syslog",
        rf"^(?P<ts>{_SYSLOG_TS}) (?P<host>\S+) (?:{_PROGRAM}: ?)?(?P<message>.*)$",
        noyear_formats=("%b %d %H:%M:%S",),
    ),
    Dialect(
        "syslog",
        rf"^(?P<ts>\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (?P<host>\S+) {_PROGRAM}: ?"
        r"(?P<message>.*)$",
    ),
    # -- loghub's system logs ------------------------------------------------------------------------
    Dialect(
        "bgl",
        r"^(?P<alert>\S+) (?P<ts>\d{10}) (?P<date>\d{4}\.\d\d\.\d\d) (?P<node>\S+) "
        r"(?P<local_time>\d{4}-\d\d-\d\d-\d\d\.\d\d\.\d\d\.\d+) (?P<location>\S+) (?P<type>\S+) "
        r"(?P<component>\S+) (?P<level>[A-Z]+) (?P<message>.*)$",
    ),
    Dialect(
        "thunderbird",
        r"^(?P<alert>\S+) (?P<ts>\d{10}) (?P<date>\d{4}\.\d\d\.\d\d) (?P<node>\S+) "
        rf"(?P<local_time>[A-Z][a-z]{{2}} +\d+ \d\d:\d\d:\d\d) (?P<host>\S+) (?:{_PROGRAM}: ?)?(?P<message>.*)$",
    ),
    Dialect(
        "hpc",
        r"^(?P<log_id>\d+) (?P<node>\S+) (?P<component>\S+) (?P<state>\S+) (?P<ts>\d{10}) (?P<flag>-?\d+) "
        r"(?P<message>.*)$",
    ),
    Dialect(
        "healthapp",
        r"^(?P<ts>\d{8}-\d\d?:\d\d?:\d\d?:\d{1,3})\|(?P<component>[^|]*)\|(?P<pid>\d+)\|(?P<message>.*)$",
        ts_formats=("%Y%m%d-%H:%M:%S:%g",),
    ),
    Dialect(
        "proxifier",
        r"^\[(?P<ts>\d\d\.\d\d \d\d:\d\d:\d\d)\] (?P<program>.+?) - (?P<message>.*)$",
        noyear_formats=("%m.%d %H:%M:%S",),
    ),
    Dialect(
        "windows-cbs",
        r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d), (?P<level>[A-Za-z]+)\s+(?P<component>\S+)\s+(?P<message>.*)$",
    ),
    Dialect(
        "logcat",
        r"^(?P<ts>(?:\d{4}-)?\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?: [+-]\d{4})?)\s+(?:"
        r"(?:(?P<uid>\S+)\s+)?(?P<pid>\d+)\s+(?P<tid>\d+) (?P<level>[VDIWEFAS]) (?P<tag>.*?)\s*: (?P<message>.*)"
        r"|(?P<level__b>[VDIWEFAS])/(?P<tag__b>[^(]*?)\s*\(\s*(?:(?P<uid__b>\d+):\s*)?(?P<pid__b>\d+)\): "
        r"(?P<message__b>.*))$",
        tz_formats=("%Y-%m-%d %H:%M:%S.%f %z",),
        ts_formats=("%Y-%m-%d %H:%M:%S.%f",),
        noyear_formats=("%m-%d %H:%M:%S.%f",),
        comment=r"^-{9} beginning of ",
    ),
    Dialect(
        "glog",
        r"^(?P<level>[IWEF])(?P<ts>\d{4} \d\d:\d\d:\d\d\.\d{6})\s+(?P<thread>\d+) (?P<file>[^:\]\s]+:\d+)\] "
        r"(?P<message>.*)$",
        noyear_formats=("%m%d %H:%M:%S.%f",),
        comment=r"^(?:Log file created at|Running on machine|Running duration \(h:mm:ss\)|Binary|Log line format): ",
    ),
    Dialect(
        "vdsm",
        rf"^(?P<thread>[\w.-]+)::(?P<level>{_LEVEL})::(?P<ts>\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d+)::"
        r"(?P<module>[^:]*)::(?P<lineno>\d+)::(?P<logger>[^:]*)::(?:\((?P<func>[^)]*)\) )?(?P<message>.*)$",
    ),
    Dialect(
        "ruby-logger",
        rf"^(?P<mark>[DIWEFA]), \[(?P<ts>{_ISO}) #(?P<pid>\d+)\]\s+(?P<level>{_LEVEL}|ANY) -- "
        r"(?P<progname>[^:]*): (?P<message>.*)$",
    ),
    Dialect(
        "laravel",
        rf"^\[(?P<ts>{_ISO})\] (?P<channel>[\w-]+)\.(?P<level>[A-Z]+): (?P<message>.*?)"
        r"(?: (?P<json>\{.*\}))?(?: \[\])?\s*$",
        json=True,
    ),
    Dialect(
        "gunicorn",
        rf"^\[(?P<ts>{_ISO})\] \[(?P<pid>\d+)\] \[(?P<level>{_LEVEL})\] (?P<message>.*)$",
    ),
    Dialect(
        "celery",
        rf"^\[(?P<ts>{_ISO}): (?P<level>{_LEVEL})/(?P<process>[^\]]+)\] (?P<message>.*)$",
    ),
    # -- web servers and proxies -------------------------------------------------------------------
    Dialect(
        "apache-error",
        r"^\[(?P<ts>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4})\] "
        r"\[(?:(?P<module>[\w-]+):)?(?P<level>\w+)\](?: \[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\])?"
        r"(?: \[client (?P<client>[^\]]+)\])? (?P<message>.*)$",
        ts_formats=("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S.%f %Y"),
    ),
    Dialect(
        "nginx-error",
        rf"^(?P<ts>\d{{4}}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>{_LEVEL})\] (?P<pid>\d+)#(?P<tid>\d+): "
        r"(?P<message>.*)$",
        ts_formats=("%Y/%m/%d %H:%M:%S",),
    ),
    Dialect(
        "clf",
        rf"^(?:(?P<vhost>[\w.-]+:\d+) )?(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>{_CLF_TS})\] "
        rf"(?P<message>\"(?P<request_line>{_REQUEST_LINE}|(?:[^\"\\]|\\.)*)\" (?P<status>\d{{3}}|-) (?P<bytes>\S+)"
        r"(?: \"(?P<referer>(?:[^\"\\]|\\.)*)\" \"(?P<agent>(?:[^\"\\]|\\.)*)\")?.*)$",
        tz_formats=("%d/%b/%Y:%H:%M:%S %z", "%d/%b/%Y:%H:%M:%S.%f %z"),
        ts_formats=("%d/%b/%Y %H:%M:%S", "%d/%b/%Y:%H:%M:%S"),
        kind="http",
        multiline=False,
        start="ts",
    ),
    Dialect(
        "jira-access",
        rf"^\[(?P<ts>{_CLF_TS})\] (?P<message>(?P<user>\S+) (?P<thread>\S+) (?P<client>\S+) "
        r"(?P<method>[A-Z]+) (?P<url>\S+) (?P<protocol>\S+) (?P<status>\d{3}) (?P<duration>\d+)ms .*)$",
        tz_formats=("%d/%b/%Y:%H:%M:%S %z",),
        kind="http",
        multiline=False,
    ),
    Dialect(
        "bitbucket-access",
        r"^(?P<client>[^|]+?) \| (?P<protocol>\w+) \| (?P<request>[io]@\w+|-)(?: \| (?P<key>@\w+))? \| "
        r"(?P<user>[^|]*?) \| (?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) \| (?P<message>\"(?:"
        rf"{_REQUEST_LINE}|[^\"]*)\"(?: \| (?P<agent>[^|]*) \| (?P<status>\d+|-) \| (?P<bytes_read>\S+) \| "
        r"(?P<bytes_written>\S+) \| (?P<labels>[^|]*) \| (?P<duration>\d+|-) \| (?P<session>\S+) \|)?.*)$",
        ids=(("trace", r"^[^|]*\| \w+ \| [io]@(\w+)"),),
        kind="http",
        multiline=False,
    ),
    Dialect(
        "aws-elb",
        # ALB (`type` first), classic ELB (time first) and NLB (`tls 2.0` first) access logs
        r"^(?:(?P<type>https?|h2|grpcs?|wss?|tls) (?:(?P<version>\d\.\d) )?)?(?P<ts>\d{4}-\d\d-\d\dT[\d:.]+Z?) "
        r"(?P<elb>\S+) (?:(?P<listener>[0-9a-z]{16}) )?(?P<client>[\d.:a-fA-F]+:\d+|-) (?P<target>[\d.:a-fA-F]+:\d+|-) (?:"
        r"(?P<request_time>-?[\d.]+) (?P<target_time>-?[\d.]+) (?P<response_time>-?[\d.]+) (?P<status>\d{3}|-) "
        r"(?P<target_status>\S+) (?P<received_bytes>-?\d+) (?P<sent_bytes>-?\d+) "
        rf"(?P<message>\"(?:{_REQUEST_LINE}|[^\"]*)\".*?(?:\"(?P<trace>Root=[^\"]*)\".*)?)"
        r"|(?P<message__b>.*))$",
        duration_sql="CASE WHEN f.request_time NOT LIKE '-%' AND f.target_time NOT LIKE '-%' "
        "AND f.response_time NOT LIKE '-%' THEN 1000 * (try_cast(f.request_time AS DOUBLE) "
        "+ try_cast(f.target_time AS DOUBLE) + try_cast(f.response_time AS DOUBLE)) END",
        kind="http",
        multiline=False,
        start="ts",
    ),
    Dialect(
        "uwsgi",
        r"^\[pid: (?P<pid>\d+)\|app: (?P<app>[^|]*)\|req: (?P<req>[^\]]*)\] (?P<client>\S+) \((?P<user>[^)]*)\) "
        r"\{(?P<vars>[^}]*)\} \[(?P<ts>[^\]]+)\] (?P<message>(?P<method>[A-Z]+) (?P<url>\S+) => generated "
        r"(?P<bytes>\d+) bytes in (?P<took>\d+) (?P<unit>msecs|micros) \((?P<protocol>\S+) (?P<status>\d{3})\).*)$",
        ts_formats=("%a %b %d %H:%M:%S %Y",),
        duration_sql="try_cast(f.took AS DOUBLE) / CASE f.unit WHEN 'micros' THEN 1000 ELSE 1 END",
        kind="http",
    ),
    # -- Go, Python and structured text -----------------------------------------------------------
    Dialect(
        "zap-console",
        rf"^(?P<ts>{_ISO}|\d{{4}}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\t(?P<level>[A-Za-z]+)\t"
        r"(?:(?P<logger>[^\t]*)\t)*?(?P<message>[^\t{][^\t]*|)(?:\t(?P<json>\{.*\}))?$",
        json=True,
    ),
    Dialect(
        "structlog-console",
        rf"^(?P<ts>{_ISO}) \[(?P<level>[a-z]+)\s*\] (?P<message>.*?)"
        r"(?:\s+(?P<json>\{.*\})|\s+(?P<kv>(?:[\w.@-]+=(?:'[^']*'|\"(?:[^\"\\]|\\.)*\"|\S+)\s*)+))?\s*$",
        json=True,
    ),
    Dialect("logfmt", r"^(?P<kv>[A-Za-z_][\w.@/-]*=\S.*)$", special="logfmt", json=True),
    # -- anything that starts with a time ---------------------------------------------------------------
    Dialect(
        "timestamp",
        rf"^\[?(?P<ts>{_ISO}|\d{{4}}/\d\d/\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?|{_CLF_TS}|"
        r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d(?: [A-Z]{3}| [+-]\d{4})?|\d{10}(?:\.\d+)?)\]?"
        rf"[\s:,|-]*(?:[\[(<]?(?P<level>{_LEVEL})[\])>]?:?(?:\s+|$))?(?P<message>.*)$",
        generic=True,
    ),
    Dialect(
        "timestamp",
        rf"^(?P<level>{_LEVEL})\s*[:|-]?\s+\[?(?P<ts>{_ISO})\]?[\s:,|-]*(?P<message>.*)$",
        generic=True,
    ),
    # header-driven tables (detected from their headers, not by regex)
    Dialect("zeek", r"^(?P<line>[^#].*)$", special="zeek", json=True, multiline=False, comment=r"^#"),
    Dialect("w3c", r"^(?P<line>[^#].*)$", special="w3c", json=True, multiline=False, comment=r"^#"),
]
PLAIN = Dialect("plain", r"^(?P<message>.*)$", multiline=False)
# JSON objects wrapped in a prefix (`docker compose` output of a JSON-logging service)
JSON_LINES = Dialect("json", r"^(?P<json>\s*\{.*\}\s*)$", json=True, multiline=False, special="json")

ROWS: dict[str, list[Dialect]] = {}
for _d in [*DIALECTS, PLAIN]:
    ROWS.setdefault(_d.name, []).append(_d)
# name -> layout, for `--dialect` and the docs (prefix dialects included)
BY_NAME: dict[str, Dialect | Prefix] = {**{n: rows[0] for n, rows in ROWS.items()}, **{p.name: p for p in PREFIXES}}

_LOGFMT_KV = r'([A-Za-z_][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)'
_LOGFMT_LINE = re.compile(r"^\s*(?:[A-Za-z_][\w.@/-]*=(?:\"(?:[^\"\\]|\\.)*\"|\S*)\s*){2,}$")
_LOGFMT_TIME = re.compile(r"(?:^|\s)(?:time|ts|t|timestamp|date|@timestamp|datetime)=")
_ANSI_RE = re.compile(_ANSI)


# -- detection ------------------------------------------------------------------------------------------


@dataclass
class Layout:
    """What detection decided for a file: the dialect, a prefix if any, and for prefixed
    files with several services, each service's dialect."""

    dialect: Dialect
    prefix: Prefix | None = None
    per_service: dict[str, Dialect] | None = None
    header: list[str] | None = None  # zeek / w3c field names in force at the start
    matched: int = 0  # sample lines the prefix matched (detection compares it with a direct reading)

    @property
    def name(self) -> str:
        if self.prefix is None:
            return self.dialect.name
        inner = {d.name for d in (self.per_service or {}).values()} or {self.dialect.name}
        inner.discard("plain")
        return self.prefix.name + (f"+{'+'.join(sorted(inner))}" if inner else "")


def starts_event(d: Dialect, line: str) -> bool:
    """Whether `line` starts an event in dialect `d` (Python's `re` backtracks, unlike RE2:
    only the head of a very long line is tried)."""
    line = line[:MAX_PY_LINE]
    if d.special == "logfmt":
        return bool(re.match(LOGFMT_START, line))
    if d.comment and re.match(d.comment, line):
        return False
    m = _compiled(d.regex).match(line)
    return bool(m and m.group(d.lead))


def _score(d: Dialect, lines: list[str]) -> int:
    if d.special == "logfmt":
        return sum(1 for ln in lines if _LOGFMT_LINE.match(ln[:MAX_PY_LINE]) and _LOGFMT_TIME.search(ln[:MAX_PY_LINE]))
    return sum(1 for ln in lines if starts_event(d, ln))


def detect(lines: list[str], rows: list[Dialect] | None = None) -> Dialect:
    """The dialect whose start regex matches most of `lines` (ties: the earlier row), else `PLAIN`."""
    sample = [ln.rstrip("\r") for ln in lines if ln.strip()][:SAMPLE_LINES]
    if not sample:
        return PLAIN
    best, score = PLAIN, 0
    best_specific = 0
    for d in rows if rows is not None else DIALECTS:
        if d.special in ("zeek", "w3c"):
            continue
        s = _score(d, sample)
        if d.generic:
            if s > score and s > best_specific * 1.25:
                best, score = d, s
        elif s > score:
            best, score = d, s
            best_specific = s
    # a multi-line dialect that starts events on few lines would glue a plain file together
    if best.multiline and score < max(1, (MIN_SHARE if best.generic else MIN_SHARE / 5) * len(sample)):
        return PLAIN
    return best


def detect_layout(lines: list[str], hint: str | None = None) -> Layout:
    """How to read a file whose first lines are `lines` (`hint`: a dialect the user named)."""
    lines = [ln.rstrip("\r") for ln in lines]
    if hint and hint in BY_NAME:
        named = BY_NAME[hint]
        if isinstance(named, Prefix):
            return _prefixed(named, lines, force=True) or Layout(PLAIN, named)
        if named.special in ("zeek", "w3c"):
            return Layout(named, header=_header(named.special, lines))
        best = detect(lines, ROWS[hint]) if len(ROWS[hint]) > 1 else named
        return Layout(named if best is PLAIN else best)  # the user said so: no share threshold
    head = [ln for ln in lines[:50] if ln.startswith("#")]
    if any(ln.startswith(("#fields\t", "#separator")) for ln in head):
        return Layout(BY_NAME["zeek"], header=_header("zeek", lines))  # type: ignore[arg-type]
    if any(ln.startswith("#Fields:") for ln in head):
        return Layout(BY_NAME["w3c"], header=_header("w3c", lines))  # type: ignore[arg-type]
    direct = detect(lines)
    sample = [ln for ln in lines if ln.strip()][:SAMPLE_LINES]
    for p in PREFIXES:
        layout = _prefixed(p, lines)
        if layout and (direct.generic or direct.name == "plain" or _score(direct, sample) < layout.matched):
            return layout
    return Layout(direct)


def _prefixed(p: Prefix, lines: list[str], force: bool = False) -> Layout | None:
    rx = _compiled(p.regex)
    sample = [ln for ln in lines if ln.strip()][:SAMPLE_LINES]
    matches = [m for ln in sample if (m := rx.match(ln[:MAX_PY_LINE]))]
    if not sample or (not force and len(matches) < 0.6 * len(sample)):
        return None
    by_service: dict[str, list[str]] = {}
    for m in matches:
        rest = _unwrap(p, m.group("rest"))
        key = m.group("service") if p.per_service else ""
        by_service.setdefault(key, []).append(rest)
    per = {svc: _detect_inner(rest) for svc, rest in by_service.items()}
    if p.single_line:
        per = {svc: dataclasses.replace(d, multiline=False) for svc, d in per.items()}
    counts: dict[str, int] = {}
    for svc, d in per.items():
        counts[d.name] = counts.get(d.name, 0) + len(by_service[svc])
    main = max(per.values(), key=lambda d: counts[d.name]) if per else PLAIN
    return Layout(main, p, per if p.per_service else None, matched=len(matches))


def _unwrap(p: Prefix, rest: str) -> str:
    """The wrapped line, as `_base_stage` makes it in SQL."""
    if p.ansi:
        rest = _ANSI_RE.sub("", rest)
        return rest[1:] if rest.startswith(" ") else rest
    return rest


def _detect_inner(lines: list[str]) -> Dialect:
    """The dialect of wrapped lines: JSON objects when most are, else as `detect`."""
    sample = [ln for ln in lines if ln.strip()][:SAMPLE_LINES]
    if sample and sum(1 for ln in sample if ln.lstrip().startswith("{")) * 2 > len(sample):
        return JSON_LINES
    return detect(sample)


def _header(kind: str, lines: list[str]) -> list[str] | None:
    for ln in lines[:100]:
        if kind == "zeek" and ln.startswith("#fields"):
            return ln.split("\t")[1:]
        if kind == "w3c" and ln.startswith("#Fields:"):
            return ln[len("#Fields:") :].split()
    return None


# -- SQL ---------------------------------------------------------------------------------------------


def _ts_sql(d: Dialect) -> str:
    """SQL turning `ts_raw` into TIMESTAMPTZ for dialect `d` ($ref: the file's mtime)."""
    parts = []
    if d.tz_formats:
        parts.append(f"try_strptime(ts_raw, {_strlist(d.tz_formats)})")
    if d.ts_formats:
        parts.append(f"try_strptime(ts_raw, {_strlist(d.ts_formats)})::TIMESTAMPTZ")
    if d.noyear_formats:
        fmts = _strlist(["%Y " + f for f in d.noyear_formats])
        parts.append(f"gc_noyear(regexp_replace(ts_raw, '\\s+', ' ', 'g'), {fmts}, to_timestamp($ref))")
    if d.nodate_formats:
        fmts = _strlist(["%Y-%m-%d " + f for f in d.nodate_formats])
        parts.append(f"gc_nodate(ts_raw, {fmts}, to_timestamp($ref))")
    parts.append("gc_time(ts_raw)")
    return parts[0] if len(parts) == 1 else "coalesce(" + ", ".join(parts) + ")"


def _strlist(items: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def _role_sql(d: Dialect, role: str) -> str:
    """The first non-empty group of `role` (its alternatives included), or NULL."""
    gs = [g for g in d.groups if _role(g) == role]
    if not gs:
        return "NULL::VARCHAR"
    items = [f"nullif(f.{g}, '')" for g in gs]
    return items[0] if len(items) == 1 else "coalesce(" + ", ".join(items) + ")"


KNOWN_ROLES = {
    "ts",
    "level",
    "session",
    "service",
    "message",
    "request",
    "trace",
    "span",
    "parent",
    "method",
    "url",
    "status",
    "duration",
    "kv",
    "json",
    "rest",
}


def _attrs_sql(d: Dialect, known: set[str]) -> str:
    """The groups of no known role as a JSON object of the non-empty ones (NULL when none),
    built without `json_merge_patch`, which costs a tenth of a chunk's parse."""
    extras: dict[str, list[str]] = {}
    for g in d.groups:
        if _role(g) not in known:
            extras.setdefault(_role(g), []).append(g)
    if not extras:
        return "NULL::VARCHAR"
    values = {}
    for name, gs in extras.items():
        vals = [f"nullif(f.{g}, '')" for g in gs]
        values[name] = vals[0] if len(vals) == 1 else "coalesce(" + ", ".join(vals) + ")"
    if len(values) == 1:
        [(name, v)] = values.items()
        return f"CASE WHEN {v} IS NOT NULL THEN json_object({_q(name)}, {v})::VARCHAR END"
    pieces = [
        f"CASE WHEN {v} IS NOT NULL THEN {_q(json.dumps(name) + ':')} || to_json({v}) END" for name, v in values.items()
    ]
    return f"nullif('{{' || concat_ws(',', {', '.join(pieces)}) || '}}', '{{}}')"


@dataclass
class Stage:
    """The SQL that yields `(n, line, svc0, ts0)` rows for a dialect to read: the chunk's lines,
    or the wrapped lines of a prefix (joined, stripped, restricted to some services)."""

    sql: str
    partition: bool = False  # rows carry a service: group continuation lines per service
    label: str | None = None  # the prefix's name, for the events' dialect column


def _base_stage(first: int, prefix: Prefix | None, services: list[str] | None, exclude: bool) -> Stage:
    base = unnest_sql("gc_lines")
    if prefix is None:
        return Stage(f"SELECT n, line, NULL::VARCHAR AS svc0, NULL::VARCHAR AS ts0 FROM ({base})")
    names = prefix.groups
    lead = names[0]
    # compose writes `service  | ` + the line, colours around the bar: drop them and that space
    rest = "regexp_replace(regexp_replace(p.rest, " + _q(_ANSI) + ", '', 'g'), '^ ', '')" if prefix.ansi else "p.rest"
    svc = "nullif(p.service, '')" if "service" in names else "NULL::VARCHAR"
    ts = "nullif(p.ts, '')" if "ts" in names else "NULL::VARCHAR"
    extra = ""
    if prefix.partial:
        extra = f", p.{prefix.partial} AS part, " + (f"p.{prefix.join_key}" if prefix.join_key else "''") + " AS jk"
    stage = f"""SELECT n, CASE WHEN p.{lead} <> '' THEN {rest} ELSE line END AS line, {svc} AS svc0, {ts} AS ts0
                       {extra}
                FROM (SELECT n, line, regexp_extract(line, {_q(prefix.regex)}, {_strlist(names)}) AS p FROM ({base}))"""
    if prefix.partial:
        # a `P` line continues on the next line of its stream: join the pieces into one line
        stage = f"""SELECT min(n) AS n, string_agg(line, '' ORDER BY n) AS line, arg_min(svc0, n) AS svc0,
                           arg_min(ts0, n) AS ts0
                    FROM (SELECT *, sum(CASE WHEN prev = 'P' THEN 0 ELSE 1 END)
                                    OVER (PARTITION BY jk ORDER BY n ROWS UNBOUNDED PRECEDING) AS piece
                          FROM (SELECT *, coalesce(lag(part) OVER (PARTITION BY jk ORDER BY n), '') AS prev
                                FROM ({stage})))
                    GROUP BY jk, piece"""
    if services is not None:
        listed = ", ".join(_q(s) for s in services) or "''"
        cond = f"coalesce(svc0, '') {'NOT ' if exclude else ''}IN ({listed})"
        stage = f"SELECT * FROM ({stage}) WHERE {cond}"
    return Stage(stage, partition=prefix.per_service, label=prefix.name)


def _grouped_sql(d: Dialect, stage: Stage) -> str:
    """SQL of the events' first lines and tails: (n, f, started, head, tail, svc0, ts0)."""
    lead = d.lead
    comment = f"regexp_matches(line, {_q(d.comment)})" if d.comment else "false"
    if d.head_regex:
        # the message is the rest of the line after `gc_head` (`_regex_sql`), newlines and all:
        # a Docker record's text may hold a traceback, where the whole regex's `.*$` would fail
        f = f"regexp_extract(line, {_q(d.head_regex)}, {_strlist(['gc_head', *d.groups[:-1]])})"
    else:
        f = f"regexp_extract(line, {_q(d.regex)}, {_strlist(d.groups)})"
    tl = f"""SELECT n, line, svc0, ts0, {f} AS f, {comment} AS cm
             FROM ({stage.sql})"""
    if not d.multiline:
        return f"""SELECT n, f, f.{lead} <> '' AS started, line AS head, NULL::VARCHAR AS tail, svc0, ts0
                   FROM ({tl}) WHERE NOT cm AND NOT gc_blank(line)"""
    part = "PARTITION BY svc0 " if stage.partition else ""
    same_svc = " AND t.svc0 IS NOT DISTINCT FROM s.svc0" if stage.partition else ""
    # Most lines start an event: only the continuation lines are grouped (by the running count
    # of starts), then joined to the event they continue. Lines before the first start are
    # events of their own; blank and comment lines among them are dropped.
    return f"""
      WITH w AS MATERIALIZED (
        SELECT n, line, svc0, ts0, f, cm, st, sum(st::INTEGER) OVER ({part}ORDER BY n ROWS UNBOUNDED PRECEDING) AS gid
        FROM (SELECT *, NOT cm AND f.{lead} <> '' AS st FROM ({tl}))),
      tails AS (
        SELECT svc0, gid, string_agg(CASE WHEN NOT cm THEN line END, chr(10) ORDER BY n) AS tail
        FROM w WHERE NOT st AND gid > 0 GROUP BY svc0, gid)
      SELECT s.n, s.f, true AS started, s.line AS head, t.tail, s.svc0, s.ts0
      FROM w AS s LEFT JOIN tails AS t ON t.gid = s.gid{same_svc}
      WHERE s.st
      UNION ALL
      SELECT n, f, false, line, NULL, svc0, ts0 FROM w WHERE gid = 0 AND NOT cm AND NOT gc_blank(line)"""


def _ids_sql(d: Dialect, role: str, names_patterns: tuple[str, ...]) -> str:
    """The role's id: its group, the dialect's own patterns over the first line, then the
    user's / SPEC's patterns over the message."""
    items = []
    if role in d.roles:
        items.append(f"CASE WHEN started THEN {_role_sql(d, role)} END")
    for r, pat in d.ids:
        if r == role:
            items.append(f"nullif(regexp_extract(head, {_q(pat)}, 1), '')")
    for pat in names_patterns:
        items.append(f"nullif(regexp_extract(message, '(?i)' || {_q(pat)}, 1), '')")
    return "coalesce(" + ", ".join(items) + ", NULL)" if items else "NULL"


def _regex_sql(d: Dialect, ctx: ParseContext, stage: Stage) -> str:
    r = lambda role: f"CASE WHEN started THEN {_role_sql(d, role)} END"  # noqa: E731
    roles = d.roles
    if "message" not in roles:
        head_msg = "''"
    elif d.head_regex:
        head_msg = "substr(head, length(f.gc_head) + 1)"
    else:
        head_msg = "coalesce(" + _role_sql(d, "message") + ", '')"
    # Macros paste their argument wherever they use it: they are given column names (the
    # raw values are computed a step before), or binding and optimizing a statement costs
    # more than running it over a chunk.
    raw = {
        "gc_sid": _ids_sql(d, "session", ctx.names.session_patterns),
        "gc_rid": _ids_sql(d, "request", ctx.names.request_patterns),
        "gc_tid": _ids_sql(d, "trace", ctx.names.trace_patterns),
    }
    levels = []
    if d.level_sql:
        levels.append(f"CASE WHEN started THEN {d.level_sql} END")
    elif "level" in roles:
        raw["gc_lvl"] = r("level")
        levels.append("gc_level(gc_lvl)")
    if "status" in roles:
        levels.append("CASE WHEN started THEN gc_status_level(status) END")
    level = "coalesce(" + ", ".join(levels) + ")" if len(levels) > 1 else (levels[0] if levels else "NULL::VARCHAR")
    if d.duration_sql:
        duration = f"CASE WHEN started THEN {d.duration_sql} END"
    elif "duration" in roles:
        raw["gc_dur"] = r("duration")
        duration = "gc_duration_ms(gc_dur)"
    else:
        duration = "NULL::DOUBLE"
    span = parent = "NULL::VARCHAR"
    if "span" in roles:
        raw["gc_span"] = r("span")
        span = "gc_trace(gc_span)"
    if "parent" in roles:
        raw["gc_parent"] = r("parent")
        parent = "gc_trace(gc_parent)"
    kind = f"CASE WHEN {r('method')} IS NOT NULL OR {r('status')} IS NOT NULL THEN 'http' ELSE '{d.kind}' END"
    if d.kind == "http":
        kind = "CASE WHEN started THEN 'http' ELSE 'log' END"
    raws = ",\n             ".join(f"{sql} AS {name}" for name, sql in raw.items())
    return f"""
    WITH e AS MATERIALIZED ({_grouped_sql(d, stage)}),
    p AS MATERIALIZED (
      SELECT n, started, f, head, svc0, ts_raw, status,
             CASE WHEN suffix(m, ' ') OR suffix(m, chr(10)) OR suffix(m, chr(13))
                  THEN regexp_replace(m, '[\n\r ]+$', '') ELSE m END AS message
      FROM (SELECT n, started, f, head, svc0, coalesce(ts0, {r("ts")}) AS ts_raw,
                   CASE WHEN started THEN {head_msg} || coalesce(chr(10) || tail, '') ELSE head END AS m,
                   try_cast(regexp_extract({r("status")}, '^-?\\d+') AS INTEGER) AS status
            FROM e)),
    q AS (
      SELECT *, {raws}
      FROM p)
    SELECT {_ts_sql(d)} AS ts, ts_raw, $source AS source, n AS line, $format AS format, $dialect AS dialect,
           {kind} AS kind, coalesce({r("service")}, svc0, $service) AS service,
           {level} AS level, message,
           gc_id(gc_sid) AS session_id, gc_id(gc_rid) AS request_id, gc_trace(gc_tid) AS trace_id,
           {span} AS span_id, {parent} AS parent_span_id,
           upper({r("method")}) AS method, {r("url")} AS url, status,
           {duration} AS duration_ms, NULL::INTEGER AS step,
           CASE WHEN started THEN {_attrs_sql(d, KNOWN_ROLES)} END AS attrs
    FROM q"""


def _json_rel_sql(d: Dialect, stage: Stage, header: list[str] | None) -> str:
    """SQL of `(n, j, tail, svc0, ts0)` for a dialect read through the JSON projection."""
    kv = _q(_LOGFMT_KV)

    def pairs(expr: str) -> str:
        # key=value pairs -> a JSON object (quoted values unescaped)
        return f"""('{{' || array_to_string(list_transform(
                 list_zip(regexp_extract_all({expr}, {kv}, 1), regexp_extract_all({expr}, {kv}, 2)),
                 lambda p: to_json(p[1]) || ':' || to_json(CASE WHEN left(p[2], 1) = '"'
                     THEN replace(replace(p[2][2:-2], '\\"', '"'), '\\\\', '\\') ELSE p[2] END)), ',') || '}}')"""

    if d.special in ("zeek", "w3c"):
        return _table_rel_sql(d.special, stage, header)
    if d.special == "json":
        return f"""
          SELECT n, CASE WHEN json_valid(line) AND regexp_matches(line, '^ *\\{{') THEN line
                         ELSE json_object('msg', line) END AS j, NULL::VARCHAR AS tail, svc0, ts0
          FROM ({stage.sql}) WHERE NOT gc_blank(line)"""
    if d.special == "logfmt":
        grouped = f"""
          SELECT n, CASE WHEN started THEN tail END AS tail, svc0, ts0,
                 CASE WHEN started THEN {pairs("head")} ELSE json_object('msg', head) END AS j
          FROM ({_grouped_sql(d, stage)})"""
        return grouped
    keys = []
    canonical = {"ts": "ts", "level": "level", "message": "msg"}
    for g in d.groups:
        role = _role(g)
        if role in ("kv", "json"):
            continue
        keys.append(f"{_q(canonical.get(role, role))}, nullif(f.{g}, '')")
    base = f"json_merge_patch('{{}}', json_object({', '.join(keys)}))"
    extra = []
    if "json" in d.roles:
        extra.append("CASE WHEN json_valid(f.json) AND f.json <> '' THEN f.json END")
    if "kv" in d.roles:
        extra.append(f"CASE WHEN f.kv <> '' THEN {pairs('f.kv')} END")
    j = base
    for e in extra:
        j = f"json_merge_patch(coalesce({e}, '{{}}'), {j})"
    return f"""
      SELECT n, CASE WHEN started THEN {j} ELSE json_object('msg', head) END AS j,
             CASE WHEN started THEN tail END AS tail, svc0, ts0
      FROM ({_grouped_sql(d, stage)})"""


def _table_rel_sql(kind: str, stage: Stage, header: list[str] | None) -> str:
    """Zeek TSV / W3C extended lines as JSON objects keyed by the header in force at each line."""
    if kind == "zeek":
        hdr = "CASE WHEN starts_with(line, '#fields' || chr(9)) THEN split(line, chr(9))[2:] END"
        vals = "split(line, chr(9))"
        unset = "['-', '(empty)']"
    else:
        hdr = "CASE WHEN starts_with(line, '#Fields:') THEN regexp_split_to_array(trim(line[9:]), '\\s+') END"
        vals = """list_transform(regexp_extract_all(line, '"[^"]*"|\\S+'),
                   lambda x: CASE WHEN left(x, 1) = '"' AND right(x, 1) = '"' AND length(x) >= 2 THEN x[2:-2] ELSE x END)"""
        unset = "['-']"
    first = _strlist(header or [])
    return f"""
      SELECT n, j, NULL::VARCHAR AS tail, svc0, ts0 FROM (
        SELECT n, svc0, ts0, '{{' || array_to_string(list_transform(
                 list_filter(list_zip(fields, vals), lambda p: p[1] IS NOT NULL AND NOT list_contains({unset}, p[2])),
                 lambda p: to_json(p[1]) || ':' || to_json(p[2])), ',')
               || CASE WHEN list_contains(fields, 'date') AND list_contains(fields, 'time')
                       THEN ',"ts":' || to_json(vals[list_position(fields, 'date')] || ' '
                                                || vals[list_position(fields, 'time')]) ELSE '' END
               || '}}' AS j
        FROM (SELECT n, svc0, ts0, line, {vals} AS vals,
                     coalesce(last_value(hdr IGNORE NULLS) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING),
                              {first}::VARCHAR[]) AS fields
              FROM (SELECT *, {hdr} AS hdr FROM ({stage.sql})))
        WHERE NOT starts_with(line, '#') AND NOT gc_blank(line))"""


TABLE_IDS: dict[str, dict[str, tuple[str, ...]]] = {
    "zeek": {"session": ("uid",)},
    "w3c": {"session": ("cs-sessionid",)},
}


# -- parsing ------------------------------------------------------------------------------------------


def ref_time(source: Source, tz: str = "UTC") -> float:
    """The reference time for times written without a year or date: when the file was
    last written (a zip member's own time, see `sources.member_written`, its zip date and
    time read in `tz`; else the mtime)."""
    if isinstance(source.written, datetime):
        from zoneinfo import ZoneInfo

        return source.written.replace(tzinfo=ZoneInfo(tz)).timestamp()
    if source.written is not None:
        return source.written
    return source.mtime if source.mtime and source.mtime > 0 else datetime.now(UTC).timestamp()


def _cut(layout: Layout, text: str) -> int:
    """Offset in `text` of a line where the chunk can be cut without splitting an event (the
    cut-off lines are carried into the next chunk), or -1.

    Lines are tried from the end: a line is a good cut when, for every service, the first of
    its lines from there on starts an event. Without a prefix that is the last event's first
    line; with `docker compose` services interleaved, the cut goes back at least
    `SERVICE_WINDOW` lines so that every service of the file's tail keeps its last event whole.
    """
    d, p = layout.dialect, layout.prefix
    rx = _compiled(p.regex) if p else None
    per_service = p is not None and layout.per_service is not None
    window = min(SERVICE_WINDOW, text.count("\n", max(0, len(text) - 1_000_000)) // 2) if per_service else 1
    unfinished: set[str] = set()  # services whose first line from here on continues an event
    scanned = 0
    end = len(text)
    for _ in range(MAX_CARRY_LINES):
        if end < 0:
            break
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end].rstrip("\r")
        at, end = start, start - 1
        dd, key = d, ""
        if rx is not None and p is not None:
            m = rx.match(line[:MAX_PY_LINE])
            if not m:
                continue
            if p.partial and at > 0:
                prev = rx.match(text[text.rfind("\n", 0, at - 1) + 1 : at - 1].rstrip("\r"))
                if prev and prev.group(p.partial) == "P":
                    continue
            line = _unwrap(p, m.group("rest"))
            if per_service and layout.per_service is not None:
                key = m.group("service")
                dd = layout.per_service.get(key, d)
        scanned += 1
        if starts_event(dd, line):
            unfinished.discard(key)
        else:
            unfinished.add(key)
        if not unfinished and scanned >= window:
            return at
    return -1


def _needs_carry(layout: Layout) -> bool:
    if layout.prefix is not None and layout.prefix.partial:
        return True
    dialects = [layout.dialect, *(layout.per_service or {}).values()]
    return any(d.multiline for d in dialects)


def parse(source: Source, ctx: ParseContext) -> Iterator[pa.Table]:
    con = ctx.con
    layout: Layout | None = None
    params: dict[str, object] = {
        "source": source.name,
        "format": "text",
        "service": service_from_name(source.name),
        "session": None,
        "ref": ref_time(source, ctx.tz),
    }
    carry, carry_first, carry_n = "", 1, 0
    first_event: int | None = None
    header: list[str] | None = None
    with ctx.open(source) as stream:
        for chunk in read_chunks(stream, ctx):
            ctx.lines += chunk.nlines
            if carry_n and chunk.nlines:
                text, first, n = carry + "\n" + chunk.text, carry_first, carry_n + chunk.nlines
            elif carry_n:
                text, first, n = carry, carry_first, carry_n
            else:
                text, first, n = chunk.text, chunk.first, chunk.nlines
            if not n:
                continue
            if layout is None:
                layout = detect_layout(
                    text[: 1 << 20].split("\n", SAMPLE_LINES * 4)[: SAMPLE_LINES * 4], ctx.dialect_hint
                )
                ctx.dialect = layout.name
                header = layout.header
            carry, carry_n = "", 0
            if not chunk.last and _needs_carry(layout):
                cut = _cut(layout, text)
                if cut > 0:
                    kept = text.count("\n", 0, cut)
                    carry, carry_first, carry_n = text[cut:], first + kept, n - kept
                    text, n = text[: cut - 1], kept
            table = _parse_lines(con, layout, Chunk(first, text, True, n), ctx, params, header)
            if layout.dialect.special in ("zeek", "w3c"):
                header = _last_header(layout.dialect.special, text) or header
            if table is not None and table.num_rows:
                if first_event is None:
                    first_event = table.column("line")[0].as_py()
                yield table
    if layout is None:
        ctx.dialect = "plain"
    # lines before the first event are blank lines and headers; the rest are in event spans
    ctx.blank += (first_event - ctx.first_line) if first_event is not None else ctx.lines


def _last_header(kind: str, text: str) -> list[str] | None:
    """The last Zeek `#fields` / W3C `#Fields:` header in `text`, as field names."""
    key = "#fields" if kind == "zeek" else "#Fields:"
    at = text.rfind("\n" + key)
    if at >= 0:
        at += 1
    elif text.startswith(key):
        at = 0
    else:
        return None
    end = text.find("\n", at)
    line = text[at : end if end >= 0 else len(text)].rstrip("\r")
    return line.split("\t")[1:] if kind == "zeek" else line[len(key) :].split()


def _parse_lines(
    con: duckdb.DuckDBPyConnection,
    layout: Layout,
    work: Chunk,
    ctx: ParseContext,
    params: dict[str, object],
    header: list[str] | None,
) -> pa.Table | None:
    import pyarrow as pa

    first = work.first
    small = work.nlines <= SMALL_ROWS
    con.register("gc_lines", lines_table(work))
    try:
        parts: list[pa.Table] = []
        if layout.per_service:
            by_dialect: dict[int, list[str]] = {}
            dialects: dict[int, Dialect] = {}
            for svc, d in layout.per_service.items():
                by_dialect.setdefault(id(d), []).append(svc)
                dialects[id(d)] = d
            known = [s for svcs in by_dialect.values() for s in svcs]
            main_key = id(layout.dialect)
            for key, svcs in by_dialect.items():
                parts.append(
                    _run(con, dialects[key], _base_stage(first, layout.prefix, svcs, False), ctx, params, header, small)
                )
            # services first seen after the sample read as the main dialect
            extra = _run(
                con, dialects[main_key], _base_stage(first, layout.prefix, known, True), ctx, params, header, small
            )
            parts.append(extra)
        else:
            parts.append(
                _run(con, layout.dialect, _base_stage(first, layout.prefix, None, False), ctx, params, header, small)
            )
    finally:
        con.unregister("gc_lines")
    from gascorr.schema import conform

    parts = [conform(t) for t in parts if t.num_rows]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else in_line_order(pa.concat_tables(parts))


def _run(
    con: duckdb.DuckDBPyConnection,
    d: Dialect,
    stage: Stage,
    ctx: ParseContext,
    params: dict[str, object],
    header: list[str] | None,
    small: bool = False,
) -> pa.Table:
    p = {
        **params,
        "dialect": d.name if stage.label is None else stage.label + ("" if d.name == "plain" else "+" + d.name),
    }
    if not d.json:
        return in_line_order(arrow(con, _regex_sql(d, ctx, stage), p, small=small))
    # a Zeek `service` column is the protocol, not who logged it
    skip = frozenset({"service"}) if d.special == "zeek" else frozenset()
    proj = Projection(ctx.names, extra_ids=TABLE_IDS.get(d.special), skip=skip)
    con.execute(f"CREATE OR REPLACE TEMP TABLE gc_obj AS {_json_rel_sql(d, stage, header)}")
    fallback = "NULL"
    if d.special in ("zeek", "w3c"):
        # no message field: the record's values, in order, stand in for it
        fallback = (
            "array_to_string(list_transform(json_keys(j), lambda k: json_extract_string(j, '$.\"' || k || '\"')), ' ')"
        )
    sql, p = proj.select(con, "gc_obj", p, text_fallback=fallback)
    try:
        return in_line_order(arrow(con, sql, p, small=small))
    finally:
        con.execute("DROP TABLE IF EXISTS gc_obj")


def parse_rows(
    con: duckdb.DuckDBPyConnection,
    rows_sql: str,
    d: Dialect,
    ctx: ParseContext,
    params: dict[str, object],
    *,
    label: str | None = None,
    rows: int | None = None,
) -> pa.Table:
    """Events from `rows_sql` (a query of `(n, line, svc0, ts0)`), each row one event read as
    dialect `d`: text lines inside a JSON-lines file, the `log` text of Docker json-file
    records. Rows that are blank or the dialect's comment lines (a glog file header) are
    no event: they are counted in `ctx.blank`, as such lines of a text file are (`rows`:
    how many rows `rows_sql` has, when the caller knows; else counted). `params` as for
    `parse` ($source, $format, $service, $session, $ref)."""
    from gascorr.schema import conform

    one = dataclasses.replace(d, multiline=False)
    table = conform(_run(con, one, Stage(rows_sql, label=label), ctx, params, None))
    if rows is None:
        [(rows,)] = con.execute(f"SELECT count(*) FROM ({rows_sql})").fetchall()
    ctx.blank += rows - table.num_rows
    return table
