"""Linking ids into sessions and requests, in SQL.

Every event contributes one tuple of the ids it carries — session, request, trace and (for
HAR records) page — to its source's small edges file, written at ingest. Linking reads only
those, so re-ingesting one file never re-reads the events of the others.

Rules, all evaluated by `LINK_SQL` in DuckDB (and portable to any SQL engine):

- Sessions are roots. Request, trace and page ids are nodes; ids that appear together on
  one event are joined by an edge; connected components come from min-label propagation
  (a few SQL rounds; from the third on, each also lets a node take its label's label, so
  a long chain of ids takes a number of rounds that grows with its logarithm).
- A node seen directly with two or more sessions is ambiguous: it is reported and takes
  no part in propagation, so it can never merge two sessions.
- A component that reaches exactly one session belongs to it; one that reaches several
  is a conflict: each of its nodes keeps only the session it was seen with directly.
- A trace id belongs to a request when it was seen with exactly one request id.

The output `links` table has one row per node: kind (`request`, `trace`, `page`), id,
session (NULL when none or ambiguous), request (for traces), ambiguous, sessions (the
distinct sessions it was seen with), conflict (its component reaches several sessions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

# Per source: its id tuples, each with the rows of the source's events file that carry it
# (`rows`: 0-based row numbers). Page keys are `source#pageref` for HAR pages and entries.
# Linking reads the tuples; the session and request indexes (`INDEX_SQL`) read the rows.
_EDGES = """
SELECT {f}s, r, t, p, list(n ORDER BY n) AS rows
FROM (SELECT {f}session_id AS s, request_id AS r, trace_id AS t, {n} AS n,
             CASE WHEN format = 'har' AND json_extract_string(attrs, '$.pageref') IS NOT NULL
                  THEN source || '#' || json_extract_string(attrs, '$.pageref') END AS p
      FROM {scan}
      WHERE session_id IS NOT NULL OR request_id IS NOT NULL OR trace_id IS NOT NULL OR format = 'har')
GROUP BY ALL
"""
# one chunk of a source's events as it is written, registered as `gc_chunk` with each row's
# number in the events file in `gc_n`: a source's edges file holds each chunk's distinct
# tuples, so memory does not grow with the source (a tuple may recur from chunk to chunk)
EDGES_CHUNK_SQL = _EDGES.format(f="", n="gc_n", scan="gc_chunk")
# a list of events files at once, with each one's `filename` first
EDGES_MANY_SQL = _EDGES.format(
    f="filename, ", n="file_row_number", scan="read_parquet(?, file_row_number = true, filename = true)"
)

# Every event that resolves to a session or a request, as (file, row, session, request): the
# same resolution as the `events` view (query.RESOLUTION) — own ids first, then the links
# of its request, trace and page — computed once per ingest from the edges files. `{edges}`
# has the edges columns plus `file`, the events file the rows are in.
INDEX_SQL = """
SELECT e.file, unnest(e.rows)::INTEGER AS row,
       coalesce(e.s, lr.session, lt.session, lp.session) AS session,
       coalesce(e.r, lt.request) AS request
FROM {edges} e
LEFT JOIN links lr ON lr.kind = 'request' AND lr.id = e.r
LEFT JOIN links lt ON lt.kind = 'trace' AND lt.id = e.t
LEFT JOIN links lp ON lp.kind = 'page' AND lp.id = e.p
WHERE coalesce(e.s, lr.session, lt.session, lp.session, e.r, lt.request) IS NOT NULL
"""

MAX_ROUNDS = 1000  # a safety valve: rounds end when no label moves, long before this


def compute_links(con: duckdb.DuckDBPyConnection, edges_rel: str) -> None:
    """Create TEMP TABLE `links` from the union of edge tuples in `edges_rel` (s, r, t, p)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE gc_tuples AS
        SELECT s, CASE WHEN r IS NOT NULL THEN 'r:' || r END AS r, CASE WHEN t IS NOT NULL THEN 't:' || t END AS t,
               CASE WHEN p IS NOT NULL THEN 'p:' || p END AS p
        FROM {edges_rel}""")
    # every node with the session and request it was seen with on each tuple
    con.execute("""
        CREATE OR REPLACE TEMP TABLE gc_obs AS
        SELECT s, r, r AS node FROM gc_tuples WHERE r IS NOT NULL
        UNION ALL SELECT s, r, t FROM gc_tuples WHERE t IS NOT NULL
        UNION ALL SELECT s, r, p FROM gc_tuples WHERE p IS NOT NULL""")
    # per node: the least and greatest session and (other) request seen directly — one of
    # each is what matters; two sessions make it ambiguous, two requests keep a trace apart
    con.execute("""
        CREATE OR REPLACE TEMP TABLE gc_direct AS
        SELECT node, min(s) AS s1, max(s) AS s2,
               min(r) FILTER (WHERE r <> node) AS r1, max(r) FILTER (WHERE r <> node) AS r2
        FROM gc_obs GROUP BY node""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE gc_amb AS
        SELECT node, list(DISTINCT s ORDER BY s) AS sessions
        FROM gc_obs WHERE node IN (SELECT node FROM gc_direct WHERE s1 <> s2) AND s IS NOT NULL
        GROUP BY node""")
    # A tuple's free (not ambiguous) ids are one clique: it is linked as a star around the
    # least of them, its hub, which gives the same components with fewer edges. Each node
    # starts from the least hub it is seen with, so that the common shapes (a HAR entry's
    # request, trace and page; a log line's request and trace) are settled before any round,
    # and the rounds only confirm them or carry longer chains.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE gc_spokes AS
        WITH free AS (
          SELECT CASE WHEN r NOT IN (SELECT node FROM gc_amb) THEN r END AS r,
                 CASE WHEN t NOT IN (SELECT node FROM gc_amb) THEN t END AS t,
                 CASE WHEN p NOT IN (SELECT node FROM gc_amb) THEN p END AS p
          FROM gc_tuples WHERE (r IS NOT NULL)::INTEGER + (t IS NOT NULL)::INTEGER + (p IS NOT NULL)::INTEGER > 1),
        hubbed AS (SELECT r, t, p, least(r, t, p) AS hub FROM free)
        SELECT r AS node, hub FROM hubbed WHERE r > hub
        UNION ALL SELECT t, hub FROM hubbed WHERE t > hub
        UNION ALL SELECT p, hub FROM hubbed WHERE p > hub""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE gc_edges AS
        SELECT node AS a, hub AS b FROM gc_spokes UNION SELECT hub, node FROM gc_spokes""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE gc_label AS
        SELECT d.node, least(d.node, h.hub) AS comp
        FROM gc_direct d LEFT JOIN (SELECT node, min(hub) AS hub FROM gc_spokes GROUP BY node) h USING (node)""")
    for round_ in range(MAX_ROUNDS):
        con.execute("""
            CREATE OR REPLACE TEMP TABLE gc_label2 AS
            SELECT l.node, least(l.comp, min(n.comp)) AS comp, least(l.comp, min(n.comp)) < l.comp AS moved
            FROM gc_label l LEFT JOIN gc_edges e ON e.a = l.node LEFT JOIN gc_label n ON n.node = e.b
            GROUP BY l.node, l.comp""")
        changed = con.execute("SELECT count(*) FROM gc_label2 WHERE moved").fetchone()
        con.execute("DROP TABLE gc_label")
        con.execute("ALTER TABLE gc_label2 RENAME TO gc_label")
        if round_ >= 2 and changed and changed[0]:
            # a chain: jump to the label's label (a node of the same component, and never a
            # greater one), halving what is left to walk
            con.execute("""
                CREATE OR REPLACE TEMP TABLE gc_label2 AS
                SELECT l.node, least(l.comp, coalesce(p.comp, l.comp)) AS comp
                FROM gc_label l LEFT JOIN gc_label p ON p.node = l.comp""")
            con.execute("DROP TABLE gc_label")
            con.execute("ALTER TABLE gc_label2 RENAME TO gc_label")
        if not changed or not changed[0]:
            break
    con.execute("""
        CREATE OR REPLACE TEMP TABLE links AS
        WITH d AS (SELECT d.*, l.comp FROM gc_direct d JOIN gc_label l USING (node)),
        c AS (SELECT comp, min(s1) AS c1, max(s1) AS c2 FROM d WHERE s1 = s2 GROUP BY comp)
        SELECT CASE left(d.node, 1) WHEN 'r' THEN 'request' WHEN 't' THEN 'trace' ELSE 'page' END AS kind,
               substr(d.node, 3) AS id,
               CASE WHEN d.s1 <> d.s2 THEN NULL
                    WHEN d.s1 IS NOT NULL THEN d.s1
                    WHEN c.c1 = c.c2 THEN c.c1 END AS session,
               CASE WHEN left(d.node, 1) = 't' AND d.r1 = d.r2 THEN substr(d.r1, 3) END AS request,
               coalesce(d.s1 <> d.s2, false) AS ambiguous,
               CASE WHEN d.s1 <> d.s2 THEN a.sessions WHEN d.s1 IS NOT NULL THEN [d.s1] ELSE []::VARCHAR[] END
                   AS sessions,
               coalesce(c.c1 <> c.c2, false) AS conflict
        FROM d LEFT JOIN c USING (comp) LEFT JOIN gc_amb a USING (node)""")
    for t in ("gc_tuples", "gc_obs", "gc_direct", "gc_amb", "gc_spokes", "gc_edges", "gc_label"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


# An append whose id tuples are at most this many may be linked on its own (`added_links`)
MAX_ADDED_TUPLES = 100_000

Node = tuple[str, str]  # (kind, id)


def added_links(tuples: list[tuple[str | None, ...]], known: dict[Node, dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The links rows of the new ids among `tuples` (an append's (s, r, t, p) id tuples), when
    adding the tuples to the store changes no link row of an id it already has; else None,
    and the whole store is relinked. `known`: the current row of every id of `tuples` that
    the store already links.

    The rules are those of `compute_links`, applied to an append that only extends what is
    there: no id becomes ambiguous, no component gains a second session or a first one, no
    known id is seen with a new session or (a trace) a request, no known id is ambiguous or
    in a conflict. Then every known row stays as it is, and a new id takes its own session,
    else its component's (the single session its tuples and known ids give). HAR pages are
    never appended, so a tuple with a page gives None."""
    parent: dict[Node, Node] = {}

    def find(x: Node) -> Node:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    direct: dict[Node, set[str]] = {}  # sessions seen on the id's own tuples
    requests: dict[Node, set[str]] = {}  # of a trace: the request ids on its tuples
    for s, r, t, p in tuples:
        if p is not None:
            return None
        nodes = [n for n in (("request", r) if r else None, ("trace", t) if t else None) if n is not None]
        for n in nodes:
            parent.setdefault(n, n)
            if s is not None:
                direct.setdefault(n, set()).add(s)
        if r and t:
            a, b = find(("request", r)), find(("trace", t))
            if a != b:
                parent[a] = b
            requests.setdefault(("trace", t), set()).add(r)
    component: dict[Node, set[str]] = {}
    for n in parent:
        seen = direct.get(n, set())
        old = known.get(n)
        if len(seen) > 1:
            return None  # a new ambiguous id: it would leave its component
        if old is not None:
            if old["ambiguous"] or old["conflict"]:
                return None
            if seen and list(old["sessions"] or []) != sorted(seen):
                return None  # a known id seen with a session for the first time
            if n[0] == "trace" and requests.get(n) and {old["request"]} != requests[n]:
                return None  # a trace's request would change or become ambiguous
        sessions = component.setdefault(find(n), set())
        sessions |= seen
        if old is not None and old["session"] is not None:
            sessions.add(old["session"])
    if any(len(ss) > 1 for ss in component.values()):
        return None  # two sessions meet
    rows = []
    for n in parent:
        ss = component[find(n)]
        session = next(iter(ss)) if ss else None
        old = known.get(n)
        if old is not None:
            if old["session"] != session:
                return None  # the known id's whole component would gain a session
            continue
        seen = direct.get(n, set())
        reqs = requests.get(n, set())
        rows.append(
            {
                "kind": n[0],
                "id": n[1],
                "session": session,
                "request": next(iter(reqs)) if n[0] == "trace" and len(reqs) == 1 else None,
                "ambiguous": False,
                "sessions": sorted(seen),
                "conflict": False,
            }
        )
    return rows
