"""The run's listing, tp_run_files (trainplan.warehouse.run_listing): DuckDB's glob of targets/*/** where that glob
was right, and links below a target folder either read (a file) or refused by name (a folder)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from trainplan.config.settings import make_settings
from trainplan.export.refresh import refresh
from trainplan.warehouse import file_bytes, file_hashes, run_listing
from trainplan.warehouse.dbt_runner import DbtBuildError

from tests.conftest import SAMPLE_RUN, Built, build

QUARANTINES = "targets/fwd_ret_5m/reproducibility/{scope}/feature_quarantine/confirmed_quarantine.json"
SCOPES = ("CROSS_SECTIONAL", "SYMBOL_SPECIFIC/symbol=AAPL", "SYMBOL_SPECIFIC/symbol=AMZN")


def _write(path: Path, text: str = "{}\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _tree(root: Path) -> Path:
    """A run's targets/ folder without links below its target folders: hidden files and folders, deep files, empty
    folders, a file directly in targets/, and a target folder that is a link to a folder outside the run."""
    targets = root / "run" / "targets"
    _write(targets / "a" / "reproducibility" / "CROSS_SECTIONAL" / "cohort=c1" / "metrics.json")
    _write(targets / "a" / ".hidden.json")
    _write(targets / "a" / ".cache" / "x.json")
    _write(targets / "a" / "notes.txt", "not json\n")
    (targets / "a" / "reproducibility" / "empty").mkdir()
    _write(targets / ".hidden_target" / "reproducibility" / "m.json")
    _write(targets / "top.json")
    _write(root / "elsewhere" / "b" / "reproducibility" / "SYMBOL_SPECIFIC" / "symbol=X" / "cohort=c2" / "metrics.json")
    (targets / "b").symlink_to(root / "elsewhere" / "b", target_is_directory=True)
    return targets


def test_the_listing_is_duckdbs_glob_of_the_target_folders_where_no_link_lies_below_them(tmp_path: Path) -> None:
    targets = _tree(tmp_path)
    with duckdb.connect() as con:
        globbed = sorted(row[0] for row in con.execute("select file from glob(?)", [f"{targets}/*/**"]).fetchall())
    listed = run_listing.list_run_files(str(targets))
    assert listed == globbed
    assert f"{targets}/b/reproducibility/SYMBOL_SPECIFIC/symbol=X/cohort=c2/metrics.json" in listed  # linked target
    assert f"{targets}/a/.cache/x.json" in listed and f"{targets}/top.json" not in listed


def test_a_link_to_a_file_below_a_target_folder_is_listed_and_so_is_a_broken_link(tmp_path: Path) -> None:
    """DuckDB's glob left both out without a word; a linked evidence file is now read (a broken link fails the read
    that needs it, naming it)."""
    targets = _tree(tmp_path)
    _write(tmp_path / "elsewhere" / "q.json")
    folder = targets / "a" / "reproducibility" / "CROSS_SECTIONAL" / "feature_quarantine"
    folder.mkdir()
    (folder / "confirmed_quarantine.json").symlink_to(tmp_path / "elsewhere" / "q.json")
    (folder / "suspects_CROSS_SECTIONAL_ALL.json").symlink_to(tmp_path / "nowhere.json")
    os.mkfifo(folder / "a_pipe")
    listed = run_listing.list_run_files(str(targets))
    assert f"{folder}/confirmed_quarantine.json" in listed
    assert f"{folder}/suspects_CROSS_SECTIONAL_ALL.json" in listed
    assert f"{folder}/a_pipe" not in listed  # not a regular file: a read would wait forever


@pytest.mark.parametrize("kind", ["to nothing", "to itself", "to each other"])
def test_a_target_link_that_cannot_be_followed_is_an_error_naming_it(tmp_path: Path, kind: str) -> None:
    """A target that may be missing is not skipped without a word."""
    targets = _tree(tmp_path)
    link = targets / "c"
    if kind == "to nothing":
        link.symlink_to(tmp_path / "nowhere", target_is_directory=True)
    elif kind == "to itself":
        link.symlink_to(link, target_is_directory=True)
    else:
        link.symlink_to(targets / "d", target_is_directory=True)
        (targets / "d").symlink_to(link, target_is_directory=True)
    with pytest.raises(
        run_listing.RunListingError, match=rf"^{targets}/[cd]: is a symbolic link that cannot be follow"
    ):
        run_listing.list_run_files(str(targets))


def test_links_below_a_target_folder_to_a_pipe_or_to_a_folder_outside_reproducibility_are_left_alone(
    tmp_path: Path,
) -> None:
    """A read of a pipe would never end, and nothing outside reproducibility/ is read: neither is listed, and the
    folder behind the link is not walked."""
    targets = _tree(tmp_path)
    os.mkfifo(tmp_path / "elsewhere" / "pipe")
    (targets / "a" / "reproducibility" / "metrics.json").symlink_to(tmp_path / "elsewhere" / "pipe")
    (targets / "a" / "logs").symlink_to(tmp_path / "elsewhere" / "b", target_is_directory=True)
    listed = run_listing.list_run_files(str(targets))
    assert f"{targets}/a/reproducibility/metrics.json" not in listed
    assert not [path for path in listed if path.startswith(f"{targets}/a/logs")]
    assert listed == sorted({*listed, f"{targets}/a/reproducibility/CROSS_SECTIONAL/cohort=c1/metrics.json"})


def test_a_link_to_a_folder_below_a_target_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    targets = _tree(tmp_path)
    link = targets / "a" / "reproducibility" / "SYMBOL_SPECIFIC"
    link.symlink_to(tmp_path / "elsewhere" / "b" / "reproducibility" / "SYMBOL_SPECIFIC", target_is_directory=True)
    with pytest.raises(run_listing.RunListingError, match=rf"^{link}: is a symbolic link to a folder; .*expected the"):
        run_listing.list_run_files(str(targets))


def test_a_missing_targets_folder_is_an_error_and_no_run_directory_lists_nothing(tmp_path: Path) -> None:
    with pytest.raises(run_listing.RunListingError, match=rf"^{tmp_path}/targets: cannot be listed \(No such file"):
        run_listing.list_run_files(str(tmp_path / "targets"))
    targets = _tree(tmp_path)
    listed = run_listing.run_files(pa.array([None, str(targets)], pa.string())).to_pylist()
    assert listed == [None, run_listing.list_run_files(str(targets))]


def test_linked_quarantine_files_are_read(tmp_path: Path, sample_built: Built) -> None:
    """The sample with its three confirmed quarantines as links to copies outside the run: the same plan as the
    sample (the quarantines, which hold feat_000 back, were left unread through a link before)."""
    run = tmp_path / "run"
    shutil.copytree(SAMPLE_RUN, run)
    for scope in SCOPES:
        path = run / QUARANTINES.format(scope=scope)
        copy = tmp_path / "elsewhere" / scope / path.name
        copy.parent.mkdir(parents=True)
        path.rename(copy)
        path.symlink_to(copy)
    built = build(run, tmp_path / "out")
    with duckdb.connect() as con:  # the listing before, DuckDB's glob, left the links out
        globbed = {row[0] for row in con.execute("select file from glob(?)", [f"{run}/targets/*/**"]).fetchall()}
    assert not {str(run / QUARANTINES.format(scope=scope)) for scope in SCOPES} & globbed
    with built.connect() as con:
        hashed = {row[0] for row in con.execute("select path from plan_input_files").fetchall()}
    assert {QUARANTINES.format(scope=scope) for scope in SCOPES} <= hashed

    def plan(built: Built) -> tuple[list[dict], dict]:
        doc = json.loads(built.master_plan.read_text(encoding="utf-8"))
        return doc["jobs"], doc["summary"]

    assert plan(built) == plan(sample_built)


def test_a_refresh_with_a_linked_folder_below_a_target_folder_fails_naming_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(SAMPLE_RUN, run)
    cohorts = run / "targets" / "fwd_ret_5m" / "reproducibility" / "CROSS_SECTIONAL"
    moved = tmp_path / "elsewhere" / "CROSS_SECTIONAL"
    moved.parent.mkdir()
    cohorts.rename(moved)
    cohorts.symlink_to(moved, target_is_directory=True)
    settings = make_settings(run_dir=run, out_dir=tmp_path / "out", db_path=tmp_path / "db.duckdb")
    with pytest.raises(DbtBuildError) as raised:
        refresh(settings)
    message = str(raised.value)
    assert "\n" not in message and "run_listing.py" not in message
    # the reason is the listing's own message, without DuckDB's words before it
    assert f"model stg_foxml__run_files: {cohorts}: is a symbolic link to a folder; trainplan lists" in message
    assert not (tmp_path / "out" / "globals" / "training_plan").exists()


@pytest.mark.parametrize("chunk", [file_bytes.CHUNK, 5], ids=["shipped_chunk", "small_chunk"])
def test_a_file_is_read_to_its_end_whatever_its_size_says(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """/proc/version has a size of 0 and holds a line: the read goes on until the end, in as many chunks as it
    takes (`small_chunk`: many), and gives what open().read() gives."""
    monkeypatch.setattr(file_bytes, "CHUNK", chunk)
    proc = Path("/proc/version")
    assert proc.stat().st_size == 0
    expected = proc.read_bytes()
    assert expected
    assert file_bytes.file_bytes(pa.array([str(proc)], pa.string())).to_pylist() == [expected]
    digest = file_hashes.file_sha256(pa.array([str(proc)], pa.string())).to_pylist()
    assert digest == [hashlib.sha256(expected).hexdigest()]


def test_file_bytes_are_each_files_bytes_and_an_unreadable_file_is_named(tmp_path: Path) -> None:
    files = {"empty.json": b"", "text.json": b'{"a": 1}\n', "bytes.parquet": bytes(range(256)) * 64}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [str(tmp_path / name) for name in files] + [None]
    assert file_bytes.file_bytes(pa.array(paths, pa.string())).to_pylist() == [*files.values(), None]
    with pytest.raises(OSError, match=rf"^{tmp_path}/gone.json: cannot be read \(No such file or directory\)$"):
        file_bytes.file_bytes(pa.array([str(tmp_path / "gone.json")], pa.string()))
    with pytest.raises(OSError, match=rf"^{tmp_path}: cannot be read \(Is a directory\)$"):
        file_bytes.file_bytes(pa.array([str(tmp_path)], pa.string()))


def test_a_listed_file_that_cannot_be_read_fails_the_refresh_naming_it(tmp_path: Path) -> None:
    """A cohort's metrics.json that is a link to nothing: listed (a link to a file), then its read and its hash fail
    the build, one line per model naming the file (the glob before left it out without a word)."""
    run = tmp_path / "run"
    shutil.copytree(SAMPLE_RUN, run)
    metrics = next(
        (run / "targets" / "fwd_ret_5m" / "reproducibility" / "CROSS_SECTIONAL").glob("cohort=*/metrics.json")
    )
    metrics.unlink()
    metrics.symlink_to(tmp_path / "nowhere.json")
    settings = make_settings(run_dir=run, out_dir=tmp_path / "out", db_path=tmp_path / "db.duckdb")
    with pytest.raises(DbtBuildError) as raised:
        refresh(settings)
    head, *lines = str(raised.value).splitlines()
    assert head.startswith("dbt build failed (exit 1; the previous plan is unchanged;")
    assert all(line.startswith("model ") and ".py" not in line for line in lines), lines
    read = next(line for line in lines if line.startswith("model stg_foxml__cohort_metrics: "))
    assert read == f"model stg_foxml__cohort_metrics: {metrics}: cannot be read (No such file or directory)"
    assert not (tmp_path / "out" / "globals" / "training_plan").exists()
