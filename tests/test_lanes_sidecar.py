"""The lanes sidecar (`globals/.plan-<token>/lanes.parquet`): the export writes the lanes its JSON holds, the next
refresh reads them instead of parsing the JSON, and only while the JSON is unchanged (trainplan.plan.previous)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from trainplan.config.project import project_dir
from trainplan.export.export import export_plan
from trainplan.plan import previous
from trainplan.plan.files import LANES_SIDECAR
from trainplan.plan.previous import (
    PreviousPlanError,
    previous_lanes_table,
    read_previous_lanes,
    sidecar_lanes,
)

from bench.plan_db import build_plan_db
from tests.conftest import Built


def _parsed(root: Path) -> tuple[list[tuple], str]:
    lanes, basis = read_previous_lanes(root)
    return [(x.target, x.symbol, x.state, x.route, x.runs_in_state) for x in lanes], basis


def _cached(root: Path) -> tuple[list[tuple], str]:
    cached = sidecar_lanes(root)
    assert cached is not None, "the sidecar was not used"
    table, basis = cached
    return [tuple(row.values()) for row in table.to_pylist()], basis


def _sidecar(root: Path) -> Path:
    return (root / "globals/routing_plan").resolve().parent / LANES_SIDECAR


def test_sidecar_holds_what_routing_plan_json_holds(sample_built: Built, tmp_path: Path) -> None:
    root = tmp_path / "out"
    with duckdb.connect(str(sample_built.db_path), read_only=True) as con:
        export_plan(con, plan_root=root, project=project_dir())
    parsed, cached = _parsed(root), _cached(root)
    assert parsed[1] == cached[1] == "pairs"
    assert len(parsed[0]) > 20
    assert cached[0] == parsed[0]


def test_sidecar_holds_what_the_master_plan_holds(tmp_path: Path) -> None:
    """No routing_plan.json (dump_plan_as without JSON): the lanes are the jobs' lanes."""
    db = build_plan_db(tmp_path / "p.duckdb", 3, 40, dump_plan_as=("YAML",), training_plan_files=())
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "out", project=tmp_path)
    parsed, cached = _parsed(tmp_path / "out"), _cached(tmp_path / "out")
    assert parsed[1] == cached[1] == "jobs"
    assert {x[1] is None for x in parsed[0]} == {True, False}
    assert cached[0] == parsed[0]


def test_sidecar_of_a_synthetic_plan_with_targets_without_cs_lane(tmp_path: Path) -> None:
    db = build_plan_db(tmp_path / "p.duckdb", 3, 40)
    with duckdb.connect(str(db)) as con:  # a target whose CS decision is gone: the JSON gets the placeholder entry
        con.execute("delete from routing_decisions where symbol is null and target = (select min(target) from "
                    "routing_decisions)")  # fmt: skip
        con.execute("delete from training_jobs where symbol is null and target = (select min(target) from "
                    "training_jobs)")  # fmt: skip
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "out", project=tmp_path)
    parsed, cached = _parsed(tmp_path / "out"), _cached(tmp_path / "out")
    assert ("DISALLOWED", "ROUTE_BLOCKED") in {(s, r) for _, sym, s, r, _ in parsed[0] if sym is None}
    assert cached == parsed


def _change_first_state(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    target = next(iter(doc["targets"]))
    symbol = next(iter(doc["targets"][target]["symbols"]))
    old = doc["targets"][target]["symbols"][symbol]["local_state"]
    new = "DISALLOWED" if old != "DISALLOWED" else "STRONG"
    marker = f'"local_state":"{old}"'
    assert marker in text, "the entry layout changed: adjust the test"
    path.write_text(text.replace(marker, f'"local_state":"{new}"', 1), encoding="utf-8")


def test_an_edited_plan_is_parsed_not_read_from_the_sidecar(sample_built: Built, tmp_path: Path) -> None:
    root = tmp_path / "out"
    with duckdb.connect(str(sample_built.db_path), read_only=True) as con:
        export_plan(con, plan_root=root, project=project_dir())
    before = _parsed(root)[0]
    _change_first_state(root / "globals/routing_plan/routing_plan.json")
    assert sidecar_lanes(root) is None
    table, basis = previous_lanes_table(root)
    after = [tuple(row.values()) for row in table.to_pylist()]
    assert basis == "pairs" and after == _parsed(root)[0] != before


def test_a_sidecar_with_an_invalid_lane_is_not_used(sample_built: Built, tmp_path: Path) -> None:
    root = tmp_path / "out"
    with duckdb.connect(str(sample_built.db_path), read_only=True) as con:
        export_plan(con, plan_root=root, project=project_dir())
    sidecar = _sidecar(root)
    table = pq.read_table(sidecar)
    states = table["state"].to_pylist()
    states[3] = "SOMETIMES"
    pq.write_table(table.set_column(2, "state", [states]).replace_schema_metadata(table.schema.metadata), sidecar)
    assert sidecar_lanes(root) is None  # the same metadata and hash, but a lane the JSON reader would refuse
    assert previous_lanes_table(root)[0].num_rows == len(_parsed(root)[0])


def test_a_broken_plan_without_sidecar_is_still_an_error(sample_built: Built, tmp_path: Path) -> None:
    root = tmp_path / "out"
    with duckdb.connect(str(sample_built.db_path), read_only=True) as con:
        export_plan(con, plan_root=root, project=project_dir())
    _sidecar(root).write_bytes(b"not a parquet")
    routing = root / "globals/routing_plan/routing_plan.json"
    routing.write_text(routing.read_text(encoding="utf-8")[:-200], encoding="utf-8")
    with pytest.raises(PreviousPlanError, match=r"routing_plan\.json: cannot read the previous plan"):
        previous_lanes_table(root)


def test_a_cs_decision_without_state_is_reported_as_the_json_reader_reports_it(tmp_path: Path) -> None:
    """The sidecar gives the placeholder lane only to a target without a CS decision: a CS decision whose state is
    null is null in the sidecar too, so the sidecar is refused and the JSON reader names the bad lane."""
    db = build_plan_db(tmp_path / "p.duckdb", 2, 5)
    with duckdb.connect(str(db)) as con:
        con.execute("update routing_decisions set cs_state = null where symbol is null and target = (select "
                    "min(target) from routing_decisions)")  # fmt: skip
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "out", project=tmp_path)
    assert sidecar_lanes(tmp_path / "out") is None
    with pytest.raises(PreviousPlanError, match=r"lane \(target_00000, None\): state None is not one of"):
        previous_lanes_table(tmp_path / "out")


def test_a_plan_file_that_cannot_be_hashed_is_left_to_the_json_reader(
    sample_built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "out"
    with duckdb.connect(str(sample_built.db_path), read_only=True) as con:
        export_plan(con, plan_root=root, project=project_dir())

    def unreadable(path: Path) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(previous, "file_sha256", unreadable)
    assert sidecar_lanes(root) is None  # not an OSError out of the cache: the JSON reader reports the file
