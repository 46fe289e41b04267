"""Arrow compute kernels without importing `pyarrow.compute`.

`pyarrow.compute` spends ~40 ms at import wrapping every kernel in a Python function (and
`Table.filter`, `.take` and `.sort_by` import it), a sixth of a whole `trace` process. The
kernels themselves live in `pyarrow._compute`; `call` and `options` reach them there.

Likewise `pyarrow.parquet` imports `pyarrow.fs` and with it every remote file system
module and `ssl` (~35-70 ms); `parquet_reader` opens a local file with the reader that
module wraps, `pyarrow._parquet.ParquetReader`.
"""

from __future__ import annotations

from typing import Any


def call(name: str, *args: Any, options: Any = None) -> Any:
    """Arrow compute function `name` on `args`."""
    try:
        from pyarrow._compute import call_function
    except ImportError:  # pragma: no cover - a pyarrow that moved it
        from pyarrow.compute import call_function
    return call_function(name, list(args), options)


def options(kind: str, *args: Any, **kwargs: Any) -> Any:
    """An options object of Arrow compute (`SortOptions`, `TrimOptions` …), built the same way."""
    try:
        import pyarrow._compute as c
    except ImportError:  # pragma: no cover
        import pyarrow.compute as c
    return getattr(c, kind)(*args, **kwargs)


def parquet_reader(path: str) -> Any:
    """An open Parquet reader of a local file: `.metadata`, `.schema_arrow`,
    `.read_row_groups(groups)`, `.close()`."""
    try:
        from pyarrow._parquet import ParquetReader
    except ImportError:  # pragma: no cover
        from pyarrow.parquet import ParquetReader
    reader = ParquetReader()
    reader.open(path)
    return reader


def cast(table: Any, schema: Any) -> Any:
    """`table.cast(schema)` (safe casts), without the import of `pyarrow.compute` that
    `Table.cast` makes: ~50 ms of every ingest process."""
    import pyarrow as pa

    if table.schema == schema:
        return table
    if table.schema.names != schema.names:
        raise ValueError(f"cannot cast columns {table.schema.names} to {schema.names}")
    cols = [
        col if col.type == f.type else call("cast", col, options=options("CastOptions", f.type))
        for col, f in zip(table.columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(cols, schema=schema)
