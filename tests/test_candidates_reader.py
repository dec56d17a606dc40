"""The two readers of a routing_candidates.parquet (macros/candidates_reader.sql) give the same rows: the typed
reader, taken when the file's columns have the reference's types, against the JSON reader every file can use, on
files full of the values that tell them apart (non-finite scores, negative or missing sample sizes, messy enums,
unreadable timestamps, lists with nulls, columns missing)."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from trainplan.config.settings import make_settings
from trainplan.samples.candidates_format import SCHEMA
from trainplan.warehouse.dbt_runner import DbtBuildError, build_database

MODEL = "stg_candidates__routing_candidates"

ROWS = [
    {"target": "t_a", "symbol": None, "mode": "CROSS_SECTIONAL", "score": 0.61, "sample_size": 20000,
     "stability": " stable ", "leakage_status": "safe", "task_type": "binary_classification",
     "timestamp": "2026-01-05T10:31:07.123456", "model_status": None},
    {"target": "t_a", "symbol": "AAA", "mode": "symbol_specific", "score": math.nan, "sample_size": -5,
     "stability": "Drifting", "leakage_status": "BLOCKED", "failed_model_families": [None, None],
     "timestamp": "not a time", "model_status": "ok"},
    {"target": "t_a", "symbol": "BBB", "mode": "SYMBOL", "score": math.inf, "sample_size": None,
     "stability": "UNKNOWN", "leakage_status": "suspect", "task_type": "REGRESSION", "model_status": "FAILED"},
    {"target": "t_a", "symbol": "CCC", "mode": None, "score": -math.inf, "sample_size": 0, "stability": "sideways",
     "leakage_status": "unknown", "task_type": "ranking", "model_status": "maybe"},
    {"target": "t_a", "symbol": "CCC", "mode": "SYMBOL_SPECIFIC", "score": None, "sample_size": 9_007_199_254_740_993},
    {"target": None, "symbol": "DDD", "mode": "SYMBOL_SPECIFIC", "score": 1e-7, "sample_size": 12},
    {"target": "t_é/\"x\"", "symbol": "E\\E", "mode": "SYMBOL_SPECIFIC", "score": 0.1 + 0.2, "sample_size": 7,
     "metric_name": "roc_auc", "git_commit": "abc", "timestamp": "2026-01-05"},
]  # fmt: skip


def _reference_file(folder: Path, schema: pa.Schema = SCHEMA, **overrides: object) -> Path:
    rows = [{name: row.get(name, overrides.get(name)) for name in schema.names} for row in ROWS]
    path = folder / "routing_candidates.parquet"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def _snapshot_style(folder: Path) -> Path:
    """trainplan's own snapshot types: double CIs, varchar feature_set_id, varchar[] families, no stability_metrics
    and no model_status column."""
    fields = [f for f in SCHEMA if f.name not in ("stability_metrics", "model_status")]
    retyped = {
        "score_ci_low": pa.float64(),
        "score_ci_high": pa.float64(),
        "feature_set_id": pa.string(),
        "failed_model_families": pa.list_(pa.string()),
    }
    schema = pa.schema([pa.field(f.name, retyped.get(f.name, f.type)) for f in fields])
    path = _reference_file(folder, schema)
    table = pq.read_table(path)
    table = table.set_column(4, "score_ci_low", pa.array([0.5, None, math.nan, 1.0, None, None, 2.5]))
    table = table.set_column(
        10, "failed_model_families", pa.array([["xgboost", None], None, [], ["LightGBM"], None, None, None])
    )
    pq.write_table(table.set_column(9, "feature_set_id", pa.array(["fs1", None, "", "x", None, None, None])), path)
    return path


def _read(path: Path, work: Path, reader: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict], str]:
    """The model's rows (sorted) and its compiled SQL, built with the given reader."""
    monkeypatch.setenv("TRAINPLAN_CANDIDATES_READER", reader)
    monkeypatch.setenv("TRAINPLAN_STATE_DIR", str(work / "state"))
    settings = make_settings(candidates_file=path, out_dir=work, db_path=work / "t.duckdb")
    built = build_database(settings, ["--select", MODEL]).db_path
    with duckdb.connect(str(built), read_only=True) as con:
        cursor = con.execute(f"select * from {MODEL}")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    compiled = next((work / "state").rglob(f"compiled/**/{MODEL}.sql")).read_text()
    key = [repr(v) for v in rows]  # NaN != NaN: compare by text
    return [r for _, r in sorted(zip(key, rows, strict=True))], compiled


def _same(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b) == len(ROWS)
    assert [repr(r) for r in a] == [repr(r) for r in b]


@pytest.mark.parametrize("make", [_reference_file, _snapshot_style], ids=["reference file", "trainplan snapshot"])
def test_typed_reader_reads_what_the_json_reader_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make) -> None:
    path = make(tmp_path / "in")
    typed, typed_sql = _read(path, tmp_path / "auto", "auto", monkeypatch)
    as_json, json_sql = _read(path, tmp_path / "json", "json", monkeypatch)
    assert "to_json(src)" not in typed_sql and "to_json(src)" in json_sql
    _same(typed, as_json)


def test_a_column_of_another_type_is_read_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A score written as text: the typed reader would parse "0.61" where the JSON reader does too, but a type it
    does not list is never taken."""
    schema = pa.schema([pa.field("score", pa.string()) if f.name == "score" else f for f in SCHEMA])
    rows = [{**r, "score": None if r["score"] is None else str(r["score"])} for r in ROWS]
    path = tmp_path / "in" / "routing_candidates.parquet"
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows], schema=schema), path)
    auto, auto_sql = _read(path, tmp_path / "auto", "auto", monkeypatch)
    assert "to_json(src)" in auto_sql
    assert {r["score_text"] for r in auto} >= {"0.61", "nan"}  # what the file holds


def test_an_unknown_reader_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _reference_file(tmp_path / "in")
    with pytest.raises(
        DbtBuildError,
        match=r"model stg_candidates__routing_candidates: var candidates_reader .*: expected auto or json, got 'fast'",
    ):
        _read(path, tmp_path / "w", "fast", monkeypatch)


def test_a_column_named_filename_is_the_files_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """read_parquet gives the file's path under a name of trainplan's, so a `filename` column (DuckDB's default
    name for the path) neither breaks the build nor replaces the path: both readers read the rows as without it."""
    plain = _reference_file(tmp_path / "plain")
    extra = tmp_path / "extra" / "routing_candidates.parquet"
    extra.parent.mkdir()
    table = pq.read_table(plain)
    pq.write_table(table.append_column("filename", pa.array(["elsewhere.parquet"] * table.num_rows)), extra)
    expected, _ = _read(plain, tmp_path / "w_plain", "auto", monkeypatch)
    for reader in ("auto", "json"):
        rows, _ = _read(extra, tmp_path / f"w_{reader}", reader, monkeypatch)
        assert {r["source_file"] for r in rows} == {str(extra)}
        _same([{**r, "source_file": None} for r in rows], [{**r, "source_file": None} for r in expected])
