"""HAR flavours from the public corpus: Chrome, Firefox (and Firebug), Safari, Playwright,
mitmproxy, Charles, Insomnia and Polly captures, a BOM, WebSocket entries, failed and
incomplete entries. Each must yield one event per page and entry, times in UTC, failures as
ERROR with their error text, and the ids its response headers carry.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS
from test_dialects import parse_file

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
HAR = CORPUS / "har"

# file -> (flavour, pages, entries)
FLAVOURS: dict[str, tuple[str, int, int]] = {
    "haralyzer/cnn.har": ("har", 1, 145),  # Firebug 1.12
    "haralyzer/humanssuck.net.har": ("har", 1, 4),
    "mitmproxy/charles.har": ("charles", 0, 1),
    "mitmproxy/chrome.har": ("chrome", 1, 3),
    "mitmproxy/firefox.har": ("firefox", 1, 14),
    "mitmproxy/flows_error_log.har": ("mitmproxy", 0, 2),
    "mitmproxy/flows_incomplete_log.har": ("mitmproxy", 0, 4),
    "mitmproxy/flows_successful_log.har": ("mitmproxy", 0, 2),
    "mitmproxy/flows_websocket.har": ("mitmproxy", 0, 3),
    "mitmproxy/insomnia.har": ("insomnia", 0, 1),
    "mitmproxy/safari.har": ("safari", 1, 19),
    "mitmproxy/with-bom.har": ("chrome", 0, 1),
    "playwright/har-fulfill.har": ("playwright", 1, 5),
    "playwright/har-redirect.har": ("playwright", 1, 3),
    "pollyjs/github-api-getUser-recording.har": ("polly", 0, 1),
    "pollyjs/jest-puppeteer-recording.har": ("polly", 0, 5),
}


def document(name: str) -> dict[str, Any]:
    doc = json.loads((HAR / name).read_text(encoding="utf-8-sig"))
    assert isinstance(doc, dict)
    return doc


def utc(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


@pytest.mark.parametrize("name", sorted(FLAVOURS))
def test_flavour_counts_and_times(name: str) -> None:
    flavour, pages, entries = FLAVOURS[name]
    ctx, rows = parse_file(HAR / name)
    assert ctx.dialect == flavour
    assert [r["kind"] for r in rows].count("page") == pages
    http = [r for r in rows if r["kind"] == "http"]
    assert len(http) == entries
    assert ctx.rejected == 0
    # every entry's time, normalised to UTC, in the entries' order
    doc = document(name)
    want = [utc(e["startedDateTime"]) for e in doc["log"]["entries"]]
    got = [r["ts"] for r in sorted(http, key=lambda r: r["line"])]
    assert [g.astimezone(UTC) if g else None for g in got] == want
    assert all(r["format"] == "har" for r in rows)
    for r in http:
        assert r["method"] and r["url"], r


def failed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["kind"] == "http" and (r["status"] in (None, 0))]


def test_chrome_failed_entry_is_an_error_with_its_text() -> None:
    _, rows = parse_file(HAR / "mitmproxy/chrome.har")
    [bad] = failed(rows)
    assert bad["url"] == "https://www.google.com/"
    assert bad["level"] == "ERROR"
    assert "net::ERR_INTERNET_DISCONNECTED" in bad["message"]


def test_mitmproxy_error_log() -> None:
    _, rows = parse_file(HAR / "mitmproxy/flows_error_log.har")
    [bad] = failed(rows)
    assert bad["url"].startswith("http://163.com") and bad["level"] == "ERROR"
    assert "Connect call failed" in bad["message"]
    [post] = [r for r in rows if r["status"] == 405]
    assert post["method"] == "POST" and post["level"] in ("WARN", "ERROR")


def test_incomplete_flows_are_errors() -> None:
    _, rows = parse_file(HAR / "mitmproxy/flows_incomplete_log.har")
    assert len(failed(rows)) == 4
    assert {r["level"] for r in failed(rows)} == {"ERROR"}


def test_cnn_aborted_entry_and_cookie() -> None:
    _, rows = parse_file(HAR / "haralyzer/cnn.har")
    [bad] = failed(rows)
    assert bad["level"] == "ERROR"
    with_cookie = [r for r in rows if "ug=54e949da0a21f60a3c743c062101515b" in (r["attrs"] or "")]
    assert len(with_cookie) >= 22


def test_websocket_entries_keep_their_messages() -> None:
    _, rows = parse_file(HAR / "mitmproxy/flows_websocket.har")
    ws = [r for r in rows if r["status"] == 101]
    assert len(ws) == 3
    assert all("_webSocketMessages" in (r["attrs"] or "") for r in ws)
    assert all(r["level"] == "INFO" for r in ws)


def test_with_bom() -> None:
    ctx, rows = parse_file(HAR / "mitmproxy/with-bom.har")
    [entry] = rows
    assert entry["method"] == "POST" and ctx.rejected == 0


@pytest.mark.parametrize(
    ("name", "request_id"),
    [
        ("pollyjs/github-api-getUser-recording.har", "F38D:0289:2486BB0:45D7297:621086A6"),  # x-github-request-id
        ("playwright/har-redirect.har", "97363ad70e272e63641c0bb784fa06a01b848dfd"),  # x-request-id
        ("mitmproxy/firefox.har", "299PK1CFMV40HV7M"),  # x-amz-request-id
        ("mitmproxy/safari.har", "3YE17W08DAHB9Y2Z"),
        ("haralyzer/cnn.har", "78F73210DC687731"),
    ],
)
def test_ids_from_response_headers(name: str, request_id: str) -> None:
    _, rows = parse_file(HAR / name)
    assert request_id in {r["request_id"] for r in rows}


def test_redirect_chain_in_order() -> None:
    _, rows = parse_file(HAR / "playwright/har-redirect.har")
    http = sorted((r for r in rows if r["kind"] == "http"), key=lambda r: r["line"])
    assert [r["status"] for r in http] == [301, 301, 200]
    assert http[-1]["request_id"] == "97363ad70e272e63641c0bb784fa06a01b848dfd"
    # the session cookie set by the first response is sent again by the third request
    assert "vmidv1=9faf31ab-1415-4b90-b367-24b670205f41" in (http[2]["attrs"] or "")


def test_playwright_page_id() -> None:
    _, rows = parse_file(HAR / "playwright/har-fulfill.har")
    [page] = [r for r in rows if r["kind"] == "page"]
    assert "page@b17b177f1c2e66459db3dcbe44636ffd" in page["attrs"]


def test_minified_single_line_har(tmp_path: Path) -> None:
    ctx, rows = parse_file(HAR / "haralyzer/humanssuck.net.har")
    assert ctx.lines >= 1 and len(rows) == 5
