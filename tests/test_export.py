"""Export helpers: the config hash (from the policy row the build recorded), and the plan store's publication of a plan set."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest
from trainplan.export.header import config_hash
from trainplan.export.store import CURRENT, staged_plan


def test_config_hash_is_the_policy_row_the_build_recorded() -> None:
    digest = hashlib.sha256(b"routing:\n  dev_mode: true\n").hexdigest()
    with duckdb.connect() as con:
        assert config_hash(con) == "unknown"  # no plan_input_files: not a database dbt built
        con.execute("create table plan_input_files (input_kind varchar, path varchar, sha256 varchar)")
        con.execute("insert into plan_input_files values ('run', 'globals/run_context.json', 'ff00ff00ff00')")
        assert config_hash(con) == "unknown"  # no policy row
        con.execute("insert into plan_input_files values ('policy', 'routing_config.yaml', ?)", [digest])
        assert config_hash(con) == digest[:8]


def test_staged_plan_publishes_both_folders_together(tmp_path: Path) -> None:
    globals_dir = tmp_path / "globals"
    for version in ("1", "2"):
        with staged_plan(globals_dir, ("routing_plan", "training_plan")) as staging:
            (staging / "routing_plan" / "r.json").write_text(version)
            (staging / "training_plan" / "t.json").write_text(version)
            if version == "1":
                (staging / "training_plan" / "only_in_1.json").write_text(version)
        assert (globals_dir / "routing_plan" / "r.json").read_text() == version
        assert (globals_dir / "training_plan" / "t.json").read_text() == version
    assert not (globals_dir / "training_plan" / "only_in_1.json").exists()
    current = os.readlink(globals_dir / CURRENT)
    assert sorted(p.name for p in globals_dir.iterdir()) == sorted([CURRENT, current, "routing_plan", "training_plan"])


def test_staged_plan_discards_on_error(tmp_path: Path) -> None:
    globals_dir = tmp_path / "globals"
    with staged_plan(globals_dir, ("training_plan",)) as staging:
        (staging / "training_plan" / "t.json").write_text("old")
    with pytest.raises(RuntimeError, match="boom"), staged_plan(globals_dir, ("training_plan",)) as staging:
        (staging / "training_plan" / "t.json").write_text("new")
        raise RuntimeError("boom")
    assert (globals_dir / "training_plan" / "t.json").read_text() == "old"
    assert len([p for p in globals_dir.iterdir() if p.name.startswith(".plan-") and not p.is_symlink()]) == 1
