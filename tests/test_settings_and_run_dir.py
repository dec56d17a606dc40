"""Input checks fail early with messages that name the path and the expected layout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from trainplan.config.run_dir import UNREADABLE_PATH_CHARACTERS, NotARunDirectory, UnreadablePath, check_run_dir
from trainplan.config.settings import SettingsError, make_settings
from trainplan.export.refresh import refresh
from trainplan.warehouse.dbt_runner import dbt_env, dbt_executable, dbt_paths

from tests.conftest import SAMPLE_RUN

REFERENCE_CANDIDATES = SAMPLE_RUN / "globals" / "routing" / "routing_candidates.parquet"


def test_missing_run_dir(tmp_path: Path) -> None:
    with pytest.raises(NotARunDirectory, match=r"does not exist; expected a FoxML run directory"):
        check_run_dir(tmp_path / "nope")


def test_directory_without_targets(tmp_path: Path) -> None:
    (tmp_path / "something").mkdir()
    with pytest.raises(NotARunDirectory, match=r"has no targets/ folder.*cohort=<id>/metrics.json"):
        check_run_dir(tmp_path)


def test_targets_without_reproducibility(tmp_path: Path) -> None:
    (tmp_path / "targets" / "fwd_ret_5m").mkdir(parents=True)
    with pytest.raises(NotARunDirectory, match=r"no targets/<target>/reproducibility/"):
        check_run_dir(tmp_path)


def test_a_symlinked_reproducibility_folder_is_refused_naming_it(tmp_path: Path) -> None:
    """The run's listing follows a target folder that is a link but no link below it: such a folder's files would
    never be read, so the run is refused instead of losing the target without a word."""
    elsewhere = tmp_path / "elsewhere" / "reproducibility"
    (elsewhere / "CROSS_SECTIONAL").mkdir(parents=True)
    run = tmp_path / "run"
    (run / "targets" / "fwd_ret_5m").mkdir(parents=True)
    (run / "targets" / "fwd_ret_5m" / "reproducibility").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(NotARunDirectory, match=r"fwd_ret_5m/reproducibility: is a symbolic link; .*expected the fold"):
        check_run_dir(run)


@pytest.mark.parametrize("char", UNREADABLE_PATH_CHARACTERS)
def test_a_run_directory_whose_path_dbt_would_read_as_a_glob_is_refused(tmp_path: Path, char: str) -> None:
    """DuckDB reads '[', '*', '?' and '\\' in the run directory's path as glob syntax (a run in `g[1]/run` listed no
    file and gave an empty plan, exit 0) and a quote as the end of the SQL string: refused, naming the path."""
    run = tmp_path / f"g{char}1" / "run"
    shutil.copytree(SAMPLE_RUN, run)
    with pytest.raises(UnreadablePath, match=rf"run: the run directory holds {re.escape(char)}, which DuckDB would"):
        check_run_dir(run)


def test_a_link_to_a_run_directory_is_checked_where_it_points(tmp_path: Path) -> None:
    """dbt reads the resolved path, so a link from a plain path to a folder named with '[' is refused too."""
    (tmp_path / "g[1]" / "run" / "targets" / "t" / "reproducibility").mkdir(parents=True)
    (tmp_path / "plain").symlink_to(tmp_path / "g[1]" / "run", target_is_directory=True)
    with pytest.raises(UnreadablePath, match=r"g\[1\]/run: the run directory holds \["):
        check_run_dir(tmp_path / "plain")


def test_a_candidates_file_named_with_a_quote_is_refused_by_the_cli(tmp_path: Path) -> None:
    """One line, exit 2, before dbt runs (dbt failed with a SQL parser error)."""
    folder = tmp_path / "it's"
    folder.mkdir()
    shutil.copy(REFERENCE_CANDIDATES, folder / "routing_candidates.parquet")
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "trainplan"),
            "refresh",
            "--candidates",
            str(folder / "routing_candidates.parquet"),
            "--out",
            str(tmp_path / "out"),
            "--db",
            str(tmp_path / "db.duckdb"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "routing_candidates.parquet: the candidates file holds ', which DuckDB would read as glob syntax" in (
        proc.stderr
    )
    assert not (tmp_path / "db.duckdb").exists() and not (tmp_path / "out" / "globals" / "training_plan").exists()


def test_file_given_as_run_dir(tmp_path: Path) -> None:
    f = tmp_path / "file.json"
    f.write_text("{}")
    with pytest.raises(NotARunDirectory, match="is not a directory"):
        check_run_dir(f)


def test_missing_policy_is_named_by_the_refresh_that_reads_it(tmp_path: Path) -> None:
    settings = make_settings(run_dir=SAMPLE_RUN, out_dir=tmp_path, policy_path=tmp_path / "missing.yaml")
    with pytest.raises(SettingsError, match=r"routing policy not found: .*missing.yaml"):
        refresh(settings)
    assert not (tmp_path / "globals").exists()


def test_bad_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINPLAN_THREADS", "zero")
    with pytest.raises(SettingsError, match="TRAINPLAN_THREADS"):
        make_settings()


def test_memory_limit_is_checked_by_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINPLAN_MEMORY_LIMIT", "lots")
    with pytest.raises(SettingsError, match=r"TRAINPLAN_MEMORY_LIMIT='lots' is not a size DuckDB understands .*2GB"):
        make_settings()
    monkeypatch.setenv("TRAINPLAN_MEMORY_LIMIT", "1500MB")
    assert make_settings().memory_limit == "1500MB"
    monkeypatch.setenv("TRAINPLAN_MEMORY_LIMIT", " ")
    assert make_settings().memory_limit is None  # blank: profiles.yml's default


def test_duckdbs_settings_reach_the_cursors_dbt_runs_its_nodes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """profiles.yml gives DuckDB its settings once, as dbt-duckdb opens the database (`config_options`); each node
    runs on a cursor of its own, which must have them too."""
    monkeypatch.setenv("TRAINPLAN_MEMORY_LIMIT", "1500MB")
    settings = make_settings(run_dir=SAMPLE_RUN, out_dir=tmp_path, db_path=tmp_path / "db.duckdb")
    query = (
        "select current_setting('memory_limit') as memory_limit, "
        "current_setting('preserve_insertion_order') as preserve_insertion_order, "
        "current_setting('enable_external_file_cache') as enable_external_file_cache"
    )
    dbt = [dbt_executable(), "show", *dbt_paths(settings.project, settings.dbt_work_dir), "--output", "json"]
    shown = subprocess.run(
        [*dbt, "--inline", query],
        cwd=settings.project,
        env=dbt_env(settings, settings.db_path),
        capture_output=True,
        text=True,
        check=True,
    )
    (row,) = json.loads(shown.stdout[shown.stdout.index("{") :])["show"]
    limit = (
        duckdb.connect(config={"memory_limit": "1500MB"}).execute("select current_setting('memory_limit')").fetchone()
    )
    assert limit is not None
    assert row == {"memory_limit": limit[0], "preserve_insertion_order": False, "enable_external_file_cache": False}


def test_paths_are_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = make_settings(run_dir=Path("run"), out_dir=Path("out"), db_path=Path("x.duckdb"))
    assert s.run_dir == tmp_path / "run"
    assert s.out_dir == tmp_path / "out"
    assert s.db_path == tmp_path / "x.duckdb"
    assert s.plan_root == tmp_path / "out"
