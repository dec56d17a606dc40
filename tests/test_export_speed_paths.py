"""The fast export's own paths: views cut from the jobs' text in a worker thread, the mirror as a hard link, the
YAML escape decision by byte scan, and failures on either thread leaving the previous plan whole."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.plan_db import build_plan_db
from driver import export as export_module
from driver.export import _needs_yaml_escape, export_plan
from driver.plan_stream import partition_batches, write_partitioned
from tests.test_plan_export import _snapshot

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@given(
    keys=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "é", "", "a/b"])), max_size=40),
    rows=st.integers(min_value=1, max_value=7),
)
def test_partition_batches_groups_stably(keys: list[str | None], rows: int) -> None:
    """Every non-null key's rows, in their original order, whatever the batch size; null keys are left out."""
    texts = [f"<{i}>" for i in range(len(keys))]
    got: dict[str, list[str]] = {}
    for batch_keys, batch_texts in partition_batches(pa.array(keys, pa.string()), pa.array(texts), rows=rows):
        assert len(batch_keys) == len(batch_texts) <= rows
        for key, text in zip(batch_keys.to_pylist(), batch_texts.to_pylist(), strict=True):
            got.setdefault(key, []).append(text)
    expected: dict[str, list[str]] = {}
    for key, text in zip(keys, texts, strict=True):
        if key is not None:
            expected.setdefault(key, []).append(text)
    assert got == expected
    assert list(got) == list(expected)  # groups in the order their key first appears


def test_write_partitioned_one_file_per_key_across_batches(tmp_path: Path) -> None:
    keys = pa.array(["x", "y", "x", None, "y", "x"])
    texts = pa.array([f",{i}" for i in range(6)])
    written = write_partitioned(
        partition_batches(keys, texts, rows=2),
        lambda k: tmp_path / f"{k}.txt",
        lambda k: f"[{k}:".encode(),
        b"]",
        skip_first=1,
    )
    assert written == ["x", "y"]
    assert (tmp_path / "x.txt").read_text() == "[x:0,2,5]"
    assert (tmp_path / "y.txt").read_text() == "[y:1,4]"


def test_write_partitioned_stops_when_cancelled(tmp_path: Path) -> None:
    keys = pa.array(["x"] * 4)
    with pytest.raises(RuntimeError, match="stopped writing views"):
        write_partitioned(
            partition_batches(keys, pa.array(["a"] * 4), rows=1),
            lambda k: tmp_path / f"{k}.txt",
            lambda k: b"",
            b"",
            cancelled=lambda: True,
        )


@pytest.mark.parametrize(
    ("text", "escape"),
    [("plain ascii", False), ("é→ unicode", False), ("del\x7f", True), ("c1\x85x", True), ("c1\x9f", True)],
)
def test_needs_yaml_escape(text: str, escape: bool) -> None:
    assert _needs_yaml_escape(pa.array(["ok", text], pa.large_string())) is escape


def test_views_regroup_many_batches_and_exports_are_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches force every view across batch boundaries; two exports (worker thread) give the same bytes,
    and every view file holds exactly the master's jobs of its value, in plan order."""
    db = build_plan_db(tmp_path / "p.duckdb", ["t1", "t2", "t3"], [f"S{i:02d}" for i in range(25)])
    real = export_module.partition_batches
    monkeypatch.setattr(export_module, "partition_batches", lambda k, t: real(k, t, rows=7))
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "a", project=tmp_path, now=NOW)
        export_plan(con, plan_root=tmp_path / "b", project=tmp_path, now=NOW)
    tree_a, tree_b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert tree_a == tree_b
    jobs = json.loads(tree_a["training_plan/master_training_plan.json"])["jobs"]
    assert len(jobs) == 3 + 3 * 25
    for name, raw in tree_a.items():
        view = name.split("/")[1] if name.count("/") == 2 else None
        if view is None:
            continue
        doc = json.loads(raw)
        key = next(iter(doc))
        assert doc["jobs"] == [j for j in jobs if j[key] == doc[key]], name


def test_mirror_is_a_hard_link_after_publication(tmp_path: Path) -> None:
    db = build_plan_db(tmp_path / "p.duckdb", 2, 3)
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "run", project=tmp_path)
        export_plan(con, plan_root=tmp_path / "run", project=tmp_path)  # a second publication replaces the first
    folder = tmp_path / "run/globals/training_plan"
    master, mirror = folder / "master_training_plan.json", folder / "training_plan.json"
    assert os.path.samefile(master, mirror)
    assert master.stat().st_nlink == 2
    assert mirror.read_bytes() == master.read_bytes()
    assert json.loads(mirror.read_bytes())["metadata"]["total_jobs"] == 2 + 2 * 3


def test_mirror_falls_back_to_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: object, dst: object) -> None:
        raise OSError("links not supported here")

    monkeypatch.setattr(export_module.os, "link", refuse)
    db = build_plan_db(tmp_path / "p.duckdb", 1, 2)
    with duckdb.connect(str(db), read_only=True) as con:
        export_plan(con, plan_root=tmp_path / "run", project=tmp_path)
    folder = tmp_path / "run/globals/training_plan"
    master, mirror = folder / "master_training_plan.json", folder / "training_plan.json"
    assert not os.path.samefile(master, mirror)
    assert mirror.read_bytes() == master.read_bytes()


def test_main_thread_failure_stops_the_worker_and_keeps_the_previous_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = build_plan_db(tmp_path / "old.duckdb", ["t_a"], ["AAA"])
    new = build_plan_db(tmp_path / "new.duckdb", ["t_b"], ["BBB", "CCC"])
    root = tmp_path / "run"
    with duckdb.connect(str(old), read_only=True) as con:
        export_plan(con, plan_root=root, project=tmp_path)
    before = _snapshot(root)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "_write_training_markdown", boom)
    with duckdb.connect(str(new), read_only=True) as con, pytest.raises(OSError, match="disk full"):
        export_plan(con, plan_root=root, project=tmp_path)
    assert _snapshot(root) == before
    current = os.readlink(root / "globals/.plan-current")
    assert [p.name for p in (root / "globals").iterdir() if p.name.startswith(".plan-") and not p.is_symlink()] == [
        current
    ]


def test_plan_without_jobs(tmp_path: Path) -> None:
    """No job: the fetched jobs' text is empty (one empty chunk), the files say so, no view folder has a file."""
    db = build_plan_db(tmp_path / "p.duckdb", 1, 2)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from training_jobs")
    with duckdb.connect(str(db), read_only=True) as con:
        result = export_plan(con, plan_root=tmp_path / "run", project=tmp_path)
    assert result.total_jobs == 0
    folder = tmp_path / "run/globals/training_plan"
    plan = json.loads((folder / "master_training_plan.json").read_text())
    assert plan["jobs"] == [] and plan["metadata"]["total_jobs"] == 0
    assert (folder / "training_plan.yaml").read_text().startswith("jobs: []\n")
    assert not any(p.is_file() for p in folder.rglob("by_*/*"))
