#!/usr/bin/env python3
"""DuckDB's own read -> Parquet on the same files: the floor gascorr's ingest is measured against.

    python bench/floor.py KIND OUT.parquet FILE...

KIND is `text` (every line as one VARCHAR column), `jsonl` (`read_json`, newline
delimited, auto schema) or `har` (`read_json` of the whole document, one row per
`log.entries` element). Prints the number of rows written. Run as a whole process, like
gascorr, so both pay the same `import duckdb`.
"""

from __future__ import annotations

import sys

import duckdb

READERS = {
    "text": "SELECT * FROM read_csv({files}, columns={{'line': 'VARCHAR'}}, header=false, delim=chr(1), quote='', "
    "escape='', auto_detect=false, strict_mode=false, null_padding=true)",
    "jsonl": "SELECT * FROM read_json({files}, format='newline_delimited', union_by_name=true)",
    "har": "SELECT unnest(log.entries) AS entry FROM read_json({files}, format='auto', union_by_name=true, "
    "maximum_object_size=67108864)",
}


def main(argv: list[str]) -> int:
    kind, out, files = argv[0], argv[1], argv[2:]
    con = duckdb.connect(config={"threads": 2})
    lit = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    sql = READERS[kind].format(files=lit)
    con.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
    print(con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0])  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
