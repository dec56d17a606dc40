"""Input checks fail early with messages that name the path and the expected layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from trainplan.config.run_dir import NotARunDirectory, check_run_dir
from trainplan.config.settings import SettingsError, make_settings
from trainplan.export.refresh import refresh

from tests.conftest import SAMPLE_RUN


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


def test_paths_are_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = make_settings(run_dir=Path("run"), out_dir=Path("out"), db_path=Path("x.duckdb"))
    assert s.run_dir == tmp_path / "run"
    assert s.out_dir == tmp_path / "out"
    assert s.db_path == tmp_path / "x.duckdb"
    assert s.plan_root == tmp_path / "out"
