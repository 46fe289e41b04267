"""User configuration: extra id names and patterns, from a TOML file.

The file is `--config PATH`, else `gascorr.toml` in the current directory if present:

    [ids]
    session_keys = ["user_session"]          # JSON keys / logfmt keys
    session_headers = ["X-My-Session"]       # HTTP headers (case-insensitive)
    session_patterns = ['sess=(\\w+)']       # regexes over messages; group 1 is the id
    request_keys = ["rid"]
    request_headers = ["X-Amzn-Trace"]
    request_patterns = ['\\brid:(\\S+)']
    trace_keys = ["tid"]
    trace_headers = ["X-Cloud-Trace"]
    trace_patterns = []
    parent_trace_keys = ["parent_tid"]       # the trace a call is a child of
    parent_trace_headers = ["X-Parent-Trace"] # (keys and headers only; no patterns)

What a user adds is looked for before the built-in names.
"""

from __future__ import annotations

import os
import re
import tomllib

from gascorr.ids import DEFAULT, Names

DEFAULT_FILE = "gascorr.toml"
ROLES = ("session", "request", "trace", "parent_trace")
KINDS = ("keys", "headers", "patterns")
NO_PATTERNS = frozenset({"parent_trace"})  # named only by keys and headers
KEYS = tuple(f"{r}_{k}" for r in ROLES for k in KINDS if not (r in NO_PATTERNS and k == "patterns"))


class ConfigError(ValueError):
    pass


def load_names(path: str | None = None) -> Names:
    """The id names: built-in ones, extended by the config file when there is one."""
    if path is None:
        if not os.path.exists(DEFAULT_FILE):
            return DEFAULT
        path = DEFAULT_FILE
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"config file {path} does not exist") from e
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from e
    ids = data.get("ids", {})
    if not isinstance(ids, dict):
        raise ConfigError(f"{path}: [ids] must be a table")
    unknown = sorted(set(ids) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [ids]: {', '.join(unknown)}")
    names = DEFAULT
    for role in ROLES:
        lists = {}
        for kind in KINDS:
            if f"{role}_{kind}" not in KEYS:
                continue
            v = ids.get(f"{role}_{kind}", [])
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ConfigError(f"{path}: ids.{role}_{kind} must be a list of strings")
            lists[kind] = v
        try:
            names = names.extended(role, **lists)
        except (ValueError, re.error) as e:
            raise ConfigError(f"{path}: {e}") from e
    return names
