"""The report's page and command: one self-contained file, next to the plan by default, bounded at scale."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from trainplan.cli.app import app
from trainplan.report import build as report_build
from trainplan.report.limits import HEATMAP_MAX_CELLS, STRIP_MAX_POINTS
from trainplan.report.page import render_table
from trainplan.report.sources import ReportInputError, plan_metadata
from trainplan.report.tables import table
from typer.testing import CliRunner

from bench.plan_db import build_plan_db
from tests.conftest import Built


def _specs(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-specs">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))


def plan_file(root: Path, plan_id: str = "abcdef0123456789", jobs: int = 0) -> Path:
    """A minimal plan folder (metadata first, as the export writes it) for a database built without a refresh."""
    folder = root / "globals" / "training_plan"
    folder.mkdir(parents=True)
    doc = {"metadata": {"plan_id": plan_id, "run_id": "r1", "semantics": "strict", "total_jobs": jobs}, "jobs": []}
    (folder / "master_training_plan.json").write_text(json.dumps(doc))
    return root


def test_the_sample_report_is_one_offline_file_next_to_the_plan(sample_built: Built) -> None:
    result = report_build.write_report(sample_built.out_dir, sample_built.db_path)
    assert result.path == sample_built.out_dir / "globals" / "report.html"
    page = result.path.read_text(encoding="utf-8")
    assert result.size == len(page.encode("utf-8"))
    # offline: nothing is loaded from anywhere (no src/href to a URL, no import, no fetch of a data URL)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "vegaEmbed" in page and "<script src" not in page
    specs = _specs(page)
    assert len(specs) == result.charts == page.count('class="chart" data-chart=') == 7
    for key, spec in specs.items():
        assert f'data-chart="{key}"' in page
        # one named dataset, inline in the spec: no other data source
        assert isinstance(spec["datasets"]["data"], list) and spec["datasets"]["data"]
        rest = json.dumps({k: v for k, v in spec.items() if k != "datasets"})
        assert '"values"' not in rest and '"url"' not in rest
    for section in ("1. Plan", "2. Routes", "3. Score against threshold", "4. Stability and leakage",
                    "5. Rejected inputs", "6. What changed", "7. Training"):  # fmt: skip
        assert f"{section}</h2>" in page
    assert "No training runs yet" in page and "No previous plan given" in page
    plan_id = json.loads(sample_built.master_plan.read_text())["metadata"]["plan_id"]
    assert f"plan {plan_id}" in page


def test_every_chart_has_its_numbers_in_a_table(sample_built: Built, tmp_path: Path) -> None:
    result = report_build.write_report(sample_built.out_dir, sample_built.db_path, out=tmp_path / "r.html")
    page = result.path.read_text(encoding="utf-8")
    for figure in re.findall(r'<figure id="([^"]+)">(.*?)</figure>', page, re.S):
        key, body = figure
        assert f'id="{key}-table-1"' in body, key
        assert '<th scope="col">' in body


def test_table_cells_are_escaped_and_formatted() -> None:
    t = table("c <1>", ["name", "n", "x", "flag", "none"], [("<script>", 1234, 0.123456, True, None)])
    out = render_table(t, "k")
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert '<td class="n">1,234</td>' in out and '<td class="n">0.1235</td>' in out
    assert "<td>yes</td>" in out and "<td>—</td>" in out
    assert "none</td>" in render_table(table("empty", ["a", "b"], []), "e")


def test_plan_metadata_reads_only_the_head_of_a_large_plan(tmp_path: Path) -> None:
    big = tmp_path / "master_training_plan.json"
    meta = {"plan_id": "p" * 16, "rejected_inputs": [{"file": "x" * 100}] * 2000}  # metadata past the first read
    big.write_text(json.dumps({"metadata": meta})[:-1] + ', "jobs": [' + "not json " * 10000)
    assert plan_metadata(big) == meta  # the cut, invalid rest is never parsed
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"jobs": [], "metadata": {"plan_id": "q"}}))
    assert plan_metadata(other) == {"plan_id": "q"}
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2")
    with pytest.raises(ReportInputError, match=r"broken\.json"):
        plan_metadata(broken)


def test_cli_report_writes_where_asked_and_prints_the_path(sample_built: Built, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "r.html"
    result = CliRunner().invoke(
        app, ["report", str(sample_built.out_dir), "--db", str(sample_built.db_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and str(out) in result.output.replace("\n", "")


def test_cli_report_without_a_plan_or_a_refresh_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINPLAN_STATE_DIR", str(tmp_path / "empty-state"))
    monkeypatch.setenv("TRAINPLAN_DB", str(tmp_path / "db.duckdb"))
    result = CliRunner().invoke(app, ["report"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "give PLAN" in lines[0]


def test_cli_report_of_a_missing_previous_plan_is_exit_2(sample_built: Built, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["report", str(sample_built.out_dir), "--db", str(sample_built.db_path), "--previous", str(tmp_path / "no")],
    )
    assert result.exit_code == 2 and "error:" in result.output


def scale_report(root: Path, targets: int, symbols: int) -> report_build.ReportResult:
    db = build_plan_db(root / "plan.duckdb", targets, symbols)
    return report_build.write_report(plan_file(root / "plan"), db, out=root / "report.html")


def test_a_large_plan_is_aggregated_and_sampled_and_says_so(tmp_path: Path) -> None:
    result = scale_report(tmp_path, 40, 2500)  # 100,000 pairs
    page = result.path.read_text(encoding="utf-8")
    specs = _specs(page)
    cells = specs["route-matrix"]["datasets"]["data"]
    assert len(cells) <= HEATMAP_MAX_CELLS and "neighbouring symbols" in page
    assert sum(c["pairs"] for c in cells) == 100_000
    points = [v for v in specs["scores"]["datasets"]["data"] if v["kind"] == "point"]
    assert len(points) <= STRIP_MAX_POINTS and "showing" in page and "of 100,040 scored lane decisions" in page
    assert result.size < 6_000_000


def test_the_report_package_says_what_it_reads_and_writes() -> None:
    import trainplan.report

    doc = (trainplan.report.__doc__ or "").lower()
    assert "reads" in doc and "writes" in doc and len(doc.strip().splitlines()) <= 4
