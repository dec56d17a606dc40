"""The report in a real browser: Debian's headless Chromium (installed by `make test`) opens the file with
networking disabled, every chart renders without a console error, and a screenshot is kept as a test artefact.

Chromium is driven over the DevTools protocol by Playwright, pointed at /usr/bin/chromium (Playwright's own browser
download is never used).
"""

from __future__ import annotations

import struct
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page, Request, Route, sync_playwright
from trainplan.report.build import ReportResult, write_report

from tests.conftest import Built
from tests.test_report_data import ledger_relations, previous_plan
from tests.test_report_page import scale_report

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL = ("file:", "data:", "blob:", "about:")
RENDER_TIMEOUT_MS = 120_000


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def open_in_chromium(report: ReportResult, workdir: Path) -> dict:
    """Open the report offline; return console errors, page errors, remote requests, chart counts, screenshot."""
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium package"
    errors: list[str] = []
    remote: list[str] = []

    def block(route: Route, request: Request) -> None:
        if request.url.startswith(LOCAL):
            route.continue_()
        else:
            remote.append(request.url)
            route.abort()

    shot = workdir / f"{report.path.stem}.png"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(workdir / "profile"),  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            offline=True,
            viewport={"width": 1400, "height": 1000},
            timeout=RENDER_TIMEOUT_MS,  # Chromium's start, on a busy machine
        )
        try:
            context.set_default_timeout(RENDER_TIMEOUT_MS)  # goto, screenshot, the filter's clicks
            context.route("**/*", block)
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.goto(report.path.as_uri())
            page.wait_for_function(
                "document.body.getAttribute('data-charts-rendered') !== null", timeout=RENDER_TIMEOUT_MS
            )
            counts = page.evaluate(
                """() => ({
                    charts: document.querySelectorAll('[data-chart]').length,
                    rendered: Number(document.body.getAttribute('data-charts-rendered')),
                    failed: Number(document.body.getAttribute('data-charts-failed')),
                    roots: document.querySelectorAll('[data-chart] > svg.marks, [data-chart] > canvas.marks').length,
                    empty: Array.from(document.querySelectorAll('[data-chart]'))
                        .filter(n => { const r = n.getBoundingClientRect(); return r.width < 50 || r.height < 50; })
                        .map(n => n.getAttribute('data-chart')),
                    tables: document.querySelectorAll('table').length,
                })"""
            )
            page.screenshot(path=str(shot), full_page=True)
            counts["filter"] = _try_a_filter(page)
        finally:
            context.close()
    return {"errors": errors, "remote": remote, "shot": shot, **counts}


def _try_a_filter(page: Page) -> tuple[int, int, int] | None:
    """Type the first cell of a long table into its filter box: (rows, rows left visible, visible rows holding it)."""
    box = page.query_selector("input.filter")
    if box is None:
        return None
    key = box.get_attribute("data-table")
    word = page.eval_on_selector(f"#{key} tbody tr td", "td => td.textContent")
    page.eval_on_selector(f"#{key}", "t => t.closest('details').open = true")
    box.fill(word)
    return page.eval_on_selector(
        f"#{key}",
        """(t, word) => {
            const rows = Array.from(t.tBodies[0].rows);
            const shown = rows.filter(r => !r.hidden);
            return [rows.length, shown.length, shown.filter(r => r.textContent.toLowerCase().includes(word.toLowerCase())).length];
        }""",
        word,
    )


@pytest.fixture(scope="module")
def full_report(sample_built: Built, tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    """The sample's report with every section drawn: a previous plan that differs, and a ledger."""
    root = tmp_path_factory.mktemp("report")
    previous = previous_plan(sample_built, root / "previous")
    con = duckdb.connect()
    return write_report(
        sample_built.out_dir,
        sample_built.db_path,
        previous=previous,
        out=root / "sample-report.html",
        ledger=ledger_relations(con),
    )


def test_the_sample_report_renders_every_chart_offline(full_report: ReportResult, tmp_path: Path) -> None:
    seen = open_in_chromium(full_report, tmp_path)
    assert seen["errors"] == []
    assert seen["remote"] == []
    assert full_report.charts == 11  # 7 of the plan, 1 of the changes, 3 of the ledger
    assert seen["charts"] == seen["rendered"] == seen["roots"] == full_report.charts and seen["failed"] == 0
    assert seen["empty"] == []
    assert seen["tables"] >= full_report.charts
    rows, shown, matching = seen["filter"]
    assert 0 < shown == matching < rows  # the filter box keeps exactly the rows holding the word
    width, height = _png_size(seen["shot"])
    assert width == 1400 and height > 3000
    print(f"screenshot: {seen['shot']}")


def test_a_large_report_renders_offline(tmp_path: Path) -> None:
    report = scale_report(tmp_path, 100, 2000)  # 200,000 pairs: aggregated heat map, sampled strip, canvas
    seen = open_in_chromium(report, tmp_path)
    assert seen["errors"] == [] and seen["remote"] == []
    assert seen["charts"] == seen["rendered"] == seen["roots"] == report.charts and seen["failed"] == 0
    assert seen["empty"] == []
    print(f"screenshot: {seen['shot']}")
